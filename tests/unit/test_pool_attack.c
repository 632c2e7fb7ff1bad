/*
 * test_pool_attack.c — an exhaustive attacker against what the broker
 * shows: random one-stratum networks (2 or 3 sites, small counts, site k
 * 3..5, some sites masking zeros, a pooled k at or above the sites') go
 * through suppress_table() at each node and pool_finish(by_site = 1) at
 * the broker. The attacker then enumerates every integer assignment of
 * what was withheld that agrees with everything released: each site's
 * listed cells, labels (primary 1..k-1, from 0 when zeros are masked;
 * complementary 0 or >= k), absent keys (0), totals (exact or withheld),
 * tables withheld entirely, and the pooled table (exact sums, intervals,
 * pooled primaries, the pooled total). With one stratum the only margin
 * is the total, which the result publishes, so this is the whole linear
 * and integer threat model of docs/disclosure-control.md for one result.
 *
 * It fails if any withheld site cell, or any pooled primary, has a single
 * feasible value (it was recovered by subtraction), and, as a check of
 * the attacker itself, if the true value is not among the feasible ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "pool.h"
#include "suppress.h"
#include "tally.pb-c.h"

#define SEX	TALLY__STRATUM__STRATUM_SEX
#define NVAL	3 /* values of the stratum */
#define MAXS	3 /* sites */
#define MAXU	(NVAL + 1)
#define CNTMAX	25 /* largest true cell count */
#define SUMMAX	(NVAL * CNTMAX + 1)
#define NPP_MAX NVAL

static const int st1[] = { SEX };
static const char *const vals[NVAL] = { "a", "b", "c" };

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* What the attacker does not know about one site: up to NVAL + 1
 * unknowns (listed withheld cells; or, for a site whose cells are all
 * hidden, one per value plus "other"), each with its label, summing to
 * [tlo, thi]. */
struct site_model {
	int nu;
	int val[MAXU];	   /* value index, or -1 for "other" */
	uint64_t lo[MAXU]; /* label: value in [lo, hi] ... */
	uint64_t hi[MAXU];
	int comp[MAXU]; /* ... or complementary: 0 or >= k */
	unsigned k;
	uint64_t known[NVAL]; /* released part of each value */
	uint64_t tlo, thi;    /* sum of unknowns */
	int truth[MAXU];
	/* feasible assignments */
	size_t nf, capf;
	uint8_t (*f)[MAXU];
};

static int
label_ok(const struct site_model *m, int u, uint64_t v)
{
	if (v < m->lo[u] || v > m->hi[u])
		return 0;
	return !m->comp[u] || v == 0 || v >= m->k;
}

static void
enumerate(struct site_model *m, int u, uint64_t sum, uint8_t *cur)
{
	if (u == m->nu) {
		if (sum < m->tlo || sum > m->thi)
			return;
		if (m->nf == m->capf) {
			m->capf = m->capf ? 2 * m->capf : 256;
			m->f = realloc(m->f, m->capf * sizeof(*m->f));
			assert_non_null(m->f);
		}
		memcpy(m->f[m->nf++], cur, MAXU);
		return;
	}
	for (uint64_t v = 0; sum + v <= m->thi && v <= 255; v++) {
		if (!label_ok(m, u, v))
			continue;
		cur[u] = (uint8_t)v;
		enumerate(m, u + 1, sum + v, cur);
	}
}

static int
val_index(const char *s)
{
	for (int i = 0; i < NVAL; i++)
		if (strcmp(vals[i], s) == 0)
			return i;
	fail_msg("value %s", s);
	return -1;
}

/* The attacker's view of site table t (true counts in truth[]). */
static void
model_site(
    struct site_model *m, const struct table *t, const uint64_t truth[NVAL])
{
	uint64_t plo = t->zeros_masked ? 0 : 1;

