# dmarcd-fixture.sh - start, reload, restart and stop the dmarcd under test,
# and read its history.  Source it after tests/e2e/postfix-fixture.sh (for
# pf_free_port) in a TAP test script:
#
#   dm_fixture_require                  # skip "dmarcd not built" (CI: fail)
#   dm_need "openssl not installed" openssl   # the same for other needs
#   dm_fixture_init "$PF_DIR/dmarcd" [PORT]  # its directory (owned by
#                                       # nobody); sets DM_PORT, DM_CONF,
#                                       # DM_LOG, DB
#   DM_NAMESERVERS=$NSD_SERVER
#   dm_start                            # waits for "listening on"
#   DM_MULTIFROM=none; dm_reload        # SIGUSR1; DM_RELOAD ok|failed|died|timeout
#   dm_restart                          # for keys that need one (Nameservers)
#   hist_sql 'SELECT count(*) FROM verdicts;'
#   dm_stop                             # SIGTERM; DM_STOP = exit status
#
# dm_write_conf writes every key from the DM_* variables below, so a test
# changes one and reloads; DM_EXTRA adds raw lines.  dmarcd runs as
# nobody (UserID) with TrustedNetworks 203.0.113.0/24: loopback and every
# XCLIENT address the tests use are judged.  The log (Syslog no: one line
# per message on stderr) is DM_LOG; dm_mark, dm_log_since and dm_wait_log
# look at what came after a point.  The test's EXIT trap should call
# dm_cleanup (PF_CLEANUP_HOOK=dm_cleanup with the Postfix fixture).

DMARCD=${DMARCD:-${top_builddir:-.}/dmarcd}
DM_PID=
DM_MARK=0
DM_NAMESERVERS=
DM_DURABILITY=full
DM_TEMPFAIL_DNS=yes
DM_MULTIFROM=reject
DM_QACTION=hold
DM_IGNORE_AUTH=yes
DM_MODE=enforce
DM_EXTRA=
DM_REJECT_TEXT='DMARC policy of %d (p=%p) rejects this message'

# dm_need WHAT [PACKAGE]: skip the whole test for want of something, or
# fail under CI=true, like the NSD and Postfix fixtures.
dm_need() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - $1${2:+ (apt-get install $2)}: required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1${2:+ (apt-get install $2)}"
	exit 0
}

# dmarcd built, sqlite3 to read its history, root to run it as nobody.
dm_fixture_require() {
	[ -x "$DMARCD" ] || dm_need "dmarcd not built"
	command -v sqlite3 >/dev/null 2>&1 ||
	    dm_need "sqlite3 not installed" sqlite3
	[ "$(id -u)" = 0 ] || dm_need "dmarcd's tests run it as nobody: they need root"
}

# dm_fixture_init DIR [PORT]: dmarcd's files go in DIR (created, owned by
# nobody); it listens on 127.0.0.1:PORT (default: a free port).
dm_fixture_init() {
	DM_DIR=$1
	mkdir -p "$DM_DIR"
	chown nobody "$DM_DIR"
	chmod 755 "$DM_DIR"
	DM_CONF=$DM_DIR/dmarcd.conf
	DM_LOG=$DM_DIR/dmarcd.log
	DB=$DM_DIR/history.sqlite
	DM_PORT=${2:-$(pf_free_port)}
	DM_SOCKET=inet:$DM_PORT@127.0.0.1
	: >"$DM_LOG"
}

dm_write_conf() {
	{
		echo "# Written by tests/e2e/dmarcd-fixture.sh"
		echo "Socket $DM_SOCKET"
		echo "PidFile $DM_DIR/dmarcd.pid"
		echo "UserID nobody"
		echo "Syslog no"
		echo "LogLevel info"
		echo "AuthservID mx.receiver.test"
		echo "Nameservers $DM_NAMESERVERS"
		echo "DNSTimeout 1s"
		echo "DNSRetries 0"
		# Not loopback, and of the XCLIENT addresses only 203.0.113.5.
		echo "TrustedNetworks 203.0.113.0/24"
		echo "IgnoreAuthenticatedClients $DM_IGNORE_AUTH"
		echo "HistoryDatabase $DB"
		echo "HistoryDurability $DM_DURABILITY"
		echo "EnforcementMode $DM_MODE"
		echo "QuarantineAction $DM_QACTION"
		echo "TempfailOnDNSError $DM_TEMPFAIL_DNS"
		echo "MultipleFromPolicy $DM_MULTIFROM"
		echo "AllowForwarders 192.0.2.50/32"
		echo "AllowListDomains list.test"
		echo "RejectText $DM_REJECT_TEXT"
		if [ -n "$DM_EXTRA" ]; then
			printf '%s\n' "$DM_EXTRA"
		fi
	} >"$DM_CONF.new"
	chmod 644 "$DM_CONF.new"
	mv "$DM_CONF.new" "$DM_CONF"
}

dm_mark() { DM_MARK=$(wc -l <"$DM_LOG"); }
dm_log_since() { tail -n +"$((DM_MARK + 1))" "$DM_LOG"; }

# dm_wait_log PATTERN [SECONDS]: until the log since the mark matches.
dm_wait_log() {
	_dw=0
	while [ $_dw -lt $((${2:-10} * 10)) ]; do
		dm_log_since | grep -q "$1" && return 0
		sleep 0.1
		_dw=$((_dw + 1))
	done
	return 1
}

