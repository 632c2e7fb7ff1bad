/*
 * load_concept.c — owns the OMOP concept map: concept_id -> (code system,
 * concept_code), read from CONCEPT.csv, and the vocabulary_id -> code
 * system mapping (docs/loading.md). Concepts live in one array sorted by
 * id with their codes in one string arena and their code systems interned
 * (a full vocabulary has millions of concepts but a few dozen
 * vocabularies), so a lookup is a binary search and nothing is allocated
 * per concept. It never reads files itself.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_int.h"
#include "util.h"

#define MAX_SYSTEMS 1024
#define ARENA_MAX   ((size_t)UINT32_MAX)

struct concept {
	int64_t id;
	uint32_t off; /* code in the arena */
	uint16_t sys; /* index into systems */
	uint8_t len;  /* code length, <= LOAD_CODE_MAX */
};

struct load_concepts {
	struct concept *c;
	size_t n, cap;
	char *arena;
	size_t alen, acap;
	/* Interned code systems, each after mapping its vocabulary_id. */
	char vocab[MAX_SYSTEMS][LOAD_SYSTEM_MAX + 1];
	char system[MAX_SYSTEMS][LOAD_SYSTEM_MAX + 1];
	int nsys;
	int last; /* last interned index, for runs of one vocabulary */
};

/* vocabulary_id -> Baseline code system, where the name differs. */
static const struct {
	const char *vocab, *system;
} vocab_map[] = {
	{ "ICD10CM", "ICD10" },
	{ "ICD10", "ICD10" },
	{ "ICD9CM", "ICD9CM" },
	{ "ICD9Proc", "ICD9Proc" },
	{ "SNOMED", "SNOMED" },
	{ "LOINC", "LOINC" },
	{ "RxNorm", "RxNorm" },
	{ "RxNorm Extension", "RxNormExt" },
	{ "CPT4", "CPT4" },
	{ "HCPCS", "HCPCS" },
	{ "ATC", "ATC" },
	{ "NDC", "NDC" },
	{ "CVX", "CVX" },
	{ "UCUM", "UCUM" },
	{ "KCD7", "KCD7" },
	{ "EDI", "EDI" },
};

void
load_vocab_system(const char *vocab, size_t vlen, char *out, size_t outlen)
{
	size_t w = 0;

	for (size_t i = 0; i < nitems(vocab_map); i++)
		if (strlen(vocab_map[i].vocab) == vlen &&
		    strncasecmp(vocab_map[i].vocab, vocab, vlen) == 0) {
			strlcpy(out, vocab_map[i].system, outlen);
			return;
		}
	/* Anything else keeps its name, made a valid code system. */
	for (size_t i = 0; i < vlen && w + 1 < outlen && w < LOAD_SYSTEM_MAX;
	     i++) {
		char c = vocab[i];

		out[w++] = load_system_valid(&c, 1) ? c : '_';
	}
	if (w == 0 && outlen > 1)
		out[w++] = '_';
	if (outlen > 0)
		out[w] = '\0';
}

struct load_concepts *
load_concepts_new(void)
{
	struct load_concepts *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->last = -1;
	return m;
}

void
load_concepts_free(struct load_concepts *m)
{
	if (m == NULL)
		return;
	free(m->c);
	free(m->arena);
	free(m);
}

size_t
load_concepts_count(const struct load_concepts *m)
{
	return m->n;
}

static int
intern(struct load_concepts *m, const char *vocab, size_t vlen)
{
	if (vlen > LOAD_SYSTEM_MAX)
		vlen = LOAD_SYSTEM_MAX;
	if (m->last >= 0 && strlen(m->vocab[m->last]) == vlen &&
	    memcmp(m->vocab[m->last], vocab, vlen) == 0)
		return m->last;
	for (int i = 0; i < m->nsys; i++)
		if (strlen(m->vocab[i]) == vlen &&
		    memcmp(m->vocab[i], vocab, vlen) == 0)
			return m->last = i;
	if (m->nsys == MAX_SYSTEMS)
		return -1;
	memcpy(m->vocab[m->nsys], vocab, vlen);
	m->vocab[m->nsys][vlen] = '\0';
	load_vocab_system(
	    vocab, vlen, m->system[m->nsys], sizeof(m->system[m->nsys]));
	return m->last = m->nsys++;
}

int
load_concepts_add(struct load_concepts *m, int64_t id, const char *vocab,
    size_t vlen, const char *code, size_t clen, char *err, size_t errlen)
{
	struct concept *c;
	int sys;

	if (clen == 0 || clen > LOAD_CODE_MAX)
		return errf(err, errlen, "concept_code must be 1 to %d bytes",
		    LOAD_CODE_MAX);
	if ((sys = intern(m, vocab, vlen)) == -1)
		return errf(
		    err, errlen, "more than %d vocabularies", MAX_SYSTEMS);
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 4096;

		if ((c = realloc(m->c, ncap * sizeof(*c))) == NULL)
			return errf(err, errlen, "out of memory");
		m->c = c;
		m->cap = ncap;
	}
	if (m->alen + clen > m->acap) {
		size_t ncap = m->acap ? m->acap * 2 : 65536;
		char *na;

		if (ncap > ARENA_MAX)
			ncap = ARENA_MAX;
		if (m->alen + clen > ncap)
			return errf(err, errlen, "concept table too large");
		if ((na = realloc(m->arena, ncap)) == NULL)
			return errf(err, errlen, "out of memory");
		m->arena = na;
		m->acap = ncap;
	}
	c = &m->c[m->n++];
	c->id = id;
	c->off = (uint32_t)m->alen;
	c->len = (uint8_t)clen;
	c->sys = (uint16_t)sys;
	memcpy(m->arena + m->alen, code, clen);
	m->alen += clen;
	return 0;
}

static int
cmp_concept(const void *a, const void *b)
{
	const struct concept *x = a, *y = b;

	if (x->id != y->id)
		return (x->id > y->id) - (x->id < y->id);
	/* Equal ids keep file order (arena offsets grow with it). */
	return (x->off > y->off) - (x->off < y->off);
}

int
load_concepts_freeze(struct load_concepts *m, char *err, size_t errlen)
{
	int sorted = 1;

	(void)err;
	(void)errlen;
	for (size_t i = 1; i < m->n && sorted; i++)
		sorted = m->c[i - 1].id < m->c[i].id;
	if (!sorted)
		qsort(m->c, m->n, sizeof(*m->c), cmp_concept);
	return 0;
}

int
load_concepts_get(const struct load_concepts *m, int64_t id,
    struct csv_field *system, struct csv_field *code)
{
	size_t lo = 0, hi = m->n;

	/* The leftmost match, so that a duplicate id resolves to the first
	 * row of the file. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->c[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->n || m->c[lo].id != id)
		return 0;
	system->p = m->system[m->c[lo].sys];
	system->len = strlen(system->p);
	code->p = m->arena + m->c[lo].off;
	code->len = m->c[lo].len;
	return 1;
}
