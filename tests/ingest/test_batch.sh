#!/bin/sh
# tests/ingest/test_batch.sh - group commit of `dmarcctl import` (several
# reports per transaction, a savepoint per report): a report that breaks
# in the middle of a batch (after some of its records were inserted) is
# rejected alone and the others of the batch are stored; a duplicate
# inside the same batch is a duplicate; a kill -9 in the middle of an
# import leaves only whole reports, every report the output called
# stored is in the database, and importing again completes the set.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}
[ -d "$corpus" ] || corpus=/work/shared/corpus
ctl=$top_builddir/dmarcctl
tmp=$top_builddir/tests/tmp/ingest_batch
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }
if [ ! -d "$corpus/aggregate" ]; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - no corpus at $corpus"; echo "1..1"; exit 1
	fi
	echo "1..0 # SKIP no corpus at $corpus"
	exit 0
fi
rm -rf "$tmp"
mkdir -p "$tmp/samples"
agg=$corpus/aggregate/parsedmarc
large="$agg/!large-example.com!1711897200!1711983600.xml"
for f in addisonfoods.com!example.com!1536105600!1536191999.xml \
    example.net!example.com!1529366400!1529452799.xml \
    ikea.com!example.de!1538690400!1538776800.xml \
    protection.outlook.com!example.com!1711756800!1711843200.xml \
    rfc9990-sample.xml usssa.com!example.com!1538784000!1538870399.xml \
    veeam.com!example.com!1530133200!1530219600.xml; do
	cp "$agg/$f" "$tmp/samples/"
done
conf=$tmp/dmarcd.conf
printf 'ImportReverseDNS no\n' > "$conf"
imp() { "$ctl" -c "$conf" import --any-domain "$@"; }
q() { sqlite3 "$1" "$2"; }
# reports whose stored rows are not all there (nrecords is written last)
half="SELECT COUNT(*) FROM agg_reports r WHERE nrecords != (SELECT COUNT(*) FROM agg_records c WHERE c.report = r.id)"

# --- a batch with a broken report in its middle --------------------------
b=$tmp/batch
perl "$top_srcdir/bench/gen-reports.pl" "$b" 20 "$tmp/samples"/*.xml
# r000010: the 2,286-record report cut at 60 %: hundreds of its records
# are inserted before the parser finds the end missing
sz=$(wc -c < "$large")
perl -pe 's{(<report_id>)}{${1}batch-cut-}' "$large" | head -c $((sz * 6 / 10)) > "$b/r000010.xml"
# r000015: the same report as r000003, in the same batch
cp "$b/r000003.xml" "$b/r000015.xml"
db=$tmp/batch.db
imp --database "$db" "$b" > "$tmp/batch.txt" 2>&1
rc=$?
sed 's/^/# /' "$tmp/batch.txt"
check "batch: exit 65 (one rejected)" "$rc" 65
check "batch: one line per input" "$(wc -l < "$tmp/batch.txt")" 20
check "batch: the cut report rejected, with its reason" \
    "$(grep -c '^.*/r000010.xml: rejected: malformed XML' "$tmp/batch.txt")" 1
check "batch: the copy inside the batch is a duplicate" \
    "$(grep -c '/r000015.xml: duplicate report' "$tmp/batch.txt")" 1
check "batch: the 18 others stored" "$(grep -c ': stored report' "$tmp/batch.txt")" 18
check "batch: 18 reports in the database" "$(q "$db" "SELECT COUNT(*) FROM agg_reports")" 18
check "batch: nothing of the cut report" \
    "$(q "$db" "SELECT COUNT(*) FROM agg_reports WHERE report_id LIKE 'batch-cut-%' OR nrecords > 100")/$(q "$db" "SELECT COUNT(*) FROM agg_records WHERE report NOT IN (SELECT id FROM agg_reports)")" "0/0"
check "batch: every report whole" "$(q "$db" "$half")" 0
check "batch: the records of the 18" \
    "$(q "$db" "SELECT SUM(nrecords) FROM agg_reports")" "$(q "$db" "SELECT COUNT(*) FROM agg_records")"
