# postfix-fixture.sh - a private Postfix on loopback for end-to-end tests.
#
# Source it from a TAP test script (after tests/dns/tap.sh, and after the
# NSD fixture if the test uses one), start it with the milter to test,
# send mail with swaks, and look at what happened:
#
#   . "$top_srcdir/tests/dns/tap.sh"
#   . "$top_srcdir/tests/e2e/postfix-fixture.sh"
#   postfix_fixture_require             # skip (or fail under CI=true)
#   postfix_fixture_start inet:127.0.0.1:8893   # or unix:/path, or ""
#   pf_send pass --xclient-addr 192.0.2.10 --helo mail.example.test \
#       --from a@example.test --to rcpt@receiver.test --data msg.eml
#   echo "$PF_STATUS $PF_REPLY $PF_QUEUEID"     # 0 "250 2.0.0 Ok: ..." ID
#   pf_wait_delivered "$PF_QUEUEID" && pf_headers "$PF_MSG"
#   pf_hold_ids                         # queue ids on hold (quarantine)
#
# The instance lives in one temporary directory: its own config_directory
# ($PF_ETC: main.cf, master.cf, and a copy of the package's meta files),
# queue_directory, data_directory, and maillog file ($PF_MAILLOG).  smtpd
# listens on 127.0.0.1:$PF_PORT (and [::1]:$PF_PORT6 when the machine has
# IPv6 loopback: PF_HAVE_IPV6=yes) and relays every recipient to Postfix's
# smtp-sink on 127.0.0.1:$PF_SINK_PORT, which writes each message, with
# its header, to one file in $PF_SINK_DIR.  XCLIENT is allowed from
# loopback, so a test presents any client address (ADDR=192.0.2.10,
# ADDR=IPV6:2001:db8::10) and even a SASL login (LOGIN=user, which Postfix
# hands to milters as {auth_authen} with {auth_type}=XCLIENT).
# The system Postfix (/etc/postfix, /var/spool/postfix) is never touched
# and need not be running or configured.
#
# Functions:
#   postfix_fixture_require       postfix, smtp-sink, swaks present, root
#   postfix_fixture_start [MILTER] start; sets PF_PORT, PF_SERVER, ...
#   pf_set KEY=VALUE...           change main.cf and reload Postfix
#   pf_send NAME [swaks options]  one SMTP session to 127.0.0.1:$PF_PORT;
#   pf_send6 NAME [options]       ... or to [::1]:$PF_PORT6.  Sets PF_STATUS
#                                 (swaks exit), PF_REPLY (the first 4xx/5xx
#                                 reply, else the final reply to DATA),
#                                 PF_QUEUEID, PF_LOG (the SMTP dialogue).
#   pf_wait_delivered QUEUEID [SECONDS]  until the sink has it: PF_MSG
#   pf_sink_file QUEUEID          the sink file holding that message
#   pf_sink_count                 messages the sink has received
#   pf_headers FILE               a sink file's header as Postfix sent it
#                                 (smtp-sink's own lines removed), unfolded
#   pf_hold_ids                   queue ids in the hold queue
#   pf_queue_ids [QUEUE]          queue ids (all queues, or one by name)
#   pf_wait_queue_empty [SECONDS] until nothing is in incoming/active/deferred
#   pf_maillog                    the Postfix log so far
#   pf_wait_log PATTERN [SECONDS]  wait for a line of Postfix's log
#   pf_free_port                  a TCP port nothing listens on (for milters)
#   postfix_fixture_stop          the EXIT trap (also stops NSD if present)
#
# Before postfix_fixture_start a test may set PF_MAIN_EXTRA (more main.cf
# lines) and PF_CLEANUP_HOOK (a command the EXIT trap runs first, e.g.
# to stop the milter).  Declare NSD zones before postfix_fixture_start:
# the NSD fixture installs its own EXIT trap on its first zone, and this
# fixture's trap, installed last, stops both.
# Uses only POSIX sh, Debian's postfix and swaks.

