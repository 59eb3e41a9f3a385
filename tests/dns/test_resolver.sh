#!/bin/sh
# test_resolver.sh - the dns/ resolver against a real NSD on loopback.
#
# Covers TXT (single, multi-string, several), NXDOMAIN vs NODATA,
# negative TTLs, CNAME chains in and across replies, CNAME loops and
# over-long chains, truncation and TCP fallback, answers over the bounds,
# dead and silent nameservers against the deadline, the cache and the
# counters, the policy lookup_fn adapter, and concurrent threads.
#
# With DM_DNS_SEED_DIR set, raw replies are also saved there as fuzzer
# seeds (fuzz/corpus/dns was made this way).

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"

nsd_fixture_require
DNSQ=$top_builddir/tests/dns/dnsq
[ -x "$DNSQ" ] || { echo "Bail out! $DNSQ not built"; exit 1; }

NSD_ZONE_NEGTTL=120

# A TXT record line of N strings of L bytes each (character c).
txt_strings() {
	awk -v n="$1" -v l="$2" -v c="$3" 'BEGIN {
		s = ""; for (i = 0; i < l; i++) s = s c;
		for (i = 0; i < n; i++) printf " \"%s\"", s }'
}

zone_add dnsq.test <<EOF
txt1      300 IN TXT "v=DMARC1; p=reject"
multi     300 IN TXT "v=spf1 " "ip4:192.0.2.0/24 " "-all"
many      300 IN TXT "one"
many      300 IN TXT "two"
many      300 IN TXT "three"
host      300 IN A 192.0.2.1
host      300 IN AAAA 2001:db8::1
@         300 IN MX 10 mx1.dnsq.test.
@         300 IN MX 20 mx2.dnsq.test.
c1        300 IN CNAME c2
c2        300 IN CNAME c3
c3        300 IN TXT "end of chain"
loop1     300 IN CNAME loop2
loop2     300 IN CNAME loop1
self      300 IN CNAME self
out       300 IN CNAME target.other.test.
dangling  300 IN CNAME missing.other.test.
big       300 IN TXT$(txt_strings 16 250 b)
long      300 IN TXT$(txt_strings 37 250 l)
EOF
# Ten records of 1000 bytes: 10 kB of TXT in one answer.
for i in 0 1 2 3 4 5 6 7 8 9; do
	zone_rr dnsq.test "huge 300 IN TXT$(txt_strings 4 250 $i)"
done
# Seventeen records: one more than the policy core takes (LOOKUP_MAX_TXT).
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do
	zone_rr dnsq.test "toomany 300 IN TXT \"record $i\""
done
# A chain of nine CNAMEs, one more than the default limit of eight.
for i in 0 1 2 3 4 5 6 7 8; do
	zone_rr dnsq.test "ch$i 300 IN CNAME ch$((i + 1))"
done
zone_rr dnsq.test "ch9 300 IN TXT \"chain end\""
zone_add other.test <<EOF
target    300 IN TXT "from the other zone"
EOF
zone_add 2.0.192.in-addr.arpa <<EOF
1         300 IN PTR host.dnsq.test.
EOF

nsd_fixture_start

q() {
	"$DNSQ" -s "$NSD_SERVER" -t 2000 "$@" 2>&1
}

# --- answers -------------------------------------------------------------
tap_is "$(q TXT txt1.dnsq.test)" \
'TXT txt1.dnsq.test: ok
  TXT strings=1 len=18 "v=DMARC1; p=reject"' "txt: single string"

tap_is "$(q TXT multi.dnsq.test)" \
'TXT multi.dnsq.test: ok
  TXT strings=3 len=28 "v=spf1 ip4:192.0.2.0/24 -all"' \
    "txt: multi-string record joined without separator"

tap_is "$(q TXT many.dnsq.test | sort)" \
'  TXT strings=1 len=3 "one"
  TXT strings=1 len=3 "two"
  TXT strings=1 len=5 "three"
TXT many.dnsq.test: ok' "txt: several records"

tap_is "$(q A host.dnsq.test AAAA host.dnsq.test)" \
'A host.dnsq.test: ok
  A 192.0.2.1
