/*
 * load.c — owns one run of `tally load` from start to finish: checks the
 * options, takes the lock, builds the new Baseline DB in DB.loading
 * beside DB (one transaction, no journal, no syncs: durability comes from
 * one fsync and the rename), indexes it after the data, writes meta, and
 * renames it over DB; writes DB.rejects.csv the same way. It must never
 * modify DB in place: until the rename, DB is the previous snapshot,
 * whatever happens to this process.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "date.h"
#include "load_int.h"
#include "util.h"
#include "version.h"

static const char pragmas[] = "PRAGMA journal_mode = OFF;"
			      "PRAGMA synchronous = OFF;"
			      "PRAGMA locking_mode = EXCLUSIVE;"
			      "PRAGMA cache_size = -262144;"
			      "PRAGMA threads = 2;";

int
load_site_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LOAD_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
load_site_from_path(const char *db, char *out, size_t outlen)
{
	const char *base = strrchr(db, '/'), *dot;
	size_t n;

	base = base ? base + 1 : db;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, base, n);
	out[n] = '\0';
	return load_site_valid(out) ? 0 : -1;
}

/* Refuses to replace a file that is not a Baseline DB. */
static int
check_target(const char *db, mode_t *mode, char *err, size_t errlen)
{
	struct stat sb;
	sqlite3 *h = NULL;
	char why[256];
	int rc;

	*mode = 0600;
	if (stat(db, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, "%s: %s", db, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return errf(err, errlen, "%s: not a regular file", db);
	*mode = sb.st_mode & 0777;
	if (sb.st_size == 0)
		return 0;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return errf(err, errlen,
		    "%s: cannot open: refusing to "
		    "replace it",
		    db);
	}
	rc = baseline_check(h, why, sizeof(why));
	sqlite3_close(h);
	if (rc == -1)
		return errf(
		    err, errlen, "%s: %s; refusing to replace it", db, why);
	return 0;
}

static int
exec(struct load *ld, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(ld->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		errf(ld->err, sizeof(ld->err), "%s", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
meta_num(struct load *ld, const char *key, uint64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return baseline_meta_set(ld->db, key, s, ld->err, sizeof(ld->err));
}

static int
write_meta(struct load *ld, const char *dir)
{
	const struct load_opts *o = ld->opts;
	struct load_result *res = ld->res;
	char abs[PATH_MAX], now[32], key[96], version[16];
	time_t t = time(NULL);
	struct tm tm;
	const struct {
		const char *k, *v;
	} kv[] = {
		{ "hospital_id", res->site },
		{ "schema_version", version },
		{ "snapshot_date", res->snapshot },
		{ "source", o->source == LOAD_OMOP ? "omop" : "csv" },
		{ "source_dir", realpath(dir, abs) ? abs : dir },
		{ "loaded_at", now },
		{ "loader", "tally " TALLY_VERSION },
	};

	snprintf(version, sizeof(version), "%d", BASELINE_SCHEMA_VERSION);
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (size_t i = 0; i < nitems(kv); i++)
		if (baseline_meta_set(ld->db, kv[i].k, kv[i].v, ld->err,
			sizeof(ld->err)) == -1)
			return -1;
	for (int i = 0; i < baseline_ntables; i++) {
		uint64_t n = 0;

		for (int s = 0; s < res->nsteps; s++)
			if (strcmp(res->step[s].target, baseline_tables[i]) ==
			    0)
				n += res->step[s].loaded;
		snprintf(key, sizeof(key), "rows_%s", baseline_tables[i]);
		if (meta_num(ld, key, n) == -1)
			return -1;
	}
	return meta_num(ld, "rows_rejected", res->rejected);
}

/* Builds the DB in the open temp file. 0, or -1 with ld->err. */
static int
build(struct load *ld, const char *tmp)
{
	const struct load_opts *o = ld->opts;
	int rc;

	/* One connection, one thread: no per-call mutex. */
	if (sqlite3_open_v2(tmp, &ld->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return errf(ld->err, sizeof(ld->err), "%s: %s", tmp,
		    sqlite3_errmsg(ld->db));
	if (exec(ld, pragmas) == -1 ||
	    baseline_create(ld->db, ld->err, sizeof(ld->err)) == -1 ||
	    exec(ld, "BEGIN") == -1 || load_db_prepare(ld) == -1 ||
	    load_batch_new(ld) == -1) {
		load_batch_free(ld);
		load_db_finalize(ld);
		return -1;
	}
	rc = o->source == LOAD_OMOP ? load_omop(ld, o->dir)
				    : load_csv(ld, o->dir);
	load_batch_free(ld);
	load_db_finalize(ld);
	if (rc == -1)
		return -1;
	if (o->strict && ld->res->rejected > 0)
		return 0; /* the caller throws the file away */
	if (o->progress)
		fputs("tally load: building indexes\n", stderr);
	if (baseline_index(ld->db, ld->err, sizeof(ld->err)) == -1 ||
	    write_meta(ld, o->dir) == -1 || exec(ld, "COMMIT") == -1)
		return -1;
	return 0;
}

static int
fsync_dir(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, rc;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Flushes the rejects file and puts it in place. */
static int
finish_rejects(struct load *ld, const char *tmp, const char *path)
{
	int rc = 0;

	if (fflush(ld->rej) != 0 || ferror(ld->rej) ||
	    fsync(fileno(ld->rej)) == -1)
		rc = -1;
	if (fclose(ld->rej) != 0)
		rc = -1;
	ld->rej = NULL;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	if (rc == -1)
		return errf(
		    ld->err, sizeof(ld->err), "%s: %s", path, strerror(errno));
	return 0;
}

struct paths {
	char tmp[PATH_MAX];    /* DB.loading */
	char rej[PATH_MAX];    /* DB.rejects.csv */
	char rejtmp[PATH_MAX]; /* DB.rejects.loading */
};

static int
make_paths(const char *db, struct paths *p)
{
	if ((size_t)snprintf(p->tmp, sizeof(p->tmp), "%s.loading", db) >=
		sizeof(p->tmp) ||
	    (size_t)snprintf(p->rej, sizeof(p->rej), "%s.rejects.csv", db) >=
		sizeof(p->rej) ||
	    (size_t)snprintf(p->rejtmp, sizeof(p->rejtmp), "%s.rejects.loading",
		db) >= sizeof(p->rejtmp))
		return -1;
	return 0;
}

/* Opens and locks DB.loading, empty. -1 with err. */
static int
open_tmp(const char *tmp, mode_t mode, char *err, size_t errlen)
{
	static const char *const sfx[] = { "-journal", "-wal", "-shm" };
	char side[PATH_MAX];
	int fd;

	if ((fd = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return errf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return errf(err, errlen,
			    "%s: another load into this DB is running", tmp);
		return errf(err, errlen, "%s: lock: %s", tmp, strerror(errno));
	}
	if (ftruncate(fd, 0) == -1 || fchmod(fd, mode) == -1) {
		errf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	/* A killed earlier run may have left side files: none is ours. */
	for (size_t i = 0; i < nitems(sfx); i++)
		if ((size_t)snprintf(side, sizeof(side), "%s%s", tmp, sfx[i]) <
		    sizeof(side))
			unlink(side);
	return fd;
}

/* Checks the options and fills res->site and res->snapshot. */
static int
check_opts(const struct load_opts *o, struct load_result *res, char *err,
    size_t errlen)
{
	struct stat sb;
	int32_t days;

	if (o->site != NULL) {
		if (!load_site_valid(o->site))
			return errf(err, errlen,
			    "site '%s': use 1-63 of "
			    "A-Z a-z 0-9 _ -",
			    o->site);
		strlcpy(res->site, o->site, sizeof(res->site));
	} else if (load_site_from_path(o->db, res->site, sizeof(res->site)) ==
	    -1)
		return errf(err, errlen,
		    "%s: the file name is not a site "
		    "id; give --site ID",
		    o->db);
	if (o->snapshot != NULL) {
		if (date_parse(o->snapshot, strlen(o->snapshot), &days) == -1)
			return errf(err, errlen,
			    "snapshot '%s' is not a "
			    "date (YYYY-MM-DD)",
			    o->snapshot);
		strlcpy(res->snapshot, o->snapshot, sizeof(res->snapshot));
	} else {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(res->snapshot, sizeof(res->snapshot), "%Y-%m-%d", &tm);
	}
	if (stat(o->dir, &sb) == -1)
		return errf(err, errlen, "%s: %s", o->dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return errf(err, errlen, "%s: not a folder", o->dir);
	return 0;
}

/* Runs the load with the lock held and the temp file open. */
static int
run(struct load *ld, const struct paths *p, int fd)
{
	const struct load_opts *o = ld->opts;
	int rc, rfd;

	if ((rfd = open(p->rejtmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		 0600)) == -1 ||
	    (ld->rej = fdopen(rfd, "w")) == NULL) {
		errf(ld->err, sizeof(ld->err), "%s: %s", p->rejtmp,
		    strerror(errno));
		if (rfd != -1)
			close(rfd);
		return -1;
	}
	fputs("file,line,reason\n", ld->rej);
	rc = build(ld, p->tmp);
	if (sqlite3_close_v2(ld->db) != SQLITE_OK && rc == 0)
		rc = errf(ld->err, sizeof(ld->err), "close: %s",
		    sqlite3_errmsg(ld->db));
	ld->db = NULL;
	if (rc == -1)
		return -1;
	if (!(o->strict && ld->res->rejected > 0)) {
		if (fsync(fd) == -1 || rename(p->tmp, o->db) == -1)
			return errf(ld->err, sizeof(ld->err), "%s: %s", o->db,
			    strerror(errno));
		ld->res->committed = 1;
		fsync_dir(o->db);
	}
	if (finish_rejects(ld, p->rejtmp, p->rej) == -1)
		return -1;
	strlcpy(ld->res->rejects, p->rej, sizeof(ld->res->rejects));
	fsync_dir(p->rej);
	return 0;
}

int
load_run(const struct load_opts *o, struct load_result *res, char *err,
    size_t errlen)
{
	struct load *ld;
	struct paths *p;
	mode_t mode;
	int fd, rc = -1;

	memset(res, 0, sizeof(*res));
	if (check_opts(o, res, err, errlen) == -1 ||
	    check_target(o->db, &mode, err, errlen) == -1)
		return -1;
	ld = calloc(1, sizeof(*ld));
	p = calloc(1, sizeof(*p));
	if (ld == NULL || p == NULL ||
	    (ld->rec = malloc(sizeof(*ld->rec))) == NULL) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	ld->opts = o;
	ld->res = res;
	if (make_paths(o->db, p) == -1) {
		errf(err, errlen, "%s: path too long", o->db);
		goto out;
	}
	if ((fd = open_tmp(p->tmp, mode, err, errlen)) == -1)
		goto out;
	if ((rc = run(ld, p, fd)) == -1) {
		errf(err, errlen, "%s", ld->err);
		if (ld->db != NULL)
			sqlite3_close_v2(ld->db);
		if (ld->rej != NULL)
			fclose(ld->rej);
		unlink(p->rejtmp);
	}
	if (!res->committed)
		unlink(p->tmp);
	close(fd);
out:
	if (ld != NULL) {
		load_idset_free(&ld->persons);
		load_idset_free(&ld->visits);
		free(ld->rec);
	}
	free(ld);
	free(p);
	return rc;
}
