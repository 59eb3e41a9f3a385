#!/bin/sh
# compare.sh - dmarcd against the incumbents on the same load, side by
# side in one run: OpenDKIM (verify) chained before OpenDMARC, as
# Postfix runs them, rspamd as a DMARC-only milter, and the no-op
# libmilter milter (the protocol floor).  Figures, never an assertion.
#
#   sh bench/compare.sh [COUNT [ROUNDS]]   # default 1000 messages, 3 rounds
#   sh bench/compare.sh --smoke            # dmarcd and the no-op only,
#                                          # 50 messages, TAP (for CI)
#   sh bench/compare.sh --cold [TRIALS]    # cold cache: first-message
#                                          # latency, 50 ms per DNS query
#   sh bench/compare.sh --postfix [COUNT [ROUNDS]]   # through Postfix
#   sh bench/compare.sh --soak [SECONDS]   # dmarcd's RSS over a long run
#
# Everything runs in a private network and mount namespace (unshare -n
# -m): NSD serves the bench zone on 127.0.0.1:53 there and a private
# resolv.conf is bind-mounted over /etc/resolv.conf, so OpenDMARC's and
# libspf2's libresolv reach it without touching the machine's resolver.
# OpenDKIM gets its keys from `TestDNSData file:` (its libunbound ignores
# resolv.conf and crashed at concurrency >= 2 against a local server).
# The client is 192.0.2.10 (documentation range): libspf2 passes any
# 127/8 client without a lookup and OpenDMARC ignores 127.0.0.1.
#
# Per case and milter, in alternation (dmarcd, dmarcd with relaxed
# history durability, pair, rspamd, no-op, then
# again ROUNDS times), bench/milterload sends COUNT messages; the table
# has the medians over the rounds of msgs/s, CPU ms per message of each
# process (utime+stime from /proc/PID/stat), p50/p99 latency and the
# peak RSS (VmHWM).  Cases: 4 KB RSA-2048 at concurrency 1 and 16,
# ed25519 4 KB, RSA-2048 100 KB, and "fail-4k": an unsigned message from
# an address SPF fails, which p=reject rejects (a failing mix is
# 0.7 x pass + 0.3 x fail of these rows).  Then dmarcd at 500 concurrent
# sessions (RSS), and the `openssl speed` floor.
#
# --cold puts bench/dnsdelay (50 ms per query) between the milters and
# NSD and, TRIALS times (default 5), sends one message from a domain
# nobody has looked up yet (coldK.test) to each milter, then a second
# one: the first shows how many lookups a message waits for one after
# the other, the second what is left once the cache is warm.  OpenDKIM
# still reads its keys from a file, so the pair's figure leaves out its
# key lookup (in its favour).
#
# --postfix starts a private Postfix (tests/e2e/postfix-fixture.sh) and
# has smtp-source send COUNT messages (default 1000) over 50 sessions,
# then 50 messages over one session, with no milter, with dmarcd (full
# and relaxed HistoryDurability), with
# the pair, with rspamd and with the no-op milter, in alternation.  smtp-source has no XCLIENT:
# smtpd also listens on 192.0.2.10 (added to lo in the namespace), and a
# connection to a local address comes from that address.
#
# Needs root, unshare, nsd, openssl, and the Debian packages opendkim,
# opendmarc and rspamd (contrib/debian-packages.txt; rspamd is skipped
# with a note when missing).  Run from a configured build directory.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
smoke=no
cold=no
postfix=no
soak=no
case ${1:-} in
--soak) soak=yes; shift ;;
--smoke) smoke=yes; shift ;;
--cold) cold=yes; shift ;;
--postfix) postfix=yes; shift ;;
esac
count=${1:-1000}
rounds=${2:-3}
[ $smoke = yes ] && count=50 rounds=1
[ $cold = yes ] && rounds=1	# count: the trials
[ $cold = yes ] && count=${1:-5}
[ $soak = yes ] && count=${1:-600}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (network namespace; dmarcd runs as nobody)"
	exit 0
fi
if [ "${DMARCD_COMPARE_NS:-}" != inside ]; then
	make -s dmarcd bench/milterload bench/noop_milter bench/dnsdelay \
	    tests/helpers/dkimsign >/dev/null
	exec env DMARCD_COMPARE_NS=inside unshare -n -m -- sh "$0" \
	    $([ $smoke = yes ] && echo --smoke) \
	    $([ $cold = yes ] && echo --cold) \
	    $([ $postfix = yes ] && echo --postfix) \
	    $([ $soak = yes ] && echo --soak) "$count" "$rounds"
