#!/bin/bash
# The whole network on loopback: a broker and 43 nodes (every hospital of
# deploy/network/hospitals.csv, small Baseline DBs), mutual TLS, durable
# state. Measures, in the same run:
#   - latency: one researcher submits BENCH_E2E_N queries one after the
#     other, each waited for until final; the overhead of a query is its
#     end-to-end time minus its slowest site's own engine time (p50, p99);
#   - throughput: BENCH_E2E_CLIENTS researchers at once, BENCH_E2E_PER
#     queries each, every query fanned out to 43 sites: queries/s.
# Sizes: BENCH_E2E_N (200), BENCH_E2E_CLIENTS (8), BENCH_E2E_PER (25),
# BENCH_E2E_PATIENTS (300 at a lead hospital).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
TALLY_TMP=$(mktemp -d /tmp/tally-bench-e2e.XXXXXX)
export TALLY_TMP
TALLY_BIN=$top/bin
TALLY_TOP=$top
export TALLY_TOP
. tests/lib/common.sh
NET_SITES=$(tail -n +2 deploy/network/hospitals.csv | cut -d, -f2 | tr '\n' ' ')
NET_PATIENTS=${BENCH_E2E_PATIENTS:-300}
NET_DEADLINE=120
NET_MIN_CELL=10
. tests/lib/net.sh
DRV=$top/build/rel/bench/e2e
N=${BENCH_E2E_N:-200}
CL=${BENCH_E2E_CLIENTS:-8}
PER=${BENCH_E2E_PER:-25}

net_init
net_start_all
net_wait_nodes 43
q=$NET/q.json
cat >"$q" <<'Q'
{"title": "bench: IBD by sex",
 "index": {"diagnosis": {"codes": ["KCD8:K50*", "KCD8:K51*"]}},
 "strata": ["sex"]}
Q
net_approve "$q" --runs 10000 >"$NET/a.json"
"$DRV" "$NET/conf/kim.conf" "$q" "$NET/a.json" 5 >/dev/null   # warm-up

"$DRV" "$NET/conf/kim.conf" "$q" "$NET/a.json" "$N" >"$NET/lat.txt"
# CPU seconds (user+system) of a set of processes, from /proc.
cpu() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done |
	awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%.3f", s / hz}'; }
nodes=$(echo "$NET_PIDS" | tr ' ' '\n' | grep -v "^$NET_BROKER\$" | tr '\n' ' ')
b0=$(cpu "$NET_BROKER"); n0=$(cpu $nodes)
t0=$(date +%s.%N)
drivers=""
for i in $(seq "$CL"); do
	"$DRV" "$NET/conf/kim.conf" "$q" "$NET/a.json" "$PER" >"$NET/tp.$i" &
	drivers="$drivers $!"
done
for p in $drivers; do wait "$p"; done   # not the network's processes
t1=$(date +%s.%N)
b1=$(cpu "$NET_BROKER"); n1=$(cpu $nodes)

python3 - "$NET" "$N" "$CL" "$PER" "$t0" "$t1" "$b0" "$b1" "$n0" "$n1" <<'PY'
import sqlite3, sys, statistics
net, n, cl, per, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
bcpu, ncpu = float(sys.argv[8]) - float(sys.argv[7]), float(sys.argv[10]) - float(sys.argv[9])
db = sqlite3.connect(f"file:{net}/state/broker.db?mode=ro", uri=True)
lat, over, eng = [], [], []
for line in open(f"{net}/lat.txt"):
    qid, us = line.split()
    us = int(us)
    e = db.execute("SELECT max(engine_us) FROM task WHERE query_id=?", (qid,)).fetchone()[0] or 0
    lat.append(us / 1000); eng.append(e / 1000); over.append((us - e) / 1000)
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
done = sum(1 for i in range(1, cl + 1) for _ in open(f"{net}/tp.{i}"))
wall = t1 - t0
print(f"43 sites, {n} sequential queries (each fanned out to 43 nodes and pooled):")
print(f"  end-to-end latency   p50 {pct(lat,50):7.1f} ms   p99 {pct(lat,99):7.1f} ms")
print(f"  slowest site engine  p50 {pct(eng,50):7.1f} ms   p99 {pct(eng,99):7.1f} ms   (baseline, same run)")
print(f"  overhead = e2e - slowest engine:  p50 {pct(over,50):.1f} ms  p99 {pct(over,99):.1f} ms"
      f"   (goal <= 10 ms at p50); e2e/engine ratio p50 {pct(lat,50)/max(pct(eng,50),0.001):.1f}x")
print(f"throughput: {cl} researchers x {per} queries = {done} queries in {wall:.1f} s"
      f" = {done/wall:.1f} queries/s with 43-way fan-out ({done*43/wall:.0f} tasks/s; goal >= 500 queries/s)")
print(f"  CPU per query: broker {bcpu/done*1000:.2f} ms, all 43 nodes together {ncpu/done*1000:.2f} ms"
      f" ({ncpu/done/43*1e6:.0f} us per task); the machine has {__import__('os').cpu_count()} cores, so the")
print(f"  broker alone would sustain ~{done/max(bcpu,1e-9):.0f} queries/s per core with the nodes on their own machines")
PY