AAAA host.dnsq.test: ok
  AAAA 2001:db8::1' "a and aaaa"

tap_is "$(q MX dnsq.test | sort)" \
'  MX 10 mx1.dnsq.test
  MX 20 mx2.dnsq.test
MX dnsq.test: ok' "mx"

tap_is "$(q PTR 1.2.0.192.in-addr.arpa)" \
'PTR 1.2.0.192.in-addr.arpa: ok
  PTR host.dnsq.test' "ptr"

tap_is "$(q TXT TXT1.DNSQ.TEST.)" \
'TXT TXT1.DNSQ.TEST.: ok
  TXT strings=1 len=18 "v=DMARC1; p=reject"' "names are case-insensitive"

# --- NXDOMAIN and NODATA -------------------------------------------------
tap_is "$(q --ttl TXT nope.dnsq.test TXT host.dnsq.test A txt1.dnsq.test)" \
'TXT nope.dnsq.test: nxdomain ttl=120
TXT host.dnsq.test: nodata ttl=120
A txt1.dnsq.test: nodata ttl=120' \
    "nxdomain and nodata apart, negative TTL from the SOA"

tap_is "$(q --ttl --neg-ttl-max 30 TXT nope.dnsq.test)" \
'TXT nope.dnsq.test: nxdomain ttl=120' \
    "the reply's TTL is reported as received"

tap_is "$(q --repeat 2 --counters TXT nope.dnsq.test TXT host.dnsq.test)" \
'TXT nope.dnsq.test: nxdomain
TXT host.dnsq.test: nodata
TXT nope.dnsq.test: nxdomain cached
TXT host.dnsq.test: nodata cached
counters: queries=2 cache_hits=2 cache_misses=2 timeouts=0 errors=0 tcp_fallbacks=0' \
    "negative answers cached, still apart"

tap_is "$(q --repeat 2 --neg-ttl-max 0 TXT nope.dnsq.test)" \
'TXT nope.dnsq.test: nxdomain
TXT nope.dnsq.test: nxdomain' "neg-ttl-max 0 disables negative caching"

# --- CNAME ---------------------------------------------------------------
tap_is "$(q TXT c1.dnsq.test)" \
'TXT c1.dnsq.test: ok hops=2
  TXT strings=1 len=12 "end of chain"' "cname chain"

tap_is "$(q TXT out.dnsq.test)" \
'TXT out.dnsq.test: ok hops=1
  TXT strings=1 len=19 "from the other zone"' \
    "cname into another zone (NSD chases it in one reply)"

tap_is "$(q TXT dangling.dnsq.test)" \
'TXT dangling.dnsq.test: nxdomain hops=1' "cname to a missing name"

tap_is "$(q TXT loop1.dnsq.test TXT self.dnsq.test)" \
'TXT loop1.dnsq.test: cname-loop hops=1
TXT self.dnsq.test: cname-loop' "cname loops detected"

tap_is "$(q TXT ch0.dnsq.test)" \
'TXT ch0.dnsq.test: cname-chain hops=8' "cname chain over 8 refused"

tap_is "$(q --max-cname 9 TXT ch0.dnsq.test)" \
'TXT ch0.dnsq.test: ok hops=9
  TXT strings=1 len=9 "chain end"' "cname chain within a raised limit"

tap_is "$(q --max-cname 1 TXT c1.dnsq.test TXT out.dnsq.test)" \
'TXT c1.dnsq.test: cname-chain hops=1
TXT out.dnsq.test: ok hops=1
  TXT strings=1 len=19 "from the other zone"' "cname limit of 1"

# --- truncation and TCP --------------------------------------------------
bigtext=$(awk 'BEGIN { for (i = 0; i < 100; i++) printf "b" }')
tap_is "$(q --counters TXT big.dnsq.test)" \
"TXT big.dnsq.test: ok
  TXT strings=16 len=4000 \"$bigtext\"...
counters: queries=2 cache_hits=0 cache_misses=1 timeouts=0 errors=0 tcp_fallbacks=1" \
    "4000-byte TXT: truncated over UDP, fetched over TCP"