	memset(m, 0, sizeof(*m));
	m->k = t->min_cell;
	if (t->total.state != CELL_COUNT || t->ncells == 0) {
		/* Nothing listed: every value, and values never seen. */
		uint64_t T = 0;

		for (int v = 0; v < NVAL; v++)
			T += truth[v];
		if (t->total.state == CELL_COUNT) {
			m->tlo = m->thi = t->total.count;
		} else {
			m->tlo = plo;
			m->thi = t->min_cell - 1;
		}
		for (int v = 0; v <= NVAL; v++) {
			m->val[m->nu] = v < NVAL ? v : -1;
			m->hi[m->nu] = UINT64_MAX;
			m->truth[m->nu] = v < NVAL ? (int)truth[v] : 0;
			m->nu++;
		}
		assert_true(T >= m->tlo && T <= m->thi);
		return;
	}
	m->tlo = m->thi = t->total.count;
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];
		int v = val_index(c->key[0]);

		switch (c->state) {
		case CELL_COUNT:
			m->known[v] = c->count;
			assert_int_equal(c->count, truth[v]);
			m->tlo -= c->count;
			m->thi -= c->count;
			break;
		case CELL_PRIMARY:
			m->val[m->nu] = v;
			m->lo[m->nu] = plo;
			m->hi[m->nu] = t->min_cell - 1;
			m->truth[m->nu++] = (int)truth[v];
			break;
		case CELL_COMPLEMENTARY:
			m->val[m->nu] = v;
			m->hi[m->nu] = UINT64_MAX;
			m->comp[m->nu] = 1;
			m->truth[m->nu++] = (int)truth[v];
			break;
		default:
			fail_msg("site cell state %d", c->state);
		}
	}
}

/* Value v's part of assignment f of site m. */
static uint64_t
part(const struct site_model *m, const uint8_t *f, int v)
{
	uint64_t n = m->known[v];

	for (int u = 0; u < m->nu; u++)
		if (m->val[u] == v)
			n += f[u];
	return n;
}

struct seen {
	unsigned char u[MAXS][MAXU][256];
	unsigned char pooled[NVAL][1000];
};

static size_t
ipow(size_t b, int e)
{
	size_t r = 1;

	while (e-- > 0)
		r *= b;
	return r;
}

/*
 * The pooled table couples the sites. A pooled exact count or interval,
 * and the pooled total, are sums of what each site's own table already
 * bounds (checked below: they cut no site assignment); only a pooled
 * primary (1 <= sum < k) says something new. So the joint search runs
 * over the sums of the pooled primaries only: state = those sums, each
 * below k, as a mixed-radix index.
 */
struct joint {
	int npp, pv[NPP_MAX]; /* pooled primary values */
	unsigned k;
	size_t nstate;
	unsigned char fwd[MAXS + 1][1000], bwd[MAXS + 1][1000];
};

/* State of the pooled-primary parts of f added to state a; -1 if a sum
 * reaches k. */
static long
state_add(const struct joint *j, const struct site_model *m, const uint8_t *f,
    size_t a)
{
	size_t x = 0, mul = 1;

	for (int i = 0; i < j->npp; i++) {
		uint64_t n = a / mul % j->k + part(m, f, j->pv[i]);

		if (n >= j->k)
			return -1;
		x += n * mul;
		mul *= j->k;
	}
	return (long)x;
}

static int
state_final(const struct joint *j, size_t x)
{
	for (int i = 0; i < j->npp; i++, x /= j->k)
		if (x % j->k == 0)
			return 0;
	return 1;
}

static void
joint_reach(struct joint *j, struct site_model *m, int ns)
{
	memset(j->fwd, 0, sizeof(j->fwd));
	memset(j->bwd, 0, sizeof(j->bwd));
	j->fwd[0][0] = 1;
	for (int s = 0; s < ns; s++)
		for (size_t a = 0; a < j->nstate; a++)
			for (size_t i = 0; j->fwd[s][a] && i < m[s].nf; i++) {
				long x = state_add(j, &m[s], m[s].f[i], a);

				if (x >= 0)
					j->fwd[s + 1][x] = 1;
			}
	j->bwd[ns][0] = 1;
	for (int s = ns; s-- > 0;)
		for (size_t a = 0; a < j->nstate; a++)
			for (size_t i = 0; j->bwd[s + 1][a] && i < m[s].nf;
			     i++) {
				long x = state_add(j, &m[s], m[s].f[i], a);

				if (x >= 0)
					j->bwd[s][x] = 1;
			}
}

