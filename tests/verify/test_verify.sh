#!/bin/sh
# test_verify.sh - the whole pipeline end to end: `dmarcctl verify` against
# a real NSD serving SPF, DKIM and DMARC records, with messages signed at
# test time by libopendkim (tests/helpers/dkimsign) with keys openssl makes
# here.  Each case asserts the DMARC result, the disposition and parts of
# the Authentication-Results field dmarcd would add.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"

nsd_fixture_require
if ! command -v openssl >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && { echo "1..1"; echo "not ok 1 - openssl missing"; exit 1; }
	echo "1..0 # SKIP openssl not installed (apt-get install openssl)"
	exit 0
fi
DKIMSIGN=$top_builddir/tests/helpers/dkimsign
CTL=$top_builddir/dmarcctl
_nsd_mkdir
T=$NSD_DIR/verify
mkdir -p "$T"

genrsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2" 2>/dev/null; }
pub_rsa() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n'; }
pub_ed() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 | tr -d '\n'; }
# A TXT record of any length, split into 255-byte character-strings.
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }

genrsa 2048 "$T/k2048.pem"; genrsa 512 "$T/k512.pem"; genrsa 2048 "$T/kother.pem"
openssl genpkey -algorithm ed25519 -out "$T/ked.pem" 2>/dev/null

zone_add test </dev/null
zone_add example.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
@                 300 IN A 192.0.2.10
_dmarc            300 IN TXT "v=DMARC1; p=reject; sp=quarantine; np=none; rua=mailto:agg@example.test"
news              300 IN A 192.0.2.11
news              300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
bounce            300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
soft              300 IN TXT "v=spf1 ~all"
neutral           300 IN TXT "v=spf1 ?all"
broken            300 IN TXT "v=spf1 ip4:192.0.2.10 foo:bar -all"
loop              300 IN TXT "v=spf1 include:l1.example.test include:l2.example.test include:l3.example.test include:l4.example.test include:l5.example.test include:l6.example.test -all"
l1                300 IN TXT "v=spf1 a:a1.example.test a:a2.example.test -all"
l2                300 IN TXT "v=spf1 a:a3.example.test a:a4.example.test -all"
l3                300 IN TXT "v=spf1 a:a5.example.test a:a6.example.test -all"
l4                300 IN TXT "v=spf1 a:a7.example.test -all"
l5                300 IN TXT "v=spf1 -all"
l6                300 IN TXT "v=spf1 -all"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$T/k2048.pem")")
ed._domainkey     300 IN TXT $(txt "v=DKIM1; k=ed25519; p=$(pub_ed "$T/ked.pem")")
weak._domainkey   300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$T/k512.pem")")
revoked._domainkey 300 IN TXT "v=DKIM1; k=rsa; p="
ZONE
zone_add list.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:192.0.2.20 -all"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$T/kother.pem")")
ZONE
zone_add quarantine.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=quarantine"
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
zone_add none.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=none"
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
zone_add pct.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject; pct=0"
ZONE
zone_add testing.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject; t=y"
ZONE
zone_add strict.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject"
sub               300 IN A 192.0.2.12
ZONE
zone_add psd.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject; psd=y"
brand             300 IN A 192.0.2.13
mail.brand        300 IN A 192.0.2.14
mail.brand        300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
nsd_fixture_start

# --- messages ------------------------------------------------------------
msg() {	# msg FILE FROM-LINE [extra header lines...]
	_f=$1 _from=$2
	shift 2
	{
		[ -n "$_from" ] && printf '%s\n' "$_from"
		for _h in "$@"; do printf '%s\n' "$_h"; done
		printf 'To: rcpt@receiver.test\nSubject: figures\n'
		printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\n'
		printf 'Message-ID: <%s@example.test>\n\n' "$(basename "$_f")"
		printf 'Hello,\n\nthe figures are attached.\n'
	} > "$_f"
}
sign() {	# sign IN OUT KEY DOMAIN SELECTOR [dkimsign args]
	_in=$1 _out=$2 _k=$3 _d=$4 _s=$5
	shift 5
	"$DKIMSIGN" -k "$_k" -d "$_d" -s "$_s" "$@" "$_in" > "$_out"
}
# run NAME FILE [verify args]: JSON in $out.
run() {
	_file=$2
	shift 2
	out=$("$CTL" -c "$T/conf" verify --nameserver "$NSD_SERVER" --json \
	    "$@" "$_file" 2>"$T/err")
	rc=$?
}
top() { printf '%s\n' "$out" | sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n 1; }
# expect NAME DMARC DISPOSITION [A-R substrings...]
expect() {
	_n=$1 _d=$2 _disp=$3
	shift 3
	tap_is "$(top dmarc)/$(top disposition)" "$_d/$_disp" "$_n: dmarc and disposition"
	for _s in "$@"; do
		case $(printf '%s' "$out" | tr -d '\n') in
		*"$_s"*) tap_ok true "$_n: has $_s" ;;
		*) tap_ok false "$_n: has $_s"; printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 30 ;;
		esac
	done
}
printf 'AuthservID mx.receiver.test\nDNSTimeout 500ms\nDNSRetries 0\n' > "$T/conf"
ok_ip="--client-ip 192.0.2.10 --helo mail.example.test"
bad_ip="--client-ip 198.51.100.66 --helo evil.test"

