/*
 * alerts.c - new sending sources, pass rate drops and sources that start
 * failing DKIM, found in agg_reports / agg_records and stored once in
 * alerts (schema version 6).  The rules are in alerts.h.
 *
 * The day of a report is the UTC day of the middle of its period, so a
 * report from 22:00 to 22:00 counts for the day it mostly covers.  Only
 * policy_evaluated results (aligned: RFC 9990 section 3.1.1.7's
 * "dkim"/"spf" of policy_evaluated) are used.  Delivery (webhook, mail)
 * is the caller's: this module only stores and lists.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "store/alerts.h"

#define DAY	86400

struct store_alerts {
	char	*path;
	sqlite3	*db;
	sqlite3_stmt *ins;
};

static enum store_status
dberr(struct store_alerts *a, const char *what, struct strbuf *err)
{
	strbuf_appendf(err, "%s: %s: %s", a->path, what,
	    sqlite3_errmsg(a->db));
	return STORE_ERR_WRITE;
}

struct store_alerts *
store_alerts_open(const char *uri, enum store_status *st,
    struct strbuf *err)
{
	struct store_alerts *a;
	struct store *s;
	const char *path = uri;

	if ((s = store_open(uri, STORE_DURABILITY_RELAXED, st, err)) == NULL)
		return NULL;
	store_close(s);
	if (strncmp(uri, "postgres", 8) == 0) {
		strbuf_appends(err, "alerts on PostgreSQL are not yet "
		    "supported: use a SQLite HistoryDatabase");
		*st = STORE_ERR_CONFIG;
		return NULL;
	}
	if (strncmp(path, "sqlite://", 9) == 0)
		path += 9;
	else if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(path)) == NULL) {
		free(a);
		*st = STORE_ERR_NOMEM;
		return NULL;
	}
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot open: %s", path,
		    a->db ? sqlite3_errmsg(a->db) : "out of memory");
		*st = STORE_ERR_OPEN;
		store_alerts_close(a);
		return NULL;
	}
	sqlite3_busy_timeout(a->db, STORE_BUSY_MS);
	if (sqlite3_prepare_v2(a->db, "INSERT OR IGNORE INTO alerts (domain, "
	    "kind, subject, dedup_key, detail, created_at) VALUES (?1, ?2, ?3, "
	    "?2 || '|' || ?1 || '|' || ?4, ?5, strftime('%s', 'now'))", -1,
	    &a->ins, NULL) != SQLITE_OK) {
		strbuf_appendf(err, "%s: %s", path, sqlite3_errmsg(a->db));
		*st = STORE_ERR_SCHEMA;
		store_alerts_close(a);
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
	sqlite3_finalize(a->ins);
	sqlite3_close(a->db);
	free(a->path);
	free(a);
}

static int
add(struct store_alerts *a, const char *domain, const char *kind,
    const char *subject, const char *key, const char *detail,
    unsigned *nnew)
{
	sqlite3_reset(a->ins);
	sqlite3_bind_text(a->ins, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ins, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ins, 3, subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ins, 4, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ins, 5, detail, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(a->ins) != SQLITE_DONE)
		return -1;
	if (sqlite3_changes(a->db) > 0)
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
	sqlite3_stmt *st = NULL;
	struct strbuf detail = STRBUF_INIT;
	struct json j;
	char day[16];
	int rc, ret = -1;

	if (sqlite3_prepare_v2(a->db, REPORTS_CTE ", s AS (SELECT "
	    "COALESCE(NULLIF(d.org, ''), c.source_ip) AS subject, "
	    "c.source_ip AS ip, c.count AS n, r.day AS day FROM agg_records c "
	    "JOIN r ON c.report = r.id LEFT JOIN rdns d ON d.ip = c.source_ip) "
	    "SELECT subject, sum(n), group_concat(DISTINCT ip) FROM s "
	    "WHERE day = ?2 GROUP BY subject HAVING sum(n) >= ?3 AND subject "
	    "NOT IN (SELECT subject FROM s WHERE day < ?2) AND EXISTS "
	    "(SELECT 1 FROM r WHERE day < ?2) ORDER BY subject", -1, &st,
	    NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_int64(st, 3, c->new_source_min);
	day_string(last, day, sizeof(day));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *subject = (const char *)sqlite3_column_text(st, 0);
		const char *ips = (const char *)sqlite3_column_text(st, 2);

		strbuf_reset(&detail);
		json_init(&j, &detail, false);
		json_object_begin(&j);
		json_kv_string(&j, "day", day);
		json_kv_int(&j, "messages", sqlite3_column_int64(st, 1));
		json_kv_string(&j, "ips", ips ? ips : "");
		json_object_end(&j);
		if (add(a, domain, "new_source", subject, subject,
		    strbuf_cstr(&detail), nnew) != 0)
			goto out;
	}
	ret = rc == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	strbuf_release(&detail);
	return ret;
}

#define PASS_EXPR "(lower(c.eval_dkim) = 'pass' OR lower(c.eval_spf) = 'pass')"

static int
detect_pass_rate(struct store_alerts *a, const struct alerts_config *c,
    const char *domain, int64_t last, unsigned *nnew)
{
	sqlite3_stmt *st = NULL;
	struct strbuf detail = STRBUF_INIT;
	struct json j;
	int64_t cur, curpass, base, basepass;
	double rcur, rbase;
	char day[16];
	int ret = -1;

	if (sqlite3_prepare_v2(a->db, REPORTS_CTE "SELECT "
	    "total(CASE WHEN r.day = ?2 THEN c.count END), "
	    "total(CASE WHEN r.day = ?2 AND " PASS_EXPR " THEN c.count END), "
	    "total(CASE WHEN r.day < ?2 THEN c.count END), "
	    "total(CASE WHEN r.day < ?2 AND " PASS_EXPR " THEN c.count END) "
	    "FROM agg_records c JOIN r ON c.report = r.id "
	    "WHERE r.day BETWEEN ?2 - 7 AND ?2", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	cur = (int64_t)sqlite3_column_double(st, 0);
	curpass = (int64_t)sqlite3_column_double(st, 1);
	base = (int64_t)sqlite3_column_double(st, 2);
	basepass = (int64_t)sqlite3_column_double(st, 3);
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
	sqlite3_finalize(st);
	strbuf_release(&detail);
	return ret;
}

static int
detect_dkim_failing(struct store_alerts *a, const struct alerts_config *c,
    const char *domain, int64_t last, unsigned *nnew)
{
	sqlite3_stmt *st = NULL;
	struct strbuf detail = STRBUF_INIT;
	struct json j;
	char day[16];
	int rc, ret = -1;

	if (sqlite3_prepare_v2(a->db, REPORTS_CTE ", s AS (SELECT "
	    "c.source_ip AS ip, "
	    "total(CASE WHEN r.day < ?2 AND " PASS_EXPR " THEN c.count END) "
	    "  AS base_pass, "
	    "total(CASE WHEN r.day < ?2 THEN c.count END) AS base_n, "
	    "total(CASE WHEN r.day < ?2 AND lower(c.eval_dkim) <> 'pass' "
	    "  THEN c.count END) AS base_dkimfail, "
	    "total(CASE WHEN r.day = ?2 AND lower(c.eval_dkim) <> 'pass' "
	    "  THEN c.count END) AS cur_dkimfail "
	    "FROM agg_records c JOIN r ON c.report = r.id "
	    "WHERE r.day BETWEEN ?2 - 7 AND ?2 GROUP BY c.source_ip) "
	    "SELECT ip, cur_dkimfail, base_n, base_pass FROM s "
	    "WHERE base_pass > 0 AND base_dkimfail * 2 < base_n "
	    "AND cur_dkimfail >= ?3 ORDER BY ip", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_int64(st, 3, c->dkim_fail_min);
	day_string(last, day, sizeof(day));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ip = (const char *)sqlite3_column_text(st, 0);

		strbuf_reset(&detail);
		json_init(&j, &detail, false);
		json_object_begin(&j);
		json_kv_string(&j, "day", day);
		json_kv_int(&j, "dkim_fail_messages",
		    (int64_t)sqlite3_column_double(st, 1));
		json_kv_int(&j, "baseline_messages",
		    (int64_t)sqlite3_column_double(st, 2));
		json_kv_int(&j, "baseline_pass_messages",
		    (int64_t)sqlite3_column_double(st, 3));
		json_object_end(&j);
		if (add(a, domain, "dkim_failing", ip, ip,
		    strbuf_cstr(&detail), nnew) != 0)
			goto out;
	}
	ret = rc == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
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
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, "SELECT EXISTS (SELECT 1 FROM "
	    "agg_reports WHERE domain = ?1 AND ((begin_ts + end_ts) / 2) / "
	    "86400 < ?2)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last);
	rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc;
}

enum store_status
store_alerts_detect(struct store_alerts *a, const struct alerts_config *c,
    time_t since, unsigned *nnew, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*nnew = 0;
	if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return dberr(a, "begin", err);
	if (sqlite3_prepare_v2(a->db, "SELECT domain, max(((begin_ts + "
	    "end_ts) / 2) / 86400) FROM agg_reports GROUP BY domain "
	    "HAVING max(imported_at) >= ?1 ORDER BY domain", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *domain = (const char *)sqlite3_column_text(st, 0);
		int64_t last = sqlite3_column_int64(st, 1);

		if (domain == NULL)
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
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		st = NULL;
		goto fail;
	}
	return STORE_OK;
fail:
	dberr(a, "detecting alerts", err);
	sqlite3_finalize(st);
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	*nnew = 0;
	return STORE_ERR_WRITE;
}

enum store_status
store_alerts_list(struct store_alerts *a, enum alerts_filter f,
    const char *domain, int (*cb)(const struct alert *, void *), void *ctx,
    struct strbuf *err)
{
	static const char *const where[] = {
		[ALERTS_ALL] = "1",
		[ALERTS_WEBHOOK_PENDING] = "delivered_webhook IS NULL",
		[ALERTS_DIGEST_PENDING] = "delivered_digest IS NULL",
	};
	struct strbuf q = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	struct alert al;
	int rc;

	strbuf_appendf(&q, "SELECT id, domain, kind, subject, detail, "
	    "created_at, coalesce(delivered_webhook, 0), "
	    "coalesce(delivered_digest, 0) FROM alerts WHERE %s AND "
	    "(?1 IS NULL OR domain = ?1) ORDER BY created_at, id", where[f]);
	if (sqlite3_prepare_v2(a->db, strbuf_cstr(&q), -1, &st, NULL) !=
	    SQLITE_OK) {
		strbuf_release(&q);
		strbuf_appendf(err, "%s: %s", a->path, sqlite3_errmsg(a->db));
		return STORE_ERR_READ;
	}
	strbuf_release(&q);
	if (domain != NULL)
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		al.id = sqlite3_column_int64(st, 0);
		al.domain = (const char *)sqlite3_column_text(st, 1);
		al.kind = (const char *)sqlite3_column_text(st, 2);
		al.subject = (const char *)sqlite3_column_text(st, 3);
		al.detail = (const char *)sqlite3_column_text(st, 4);
		al.created_at = (time_t)sqlite3_column_int64(st, 5);
		al.delivered_webhook = (time_t)sqlite3_column_int64(st, 6);
		al.delivered_digest = (time_t)sqlite3_column_int64(st, 7);
		if (cb(&al, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		strbuf_appendf(err, "%s: %s", a->path, sqlite3_errmsg(a->db));
		sqlite3_finalize(st);
		return STORE_ERR_READ;
	}
	sqlite3_finalize(st);
	return STORE_OK;
}

enum store_status
store_alerts_mark(struct store_alerts *a, int64_t id, enum alerts_channel ch,
    time_t when, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, ch == ALERTS_WEBHOOK ?
	    "UPDATE alerts SET delivered_webhook = ?1 WHERE id = ?2" :
	    "UPDATE alerts SET delivered_digest = ?1 WHERE id = ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return dberr(a, "marking an alert delivered", err);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)when);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(a, "marking an alert delivered", err);
	return STORE_OK;
}
