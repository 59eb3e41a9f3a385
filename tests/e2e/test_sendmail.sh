#!/bin/sh
# test_sendmail.sh - dmarcd behind a real Sendmail: the smoke scenario of
# issue 4 (a message that passes DMARC, then one that p=reject rejects),
# with Sendmail's own macro set.
#
# Debian's sendmail-bin conflicts with postfix (both provide
# mail-transport-agent), and the tests need Postfix installed, so Sendmail
# is never installed here: `apt-get download` fetches sendmail-bin,
# sendmail-cf and any library sendmail-bin links that this machine lacks
# (here libwrap0 and liblockfile1) into
# $top_builddir/tests/tmp/sendmail/debs (kept, so later runs need no
# network; `make clean` removes it), and `dpkg-deb -x` unpacks them into
# tests/tmp/sendmail/root.  The unpacked /usr/libexec/sendmail/sendmail
# runs from there (its setgid bit removed, LD_LIBRARY_PATH naming the
# unpacked libraries) with a sendmail.cf that m4 builds here from the
# unpacked cf/ macros: a daemon on 127.0.0.1 at a random high port that
# relays every recipient to Postfix's smtp-sink (SMART_HOST, the relay
# mailer's port) and calls dmarcd with exactly the README's line,
#   INPUT_MAIL_FILTER(`dmarcd', `S=inet:PORT@127.0.0.1, F=T, T=R:2m;E:5m')
# plus {client_addr} added to the connect macros (Sendmail's default
# connect list lacks it).  Every file it uses (queue, pid, aliases, help,
# statistics, service switch, hosts) is in the test's temporary
# directory, the host status directory is off; nothing under /etc/mail or
# /var/spool/mqueue is read or written.  The smart host is written
# relay:[127.0.0.1]: plain [127.0.0.1] is one of Sendmail's own names
# ($=w), so its rules would drop it and send mail to receiver.test's MX.
# Load-average limits are off (QueueLA, RefuseLA), so a busy machine
# cannot make Sendmail queue or refuse.  One listen address, no MSA port,
# no ident lookup, no canonification, unresolvable sender domains
# accepted, promiscuous relay (it listens on loopback only).
#
# Sendmail runs in a private mount and UTS namespace (unshare): before it
# reads its configuration it looks up the machine's host name, and a name
# without a dot that /etc/hosts knows (here "vm", in Docker the container
# id) makes it log "My unqualified host name (vm) unknown; sleeping for
# retry" and sleep 60 seconds; a name /etc/hosts does not know goes to
# the system resolver.  Inside the namespace the host name is
# mx.receiver.test, and /etc/hosts, /etc/nsswitch.conf ("hosts: files")
# and /etc/resolv.conf (127.0.0.1) are bind-mounted from the test
# directory, so Sendmail makes no DNS query at all.  The namespace ends
# with Sendmail; the machine's files are untouched.  Without namespaces
# (an unprivileged container) the test skips, and fails under CI=true.
#
# Sendmail logs only to syslog, which this machine may not have
# (/dev/log): what it did is read from its debug output instead
# (-D FILE -d64.10: each macro it sends to the milter, as
# "milter_send_macros(dmarcd, C): {client_addr}=127.0.0.1") and its SMTP
# replies ("250 2.0.0 QUEUEID Message accepted for delivery"); its
# Received field in the sink holds the same queue id ("with ESMTP id").
# Sendmail has no XCLIENT, so every client is 127.0.0.1: dmarcd's
# TrustedNetworks (203.0.113.0/24, tests/e2e/dmarcd-fixture.sh) does not
# cover it, and example.test's SPF record authorizes ip4:127.0.0.1.  The
# passing message is also DKIM-signed (tests/helpers/dkimsign, a key
# openssl makes here).
#
# The sink, dmarcd and NSD are the Postfix harness's
# (tests/e2e/postfix-fixture.sh: _pf_mkdir, _pf_start_sink, pf_headers,
# and its EXIT trap; no Postfix is started).  The EXIT trap stops
# Sendmail (its whole process group), dmarcd, the sink and NSD.
#
# Needs root, apt-get (once, to fetch the packages), dpkg-deb, m4,
# unshare, postfix (smtp-sink), swaks, nsd, openssl, sqlite3; without one
# it prints "1..0 # SKIP ..." naming the package, a failure when CI=true.
# PF_KEEP=1 keeps the temporary directory (Sendmail's files in sendmail/).
# TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

