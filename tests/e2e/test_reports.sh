#!/bin/sh
# test_reports.sh - outgoing aggregate reports end to end (issue 5):
# messages go through a private Postfix with dmarcd as its milter, dmarcd
# writes its history (HistoryDurability full), `dmarcctl report` builds
# the reports from those rows and hands them to the same Postfix's
# sendmail, and the report mails are caught at Postfix's smtp-sink.
#
# NSD serves three policy domains:
#   alpha.test  p=reject, rua to a mailbox at alpha.test;
#   beta.test   p=quarantine; sp=none; np=reject; adkim=s; fo=1, rua to
#               one address at beta.test and two external ones:
#               authorized.test, which publishes
#               beta.test._report._dmarc.authorized.test, and
#               unauthorized.test, which does not;
#   gamma.test  p=none, reported in the RFC 7489 form.
# DKIM keys are made here with openssl, messages signed with
# tests/helpers/dkimsign.  A known mix of passing and failing messages
# (SPF pass/fail/none, DKIM pass/fail/unaligned/absent, six source
# addresses, one IPv6) goes in over SMTP with XCLIENT.
#
# The period is today (UTC), the day dmarcd wrote the rows.  dmarcctl
# refuses to send the report of a day not over yet (checked first), so it
# then runs under faketime(1) one day ahead, as the daily run after
# midnight would; only its clock moves, the rows are the ones dmarcd has
# just written.  Should the UTC day change while the test runs, the
# period is both days and the per-record checks are left out.
#
# Checked at the sink: each report mail's Subject, From, To, MIME
# structure and attachment filename (RFC 9990 section 3); the attachment
# decodes (base64), gunzips and validates with xmllint against the RFC
# 9990 XSD (gamma.test: the RFC 7489 XSD); its metadata and policy; its
# records, field by field, against the messages sent; the authorized
# external destination got the report, the unauthorized one got nothing
# and dmarcctl's output names it.
# PF_KEEP=1 keeps the Postfix directory.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

DKIMSIGN=$top_builddir/tests/helpers/dkimsign
DMARCCTL=$top_builddir/dmarcctl
dm_fixture_require
[ -x "$DKIMSIGN" ] || dm_need "tests/helpers/dkimsign not built (make check builds it)"
[ -x "$DMARCCTL" ] || dm_need "dmarcctl not built"
command -v openssl >/dev/null 2>&1 || dm_need "openssl not installed" openssl
command -v xmllint >/dev/null 2>&1 || dm_need "xmllint not installed" libxml2-utils
nsd_fixture_require
postfix_fixture_require
PF_SENDMAIL=$(_pf_find sendmail) || dm_need "Postfix's sendmail not installed" postfix
FAKETIME=$(command -v faketime) || dm_need "faketime not installed" faketime

xsd=
for c in ${DMARCD_CORPUS:-} "$top_srcdir/../shared/corpus" \
    "$top_srcdir/../../shared/corpus"; do
	if [ -f "$c/xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" ] &&
	    [ -f "$c/xsd/rfc7489-appendixC-rua-schema.xsd" ]; then
		xsd=$(cd "$c/xsd" && pwd)
		break
	fi
done
[ -n "$xsd" ] || dm_need "the report XSDs (\$DMARCD_CORPUS/xsd or ../shared/corpus/xsd)"

# --- keys and zones -------------------------------------------------------
_nsd_mkdir
K=$NSD_DIR/keys
mkdir -p "$K"
genrsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
pub_rsa() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n'; }
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }
genrsa "$K/alpha.pem"; genrsa "$K/beta.pem"

zone_add test </dev/null
zone_add alpha.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all"
_dmarc            300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc-rua@alpha.test"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$K/alpha.pem")")
ZONE
zone_add beta.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:192.0.2.20 ip6:2001:db8::20 -all"
_dmarc            300 IN TXT "v=DMARC1; p=quarantine; sp=none; np=reject; adkim=s; fo=1; rua=mailto:agg@beta.test,mailto:reports@authorized.test,mailto:reports@unauthorized.test"
s2._domainkey     300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$K/beta.pem")")
s2._domainkey.mail 300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$K/beta.pem")")
sub               300 IN A 192.0.2.21
ZONE
zone_add gamma.test <<'ZONE'
@                 300 IN TXT "v=spf1 ip4:192.0.2.30 -all"
_dmarc            300 IN TXT "v=DMARC1; p=none; rua=mailto:rua@gamma.test"
ZONE
zone_add authorized.test <<'ZONE'
beta.test._report._dmarc 300 IN TXT "v=DMARC1"
ZONE
zone_add unauthorized.test <<'ZONE'
alpha.test._report._dmarc 300 IN TXT "v=DMARC1"
ZONE
nsd_fixture_start

