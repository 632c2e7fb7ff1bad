/*
 * network.h — the hospitals of the network (deploy/network/hospitals.csv):
 * consortium number, hospital id, lead flag and names.
 */
#ifndef TALLY_NETWORK_H
#define TALLY_NETWORK_H

#include <stddef.h>

#define NETWORK_ID_MAX	  32
#define NETWORK_NAME_MAX  128
#define NETWORK_MAX_SITES 4096

struct site {
	int consortium;
	int lead;
	char id[NETWORK_ID_MAX];
	char name_ko[NETWORK_NAME_MAX];
	char name_en[NETWORK_NAME_MAX];
};

struct network {
	size_t nsites;
	struct site *sites;
};

/* NULL with `FILE:LINE: reason` in err. */
struct network *network_load(const char *path, char *err, size_t errlen);
void network_free(struct network *);
const struct site *network_find(const struct network *, const char *id);
/* 1 if id is a valid hospital id: [a-z0-9-], 1..NETWORK_ID_MAX-1 chars. */
int network_id_valid(const char *id, size_t len);

#endif
