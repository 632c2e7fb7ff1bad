#!/bin/sh
# Adds up the result files of tests/run.sh and prints the closing line;
# exits 1 if any test failed or if no test ran at all.
set -u
pass=0 fail=0 skip=0
for f in "$@"; do
	[ -f "$f" ] || { echo "summary: missing $f" >&2; fail=$((fail+1)); continue; }
	pass=$((pass + $(grep -c '^PASS' "$f")))
	fail=$((fail + $(grep -c '^FAIL' "$f")))
	skip=$((skip + $(grep -c '^SKIP' "$f")))
done
grep -h '^SKIP' "$@" 2>/dev/null | sed 's/^/  /'
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
