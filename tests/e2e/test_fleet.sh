#!/bin/sh
# test_fleet.sh - two dmarcd nodes writing to one PostgreSQL, behind one
# real Postfix: the PostgreSQL acceptance scenarios of issue 5.
#
# A private PostgreSQL (tests/store/pgsql-fixture.sh), NSD for the test
# zones and a private Postfix (tests/e2e/postfix-fixture.sh) with two
# smtpd services: the fixture's port uses dmarcd node-a (started by
# tests/e2e/dmarcd-fixture.sh), a second port, added to master.cf here
# with -o smtpd_milters=..., uses dmarcd node-b (started here from a copy
# of node-a's configuration).  Both have HistoryDatabase postgresql://...,
# their own NodeName and HistorySpool, and HistoryDurability full.
#
#   1. node-b starts while PostgreSQL is down: it listens, warns, takes a
#      message, and its row arrives from the spool once the server is up.
#   2. Messages for the policy domains alpha.test and beta.test (pass and
#      fail) and gamma.test through both nodes; one row each, with the
#      node that judged it.
#   3. A partly failed send (gamma.test has two rua addresses; the
#      sendmail command fails for one): dmarcctl exits 75, the report
#      stays claimed, another node skips it, the next run of the claiming
#      node sends it to both addresses again with the same Report-ID.
#   4. Two dmarcctl report runs (different NodeName) race: exactly one
#      report per domain and day is sent, it counts the rows of both
#      nodes, validates against the RFC 9990 XSD, and reports_sent says
#      sent with the mailed Report-ID.
#   5. PostgreSQL stopped for 30 s while Postfix sends through both nodes:
#      every message Postfix accepted has exactly one row afterwards (the
#      spools replay), and both spools end empty.
#
# Reports are "sent" with a ReportSendmail script that saves each mail
# to a directory (as tests/report/test_send.sh does), by dmarcctl run
# under faketime(1) one day ahead, so that the day has ended.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"
. "$top_srcdir/tests/store/pgsql-fixture.sh"

DMARCCTL=$top_builddir/dmarcctl
dm_fixture_require
[ -x "$DMARCCTL" ] || dm_need "dmarcctl not built"
command -v xmllint >/dev/null 2>&1 || dm_need "xmllint not installed" libxml2-utils
FAKETIME=$(command -v faketime) || dm_need "faketime not installed" faketime
nsd_fixture_require
postfix_fixture_require
pg_fixture_require

xsd=
for c in ${DMARCD_CORPUS:-} "$top_srcdir/../shared/corpus" \
    "$top_srcdir/../../shared/corpus"; do
	if [ -f "$c/xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" ]; then
		xsd=$c/xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd
		break
	fi
done
[ -n "$xsd" ] || dm_need "the RFC 9990 XSD (corpus/xsd) not found"

# --- zones ----------------------------------------------------------------
# node-a's clients are 192.0.2.10, node-b's 192.0.2.20: the reports show
# whose rows they counted.
zone_add test </dev/null
zone_add alpha.test <<'ZONE'
@       300 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.20 -all"
_dmarc  300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@alpha.test"
ZONE
zone_add beta.test <<'ZONE'
@       300 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.20 -all"
_dmarc  300 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@beta.test"
ZONE
zone_add gamma.test <<'ZONE'
@       300 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.20 -all"
_dmarc  300 IN TXT "v=DMARC1; p=none; rua=mailto:one@gamma.test,mailto:two@gamma.test"
ZONE
zone_add load.test <<'ZONE'
@       300 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.20 -all"
_dmarc  300 IN TXT "v=DMARC1; p=none"
ZONE
nsd_fixture_start

# --- PostgreSQL, Postfix, node-a ------------------------------------------
if ! pg_fixture_start; then
	echo "Bail out! cannot start the private PostgreSQL"
	nsd_fixture_stop
	exit 1
