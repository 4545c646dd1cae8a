# Sourced by run.sh and ab.sh: sets pin_server and pin_wrk, the command prefixes that run
# the server on SERVER_CPU and wrk on WRK_CPU (taskset), both at priority NICE.
#
# Both sides run at a raised priority when that is allowed (root), so that other work on
# the machine disturbs the measurement less; NICE=0 turns that off. GNU nice runs the
# command even when it cannot change the priority, so ask the command what niceness it
# got. $1 names the caller in warnings.
NICE=${NICE:--10}
if [ "$NICE" != 0 ] && [ "$(nice -n "$NICE" nice 2>/dev/null)" != "$(($(nice) + NICE))" ]; then
	echo "$1: warning: cannot run at nice $NICE (not root?); running at normal priority" >&2
	NICE=0
fi
pin_server=(nice -n "$NICE")
pin_wrk=(nice -n "$NICE")
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin_server+=(taskset -c "$SERVER_CPU")
	pin_wrk+=(taskset -c "$WRK_CPU")
else
	echo "$1: warning: fewer than two CPUs or no taskset; server and wrk share the CPUs" >&2
fi