tap_is "$(q --no-tcp TXT big.dnsq.test)" \
'TXT big.dnsq.test: truncated' "without TCP fallback: a clean error"

tap_is "$(q --edns 0 --counters TXT txt1.dnsq.test | tail -n 1)" \
'counters: queries=1 cache_hits=0 cache_misses=1 timeouts=0 errors=0 tcp_fallbacks=0' \
    "small answer fits in 512 bytes without EDNS"

# --- bounds --------------------------------------------------------------
tap_is "$(q TXT long.dnsq.test)" \
'TXT long.dnsq.test: txt-too-long' "TXT record over 8192 bytes refused"

tap_is "$(q TXT huge.dnsq.test | head -n 1)" \
'TXT huge.dnsq.test: ok' "10 kB of TXT within the 64 KiB cap"

tap_is "$(q --max-txt-total 5000 TXT huge.dnsq.test)" \
'TXT huge.dnsq.test: answer-too-big' "TXT data over the answer cap"

tap_is "$(q TXT toomany.dnsq.test | head -n 1)" \
'TXT toomany.dnsq.test: ok' "17 records within the resolver limit"

tap_is "$(q --max-records 16 TXT toomany.dnsq.test)" \
'TXT toomany.dnsq.test: too-many-records' "records over the limit"

# --- the policy adapter --------------------------------------------------
tap_is "$(q --policy TXT txt1.dnsq.test TXT nope.dnsq.test TXT host.dnsq.test)" \
'policy TXT txt1.dnsq.test: ok
  "v=DMARC1; p=reject"
policy TXT nope.dnsq.test: nxdomain
policy TXT host.dnsq.test: nodata' "adapter: txt, nxdomain, nodata"

tap_is "$(q --policy EXISTS host.dnsq.test EXISTS txt1.dnsq.test EXISTS nope.dnsq.test)" \
'policy EXISTS host.dnsq.test: ok
policy EXISTS txt1.dnsq.test: nodata
policy EXISTS nope.dnsq.test: nxdomain' "adapter: exists"

tap_is "$(q --policy TXT toomany.dnsq.test TXT long.dnsq.test TXT loop1.dnsq.test)" \
'policy TXT toomany.dnsq.test: permfail reason=too-many-records
policy TXT long.dnsq.test: permfail reason=txt-too-long
policy TXT loop1.dnsq.test: permfail reason=cname-loop' \
    "adapter: bounds are permfail with a reason"

# --- cache and counters ---------------------------------------------------
tap_is "$(q --repeat 3 --counters TXT txt1.dnsq.test A host.dnsq.test)" \
'TXT txt1.dnsq.test: ok
  TXT strings=1 len=18 "v=DMARC1; p=reject"
A host.dnsq.test: ok
  A 192.0.2.1
TXT txt1.dnsq.test: ok cached
  TXT strings=1 len=18 "v=DMARC1; p=reject"
A host.dnsq.test: ok cached
  A 192.0.2.1
TXT txt1.dnsq.test: ok cached
  TXT strings=1 len=18 "v=DMARC1; p=reject"
A host.dnsq.test: ok cached
  A 192.0.2.1
counters: queries=2 cache_hits=4 cache_misses=2 timeouts=0 errors=0 tcp_fallbacks=0' \
    "second and third queries from the cache"

tap_is "$(q --repeat 2 --no-cache --counters TXT txt1.dnsq.test | tail -n 1)" \
'counters: queries=2 cache_hits=0 cache_misses=2 timeouts=0 errors=0 tcp_fallbacks=0' \
    "no cache: every query goes out"

tap_is "$(q --repeat 2 --counters TXT out.dnsq.test | tail -n 1)" \
'counters: queries=1 cache_hits=1 cache_misses=1 timeouts=0 errors=0 tcp_fallbacks=0' \
    "a chain is cached under the name asked"

# --- dead and silent servers, deadlines ------------------------------------
out=$("$DNSQ" -s 127.0.0.1:1 -t 500 -r 1 --counters --max-elapsed 900 \
    TXT txt1.dnsq.test 2>&1)
