#!/bin/sh
# test_dkim.sh - DKIM verification end to end: messages signed by
# libopendkim (tests/helpers/dkimsign) with keys that openssl makes here
# and now, verified by auth/dkim.c (tests/helpers/dkimverify) with a key
# table standing in for DNS.  TAP output.  No key is ever committed.
set -u

. "${top_srcdir:-.}/tests/dkim/lib.sh"

command -v openssl >/dev/null 2>&1 ||
	skip_all "openssl not installed (apt-get install openssl)"
[ -x "$DKIMSIGN" ] && [ -x "$DKIMVERIFY" ] ||
	skip_all "helpers not built (make check builds them)"
make_tmpdir

# --- keys -----------------------------------------------------------------
genrsa() {	# genrsa BITS FILE
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" \
	    -out "$2" 2>/dev/null
}
pub_rsa() {	# SubjectPublicKeyInfo, base64 (RFC 6376 section 3.6.1)
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n'
}
pub_ed25519() {	# the raw 32-byte key, base64 (RFC 8463 section 4)
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 |
	    base64 | tr -d '\n'
}

genrsa 2048 "$tmp/rsa2048.pem" && genrsa 1024 "$tmp/rsa1024.pem" &&
    genrsa 2048 "$tmp/other.pem" &&
    genrsa 512 "$tmp/rsa512.pem" &&
    openssl genpkey -algorithm ed25519 -out "$tmp/ed.pem" 2>/dev/null ||
	skip_all "openssl cannot generate RSA/ed25519 keys"

P2048=$(pub_rsa "$tmp/rsa2048.pem")
cat > "$tmp/keys" <<KEYS
# name                               key record (TXT)
s2048._domainkey.example.com  v=DKIM1; k=rsa; p=$P2048
s1024._domainkey.example.com  v=DKIM1; k=rsa; p=$(pub_rsa "$tmp/rsa1024.pem")
ed._domainkey.example.com     v=DKIM1; k=ed25519; p=$(pub_ed25519 "$tmp/ed.pem")
edspki._domainkey.example.com v=DKIM1; k=ed25519; p=$(pub_rsa "$tmp/ed.pem")
other._domainkey.example.net  v=DKIM1; k=rsa; p=$(pub_rsa "$tmp/other.pem")
test._domainkey.example.com   v=DKIM1; t=y; k=rsa; p=$P2048
sha1only._domainkey.example.com v=DKIM1; h=sha1; k=rsa; p=$P2048
revoked._domainkey.example.com v=DKIM1; k=rsa; p=
slow._domainkey.example.com   TEMPFAIL
KEYS
echo "s512._domainkey.example.com v=DKIM1; k=rsa; p=$(pub_rsa "$tmp/rsa512.pem")" \
    >> "$tmp/keys"

cat > "$tmp/msg" <<'MSG'
From: Alice <alice@example.com>
To: bob@example.net
Subject: quarterly figures
Date: Mon, 1 Jan 2024 00:00:00 +0000
Message-ID: <1@example.com>
MIME-Version: 1.0

Hello Bob,

the figures are attached.
MSG

# --- helpers ----------------------------------------------------------------
sign() {	# sign IN OUT dkimsign-args...
	_in=$1 _out=$2
	shift 2
	"$DKIMSIGN" "$@" "$_in" > "$_out" 2> "$tmp/sign.err"
}
verify() {	# verify FILE [dkimverify-args...]: output in $out
	_f=$1
	shift
	out=$("$DKIMVERIFY" -k "$tmp/keys" "$@" "$_f" 2>&1)
}
# expect NAME PATTERN...: every pattern (grep -E) matches the output.
expect() {
	_name=$1
	shift
	_rc=0
	for _p in "$@"; do
		printf '%s\n' "$out" | grep -Eq -- "$_p" || _rc=1
	done
	ok $_rc "$_name"
	[ $_rc -eq 0 ] || diag "$out"
}
# count N PATTERN: the output has exactly N lines matching.
count() {
	[ "$(printf '%s\n' "$out" | grep -Ec -- "$2")" -eq "$1" ]
}

