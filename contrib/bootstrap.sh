#!/bin/sh
# bootstrap.sh - set up a fresh Debian 12 machine, build dmarcd, and show
# the engine working on built-in defaults.  Run from the source tree:
#   sudo sh contrib/bootstrap.sh
# Re-running it is harmless.  Set DMARCD_NO_APT=1 to skip apt-get.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${DMARCD_NO_APT:-0}" != 1 ]; then
	pkgs=$(grep -v '^#' contrib/debian-packages.txt | tr '\n' ' ')
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"

echo
echo "== dmarcctl evaluate: a spoofed message against p=reject"
./dmarcctl evaluate --from example.com \
    --record 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com' \
    --spf pass:attacker.test --dkim pass:attacker.test || true
echo
echo "== dmarcctl check: grading a record"
./dmarcctl check --domain example.com \
    --record 'v=DMARC1; p=quarantine; pct=50' || true
