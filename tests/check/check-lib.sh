# check-lib.sh - helpers shared by the tests of `dmarcctl check DOMAIN`
# (source it after tests/dns/tap.sh and tests/dns/nsd-fixture.sh, after
# nsd_fixture_require).
#
#   check_keys                      2048/1024/512-bit RSA keys: K2048...
#   zone NAME 'DMARC TXT'...        a domain with SPF, a key at "sel" and
#                                   the given _dmarc strings
#   zone_spf NAME 'SPF RR' 'DMARC'  the same with that SPF line ("": none)
#   check ARGS...                   dmarcctl check --json on the fixture
#   codes / score                   filters of check's JSON
#   snippets                        "code<TAB>name<TAB>value" per snippet
#   case_ NAME DOMAIN SELS SCORE EXIT 'CODES'
#                                   one situation: score, exit status,
#                                   codes; DMARC snippets re-graded with
#                                   --record; every snippet noted for
#                                   check_republish
#   check_republish                 phase 2: each noted snippet is put in
#                                   its zone in place of what was there,
#                                   NSD restarted, and the domain checked
#                                   again: the issue that proposed it
#                                   must be gone, and the record valid.
# POSIX sh; the keys are made by openssl.

CTL=$top_builddir/dmarcctl

check_require_openssl() {
	command -v openssl >/dev/null 2>&1 && return 0
	[ "${CI:-}" = true ] && {
		echo "1..1"
		echo "not ok 1 - openssl missing (apt-get install openssl)"
		exit 1
	}
	echo "1..0 # SKIP openssl not installed (apt-get install openssl)"
	exit 0
}

genrsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2" 2>/dev/null; }
pub_rsa() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n'; }
# A TXT value as zone-file strings of at most 250 bytes.
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }

check_keys() {
	_nsd_mkdir
	T=$NSD_DIR/check
	mkdir -p "$T"
	: >"$T/noted"
	genrsa 2048 "$T/k2048.pem"
	genrsa 1024 "$T/k1024.pem"
	genrsa 512 "$T/k512.pem"
	K2048=$(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$T/k2048.pem")")
	K1024=$(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$T/k1024.pem")")
	K512=$(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$T/k512.pem")")
}

SPF='@ 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"'
zone() {
	_z=$1
	shift
	zone_spf "$_z" "$SPF" "$@"
}
zone_spf() {
	_z=$1
	[ -n "$2" ] && zone_rr "$_z" "$2"
	shift 2
	zone_rr "$_z" "@ 300 IN A 192.0.2.10" \
	    "sel._domainkey 300 IN TXT $K2048"
	for _t in "$@"; do
		zone_rr "$_z" "_dmarc 300 IN TXT \"$_t\""
	done
}

check() {
	"$CTL" -c /dev/null check --json --nameserver "$NSD_SERVER" "$@"
}
codes() { grep '"code":' | sed 's/.*"code": "\([^"]*\)".*/\1/' | sort | tr '\n' ' ' | sed 's/ $//'; }
score() { sed -n 's/^  "score": \([0-9]*\),*$/\1/p'; }
snippets() {
	awk -F'"' '
	/"code": /		{ code = $4 }
	/"dns_snippet": \{/	{ in_s = 1; name = "" }
	in_s && /"name": /	{ name = $4 }
	in_s && /"value": /	{
		v = $0
		sub(/^ *"value": "/, "", v); sub(/"$/, "", v)
		gsub(/\\"/, "\"", v)
		printf "%s\t%s\t%s\n", code, name, v
		in_s = 0
	}'
}

# case_ NAME DOMAIN SELECTORS SCORE EXIT 'CODES'
case_() {
	_out=$(check --selector "$3" "$2")
	_rc=$?
	tap_is "$(printf '%s\n' "$_out" | score) rc=$_rc" "$4 rc=$5" "$1: score and exit status"
	tap_is "$(printf '%s\n' "$_out" | codes)" "$6" "$1: issue codes"
	# Every DMARC snippet is a record the grader accepts as valid.
	printf '%s\n' "$_out" | snippets >"$T/snips"
	_bad=
	_n=0
	while IFS='	' read -r _c _name _v; do
		_n=$((_n + 1))
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$_c" \
		    "$_name" "$_v" >>"$T/noted"
		case $_name in
		_dmarc.*)
			"$CTL" -c /dev/null check --json --record "$_v" |
			    grep -q '"valid": true' || _bad="$_bad [$_v]"
			;;
		esac
	done <"$T/snips"
	tap_is "$_bad" "" "$1: $_n snippet(s); the DMARC ones re-grade as valid"
}

# The zone of an owner name: the longest zone of the fixture it ends in.
_zone_of() {
	_best=
	for _z in $_nsd_zones; do
		case $1 in
		"$_z"|*."$_z")
			[ ${#_z} -gt ${#_best} ] && _best=$_z
			;;
		esac
	done
	echo "$_best"
}

# Replace the TXT records at NAME that the snippet replaces (any at a
# _dmarc name, the SPF ones elsewhere) with VALUE.
_republish() {
	_z=$(_zone_of "$1")
	_rel=${1%."$_z"}
	[ "$_rel" = "$1" ] && _rel=@
	_zf=$(_nsd_zonefile "$_z")
	case $2 in
	v=spf1*) _kind=spf ;;
	*) _kind=any ;;
	esac
	awk -v rel="$_rel" -v kind="$_kind" '
	    $1 == rel && $4 == "TXT" &&
	    (kind == "any" || index($0, "v=spf1") > 0) { next }
	    { print }' "$_zf" >"$_zf.new" && mv "$_zf.new" "$_zf"
	printf '%s 300 IN TXT %s\n' "$_rel" "$(txt "$2")" >>"$_zf"
}

check_republish() {
	# The first snippet at each name wins (later ones say the same).
	awk -F'\t' '!seen[$5]++' "$T/noted" >"$T/first"
	while IFS='	' read -r _case _dom _sels _c _name _v; do
		_republish "$_name" "$_v"
	done <"$T/first"
	nsd_fixture_stop_server
	nsd_fixture_start
	while IFS='	' read -r _case _dom _sels _c _name _v; do
		_out=$(check --selector "$_sels" "$_dom")
		_got=$(printf '%s\n' "$_out" | codes)
		case " $_got " in
		*" $_c "*) _fixed="still $_c: $_got" ;;
		*) _fixed=gone ;;
		esac
		case $_name in
		*_report._dmarc.*) _part= ;;
		_dmarc.*) _part='"dmarc"' ;;
		*) _part='"spf"' ;;
		esac
		# The part's "valid" member (an authorization record is
		# not graded: its issue being gone is the test).
		_valid=true
		[ -n "$_part" ] && _valid=$(printf '%s\n' "$_out" |
		    sed -n "/^  $_part: {/,/\"valid\"/p" |
		    sed -n 's/.*"valid": \(true\|false\).*/\1/p')
		tap_is "$_fixed $_valid" "gone true" \
		    "$_case: publishing $_name \"$_v\" fixes $_c"
	done <"$T/first"
}
