# tap.sh - tiny TAP helpers for shell tests (source it).
#
#   tap_is "$(command)" "expected output" "name"
#   tap_ok 'test -f x' "name"          (the first argument is evaluated)
#   tap_done                           (prints the plan, sets the status)

_tap_n=0
_tap_failed=0

tap_is() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $3"
		echo "# got:"
		printf '%s\n' "$1" | sed 's/^/#   /'
		echo "# want:"
		printf '%s\n' "$2" | sed 's/^/#   /'
	fi
}

tap_ok() {
	_tap_n=$((_tap_n + 1))
	if eval "$1"; then
		echo "ok $_tap_n - $2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $2"
	fi
}

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_failed" = 0 ]
}
