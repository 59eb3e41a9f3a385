#!/bin/sh
# test_pgsql.sh - the PostgreSQL back-end and the spool, against a
# private cluster (pgsql-fixture.sh), driven by tests/helpers/storecli:
# schema creation, idempotent re-submission, two nodes at once, a URI
# password kept out of messages, a newer schema refused, and an outage:
# PostgreSQL stopped under load and started again, with every
# acknowledged row stored exactly once and the spool emptied; and a
# store opened while PostgreSQL is down: with a spool it opens and
# spools (the schema comes later), without one it is refused.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/store/pgsql-fixture.sh"

CLI=$top_builddir/tests/helpers/storecli
pg_fixture_require
echo "1..34"
n=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
	fi
}
# field NAME OUTPUT: the number after NAME in storecli's output
field() {
	echo "$2" | awk -v k="$1" '$1 == k { print $2 }'
}

if ! pg_fixture_start; then
	echo "Bail out! cannot start the private PostgreSQL"
	exit 1
fi
SPOOL=$PG_DIR/spool

# 1-3: schema created, N rows stored once
out=$("$CLI" "$PG_URI" submit 500 --node a --threads 4 2>&1)
ok $? "submit 500 records on node a"
ok "$([ "$(pg_sql 'SELECT MAX(version) FROM schema_version')" -ge 2 ]; echo $?)" \
    "schema_version is at least 2"
ok "$([ "$("$CLI" "$PG_URI" count)" = 500 ]; echo $?)" "500 rows stored"

# 4-5: the same keys again store nothing new
out=$("$CLI" "$PG_URI" submit 500 --node a --threads 4 2>&1)
ok "$([ "$(field duplicates "$out")" = 500 ] && [ "$(field committed "$out")" = 0 ]; echo $?)" \
    "re-submission: 500 duplicates, 0 new rows"
ok "$([ "$("$CLI" "$PG_URI" count)" = 500 ]; echo $?)" "still 500 rows"

# 6-8: two nodes at once
"$CLI" "$PG_URI" submit 1000 --node b --threads 8 >"$PG_DIR/b.out" 2>&1 &
pb=$!
"$CLI" "$PG_URI" submit 1000 --node c --threads 8 >"$PG_DIR/c.out" 2>&1 &
pc=$!
wait $pb
rb=$?
wait $pc
rc=$?
ok "$rb" "node b: 1000 records acknowledged"
ok "$rc" "node c: 1000 records acknowledged"
ok "$([ "$("$CLI" "$PG_URI" count)" = 2500 ]; echo $?)" \
    "2500 rows after both nodes"

# 9: the reports query works on PostgreSQL (through psql: same columns)
ok "$([ "$(pg_sql "SELECT COUNT(*) FROM verdicts WHERE policy_domain = 'example.test' AND dkim = 'd=example.test;s=s1;r=pass;a=1' AND eval_dkim = 'pass'")" = 2500 ]; echo $?)" \
    "derived columns stored as in SQLite"

# 9b: dmarcctl report reads the rows back from PostgreSQL (the derived
# eval_dkim/eval_spf columns hold text there)
mkdir "$PG_DIR/rep"
printf 'HistoryDatabase %s\nReportEmail noreply-dmarc@mx.receiver.test\n' \
    "$PG_URI" >"$PG_DIR/ctl.conf"
out=$("$top_builddir/dmarcctl" -c "$PG_DIR/ctl.conf" report --dry-run \
    --out "$PG_DIR/rep" --period "$(date -u +%F)" 2>&1)
echo "$out" | sed 's/^/#   /'
ok "$(echo "$out" | grep -q '^example.test .* rows=2500 records=[0-9]* messages=2500 file=' &&
    [ -n "$(find "$PG_DIR/rep" -name '*.xml.gz')" ]; echo $?)" \
    "dmarcctl report --dry-run on PostgreSQL: 2500 messages reported"

