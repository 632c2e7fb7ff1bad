/*
 * pki_file.c — owns the files of a PKI folder: paths, the folder lock,
 * and PEM writes that are exclusive (O_EXCL with the final mode, so a key
 * is never readable by others, not even for a moment) or atomic (temp file
 * + rename). It never chmods a file after creating it and never leaves a
 * partly written file under a final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define PKI_INTERNAL
#include "pki.h"
#include "util.h"

int
pki_path(char *out, size_t outlen, const char *dir, const char *a,
    const char *b, char *err, size_t errlen)
{
	int n = snprintf(out, outlen, "%s/%s%s", dir, a, b ? b : "");

	if (n < 0 || (size_t)n >= outlen)
		return errf(
		    err, errlen, "%s/%s%s: path too long", dir, a, b ? b : "");
	return 0;
}

int
pki_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* One tally pki at a time per folder. */
int
pki_lock_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (pki_path(path, sizeof(path), dir, ".lock", NULL, err, errlen) == -1)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return errf(err, errlen,
		    "%s: another 'tally pki' is working in this folder", dir);
	}
	return fd;
}

/*
 * Creates path exclusively with mode and writes obj as PEM, synced. On
 * failure the file is removed.
 */
int
pki_pem_create(const char *path, mode_t mode, enum pki_pem kind, void *obj,
    char *err, size_t errlen)
{
	char why[128];
	BIO *b;
	int fd, ok;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if ((b = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL)
		ok = 0;
	else if (kind == PKI_PEM_KEY)
		ok =
		    PEM_write_bio_PrivateKey(b, obj, NULL, NULL, 0, NULL, NULL);
	else if (kind == PKI_PEM_CERT)
		ok = PEM_write_bio_X509(b, obj);
	else
		ok = PEM_write_bio_X509_CRL(b, obj);
	if (ok && BIO_flush(b) != 1)
		ok = 0;
	BIO_free(b);
	if (!ok)
		errf(err, errlen, "%s: %s", path,
		    pki_ossl_err(why, sizeof(why)));
	else if (fsync(fd) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (close(fd) == -1 && ok) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (!ok) {
		unlink(path);
		return -1;
	}
	return 0;
}

void
pki_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Writes dir/name through dir/.name.tmp and rename(2). */
int
pki_pem_replace(const char *dir, const char *name, mode_t mode,
    enum pki_pem kind, void *obj, char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX], dot[PATH_MAX];

	if (snprintf(dot, sizeof(dot), ".%s.tmp", name) >= (int)sizeof(dot) ||
	    pki_path(tmp, sizeof(tmp), dir, dot, NULL, err, errlen) == -1 ||
	    pki_path(path, sizeof(path), dir, name, NULL, err, errlen) == -1)
		return errf(err, errlen, "%s: path too long", name);
	/* A leftover from a crash; we hold the folder's lock. */
	if (unlink(tmp) == -1 && errno != ENOENT)
		return errf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (pki_pem_create(tmp, mode, kind, obj, err, errlen) == -1)
		return -1;
	if (rename(tmp, path) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	pki_sync_dir(dir);
	return 0;
}

X509_CRL *
pki_crl_load(const char *path, char *err, size_t errlen)
{
	X509_CRL *crl;
	char why[128];
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) == NULL)
		errf(err, errlen, "%s: not a PEM CRL (%s)", path,
		    pki_ossl_err(why, sizeof(why)));
	BIO_free(b);
	return crl;
}
