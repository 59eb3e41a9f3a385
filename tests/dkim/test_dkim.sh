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
# verify FILE [dkimverify-args...]: output in $out.  Each verification
# runs again with -B, libopendkim hashing the body as before
# auth/dkim_body.c; a different output is counted in $bdiff and reported
# by the last check.
nverify=0
bdiff=0
verify() {
	_f=$1
	shift
	out=$("$DKIMVERIFY" -k "$tmp/keys" "$@" "$_f" 2>&1)
	_lib=$("$DKIMVERIFY" -B -k "$tmp/keys" "$@" "$_f" 2>&1)
	nverify=$((nverify + 1))
	if [ "$out" != "$_lib" ]; then
		bdiff=$((bdiff + 1))
		diag "$_f $*: dkim_body.c and -B differ" "$out" "-B:" "$_lib"
	fi
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

# --- the body hash (auth/dkim_body.c), RFC 6376 sections 3.4.3, 3.4.4 -----
# Bodies at the edges of the canonicalisations, each signed simple and
# relaxed, verified whole, byte by byte, in 7-byte chunks (splitting
# CRLFs and white space runs) and with bare LF line ends.
body_msg() {	# body_msg NAME FORMAT: $tmp/b-NAME, msg's header and this body
	sed '/^$/q' "$tmp/msg" > "$tmp/b-$1"
	printf "$2" >> "$tmp/b-$1"
}
body_msg empty ''
body_msg crlf '\n'
body_msg blanks 'text\n\n\n\n'
body_msg leading '\n\n\nafter three empty lines\n'
body_msg trailwsp 'a  \t \nb\t\n'
body_msg wsponly 'a\n \t \n\t\nb\n  \n \n'
body_msg runs ' a \t  b\t\tc d \n\t e\n'
body_msg noeol 'last line without a line end'
body_msg wspeol 'text then white space, no line end \t '
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "w%d \t ", i; print "" }' \
    > "$tmp/long-line"
sed '/^$/q' "$tmp/msg" > "$tmp/b-long" && cat "$tmp/long-line" >> "$tmp/b-long"
for b in empty crlf blanks leading trailwsp wsponly runs noeol wspeol long; do
	for c in simple relaxed; do
		# libopendkim's signer refuses a relaxed body without a
		# final line end ("CRLF at end of body missing"); the unit
		# test covers those (tests/unit/test_dkim_body.c).
		case $b-$c in noeol-relaxed|wspeol-relaxed) continue ;; esac
		sign "$tmp/b-$b" "$tmp/b-$b-$c" -k "$tmp/rsa2048.pem" \
		    -d example.com -s s2048 -c "$c/$c"
		_rc=$?
		verify "$tmp/b-$b-$c"
		count 1 'result=pass reason=ok$' || _rc=1
		verify "$tmp/b-$b-$c" -b 1
		count 1 'result=pass reason=ok$' || _rc=1
		verify "$tmp/b-$b-$c" -b 7
		count 1 'result=pass reason=ok$' || _rc=1
		verify "$tmp/b-$b-$c" -l
		count 1 'result=pass reason=ok$' || _rc=1
		ok $_rc "body $b, c=$c/$c: pass whole, -b 1, -b 7, -l"
	done
done

# What each canonicalisation forgives, and what not.
printf '\n\n' >> "$tmp/b-runs-simple"
verify "$tmp/b-runs-simple"
expect "simple: more empty lines at the end still pass" 'result=pass reason=ok$'
sed 's/^ a \t  b/ a b/' "$tmp/b-runs-simple" > "$tmp/b-runs-simple2"
verify "$tmp/b-runs-simple2"
expect "simple: white space changed: body hash mismatch" \
    'result=fail reason=body hash mismatch$'
sed 's/^ a \t  b\t\tc d $/\ta b c\td\t\t/' "$tmp/b-runs-relaxed" \
    > "$tmp/b-runs-relaxed2"
printf '\n \n\t\n' >> "$tmp/b-runs-relaxed2"
verify "$tmp/b-runs-relaxed2"
expect "relaxed: white space runs and empty lines changed: pass" \
    'result=pass reason=ok$'
sed 's/^ a \t  b/ ab/' "$tmp/b-runs-relaxed" > "$tmp/b-runs-relaxed3"
verify "$tmp/b-runs-relaxed3"
expect "relaxed: white space removed inside a line: body hash mismatch" \
    'result=fail reason=body hash mismatch$'
sed 's/^b$/B/' "$tmp/b-wsponly-relaxed" > "$tmp/b-wsponly-relaxed2"
verify "$tmp/b-wsponly-relaxed2"
expect "relaxed: a letter changed: body hash mismatch" \
    'result=fail reason=body hash mismatch$'
verify "$tmp/b-runs-relaxed3" -n 1
expect "body hash mismatch with a 1024-bit floor and -n 1" \
    'result=fail reason=body hash mismatch$'
sign "$tmp/b-runs" "$tmp/b-k512" -k "$tmp/rsa512.pem" -d example.com -s s512
sed 's/^ a \t  b/ ab/' "$tmp/b-k512" > "$tmp/b-k512-bad"
verify "$tmp/b-k512-bad"
expect "512-bit key and a tampered body: body hash mismatch first" \
    'result=fail reason=body hash mismatch$'
verify "$tmp/b-k512"
expect "512-bit key and an intact body: key too small" \
    'result=fail reason=key too small \(RFC 8301\)$'
sign "$tmp/b-runs" "$tmp/b-ed" -k "$tmp/ed.pem" -d example.com -s ed \
    -a ed25519-sha256 -c relaxed/simple
sed 's/^ a \t  b/ ab/' "$tmp/b-ed" > "$tmp/b-ed-bad"
verify "$tmp/b-ed"
expect "ed25519, c=relaxed/simple: pass" 'result=pass reason=ok$'
verify "$tmp/b-ed-bad"
expect "ed25519, c=relaxed/simple, body changed: body hash mismatch" \
    'result=fail reason=body hash mismatch$'

# Two signatures with different body canonicalisations: two hashers.
sign "$tmp/b-runs-simple" "$tmp/b-two" -k "$tmp/other.pem" -d example.net \
    -s other -c relaxed/relaxed
verify "$tmp/b-two"
expect "simple and relaxed signatures on one message: both pass" \
    'd=example.com .*result=pass' 'd=example.net .*result=pass'
sed 's/^ a \t  b/ a  b/' "$tmp/b-two" > "$tmp/b-two2"
verify "$tmp/b-two2"
expect "white space run changed: simple fails, relaxed passes" \
    'd=example.com .*result=fail reason=body hash mismatch' \
    'd=example.net .*result=pass'

# l= (RFC 6376 section 3.5): libopendkim hashes such a message's body.
sign "$tmp/b-blanks" "$tmp/b-l" -k "$tmp/rsa2048.pem" -d example.com \
    -s s2048 -L 3
grep -q 'l=3;' "$tmp/b-l"
ok $? "signed with l=3"
verify "$tmp/b-l"
expect "l=3: pass" 'result=pass reason=ok$'
printf 'appended after signing\n' >> "$tmp/b-l"
verify "$tmp/b-l"
expect "l=3, text appended: still pass (l= covers the first 3 bytes)" \
    'result=pass reason=ok$'
sed 's/l=3;/l=99999;/' "$tmp/b-l" > "$tmp/b-l-long"
verify "$tmp/b-l-long"
expect "l= beyond the body: fail" 'result=fail reason=l= longer than the body$'

ok $([ "$bdiff" -eq 0 ]; echo $?) \
    "dkim_body.c and libopendkim's body hash (-B) agree on all $nverify verifications"

done_testing
