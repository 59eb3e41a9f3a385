#!/bin/sh
# test_mta_faults.sh - the MTA misbehaving (issue 9): connections dropped
# mid-message and after the header, an abort after the header (Debian's
# miltertest, tests/faults/miltertest/drop.lua), then through
# bench/milterload a 65,535-byte header line, 10,000 header fields,
# 1,000 DKIM-Signature fields and a 50 MB body.  Each must leave dmarcd
# serving the next message, with no sanitizer report, in bounded memory:
# its peak RSS (VmHWM in /proc) is printed after each case, and the 50 MB
# body must not raise it by more than 40 MB (the body is not kept).  DNS
# is tests/faults/faultdns ("good.test": SPF, DMARC and a DKIM key at
# every selector).
# Every run has a kill timeout; no timing is asserted.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port, _pf_find
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"
. "$top_srcdir/tests/faults/faults-lib.sh"

LOAD=$top_builddir/bench/milterload
dm_fixture_require
[ -x "$LOAD" ] || faults_need "bench/milterload not built"
MILTERTEST=$(_pf_find miltertest) || dm_need "miltertest not installed" miltertest
FD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-faults.XXXXXX")
chmod 755 "$FD_DIR"
trap '_rc=$?; dm_cleanup $_rc; faultdns_stop; rm -rf "$FD_DIR"; exit $_rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# ASan keeps freed memory in a quarantine (256 MB by default) that
# counts as RSS: keep it small so that the figures mean something.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
export ASAN_OPTIONS

DKIMSIGN=$top_builddir/tests/helpers/dkimsign
[ -x "$DKIMSIGN" ] || dm_need "tests/helpers/dkimsign not built (make check builds it)"
command -v openssl >/dev/null 2>&1 || dm_need "openssl not installed" openssl
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$FD_DIR/key.pem" 2>/dev/null
printf 'v=DKIM1; k=rsa; p=%s\n' "$(openssl pkey -in "$FD_DIR/key.pem" -pubout \
    -outform DER 2>/dev/null | base64 | tr -d '\n')" >"$FD_DIR/key.txt"
faultdns_start 1000 "$FD_DIR/key.txt"
M=$FD_DIR/msg
mkdir -p "$M"
hdr() {
	printf 'From: Alice <alice@good.test>\nTo: b@receiver.test\n'
	printf 'Subject: %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n' "$1"
	printf 'Message-ID: <%s@faults.test>\n' "$1"
}
{ hdr plain; printf '\nhello\n'; } >"$M/plain"
# One header line of 65,535 bytes: "X-Long: " and 65,527 bytes of value.
{
	hdr longline
	printf 'X-Long: '
	head -c 65527 /dev/zero | tr '\0' a
	printf '\n\nhello\n'
} >"$M/longline"
{
	hdr manyheaders
	awk 'BEGIN { for (i = 0; i < 10000; i++) printf "X-Many-%d: value %d\n", i, i }'
	printf '\nhello\n'
} >"$M/manyheaders"
{
	hdr dkim1000
	awk 'BEGIN { for (i = 0; i < 1000; i++)
	    printf "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=good.test; s=s%d; h=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==\n", i }'
	printf '\nhello\n'
} >"$M/dkim1000"
{
	hdr body50m
	echo
	# 50 MB of 100-byte lines.
	awk 'BEGIN { l = sprintf("%099d", 0); for (i = 0; i < 524288; i++) print l }'
} >"$M/body50m.in"
# Signed, so that dmarcd must hash the whole body (no SMFIR_SKIP).
"$DKIMSIGN" -k "$FD_DIR/key.pem" -d good.test -s sel "$M/body50m.in" >"$M/body50m"
rm -f "$M/body50m.in"
chmod -R a+rX "$FD_DIR"
echo "# body50m: $(wc -c <"$M/body50m") bytes"

