# faults-lib.sh - helpers of the fault tier (tests/faults; source it after
# tests/dns/tap.sh and tests/e2e/postfix-fixture.sh, for pf_free_port).
#
#   faultdns_start DELAY_MS [KEYFILE]
#                                tests/faults/faultdns on a free port:
#                                FD_PORT, FD_SERVER, FD_PID
#   faultdns_stop
#   now_ms                       a millisecond clock, for TAP comments
#                                only (no timed assertion: the bounds a
#                                test asserts are kill timeouts, which
#                                prove that a run ended, not how fast)
#   bounded SECONDS CMD...       run CMD with a kill timeout; $? is 124
#                                when it had to be killed

FAULTDNS=${top_builddir:-.}/tests/faults/faultdns
FD_PID=

faults_need() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - $1: required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

faultdns_start() {
	[ -x "$FAULTDNS" ] || faults_need "tests/faults/faultdns not built (make check-faults builds it)"
	for _try in 1 2 3 4 5 6 7 8; do
		FD_PORT=$(pf_free_port)
		FD_SERVER=127.0.0.1:$FD_PORT
		: >"$FD_DIR/faultdns.out"
		"$FAULTDNS" -p "$FD_PORT" -d "$1" ${2:+-k "$2"} \
		    >"$FD_DIR/faultdns.out" 2>&1 &
		FD_PID=$!
		_i=0
		while [ $_i -lt 50 ]; do
			grep -q "^faultdns ready" "$FD_DIR/faultdns.out" && return 0
			kill -0 "$FD_PID" 2>/dev/null || break
			sleep 0.1
			_i=$((_i + 1))
		done
		faultdns_stop
	done
	echo "Bail out! faultdns did not start: $(cat "$FD_DIR/faultdns.out")"
	exit 1
}

faultdns_stop() {
	[ -n "$FD_PID" ] || return 0
	kill "$FD_PID" 2>/dev/null
	wait "$FD_PID" 2>/dev/null
	FD_PID=
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

bounded() {
	_secs=$1
	shift
	timeout -k 5 "$_secs" "$@"
}