# --- Postfix and dmarcd ---------------------------------------------------
DM_PORT=$(pf_free_port)
PF_CLEANUP_HOOK='dm_cleanup $_pf_rc'
postfix_fixture_start "inet:127.0.0.1:$DM_PORT"
dm_fixture_init "$PF_DIR/dmarcd" "$DM_PORT"
DM_NAMESERVERS=$NSD_SERVER
# One configuration for both: dmarcd ignores the Report* keys, dmarcctl
# reads HistoryDatabase and Nameservers from it.  The report mails go
# through this Postfix (postdrop, pickup, smtp to the sink).
DM_EXTRA="ReportOrgName Receiver Test
ReportEmail noreply-dmarc@mx.receiver.test
ReportContactInfo https://mx.receiver.test/dmarc
ReportSendmail $PF_SENDMAIL -C $PF_ETC -t -oi"
T=$DM_DIR
dm_start
echo "# dmarcd $DM_PID on 127.0.0.1:$DM_PORT, nsd on $NSD_SERVER"

# --- messages -------------------------------------------------------------
M=$T/msg
mkdir "$M"
chmod 755 "$M"
# msg NAME FROM: $M/NAME with Message-ID <NAME.PID@e2e.test>.
msg() {
	{
		printf 'From: %s\nTo: rcpt@receiver.test\nSubject: quarterly\n' "$2"
		printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\n'
		printf 'Message-ID: <%s.%s@e2e.test>\n\n' "$1" $$
		printf 'Hello,\n\nthe numbers are in.\n'
	} >"$M/$1"
}
sign() {	# sign NAME KEY DOMAIN SELECTOR
	"$DKIMSIGN" -k "$K/$2.pem" -d "$3" -s "$4" "$M/$1" >"$M/$1.s" &&
	    mv "$M/$1.s" "$M/$1"
}
sent=0
# send NAME IP MAILFROM WANT: one message from XCLIENT address IP; WANT
# is the SMTP outcome expected: 250 (queued) or 550 (rejected).
send() {
	pf_send "$1" --xclient-addr "$2" --helo "mail.$(echo "$3" | sed 's/.*@//')" \
	    --from "$3" --to rcpt@receiver.test --data "@$M/$1"
	sent=$((sent + 1))
	case $PF_REPLY in
	"$4 "*) tap_ok true "$1 from $2: $4" ;;
	*) tap_ok false "$1 from $2: $4"
	   echo "#   got: $PF_REPLY"
	   tail -n 6 "$PF_LOG" | sed 's/^/#   /' ;;
	esac
}

# alpha.test, p=reject.
for n in 1 2 3; do
	msg a-pass$n "Alice <alice@alpha.test>"
	sign a-pass$n alpha alpha.test sel
	send a-pass$n 192.0.2.10 bounce@alpha.test 250
done
for n in 1 2; do		# SPF only: DMARC passes, DKIM none
	msg a-spf$n "alice@alpha.test"
	send a-spf$n 192.0.2.11 bounce@alpha.test 250
done
for n in 1 2; do		# nothing aligned passes: 550
	msg a-fail$n "alice@alpha.test"
	send a-fail$n 198.51.100.66 alice@alpha.test 550
done
msg a-badsig "alice@alpha.test"	# body changed after signing
sign a-badsig alpha alpha.test sel
printf 'P.S. added on the way\n' >>"$M/a-badsig"
send a-badsig 198.51.100.67 alice@alpha.test 550
msg a-fwd "alice@alpha.test"	# a forwarder: DKIM passes, SPF none
sign a-fwd alpha alpha.test sel
send a-fwd 198.51.100.66 list@other.test 250

# beta.test, p=quarantine; sp=none; np=reject; adkim=s.
for n in 1 2; do
	msg b-pass$n "bob@beta.test"
	sign b-pass$n beta beta.test s2
	send b-pass$n 192.0.2.20 bounce@beta.test 250