fi
B_PID=
fleet_cleanup() {
	if [ -n "$B_PID" ]; then
		kill -TERM "$B_PID" 2>/dev/null
		wait "$B_PID" 2>/dev/null
	fi
	if [ "$1" != 0 ] && [ -s "${B_LOG:-}" ]; then
		echo "# node-b log (last 20 lines):"
		tail -n 20 "$B_LOG" | sed 's/^/#   /'
	fi
	dm_cleanup "$1"
	pg_fixture_stop
}
DM_PORT=$(pf_free_port)
PF_CLEANUP_HOOK='fleet_cleanup $_pf_rc'
postfix_fixture_start "inet:127.0.0.1:$DM_PORT"
dm_fixture_init "$PF_DIR/dmarcd" "$DM_PORT"
DM_NAMESERVERS=$NSD_SERVER
DB=$PG_URI
DM_EXTRA="NodeName node-a
HistorySpool $DM_DIR/spool"
dm_start
echo "# node-a $DM_PID on 127.0.0.1:$DM_PORT, PostgreSQL on $PG_PORT"

# The second smtpd, with node-b as its milter.
B_PORT=$(pf_free_port)
PF_PORT_B=$(pf_free_port)
echo "127.0.0.1:$PF_PORT_B inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$B_PORT" \
    >>"$PF_ETC/master.cf"
"$PF_POSTFIX" -c "$PF_ETC" reload >>"$PF_DIR/start.log" 2>&1
B_DIR=$PF_DIR/dmarcd-b
mkdir -p "$B_DIR"
chown nobody "$B_DIR"
B_LOG=$B_DIR/dmarcd.log
: >"$B_LOG"
sed -e "s|^Socket .*|Socket inet:$B_PORT@127.0.0.1|" \
    -e "s|^PidFile .*|PidFile $B_DIR/dmarcd.pid|" \
    -e "s|^NodeName .*|NodeName node-b|" \
    -e "s|^HistorySpool .*|HistorySpool $B_DIR/spool|" "$DM_CONF" >"$B_DIR/dmarcd.conf"
chmod 644 "$B_DIR/dmarcd.conf"

