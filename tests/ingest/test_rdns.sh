#!/bin/sh
# tests/ingest/test_rdns.sh - reverse DNS at import, against a real NSD
# serving in-addr.arpa and ip6.arpa zones for test ranges: the PTR name,
# its organization (public suffix list) and the status land in rdns; a
# fresh row is never asked again, an aged one is; ImportReverseDNS no and
# --no-rdns leave DNS alone.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/dns/nsd-fixture.sh"
ctl=$top_builddir/dmarcctl
tmp=$top_builddir/tests/tmp/ingest_rdns
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }

nsd_fixture_require
zone_add 2.0.192.in-addr.arpa <<'ZONE'
1        300 IN PTR mta1.mail.sender.test.
3        300 IN PTR o1.ptr.example.co.uk.
ZONE
zone_add 8.b.d.0.1.0.0.2.ip6.arpa <<'ZONE'
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 300 IN PTR v6.sender.test.
ZONE
nsd_fixture_start
rm -rf "$tmp"
mkdir -p "$tmp"
# an absolute path: relative ones are read from the config file's directory
psl=$(cd "${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/psl" 2>/dev/null &&
    pwd)/public_suffix_list.dat
[ -f "$psl" ] || psl=/usr/share/publicsuffix/public_suffix_list.dat
printf 'OwnedDomains example.com\nNameservers %s\nPublicSuffixList %s\nDNSTimeout 1s\nDNSRetries 0\n' \
    "$NSD_SERVER" "$psl" > "$tmp/dmarcd.conf"
report() {	# id ip...
	id=$1; shift
	printf '<feedback><report_metadata><org_name>o</org_name><report_id>%s</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata><policy_published><domain>example.com</domain></policy_published>' "$id"
	for ip in "$@"; do
		printf '<record><row><source_ip>%s</source_ip><count>1</count></row></record>' "$ip"
	done
	printf '</feedback>\n'
}
report r1 192.0.2.1 192.0.2.2 192.0.2.3 2001:db8::1 192.0.2.1 > "$tmp/r1.xml"
db=$tmp/r.db
"$ctl" -c "$tmp/dmarcd.conf" import --database "$db" "$tmp/r1.xml" > "$tmp/out.txt" 2>&1
check "import: exit 0" "$?" 0
q() { sqlite3 "$db" "$1"; }
check "PTR, organization, status" "$(q "SELECT ptr||'|'||org||'|'||status FROM rdns WHERE ip = '192.0.2.1'")" \
    "mta1.mail.sender.test|sender.test|ok"
check "organization by the public suffix list (co.uk)" "$(q "SELECT org FROM rdns WHERE ip = '192.0.2.3'")" "example.co.uk"
check "no PTR: nxdomain, cached too" "$(q "SELECT ptr||'|'||org||'|'||status FROM rdns WHERE ip = '192.0.2.2'")" "||nxdomain"
check "IPv6 through ip6.arpa" "$(q "SELECT ptr||'|'||org FROM rdns WHERE ip = '2001:db8::1'")" "v6.sender.test|sender.test"
check "one row per IP" "$(q "SELECT COUNT(*) FROM rdns")" 4
# fresh rows are not asked again: mark them, import a report with the
# same IPs, and the marks stay
q "UPDATE rdns SET ptr = 'mark', resolved_at = strftime('%s','now') - 3600" >/dev/null
report r2 192.0.2.1 192.0.2.2 > "$tmp/r2.xml"
"$ctl" -c "$tmp/dmarcd.conf" import --database "$db" "$tmp/r2.xml" > "$tmp/out.txt" 2>&1
check "fresh (1 hour): not resolved again" "$(q "SELECT COUNT(*) FROM rdns WHERE ptr = 'mark'")" 4
# aged past 7 days: resolved again
q "UPDATE rdns SET resolved_at = strftime('%s','now') - 8 * 86400 WHERE ip = '192.0.2.1'" >/dev/null
report r3 192.0.2.1 192.0.2.3 > "$tmp/r3.xml"
"$ctl" -c "$tmp/dmarcd.conf" import --database "$db" "$tmp/r3.xml" > "$tmp/out.txt" 2>&1
check "aged (8 days): resolved again" "$(q "SELECT ptr FROM rdns WHERE ip = '192.0.2.1'")" "mta1.mail.sender.test"
check "the fresh one in the same report: left" "$(q "SELECT ptr FROM rdns WHERE ip = '192.0.2.3'")" "mark"
# switched off
report r4 192.0.2.99 > "$tmp/r4.xml"
"$ctl" -c "$tmp/dmarcd.conf" import --no-rdns --database "$db" "$tmp/r4.xml" > "$tmp/out.txt" 2>&1
check "--no-rdns: no row" "$(q "SELECT COUNT(*) FROM rdns WHERE ip = '192.0.2.99'")" 0
report r5 192.0.2.98 > "$tmp/r5.xml"
printf 'ImportReverseDNS no\n' >> "$tmp/dmarcd.conf"
"$ctl" -c "$tmp/dmarcd.conf" import --database "$db" "$tmp/r5.xml" > "$tmp/out.txt" 2>&1
check "ImportReverseDNS no: no row" "$(q "SELECT COUNT(*) FROM rdns WHERE ip = '192.0.2.98'")" 0
# an unreachable resolver: given up after 3 failed lookups, nothing
# cached, the import itself unharmed
while :; do
	dead=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom) % 22000 ))
	hex=$(printf '%04X' "$dead")
	cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk '{ print $2 }' |
	    grep -q ":$hex\$" || break
done
printf 'OwnedDomains example.com\nNameservers 127.0.0.1:%s\nDNSTimeout 200ms\nDNSRetries 0\n' \
    "$dead" > "$tmp/dead.conf"
report r6 198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5 > "$tmp/r6.xml"
"$ctl" -c "$tmp/dead.conf" import --database "$db" "$tmp/r6.xml" > "$tmp/out.txt" 2> "$tmp/err.txt"
check "unreachable resolver: the report is stored" "$?" 0
check "unreachable resolver: given up, with a warning" \
    "$(grep -c 'reverse DNS given up for this run: 3 lookups in a row failed' "$tmp/err.txt")" 1
check "unreachable resolver: failures not cached" \
    "$(q "SELECT COUNT(*) FROM rdns WHERE ip LIKE '198.51.100.%'")" 0
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