# 9c: a report scan longer than the store's 5 s statement timeout
# (STORE_BUSY_MS) completes.  The verdicts of database "slow" are read
# through a view that sleeps 10 ms per row: 700 rows, 7 s.
pg_sql "CREATE DATABASE slow" >/dev/null
SLOW="postgresql://dmarcd@127.0.0.1:$PG_PORT/slow"
"$CLI" "$SLOW" submit 700 --node s --threads 4 >/dev/null 2>&1
"$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U dmarcd -d slow >/dev/null <<'SQL'
ALTER TABLE verdicts RENAME TO verdicts_t;
CREATE FUNCTION slow_row() RETURNS boolean LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN PERFORM pg_sleep(0.01); RETURN true; END $$;
CREATE VIEW verdicts AS SELECT * FROM verdicts_t WHERE slow_row();
SQL
printf 'HistoryDatabase %s\n' "$SLOW" >"$PG_DIR/slow.conf"
out=$("$top_builddir/dmarcctl" -c "$PG_DIR/slow.conf" report --dry-run \
    --out "$PG_DIR/rep" --period "$(date -u +%F)" 2>&1)
echo "$out" | sed 's/^/#   /'
ok "$(echo "$out" | grep -q '^example.test .* messages=700 file='; echo $?)" \
    "a 7 s report scan is not cut by the 5 s statement timeout"

# 10: a password in the URI never shows in messages
err=$("$CLI" "postgresql://dmarcd:s3cretpw@127.0.0.1:1/dmarc_test" count 2>&1)
ok "$(echo "$err" | grep -q s3cretpw; [ $? -ne 0 ] && echo "$err" | grep -q '\*\*\*\*\*'; echo $?)" \
    "connection error hides the password"
echo "#   $err"

# 11: a newer schema is refused
pg_sql "CREATE DATABASE newer" >/dev/null
NEWER="postgresql://dmarcd@127.0.0.1:$PG_PORT/newer"
"$CLI" "$NEWER" count >/dev/null 2>&1
"$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U dmarcd -d newer \
    -c "INSERT INTO schema_version VALUES (99, 0, 'future')" >/dev/null
err=$("$CLI" "$NEWER" count 2>&1)
ok "$(echo "$err" | grep -q 'schema version 99 is newer'; echo $?)" \
    "a newer schema is refused"

# 12-18: sent reports.  Two processes race to claim one report, five
# rounds: exactly one wins each time.
wins=0
for r in 1 2 3 4 5; do
	"$CLI" "$PG_URI" claim race.test "$r" na >"$PG_DIR/ca.out" 2>&1 &
	pa=$!
	"$CLI" "$PG_URI" claim race.test "$r" nb >"$PG_DIR/cb.out" 2>&1 &
	pb=$!
	wait $pa
	wait $pb
	got=$(cat "$PG_DIR/ca.out" "$PG_DIR/cb.out" | sort | tr '\n' ' ')
	[ "$got" = "busy ok " ] && wins=$((wins + 1))
	echo "#   round $r: $got"
done
ok "$([ $wins = 5 ]; echo $?)" "racing claims: exactly one ok per round"
ok "$([ "$("$CLI" "$PG_URI" claim race.test 1 nc)" = busy ]; echo $?)" \
    "a third node is busy"
pg_sql "UPDATE reports_sent SET claimed_at = claimed_at - 7200 WHERE period_begin = 1" >/dev/null
ok "$([ "$("$CLI" "$PG_URI" claim race.test 1 nc)" = ok ] &&
    [ "$(pg_sql "SELECT node, attempts FROM reports_sent WHERE period_begin = 1")" = "nc|2" ]; echo $?)" \
    "a stale claim is taken over"
"$CLI" "$PG_URI" mark race.test 1
ok $? "mark sent"
ok "$([ "$("$CLI" "$PG_URI" claim race.test 1 na)" = sent ]; echo $?)" \
    "then it is sent for every node"
"$CLI" "$PG_URI" mark race.test 99 2>/dev/null
ok "$([ $? = 1 ]; echo $?)" "mark without a claim fails"
# expire: everything before day 1 goes (the reports of period 1..5 s and
# every verdict row is from today, kept).
out=$("$CLI" "$PG_URI" expire 1)
ok "$([ "$out" = "verdicts 0 reports 5" ] &&
    [ "$(pg_sql "SELECT COUNT(*) FROM reports_sent")" = 0 ]; echo $?)" \
    "expire deletes the old reports_sent rows ($out)"

