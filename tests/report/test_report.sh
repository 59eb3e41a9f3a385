#!/bin/sh
# test_report.sh - dmarcctl report --dry-run on a crafted history: the
# RFC 9990 filenames, the .gz files decompress, and every report (and
# every golden .ref) validates with xmllint against the XSD of its form.
# The XSDs come from $DMARCD_CORPUS, else ../shared/corpus beside the
# source tree; without them the schema checks SKIP (FAIL under CI=true).
# RFC 7489 appendix C's XSD declares a targetNamespace while its reports
# have none (and its type references need the default namespace), so it
# is used with that attribute removed.  TAP output.
: "${top_srcdir:=.}" "${top_builddir:=.}"
xsd=
for c in ${DMARCD_CORPUS:-} "$top_srcdir/../shared/corpus" \
    "$top_srcdir/../../shared/corpus"; do
	if [ -f "$c/xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" ]; then
		xsd=$c/xsd
		break
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_report.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }
skip() {
	n=$((n + 1))
	if [ "${CI:-}" = true ]; then failed=1; echo "not ok $n - $* (skipped under CI)"
	else echo "ok $n - # SKIP $*"; fi
}

"$top_builddir/tests/unit/test_aggregate" --fill "$tmp/history.db" &&
    ok "history filled" || nok "history filled"
cat > "$tmp/dmarcd.conf" <<EOC
HistoryDatabase $tmp/history.db
ReportOrgName Receiver Test
ReportEmail noreply-dmarc@mx.receiver.test
ReportContactInfo https://receiver.test/dmarc
EOC
ctl() { "$top_builddir/dmarcctl" -c "$tmp/dmarcd.conf" report "$@"; }

ctl --period 2024-03-27 --json > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 64 ] && grep -q "with --dry-run only" "$tmp/err" &&
    ok "--json without --dry-run: EX_USAGE" ||
    nok "--json without --dry-run: EX_USAGE (rc=$rc)"

for fmt in rfc9990 rfc7489; do
	mkdir "$tmp/$fmt"
	if ctl --period 2024-03-27..2024-03-28 --format $fmt --dry-run \
	    --out "$tmp/$fmt" > "$tmp/$fmt.out" 2> "$tmp/$fmt.err"; then
		ok "$fmt: dmarcctl report --dry-run"
	else
		nok "$fmt: dmarcctl report --dry-run"
		sed 's/^/# /' "$tmp/$fmt.err"
	fi
	sed 's/^/# /' "$tmp/$fmt.out"
	grep -q "^example.com 2024-03-27 rows=12 records=7 messages=11 file=" \
	    "$tmp/$fmt.out" && grep -q "^example.net 2024-03-27 .* messages=0 " \
	    "$tmp/$fmt.out" && ok "$fmt: summary lines" ||
	    nok "$fmt: summary lines"
	names=$(cd "$tmp/$fmt" && ls | sort | tr '\n' ' ')
	want="mx.receiver.test!example.com!1711497600!1711583999!20240327[0-9a-f]{16}.xml.gz \
mx.receiver.test!example.com!1711584000!1711670399!20240328[0-9a-f]{16}.xml.gz \
mx.receiver.test!example.org!1711497600!1711583999!20240327[0-9a-f]{16}.xml.gz $"
	echo "$names" | grep -Eq "^$want" && ok "$fmt: three files, RFC 9990 names" ||
	    nok "$fmt: names: $names"
	bad=0
	for f in "$tmp/$fmt"/*.xml.gz; do
		gzip -dc "$f" > "${f%.gz}" || bad=1
	done
	[ $bad -eq 0 ] && ok "$fmt: the .gz files decompress" ||
	    nok "$fmt: the .gz files decompress"
done

if [ -n "$xsd" ] && command -v xmllint > /dev/null 2>&1; then
	sed -e 's/ targetNamespace="[^"]*"//' \
	    "$xsd/rfc7489-appendixC-rua-schema.xsd" > "$tmp/rfc7489.xsd"
	for f in "$tmp"/rfc9990/*.xml "$top_srcdir"/tests/data/aggregate/*rfc9990.ref; do
		xmllint --noout --schema "$xsd/dmarcbis-aggregate-dmarc-xml-0.2.xsd" \
		    "$f" 2> "$tmp/lint" && ok "valid RFC 9990: ${f##*/}" ||
		    { nok "valid RFC 9990: ${f##*/}"; sed 's/^/# /' "$tmp/lint"; }
	done
	for f in "$tmp"/rfc7489/*.xml "$top_srcdir"/tests/data/aggregate/*rfc7489.ref; do
		xmllint --noout --schema "$tmp/rfc7489.xsd" \
		    "$f" 2> "$tmp/lint" && ok "valid RFC 7489: ${f##*/}" ||
		    { nok "valid RFC 7489: ${f##*/}"; sed 's/^/# /' "$tmp/lint"; }
	done
else
	skip "xmllint or the XSDs (\$DMARCD_CORPUS/xsd) not found"
fi
echo "1..$n"
exit $failed
