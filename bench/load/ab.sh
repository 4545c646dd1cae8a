#!/usr/bin/env bash
# A/B: two server commands under the same load, interleaved — A, B, A, B, … — to tell
# whether a change to the guard (or its configuration) made it faster or slower. run.sh
# holds the budget against bare net/http; this compares any two builds or flag sets:
#
#	go build -o /tmp/old ./bench/load/server   # at the old commit
#	go build -o /tmp/new ./bench/load/server   # at the new one
#	bench/load/ab.sh "/tmp/old -guard" "/tmp/new -guard"
#
# Each command must accept -addr HOST:PORT and serve HTTP there; every round starts it
# afresh, pinned like run.sh's server (CPU SERVER_CPU, GOMAXPROCS=1, nice -10 when
# allowed), warms it up, then loads it with wrk (browser.lua) on WRK_CPU. Per round it
# prints req/s and the server's CPU time per request (user + system, from /proc), and at
# the end the medians and the B/A ratio of each pair. On a shared machine single rounds
# move by ±5 %; a difference smaller than that needs more rounds (ROUNDS=12).
set -euo pipefail

ROUNDS=${ROUNDS:-8}            # pairs of rounds
DURATION=${DURATION:-5s}       # measured load per round
WARMUP=${WARMUP:-2s}           # unmeasured load before each round
CONNECTIONS=${CONNECTIONS:-32} # wrk -c
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
ADDR=${ADDR:-127.0.0.1:18095}

[ $# -eq 2 ] || { echo "usage: ab.sh \"server command A\" \"server command B\"" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: ROUNDS must be a positive number" >&2; exit 2; }
command -v wrk >/dev/null 2>&1 || { echo "ab.sh: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
[ -r /proc/self/stat ] || { echo "ab.sh: needs /proc (Linux) for the server's CPU time" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pin.sh
source "$here/pin.sh" ab.sh
tck=$(getconf CLK_TCK)
results=$(mktemp)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$results"
}
trap cleanup EXIT

# cpu_ticks PID: the process's user + system time in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "round side req/s cpu_us/req"
for ((i = 1; i <= ROUNDS; i++)); do
	for side in A B; do
		if [ "$side" = A ]; then cmd=$1; else cmd=$2; fi
		# shellcheck disable=SC2086 # the command is a command line, split on purpose
		GOMAXPROCS=1 "${pin_server[@]}" $cmd -addr "$ADDR" >/dev/null 2>&1 &
		pid=$!
		up=""
		for _ in $(seq 200); do
			if (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}") 2>/dev/null; then up=1; break; fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		[ -n "$up" ] || { echo "ab.sh: $side ($cmd) did not start listening on $ADDR" >&2; exit 1; }
		"${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -s "$here/browser.lua" "http://$ADDR/" >/dev/null
		t0=$(cpu_ticks "$pid")
		out=$("${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$here/browser.lua" "http://$ADDR/")
		t1=$(cpu_ticks "$pid")
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=""
		n=$(awk '/requests in/ { print $1 }' <<<"$out")
		rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
		[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "ab.sh: wrk completed no request against $side" >&2; exit 1; }
		cpu=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v t="$tck" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / n }')
		echo "$i $side $rps $cpu" | tee -a "$results"
	done
done

# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for side in A B; do
	echo "$side: median $(awk -v s="$side" '$2 == s { print $3 }' "$results" | median) req/s, $(awk -v s="$side" '$2 == s { print $4 }' "$results" | median) µs of server CPU per request"
done
ratios=$(paste - - <"$results" | awk '{ printf "%.3f\n", $7 / $3 }')
cpu_ratios=$(paste - - <"$results" | awk '{ printf "%.3f\n", $4 / $8 }')
echo "B/A req/s per pair: $(tr '\n' ' ' <<<"$ratios")(median $(median <<<"$ratios"))"
echo "A/B CPU per request, per pair: $(tr '\n' ' ' <<<"$cpu_ratios")(median $(median <<<"$cpu_ratios"); above 1 means B is cheaper)"
