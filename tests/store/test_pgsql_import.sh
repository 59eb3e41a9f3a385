#!/bin/sh
# test_pgsql_import.sh - `dmarcctl import` into PostgreSQL (a private
# cluster, pgsql-fixture.sh): the same corpus files give the same rows as
# in SQLite, one transaction per report (a report refused mid-way leaves
# nothing; in a batch, its savepoint alone is undone), re-import is
# idempotent (ON CONFLICT DO NOTHING), failure reports with 8-bit
# headers are stored, and owned_domains works there.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/store/pgsql-fixture.sh"
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}
[ -d "$corpus" ] || corpus=/work/shared/corpus
ctl=$top_builddir/dmarcctl
tmp=$top_builddir/tests/tmp/pgsql_import
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }

pg_fixture_require
if [ ! -d "$corpus/aggregate" ]; then
	pg_fixture_missing "no corpus at $corpus" dmarcd-corpus
fi
rm -rf "$tmp"
mkdir -p "$tmp/in"
cp "$corpus"/aggregate/cry-inc/*.xml "$tmp/in/"
cp "$corpus"/aggregate/parsedmarc/*.xml* "$corpus"/aggregate/parsedmarc/*.eml "$tmp/in/"
cp "$corpus"/failure/parsedmarc/*.eml "$tmp/in/"
tar xzf "$corpus/aggregate/opendmarc-libopendmarc-testfiles.tar.gz" -C "$tmp/in"
conf=$tmp/dmarcd.conf
printf 'ImportReverseDNS no\n' > "$conf"
if ! pg_fixture_start; then
	echo "Bail out! cannot start the private PostgreSQL"
	exit 1
fi
sq=$tmp/ref.db
"$ctl" -c "$conf" import --any-domain --database "$sq" "$tmp/in" > "$tmp/sqlite.txt" 2>&1
"$ctl" -c "$conf" import --any-domain --database "$PG_URI" "$tmp/in" > "$tmp/pg.txt" 2>&1
check "PostgreSQL: exit 65 (the broken samples)" "$?" 65
check "PostgreSQL: the same outcome per input as SQLite" \
    "$(cut -d: -f1-2 "$tmp/pg.txt" | md5sum)" "$(cut -d: -f1-2 "$tmp/sqlite.txt" | md5sum)"
sums="SELECT COUNT(*), SUM(nrecords), SUM(begin_ts) FROM agg_reports"
check "agg_reports as in SQLite" "$(pg_sql "$sums")" "$(sqlite3 "$sq" "$sums")"
rsum="SELECT COUNT(*), SUM(count), SUM(length(spf_results)), SUM(length(dkim_results)) FROM agg_records"
check "agg_records as in SQLite" "$(pg_sql "$rsum")" "$(sqlite3 "$sq" "$rsum")"
check "the 126.com report: 754 rows, 183934 messages" \
    "$(pg_sql "SELECT r.nrecords, SUM(c.count) FROM agg_reports r JOIN agg_records c ON c.report = r.id WHERE r.org_name = '126.com' GROUP BY r.nrecords")" "754|183934"
fsum="SELECT COUNT(*), string_agg(reported_domain, ',' ORDER BY reported_domain) FROM failure_reports"
check "failure reports (LF/CRLF copies are one)" "$(pg_sql "$fsum")" "3|cardinal.com,domain.de,example.com"
before=$(pg_sql "SELECT (SELECT COUNT(*) FROM agg_reports), (SELECT COUNT(*) FROM agg_records), (SELECT COUNT(*) FROM failure_reports)")
"$ctl" -c "$conf" import --any-domain --database "$PG_URI" "$tmp/in" > "$tmp/pg2.txt" 2>&1
check "re-import: row counts unchanged" "$(pg_sql "SELECT (SELECT COUNT(*) FROM agg_reports), (SELECT COUNT(*) FROM agg_records), (SELECT COUNT(*) FROM failure_reports)")" "$before"
check "re-import: nothing stored" "$(grep -c ': stored' "$tmp/pg2.txt")" 0

# 8-bit (not UTF-8) header text is stored with '?' or U+FFFD for the
# bad bytes
sed 's/^Subject: Rent Reminder/Subject: Rent \xe9\xe9 Reminder/' \
    "$corpus/failure/parsedmarc/[Netease DMARC Failure Report] Rent Reminder.eml" > "$tmp/latin1.eml"
"$ctl" -c "$conf" import --any-domain --database "$PG_URI" "$tmp/latin1.eml" > "$tmp/l1.txt" 2>&1
check "8-bit subject: stored" "$?" 0
# (the subject column is repaired by the RFC 2047 decoder, to U+FFFD;
# the raw header block by the store, to '?')
check "8-bit subject: bad bytes replaced" "$(pg_sql "SELECT COUNT(*) FROM failure_reports WHERE subject = 'Rent $(printf '\357\277\275\357\277\275') Reminder' AND strpos(headers, 'Subject: Rent ?? Reminder') > 0")" 1

# a report refused mid-way (the record cap) leaves no row behind
{ printf '<feedback><report_metadata><org_name>big</org_name><report_id>cap</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata><policy_published><domain>cap.test</domain></policy_published>'
  yes '<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record>' | head -n 500001
  printf '</feedback>\n'; } > "$tmp/cap.xml"
"$ctl" -c "$conf" import --any-domain --database "$PG_URI" "$tmp/cap.xml" > "$tmp/cap.txt" 2>&1
check "over the record cap: rejected" "$(grep -c 'rejected: .*more than 500000 records' "$tmp/cap.txt")" 1
check "over the record cap: rolled back" "$(pg_sql "SELECT COUNT(*) FROM agg_reports WHERE org_name = 'big'")/$(pg_sql "SELECT COUNT(*) FROM agg_records WHERE source_ip = '192.0.2.1' AND count = 1 AND disposition = ''")" "0/0"

# a batch (one transaction, a savepoint per report) with the cap report
# in its middle: it is rolled back alone, the others are stored, and a
# copy inside the same batch is a duplicate
mkdir -p "$tmp/batch"
for f in "$tmp"/in/*.xml; do
	case $f in *large-example*|*cap*) continue;; esac
	sed 's,<report_id>\([^<]*\)</report_id>,<report_id>batch-\1</report_id>,' "$f" > "$tmp/batch/a-$(basename "$f")"
done
cp "$tmp/cap.xml" "$tmp/batch/m-cap.xml"
for f in "$tmp"/batch/a-*.xml; do cp "$f" "$tmp/batch/z-$(basename "$f")"; break; done
pg_sql "DELETE FROM agg_records; DELETE FROM agg_reports" > /dev/null
"$ctl" -c "$conf" import --any-domain --database "$PG_URI" "$tmp/batch" > "$tmp/batch.txt" 2>&1
stored=$(grep -c ': stored report' "$tmp/batch.txt")
check "batch: the cap report rejected alone" "$(grep -c 'm-cap.xml: rejected: .*more than 500000 records' "$tmp/batch.txt")" 1
check "batch: the copy in the same batch a duplicate" "$(grep -c 'z-a-.*: duplicate report' "$tmp/batch.txt")" 1
check "batch: the others stored" "$(pg_sql "SELECT COUNT(*) FROM agg_reports")" "$stored"
check "batch: some stored" "$([ "$stored" -gt 5 ] && echo yes)" yes
check "batch: every report whole, nothing of the cap report" \
    "$(pg_sql "SELECT COUNT(*) FROM agg_reports r WHERE nrecords != (SELECT COUNT(*) FROM agg_records c WHERE c.report = r.id) OR org_name = 'big'")/$(pg_sql "SELECT COUNT(*) FROM agg_records WHERE source_ip = '192.0.2.1' AND count = 1 AND disposition = ''")" "0/0"

# ownership from the database
"$ctl" -c "$conf" domain --database "$PG_URI" add foo-bar.io "ops" > /dev/null
check "domain list (PostgreSQL)" "$("$ctl" -c "$conf" domain --database "$PG_URI" list | cut -f1,2,4)" "foo-bar.io	database	ops"
pg_sql "DELETE FROM agg_records; DELETE FROM agg_reports" > /dev/null
"$ctl" -c "$conf" import --database "$PG_URI" "$tmp/in/google.xml" "$tmp/in/yahoo.xml" > "$tmp/own.txt" 2>&1
check "owned domain stored, the other refused" "$(sed 's/.*: \(stored\|rejected\).*/\1/' "$tmp/own.txt" | tr '\n' ' ')" "stored rejected "
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
