#!/bin/sh
# tests/ingest/test_alerts.sh - the alerts found after dmarcctl import:
# each trigger (new source by IP and by reverse-DNS organization, pass
# rate drop, a source that starts failing DKIM), the thresholds, the
# deduplication, the webhook (caught by a local HTTP listener, with a
# failed delivery retried) and the mail digest (caught by a fake
# sendmail).  The reports are made here from a corpus sample
# (cry-inc/google.xml) with other days, IPs, counts and results; they
# live in tests/tmp.  ALERTS_DB=pgsql (tests/ingest/test_alerts_pgsql.sh)
# runs the same checks on a private PostgreSQL cluster
# (tests/store/pgsql-fixture.sh).
set -u
ALERTS_DB=${ALERTS_DB:-sqlite}
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate
[ -d "$corpus" ] || corpus=/work/shared/corpus/aggregate
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only
ctl=$(cd "$top_builddir" && pwd)/dmarcctl
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }
sample=$corpus/cry-inc/google.xml
if [ ! -f "$sample" ]; then
	if [ "${CI:-}" = "true" ]; then
		echo "1..1"
		echo "not ok 1 - no corpus sample $sample: required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP no corpus sample $sample"
	exit 0
fi

mkdir -p "$top_builddir/tests/tmp"
tmp=$(cd "$top_builddir/tests/tmp" && pwd)/alerts-$ALERTS_DB
sink_pid=
trap '[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null' EXIT
trap 'exit 1' INT TERM
rm -rf "$tmp"
mkdir -p "$tmp/r" "$tmp/mail"
db=$tmp/h.db
q() { sqlite3 "$db" "$1"; }
if [ "$ALERTS_DB" = pgsql ]; then
	. "$top_srcdir/tests/store/pgsql-fixture.sh"
	pg_fixture_require
	pg_fixture_start || { echo "Bail out! PostgreSQL did not start"; exit 1; }
	trap '[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; pg_fixture_stop' EXIT
	db=$PG_URI
	q() { pg_sql "$1"; }
fi
hook_port=$(pf_free_port)

# The fake sendmail: keeps each message; exits with the code in $tmp/sm.rc
cat > "$tmp/sendmail" <<EOF
#!/bin/sh
cat > "$tmp/mail/msg.\$\$"
exit \$(cat "$tmp/sm.rc" 2>/dev/null || echo 0)
EOF
chmod 755 "$tmp/sendmail"
conf=$tmp/dmarcd.conf
cat > "$conf" <<EOF
HistoryDatabase $db
OwnedDomains alerts.test
ImportReverseDNS no
AlertWebhookURL http://127.0.0.1:$hook_port/dmarc-hook
AlertDigestTo ops@example.test
ReportEmail dmarc@example.test
ReportSendmail $tmp/sendmail -t -oi
EOF

