#!/bin/sh
# test_miltertest.sh - dmarcd at the milter protocol level, driven by
# Debian's miltertest (OpenDKIM's Lua-scripted MTA side), for what is
# simpler without Postfix: Sendmail's macro set replayed as Sendmail sends
# it, an abort mid-message, header values whose leading whitespace
# matters, and a body in many chunks.  The Lua scripts are in
# tests/e2e/miltertest/; this script makes their messages (signed here
# with tests/helpers/dkimsign), runs NSD and dmarcd, runs each script, and
# checks dmarcd's log and history afterwards.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

dm_fixture_require
MILTERTEST=$(_pf_find miltertest) || dm_need "miltertest not installed" miltertest
DKIMSIGN=$top_builddir/tests/helpers/dkimsign
[ -x "$DKIMSIGN" ] || dm_need "tests/helpers/dkimsign not built (make check builds it)"
command -v openssl >/dev/null 2>&1 || dm_need "openssl not installed" openssl
nsd_fixture_require
LUA=$top_srcdir/tests/e2e/miltertest

_nsd_mkdir
trap '_rc=$?; dm_cleanup $_rc; (exit $_rc); nsd_fixture_stop' EXIT
K=$NSD_DIR/keys
M=$NSD_DIR/msg
mkdir -p "$K" "$M"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$K/example.pem" 2>/dev/null
pub=$(openssl pkey -in "$K/example.pem" -pubout -outform DER 2>/dev/null |
    base64 | tr -d '\n')
zone_add test </dev/null
zone_add example.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"
_dmarc            300 IN TXT "v=DMARC1; p=reject"
sel._domainkey    300 IN TXT $(printf '%s' "v=DKIM1; k=rsa; p=$pub" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')
ZONE
zone_add none.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=none"
ZONE
zone_add forwarder.test <<'ZONE'
@                 300 IN TXT "v=spf1 -all"
ZONE
nsd_fixture_start

# --- messages -------------------------------------------------------------
hdr() {	# hdr FROM SUBJECT ID: a plain header
	printf 'From: %s\nTo: rcpt@receiver.test\nSubject: %s\n' "$1" "$2"
	printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@e2e.test>\n' "$3"
}
{ hdr "Alice <alice@example.test>" figures plain; printf '\nHello,\n\nthe figures.\n'; } >"$M/plain"
{ hdr "n@none.test" other other; printf '\nsomething else\n'; } >"$M/other"
# Signed, then a forged A-R with our authserv-id added (not covered).
"$DKIMSIGN" -k "$K/example.pem" -d example.test -s sel "$M/plain" |
    awk '!done && /^$/ { print "Authentication-Results: mx.receiver.test; dmarc=pass (forged)"; done = 1 } { print }' \
    >"$M/signed-forged"
# Whitespace that simple canonicalization keeps.  (Every value starts
# with a space: miltertest cannot send one that does not; the Postfix
# test, test_milter.sh 6c, has a tab right after the colon.)
{
	printf 'From: Alice <alice@example.test>\nTo: rcpt@receiver.test\n'
	printf 'Subject:    four spaces before, two after  \n'
	printf 'X-Tab: \ttab first\n'
	printf 'X-Folded: first\n\t  second line\n'
	printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <simple@e2e.test>\n'
	printf '\nbody  with  spaces \n\n'
} >"$M/simple.in"
"$DKIMSIGN" -k "$K/example.pem" -d example.test -s sel -c simple/simple \
    -H from:to:subject:x-tab:x-folded:date:message-id "$M/simple.in" >"$M/simple"
# About 200 KB of body, relaxed/relaxed.
{
	hdr "Alice <alice@example.test>" big big
	echo
	i=0
	while [ $i -lt 2800 ]; do
		echo "line $i: the quick brown fox jumps over the lazy dog, 0123456789"
		i=$((i + 1))
	done
} >"$M/big.in"
"$DKIMSIGN" -k "$K/example.pem" -d example.test -s sel "$M/big.in" >"$M/big"
chmod -R a+rX "$M"

# --- dmarcd ---------------------------------------------------------------
dm_fixture_init "$NSD_DIR/dmarcd"
DM_NAMESERVERS=$NSD_SERVER
dm_start

# run NAME: one Lua script; its output goes to the TAP log.
run() {
	dm_mark
	_out=$("$MILTERTEST" -D "sock=$DM_SOCKET" -D "lib=$LUA/lib.lua" \
	    -D "msgdir=$M" -s "$LUA/$1.lua" 2>&1)
	_rc=$?
	tap_is "$_rc" 0 "$1.lua runs to the end"
	[ "$_rc" = 0 ] || printf '%s\n' "$_out" | sed 's/^/#   /'
	LUA_OUT=$_out
}
logline() { grep "$1: dmarc " "$DM_LOG" | tail -n 1; }
has() {	# has NAME TEXT SUBSTRING...
	_n=$1 _t=$2
	shift 2
	for _s in "$@"; do
		case $_t in
		*"$_s"*) tap_ok true "$_n: has $_s" ;;
		*) tap_ok false "$_n: has $_s"; printf '%s\n' "$_t" | sed 's/^/#   /' ;;
		esac
	done
}

