#!/bin/sh
# test_postfix_fixture.sh - the e2e harness tests itself, without dmarcd.
#
# 1. No milter: a message sent over SMTP reaches the sink with its header
#    and body intact, and Postfix's Received field shows the XCLIENT
#    address.
# 2. A milter address where nothing listens, milter_default_action =
#    tempfail: the client is told 451 and nothing is delivered.  This
#    proves the harness can fail.
# 3. With tests/e2e/testmilter (built by make check): what Postfix hands a
#    milter after XCLIENT (the client address, {auth_authen} from LOGIN=,
#    i, j), on IPv4 and IPv6; and that a milter's reject, tempfail and
#    quarantine are each observable (SMTP reply, sink, hold queue).
# TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"

postfix_fixture_require
TESTMILTER=$top_builddir/tests/e2e/testmilter
TM_PID=
stop_testmilter() {
	[ -n "$TM_PID" ] || return 0
	kill -TERM "$TM_PID" 2>/dev/null
	# libmilter notices a stop request only every few seconds.
	_i=0
	while kill -0 "$TM_PID" 2>/dev/null && [ $_i -lt 10 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$TM_PID" 2>/dev/null
	wait "$TM_PID" 2>/dev/null
	TM_PID=
}
PF_CLEANUP_HOOK=stop_testmilter
postfix_fixture_start ""
T=$PF_DIR/t
mkdir "$T"

# msg FILE ACTION: a small message; ACTION goes to X-Test-Action.
msg() {
	{
		printf 'From: Alice <alice@example.test>\n'
		printf 'To: rcpt@receiver.test\n'
		printf 'Subject: harness %s\n' "$2"
		printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\n'
		printf 'Message-ID: <%s.%s@example.test>\n' "$2" "$$"
		printf 'X-Test-Action: %s\n' "$2"
		printf 'X-Folded: one\n\ttwo\n'
		printf '\nHello,\n.leading dot\n\nbye\n'
	} >"$1"
}
send() {	# send NAME FILE [swaks options]
	_n=$1 _f=$2
	shift 2
	pf_send "$_n" --helo mail.example.test --from alice@example.test \
	    --to rcpt@receiver.test --data "@$_f" "$@"
}
# The original header, unfolded like pf_headers prints it.
orig_headers() {
	awk '/^$/ { exit } /^[ \t]/ { sub(/^[ \t]+/, " "); cur = cur $0; next }
	    { if (cur != "") print cur; cur = $0 } END { if (cur != "") print cur }' "$1"
}
body_of() { awk 'f { print } /^\r?$/ && !f { f = 1 }' "$1" | tr -d '\r'; }

# --- 1. no milter: delivered, intact ---------------------------------------
msg "$T/plain" accept
send plain "$T/plain" --xclient-addr 192.0.2.10
tap_is "$PF_STATUS/$(echo "$PF_REPLY" | sed 's/as [0-9A-Za-z]*$/as ID/')" "0/250 2.0.0 Ok: queued as ID" \
    "no milter: accepted"
tap_ok 'pf_wait_delivered "$PF_QUEUEID"' "no milter: delivered to the sink"
if [ -n "$PF_MSG" ]; then
	# Postfix adds Received at the top; the rest is the original header.
	tap_is "$(pf_headers "$PF_MSG" | grep -v '^Received:')" \
	    "$(orig_headers "$T/plain")" "no milter: header intact, in order"
	tap_ok 'pf_headers "$PF_MSG" | head -n 1 | grep -q "^Received: from mail.example.test (unknown \[192.0.2.10\]) by mx.receiver.test (Postfix) with ESMTP id $PF_QUEUEID"' \
	    "no milter: Received shows the XCLIENT address and the queue id"
	tap_is "$(body_of "$PF_MSG" | sed '$d')" "$(body_of "$T/plain")" \
	    "no milter: body intact (dot-stuffing undone)"
else
	for _i in 1 2 3; do tap_ok false "no milter: no sink file"; done
fi
tap_is "$(pf_sink_count)" 1 "no milter: one message in the sink"

# --- 2. a dead milter and milter_default_action = tempfail: 451 -----------
dead=$(pf_free_port)
pf_set "smtpd_milters = inet:127.0.0.1:$dead"
send dead "$T/plain" --xclient-addr 192.0.2.10
tap_is "$PF_STATUS/$PF_REPLY" "23/451 4.7.1 Service unavailable - try again later" \
    "dead milter: 451 4.7.1 (at MAIL FROM)"
tap_ok 'pf_wait_log "connect to Milter service inet:127.0.0.1:$dead: Connection refused"' \
    "dead milter: Postfix logged why"
tap_is "$(pf_sink_count)" 1 "dead milter: nothing more delivered"

# --- 3. testmilter: macros and each milter action -------------------------
if [ ! -x "$TESTMILTER" ]; then
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		tap_ok true "# SKIP $TESTMILTER not built (make check builds it)"
	done
	tap_done
	exit $?
fi
TM_LOG=$T/testmilter.log
for _try in 1 2 3 4 5; do
	TM_PORT=$(pf_free_port)
	"$TESTMILTER" -p "inet:$TM_PORT@127.0.0.1" -l "$TM_LOG" 2>>"$T/tm.err" &
	TM_PID=$!
	_i=0
	while [ $_i -lt 30 ] && ! grep -q "^ready inet:$TM_PORT@" "$TM_LOG" 2>/dev/null; do
		kill -0 "$TM_PID" 2>/dev/null || break
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -q "^ready inet:$TM_PORT@" "$TM_LOG" 2>/dev/null && break
	stop_testmilter
done
pf_set "smtpd_milters = inet:127.0.0.1:$TM_PORT"

# Line STEP of the milter session for queue id / client address.
tm_line() { grep "^$1 " "$TM_LOG" | grep -F "$2" | tail -n 1; }

msg "$T/auth" accept
send auth "$T/auth" --xclient-addr 192.0.2.10 --xclient-login alice
q=$PF_QUEUEID
tap_ok 'pf_wait_delivered "$q"' "testmilter accept: delivered"
tap_ok 'tm_line connect "host=[192.0.2.10]" | grep -q "{client_addr}=192.0.2.10 "' \
    "XCLIENT: the milter's connect step sees the XCLIENT address"
eom=$(tm_line eom "i=$q ")
tap_ok 'printf "%s" "$eom" | grep -q "{auth_type}=XCLIENT {auth_authen}=alice"' \
    "XCLIENT LOGIN=alice: {auth_authen}=alice at end of message"
tap_ok 'printf "%s" "$eom" | grep -q "^eom action=accept j=mx.receiver.test "' \
    "j is the receiving host name"
tap_ok '[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | head -n 1 | grep -qx "X-Test-Milter: seen"' \
    "a header inserted at index 0 is the first field delivered"

msg "$T/noauth" accept
send noauth "$T/noauth" --xclient-addr 192.0.2.11
q=$PF_QUEUEID
pf_wait_delivered "$q"
tap_ok '! tm_line eom "i=$q " | grep -q "{auth_authen}"' \
    "without LOGIN=, no {auth_authen}"

msg "$T/reject" reject
n0=$(pf_sink_count)
send reject "$T/reject" --xclient-addr 192.0.2.12
tap_is "$PF_STATUS/$PF_REPLY" "26/550 5.7.1 testmilter rejects this message" \
    "milter reject: the client gets 550 5.7.1 and the text"
msg "$T/tempfail" tempfail
send tempfail "$T/tempfail" --xclient-addr 192.0.2.13
tap_is "$PF_STATUS/$PF_REPLY" "26/451 4.7.1 testmilter tempfails this message" \
    "milter tempfail: the client gets 451 4.7.1 and the text"

msg "$T/quarantine" quarantine
send quarantine "$T/quarantine" --xclient-addr 192.0.2.14
q=$PF_QUEUEID
tap_ok '[ -n "$q" ] && ! pf_wait_delivered "$q" 3' "milter quarantine: not delivered"
tap_is "$(pf_hold_ids)" "$q" "milter quarantine: the message is in the hold queue"
tap_ok 'grep -q "$q: milter-hold: END-OF-MESSAGE from unknown\[192.0.2.14\]" "$PF_MAILLOG"' \
    "milter quarantine: Postfix logged the milter-hold"
tap_is "$(pf_sink_count)" "$n0" "reject, tempfail, quarantine: nothing delivered"

if [ "$PF_HAVE_IPV6" = yes ]; then
	msg "$T/v6" accept
	pf_send6 v6 --helo mail.example.test --from alice@example.test \
	    --to rcpt@receiver.test --data "@$T/v6" --xclient-addr IPV6:2001:db8::10
	q=$PF_QUEUEID
	tap_ok 'pf_wait_delivered "$q"' "IPv6: delivered through [::1]"
	# Postfix, like Sendmail, spells an IPv6 {client_addr} "IPv6:...".
	tap_ok 'tm_line connect "host=[2001:db8::10]" | grep -q "{daemon_addr}=::1 {client_addr}=IPv6:2001:db8::10 "' \
	    "IPv6: the milter sees {client_addr}=IPv6:2001:db8::10, on [::1]"
else
	tap_ok true "# SKIP no IPv6 loopback"
	tap_ok true "# SKIP no IPv6 loopback"
fi
tap_done
