#!/bin/sh
# tests/ingest/test_corpus.sh - every aggregate and failure sample of the
# shared corpus (loose files, and the files inside its .tar.gz archives,
# unpacked into tests/tmp) through `dmarcctl import`, against the table in
# expected.txt: stored with its record count (or its domain), or rejected
# with its reason.  Ownership is configured (OwnedDomains, and
# `dmarcctl domain add`), and checked: an unowned domain is refused.  Then
# field by field checks of stored values against the files, and
# idempotence: a second import of everything is all "duplicate", row
# counts unchanged.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate
[ -d "$corpus" ] || corpus=/work/shared/corpus/aggregate
fcorpus=${corpus%/aggregate}/failure
ctl=$top_builddir/dmarcctl
table=$top_srcdir/tests/ingest/expected.txt
tmp=$top_builddir/tests/tmp/ingest_corpus
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }

if [ ! -d "$corpus" ] || [ ! -d "$fcorpus" ]; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - no corpus at $corpus"; echo "1..1"; exit 1
	fi
	echo "1..0 # SKIP no corpus at $corpus"
	exit 0
fi
rm -rf "$tmp"
mkdir -p "$tmp/files"
# Lay the corpus out as the table names it.
layout() {	# corpus-dir dest-dir
	(cd "$1" && find . -type f ! -name '*.tar.gz') | while read -r f; do
		mkdir -p "$2/$(dirname "$f")"
		cp "$1/$f" "$2/$f"
	done
	(cd "$1" && find . -type f -name '*.tar.gz') | while read -r a; do
		mkdir -p "$2/$a"
		tar xzf "$1/$a" -C "$2/$a"
	done
}
layout "$corpus" "$tmp/files"
layout "$fcorpus" "$tmp/files/failure"
# Ownership: the corpus's domains; example.com (the most common) only
# through the database (dmarcctl domain add).
conf=$tmp/dmarcd.conf
printf '%s\n' "OwnedDomains ab.id.au, bix-business.com, borschow.com, \
example.de, foo-bar.io, foobar.com, foobar.de, indemed.com, mydomain.org, \
myserver.com, random.net, random.org, website.com, domain.de, cardinal.com, \
example.net, twlnet.com" "ImportReverseDNS no" > "$conf"

# 1. per file, each into a fresh database
listed=$(grep -v '^#' "$table" | wc -l)
found=$(cd "$tmp/files" && find . -type f | wc -l)
check "the table lists every corpus file" "$found" "$listed"
stored=0 rejected=0
grep -v '^#' "$table" | while IFS='	' read -r f want; do
	db=$tmp/one.db
	rm -f "$db" "$db-wal" "$db-shm"
	"$ctl" -c "$conf" domain --database "$db" add example.com >/dev/null
	out=$("$ctl" -c "$conf" import --database "$db" "$tmp/files/$f" 2>&1)
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
	failure\ *)
		dom=${want#failure }
		case $out in
		*": stored failure report $dom from "*)
			[ $rc -eq 0 ] && ok "$f: stored failure report ($dom)" ||
			    nok "$f: exit $rc";;
		*) nok "$f: want a failure report about $dom, got: $out";;
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
"$ctl" -c "$conf" domain --database "$db" add example.com "test" >/dev/null
"$ctl" -c "$conf" import --database "$db" "$tmp/files" > "$tmp/run1.txt" 2>&1
check "whole tree: exit 65 (some rejected)" "$?" 65
check "whole tree: nothing refused for ownership" \
    "$(grep -c 'not an owned domain' "$tmp/run1.txt")" 0
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

# failure reports, field by field
fq() { q "SELECT $1 FROM failure_reports WHERE $2"; }
check "netease failure report" "$(fq "reporter||'|'||arrival_ts||'|'||source_ip||'|'||identity_alignment||'|'||delivery_result||'|'||dkim_domain||'|'||user_agent" "reported_domain='cardinal.com'")" \
    "abuse@163.com|1538124522|167.89.69.24|spf,dkim|delivered|entrata.com|NtesDmarcReporter/1.0"
