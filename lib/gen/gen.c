/*
 * gen.c — owns generating whole hospitals: how big each site is, which
 * synthetic people are its patients (its own, and some shared with other
 * sites through a common pool), writing each DB to a temp file that is
 * synced and renamed into place only when complete, and running several
 * sites at once on threads. A site's DB depends only on (seed, site id,
 * --patients): never on which other sites run, in which order or thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "util.h"

/* Fraction of a site's patients drawn from the shared pool. */
#define SHARE_GENERAL 0.10
#define SHARE_EYE     0.15
/* Cancer risk of a cancer hospital's own patients, times. */
#define CANCER_MULT 3.0
#define SHARED_BIT  (1ULL << 63)

/*
 * Size factors: patients relative to a lead hospital, roughly after the
 * sites' bed counts; the two eye hospitals are small and see eye
 * problems, the two cancer hospitals see more cancer. A site not listed
 * gets 1.0 if lead, else a factor in [0.3, 0.7) from its id; "Eye" or
 * "Cancer" in its English name makes it an eye or cancer hospital.
 */
static const struct {
	const char *id;
	double factor;
	int kind;
} known[] = {
	{ "kumc", 1.0, GEN_GENERAL },
	{ "ku-guro", 0.55, GEN_GENERAL },
	{ "ku-ansan", 0.45, GEN_GENERAL },
	{ "konyang", 0.45, GEN_GENERAL },
	{ "jbnu", 0.55, GEN_GENERAL },
	{ "gachon-gil", 0.7, GEN_GENERAL },
	{ "kims-eye", 0.12, GEN_EYE },
	{ "pnuh", 1.0, GEN_GENERAL },
	{ "pnuh-yangsan", 0.6, GEN_GENERAL },
	{ "chonnam", 0.55, GEN_GENERAL },
	{ "chonnam-hwasun", 0.35, GEN_CANCER },
	{ "knuh", 0.5, GEN_GENERAL },
	{ "knuh-chilgok", 0.45, GEN_GENERAL },
	{ "smc", 1.0, GEN_GENERAL },
	{ "hanyang", 0.45, GEN_GENERAL },
	{ "kbsmc", 0.35, GEN_GENERAL },
	{ "smc-changwon", 0.35, GEN_GENERAL },
	{ "snuh", 1.0, GEN_GENERAL },
	{ "keimyung-dongsan", 0.5, GEN_GENERAL },
	{ "dongguk-ilsan", 0.4, GEN_GENERAL },
	{ "snubh", 0.7, GEN_GENERAL },
	{ "boramae", 0.4, GEN_GENERAL },
	{ "ewha-seoul", 0.4, GEN_GENERAL },
	{ "chungnam", 0.6, GEN_GENERAL },
	{ "chungbuk", 0.4, GEN_GENERAL },
	{ "seoul-stmary", 1.0, GEN_GENERAL },
	{ "amc", 1.0, GEN_GENERAL },
	{ "ncc", 0.3, GEN_CANCER },
	{ "cauh", 0.45, GEN_GENERAL },
	{ "konkuk", 0.45, GEN_GENERAL },
	{ "severance", 1.0, GEN_GENERAL },
	{ "gangnam-severance", 0.5, GEN_GENERAL },
	{ "yongin-severance", 0.3, GEN_GENERAL },
	{ "wonju-severance", 0.45, GEN_GENERAL },
	{ "ajou", 0.6, GEN_GENERAL },
	{ "hallym-sacred-heart", 1.0, GEN_GENERAL },
	{ "khu-gangdong", 0.4, GEN_GENERAL },
	{ "gangneung-asan", 0.35, GEN_GENERAL },
	{ "kangwon", 0.35, GEN_GENERAL },
	{ "uuh", 0.5, GEN_GENERAL },
	{ "hallym-chuncheon", 0.35, GEN_GENERAL },
	{ "hallym-kangnam", 0.3, GEN_GENERAL },
	{ "hangil-eye", 0.08, GEN_EYE },
};

static void
site_profile(const struct site *s, double *factor, int *kind)
{
	for (size_t i = 0; i < nitems(known); i++)
		if (strcmp(known[i].id, s->id) == 0) {
			*factor = known[i].factor;
			*kind = known[i].kind;
			return;
		}
	*kind = GEN_GENERAL;
	if (strstr(s->name_en, "Eye") != NULL)
		*kind = GEN_EYE;
	else if (strstr(s->name_en, "Cancer") != NULL)
		*kind = GEN_CANCER;
	if (s->lead)
		*factor = 1.0;
	else if (*kind == GEN_EYE)
		*factor = 0.1;
	else
		*factor = 0.3 + (double)(gen_hash_str(s->id) % 400) / 1000.0;
}

