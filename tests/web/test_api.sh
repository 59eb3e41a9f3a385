#!/bin/sh
# test_api.sh - dmarcctl serve over real HTTP (curl): every endpoint of
# doc/api.md, paging, filters, token scope (401, 404), bad input (dates,
# numbers, paths, traversal, SQL-looking values, oversized requests,
# invalid UTF-8), static files and chart.js, /metrics, /api/v1/check
# against a private NSD with its rate limit, and HTTPS.  The expected
# numbers are computed here from the corpus XML files with xmllint, not
# from the server or the importer.  TAP output.
#
# API_DB=pgsql (tests/web/test_api_pgsql.sh) runs the same checks on a
# private PostgreSQL cluster (tests/store/pgsql-fixture.sh), imported
# with the same dmarcctl import, plus a frozen database (SIGSTOP): 503,
# and the server answers again after SIGCONT.
set -u
API_DB=${API_DB:-sqlite}
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only

need() {
	[ "${CI:-}" = true ] && { echo "1..1"; echo "not ok 1 - $1"; exit 1; }
	echo "1..0 # SKIP $1"
	exit 0
}
for _t in curl xmllint jq sqlite3 openssl; do
	command -v "$_t" >/dev/null 2>&1 ||
	    need "$_t not installed (contrib/debian-packages.txt)"
done
nsd_fixture_require
if [ "$API_DB" = pgsql ]; then
	. "$top_srcdir/tests/store/pgsql-fixture.sh"
	pg_fixture_require
fi
CORPUS=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}
AGG=$CORPUS/aggregate
[ -d "$AGG/cry-inc" ] || need "corpus not found at $CORPUS (set DMARCD_CORPUS)"
CHARTJS=
for _f in /usr/share/javascript/chart.js/chart.umd.js \
    /usr/share/javascript/chart.js/chart.umd.min.js \
    /usr/share/javascript/chart.js/chart.min.js; do
	[ -f "$_f" ] && { CHARTJS=$_f; break; }
done
[ -n "$CHARTJS" ] || need "libjs-chart.js not installed"

CTL=$top_builddir/dmarcctl
_nsd_mkdir
T=$NSD_DIR/web
mkdir -p "$T"
DB=$T/history.sqlite
# dbsql SQL: run SQL on the served database, whichever it is.
dbsql() { sqlite3 "$DB" "$1"; }
SRV_PID=
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	SRV_PID=
}

# The DNS zone for /api/v1/check.
zone_add test </dev/null
zone_rr good.test '@ 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"' \
    '_dmarc 300 IN TXT "v=DMARC1; p=reject; rua=mailto:agg@good.test"'
zone_rr other.test '@ 300 IN TXT "v=spf1 -all"' \
    '_dmarc 300 IN TXT "v=DMARC1; p=none"'
trap 'stop_server; nsd_fixture_stop' EXIT
nsd_fixture_start
if [ "$API_DB" = pgsql ]; then
	pg_fixture_start || { echo "Bail out! PostgreSQL did not start"; exit 1; }
	trap 'stop_server; nsd_fixture_stop; pg_fixture_stop' EXIT
	DB=$PG_URI
	dbsql() { pg_sql "$1"; }
	echo "# PostgreSQL at $PG_URI"
fi

# --- the data: corpus files, imported -----------------------------------
P=$AGG/parsedmarc
FILES=
for _f in acme aol gmxnet google hardfail mailru outlook solamora webde yahoo; do
	FILES="$FILES${FILES:+
}$AGG/cry-inc/$_f.xml"
done
for _f in '!example.com!1538204542!1538463818.xml' \
    '!large-example.com!1711897200!1711983600.xml' \
    'addisonfoods.com!example.com!1536105600!1536191999.xml' \
    'empty_reason.xml' 'example.net!example.com!1529366400!1529452799.xml' \
    'ikea.com!example.de!1538690400!1538776800.xml' \
    'protection.outlook.com!example.com!1711756800!1711843200.xml' \
    'report_with_upper_cased_pass.xml' \
    'rfc9990-example.net!example.com!1700000000!1700086399.xml' \
    'rfc9990-sample.xml' 'usssa.com!example.com!1538784000!1538870399.xml' \
    'veeam.com!example.com!1530133200!1530219600.xml'; do
	FILES="$FILES
$P/$_f"
done
NFILES=$(printf '%s\n' "$FILES" | wc -l | tr -d ' ')

# xq FILE XPATH: the XPath over the file, namespace removed (--recover:
# the ikea.com sample opens a stray xs:schema element and never closes it).
xq() { sed 's/ xmlns="[^"]*"//g' "$1" | xmllint --recover --xpath "$2" - 2>/dev/null; }
LOWER="'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'"
PASSREC="translate(normalize-space(policy_evaluated/dkim),$LOWER)='pass' or translate(normalize-space(policy_evaluated/spf),$LOWER)='pass'"
# One line per file: domain org begin messages pass failing-records
printf '%s\n' "$FILES" | while IFS= read -r f; do
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$(xq "$f" "translate(normalize-space(//policy_published/domain),$LOWER)")" \
	    "$(xq "$f" "normalize-space(//report_metadata/org_name)")" \
	    "$(xq "$f" "normalize-space(//report_metadata/date_range/begin)")" \
	    "$(xq "$f" "sum(//record/row/count)")" \
	    "$(xq "$f" "sum(//record/row[$PASSREC]/count)")" \
	    "$(xq "$f" "count(//record[not(row[$PASSREC])])")"