fi

# Inside the namespaces: loopback up, our own resolv.conf.
ip link set lo up
mount --make-rprivate /
RESOLV=$(mktemp)
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"$RESOLV"
chmod 644 "$RESOLV"
mount --bind "$RESOLV" /etc/resolv.conf

# Port 53 is ours: nobody else is in this network namespace.  With
# --cold, bench/dnsdelay takes it and NSD has a random port behind it.
[ $cold = yes ] || NSD_FIXTURE_PORT=53
. "$top_srcdir/tests/dns/nsd-fixture.sh"
nsd_fixture_require

LOAD=$top_builddir/bench/milterload
_nsd_mkdir
T=$NSD_DIR/compare
mkdir -p "$T/dmarcd" "$T/opendkim" "$T/opendmarc" "$T/rspamd"
chown nobody "$T/dmarcd"
PIDS=
compare_cleanup() {
	_brc=$?
	for _p in $PIDS; do
		kill -TERM "$_p" 2>/dev/null || :
	done
	for _p in $PIDS; do
		wait "$_p" 2>/dev/null || :
	done
	rm -f "$RESOLV"
	nsd_fixture_stop || :
	exit $_brc
}
trap compare_cleanup EXIT

free_port() {
	while :; do
		_fp=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 22000 ))
		_hex=$(printf '%04X' "$_fp")
		cat /proc/net/tcp 2>/dev/null | awk '$4 == "0A" { print $2 }' |
		    grep -q ":$_hex\$" || { echo "$_fp"; return 0; }
	done
}

load() {
	"$LOAD" --client-ip "${IP:-192.0.2.10}" --helo mx.bench.test \
	    --mail-from "${MAILFROM:-bounce@bench.test}" \
	    --rcpt postmaster@receiver.test "$@"
}

# wait_milter NAME PID SOCKET LOG: until a message goes through (60 s).
wait_milter() {
	_w=0
	until load -n 1 -m "$T/rsa-4k" -s "$3" >/dev/null 2>&1; do
		if ! kill -0 "$2" 2>/dev/null || [ $_w -ge 600 ]; then
			echo "Bail out! $1 did not start"
			tail -n 20 "$4" | sed 's/^/# /'
			exit 1
		fi
		sleep 0.1
		_w=$((_w + 1))
	done
}

# The zone, keys and messages, as bench/milter-bench.sh has them.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$T/ed.pem" 2>/dev/null
rsa=$(openssl pkey -in "$T/k.pem" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n')
ed=$(openssl pkey -in "$T/ed.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 | tr -d '\n')
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }
zone_add test </dev/null
domains=bench.test
k=1
while [ $cold = yes ] && [ $k -le "$count" ]; do
	domains="$domains cold$k.test"
	k=$((k + 1))
done
for d in $domains; do
	zone_add "$d" <<ZONE
@              300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc         300 IN TXT "v=DMARC1; p=reject; rua=mailto:agg@$d"
sel._domainkey 300 IN TXT $(txt "v=DKIM1; k=rsa; p=$rsa")
ed._domainkey  300 IN TXT $(txt "v=DKIM1; k=ed25519; p=$ed")
ZONE
done
nsd_fixture_start
if [ $cold = yes ]; then
	"$top_builddir/bench/dnsdelay" -l 127.0.0.1:53 -u "$NSD_SERVER" \
	    -d 50 >"$T/dnsdelay.log" 2>&1 &
	PIDS="$PIDS $!"
fi

# msg LINES [DOMAIN]: a message from DOMAIN (bench.test), LINES lines.
msg() {
	printf 'From: Alice <alice@%s>\nTo: bob@receiver.test\n' "${2:-bench.test}"
	printf 'Subject: benchmark\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
	printf 'Message-ID: <bench@bench.test>\nMIME-Version: 1.0\n\n'
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "Line %05d of the body, long enough to make a realistic message body.\n", i }'
}
msg 57 >"$T/fail-4k"
msg 1420 >"$T/msg-100k"
sign() {
	"$top_builddir/tests/helpers/dkimsign" -k "$T/$2" -d bench.test \
	    -s "$1" -a "$3" "$T/$4" >"$T/$5"
}
sign sel k.pem rsa-sha256 fail-4k rsa-4k
sign ed ed.pem ed25519-sha256 fail-4k ed-4k
sign sel k.pem rsa-sha256 msg-100k rsa-100k
for d in $domains; do
	[ "$d" = bench.test ] && continue
	msg 57 "$d" >"$T/$d-unsigned"
	"$top_builddir/tests/helpers/dkimsign" -k "$T/k.pem" -d "$d" \
	    -s sel -a rsa-sha256 "$T/$d-unsigned" >"$T/$d"
