/*
 * chan_expired.c — issues a node certificate that expired yesterday, in a
 * `tally pki` folder (tally pki issue only makes current ones), for the
 * channel tests. Test-only code.
 *
 *   chan_expired DIR NAME
 */
#include <stdio.h>
#include <time.h>

#include "pki.h"

int
main(int argc, char **argv)
{
	struct pki_issue_req req = { ROLE_NODE, NULL, 0, 0, 0 };
	char err[512];

	if (argc != 3) {
		fprintf(stderr, "usage: chan_expired DIR NAME\n");
		return 2;
	}
	req.name = argv[2];
	req.not_before = time(NULL) - 30 * 86400;
	req.not_after = time(NULL) - 86400;
	if (pki_issue(argv[1], &req, NULL, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "chan_expired: %s\n", err);
		return 1;
	}
	return 0;
}
