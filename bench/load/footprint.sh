#!/usr/bin/env bash
# Footprint: how many instructions, and how many first-level cache misses, one request
# costs a server under wrk's load — counted by a cache simulator (valgrind's
# cachegrind), so the numbers are the same from run to run, where req/s moves by ±5 %.
#
#	go build -o /tmp/server ./bench/load/server
#	bench/load/footprint.sh "/tmp/server -guard"               # behind the guard
#	bench/load/footprint.sh "/tmp/server" "/tmp/server -guard" # and what it adds to bare
#
# Why: under load, every request runs through enough code (net/http, the runtime, the
# handler, the guard) that the instruction cache holds none of it from one request to
# the next. A request's cost is then close to the number of distinct 64-byte lines of
# code and data it touches, each fetched again from the second-level cache, rather than
# to its instruction count; the guard costs about three times as much under load as in
# BenchmarkGuardAllow, where the same code runs hot. docs/performance.md ("A sixth
# look") shows the guard's L1i misses per request against the bare server's tracking the
# load harness's ratio. This script measures them, per function, so that a change to the
# guard can be judged by the lines it stops touching without waiting for enough wrk
# rounds to beat the noise.
#
# The command is started twice under cachegrind (pinned like run.sh's server, with
# GOMAXPROCS=1) and loaded with wrk (browser.lua), once for SHORT and once for LONG;
# the difference between the two runs, divided by the difference in requests, is the
# cost of one request with start-up and shutdown taken out. The simulated caches are the
# development machine's: L1i 64 KiB (16-way), L1d 48 KiB (12-way), 64-byte lines; set I1
# and D1 (valgrind's size,associativity,line) for another. Each run takes a minute or
# two: programs run about 50 times slower under valgrind.
#
# Output: per request, instructions (Ir), L1i misses (I1mr) and L1d misses (D1mr + D1mw)
# in total and for Vigil's own functions, then the TOP functions by L1i misses (BY=Ir or
# BY=D1m ranks by the others); with a second command, the same for it, the A/B ratios,
# and the TOP functions by what B adds. KEEP=1 keeps cachegrind's files (A.long.out,
# B.long.out) for a look line by line: cg_annotate --auto=yes FILE. Counts of single functions move by a few per cent between runs (the
# runtime's scheduling and garbage collection differ); totals by less.
#
# Needs valgrind (apt-get install -y valgrind), wrk and Linux.
set -euo pipefail

SHORT=${SHORT:-5s}
LONG=${LONG:-15s}
TOP=${TOP:-30}
I1=${I1:-65536,16,64}
D1=${D1:-49152,12,64}
CONNECTIONS=${CONNECTIONS:-32}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
ADDR=${ADDR:-127.0.0.1:18096}
MATCH=${MATCH:-github.com/vigilhq/vigil} # whose functions the "own" line sums
BY=${BY:-I1mr}                           # rank functions by I1mr, Ir or D1m
KEEP=${KEEP:-}                           # set: keep cachegrind's files (for cg_annotate --auto=yes)

[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: footprint.sh \"server command\" [\"server command B\"]" >&2; exit 2; }
for tool in valgrind cg_annotate wrk; do
	command -v "$tool" >/dev/null 2>&1 || { echo "footprint.sh: $tool not found (apt-get install -y valgrind wrk)" >&2; exit 2; }
done

here=$(cd "$(dirname "$0")" && pwd)
NICE=0 # priority does not matter to a simulator
# shellcheck source=pin.sh
source "$here/pin.sh" footprint.sh
work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "$KEEP" ]; then
		echo "footprint.sh: cachegrind's files are in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# run NAME DURATION: one run under cachegrind; leaves $work/NAME.tsv (function, Ir,
# I1mr, D1mr + D1mw) and $work/NAME.requests.
run() {
	local name=$1 dur=$2
	# shellcheck disable=SC2086 # the command is a command line, split on purpose
	GOMAXPROCS=1 "${pin_server[@]}" valgrind --tool=cachegrind --cache-sim=yes \
		--I1="$I1" --D1="$D1" --cachegrind-out-file="$work/$name.out" \
		$cmd -addr "$ADDR" >"$work/$name.log" 2>&1 &
	pid=$!
	local up=""
	for _ in $(seq 1200); do # start-up under valgrind takes tens of seconds
		if (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}") 2>/dev/null; then up=1; break; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$up" ]; then
		echo "footprint.sh: the server did not start listening on $ADDR:" >&2
		cat "$work/$name.log" >&2
		exit 1
	fi
	"${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$dur" -s "$here/browser.lua" "http://$ADDR/" >"$work/$name.wrk"
	if grep -q "Non-2xx" "$work/$name.wrk"; then
		echo "footprint.sh: the server answered non-2xx responses; the footprint must be of allowed requests" >&2
		cat "$work/$name.wrk" >&2
		exit 1
	fi
	awk '/requests in/ { print $1 }' "$work/$name.wrk" >"$work/$name.requests"
	kill -INT "$pid"
	wait "$pid" || true
	pid=""
	[ -s "$work/$name.out" ] || { echo "footprint.sh: cachegrind wrote nothing:" >&2; cat "$work/$name.log" >&2; exit 1; }
	# cg_annotate's function table: counts with commas and "(x%)" shares, then
	# file:function. Keep the function (it may hold spaces) and the four counts. Every
	# function, however small its share (--threshold=0): the default 0.1 % of L1i misses
	# hid the garbage collector's loops, which miss little and execute a lot.
	cg_annotate --show=Ir,I1mr,D1mr,D1mw --sort=I1mr --threshold=0 --auto=no "$work/$name.out" 2>/dev/null |
		awk '{
			line = $0
			gsub(/\( *[0-9.]+%\)/, "", line)
			n = split(line, f, " ")
			if (n < 5 || f[1] !~ /^[0-9,]+$/ || f[2] !~ /^[0-9,]+$/ || f[3] !~ /^[0-9,]+$/ || f[4] !~ /^[0-9,]+$/) next
			fn = f[5]; for (i = 6; i <= n; i++) fn = fn " " f[i]
			if (fn == "PROGRAM TOTALS") fn = "TOTAL"
			else if (fn ~ /:/) sub(/^[^:]*:/, "", fn)   # drop the file
			else next
			for (i = 1; i <= 4; i++) gsub(/,/, "", f[i])
			# A function appears once per source file its code came from (inlining).
			ir[fn] += f[1]; i1[fn] += f[2]; d1[fn] += f[3] + f[4]
		}
		END { for (fn in ir) printf "%s\t%d\t%d\t%d\n", fn, ir[fn], i1[fn], d1[fn] }' >"$work/$name.tsv"
}

