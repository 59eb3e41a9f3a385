#!/bin/sh
# test_check_readiness.sh - the readiness verdict of `dmarcctl check`
# reading aggregate reports imported by `dmarcctl import`.  The reports
# are real files of the shared corpus (aggregate/cry-inc), copied with
# their policy domain (and, where said, a source IP or a DKIM result)
# edited to match a zone of the private NSD.  Rule under test
# (dmarcctl(8)): a source is legitimate when some of its messages pass
# DMARC or its raw results pass SPF or DKIM for the organizational
# domain; one failing for at least 2% of its messages blocks the next
# step and is named.  TAP output; POSIX tools only.  CHECK_DB=pgsql
# (test_check_readiness_pgsql.sh) imports into a private PostgreSQL
# cluster (tests/store/pgsql-fixture.sh) and reads it from there.
set -u
CHECK_DB=${CHECK_DB:-sqlite}
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/check/check-lib.sh"

corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate/cry-inc
if [ ! -f "$corpus/google.xml" ]; then
	[ "${CI:-}" = true ] && { echo "1..1"; echo "not ok 1 - no corpus at $corpus"; exit 1; }
	echo "1..0 # SKIP no corpus at $corpus"
	exit 0
fi
nsd_fixture_require
if [ "$CHECK_DB" = pgsql ]; then
	. "$top_srcdir/tests/store/pgsql-fixture.sh"
	pg_fixture_require
fi
check_require_openssl
check_keys
DB=$T/history.sqlite
q() { sqlite3 "$DB" "$1"; }

zone_add test </dev/null
zone ready.test "v=DMARC1; p=none; rua=mailto:agg@ready.test"
zone blocked.test "v=DMARC1; p=none; rua=mailto:agg@blocked.test"
zone unaligned.test "v=DMARC1; p=quarantine; adkim=s; rua=mailto:agg@unaligned.test"
zone rej.test "v=DMARC1; p=reject; rua=mailto:agg@rej.test"
zone noreports.test "v=DMARC1; p=none; rua=mailto:agg@noreports.test"
zone broken.test "v=DMARC1; p=none; rua=mailto:agg@broken.test" \
    "v=DMARC1; p=reject; rua=mailto:agg@broken.test"
nsd_fixture_start
if [ "$CHECK_DB" = pgsql ]; then
	pg_fixture_start || { echo "Bail out! PostgreSQL did not start"; exit 1; }
	trap 'nsd_fixture_stop; pg_fixture_stop' EXIT
	DB=$PG_URI
	q() { pg_sql "$1"; }
fi

# copy FILE DOMAIN NAME [SED]: the corpus report with its domain (and
# report_id, to keep them distinct) replaced, plus an optional edit.
copy() {
	sed -e "s/<domain>\(foo-bar\.io\|random\.org\|mydomain\.org\)</<domain>$2</" \
	    -e "s/<report_id>\([^<]*\)</<report_id>\1-$2</" \
	    -e "s/<header_from>[^<]*</<header_from>$2</" \
	    ${4:+-e "$4"} "$corpus/$1" >"$T/$3.xml"
}
# ready.test: 1.2.3.4 passes (google, yahoo; March 2024); 42.42.42.42
# fails everything and authenticates nothing (hardfail; September 2024).
copy google.xml ready.test ready-google
copy yahoo.xml ready.test ready-yahoo
copy hardfail.xml ready.test ready-hardfail
# blocked.test: 1.2.3.4 passes once (google) and fails once (hardfail
# with its source changed): legitimate, failing 50%.
copy google.xml blocked.test blocked-google
copy hardfail.xml blocked.test blocked-hardfail 's/42\.42\.42\.42/1.2.3.4/'
# unaligned.test: DMARC fails, but DKIM passed for mail.unaligned.test
# (adkim=s: not aligned): legitimate through its raw results.
copy hardfail.xml unaligned.test unaligned-hardfail \
    '/<dkim>/,/<\/dkim>/{s/<result>fail</<result>pass</;s/<domain><\/domain>/<domain>mail.unaligned.test<\/domain>/;}'
# rej.test: as blocked.test, under p=reject.
copy google.xml rej.test rej-google
copy hardfail.xml rej.test rej-hardfail 's/42\.42\.42\.42/1.2.3.4/'
# broken.test: a legitimate source is fine, but the record is not.
copy google.xml broken.test broken-google

