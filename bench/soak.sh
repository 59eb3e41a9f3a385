#!/bin/sh
# soak.sh - dmarcd behind a private Postfix at a steady load for a long
# while, recording its memory, threads, file descriptors and the latency
# the SMTP clients see, with pass criteria printed at the end.  Not a
# test: it prints figures and a verdict; the exit status is 1 when a
# criterion failed.
#
#   sh bench/soak.sh [--minutes N] [--rate R] [--conns C] [--out DIR]
#                    [--valgrind] [--dmarcd PATH]
#
# Set-up: NSD serves soak.test (tests/dns/nsd-fixture.sh); dmarcd asks
# it through bench/dnsdrop, which never answers names under
# slow.soak.test (DNS timeouts); the Postfix of tests/e2e/postfix-fixture.sh
# has dmarcd (tests/e2e/dmarcd-fixture.sh: HistoryDurability full,
# QuarantineAction hold, TempfailOnDNSError yes, DNSTimeout 1s) as its
# milter and relays to smtp-sink.  bench/smtpload sends one message per
# SMTP session from 127.0.0.1, the sender domain in turn from the mix
#   pass 55%    SPF pass, p=reject       250, delivered
#   fail 15%    SPF fail, p=none         250, delivered
#   reject 12%  SPF fail, p=reject       550
#   quar 12%    SPF fail, p=quarantine   250, held by Postfix
#   slow 6%     DNS timeouts             451 (TempfailOnDNSError)
# First the capacity is measured (20 s, CONNS clients as fast as they go,
# without the slow share); the soak then runs at --rate messages/s
# (default 60% of that capacity) for --minutes (default 30; 3 with
# --valgrind).  Every 10 s a line goes to DIR/soak.csv:
#   time_s,rss_kb,threads,fds,msgs,msgs_per_s,p50_ms,p90_ms,p99_ms,
#   max_ms,replies_2xx,replies_4xx,replies_5xx,errors
# (dmarcd's VmRSS, threads and open fds; latency of the messages that
# finished in those 10 s, from the scheduled send time to the reply to
# "."), and gnuplot (Debian: gnuplot-nox) draws DIR/soak.png from it.
#
# Pass criteria, printed with their figures:
#   - RSS flat after warm-up: the last third's highest RSS at most 10%
#     (and 8 MB) above the highest RSS of the middle third;
#   - fds flat: open fds when idle after the run equal those when idle
#     before it;
#   - no unexpected line in dmarcd's log (anything but its per-message
#     lines and its start/stop notices);
#   - every message accounted for: no client error, the messages that
#     got a final reply equal the history rows of this run, and the
#     queue ids Postfix accepted (250) are exactly those of the rows
#     with action accept or quarantine.
# --valgrind runs dmarcd under valgrind's memcheck (a build without
# --enable-sanitizers: ASan and valgrind do not mix; --dmarcd names such a
# binary) and adds: zero bytes definitely lost.  Its capacity, and so its
# rate, is measured under valgrind too.
#
# Needs root (dmarcd runs as nobody), nsd, postfix, sqlite3; gnuplot-nox
# for the PNG.  The machine should be otherwise quiet; a shared one skews
# the latency, not the criteria.  Run from a configured build tree.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir

minutes=
rate=
conns=32
out=
valgrind=no
dmarcd_bin=
cap_seconds=20
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--valgrind) valgrind=yes; shift ;;
	--dmarcd) dmarcd_bin=$2; shift 2 ;;
	--capacity-seconds) cap_seconds=$2; shift 2 ;;
	*)
		echo "usage: soak.sh [--minutes N] [--rate R] [--conns C] [--out DIR] [--valgrind] [--dmarcd PATH]" >&2
		exit 64 ;;
	esac