check "netease original headers" "$(fq "header_from||'|'||subject||'|'||message_id||'|'||original_mail_from" "reported_domain='cardinal.com'")" \
    "cardinal.com|Rent Reminder|<oguVx1AxQayV5Sv2nYK-rA@ismtpd0007p1las1.sendgrid.net>|<bounces+1137616-c1ad-xsj399=163.com@email.entrata.com>"
check "domain.de failure report (Arrival-Date +0200)" "$(fq "arrival_ts||'|'||auth_failure||'|'||original_rcpt_to||'|'||header_from" "reported_domain='domain.de'")" \
    "1538385627|dmarc|peter.pan@domain.de|domain.de"
check "arf-19: repeated DKIM-Domain kept" "$(fq "dkim_domain" "source_ip='203.0.113.2' AND user_agent LIKE 'Ntes%'")" "ietf.org; example.net"
check "arf-20: no Arrival-Date" "$(fq "arrival_ts||'|'||original_envelope_id" "user_agent LIKE 'OpenDMARC%'")" "0|0022FFEE"
check "linkedin CRLF and LF copies are one report" \
    "$(fq "COUNT(*)" "reported_domain='example.com'")" 1
check "the second linkedin copy is a counted duplicate" \
    "$(grep -c 'duplicate failure report example.com' "$tmp/run1.txt")" 1
check "headers kept, body not" "$(fq "instr(headers, 'Subject: Rent Reminder') > 0 AND instr(headers, 'This is a spf/dkim') = 0" "reported_domain='cardinal.com'")" 1
check "linkedin: a plain Subject stays as it is" \
    "$(fq "subject" "reported_domain='example.com'")" \
    "Subject line, could be UTF8 encoded"

# An RFC 2047 Subject: no corpus report has one, so the LinkedIn report
# (whose Subject reads "could be UTF8 encoded") gets a folded one, two
# encoded-words (UTF-8 B, ISO-8859-1 Q) after plain text.  Decoded in
# the subject column, the header block kept as received.
mkdir -p "$tmp/encoded"
enc=$tmp/encoded/linkedin-rfc2047.eml
sed 's/^Subject: Subject line, could be UTF8 encoded$/Subject: [EXT] =?UTF-8?B?WmFobHVuZ3NlcmlubmVydW5nIGbDvHI=?=\
 =?iso-8859-1?Q?_M=E4rz_=80?=/' "$fcorpus/parsedmarc/dmarc_ruf_report_linkedin.eml" > "$enc"
check "rfc2047 fixture: the Subject replaced" "$(grep -c '^ =?iso-8859-1?Q?_M=E4rz_=80?=$' "$enc")" 1
edb=$tmp/enc.db
rm -f "$edb"
"$ctl" -c "$conf" domain --database "$edb" add example.com >/dev/null
"$ctl" -c "$conf" import --database "$edb" "$enc" > "$tmp/enc.txt" 2>&1
check "rfc2047 report: stored" "$?/$(grep -c ': stored failure report example.com from 10.10.10.10' "$tmp/enc.txt")" 0/1
eq() { sqlite3 "$edb" "SELECT $1 FROM failure_reports"; }
check "rfc2047 report: subject decoded to UTF-8" "$(eq subject)" \
    "[EXT] Zahlungserinnerung f$(printf '\303\274')r M$(printf '\303\244')rz $(printf '\342\202\254')"
check "rfc2047 report: fields" \
    "$(eq "reporter||'|'||reported_domain||'|'||arrival_ts||'|'||source_ip||'|'||auth_failure||'|'||original_rcpt_to||'|'||header_from||'|'||message_id||'|'||user_agent")" \
    "dmarc-noreply@linkedin.com|example.com|1556590140|10.10.10.10|dmarc|recipient@linkedin.com|example.com|<01010101010101010101010101010101@ABAB01MS0016.someserver.loc>|Lua/1.0"
check "rfc2047 report: the header block as received" \
    "$(eq "instr(headers, 'Subject: [EXT] =?UTF-8?B?WmFobHVuZ3NlcmlubmVydW5nIGbDvHI=?=') > 0 AND instr(headers, '=?iso-8859-1?Q?_M=E4rz_=80?=') > 0")" 1