done > "$T/facts"
# Distinct source IPs of example.com's files.
printf '%s\n' "$FILES" | while IFS= read -r f; do
	d=$(xq "$f" "translate(normalize-space(//policy_published/domain),$LOWER)")
	[ "$d" = example.com ] || continue
	sed 's/ xmlns="[^"]*"//g' "$f" | tr -d '\n' |
	    grep -o '<source_ip>[^<]*</source_ip>' |
	    sed 's/<[^>]*>//g; s/[[:space:]]//g' | tr 'A-Z' 'a-z'
done | sort -u > "$T/ex_ips"

sum_col() { awk -F'\t' -v d="$1" -v c="$2" '$1 == d { s += $c } END { print s + 0 }' "$T/facts"; }
EX_REPORTS=$(awk -F'\t' '$1 == "example.com"' "$T/facts" | wc -l | tr -d ' ')
EX_MSGS=$(sum_col example.com 4)
EX_PASS=$(sum_col example.com 5)
EX_FAILREC=$(sum_col example.com 6)
EX_SOURCES=$(wc -l < "$T/ex_ips" | tr -d ' ')
EX_DAYS=$(awk -F'\t' '$1 == "example.com" { print int($3 / 86400) }' "$T/facts" | sort -u | wc -l | tr -d ' ')
ALL_DOMAINS=$(cut -f1 "$T/facts" | sort -u | tr '\n' ' ' | sed 's/ $//')
GOOGLE_REPORTS=$(awk -F'\t' '$2 == "google.com"' "$T/facts" | wc -l | tr -d ' ')
echo "# corpus: $NFILES files, example.com: $EX_REPORTS reports, $EX_MSGS messages, $EX_PASS pass, $EX_SOURCES sources"

printf '%s\n' "$FILES" | tr '\n' '\0' |
    xargs -0 "$CTL" -c /dev/null import --any-domain --no-rdns --database "$DB" > "$T/import.out" 2>&1
tap_is "$(grep -c ': stored report' "$T/import.out")" "$NFILES" \
    "all $NFILES corpus files imported"

tok() { "$CTL" -c /dev/null token "$@" --database "$DB"; }
ALL=$(tok add all --domains '*' 2>/dev/null)
EX=$(tok add scoped --domains 'Example.COM,example.org' 2>/dev/null)
GONE=$(tok add gone --domains '*' 2>/dev/null)
RATE=$(tok add rate --domains '*' 2>/dev/null)
tap_ok 'printf "%s" "$ALL" | grep -Eq "^dmarcd_[A-Za-z0-9_-]{43}$"' \
    "token add prints a 256-bit base64url token"
tap_is "$(dbsql "SELECT COUNT(*) FROM api_tokens WHERE hash = '$(printf '%s' "$ALL" | openssl dgst -sha256 | sed 's/.* //')'")" 1 \
    "only the token's SHA-256 is stored"
tap_is "$(dbsql "SELECT COUNT(*) FROM api_tokens WHERE hash LIKE '%$(printf '%s' "$ALL" | cut -c8-20)%' OR domains LIKE '%$(printf '%s' "$ALL" | cut -c8-20)%'")" 0 \
    "the token itself is not in the database"
tap_is "$(tok list --json | jq -r '.tokens[] | select(.name == "scoped") | .domains')" \
    "example.com example.org" "token list shows the scope, lower-cased"
tok add all --domains x.test >/dev/null 2>&1
tap_is "$?" 65 "token add: an existing name is refused (EX_DATAERR)"
tok add bad --domains 'x.test,not a domain!' >/dev/null 2>"$T/err"
_rc=$?
tap_ok '[ $_rc = 65 ] && grep -q "domain!" "$T/err"' \
    "token add: a bad domain is refused and named"
tap_is "$(tok revoke gone)" "token gone revoked" "token revoke"
tok revoke nope >/dev/null 2>&1
tap_is "$?" 66 "token revoke: unknown name (EX_NOINPUT)"

# --- the server ----------------------------------------------------------
# start_server CONF: dmarcctl serve on a free port ($PORT, $BASE).
start_server() {
	for _try in 1 2 3 4 5; do
		PORT=$(pf_free_port)
		"$CTL" -c "$1" serve --listen "127.0.0.1:$PORT" --database "${SRV_DB:-$DB}" \
		    --web-root "$T/root" --nameserver "$NSD_SERVER" \
		    >>"$T/serve.log" 2>&1 &
		SRV_PID=$!
		_i=0
		while [ $_i -lt 100 ]; do
			kill -0 "$SRV_PID" 2>/dev/null || break
			if curl -s -o /dev/null "${SCHEME:-http}://127.0.0.1:$PORT/" \
			    ${CURL_TLS:-}; then
				BASE=${SCHEME:-http}://127.0.0.1:$PORT
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		stop_server
	done
	echo "Bail out! dmarcctl serve did not start:"
	sed 's/^/# /' "$T/serve.log"
	exit 1
}
mkdir -p "$T/root/sub"
cp "$top_srcdir/web/static/index.html" "$T/root/index.html"
printf 'body { color: black }\n' > "$T/root/sub/app.css"
printf 'secret\n' > "$T/outside.txt"
ln -s "$T/outside.txt" "$T/root/link.txt"
ln -s /etc "$T/root/etc"
cat > "$T/serve.conf" <<EOF
RunAsRoot yes
ServeThreads 2
ServeCheckRate 3
ServeMaxHeaderSize 8192
ChartJSDir $(dirname "$CHARTJS")
EOF
start_server "$T/serve.conf"
echo "# dmarcctl serve $SRV_PID at $BASE"

