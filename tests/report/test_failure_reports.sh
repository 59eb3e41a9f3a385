#!/bin/sh
# test_failure_reports.sh - dmarcd's RFC 9991 failure reports end to end
# at the milter protocol level (miltertest, NSD): a failing message under
# fo=1 gives one RFC 6591 report with the required fields and no body;
# FailureReportsPerDestination caps a burst; an unauthorised external ruf
# gets nothing; and a report fed back through dmarcd makes no new report.
# FailureReportSendmail is a script that saves each message.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

dm_fixture_require
MILTERTEST=$(_pf_find miltertest) || dm_need "miltertest not installed" miltertest
nsd_fixture_require
LUA=$top_srcdir/tests/e2e/miltertest

_nsd_mkdir
trap '_rc=$?; dm_cleanup $_rc; (exit $_rc); nsd_fixture_stop' EXIT
M=$NSD_DIR/msg
OUT=$NSD_DIR/out
mkdir -p "$M" "$OUT"
chown nobody "$OUT"
zone_add test </dev/null
zone_add fail.test <<'ZONE'
@       300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc  300 IN TXT "v=DMARC1; p=none; fo=1; ruf=mailto:ruf@fail.test,mailto:ext@outside.test"
ZONE
zone_add outside.test </dev/null
nsd_fixture_start

# The fake sendmail: one file per message, nothing else.
SM=$NSD_DIR/sendmail
cat >"$SM" <<SCRIPT
#!/bin/sh
cat >"$OUT/report.\$\$.\$(date +%s%N)"
SCRIPT
chmod 755 "$SM"
chmod -R a+rX "$NSD_DIR"

{
	printf 'From: Mallory <ceo@fail.test>\nTo: rcpt@receiver.test\n'
	printf 'Subject: wire the money\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
	printf 'Message-ID: <spoof@e2e.test>\nX-Extra: kept header\n'
	printf '\nSECRET-BODY-LINE do not leak\n'
} >"$M/spoof"
chmod a+r "$M/spoof"

dm_fixture_init "$NSD_DIR/dmarcd"
DM_NAMESERVERS=$NSD_SERVER
DM_EXTRA="FailureReports yes
FailureReportsPerDestination 3
FailureReportsPerHour 100
FailureReportSendmail $SM
ReportEmail dmarc-reports@receiver.test"
dm_start

run() {	# run COUNT [LOOPFILE]
	_out=$("$MILTERTEST" -D "sock=$DM_SOCKET" -D "lib=$LUA/lib.lua" \
	    -D "msgdir=$M" -D "msg=spoof" -D "count=$1" -D "loop=${2:-}" \
	    -s "$top_srcdir/tests/report/failure.lua" 2>&1)
	_rc=$?
	tap_is "$_rc" 0 "failure.lua $1 runs to the end"
	[ "$_rc" = 0 ] || printf '%s\n' "$_out" | sed 's/^/#   /'
}
wait_reports() {	# wait_reports N: up to 10 s for N files
	_i=0
	while [ "$(ls "$OUT" | wc -l)" -lt "$1" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
nreports() { ls "$OUT" | wc -l; }

# 1: one failing message, one report with the required fields.
run 1
wait_reports 1
sleep 1
tap_is "$(nreports)" 1 "fo=1: one failing message gives one report"
R=$(cat "$OUT"/report.* 2>/dev/null)
for f in "To: ruf@fail.test" "From: dmarc-reports@receiver.test" \
    "Subject: FW: wire the money" "Auto-Submitted: auto-generated" \
    "X-DMARC-Failure-Report: dmarcd" \
    "Content-Type: multipart/report; report-type=feedback-report;" \
    "Content-Type: message/feedback-report" "Feedback-Type: auth-failure" \
    "Version: 1" "User-Agent: dmarcd/" "Auth-Failure: dmarc" \
    "Identity-Alignment: dkim,spf" "Original-Envelope-Id: FAIL0001" \
    "Original-Mail-From: <bounce@fail.test>" "Arrival-Date: " \
    "Source-IP: 198.51.100.66" "Reported-Domain: fail.test" \
    "SPF-DNS: txt : fail.test" "Delivery-Result: delivered" \
    "Authentication-Results: mx.receiver.test;" \
    "Content-Type: text/rfc822-headers" "X-Extra: kept header" \
    "Message-ID: <spoof@e2e.test>"; do
	case $R in
	*"$f"*) tap_ok true "report has $f" ;;
	*) tap_ok false "report has $f" ;;
	esac
done
tap_ok '! grep -q SECRET-BODY-LINE "$OUT"/report.*' "report: no body"
tap_ok 'grep -q "not sent: external destination not authorised" "$DM_LOG"' \
    "external ruf without _report._dmarc record: skipped and logged"
tap_ok '! grep -q "^To: ext@outside.test" "$OUT"/report.*' \
    "external ruf: nothing sent"

# 2: a burst of 5 more: FailureReportsPerDestination 3 allows 2 more.
run 5
wait_reports 3
sleep 2
tap_is "$(nreports)" 3 "rate limit: 6 failing messages, 3 reports"
tap_ok 'grep -q "not sent: FailureReportsPerDestination reached" "$DM_LOG"' \
    "rate limit: logged"

# 3: a report fed back through dmarcd (it fails DMARC too) makes none.
# From a fail.test address, so only the loop check stands in the way.
sed 's/^From: dmarc-reports@receiver.test/From: dmarc-reports@fail.test/' \
    "$(ls "$OUT"/report.* | head -n 1)" >"$M/report"
chmod a+r "$M/report"
DM_EXTRA="FailureReports yes
FailureReportsPerDestination 100
FailureReportSendmail $SM
ReportEmail dmarc-reports@receiver.test"
dm_reload
tap_is "$DM_RELOAD" ok "reloaded with a higher limit"
run 0 report
sleep 2
tap_is "$(nreports)" 3 "loop: a report about a report is never made"
tap_ok 'grep -q "LOOP0001: no failure report about a failure report" "$DM_LOG"' \
    "loop: logged"

tap_ok 'kill -0 "$DM_PID"' "dmarcd still running"
dm_stop
tap_is "$DM_STOP" 0 "SIGTERM: dmarcd exits 0"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no AddressSanitizer/LeakSanitizer/UBSan report in dmarcd's log"
tap_done