need() {	# need WHAT PACKAGE: skip, or fail under CI=true
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - $1${2:+ (apt-get install $2)}: required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1${2:+ (apt-get install $2)}"
	exit 0
}
dm_fixture_require
DKIMSIGN=$top_builddir/tests/helpers/dkimsign
[ -x "$DKIMSIGN" ] || need "tests/helpers/dkimsign not built (make check builds it)" ""
command -v openssl >/dev/null 2>&1 || need "openssl not installed" openssl
command -v sqlite3 >/dev/null 2>&1 || need "sqlite3 not installed" sqlite3
command -v m4 >/dev/null 2>&1 || need "m4 not installed (builds sendmail.cf)" m4
command -v dpkg-deb >/dev/null 2>&1 || need "dpkg-deb not installed" dpkg
for _p in unshare setsid mount; do
	command -v $_p >/dev/null 2>&1 || need "$_p not installed" util-linux
done
nsd_fixture_require
postfix_fixture_require		# smtp-sink, swaks, root
# What the namespace set-up below does, tried once (a bind mount of
# /etc/hosts onto itself, a host name; both vanish with the namespace).
if ! _e=$(unshare --mount --uts sh -c 'mount --bind /etc/hosts /etc/hosts &&
    echo mx.receiver.test >/proc/sys/kernel/hostname' 2>&1); then
	need "no private mount and UTS namespace for Sendmail (unshare: $_e)" ""
fi

# --- Sendmail from Debian's packages, unpacked in the build tree ----------
# Absolute: Sendmail runs in its queue directory.
SM_CACHE=$(cd "$top_builddir" && pwd)/tests/tmp/sendmail
SM_DEBS=$SM_CACHE/debs
SM_ROOT=$SM_CACHE/root
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_CF=$SM_ROOT/usr/share/sendmail/cf

# The unpacked library directories, for LD_LIBRARY_PATH.
sm_libpath() {
	find "$SM_ROOT" -name 'lib*.so*' 2>/dev/null | sed 's,/[^/]*$,,' |
	    sort -u | tr '\n' ':' | sed 's/:$//'
}
sm_missing_libs() {
	LD_LIBRARY_PATH=$(sm_libpath) ldd "$SM_BIN" 2>&1 |
	    awk '/not found/ { print $1 }' | tr '\n' ' '
}
_sm_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}
_sm_deb() { ls "$SM_DEBS/$1"_*.deb 2>/dev/null | tail -n 1; }

