#!/usr/bin/env bash
# Load harness: throughput through the Vigil guard against bare net/http on the same
# machine in the same run (DESIGN §8: the guard keeps at least 85 %). See README.md.
#
# PAIR=tls measures the cost of connection capture instead: the guard behind a plain
# TLS server against the guard behind a fingerprint.Server (raw ClientHello, header
# order, consistency check), both HTTPS with keep-alive; capture keeps at least 80 %.
# PAIR=redis measures the Redis store: the guard with the memory store against the
# guard with redisstore in local-first mode on REDIS_URL (default 127.0.0.1:6379;
# REDIS_MODE=exact for exact mode); local-first keeps at least 90 %.
# PAIR=coraza and PAIR=httprate measure a peer instead: bare net/http against the same
# handler behind OWASP Coraza v3 with the Core Rule Set, or behind go-chi/httprate
# (bench/peers, a module of its own). There is no budget for peers: MIN_RATIO defaults
# to 0 and the ratio is reported, to set beside the guard's.
# PAIR=proxy and PAIR=nginx measure a reverse proxy in front of the same server: wrk to
# the server directly against wrk through `vigil proxy` (default configuration, per-IP
# limit raised) or through nginx's proxy_pass (one worker, keep-alive upstream), the
# proxy and the server both on the server's CPU. No budget either: the two ratios are
# to be set side by side.
#
# It builds bench/load/server once, then runs interleaved rounds — bare, guard, bare,
# guard, … — of wrk on loopback with a browser-like request (browser.lua). The server is
# pinned to one CPU with GOMAXPROCS=1 and wrk to another, so the two do not compete for a
# core. It prints req/s and p99 latency per round, the guard/bare ratio per pair of
# rounds and overall, and exits 1 when the overall ratio is below MIN_RATIO.
set -euo pipefail

ROUNDS=${ROUNDS:-3}                 # pairs of rounds (bare, then guard)
DURATION=${DURATION:-10s}           # measured load per round
WARMUP=${WARMUP:-2s}                # unmeasured load before each round
CONNECTIONS=${CONNECTIONS:-32}      # wrk -c
THREADS=${THREADS:-1}               # wrk -t
PAIR=${PAIR:-guard}                 # guard: bare vs guard; tls: guard over TLS vs with capture
case "$PAIR" in
guard) modes=(bare guard); default_min=0.85; scheme=http; script=browser.lua ;;
tls) modes=(tls capture); default_min=0.80; scheme=https; script=tls.lua ;;
redis) modes=(guard redis); default_min=0.90; scheme=http; script=browser.lua ;;
coraza | httprate | proxy | nginx) modes=(bare "$PAIR"); default_min=0; scheme=http; script=browser.lua ;;
*) echo "run.sh: PAIR must be guard, tls, redis, coraza, httprate, proxy or nginx" >&2; exit 2 ;;
esac
MIN_RATIO=${MIN_RATIO:-$default_min} # second/first throughput below this fails
SERVER_CPU=${SERVER_CPU:-0}         # taskset CPU of the server
WRK_CPU=${WRK_CPU:-1}               # taskset CPU of wrk
ADDR=${ADDR:-127.0.0.1:18088}       # the server's address
UPSTREAM_ADDR=${UPSTREAM_ADDR:-127.0.0.1:18089} # the server's address behind a proxy (PAIR=proxy, nginx)

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: ROUNDS must be a positive number" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
server_pid=""
upstream_pid=""

cleanup() {
	for pid in "$server_pid" "$upstream_pid"; do
		if [ -n "$pid" ]; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$work"
}
trap cleanup EXIT

die() {
	echo "run.sh: $*" >&2
	exit 2
}

if ! command -v wrk >/dev/null 2>&1; then
	echo "run.sh: wrk not found; installing it (apt-get install -y wrk)" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y wrk >/dev/null 2>&1 ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; } ||
		die "could not install wrk"
fi

# shellcheck source=pin.sh
source "$here/pin.sh" run.sh

(cd "$root" && go build -o "$work/server" ./bench/load/server) || die "cannot build bench/load/server"
case "$PAIR" in
coraza | httprate)
	# The peers' server, built from its own module, serves both sides of the pair.
	(cd "$root/bench/peers" && go build -o "$work/server" ./server) || die "cannot build bench/peers/server"
	;;
proxy)
	(cd "$root" && go build -o "$work/vigil" ./cmd/vigil) || die "cannot build cmd/vigil"
	# The default configuration with the per-IP limit raised, as the guard pair's server.
	printf 'log_level: warn\nguard:\n  policy:\n    rate_limit:\n      per_ip: 100000000/1s\n' >"$work/vigil.yaml"
	;;
