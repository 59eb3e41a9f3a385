#!/bin/sh
# test_check.sh - `dmarcctl check DOMAIN` (the online checker) against a
# private NSD with one zone per situation of issue 7.  Each case asserts
# the score and the set of issue codes of --json, and that every DMARC
# dns_snippet value re-grades as valid with `dmarcctl check --record`;
# then every snippet (DMARC, SPF, _report._dmarc) is published in the
# zone and the check run again (tests/check/check-lib.sh).  DKIM keys are
# made here by openssl.  TAP output; POSIX tools only.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/check/check-lib.sh"

nsd_fixture_require
check_require_openssl
check_keys
GOOD="v=DMARC1; p=reject; rua=mailto:agg@"

zone_add test </dev/null
zone good.test "${GOOD}good.test"
zone missing.test
zone none.test "v=DMARC1; p=none; rua=mailto:agg@none.test"
zone quar.test "v=DMARC1; p=quarantine; rua=mailto:agg@quar.test"
zone pct.test "v=DMARC1; p=reject; pct=50; rua=mailto:agg@pct.test"
zone norua.test "v=DMARC1; p=reject"
zone ext.test "${GOOD}vendor.test"
zone extok.test "${GOOD}vendor.test"
zone_rr vendor.test "$SPF" "extok.test._report._dmarc 300 IN TXT \"v=DMARC1;\""
zone dup.test "${GOOD}dup.test" "v=DMARC1; p=none; rua=mailto:agg@dup.test"
zone spfdmarc.test "v=spf1 -all"
zone syntax.test "v=DMARC1; p=rejectt; rua=mailto:agg@syntax.test"
zone inherit.test "${GOOD}inherit.test"
zone_rr inherit.test "sub 300 IN A 192.0.2.10" "sub 300 IN TXT \"v=spf1 -all\"" \
    "sel._domainkey.sub 300 IN TXT $K2048"
zone psd.test "v=DMARC1; p=reject; psd=y; rua=mailto:agg@psd.test"
_inc=
for _i in 1 2 3 4 5 6 7 8 9 10 11; do
	_inc="$_inc include:i$_i.spfmany.test"
	zone_rr spfmany.test "i$_i 300 IN TXT \"v=spf1 ip4:192.0.2.$_i -all\""
done
zone_spf spfmany.test "@ 300 IN TXT $(txt "v=spf1$_inc -all")" "${GOOD}spfmany.test"
zone_spf plusall.test '@ 300 IN TXT "v=spf1 +all"' "${GOOD}plusall.test"
zone_spf nospf.test "" "${GOOD}nospf.test"
zone k1024.test "${GOOD}k1024.test"
zone_rr k1024.test "old._domainkey 300 IN TXT $K1024"
zone k512.test "${GOOD}k512.test"
zone_rr k512.test "old._domainkey 300 IN TXT $K512"
zone revoked.test "${GOOD}revoked.test"
zone_rr revoked.test 'old._domainkey 300 IN TXT "v=DKIM1; k=rsa; p="'
zone testing.test "${GOOD}testing.test"
zone_rr testing.test "new._domainkey 300 IN TXT $(txt "v=DKIM1; k=rsa; t=y; p=$(pub_rsa "$T/k2048.pem")")"
# Three names that do not exist: three void look-ups (the limit is 2).
zone_spf voids.test '@ 300 IN TXT "v=spf1 a:nx1.voids.test mx:nx2.voids.test exists:nx3.voids.test ip4:192.0.2.10 -all"' \
    "${GOOD}voids.test"
zone_spf softfail.test '@ 300 IN TXT "v=spf1 ip4:192.0.2.10 ~all"' "${GOOD}softfail.test"
zone_spf twospf.test '@ 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"' "${GOOD}twospf.test"
zone_rr twospf.test '@ 300 IN TXT "v=spf1 ip4:192.0.2.11 -all"'
nsd_fixture_start