done

# milter_sock NAME: where a milter of ours listens.  COMPARE_SOCKETS=unix
# puts dmarcd and the no-op milter on unix sockets in $T (world
# connectable), as a milter on the MTA's own host is usually run: no
# Nagle and no delayed ACK between Postfix and the milter.  The
# incumbents stay on TCP as configured here.
milter_sock() {
	if [ "${COMPARE_SOCKETS:-inet}" = unix ]; then
		echo "unix:$T/$1.sock"
	else
		echo "inet:$(free_port)@127.0.0.1"
	fi
}
chmod a+x "$NSD_DIR"; chmod a+rx "$T"

# dmarcd.
DM_SOCK=$(milter_sock dmarcd)
cat >"$T/dmarcd/dmarcd.conf" <<CONF
Socket $DM_SOCK
SocketMode 0666
PidFile $T/dmarcd/dmarcd.pid
UserID nobody
Syslog no
LogLevel warning
AuthservID mx.receiver.test
Nameservers 127.0.0.1:53
HistoryDatabase $T/dmarcd/history.sqlite
CONF
chmod 644 "$T/dmarcd/dmarcd.conf"
"$top_builddir/dmarcd" -f -c "$T/dmarcd/dmarcd.conf" >"$T/dmarcd/log" 2>&1 &
DM_PID=$!
PIDS="$PIDS $DM_PID"
# The same with HistoryDurability relaxed ("dmarcd-r"): what full
# durability (group commit, fsync per batch) costs.  Its history is in
# the same directory, on the same file system.
mkdir -p "$T/dmarcd-r"
chown nobody "$T/dmarcd-r"
DMR_SOCK=$(milter_sock dmarcd-r)
sed -e "s|^Socket .*|Socket $DMR_SOCK|" -e "s|$T/dmarcd/|$T/dmarcd-r/|" \
    "$T/dmarcd/dmarcd.conf" >"$T/dmarcd-r/dmarcd.conf"
echo "HistoryDurability relaxed" >>"$T/dmarcd-r/dmarcd.conf"
chmod 644 "$T/dmarcd-r/dmarcd.conf"
"$top_builddir/dmarcd" -f -c "$T/dmarcd-r/dmarcd.conf" \
    >"$T/dmarcd-r/log" 2>&1 &
DMR_PID=$!
PIDS="$PIDS $DMR_PID"

# The no-op milter.
NOOP_SOCK=$(milter_sock noop)
# umask 0: libmilter creates a unix socket with the process's umask.
(umask 0 && exec "$top_builddir/bench/noop_milter" -p "$NOOP_SOCK") \
    >"$T/noop.log" 2>&1 &
NOOP_PID=$!
PIDS="$PIDS $NOOP_PID"
wait_milter dmarcd "$DM_PID" "$DM_SOCK" "$T/dmarcd/log"
wait_milter dmarcd-r "$DMR_PID" "$DMR_SOCK" "$T/dmarcd-r/log"
wait_milter no-op "$NOOP_PID" "$NOOP_SOCK" "$T/noop.log"

have_pair=no
if [ $smoke = no ] && [ -x /usr/sbin/opendkim ] && [ -x /usr/sbin/opendmarc ]; then
	have_pair=yes
	# OpenDKIM, verify only; keys from a data set (no spaces in values).
	DK_SOCK=inet:$(free_port)@127.0.0.1
	for d in $domains; do
		printf 'sel._domainkey.%s v=DKIM1;k=rsa;p=%s\n' "$d" "$rsa"
		printf 'ed._domainkey.%s v=DKIM1;k=ed25519;p=%s\n' "$d" "$ed"
	done >"$T/opendkim/keys"
	cat >"$T/opendkim/opendkim.conf" <<CONF