# Sendmail's macros: the queue id comes with MAIL, so even a skipped
# message's log line and history row carry it.
run sendmail_macros
# With SMFIP_HDR_LEADSPC the MTA writes an added value as it comes: the
# value needs its leading space, or Postfix writes "Name:value".
tap_ok 'printf "%s\n" "$LUA_OUT" | grep -q "^LEADSPC false\|^LEADSPC true A-R value \[ mx\.receiver\.test;"' \
    "Sendmail pass: the added A-R value starts with a space (SMFIP_HDR_LEADSPC)"
printf '%s\n' "$LUA_OUT" | grep "^LEADSPC" | cut -c1-60 | sed 's/^/# /'
has "Sendmail pass" "$(logline 5AQ1sM7p012301)" "result=pass" "ip=192.0.2.10" \
    "helo=mail.example.test" "action=accept"
has "Sendmail AUTH" "$(logline 5AQ1sM7p012302)" "dmarc skipped" \
    "reason=authenticated"
tap_is "$(hist_wait "SELECT action, skip_reason FROM verdicts WHERE queue_id = '5AQ1sM7p012302';")" \
    "skip|authenticated" "Sendmail AUTH: history row under Sendmail's queue id"
has "Sendmail, third message" "$(logline 5AQ1sM7p012303)" "result=pass"
has "Sendmail spoof" "$(logline 5AQ1sM7p012304)" "result=fail" "action=reject" \
    "ip=198.51.100.66"
has "Sendmail IPv6" "$(logline 5AQ1sM7p012305)" "result=pass" "ip=2001:db8::10"

run abort
tap_ok '[ -z "$(logline ABORT00001)" ] && [ -z "$(logline ABORT00003)" ]' \
    "abort: aborted messages leave no log line"
tap_is "$(hist_sql "SELECT count(*) FROM verdicts WHERE queue_id IN ('ABORT00001', 'ABORT00003');")" 0 \
    "abort: ... and no history row"
has "abort: the next message" "$(logline ABORT00002)" "result=pass" "from=example.test"

run leading_space
has "leading space" "$(logline LEADSPC001)" "result=pass" "dkim=pass:example.test"

run chunks
has "chunks" "$(logline CHUNKS0001)" "result=pass" "dkim=pass:example.test"
has "chunks, one per line" "$(logline CHUNKS0002)" "result=pass"

tap_ok 'kill -0 "$DM_PID"' "dmarcd still running"
dm_stop
tap_is "$DM_STOP" 0 "SIGTERM: dmarcd exits 0"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no AddressSanitizer/LeakSanitizer/UBSan report in dmarcd's log"
tap_done