case_ "reject, all good" good.test sel 100 0 ""
case_ "missing record" missing.test sel 60 2 "dmarc_missing"
case_ "p=none" none.test sel 85 2 "dmarc_policy_none"
case_ "p=quarantine" quar.test sel 95 1 "dmarc_policy_quarantine"
case_ "reject with pct<100" pct.test sel 95 1 "dmarc_low_pct"
case_ "no rua" norua.test sel 95 1 "dmarc_no_rua"
case_ "external rua, not authorized" ext.test sel 95 1 "dmarc_rua_unauthorized"
case_ "external rua, authorized" extok.test sel 100 0 ""
case_ "two DMARC records" dup.test sel 60 2 "dmarc_duplicate"
case_ "SPF record at _dmarc" spfdmarc.test sel 60 2 "dmarc_missing dmarc_spf_at_dmarc"
case_ "syntax error" syntax.test sel 80 2 "dmarc_p_invalid dmarc_policy_none dmarc_treated_as_none"
case_ "inherited from the org domain" sub.inherit.test sel 100 0 "dmarc_inherited"
case_ "psd=y" psd.test sel 90 2 "dmarc_psd_misuse"
case_ "SPF over the lookup limit" spfmany.test sel 90 2 "spf_too_many_lookups"
case_ "SPF +all" plusall.test sel 80 2 "spf_plus_all"
case_ "no SPF" nospf.test sel 85 2 "spf_missing"
case_ "missing DKIM selector" good.test nope 95 1 "dkim_selector_missing"
case_ "1024-bit DKIM key" k1024.test sel,old 98 1 "dkim_key_short"
case_ "512-bit DKIM key" k512.test sel,old 85 2 "dkim_key_too_weak"
case_ "revoked key" revoked.test sel,old 100 0 "dkim_key_revoked"
case_ "testing flag" testing.test sel,new 100 1 "dkim_testing"
case_ "SPF over 2 void look-ups" voids.test sel 90 2 "spf_too_many_void_lookups"
case_ "SPF ~all" softfail.test sel 100 0 "spf_softfail_all"
case_ "two SPF records" twospf.test sel 85 2 "spf_multiple"

# The details behind the codes.
out=$(check --selector sel spfmany.test)
tap_ok "printf '%s\\n' \"\$out\" | grep -q '\"lookups\": 11,'" \
    "SPF lookups counted through includes"
out=$(check --selector sel,old k1024.test)
tap_ok "printf '%s\\n' \"\$out\" | grep -q '\"key_bits\": 1024,'" \
    "DKIM key size read from the DER key"
out=$(check --selector sel ext.test)
tap_ok "printf '%s\\n' \"\$out\" | grep -q '\"name\": \"ext.test._report._dmarc.vendor.test\"'" \
    "authorization record named in the snippet"
# Text output carries the verdict; a dead nameserver is EX_TEMPFAIL.
out=$("$CTL" -c /dev/null check --nameserver "$NSD_SERVER" --selector sel quar.test)
tap_ok "printf '%s\\n' \"\$out\" | grep -q '^  readiness: ready for reject'" \
    "text output has a readiness verdict"
"$CTL" -c /dev/null check --nameserver 127.0.0.1:1 good.test >/dev/null 2>&1
tap_is "$?" 75 "DNS failure exits 75 (EX_TEMPFAIL)"
# The exit statuses are distinct: 0, 1, 2 above; then bad input, usage.
"$CTL" -c /dev/null check --nameserver "$NSD_SERVER" 'a..b.test' >/dev/null 2>"$T/err"
tap_is "$?" 65 "a name that is not a domain exits 65 (EX_DATAERR)"
tap_ok "grep -q 'a\.\.b\.test' '$T/err'" "the error names it"
"$CTL" -c /dev/null check --bogus good.test >/dev/null 2>&1
tap_is "$?" 64 "an unknown option exits 64 (EX_USAGE)"
# The worst status over several domains wins; DNS failure over all.
check --selector sel good.test quar.test none.test >/dev/null
tap_is "$?" 2 "good, quarantine, none: the worst (2) wins"

# Phase 2: every snippet published in place of what was there fixes
# the issue that proposed it.
check_republish
tap_done
