# lib.sh - shared by the DKIM shell tests (sourced, POSIX sh).
#
# TAP helpers, the helper programs, a private temporary directory that is
# removed on exit, and "skip, unless CI" for missing tools or data.

: "${top_srcdir:=.}" "${top_builddir:=.}"
DKIMSIGN=$top_builddir/tests/helpers/dkimsign
DKIMVERIFY=$top_builddir/tests/helpers/dkimverify

tap_n=0
tap_failed=0

ok() {	# ok CONDITION-EXIT-STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# skip_all REASON: no test can run.  Under CI=true that is a failure, so
# CI never passes with these tests silently skipped.
skip_all() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - $1 (required under CI)"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# make_tmpdir: $tmp, removed when the script exits however it exits.
make_tmpdir() {
	mkdir -p "$top_builddir/tests/tmp" || exit 1
	tmp=$(mktemp -d "$top_builddir/tests/tmp/dkim.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	trap 'rm -rf "$tmp"; exit 1' INT TERM HUP PIPE
}