/* Can f at site s be completed by the other sites? */
static int
joint_ok(
    const struct joint *j, const struct site_model *m, int s, const uint8_t *f)
{
	for (size_t a = 0; a < j->nstate; a++) {
		long x;

		if (!j->fwd[s][a] || (x = state_add(j, &m[s], f, a)) < 0)
			continue;
		for (size_t b = 0; b < j->nstate; b++) {
			size_t y = 0, mul = 1, xa = (size_t)x, xb = b;
			int i;

			if (!j->bwd[s + 1][b])
				continue;
			for (i = 0; i < j->npp; i++, xa /= j->k, xb /= j->k) {
				size_t n = xa % j->k + xb % j->k;

				if (n >= j->k)
					break;
				y += n * mul;
				mul *= j->k;
			}
			if (i == j->npp && state_final(j, y))
				return 1;
		}
	}
	return 0;
}

/* The pooled exact counts, intervals and total hold for every site
 * assignment: they add nothing to what the site tables say. */
static void
pooled_implied(const struct table *u, struct site_model *m, int ns)
{
	for (size_t i = 0; i < u->ncells; i++) {
		const struct cell *c = &u->cells[i];
		int v = val_index(c->key[0]);
		uint64_t lo = 0, hi = 0;

		if (c->state == CELL_PRIMARY)
			continue;
		for (int s = 0; s < ns; s++) {
			uint64_t mn = UINT64_MAX, mx = 0;

			for (size_t a = 0; a < m[s].nf; a++) {
				uint64_t n = part(&m[s], m[s].f[a], v);

				mn = n < mn ? n : mn;
				mx = n > mx ? n : mx;
			}
			lo += mn;
			hi += mx;
		}
		if (c->state == CELL_COUNT) {
			assert_int_equal(lo, c->count);
			assert_int_equal(hi, c->count);
		} else {
			assert_true(c->low <= lo && hi <= c->high);
		}
	}
	if (u->total.state != CELL_PRIMARY) {
		uint64_t lo = 0, hi = 0;

		for (int s = 0; s < ns; s++) {
			lo += m[s].tlo;
			hi += m[s].thi;
			for (int v = 0; v < NVAL; v++)
				lo += m[s].known[v], hi += m[s].known[v];
		}
		if (u->total.state == CELL_COUNT)
			assert_true(lo == u->total.count && hi == lo);
		else
			assert_true(u->total.low <= lo && hi <= u->total.high);
	}
}
static int
nvalues(const unsigned char *set, size_t n)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += set[i];
	return c;
}

static void
dump(uint64_t truth[][NVAL], const struct site_table *st, const struct table *u,
    int ns, unsigned kp)
{
	for (int s = 0; s < ns; s++) {
		const struct table *t = st[s].table;

		print_message("site %d k=%u masked=%d truth a=%llu b=%llu "
			      "c=%llu; total %s %llu:",
		    s, t->min_cell, t->zeros_masked,
		    (unsigned long long)truth[s][0],
		    (unsigned long long)truth[s][1],
		    (unsigned long long)truth[s][2],
		    table_state_name(t->total.state),
		    (unsigned long long)t->total.count);
		for (size_t i = 0; i < t->ncells; i++)
			print_message(" %s=%s/%llu", t->cells[i].key[0],
			    table_state_name(t->cells[i].state),
			    (unsigned long long)t->cells[i].count);
		print_message("\n");
	}
	print_message("pooled k=%u total %s %llu [%llu,%llu]:", kp,
	    table_state_name(u->total.state),
	    (unsigned long long)u->total.count,
	    (unsigned long long)u->total.low,
	    (unsigned long long)u->total.high);
	for (size_t i = 0; i < u->ncells; i++)
		print_message(" %s=%s/%llu [%llu,%llu]", u->cells[i].key[0],
		    table_state_name(u->cells[i].state),
		    (unsigned long long)u->cells[i].count,
		    (unsigned long long)u->cells[i].low,
		    (unsigned long long)u->cells[i].high);
	print_message("\n");
}

