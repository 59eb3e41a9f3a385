#!/bin/sh
# test_report_relay.sh - dmarcctl report through an SMTP relay
# (ReportSMTPRelay, cli/relay.c) and the per-node run lock (issue 5).
#
# The relay is a private Postfix (tests/e2e/postfix-fixture.sh, no
# milter): its smtpd on 127.0.0.1 takes the report mails and relays them
# to smtp-sink, where they are read.  The history is the crafted one of
# tests/unit/test_aggregate --fill (2024-03-27, a day long over), with
# the rua of example.com set to three addresses at example.com (same
# organization: no external destination check, no DNS).  Postfix rejects
# one of them (check_recipient_access: 554) until the end.
#
#   1. configuration errors: a password in the URL, a password file that
#      others may read, ReportSMTPStartTLS yes at a relay without TLS;
#   2. the relay is down: every destination fails, exit 75, the report
#      stays claimed, nothing reaches the sink;
#   3. the per-node lock is held (flock(1) on HistoryDatabase.report-lock,
#      the same flock(2) lock dmarcctl takes): exit 75, "another dmarcctl
#      report is running (lock F)", nothing sent or claimed again;
#   4. the relay is up and rejects rejected@example.com: the other two
#      get the report, that one fails, named with the server's 5xx reply;
#      exit 75, still claimed;
#   5. the rejection is lifted: the next run sends to all three with the
#      same report ID as the first claim, exit 0, marked sent; a further
#      run sends nothing;
#   6. dmarcctl alerts digest through the relay: down (exit 75, the alert
#      stays pending), then up (at the sink);
#   7. STARTTLS: a certificate from an unknown CA fails every destination;
#      with ReportSMTPCAFile naming the CA they go out over TLS.
# At the sink: the envelope (Postfix's maillog from=<ReportEmail>,
# to=<each address>), the Subject, and the attachment (base64, gunzip,
# xmllint --schema against the RFC 9990 XSD).  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"

DMARCCTL=$top_builddir/dmarcctl
FILL=$top_builddir/tests/unit/test_aggregate
need() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - $1: required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}
[ -x "$DMARCCTL" ] || need "dmarcctl not built"
[ -x "$FILL" ] || need "tests/unit/test_aggregate not built (make check builds it)"
command -v sqlite3 >/dev/null 2>&1 || need "sqlite3 not installed (apt-get install sqlite3)"
command -v xmllint >/dev/null 2>&1 || need "xmllint not installed (apt-get install libxml2-utils)"
command -v flock >/dev/null 2>&1 || need "flock not installed (apt-get install util-linux)"
command -v openssl >/dev/null 2>&1 || need "openssl not installed (apt-get install openssl)"
postfix_fixture_require

xsd=
for c in ${DMARCD_CORPUS:-} "$top_srcdir/../shared/corpus" \
    "$top_srcdir/../../shared/corpus"; do
	if [ -f "$c/xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" ]; then
		xsd=$(cd "$c/xsd" && pwd)
		break
	fi
done
[ -n "$xsd" ] || need "the report XSD (\$DMARCD_CORPUS/xsd or ../shared/corpus/xsd)"

postfix_fixture_start ""
# The relay rejects one recipient.
pf_set "smtpd_recipient_restrictions = check_recipient_access inline:{rejected@example.com=REJECT}"
T=$PF_DIR/relaytest
mkdir "$T"
DB=$T/history.db

"$FILL" --fill "$DB" >/dev/null &&
sqlite3 "$DB" "UPDATE verdicts SET rua = 'mailto:agg@example.com,\
mailto:rejected@example.com, mailto:ops@example.com' \
WHERE policy_domain = 'example.com'"
tap_ok '[ $? -eq 0 ]' "history filled, rua of example.com set"

RELAY=smtp://127.0.0.1:$PF_PORT
DOWN_PORT=$(pf_free_port)
# conf KEY VALUE...: the configuration with these relay keys.
conf() {
	{
		echo "HistoryDatabase $DB"
		echo "ReportOrgName Receiver Test"
		echo "ReportEmail noreply-dmarc@mx.receiver.test"
		echo "NodeName relay-node"
		# Never used while a relay is set: a sendmail would fail.
		echo "ReportSendmail /bin/false"
		printf '%s\n' "$@"
	} >"$T/dmarcd.conf"
}
ctl() {
	"$DMARCCTL" -c "$T/dmarcd.conf" report --period 2024-03-27 \
	    --domain example.com >"$T/out" 2>"$T/err"
	_rc=$?
	sed 's/^/# dmarcctl: /' "$T/out" "$T/err"
	return $_rc
}
claims() {
	sqlite3 "$DB" "SELECT state, attempts FROM reports_sent WHERE policy_domain = 'example.com';"
}
sink0=$(pf_sink_count)