dm_start() {
	dm_write_conf
	dm_mark
	"$DMARCD" -f -c "$DM_CONF" >>"$DM_LOG" 2>&1 &
	DM_PID=$!
	_dw=0
	while [ $_dw -lt 100 ]; do
		if ! kill -0 "$DM_PID" 2>/dev/null; then
			wait "$DM_PID"
			echo "Bail out! dmarcd exited with status $? at start; its log:"
			dm_log_since | sed 's/^/# /'
			DM_PID=
			exit 1
		fi
		dm_log_since | grep -q "listening on" && return 0
		sleep 0.1
		_dw=$((_dw + 1))
	done
	echo "Bail out! dmarcd did not say it was listening within 10 s; its log:"
	dm_log_since | sed 's/^/# /'
	exit 1
}

# dm_stop: SIGTERM; DM_STOP is its exit status, or "killed" when it did
# not stop within 20 seconds.
dm_stop() {
	DM_STOP=
	[ -n "$DM_PID" ] || return 0
	kill -TERM "$DM_PID" 2>/dev/null
	_dw=0
	while kill -0 "$DM_PID" 2>/dev/null && [ $_dw -lt 200 ]; do
		sleep 0.1
		_dw=$((_dw + 1))
	done
	if kill -0 "$DM_PID" 2>/dev/null; then
		kill -KILL "$DM_PID" 2>/dev/null
		wait "$DM_PID" 2>/dev/null
		DM_STOP=killed
	else
		wait "$DM_PID"
		DM_STOP=$?
	fi
	DM_PID=
}

dm_restart() {
	dm_stop
	dm_start
}

# dm_reload: rewrite the configuration and send SIGUSR1.  DM_RELOAD is
# "ok", "failed" (dmarcd logged why and kept the old one), "died" or
# "timeout".
dm_reload() {
	dm_write_conf
	dm_mark
	DM_RELOAD=timeout
	kill -USR1 "$DM_PID" 2>/dev/null || return 0
	_dw=0
	while [ $_dw -lt 100 ]; do
		if dm_log_since | grep -q "reload of .* failed"; then
			DM_RELOAD=failed
			return 0
		fi
		if dm_log_since | grep -q "reloaded "; then
			DM_RELOAD=ok
			return 0
		fi
		if ! kill -0 "$DM_PID" 2>/dev/null; then
			DM_RELOAD=died
			return 0
		fi
		sleep 0.1
		_dw=$((_dw + 1))
	done
}

# For the EXIT trap: stop dmarcd, and show its log if the test failed
# ($1: the exit status, default $?).
dm_cleanup() {
	_dc=${1:-$?}
	dm_stop
	if [ "$_dc" != 0 ] && [ -s "${DM_LOG:-}" ]; then
		if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$DM_LOG"; then
			echo "# dmarcd: the first sanitizer report:"
			sed -n '/ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:/,$p' \
			    "$DM_LOG" | head -n 40 | sed 's/^/#   /'
		fi
		echo "# dmarcd log (last 40 lines):"
		tail -n 40 "$DM_LOG" | sed 's/^/#   /'
	fi
}

# dm_running NAME: a TAP check that dmarcd has not died (after a
# scenario).  If it has, say how, and start a new one, so that the later
# scenarios still tell something.
dm_running() {
	if kill -0 "$DM_PID" 2>/dev/null; then
		tap_ok true "$1: dmarcd still running"
		return 0
	fi
	wait "$DM_PID" 2>/dev/null
	_dw=$?
	tap_ok false "$1: dmarcd still running"
	echo "# dmarcd died (exit status $_dw); the end of its log:"
	tail -n 5 "$DM_LOG" | cut -c1-200 | sed 's/^/#   /'
	DM_PID=
	dm_start
}

# The history.  Every query goes through hist_sql, as the user dmarcd
# runs as: a -wal or -shm file left owned by root would lock it out.
# The schema is store/schema.c's; keep SQL in this function's callers few.
hist_sql() {
	if command -v runuser >/dev/null 2>&1; then
		runuser -u nobody -- sqlite3 -batch -noheader -separator '|' \
		    -cmd '.timeout 5000' "$DB" "$1"
	else
		sqlite3 -batch -noheader -separator '|' -cmd '.timeout 5000' \
		    "$DB" "$1"
	fi
}

# hist_wait SQL: hist_sql, polled until it prints something (up to 5
# seconds).  Only accepted and quarantined messages are committed before
# the MTA gets its reply (HistoryDurability full); the row of a rejected
# or skipped message may come a moment later.
hist_wait() {
	_hw=0
	while :; do
		_hr=$(hist_sql "$1")
		if [ -n "$_hr" ] || [ $_hw -ge 50 ]; then
			[ -n "$_hr" ] && printf '%s\n' "$_hr"
			return 0
		fi
		sleep 0.1
		_hw=$((_hw + 1))
	done
}

# hist MSGID COLUMNS: one message's rows (one per author domain), found
# by a unique part of its Message-ID, waiting for them as hist_wait does.
hist() {
	hist_wait "SELECT $2 FROM verdicts WHERE message_id LIKE '%$1%' ORDER BY author_index;"
}