int64_t
gen_site_patients(const struct site *s, int64_t patients)
{
	double factor;
	int kind;
	int64_t n;

	site_profile(s, &factor, &kind);
	n = (int64_t)((double)patients * factor + 0.5);
	return n < 1 ? 1 : n;
}

/* Shared pool: as many people as a lead hospital has patients; a site
 * takes each with a chance that fills SHARE of its own size. */
static double
share_chance(int kind, int64_t n, int64_t pool)
{
	double q = (kind == GEN_EYE ? SHARE_EYE : SHARE_GENERAL) * (double)n /
	    (double)pool;

	return q > 1.0 ? 1.0 : q;
}

static int
is_member(uint64_t seed, uint64_t hsite, int64_t j, double q)
{
	uint64_t h = gen_mix(gen_mix(seed, SHARED_BIT | (uint64_t)j), hsite);

	return (double)(h >> 11) * 0x1.0p-53 < q;
}

struct run {
	const struct site *s;
	const struct gen_opts *o;
	struct gen_db *db;
	struct gen_chart chart;
	uint64_t hsite;
	int kind;
	int64_t next_id;
};

static int
one_person(struct run *rn, uint64_t g, int shared, char *err, size_t errlen)
{
	struct gen_person p;
	struct gen_rng r;
	char key[65];

	gen_person_make(&p, rn->o->seed, g,
	    !shared && rn->kind == GEN_CANCER ? CANCER_MULT : 1.0);
	gen_rng_init(&r, gen_mix(rn->o->seed, rn->hsite), g);
	if (gen_link_key(rn->o->seed, g, key) == -1)
		return errf(err, errlen, "SHA-256 failed");
	if (gen_chart_build(&rn->chart, &p, rn->kind, shared, &r) == -1)
		return errf(err, errlen, "out of memory");
	if (gen_db_person(rn->db, rn->next_id, &p, key, err, errlen) == -1 ||
	    gen_db_chart(rn->db, rn->next_id, &rn->chart, err, errlen) == -1)
		return -1;
	rn->next_id++;
	return 0;
}

static int
fill(struct run *rn, int64_t n, char *err, size_t errlen)
{
	uint64_t own = (rn->hsite & 0x7fffffffULL) << 32, seed = rn->o->seed;
	int64_t pool = rn->o->patients, nshared = 0, nown;
	double q = share_chance(rn->kind, n, pool);

	for (int64_t j = 0; j < pool; j++)
		nshared += is_member(seed, rn->hsite, j, q);
	nown = n > nshared ? n - nshared : 0;
	for (int64_t i = 0; i < nown; i++)
		if (one_person(rn, own | (uint64_t)i, 0, err, errlen) == -1)
			return -1;
	for (int64_t j = 0; j < pool; j++)
		if (is_member(seed, rn->hsite, j, q) &&
		    one_person(rn, SHARED_BIT | (uint64_t)j, 1, err, errlen) ==
			-1)
			return -1;
	return 0;
}

