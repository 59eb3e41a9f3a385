/*
 * alerts.c - new sending sources, pass rate drops and sources that start
 * failing DKIM, found in agg_reports / agg_records and stored once in
 * alerts (schema version 6).  The rules are in alerts.h.
 *
 * The day of a report is the UTC day of the middle of its period, so a
 * report from 22:00 to 22:00 counts for the day it mostly covers.  Only
 * policy_evaluated results (aligned: RFC 9990 section 3.1.1.7's
 * "dkim"/"spf" of policy_evaluated) are used.  Delivery (webhook, mail)
 * is the caller's: this module only stores and lists.  The same SQL runs
 * on SQLite and PostgreSQL (store/dbq.h); the one difference is how the
 * IPs of a new source are joined (group_concat / string_agg).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "store/alerts.h"
#include "store/dbq.h"

#define DAY	86400
#define ALERTS_PG_TIMEOUT_MS	60000	/* one statement, PostgreSQL */

struct store_alerts {
	struct dbq *db;
};

static enum store_status
dberr(struct store_alerts *a, const char *what, struct strbuf *err)
{
	strbuf_appendf(err, "%s: %s: %s", dbq_label(a->db), what,
	    dbq_errmsg(a->db));
	return STORE_ERR_WRITE;
}

struct store_alerts *
store_alerts_open(const char *uri, enum store_status *st,
    struct strbuf *err)
{
	struct store_alerts *a;
	struct store *s;

	if ((s = store_open(uri, STORE_DURABILITY_RELAXED, st, err)) == NULL)
		return NULL;
	store_close(s);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		*st = STORE_ERR_NOMEM;
		return NULL;
	}
	if ((a->db = dbq_open(uri, true, dbq_uri_is_pgsql(uri) ?
	    ALERTS_PG_TIMEOUT_MS : STORE_BUSY_MS, err)) == NULL) {
		*st = STORE_ERR_OPEN;
		free(a);
		return NULL;
	}
	*st = STORE_OK;
	return a;
}

void
store_alerts_close(struct store_alerts *a)
{
	if (a == NULL)
		return;
	dbq_close(a->db);
	free(a);
}

static int
add(struct store_alerts *a, const char *domain, const char *kind,
    const char *subject, const char *key, const char *detail,
    unsigned *nnew)
{
	struct strbuf dedup = STRBUF_INIT;
	struct dbq_param b[6];
	int64_t changed = 0;
	enum dbq_status st;

	strbuf_appendf(&dedup, "%s|%s|%s", kind, domain, key);
	if (strbuf_failed(&dedup)) {
		strbuf_release(&dedup);
		return -1;
	}
	b[0] = dbq_param_text(domain);
	b[1] = dbq_param_text(kind);
	b[2] = dbq_param_text(subject);
	b[3] = dbq_param_text(strbuf_cstr(&dedup));
	b[4] = dbq_param_text(detail);
	b[5] = dbq_param_int((int64_t)time(NULL));
	st = dbq_exec(a->db, "INSERT INTO alerts (domain, kind, subject, "
	    "dedup_key, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT DO NOTHING", b, 6, &changed);
	strbuf_release(&dedup);
	if (st != DBQ_OK)
		return -1;
	if (changed > 0)
		(*nnew)++;
	return 0;
}

static void
day_string(int64_t day, char *buf, size_t n)
{
	time_t t = (time_t)(day * DAY);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d", &tm);
}

/* The reports of domain ?1, each with its day. */
#define REPORTS_CTE \
	"WITH r AS (SELECT id, ((begin_ts + end_ts) / 2) / 86400 AS day " \
	"FROM agg_reports WHERE domain = ?1) "

