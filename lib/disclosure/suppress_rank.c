/*
 * suppress_rank.c — owns the exact rank test of disclosure control: which
 * withheld cells of a hypercube the margins over every proper subset of
 * its dimensions determine (docs/disclosure-control.md 2.3). It builds
 * the basis margin equations over the withheld cells and runs Gauss-Jordan
 * elimination in exact integer arithmetic (rows kept primitive by their
 * gcd). It never decides what to withhold (suppress.c does), and it gives
 * up (-1) rather than overflow or spend more than the table's work bound.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suppress.h"
#include "suppress_int.h"

#define ENTRY_MAX ((int64_t)1 << 62)

/* Mixed-radix strides of the margin groups over subset s; their number. */
static size_t
subset_strides(const struct cube *c, unsigned s, size_t *gs)
{
	size_t size = 1;

	for (int d = c->nd - 1; d >= 0; d--) {
		gs[d] = 0;
		if (s & (1u << d)) {
			gs[d] = size;
			size *= c->n[d];
		}
	}
	return size;
}

static size_t
group_of(const struct cube *c, size_t i, const size_t *gs)
{
	size_t g = 0;

	for (int d = 0; d < c->nd; d++)
		if (gs[d] != 0)
			g += coord(c, i, d) * gs[d];
	return g;
}

/* The withheld cells and the basis margin equations over them (CSR). */
struct sys {
	size_t nu, *ucell; /* unknowns: withheld cells, ascending */
	size_t nrow, *ptr, *col;
	uint64_t work; /* entry updates left */
};

static void
sys_free(struct sys *y)
{
	free(y->ucell);
	free(y->ptr);
	free(y->col);
}

/* Is cell i in a basis margin over s (no coordinate at a last value)? */
static int
basis_group(
    const struct cube *c, size_t i, unsigned s, const size_t *gs, size_t *g)
{
	for (int d = 0; d < c->nd; d++)
		if ((s & (1u << d)) && coord(c, i, d) == c->n[d] - 1)
			return 0;
	*g = group_of(c, i, gs);
	return 1;
}

static int
sys_build(struct sys *y, const struct cube *c)
{
	size_t off[1u << TABLE_MAX_STRATA], gs[TABLE_MAX_STRATA], g, *fill;
	unsigned full = (1u << c->nd) - 1;

	memset(y, 0, sizeof(*y));
	y->work = *c->work;
	if ((y->ucell = calloc(c->ncell, sizeof(*y->ucell))) == NULL)
		goto nomem;
	for (size_t i = 0; i < c->ncell; i++)
		if (WITHHELD(c->st[i]))
			y->ucell[y->nu++] = i;
	for (unsigned s = 0; s < full; s++) {
		off[s] = y->nrow;
		y->nrow += subset_strides(c, s, gs);
	}
	y->ptr = calloc(y->nrow + 1, sizeof(*y->ptr));
	y->col = calloc(y->nu * full + 1, sizeof(*y->col));
	if (y->ptr == NULL || y->col == NULL)
		goto nomem;
	for (unsigned s = 0; s < full; s++) {
		subset_strides(c, s, gs);
		for (size_t u = 0; u < y->nu; u++)
			if (basis_group(c, y->ucell[u], s, gs, &g))
				y->ptr[off[s] + g + 1]++;
	}
	for (size_t r = 0; r < y->nrow; r++)
		y->ptr[r + 1] += y->ptr[r];
	if ((fill = calloc(y->nrow + 1, sizeof(*fill))) == NULL)
		goto nomem;
	for (unsigned s = 0; s < full; s++) {
		subset_strides(c, s, gs);
		for (size_t u = 0; u < y->nu; u++)
			if (basis_group(c, y->ucell[u], s, gs, &g)) {
				size_t r = off[s] + g;

				y->col[y->ptr[r] + fill[r]++] = u;
			}
	}
	free(fill);
	return 0;
nomem:
	log_warn("suppress: calloc");
	sys_free(y);
	return -1;
}

