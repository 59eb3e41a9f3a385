#!/bin/sh
# test_dns_faults.sh - DNS faults (issue 9) through tests/faults/faultdns:
# no answer, SERVFAIL, REFUSED, truncated UDP answers (TCP fallback), an
# oversized TXT record (65,025 bytes in 255 strings), 50 TXT records, a
# CNAME loop, and answers sent exactly at the resolver's per-try timeout.
# Each is met by `dmarcctl verify`, `dmarcctl check` and dmarcd (driven by
# bench/milterload), and must give the outcome the RFCs give:
#   - no answer, SERVFAIL, REFUSED (RFC 7208 section 5: an RCODE other
#     than 0 or 3): SPF and DMARC temperror; dmarcd tempfails with
#     TempfailOnDNSError yes and accepts with no; check exits 75;
#   - truncated over UDP: the answer over TCP, a normal verdict;
#   - a TXT record over the length bound, a CNAME loop: permerror (a
#     later try gives the same answer; RFC 9989 leaves DNS errors to the
#     receiver, RFC 7208 4.5 makes a broken record permerror); dmarcd
#     accepts (no policy applies);
#   - 50 SPF records: permerror (RFC 7208 4.5); 50 DMARC records: more
#     than the 16 the lookup keeps, permerror;
#   - at exactly the timeout: either the answer or temperror, both fine;
#   - dmarcctl check says a record it cannot read is unreadable, not
#     missing (dmarc_lookup_error, spf_lookup_error).
# No crash, no sanitizer report, and every run ends within a kill
# timeout (elapsed times are TAP comments, not assertions).
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"
. "$top_srcdir/tests/faults/faults-lib.sh"

CTL=$top_builddir/dmarcctl
LOAD=$top_builddir/bench/milterload
dm_fixture_require
[ -x "$LOAD" ] || faults_need "bench/milterload not built"
FD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-faults.XXXXXX")
chmod 755 "$FD_DIR"
trap '_rc=$?; dm_cleanup $_rc; faultdns_stop; rm -rf "$FD_DIR"; exit $_rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The answer delay of "slow" is the per-try timeout (DNSTimeout 1s).
faultdns_start 1000
echo "# faultdns $FD_PID on $FD_SERVER"
printf 'AuthservID mx.receiver.test\nDNSTimeout 1s\nDNSRetries 0\n' >"$FD_DIR/conf"
msg() {
	printf 'From: Alice <alice@%s>\nTo: b@receiver.test\nSubject: fault\n' "$1"
	printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@faults.test>\n\nhello\n' "$1"
}
for z in good timeout servfail refused tc big many loop slow; do
	msg "$z.test" >"$FD_DIR/$z.eml"
done
chmod -R a+rX "$FD_DIR"

field() { printf '%s\n' "$1" | sed -n "s/^  \"$2\": \"\([^\"]*\)\",*\$/\1/p" | head -1; }
spf() { printf '%s\n' "$1" | sed -n '/^  "spf": {/,/}/p' | sed -n 's/^    "result": "\([^"]*\)",*$/\1/p'; }

# verify ZONE 'WANT'...: dmarc/spf of dmarcctl verify, one of the WANTs.
verify() {
	_z=$1
	shift
	_t0=$(now_ms)
	_out=$(bounded 60 "$CTL" -c "$FD_DIR/conf" verify --nameserver "$FD_SERVER" \
	    --json --client-ip 192.0.2.10 --helo "mail.$_z.test" \
	    --mail-from "a@$_z.test" "$FD_DIR/$_z.eml" 2>"$FD_DIR/err")
	_rc=$?
	echo "# verify $_z.test: $(($(now_ms) - _t0)) ms, exit $_rc"
	tap_ok "[ $_rc -ne 124 ] && [ $_rc -lt 128 ]" "verify $_z.test: ends, no crash (exit $_rc)"
	_got="dmarc=$(field "$_out" dmarc) spf=$(spf "$_out")"
	_ok=false
	for _w in "$@"; do
		[ "$_got" = "$_w" ] && _ok=true
	done
	tap_ok "$_ok" "verify $_z.test: $_got (want $*)"
	$_ok || sed 's/^/#   /' "$FD_DIR/err"
}

verify good "dmarc=pass spf=pass"
verify timeout "dmarc=temperror spf=temperror"
verify servfail "dmarc=temperror spf=temperror"
verify refused "dmarc=temperror spf=temperror"
verify tc "dmarc=pass spf=pass"
verify big "dmarc=permerror spf=permerror"
verify many "dmarc=permerror spf=permerror"
verify loop "dmarc=permerror spf=permerror"
# At the deadline: each lookup gets the answer or times out.
verify slow "dmarc=pass spf=pass" "dmarc=temperror spf=pass" \
    "dmarc=pass spf=temperror" "dmarc=temperror spf=temperror"