check "rfc2047 report: one line, valid UTF-8" \
    "$(eq subject | wc -l | tr -d ' ')/$(eq subject | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 && echo valid)" "1/valid"

# ownership
od=$tmp/own.db
rm -f "$od"
"$ctl" -c /dev/null import --no-rdns --database "$od" \
    "$tmp/files/cry-inc/google.xml" > "$tmp/own.txt" 2>&1
rc=$?
case $(cat "$tmp/own.txt") in
*"rejected: not an owned domain: "*) ok "no owned domain: refused with the domain";;
*) nok "no owned domain: $(cat "$tmp/own.txt")";;
esac
check "refused: exit 65" "$rc" 65
check "refused: nothing stored" "$(sqlite3 "$od" "SELECT COUNT(*) FROM agg_reports")" 0
gdom=$(sed -n 's/.*not an owned domain: //p' "$tmp/own.txt")
"$ctl" -c /dev/null domain --database "$od" add "$gdom" >/dev/null
check "domain list shows it" "$("$ctl" -c /dev/null domain --database "$od" list | cut -f1,2)" "$gdom	database"
"$ctl" -c /dev/null import --no-rdns --database "$od" "$tmp/files/cry-inc/google.xml" >/dev/null 2>&1
check "after domain add: stored" "$?" 0
"$ctl" -c /dev/null domain --database "$od" remove "$gdom" >/dev/null
check "domain remove: gone" "$("$ctl" -c /dev/null domain --database "$od" list)" ""
"$ctl" -c /dev/null import --no-rdns --database "$od" "$tmp/files/cry-inc/yahoo.xml" >/dev/null 2>&1
check "after domain remove: refused" "$?" 65
"$ctl" -c /dev/null import --no-rdns --any-domain --database "$od" "$tmp/files/cry-inc/yahoo.xml" >/dev/null 2>&1
check "--any-domain: stored" "$?" 0
# a domain covers its subdomains, on label boundaries only
printf 'OwnedDomains io\nImportReverseDNS no\n' > "$tmp/parent.conf"
"$ctl" -c "$tmp/parent.conf" import --database "$od" "$tmp/files/cry-inc/google.xml" > "$tmp/own2.txt" 2>&1
check "a parent domain covers its subdomain ($gdom)" "$?" 0
printf 'OwnedDomains bar.io\nImportReverseDNS no\n' > "$tmp/parent.conf"
"$ctl" -c "$tmp/parent.conf" import --database "$od" "$tmp/files/cry-inc/google.xml" > "$tmp/own2.txt" 2>&1
check "bar.io does not cover $gdom" "$?" 65

# 4. idempotent
before=$(q "SELECT COUNT(*) FROM agg_reports")/$(q "SELECT COUNT(*) FROM agg_records")
"$ctl" -c "$conf" import --database "$db" "$tmp/files" > "$tmp/run2.txt" 2>&1
after=$(q "SELECT COUNT(*) FROM agg_reports")/$(q "SELECT COUNT(*) FROM agg_records")
check "re-import leaves the row counts" "$after" "$before"
check "re-import: every failure report is a duplicate" \
    "$(grep -c ': duplicate failure report' "$tmp/run2.txt")" 7
check "re-import stores nothing" "$(grep -c ': stored report' "$tmp/run2.txt")" 0
check "re-import: every well-formed file is a duplicate" \
    "$(grep -c ': duplicate report' "$tmp/run2.txt")" \
    "$(grep -c ': \(stored\|duplicate\) report' "$tmp/run1.txt")"
# --json
"$ctl" -c "$conf" import --json --database "$db" \
    "$tmp/files/cry-inc/gmxnet.xml" > "$tmp/json.txt"
case $(cat "$tmp/json.txt") in
*'"outcome":"duplicate"'*'"org_name":"GMX"'*) ok "--json";;
*) nok "--json: $(cat "$tmp/json.txt")";;
esac
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
