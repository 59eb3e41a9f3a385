#!/bin/sh
# tests/web/test_dashboard.sh - the dashboard in a real browser.
#
# Imports real aggregate reports of the shared corpus (and one derived
# from a corpus file whose org_name is markup) with `dmarcctl import`,
# makes a token with `dmarcctl token add`, starts a private `dmarcctl
# serve` on a free loopback port with web/static/ as its web root, and
# drives Debian's headless Chromium through tests/web/drive.js (the
# DevTools protocol over a pipe; Node's standard library only).  The
# figures the page must show are computed here, from the database, with
# sqlite3 and the definitions of doc/api.md, not taken from the API.
# The screenshot is left at tests/web/dashboard.png in the build tree.
# TAP output; POSIX sh.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port

CTL=$top_builddir/dmarcctl
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate

# Missing tools: a skip, except under CI where a skip is a failure.
need() {
	[ "${CI:-}" = true ] && { echo "1..1"; echo "not ok 1 - $1"; exit 1; }
	echo "1..0 # SKIP $1"
	exit 0
}
command -v node >/dev/null 2>&1 || need "node missing (apt-get install nodejs)"
[ -x "$CHROMIUM" ] || need "$CHROMIUM missing (apt-get install chromium)"
command -v sqlite3 >/dev/null 2>&1 || need "sqlite3 missing (apt-get install sqlite3)"
[ -d "$corpus" ] || need "no corpus at $corpus (set DMARCD_CORPUS)"
# Without the server the test fails, in CI or not: it cannot pass vacuously.
if ! "$CTL" serve --help >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - $CTL has no working 'serve' command"
	exit 1
fi

T=$top_builddir/tests/tmp/web-dashboard
rm -rf "$T"
mkdir -p "$T" "$top_builddir/tests/web"
T=$(cd "$T" && pwd)
DB=$T/reports.sqlite
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1. The data: real corpus files, plus a copy of one whose org_name is
# markup (XML-escaped in the file, so stored as "<script>...").
# Every domain of the corpus is kept (--any-domain) and no PTR is looked
# up (--no-rdns: no DNS here); older importers lack both options and
# need neither.
IMPORT_OPTS=
for _o in --any-domain --no-rdns; do
	"$CTL" -c /dev/null import --help 2>&1 | grep -q -e "$_o" &&
	    IMPORT_OPTS="$IMPORT_OPTS $_o"
done
# shellcheck disable=SC2086
"$CTL" -c /dev/null import $IMPORT_OPTS --database "$DB" "$corpus/cry-inc" \
    "$corpus/parsedmarc" "$corpus/../failure" >"$T/import.out" 2>&1
rc=$?
# 65 (EX_DATAERR): the corpus' deliberately broken files are rejected.
tap_ok '[ $rc -eq 0 ] || [ $rc -eq 65 ]' "corpus imported (exit $rc)"
# It is also the day after the corpus' last example.com report, from a
# new source sending 50 messages: the import after it may raise an alert,
# which the dashboard must then list.
src="$corpus/parsedmarc/example.net!example.com!1529366400!1529452799.xml"
MARKUP_ORG='<script>window.__dmarcd_xss=1</script><img src=x onerror=window.__dmarcd_xss=2>Evil & Co'
sed -e 's|<org_name>example.net</org_name>|<org_name>\&lt;script\&gt;window.__dmarcd_xss=1\&lt;/script\&gt;\&lt;img src=x onerror=window.__dmarcd_xss=2\&gt;Evil \&amp; Co</org_name>|' \
    -e 's|<report_id>[^<]*</report_id>|<report_id>markup-in-org-name</report_id>|' \
    -e 's|<begin>[0-9]*</begin>|<begin>1711929600</begin>|' \
    -e 's|<end>[0-9]*</end>|<end>1712015999</end>|' \
    -e 's|<source_ip>[^<]*</source_ip>|<source_ip>198.51.100.77</source_ip>|' \
    -e 's|<count>1</count>|<count>50</count>|' \
    "$src" >"$T/markup.xml"
# shellcheck disable=SC2086
"$CTL" -c /dev/null import $IMPORT_OPTS --database "$DB" "$T/markup.xml" \
    >>"$T/import.out" 2>&1
q() { sqlite3 -batch -noheader "$DB" "$1"; }
tap_is "$(q "SELECT org_name FROM agg_reports WHERE report_id = 'markup-in-org-name'")" \
    "$MARKUP_ORG" "the report with markup in its org_name is stored as is"

# 2. The expected figures for example.com over the whole span of its
# reports (a report counts on the UTC day its period begins).
D=example.com
FROM=$(q "SELECT date(min(begin_ts), 'unixepoch') FROM agg_reports WHERE domain = '$D'")
TO=$(q "SELECT date(max(begin_ts), 'unixepoch') FROM agg_reports WHERE domain = '$D'")
IN="r.domain = '$D' AND r.begin_ts >= CAST(strftime('%s', '$FROM') AS INTEGER)
    AND r.begin_ts < CAST(strftime('%s', '$TO', '+1 day') AS INTEGER)"
RECS="agg_records c JOIN agg_reports r ON r.id = c.report WHERE $IN"
PASS="CASE WHEN c.eval_dkim = 'pass' OR c.eval_spf = 'pass' THEN c.count ELSE 0 END"
REPORTS=$(q "SELECT count(*) FROM agg_reports r WHERE $IN")
SOURCES=$(q "SELECT count(DISTINCT c.source_ip) FROM $RECS")
MESSAGES=$(q "SELECT sum(c.count) FROM $RECS")
NPASS=$(q "SELECT sum($PASS) FROM $RECS")
PER_IP="SELECT c.source_ip AS ip, sum(c.count) AS m, sum($PASS) AS p,
    sum(c.count) - sum($PASS) AS f FROM $RECS GROUP BY c.source_ip"