PF_DIR=
PF_ETC=
PF_PORT=
PF_PORT6=
PF_SERVER=
PF_SERVER6=
PF_SINK_PORT=
PF_SINK_PID=
PF_SINK_DIR=
PF_MAILLOG=
PF_HAVE_IPV6=no
PF_MAIN_EXTRA=${PF_MAIN_EXTRA-}
PF_CLEANUP_HOOK=${PF_CLEANUP_HOOK-}
PF_SINK_USER=${PF_SINK_USER:-nobody}
_pf_started=

_pf_find() {
	for _d in $(echo "$PATH" | tr ':' ' ') /usr/sbin /usr/local/sbin /sbin; do
		if [ -x "$_d/$1" ]; then
			echo "$_d/$1"
			return 0
		fi
	done
	return 1
}

# Skip when something is missing; under CI=true the same is a failure.
postfix_fixture_missing() {
	if [ "${CI:-}" = "true" ]; then
		echo "1..1"
		echo "not ok 1 - $1 (apt-get install $2): required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1 (apt-get install $2)"
	exit 0
}

postfix_fixture_require() {
	PF_POSTFIX=$(_pf_find postfix) ||
	    postfix_fixture_missing "postfix not installed" postfix
	PF_POSTCONF=$(_pf_find postconf) ||
	    postfix_fixture_missing "postconf not installed" postfix
	PF_POSTQUEUE=$(_pf_find postqueue) ||
	    postfix_fixture_missing "postqueue not installed" postfix
	PF_SMTP_SINK=$(_pf_find smtp-sink) ||
	    postfix_fixture_missing "smtp-sink not installed" postfix
	PF_SWAKS=$(_pf_find swaks) ||
	    postfix_fixture_missing "swaks not installed" swaks
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = "true" ]; then
			echo "1..1"
			echo "not ok 1 - a private Postfix needs root: required when CI=true"
			exit 1
		fi
		echo "1..0 # SKIP a private Postfix needs root"
		exit 0
	fi
	getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
	    postfix_fixture_missing "the postfix user or postdrop group is missing" postfix
	_pf_ddir=$("$PF_POSTCONF" -d -h daemon_directory)
	_pf_meta=$("$PF_POSTCONF" -d -h meta_directory)
	[ -f "$_pf_meta/postfix-files" ] ||
	    postfix_fixture_missing "$_pf_meta/postfix-files is missing" postfix
}

_pf_mkdir() {
	[ -n "$PF_DIR" ] && return 0
	# Under /tmp, readable by the postfix and nobody users: the
	# build tree's parents may be closed to them.
	PF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-postfix.XXXXXX") || {
		echo "Bail out! mktemp failed"
		exit 1
	}
	chmod 755 "$PF_DIR"
	PF_ETC=$PF_DIR/etc
	PF_SINK_DIR=$PF_DIR/sink
	PF_MAILLOG=$PF_DIR/maillog
	mkdir "$PF_ETC" "$PF_DIR/spool" "$PF_DIR/data" "$PF_SINK_DIR" \
	    "$PF_DIR/swaks"
	chown "$PF_SINK_USER" "$PF_SINK_DIR"
	chown postfix "$PF_DIR/data"
	# The package's meta files, so that nothing under /etc/postfix is
	# ever read for writing: post-install works on this copy.
	for _f in postfix-files dynamicmaps.cf main.cf.proto master.cf.proto \
	    makedefs.out; do
		[ -f "$_pf_meta/$_f" ] && cp "$_pf_meta/$_f" "$PF_ETC/"
	done
	for _f in postfix-files.d dynamicmaps.cf.d; do
		mkdir "$PF_ETC/$_f"
		[ -d "$_pf_meta/$_f" ] && cp -R "$_pf_meta/$_f/." "$PF_ETC/$_f/"
	done
	: >"$PF_MAILLOG"
	trap postfix_fixture_stop EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

