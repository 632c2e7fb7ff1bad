/*
 * gen_rng.c — owns the generator's randomness: xoshiro256** seeded through
 * splitmix64, and the few distributions the model draws from. Every
 * stream is seeded from explicit numbers (seed, hospital, person); it
 * never uses rand(), the clock or any global state.
 */
#include <math.h>

#include "gen.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
gen_mix(uint64_t a, uint64_t b)
{
	uint64_t x = a;

	x = splitmix64(&x) ^ b;
	return splitmix64(&x);
}

/* FNV-1a, then mixed: stable across platforms and runs. */
uint64_t
gen_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return gen_mix(h, 0x74616c6c79ULL);
}

void
gen_rng_init(struct gen_rng *r, uint64_t a, uint64_t b)
{
	uint64_t x = gen_mix(a, b);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
gen_rng_u64(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double
gen_rng_unit(struct gen_rng *r)
{
	return (double)(gen_rng_u64(r) >> 11) * 0x1.0p-53;
}

int
gen_rng_int(struct gen_rng *r, int lo, int hi)
{
	uint64_t span;

	if (hi <= lo)
		return lo;
	span = (uint64_t)((int64_t)hi - lo) + 1;
	return (int)((int64_t)lo + (int64_t)(gen_rng_u64(r) % span));
}

int
gen_rng_chance(struct gen_rng *r, double p)
{
	return gen_rng_unit(r) < p;
}

/* Sum of four uniforms, rescaled: close enough to normal for synthetic
 * data, bounded (|z| < 3.47) and free of libm. */
double
gen_rng_normal(struct gen_rng *r, double mean, double sd)
{
	double z = gen_rng_unit(r) + gen_rng_unit(r) + gen_rng_unit(r) +
	    gen_rng_unit(r);

	return mean + sd * (z - 2.0) * 1.7320508075688772;
}

double
gen_rng_exp(struct gen_rng *r, double mean)
{
	return -mean * log(1.0 - gen_rng_unit(r));
}

int
gen_rng_poisson(struct gen_rng *r, double mean)
{
	double l, p = 1.0;
	int k = 0;

	if (mean <= 0)
		return 0;
	if (mean > 30) {
		double v = gen_rng_normal(r, mean, sqrt(mean));
		return v < 0 ? 0 : (int)(v + 0.5);
	}
	l = exp(-mean);
	do {
		k++;
		p *= gen_rng_unit(r);
	} while (p > l);
	return k - 1;
}
