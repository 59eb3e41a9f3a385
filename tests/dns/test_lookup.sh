#!/bin/sh
# test_lookup.sh - dmarcctl lookup and orgdomain --method treewalk against
# a real NSD: the RFC 9989 tree walk over live DNS, end to end.
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"

nsd_fixture_require
# The parent zone too, so the walk's last query gets NXDOMAIN as it would
# from the real root, not REFUSED (which is a permanent DNS error).
zone_add test </dev/null
zone_add example.test <<'ZONE'
_dmarc           300 IN TXT "v=DMARC1; p=reject; sp=quarantine; np=none; rua=mailto:agg@example.test"
mail             300 IN A 192.0.2.25
_dmarc.own       300 IN TXT "v=DMARC1; p=none"
own              300 IN A 192.0.2.26
_dmarc.twice     300 IN TXT "v=DMARC1; p=reject"
_dmarc.twice     300 IN TXT "v=DMARC1; p=none"
twice            300 IN A 192.0.2.27
ZONE
zone_add psd.test <<'ZONE'
_dmarc           300 IN TXT "v=DMARC1; p=reject; psd=y"
_dmarc.org1      300 IN TXT "v=DMARC1; p=quarantine"
org1             300 IN A 192.0.2.30
a.b.org1         300 IN A 192.0.2.31
org2             300 IN A 192.0.2.32
ZONE
zone_add deep.test <<'ZONE'
_dmarc           300 IN TXT "v=DMARC1; p=quarantine"
a.b.c.d.e.f.g.h.i.j 300 IN A 192.0.2.40
ZONE
nsd_fixture_start

ctl="$top_builddir/dmarcctl -c /dev/null"
j() { $ctl lookup --nameserver "$NSD_SERVER" --json "$@"; }
field() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n 1; }

out=$(j example.test)
tap_is "$(printf '%s\n' "$out" | field policy_domain)" example.test \
    "record at the author domain"
tap_is "$(printf '%s\n' "$out" | field source)" author "source is author"

out=$(j MAIL.Example.Test.)
tap_is "$(printf '%s\n' "$out" | field policy_domain)" example.test \
    "subdomain inherits the org record (uppercase, trailing dot)"
tap_is "$(printf '%s\n' "$out" | field author_domain)" mail.example.test \
    "author normalised"

out=$(j own.example.test)
tap_is "$(printf '%s\n' "$out" | field policy_domain)" own.example.test \
    "a subdomain's own record wins"

out=$(j twice.example.test)
tap_is "$(printf '%s\n' "$out" | field policy_domain)" example.test \
    "two records at one name are discarded; the walk goes on"

out=$(j a.b.org1.psd.test)
tap_is "$(printf '%s\n' "$out" | field org_domain)" org1.psd.test \
    "psd=y: org domain is one label below the PSD record"
tap_is "$(printf '%s\n' "$out" | field policy_domain)" org1.psd.test \
    "psd=y: the org's record applies"

out=$(j org2.psd.test)
tap_is "$(printf '%s\n' "$out" | field policy_domain)" psd.test \
    "no org record: the PSD's record applies"
tap_is "$(printf '%s\n' "$out" | field source)" psd "source is psd"

out=$($ctl lookup --nameserver "$NSD_SERVER" a.b.c.d.e.f.g.h.i.j.deep.test)
tap_is "$(printf '%s\n' "$out" | grep -c '_dmarc\.')" 8 \
    "a 12-label name costs at most 8 queries"

$ctl lookup --nameserver "$NSD_SERVER" nothing.invalid-zone.test >/dev/null 2>&1
tap_is "$?" 2 "no record anywhere: exit status 2 (no policy)"

out=$($ctl orgdomain --method treewalk --nameserver "$NSD_SERVER" \
    mail.example.test a.b.org1.psd.test)
tap_is "$out" "example.test
org1.psd.test" "orgdomain --method treewalk over DNS"

# A nameserver that does not answer: temperror, exit 75, within the timeout.
dead=127.0.0.1:1     # nothing listens on port 1: refused at once
printf 'DNSTimeout 200ms\nDNSRetries 0\n' > "$NSD_DIR/short.conf"
"$top_builddir/dmarcctl" -c "$NSD_DIR/short.conf" lookup \
    --nameserver "$dead" example.test >/dev/null 2>&1
tap_is "$?" 75 "dead nameserver: exit 75 (temperror)"
tap_done