done
msg b-unal "bob@beta.test"	# d=mail.beta.test: not aligned under adkim=s
sign b-unal beta mail.beta.test s2
send b-unal 192.0.2.20 bounce@beta.test 250
msg b-v6 "bob@beta.test"
send b-v6 IPV6:2001:db8::20 bounce@beta.test 250
for n in 1 2; do		# quarantined: Postfix holds them
	msg b-fail$n "bob@beta.test"
	send b-fail$n 198.51.100.77 bob@beta.test 250
done
msg b-sub "carol@sub.beta.test"	# existing subdomain: sp=none
send b-sub 198.51.100.77 carol@sub.beta.test 250
msg b-nx "dave@nx.beta.test"	# non-existent subdomain: np=reject
send b-nx 198.51.100.77 dave@nx.beta.test 550

# gamma.test, p=none.
msg g-pass "gina@gamma.test"
send g-pass 192.0.2.30 bounce@gamma.test 250
msg g-fail "gina@gamma.test"
send g-fail 198.51.100.88 gina@gamma.test 250

# Every message has its row (rejected ones may come a moment after the
# reply).
rows_of() {
	hist_sql "SELECT count(*) FROM verdicts WHERE message_id LIKE '%.$$@e2e.test%';"
}
_i=0
while [ "$(rows_of)" -lt $sent ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
tap_is "$(rows_of)" $sent "dmarcd wrote one history row for each of the $sent messages"
tap_is "$(hist_sql "SELECT policy_domain, count(*) FROM verdicts GROUP BY 1 ORDER BY 1;")" \
"alpha.test|9
beta.test|8
gamma.test|2" "history rows per policy domain"
dm_running "after the messages"

# --- dmarcctl report ------------------------------------------------------
day0=$(date -u +%Y-%m-%d)
ctl() {
	"$DMARCCTL" -c "$DM_CONF" report "$@" >"$T/ctl.out" 2>"$T/ctl.err"
	_rc=$?
	sed 's/^/# dmarcctl: /' "$T/ctl.out" "$T/ctl.err"
	return $_rc
}
# dmarcctl as the daily run after midnight would see it: libfaketime
# moves its clock (only its clock) one day ahead, so the day the
# messages came in has ended.  (ASan only warns when it is not first in
# the preload list.)
ctl_tomorrow() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$FAKETIME" -f +1d "$DMARCCTL" -c "$DM_CONF" report "$@" \
	    >"$T/ctl.out" 2>"$T/ctl.err"
	_rc=$?
	sed 's/^/# dmarcctl: /' "$T/ctl.out" "$T/ctl.err"
	return $_rc
}
day1=$(date -u +%Y-%m-%d)
[ "$day0" = "$day1" ] && period=$day0 || period=$day0..$day1
echo "# report period $period (UTC)"
sink0=$(pf_sink_count)

# Today has not ended: sending its report is refused (it would be partial,
# and marked sent, the rest of the day would never be reported).
ctl --period "$day1"
tap_is "$?" 64 "today's report refused while the day lasts: exit 64 (EX_USAGE)"
tap_ok 'grep -q "^dmarcctl: report: --period $day1: a UTC day in it has not ended yet" "$T/ctl.err" &&
    [ ! -s "$T/ctl.out" ]' "... saying so, naming the period; nothing sent"
tap_is "$(hist_sql "SELECT count(*) FROM reports_sent;")" 0 "... nothing claimed"

# First gamma.test alone, in the RFC 7489 form; then every domain: gamma
# is already sent and is skipped, alpha and beta go out in RFC 9990 form.
ctl_tomorrow --period "$period" --domain gamma.test --format rfc7489
tap_is "$?" 0 "dmarcctl report --format rfc7489 --domain gamma.test: exit 0"
tap_ok 'grep -q "^gamma.test $day0 mailto:rua@gamma.test sent report-id=" "$T/ctl.out"' \
    "rfc7489: gamma.test report sent to rua@gamma.test"
ctl_tomorrow --period "$period"
tap_is "$?" 0 "dmarcctl report: exit 0"
cp "$T/ctl.out" "$T/ctl-all.out"
ndays=$(grep -c "^alpha.test .* mailto:dmarc-rua@alpha.test sent" "$T/ctl-all.out")
tap_ok 'grep -q "^alpha.test $day0 mailto:dmarc-rua@alpha.test sent report-id=[0-9a-f]*$" "$T/ctl-all.out"' \
    "alpha.test: sent to its own mailbox"
