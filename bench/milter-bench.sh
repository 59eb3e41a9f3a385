#!/bin/sh
# milter-bench.sh - drive dmarcd and a no-op libmilter milter directly
# with bench/milterload against a private NSD (SPF, DMARC p=reject,
# RSA-2048 and ed25519 DKIM keys), and print msgs/s, CPU ms per message
# (utime+stime from /proc), p50/p99 latency and peak RSS (VmHWM) for
# each, with the `openssl speed` crypto floor per message.  A figure,
# never an assertion.
#
#   sh bench/milter-bench.sh [COUNT]     # default 3000 messages per run
#   sh bench/milter-bench.sh --smoke     # 50 messages per run; checks
#                                        # only the replies; TAP output
#   sh bench/milter-bench.sh --callgrind [COUNT] [MSG]
#                                        # dmarcd under callgrind: COUNT
#                                        # (default 200) MSG messages
#                                        # (default rsa-4k) at c=1, warm
#                                        # cache; prints the top functions
#                                        # by instructions per message
#   HISTORY_DURABILITY=relaxed sh bench/milter-bench.sh
#                                        # dmarcd with that HistoryDurability
#                                        # (default full)
#   MESSAGES="rsa-4k" CONCURRENCY="16" sh bench/milter-bench.sh
#                                        # only these cases
#
# Run from a configured build directory (it runs `make` for dmarcd,
# bench/milterload, bench/noop_milter and tests/helpers/dkimsign).  Needs
# root (dmarcd runs as nobody), nsd and openssl.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
smoke=no
callgrind=no
case ${1:-} in
--smoke) smoke=yes; shift ;;
--callgrind) callgrind=yes; shift ;;
esac
count=${1:-3000}
[ $smoke = yes ] && count=50
[ $callgrind = yes ] && count=${1:-200}
. "$top_srcdir/tests/dns/nsd-fixture.sh"
nsd_fixture_require
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP dmarcd runs as nobody: needs root"
	exit 0
fi
make -s dmarcd bench/milterload bench/noop_milter tests/helpers/dkimsign \
    >/dev/null
LOAD=$top_builddir/bench/milterload
NOOP=$top_builddir/bench/noop_milter
DMARCD=$top_builddir/dmarcd

_nsd_mkdir
T=$NSD_DIR/bench
mkdir -p "$T/dmarcd"
chown nobody "$T/dmarcd"
DM_PID=
NOOP_PID=
bench_cleanup() {
	# Not _rc: nsd_fixture_stop uses that name for its own status.
	_brc=$?
	for _p in $DM_PID $NOOP_PID; do
		kill -TERM "$_p" 2>/dev/null || :
		wait "$_p" 2>/dev/null || :
	done
	if [ $_brc != 0 ] && [ -s "$T/dmarcd/log" ]; then
		echo "# dmarcd log (last 20 lines):"
		tail -n 20 "$T/dmarcd/log" | sed 's/^/#   /'
	fi
	nsd_fixture_stop || :
	exit $_brc
}
trap bench_cleanup EXIT

# A free port in 20000-31999: below the kernel's ephemeral range, where
# milterload's own connections (and their TIME_WAIT) would collide.
free_port() {
	while :; do
		_fp=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 ))
		_hex=$(printf '%04X' "$_fp")
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		    awk '$4 == "0A" { print $2 }' | grep -q ":$_hex\$" ||
		    { echo "$_fp"; return 0; }
	done
}

# wait_listening PID LOG: until LOG says "listening on" (10 s).
wait_listening() {
	_w=0
	while [ $_w -lt 100 ]; do
		grep -q "listening on" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
		_w=$((_w + 1))
	done
	echo "Bail out! $2: the milter did not start"
	sed 's/^/# /' "$2"
	exit 1
}

# The zone and keys, as bench/verify-bench.sh has them.
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
*.fresh        300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
nsd_fixture_start