# check ZONE WANT_EXIT: dmarcctl check's exit status.
check() {
	_t0=$(now_ms)
	_out=$(bounded 120 "$CTL" -c "$FD_DIR/conf" check --json --nameserver "$FD_SERVER" \
	    --selector sel "$1.test" 2>"$FD_DIR/err")
	_rc=$?
	echo "# check $1.test: $(($(now_ms) - _t0)) ms, exit $_rc"
	tap_is "$_rc" "$2" "check $1.test: exit $2"
	[ "$_rc" = "$2" ] || sed 's/^/#   /' "$FD_DIR/err"
}
check good 1		# warnings: no rua, no DKIM key at "sel"
check timeout 75
check servfail 75
check refused 75
check tc 1
"$CTL" -c "$FD_DIR/conf" check --nameserver "$FD_SERVER" refused.test 2>&1 >/dev/null |
    grep -q "refused.test.*DNS failure" 
tap_is "$?" 0 "check refused.test: the message names the domain and the DNS failure"
codes() { printf '%s\n' "$_out" | sed -n 's/.*"code": "\([^"]*\)".*/\1/p' | sort | tr '\n' ' '; }
check big 2
tap_is "$(codes)" "dkim_selector_missing dmarc_lookup_error spf_lookup_error " \
    "check big.test: the records are there but cannot be read (not 'missing')"
check many 2
tap_is "$(codes)" "dkim_key_invalid dmarc_duplicate spf_multiple " \
    "check many.test: several DMARC and SPF records"
check loop 2
tap_is "$(codes)" "dkim_selector_missing dmarc_lookup_error spf_lookup_error " \
    "check loop.test: a CNAME loop is not 'missing'"

# dmarcd: the verdict as the MTA sees it.
dm_fixture_init "$FD_DIR/dmarcd"
DM_NAMESERVERS=$FD_SERVER
dm_start
# load ZONE WANT_REPLY [CONNS MSGS]: milterload's replies for ZONE.
load() {
	_t0=$(now_ms)
	_out=$(bounded 120 "$LOAD" -c "${3:-1}" -n "${4:-1}" -m "$FD_DIR/$1.eml" \
	    --client-ip 192.0.2.10 --helo "mail.$1.test" --mail-from "a@$1.test" \
	    --rcpt b@receiver.test --expect "$2" -s "$DM_SOCKET" 2>&1)
	_rc=$?
	echo "# milter $1.test: $(($(now_ms) - _t0)) ms; $(printf '%s' "$_out" | tr '\n' ' ')"
	tap_is "$_rc" 0 "dmarcd, $1.test: every reply $2"
}
load good accept
load timeout tempfail
load servfail tempfail
load refused tempfail
load tc accept
load big accept
load many accept
load loop accept
_t0=$(now_ms)
_slow=$(bounded 120 "$LOAD" -c 1 -n 1 -m "$FD_DIR/slow.eml" --client-ip 192.0.2.10 \
    --helo mail.slow.test --mail-from a@slow.test --rcpt b@receiver.test \
    -s "$DM_SOCKET" 2>&1)
_rc=$?
echo "# milter slow.test: $(($(now_ms) - _t0)) ms; $(printf '%s' "$_slow" | tr '\n' ' ')"
tap_ok "[ $_rc -ne 124 ] && printf '%s' \"\$_slow\" | grep -q 'replies accept [01] .* tempfail [01] '" \
    "dmarcd, slow.test (answers at the timeout): accept or tempfail"
dm_mark
tap_ok "dm_wait_log 'dmarc from=\\|dmarc .*from=' 1 || grep -q 'temperror' '$DM_LOG'" \
    "dmarcd logged the verdicts"
tap_ok "grep -q 'result=temperror' '$DM_LOG'" "dmarcd's log says result=temperror"
tap_ok "grep -q 'result=permerror' '$DM_LOG'" "dmarcd's log says result=permerror"

# Timeouts keep no thread from serving others: while 4 connections wait
# on a silent server, good.test messages are still answered.
"$LOAD" -c 4 -n 8 -m "$FD_DIR/timeout.eml" --client-ip 192.0.2.10 \
    --helo mail.timeout.test --mail-from a@timeout.test --rcpt b@receiver.test \
    --expect tempfail -s "$DM_SOCKET" >"$FD_DIR/bg.out" 2>&1 &
bg=$!
load good accept 1 5
wait "$bg"
tap_is "$?" 0 "4 connections on timeout.test meanwhile: all tempfail"
echo "# background: $(tr '\n' ' ' <"$FD_DIR/bg.out")"

# TempfailOnDNSError no: the same faults are accepted.
DM_TEMPFAIL_DNS=no
dm_reload
tap_is "$DM_RELOAD" ok "reload with TempfailOnDNSError no"
load timeout accept
load servfail accept
load refused accept

tap_ok 'kill -0 "$DM_PID"' "dmarcd still running"
dm_stop
tap_is "$DM_STOP" 0 "SIGTERM: dmarcd exits 0"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no AddressSanitizer/LeakSanitizer/UBSan report in dmarcd's log"
tap_done
