#!/bin/sh
# test_check_seed.sh - seed 003's examples through the online checker:
# its seven "Common DMARC Configurations" and six "Common DMARC Issues",
# each published in a zone of a private NSD (example.com becomes
# seed-N.test) and checked with `dmarcctl check --json`.  Each asserts
# the outcome the seed describes: the score (the seed's rubric: missing
# -40, p=none -15, quarantine -5, no rua -5, pct<100 -5), the policy
# read, the issue codes, the fix the seed prints as the dns_snippet, and
# the readiness verdict.  Snippets are then published and re-checked
# (tests/check/check-lib.sh).  TAP output; POSIX tools only.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/check/check-lib.sh"

nsd_fixture_require
check_require_openssl
check_keys

# The seed's records with example.com replaced by the zone's name.
R() { printf '%s' "$2" | sed "s/example\.com/$1/g"; }
seed() {
	_d=$1
	shift
	_l=
	for _r in "$@"; do
		zone "$_d" "$(R "$_d" "$_r")"
	done
	[ $# -eq 0 ] && zone "$_d"
}
zone_add test </dev/null
# Common DMARC Configurations 1-7
seed c1.test "v=DMARC1; p=none; rua=mailto:dmarc@example.com"
seed c2.test "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com"
seed c3.test "v=DMARC1; p=reject; pct=100; rua=mailto:dmarc@example.com"
seed c4.test "v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:dmarc@example.com"
seed c5.test "v=DMARC1; p=reject; rua=mailto:dmarc@example.com; ruf=mailto:forensic@example.com; fo=1"
seed c6.test "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com"
seed c7.test "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:reports@dmarcanalyzer.test"
# The same with the analyzer's authorization published, as the seed says
# a vendor must ("example.com._report._dmarc.vendor.com").
seed c7ok.test "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:reports@dmarcanalyzer.test"
zone_rr dmarcanalyzer.test "$SPF" 'c7ok.test._report._dmarc 300 IN TXT "v=DMARC1"'
# Common DMARC Issues 1-6
seed i1.test
seed i2.test "v=DMARC1; p=none; rua=mailto:dmarc@example.com"
seed i3.test "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"
seed i4.test "v=DMARC1; p=reject"
seed i5.test "v=DMARC1; p=reject; pct=10; rua=mailto:dmarc@example.com"
seed i6a.test "p=reject; rua=mailto:dmarc@example.com"
seed i6b.test "v=DMARC2; p=reject"
seed i6c.test "v=DMARC1; p=block"
seed i6d.test "v=DMARC1; p=reject rua=mailto:dmarc@example.com"
nsd_fixture_start

# member KEY: the value of "KEY" in the "dmarc" object of $_out.
member() {
	printf '%s\n' "$_out" | sed -n '/^  "dmarc": {/,/^  }/p' |
	    sed -n "s/^    \"$1\": \"*\([^\",]*\)\"*,*\$/\1/p" | head -1
}
readiness() { printf '%s\n' "$_out" | sed -n 's/^  "readiness_verdict": "\([^"]*\)".*/\1/p'; }
# fix CODE: the snippet value proposed for CODE.
fix() { printf '%s\n' "$_out" | snippets | awk -F'\t' -v c="$1" '$1 == c { print $3 }'; }

# seedcase NAME DOMAIN SCORE EXIT 'CODES' PRESENT VALID POLICY SP READINESS
seedcase() {
	case_ "$1" "$2" sel "$3" "$4" "$5"
	_out=$(check --selector sel "$2")
	tap_is "$(member present) $(member valid) $(member policy) $(member subdomain_policy)" \
	    "$6 $7 $8 $9" "$1: present, valid, policy, subdomain policy"
	tap_is "$(readiness)" "${10}" "$1: readiness"
}

seedcase "configuration 1, just starting (monitoring)" c1.test 85 2 \
    "dmarc_policy_none" true true none none "ready for quarantine"
seedcase "configuration 2, intermediate (quarantine)" c2.test 95 1 \
    "dmarc_pct_historic dmarc_policy_quarantine" true true quarantine quarantine "ready for reject"
seedcase "configuration 3, maximum protection (reject)" c3.test 100 1 \
    "dmarc_pct_historic" true true reject reject "enforcing"
seedcase "configuration 4, strict alignment" c4.test 100 0 \
    "dmarc_strict_alignment" true true reject reject "enforcing"
tap_is "$(member adkim) $(member aspf)" "s s" "configuration 4: adkim=s aspf=s read"
seedcase "configuration 5, with forensic reports" c5.test 100 0 \
    "dmarc_ruf_privacy" true true reject reject "enforcing"
seedcase "configuration 6, different subdomain policy" c6.test 100 1 \
    "dmarc_np_missing dmarc_sp_weaker" true true reject quarantine "enforcing"
seedcase "configuration 7, multiple report addresses (not authorized)" c7.test 95 1 \
    "dmarc_rua_unauthorized" true true reject reject "enforcing"
tap_is "$(fix dmarc_rua_unauthorized)" "v=DMARC1;" \
    "configuration 7: the analyzer's authorization record proposed"
seedcase "configuration 7, multiple report addresses (authorized)" c7ok.test 100 0 \
    "" true true reject reject "enforcing"

seedcase "issue 1, DMARC missing (-40)" i1.test 60 2 \
    "dmarc_missing" false false null null "not protected"
tap_is "$(fix dmarc_missing)" "v=DMARC1; p=none; rua=mailto:dmarc@i1.test" \
    "issue 1: the seed's fix proposed"
seedcase "issue 2, policy none (-15)" i2.test 85 2 \
    "dmarc_policy_none" true true none none "ready for quarantine"
tap_is "$(fix dmarc_policy_none)" "v=DMARC1; p=quarantine; rua=mailto:dmarc@i2.test" \
    "issue 2: the seed's fix proposed"
seedcase "issue 3, policy quarantine (-5)" i3.test 95 1 \
    "dmarc_policy_quarantine" true true quarantine quarantine "ready for reject"
tap_is "$(fix dmarc_policy_quarantine)" "v=DMARC1; p=reject; rua=mailto:dmarc@i3.test" \
    "issue 3: the seed's fix proposed"
seedcase "issue 4, no aggregate reports (-5)" i4.test 95 1 \
    "dmarc_no_rua" true true reject reject "enforcing"
tap_is "$(fix dmarc_no_rua)" "v=DMARC1; p=reject; rua=mailto:dmarc@i4.test" \
    "issue 4: the seed's fix proposed"
# The seed's fix keeps pct=100; RFC 9989 drops pct, so the fix is the
# record without it (same effect: every message).
seedcase "issue 5, low percentage (-5)" i5.test 95 1 \
    "dmarc_low_pct" true true reject reject "ready for reject"
tap_is "$(fix dmarc_low_pct)" "v=DMARC1; p=reject; rua=mailto:dmarc@i5.test" \
    "issue 5: the seed's fix (without the historic pct) proposed"
seedcase "issue 6, syntax: missing v=DMARC1" i6a.test 60 2 \
    "dmarc_invalid dmarc_v_missing" true false null null "not protected"
seedcase "issue 6, syntax: wrong version" i6b.test 60 2 \
    "dmarc_invalid dmarc_v_invalid" true false null null "not protected"
seedcase "issue 6, syntax: invalid policy" i6c.test 60 2 \
    "dmarc_invalid dmarc_no_usable_policy dmarc_p_invalid" true false null null "not protected"
seedcase "issue 6, syntax: missing semicolon" i6d.test 60 2 \
    "dmarc_invalid dmarc_missing_semicolon dmarc_no_usable_policy" true false null null "not protected"
for _d in i6a i6b i6c i6d; do
	_out=$(check --selector sel "$_d.test")
	tap_ok "fix dmarc_invalid | grep -q '^v=DMARC1; p=[a-z]*; rua=mailto:dmarc@$_d.test\$'" \
	    "issue 6 ($_d): the seed's fix, a complete valid record, proposed"
done

check_republish
tap_done
