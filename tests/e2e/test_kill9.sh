#!/bin/sh
# test_kill9.sh - kill -9 of dmarcd under load, HistoryDurability full
# (issue 5): no message that Postfix accepted is without its history row.
#
# A private Postfix (tests/e2e/postfix-fixture.sh) with dmarcd as its
# milter, NSD for DNS.  The load: smtp-source with many concurrent
# sessions (DMARC pass, delivered to the sink) and a few swaks loops, one
# message per session with a unique Message-ID, half of them passing and
# half quarantined (held by Postfix: accepted too).  While the load runs,
# dmarcd is killed with SIGKILL twice (KILL9_KILLS times) and started
# again each time (the load keeps going; meanwhile Postfix answers 4xx:
# milter_default_action = tempfail).  Each kill comes once a third of an
# smtp-source run has new rows, or with KILL9_SEED=N at a random number of
# new rows (from a sixth to a half of a run; the seed is printed, so a
# failure can be replayed).  tests/faults/test_kill_faults.sh runs this
# with five random kills.  Afterwards:
#   accepted  the queue ids Postfix queued: qmgr's "from=" (delivered)
#             and cleanup's "milter-hold" (quarantined) log lines;
#   rows      the history's rows (verdicts.queue_id).
# Every accepted queue id has exactly one row.  A message the client saw
# tempfailed may have no row (and, killed after the commit, may have
# one: it is then not in "accepted").  The figures are printed as TAP
# comments.  No timing is asserted: the kills are triggered by the number
# of rows written, while the load is still running.
# PF_KEEP=1 keeps the Postfix directory.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

dm_fixture_require
nsd_fixture_require
postfix_fixture_require
SMTP_SOURCE=$(_pf_find smtp-source) ||
    dm_need "smtp-source not installed" postfix

# Sizes; KILL9_MESSAGES=N scales the smtp-source part.
SRC_MSGS=${KILL9_MESSAGES:-400}	# per smtp-source run (KILLS + 1 runs)
KILLS=${KILL9_KILLS:-2}
SEED=${KILL9_SEED:-}
SRC_SESSIONS=8
SW_LOOPS=3
SW_MSGS=60

# Every client is 127.0.0.1 (smtp-source cannot XCLIENT).
zone_add test </dev/null
zone_add bulk.test <<'ZONE'
@                 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc            300 IN TXT "v=DMARC1; p=reject"
ZONE
zone_add held.test <<'ZONE'
@                 300 IN TXT "v=spf1 ip4:192.0.2.99 -all"
_dmarc            300 IN TXT "v=DMARC1; p=quarantine"
ZONE
nsd_fixture_start

DM_PORT=$(pf_free_port)
PF_CLEANUP_HOOK='kill9_cleanup; dm_cleanup $_pf_rc'
LOAD_PIDS=
kill9_cleanup() {
	for _p in $LOAD_PIDS; do
		kill "$_p" 2>/dev/null
	done
}
postfix_fixture_start "inet:127.0.0.1:$DM_PORT"
dm_fixture_init "$PF_DIR/dmarcd" "$DM_PORT"
DM_NAMESERVERS=$NSD_SERVER
DM_DURABILITY=full
DM_QACTION=hold
T=$DM_DIR
dm_start
echo "# dmarcd $DM_PID on 127.0.0.1:$DM_PORT, nsd on $NSD_SERVER"

M=$T/msg
mkdir "$M"
chmod 755 "$M"
printf 'From: <load@bulk.test>\nTo: <rcpt@receiver.test>\nSubject: load\n\nload test\n' \
    >"$M/load"

# swaks_loop N: SW_MSGS messages, one session each; one line per message
# in $T/swaks.N: "MESSAGE-ID OUTCOME QUEUEID" (OUTCOME 250, 4xx, 5xx or
# "error").
swaks_loop() {
	_n=$1 _i=0
	: >"$T/swaks.$_n"
	while [ $_i -lt $SW_MSGS ]; do
		_i=$((_i + 1))
		if [ $((_i % 2)) = 0 ]; then _d=bulk.test; else _d=held.test; fi
		_mid="k$_n-$_i.$$@e2e.test"
		"$PF_SWAKS" --server 127.0.0.1 --port "$PF_PORT" --timeout 60 \
		    --helo "loop$_n.$_d" --from "load@$_d" --to rcpt@receiver.test \
		    --header "From: <load@$_d>" --header "Message-Id: <$_mid>" \
		    --header "Subject: loop" --body "loop message" \
		    >"$T/log.$_n" 2>&1 </dev/null
		_r=$(sed -n 's/^<\*\* *//p' "$T/log.$_n" | head -n 1)
		[ -n "$_r" ] ||
		    _r=$(grep '^<- *250 .*queued as' "$T/log.$_n" | tail -n 1 |
		    sed 's/^<- *//')
		_q=$(printf '%s\n' "$_r" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p')
		case $_r in
		[245][0-9][0-9]*) _o=$(echo "$_r" | cut -c1-3) ;;
		*) _o=error ;;
		esac
		echo "$_mid $_o ${_q:--}" >>"$T/swaks.$_n"
	done
}

