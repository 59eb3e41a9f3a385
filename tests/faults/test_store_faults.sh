#!/bin/sh
# test_store_faults.sh - the history store failing under dmarcd (issue 9),
# HistoryDurability full (but one case), FailMode tempfail, messages
# driven through the milter protocol by bench/milterload, one message per
# run with its own Message-ID, so that each reply is matched with its row:
#   sqlite-full   the SQLite file on a small tmpfs, filled up;
#   sqlite-lock   another process holds the write lock (sqlite3's BEGIN
#                 EXCLUSIVE) longer than the busy timeout (STORE_BUSY_MS);
#   sqlite-relaxed  the disk full with HistoryDurability relaxed: the
#                 rows wait in the queue, retried, until there is room;
#   pg-down       PostgreSQL stopped (HistorySpool takes the records);
#   pg-stopped    PostgreSQL frozen with SIGSTOP: it accepts connections
#                 but answers nothing, so only dmarcd's own bound helps;
#   spool-full    PostgreSQL down and the spool's tmpfs full.
# Each case asserts the documented outcome: messages are accepted (the
# row is committed or spooled) or tempfailed (451: the MTA retries);
# dmarcd logs the failure naming the file or database, and says when it
# writes again; and every accepted message has exactly one row once the
# fault is gone, every tempfailed one none.  dmarcd's counters at stop
# (committed, spooled, replayed...) are printed.  The test runs in its own
# mount namespace (unshare -m), so its tmpfs mounts are private and vanish
# with it.  Every run has a kill timeout; no timing is asserted.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
if [ -z "${FAULTS_MOUNT_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare -m --propagation private true 2>/dev/null; then
	FAULTS_MOUNT_NS=1
	export FAULTS_MOUNT_NS
	exec unshare -m --propagation private sh "$0" "$@"
fi
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"
. "$top_srcdir/tests/faults/faults-lib.sh"
. "$top_srcdir/tests/store/pgsql-fixture.sh"

LOAD=$top_builddir/bench/milterload
dm_fixture_require
[ -x "$LOAD" ] || faults_need "bench/milterload not built"
[ "${FAULTS_MOUNT_NS:-}" = 1 ] ||
    faults_need "a private mount namespace (unshare -m, as root) for the tmpfs file systems"
pg_fixture_require
FD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-storefaults.XXXXXX")
chmod 755 "$FD_DIR"
STOPPED=
cleanup() {
	_rc=$1
	[ -z "$STOPPED" ] || kill -CONT $STOPPED 2>/dev/null
	dm_cleanup "$_rc"
	faultdns_stop
	pg_fixture_stop
	for _m in "$FD_DIR"/fs.*; do
		mountpoint -q "$_m" 2>/dev/null && umount "$_m"
	done
	rm -rf "$FD_DIR"
}
trap '_rc=$?; cleanup $_rc; exit $_rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
export ASAN_OPTIONS
NOBODY=$(id -u nobody)

# tmpfs NAME KB: a tmpfs of KB kilobytes at $FD_DIR/fs.NAME, nobody's.
tmpfs() {
	mkdir "$FD_DIR/fs.$1"
	mount -t tmpfs -o "size=${2}k,mode=0755,uid=$NOBODY" tmpfs \
	    "$FD_DIR/fs.$1" || faults_need "cannot mount a tmpfs"
}
# fill DIR: write zeros until the file system is full.
fill() {
	dd if=/dev/zero of="$1/filler" bs=4k >/dev/null 2>&1
	echo "# $1 filled: $(df -k "$1" | awk 'NR == 2 { print $3 " kB used, " $4 " kB free" }')"
}
unfill() { rm -f "$1/filler"; }

faultdns_start 1000
M=$FD_DIR/msg
mkdir -p "$M"
chmod 755 "$M"
N=0
# send TAG COUNT: COUNT messages at once, each in its own milterload run
# (kill timeout 90 s) with the Message-ID <TAG-N@faults.test>; each
# outcome and milterload's latency ("TAG-N accept 12", "TAG-N tempfail
# 5004", "TAG-N error -"...) goes to $FD_DIR/out.
send() {
	_pids=
	_i=0
	while [ "$_i" -lt "$2" ]; do
		N=$((N + 1))
		_id=$1-$N
		printf 'From: Alice <alice@good.test>\nTo: b@receiver.test\nSubject: %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@faults.test>\n\nhello\n' \
		    "$_id" "$_id" >"$M/$_id"
		(
			_o=$(bounded 90 "$LOAD" -c 1 -n 1 -m "$M/$_id" \
			    --client-ip 192.0.2.10 --helo mail.good.test \
			    --mail-from alice@good.test --rcpt b@receiver.test \
			    -s "$DM_SOCKET" 2>/dev/null)
			_r=$(printf '%s\n' "$_o" | sed -n 's/^replies //p' |
			    awk '{ for (i = 1; i < NF; i += 2)
				if ($i != "modifications" && $(i + 1) > 0) print $i }')
			_ms=$(printf '%s\n' "$_o" |
			    sed -n 's/^latency_ms .* max \([0-9]*\).*/\1/p')
			echo "$_id ${_r:-error} ${_ms:--}" >>"$FD_DIR/out"
		) &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	wait $_pids
}
# outcomes TAG: "accept 5 tempfail 3" for the messages of TAG.
outcomes() {
	grep "^$1-" "$FD_DIR/out" | awk '{ n[$2]++ } END { for (o in n) printf "%s %d ", o, n[o] }' |
	    tr ' ' '\n' | paste -d' ' - - | sort | tr '\n' ' ' | sed 's/ $//'
}
count() { grep -c "^$1-[0-9]* $2 " "$FD_DIR/out"; }
# slowest TAG: the longest wait for an answer, in ms (a figure, printed).
slowest() { awk -v t="$1" 'index($1, t "-") == 1 && $3 != "-" && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$FD_DIR/out"; }
acked() { awk -v t="$1" 'index($1, t "-") == 1 && $2 == "accept" { print $1 }' "$FD_DIR/out" | sort; }
# rows TAG: the Message-IDs of TAG's rows, one line per row.
ROWS_SQL=hist_sql
rows() {
	$ROWS_SQL "SELECT message_id FROM verdicts WHERE message_id LIKE '<$1-%@faults.test>';" |
	    sed 's/^<\(.*\)@faults.test>$/\1/' | sort
}
# exactly_once TAG NAME: each accepted message of TAG has one row, and no
# other message of TAG has any.
exactly_once() {
	tap_is "$(rows "$1")" "$(acked "$1")" \
	    "$2: every accepted message has exactly one row, the others none ($(acked "$1" | wc -l | tr -d ' ') accepted)"
}
# wait_rows TAG: until TAG's rows are as many as its accepted messages
# (replays from the spool), at most 60 s.
wait_rows() {
	_w=0
	while [ "$(rows "$1" | wc -l)" -lt "$(acked "$1" | wc -l)" ] && [ $_w -lt 600 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
}
logged() { dm_log_since | grep -q -- "$1"; }
show_log() { dm_log_since | grep -- "$1" | head -n 1 | cut -c1-400 | sed 's/^/#   /'; }
# at_stop NAME: dmarcd's counters at each stop, as TAP comments.
at_stop() { grep "history: at stop" "$DM_LOG" | sed "s/.*history: at stop: /# $1 at stop: /"; }

# --- SQLite: disk full -------------------------------------------------
tmpfs sqlite 1024
dm_fixture_init "$FD_DIR/dmarcd"
DB=$FD_DIR/fs.sqlite/history.sqlite
DM_NAMESERVERS=$FD_SERVER
dm_start
send full-a 4
tap_is "$(outcomes full-a)" "accept 4" "sqlite-full: before the fault, 4 messages accepted"
fill "$FD_DIR/fs.sqlite"
dm_mark
send full-x 6
echo "# sqlite-full, disk full: $(outcomes full-x); the slowest answer took $(slowest full-x) ms"
tap_ok '[ "$(count full-x tempfail)" -gt 0 ]' \
    "sqlite-full: messages whose row cannot be written are tempfailed ($(count full-x tempfail) of 6)"
tap_is "$(count full-x error)" 0 "sqlite-full: every message got an answer"
show_log "history database not written"
tap_ok 'logged "history database not written .*$DB: cannot commit .*full"' \
    "sqlite-full: the log names the file and says it is full"
tap_ok 'logged "FailMode tempfail"' "sqlite-full: the log says FailMode tempfail"
tap_ok 'logged "history: cannot write: .*$DB"' "sqlite-full: the store's failure is logged (history: cannot write)"
unfill "$FD_DIR/fs.sqlite"
dm_mark
send full-y 4
tap_is "$(outcomes full-y)" "accept 4" "sqlite-full: space freed, messages accepted again"
show_log "history: writing again"
tap_ok 'logged "history: writing again"' "sqlite-full: the recovery is logged"
exactly_once full "sqlite-full"

# --- SQLite: locked past the busy timeout -------------------------------
rm -f "$DM_DIR/locked"
# sqlite3 holds the write lock 20 s, 4 times the busy timeout (5 s): the
# messages sent meanwhile wait for at most two commits each.
printf '.timeout 1000\nBEGIN EXCLUSIVE;\n.shell touch %s\n.shell sleep 20\nROLLBACK;\n' \
    "$DM_DIR/locked" |
    runuser -u nobody -- sqlite3 -batch "$DB" >"$FD_DIR/locker.out" 2>&1 &
LOCKER=$!
_w=0
while [ ! -e "$DM_DIR/locked" ] && [ $_w -lt 100 ]; do
	sleep 0.1
	_w=$((_w + 1))
done
tap_ok '[ -e "$DM_DIR/locked" ]' "sqlite-lock: another process holds the write lock"
dm_mark
send lock-x 4
echo "# sqlite-lock, locked: $(outcomes lock-x); the slowest answer took $(slowest lock-x) ms"
tap_ok 'kill -0 $LOCKER 2>/dev/null' "sqlite-lock: the lock was still held when every message had its answer"
tap_ok '[ "$(count lock-x tempfail)" -gt 0 ]' \
    "sqlite-lock: messages whose row cannot be written are tempfailed ($(count lock-x tempfail) of 4)"
tap_is "$(count lock-x error)" 0 "sqlite-lock: every message got an answer"
show_log "history database not written"
tap_ok 'logged "history database not written .*$DB: cannot commit .*locked"' \
    "sqlite-lock: the log names the file and says it is locked"
wait $LOCKER
dm_mark
send lock-y 4
tap_is "$(outcomes lock-y)" "accept 4" "sqlite-lock: lock released, messages accepted again"
tap_ok 'logged "history: writing again"' "sqlite-lock: the recovery is logged"
exactly_once lock "sqlite-lock"

# --- SQLite: disk full, HistoryDurability relaxed -----------------------
# The reply does not wait for the commit: the rows of accepted messages
# stay queued while the disk is full, retried, and land once it is not.
DM_DURABILITY=relaxed
dm_restart
fill "$FD_DIR/fs.sqlite"
dm_mark
send relax-x 6
tap_is "$(outcomes relax-x)" "accept 6" "sqlite-relaxed: disk full, messages accepted (rows queued)"
# The failure shows in the log with the next message after a failed
# commit: one message at a time until it does (at most 20).
_w=0
while ! logged "history: cannot write: .*$DB" && [ $_w -lt 20 ]; do
	sleep 0.5
	send relax-w 1
	_w=$((_w + 1))
done
show_log "history: cannot write"
tap_ok 'logged "history: cannot write: .*$DB.*full"' \
    "sqlite-relaxed: the failure is logged, naming the file"
tap_is "$(rows relax)" "" "sqlite-relaxed: no row while the disk is full"
unfill "$FD_DIR/fs.sqlite"
wait_rows relax-x
wait_rows relax-w
dm_mark
send relax-y 2
tap_is "$(outcomes relax-y)" "accept 2" "sqlite-relaxed: space freed, messages accepted"
wait_rows relax-y
tap_ok 'logged "history: writing again"' "sqlite-relaxed: the recovery is logged"
exactly_once relax "sqlite-relaxed"
dm_stop
tap_is "$DM_STOP" 0 "sqlite: SIGTERM, dmarcd exits 0"
at_stop sqlite
tap_is "$(hist_sql "SELECT count(*) FROM verdicts;")" "$(awk '$2 == "accept"' "$FD_DIR/out" | wc -l | tr -d ' ')" \
    "sqlite: the history holds one row per accepted message, nothing else"

# --- PostgreSQL ----------------------------------------------------------
pg_fixture_start || { echo "Bail out! cannot start the private PostgreSQL"; exit 1; }
trap '_rc=$?; cleanup $_rc; exit $_rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmpfs spool 512
SPOOL=$FD_DIR/fs.spool/spool
dm_fixture_init "$FD_DIR/dmarcd-pg"
# A password in the URI (trust authentication: never asked for) must
# never reach the log.
DB=$(printf '%s\n' "$PG_URI" | sed 's|://dmarcd@|://dmarcd:s3cretpw@|')
DM_EXTRA="HistorySpool $SPOOL"
DM_DURABILITY=full
ROWS_SQL=pg_sql
dm_start
send pg-a 4
tap_is "$(outcomes pg-a)" "accept 4" "pg-down: before the fault, 4 messages accepted"
pg_fixture_stop_server
dm_mark
send pg-x 6
tap_is "$(outcomes pg-x)" "accept 6" "pg-down: PostgreSQL stopped, messages still accepted (spooled)"
echo "# pg-down: the slowest answer took $(slowest pg-x) ms"
show_log "history: cannot write"
tap_ok 'logged "history: cannot write: .*127.0.0.1:$PG_PORT.*(spooled)"' \
    "pg-down: the outage is logged, naming the database, records spooled"
tap_ok '[ "$(stat -c %s "$SPOOL")" -gt 16 ]' "pg-down: the spool holds records ($(stat -c %s "$SPOOL") bytes)"
pg_fixture_start_server || { echo "Bail out! PostgreSQL did not start again"; exit 1; }
wait_rows pg-x
dm_mark
send pg-y 3
tap_is "$(outcomes pg-y)" "accept 3" "pg-down: PostgreSQL back, messages accepted"
tap_ok 'logged "history: writing again"' "pg-down: the recovery is logged"
exactly_once pg "pg-down"
tap_is "$(stat -c %s "$SPOOL")" 16 "pg-down: the spool is empty again (its header only)"

# Frozen: the postmaster and its backends stopped, sockets open.
PM=$(head -n 1 "$PG_DIR/data/postmaster.pid")
STOPPED=$PM
for _d in /proc/[0-9]*; do
	[ "$(sed -n 's/^PPid:[[:space:]]*//p' "$_d/status" 2>/dev/null)" = "$PM" ] &&
	    STOPPED="$STOPPED ${_d#/proc/}"
done
echo "# pg-stopped: SIGSTOP to the postmaster and its $(($(echo $STOPPED | wc -w) - 1)) children"
kill -STOP $STOPPED
dm_mark
send pgstop-x 6
echo "# pg-stopped: $(outcomes pgstop-x); the slowest answer took $(slowest pgstop-x) ms"
tap_ok '[ "$(sed -n "s/^State:[[:space:]]*\([A-Z]\).*/\1/p" "/proc/$PM/status")" = T ]' \
    "pg-stopped: PostgreSQL was still frozen when every message had its answer"
tap_is "$(outcomes pgstop-x)" "accept 6" "pg-stopped: messages accepted (spooled)"
show_log "history: cannot write"
tap_ok 'logged "history: cannot write: .*no answer within"' \
    "pg-stopped: the log says the database did not answer"
kill -CONT $STOPPED
STOPPED=
wait_rows pgstop-x
dm_mark
send pgstop-y 3
tap_is "$(outcomes pgstop-y)" "accept 3" "pg-stopped: PostgreSQL thawed, messages accepted"
tap_ok 'logged "history: writing again"' "pg-stopped: the recovery is logged"
exactly_once pgstop "pg-stopped"

# Spool full while PostgreSQL is down.
pg_fixture_stop_server
fill "$FD_DIR/fs.spool"
dm_mark
# A spooled record takes about 800 bytes: the spool file's last page of
# memory still takes a few; 16 messages do not fit.
send spool-x 16
echo "# spool-full: $(outcomes spool-x); the slowest answer took $(slowest spool-x) ms"
tap_ok '[ "$(count spool-x tempfail)" -gt 0 ]' \
    "spool-full: messages whose row cannot be spooled are tempfailed ($(count spool-x tempfail) of 16)"
tap_is "$(count spool-x error)" 0 "spool-full: every message got an answer"
show_log "history database not written"
tap_ok 'logged "history database not written .*$SPOOL: cannot append .*No space left"' \
    "spool-full: the log names the spool file and says the disk is full"
unfill "$FD_DIR/fs.spool"
send spool-m 4
tap_is "$(outcomes spool-m)" "accept 4" "spool-full: space freed, messages accepted (spooled)"
pg_fixture_start_server || { echo "Bail out! PostgreSQL did not start again"; exit 1; }
wait_rows spool-m
dm_mark
send spool-y 3
tap_is "$(outcomes spool-y)" "accept 3" "spool-full: PostgreSQL back, messages accepted"
tap_ok 'logged "history: writing again"' "spool-full: the recovery is logged"
exactly_once spool "spool-full"
tap_is "$(stat -c %s "$SPOOL")" 16 "spool-full: the spool is empty again"

dm_stop
tap_is "$DM_STOP" 0 "pgsql: SIGTERM, dmarcd exits 0"
at_stop pgsql
tap_is "$(pg_sql "SELECT count(*) - count(DISTINCT (node, message_key, author_index)) FROM verdicts;")" 0 \
    "pgsql: no key stored twice"
tap_is "$(pg_sql "SELECT count(*) FROM verdicts;")" \
    "$(awk '$2 == "accept" && $1 !~ /^(full|lock|relax)/' "$FD_DIR/out" | wc -l | tr -d ' ')" \
    "pgsql: the database holds one row per accepted message, nothing else"
echo "# messages: $(wc -l <"$FD_DIR/out" | tr -d ' '), accepted $(awk '$2 == "accept"' "$FD_DIR/out" | wc -l | tr -d ' '), tempfailed $(awk '$2 == "tempfail"' "$FD_DIR/out" | wc -l | tr -d ' ')"
tap_ok '! grep -q s3cretpw "$DM_LOG"' "pgsql: the URI's password is never logged"
tap_ok 'grep -q "history postgresql://dmarcd:\*\*\*\*\*@" "$DM_LOG"' \
    "pgsql: the start line shows the URI with its password hidden"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$FD_DIR"/dmarcd*/dmarcd.log' \
    "no sanitizer report in dmarcd's logs"
tap_done