FAILING=$(q "SELECT count(*) FROM $RECS AND NOT (c.eval_dkim = 'pass' OR c.eval_spf = 'pass')")
FORENSIC=$(q "SELECT count(*) FROM failure_reports WHERE lower(reported_domain) = '$D'
    AND arrival_ts >= CAST(strftime('%s', '$FROM') AS INTEGER)
    AND arrival_ts < CAST(strftime('%s', '$TO', '+1 day') AS INTEGER)")
ALERTS=$(q "SELECT count(*) FROM alerts WHERE domain = '$D'")
# The reverse DNS cache that the importer fills (here without DNS): one
# name for the busiest source, which the sources table must show.
TOP_IP=$(q "SELECT ip FROM ($PER_IP) ORDER BY m DESC, ip LIMIT 1")
q "INSERT OR REPLACE INTO rdns (ip, ptr, org, status, resolved_at)
    VALUES ('$TOP_IP', 'mta1.mail.example.net', 'example.net', 'ok',
    CAST(strftime('%s', 'now') AS INTEGER))"
# JSON lists of numbers, for the scenario file.
list() { q "$1" | paste -sd, -; }
# Domains with data: aggregate or failure reports.
DOMAINS=$(q "SELECT '\"' || d || '\"' FROM (SELECT domain AS d FROM agg_reports
    UNION SELECT lower(reported_domain) FROM failure_reports) ORDER BY d" |
    paste -sd, -)
echo "# $D $FROM..$TO: $REPORTS reports, $SOURCES sources, $MESSAGES messages, $NPASS pass, $ALERTS alerts"
tap_ok '[ "${MESSAGES:-0}" -gt 0 ] && [ "$SOURCES" -gt 50 ]' \
    "the corpus gives $D messages and more sources than one page"

# 3. A token for every domain, and the server.
TOKEN=$("$CTL" -c /dev/null token add --database "$DB" --domains '*' dashboard-test 2>"$T/token.err" |
    grep -o 'dmarcd_[A-Za-z0-9_-]*' | head -n 1)
tap_ok '[ -n "$TOKEN" ]' "dmarcctl token add gives a token"
[ -n "$TOKEN" ] || sed 's/^/# /' "$T/token.err"
# Under CI the test runs as root, and serve refuses root unless told: it
# would otherwise drop to a user that cannot read this build tree.
echo "RunAsRoot yes" >"$T/serve.conf"
PORT=
for _try in 1 2 3 4 5; do
	PORT=$(pf_free_port)
	"$CTL" -c "$T/serve.conf" serve --database "$DB" --listen "127.0.0.1:$PORT" \
	    --web-root "$top_srcdir/web/static" >"$T/serve.log" 2>&1 &
	SERVE_PID=$!
	# Up when / answers; gone when it lost the port race (retry).
	_n=0
	while kill -0 "$SERVE_PID" 2>/dev/null && [ $_n -lt 300 ] &&
	    ! node -e "require('http').get('http://127.0.0.1:$PORT/',
		(r) => process.exit(r.statusCode === 200 ? 0 : 1))
		.on('error', () => process.exit(1))" 2>/dev/null; do
		sleep 0.2
		_n=$((_n + 1))
	done
	kill -0 "$SERVE_PID" 2>/dev/null && break
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
	grep -q -i 'address already in use\|cannot listen\|bind' "$T/serve.log" || break
done
tap_ok '[ -n "$SERVE_PID" ]' "dmarcctl serve listens on 127.0.0.1:$PORT"
if [ -z "$SERVE_PID" ]; then
	sed 's/^/# /' "$T/serve.log"
	tap_done
	exit 1
fi

# 4. The browser.
cat >"$T/scenario.json" <<EOF
{
  "chromium": "$CHROMIUM",
  "chromium_log": "$T/chromium.log",
  "profile": "$T/profile",
  "screenshot": "$(cd "$top_builddir/tests/web" && pwd)/dashboard.png",
  "url": "http://127.0.0.1:$PORT/",
  "token": "$TOKEN",
  "bad_token": "dmarcd_not-a-token-of-this-server",
  "domain": "$D", "from": "$FROM", "to": "$TO",
  "expect": {
    "domains": [$DOMAINS],
    "reports": $REPORTS, "sources": $SOURCES,
    "messages": $MESSAGES, "pass": $NPASS,
    "messages_desc": [$(list "SELECT m FROM ($PER_IP) ORDER BY m DESC LIMIT 50")],
    "messages_asc": [$(list "SELECT m FROM ($PER_IP) ORDER BY m ASC LIMIT 50")],
    "fail_desc": [$(list "SELECT f FROM ($PER_IP) ORDER BY f DESC LIMIT 50")],
    "per_ip": {$(q "SELECT '\"' || ip || '\": [' || m || ',' || p || ',' || f || ']'
	FROM ($PER_IP)" | paste -sd, -)},
    "failing_records": $FAILING, "failure_reports": $FORENSIC,
    "alerts": $ALERTS,
    "ptr": { "$TOP_IP": "mta1.mail.example.net" },
    "markup_org": $(node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$MARKUP_ORG")
  }
}
EOF
node "$top_srcdir/tests/web/drive.js" "$T/scenario.json" >"$T/drive.out" 2>&1
rc=$?
# Number the browser's checks as TAP.
while IFS= read -r line; do
	case $line in
	"ok - "*) _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - ${line#ok - }" ;;
	"not ok - "*) _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - ${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done <"$T/drive.out"
tap_ok '[ $rc -eq 0 ]' "the browser scenario ran to its end (exit $rc)"
tap_ok 'kill -0 "$SERVE_PID" 2>/dev/null' "dmarcctl serve is still running"
tap_done