static int
detect_new_sources(struct store_alerts *a, const struct alerts_config *c,
    const char *domain, int64_t last, unsigned *nnew)
{
	struct strbuf detail = STRBUF_INIT, sql = STRBUF_INIT;
	struct dbq_param b[3];
	struct dbq_rows *st = NULL;
	struct json j;
	char day[16];
	int ret = -1;

	strbuf_appendf(&sql, REPORTS_CTE ", s AS (SELECT "
	    "COALESCE(NULLIF(d.org, ''), c.source_ip) AS subject, "
	    "c.source_ip AS ip, c.count AS n, r.day AS day FROM agg_records c "
	    "JOIN r ON c.report = r.id LEFT JOIN rdns d ON d.ip = c.source_ip) "
	    "SELECT subject, sum(n), %s FROM s "
	    "WHERE day = ?2 GROUP BY subject HAVING sum(n) >= ?3 AND subject "
	    "NOT IN (SELECT subject FROM s WHERE day < ?2) AND EXISTS "
	    "(SELECT 1 FROM r WHERE day < ?2) ORDER BY subject",
	    dbq_is_pgsql(a->db) ? "string_agg(DISTINCT ip, ',')" :
	    "group_concat(DISTINCT ip)");
	b[0] = dbq_param_text(domain);
	b[1] = dbq_param_int(last);
	b[2] = dbq_param_int(c->new_source_min);
	if (strbuf_failed(&sql) ||
	    (st = dbq_query(a->db, strbuf_cstr(&sql), b, 3)) == NULL)
		goto out;
	day_string(last, day, sizeof(day));
	while (dbq_next(st)) {
		const char *subject = dbq_text(st, 0);

		strbuf_reset(&detail);
		json_init(&j, &detail, false);
		json_object_begin(&j);
		json_kv_string(&j, "day", day);
		json_kv_int(&j, "messages", dbq_int(st, 1));
		json_kv_string(&j, "ips", dbq_text(st, 2));
		json_object_end(&j);
		if (add(a, domain, "new_source", subject, subject,
		    strbuf_cstr(&detail), nnew) != 0)
			goto out;
	}
	ret = dbq_rows_failed(st) ? -1 : 0;
out:
	dbq_rows_free(st);
	strbuf_release(&sql);
	strbuf_release(&detail);
	return ret;
}

#define PASS_EXPR "(lower(c.eval_dkim) = 'pass' OR lower(c.eval_spf) = 'pass')"

static int
detect_pass_rate(struct store_alerts *a, const struct alerts_config *c,
    const char *domain, int64_t last, unsigned *nnew)
{
	struct strbuf detail = STRBUF_INIT;
	struct dbq_param b[3];
	struct dbq_rows *st;
	struct json j;
	int64_t cur, curpass, base, basepass;
	double rcur, rbase;
	char day[16];
	int ret = -1;

	b[0] = dbq_param_text(domain);
	b[1] = dbq_param_int(last);
	b[2] = dbq_param_int(last - 7);
	if ((st = dbq_query(a->db, REPORTS_CTE "SELECT "
	    "COALESCE(SUM(CASE WHEN r.day = ?2 THEN c.count END), 0), "
	    "COALESCE(SUM(CASE WHEN r.day = ?2 AND " PASS_EXPR " THEN c.count "
	    "END), 0), "
	    "COALESCE(SUM(CASE WHEN r.day < ?2 THEN c.count END), 0), "
	    "COALESCE(SUM(CASE WHEN r.day < ?2 AND " PASS_EXPR " THEN c.count "
	    "END), 0) "
	    "FROM agg_records c JOIN r ON c.report = r.id "
	    "WHERE r.day BETWEEN ?3 AND ?2", b, 3)) == NULL)
		return -1;
	if (!dbq_next(st))
		goto out;
	cur = dbq_int(st, 0);
	curpass = dbq_int(st, 1);
	base = dbq_int(st, 2);
	basepass = dbq_int(st, 3);
	ret = 0;
	if (cur < c->rate_min || base < c->rate_min)
		goto out;
	rcur = 100.0 * (double)curpass / (double)cur;
	rbase = 100.0 * (double)basepass / (double)base;
	if (rbase - rcur < (double)c->drop_points)
		goto out;
	day_string(last, day, sizeof(day));
	json_init(&j, &detail, false);
	json_object_begin(&j);
	json_kv_string(&j, "day", day);
	json_kv_int(&j, "messages", cur);
	json_key(&j, "pass_rate");
	json_double(&j, rcur);
	json_kv_int(&j, "baseline_messages", base);
	json_key(&j, "baseline_pass_rate");
	json_double(&j, rbase);
	json_object_end(&j);
	if (add(a, domain, "pass_rate_drop", day, day, strbuf_cstr(&detail),
	    nnew) != 0)
		ret = -1;
out:
	dbq_rows_free(st);
	strbuf_release(&detail);
	return ret;
}