# b_start: node-b, until it says it listens (0), or it died / 10 s (1).
b_start() {
	"$DMARCD" -f -c "$B_DIR/dmarcd.conf" >>"$B_LOG" 2>&1 &
	B_PID=$!
	_i=0
	while [ $_i -lt 100 ]; do
		kill -0 "$B_PID" 2>/dev/null || { wait "$B_PID"; B_PID=; return 1; }
		grep -q "listening on" "$B_LOG" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# --- messages -------------------------------------------------------------
T=$PF_DIR/fleet
M=$T/msg
mkdir -p "$M"
chmod 755 "$T" "$M"
# send NODE NAME FROM-DOMAIN IP: one message through node-a's or node-b's
# smtpd, Message-ID <NAME.PID@fleet.test>.
send() {
	_node=$1 _n=$2 _d=$3 _ip=$4
	printf 'From: <user@%s>\nTo: <rcpt@receiver.test>\nSubject: %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s.%s@fleet.test>\n\nHello.\n' \
	    "$_d" "$_n" "$_n" "$$" >"$M/$_n"
	if [ "$_node" = a ]; then
		_p=$PF_PORT
	else
		_p=$PF_PORT_B
	fi
	_pf_swaks 127.0.0.1 "$_p" "$_n" --xclient-addr "$_ip" \
	    --helo "mail.$_d" --from "user@$_d" --to rcpt@receiver.test \
	    --data "@$M/$_n"
}
accepted() { case $PF_REPLY in "250 "*) return 0 ;; esac; return 1; }
# rows SQL-CONDITION: how many verdict rows match.
rows() { pg_sql "SELECT count(*) FROM verdicts WHERE $1"; }
# wait_rows CONDITION N [SECONDS]: until that many rows (rejected
# messages' rows may come a moment after the reply).
wait_rows() {
	_i=0
	while [ "$(rows "$1")" -lt "$2" ] && [ $_i -lt $((${3:-10} * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	rows "$1"
}
spool_size() { stat -c %s "$1" 2>/dev/null || echo missing; }

# --- 1. node-b starts while PostgreSQL is down ----------------------------
pg_fixture_stop_server
b_start
tap_is "$?" 0 "1 PostgreSQL down at start: node-b starts and listens"
tap_ok 'grep -q "HistoryDatabase postgresql://dmarcd@127.0.0.1:$PG_PORT/dmarc_test: cannot connect.*starting anyway, records go to HistorySpool $B_DIR/spool until it is back" "$B_LOG"' \
    "1 PostgreSQL down at start: a warning naming the database and the spool"
grep "starting anyway" "$B_LOG" | cut -c1-200 | sed 's/^/#   /'
send b b-down alpha.test 192.0.2.20
tap_ok 'accepted' "1 PostgreSQL down: node-b accepts a message ($PF_REPLY)"
tap_ok '[ "$(spool_size "$B_DIR/spool")" != missing ] && [ "$(spool_size "$B_DIR/spool")" -gt 16 ]' \
    "1 PostgreSQL down: its record is in node-b's spool ($(spool_size "$B_DIR/spool") bytes)"
pg_fixture_start_server
tap_is "$(wait_rows "node = 'node-b' AND message_id LIKE '%b-down.$$@%'" 1 15)" 1 \
    "1 PostgreSQL back: the spooled row is stored once"
_i=0
while [ "$(spool_size "$B_DIR/spool")" != 16 ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
tap_is "$(spool_size "$B_DIR/spool")" 16 "1 PostgreSQL back: node-b's spool is empty (header only)"

# --- 2. mail for three policy domains through both nodes ------------------
# name node domain ip; alpha fails from 198.51.100.66 are rejected
# (p=reject), beta's are accepted (p=none).
nacc=0
nsent=1	# b-down
while read -r name node dom ip; do
	send "$node" "$name" "$dom" "$ip"
	nsent=$((nsent + 1))
	accepted && nacc=$((nacc + 1))
done <<'EOF'
a1 a alpha.test 192.0.2.10
a2 a alpha.test 192.0.2.10
a3 a alpha.test 192.0.2.10
a4 a alpha.test 198.51.100.66
a5 b alpha.test 192.0.2.20
a6 b alpha.test 192.0.2.20
b1 a beta.test 192.0.2.10
b2 a beta.test 192.0.2.10
b3 b beta.test 192.0.2.20
b4 b beta.test 192.0.2.20
b5 b beta.test 198.51.100.66
g1 a gamma.test 192.0.2.10
g2 b gamma.test 192.0.2.20
EOF
tap_is "$nacc" 12 "2 12 of 13 messages accepted (the alpha.test fail rejected)"
tap_is "$(wait_rows "message_id LIKE '%.$$@fleet.test%'" 14)" 14 \
    "2 one row per message (14 with the one spooled at start)"
tap_is "$(pg_sql "SELECT policy_domain, node, count(*) FROM verdicts WHERE message_id LIKE '%.$$@fleet.test%' GROUP BY 1, 2 ORDER BY 1, 2")" \
"alpha.test|node-a|4
alpha.test|node-b|3
beta.test|node-a|2
beta.test|node-b|3
gamma.test|node-a|1
gamma.test|node-b|1" "2 rows per policy domain and node"
tap_is "$(pg_sql "SELECT dmarc_result, action, count(*) FROM verdicts WHERE message_id LIKE '%.$$@fleet.test%' GROUP BY 1, 2 ORDER BY 1, 2")" \
"fail|accept|1
fail|reject|1
pass|accept|12" "2 verdicts: 12 pass, a rejected and an accepted fail"

# --- the report runs ------------------------------------------------------
MAIL=$T/mail
mkdir "$MAIL"
# The sendmail command: saves each mail; fails (75) for two@gamma.test
# while $T/fail-two exists.
cat >"$T/sendmail" <<EOF
#!/bin/sh
f=\$(mktemp "$MAIL/XXXXXXXX")
cat >"\$f"
if [ -e "$T/fail-two" ] && grep -q '^To: two@gamma.test\$' "\$f"; then
	mv "\$f" "\$f.failed"
	exit 75
fi
mv "\$f" "\$f.eml"
EOF
chmod 755 "$T/sendmail"
# ctlconf NODE: a dmarcctl configuration for that node.
ctlconf() {
	cat >"$T/ctl-$1.conf" <<EOF
HistoryDatabase $PG_URI
NodeName $1
ReportOrgName Receiver Test
ReportEmail noreply-dmarc@mx.receiver.test
ReportSendmail $T/sendmail -t -oi
Nameservers $NSD_SERVER
EOF
}
ctlconf node-a
ctlconf node-b
# The day (or days, should the test run over midnight UTC) of the rows.
DAYS=$(pg_sql "SELECT min(received), max(received) FROM verdicts" |
    { IFS='|' read -r lo hi; echo "$(date -u -d "@$lo" +%F)..$(date -u -d "@$hi" +%F)"; })
NDAYS=$(pg_sql "SELECT count(DISTINCT day) FROM verdicts")
# ctl NODE OUT [options]: dmarcctl report as the daily run after
# midnight sees it (dmarcctl sends no day that has not ended): libfaketime
# moves its clock, only its clock, one day ahead.  (ASan only warns when
# it is not first in the preload list.)
ctl() {
	_node=$1 _out=$2
	shift 2
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$FAKETIME" -f +1d "$DMARCCTL" -c "$T/ctl-$_node.conf" report \
	    --period "$DAYS" "$@" >"$_out" 2>&1
}
# subject_ids DOMAIN: the Report-IDs of the mails saved for DOMAIN.
subject_ids() {
	cat "$MAIL"/*.eml 2>/dev/null |
	    sed -n "s/^Subject: Report Domain: $1 Submitter: mx.receiver.test Report-ID: //p"
}

# --- 3. a partly failed send, retried -------------------------------------
: >"$T/fail-two"
ctl node-a "$T/g1.out" --domain gamma.test
rc=$?
sed 's/^/#   /' "$T/g1.out"
tap_is "$rc" 75 "3 one destination failed: dmarcctl exits 75 (EX_TEMPFAIL)"
tap_ok 'grep -q "^gamma.test .* mailto:one@gamma.test sent report-id=" "$T/g1.out" &&
    grep -q "^gamma.test .* mailto:two@gamma.test failed (the sendmail command failed" "$T/g1.out"' \
    "3 one@ sent, two@ failed"
gid=$(subject_ids gamma.test)
tap_is "$(pg_sql "SELECT state, node, report_id, attempts FROM reports_sent WHERE policy_domain = 'gamma.test'")" \
    "claimed|node-a|$gid|1" "3 the report stays claimed by node-a, with the mailed Report-ID"
ctl node-b "$T/g2.out" --domain gamma.test
rc=$?
sed 's/^/#   /' "$T/g2.out"
tap_ok '[ $rc = 0 ] && grep -q "^gamma.test .* - skipped (claimed by another node)$" "$T/g2.out"' \
    "3 node-b leaves node-a's fresh claim alone"
rm -f "$T/fail-two"
ctl node-a "$T/g3.out" --domain gamma.test
rc=$?
sed 's/^/#   /' "$T/g3.out"
tap_ok '[ $rc = 0 ] && grep -q "^sent=2 skipped=0 failed=0$" "$T/g3.out"' \
    "3 retry by node-a: sent to both destinations"
tap_is "$(subject_ids gamma.test | sort | uniq -c | sed 's/^ *//')" "3 $gid" \
    "3 the retry has the same Report-ID (3 mails: one@ twice, two@ once)"
tap_is "$(cat "$MAIL"/*.eml | grep -c '^To: one@gamma.test$')/$(cat "$MAIL"/*.eml | grep -c '^To: two@gamma.test$')" \
    "2/1" "3 one@ got it again, as documented"
tap_is "$(pg_sql "SELECT state, report_id, attempts FROM reports_sent WHERE policy_domain = 'gamma.test'")" \
    "sent|$gid|2" "3 reports_sent: sent, second attempt"

# --- 4. two report runs race ----------------------------------------------
rm -f "$MAIL"/*
ctl node-a "$T/ra.out" &
pa=$!
ctl node-b "$T/rb.out" &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
sed 's/^/#   a: /' "$T/ra.out"
sed 's/^/#   b: /' "$T/rb.out"
tap_is "$ra/$rb" "0/0" "4 racing runs: both exit 0"
for d in alpha.test beta.test; do
	tap_is "$(cat "$T/ra.out" "$T/rb.out" | grep -c "^$d .* sent report-id=")" "$NDAYS" \
	    "4 $d: sent once per day, by one of the two runs"
	tap_is "$(subject_ids "$d" | sort -u | wc -l | tr -d ' ')/$(subject_ids "$d" | wc -l | tr -d ' ')" \
	    "$NDAYS/$NDAYS" "4 $d: one mail per day at the sink of the sendmail command"
	tap_is "$(pg_sql "SELECT count(*), min(state), max(state) FROM reports_sent WHERE policy_domain = '$d'")" \
	    "$NDAYS|sent|sent" "4 $d: reports_sent says sent"
	tap_is "$(pg_sql "SELECT report_id FROM reports_sent WHERE policy_domain = '$d' ORDER BY period_begin")" \
	    "$(subject_ids "$d" | sort)" "4 $d: with the Report-ID that was mailed"
done
tap_ok '! cat "$T/ra.out" "$T/rb.out" | grep -q "^gamma.test .* sent "' \
    "4 gamma.test: already sent, not sent again"
tap_is "$(ls "$MAIL" | grep -c '\.failed$')" 0 "4 no send failed"
# The attachments: valid, and counting both nodes' rows.
for f in "$MAIL"/*.eml; do
	d=$(sed -n 's/^Subject: Report Domain: \([^ ]*\) .*/\1/p' "$f")
	awk '/^ filename=/ { h = 1; next } h && /^$/ { b = 1; next }
	    b && /^--/ { exit } b { print }' "$f" | base64 -d | gzip -dc \
	    >"$T/$d.xml"
done
for d in alpha.test beta.test; do
	x=$T/$d.xml
	xmllint --noout --schema "$xsd" "$x" 2>"$T/lint"
	tap_is "$?" 0 "4 $d: the report validates against the RFC 9990 XSD"
	sed 's/^/#   /' "$T/lint" | head -n 5
	cnt() { xmllint --xpath "sum(//*[local-name()='record']/*[local-name()='row']$1/*[local-name()='count'])" "$x" 2>/dev/null; }
	tap_is "$(cnt '')" "$(rows "policy_domain = '$d'")" \
	    "4 $d: message counts add up to the rows of both nodes"
	tap_is "$(cnt "[*[local-name()='source_ip']='192.0.2.10']")/$(cnt "[*[local-name()='source_ip']='192.0.2.20']")" \
	    "$(rows "policy_domain = '$d' AND node = 'node-a' AND client_ip = '192.0.2.10'")/$(rows "policy_domain = '$d' AND node = 'node-b' AND client_ip = '192.0.2.20'")" \
	    "4 $d: node-a's client (192.0.2.10) and node-b's (192.0.2.20) both counted"
done
tap_is "$(xmllint --xpath "sum(//*[local-name()='row']/*[local-name()='count'])" "$T/alpha.test.xml" 2>/dev/null)/$(xmllint --xpath "sum(//*[local-name()='row']/*[local-name()='count'])" "$T/beta.test.xml" 2>/dev/null)" \
    "7/5" "4 alpha.test reports 7 messages, beta.test 5 (as sent)"

# --- 5. PostgreSQL stopped for 30 s under load ----------------------------
# Two senders (one per node) send load.test mail one message after the
# other, from before the stop until after the start; each logs
# "QUEUEID REPLY" per message, tagged "down" while the server is stopped.
load() {	# load NODE IP
	_k=0
	while [ ! -e "$T/load-stop" ]; do
		_k=$((_k + 1))
		_tag=up
		[ -e "$T/pg-down" ] && _tag=down
		send "$1" "l$1$_k" load.test "$2"
		echo "$_tag ${PF_QUEUEID:--} $PF_REPLY" >>"$T/load-$1.log"
	done
}
: >"$T/load-a.log"
: >"$T/load-b.log"
load a 192.0.2.10 &
la=$!
load b 192.0.2.20 &
lb=$!
sleep 3
: >"$T/pg-down"
pg_fixture_stop_server
tap_is "$?" 0 "5 PostgreSQL stopped under load"
sleep 30
pg_fixture_start_server
tap_is "$?" 0 "5 PostgreSQL started again after 30 s"
rm -f "$T/pg-down"
sleep 3
: >"$T/load-stop"
wait $la
wait $lb
cat "$T/load-a.log" "$T/load-b.log" >"$T/load.log"
total=$(wc -l <"$T/load.log" | tr -d ' ')
down=$(grep -c '^down ' "$T/load.log")
acc=$(grep -c '^[a-z]* [0-9A-Za-z]* 250 ' "$T/load.log")
echo "# $total messages, $down while PostgreSQL was down, $acc accepted"
tap_ok '[ "$down" -ge 10 ]' "5 messages went through both nodes during the outage ($down)"
tap_is "$acc" "$total" "5 Postfix accepted every one of them (250)"
grep -v '^[a-z]* [0-9A-Za-z]* 250 ' "$T/load.log" | head -n 3 | sed 's/^/#   /'
# Both spools drain (replay within STORE_RETRY_MAX_MS of the start).
_i=0
while { [ "$(spool_size "$DM_DIR/spool")" != 16 ] || [ "$(spool_size "$B_DIR/spool")" != 16 ]; } &&
    [ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
tap_is "$(spool_size "$DM_DIR/spool")/$(spool_size "$B_DIR/spool")" "16/16" \
    "5 both spools empty again (header only)"
awk '$3 == "250" { print $2 }' "$T/load.log" | sort >"$T/acc.ids"
pg_sql "SELECT queue_id FROM verdicts WHERE policy_domain = 'load.test'" | sort >"$T/rows.ids"
tap_is "$(rows "policy_domain = 'load.test'")/$(sort -u "$T/rows.ids" | wc -l | tr -d ' ')" \
    "$acc/$acc" "5 one row per accepted message, no duplicate"
tap_ok 'cmp -s "$T/acc.ids" "$T/rows.ids"' \
    "5 the rows' queue ids are exactly those Postfix accepted"
diff "$T/acc.ids" "$T/rows.ids" | head -n 5 | sed 's/^/#   /'
tap_is "$(pg_sql "SELECT node, count(*) FROM verdicts WHERE policy_domain = 'load.test' GROUP BY 1 ORDER BY 1")" \
    "node-a|$(grep -c ' 250 ' "$T/load-a.log")
node-b|$(grep -c ' 250 ' "$T/load-b.log")" "5 each node's rows under its own name"

# --- the end --------------------------------------------------------------
tap_ok 'kill -0 "$B_PID"' "node-b still running"
kill -TERM "$B_PID"
wait "$B_PID"
tap_is "$?" 0 "node-b: SIGTERM, exit 0"
B_PID=
dm_stop
tap_is "$DM_STOP" 0 "node-a: SIGTERM, exit 0"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG" "$B_LOG"' \
    "no sanitizer report in either node's log"
tap_done