# per_request SIDE COMMAND: runs COMMAND short and long and writes $work/SIDE.req, the
# per-request cost of each function (function, Ir, I1mr, D1m; "TOTAL" for the program),
# and $work/SIDE.n, the requests of the two runs.
per_request() {
	cmd=$2
	run short "$SHORT"
	run long "$LONG"
	local ns nl
	ns=$(cat "$work/short.requests")
	nl=$(cat "$work/long.requests")
	if [ "$nl" -le "$ns" ]; then
		echo "footprint.sh: the long run served no more requests than the short one ($nl, $ns)" >&2
		exit 1
	fi
	echo "$ns $nl" >"$work/$1.n"
	mv "$work/long.out" "$work/$1.long.out"
	awk -F'\t' -v d=$((nl - ns)) 'FNR == NR { s[$1] = $2 "\t" $3 "\t" $4; next }
		{ split(s[$1], a, "\t"); printf "%s\t%.1f\t%.2f\t%.2f\n", $1, ($2 - a[1]) / d, ($3 - a[2]) / d, ($4 - a[3]) / d }' \
		"$work/short.tsv" "$work/long.tsv" >"$work/$1.req"
}

# summary SIDE COMMAND: the totals of one side.
summary() {
	read -r ns nl <"$work/$1.n"
	echo "$1: $2"
	awk -F'\t' -v match_="$MATCH" -v ns="$ns" -v nl="$nl" '
		$1 == "TOTAL" { t = sprintf("%.0f instructions, %.1f L1i misses, %.1f L1d misses", $2, $3, $4); next }
		index($1, match_) > 0 { oir += $2; oi1 += $3; od1 += $4 }
		END {
			printf "  requests %d and %d; per request: %s\n", ns, nl, t
			printf "  in %s functions: %.0f instructions, %.1f L1i misses, %.1f L1d misses\n", match_, oir, oi1, od1
		}' "$work/$1.req"
}

# top A [B]: the TOP functions by L1i misses per request (of A), or by how many more B
# has than A.
top() {
	awk -F'\t' -v top="$TOP" -v two=$# -v by="$BY" '
		FNR == NR { a[$1] = $2 "\t" $3 "\t" $4; if (two == 1) seen[$1] = 1; next }
		{ b[$1] = $2 "\t" $3 "\t" $4; seen[$1] = 1 }
		END {
			for (f in seen) {
				if (f == "TOTAL") continue
				split(a[f], x, "\t"); split(b[f], y, "\t")
				if (two == 1) { i1 = x[2]; ir = x[1]; d1 = x[3] } else { i1 = y[2] - x[2]; ir = y[1] - x[1]; d1 = y[3] - x[3] }
				row[++n] = sprintf("%8.1f %9.1f %7.1f  %s", i1, ir, d1, f)
				key[n] = by == "Ir" ? ir : by == "D1m" ? d1 : i1
			}
			for (i = 1; i <= n; i++) idx[i] = i
			for (i = 1; i <= n && i <= top; i++)
				for (j = i + 1; j <= n; j++)
					if (key[idx[j]] > key[idx[i]]) { t = idx[i]; idx[i] = idx[j]; idx[j] = t }
			for (i = 1; i <= n && i <= top; i++) print row[idx[i]]
		}' "$@"
}

echo "footprint under wrk -c$CONNECTIONS for $SHORT and $LONG, under cachegrind (I1 $I1, D1 $D1); per request:"
per_request A "$1"
summary A "$1"
if [ $# -eq 1 ]; then
	printf "\n%8s %9s %7s  %s\n" I1mr Ir D1m "function (top $TOP by $BY per request)"
	top "$work/A.req"
	exit 0
fi
per_request B "$2"
summary B "$2"
read -r _ ta_i1 < <(awk -F'\t' '$1 == "TOTAL" { print $2, $3 }' "$work/A.req")
read -r _ tb_i1 < <(awk -F'\t' '$1 == "TOTAL" { print $2, $3 }' "$work/B.req")
ta_ir=$(awk -F'\t' '$1 == "TOTAL" { print $2 }' "$work/A.req")
tb_ir=$(awk -F'\t' '$1 == "TOTAL" { print $2 }' "$work/B.req")
awk -v a="$ta_ir" -v b="$tb_ir" -v ai="$ta_i1" -v bi="$tb_i1" 'BEGIN {
	printf "A/B: instructions %.3f, L1i misses %.3f (above 1 means B is cheaper)\n", a / b, ai / bi }'
printf "\n%8s %9s %7s  %s\n" "+I1mr" "+Ir" "+D1m" "function (top $TOP by $BY per request added in B)"
top "$work/A.req" "$work/B.req"