tap_ok 'grep -q "^beta.test $day0 mailto:agg@beta.test sent report-id=" "$T/ctl-all.out" &&
    grep -q "^beta.test $day0 mailto:reports@authorized.test sent report-id=" "$T/ctl-all.out"' \
    "beta.test: sent to agg@beta.test and the authorized external destination"
tap_ok 'grep -q "^beta.test $day0 mailto:reports@unauthorized.test skipped (unverified external destination)$" "$T/ctl-all.out"' \
    "beta.test: the unauthorized external destination skipped, and named"
tap_ok 'grep -q "^gamma.test $day0 - skipped (already sent)$" "$T/ctl-all.out"' \
    "gamma.test: already sent by the first run, not sent again"
tap_is "$(tail -n 1 "$T/ctl-all.out")" \
    "sent=$((3 * ndays)) skipped=$ndays failed=0" "dmarcctl's summary line"

# The report mails reach the sink through this Postfix.
want=$((4 * ndays))
_i=0
while [ $(( $(pf_sink_count) - sink0 )) -lt $want ] && [ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
R=$T/reports
mkdir "$R"
for f in "$PF_SINK_DIR"/msg.*; do
	if grep -q '^Subject: Report Domain: ' "$f"; then
		tr -d '\r' <"$f" >"$R/$(basename "$f")"
	fi
done
tap_is "$(ls "$R" | wc -l | tr -d ' ')" $want "$want report mails at the sink"
tap_ok '! grep -q "unauthorized\.test" "$PF_MAILLOG" && ! grep -l "unauthorized\.test" "$R"/* >/dev/null 2>&1' \
    "nothing was sent to reports@unauthorized.test (maillog and sink)"
tap_ok 'grep -q "to=<reports@authorized.test>.*status=sent" "$PF_MAILLOG"' \
    "Postfix delivered the report to reports@authorized.test"

# report_of RCPT: the sink file of the report mail to RCPT (first day).
report_of() { grep -l "^To: $1\$" "$R"/* 2>/dev/null | head -n 1; }

# check_mail FILE DOMAIN RCPT: Subject, From, To, MIME structure and
# filename; leaves the report ID in $id, the attachment's XML in
# $R/DOMAIN.xml (namespace dropped in $R/DOMAIN.nons.xml).
check_mail() {
	_m=$1 _d=$2 _rcpt=$3
	begin=$(date -u -d "$day0" +%s)
	end=$((begin + 86399))
	id=$(sed -n "s/^Subject: Report Domain: $_d Submitter: mx.receiver.test Report-ID: \\([^ ]*\\)\$/\\1/p" "$_m")
	tap_ok '[ -n "$id" ]' "$_d: RFC 9990 Subject (Report Domain, Submitter, Report-ID)"
	tap_ok 'grep -q "^From: noreply-dmarc@mx.receiver.test$" "$_m" &&
	    grep -q "^To: $_rcpt$" "$_m" &&
	    grep -q "^Message-ID: <$id.$_d@mx.receiver.test>$" "$_m"' \
	    "$_d: From, To, Message-ID"
	fn="mx.receiver.test!$_d!$begin!$end!$id.xml.gz"
	tap_is "$(grep -E '^(MIME-Version|Content-Type|Content-Transfer-Encoding|Content-Disposition):|^ (boundary|name|filename)=|^--' "$_m")" \
"MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary=\"=_dmarcd_$id\"
--=_dmarcd_$id
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit
--=_dmarcd_$id
Content-Type: application/gzip;
 name=\"$fn\"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename=\"$fn\"
--=_dmarcd_$id--" "$_d: MIME structure, RFC 9990 filename $fn"
	awk '/^ filename=/ { h = 1; next } h && /^$/ { b = 1; next }
	    b && /^--/ { exit } b { print }' "$_m" >"$R/$_d.b64"
	base64 -d "$R/$_d.b64" 2>/dev/null | gzip -dc >"$R/$_d.xml" 2>"$R/$_d.gzerr"
	_gz=$?
	tap_ok '[ $_gz -eq 0 ] && [ -s "$R/$_d.xml" ]' \
	    "$_d: the attachment decodes (base64) and gunzips"
	sed 's/ xmlns="[^"]*"//' "$R/$_d.xml" >"$R/$_d.nons.xml"
}

# The RFC 7489 appendix C schema declares a targetNamespace, yet its own
# types are referenced unqualified and RFC 7489 reports carry no
# namespace: without the attribute it compiles and applies (as in
# tests/report/test_report.sh).
sed -e 's/ targetNamespace="[^"]*"//' "$xsd/rfc7489-appendixC-rua-schema.xsd" \
    >"$T/rfc7489.xsd"

# validate DOMAIN XSD-FILE NAME
validate() {
	xmllint --noout --schema "$2" "$R/$1.xml" >"$R/$1.lint" 2>&1
	_rc=$?
	sed 's/^/#   /' "$R/$1.lint"
	tap_is "$_rc" 0 "$1: validates with xmllint --schema against the $3 XSD"
}

x() { xmllint --xpath "$2" "$R/$1.nons.xml" 2>/dev/null; }

# records DOMAIN: one line per record, fields in this order:
# source_ip count disposition dkim spf header_from envelope_from
# dkim=domain/selector/result,... spf=domain/scope/result
records() {
	_n=$(x "$1" 'count(/feedback/record)')
	_r=1
	while [ "$_r" -le "${_n:-0}" ]; do
		_p="/feedback/record[$_r]"
		_l=$(x "$1" "concat($_p/row/source_ip, ' ', $_p/row/count, ' ',
		    $_p/row/policy_evaluated/disposition, ' ',
		    $_p/row/policy_evaluated/dkim, ' ',
		    $_p/row/policy_evaluated/spf, ' ',
		    $_p/identifiers/header_from, ' ',
		    $_p/identifiers/envelope_from)")
		_k=$(x "$1" "count($_p/auth_results/dkim)")
		_j=1 _dk=
		while [ "$_j" -le "${_k:-0}" ]; do
			_q="$_p/auth_results/dkim[$_j]"
			_dk="$_dk${_dk:+,}$(x "$1" "concat($_q/domain, '/', $_q/selector, '/', $_q/result)")"
			_j=$((_j + 1))
		done
		_q="$_p/auth_results/spf"
		echo "$_l dkim=$_dk spf=$(x "$1" "concat($_q/domain, '/', $_q/scope, '/', $_q/result)")"
		_r=$((_r + 1))
	done | sort
}

# --- alpha.test -----------------------------------------------------------
m=$(report_of dmarc-rua@alpha.test)
tap_ok '[ -n "$m" ]' "alpha.test: report mail to dmarc-rua@alpha.test at the sink"
if [ -n "$m" ]; then
	check_mail "$m" alpha.test dmarc-rua@alpha.test
	validate alpha.test "$xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" "RFC 9990"
	tap_is "$(x alpha.test "concat(/feedback/version, ' ',
	    /feedback/report_metadata/org_name, ' ',
	    /feedback/report_metadata/email, ' ',
	    /feedback/report_metadata/extra_contact_info, ' ',
	    /feedback/report_metadata/report_id, ' ',
	    /feedback/report_metadata/date_range/begin, ' ',
	    /feedback/report_metadata/date_range/end)")" \
	    "1.0 Receiver Test noreply-dmarc@mx.receiver.test https://mx.receiver.test/dmarc $id $begin $end" \
	    "alpha.test: report_metadata (org, email, contact, ID as in the Subject, UTC day)"
	tap_ok '[ -n "$(x alpha.test "string(/feedback/report_metadata/generator)")" ]' \
	    "alpha.test: generator present"
	tap_is "$(x alpha.test "concat(/feedback/policy_published/domain, ' p=',
	    /feedback/policy_published/p, ' adkim=',
	    /feedback/policy_published/adkim, ' aspf=',
	    /feedback/policy_published/aspf, ' testing=',
	    /feedback/policy_published/testing)")" \
	    "alpha.test p=reject adkim=r aspf=r testing=n" "alpha.test: policy_published"
	[ "$ndays" = 1 ] &&
	tap_is "$(records alpha.test)" \
"192.0.2.10 3 pass pass pass alpha.test alpha.test dkim=alpha.test/sel/pass spf=alpha.test/mfrom/pass
192.0.2.11 2 pass fail pass alpha.test alpha.test dkim= spf=alpha.test/mfrom/pass
198.51.100.66 1 pass pass fail alpha.test other.test dkim=alpha.test/sel/pass spf=other.test/mfrom/none
198.51.100.66 2 reject fail fail alpha.test alpha.test dkim= spf=alpha.test/mfrom/fail
198.51.100.67 1 reject fail fail alpha.test alpha.test dkim=alpha.test/sel/fail spf=alpha.test/mfrom/fail" \
	    "alpha.test: 5 records, counts and results as sent (9 messages)"
fi

# --- beta.test ------------------------------------------------------------
m=$(report_of reports@authorized.test)
tap_ok '[ -n "$m" ]' "beta.test: report mail to reports@authorized.test at the sink"
m2=$(report_of agg@beta.test)
tap_ok '[ -n "$m2" ]' "beta.test: report mail to agg@beta.test at the sink"
if [ -n "$m" ] && [ -n "$m2" ]; then
	check_mail "$m" beta.test reports@authorized.test
	tap_ok 'grep -q "^Subject: Report Domain: beta.test Submitter: mx.receiver.test Report-ID: $id$" "$m2"' \
	    "beta.test: both destinations got the same report ID"
	validate beta.test "$xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" "RFC 9990"
	tap_is "$(x beta.test "concat(/feedback/policy_published/domain, ' p=',
	    /feedback/policy_published/p, ' sp=',
	    /feedback/policy_published/sp, ' np=',
	    /feedback/policy_published/np, ' adkim=',
	    /feedback/policy_published/adkim, ' aspf=',
	    /feedback/policy_published/aspf, ' fo=',
	    /feedback/policy_published/fo, ' testing=',
	    /feedback/policy_published/testing, ' discovery_method=',
	    /feedback/policy_published/discovery_method)")" \
	    "beta.test p=quarantine sp=none np=reject adkim=s aspf=r fo=1 testing=n discovery_method=treewalk" \
	    "beta.test: policy_published (sp, np, strict adkim, fo, discovery)"
	[ "$ndays" = 1 ] &&
	tap_is "$(records beta.test)" \
"192.0.2.20 1 pass fail pass beta.test beta.test dkim=mail.beta.test/s2/pass spf=beta.test/mfrom/pass
192.0.2.20 2 pass pass pass beta.test beta.test dkim=beta.test/s2/pass spf=beta.test/mfrom/pass
198.51.100.77 1 none fail fail sub.beta.test sub.beta.test dkim= spf=sub.beta.test/mfrom/none
198.51.100.77 1 reject fail fail nx.beta.test nx.beta.test dkim= spf=nx.beta.test/mfrom/none
198.51.100.77 2 quarantine fail fail beta.test beta.test dkim= spf=beta.test/mfrom/fail
2001:db8::20 1 pass fail pass beta.test beta.test dkim= spf=beta.test/mfrom/pass" \
	    "beta.test: 6 records, counts and results as sent (8 messages)"
fi

# --- gamma.test, RFC 7489 form --------------------------------------------
m=$(report_of rua@gamma.test)
tap_ok '[ -n "$m" ]' "gamma.test: report mail to rua@gamma.test at the sink"
if [ -n "$m" ]; then
	check_mail "$m" gamma.test rua@gamma.test
	validate gamma.test "$T/rfc7489.xsd" "RFC 7489"
	tap_ok '! grep -q "xmlns=" "$R/gamma.test.xml" &&
	    ! grep -q "<np>\|<discovery_method>\|<testing>" "$R/gamma.test.xml"' \
	    "gamma.test: RFC 7489 form (no namespace, no RFC 9990 policy fields)"
	[ "$ndays" = 1 ] &&
	tap_is "$(records gamma.test)" \
"192.0.2.30 1 none fail pass gamma.test gamma.test dkim= spf=gamma.test/mfrom/pass
198.51.100.88 1 none fail fail gamma.test gamma.test dkim= spf=gamma.test/mfrom/fail" \
	    "gamma.test: 2 records as sent"
fi

tap_is "$(hist_sql "SELECT policy_domain, state, attempts FROM reports_sent ORDER BY 1;" | sort -u)" \
"alpha.test|sent|1
beta.test|sent|1
gamma.test|sent|1" "reports_sent: each report claimed and marked sent once"
dm_running "after the reports"
tap_done
