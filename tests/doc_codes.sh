#!/bin/sh
# doc_codes.sh - the CHECK SCORING table of dmarcctl(8) lists exactly the
# issue codes, severities and weights that `dmarcctl check --list-codes`
# prints, so the man page cannot drift from the grader.  TAP output.
: "${top_srcdir:=.}" "${top_builddir:=.}"
man=$top_srcdir/doc/dmarcctl.8
want=$("$top_builddir/dmarcctl" -c /dev/null check --list-codes |
    awk '{ print $1, $2, $3 }')
got=$(sed -n '/^CODE	SEVERITY/,/^\.TE/p' "$man" | sed '1d;$d' |
    awk -F'\t' '{ print $1, $2, $3 }')
echo "1..2"
n=$(printf '%s\n' "$want" | wc -l)
if [ "$got" = "$want" ]; then
	echo "ok 1 - dmarcctl(8) lists all $n check codes with their weights"
else
	echo "not ok 1 - dmarcctl(8) CHECK SCORING differs from --list-codes"
	printf '%s\n' "$want" > "${TMPDIR:-/tmp}/doc_codes.want.$$"
	printf '%s\n' "$got" | diff "${TMPDIR:-/tmp}/doc_codes.want.$$" - | sed 's/^/# /'
	rm -f "${TMPDIR:-/tmp}/doc_codes.want.$$"
fi
# Every command in the dispatch table has a section in the man page.
missing=
for c in $("$top_builddir/dmarcctl" help | awk '/^  [a-z]/ { print $1 }'); do
	grep -q "^\.SS $c\$" "$man" || missing="$missing $c"
done
if [ -z "$missing" ]; then
	echo "ok 2 - every dmarcctl command has a section in dmarcctl(8)"
else
	echo "not ok 2 - dmarcctl(8) lacks sections for:$missing"
fi
[ "$got" = "$want" ] && [ -z "$missing" ]