out=$("$CTL" -c /dev/null import --any-domain --no-rdns --database "$DB" "$T"/*.xml 2>&1)
tap_is "$?" 0 "the edited corpus reports import"
tap_is "$(q 'SELECT COUNT(*) FROM agg_reports')" 9 \
    "9 reports stored"

# verdict DOMAIN [ARGS]: readiness_verdict and readiness of --json.
run() {
	_d=$1
	shift
	_out=$(check --selector sel --database "$DB" "$@" "$_d")
	_rc=$?
}
field() { printf '%s\n' "$_out" | sed -n "s/^  \"$1\": \"\(.*\)\",\$/\1/p"; }
rep() { printf '%s\n' "$_out" | sed -n '/^  "reports": {/,/^  }/p' | sed -n "s/^    \"$1\": \([0-9]*\),*\$/\1/p"; }

run ready.test --days 365
tap_is "$(field readiness_verdict)" "ready for quarantine" "ready.test: ready for quarantine"
tap_is "$(field readiness)" "ready for quarantine: 3 aggregate reports, 3 messages, 1 legitimate source, none failing" \
    "ready.test: the reports behind the verdict"
tap_is "$(rep sources) $(rep legitimate_sources) $(rep failing_legitimate_sources)" "2 1 0" \
    "ready.test: 42.42.42.42 (failing, unauthenticated) is not legitimate"

run blocked.test --days 365
tap_is "$(field readiness_verdict)" "monitoring" "blocked.test: stays at monitoring"
tap_is "$(field readiness)" \
    "monitoring: p=none; 1 legitimate source still fails DMARC: 1.2.3.4 (1 of 2 failing); then p=quarantine" \
    "blocked.test: the failing legitimate source is named"
tap_ok "printf '%s\\n' \"\$_out\" | grep -q '\"source_ip\": \"1.2.3.4\"'" \
    "blocked.test: the JSON lists it under reports.failing"
tap_is "$_rc" 2 "blocked.test: exit status of the record's grade (p=none: 2)"
# Text output carries the same line and the totals.
txt_out=$("$CTL" -c /dev/null check --nameserver "$NSD_SERVER" --selector sel \
    --database "$DB" --days 365 blocked.test)
tap_ok "printf '%s\\n' \"\$txt_out\" | grep -q '^  readiness: monitoring: p=none; 1 legitimate source still fails DMARC: 1.2.3.4'" \
    "blocked.test: text output names the source"
tap_ok "printf '%s\\n' \"\$txt_out\" | grep -q '^  reports: 2 imported, 2 messages, 1 passing DMARC, 1 sources (1 legitimate)'" \
    "blocked.test: text output has the report totals"
# With the default 30 days only September's report is in the window:
# 1.2.3.4 then only fails there, and is not judged legitimate.
run blocked.test
tap_is "$(rep reports) $(rep window_days) $(field readiness_verdict)" "1 30 ready for quarantine" \
    "blocked.test: --days 30 reads only the last report"

run unaligned.test
tap_is "$(field readiness)" \
    "enforcing: p=quarantine; 1 legitimate source still fails DMARC: 42.42.42.42 (1 of 1 failing); then p=reject" \
    "unaligned.test: a DKIM pass for a subdomain, unaligned under adkim=s, is legitimate and blocks"

run rej.test --days 365
tap_is "$(field readiness)" \
    "enforcing: p=reject; 1 legitimate source still fails DMARC: 1.2.3.4 (1 of 2 failing)" \
    "rej.test: enforcing, with the legitimate source being rejected named"

run noreports.test
tap_is "$(field readiness)" \
    "ready for quarantine: no aggregate reports read (none imported for this domain); move once they show no legitimate source failing" \
    "noreports.test: no reports for the domain"
tap_is "$(rep reports)" 0 "noreports.test: 0 reports"

run broken.test --days 365
tap_is "$(field readiness_verdict)" "not protected" "broken.test: two records: not protected"

if [ "$CHECK_DB" = sqlite ]; then
	# HistoryDatabase from the configuration, when no --database.
	printf 'HistoryDatabase %s\n' "$DB" >"$T/dmarcd.conf"
	_out=$("$CTL" -c "$T/dmarcd.conf" check --json --nameserver "$NSD_SERVER" \
	    --selector sel --days 365 blocked.test)
	tap_is "$(field readiness_verdict)" "monitoring" "HistoryDatabase of the configuration is read"
	NOPE=$T/nope.sqlite
else
	NOPE=postgresql://dmarcd@127.0.0.1:$PG_PORT/nope_db
fi
# A database that does not exist is an error naming it, and not created.
"$CTL" -c /dev/null check --json --nameserver "$NSD_SERVER" --selector sel \
    --database "$NOPE" ready.test >/dev/null 2>"$T/err"
tap_is "$? $(test -e "$T/nope.sqlite" && echo created)" "74 " \
    "a missing --database exits 74 (EX_IOERR) and is not created"
tap_ok "grep -q 'nope' '$T/err'" "the error names the database"
"$CTL" -c /dev/null check --days x ready.test >/dev/null 2>&1
tap_is "$?" 64 "--days x is a usage error"
tap_done