# --- cases -------------------------------------------------------------------
sign "$tmp/msg" "$tmp/pass" -k "$tmp/rsa2048.pem" -d example.com -s s2048
ok $? "sign rsa-sha256 (2048 bits)"
verify "$tmp/pass"
expect "pass: rsa-sha256, 2048-bit key" \
    '^d=example.com s=s2048 a=rsa-sha256 bits=2048 b=[A-Za-z0-9+/]{12} testing=n result=pass reason=ok$' \
    'summary=pass queries=1 status=ok'
verify "$tmp/pass" -b 1
expect "pass: body fed one byte at a time" 'result=pass'
verify "$tmp/pass" -b 7
expect "pass: body fed in 7-byte chunks" 'result=pass'
verify "$tmp/pass" -l
expect "pass: every line end given as bare LF (folding and body)" 'result=pass'
verify "$tmp/pass" -l -b 1
expect "pass: bare LF line ends, body fed one byte at a time" 'result=pass'
verify "$tmp/pass" -r 3
expect "three verifications in one process: the parsed key is reused" \
    'result=pass' '^keycache hits=2 misses=1$'
sign "$tmp/msg" "$tmp/simple-lf" -k "$tmp/rsa2048.pem" -d example.com \
    -s s2048 -c simple/simple
verify "$tmp/simple-lf" -l
expect "pass: simple/simple with bare LF folding" 'result=pass'

sed 's/attached/enclosed/' "$tmp/pass" > "$tmp/body"
verify "$tmp/body"
expect "body tampered: fail, body hash mismatch" \
    'result=fail reason=body hash mismatch$' 'summary=fail'

sed 's/^Subject: quarterly figures/Subject: quarterly figures!/' \
    "$tmp/pass" > "$tmp/hdr"
verify "$tmp/hdr"
expect "header tampered: fail, signature did not verify" \
    'result=fail reason=signature did not verify$'

# Relaxed header canonicalization (RFC 6376 section 3.4.2) forgives
# white space and case in field names.
sed 's/^Subject: quarterly figures/SUBJECT:   quarterly   figures  /' \
    "$tmp/pass" > "$tmp/relaxed"
verify "$tmp/relaxed"
expect "relaxed/relaxed: white space changes still pass" 'result=pass'

sign "$tmp/msg" "$tmp/simple" -k "$tmp/rsa2048.pem" -d example.com \
    -s s2048 -c simple/simple
verify "$tmp/simple"
expect "simple/simple: pass" 'result=pass'
sed 's/^Subject: quarterly figures/Subject:  quarterly figures/' \
    "$tmp/simple" > "$tmp/simple2"
verify "$tmp/simple2"
expect "simple/simple: one added space fails" 'result=fail'

sign "$tmp/msg" "$tmp/nokey" -k "$tmp/rsa2048.pem" -d example.com -s missing
verify "$tmp/nokey"
expect "key missing (NXDOMAIN): permerror" \
    's=missing .*result=permerror reason=no key for signature$'

sign "$tmp/msg" "$tmp/revoked" -k "$tmp/rsa2048.pem" -d example.com \
    -s revoked
verify "$tmp/revoked"
expect "key revoked (empty p=): fail" 'result=fail reason=key revoked$'

sign "$tmp/msg" "$tmp/slow" -k "$tmp/rsa2048.pem" -d example.com -s slow
verify "$tmp/slow"
expect "DNS tempfail: temperror" \
    'result=temperror reason=key lookup failed temporarily$' \
    'summary=temperror'

sign "$tmp/msg" "$tmp/sha1" -k "$tmp/rsa2048.pem" -d example.com -s s2048 \
    -a rsa-sha1
verify "$tmp/sha1"
expect "rsa-sha1: fail without a key lookup (RFC 8301)" \
    'a=rsa-sha1 .*result=fail reason=rsa-sha1 not accepted' 'queries=0'

sign "$tmp/msg" "$tmp/k1024" -k "$tmp/rsa1024.pem" -d example.com -s s1024
verify "$tmp/k1024"
expect "1024-bit key: pass (the RFC 8301 floor)" 'bits=1024 .*result=pass'

sign "$tmp/msg" "$tmp/k512" -k "$tmp/rsa512.pem" -d example.com -s s512
ok $? "sign with a 512-bit key"
verify "$tmp/k512"
expect "512-bit key: fail (RFC 8301)" \
    'bits=512 .*result=fail reason=key too small'