static int
sync_path(const char *path, int flags)
{
	int fd, rc;

	if ((fd = open(path, flags)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Makes tmp the DB at final: synced, renamed, directory synced. */
static int
publish(const char *tmp, const char *final, const char *dir, char *err,
    size_t errlen)
{
	if (sync_path(tmp, O_RDONLY) == -1)
		return errf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
	if (rename(tmp, final) == -1)
		return errf(err, errlen, "rename %s to %s: %s", tmp, final,
		    strerror(errno));
	if (sync_path(dir, O_RDONLY | O_DIRECTORY) == -1)
		return errf(err, errlen, "fsync %s: %s", dir, strerror(errno));
	return 0;
}

/* A new file (O_EXCL: never through a planted link), mode as SQLite
 * would create it (0644 less the umask); a leftover of a crashed run of
 * the same pid is replaced. */
static int
create_tmp(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd == -1 && errno == EEXIST && unlink(path) == 0)
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	return fd;
}

int
gen_site(const struct site *s, const struct gen_opts *o, const char *dir,
    struct gen_stats *st, char *err, size_t errlen)
{
	struct run rn;
	char tmp[4096], final[4096];
	uint64_t t0 = clock_us();
	double factor;
	struct stat sb;
	int fd, rc = -1;

	memset(&rn, 0, sizeof(rn));
	memset(st, 0, sizeof(*st));
	rn.s = s;
	rn.o = o;
	rn.hsite = gen_hash_str(s->id);
	rn.next_id = 1;
	site_profile(s, &factor, &rn.kind);
	if ((size_t)snprintf(final, sizeof(final), "%s/%s.db", dir, s->id) >=
		sizeof(final) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.db.%ld.tmp", dir, s->id,
		(long)getpid()) >= sizeof(tmp))
		return errf(err, errlen, "%s: path too long", dir);
	if ((fd = create_tmp(tmp)) == -1)
		return errf(err, errlen, "%s: %s", tmp, strerror(errno));
	close(fd);
	if ((rn.db = gen_db_open(tmp, err, errlen)) == NULL)
		goto out;
	if (fill(&rn, gen_site_patients(s, o->patients), err, errlen) == -1 ||
	    gen_db_finish(rn.db, s, o, err, errlen) == -1)
		goto out;
	gen_db_rows(rn.db, st->rows);
	gen_db_close(rn.db);
	rn.db = NULL;
	if (publish(tmp, final, dir, err, errlen) == -1)
		goto out;
	for (int i = 0; i < GEN_NTABLES; i++)
		st->total += st->rows[i];
	if (stat(final, &sb) == 0)
		st->bytes = sb.st_size;
	st->nsites = 1;
	st->seconds = (double)(clock_us() - t0) / 1e6;
	rc = 0;
out:
	gen_db_close(rn.db);
	gen_chart_free(&rn.chart);
	if (rc == -1)
		unlink(tmp);
	return rc;
}

/* The work shared by the threads of gen_sites(). */
struct queue {
	const struct site *const *sel;
	size_t *order, nsel, next, done;
	const struct gen_opts *o;
	const char *dir;
	pthread_mutex_t mu;
	struct gen_stats total;
	int failed;
	char err[640];
};

static void
add_stats(struct gen_stats *to, const struct gen_stats *st)
{
	for (int i = 0; i < GEN_NTABLES; i++)
		to->rows[i] += st->rows[i];
	to->total += st->total;
	to->bytes += st->bytes;
	to->nsites += st->nsites;
}

static void *
worker(void *arg)
{
	struct queue *q = arg;
	struct gen_stats st;
	char err[512];
	size_t i, done;
	int rc;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		if (q->failed || q->next == q->nsel) {
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		i = q->order[q->next++];
		pthread_mutex_unlock(&q->mu);
		rc = gen_site(q->sel[i], q->o, q->dir, &st, err, sizeof(err));
		pthread_mutex_lock(&q->mu);
		done = ++q->done;
		if (rc == -1 && !q->failed) {
			q->failed = 1;
			snprintf(q->err, sizeof(q->err), "%s: %s",
			    q->sel[i]->id, err);
		} else if (rc == 0)
			add_stats(&q->total, &st);
		pthread_mutex_unlock(&q->mu);
		if (rc == 0 && q->o->progress)
			fprintf(stderr,
			    "tally gen: [%zu/%zu] %-20s %9lld patients"
			    " %11lld rows %7.1f s\n",
			    done, q->nsel, q->sel[i]->id,
			    (long long)st.rows[GEN_PERSON], (long long)st.total,
			    st.seconds);
	}
}

/* Largest first, so that threads finish together. */
static void
order_by_size(struct queue *q)
{
	for (size_t i = 0; i < q->nsel; i++)
		q->order[i] = i;
	for (size_t i = 1; i < q->nsel; i++) {
		size_t k = q->order[i], j = i;
		int64_t nk = gen_site_patients(q->sel[k], q->o->patients);

		while (j > 0 &&
		    gen_site_patients(q->sel[q->order[j - 1]], q->o->patients) <
			nk) {
			q->order[j] = q->order[j - 1];
			j--;
		}
		q->order[j] = k;
	}
}

int
gen_sites(const struct site *const *sel, size_t nsel, const struct gen_opts *o,
    const char *dir, struct gen_stats *st, char *err, size_t errlen)
{
	pthread_t tid[GEN_MAX_JOBS];
	struct queue q;
	uint64_t t0 = clock_us();
	int jobs = o->jobs < 1	     ? 1
	    : o->jobs > GEN_MAX_JOBS ? GEN_MAX_JOBS
				     : o->jobs;
	int started = 0;

	memset(&q, 0, sizeof(q));
	memset(st, 0, sizeof(*st));
	if ((q.order = calloc(nsel ? nsel : 1, sizeof(*q.order))) == NULL)
		return errf(err, errlen, "out of memory");
	q.sel = sel;
	q.nsel = nsel;
	q.o = o;
	q.dir = dir;
	pthread_mutex_init(&q.mu, NULL);
	order_by_size(&q);
	if ((size_t)jobs > nsel)
		jobs = (int)(nsel ? nsel : 1);
	for (int i = 1; i < jobs; i++) {
		if (pthread_create(&tid[i], NULL, worker, &q) != 0)
			break;
		started++;
	}
	worker(&q);
	for (int i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&q.mu);
	free(q.order);
	*st = q.total;
	st->seconds = (double)(clock_us() - t0) / 1e6;
	if (q.failed)
		return errf(err, errlen, "%s", q.err);
	return 0;
}