# msg LINES: a message whose body has LINES lines of 72 bytes.
msg() {
	printf 'From: Alice <alice@bench.test>\nTo: bob@receiver.test\n'
	printf 'Subject: benchmark\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
	printf 'Message-ID: <bench@bench.test>\nMIME-Version: 1.0\n\n'
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "Line %05d of the body, long enough to make a realistic message body.\n", i }'
}
msg 57 >"$T/msg-4k"
msg 1420 >"$T/msg-100k"
sign() {
	"$top_builddir/tests/helpers/dkimsign" -k "$T/$2" -d bench.test \
	    -s "$1" -a "$3" "$T/$4" >"$T/$5"
}
sign sel k.pem rsa-sha256 msg-4k rsa-4k
sign ed ed.pem ed25519-sha256 msg-4k ed-4k
sign sel k.pem rsa-sha256 msg-100k rsa-100k

# dmarcd: judges 192.0.2.10 (TrustedNetworks does not cover it).
# MILTER_SOCKETS=unix: dmarcd and the no-op milter on unix sockets (they
# then negotiate no-reply steps; on inet every command is answered).
DM_PORT=$(free_port)
DM_SOCK=inet:$DM_PORT@127.0.0.1
NOOP_PORT=$(free_port)
NOOP_SOCK=inet:$NOOP_PORT@127.0.0.1
if [ "${MILTER_SOCKETS:-inet}" = unix ]; then
	DM_SOCK=unix:$T/dmarcd/milter.sock
	NOOP_SOCK=unix:$T/noop.sock
fi
cat >"$T/dmarcd/dmarcd.conf" <<CONF
Socket $DM_SOCK
PidFile $T/dmarcd/dmarcd.pid
UserID nobody
Syslog no
LogLevel warning
AuthservID mx.receiver.test
Nameservers $NSD_SERVER
TrustedNetworks 203.0.113.0/24
HistoryDatabase $T/dmarcd/history.sqlite
HistoryDurability ${HISTORY_DURABILITY:-full}
CONF
chmod 644 "$T/dmarcd/dmarcd.conf"
# LogLevel warning keeps per-message lines out of the measured CPU; the
# start-up line is a notice, so wait on a second instance of the log.
# Under --callgrind the counting starts with instrumentation off and is
# switched on after the warm-up message (callgrind_control -i on).
WRAP=
# The smoke test reads dmarcd's counters at stop, a notice.
[ $smoke = yes ] && sed -i 's/^LogLevel warning$/LogLevel notice/' \
    "$T/dmarcd/dmarcd.conf"
if [ $callgrind = yes ]; then
	# callgrind_control talks through FIFOs valgrind made as root: a
	# daemon that dropped to nobody could no longer open them.
	sed -i 's/^UserID nobody$/RunAsRoot yes/' "$T/dmarcd/dmarcd.conf"
	WRAP="valgrind --tool=callgrind --instr-atstart=no
	    --callgrind-out-file=$T/dmarcd/callgrind.out"
fi
$WRAP "$DMARCD" -f -c "$T/dmarcd/dmarcd.conf" >"$T/dmarcd/log" 2>&1 &
DM_PID=$!
"$NOOP" -p "$NOOP_SOCK" >"$T/noop.log" 2>&1 &
NOOP_PID=$!
wait_listening "$NOOP_PID" "$T/noop.log"
_w=0
until [ -s "$T/dmarcd/dmarcd.pid" ] && "$LOAD" -n 1 -m "$T/rsa-4k" \
    -s "$DM_SOCK" >/dev/null 2>&1; do
	kill -0 "$DM_PID" 2>/dev/null && [ $_w -lt 600 ] || {
		echo "Bail out! dmarcd did not start"
		sed 's/^/# /' "$T/dmarcd/log"
		exit 1
	}
	sleep 0.1
	_w=$((_w + 1))
done

load() {
	"$LOAD" --client-ip "${IP:-192.0.2.10}" --helo mx.bench.test \
	    --mail-from bounce@bench.test --rcpt postmaster@receiver.test "$@"
}