Mode			v
Socket			$DK_SOCK
PidFile			$T/opendkim/opendkim.pid
UserID			opendkim
Syslog			no
AuthservID		mx.receiver.test
Canonicalization	relaxed/simple
TestDNSData		file:$T/opendkim/keys
CONF
	chmod -R a+rX "$T/opendkim"
	/usr/sbin/opendkim -f -x "$T/opendkim/opendkim.conf" \
	    >"$T/opendkim/log" 2>&1 &
	DK_PID=$!
	PIDS="$PIDS $DK_PID"
	# OpenDMARC: SPF itself, trusts OpenDKIM's Authentication-Results.
	DMC_SOCK=inet:$(free_port)@127.0.0.1
	cat >"$T/opendmarc/opendmarc.conf" <<CONF
Socket			$DMC_SOCK
PidFile			$T/opendmarc/opendmarc.pid
UserID			opendmarc
Syslog			false
AuthservID		mx.receiver.test
TrustedAuthservIDs	mx.receiver.test
SPFSelfValidate		true
SPFIgnoreResults	true
RejectFailures		true
FailureReports		false
PublicSuffixList	/usr/share/publicsuffix/public_suffix_list.dat
CONF
	chmod -R a+rX "$T/opendmarc"
	/usr/sbin/opendmarc -f -c "$T/opendmarc/opendmarc.conf" \
	    >"$T/opendmarc/log" 2>&1 &
	DMC_PID=$!
	PIDS="$PIDS $DMC_PID"
	wait_milter opendkim "$DK_PID" "$DK_SOCK" "$T/opendkim/log"
	wait_milter opendmarc "$DMC_PID" "$DMC_SOCK" "$T/opendmarc/log"
fi

have_rspamd=no
if [ $smoke = no ] && [ -x /usr/bin/rspamd ] && [ -z "${COMPARE_NO_RSPAMD:-}" ]; then
	. "$top_srcdir/bench/compare-rspamd.sh"
fi

if [ $smoke = yes ]; then
	echo "1..3"
	fail=0
	n=0
	for c in "accept rsa-4k $DM_SOCK" "reject fail-4k $DM_SOCK" \
	    "accept rsa-4k $NOOP_SOCK"; do
		set -- $c
		n=$((n + 1))
		ip=192.0.2.10
		[ "$2" = fail-4k ] && ip=192.0.2.99
		if out=$(IP=$ip load -c 4 -n "$count" -m "$T/$2" --expect "$1" \
		    -s "$3"); then
			echo "ok $n - $3 $2: $count x $1"
		else
			echo "not ok $n - $3 $2: expected $1"
			echo "$out" | sed 's/^/#   /'
			fail=1
		fi
	done
	exit $fail
fi

if [ $soak = yes ]; then
	# COUNT is seconds here: 50 sessions of 10 messages each, RSA-2048
	# 4 KB, one pass in three failing; VmRSS every tenth of the run.
	secs=${count:-600}
	echo "== dmarcd soak: $secs s, 50 concurrent sessions; VmRSS (kB) every $((secs / 10)) s"
	IP=192.0.2.99 load -c 10 -t "$secs" -m "$T/fail-4k" -s "$DM_SOCK" \
	    >"$T/soak-fail" &
	fpid=$!
	load -c 40 --per-connection 10 -t "$secs" -m "$T/rsa-4k" \
	    -s "$DM_SOCK" >"$T/soak-pass" &
	ppid=$!
	i=0
	while [ $i -lt 10 ]; do
		sleep $((secs / 10))
		i=$((i + 1))
		printf '  t=%4ds VmRSS %s\n' $((i * secs / 10)) \
		    "$(awk '/^VmRSS:/ { print $2 }' "/proc/$DM_PID/status")"
	done
	wait $ppid $fpid || :
	sed 's/^/  pass: /' "$T/soak-pass"
	sed 's/^/  fail: /' "$T/soak-fail"
	echo "  VmHWM $(awk '/^VmHWM:/ { print $2 }' "/proc/$DM_PID/status") kB"
	exit 0
fi

