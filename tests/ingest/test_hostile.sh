#!/bin/sh
# tests/ingest/test_hostile.sh - hostile inputs, generated here into
# tests/tmp, are refused by `dmarcctl import` with a reason naming the cap,
# in bounded memory: /usr/bin/time -v's maximum resident set size must
# stay under MAX_RSS_KB (200 MB; ASan's quarantine is capped at 16 MB so
# that it measures the importer, not the sanitizer's free list).
#   gzip bomb    300 MB of spaces in 300 KB      decompressed-size/ratio cap
#   zip bomb     the same as a zip entry         ratio / size cap
#   billion laughs, XXE (SYSTEM "/etc/passwd")   DOCTYPE refused
#   100 MB XML   one report padded to 100 MB     64 MiB document cap
#   10^6 records a minimal report of 10^6 rows   500000-record cap (the
#                report is rolled back: nothing stored)
#   mailed bomb  the gzip bomb as a base64 e-mail attachment    the same cap
#   MIME parts   an e-mail of 200 parts                          64-part cap
#   big mbox     an mbox holding a 70 MB message                 64 MiB cap
set -u
top_builddir=${top_builddir:-.}
ctl=$top_builddir/dmarcctl
tmp=$top_builddir/tests/tmp/ingest_hostile
MAX_RSS_KB=204800
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
if [ ! -x /usr/bin/time ]; then
	echo "not ok 1 - /usr/bin/time is missing (package time)"
	echo "1..1"
	exit 1
fi
rm -rf "$tmp"
mkdir -p "$tmp"
# the hostile reports are about an owned domain, so that only the caps
# can stop them
printf 'OwnedDomains example.com\nImportReverseDNS no\n' > "$tmp/dmarcd.conf"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
export ASAN_OPTIONS

head='<?xml version="1.0"?><feedback><report_metadata><org_name>evil</org_name><email>e@evil.test</email><report_id>R</report_id><date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata><policy_published><domain>example.com</domain><p>none</p></policy_published>'
rec='<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record>'

# The bombs open a report and then hold 300 MB of white space, so that
# the XML parser accepts every byte and only the caps can stop them.
{ printf '%s' "$head"; head -c 300000000 /dev/zero | tr '\0' ' '; } |
    gzip -1 > "$tmp/gzip-bomb.xml.gz"
perl -MIO::Compress::Zip=:all -e '
	my $z = IO::Compress::Zip->new($ARGV[0], Name => "report.xml",
	    Level => 1) or die;
	my $b = " " x 1048576;
	$z->print($ARGV[1]);
	$z->print($b) for 1 .. 300;
	$z->close;' "$tmp/zip-bomb.zip" "$head"
cat > "$tmp/billion-laughs.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>
XML
cat > "$tmp/xxe.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE feedback [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<feedback><report_metadata><org_name>&xxe;</org_name><report_id>X</report_id></report_metadata><policy_published><domain>example.com</domain></policy_published></feedback>
XML
{ printf '%s<padding>' "$head"; head -c 100000000 /dev/zero | tr '\0' x
  printf '</padding></feedback>\n'; } > "$tmp/100mb.xml"
{ printf '%s' "$head"; yes "$rec" | head -n 1000000
  printf '</feedback>\n'; } > "$tmp/1e6-records.xml"

{ printf 'From: r@evil.test\nSubject: report\nMIME-Version: 1.0\n'
  printf 'Content-Type: multipart/mixed; boundary=b\n\n--b\n'
  printf 'Content-Type: application/gzip; name=r.xml.gz\n'
  printf 'Content-Transfer-Encoding: base64\n\n'
  base64 "$tmp/gzip-bomb.xml.gz"; printf '\n--b--\n'; } > "$tmp/mailed-bomb.eml"
{ printf 'From: r@evil.test\nContent-Type: multipart/mixed; boundary=b\n\n'
  i=0; while [ $i -lt 200 ]; do
	printf -- '--b\nContent-Type: text/plain\n\npart %d\n' $i; i=$((i + 1))
  done; printf -- '--b--\n'; } > "$tmp/mime-parts.eml"
{ printf 'From a@evil.test Thu Nov 26 00:00:00 2026\nSubject: big\n\n'
  head -c 70000000 /dev/zero | tr '\0' 'x' | fold -w 76; printf '\n'; } > "$tmp/big.mbox"

run() {	# name file reason-substring
	db=$tmp/h.db
	rm -f "$db"
	/usr/bin/time -v -o "$tmp/time.txt" "$ctl" -c "$tmp/dmarcd.conf" import \
	    --database "$db" "$2" > "$tmp/out.txt" 2>&1
	rc=$?
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
	out=$(cat "$tmp/out.txt")
	stored=$(sqlite3 "$db" "SELECT COUNT(*) FROM agg_reports")/$(sqlite3 "$db" "SELECT COUNT(*) FROM agg_records")
	echo "# $1: $out (max RSS ${rss} KB)"
	case $out in
	*"rejected: "*"$3"*) ok "$1 refused: $3";;
	*) nok "$1: want a refusal naming '$3', got: $out";;
	esac
	[ "$rc" -eq 65 ] && ok "$1: exit 65" || nok "$1: exit $rc"
	[ "$stored" = "0/0" ] && ok "$1: nothing stored" ||
	    nok "$1: stored $stored"
	[ -n "$rss" ] && [ "$rss" -lt $MAX_RSS_KB ] &&
	    ok "$1: max RSS $rss KB < $MAX_RSS_KB KB" ||
	    nok "$1: max RSS $rss KB, limit $MAX_RSS_KB KB"
}
run "gzip bomb" "$tmp/gzip-bomb.xml.gz" "compression"
run "zip bomb" "$tmp/zip-bomb.zip" "compression"
run "billion laughs" "$tmp/billion-laughs.xml" "DOCTYPE"
run "XXE" "$tmp/xxe.xml" "DOCTYPE"
run "100 MB XML" "$tmp/100mb.xml" "larger than 64 MiB"
run "10^6 records" "$tmp/1e6-records.xml" "more than 500000 records"
run "mailed gzip bomb" "$tmp/mailed-bomb.eml" "compression"
run "200 MIME parts" "$tmp/mime-parts.eml" "more than 64 MIME parts"
run "70 MB mbox message" "$tmp/big.mbox" "message larger than 64 MiB"
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