if [ $callgrind = yes ]; then
	m=${2:-rsa-4k}
	load -n 3 -m "$T/$m" -s "$DM_SOCK" >/dev/null
	callgrind_control -i on "$DM_PID" >/dev/null
	load -n "$count" -m "$T/$m" -s "$DM_SOCK" | sed 's/^/# /'
	callgrind_control -i off "$DM_PID" >/dev/null
	kill -TERM "$DM_PID"
	wait "$DM_PID" || :
	DM_PID=
	# Several files when threads are separated: annotate them all.
	out=$(ls "$T"/dmarcd/callgrind.out* | head -n 1)
	cp "$out" "${CALLGRIND_KEEP:-/dev/null}" 2>/dev/null || :
	total=$(callgrind_annotate "$out" 2>/dev/null |
	    awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1; exit }')
	echo "== callgrind: $count x $m, c=1: $((total / count)) instructions per message (inclusive of libmilter)"
	callgrind_annotate --inclusive=no "$out" 2>/dev/null |
	    sed -n '/^Ir/,$p' | head -n 40
	echo "== inclusive"
	callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
	    sed -n '/^Ir/,$p' | head -n 60
	exit 0
fi

if [ $smoke = yes ]; then
	echo "1..9"
	n=0
	check() {	# NAME EXPECT MSG SOCKET...
		_name=$1 _exp=$2 _m=$3
		shift 3
		n=$((n + 1))
		_s=
		for _k; do _s="$_s -s $_k"; done
		if _out=$(load -c 4 -n "$count" -m "$T/$_m" --expect "$_exp" $_s); then
			echo "ok $n - $_name: $count x $_exp"
		else
			echo "not ok $n - $_name: expected $_exp"
			echo "$_out" | sed 's/^/#   /'
			fail=1
		fi
	}
	fail=0
	check "no-op milter" accept rsa-4k "$NOOP_SOCK"
	# From 192.0.2.99 SPF fails: only the aligned DKIM pass accepts.
	IP=192.0.2.99 check "dmarcd, RSA-2048 DKIM only" accept rsa-4k "$DM_SOCK"
	IP=192.0.2.99 check "dmarcd, ed25519 DKIM only" accept ed-4k "$DM_SOCK"
	IP=192.0.2.99 check "dmarcd, unsigned, SPF fail" reject msg-4k "$DM_SOCK"
	check "chain no-op then dmarcd" accept rsa-100k "$NOOP_SOCK" "$DM_SOCK"
	IP=192.0.2.99 check "chain dmarcd (reject) then no-op" reject msg-4k \
	    "$DM_SOCK" "$NOOP_SOCK"
	# A sender domain of its own per message: SPF goes to the lookup
	# pool (its record is not cached) while the DMARC discovery of
	# bench.test runs in line from the cache; each must keep to its own
	# deadline (a race here once gave spf=temperror).
	n=$((n + 1))
	if _out=$(load -c 4 -n 200 -m "$T/rsa-4k" --expect accept \
	    --mail-from 'b@m%q.fresh.bench.test' -s "$DM_SOCK"); then
		echo "ok $n - dmarcd, a new SPF domain per message: 200 x accept"
	else
		echo "not ok $n - dmarcd, a new SPF domain per message"
		echo "$_out" | sed 's/^/#   /'
		fail=1
	fi
	# With a warm cache SPF and the policy discovery run in line; the
	# first message's (cold) and the 200 new SPF domains' SPF checks
	# went to the lookup pool.
	kill -TERM "$DM_PID"
	wait "$DM_PID" || :
	DM_PID=
	n=$((n + 1))
	spf=$(sqlite3 "$T/dmarcd/history.sqlite" "SELECT spf_result, COUNT(*) FROM verdicts WHERE mail_from_domain LIKE '%.fresh.bench.test' GROUP BY spf_result" | tr '\n' ' ')
	if [ "$spf" = "pass|200 " ]; then
		echo "ok $n - the 200 new SPF domains: spf=pass in every history row"
	else
		echo "not ok $n - the 200 new SPF domains: spf=pass in every history row (got '$spf')"
		fail=1
	fi
	counts=$(sed -n 's/.*lookups at stop: \([0-9]*\) SPF and policy checks answered from the DNS cache in line, \([0-9]*\) on the lookup pool.*/\1 \2/p' "$T/dmarcd/log")
	n=$((n + 1))
	if [ -n "$counts" ] && [ "${counts% *}" -ge 600 ] &&
	    [ "${counts#* }" -ge 202 ] && [ "${counts#* }" -le 210 ]; then
		echo "ok $n - warm cache: checks in line, cold ones pooled ($counts)"
	else
		echo "not ok $n - warm cache: checks in line, cold ones pooled (got '$counts')"
		sed 's/^/#   /' "$T/dmarcd/log" | tail -n 5
		fail=1
	fi
	exit $fail