static void
attack(void **state)
{
	unsigned nruns = 0, nheld = 0, npooled_primary = 0, nsmall = 0;
	struct seen *seen = malloc(sizeof(*seen));

	(void)state;
	assert_non_null(seen);
	for (uint64_t seed = 1; seed <= 400; seed++) {
		uint64_t r = seed * 0x9E3779B97F4A7C15ULL + 11;
		int ns = 2 + (int)(rnd(&r) % 2);
		uint64_t truth[MAXS][NVAL];
		struct site_model m[MAXS];
		struct joint j;
		unsigned kp = 3 + (unsigned)(rnd(&r) % 8);
		struct pool *p = pool_new(st1, 1, kp);
		struct table *u;
		struct site_table *st;
		size_t nst;
		char err[128], name[16];

		for (int s = 0; s < ns; s++) {
			struct suppress_policy pol = {
				3 + (unsigned)(rnd(&r) % 3), rnd(&r) % 4 == 0
			};
			struct table *t = table_new(st1, 1);

			for (int v = 0; v < NVAL; v++) {
				unsigned roll = (unsigned)(rnd(&r) % 8);
				const char *key[1] = { vals[v] };

				truth[s][v] = 0;
				if (roll == 0)
					continue; /* absent */
				truth[s][v] = roll < 5 ? rnd(&r) % 7
						       : rnd(&r) % (CNTMAX + 1);
				table_get(t, key)->count = truth[s][v];
			}
			assert_int_equal(
			    suppress_table(t, &pol, err, sizeof(err)), 0);
			snprintf(name, sizeof(name), "s%d", s);
			assert_int_equal(
			    pool_add(p, name, t, err, sizeof(err)), 0);
			table_free(t);
		}
		assert_int_equal(
		    pool_finish(p, 1, &u, &st, &nst, err, sizeof(err)), 0);
		assert_int_equal(nst, (size_t)ns);
		for (int s = 0; s < ns; s++) {
			uint8_t cur[MAXU] = { 0 };

			model_site(&m[s], st[s].table, truth[s]);
			enumerate(&m[s], 0, 0, cur);
			assert_true(m[s].nf > 0);
		}
		memset(seen, 0, sizeof(*seen));
		j.k = kp;
		j.npp = 0;
		j.nstate = 1;
		for (size_t i = 0; i < u->ncells; i++)
			if (u->cells[i].state == CELL_PRIMARY) {
				j.pv[j.npp++] = val_index(u->cells[i].key[0]);
				j.nstate *= kp;
			}
		assert_true(j.nstate <= sizeof(j.fwd[0]));
		pooled_implied(u, m, ns);
		joint_reach(&j, m, ns);
		for (size_t x = 0; x < j.nstate; x++)
			if (j.fwd[ns][x] && state_final(&j, x))
				for (int i = 0; i < j.npp; i++)
					seen->pooled[j.pv[i]]
						    [x / ipow(kp, i) % kp] = 1;
		for (int s = 0; s < ns; s++)
			for (size_t a = 0; a < m[s].nf; a++)
				if (joint_ok(&j, m, s, m[s].f[a]))
					for (int x = 0; x < m[s].nu; x++)
						seen->u[s][x][m[s].f[a][x]] = 1;
		for (int s = 0; s < ns; s++) {
			for (int x = 0; x < m[s].nu; x++) {
				/* "other", or a site whose total 0 was released
				 */
				if (m[s].val[x] < 0 || m[s].thi == 0)
					continue;
				/* the attacker's model admits the truth */
				assert_true(seen->u[s][x][m[s].truth[x]]);
				if (nvalues(seen->u[s][x], 256) < 2) {
					dump(truth, st, u, ns, kp);
					fail_msg("seed %llu: site s%d value %s "
						 "recovered as %d",
					    (unsigned long long)seed, s,
					    vals[m[s].val[x]], m[s].truth[x]);
				}
				nheld++;
			}
		}
		for (size_t i = 0; i < u->ncells; i++) {
			int v = val_index(u->cells[i].key[0]);
			uint64_t sum = 0;

			for (int s = 0; s < ns; s++)
				sum += truth[s][v];
			/* a small pooled count is never shown exactly */
			if (sum >= 1 && sum < kp) {
				assert_int_not_equal(
				    u->cells[i].state, CELL_COUNT);
				nsmall++;
			}
			if (u->cells[i].state != CELL_PRIMARY)
				continue;
			assert_true(seen->pooled[v][sum]);
			if (nvalues(seen->pooled[v], sizeof(seen->pooled[v])) <
			    2)
				fail_msg("seed %llu: pooled primary %s "
					 "recovered as %llu",
				    (unsigned long long)seed, vals[v],
				    (unsigned long long)sum);
			npooled_primary++;
		}
		for (int s = 0; s < ns; s++)
			free(m[s].f);
		pool_sites_free(st, nst);
		table_free(u);
		pool_free(p);
		nruns++;
	}
	free(seen);
	print_message("%u networks, %u withheld site cells, %u small pooled "
		      "counts, %u pooled primaries: none recovered\n",
	    nruns, nheld, nsmall, npooled_primary);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