rows() { hist_sql "SELECT count(*) FROM verdicts;"; }
load_running() {
	for _p in $LOAD_PIDS; do
		kill -0 "$_p" 2>/dev/null && return 0
	done
	return 1
}
# kill_at ROWS: once the history has ROWS rows (or the load is over),
# SIGKILL dmarcd, let the load meet the dead milter a moment, restart it.
kills=0
kill_at() {
	while [ "$(rows)" -lt "$1" ] && load_running; do
		sleep 0.05
	done
	_running=no
	load_running && _running=yes
	_before=$(rows)
	kill -KILL "$DM_PID"
	wait "$DM_PID" 2>/dev/null
	echo "# SIGKILL to dmarcd $DM_PID at $_before rows (load running: $_running)"
	tap_is "$_running" yes "kill -9 #$((kills + 1)) came while the load was running"
	DM_PID=
	kills=$((kills + 1))
	sleep 1
	dm_start
	echo "# dmarcd restarted: $DM_PID"
}

# smtp_source N: one smtp-source run of N messages in the background.
smtp_source() {
	"$SMTP_SOURCE" -s $SRC_SESSIONS -m "$1" -d -A -M loadsrc.bulk.test \
	    -f load@bulk.test -t rcpt@receiver.test -F "$M/load" "$PF_SERVER" \
	    >>"$T/smtp-source.out" 2>&1 &
	LOAD_PIDS="$LOAD_PIDS $!"
}

# kill_step K: how many new rows before kill K.
kill_step() {
	if [ -z "$SEED" ]; then
		echo $((SRC_MSGS / 3))
		return
	fi
	awk -v s="$SEED" -v k="$1" -v n="$SRC_MSGS" \
	    'BEGIN { srand(s + k); lo = int(n / 6); print lo + int(rand() * (n / 2 - lo)) }'
}

# KILLS + 1 smtp-source runs, one after each (re)start of dmarcd, and the
# swaks loops all along.  While dmarcd is dead Postfix tempfails at once,
# so the run in progress loses much of what is left of it: the next one
# starts after the restart and keeps the load going.
[ -z "$SEED" ] || echo "# kill points at random: KILL9_SEED=$SEED"
_n=1
while [ $_n -le $SW_LOOPS ]; do
	swaks_loop $_n &
	LOAD_PIDS="$LOAD_PIDS $!"
	_n=$((_n + 1))
done
smtp_source $SRC_MSGS
_n=1
while [ $_n -le "$KILLS" ]; do
	kill_at $(( $(rows) + $(kill_step $_n) ))
	smtp_source $SRC_MSGS
	_n=$((_n + 1))
done
total=$(((KILLS + 1) * SRC_MSGS + SW_LOOPS * SW_MSGS))
for _p in $LOAD_PIDS; do
	wait "$_p"
done
LOAD_PIDS=
pf_wait_queue_empty 120
tap_ok 'kill -0 "$DM_PID"' "dmarcd (restarted) is still running after the load"

# What Postfix accepted: queued (qmgr saw it) or held by the milter.
sed -n 's/.* postfix\/qmgr\[[0-9]*\]: \([0-9A-Za-z]*\): from=<.*/\1/p; s/.* postfix\/cleanup\[[0-9]*\]: \([0-9A-Za-z]*\): milter-hold: .*/\1/p' \
    "$PF_MAILLOG" | sort -u >"$T/accepted"