fi

tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# The crypto floor on this machine.
echo "== openssl speed -seconds 2 rsa2048 ed25519 sha256"
openssl speed -seconds 2 rsa2048 ed25519 sha256 2>/dev/null >"$T/speed"
grep -E '^(type|sha256|rsa 2048|sign|  *253 bits)' "$T/speed" | sed 's/^/  /'
rsa_vps=$(awk '/^rsa 2048 bits/ { print $NF }' "$T/speed")
ed_vps=$(awk '/EdDSA \(Ed25519\)/ { print $NF }' "$T/speed")
# sha256's 8192-byte column, in 1000s of bytes per second.
sha_kps=$(awk '/^sha256/ { sub(/k$/, "", $6); print $6 }' "$T/speed")
# floor_us VERIFIES_PER_S FILE: one verify + SHA-256 over the message
# twice (the body hash, and the header hash is small: counted once more
# over the whole file as an upper bound).
floor_us() {
	awk -v v="$1" -v b="$(wc -c <"$2")" -v s="$sha_kps" \
	    'BEGIN { printf "%.1f", 1e6 / v + 2 * b / (s * 1000) * 1e6 }'
}

echo
echo "== milterload, $count messages per run (warm cache: one message first)"
printf '%-8s %-9s %4s %9s %10s %10s %8s %8s %8s %9s\n' milter message \
    conc msgs/s cpu_ms/msg sys_ms/msg p50_ms p99_ms rss_MB floor_us
for m in ${MESSAGES:-rsa-4k ed-4k rsa-100k}; do
	case $m in
	ed-*) fl=$(floor_us "$ed_vps" "$T/$m") ;;
	*) fl=$(floor_us "$rsa_vps" "$T/$m") ;;
	esac
	for c in ${CONCURRENCY:-1 16}; do
		for who in noop dmarcd; do
			if [ $who = noop ]; then
				pid=$NOOP_PID sock=$NOOP_SOCK
			else
				pid=$DM_PID sock=$DM_SOCK
			fi
			load -n 1 -m "$T/$m" -s "$sock" >/dev/null
			c0=$(cpu_ticks "$pid") s0=$(sys_ticks "$pid")
			out=$(load -c "$c" -n "$count" -m "$T/$m" -s "$sock") || {
				echo "Bail out! $who $m c=$c: errors"
				echo "$out"
				exit 1
			}
			c1=$(cpu_ticks "$pid") s1=$(sys_ticks "$pid")
			echo "$out" | awk -v who=$who -v m=$m -v c=$c \
			    -v dt=$((c1 - c0)) -v ds=$((s1 - s0)) \
			    -v tck="$tck" -v n="$count" \
			    -v rss="$(hwm_kb "$pid")" -v fl="$fl" '
				/^messages/ { rate = $8 }
				/^latency/ { p50 = $3; p99 = $7 }
				/^replies/ { acc = $3 }
				END {
					printf "%-8s %-9s %4d %9.0f %10.3f %10.3f %8.3f %8.3f %8.1f %9s%s\n",
					    who, m, c, rate, dt * 1000 / tck / n,
					    ds * 1000 / tck / n,
					    p50, p99, rss / 1024, fl,
					    acc == n ? "" : "  (not all accepted)"
				}'
		done
	done
done
echo
echo "cpu_ms/msg: the milter process's utime+stime over the run / messages;"
echo "sys_ms/msg: the stime part"
echo "(clock tick $((1000 / tck)) ms); rss_MB: VmHWM so far; floor_us: one"
echo "signature verify + SHA-256 twice over the message, from openssl speed."