static int
detect_dkim_failing(struct store_alerts *a, const struct alerts_config *c,
    const char *domain, int64_t last, unsigned *nnew)
{
	struct strbuf detail = STRBUF_INIT;
	struct dbq_param b[4];
	struct dbq_rows *st;
	struct json j;
	char day[16];
	int ret = -1;

	b[0] = dbq_param_text(domain);
	b[1] = dbq_param_int(last);
	b[2] = dbq_param_int(c->dkim_fail_min);
	b[3] = dbq_param_int(last - 7);
	if ((st = dbq_query(a->db, REPORTS_CTE ", s AS (SELECT "
	    "c.source_ip AS ip, "
	    "COALESCE(SUM(CASE WHEN r.day < ?2 AND " PASS_EXPR " THEN c.count "
	    "  END), 0) AS base_pass, "
	    "COALESCE(SUM(CASE WHEN r.day < ?2 THEN c.count END), 0) "
	    "  AS base_n, "
	    "COALESCE(SUM(CASE WHEN r.day < ?2 AND lower(c.eval_dkim) <> "
	    "  'pass' THEN c.count END), 0) AS base_dkimfail, "
	    "COALESCE(SUM(CASE WHEN r.day = ?2 AND lower(c.eval_dkim) <> "
	    "  'pass' THEN c.count END), 0) AS cur_dkimfail "
	    "FROM agg_records c JOIN r ON c.report = r.id "
	    "WHERE r.day BETWEEN ?4 AND ?2 GROUP BY c.source_ip) "
	    "SELECT ip, cur_dkimfail, base_n, base_pass FROM s "
	    "WHERE base_pass > 0 AND base_dkimfail * 2 < base_n "
	    "AND cur_dkimfail >= ?3 ORDER BY ip", b, 4)) == NULL)
		return -1;
	day_string(last, day, sizeof(day));
	while (dbq_next(st)) {
		const char *ip = dbq_text(st, 0);

		strbuf_reset(&detail);
		json_init(&j, &detail, false);
		json_object_begin(&j);
		json_kv_string(&j, "day", day);
		json_kv_int(&j, "dkim_fail_messages", dbq_int(st, 1));
		json_kv_int(&j, "baseline_messages", dbq_int(st, 2));
		json_kv_int(&j, "baseline_pass_messages", dbq_int(st, 3));
		json_object_end(&j);
		if (add(a, domain, "dkim_failing", ip, ip,
		    strbuf_cstr(&detail), nnew) != 0)
			goto out;
	}
	ret = dbq_rows_failed(st) ? -1 : 0;
out:
	dbq_rows_free(st);
	strbuf_release(&detail);
	return ret;
}

/*
 * Whether domain has a report of a day before last.  Every trigger
 * compares day last with earlier days (a new source needs a history it
 * is new to, the pass rate and DKIM a baseline with messages, each
 * minimum at least 1), so without one there is nothing to find, and the
 * detectors, which read every record of the domain, are not run: that
 * was a fifth of the import of a new domain's large reports.
 */
static int
has_history(struct store_alerts *a, const char *domain, int64_t last)
{
	struct dbq_param b[2];
	struct dbq_rows *st;
	int rc = -1;

	b[0] = dbq_param_text(domain);
	b[1] = dbq_param_int(last);
	if ((st = dbq_query(a->db, "SELECT CASE WHEN EXISTS (SELECT 1 FROM "
	    "agg_reports WHERE domain = ?1 AND ((begin_ts + end_ts) / 2) / "
	    "86400 < ?2) THEN 1 ELSE 0 END", b, 2)) == NULL)
		return -1;
	if (dbq_next(st))
		rc = (int)dbq_int(st, 0);
	if (dbq_rows_failed(st))
		rc = -1;
	dbq_rows_free(st);
	return rc;
}

