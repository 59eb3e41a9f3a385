#!/bin/sh
# bootstrap.sh - set up a fresh Debian 12 machine, build dmarcd, and
# start it in the foreground on built-in defaults (loopback socket, SQLite
# history under /var/lib/dmarcd as root, ./state otherwise).  Run from the
# source tree:
#   sudo sh contrib/bootstrap.sh
# Re-running it is harmless.  Set DMARCD_NO_APT=1 to skip apt-get.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${DMARCD_NO_APT:-0}" != 1 ]; then
	pkgs=$(grep -v '^#' contrib/debian-packages.txt | tr '\n' ' ')
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Postfix is for tests/e2e only: no system configuration, no questions.
	echo 'postfix postfix/main_mailer_type select No configuration' |
	    debconf-set-selections
	# The benchmark's incumbents (opendkim, opendmarc, rspamd) must not
	# start as services: bench/compare.sh runs them with private configs.
	own_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=yes
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs
	[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"

# The engine at work, offline.
./dmarcctl evaluate --from example.com \
    --record 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com' \
    --spf pass:attacker.test --dkim pass:attacker.test || true

# dmarcd on built-in defaults: a loopback socket and an SQLite history.
# As root it runs as nobody, so its state goes where nobody can reach it
# (/var/lib/dmarcd; a checkout under /root is not); otherwise ./state.
if [ "$(id -u)" = 0 ]; then
	state=/var/lib/dmarcd
else
	state=$top/state
fi
mkdir -p "$state"
conf=$state/dmarcd.conf
if [ ! -f "$conf" ]; then
	{
		echo "# Written by contrib/bootstrap.sh; see conf/dmarcd.conf."
		echo "Socket inet:8893@127.0.0.1"
		echo "HistoryDatabase $state/history.sqlite"
		echo "Syslog no"
		[ "$(id -u)" = 0 ] && echo "UserID nobody"
	} > "$conf"
fi
[ "$(id -u)" = 0 ] && chown nobody "$state"
echo
echo "dmarcd is starting in the foreground (Ctrl-C stops it)."
echo "Add this line to Postfix's main.cf and run 'postfix reload':"
echo
echo "    smtpd_milters = inet:127.0.0.1:8893"
echo
exec ./dmarcd -f -c "$conf"