# 19-27: the outage.  4 threads submit 3000 records, 2 ms apart per
# thread (~2 s); PostgreSQL is stopped 0.5 s in and started 2 s later.
"$CLI" "$PG_URI" submit 3000 --node outage --threads 4 --delay-ms 2 \
    --spool "$SPOOL" --drain 60 >"$PG_DIR/o.out" 2>"$PG_DIR/o.err" &
po=$!
sleep 0.5
pg_fixture_stop_server
ok $? "PostgreSQL stopped under load"
sleep 2
pg_fixture_start_server
ok $? "PostgreSQL started again"
wait $po
ro=$?
out=$(cat "$PG_DIR/o.out")
sed 's/^/#   /' "$PG_DIR/o.out"
grep -v ': key ' "$PG_DIR/o.err" | head -n 3 | sed 's/^/#   /'
ok "$ro" "the submitter exits 0 (all acknowledged, spool drained)"
ok "$([ "$(field acked "$out")" = 3000 ] && [ "$(field failed "$out")" = 0 ]; echo $?)" \
    "3000 acknowledged, 0 failed"
ok "$([ "$(field spooled "$out")" -gt 0 ]; echo $?)" \
    "some records went through the spool ($(field spooled "$out"))"
ok "$([ "$(field replayed "$out")" = "$(field spooled "$out")" ]; echo $?)" \
    "every spooled record was replayed"
got=$(pg_sql "SELECT COUNT(*), COUNT(DISTINCT message_key) FROM verdicts WHERE node = 'outage'")
ok "$([ "$got" = "3000|3000" ]; echo $?)" \
    "every acknowledged row is stored exactly once ($got)"
ok "$([ "$(stat -c %s "$SPOOL")" = 16 ]; echo $?)" \
    "the spool is empty (header only)"
ok "$([ "$(field spool_pending "$out")" = 0 ]; echo $?)" "spool_pending is 0"

# 28-32: opened while PostgreSQL is down.  Without a spool the open
# fails (dmarcctl); with one it opens, spools, and replays once the
# server is back, into a database whose schema it creates then.
pg_sql "CREATE DATABASE late" >/dev/null
LATE="postgresql://dmarcd@127.0.0.1:$PG_PORT/late"
pg_fixture_stop_server
"$CLI" "$LATE" count >/dev/null 2>"$PG_DIR/down.err"
ok "$([ $? = 2 ] && grep -q 'cannot connect' "$PG_DIR/down.err"; echo $?)" \
    "down at open, no spool: refused ($(head -c 120 "$PG_DIR/down.err"))"
"$CLI" "$LATE" submit 200 --node late --threads 2 \
    --spool "$PG_DIR/late.spool" --drain 60 >"$PG_DIR/l.out" 2>"$PG_DIR/l.err" &
pl=$!
# Wait until the records are in the spool before starting the server.
i=0
while [ $i -lt 100 ] && [ "$(stat -c %s "$PG_DIR/late.spool" 2>/dev/null || echo 0)" -le 16 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "$([ "$(stat -c %s "$PG_DIR/late.spool" 2>/dev/null || echo 0)" -gt 16 ]; echo $?)" \
    "down at open, with a spool: opened, records spooled"
pg_fixture_start_server
wait $pl
rl=$?
sed 's/^/#   /' "$PG_DIR/l.out"
head -n 3 "$PG_DIR/l.err" | sed 's/^/#   /'
ok "$([ $rl = 0 ] && [ "$(field acked "$(cat "$PG_DIR/l.out")")" = 200 ]; echo $?)" \
    "all 200 acknowledged, spool drained"
got=$("$PG_BINDIR/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U dmarcd -d late \
    -c "SELECT COUNT(*), COUNT(DISTINCT message_key), (SELECT MAX(version) FROM schema_version) FROM verdicts WHERE node = 'late'")
ok "$([ "$got" = "200|200|$(pg_sql 'SELECT MAX(version) FROM schema_version')" ]; echo $?)" \
    "200 rows once each, schema created after the start ($got)"
ok "$([ "$(stat -c %s "$PG_DIR/late.spool")" = 16 ]; echo $?)" \
    "the spool is empty again"