imp --database "$db" "$b" > "$tmp/batch2.txt" 2>&1
check "batch again: 19 duplicates, nothing stored" \
    "$(grep -c ': duplicate report' "$tmp/batch2.txt")/$(grep -c ': stored' "$tmp/batch2.txt")" "19/0"

# --- kill -9 in the middle of an import ----------------------------------
k=$tmp/kill
perl "$top_srcdir/bench/gen-reports.pl" "$k" 4000 "$tmp/samples"/*.xml
ref=$tmp/ref.db
imp --database "$ref" "$k" > "$tmp/ref.txt" 2>&1
check "reference: 4000 stored" "$(q "$ref" "SELECT COUNT(*) FROM agg_reports")" 4000
db=$tmp/kill.db
"$ctl" -c "$conf" import --any-domain --database "$db" "$k" > "$tmp/kill.txt" 2>&1 &
pid=$!
# wait for the first batch to be announced, then kill -9
i=0
while [ ! -s "$tmp/kill.txt" ] && [ $i -lt 3000 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.01
	i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid
rc=$?
said=$(grep -c ': stored report' "$tmp/kill.txt")
echo "# killed (exit $rc) after $said reports were announced stored"
check "kill -9: the import was killed before its end" "$rc" 137
got=$(q "$db" "SELECT COUNT(*) FROM agg_reports")
echo "# $got reports in the database after the kill"
check "kill -9: not all reports stored" "$([ "$got" -lt 4000 ] && echo yes)" yes
check "kill -9: every report announced stored is there" \
    "$([ "$got" -ge "$said" ] && echo yes)" yes
check "kill -9: no half report" "$(q "$db" "$half")" 0
check "kill -9: each report as in the reference" \
    "$(q "$db" "ATTACH '$ref' AS ref; SELECT COUNT(*) FROM agg_reports r JOIN ref.agg_reports f USING (org_name, report_id, domain) WHERE r.nrecords = f.nrecords")" "$got"
check "kill -9: no orphan record" \
    "$(q "$db" "SELECT COUNT(*) FROM agg_records WHERE report NOT IN (SELECT id FROM agg_reports)")" 0
imp --database "$db" "$k" > "$tmp/kill2.txt" 2>&1
check "kill -9, then again: the set complete" \
    "$(q "$db" "SELECT COUNT(*), SUM(nrecords) FROM agg_reports")" "$(q "$ref" "SELECT COUNT(*), SUM(nrecords) FROM agg_reports")"
check "kill -9, then again: the rest stored, the others duplicates" \
    "$(grep -c ': stored report' "$tmp/kill2.txt")/$(grep -c ': duplicate report' "$tmp/kill2.txt")" "$((4000 - got))/$got"

# --- a record the database refuses --------------------------------------
# A trigger makes SQLite refuse one record of the 2,286-record report:
# the 5th (stored in line) and the 1,500th (stored by the queue's thread
# while the parser goes on).  Either way the report is an error, none of
# its records stays, and the import stops with EX_TEMPFAIL.
for pos in 5 1500; do
	ip=$(grep -o '<source_ip>[^<]*</source_ip>' "$large" | sed -n "${pos}p" |
	    sed 's/<[^>]*>//g')
	db=$tmp/refuse$pos.db
	imp --database "$db" /dev/null > /dev/null 2>&1
	q "$db" "CREATE TRIGGER refuse BEFORE INSERT ON agg_records WHEN NEW.source_ip = '$ip' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
	imp --database "$db" "$large" "$b/r000001.xml" > "$tmp/refuse$pos.txt" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp/refuse$pos.txt"
	check "record $pos refused: exit 75" "$rc" 75
	check "record $pos refused: an error line naming the cause" \
	    "$(grep -c 'large-example.com.*: error: .*refused by the test' "$tmp/refuse$pos.txt")" 1
	check "record $pos refused: nothing of the report stored" \
	    "$(q "$db" "SELECT COUNT(*) FROM agg_reports")/$(q "$db" "SELECT COUNT(*) FROM agg_records")" "0/0"
done

echo "1..$n"
exit $fail
