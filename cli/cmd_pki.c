/*
 * cmd_pki.c — `tally pki init|issue|revoke|crl`: the command line of the
 * offline consortium CA. It parses and checks options and reports; every
 * certificate operation is lib/pki/pki_ca.c's.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "pki.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally pki init   --dir DIR [--consortium NAME] [--days N]\n"
	    "       tally pki issue  --dir DIR --role ROLE --name NAME\n"
	    "                        [--days N]\n"
	    "       tally pki revoke --dir DIR --name NAME [--crl-days N]\n"
	    "       tally pki crl    --dir DIR [--crl-days N]\n"
	    "\n"
	    "The offline consortium CA (ECDSA P-256) in DIR: ca.crt, ca.key,\n"
	    "crl.pem, issued/SERIAL.crt, NAME.crt and NAME.key (docs/pki.md).\n"
	    "\n"
	    "  init    create a CA for consortium NAME (default \"tally\"),\n"
	    "          valid N days (default %d), with an empty CRL;\n"
	    "          never overwrites a CA\n"
	    "  issue   make a key pair and a certificate for NAME, valid N\n"
	    "          days (default %d, cut at the CA's expiry); ROLE is\n"
	    "          broker, node, researcher, operator or drb (an Ed25519\n"
	    "          key that signs approvals); refused while NAME has a\n"
	    "          certificate neither revoked nor expired\n"
	    "  revoke  put NAME's certificate on the CRL\n"
	    "  crl     re-sign the CRL with fresh dates, before it expires\n"
	    "\n"
	    "  --crl-days N  the CRL's nextUpdate, N days ahead (default %d)\n",
	    PKI_CA_DAYS, PKI_CERT_DAYS, PKI_CRL_DAYS);
}

static int
parse_days(const char *opt, const char *s, int *out)
{
	int64_t v;

	if (parse_int64(s, strlen(s), 1, PKI_DAYS_MAX, &v) == -1) {
		fprintf(stderr, "tally pki: %s must be 1-%d, not '%s'\n", opt,
		    PKI_DAYS_MAX, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int
cmd_pki(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "consortium", required_argument, NULL, 'c' },
		{ "days", required_argument, NULL, 'D' },
		{ "crl-days", required_argument, NULL, 'C' },
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *verb, *dir = NULL, *consortium = NULL, *role = NULL;
	const char *name = NULL;
	int ch, days = 0, crl_days = PKI_CRL_DAYS;
	char err[512], serial[64];
	struct pki_issue_req req;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 ||
	    strcmp(verb, "help") == 0) {
		usage(stdout);
		return 0;
	}
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			consortium = optarg;
			break;
		case 'D':
			if (parse_days("--days", optarg, &days) == -1)
				return EXIT_USAGE;
			break;
		case 'C':
			if (parse_days("--crl-days", optarg, &crl_days) == -1)
				return EXIT_USAGE;
			break;
		case 'r':
			role = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tally pki: unexpected argument '%s'\n",
		    argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (strcmp(verb, "init") != 0 && strcmp(verb, "issue") != 0 &&
	    strcmp(verb, "revoke") != 0 && strcmp(verb, "crl") != 0) {
		fprintf(stderr, "tally pki: unknown action '%s'\n", verb);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (dir == NULL) {
		fprintf(stderr, "tally pki %s: --dir is required\n", verb);
		return EXIT_USAGE;
	}
	if ((consortium != NULL && strcmp(verb, "init") != 0) ||
	    (role != NULL && strcmp(verb, "issue") != 0) ||
	    (name != NULL && strcmp(verb, "issue") != 0 &&
		strcmp(verb, "revoke") != 0) ||
	    (days != 0 && strcmp(verb, "init") != 0 &&
		strcmp(verb, "issue") != 0)) {
		fprintf(stderr, "tally pki %s: option not valid here\n", verb);
		return EXIT_USAGE;
	}

	if (strcmp(verb, "init") == 0) {
		if (pki_ca_init(dir, consortium ? consortium : "tally",
			days ? days : PKI_CA_DAYS, err, sizeof(err)) == -1)
			goto fail;
		printf("created CA in %s\n", dir);
		return 0;
	}
	if (strcmp(verb, "crl") == 0) {
		if (pki_crl_update(dir, crl_days, err, sizeof(err)) == -1)
			goto fail;
		printf("re-signed %s/%s\n", dir, PKI_CRL);
		return 0;
	}
	if (name == NULL) {
		fprintf(stderr, "tally pki %s: --name is required\n", verb);
		return EXIT_USAGE;
	}
	if (strcmp(verb, "revoke") == 0) {
		if (!pki_name_valid(ROLE_NODE, name) &&
		    !pki_name_valid(ROLE_RESEARCHER, name)) {
			fprintf(stderr, "tally pki revoke: invalid name '%s'\n",
			    name);
			return EXIT_USAGE;
		}
		if (pki_revoke(dir, name, crl_days, err, sizeof(err)) == -1)
			goto fail;
		printf("revoked %s\n", name);
		return 0;
	}
	memset(&req, 0, sizeof(req));
	if (role == NULL) {
		fprintf(stderr, "tally pki issue: --role is required\n");
		return EXIT_USAGE;
	}
	if (role_parse(role, &req.role) == -1) {
		fprintf(stderr,
		    "tally pki issue: unknown role '%s' (broker, node, "
		    "researcher, operator or drb)\n",
		    role);
		return EXIT_USAGE;
	}
	if (!pki_name_valid(req.role, name)) {
		fprintf(stderr, "tally pki issue: invalid %s name '%s' (%s)\n",
		    role, name, pki_name_rule(req.role));
		return EXIT_USAGE;
	}
	req.name = name;
	req.days = days; /* 0: the default, capped at the CA's expiry */
	if (pki_issue(dir, &req, serial, sizeof(serial), err, sizeof(err)) ==
	    -1)
		goto fail;
	printf("issued %s %s, serial %s: %s/%s.crt %s/%s.key\n",
	    role_name(req.role), name, serial, dir, name, dir, name);
	return 0;
fail:
	fprintf(stderr, "tally pki %s: %s\n", verb, err);
	return 1;
}
