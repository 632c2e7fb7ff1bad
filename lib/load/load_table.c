/*
 * load_table.c — owns reading one input file of an export: finding it
 * (names compare without case), checking its header, handing each record
 * to the format's row function, and reporting every rejected row as
 * `FILE:LINE: reason` on the report stream and in the rejects file. It
 * never interprets a column itself and never stops at a bad row; only a
 * file-level problem (absent, unreadable, empty, a required column
 * missing) stops the load.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "load_int.h"
#include "util.h"

#define PROGRESS_EVERY 0x3fff /* rows between clock reads, minus one */
#define PROGRESS_MS    500

int
load_find_file(struct load *ld, const char *dir, const char *name, char *out,
    size_t outlen)
{
	DIR *d;
	struct dirent *e;
	int found = 0;

	if ((d = opendir(dir)) == NULL) {
		errf(ld->err, sizeof(ld->err), "%s: %s", dir, strerror(errno));
		return -2;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcasecmp(e->d_name, name) != 0)
			continue;
		if (found) {
			errf(ld->err, sizeof(ld->err),
			    "%s: both %s and %s exist; keep one", dir, out,
			    e->d_name);
			closedir(d);
			return -2;
		}
		if (strlcpy(out, e->d_name, outlen) >= outlen) {
			closedir(d);
			return -1;
		}
		found = 1;
	}
	closedir(d);
	return found ? 0 : -1;
}