# --- 1. configuration errors ------------------------------------------------
conf "ReportSMTPRelay smtp://user:secret@127.0.0.1:$PF_PORT"
ctl
tap_is "$?" 78 "a password in ReportSMTPRelay: exit 78 (EX_CONFIG)"
tap_ok 'grep -q "ReportSMTPRelay: a user or password in the URL is refused" "$T/err" &&
    ! grep -q secret "$T/out" "$T/err"' "... saying so, without echoing the password"
printf 'pw\n' >"$T/pw"
chmod 644 "$T/pw"
conf "ReportSMTPRelay $RELAY" "ReportSMTPUser reporter" "ReportSMTPPasswordFile $T/pw"
ctl
tap_is "$?" 78 "a password file others may read: exit 78"
tap_ok 'grep -q "ReportSMTPPasswordFile: password file $T/pw: group or others may read or write it (mode 0644)" "$T/err"' \
    "... naming the file and its mode"
conf "ReportSMTPRelay $RELAY" "ReportSMTPUser reporter"
ctl
tap_is "$?" 78 "ReportSMTPUser without ReportSMTPPasswordFile: exit 78"
chmod 600 "$T/pw"
conf "ReportSMTPRelay smtp://192.0.2.1" "ReportSMTPStartTLS no" \
    "ReportSMTPUser reporter" "ReportSMTPPasswordFile $T/pw"
ctl
tap_is "$?" 78 "a password in clear to a host that is not loopback: exit 78"
tap_ok 'grep -q "ReportSMTPRelay smtp://192.0.2.1: ReportSMTPStartTLS no would send the password of ReportSMTPUser in clear" "$T/err"' \
    "... saying so (nothing connected)"
tap_is "$(claims)" "" "nothing claimed by the refused runs"