if [ $postfix = yes ]; then
	. "$top_srcdir/tests/dns/tap.sh"
	. "$top_srcdir/tests/e2e/postfix-fixture.sh"
	postfix_fixture_require
	# postfix_fixture_stop becomes the EXIT trap (it stops NSD too).
	PF_CLEANUP_HOOK='for _p in $PIDS; do kill -TERM $_p; done; rm -f "$RESOLV"; nsd_fixture_stop'
	postfix_fixture_start ""
	ip addr add 192.0.2.10/32 dev lo
	echo "192.0.2.10:$PF_PORT inet n - n - - smtpd" >>"$PF_ETC/master.cf"
	"$PF_POSTFIX" -c "$PF_ETC" reload >/dev/null 2>&1
	sleep 1
	milter_of() {
		case $1 in
		none) echo "" ;;
		noop) echo "$NOOP_SOCK" | sed 's/^inet:\([0-9]*\)@\(.*\)/inet:\2:\1/' ;;
		dmarcd) echo "$DM_SOCK" | sed 's/^inet:\([0-9]*\)@\(.*\)/inet:\2:\1/' ;;
		dmarcd-r) echo "$DMR_SOCK" | sed 's/^inet:\([0-9]*\)@\(.*\)/inet:\2:\1/' ;;
		pair) echo "$DK_SOCK $DMC_SOCK" |
		    sed 's/inet:\([0-9]*\)@\([0-9.]*\)/inet:\2:\1/g' ;;
		rspamd) echo "$RS_SOCK" | sed 's/^inet:\([0-9]*\)@\(.*\)/inet:\2:\1/' ;;
		esac
	}
	# blast N SESSIONS: seconds smtp-source takes for N messages.
	blast() {
		_t0=$(date +%s.%N)
		smtp-source -d -s "$2" -m "$1" -M mx.bench.test \
		    -f bounce@bench.test -t postmaster@receiver.test \
		    -F "$T/rsa-4k" "192.0.2.10:$PF_PORT" >"$T/blast.out" 2>&1
		_t1=$(date +%s.%N)
		if [ -s "$T/blast.out" ]; then
			echo "Bail out! smtp-source: $(head -n 3 "$T/blast.out")"
			exit 1
		fi
		echo "$_t0 $_t1" | awk '{ printf "%.3f", $2 - $1 }'
	}
	who_list="none noop dmarcd dmarcd-r"
	[ $have_pair = yes ] && who_list="$who_list pair"
	[ $have_rspamd = yes ] && who_list="$who_list rspamd"
	echo "== through Postfix: $count messages over 50 sessions, then 50 over one; $rounds rounds"
	: >"$T/pf"
	r=1
	while [ $r -le "$rounds" ]; do
		for who in $who_list; do
			pf_set "smtpd_milters=$(milter_of $who)" >/dev/null
			blast 20 5 >/dev/null
			pf_wait_queue_empty 120 || :
			many=$(blast "$count" 50)
			pf_wait_queue_empty 300 || :
			one=$(blast 50 1)
			pf_wait_queue_empty 120 || :
			echo "$who $many $one" >>"$T/pf"
		done
		r=$((r + 1))
	done
	# Every message was accepted: smtp-source printed no error (blast).
	printf '%-8s %9s %10s %14s %18s\n' milter msgs/s x_postfix one_ms/msg x_postfix_one
	base=$(awk '$1 == "none" { print $2 }' "$T/pf" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	base1=$(awk '$1 == "none" { print $3 }' "$T/pf" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	for who in $who_list; do
		m=$(awk -v w=$who '$1 == w { print $2 }' "$T/pf" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		o=$(awk -v w=$who '$1 == w { print $3 }' "$T/pf" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		awk -v w=$who -v m="$m" -v o="$o" -v b="$base" -v b1="$base1" -v n="$count" \
		    'BEGIN { printf "%-8s %9.0f %10.2f %14.1f %18.2f\n", w, n / m, b / m, o * 1000 / 50, o / b1 }'
	done
	echo "(medians of $rounds rounds; x_postfix: throughput relative to Postfix with no milter;"
	echo " x_postfix_one: time per message in one session relative to no milter)"
	exit 0
fi

if [ $cold = yes ]; then
	who_list="dmarcd"
	[ $have_pair = yes ] && who_list="$who_list pair"
	[ $have_rspamd = yes ] && who_list="$who_list rspamd"
	echo "== cold cache: 50 ms per DNS query (bench/dnsdelay), $count trials"
	echo "   first message from a new domain, then a second (warm)"
	: >"$T/cold"
	k=1
	while [ $k -le "$count" ]; do
		for who in $who_list; do
			case $who in
			dmarcd) socks="-s $DM_SOCK" ;;
			pair) socks="-s $DK_SOCK -s $DMC_SOCK" ;;
			rspamd) socks="-s $RS_SOCK" ;;
			esac
			for n in first second; do
				MAILFROM=bounce@cold$k.test load -n 1 \
				    -m "$T/cold$k.test" $socks --expect accept |
				    awk -v w=$who -v n=$n \
				    '/^latency/ { print w, n, $3 }' >>"$T/cold"
			done
		done
		k=$((k + 1))
	done
	printf '%-7s %16s %16s   (ms, median; all trials)\n' milter first second
	for who in $who_list; do
		f=$(awk -v w=$who '$1 == w && $2 == "first" { print $3 }' "$T/cold" | sort -n)
		s=$(awk -v w=$who '$1 == w && $2 == "second" { print $3 }' "$T/cold" | sort -n)
		printf '%-7s %16.1f %16.1f   first: %s\n' "$who" \
		    "$(echo "$f" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
		    "$(echo "$s" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
		    "$(echo $f)"
	done
	exit 0
fi

tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# run WHO CASE CONC ROUND: one measured run; appends to $T/results:
# who case conc round msgs/s cpu_ms[proc=...] p50 p99 rss_MB replies
run() {
	_who=$1 _case=$2 _c=$3 _round=$4
	case $_who in
	dmarcd) _socks="-s $DM_SOCK" _pids=$DM_PID ;;
	dmarcd-r) _socks="-s $DMR_SOCK" _pids=$DMR_PID ;;
	noop) _socks="-s $NOOP_SOCK" _pids=$NOOP_PID ;;
	pair) _socks="-s $DK_SOCK -s $DMC_SOCK" _pids="$DK_PID $DMC_PID" ;;
	rspamd) _socks="-s $RS_SOCK" _pids=$RS_PIDS ;;
	esac
	_ip=192.0.2.10
	[ "$_case" = fail-4k ] && _ip=192.0.2.99
	IP=$_ip load -n 1 -m "$T/$_case" $_socks >/dev/null
	_c0=
	for _p in $_pids; do _c0="$_c0 $(cpu_ticks "$_p")"; done
	_out=$(IP=$_ip load -c "$_c" -n "$count" -m "$T/$_case" $_socks) || {
		echo "Bail out! $_who $_case c=$_c: errors"
		echo "$_out"
		exit 1
	}
	_cpu=
	set -- $_c0
	for _p in $_pids; do
		_cpu="$_cpu $(( $(cpu_ticks "$_p") - $1 ))"
		shift
	done
	_rss=0
	for _p in $_pids; do _rss=$((_rss + $(hwm_kb "$_p"))); done
	echo "$_out" | awk -v who="$_who" -v cs="$_case" -v c="$_c" \
	    -v r="$_round" -v cpu="$_cpu" -v tck="$tck" -v n="$count" \
	    -v rss="$_rss" '
		/^messages/ { rate = $8 }
		/^latency/ { p50 = $3; p99 = $7 }
		/^replies/ { acc = $3; rej = $7 }
		END {
			k = split(cpu, t, " ")
			tot = 0; per = ""
			for (i = 1; i <= k; i++) {
				ms = t[i] * 1000 / tck / n
				tot += ms
				per = per (i > 1 ? "+" : "") sprintf("%.3f", ms)
			}
			printf "%s %s %d %d %.0f %.3f %s %.3f %.3f %.1f a%d/r%d\n",
			    who, cs, c, r, rate, tot, per, p50, p99,
			    rss / 1024, acc, rej
		}' >>"$T/results"
}