tap_is "$out" \
'TXT txt1.dnsq.test: network
elapsed: within 900 ms
counters: queries=2 cache_hits=0 cache_misses=1 timeouts=0 errors=2 tcp_fallbacks=0' \
    "refused port: tempfail at once, each round tried"
tap_ok '! "$DNSQ" -s 127.0.0.1:1 -t 200 -r 0 TXT txt1.dnsq.test >/dev/null' \
    "tempfail exits non-zero"

tap_is "$("$DNSQ" --silent -t 5000 -r 2 -d 600 --max-elapsed 1100 \
    --counters TXT txt1.dnsq.test 2>&1)" \
'TXT txt1.dnsq.test: deadline
elapsed: within 1100 ms
counters: queries=1 cache_hits=0 cache_misses=1 timeouts=1 errors=0 tcp_fallbacks=0' \
    "silent server: the deadline cuts the try short"

tap_is "$("$DNSQ" --silent -t 300 -r 1 --max-elapsed 1500 --counters \
    TXT txt1.dnsq.test 2>&1)" \
'TXT txt1.dnsq.test: timeout
elapsed: within 1500 ms
counters: queries=2 cache_hits=0 cache_misses=1 timeouts=2 errors=0 tcp_fallbacks=0' \
    "silent server, no deadline: per-try timeout, retried once"

tap_is "$("$DNSQ" --silent -s "$NSD_SERVER" -t 300 -r 0 --counters \
    TXT txt1.dnsq.test 2>&1)" \
'TXT txt1.dnsq.test: ok
  TXT strings=1 len=18 "v=DMARC1; p=reject"
counters: queries=2 cache_hits=0 cache_misses=1 timeouts=1 errors=0 tcp_fallbacks=0' \
    "silent first server: the second one answers"

tap_is "$("$DNSQ" --silent -s "$NSD_SERVER" -t 2000 -d 400 --policy \
    --max-elapsed 900 TXT txt1.dnsq.test 2>&1)" \
'policy TXT txt1.dnsq.test: tempfail reason=deadline
elapsed: within 900 ms' "adapter: deadline is tempfail with a reason"

tap_is "$("$DNSQ" --silent -t 2000 -d 300 --max-elapsed 800 \
    TXT a.dnsq.test TXT b.dnsq.test TXT c.dnsq.test 2>&1)" \
'TXT a.dnsq.test: deadline
TXT b.dnsq.test: deadline
TXT c.dnsq.test: deadline
elapsed: within 800 ms' "one deadline bounds all queries of a message"

# --- threads ----------------------------------------------------------------
tap_is "$(q --threads 4 TXT txt1.dnsq.test A host.dnsq.test TXT nope.dnsq.test | head -n 1)" \
'threads 4: ok' "four threads share the resolver and its cache"

# --- fuzzer seeds -----------------------------------------------------------
if [ -n "${DM_DNS_SEED_DIR:-}" ]; then
	for spec in "TXT txt1.dnsq.test" "TXT multi.dnsq.test" \
	    "TXT many.dnsq.test" "TXT nope.dnsq.test" "TXT host.dnsq.test" \
	    "TXT c1.dnsq.test" "TXT loop1.dnsq.test" "TXT out.dnsq.test" \
	    "TXT big.dnsq.test" "TXT ch0.dnsq.test" "TXT toomany.dnsq.test" \
	    "A host.dnsq.test" "AAAA host.dnsq.test" "MX dnsq.test" \
	    "PTR 1.2.0.192.in-addr.arpa"; do
		set -- $spec
		"$DNSQ" -s "$NSD_SERVER" --wire "$NSD_DIR/reply" "$1" "$2" \
		    >/dev/null
		# fuzz_dns.c reads a byte choosing the query type first.
		case $1 in
		TXT) sel='\000' ;; A) sel='\001' ;; AAAA) sel='\002' ;;
		MX) sel='\003' ;; PTR) sel='\004' ;;
		esac
		{ printf "$sel"; cat "$NSD_DIR/reply"; } \
		    >"$DM_DNS_SEED_DIR/nsd-$1-$2.seed"
	done
	echo "# seeds written to $DM_DNS_SEED_DIR"
fi

tap_done
