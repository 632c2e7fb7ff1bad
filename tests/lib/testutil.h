/*
 * testutil.h — helpers shared by the cmocka unit tests: scratch folders
 * and files. Every test includes this first (it pulls in cmocka).
 */
#ifndef TALLY_TESTUTIL_H
#define TALLY_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A fresh folder under $TMPDIR; removed with everything in it by
 * test_rmdir(). Returns a malloc'd path. */
char *test_mkdtemp(void);
void test_rmdir(char *path);
/* Writes text to dir/name; returns the malloc'd full path. */
char *test_write(const char *dir, const char *name, const char *text);
/* Path of a file under ../shared (TALLY_SHARED), or NULL if absent. */
char *test_shared(const char *rel);

#endif