who_list="dmarcd dmarcd-r"
[ $have_pair = yes ] && who_list="$who_list pair"
[ $have_rspamd = yes ] && who_list="$who_list rspamd"
who_list="$who_list noop"
: >"$T/results"
echo "== $count messages per run, $rounds rounds, in alternation: $who_list"
for cs in "rsa-4k 1" "rsa-4k 16" "ed-4k 16" "rsa-100k 16" "fail-4k 16"; do
	set -- $cs
	r=1
	while [ $r -le "$rounds" ]; do
		for who in $who_list; do
			run "$who" "$1" "$2" "$r"
		done
		r=$((r + 1))
	done
done

# Medians per (who, case, conc).
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-8s %-9s %4s %8s %10s %-15s %8s %8s %7s %s\n' milter case conc \
    msgs/s cpu_ms/msg "(per process)" p50_ms p99_ms rss_MB replies
for cs in "rsa-4k 1" "rsa-4k 16" "ed-4k 16" "rsa-100k 16" "fail-4k 16"; do
	set -- $cs
	for who in $who_list; do
		sel() { awk -v w="$who" -v c="$1" -v k="$2" -v f="$3" \
		    '$1 == w && $2 == c && $3 == k { print $f }' "$T/results"; }
		echo "$who $1 $2 $(sel "$1" "$2" 5 | median)" >>"$T/rates"
		rate=$(sel "$1" "$2" 5 | median)
		cpu=$(sel "$1" "$2" 6 | median)
		per=$(sel "$1" "$2" 7 | tail -n 1)
		p50=$(sel "$1" "$2" 8 | median)
		p99=$(sel "$1" "$2" 9 | median)
		rss=$(sel "$1" "$2" 10 | sort -n | tail -n 1)
		rep=$(sel "$1" "$2" 11 | tail -n 1)
		printf '%-8s %-9s %4s %8.0f %10.3f %-15s %8.3f %8.3f %7.1f %s\n' \
		    "$who" "$1" "$2" "$rate" "$cpu" "($per)" "$p50" "$p99" \
		    "$rss" "$rep"
		echo "$who $1 $2 $cpu" >>"$T/medians"
	done