dm_fixture_init "$FD_DIR/dmarcd"
DM_NAMESERVERS=$FD_SERVER
dm_start
kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$DM_PID/status"; }
rss() { echo "# dmarcd after $1: VmRSS $(kb VmRSS) kB, VmHWM $(kb VmHWM) kB, threads $(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$DM_PID/status")"; }
rss start

# load NAME [WANT]: one message through milterload.
load() {
	_t0=$(now_ms)
	_out=$(bounded 300 "$LOAD" -c 1 -n 1 -m "$M/$1" --client-ip 192.0.2.10 \
	    --helo mail.good.test --mail-from alice@good.test \
	    --rcpt b@receiver.test ${2:+--expect "$2"} -s "$DM_SOCKET" 2>&1)
	_rc=$?
	echo "# $1: $(($(now_ms) - _t0)) ms, exit $_rc; $(printf '%s' "$_out" | tr '\n' ' ' | cut -c1-300)"
}
alive() {
	tap_ok 'kill -0 "$DM_PID"' "$1: dmarcd still running"
	load plain accept
	tap_is "$_rc" 0 "$1: the next message is accepted"
}

# Dropped connections and aborts (miltertest).
dm_mark
_out=$(bounded 120 "$MILTERTEST" -D "sock=$DM_SOCKET" \
    -D "lib=$top_srcdir/tests/e2e/miltertest/lib.lua" -D "msgdir=$M" \
    -s "$top_srcdir/tests/faults/miltertest/drop.lua" 2>&1)
_rc=$?
tap_is "$_rc" 0 "drop.lua runs to the end"
[ "$_rc" = 0 ] || printf '%s\n' "$_out" | sed 's/^/#   /'
logline() { grep "$1: dmarc " "$DM_LOG" | tail -n 1; }
tap_ok '[ -z "$(logline DROPBODY01)$(logline DROPEOH001)$(logline ABORTEOH01)" ]' \
    "dropped and aborted messages leave no verdict line"
tap_is "$(hist_sql "SELECT count(*) FROM verdicts WHERE queue_id IN ('DROPBODY01', 'DROPEOH001', 'ABORTEOH01');")" 0 \
    "... and no history row"
tap_ok 'logline AFTERABT01 | grep -q "result=pass" && logline AFTERDROP1 | grep -q "result=pass"' \
    "the messages after them are judged (result=pass)"
rss "drops and aborts"
alive "drops and aborts"

# A 65,535-byte header line: over libmilter's 65,535-byte packet limit
# with its name, so the connection may be closed; either way no crash.
load longline
echo "# 65,535-byte header line: milterload exit $_rc"
rss "a 65,535-byte header line"
alive "a 65,535-byte header line"

load manyheaders accept
tap_is "$_rc" 0 "10,000 header fields: accepted"
rss "10,000 header fields"
alive "10,000 header fields"

dm_mark
load dkim1000 accept
tap_is "$_rc" 0 "1,000 DKIM signatures: accepted"
tap_ok 'dm_wait_log "dmarc .*from=good.test" 5' "1,000 DKIM signatures: verdict logged"
echo "# 1,000 signatures: $(dm_log_since | grep 'dmarc ' | tail -n 1 | grep -o 'permerror:good.test' | wc -l) DKIM results in the verdict line"
rss "1,000 DKIM signatures"
alive "1,000 DKIM signatures"

hwm0=$(kb VmHWM)
dm_mark
load body50m accept
tap_is "$_rc" 0 "50 MB body: accepted"
tap_ok 'dm_wait_log "dkim=pass:good.test" 5' "50 MB body: hashed whole, dkim=pass"
hwm1=$(kb VmHWM)
rss "a 50 MB body"
tap_ok "[ $((hwm1 - hwm0)) -lt 40960 ]" \
    "50 MB body: peak RSS grew by $((hwm1 - hwm0)) kB (< 40 MB: the body is streamed)"
alive "a 50 MB body"

dm_stop
tap_is "$DM_STOP" 0 "SIGTERM: dmarcd exits 0"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no AddressSanitizer/LeakSanitizer/UBSan report in dmarcd's log"
tap_done