# get PATH [TOKEN [curl args]]: body in $T/body, status in $CODE.
get() {
	_p=$1
	shift
	if [ $# -gt 0 ] && [ -n "$1" ]; then
		_a="Authorization: Bearer $1"
	else
		_a="X-None: 1"
	fi
	[ $# -gt 0 ] && shift
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' \
	    -H "$_a" "$@" "$BASE$_p")
}
json() { jq -r "$1" "$T/body"; }
hdr() { grep -i "^$1:" "$T/headers" | sed 's/^[^:]*: *//' | tr -d '\r'; }
R=/api/exchange/dmarc-reports
ALLTIME="from=1970-01-01&to=2030-12-31"

# Authentication.
get "$R"
tap_is "$CODE $(hdr WWW-Authenticate)" '401 Bearer realm="dmarcd"' \
    "no token: 401 with WWW-Authenticate"
tap_ok 'json .error | grep -q Authorization' "401 body is a JSON error"
get "$R" "dmarcd_notatoken"
tap_is "$CODE" 401 "unknown token: 401"
get "$R" "$GONE"
tap_is "$CODE" 401 "revoked token: 401"

# The report list.
get "$R?$ALLTIME&per_page=500" "$ALL"
tap_is "$CODE $(json .total) $(json '.reports | length')" "200 $NFILES $NFILES" \
    "reports: all $NFILES, in one page"
tap_ok 'jq -e "[.reports[].begin] == ([.reports[].begin] | sort | reverse)" "$T/body" >/dev/null' \
    "reports: sorted by begin, newest first"
tap_is "$(jq '[.reports[] | select(.domain == "example.com") | .messages] | add' "$T/body")" \
    "$EX_MSGS" "reports: example.com's messages add up to the XML's counts"
tap_is "$(jq '[.reports[] | .pass + .fail == .messages] | all' "$T/body")" true \
    "reports: pass + fail = messages"
get "$R?$ALLTIME&per_page=7&page=1" "$ALL"; P1=$(json '[.reports[].id] | join(",")')
get "$R?$ALLTIME&per_page=7&page=2" "$ALL"; P2=$(json '[.reports[].id] | join(",")')
LAST=$(( (NFILES + 6) / 7 ))
get "$R?$ALLTIME&per_page=7&page=$LAST" "$ALL"
tap_is "$(json '.reports | length') $(json .total) $(json .page)" \
    "$(( NFILES - (LAST - 1) * 7 )) $NFILES $LAST" "reports: the last page holds the rest"
tap_ok '[ -n "$P1" ] && [ "$P1" != "$P2" ]' "reports: pages differ"
get "$R?$ALLTIME&per_page=7&page=$((LAST + 1))" "$ALL"
tap_is "$CODE $(json '.reports | length') $(json .total)" "200 0 $NFILES" \
    "reports: a page past the end is empty"
get "$R?$ALLTIME&org=google.com" "$ALL"
tap_is "$(json .total) $(json '.reports[0].org_name')" "$GOOGLE_REPORTS google.com" \
    "reports: org filter"
get "$R?$ALLTIME&domain=example.com" "$ALL"
tap_is "$(json .total)" "$EX_REPORTS" "reports: domain filter"
get "$R?from=2024-03-31&to=2024-03-31" "$ALL"
tap_is "$(json .total)" "$(awk -F'\t' 'int($3 / 86400) == 19813' "$T/facts" | wc -l | tr -d ' ')" \
    "reports: a one-day range (begin day 2024-03-31)"
get "$R" "$ALL"
tap_is "$(json .total)" 0 "reports: default range is the last 30 days (corpus is older)"

# Scope.
get "$R?$ALLTIME&per_page=500" "$EX"
tap_is "$(json .total) $(json '[.reports[].domain] | unique | join(",")')" \
    "$EX_REPORTS example.com" "scoped token: only its domains are listed"
get "$R?$ALLTIME&domain=foobar.com" "$EX"
tap_is "$CODE $(json .error)" "404 no such domain: foobar.com" \
    "scoped token, domain outside: 404"
get "$R/foobar.com/summary?$ALLTIME" "$EX"
tap_is "$CODE $(json .error)" "404 no such domain: foobar.com" \
    "scoped token: summary outside the scope is 404"
get "$R/example.org/summary?$ALLTIME" "$EX"
tap_is "$CODE $(json .error)" "404 no such domain: example.org" \
    "in scope without data: the same 404"
get "/api/v1/domains" "$EX"
tap_is "$(json '.domains | join(" ")')" "example.com" "domains: scoped"
get "/api/v1/domains" "$ALL"
tap_is "$(json '.domains | join(" ")')" "$ALL_DOMAINS" "domains: all, from the XML"

# Summary, against the XML's numbers.
get "$R/example.com/summary?$ALLTIME" "$EX"
tap_is "$CODE $(json .reports) $(json .messages) $(json .pass) $(json .fail)" \
    "200 $EX_REPORTS $EX_MSGS $EX_PASS $((EX_MSGS - EX_PASS))" \
    "summary: reports, messages, pass, fail"
tap_is "$(json .sources)" "$EX_SOURCES" "summary: distinct source IPs"
tap_is "$(jq --argjson p "$EX_PASS" --argjson m "$EX_MSGS" \
    '(.pass_rate - $p / $m | fabs) < 1e-9 and (.pass_rate + .fail_rate - 1 | fabs) < 1e-9' "$T/body")" \
    true "summary: pass and fail rates"
tap_is "$(json '.daily | length') $(jq '[.daily[].messages] | add' "$T/body")" \
    "$EX_DAYS $EX_MSGS" "summary: daily series covers every day and message"
tap_is "$(jq '.policy_applied | .none + .quarantine + .reject' "$T/body")" \
    "$(dbsql "SELECT SUM(c.count) FROM agg_records c JOIN agg_reports r ON r.id = c.report WHERE r.domain = 'example.com' AND c.disposition IN ('none','quarantine','reject')")" \
    "summary: policy applied counts"
tap_ok 'json .readiness.verdict | grep -Eq "^(monitoring|ready_for_quarantine|ready_for_reject|enforcing|not_ready)$"' \
    "summary: a readiness verdict ($(json .readiness.verdict))"
get "$R/example.com/summary?from=2024-03-31&to=2024-03-31" "$EX"
tap_is "$(json .from) $(json .to) $(json .messages)" \
    "2024-03-31 2024-03-31 $(awk -F'\t' '$1 == "example.com" && int($3 / 86400) == 19813 { s += $4 } END { print s }' "$T/facts")" \
    "summary: date range"

# Sources, paged through.
get "$R/example.com/sources?$ALLTIME&per_page=500" "$EX"
tap_is "$CODE $(json .total)" "200 $EX_SOURCES" "sources: total"
SUM=0
PAGES=$(( (EX_SOURCES + 499) / 500 ))
for _pg in $(seq 1 "$PAGES"); do
	get "$R/example.com/sources?$ALLTIME&per_page=500&page=$_pg" "$EX"
	SUM=$((SUM + $(jq '[.sources[].messages] | add // 0' "$T/body")))
	jq -r '.sources[].source_ip' "$T/body"
done | sort > "$T/api_ips"
tap_is "$(cmp -s "$T/api_ips" "$T/ex_ips" && echo same)" same \
    "sources: every page together lists the XML's source IPs once"
get "$R/example.com/sources?$ALLTIME&per_page=20" "$EX"
tap_is "$(jq '[.sources[].messages] == ([.sources[].messages] | sort | reverse)' "$T/body")" \
    true "sources: sorted by messages"
get "$R/example.com/sources?$ALLTIME&sort=source_ip&order=asc&per_page=50" "$EX"
tap_is "$(jq '[.sources[].source_ip] == ([.sources[].source_ip] | sort)' "$T/body")" \
    true "sources: sorted by source_ip"
get "$R/example.com/sources?$ALLTIME&sort=fail&order=desc&per_page=5" "$EX"
tap_is "$(jq '[.sources[] | .pass + .fail == .messages and .spf.pass + .spf.fail == .messages] | all' "$T/body")" \
    true "sources: pass/fail and SPF counts add up"
tap_ok 'jq -e ".sources[0].orgs | length > 0" "$T/body" >/dev/null' \
    "sources: reporting orgs listed"
get "$R/example.com/sources?sort=bogus" "$EX"
tap_is "$CODE $(json .error | cut -d: -f1)" "400 sort" "sources: bad sort is 400"

# Failures: aggregate records with a DMARC fail, then failure reports.
NOW=$(date +%s)
dbsql "INSERT INTO failure_reports (report_key, reporter, reported_domain, arrival_ts, source_ip, auth_failure, subject, imported_at) VALUES
  ('k1', 'mx.reporter.test', 'example.com', $((NOW - 7200)), '192.0.2.1', 'dmarc', 'older', $NOW),
  ('k2', 'mx.reporter.test', 'Example.COM', $((NOW - 60)), '192.0.2.2', 'dkim', 'newer', $NOW),
  ('k3', 'mx.reporter.test', 'other.test', $((NOW - 60)), '192.0.2.3', 'spf', 'not ours', $NOW)"
get "$R/example.com/failures?$ALLTIME&per_page=500" "$EX"
tap_is "$CODE $(json .total)" "200 $EX_FAILREC" "failures: failing records, as in the XML"
tap_is "$(jq '[.records[] | (.eval_dkim != "pass" and .eval_spf != "pass")] | all' "$T/body")" \
    true "failures: every record fails DMARC"
tap_is "$(json '[.failure_reports[].subject] | join(",")')" "newer,older" \
    "failures: failure reports of the domain, newest first"
get "$R/example.com/failures?from=2010-01-01&to=2010-01-02" "$EX"
tap_is "$(json .total) $(json '.failure_reports | length')" "0 0" "failures: date range applies to both"
# A corpus failure report (LinkedIn) with an RFC 2047 Subject put in,
# imported: the API shows it decoded (ingest/rfc2047.c).
sed 's/^Subject: Subject line, could be UTF8 encoded$/Subject: [EXT] =?UTF-8?B?WmFobHVuZ3NlcmlubmVydW5nIGbDvHI=?=\
 =?iso-8859-1?Q?_M=E4rz_=80?=/' "$CORPUS/failure/parsedmarc/dmarc_ruf_report_linkedin.eml" > "$T/rfc2047.eml"
"$CTL" -c /dev/null import --any-domain --no-rdns --database "$DB" "$T/rfc2047.eml" > "$T/rfc2047.out" 2>&1
tap_ok 'grep -q ": stored failure report example.com from 10.10.10.10" "$T/rfc2047.out"' \
    "failures: a report with an RFC 2047 Subject imported"
get "$R/example.com/failures?$ALLTIME&per_page=500" "$EX"
tap_is "$(jq -r '.failure_reports[] | select(.source_ip == "10.10.10.10") | [.subject, .reporter, .auth_failure, .header_from, .delivery_result, .arrival] | join("|")' "$T/body")" \
    "[EXT] Zahlungserinnerung f$(printf '\303\274')r M$(printf '\303\244')rz $(printf '\342\202\254')|dmarc-noreply@linkedin.com|dmarc|example.com|delivered|2019-04-30T02:09:00Z" \
    "failures: the RFC 2047 Subject decoded to UTF-8 in the JSON"

# Alerts.
dbsql "INSERT INTO alerts (domain, kind, subject, dedup_key, detail, created_at) VALUES
  ('example.com', 'new_source', '198.51.100.7', 'a1', '{\"messages\": 12, \"ptr\": null}', $((NOW - 100))),
  ('example.com', 'pass_rate_drop', '2026-11-25', 'a2', 'not json {', $NOW),
  ('foobar.com', 'dkim_failing', '198.51.100.9', 'a3', '{}', $NOW)"
get "$R/example.com/alerts" "$EX"
tap_is "$CODE $(json .total) $(json '[.alerts[].kind] | join(",")')" \
    "200 2 pass_rate_drop,new_source" "alerts: the domain's, newest first"
tap_is "$(json '.alerts[1].detail.messages') $(json '.alerts[0].detail.text')" \
    "12 not json {" "alerts: detail passed as JSON, or as text when not JSON"
get "$R/foobar.com/alerts" "$EX"
tap_is "$CODE" 404 "alerts: outside the scope"

# Bad input: JSON errors naming the parameter, never a crash.
bad() {
	get "$1" "$ALL"
	tap_is "$CODE $(json .error 2>/dev/null | cut -d: -f1)" "$2" "bad input: $3"
}
bad "$R?from=2026-02-30" "400 from" "impossible date"
bad "$R?to=26-1-1" "400 to" "short date"
bad "$R?from=2026-02-01&to=2026-01-01" "400 from" "from after to"
bad "$R?page=0" "400 page" "page 0"
bad "$R?page=abc" "400 page" "page not a number"
bad "$R?page=99999999999999999999" "400 page" "huge page"
bad "$R?per_page=501" "400 per_page" "per_page over 500"
bad "$R?per_page=-1" "400 per_page" "negative per_page"
bad "$R?page=1&page=2" "400 query" "a parameter twice"
bad "$R?org=%ff%fe" "400 query" "invalid UTF-8"
bad "$R?org=a%00b" "400 query" "an encoded NUL"
bad "$R?domain=example.com'%20OR%20'1'='1" "400 domain" "SQL-looking domain"
get "$R?$ALLTIME&org=x'%20OR%201=1%20--" "$ALL"
tap_is "$CODE $(json .total)" "200 0" "bad input: SQL-looking org matches nothing"
get "$R/example.com'%20OR%201=1--/summary" "$ALL"
tap_is "$CODE" 404 "bad input: SQL-looking domain in the path"
get "/api/nothing" "$ALL"
tap_is "$CODE $(hdr Content-Type)" "404 application/json; charset=utf-8" "unknown path: 404 JSON"
get "$R/example.com/nothing" "$ALL"
tap_is "$CODE" 404 "unknown sub-resource: 404"
get "$R" "$ALL" -X POST
tap_is "$CODE $(hdr Allow)" "405 GET, HEAD" "POST: 405 with Allow"
get "$R" "$ALL" -X DELETE
tap_is "$CODE" 405 "DELETE: 405"
head -c 20000 /dev/zero | tr '\0' 'a' > "$T/bigbody"
get "$R" "$ALL" -X GET --data-binary @"$T/bigbody"
tap_is "$CODE" 413 "a request body over the cap: 413"
head -c 3000000 /dev/zero | tr '\0' 'a' > "$T/hugebody"
get "$R" "$ALL" -X GET --data-binary @"$T/hugebody"
tap_ok 'case $CODE in 000|100|413) true ;; *) false ;; esac' \
    "a 3 MB body: no answer but 413, the connection dropped (got $CODE)"
LONGH=$(head -c 20000 /dev/zero | tr '\0' 'b')
get "$R" "$ALL" -H "X-Big: $LONGH"
tap_ok '[ "$CODE" = 431 ] || [ "$CODE" = 413 ]' "oversized headers: 431/413 (got $CODE)"
get "$R?org=$(head -c 20000 /dev/zero | tr '\0' 'c')" "$ALL"
tap_ok '[ "$CODE" = 414 ] || [ "$CODE" = 431 ] || [ "$CODE" = 413 ]' \
    "oversized URI: 414/431/413 (got $CODE)"
get "$R?org=$(head -c 2000 /dev/zero | tr '\0' 'c')" "$ALL"
tap_is "$CODE $(json .error | cut -d: -f1)" "400 query" "a parameter over 512 bytes: 400"
# The server is still up after all that.
get "$R?$ALLTIME" "$ALL"
tap_is "$CODE $(json .total)" "200 $NFILES" "still serving after the bad input"

# Static files.
get "/"
tap_is "$CODE $(hdr Content-Type) $(hdr Cache-Control)" \
    "200 text/html; charset=utf-8 no-cache" "GET /: the dashboard's index"
tap_ok 'cmp -s "$T/body" "$T/root/index.html"' "GET /: the file's bytes"
get "/static/sub/app.css"
tap_is "$CODE $(hdr Content-Type)" "200 text/css; charset=utf-8" "static: CSS"
get "/static/vendor/chart.umd.js"
tap_is "$CODE $(hdr Content-Type)" "200 text/javascript; charset=utf-8" \
    "static: chart.js from libjs-chart.js"
tap_ok 'cmp -s "$T/body" "$CHARTJS"' "static: chart.js is Debian's file"
get "/static/missing.js"
tap_is "$CODE" 404 "static: missing file"
for _p in "/static/../outside.txt" "/static/%2e%2e/outside.txt" \
    "/static/..%2foutside.txt" "/static/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd" \
    "/static/sub/../../outside.txt" "/static/link.txt" "/static/etc/passwd" \
    "/static/..%5coutside.txt" "/static/.%2e/outside.txt" "/%2e%2e/outside.txt"; do
	get "$_p" "" --path-as-is
	tap_ok '{ [ "$CODE" = 404 ] || [ "$CODE" = 400 ]; } && ! grep -q "secret\|root:" "$T/body"' \
	    "traversal refused: $_p ($CODE)"
done

# /api/v1/check: the same JSON as dmarcctl check --json, rate-limited.
"$CTL" -c /dev/null check --json --nameserver "$NSD_SERVER" --database "$DB" \
    good.test > "$T/cli.json"
get "/api/v1/check?domain=good.test" "$ALL"
tap_is "$CODE" 200 "check: 200"
tap_ok 'jq -S . "$T/body" > "$T/api.json" && jq -S . "$T/cli.json" | cmp -s - "$T/api.json"' \
    "check: the JSON of dmarcctl check --json"
tap_is "$(json .dmarc.policy)" reject "check: the policy from NSD"
get "/api/v1/check?domain=good.test" "$ALL"
tap_ok 'jq -S . "$T/body" | cmp -s - "$T/api.json"' "check: the cached answer is the same"
get "/api/v1/check" "$ALL"
tap_is "$CODE $(json .error | cut -d: -f1)" "400 domain" "check: domain is required"
get "/api/v1/check?domain=bad..name" "$RATE"
tap_is "$CODE" 400 "check: a bad name is 400"
get "/api/v1/check?domain=other.test" "$RATE"
tap_is "$CODE" 200 "check: a second token has its own budget"
get "/api/v1/check?domain=good.test" "$RATE"
get "/api/v1/check?domain=other.test" "$RATE"
tap_is "$CODE" 200 "check: the third check of the minute"
get "/api/v1/check?domain=good.test" "$RATE"
tap_is "$CODE $(hdr Retry-After | grep -Eq '^[0-9]+$' && echo n)" "429 n" \
    "check: over ServeCheckRate (3 a minute): 429 with Retry-After"
get "/api/v1/check?domain=good.test"
tap_is "$CODE" 401 "check: needs a token"

# /metrics: Prometheus text format, checked line by line.
get "/metrics"
tap_is "$CODE $(hdr Content-Type)" "200 text/plain; version=0.0.4; charset=utf-8" \
    "metrics: served without a token"
BADLINES=$(awk '
	/^# (HELP|TYPE) / { if ($2 == "TYPE") typed[$3] = 1; next }
	/^$/ { next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9.eE+-]+$/ &&
		    $0 !~ / \+Inf$/) { print "syntax: " $0; next }
		name = $1; sub(/\{.*/, "", name)
		base = name; sub(/_(bucket|sum|count)$/, "", base)
		if (!typed[name] && !typed[base]) print "untyped: " $0
	}' "$T/body")
tap_is "$BADLINES" "" "metrics: every sample line is well-formed and typed"
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/body"; }
tap_is "$(m dmarcd_aggregate_reports) $(m dmarcd_aggregate_messages)" \
    "$NFILES $(awk -F'\t' '{ s += $4 } END { print s }' "$T/facts")" \
    "metrics: report and message counts match the corpus"
tap_is "$(m 'dmarcd_http_requests_total{code="401"}') $(m 'dmarcd_http_requests_total{code="429"}')" \
    "4 1" "metrics: requests by code (the four 401s and the one 429)"
tap_ok '[ "$(m "dmarcd_check_cache_hits_total")" -ge 1 ] && [ "$(m "dmarcd_check_rate_limited_total")" = 1 ]' \
    "metrics: check cache hits and rate limiting"
tap_is "$(m 'dmarcd_http_request_duration_seconds_bucket{le="+Inf"}')" \
    "$(m dmarcd_http_request_duration_seconds_count)" "metrics: histogram +Inf bucket = count"
tap_is "$(grep -c '^dmarcd_inbound_verdicts_total' "$T/body")" 0 \
    "metrics: no enforcement counters without verdicts"
dbsql "INSERT INTO verdicts (node, message_key, author_index, received, day, dmarc_result, disposition) VALUES
  ('n', 'm1', 0, $NOW, $((NOW / 86400)), 'fail', 'reject'),
  ('n', 'm2', 0, $NOW, $((NOW / 86400)), 'fail', 'reject'),
  ('n', 'm3', 0, $NOW, $((NOW / 86400)), 'pass', 'none')"
get "/metrics"
tap_is "$(m 'dmarcd_inbound_verdicts_total{dmarc_result="fail",disposition="reject"}') $(m 'dmarcd_inbound_verdicts_total{dmarc_result="pass",disposition="none"}')" \
    "2 1" "metrics: the milter's verdicts by result and disposition"

# Many clients at once: every answer complete and the same.
get "$R/example.com/summary?$ALLTIME" "$EX"
cp "$T/body" "$T/par.want"
_t0=$(date +%s%N)
seq 1 400 | xargs -P 8 -n 50 sh -c '_u=$1; shift; for _x; do curl -s -o /dev/null -w "%{http_code}\n" \
    -H "Authorization: Bearer $0" "$_u"; done' "$EX" "$BASE$R/example.com/summary?$ALLTIME" \
    > "$T/par.codes"
_t1=$(date +%s%N)
tap_is "$(sort "$T/par.codes" | uniq -c | tr -s ' ' | sed 's/^ //')" "400 200" \
    "400 summaries from 8 parallel clients: all 200"
echo "# 400 summary requests (8 clients, $EX_MSGS messages): $(( (_t1 - _t0) / 1000000 )) ms"
curl -s -H "Authorization: Bearer $EX" "$BASE$R/example.com/summary?$ALLTIME" > "$T/par.got"
tap_ok 'cmp -s "$T/par.got" "$T/par.want"' "the answer is the same after the load"
CODE=$(curl -s -I -o /dev/null -D "$T/headers" -w '%{http_code}' \
    -H "Authorization: Bearer $EX" "$BASE$R/example.com/summary?$ALLTIME")
tap_is "$CODE $(hdr Content-Type)" "200 application/json; charset=utf-8" "HEAD: headers only"

# Last use is recorded.
tap_ok 'tok list --json | jq -e ".tokens[] | select(.name == \"all\") | .last_used != null" >/dev/null' \
    "token list: last use recorded"
tap_ok 'tok list --json | jq -e ".tokens[] | select(.name == \"gone\") | .revoked != null" >/dev/null' \
    "token list: revocation shown"
stop_server

# Slow clients: an idle, half-sent request is closed after ServeTimeout;
# a third connection from one address is refused past
# ServeMaxConnectionsPerIP (perl-base's sockets; no timing is asserted,
# the script waits up to 30 s for each event).
sed 's/^ServeThreads.*/ServeThreads 1/' "$T/serve.conf" > "$T/slow.conf"
printf 'ServeTimeout 3s\nServeMaxConnectionsPerIP 2\nServeMetricsToken yes\n' >> "$T/slow.conf"
start_server "$T/slow.conf"
get "/metrics"
tap_is "$CODE" 401 "ServeMetricsToken yes: /metrics needs a token"
get "/metrics" "$EX"
tap_ok '[ "$CODE" = 200 ] && grep -q "^dmarcd_aggregate_reports " "$T/body"' \
    "ServeMetricsToken yes: /metrics with a token"
SLOW=$(perl -MIO::Socket::INET -e '
	my $port = shift;
	sub conn { IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp") or die "connect: $!" }
	sub answer {	# the status line, or "closed"
		my $s = shift; my $l;
		local $SIG{ALRM} = sub { die "no answer\n" }; alarm 30;
		$l = <$s>; alarm 0;
		return defined $l ? (split / /, $l)[1] : "closed";
	}
	my $a = conn(); print $a "GET / HTTP/1.1\r\nHost: x\r\n";	# never finished
	print "idle:", answer($a), " ";
	# Two open connections fill the cap of 2: a third is refused.  The
	# server frees a closed connection'"'"'s place when it cleans it up, a
	# moment after the close (the idle one above, or b and c of a
	# previous try): so up to 5 tries, and a cap that never holds still
	# fails every one.
	my $third = "none";
	for my $try (1 .. 5) {
		my $b = conn(); my $c = conn();
		print $b "GET / HTTP/1.1\r\nHost: x\r\n"; print $c "GET / HTTP/1.1\r\nHost: x\r\n";
		my $d = conn(); print $d "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		$third = answer($d);
		close $b; close $c;
		last if $third eq "closed";
		select(undef, undef, undef, 0.5);
	}
	print "third:$third ";
	my $r = "closed";
	for my $i (1 .. 50) {
		my $e = conn(); print $e "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		$r = answer($e); last if $r ne "closed"; select(undef, undef, undef, 0.1);
	}
	print "after:$r\n";
' "$PORT" 2>&1)
tap_is "$SLOW" "idle:closed third:closed after:200" \
    "an idle half request is closed (ServeTimeout); the per-address cap holds, then frees"
stop_server

# HTTPS with ServeTLSCert/ServeTLSKey.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -days 2 -keyout "$T/key.pem" \
    -out "$T/cert.pem" >/dev/null 2>&1
# The key is root's alone: serve reads it, then drops to nobody, with a
# copy of the database that nobody owns.
chmod 600 "$T/key.pem"
mkdir -p "$T/ro"
RO_DB=$DB
if [ "$API_DB" = sqlite ]; then
	dbsql ".backup '$T/ro/history.sqlite'"
	RO_DB=$T/ro/history.sqlite
fi
cp "$T/serve.conf" "$T/tls.conf"
if [ "$(id -u)" = 0 ]; then
	chown -R nobody "$T/ro"
	sed -i '/^RunAsRoot/d' "$T/tls.conf"
	echo "ServeUserID nobody" >> "$T/tls.conf"
fi
cat >> "$T/tls.conf" <<EOF
ServeTLSCert $T/cert.pem
ServeTLSKey $T/key.pem
EOF
SCHEME=https CURL_TLS="--cacert $T/cert.pem" SRV_DB=$RO_DB
start_server "$T/tls.conf"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/cert.pem" \
    -H "Authorization: Bearer $ALL" "$BASE$R/example.com/summary?$ALLTIME")
tap_is "$CODE $(json .messages)" "200 $EX_MSGS" "HTTPS: the summary over TLS"
if [ "$(id -u)" = 0 ]; then
	_n=$(id -u nobody)
	tap_is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$SRV_PID/status")" \
	    "$_n $_n $_n $_n" \
	    "serve runs as ServeUserID (nobody) after reading the root-only key"
fi
stop_server
SRV_DB=
if [ "$(id -u)" = 0 ]; then
	"$CTL" -c /dev/null serve --listen "127.0.0.1:$(pf_free_port)" \
	    --database "$DB" > "$T/err" 2>&1
	_rc=$?
	tap_ok '[ $_rc = 78 ] && grep -q "refusing to run as root" "$T/err"' \
	    "serve: as root without ServeUserID or RunAsRoot: refused"
fi

# A missing database stops serve with a message naming it.
NOPE=$T/nope.sqlite
[ "$API_DB" = pgsql ] && NOPE=postgresql://dmarcd@127.0.0.1:$PG_PORT/nope_db
"$CTL" -c "$T/serve.conf" serve --listen "127.0.0.1:$(pf_free_port)" \
    --database "$NOPE" > "$T/err" 2>&1
_rc=$?
tap_ok '[ $_rc != 0 ] && grep -q "nope" "$T/err"' \
    "serve: a missing database is an error naming it"
if [ "$API_DB" = pgsql ]; then
	# A frozen database: the postmaster and every backend stopped,
	# so connections are accepted by the kernel but nothing answers.
	# The request gets a 503 once the request's time limit (10 s plus
	# 1 s grace) has passed; no timing is asserted, curl gives up at
	# 120 s.  After SIGCONT the server answers again.
	SCHEME= CURL_TLS=
	start_server "$T/serve.conf"
	get "$R?$ALLTIME" "$ALL"
	_before=$CODE
	PM=$(head -n 1 "$PG_DIR/data/postmaster.pid")
	STOPPED="$PM $(grep -l "^PPid:[[:space:]]*$PM\$" /proc/[0-9]*/status 2>/dev/null |
	    sed 's|/proc/||; s|/status||' | tr '\n' ' ')"
	kill -STOP $STOPPED
	_t0=$(date +%s%N)
	get "$R?$ALLTIME" "$ALL" --max-time 120
	_t1=$(date +%s%N)
	_frozen=$CODE
	get "/api/v1/domains" "$ALL" --max-time 120
	_frozen2=$CODE
	kill -CONT $STOPPED
	echo "# frozen database: 503 after $(( (_t1 - _t0) / 1000000 )) ms"
	tap_is "$_before $_frozen $_frozen2" "200 503 503" \
	    "frozen PostgreSQL (SIGSTOP): 503, not a hung request"
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		get "$R?$ALLTIME" "$ALL" --max-time 60
		[ "$CODE" = 200 ] && break
		sleep 1
	done
	tap_is "$CODE $(json .total) $(kill -0 "$SRV_PID" 2>/dev/null && echo alive)" \
	    "200 $NFILES alive" "after SIGCONT: the server answers again"
	stop_server
fi
printf 'ServeListen 127.0.0.1\n' > "$T/bad.conf"
"$CTL" -c "$T/bad.conf" serve --database "$DB" > "$T/err" 2>&1
_rc=$?
tap_ok '[ $_rc != 0 ] && grep -q "ServeListen 127.0.0.1" "$T/err"' \
    "serve: a bad ServeListen is named"
tap_is "$(grep -c 'AddressSanitizer\|runtime error\|LeakSanitizer' "$T/serve.log")" 0 \
    "no sanitizer report in the server's log"
tap_done