nginx)
	if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
		echo "run.sh: nginx not found; installing it (apt-get install -y nginx)" >&2
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		{ $sudo apt-get install -y nginx >/dev/null 2>&1 ||
			{ $sudo apt-get update >/dev/null && $sudo apt-get install -y nginx >/dev/null; }; } ||
			die "could not install nginx"
	fi
	nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
	mkdir -p "$work/nginx/logs"
	cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	# nginx closes a connection after 1,000 requests by default, on either side; Go's
	# servers and clients do not, so that would make the two sides reconnect at
	# different rates.
	keepalive_requests 1000000000;
	upstream target { server $UPSTREAM_ADDR; keepalive 64; keepalive_requests 1000000000; }
	server {
		listen $ADDR;
		location / {
			proxy_pass http://target;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$host;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
		}
	}
}
NGINX
	;;
esac

# wait_listening ADDR PID LOG: waits until ADDR accepts connections.
wait_listening() {
	local host=${1%:*} port=${1##*:}
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "process exited"; }
		sleep 0.05
	done
	die "nothing listening on $1"
}

# start_server MODE: starts the server (and, for the proxy pairs' second mode, the
# server at UPSTREAM_ADDR and the proxy at ADDR) and waits until it listens.
start_server() {
	case "$1" in
	proxy | nginx)
		GOMAXPROCS=1 "${pin_server[@]}" "$work/server" -addr "$UPSTREAM_ADDR" >"$work/upstream.log" 2>&1 &
		upstream_pid=$!
		wait_listening "$UPSTREAM_ADDR" "$upstream_pid" "$work/upstream.log"
		: >"$work/server.log"
		if [ "$1" = proxy ]; then
			GOMAXPROCS=1 "${pin_server[@]}" "$work/vigil" proxy --config "$work/vigil.yaml" \
				--listen "$ADDR" --upstream "http://$UPSTREAM_ADDR" >"$work/server.log" 2>&1 &
		else
			"${pin_server[@]}" "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" >"$work/server.log" 2>&1 &
		fi
		server_pid=$!
		wait_listening "$ADDR" "$server_pid" "$work/server.log"
		return 0
		;;
	esac
	local flags=(-addr "$ADDR")
	case "$1" in
	guard) flags+=(-guard) ;;
	tls) flags+=(-guard -tls) ;;
	capture) flags+=(-guard -capture) ;;
	redis) flags+=(-guard -redis "${REDIS_URL:-127.0.0.1:6379}" -redis-mode "${REDIS_MODE:-local-first}") ;;
	coraza | httprate) flags+=(-peer "$1") ;;
	esac
	: >"$work/server.log"
	GOMAXPROCS=1 "${pin_server[@]}" "$work/server" "${flags[@]}" >"$work/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 200); do
		grep -q '^listening' "$work/server.log" && return 0
		kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "server exited"; }
		sleep 0.05
	done
	die "server did not start listening on $ADDR"
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	if [ -n "$upstream_pid" ]; then
		kill "$upstream_pid"
		wait "$upstream_pid" 2>/dev/null || true
		upstream_pid=""
	fi
}

# load DURATION FILE: runs wrk against the server, output to FILE.
load() {
	"${pin_wrk[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --latency -s "$here/$script" "$scheme://$ADDR/" >"$2"
}

rps_of() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

# requests_of FILE: how many requests wrk completed.
requests_of() { awk '/ requests in / { print $1 }' "$1"; }

# cpu_ticks: user plus system CPU ticks the server (and its upstream) used so far.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {
	local t=0 pid
	for pid in $server_pid $upstream_pid; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# p99_of FILE: wrk's 99th percentile latency in milliseconds.
p99_of() {
	awk '$1 == "99%" {
		v = $2; u = $2
		sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
		printf "%.3f", v * f
	}' "$1"
}

# non2xx_of FILE: responses other than 2xx and 3xx; a measured round must have none.
non2xx_of() { awk '/Non-2xx or 3xx responses:/ { n += $NF } END { print n + 0 }' "$1"; }

# errors_of FILE: socket errors (connect, read, write, timeout).
errors_of() {
	awk '/Socket errors:/ { for (i = 3; i <= NF; i += 2) { x = $(i + 1); sub(/,/, "", x); n += x } }
		END { print n + 0 }' "$1"
}