msg "$T/plain" "From: Alice <alice@example.test>"
sign "$T/plain" "$T/signed" "$T/k2048.pem" example.test sel

# DMARC pass by both, by SPF only, by DKIM only
run x "$T/signed" $ok_ip --mail-from bounce@example.test
expect "aligned SPF and DKIM" pass pass "spf=pass smtp.mailfrom=bounce@example.test" \
    "dkim=pass header.d=example.test header.s=sel header.b=" \
    "dmarc=pass (p=reject dis=none) header.from=example.test"
tap_is "$rc" 0 "pass: exit status 0"
run x "$T/plain" $ok_ip --mail-from alice@example.test
expect "SPF only" pass pass "spf=pass" "dkim=none"
run x "$T/signed" $bad_ip --mail-from bounce@example.test
expect "forwarded: SPF fails, DKIM survives" pass pass "spf=fail" "dkim=pass"

# DMARC fail under p=reject / quarantine / none
run x "$T/plain" $bad_ip --mail-from alice@example.test
expect "spoof under p=reject" fail reject "dmarc=fail (p=reject dis=reject)"
tap_is "$rc" 1 "fail: exit status 1"
msg "$T/q" "From: q@quarantine.test"
run x "$T/q" $bad_ip --mail-from q@quarantine.test
expect "p=quarantine" fail quarantine
msg "$T/n" "From: n@none.test"
run x "$T/n" $bad_ip --mail-from n@none.test
expect "p=none" fail none "dmarc=fail (p=none dis=none)"

# sp, np, psd=y
msg "$T/sub" "From: n@news.example.test"
run x "$T/sub" $bad_ip --mail-from n@news.example.test
expect "sp= for an existing subdomain" fail quarantine '"policy_tag": "sp"'
msg "$T/nx" "From: x@ghost.example.test"
run x "$T/nx" $bad_ip --mail-from x@ghost.example.test
expect "np= for a non-existent subdomain" fail none '"policy_tag": "np"'
msg "$T/psd" "From: m@mail.brand.psd.test"
run x "$T/psd" $bad_ip --mail-from m@mail.brand.psd.test
expect "psd=y walk: the PSD's record, org one label below" fail reject \
    '"org_domain": "brand.psd.test"' '"policy_domain": "psd.test"'
run x "$T/psd" $ok_ip --mail-from m@mail.brand.psd.test
expect "psd=y walk: aligned SPF under the org domain passes" pass pass

# pct=0 and t=y downgrade one level, with the reason recorded
msg "$T/pct" "From: p@pct.test"
run x "$T/pct" $bad_ip --mail-from p@pct.test
expect "pct=0 samples out" fail quarantine '"sampled_out"'
msg "$T/t" "From: t@testing.test"
run x "$T/t" $bad_ip --mail-from t@testing.test
expect "t=y test mode" fail quarantine '"policy_test_mode"'

# Uppercase author domain under a parent's p=reject (OpenDMARC bug)
msg "$T/up" "From: u@SUB.STRICT.TEST"
run x "$T/up" $bad_ip --mail-from u@sub.strict.test
expect "uppercase From subdomain" fail reject "header.from=sub.strict.test"

# Several author domains, no From, several From fields
msg "$T/multi" "From: a@none.test, b@example.test"
run x "$T/multi" $bad_ip --mail-from a@none.test
expect "two author domains: the strictest wins" fail reject \
    "header.from=none.test" "header.from=example.test"
msg "$T/nofrom" ""
run x "$T/nofrom" $ok_ip --mail-from alice@example.test
expect "no From field" permerror reject "dmarc=permerror (no From"
tap_is "$rc" 4 "no From: exit status 4"
msg "$T/twofrom" "From: a@example.test" "From: b@none.test"
run x "$T/twofrom" $ok_ip --mail-from a@example.test
expect "two From fields" permerror reject "dmarc=permerror"