_pf_ipv6_loopback() {
	[ -r /proc/net/if_inet6 ] &&
	    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

_pf_random_port() {
	_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	# Below Linux's ephemeral range (32768-60999): outgoing connections
	# never hold these, so a port free now stays free for the test.
	echo $(( 10000 + _r % 22000 ))
}

# pf_free_port: a random high port that nothing listens on now (TCP, v4
# and v6), for the milter under test.  Another process may still take it
# before the milter binds: callers retry.
pf_free_port() {
	while :; do
		_fp=$(_pf_random_port)
		_hex=$(printf '%04X' "$_fp")
		if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		    awk '{ print $2 }' | grep -q ":$_hex\$"; then
			echo "$_fp"
			return 0
		fi
	done
}

# Is anything answering SMTP at HOST PORT?  (a banner within a second)
_pf_smtp_answers() {
	"$PF_SWAKS" --server "$1" --port "$2" --quit-after CONNECT \
	    --timeout 1 >/dev/null 2>&1
}

_pf_write_main_cf() {
	_milter=$1
	if [ "$PF_HAVE_IPV6" = yes ]; then
		_protos="ipv4, ipv6"
		_xnets="127.0.0.0/8, [::1]/128"
	else
		_protos=ipv4
		_xnets=127.0.0.0/8
	fi
	cat >"$PF_ETC/main.cf" <<EOF
# Written by tests/e2e/postfix-fixture.sh: a private test instance.
compatibility_level = 3.6
# Long queue ids are never reused, so tests can match them across logs
# and history rows even when hundreds of messages pass in a second.
enable_long_queue_ids = yes
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
meta_directory = $PF_ETC
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.receiver.test
mydomain = receiver.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = $_protos
mynetworks = $_xnets
smtpd_authorized_xclient_hosts = $_xnets
# XCLIENT gives a client address from outside mynetworks: let it relay
# to the sink anyway (every recipient goes to relayhost).  Postfix wants
# a "reject" in the list, so static:OK permits every client before it.
smtpd_relay_restrictions = check_client_access static:OK, reject
smtpd_recipient_restrictions =
relay_domains =
relayhost = [127.0.0.1]:$PF_SINK_PORT
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP
# Load tests send many rejected messages per session: no 421 "too many
# errors", no slowing down.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
# An inbound MX: never complete a header (Postfix adds From: from the
# envelope, Date:, Message-ID: for "local" clients, judged on the real
# loopback connection, not the XCLIENT address, and milters then see
# them).  The no-From scenarios need the header as sent.
local_header_rewrite_clients =
smtpd_client_connection_count_limit = 0
in_flow_delay = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
default_destination_concurrency_limit = 20
maillog_file = $PF_MAILLOG
maillog_file_prefixes = $PF_DIR
biff = no
append_dot_mydomain = no
smtputf8_enable = no
# The milter under test.  {client_addr}, {auth_authen}, i and j must
# reach it; libmilter's smfi_setsymlist may ask for others.
smtpd_milters = $_milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 20s
milter_content_timeout = 60s
milter_connect_macros = j {daemon_name} {daemon_addr} v _ {client_addr} {client_name} {client_port}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer} {client_addr}
milter_end_of_header_macros = i j {client_addr} {auth_authen}
milter_end_of_data_macros = i j {client_addr} {auth_authen}
$PF_MAIN_EXTRA
EOF
}

_pf_write_master_cf() {
	{
		echo "# Written by tests/e2e/postfix-fixture.sh; nothing chrooted."
		echo "127.0.0.1:$PF_PORT inet n - n - - smtpd"
		[ "$PF_HAVE_IPV6" = yes ] &&
		    echo "[::1]:$PF_PORT6 inet n - n - - smtpd"
		cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} >"$PF_ETC/master.cf"
}

_pf_start_sink() {
	for _try in 1 2 3 4 5 6 7 8; do
		PF_SINK_PORT=$(_pf_random_port)
		"$PF_SMTP_SINK" -u "$PF_SINK_USER" -4 -h sink.receiver.test \
		    -d "$PF_SINK_DIR/msg." -m 100 "127.0.0.1:$PF_SINK_PORT" 128 \
		    >>"$PF_DIR/sink.log" 2>&1 &
		PF_SINK_PID=$!
		_i=0
		while [ $_i -lt 50 ] && kill -0 "$PF_SINK_PID" 2>/dev/null; do
			if _pf_smtp_answers 127.0.0.1 "$PF_SINK_PORT"; then
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		_pf_stop_sink
	done
	echo "Bail out! smtp-sink did not start; its log:"
	sed 's/^/# /' "$PF_DIR/sink.log"
	exit 1
}

_pf_stop_sink() {
	[ -n "$PF_SINK_PID" ] || return 0
	kill -TERM "$PF_SINK_PID" 2>/dev/null
	wait "$PF_SINK_PID" 2>/dev/null
	PF_SINK_PID=
}

