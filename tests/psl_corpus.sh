#!/bin/sh
# psl_corpus.sh - the public suffix list's own test cases, run through
# `dmarcctl orgdomain --method psl` against the list in ../shared/corpus.
# Each case of tests.txt is "INPUT EXPECTED" where "null" means no
# registrable (organizational) domain; dmarcctl prints "-" for that.
# Expected U-labels are compared in A-label form, since dmarcctl
# normalises every domain to A-labels (RFC 8616).  TAP output.
set -u

: "${top_srcdir:=.}" "${top_builddir:=.}"
# $DMARCD_CORPUS, else ../shared/corpus beside the source tree (or two
# levels up, for make distcheck's unpacked copy).
corpus=$top_srcdir/../shared/corpus
for c in ${DMARCD_CORPUS:-} "$top_srcdir/../shared/corpus" \
    "$top_srcdir/../../shared/corpus"; do
	if [ -f "$c/psl/tests.txt" ]; then
		corpus=$c
		break
	fi
done
cases=$corpus/psl/tests.txt
list=$corpus/psl/public_suffix_list.dat
dmarcctl=$top_builddir/dmarcctl

if [ ! -f "$cases" ] || [ ! -f "$list" ]; then
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - PSL corpus missing at $corpus (required under CI)"
		exit 1
	fi
	echo "1..0 # SKIP PSL corpus not found at $corpus"
	exit 0
fi
if ! command -v idn2 >/dev/null 2>&1; then
	echo "1..0 # SKIP idn2 not installed (apt-get install idn2)"
	[ "${CI:-}" = true ] && exit 1
	exit 0
fi

n=0
failed=0
# Every case goes through one dmarcctl call per name, so a failure names
# the exact input.
while read -r input expected; do
	case $input in ''|//*) continue ;; esac
	n=$((n + 1))
	[ "$input" = null ] && input=""
	if [ "$expected" = null ]; then
		want=-
	else
		want=$(idn2 --quiet -- "$expected" 2>/dev/null || echo "$expected")
	fi
	got=$("$dmarcctl" -c /dev/null orgdomain --method psl \
	    --psl-file "$list" -- "$input" 2>/dev/null | head -n 1)
	[ -n "$got" ] || got=-
	if [ "$got" = "$want" ]; then
		echo "ok $n - psl: '$input' -> $want"
	else
		echo "not ok $n - psl: '$input' -> got '$got', want '$want'"
		failed=$((failed + 1))
	fi
done < "$cases"
echo "1..$n"
echo "# $((n - failed)) of $n public suffix list cases pass"
[ "$failed" -eq 0 ]