/* Writes s as one quoted CSV field. */
static void
csv_put(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

int
load_reject(struct load *ld, const char *path, uint64_t line, const char *why)
{
	ld->res->rejected++;
	if (ld->opts->report != NULL) {
		if (ld->progress_shown) {
			fputs("\r\033[K", stderr);
			ld->progress_shown = 0;
		}
		fprintf(ld->opts->report, "%s:%llu: %s\n", path,
		    (unsigned long long)line, why);
	}
	if (ld->rej != NULL) {
		csv_put(ld->rej, path);
		fprintf(ld->rej, ",%llu,", (unsigned long long)line);
		csv_put(ld->rej, why);
		putc('\n', ld->rej);
		if (ferror(ld->rej))
			return errf(ld->err, sizeof(ld->err),
			    "writing the rejects file: %s", strerror(errno));
	}
	return 0;
}

void
load_tick(struct load *ld, const struct load_table *t)
{
	uint64_t now;

	if (!ld->opts->progress || (++ld->tick & PROGRESS_EVERY) != 0)
		return;
	now = clock_ms();
	if (now - ld->tick_ms < PROGRESS_MS)
		return;
	ld->tick_ms = now;
	fprintf(stderr, "\r\033[Ktally load: %s: %llu rows", t->step->table,
	    (unsigned long long)t->step->read);
	ld->progress_shown = 1;
}

static struct load_step *
step_add(struct load *ld, const struct load_spec *sp)
{
	struct load_result *res = ld->res;
	struct load_step *st;

	if (res->nsteps == LOAD_MAX_STEPS)
		return NULL;
	st = &res->step[res->nsteps++];
	memset(st, 0, sizeof(*st));
	strlcpy(st->table, sp->table, sizeof(st->table));
	strlcpy(st->target, sp->target, sizeof(st->target));
	return st;
}

/* Maps the spec's columns onto the header; -1 with ld->err on a problem. */
static int
header_map(struct load_table *t, const struct csv_rec *hdr)
{
	struct load *ld = t->ld;

	for (int i = 0; i < t->ncols; i++) {
		const char *name = t->cols[i].name;
		size_t n = strlen(name);

		t->idx[i] = csv_column(hdr, name);
		if (t->idx[i] < 0) {
			if (t->cols[i].required)
				return errf(ld->err, sizeof(ld->err),
				    "%s: no column %s in the header", t->path,
				    name);
			continue;
		}
		for (size_t k = (size_t)t->idx[i] + 1; k < hdr->nfields; k++)
			if (hdr->f[k].len == n &&
			    strncasecmp(hdr->f[k].p, name, n) == 0)
				return errf(ld->err, sizeof(ld->err),
				    "%s: column %s appears twice in the header",
				    t->path, name);
	}
	return 0;
}

/* Reads every record after the header. 0, or -1 on an error (ld->err). */
static int
records(struct load_table *t, struct csv *c, size_t nheader)
{
	struct load *ld = t->ld;
	struct csv_rec *r = ld->rec;
	char why[LOAD_WHY_MAX];
	int rc;

	for (;;) {
		rc = csv_next(c, r, why, sizeof(why));
		if (rc == 0)
			return 0;
		if (rc == -2)
			return errf(
			    ld->err, sizeof(ld->err), "%s: %s", t->path, why);
		t->step->read++;
		load_tick(ld, t);
		if (rc == 1 && r->nfields != nheader) {
			errf(why, sizeof(why), "%zu fields, the header has %zu",
			    r->nfields, nheader);
			rc = -1;
		} else if (rc == 1 &&
		    load_check_fields(t, r, why, sizeof(why)) == -1)
			rc = -1;
		else if (rc == 1) {
			/* The row function's -1 is an error, 0 a reject. */
			t->line = r->line;
			if ((rc = t->row(t, r, why, sizeof(why))) == -1)
				return -1;
			rc = rc == 1 ? 1 : -1;
		}
		if (rc == 1) {
			t->step->loaded++;
			continue;
		}
		t->step->rejected++;
		if (load_reject(ld, t->path, r->line, why) == -1)
			return -1;
	}
}

int
load_table_run(struct load *ld, const char *dir, const struct load_spec *sp)
{
	struct load_table t;
	char name[LOAD_NAME_MAX], path[PATH_MAX], err[LOAD_ERR_MAX];
	struct csv *c;
	size_t nheader, dlen;
	int rc;

	memset(&t, 0, sizeof(t));
	t.ld = ld;
	t.cols = sp->cols;
	t.ncols = sp->ncols;
	t.row = sp->row;
	t.arg = sp->arg;
	t.path = path;
	if (sp->ncols > LOAD_MAX_COLS || (t.step = step_add(ld, sp)) == NULL)
		return errf(ld->err, sizeof(ld->err),
		    "%s: too many columns "
		    "or tables",
		    sp->table);
	if ((rc = load_find_file(ld, dir, sp->file, name, sizeof(name))) == -2)
		return -1;
	if (rc == -1) {
		if (sp->required)
			return errf(ld->err, sizeof(ld->err), "%s: no file %s",
			    dir, sp->file);
		return 0;
	}
	strlcpy(t.step->file, name, sizeof(t.step->file));
	dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--; /* "export/" reports as "export/person.csv" */
	if ((size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)dlen, dir,
		name) >= sizeof(path))
		return errf(ld->err, sizeof(ld->err), "%s: path too long", dir);
	if ((c = csv_open(path, LOAD_MAX_FIELD, err, sizeof(err))) == NULL)
		return errf(ld->err, sizeof(ld->err), "%s", err);
	rc = csv_next(c, ld->rec, err, sizeof(err));
	if (rc != 1) {
		if (rc == 0)
			errf(ld->err, sizeof(ld->err),
			    "%s: empty file, expected a header row", path);
		else if (rc == -2)
			errf(ld->err, sizeof(ld->err), "%s: %s", path, err);
		else
			errf(ld->err, sizeof(ld->err), "%s:%llu: header: %s",
			    path, (unsigned long long)ld->rec->line, err);
		csv_free(c);
		return -1;
	}
	nheader = ld->rec->nfields;
	if (header_map(&t, ld->rec) == -1) {
		csv_free(c);
		return -1;
	}
	rc = records(&t, c, nheader);
	if (rc == 0)
		rc = load_batch_flush(ld);
	csv_free(c);
	if (ld->progress_shown) {
		fputs("\r\033[K", stderr);
		ld->progress_shown = 0;
	}
	ld->res->read += t.step->read;
	ld->res->loaded += t.step->loaded;
	return rc;
}
