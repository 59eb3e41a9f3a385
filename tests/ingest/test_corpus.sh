#!/bin/sh
# tests/ingest/test_corpus.sh - every aggregate sample of the shared corpus
# (loose files, and the files inside its .tar.gz archives, unpacked into
# tests/tmp) through `dmarcctl import`, against the table in expected.txt:
# stored with its record count, or rejected with its reason.  Then field
# by field checks of stored values against the files, and idempotence:
# a second import of everything is all "duplicate", row counts unchanged.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate
[ -d "$corpus" ] || corpus=/work/shared/corpus/aggregate
ctl=$top_builddir/dmarcctl
table=$top_srcdir/tests/ingest/expected.txt
tmp=$top_builddir/tests/tmp/ingest_corpus
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }

if [ ! -d "$corpus" ]; then
	echo "1..0 # SKIP no corpus at $corpus"
	exit 0
fi
rm -rf "$tmp"
mkdir -p "$tmp/files"
# Lay the corpus out as the table names it.
(cd "$corpus" && find . -type f ! -name '*.tar.gz') | while read -r f; do
	mkdir -p "$tmp/files/$(dirname "$f")"
	cp "$corpus/$f" "$tmp/files/$f"
done
(cd "$corpus" && find . -type f -name '*.tar.gz') | while read -r a; do
	mkdir -p "$tmp/files/$a"
	tar xzf "$corpus/$a" -C "$tmp/files/$a"
done

# 1. per file, each into a fresh database
listed=$(grep -v '^#' "$table" | wc -l)
found=$(cd "$tmp/files" && find . -type f | wc -l)
check "the table lists every corpus file" "$found" "$listed"
stored=0 rejected=0
grep -v '^#' "$table" | while IFS='	' read -r f want; do
	db=$tmp/one.db
	rm -f "$db" "$db-wal" "$db-shm"
	out=$("$ctl" -c /dev/null import --database "$db" "$tmp/files/$f" 2>&1)
	rc=$?
	case $want in
	stored\ *)
		nrec=${want#stored }
		case $out in
		*": stored report "*"($nrec records)")
			[ $rc -eq 0 ] && ok "$f: stored, $nrec records" ||
			    nok "$f: exit $rc";;
		*) nok "$f: want stored ($nrec records), got: $out";;
		esac;;
	rejected\ *)
		why=${want#rejected }
		case $out in
		*": rejected: "*"$why"*)
			[ $rc -eq 65 ] && ok "$f: rejected ($why)" ||
			    nok "$f: exit $rc, want 65";;
		*) nok "$f: want rejected ($why), got: $out";;
		esac;;
	esac
done > "$tmp/per-file.tap"
cat "$tmp/per-file.tap"
n=$((n + $(grep -c '^\(not \)\?ok' "$tmp/per-file.tap")))
grep -q '^not ok' "$tmp/per-file.tap" && fail=1
# renumber is not needed by the TAP driver; counts matter
echo "# per file: $(grep -c '^ok.*: stored' "$tmp/per-file.tap") stored," \
    "$(grep -c '^ok.*: rejected' "$tmp/per-file.tap") rejected"

# 2. everything into one database
db=$tmp/all.db
rm -f "$db"
"$ctl" -c /dev/null import --database "$db" "$tmp/files" > "$tmp/run1.txt" 2>&1
check "whole tree: exit 65 (some rejected)" "$?" 65
q() { sqlite3 "$db" "$1"; }
# 3. field by field, against values read from the files
r="SELECT org_name||'|'||begin_ts||'|'||end_ts||'|'||p||'|'||nrecords FROM agg_reports WHERE"
check "fastmail report" "$(q "$r report_id='102675056'")" \
    "FastMail Pty Ltd|1516060800|1516147199|none|1"
check "fastmail record" "$(q "SELECT source_ip, count, disposition FROM agg_records WHERE report=(SELECT id FROM agg_reports WHERE report_id='102675056')")" \
    "104.195.80.20|1|none"
check "126.com report (float timestamps)" \
    "$(q "$r org_name='126.com'")" "126.com|1337270400|1337356799|reject|754"
check "126.com message count" "$(q "SELECT SUM(count) FROM agg_records WHERE report=(SELECT id FROM agg_reports WHERE org_name='126.com')")" 183934
check "large report (empty org_name)" \
    "$(q "$r report_id='example.com:1711897200'")" "|1711897200|1711983600|none|2286"
check "large report message count" "$(q "SELECT SUM(count) FROM agg_records WHERE report=(SELECT id FROM agg_reports WHERE report_id='example.com:1711897200')")" 2286
check "outlook report" "$(q "$r report_id='a4f4ef0654474d3faa5dca167a34a86a'")" \
    "Outlook.com|1709683200|1709769600|reject|2"
check "outlook records" "$(q "SELECT group_concat(count||'/'||envelope_to||'/'||spf_results||'/'||dkim_results, ' ') FROM (SELECT * FROM agg_records WHERE report=(SELECT id FROM agg_reports WHERE report_id='a4f4ef0654474d3faa5dca167a34a86a') ORDER BY id)")" \
    "1/live.de/domain=random.net;scope=mfrom;result=pass/domain=random.net;selector=def;result=pass 2/outlook.de/domain=random.net;scope=mfrom;result=pass/domain=random.net;selector=def;result=pass"
check "gmx report (RFC 9990 namespace)" "$(q "$r org_name='GMX'")" \
    "GMX|1733184000|1733270399|reject|1"
check "mail.ru report (single line)" "$(q "$r org_name='Mail.Ru'")" \
    "Mail.Ru|1721260800|1721347200|reject|1"
check "upper-cased Pass stored lowercase" "$(q "SELECT eval_dkim||eval_spf FROM agg_records WHERE report=(SELECT id FROM agg_reports WHERE report_id='aggr_report_example.com_20191202_1638')")" "passpass"
check "ikea (stray leading tag)" "$(q "SELECT domain||'|'||nrecords FROM agg_reports WHERE org_name='ikea.com'")" "example.de|1"

# 4. idempotent
before=$(q "SELECT COUNT(*) FROM agg_reports")/$(q "SELECT COUNT(*) FROM agg_records")
"$ctl" -c /dev/null import --database "$db" "$tmp/files" > "$tmp/run2.txt" 2>&1
after=$(q "SELECT COUNT(*) FROM agg_reports")/$(q "SELECT COUNT(*) FROM agg_records")
check "re-import leaves the row counts" "$after" "$before"
check "re-import stores nothing" "$(grep -c ': stored report' "$tmp/run2.txt")" 0
check "re-import: every well-formed file is a duplicate" \
    "$(grep -c ': duplicate report' "$tmp/run2.txt")" \
    "$(grep -c ': \(stored\|duplicate\) report' "$tmp/run1.txt")"
# --json
"$ctl" -c /dev/null import --json --database "$db" \
    "$tmp/files/cry-inc/gmxnet.xml" > "$tmp/json.txt"
case $(cat "$tmp/json.txt") in
*'"outcome":"duplicate"'*'"org_name":"GMX"'*) ok "--json";;
*) nok "--json: $(cat "$tmp/json.txt")";;
esac
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