conf "ReportSMTPRelay $RELAY" "ReportSMTPStartTLS yes"
ctl
tap_is "$?" 75 "ReportSMTPStartTLS yes at a relay without STARTTLS: exit 75"
tap_is "$(grep -c "^example.com 2024-03-27 mailto:[a-z]*@example.com failed (the SMTP relay failed: $RELAY: .*STARTTLS" "$T/out")" 3 \
    "... each destination failed, naming the relay and STARTTLS"
sqlite3 "$DB" "DELETE FROM reports_sent"

# --- 2. the relay is down -------------------------------------------------
conf "ReportSMTPRelay smtp://127.0.0.1:$DOWN_PORT"
ctl
tap_is "$?" 75 "relay down: exit 75 (EX_TEMPFAIL)"
tap_is "$(grep -c "^example.com 2024-03-27 mailto:[a-z]*@example.com failed (the SMTP relay failed: smtp://127.0.0.1:$DOWN_PORT: " "$T/out")" 3 \
    "... each of the 3 destinations failed, naming the relay URL"
tap_is "$(tail -n 1 "$T/out")" "sent=0 skipped=0 failed=3" "... summary line"
tap_is "$(claims)" "claimed|1" "... the report stays claimed"
id0=$(sqlite3 "$DB" "SELECT report_id FROM reports_sent WHERE policy_domain = 'example.com';")
tap_ok '[ -n "$id0" ]' "... under report ID $id0"
tap_is "$(pf_sink_count)" "$sink0" "... nothing reached the sink"

# --- 3. the per-node lock -------------------------------------------------
conf "ReportSMTPRelay $RELAY"
flock "$DB.report-lock" sh -c '
	"$1" -c "$2/dmarcd.conf" report --period 2024-03-27 \
	    --domain example.com >"$2/out" 2>"$2/err"
	echo $? >"$2/rc"' lock "$DMARCCTL" "$T"
sed 's/^/# dmarcctl: /' "$T/out" "$T/err"
tap_is "$(cat "$T/rc")" 75 "lock held by another run: exit 75"
tap_is "$(cat "$T/err")" "dmarcctl: report: another dmarcctl report is running (lock $DB.report-lock); nothing sent" \
    "... saying so, naming the lock file"
tap_ok '[ ! -s "$T/out" ]' "... no destination tried"
tap_is "$(claims)" "claimed|1" "... the claim untouched"
tap_is "$(stat -c %a "$DB.report-lock")" 600 "the lock file is mode 600"

# --- 4. one destination refused -------------------------------------------
ctl
tap_is "$?" 75 "relay up, one recipient refused with 5xx: exit 75"
tap_ok 'grep -q "^example.com 2024-03-27 mailto:agg@example.com sent report-id=$id0 via $RELAY$" "$T/out" &&
    grep -q "^example.com 2024-03-27 mailto:ops@example.com sent report-id=$id0 via $RELAY$" "$T/out"' \
    "... agg@ and ops@ sent via the relay, with the first claim's report ID"
tap_ok 'grep -q "^example.com 2024-03-27 mailto:rejected@example.com failed (the SMTP relay failed: $RELAY: .*the server replied: 554 5.7.1 <rejected@example.com>: Recipient address rejected: Access denied)$" "$T/out"' \
    "... rejected@ failed, with the relay URL and its 554 reply"
tap_is "$(tail -n 1 "$T/out")" "sent=2 skipped=0 failed=1" "... summary line"
tap_is "$(claims)" "claimed|2" "... still claimed (the next run retries)"

# --- 5. the rejection lifted ----------------------------------------------
pf_set "smtpd_recipient_restrictions="
ctl
tap_is "$?" 0 "relay accepts all: exit 0"
tap_is "$(grep -c "^example.com 2024-03-27 mailto:[a-z]*@example.com sent report-id=$id0 via $RELAY$" "$T/out")" 3 \
    "... all 3 destinations sent, same report ID"
tap_is "$(claims)" "sent|3" "... marked sent"
ctl
tap_is "$?" 0 "a further run: exit 0"
tap_ok 'grep -q "^example.com 2024-03-27 - skipped (already sent)$" "$T/out"' \
    "... nothing sent again"

# --- at the sink ----------------------------------------------------------
want=$((sink0 + 5))
_i=0
while [ "$(pf_sink_count)" -lt $want ] && [ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
tap_is "$(pf_sink_count)" $want "5 report mails at the sink (2 + 3)"
R=$T/reports
mkdir "$R"
for f in "$PF_SINK_DIR"/msg.*; do
	tr -d '\r' <"$f" >"$R/$(basename "$f")"
done
for a in agg ops rejected; do
	n=$(grep -l "^To: $a@example.com\$" "$R"/msg.* 2>/dev/null | wc -l)
	case $a in rejected) w=1 ;; *) w=2 ;; esac
	tap_is "$n" $w "$a@example.com: $w mail(s) at the sink"
	tap_is "$(grep -c "to=<$a@example.com>, relay=127.0.0.1\[127.0.0.1\]:$PF_SINK_PORT.*status=sent" "$PF_MAILLOG")" $w \
	    "$a@example.com: Postfix relayed $w to the sink (maillog)"
done
tap_is "$(grep -c "qmgr.*: from=<noreply-dmarc@mx.receiver.test>, size=" "$PF_MAILLOG")" 5 \
    "the envelope sender of all 5 is ReportEmail (maillog from=<...>)"
tap_is "$(grep -c "qmgr.*: from=<" "$PF_MAILLOG")" 5 "... and no other mail went through"
tap_is "$(grep -c "NOQUEUE: reject: RCPT from .*<rejected@example.com>.* from=<noreply-dmarc@mx.receiver.test>" "$PF_MAILLOG")" 1 \
    "Postfix logged its one refusal of rejected@example.com"

m=$(grep -l "^To: rejected@example.com\$" "$R"/msg.* | head -n 1)
tap_ok 'grep -q "^Subject: Report Domain: example.com Submitter: mx.receiver.test Report-ID: $id0$" "$m" &&
    grep -q "^From: noreply-dmarc@mx.receiver.test$" "$m"' \
    "Subject (report ID of the first claim) and From"
awk '/^ filename=/ { h = 1; next } h && /^$/ { b = 1; next }
    b && /^--/ { exit } b { print }' "$m" >"$R/att.b64"
base64 -d "$R/att.b64" 2>/dev/null | gzip -dc >"$R/report.xml" 2>/dev/null
tap_ok '[ $? -eq 0 ] && grep -q "<report_id>$id0</report_id>" "$R/report.xml"' \
    "the attachment decodes (base64), gunzips, and holds the report ID"
xmllint --noout --schema "$xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" \
    "$R/report.xml" >"$R/lint" 2>&1
rc=$?
sed 's/^/#   /' "$R/lint"
tap_is "$rc" 0 "the report validates with xmllint --schema against the RFC 9990 XSD"
m2=$(grep -l "^To: agg@example.com\$" "$R"/msg.* | head -n 1)
tap_ok 'cmp -s "$R/att.b64" "$(awk "/^ filename=/ { h = 1; next } h && /^\$/ { b = 1; next }
    b && /^--/ { exit } b { print }" "$m2" >"$R/att2.b64"; echo "$R/att2.b64")"' \
    "the retried copy carries the same attachment as the first"

# --- the alerts digest goes the same way -----------------------------------
sqlite3 "$DB" "INSERT INTO alerts (domain, kind, subject, dedup_key, created_at) \
VALUES ('example.com', 'new-source', 'a new sender 192.0.2.99', 'k1', 1711500000)"
conf "ReportSMTPRelay smtp://127.0.0.1:$DOWN_PORT" "AlertDigestTo alerts@example.com"
"$DMARCCTL" -c "$T/dmarcd.conf" alerts digest >"$T/out" 2>"$T/err"
tap_is "$?" 75 "alerts digest, relay down: exit 75"
sed 's/^/# dmarcctl: /' "$T/out" "$T/err"
tap_ok 'grep -q "^dmarcctl: alerts: digest to alerts@example.com: ReportSMTPRelay smtp://127.0.0.1:$DOWN_PORT: .*; the alerts stay for the next digest$" "$T/err"' \
    "... naming the recipient and the relay"
tap_is "$(sqlite3 "$DB" "SELECT count(*) FROM alerts WHERE delivered_digest IS NULL")" 1 \
    "... the alert stays pending"
conf "ReportSMTPRelay $RELAY" "AlertDigestTo alerts@example.com"
"$DMARCCTL" -c "$T/dmarcd.conf" alerts digest >"$T/out" 2>"$T/err"
tap_is "$?" 0 "alerts digest through the relay: exit 0"
sed 's/^/# dmarcctl: /' "$T/out" "$T/err"
tap_is "$(cat "$T/out")" "digest of 1 alert(s) sent to alerts@example.com via $RELAY" \
    "... saying where"
_i=0
while ! grep -q "to=<alerts@example.com>, relay=127.0.0.1\[127.0.0.1\]:$PF_SINK_PORT.*status=sent" "$PF_MAILLOG" &&
    [ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
m=$(grep -l "^Subject: DMARC alerts: 1 new" "$PF_SINK_DIR"/msg.* 2>/dev/null | head -n 1)
tap_ok '[ -n "$m" ] && grep -q "a new sender 192.0.2.99" "$m"' "... the digest is at the sink"
tap_is "$(grep -c "qmgr.*: from=<noreply-dmarc@mx.receiver.test>, size=" "$PF_MAILLOG")" 6 \
    "... from ReportEmail (maillog)"

# --- 7. STARTTLS with a verified certificate --------------------------------
# A private CA signs the relay's certificate (subjectAltName IP:127.0.0.1);
# Postfix offers STARTTLS.  The report is sent again (its reports_sent row
# deleted): without the CA the certificate does not verify, with
# ReportSMTPCAFile it does and the mails go over TLS.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dmarcd test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null &&
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null &&
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/srv.ext" &&
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -extfile "$T/srv.ext" -out "$T/srv.pem" 2>/dev/null
tap_ok '[ $? -eq 0 ]' "a CA and the relay's certificate made with openssl"
# The fixture's master.cf has no tlsmgr, which smtpd's TLS needs.
echo "tlsmgr unix - - n 1000? 1 tlsmgr" >>"$PF_ETC/master.cf"
pf_set "smtpd_tls_cert_file=$T/srv.pem" "smtpd_tls_key_file=$T/srv.key" \
    "smtpd_tls_security_level=may" "smtpd_tls_loglevel=1"
sqlite3 "$DB" "DELETE FROM reports_sent"
sink1=$(pf_sink_count)
conf "ReportSMTPRelay $RELAY" "ReportSMTPStartTLS yes"
ctl
tap_is "$?" 75 "STARTTLS, certificate of an unknown CA: exit 75"
tap_is "$(grep -c "^example.com 2024-03-27 mailto:[a-z]*@example.com failed (the SMTP relay failed: $RELAY: .*certificate" "$T/out")" 3 \
    "... each destination failed, naming the relay and the certificate"
conf "ReportSMTPRelay $RELAY" "ReportSMTPStartTLS yes" "ReportSMTPCAFile $T/ca.pem"
ctl
tap_is "$?" 0 "STARTTLS, certificate verified with ReportSMTPCAFile: exit 0"
tap_is "$(grep -c "^example.com 2024-03-27 mailto:[a-z]*@example.com sent report-id=$id0 via $RELAY$" "$T/out")" 3 \
    "... all 3 destinations sent"
tap_ok 'grep -q "TLS connection established from .*127.0.0.1" "$PF_MAILLOG"' \
    "... over TLS (Postfix's maillog)"
_i=0
while [ "$(pf_sink_count)" -lt $((sink1 + 3)) ] && [ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
tap_is "$(pf_sink_count)" $((sink1 + 3)) "... the 3 mails at the sink"
tap_done
