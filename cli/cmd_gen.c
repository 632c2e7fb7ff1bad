/*
 * cmd_gen.c — `tally gen`: synthetic Baseline DBs for every hospital of a
 * network file. Parses and checks the options, picks the hospitals and
 * hands over to lib/gen/gen.c; it never generates anything itself.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "gen.h"
#include "network.h"
#include "util.h"

#define DEFAULT_NETWORK "deploy/network/hospitals.csv"

static const char synopsis[] =
    "usage: tally gen --out DIR [--network CSV] [--patients N] [--seed S]\n"
    "                 [--only ID,...] [-j N] [-q]\n";

static void
usage(FILE *fp)
{
	fputs(synopsis, fp);
	fprintf(fp,
	    "\n"
	    "Writes DIR/<hospital_id>.db, a synthetic Baseline DB, for every"
	    " hospital\n"
	    "in the network file (or those named by --only).\n"
	    "\n"
	    "  --out DIR       folder for the DBs (created if missing)\n"
	    "  --network CSV   network file (default " DEFAULT_NETWORK ")\n"
	    "  --patients N    patients at a lead hospital (default %d);"
	    " others get\n"
	    "                  N times their size factor (docs/generator.md)\n"
	    "  --seed S        seed, 0-%lld (default %d): same seed, same"
	    " DBs\n"
	    "  --only ID,...   only these hospitals (each DB is the same as in"
	    " a full run)\n"
	    "  -j, --jobs N    hospitals generated at once (default: cores)\n"
	    "  -q, --quiet     no progress lines on stderr\n",
	    GEN_DEFAULT_PATIENTS, (long long)INT64_MAX, GEN_DEFAULT_SEED);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tally gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", synopsis);
	return EXIT_USAGE;
}

/* Fills sel with the sites named in a comma list; 0, or -1 with err. */
static int
pick_only(const struct network *net, const char *list, const struct site **sel,
    size_t *nsel, char *err, size_t errlen)
{
	const char *p = list;

	*nsel = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char id[NETWORK_ID_MAX];
		const struct site *s;
		int dup = 0;

		if (!network_id_valid(p, len))
			return errf(err, errlen,
			    "--only: '%.*s' is not a hospital id",
			    (int)(len > 64 ? 64 : len), p);
		memcpy(id, p, len);
		id[len] = '\0';
		if ((s = network_find(net, id)) == NULL)
			return errf(err, errlen,
			    "--only: no hospital '%s' in the network file", id);
		for (size_t i = 0; i < *nsel; i++)
			dup |= sel[i] == s;
		if (!dup)
			sel[(*nsel)++] = s;
		p += len;
		if (*p == ',' && *++p == '\0')
			return errf(err, errlen, "--only: empty hospital id");
	}
	if (*nsel == 0)
		return errf(err, errlen, "--only: no hospital named");
	return 0;
}

static int
make_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	fprintf(stderr, "tally gen: --out %s: %s\n", dir,
	    errno == EEXIST ? "not a directory" : strerror(errno));
	return -1;
}

static int
default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > GEN_MAX_JOBS ? GEN_MAX_JOBS : (int)n;
}

static int
run(const char *out, const char *netpath, const char *only, struct gen_opts *o)
{
	const struct site **sel = NULL;
	struct network *net;
	struct gen_stats st;
	size_t nsel = 0;
	char err[1024];
	int rc = 1;

	if (access(netpath, R_OK) == -1) {
		fprintf(stderr, "tally gen: %s: %s%s\n", netpath,
		    strerror(errno),
		    strcmp(netpath, DEFAULT_NETWORK) == 0
			? " (run from the source tree or give --network CSV)"
			: "");
		return 1;
	}
	if ((net = network_load(netpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally gen: %s\n", err);
		return 1;
	}
	if ((sel = calloc(net->nsites, sizeof(*sel))) == NULL) {
		fprintf(stderr, "tally gen: out of memory\n");
		goto out;
	}
	if (only != NULL) {
		if (pick_only(net, only, sel, &nsel, err, sizeof(err)) == -1) {
			fprintf(stderr, "tally gen: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
	} else
		for (nsel = 0; nsel < net->nsites; nsel++)
			sel[nsel] = &net->sites[nsel];
	if (make_dir(out) == -1)
		goto out;
	if (gen_sites(sel, nsel, o, out, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally gen: %s\n", err);
		goto out;
	}
	printf("tally gen: %lld hospitals, %lld patients, %lld rows,"
	       " %.1f MB in %.2f s (%.0f rows/s)\n",
	    (long long)st.nsites, (long long)st.rows[GEN_PERSON],
	    (long long)st.total, (double)st.bytes / 1e6, st.seconds,
	    st.seconds > 0 ? (double)st.total / st.seconds : 0.0);
	rc = 0;
out:
	free(sel);
	network_free(net);
	return rc;
}

int
cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "network", required_argument, NULL, 'n' },
		{ "patients", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "only", required_argument, NULL, 'O' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_opts o = { GEN_DEFAULT_SEED, GEN_DEFAULT_PATIENTS,
		default_jobs(), isatty(STDERR_FILENO) };
	const char *out = NULL, *netpath = DEFAULT_NETWORK, *only = NULL;
	int64_t v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "j:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'n':
			netpath = optarg;
			break;
		case 'p':
			if (parse_int64(optarg, strlen(optarg), 1,
				GEN_MAX_PATIENTS, &v) == -1)
				return bad("--patients '%s': not a number"
					   " 1-100000000",
				    optarg);
			o.patients = v;
			break;
		case 's':
			if (parse_int64(
				optarg, strlen(optarg), 0, INT64_MAX, &v) == -1)
				return bad("--seed '%s': not a whole number"
					   " >= 0",
				    optarg);
			o.seed = (uint64_t)v;
			break;
		case 'O':
			only = optarg;
			break;
		case 'j':
			if (parse_int64(optarg, strlen(optarg), 1, GEN_MAX_JOBS,
				&v) == -1)
				return bad(
				    "-j '%s': not a number 1-64", optarg);
			o.jobs = (int)v;
			break;
		case 'q':
			o.progress = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (out == NULL || *out == '\0')
		return bad("%s", "--out DIR is required");
	return run(out, netpath, only, &o);
}