hist_sql "SELECT queue_id FROM verdicts;" | sort >"$T/rows"
accepted=$(wc -l <"$T/accepted" | tr -d ' ')
nrows=$(wc -l <"$T/rows" | tr -d ' ')
held=$(grep -c 'postfix/cleanup.*milter-hold: ' "$PF_MAILLOG")
tempfail=$(grep -c 'milter-reject: .*4\.7\.1' "$PF_MAILLOG")
sort -u "$T/rows" >"$T/rows.u"
comm -23 "$T/accepted" "$T/rows.u" >"$T/lost"
uniq -d "$T/rows" >"$T/dups"
comm -13 "$T/accepted" "$T/rows.u" >"$T/extra"
cat "$T"/swaks.[0-9]* >"$T/swaks"
sw_ok=$(awk '$2 == 250' "$T/swaks" | wc -l | tr -d ' ')
sw_4xx=$(awk '$2 ~ /^4/' "$T/swaks" | wc -l | tr -d ' ')
sw_other=$(awk '$2 != 250 && $2 !~ /^4/' "$T/swaks" | wc -l | tr -d ' ')
echo "# $total messages sent: $((KILLS + 1)) x $SRC_MSGS by smtp-source ($SRC_SESSIONS sessions), $((SW_LOOPS * SW_MSGS)) by $SW_LOOPS swaks loops; $kills kill -9"
echo "# accepted by Postfix: $accepted (of them held: $held); history rows: $nrows"
echo "# not accepted (the client got 4xx): $((total - accepted)); Postfix logged $tempfail milter tempfail replies (4.7.1)"
echo "# swaks: $sw_ok accepted, $sw_4xx tempfailed, $sw_other other"
echo "# rows without an accepted message (tempfailed after the commit): $(wc -l <"$T/extra" | tr -d ' ')"
echo "# accepted without a row: $(wc -l <"$T/lost" | tr -d ' '); queue ids with more than one row: $(wc -l <"$T/dups" | tr -d ' ')"

tap_is "$kills" "$KILLS" "dmarcd was killed with SIGKILL $KILLS times"
tap_ok '[ "$accepted" -gt $((SRC_MSGS / 3 * 2)) ]' \
    "Postfix accepted messages before, between and after the kills ($accepted)"
tap_ok '[ "$tempfail" -gt 0 ] || [ "$sw_4xx" -gt 0 ]' \
    "some messages met the dead milter and were tempfailed"
tap_is "$(head -n 20 "$T/lost")" "" "every accepted message has a history row"
tap_is "$(head -n 20 "$T/dups")" "" "no queue id has two rows"
# A row whose message Postfix did not accept: dmarcd died between the
# commit and its reply, so Postfix tempfailed that message.
tap_is "$(while read -r _q; do
	grep -q " $_q: milter-reject: END-OF-MESSAGE .*: 4\.7\.1 " "$PF_MAILLOG" ||
	    echo "$_q"
    done <"$T/extra" | head -n 5)" "" \
    "each row without an accepted message is one Postfix tempfailed at end of data"
tap_is "$(grep -c '^$' "$T/rows")" 0 "every row has a queue id"
# The client's view agrees: each 250 it saw is an accepted queue id.
tap_is "$(awk '$2 == 250 { print $3 }' "$T/swaks" | sort | comm -23 - "$T/accepted" | head -n 5)" "" \
    "each queue id swaks saw accepted is in Postfix's accepted set"
tap_is "$sw_other" 0 "swaks saw only 250 or 4xx"
tap_is "$(grep -c ': 5[0-9][0-9] 5\.[0-9]*\.[0-9]* ' "$PF_MAILLOG")" 0 \
    "Postfix rejected nothing (5xx): what it did not accept it tempfailed"
# Each accepted swaks message: its row carries its Message-ID, once.
awk '$2 == 250 { print $1 }' "$T/swaks" | sort >"$T/swaks.mids"
hist_sql "SELECT substr(message_id, 2, length(message_id) - 2) FROM verdicts WHERE message_id LIKE '<k%.$$@e2e.test>';" |
    sort >"$T/rows.mids"
tap_is "$(comm -23 "$T/swaks.mids" "$T/rows.mids" | head -n 5)" "" \
    "each Message-ID swaks saw accepted has a row"
tap_is "$(uniq -d "$T/rows.mids" | head -n 5)" "" "no Message-ID has two rows"
tap_is "$(hist_sql "SELECT action, count(*) FROM verdicts WHERE message_id LIKE '<k%.$$@e2e.test>' AND helo LIKE 'loop%.held.test' GROUP BY 1;" | cut -d'|' -f1)" \
    quarantine "the held.test messages were quarantined"
tap_is "$(pf_sink_count)" "$((accepted - held))" "the sink got every accepted message that was not held"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no sanitizer report in dmarcd's log"
tap_done