# postfix_fixture_start [MILTER]: MILTER is the smtpd_milters value
# (inet:127.0.0.1:PORT, unix:/path, or empty for none).
postfix_fixture_start() {
	_pf_mkdir
	_pf_ipv6_loopback && PF_HAVE_IPV6=yes
	_pf_start_sink
	for _try in 1 2 3 4 5 6 7 8; do
		PF_PORT=$(_pf_random_port)
		PF_SERVER=127.0.0.1:$PF_PORT
		if [ "$PF_HAVE_IPV6" = yes ]; then
			PF_PORT6=$(_pf_random_port)
			PF_SERVER6="[::1]:$PF_PORT6"
		fi
		[ "$PF_PORT" = "$PF_SINK_PORT" ] && continue
		_pf_write_main_cf "${1-}"
		_pf_write_master_cf
		if "$PF_POSTFIX" -c "$PF_ETC" start >"$PF_DIR/start.log" 2>&1; then
			_pf_started=1
			# master has bound the port; smtpd answers once it
			# runs, unless it dies on its configuration.
			_i=0
			while [ $_i -lt 10 ]; do
				if _pf_smtp_answers 127.0.0.1 "$PF_PORT"; then
					echo "# postfix answering on $PF_SERVER${PF_SERVER6:+ and $PF_SERVER6}, sink on 127.0.0.1:$PF_SINK_PORT, in $PF_DIR"
					return 0
				fi
				grep -q 'fatal:' "$PF_MAILLOG" && break
				sleep 0.2
				_i=$((_i + 1))
			done
			_pf_stop_postfix
		fi
		grep -qi "address already in use" "$PF_DIR/start.log" \
		    "$PF_MAILLOG" 2>/dev/null || break
		: >"$PF_MAILLOG"
	done
	echo "Bail out! postfix did not start:"
	sed 's/^/# /' "$PF_DIR/start.log"
	tail -n 30 "$PF_MAILLOG" | sed 's/^/# maillog: /'
	exit 1
}

_pf_stop_postfix() {
	[ -n "$_pf_started" ] || return 0
	"$PF_POSTFIX" -c "$PF_ETC" stop >>"$PF_DIR/start.log" 2>&1
	_pf_started=
}

# pf_set KEY=VALUE...: change the running instance's main.cf, and reload.
# Idle smtpd processes exit on reload; give them a moment to go.
pf_set() {
	"$PF_POSTCONF" -c "$PF_ETC" -e "$@" || return 1
	"$PF_POSTFIX" -c "$PF_ETC" reload >>"$PF_DIR/start.log" 2>&1 || return 1
	sleep 1
}

