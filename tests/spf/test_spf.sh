#!/bin/sh
# test_spf.sh - SPF checks through auth/spf.c, dns/ and a real NSD: every
# result (pass, fail, softfail, neutral, none, temperror from a dead
# nameserver and from a REFUSED include, permerror from a syntax error,
# from more than 10 DNS-querying terms and from more than 2 void
# lookups), the CVE-2023-42118 screen on the record, include and
# explanation paths, and the null sender checked as postmaster@HELO.
# Uses tests/helpers/spfcheck.  TAP output.
set -u

. "${top_srcdir:-.}/tests/dns/tap.sh"
. "${top_srcdir:-.}/tests/dns/nsd-fixture.sh"
SPFCHECK=${top_builddir:-.}/tests/helpers/spfcheck

nsd_fixture_require
[ -x "$SPFCHECK" ] || nsd_fixture_missing "spfcheck not built" "(make check)"

# A TXT record of any length as zone-file character-strings.
txt() {
	printf '%s' "$1" | awk '{
		s = $0
		while (length(s) > 0) {
			printf " \"%s\"", substr(s, 1, 255)
			s = substr(s, 256)
		}
	}'
}

repeat() {
	awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

cve_record="v=spf1 exists:$(repeat '%{d}' 127)$(repeat x 40).spf.test -all"
cve_inc="v=spf1 a:$(repeat 'ab%-%{d}' 30).spf.test -all"
cve_exp="$(repeat '%{d}' 127)xxxxxxxx"

zone_add spf.test <<ZONES
pass       IN TXT "v=spf1 ip4:192.0.2.10 -all"
fail       IN TXT "v=spf1 ip4:192.0.2.99 -all exp=why.fail.spf.test"
why.fail   IN TXT "%{i} may not send for %{d}"
softfail   IN TXT "v=spf1 ip4:192.0.2.99 ~all"
neutral    IN TXT "v=spf1 ?all"
none       IN A 192.0.2.10
syntax     IN TXT "v=spf1 ip4:192.0.2.10 bogus -all"
multi      IN TXT "v=spf1 -all"
multi      IN TXT "v=spf1 +all"
ten        IN TXT "v=spf1 a:h1.spf.test a:h2.spf.test a:h3.spf.test a:h4.spf.test a:h5.spf.test include:inc8.spf.test ip4:192.0.2.10 -all"
inc8       IN TXT "v=spf1 a:h6.spf.test a:h7.spf.test a:h8.spf.test a:h9.spf.test"
eleven     IN TXT "v=spf1 a:h1.spf.test a:h2.spf.test a:h3.spf.test a:h4.spf.test a:h5.spf.test include:inc8.spf.test a:h10.spf.test ip4:192.0.2.10 -all"
h1         IN A 192.0.2.200
h2         IN A 192.0.2.200
h3         IN A 192.0.2.200
h4         IN A 192.0.2.200
h5         IN A 192.0.2.200
h6         IN A 192.0.2.200
h7         IN A 192.0.2.200
h8         IN A 192.0.2.200
h9         IN A 192.0.2.200
h10        IN A 192.0.2.200
void       IN TXT "v=spf1 a:gone1.spf.test a:gone2.spf.test a:gone3.spf.test ip4:192.0.2.10 -all"
increfused IN TXT "v=spf1 include:elsewhere.invalid -all"
cve        IN TXT $(txt "$cve_record")
cveinc     IN TXT "v=spf1 include:cvetarget.spf.test -all"
cvetarget  IN TXT $(txt "$cve_inc")
cveexp     IN TXT "v=spf1 -all exp=cveexptxt.spf.test"
cveexptxt  IN TXT $(txt "$cve_exp")
mail       IN A 192.0.2.20
mail       IN TXT "v=spf1 a -all"
ZONES
nsd_fixture_start

# spfcheck, keeping result, domain and scope (the whole output goes to
# stderr as TAP comments).
check() {
	_out=$("$SPFCHECK" --nameserver "$NSD_SERVER" "$@" 2>&1)
	printf '%s\n' "$_out" | sed 's/^/# /' >&2
	printf '%s\n' "$_out" |
	    sed -n 's/^\(result=[^ ]* domain=[^ ]* scope=[^ ]*\).*/\1/p'
}
reason() {
	"$SPFCHECK" --nameserver "$NSD_SERVER" "$@" 2>&1 |
	    sed -n 's/^result=.* reason=//p'
}
H="--ip 192.0.2.10 --helo mail.spf.test"

tap_is "$(check $H --mail-from a@pass.spf.test)" \
    "result=pass domain=pass.spf.test scope=mfrom" "pass"
tap_is "$(check $H --mail-from a@fail.spf.test)" \
    "result=fail domain=fail.spf.test scope=mfrom" "fail"
tap_is "$("$SPFCHECK" --nameserver "$NSD_SERVER" $H \
    --mail-from a@fail.spf.test | sed -n 's/^explanation=//p')" \
    "192.0.2.10 may not send for fail.spf.test" "fail: explanation from exp="
tap_is "$(check $H --mail-from a@softfail.spf.test)" \
    "result=softfail domain=softfail.spf.test scope=mfrom" "softfail"
tap_is "$(check $H --mail-from a@neutral.spf.test)" \
    "result=neutral domain=neutral.spf.test scope=mfrom" "neutral"
tap_is "$(check $H --mail-from a@none.spf.test)" \
    "result=none domain=none.spf.test scope=mfrom" "none: no SPF record"
tap_is "$(check $H --mail-from a@nx.spf.test)" \
    "result=none domain=nx.spf.test scope=mfrom" "none: NXDOMAIN"
tap_is "$("$SPFCHECK" --nameserver 127.0.0.1:9 --timeout 300 $H \
    --mail-from a@pass.spf.test | cut -d' ' -f1-3)" \
    "result=temperror domain=pass.spf.test scope=mfrom" \
    "temperror: dead nameserver"
tap_is "$(check $H --mail-from a@increfused.spf.test)" \
    "result=temperror domain=increfused.spf.test scope=mfrom" \
    "temperror: include answered REFUSED (RFC 7208 4.4)"
tap_is "$(check $H --mail-from a@syntax.spf.test)" \
    "result=permerror domain=syntax.spf.test scope=mfrom" \
    "permerror: syntax error"
tap_is "$(check $H --mail-from a@multi.spf.test)" \
    "result=permerror domain=multi.spf.test scope=mfrom" \
    "permerror: two records"
tap_is "$(check $H --mail-from a@ten.spf.test)" \
    "result=pass domain=ten.spf.test scope=mfrom" \
    "pass: 10 DNS-querying terms"
tap_is "$(check $H --mail-from a@eleven.spf.test)" \
    "result=permerror domain=eleven.spf.test scope=mfrom" \
    "permerror: 11 DNS-querying terms across an include"
tap_is "$(reason $H --mail-from a@eleven.spf.test)" \
    "processing limit: more than 10 DNS-querying terms" \
    "permerror: limit reason"
tap_is "$(check $H --mail-from a@void.spf.test)" \
    "result=permerror domain=void.spf.test scope=mfrom" \
    "permerror: 3 void lookups"
tap_ok "reason $H --mail-from a@void.spf.test | grep -q 'more than 2 void lookups'" \
    "permerror: void reason"
tap_is "$(check $H --mail-from a@cve.spf.test)" \
    "result=permerror domain=cve.spf.test scope=mfrom" \
    "CVE-2023-42118: 127 macros in the record: permerror"
tap_ok "reason $H --mail-from a@cve.spf.test | grep -q 'too many macros'" \
    "CVE-2023-42118: the reason names the screen"
tap_is "$(check $H --mail-from a@cveinc.spf.test)" \
    "result=permerror domain=cveinc.spf.test scope=mfrom" \
    "CVE-2023-42118: oversized term behind include: permerror"
tap_is "$("$SPFCHECK" --nameserver "$NSD_SERVER" $H \
    --mail-from a@cveexp.spf.test)" \
    "result=fail domain=cveexp.spf.test scope=mfrom terms=0 void=0 reason=a mechanism matched
explanation=cveexp.spf.test does not designate 192.0.2.10 as a permitted sender (default)" \
    "CVE-2023-42118: 127-macro explanation screened, default used, no crash"
tap_is "$(check --ip 192.0.2.20 --helo mail.spf.test --mail-from '')" \
    "result=pass domain=mail.spf.test scope=mfrom" \
    "null sender: postmaster@HELO"
tap_is "$(check --ip 192.0.2.21 --helo mail.spf.test --mail-from '')" \
    "result=fail domain=mail.spf.test scope=mfrom" \
    "null sender: the HELO domain's policy fails"
tap_is "$(check --ip 192.0.2.20 --helo mail.spf.test \
    --mail-from a@pass.spf.test --scope both)" \
    "result=fail domain=pass.spf.test scope=mfrom
result=pass domain=mail.spf.test scope=helo" \
    "both identities: mfrom and helo"
tap_done
