#!/bin/sh
# verify-bench.sh - run bench/verify_bench against a private NSD: a 4 KB
# message signed with RSA-2048 (and, second, ed25519), aligned SPF and
# DKIM, p=reject, warm cache.  Prints the figures; asserts nothing.
#   sh bench/verify-bench.sh [COUNT] [THREADS]
# Run from a configured build directory after `make`.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
count=${1:-5000}
threads=${2:-1}
. "$top_srcdir/tests/dns/nsd-fixture.sh"
nsd_fixture_require
make -s bench/verify_bench tests/helpers/dkimsign >/dev/null
_nsd_mkdir
T=$NSD_DIR/bench
mkdir -p "$T"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$T/ed.pem" 2>/dev/null
rsa=$(openssl pkey -in "$T/k.pem" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n')
ed=$(openssl pkey -in "$T/ed.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 | tr -d '\n')
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }
zone_add test </dev/null
zone_add bench.test <<ZONE
@              300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc         300 IN TXT "v=DMARC1; p=reject; rua=mailto:agg@bench.test"
sel._domainkey 300 IN TXT $(txt "v=DKIM1; k=rsa; p=$rsa")
ed._domainkey  300 IN TXT $(txt "v=DKIM1; k=ed25519; p=$ed")
ZONE
nsd_fixture_start
{
	printf 'From: Alice <alice@bench.test>\nTo: bob@receiver.test\n'
	printf 'Subject: benchmark\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
	printf 'Message-ID: <bench@bench.test>\nMIME-Version: 1.0\n\n'
	i=0
	while [ $i -lt 60 ]; do
		printf 'Line %02d of the body, long enough to make a realistic four KB message.\n' $i
		i=$((i + 1))
	done
} > "$T/msg"
for k in "sel k.pem rsa-sha256" "ed ed.pem ed25519-sha256"; do
	set -- $k
	"$top_builddir/tests/helpers/dkimsign" -k "$T/$2" -d bench.test -s "$1" \
	    -a "$3" "$T/msg" > "$T/signed-$1"
	echo "== $3, $(wc -c < "$T/signed-$1") bytes"
	"$top_builddir/bench/verify_bench" -s "$NSD_SERVER" -n "$count" \
	    -t "$threads" --client-ip 192.0.2.10 --helo mx.bench.test \
	    --mail-from bounce@bench.test "$T/signed-$1"
done