# _pf_swaks HOST PORT NAME [options]: one session, the dialogue in PF_LOG.
_pf_swaks() {
	_h=$1 _p=$2 _n=$3
	shift 3
	PF_LOG=$PF_DIR/swaks/$_n.log
	"$PF_SWAKS" --server "$_h" --port "$_p" --timeout 60 --suppress-data \
	    "$@" >"$PF_LOG" 2>&1 </dev/null
	PF_STATUS=$?
	PF_REPLY=$(sed -n 's/^<\*\* *//p' "$PF_LOG" | head -n 1)
	if [ -z "$PF_REPLY" ]; then
		PF_REPLY=$(grep '^<- *250 .*queued as' "$PF_LOG" | tail -n 1 |
		    sed 's/^<- *//')
	fi
	PF_QUEUEID=$(printf '%s\n' "$PF_REPLY" |
	    sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p')
	return 0
}

pf_send() {
	_pf_swaks 127.0.0.1 "$PF_PORT" "$@"
}

pf_send6() {
	_pf_swaks ::1 "$PF_PORT6" "$@"
}

# The sink file that holds queue id $1 (Postfix's Received: "id QUEUEID").
pf_sink_file() {
	grep -l -w "id $1" "$PF_SINK_DIR"/msg.* 2>/dev/null | head -n 1
}

pf_sink_count() {
	find "$PF_SINK_DIR" -type f -name 'msg.*' | wc -l | tr -d ' '
}

# pf_wait_delivered QUEUEID [SECONDS]: wait until Postfix has delivered it
# to the sink; PF_MSG is then the sink's file.  Fails on timeout, or at
# once when Postfix logged a bounce or hold for it.
pf_wait_delivered() {
	_q=$1 _t=${2:-20}
	PF_MSG=
	[ -n "$_q" ] || return 1
	_i=0
	while [ $_i -lt $((_t * 10)) ]; do
		if grep -q " $_q: .*relay=127.0.0.1\[127.0.0.1\]:$PF_SINK_PORT.*status=sent" \
		    "$PF_MAILLOG" 2>/dev/null; then
			PF_MSG=$(pf_sink_file "$_q")
			[ -n "$PF_MSG" ] && return 0
		fi
		grep -q " $_q: \(milter-hold: \|hold: \|.*status=bounced\)" "$PF_MAILLOG" \
		    2>/dev/null && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# pf_headers FILE: the header Postfix sent, without smtp-sink's X-* lines
# and Received field, one field per line (folded lines joined with a
# space), in order, up to the empty line.
pf_headers() {
	awk '
	BEGIN { skip = 1 }
	skip && /\(smtp-sink\)/ { insink = 1; next }
	skip && insink && /^[ \t]/ { next }
	skip && insink { skip = 0 }
	skip { next }
	/^\r?$/ { if (cur != "") print cur; exit }
	/^[ \t]/ { sub(/^[ \t]+/, " "); cur = cur $0; next }
	{ if (cur != "") print cur; cur = $0 }
	END { }
	' "$1" | tr -d '\r'
}

# pf_queue_ids [QUEUE]: the ids in one queue (hold, incoming, active,
# deferred, maildrop) or in all of them, one per line.
pf_queue_ids() {
	"$PF_POSTQUEUE" -c "$PF_ETC" -j 2>/dev/null |
	    if [ -n "${1-}" ]; then
		grep "\"queue_name\": *\"$1\""
	    else
		cat
	    fi | sed -n 's/.*"queue_id": *"\([0-9A-Za-z]*\)".*/\1/p'
}

pf_hold_ids() {
	pf_queue_ids hold
}

# pf_wait_queue_empty [SECONDS]: wait until only held mail is left.
pf_wait_queue_empty() {
	_t=${1:-30}
	_i=0
	while [ $_i -lt $((_t * 5)) ]; do
		if ! "$PF_POSTQUEUE" -c "$PF_ETC" -j 2>/dev/null |
		    grep -q '"queue_name": *"\(incoming\|active\|deferred\|maildrop\)"'; then
			return 0
		fi
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

pf_maillog() {
	cat "$PF_MAILLOG"
}

# pf_wait_log PATTERN [SECONDS]: wait until Postfix's log has a line
# matching the grep pattern (postlogd writes it after the SMTP reply has
# gone out, so it may lag the client); false if it never comes.
pf_wait_log() {
	_wl=0
	while ! grep -q -- "$1" "$PF_MAILLOG" 2>/dev/null; do
		[ $_wl -ge $((${2:-15} * 10)) ] && return 1
		sleep 0.1
		_wl=$((_wl + 1))
	done
	return 0
}

# The EXIT trap: the test's hook, Postfix, the sink, then NSD (if the NSD
# fixture is in use), then the directory.  Keeps the exit status.
postfix_fixture_stop() {
	_pf_rc=$?
	if [ -n "$PF_CLEANUP_HOOK" ]; then
		eval "$PF_CLEANUP_HOOK"
	fi
	_pf_stop_postfix
	_pf_stop_sink
	if [ -n "$PF_DIR" ] && [ -d "$PF_DIR" ]; then
		if [ "$_pf_rc" != 0 ]; then
			echo "# postfix maillog (last 40 lines):"
			tail -n 40 "$PF_MAILLOG" | sed 's/^/#   /'
		fi
		if [ -n "${PF_KEEP:-}" ]; then
			echo "# PF_KEEP set: leaving $PF_DIR"
		else
			rm -rf "$PF_DIR"
		fi
	fi
	PF_DIR=
	if command -v nsd_fixture_stop >/dev/null 2>&1; then
		(exit $_pf_rc)
		nsd_fixture_stop
	fi
	return $_pf_rc
}