# gen FILE DAY ORG IP:COUNT:DKIM:SPF ...: a report for alerts.test about
# UTC day DAY (days since 1970), made from the corpus sample: its
# metadata and policy with another org, ID and period, its record
# repeated with the given source, count and policy_evaluated results.
base=20300
gen() {
	_f=$1 _day=$(($2 + base)) _org=$3
	shift 3
	_b=$((_day * 86400))
	sed -n '1,/<\/policy_published>/p' "$sample" | sed \
	    -e "s|<org_name>.*</org_name>|<org_name>$_org</org_name>|" \
	    -e "s|<report_id>.*</report_id>|<report_id>$_org-$_day</report_id>|" \
	    -e "s|<begin>.*</begin>|<begin>$_b</begin>|" \
	    -e "s|<end>.*</end>|<end>$((_b + 86399))</end>|" \
	    -e "s|foo-bar.io|alerts.test|g" > "$_f"
	for _r in "$@"; do
		IFS=: read -r _ip _cnt _dkim _spf <<EOF
$_r
EOF
		sed -n '/<record>/,/<\/record>/p' "$sample" | sed \
		    -e "s|<source_ip>.*</source_ip>|<source_ip>$_ip</source_ip>|" \
		    -e "s|<count>.*</count>|<count>$_cnt</count>|" \
		    -e "/<policy_evaluated>/,/<\/policy_evaluated>/s|<dkim>.*</dkim>|<dkim>$_dkim</dkim>|" \
		    -e "/<policy_evaluated>/,/<\/policy_evaluated>/s|<spf>.*</spf>|<spf>$_spf</spf>|" \
		    -e "s|foo-bar.io|alerts.test|g" >> "$_f"
	done
	echo "</feedback>" >> "$_f"
}
imp() { "$ctl" -c "$conf" import "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; }
alerts() { q "SELECT count(*) FROM alerts $1"; }
hooks() { if [ -f "$tmp/hook.log" ]; then wc -l < "$tmp/hook.log"; else echo 0; fi; }

# Baseline: two sources, everything passing.  The first report of the
# domain raises no new_source, whatever its volume.
gen "$tmp/r/d1.xml" 1 rep.test 192.0.2.1:100:pass:pass 192.0.2.2:50:pass:fail
imp "$tmp/r/d1.xml"
check "first report: stored" "$rc" 0
check "first report of a domain: no alert" "$(alerts "")" 0
for d in 2 3 4 5 6 7; do
	gen "$tmp/r/d$d.xml" $d rep.test 192.0.2.1:100:pass:pass 192.0.2.2:50:pass:fail
done
imp "$tmp/r/d2.xml" "$tmp/r/d3.xml" "$tmp/r/d4.xml" "$tmp/r/d5.xml" \
    "$tmp/r/d6.xml" "$tmp/r/d7.xml"
check "a steady week: no alert" "$(alerts "")" 0

# Day 8: a new source (40 messages), a tiny new one (5, under
# AlertNewSourceMinMessages 10), 192.0.2.2 fails DKIM; the pass rate
# falls from 100% to 100/195.  The webhook is not listening yet.
gen "$tmp/r/d8.xml" 8 rep.test 192.0.2.1:100:pass:pass \
    192.0.2.2:50:fail:fail 198.51.100.7:40:fail:fail 203.0.113.9:5:fail:fail
imp "$tmp/r/d8.xml"
check "day 8: import exit 0 despite the webhook being down" "$rc" 0
check "new_source for 198.51.100.7" \
    "$(alerts "WHERE kind = 'new_source' AND subject = '198.51.100.7' AND domain = 'alerts.test'")" 1
check "no alert for a new source under the threshold" \
    "$(alerts "WHERE subject = '203.0.113.9'")" 0
check "dkim_failing for 192.0.2.2" \
    "$(alerts "WHERE kind = 'dkim_failing' AND subject = '192.0.2.2'")" 1
check "no dkim_failing for the source still passing" \
    "$(alerts "WHERE subject = '192.0.2.1'")" 0
day8=$(date -u -d @$(((base + 8) * 86400)) +%Y-%m-%d)
check "pass_rate_drop for $day8" \
    "$(alerts "WHERE kind = 'pass_rate_drop' AND subject = '$day8'")" 1
check "three alerts in all" "$(alerts "")" 3
q "SELECT detail FROM alerts WHERE kind = 'pass_rate_drop'" | grep -q '"messages":195' &&
    ok "pass_rate_drop detail: the day's volume" ||
    nok "pass_rate_drop detail: $(q "SELECT detail FROM alerts WHERE kind = 'pass_rate_drop'")"
grep -q "AlertWebhookURL http://127.0.0.1:$hook_port/dmarc-hook:" "$tmp/err" &&
    ok "webhook down: the error names AlertWebhookURL" ||
    nok "webhook down: $(cat "$tmp/err")"
check "webhook down: nothing marked delivered" \
    "$(alerts "WHERE delivered_webhook IS NOT NULL")" 0

sink() {	# sink STATUS: the listener, answering STATUS
	rm -f "$tmp/hook.ready"
	python3 "$top_srcdir/tests/ingest/webhook-sink.py" "$hook_port" \
	    "$tmp/hook.log" "$tmp/hook.ready" "$1" &
	sink_pid=$!
	i=0
	while [ ! -f "$tmp/hook.ready" ] && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

# A listener that answers 500: not delivered, and delivery stops there.
sink 500
"$ctl" -c "$conf" alerts deliver > "$tmp/out" 2> "$tmp/err"
check "webhook answers 500: alerts deliver exits 75" "$?" 75
grep -q "HTTP status 500" "$tmp/err" && ok "webhook answers 500: said" ||
    nok "webhook answers 500: $(cat "$tmp/err")"
check "webhook answers 500: one POST, then it stops" "$(hooks)" 1
check "webhook answers 500: nothing marked delivered" \
    "$(alerts "WHERE delivered_webhook IS NOT NULL")" 0
kill "$sink_pid"
wait "$sink_pid" 2>/dev/null
rm -f "$tmp/hook.log"

# The listener comes up: alerts deliver sends the three waiting.
sink 200
"$ctl" -c "$conf" alerts deliver > "$tmp/out" 2> "$tmp/err"
check "alerts deliver: exit 0" "$?" 0
check "webhook: three POSTs" "$(hooks)" 3
grep -q '^/dmarc-hook application/json {"id":[0-9]*,"domain":"alerts.test","kind":"new_source","subject":"198.51.100.7",' "$tmp/hook.log" &&
    ok "webhook: JSON body with domain, kind and subject" ||
    nok "webhook: $(head -n 1 "$tmp/hook.log")"
grep -q '"detail":{"day":"'"$day8"'","messages":40,"ips":"198.51.100.7"}' "$tmp/hook.log" &&
    ok "webhook: the detail object" || nok "webhook: detail: $(cat "$tmp/hook.log")"
check "webhook: all marked delivered" \
    "$(alerts "WHERE delivered_webhook IS NOT NULL")" 3

# Dedup: the same day again from another reporter, then day 9 with the
# same sources: no second alert for a source; the pass rate of day 9 is
# another day, so it alerts once more.
gen "$tmp/r/d8b.xml" 8 other.test 192.0.2.1:100:pass:pass \
    192.0.2.2:50:fail:fail 198.51.100.7:40:fail:fail
imp "$tmp/r/d8b.xml"
check "another report of day 8: no new alert" "$(alerts "")" 3
check "no webhook for old alerts" "$(hooks)" 3
gen "$tmp/r/d9.xml" 9 rep.test 192.0.2.1:100:pass:pass \
    192.0.2.2:50:fail:fail 198.51.100.7:40:fail:fail
imp "$tmp/r/d9.xml"
check "day 9: one new_source alert in all (dedup)" "$(alerts "WHERE kind = 'new_source'")" 1
check "day 9: one dkim_failing alert in all (dedup)" "$(alerts "WHERE kind = 'dkim_failing'")" 1
check "day 9: a pass_rate_drop per day" "$(alerts "WHERE kind = 'pass_rate_drop'")" 2
check "day 9: the new alert went to the webhook" "$(hooks)" 4

# A PTR organization: two new IPs of one organization alert once, under
# its name; a third IP of it later is no news.
q "INSERT INTO rdns (ip, ptr, org, status, resolved_at) VALUES
    ('198.51.100.20', 'out1.mailhost.test', 'mailhost.test', 'ok', 0),
    ('198.51.100.21', 'out2.mailhost.test', 'mailhost.test', 'ok', 0),
    ('198.51.100.22', 'out3.mailhost.test', 'mailhost.test', 'ok', 0)"
gen "$tmp/r/d10.xml" 10 rep.test 192.0.2.1:100:pass:pass \
    198.51.100.20:6:pass:pass 198.51.100.21:6:pass:pass
imp "$tmp/r/d10.xml"
check "PTR organization: one new_source for mailhost.test" \
    "$(alerts "WHERE kind = 'new_source' AND subject = 'mailhost.test'")" 1
q "SELECT detail FROM alerts WHERE subject = 'mailhost.test'" |
    grep -q '"messages":12,"ips":"198.51.100.2[01],198.51.100.2[01]"' &&
    ok "PTR organization: its IPs and volume added up" ||
    nok "PTR organization: $(q "SELECT detail FROM alerts WHERE subject = 'mailhost.test'")"
gen "$tmp/r/d11.xml" 11 rep.test 192.0.2.1:100:pass:pass 198.51.100.22:30:pass:pass
imp "$tmp/r/d11.xml"
check "PTR organization: a new IP of a known one is no news" \
    "$(alerts "WHERE kind = 'new_source'")" 2

# A higher threshold: no alert for a new source of 40 on day 12.
echo "AlertNewSourceMinMessages 50" >> "$conf"
gen "$tmp/r/d12.xml" 12 rep.test 192.0.2.1:100:pass:pass 198.51.100.50:40:pass:pass
imp "$tmp/r/d12.xml"
check "AlertNewSourceMinMessages 50: no alert for 40 messages" \
    "$(alerts "WHERE subject = '198.51.100.50'")" 0

# alerts list
"$ctl" -c "$conf" alerts list > "$tmp/list" 2> "$tmp/err"
check "alerts list: exit 0" "$?" 0
check "alerts list: one line per alert" "$(wc -l < "$tmp/list")" "$(alerts "")"
"$ctl" -c "$conf" alerts list --domain alerts.test --json > "$tmp/list.json"
check "alerts list --json: valid JSON lines" \
    "$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["domain"] == "alerts.test"))' "$tmp/list.json")" \
    "$(alerts "")"
"$ctl" -c "$conf" alerts list --domain nothing.test > "$tmp/out"
check "alerts list --domain other: exit 0" "$?" 0
check "alerts list --domain other: nothing" "$(wc -l < "$tmp/out")" 0

# The digest: sendmail failing first keeps the alerts pending.
echo 1 > "$tmp/sm.rc"
"$ctl" -c "$conf" alerts digest > "$tmp/out" 2> "$tmp/err"
check "digest, sendmail fails: exit 75" "$?" 75
check "digest, sendmail fails: nothing marked" \
    "$(alerts "WHERE delivered_digest IS NOT NULL")" 0
rm -f "$tmp/mail/"*
echo 0 > "$tmp/sm.rc"
"$ctl" -c "$conf" alerts digest > "$tmp/out" 2> "$tmp/err"
check "digest: exit 0" "$?" 0
check "digest: one mail" "$(ls "$tmp/mail" | wc -l)" 1
m=$(ls "$tmp/mail"/* | head -n 1)
total=$(alerts "")
grep -q '^To: ops@example.test$' "$m" && ok "digest: To: AlertDigestTo" || nok "digest: To: $(head -n 5 "$m")"
grep -q "^Subject: DMARC alerts: $total new$" "$m" && ok "digest: Subject counts $total" ||
    nok "digest: $(grep Subject "$m")"
check "digest: every alert in the body" \
    "$(grep -c '  alerts.test  \(new_source\|pass_rate_drop\|dkim_failing\)  ' "$m")" "$total"
check "digest: all marked" "$(alerts "WHERE delivered_digest IS NOT NULL")" "$total"
"$ctl" -c "$conf" alerts digest > "$tmp/out" 2> "$tmp/err"
check "second digest: exit 0" "$?" 0
check "second digest: no mail" "$(ls "$tmp/mail" | wc -l)" 1
grep -q "no new alerts" "$tmp/out" && ok "second digest: says so" || nok "second digest: $(cat "$tmp/out")"

echo "1..$n"
exit $fail
