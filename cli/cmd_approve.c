/*
 * cmd_approve.c — `tally approve`: a DRB signs its approval of one exact
 * query for one researcher and project. The query is compiled first, so
 * the DRB approves precisely what nodes will run; the approval goes to
 * standard output and a summary to standard error.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "approval.h"
#include "cmd.h"
#include "pki.h"
#include "query.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally approve --key KEY --researcher ID --project ID\n"
	    "           [--sites all|ID,consortium:N,...] [--days N]\n"
	    "           [--runs N] [--min-cell K] [--drb NAME] QUERY.json\n"
	    "  --key KEY         the DRB's Ed25519 private key (tally pki\n"
	    "                    issue --role drb), mode 0600\n"
	    "  --drb NAME        the DRB key's name (default: KEY's file name\n"
	    "                    without .key)\n"
	    "  --researcher ID   the researcher's certificate name\n"
	    "  --project ID      the approved project\n"
	    "  --sites LIST      where it may run (default all)\n"
	    "  --days N          valid from now for N days (default 30)\n"
	    "  --runs N          runs allowed at each site (default 5)\n"
	    "  --min-cell K      smallest releasable cell (default 10; nodes\n"
	    "                    apply the larger of this and their policy)\n"
	    "The signed approval (JSON) is written to standard output.\n");
}

struct approve_opts {
	const char *key, *drb, *sites;
	int64_t days, runs, min_cell;
};

static int
name_arg(char *dst, size_t dsize, const char *what, const char *v)
{
	if (v == NULL || strlen(v) == 0 || strlen(v) >= dsize ||
	    !pki_name_valid(ROLE_RESEARCHER, v)) {
		fprintf(stderr,
		    "tally approve: --%s: '%s' is not a valid name "
		    "([a-z0-9.-], 1-%zu characters)\n",
		    what, v ? v : "", dsize - 1);
		return -1;
	}
	strlcpy(dst, v, dsize);
	return 0;
}

static int
num_arg(const char *what, const char *v, int64_t min, int64_t max, int64_t *out)
{
	if (parse_int64(v, strlen(v), min, max, out) == -1) {
		fprintf(stderr, "tally approve: --%s must be %lld to %lld\n",
		    what, (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

/* Compiles the query file and puts its canonical digest into a. */
static int
digest_query(const char *path, struct approval *a)
{
	Tally__Query *q = NULL;
	uint8_t *bytes;
	char *text, err[512];
	size_t len;

	if (file_read(path, QUERY_MAX_BYTES, &text, &len, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "tally approve: %s\n", err);
		return -1;
	}
	if (query_from_json(text, len, &q, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally approve: %s: %s\n", path, err);
		free(text);
		return -1;
	}
	free(text);
	if ((bytes = query_pack(q, &len)) == NULL) {
		query_free(q);
		return -1;
	}
	SHA256(bytes, len, a->query_sha256);
	free(bytes);
	query_free(q);
	return 0;
}

static int
parse_opts(int argc, char **argv, struct approve_opts *o, struct approval *a)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "drb", required_argument, NULL, 'D' },
		{ "researcher", required_argument, NULL, 'r' },
		{ "project", required_argument, NULL, 'p' },
		{ "sites", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'd' },
		{ "runs", required_argument, NULL, 'n' },
		{ "min-cell", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *researcher = NULL, *project = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			o->key = optarg;
			break;
		case 'D':
			o->drb = optarg;
			break;
		case 'r':
			researcher = optarg;
			break;
		case 'p':
			project = optarg;
			break;
		case 's':
			o->sites = optarg;
			break;
		case 'd':
			if (num_arg("days", optarg, 1, 3650, &o->days) == -1)
				return -1;
			break;
		case 'n':
			if (num_arg("runs", optarg, 1, 10000, &o->runs) == -1)
				return -1;
			break;
		case 'm':
			if (num_arg("min-cell", optarg, 2, 1000000,
				&o->min_cell) == -1)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->key == NULL || optind != argc - 1) {
		fprintf(stderr,
		    "tally approve: --key and one QUERY.json are "
		    "required\n");
		return -1;
	}
	if (name_arg(a->researcher, sizeof(a->researcher), "researcher",
		researcher) == -1 ||
	    name_arg(a->project, sizeof(a->project), "project", project) == -1)
		return -1;
	return 0;
}

/* The key's name: --drb, or the file name without ".key". */
static int
key_name(const struct approve_opts *o, struct approval *a)
{
	char buf[512], *base, *dot;

	if (o->drb != NULL)
		return name_arg(a->drb, sizeof(a->drb), "drb", o->drb);
	strlcpy(buf, o->key, sizeof(buf));
	base = basename(buf);
	if ((dot = strrchr(base, '.')) != NULL && strcmp(dot, ".key") == 0)
		*dot = '\0';
	return name_arg(a->drb, sizeof(a->drb), "drb", base);
}

int
cmd_approve(int argc, char **argv)
{
	struct approve_opts o = { NULL, NULL, "all", 30, 5, 10 };
	struct approval a;
	EVP_PKEY *key = NULL;
	char err[512], *doc = NULL, hex[65];
	int rc = 1;

	memset(&a, 0, sizeof(a));
	if (parse_opts(argc, argv, &o, &a) == -1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (key_name(&o, &a) == -1)
		return EXIT_USAGE;
	if (approval_set_sites(&a, o.sites, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally approve: --sites: %s\n", err);
		return EXIT_USAGE;
	}
	if (digest_query(argv[optind], &a) == -1)
		return 1;
	if ((key = pki_key_load(o.key, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally approve: %s\n", err);
		return 1;
	}
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		fprintf(stderr, "tally approve: %s is not an Ed25519 DRB key\n",
		    o.key);
		goto done;
	}
	a.not_before = wall_ms() / 1000;
	a.not_after = a.not_before + (uint64_t)o.days * 86400;
	a.max_runs = (uint32_t)o.runs;
	a.min_cell = (uint32_t)o.min_cell;
	if ((doc = approval_sign(&a, key)) == NULL)
		goto done;
	printf("%s\n", doc);
	hex_encode(a.query_sha256, 32, hex);
	fprintf(stderr,
	    "approved query %.16s… for %s (project %s), %zu site entr%s, "
	    "%u runs, k >= %u, %lld days\n",
	    hex, a.researcher, a.project, a.nsites, a.nsites == 1 ? "y" : "ies",
	    a.max_runs, a.min_cell, (long long)o.days);
	rc = 0;
done:
	free(doc);
	EVP_PKEY_free(key);
	return rc;
}