sm_prepare() {
	if [ -x "$SM_BIN" ] && [ -f "$SM_CF/m4/cf.m4" ] &&
	    [ -z "$(sm_missing_libs)" ]; then
		return 0
	fi
	mkdir -p "$SM_DEBS" || need "cannot create $SM_DEBS" ""
	# sendmail-bin's library dependencies that are not installed.
	_want="sendmail-bin sendmail-cf"
	for _p in $(apt-cache depends sendmail-bin 2>/dev/null |
	    sed -n 's/^ *|\{0,1\}Depends: \(lib[^ <>]*\)$/\1/p'); do
		_sm_installed "$_p" || _want="$_want $_p"
	done
	_get=
	for _p in $_want; do
		[ -n "$(_sm_deb "$_p")" ] || _get="$_get $_p"
	done
	if [ -n "$_get" ]; then
		echo "# apt-get download$_get (into $SM_DEBS)"
		# As root in a directory the _apt user may not reach:
		# download without apt's sandbox user.
		if ! (cd "$SM_DEBS" && apt-get -q -o APT::Sandbox::User=root \
		    download $_get) >"$SM_CACHE/download.log" 2>&1; then
			sed 's/^/# /' "$SM_CACHE/download.log" | tail -n 5
			need "Sendmail's packages (downloaded, never installed): apt-get download$_get failed; apt-get update first" ""
		fi
	fi
	rm -rf "$SM_ROOT"
	mkdir -p "$SM_ROOT"
	for _p in $_want; do
		dpkg-deb -x "$(_sm_deb "$_p")" "$SM_ROOT" ||
		    need "dpkg-deb -x $(_sm_deb "$_p") failed" ""
	done
	[ -x "$SM_BIN" ] || need "no $SM_BIN in the sendmail-bin package" ""
	# It is setgid mail: the dynamic linker would ignore LD_LIBRARY_PATH.
	chmod g-s "$SM_BIN"
	_m=$(sm_missing_libs)
	[ -z "$_m" ] || need "Sendmail needs $_m, which no downloaded package provides" ""
}
sm_prepare

# --- keys and zones -------------------------------------------------------
_nsd_mkdir
K=$NSD_DIR/keys
mkdir -p "$K"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$K/example.pem" 2>/dev/null
pub=$(openssl pkey -in "$K/example.pem" -pubout -outform DER 2>/dev/null |
    base64 | tr -d '\n')
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }
zone_add test </dev/null
zone_add example.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc            300 IN TXT "v=DMARC1; p=reject"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$pub")
ZONE
nsd_fixture_start

# --- sink, dmarcd, Sendmail -----------------------------------------------
SM_PID=
SM_MARK=0
PF_CLEANUP_HOOK='sm_stop; dm_cleanup $_pf_rc'
_pf_mkdir			# the temporary directory and the EXIT trap
_pf_start_sink
dm_fixture_init "$PF_DIR/dmarcd"
DM_NAMESERVERS=$NSD_SERVER
dm_start
SMD=$PF_DIR/sendmail
SM_DEBUG=$SMD/debug.log

