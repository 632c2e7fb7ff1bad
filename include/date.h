/*
 * date.h — calendar dates as days since 1970-01-01 (proleptic Gregorian).
 * The Baseline DB stores ISO YYYY-MM-DD text; code that compares or
 * subtracts dates converts with these.
 */
#ifndef TALLY_DATE_H
#define TALLY_DATE_H

#include <stddef.h>
#include <stdint.h>

#define DATE_MIN_YEAR 1800
#define DATE_MAX_YEAR 2200

/* Strict "YYYY-MM-DD" (exactly len == 10); 0 or -1. */
int date_parse(const char *s, size_t len, int32_t *days);
/* "YYYY-MM-DD" optionally followed by 'T' or ' ' and any time part. */
int date_parse_datetime(const char *s, size_t len, int32_t *days);
/* Writes "YYYY-MM-DD" and a NUL into out[11]. */
void date_format(int32_t days, char out[11]);
int32_t date_from_ymd(int y, unsigned m, unsigned d);
void date_to_ymd(int32_t days, int *y, unsigned *m, unsigned *d);
int date_year(int32_t days);

#endif
