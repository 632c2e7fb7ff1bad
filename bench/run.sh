#!/bin/sh
# Runs every benchmark script in bench/ (bench/*.sh except this one) and
# collects their report lines in bench/out/report.txt. Each script prints
# its figures as ratios against a baseline measured in the same run.
# Sizes come from the environment (see each script's header).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p bench/out
: >bench/out/report.txt
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)" | tee -a bench/out/report.txt
	bash "$b" 2>&1 | tee -a bench/out/report.txt
done
echo "report: bench/out/report.txt"
