/* version.h — the one place the release version is written. */
#ifndef TALLY_VERSION
#define TALLY_VERSION "0.1.0"
#endif
