#!/bin/sh
# rfc7208-nsd.sh - the openspf RFC 7208 suite through auth/spf.c and the
# real resolver: for each scenario, a private NSD (tests/dns/nsd-fixture.sh)
# serves the scenario's zonedata (one zone per top-level label, as
# `rfc7208 -z N` prints it), and `rfc7208 -s N` runs its tests through
# dns_query() against it.  TIMEOUT entries cannot be served by NSD: a hook
# in front of dns_query() fails exactly those lookups with a timeout.
# Expected failures are those of tests/spf/known-failures.txt, shared with
# the lookup-table run (rfc7208.sh).  TAP output; prints the pass count.
set -u

run=${top_builddir:-.}/tests/spf/rfc7208
known=${top_srcdir:-.}/tests/spf/known-failures.txt
. "${top_srcdir:-.}/tests/dns/nsd-fixture.sh"

nsc=$("$run" -c)
case $nsc in
[0-9]*) ;;
*)	# no suite: rfc7208 printed the skip (or the CI failure)
	printf '%s\n' "$nsc"
	case $nsc in "1..0"*) exit 0 ;; *) exit 1 ;; esac ;;
esac
nsd_fixture_require

tab=$(printf '\t')
first=1
pass=0; knownfail=0; xpass=0; fail=0
i=0
while [ "$i" -lt "$nsc" ]; do
	out=$(
		"$run" -z "$i" >"${TMPDIR:-/tmp}/spf-zones.$$" || exit 1
		while IFS=$tab read -r zone line; do
			zone_rr "$zone" "$line"
		done <"${TMPDIR:-/tmp}/spf-zones.$$"
		rm -f "${TMPDIR:-/tmp}/spf-zones.$$"
		nsd_fixture_start
		"$run" -s "$i" -n "$NSD_SERVER" -o "$first" -k "$known"
	)
	printf '%s\n' "$out" | grep -v '^# counts '
	counts=$(printf '%s\n' "$out" | sed -n 's/^# counts //p')
	if [ -z "$counts" ]; then
		echo "Bail out! scenario $i did not run"
		exit 1
	fi
	set -- $counts
	pass=$((pass + $1)); knownfail=$((knownfail + $2))
	xpass=$((xpass + $3)); fail=$((fail + $4))
	first=$((first + $1 + $2 + $3 + $4))
	i=$((i + 1))
done
total=$((first - 1))
echo "# RFC 7208 suite (NSD): $pass of $total tests pass; $knownfail known" \
    "failures, $xpass unexpected passes, $fail unexpected failures"
echo "1..$total"
[ "$fail" = 0 ] && [ "$xpass" = 0 ]