sm_write_cf() {
	cat >"$SMD/sendmail.mc" <<EOF
divert(-1)
# Written by tests/e2e/test_sendmail.sh: a private test instance.
divert(0)dnl
include(\`$SM_CF/m4/cf.m4')dnl
VERSIONID(\`dmarcd tests/e2e/test_sendmail.sh')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.receiver.test')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SMD/service.switch')dnl
define(\`confHOSTS_FILE', \`$SMD/hosts')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`QUEUE_DIR', \`$SMD/mqueue')dnl
define(\`confPID_FILE', \`$SMD/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$SMD/aliases')dnl
define(\`HELP_FILE', \`$SMD/helpfile')dnl
define(\`STATUS_FILE', \`$SMD/sendmail.st')dnl
define(\`confDEAD_LETTER_DROP', \`$SMD/dead.letter')dnl
define(\`confCR_FILE', \`-o $SMD/relay-domains')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $PF_SINK_PORT')dnl
define(\`confMILTER_MACROS_CONNECT', \`j, _, {daemon_name}, {if_name}, {if_addr}, {client_addr}')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Family=inet, Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
INPUT_MAIL_FILTER(\`dmarcd', \`S=inet:$DM_PORT@127.0.0.1, F=T, T=R:2m;E:5m')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	# promiscuous_relay: m4 warns about an open relay (on loopback).
	if ! m4 "$SMD/sendmail.mc" >"$SMD/sendmail.cf" 2>"$SMD/m4.err" ||
	    grep -qv 'promiscuous_relay\|relay\.  Do NOT' "$SMD/m4.err"; then
		echo "Bail out! m4 could not build sendmail.cf:"
		sed 's/^/# /' "$SMD/m4.err"
		exit 1
	fi
}

# Run inside the namespace: the private name and files, then Sendmail in
# the foreground (-bD), its debug output in $SM_DEBUG, the SMTP dialogue
# of every session in smtp.trace (-X).
sm_write_ns() {
	cat >"$SMD/ns.sh" <<EOF
set -e
for f in hosts nsswitch.conf resolv.conf; do
	[ -e "/etc/\$f" ] || [ "\$f" = hosts ] || continue
	mount --bind "$SMD/etc/\$f" "/etc/\$f"
done
echo mx.receiver.test >/proc/sys/kernel/hostname
LD_LIBRARY_PATH='$(sm_libpath)' exec "$SM_BIN" -bD -C "$SMD/sendmail.cf" \\
    -X "$SMD/smtp.trace" -D "$SM_DEBUG" -d64.10
EOF
}

sm_start() {
	mkdir -p "$SMD/etc"
	mkdir -m 700 "$SMD/mqueue"
	cp "$SM_ROOT/etc/mail/helpfile" "$SMD/helpfile"
	: >"$SMD/aliases"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$SMD/service.switch"
	printf '127.0.0.1\tlocalhost\n127.0.0.1\tmx.receiver.test\n' >"$SMD/hosts"
	cp "$SMD/hosts" "$SMD/etc/hosts"
	printf 'hosts: files\npasswd: files\ngroup: files\nshadow: files\n' \
	    >"$SMD/etc/nsswitch.conf"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
	    >"$SMD/etc/resolv.conf"
	for _try in 1 2 3 4; do
		SM_PORT=$(pf_free_port)
		sm_write_cf
		sm_write_ns
		: >"$SM_DEBUG"
		# setsid: Sendmail and its children in one process group,
		# which sm_stop ends as a whole.
		setsid unshare --mount --uts sh "$SMD/ns.sh" >"$SMD/out.log" 2>&1 &
		SM_PID=$!
		_i=0
		while [ $_i -lt 50 ] && kill -0 "$SM_PID" 2>/dev/null; do
			if _pf_smtp_answers 127.0.0.1 "$SM_PORT"; then
				echo "# sendmail $SM_PID answering on 127.0.0.1:$SM_PORT, in $SMD"
				return 0
			fi
			sleep 0.2
			_i=$((_i + 1))
		done
		sm_stop
		grep -qi "address already in use" "$SMD/out.log" "$SM_DEBUG" ||
		    break
	done
	echo "Bail out! sendmail did not start:"
	cat "$SMD/out.log" "$SM_DEBUG" | tail -n 30 | sed 's/^/# /'
	exit 1
}

sm_stop() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM -- "-$SM_PID" 2>/dev/null || kill -TERM "$SM_PID" 2>/dev/null
	_i=0
	while kill -0 "$SM_PID" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL -- "-$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
}

sm_start

# --- messages and checks --------------------------------------------------
M=$PF_DIR/msg
mkdir "$M"
mid() { echo "$1.$$@e2e.test"; }
msg() {	# msg NAME FROM-ADDRESS
	{
		printf 'From: Alice <%s>\nTo: rcpt@receiver.test\n' "$2"
		printf 'Subject: figures\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
		printf 'Message-ID: <%s>\n\nHello,\n\nthe figures.\n' "$(mid "$1")"
	} >"$M/$1"
}
# sm_send NAME MAILFROM: one SMTP session with Sendmail.  SM_STATUS is
# swaks' exit status, SM_REPLY the first 4xx/5xx reply or else the reply
# to the message, SM_QID the queue id in "250 2.0.0 QUEUEID Message
# accepted for delivery", SM_LOG the dialogue.
sm_send() {
	SM_LOG=$PF_DIR/swaks/$1.log
	SM_MARK=$(wc -l <"$SM_DEBUG")
	dm_mark
	"$PF_SWAKS" --server 127.0.0.1 --port "$SM_PORT" --timeout 60 \
	    --suppress-data --helo mail.example.test --from "$2" \
	    --to rcpt@receiver.test --data "@$M/$1" >"$SM_LOG" 2>&1 </dev/null
	SM_STATUS=$?
	SM_REPLY=$(sed -n 's/^<\*\* *//p' "$SM_LOG" | head -n 1)
	[ -n "$SM_REPLY" ] || SM_REPLY=$(grep '^<- *250 .*Message accepted' \
	    "$SM_LOG" | tail -n 1 | sed 's/^<- *//')
	SM_QID=$(printf '%s\n' "$SM_REPLY" |
	    sed -n 's/^250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p')
}
# Sendmail's debug output since the last sm_send, once the session's
# end-of-message macros are in it.
sm_debug_since() { tail -n +"$((SM_MARK + 1))" "$SM_DEBUG"; }
sm_wait_debug() {
	_i=0
	while [ $_i -lt 50 ]; do
		sm_debug_since | grep -q "$1" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# The macros Sendmail sent dmarcd for command C since the mark: NAME=VALUE.
sm_macros() {
	sm_debug_since | sed -n "s/^milter_send_macros(dmarcd, $1): //p"
}
in_sink() { grep -l -F "$(mid "$1")" "$PF_SINK_DIR"/msg.* 2>/dev/null | head -n 1; }
wait_sink() {
	_i=0
	while [ $_i -lt 100 ]; do
		PF_MSG=$(in_sink "$1")
		[ -n "$PF_MSG" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
ours() { pf_headers "$1" | grep -i '^Authentication-Results: *mx\.receiver\.test *;'; }
has() {	# has NAME TEXT SUBSTRING...
	_n=$1 _t=$2
	shift 2
	for _s in "$@"; do
		case $_t in
		*"$_s"*) tap_ok true "$_n: has $_s" ;;
		*) tap_ok false "$_n: has $_s"
		   printf '%s\n' "$_t" | sed 's/^/#   /' ;;
		esac
	done
}
# macros NAME: Sendmail's macro set as it went to dmarcd in this session
# (connect: j, {client_addr}; MAIL: i, and {auth_authen} only for an
# AUTH client).  MAIL_QID is the queue id (i) dmarcd got.
macros() {
	sm_wait_debug "milter_send_macros(dmarcd, E): " ||
	    echo "# no end-of-message macros in Sendmail's debug output"
	_c=$(sm_macros C)
	has "$1: connect macros" "$_c" "j=mx.receiver.test" \
	    "{client_addr}=127.0.0.1" "{daemon_name}=MTA"
	MAIL_QID=$(sm_macros M | sed -n 's/^i=//p' | head -n 1)
	tap_ok '[ -n "$MAIL_QID" ]' "$1: MAIL macros carry the queue id (i=$MAIL_QID)"
	tap_ok '! sm_macros M | grep -q "^{auth_authen}="' \
	    "$1: no {auth_authen} for an unauthenticated client"
	echo "# $1: Sendmail sent C: $(echo $_c)"
	echo "# $1: M: $(echo $(sm_macros M)); E: $(echo $(sm_macros E))"
}
# dmarcd's smfi_setsymlist (i and {auth_authen} at MAIL, i at end of
# message) reached Sendmail.  (Sendmail 8.17 still sends its configured
# end-of-message list, {msg_id}; libmilter keeps i from MAIL.)
tap_ok 'grep -q "^milter_getsymlist(dmarcd, macros.envfrom, \"i {auth_authen}\")" "$SM_DEBUG"' \
    "Sendmail took dmarcd's macro list for MAIL (smfi_setsymlist)"
echo "# dmarcd $DM_PID on 127.0.0.1:$DM_PORT, nsd on $NSD_SERVER, sink on 127.0.0.1:$PF_SINK_PORT"

# --- 1. DMARC pass: delivered with dmarcd's A-R ---------------------------
msg pass alice@example.test
"$DKIMSIGN" -k "$K/example.pem" -d example.test -s sel "$M/pass" >"$M/pass.s" &&
    mv "$M/pass.s" "$M/pass"
sm_send pass alice@example.test
tap_is "$SM_STATUS/$(echo "$SM_REPLY" | sed "s/ $SM_QID / QUEUEID /")" \
    "0/250 2.0.0 QUEUEID Message accepted for delivery" \
    "pass: 250 2.0.0 QUEUEID Message accepted for delivery ($SM_QID)"
macros pass
tap_is "$MAIL_QID" "$SM_QID" "pass: the queue id dmarcd got (i) is the one Sendmail gave the client"
if wait_sink pass; then
	tap_ok true "pass: delivered to the sink"
else
	tap_ok false "pass: delivered to the sink"
	tail -n 20 "$SMD/smtp.trace" 2>/dev/null | sed 's/^/#   /'
fi
tap_ok '[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | grep -q "^Received: .* by mx\.receiver\.test .*with ESMTP id $SM_QID"' \
    "pass: Sendmail's Received field in the sink names the same queue id"
ar=$( [ -n "$PF_MSG" ] && ours "$PF_MSG")
tap_is "$(printf '%s\n' "$ar" | grep -c .)" 1 "pass: exactly one A-R of ours"
tap_ok 'printf "%s\n" "$ar" | grep -q "^Authentication-Results: mx\.receiver\.test; "' \
    "pass: written 'Authentication-Results: mx.receiver.test; ...' (one space after the colon)"
has "pass" "$ar" "spf=pass smtp.mailfrom=alice@example.test" \
    "dkim=pass header.d=example.test header.s=sel" \
    "dmarc=pass (p=reject dis=none) header.from=example.test"
# At the top (smfi_insheader index 0): Sendmail puts it above its own
# Received field, as Postfix does.
first=$( [ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | head -n 1)
tap_ok 'printf "%s\n" "$first" | grep -qi "^Authentication-Results: *mx\.receiver\.test *;"' \
    "pass: our A-R is the first field, above Sendmail's Received"
[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | cut -c1-72 | head -n 4 |
    sed 's/^/# delivered header: /'
_l=$(grep "$SM_QID: dmarc " "$DM_LOG" | tail -n 1)
has "pass: dmarcd's log line" "$_l" "$SM_QID: dmarc result=pass" \
    "from=example.test" "action=accept" "ip=127.0.0.1"
tap_is "$(hist "$(mid pass)" 'dmarc_result, action, client_ip, queue_id')" \
    "pass|accept|127.0.0.1|$SM_QID" "pass: history row (queue id from Sendmail's i)"
dm_running "pass"

# --- 2. p=reject, DMARC fails: 550 5.7.1, nothing delivered ---------------
msg reject alice@example.test
sm_send reject mallory@evil.test
tap_is "$SM_STATUS/$SM_REPLY" \
    "26/550 5.7.1 DMARC policy of example.test (p=reject) rejects this message" \
    "reject: 550 5.7.1 naming the author domain and its policy"
macros reject
tap_ok '[ -z "$(in_sink reject)" ]' "reject: nothing delivered"
_l=$(grep "$MAIL_QID: dmarc " "$DM_LOG" | tail -n 1)
has "reject: dmarcd's log line (Sendmail's queue id)" "$_l" \
    "$MAIL_QID: dmarc result=fail" "policy=reject" "action=reject" "ip=127.0.0.1"
tap_is "$(hist "$(mid reject)" 'dmarc_result, disposition, action, client_ip, queue_id')" \
    "fail|reject|reject|127.0.0.1|$MAIL_QID" "reject: history row"
dm_running "reject"

# --- the end ---------------------------------------------------------------
tap_is "$(find "$SMD/mqueue" -type f | wc -l | tr -d ' ')" 0 \
    "Sendmail's queue is empty (one delivered, one rejected)"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no sanitizer report in dmarcd's log"
sm_stop
tap_ok '! pgrep -f "$SMD/sendmail.cf" >/dev/null' "no Sendmail process left"
tap_done