done
echo
echo "Ratios of CPU per message (medians):"
for cs in "rsa-4k 1" "rsa-4k 16" "ed-4k 16" "rsa-100k 16" "fail-4k 16"; do
	set -- $cs
	awk -v c="$1" -v k="$2" '$2 == c && $3 == k { v[$1] = $4 }
	    END {
		printf "  %-9s c=%-3s", c, k
		if (v["pair"] > 0)
			printf " dmarcd/pair %.3f", v["dmarcd"] / v["pair"]
		if (v["rspamd"] > 0)
			printf " dmarcd/rspamd %.3f", v["dmarcd"] / v["rspamd"]
		printf " dmarcd-noop %.3f ms\n", v["dmarcd"] - v["noop"]
	    }' "$T/medians"
done
echo "History: msgs/s with HistoryDurability full / relaxed (medians):"
for cs in "rsa-4k 1" "rsa-4k 16" "ed-4k 16" "rsa-100k 16" "fail-4k 16"; do
	set -- $cs
	awk -v c="$1" -v k="$2" '$2 == c && $3 == k { v[$1] = $4 }
	    END { printf "  %-9s c=%-3s %.3f\n", c, k, v["dmarcd"] / v["dmarcd-r"] }' \
	    "$T/rates"
done

# 500 concurrent sessions: dmarcd's RSS while they are all open.
echo
echo "== dmarcd at 500 concurrent sessions ($((count * 5)) messages)"
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DM_PID/status")
load -c 500 -n $((count * 5)) -m "$T/rsa-4k" -s "$DM_SOCK" |
    sed 's/^/  /'
echo "  VmRSS before ${rss0} kB; VmHWM after $(hwm_kb "$DM_PID") kB; VmRSS after $(awk '/^VmRSS:/ { print $2 }' "/proc/$DM_PID/status") kB"

# The crypto floor on this machine.
echo
echo "== openssl speed -seconds 2 rsa2048 ed25519 sha256"
openssl speed -seconds 2 rsa2048 ed25519 sha256 2>/dev/null >"$T/speed"
grep -E '^(type|sha256|rsa 2048|sign|  *253 bits)' "$T/speed" | sed 's/^/  /'
rsa_vps=$(awk '/^rsa 2048 bits/ { print $NF }' "$T/speed")
ed_vps=$(awk '/EdDSA \(Ed25519\)/ { print $NF }' "$T/speed")
sha_kps=$(awk '/^sha256/ { sub(/k$/, "", $6); print $6 }' "$T/speed")
for m in rsa-4k ed-4k rsa-100k; do
	case $m in ed-*) v=$ed_vps ;; *) v=$rsa_vps ;; esac
	awk -v m=$m -v v="$v" -v b="$(wc -c <"$T/$m")" -v s="$sha_kps" \
	    'BEGIN { printf "  floor %-9s %6.1f us (one verify + SHA-256 twice over %d bytes)\n",
	    m, 1e6 / v + 2 * b / (s * 1000) * 1e6, b }'
done
echo
echo "cpu_ms/msg: utime+stime of the milter process(es) over the run /"
echo "messages (clock tick $((1000 / tck)) ms), medians of $rounds rounds; the pair's"
echo "per-process figures are OpenDKIM+OpenDMARC (last round).  rss_MB:"
echo "VmHWM, the pair's summed.  replies: accepts/rejects of the last round."
