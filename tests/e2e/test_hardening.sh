#!/bin/sh
# test_hardening.sh - dmarcd refuses files others may write and creates
# its unix socket as configured (issue 9, security).
#
# dmarcd is started here, as root with UserID nobody, with a config file,
# history directory or history file that others may write, and must exit
# with EX_CONFIG (78) and a message naming the key and the path.  The
# allowed cases (group root, the group dmarcd runs as, a sticky
# directory) must start.  A unix socket must have exactly SocketMode and
# SocketOwner, and dmarcd must run as UserID once listening.
# No Postfix or DNS is needed: nothing is sent.  TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

dm_fixture_require
# A group that is neither root's nor nobody's, for "another group".
OTHER=$(getent group mail | cut -d: -f1)
[ -n "$OTHER" ] || dm_need "no group mail on this system"
NOBODY_GROUP=$(id -gn nobody)

TOP=$(mktemp -d "${TMPDIR:-/tmp}/dmarcd-hardening.XXXXXX")
chmod 755 "$TOP"	# nobody reaches its history
cleanup() {
	_rc=$?
	dm_cleanup "$_rc"
	rm -rf "$TOP"
	exit "$_rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
dm_fixture_init "$TOP/dm"
# Never asked: no message is sent.
DM_NAMESERVERS=127.0.0.1:$(pf_free_port)

# refused NAME WANT: dmarcd must exit 78 with a line matching WANT.
refused() {
	_out=$(timeout 20 "$DMARCD" -f -c "$DM_CONF" 2>&1)
	_st=$?
	tap_is "$_st" 78 "$1: refused (EX_CONFIG)"
	if printf '%s\n' "$_out" | grep -q -- "$2"; then
		tap_ok true "$1: the message names it"
	else
		tap_ok false "$1: the message names it"
		printf '%s\n' "$_out" | tail -n 3 | sed 's/^/#   /'
	fi
}

# starts NAME: dmarcd starts and stops cleanly.
starts() {
	dm_start
	tap_ok 'kill -0 "$DM_PID"' "$1: dmarcd runs"
	dm_stop
	tap_is "$DM_STOP" 0 "$1: stopped cleanly"
}

# --- the configuration file ---------------------------------------------
dm_write_conf
chmod 666 "$DM_CONF"
refused "config 0666" "configuration file $DM_CONF: writable by everyone"

dm_write_conf
chgrp "$OTHER" "$DM_CONF"
chmod 664 "$DM_CONF"
refused "config 0664 group $OTHER" \
    "configuration file $DM_CONF: writable by group $OTHER"

dm_write_conf
chgrp 0 "$DM_CONF"
chmod 664 "$DM_CONF"
conf_ok=$(timeout 20 "$DMARCD" -n -c "$DM_CONF" 2>&1)
tap_ok 'printf "%s\n" "$conf_ok" | grep -q "configuration OK"' \
    "config 0664 group root: accepted"
chmod 644 "$DM_CONF"

# --- the history: its directory and its file ----------------------------
starts "history in a 0755 directory owned by nobody"

chmod 777 "$DM_DIR"
refused "history directory 0777" \
    "HistoryDatabase $DM_DIR: writable by everyone"
chmod 1777 "$DM_DIR"
starts "history directory 1777 (sticky)"
chmod 755 "$DM_DIR"

chgrp "$OTHER" "$DM_DIR"
chmod 775 "$DM_DIR"
refused "history directory 0775 group $OTHER" \
    "HistoryDatabase $DM_DIR: writable by group $OTHER"
chgrp "$NOBODY_GROUP" "$DM_DIR"
starts "history directory 0775 of dmarcd's own group ($NOBODY_GROUP)"
chmod 755 "$DM_DIR"

chmod 666 "$DB"
refused "history file 0666" "HistoryDatabase $DB: writable by everyone"
chgrp "$OTHER" "$DB"
chmod 660 "$DB"
refused "history file 0660 group $OTHER" \
    "HistoryDatabase $DB: writable by group $OTHER"
chgrp "$NOBODY_GROUP" "$DB"
chmod 640 "$DB"

# --- the unix socket ------------------------------------------------------
SOCK=$DM_DIR/dmarcd.sock
DM_SOCKET=unix:$SOCK
DM_EXTRA="SocketMode 0600"
dm_start
tap_is "$(stat -c '%a %U' "$SOCK")" "600 root" "SocketMode 0600: mode and owner"
tap_is "$(awk '/^Uid:/ { print $2 }' "/proc/$DM_PID/status")" \
    "$(id -u nobody)" "running as UserID nobody once listening"
dm_stop

DM_EXTRA="SocketMode 0660
SocketOwner nobody:$OTHER"
dm_start
tap_is "$(stat -c '%a %U %G' "$SOCK")" "660 nobody $OTHER" \
    "SocketMode 0660, SocketOwner nobody:$OTHER"
dm_stop

DM_EXTRA="SocketMode 0998"
dm_write_conf
refused "SocketMode 0998" "SocketMode 0998: expected octal"

tap_done