enum store_status
store_alerts_detect(struct store_alerts *a, const struct alerts_config *c,
    time_t since, unsigned *nnew, struct strbuf *err)
{
	struct dbq_param b[1];
	struct dbq_rows *st = NULL;
	int rc;

	*nnew = 0;
	/* SQLite: take the write lock now, not at the first insert. */
	if (dbq_exec(a->db, dbq_is_pgsql(a->db) ? "BEGIN" :
	    "BEGIN IMMEDIATE", NULL, 0, NULL) != DBQ_OK)
		return dberr(a, "begin", err);
	b[0] = dbq_param_int((int64_t)since);
	if ((st = dbq_query(a->db, "SELECT domain, max(((begin_ts + "
	    "end_ts) / 2) / 86400) FROM agg_reports GROUP BY domain "
	    "HAVING max(imported_at) >= ?1 ORDER BY domain", b, 1)) == NULL)
		goto fail;
	while (dbq_next(st)) {
		const char *domain = dbq_text(st, 0);
		int64_t last = dbq_int(st, 1);

		if (*domain == '\0')
			continue;
		if ((rc = has_history(a, domain, last)) < 0)
			goto fail;
		if (rc == 0)
			continue;
		if (detect_new_sources(a, c, domain, last, nnew) != 0 ||
		    detect_pass_rate(a, c, domain, last, nnew) != 0 ||
		    detect_dkim_failing(a, c, domain, last, nnew) != 0)
			goto fail;
	}
	if (dbq_rows_failed(st))
		goto fail;
	dbq_rows_free(st);
	st = NULL;
	if (dbq_exec(a->db, "COMMIT", NULL, 0, NULL) != DBQ_OK)
		goto fail;
	return STORE_OK;
fail:
	dberr(a, "detecting alerts", err);
	dbq_rows_free(st);
	dbq_exec(a->db, "ROLLBACK", NULL, 0, NULL);
	*nnew = 0;
	return STORE_ERR_WRITE;
}

enum store_status
store_alerts_list(struct store_alerts *a, enum alerts_filter f,
    const char *domain, int (*cb)(const struct alert *, void *), void *ctx,
    struct strbuf *err)
{
	static const char *const where[] = {
		[ALERTS_ALL] = "1 = 1",
		[ALERTS_WEBHOOK_PENDING] = "delivered_webhook IS NULL",
		[ALERTS_DIGEST_PENDING] = "delivered_digest IS NULL",
	};
	struct strbuf q = STRBUF_INIT;
	struct dbq_param b[1];
	struct dbq_rows *st;
	struct alert al;
	bool failed;

	strbuf_appendf(&q, "SELECT id, domain, kind, subject, detail, "
	    "created_at, coalesce(delivered_webhook, 0), "
	    "coalesce(delivered_digest, 0) FROM alerts WHERE %s%s "
	    "ORDER BY created_at, id", where[f], domain != NULL ?
	    " AND domain = ?1" : "");
	b[0] = dbq_param_text(domain);
	st = strbuf_failed(&q) ? NULL : dbq_query(a->db, strbuf_cstr(&q), b,
	    domain != NULL ? 1 : 0);
	strbuf_release(&q);
	if (st == NULL) {
		strbuf_appendf(err, "%s: %s", dbq_label(a->db),
		    dbq_errmsg(a->db));
		return STORE_ERR_READ;
	}
	while (dbq_next(st)) {
		al.id = dbq_int(st, 0);
		al.domain = dbq_text(st, 1);
		al.kind = dbq_text(st, 2);
		al.subject = dbq_text(st, 3);
		al.detail = dbq_text(st, 4);
		al.created_at = (time_t)dbq_int(st, 5);
		al.delivered_webhook = (time_t)dbq_int(st, 6);
		al.delivered_digest = (time_t)dbq_int(st, 7);
		if (cb(&al, ctx) != 0)
			break;
	}
	failed = dbq_rows_failed(st);
	dbq_rows_free(st);
	if (failed) {
		strbuf_appendf(err, "%s: %s", dbq_label(a->db),
		    dbq_errmsg(a->db));
		return STORE_ERR_READ;
	}
	return STORE_OK;
}

enum store_status
store_alerts_mark(struct store_alerts *a, int64_t id, enum alerts_channel ch,
    time_t when, struct strbuf *err)
{
	struct dbq_param b[2];

	b[0] = dbq_param_int((int64_t)when);
	b[1] = dbq_param_int(id);
	if (dbq_exec(a->db, ch == ALERTS_WEBHOOK ?
	    "UPDATE alerts SET delivered_webhook = ?1 WHERE id = ?2" :
	    "UPDATE alerts SET delivered_digest = ?1 WHERE id = ?2", b, 2,
	    NULL) != DBQ_OK)
		return dberr(a, "marking an alert delivered", err);
	return STORE_OK;
}
