/*
 * aggsources.c - imported aggregate reports per sending source
 * (aggsources.h), for `dmarcctl check`'s readiness verdict.
 *
 * One query groups the window's rows by source, DMARC outcome and raw
 * results; rows arrive ordered by source_ip and are summed here, so
 * memory stays one source whatever the number of rows.  The raw results
 * text is ingest/xml.h's: "domain=D;selector=S;result=R" or
 * "domain=D;scope=S;result=R" elements joined by "|".  SQLite or
 * PostgreSQL, the same SQL (store/dbq.h); the domain is matched with
 * lower() on both sides, as SQLite's COLLATE NOCASE did.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "store/aggsources.h"
#include "store/dbq.h"

#define AGG_PG_TIMEOUT_MS	10000	/* one statement, PostgreSQL: the
					   checker of dmarcctl serve waits */

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

enum store_status
store_agg_sources(const char *uri, const char *domain,
    const char *auth_domain, unsigned days, struct store_agg_summary *sum,
    store_agg_source_cb cb, void *ctx, struct strbuf *err)
{
	static const char q_window[] =
	    "SELECT COALESCE(MAX(end_ts), 0) FROM agg_reports "
	    "WHERE lower(domain) = lower(CAST(?1 AS TEXT))";
	static const char q_sum[] =
	    "SELECT COUNT(*), COALESCE(MIN(begin_ts), 0) FROM agg_reports "
	    "WHERE lower(domain) = lower(CAST(?1 AS TEXT)) AND end_ts >= ?2";
	static const char q_rows[] =
	    "SELECT r.source_ip, SUM(r.count), "
	    " CASE WHEN lower(r.eval_dkim) = 'pass' OR lower(r.eval_spf) = "
	    " 'pass' THEN 1 ELSE 0 END, r.dkim_results, r.spf_results "
	    "FROM agg_records r JOIN agg_reports a ON r.report = a.id "
	    "WHERE lower(a.domain) = lower(CAST(?1 AS TEXT)) AND "
	    "a.end_ts >= ?2 GROUP BY 1, 3, 4, 5 ORDER BY 1";
	struct dbq_param b[2];
	struct dbq *db;
	struct dbq_rows *st = NULL;
	struct store_agg_source cur;
	int64_t from = 0, n;
	enum store_status rc = STORE_ERR_READ;

	memset(sum, 0, sizeof(*sum));
	memset(&cur, 0, sizeof(cur));
	if ((db = dbq_open(uri, false, dbq_uri_is_pgsql(uri) ?
	    AGG_PG_TIMEOUT_MS : STORE_BUSY_MS, err)) == NULL)
		return STORE_ERR_OPEN;
	b[0].s = domain;
	b[0].is_text = true;
	b[1].s = NULL;
	b[1].is_text = false;
	if ((st = dbq_query(db, q_window, b, 1)) == NULL || !dbq_next(st))
		goto dberr;
	sum->end = (time_t)dbq_int(st, 0);
	dbq_rows_free(st);
	st = NULL;
	if (sum->end == 0) {
		rc = STORE_OK;		/* no report for domain */
		goto done;
	}
	if (days > 0 && sum->end > (time_t)days * 86400)
		from = (int64_t)sum->end - (int64_t)days * 86400;
	b[1].i = from;
	if ((st = dbq_query(db, q_sum, b, 2)) == NULL || !dbq_next(st))
		goto dberr;
	sum->reports = (uint64_t)dbq_int(st, 0);
	sum->begin = (time_t)dbq_int(st, 1);
	dbq_rows_free(st);
	if ((st = dbq_query(db, q_rows, b, 2)) == NULL)
		goto dberr;
	while (dbq_next(st)) {
		const char *ip = dbq_text(st, 0);

		n = dbq_int(st, 1);
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
		if (dbq_int(st, 2) != 0) {
			cur.passed += (uint64_t)n;
			sum->passed += (uint64_t)n;
		} else if (auth_domain != NULL &&
		    (results_pass_for(dbq_text(st, 3), auth_domain) ||
		    results_pass_for(dbq_text(st, 4), auth_domain)))
			cur.auth_passed += (uint64_t)n;
	}
	if (dbq_rows_failed(st))
		goto dberr;
	if (cur.source_ip[0] != '\0') {
		sum->sources++;
		(void)cb(&cur, ctx);
	}
	rc = STORE_OK;
	goto done;
dberr:
	strbuf_appendf(err, "%s: reading imported reports: %s",
	    dbq_label(db), dbq_errmsg(db));
done:
	dbq_rows_free(st);
	dbq_close(db);
	return rc;
}
