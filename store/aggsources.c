/*
 * aggsources.c - imported aggregate reports per sending source
 * (aggsources.h), for `dmarcctl check`'s readiness verdict.
 *
 * One query groups the window's rows by source, DMARC outcome and raw
 * results; rows arrive ordered by source_ip and are summed here, so
 * memory stays one source whatever the number of rows.  The raw results
 * text is ingest/xml.h's: "domain=D;selector=S;result=R" or
 * "domain=D;scope=S;result=R" elements joined by "|".
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>
#include <strings.h>

#include "store/aggsources.h"

/* Does one element of results hold result=pass for dom or below it? */
static bool
results_pass_for(const char *results, const char *dom)
{
	size_t dl = strlen(dom);
	const char *e = results, *end, *d, *r;

	for (; *e != '\0'; e = *end == '|' ? end + 1 : end) {
		end = e + strcspn(e, "|");
		if (strncmp(e, "domain=", 7) != 0)
			continue;
		d = e + 7;
		r = d + strcspn(d, ";|");
		/* RFC 9989 section 4.4.1, relaxed: the domain or below. */
		if (!((size_t)(r - d) == dl && strncasecmp(d, dom, dl) == 0) &&
		    !((size_t)(r - d) > dl && d[r - d - dl - 1] == '.' &&
		    strncasecmp(r - dl, dom, dl) == 0))
			continue;
		for (r = d; r < end; r++)
			if (strncmp(r, ";result=pass", 12) == 0 &&
			    (r + 12 == end || r[12] == ';' || r[12] == '|'))
				return true;
	}
	return false;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

enum store_status
store_agg_sources(const char *uri, const char *domain,
    const char *auth_domain, unsigned days, struct store_agg_summary *sum,
    store_agg_source_cb cb, void *ctx, struct strbuf *err)
{
	static const char q_window[] =
	    "SELECT COALESCE(MAX(end_ts), 0) FROM agg_reports "
	    "WHERE domain = ?1 COLLATE NOCASE";
	static const char q_sum[] =
	    "SELECT COUNT(*), COALESCE(MIN(begin_ts), 0) FROM agg_reports "
	    "WHERE domain = ?1 COLLATE NOCASE AND end_ts >= ?2";
	static const char q_rows[] =
	    "SELECT r.source_ip, SUM(r.count), "
	    " lower(r.eval_dkim) = 'pass' OR lower(r.eval_spf) = 'pass', "
	    " r.dkim_results, r.spf_results "
	    "FROM agg_records r JOIN agg_reports a ON r.report = a.id "
	    "WHERE a.domain = ?1 COLLATE NOCASE AND a.end_ts >= ?2 "
	    "GROUP BY 1, 3, 4, 5 ORDER BY 1";
	const char *path = uri;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct store_agg_source cur;
	sqlite3_int64 from = 0, n;
	enum store_status rc = STORE_ERR_READ;
	int step;

	memset(sum, 0, sizeof(*sum));
	memset(&cur, 0, sizeof(cur));
	if (strncmp(uri, "postgres", 8) == 0) {
		strbuf_appends(err, "reading imported reports from "
		    "PostgreSQL is not yet supported: use the SQLite "
		    "database the reports were imported into");
		return STORE_ERR_CONFIG;
	}
	if (strncmp(path, "sqlite://", 9) == 0)
		path += 9;
	else if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot open: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		rc = STORE_ERR_OPEN;
		goto done;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	if (sqlite3_prepare_v2(db, q_window, -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto dberr;
	sum->end = (time_t)sqlite3_column_int64(st, 0);
	if (sum->end == 0) {
		rc = STORE_OK;		/* no report for domain */
		goto done;
	}
	if (days > 0 && sum->end > (time_t)days * 86400)
		from = (sqlite3_int64)sum->end - (sqlite3_int64)days * 86400;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, q_sum, -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto dberr;
	sum->reports = (uint64_t)sqlite3_column_int64(st, 0);
	sum->begin = (time_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, q_rows, -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ip = col(st, 0);

		n = sqlite3_column_int64(st, 1);
		if (n < 0)
			n = 0;
		if (cur.source_ip[0] != '\0' && strcmp(cur.source_ip, ip) != 0) {
			sum->sources++;
			if (cb(&cur, ctx) != 0) {
				rc = STORE_OK;
				goto done;
			}
			memset(&cur, 0, sizeof(cur));
		}
		strncpy(cur.source_ip, ip, sizeof(cur.source_ip) - 1);
		cur.messages += (uint64_t)n;
		sum->messages += (uint64_t)n;
		if (sqlite3_column_int(st, 2)) {
			cur.passed += (uint64_t)n;
			sum->passed += (uint64_t)n;
		} else if (auth_domain != NULL &&
		    (results_pass_for(col(st, 3), auth_domain) ||
		    results_pass_for(col(st, 4), auth_domain)))
			cur.auth_passed += (uint64_t)n;
	}
	if (step != SQLITE_DONE)
		goto dberr;
	if (cur.source_ip[0] != '\0') {
		sum->sources++;
		(void)cb(&cur, ctx);
	}
	rc = STORE_OK;
	goto done;
dberr:
	strbuf_appendf(err, "%s: reading imported reports: %s", path,
	    sqlite3_errmsg(db));
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