done
[ -n "$minutes" ] || { [ $valgrind = yes ] && minutes=3 || minutes=30; }
out=${out:-$top_builddir/bench/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

if [ -z "$dmarcd_bin" ]; then
	make -s -C "$top_builddir" dmarcd >/dev/null || exit 1
	dmarcd_bin=$top_builddir/dmarcd
fi
make -s -C "$top_builddir" bench/smtpload bench/dnsdrop >/dev/null || exit 1
DMARCD=$dmarcd_bin
dm_fixture_require
nsd_fixture_require
postfix_fixture_require
if [ $valgrind = yes ]; then
	command -v valgrind >/dev/null 2>&1 || {
		echo "soak.sh: --valgrind: valgrind not installed (apt-get install valgrind)" >&2
		exit 69
	}
	if ldd "$DMARCD" 2>/dev/null | grep -q 'libasan'; then
		echo "soak.sh: --valgrind: $DMARCD is built with --enable-sanitizers; configure a build without them, or pass --dmarcd PATH" >&2
		exit 64
	fi
fi
LOAD=$top_builddir/bench/smtpload
DROP=$top_builddir/bench/dnsdrop
RUN=$$
MIX=pass.soak.test:55,fail.soak.test:15,reject.soak.test:12,quar.soak.test:12,slow.soak.test:6
CAP_MIX=pass.soak.test:55,fail.soak.test:15,reject.soak.test:12,quar.soak.test:12

zone_add test </dev/null
zone_add soak.test <<'ZONE'
pass         300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.pass  300 IN TXT "v=DMARC1; p=reject"
fail         300 IN TXT "v=spf1 -all"
_dmarc.fail  300 IN TXT "v=DMARC1; p=none"
reject       300 IN TXT "v=spf1 -all"
_dmarc.reject 300 IN TXT "v=DMARC1; p=reject"
quar         300 IN TXT "v=spf1 -all"
_dmarc.quar  300 IN TXT "v=DMARC1; p=quarantine"
ZONE
nsd_fixture_start

DROP_PID=
LOAD_PID=
soak_cleanup() {
	for _p in $LOAD_PID $DROP_PID; do
		kill -TERM "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	dm_stop_long
}
PF_CLEANUP_HOOK=soak_cleanup
# Enough smtpd processes for the clients; no flow-control pauses.
PF_MAIN_EXTRA="default_process_limit = $((conns + 50))
in_flow_delay = 0"

for _try in 1 2 3 4 5; do
	DROP_PORT=$(pf_free_port)
	"$DROP" -l "127.0.0.1:$DROP_PORT" -u "$NSD_SERVER" -d slow.soak.test \
	    2>>"$out/dnsdrop.log" &
	DROP_PID=$!
	sleep 0.3
	kill -0 "$DROP_PID" 2>/dev/null && break
	DROP_PID=
done
[ -n "$DROP_PID" ] || { echo "soak.sh: dnsdrop did not start" >&2; exit 1; }

DM_PORT=$(pf_free_port)
postfix_fixture_start "inet:127.0.0.1:$DM_PORT"
dm_fixture_init "$PF_DIR/dmarcd" "$DM_PORT"
DM_NAMESERVERS=127.0.0.1:$DROP_PORT
DM_DURABILITY=full
DM_QACTION=hold

# dmarcd, or dmarcd under memcheck (slow to start and to stop).
dm_start_soak() {
	if [ $valgrind = no ]; then
		dm_start
		return
	fi
	dm_write_conf
	dm_mark
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
	    --errors-for-leak-kinds=definite --num-callers=30 \
	    --log-file="$out/valgrind.log" \
	    "$DMARCD" -f -c "$DM_CONF" >>"$DM_LOG" 2>&1 &
	DM_PID=$!
	_w=0
	while [ $_w -lt 1200 ]; do
		kill -0 "$DM_PID" 2>/dev/null || {
			echo "soak.sh: dmarcd under valgrind exited at start:" >&2
			tail -n 20 "$DM_LOG" >&2
			DM_PID=
			exit 1
		}
		dm_log_since | grep -q "listening on" && return 0
		sleep 0.1
		_w=$((_w + 1))
	done
	echo "soak.sh: dmarcd under valgrind did not start in 120 s" >&2
	exit 1
}

# SIGTERM and wait up to 5 minutes (valgrind's leak check takes a while).
dm_stop_long() {
	[ -n "${DM_PID:-}" ] || return 0
	kill -TERM "$DM_PID" 2>/dev/null
	_w=0
	while kill -0 "$DM_PID" 2>/dev/null && [ $_w -lt 3000 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	if kill -0 "$DM_PID" 2>/dev/null; then
		kill -KILL "$DM_PID" 2>/dev/null
		DM_STOP=killed
	else
		wait "$DM_PID"
		DM_STOP=$?
	fi
	DM_PID=
}

dm_start_soak
echo "# dmarcd $DM_PID (valgrind: $valgrind) on 127.0.0.1:$DM_PORT; nsd $NSD_SERVER behind dnsdrop 127.0.0.1:$DROP_PORT; postfix $PF_SERVER; output in $out"
echo "# machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

proc_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DM_PID/status" 2>/dev/null; }
nfds() { ls "/proc/$DM_PID/fd" 2>/dev/null | wc -l | tr -d ' '; }

# --- capacity ----------------------------------------------------------
"$LOAD" -s "$PF_SERVER" -k "$CAP_MIX" -r 0 -t "$cap_seconds" -c "$conns" \
    -i "cap$RUN" -o "$out/capacity.out" 2>"$out/capacity.txt"
capacity=$(awk -v t="$cap_seconds" '$3 != 0 { n++ } END { printf "%.1f", n / t }' \
    "$out/capacity.out")
echo "# capacity: $capacity messages/s ($(cat "$out/capacity.txt"))"
[ -n "$rate" ] || rate=$(awk -v c="$capacity" 'BEGIN { r = c * 0.6; printf "%.1f", r < 0.5 ? 0.5 : r }')
pf_wait_queue_empty 120
sleep 5
fds_idle_before=$(nfds)
rss_idle_before=$(proc_field VmRSS)

# --- the soak ----------------------------------------------------------
seconds=$((minutes * 60))
echo "# soak: $rate messages/s for $minutes min, $conns clients, mix $MIX"
echo "time_s,rss_kb,threads,fds,msgs,msgs_per_s,p50_ms,p90_ms,p99_ms,max_ms,replies_2xx,replies_4xx,replies_5xx,errors" \
    >"$out/soak.csv"
: >"$out/soak.out"
"$LOAD" -s "$PF_SERVER" -k "$MIX" -r "$rate" -t "$seconds" -c "$conns" \
    -i "$RUN" -o "$out/soak.out" 2>"$out/soak.txt" &
LOAD_PID=$!
start=$(date +%s)
prev_ms=$(($(date +%s) * 1000))

# sample: one CSV line for the messages done since the last one.
sample() {
	_now_ms=$(($(date +%s) * 1000))
	[ "$_now_ms" -gt "$prev_ms" ] || return 0
	_t=$(( $(date +%s) - start ))
	_stats=$(awk -v a="$prev_ms" -v b="$_now_ms" \
	    '$1 > a && $1 <= b { print $2, $3 }' "$out/soak.out" |
	    sort -n | awk -v secs="$(( (_now_ms - prev_ms) / 1000 ))" '
	    { lat[NR] = $1; c = int($2 / 100); if ($2 == 0) e++;
	      else if (c == 2) r2++; else if (c == 4) r4++; else if (c == 5) r5++ }
	    END {
		n = NR
		if (n == 0) { printf "0,0,,,,,0,0,0,0"; exit }
		p50 = lat[int((n - 1) * 0.50) + 1]; p90 = lat[int((n - 1) * 0.90) + 1]
		p99 = lat[int((n - 1) * 0.99) + 1]
		printf "%d,%.1f,%.1f,%.1f,%.1f,%.1f,%d,%d,%d,%d", n,
		    (secs > 0 ? n / secs : 0), p50, p90, p99, lat[n],
		    r2, r4, r5, e
	    }')
	echo "$_t,$(proc_field VmRSS),$(proc_field Threads),$(nfds),$_stats" >>"$out/soak.csv"
	prev_ms=$_now_ms
}

while kill -0 "$LOAD_PID" 2>/dev/null; do
	sleep 10
	if ! kill -0 "$DM_PID" 2>/dev/null; then
		echo "# dmarcd died during the soak"
		break
	fi
	sample
done
wait "$LOAD_PID"
LOAD_PID=
sample
echo "# load: $(cat "$out/soak.txt")"

# --- after -------------------------------------------------------------
pf_wait_queue_empty 300
# Rows of rejected and tempfailed messages are written without waiting:
# until the count is stable.
rows_run() { hist_sql "SELECT count(*) FROM verdicts WHERE message_id LIKE '%soak-$RUN-%';"; }
_last=-1
_n=0
while [ $_n -lt 60 ]; do
	_r=$(rows_run)
	[ "$_r" = "$_last" ] && break
	_last=$_r
	sleep 2
	_n=$((_n + 1))
done
sleep 10
fds_idle_after=$(nfds)
rss_idle_after=$(proc_field VmRSS)

# Plot.
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOF 2>"$out/gnuplot.log"
set terminal png size 1200,900
set output "$out/soak.png"
set datafile separator ","
set key autotitle columnhead
set multiplot layout 3,1 title "dmarcd soak: $rate msg/s, $minutes min$( [ $valgrind = yes ] && echo ', valgrind memcheck')"
set xlabel "seconds"
set ylabel "RSS (MB)"
set y2label "threads, fds"
set y2tics
set ytics nomirror
plot "$out/soak.csv" using 1:(\$2/1024) with lines lw 2 title "RSS MB", \
     "" using 1:3 axes x1y2 with lines title "threads", \
     "" using 1:4 axes x1y2 with lines title "fds"
unset y2label
unset y2tics
set ylabel "latency (ms)"
set logscale y
plot "" using 1:7 with lines title "p50", "" using 1:8 with lines title "p90", \
     "" using 1:9 with lines lw 2 title "p99", "" using 1:10 with lines title "max"
unset logscale y
set ylabel "messages / s"
plot "" using 1:6 with lines lw 2 title "done/s", \
     "" using 1:(\$11/10) with lines title "2xx/s", "" using 1:(\$12/10) with lines title "4xx/s", \
     "" using 1:(\$13/10) with lines title "5xx/s"
unset multiplot
EOF
	[ -s "$out/soak.png" ] && echo "# plot: $out/soak.png"
else
	echo "# no gnuplot: no plot (apt-get install gnuplot-nox)"
fi

dm_stop_long
cp "$DM_LOG" "$out/dmarcd.log"
kill -TERM "$DROP_PID" 2>/dev/null
wait "$DROP_PID" 2>/dev/null
DROP_PID=

# --- criteria ------------------------------------------------------------
failed=0
verdict() {
	if [ "$1" = 0 ]; then
		echo "PASS: $2"
	else
		echo "FAIL: $2"
		failed=$((failed + 1))
	fi
}
lines=$(($(wc -l <"$out/soak.csv") - 1))
third=$((lines / 3))
rss_mid=$(awk -F, -v a=$((third + 2)) -v b=$((2 * third + 1)) \
    'NR >= a && NR <= b && $2 > m { m = $2 } END { print m + 0 }' "$out/soak.csv")
rss_last=$(awk -F, -v a=$((2 * third + 2)) \
    'NR >= a && $2 > m { m = $2 } END { print m + 0 }' "$out/soak.csv")
rss_first=$(awk -F, 'NR == 2 { print $2 }' "$out/soak.csv")
rss_end=$(awk -F, 'END { print $2 }' "$out/soak.csv")
awk -v m="$rss_mid" -v l="$rss_last" 'BEGIN { exit !(l <= m * 1.10 || l <= m + 8192) }'
verdict $? "RSS flat after warm-up: highest ${rss_mid} kB in the middle third, ${rss_last} kB in the last (first sample ${rss_first:-?} kB, last ${rss_end:-?} kB; idle ${rss_idle_before:-?} kB before, ${rss_idle_after:-?} kB after)"
[ "$fds_idle_after" = "$fds_idle_before" ]
verdict $? "fds flat: $fds_idle_before open when idle before, $fds_idle_after after (under load: $(awk -F, 'NR > 1 { if (min == "" || $4 < min) min = $4; if ($4 > max) max = $4 } END { print min "-" max }' "$out/soak.csv"))"
# The store's counters at stop are expected, unless a count of failures
# in them is not 0.
grep -v -e ': dmarc result=' -e ': dmarc skipped' -e ' listening on ' \
    -e 'dmarcd stopped; history flushed' "$DM_LOG" |
    grep -v -E 'history: at stop: .* 0 failed, 0 refused \(queue full\), 0 failed commits,' \
    >"$out/unexpected.log"
[ ! -s "$out/unexpected.log" ]
verdict $? "no unexpected line in dmarcd's log ($(wc -l <"$out/unexpected.log" | tr -d ' '); $(wc -l <"$DM_LOG" | tr -d ' ') lines in all)"
[ -s "$out/unexpected.log" ] && head -n 5 "$out/unexpected.log" | sed 's/^/#   /'

sent=$(wc -l <"$out/soak.out" | tr -d ' ')
errors=$(awk '$3 == 0' "$out/soak.out" | wc -l | tr -d ' ')
replied=$((sent - errors))
n2=$(awk 'int($3 / 100) == 2' "$out/soak.out" | wc -l | tr -d ' ')
n4=$(awk 'int($3 / 100) == 4' "$out/soak.out" | wc -l | tr -d ' ')
n5=$(awk 'int($3 / 100) == 5' "$out/soak.out" | wc -l | tr -d ' ')
rows=$(rows_run)
awk '$3 == 250 { print $5 }' "$out/soak.out" | sort >"$out/accepted.ids"
hist_sql "SELECT queue_id FROM verdicts WHERE message_id LIKE '%soak-$RUN-%' AND action IN ('accept', 'quarantine');" |
    sort >"$out/rows.ids"
diff_ids=$(comm -3 "$out/accepted.ids" "$out/rows.ids" | wc -l | tr -d ' ')
echo "# messages: $sent sent, $n2 accepted (2xx), $n4 tempfailed (4xx), $n5 rejected (5xx), $errors client errors; history rows: $rows ($(hist_sql "SELECT action || '=' || count(*) FROM verdicts WHERE message_id LIKE '%soak-$RUN-%' GROUP BY action;" | tr '\n' ' '))"
[ "$errors" = 0 ] && [ "$replied" = "$rows" ] && [ "$diff_ids" = 0 ]
verdict $? "every message accounted for: $replied replies = $rows rows; accepted queue ids without a row or rows without one: $diff_ids; client errors: $errors"
echo "# latency over the run: $(awk '$3 != 0 { print $2 }' "$out/soak.out" | sort -n | awk '{ l[NR] = $1 } END { if (NR) printf "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", l[int((NR-1)*.5)+1], l[int((NR-1)*.9)+1], l[int((NR-1)*.99)+1], l[NR] }')"
awk '$3 != 0 { print $4, $2 }' "$out/soak.out" | sort -k1,1 -k2,2n | awk '
    function flush() { if (n) printf "# latency %s: %d messages, p50 %.1f ms, p99 %.1f ms\n", d, n, l[int((n-1)*.5)+1], l[int((n-1)*.99)+1] }
    $1 != d { flush(); d = $1; n = 0 }
    { l[++n] = $2 }
    END { flush() }'
echo "# dnsdrop: $(tail -n 1 "$out/dnsdrop.log")"

if [ $valgrind = yes ]; then
	sed -n '/LEAK SUMMARY/,/suppressed/p; /ERROR SUMMARY/p' "$out/valgrind.log" |
	    sed 's/^==[0-9]*== */# valgrind: /'
	def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$out/valgrind.log" | tr -d ',' | tail -n 1)
	[ "${def:-0}" = 0 ] && grep -q 'LEAK SUMMARY\|All heap blocks were freed' "$out/valgrind.log"
	verdict $? "valgrind memcheck: ${def:-0} bytes definitely lost (dmarcd stop status: ${DM_STOP:-?})"
fi
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" = 0 ]