# DKIM variations (SPF fails, so DKIM decides)
sed 's/the figures are attached/the figures are ATTACHED/' "$T/signed" > "$T/body"
run x "$T/body" $bad_ip --mail-from x@evil.test
expect "body tampered" fail reject "dkim=fail" "body hash"
sed 's/^Subject: figures/Subject: Figures!/' "$T/signed" > "$T/hdr"
run x "$T/hdr" $bad_ip --mail-from x@evil.test
expect "header tampered" fail reject "dkim=fail"
sign "$T/plain" "$T/nokey" "$T/k2048.pem" example.test missing
run x "$T/nokey" $bad_ip --mail-from x@evil.test
expect "key missing" fail reject "dkim=permerror"
sign "$T/plain" "$T/rev" "$T/k2048.pem" example.test revoked
run x "$T/rev" $bad_ip --mail-from x@evil.test
expect "key revoked" fail reject "header.s=revoked"
sign "$T/plain" "$T/sha1" "$T/k2048.pem" example.test sel -a rsa-sha1
run x "$T/sha1" $bad_ip --mail-from x@evil.test
expect "rsa-sha1 refused (RFC 8301)" fail reject "rsa-sha1"
sign "$T/plain" "$T/weak" "$T/k512.pem" example.test weak
run x "$T/weak" $bad_ip --mail-from x@evil.test
expect "512-bit key refused (RFC 8301)" fail reject "header.s=weak"
sign "$T/plain" "$T/ed" "$T/ked.pem" example.test ed -a ed25519-sha256
run x "$T/ed" $bad_ip --mail-from x@evil.test
expect "ed25519 (RFC 8463)" pass pass "dkim=pass header.d=example.test header.s=ed"
sign "$T/plain" "$T/list1" "$T/kother.pem" list.test sel
sign "$T/list1" "$T/two" "$T/k2048.pem" example.test sel
run x "$T/two" --client-ip 192.0.2.20 --helo mx.list.test --mail-from l@list.test
expect "two signatures, one aligned" pass pass "header.d=list.test" "header.d=example.test"
run x "$T/list1" --client-ip 192.0.2.20 --helo mx.list.test --mail-from l@list.test
expect "mailing list signature only: not aligned" fail reject "dkim=pass header.d=list.test"

# SPF results through the pipeline
run x "$T/plain" $ok_ip --mail-from s@soft.example.test
tap_ok 'printf "%s" "$out" | grep -q "spf=softfail"' "SPF softfail"
run x "$T/plain" $ok_ip --mail-from s@neutral.example.test
tap_ok 'printf "%s" "$out" | grep -q "spf=neutral"' "SPF neutral"
run x "$T/plain" $ok_ip --mail-from s@nospf.strict.test
tap_ok 'printf "%s" "$out" | grep -q "spf=none"' "SPF none"
run x "$T/plain" $ok_ip --mail-from s@broken.example.test
tap_ok 'printf "%s" "$out" | grep -q "spf=permerror"' "SPF permerror: syntax"
run x "$T/plain" $ok_ip --mail-from s@loop.example.test
tap_ok 'printf "%s" "$out" | grep -q "spf=permerror"' "SPF permerror: over 10 lookups"
run x "$T/plain" $ok_ip --mail-from "" 
tap_ok 'printf "%s" "$out" | grep -q "smtp.helo=mail.example.test"' \
    "null sender: SPF checks the HELO identity"

# Forged Authentication-Results with our authserv-id
msg "$T/forged" "From: Alice <alice@example.test>" \
    "Authentication-Results: mx.receiver.test; dmarc=pass header.from=example.test" \
    "Authentication-Results: other.test; spf=pass"
run x "$T/forged" $bad_ip --mail-from alice@example.test
expect "forged A-R" fail reject
tap_ok 'printf "%s" "$out" | tr -d " \n" | grep -q "\"forged_authentication_results\":\[1\]"' \
    "forged A-R: the first field (ours) is marked for removal, the other kept"

# A dead nameserver: temperror, within the configured timeout
out=$("$CTL" -c "$T/conf" verify --nameserver 127.0.0.1:1 --json $ok_ip \
    --mail-from alice@example.test "$T/signed" 2>/dev/null)
rc=$?
expect "nameserver dead" temperror none "spf=temperror" "dkim=temperror"
tap_is "$rc" 3 "temperror: exit status 3"
tap_done
