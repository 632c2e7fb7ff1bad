/*
 * cmd_local.c — `tally local`: exactly what this hospital's node would
 * release for a query, after its own disclosure control, for hospital
 * staff and DRB reviewers. The same engine and suppression the node runs;
 * nothing is sent anywhere.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "baseline.h"
#include "cmd.h"
#include "engine.h"
#include "policy.h"
#include "query.h"
#include "result.h"
#include "suppress.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally local --db FILE [--policy FILE] [--site ID]\n"
	    "           [--consortium N] [--min-cell K] [--json] QUERY.json\n"
	    "  --db FILE        the Baseline DB (opened read-only)\n"
	    "  --policy FILE    the node's release policy (min_cell,\n"
	    "                   mask_zeros, deadline_s; default k = 10)\n"
	    "  --site ID        value of the site stratum (default: the DB's\n"
	    "                   meta hospital_id)\n"
	    "  --consortium N   value of the consortium stratum (default:\n"
	    "                   the DB's meta consortium)\n"
	    "  --min-cell K     an approval's k (raises the policy's, never\n"
	    "                   lowers it)\n"
	    "  --json           the result document instead of a table\n");
}

struct local_opts {
	const char *db, *policy, *site, *consortium;
	unsigned approval_k;
	int json;
};

static int
parse_opts(int argc, char **argv, struct local_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "policy", required_argument, NULL, 'p' },
		{ "site", required_argument, NULL, 's' },
		{ "consortium", required_argument, NULL, 'c' },
		{ "min-cell", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t v;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->db = optarg;
			break;
		case 'p':
			o->policy = optarg;
			break;
		case 's':
			o->site = optarg;
			break;
		case 'c':
			o->consortium = optarg;
			break;
		case 'k':
			if (parse_int64(optarg, strlen(optarg), 1,
				SUPPRESS_MAX_K, &v) == -1) {
				fprintf(stderr,
				    "tally local: --min-cell: "
				    "1 to %d\n",
				    SUPPRESS_MAX_K);
				return -1;
			}
			o->approval_k = (unsigned)v;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->db == NULL || optind != argc - 1) {
		fprintf(stderr,
		    "tally local: --db and one QUERY.json are "
		    "required\n");
		return -1;
	}
	return 0;
}

/* The site and consortium strata: options first, then the DB's meta. */
static void
site_values(const struct local_opts *o, char *site, size_t slen, char *cons,
    size_t clen)
{
	sqlite3 *db = NULL;

	strlcpy(site, "local", slen);
	strlcpy(cons, "0", clen);
	if ((o->site == NULL || o->consortium == NULL) &&
	    sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK) {
		baseline_meta_get(db, "hospital_id", site, slen);
		baseline_meta_get(db, "consortium", cons, clen);
	}
	sqlite3_close(db);
	if (o->site != NULL)
		strlcpy(site, o->site, slen);
	if (o->consortium != NULL)
		strlcpy(cons, o->consortium, clen);
}

static int
compile(const char *path, Tally__Query **q)
{
	char *text, err[512];
	size_t len;
	int rc;

	if (file_read(path, QUERY_MAX_BYTES, &text, &len, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "tally local: %s\n", err);
		return -1;
	}
	rc = query_from_json(text, len, q, err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "tally local: %s: %s\n", path, err);
	free(text);
	return rc;
}

static int
output(struct table *t, const struct local_opts *o)
{
	struct result *r;
	json_t *doc;
	char *s;

	if ((r = result_new("local")) == NULL)
		return -1;
	r->status = RESULT_COMPLETE;
	r->sites.total = r->sites.answered = 1;
	result_set_table(r, t);
	if (o->json) {
		if ((doc = result_to_json(r)) == NULL ||
		    (s = json_dumps(doc, JSON_INDENT(2))) == NULL) {
			json_decref(doc);
			result_free(r);
			return -1;
		}
		printf("%s\n", s);
		free(s);
		json_decref(doc);
	} else
		result_print(stdout, r);
	result_free(r);
	return 0;
}

int
cmd_local(int argc, char **argv)
{
	struct local_opts o = { NULL, NULL, NULL, NULL, 0, 0 };
	struct engine_limits lim = { 0 };
	struct suppress_policy sp;
	struct policy pol;
	struct engine *e = NULL;
	struct table *t = NULL;
	Tally__Query *q = NULL;
	char err[512], site[64], cons[16];
	int rc = 1;

	if (parse_opts(argc, argv, &o) == -1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	policy_defaults(&pol);
	if (o.policy != NULL &&
	    policy_load(&pol, o.policy, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally local: %s\n", err);
		return 1;
	}
	if (suppress_min_cell(
		pol.min_cell, o.approval_k, &sp.k, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally local: %s\n", err);
		return 1;
	}
	sp.mask_zeros = pol.mask_zeros;
	if (compile(argv[optind], &q) == -1)
		return 1;
	lim.timeout_ms = (uint64_t)pol.deadline_s * 1000;
	if ((e = engine_open(o.db, &lim, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally local: %s\n", err);
		goto done;
	}
	site_values(&o, site, sizeof(site), cons, sizeof(cons));
	if (engine_run(e, q, site, cons, &t, err, sizeof(err)) == -1 ||
	    suppress_table(t, &sp, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally local: %s\n", err);
		goto done;
	}
	if (output(t, &o) == -1) {
		fprintf(stderr, "tally local: out of memory\n");
		goto done;
	}
	t = NULL; /* the result owned it */
	rc = 0;
done:
	table_free(t);
	engine_close(e);
	query_free(q);
	return rc;
}