load1=$(cut -d' ' -f1 /proc/loadavg)
echo "load harness: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(go version | cut -d' ' -f3), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average $load1"
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
	echo "run.sh: warning: the machine is busy (load average $load1 on $(nproc) CPUs); other work on the pinned CPUs makes the numbers noisy" >&2
fi
first=${modes[0]} second=${modes[1]}
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after ${WARMUP} warm-up), $script over $scheme; server on CPU ${pin_server[5]:-any} with GOMAXPROCS=1, wrk on CPU ${pin_wrk[5]:-any}, nice $NICE; $ROUNDS rounds each"
printf '%-6s %-8s %12s %10s %11s %10s\n' round mode req/s p99_ms cpu_us/req "$second/$first"

declare -a bare_rps guard_rps bare_p99 guard_p99 ratios bare_cpu guard_cpu
for ((i = 1; i <= ROUNDS; i++)); do
	for mode in "${modes[@]}"; do
		start_server "$mode"
		load "$WARMUP" "$work/warmup.txt"
		out="$work/wrk.$mode.$i.txt"
		ticks0=$(cpu_ticks)
		load "$DURATION" "$out"
		ticks1=$(cpu_ticks)
		stop_server
		rps=$(rps_of "$out")
		# Server CPU time per request (user + system, as the kernel accounts it; time
		# the hypervisor stole is not in it), the cost that req/s measures when the
		# server's core is saturated and nothing else takes it.
		cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$clk_tck" -v n="$(requests_of "$out")" \
			'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print "0" }')
		p99=$(p99_of "$out")
		non2xx=$(non2xx_of "$out")
		errs=$(errors_of "$out")
		if [ -z "$rps" ] || [ -z "$p99" ]; then
			cat "$out" >&2
			die "cannot read wrk's output"
		fi
		if [ "$non2xx" -ne 0 ]; then
			cat "$out" >&2
			die "$mode round $i: $non2xx responses were not 2xx; the harness must measure allowed requests"
		fi
		if [ "$errs" -ne 0 ]; then
			echo "run.sh: warning: $mode round $i had $errs socket errors (timeouts mean an overloaded machine)" >&2
		fi
		if [ "$mode" = "$first" ]; then
			bare_rps[i]=$rps
			bare_p99[i]=$p99
			bare_cpu[i]=$cpu
			printf '%-6s %-8s %12.1f %10.3f %11.2f\n' "$i" "$mode" "$rps" "$p99" "$cpu"
		else
			guard_rps[i]=$rps
			guard_p99[i]=$p99
			guard_cpu[i]=$cpu
			ratios[i]=$(awk -v g="$rps" -v b="${bare_rps[i]}" 'BEGIN { printf "%.3f", g / b }')
			printf '%-6s %-8s %12.1f %10.3f %11.2f %10s\n' "$i" "$mode" "$rps" "$p99" "$cpu" "${ratios[i]}"
		fi
	done
done

mean() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { printf "%.3f", s / n }'; }
bare_mean=$(mean "${bare_rps[@]}")
guard_mean=$(mean "${guard_rps[@]}")
ratio=$(awk -v g="$guard_mean" -v b="$bare_mean" 'BEGIN { printf "%.3f", g / b }')
min_pair=$(printf '%s\n' "${ratios[@]}" | sort -g | head -n1)

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bare_cpu_mean=$(mean "${bare_cpu[@]}")
guard_cpu_mean=$(mean "${guard_cpu[@]}")

printf '%-15s %12.1f %10.3f %11.2f\n' "mean $first" "$bare_mean" "$(mean "${bare_p99[@]}")" "$bare_cpu_mean"
printf '%-15s %12.1f %10.3f %11.2f\n' "mean $second" "$guard_mean" "$(mean "${guard_p99[@]}")" "$guard_cpu_mean"
echo "$second/$first: $ratio (mean $second req/s over mean $first req/s); per pair: ${ratios[*]} (lowest $min_pair, median $(median "${ratios[@]}"))"
# The same comparison from CPU time: steadier than req/s where other tenants take the
# machine's cores in bursts, since their time is not charged to the server.
echo "$second/$first from server CPU per request: $(awk -v g="$guard_cpu_mean" -v b="$bare_cpu_mean" 'BEGIN { if (g > 0) printf "%.3f", b / g; else print "n/a" }') ($bare_cpu_mean µs for $first, $guard_cpu_mean µs for $second)"
if awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(r < m) }'; then
	echo "FAIL: $second/$first $ratio is below MIN_RATIO $MIN_RATIO"
	exit 1
fi
echo "ok: $second/$first $ratio ≥ MIN_RATIO $MIN_RATIO"