static int64_t
gcd64(int64_t a, int64_t b)
{
	if (a < 0)
		a = -a;
	if (b < 0)
		b = -b;
	while (b != 0) {
		int64_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/* v = v * b[p] - b * v[p] (divided by their gcd), made primitive, so
 * that v[p] becomes 0. -1 when an entry would overflow or the work
 * bound is spent. */
static int
row_reduce(struct sys *y, int64_t *v, const int64_t *b, size_t p)
{
	int64_t g = gcd64(b[p], v[p]), a = b[p] / g, m = v[p] / g, h = 0;
	size_t n = y->nu;

	if (y->work < n) {
		log_warnx("suppress: rank tests over their work bound");
		return -1;
	}
	y->work -= n;

	for (size_t j = 0; j < n; j++) {
		int64_t x, z;

		if (b[j] == 0) {
			if (v[j] == 0)
				continue;
			if (__builtin_mul_overflow(v[j], a, &x))
				goto overflow;
		} else if (__builtin_mul_overflow(v[j], a, &x) ||
		    __builtin_mul_overflow(b[j], m, &z) ||
		    __builtin_sub_overflow(x, z, &x))
			goto overflow;
		if (x > ENTRY_MAX || x < -ENTRY_MAX)
			goto overflow;
		v[j] = x;
		if (x != 0 && h != 1)
			h = gcd64(h, x);
	}
	if (h > 1)
		for (size_t j = 0; j < n; j++)
			v[j] /= h;
	return 0;
overflow:
	log_warnx("suppress: rank test overflows");
	return -1;
}

/*
 * Gauss-Jordan elimination of the equations over the unknowns; sets
 * dcol[u] for each unknown u they determine: one whose pivot row has no
 * other non-zero entry once fully reduced.
 */
static int
eliminate(struct sys *y, unsigned char *dcol)
{
	size_t nc = y->nu, nr = 0, maxr, rank = 0, *piv;
	int64_t *B, *v;
	int rc = -1;

	for (size_t r = 0; r < y->nrow; r++)
		nr += y->ptr[r] < y->ptr[r + 1];
	maxr = nr < nc ? nr : nc;

	if (maxr > SUPPRESS_MAX_ENTRIES / nc) {
		log_warnx(
		    "suppress: rank test over %zu x %zu too large", nr, nc);
		return -1;
	}
	B = calloc(maxr * nc + 1, sizeof(*B));
	v = calloc(nc + 1, sizeof(*v));
	piv = calloc(maxr + 1, sizeof(*piv));
	if (B == NULL || v == NULL || piv == NULL) {
		log_warn("suppress: calloc");
		goto out;
	}
	for (size_t r = 0; r < y->nrow && rank < nc; r++) {
		size_t p;

		if (y->ptr[r] == y->ptr[r + 1])
			continue;
		memset(v, 0, nc * sizeof(*v));
		for (size_t e = y->ptr[r]; e < y->ptr[r + 1]; e++)
			v[y->col[e]] = 1;
		for (size_t b = 0; b < rank; b++)
			if (v[piv[b]] != 0 &&
			    row_reduce(y, v, B + b * nc, piv[b]) == -1)
				goto out;
		for (p = 0; p < nc && v[p] == 0; p++)
			;
		if (p == nc)
			continue;
		memcpy(B + rank * nc, v, nc * sizeof(*v));
		piv[rank++] = p;
	}
	for (size_t i = rank; i-- > 0;)
		for (size_t j = 0; j < i; j++)
			if (B[j * nc + piv[i]] != 0 &&
			    row_reduce(y, B + j * nc, B + i * nc, piv[i]) == -1)
				goto out;
	for (size_t i = 0; i < rank; i++) {
		size_t j;

		for (j = 0; j < nc; j++)
			if (j != piv[i] && B[i * nc + j] != 0)
				break;
		if (j == nc)
			dcol[piv[i]] = 1;
	}
	rc = 0;
out:
	free(B);
	free(v);
	free(piv);
	return rc;
}

/* Marks in det the withheld cells the margins determine; their number, or
 * -1 if the test could not be completed. (Every withheld cell is in the
 * total's equation, so the system does not split into parts.) */
long
cube_determined(const struct cube *c, unsigned char *det)
{
	struct sys y;
	unsigned char *dcol = NULL;
	long ndet = -1;

	memset(det, 0, c->ncell);
	if (sys_build(&y, c) == -1)
		return -1;
	if (y.nu == 0 || c->nd == 0) {
		for (size_t u = 0; u < y.nu; u++)
			det[y.ucell[u]] = 1; /* the only cell is the total */
		ndet = (long)y.nu;
		goto out;
	}
	if ((dcol = calloc(y.nu, 1)) == NULL) {
		log_warn("suppress: calloc");
		goto out;
	}
	if (eliminate(&y, dcol) == -1)
		goto out;
	ndet = 0;
	for (size_t u = 0; u < y.nu; u++)
		if (dcol[u]) {
			det[y.ucell[u]] = 1;
			ndet++;
		}
out:
	*c->work = y.work;
	free(dcol);
	sys_free(&y);
	return ndet;
}