sign "$tmp/msg" "$tmp/ed" -k "$tmp/ed.pem" -d example.com -s ed \
    -a ed25519-sha256
ok $? "sign ed25519-sha256"
verify "$tmp/ed"
expect "ed25519-sha256 (RFC 8463): pass" \
    'a=ed25519-sha256 bits=256 .*result=pass reason=ok$'
sed 's/attached/enclosed/' "$tmp/ed" > "$tmp/ed-body"
verify "$tmp/ed-body"
expect "ed25519: body tampered fails" 'result=fail reason=body hash mismatch'
sed 's/^To: bob/To: eve/' "$tmp/ed" > "$tmp/ed-hdr"
verify "$tmp/ed-hdr"
expect "ed25519: header tampered fails" 'result=fail reason=signature did not verify'
sign "$tmp/msg" "$tmp/edspki" -k "$tmp/ed.pem" -d example.com -s edspki \
    -a ed25519-sha256
verify "$tmp/edspki"
expect "ed25519 key published as SPKI, not raw: permerror" \
    'result=permerror reason=key cannot be decoded'

sign "$tmp/pass" "$tmp/two" -k "$tmp/other.pem" -d example.net -s other
verify "$tmp/two"
expect "two signatures, two domains: both pass" \
    '^d=example.net s=other .*result=pass' \
    '^d=example.com s=s2048 .*result=pass' 'queries=2'

sign "$tmp/nokey" "$tmp/mixed" -k "$tmp/other.pem" -d example.net -s other
verify "$tmp/mixed"
expect "two signatures, one good: pass and permerror, summary pass" \
    '^d=example.net .*result=pass' '^d=example.com .*result=permerror' \
    'summary=pass'

sign "$tmp/msg" "$tmp/nofrom" -k "$tmp/rsa2048.pem" -d example.com \
    -s s2048 -H to:subject:date
verify "$tmp/nofrom"
expect "h= without From: permerror (RFC 6376 section 5.4)" \
    'result=permerror reason=From not signed' 'queries=0'

sign "$tmp/msg" "$tmp/c1" -k "$tmp/rsa2048.pem" -d example.com -s s2048 &&
    sign "$tmp/c1" "$tmp/c2" -k "$tmp/rsa1024.pem" -d example.com -s s1024 &&
    sign "$tmp/c2" "$tmp/c3" -k "$tmp/other.pem" -d example.net -s other
ok $? "sign three times"
verify "$tmp/c3" -n 2
count 2 'result=pass'
ok $? "signature cap 2: two verified"
expect "signature cap 2: the third is policy, not evaluated" \
    '^d=example.com s=s2048 .*result=policy reason=not evaluated' 'queries=2'
verify "$tmp/c3"
count 3 'result=pass'
ok $? "default cap: all three verified"

sign "$tmp/msg" "$tmp/expired" -k "$tmp/rsa2048.pem" -d example.com \
    -s s2048 -t 1000000000 -x 3600
verify "$tmp/expired"
expect "expired signature (x= in the past): fail" \
    'result=fail reason=signature expired'

sign "$tmp/msg" "$tmp/testing" -k "$tmp/rsa2048.pem" -d example.com -s test
verify "$tmp/testing"
expect "key with t=y: pass, noted as testing" 'testing=y result=pass'

sign "$tmp/msg" "$tmp/sha1only" -k "$tmp/rsa2048.pem" -d example.com \
    -s sha1only
verify "$tmp/sha1only"
expect "key h=sha1 refuses an rsa-sha256 signature: permerror" \
    'result=permerror reason=key h= does not allow the hash'

sign "$tmp/msg" "$tmp/auid" -k "$tmp/rsa2048.pem" -d example.com -s s2048 \
    -i alice@mail.example.com
verify "$tmp/auid"
expect "i= in a subdomain of d=: pass" 'result=pass'

verify "$tmp/msg"
expect "unsigned message: summary none" '^summary=none queries=0 status=ok$'

verify "$tmp/pass" -m 3
expect "too many header fields: permerror, clean status" \
    'result=permerror reason=message header over limits' \
    'status=more header fields than the limit'

done_testing
