/*
 * api.c - the report endpoints of dmarcctl serve: SQL over agg_reports,
 * agg_records, failure_reports, rdns and alerts, written as the JSON of
 * doc/api.md.
 *
 * Definitions (api.md): a report belongs to the UTC day of its begin
 * time; a record passes DMARC when the reporter's policy_evaluated says
 * dkim=pass or spf=pass; counts are messages (sums of record counts).
 * Every value bound into SQL is a parameter, never spliced text; the
 * only spliced pieces are fixed column names picked from a table.  The
 * work of one request is bounded by dbq_deadline().  The SQL is the
 * dialect SQLite and PostgreSQL share (store/dbq.h): no bare boolean sums,
 * every selected column grouped, days as integer division of UTC
 * seconds, sub-selects named; the one difference left (SQLite's
 * INDEXED BY) is chosen by back-end.  An endpoint says what it selects,
 * its filters and how a row becomes JSON (a row_writer); q_rows_json()
 * and page_answer() run the queries and write the paging and arrays.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/mem.h"
#include "web/api.h"
#include "web/tokens.h"

#define PASS_EXPR	"(c.eval_dkim = 'pass' OR c.eval_spf = 'pass')"
#define PASS_SUM	"SUM(CASE WHEN " PASS_EXPR " THEN c.count ELSE 0 END)"
#define MAX_BINDS	(TOKEN_MAX_DOMAINS + 16)

int
api_error(struct strbuf *out, int status, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	struct json j;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(&msg, fmt, ap);
	va_end(ap);
	strbuf_reset(out);
	json_init(&j, out, false);
	json_object_begin(&j);
	json_kv_string(&j, "error", strbuf_cstr(&msg));
	json_object_end(&j);
	strbuf_release(&msg);
	return status;
}

/* A query built with its parameters; values are copied references. */
struct sqlq {
	struct strbuf sql;
	struct dbq_param b[MAX_BINDS];
	int	 n;
	bool	 overflow;
	char	*scope;		/* q_scope()'s copy of the token's scope */
};

#define SQLQ_INIT	{ STRBUF_INIT, {{0}}, 0, false, NULL }

static void
q_sql(struct sqlq *q, const char *s)
{
	strbuf_appends(&q->sql, s);
}

/* Append the next parameter, "?N", bound to p. */
static void
q_param(struct sqlq *q, struct dbq_param p)
{
	if (q->n >= MAX_BINDS) {
		q->overflow = true;
		return;
	}
	q->b[q->n++] = p;
	strbuf_appendf(&q->sql, "?%d", q->n);
}

static void
q_text(struct sqlq *q, const char *s)
{
	q_param(q, dbq_param_text(s));
}

static void
q_int(struct sqlq *q, int64_t v)
{
	q_param(q, dbq_param_int(v));
}

static struct dbq_rows *
q_prepare(struct dbq *db, struct sqlq *q)
{
	if (q->overflow || strbuf_failed(&q->sql))
		return NULL;
	return dbq_query(db, strbuf_cstr(&q->sql), q->b, q->n);
}

/* Free what q holds and make it an empty query again. */
static void
q_free(struct sqlq *q)
{
	strbuf_release(&q->sql);
	mem_free(q->scope);
	q->scope = NULL;
	q->n = 0;
	q->overflow = false;
}

/* The answer to a failed query: 503 when the work cap stopped it or
 * the database did not answer in time. */
static int
db_fail(const struct api_req *r)
{
	switch (dbq_status(r->db)) {
	case DBQ_STOPPED:
		return api_error(r->out, 503, "query stopped: too much work; "
		    "narrow the date range (from, to)");
	case DBQ_UNAVAILABLE:
		return api_error(r->out, 503, "database unavailable: %s",
		    dbq_errmsg(r->db));
	default:
		return api_error(r->out, 500, "database error: %s",
		    dbq_errmsg(r->db));
	}
}

static void
json_ts(struct json *j, int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		json_null(j);
		return;
	}
	json_string(j, buf);
}

static void
json_rate(struct json *j, int64_t part, int64_t whole)
{
	json_double(j, whole > 0 ? (double)part / (double)whole : 0.0);
}

/* "messages", "pass" and "fail" of api.md: m messages, p passing. */
static void
json_counts(struct json *j, int64_t m, int64_t p)
{
	json_kv_int(j, "messages", m);
	json_kv_int(j, "pass", p);
	json_kv_int(j, "fail", m - p);
}

/* {"pass", "fail"} as the member key: of m messages, p pass. */
static void
json_pass_fail(struct json *j, const char *key, int64_t m, int64_t p)
{
	json_key(j, key);
	json_object_begin(j);
	json_kv_int(j, "pass", p);
	json_kv_int(j, "fail", m - p);
	json_object_end(j);
}

/* Optional string: NULL for "". */
static void
json_str_or_null(struct json *j, const char *s)
{
	if (s == NULL || *s == '\0')
		json_null(j);
	else
		json_string(j, s);
}

struct range {
	int64_t	 from_day, to_day;
	int64_t	 from_ts, to_ts;	/* [from_ts, to_ts) */
};

/* from/to as api.md says; 0, or an HTTP status with the body written. */
static int
get_range(const struct api_req *r, struct range *rg)
{
	const char *v;

	rg->to_day = (int64_t)r->now / 86400;
	rg->from_day = rg->to_day - (API_RANGE_DEFAULT_DAYS - 1);
	if ((v = webq_get(r->q, "to")) != NULL &&
	    webq_day(v, &rg->to_day) != WEBQ_OK)
		return api_error(r->out, 400, "to: expected a date YYYY-MM-DD "
		    "(UTC), got \"%.40s\"", v);
	if ((v = webq_get(r->q, "from")) != NULL) {
		if (webq_day(v, &rg->from_day) != WEBQ_OK)
			return api_error(r->out, 400, "from: expected a date "
			    "YYYY-MM-DD (UTC), got \"%.40s\"", v);
	} else if (webq_get(r->q, "to") != NULL)
		rg->from_day = rg->to_day - (API_RANGE_DEFAULT_DAYS - 1);
	if (rg->from_day > rg->to_day)
		return api_error(r->out, 400, "from: after to");
	rg->from_ts = rg->from_day * 86400;
	rg->to_ts = (rg->to_day + 1) * 86400;
	return 0;
}

struct paging {
	int64_t	 page, per_page;
};

static int
get_paging(const struct api_req *r, struct paging *p)
{
	const char *v;
	uint64_t n;

	p->page = 1;
	p->per_page = API_PER_PAGE_DEFAULT;
	if ((v = webq_get(r->q, "page")) != NULL) {
		if (webq_uint(v, 1, API_PAGE_MAX, &n) != WEBQ_OK)
			return api_error(r->out, 400, "page: expected a whole "
			    "number from 1 to %d", API_PAGE_MAX);
		p->page = (int64_t)n;
	}
	if ((v = webq_get(r->q, "per_page")) != NULL) {
		if (webq_uint(v, 1, API_PER_PAGE_MAX, &n) != WEBQ_OK)
			return api_error(r->out, 400, "per_page: expected a "
			    "whole number from 1 to %d", API_PER_PAGE_MAX);
		p->per_page = (int64_t)n;
	}
	return 0;
}

static void
paging_json(struct json *j, const struct paging *p, int64_t total)
{
	json_kv_int(j, "page", p->page);
	json_kv_int(j, "per_page", p->per_page);
	json_kv_int(j, "total", total);
}

/*
 * Whether the token may see domain d and d has any data: api.md answers
 * both "outside the scope" and "nothing stored" with the same 404.
 * 0 when visible, else the status with the body written.
 */
static int
domain_visible(const struct api_req *r, const char *d)
{
	struct dbq_param b = { d, 0, true };
	struct dbq_rows *st;
	bool row, found = false;

	if (!token_scope_has(r->scope, d))
		return api_error(r->out, 404, "no such domain: %s", d);
	if ((st = dbq_query(r->db, "SELECT CASE WHEN EXISTS (SELECT 1 "
	    "FROM agg_reports WHERE domain = ?1) OR EXISTS (SELECT 1 FROM "
	    "failure_reports WHERE lower(reported_domain) = ?1) OR EXISTS "
	    "(SELECT 1 FROM alerts WHERE domain = ?1) THEN 1 ELSE 0 END",
	    &b, 1)) == NULL)
		return db_fail(r);
	if ((row = dbq_next(st)))
		found = dbq_int(st, 0) != 0;
	dbq_rows_free(st);
	if (!row)
		return db_fail(r);
	if (!found)
		return api_error(r->out, 404, "no such domain: %s", d);
	return 0;
}

/* " AND r.domain IN (...)" for a scoped token. */
static void
q_scope(struct sqlq *q, const char *scope)
{
	char *p, *save = NULL;
	bool first = true;

	if (strcmp(scope, "*") == 0)
		return;
	mem_free(q->scope);
	if ((q->scope = mem_strdup(scope)) == NULL) {
		q->overflow = true;
		return;
	}
	q_sql(q, " AND r.domain IN (");
	for (p = strtok_r(q->scope, " ", &save); p != NULL;
	    p = strtok_r(NULL, " ", &save)) {
		if (!first)
			q_sql(q, ", ");
		q_text(q, p);
		first = false;
	}
	if (first)
		q_sql(q, "''");
	q_sql(q, ")");
}

static void
q_range(struct sqlq *q, const struct range *rg)
{
	q_sql(q, " AND r.begin_ts >= ");
	q_int(q, rg->from_ts);
	q_sql(q, " AND r.begin_ts < ");
	q_int(q, rg->to_ts);
}

static int
count_query(const struct api_req *r, struct sqlq *q, int64_t *n)
{
	struct dbq_rows *st;
	bool row;

	if ((st = q_prepare(r->db, q)) == NULL)
		return db_fail(r);
	row = dbq_next(st);
	*n = row ? dbq_int(st, 0) : 0;
	dbq_rows_free(st);
	return row ? 0 : db_fail(r);
}

/* Writes the current row of st into j; 0, or an HTTP status with the
 * error body written in place of the answer. */
typedef int (*row_writer)(struct dbq_rows *st, struct json *j, void *arg);

/*
 * Run q and write its rows, each by write_row, as the array key of j.
 * 0, or an HTTP status with the error body written (j is then left as
 * it was).
 */
static int
q_rows_json(const struct api_req *r, struct sqlq *q, struct json *j,
    const char *key, row_writer write_row, void *arg)
{
	struct dbq_rows *st;
	int status = 0;

	if ((st = q_prepare(r->db, q)) == NULL)
		return db_fail(r);
	json_key(j, key);
	json_array_begin(j);
	while (status == 0 && dbq_next(st))
		status = write_row(st, j, arg);
	if (status == 0) {
		json_array_end(j);
		if (dbq_rows_failed(st))
			status = db_fail(r);
	}
	dbq_rows_free(st);
	return status;
}

/*
 * One paged list of api.md ("Paging") as its endpoint describes it: the
 * query counting the items, the query listing them in order (without
 * LIMIT), the array's name and how a row becomes JSON.  more, when not
 * NULL, writes the members that follow the array.
 */
struct page {
	struct sqlq count, list;
	const char *key;
	row_writer row;
	int	(*more)(const struct api_req *, const struct paging *,
		    struct json *, void *arg);
	void	*arg;
};

/*
 * The answer to a paged list: {"page", "per_page", "total", key: [...]}
 * and what more writes.  Frees p's queries.  Returns the HTTP status,
 * the body written.
 */
static int
page_answer(const struct api_req *r, const struct paging *pg,
    struct page *p)
{
	struct json j;
	int64_t total;
	int status;

	q_sql(&p->list, " LIMIT ");
	q_int(&p->list, pg->per_page);
	q_sql(&p->list, " OFFSET ");
	q_int(&p->list, (pg->page - 1) * pg->per_page);
	if ((status = count_query(r, &p->count, &total)) != 0)
		goto done;
	json_init(&j, r->out, false);
	json_object_begin(&j);
	paging_json(&j, pg, total);
	if ((status = q_rows_json(r, &p->list, &j, p->key, p->row,
	    p->arg)) != 0 || (p->more != NULL &&
	    (status = p->more(r, pg, &j, p->arg)) != 0))
		goto done;
	json_object_end(&j);
	status = 200;
done:
	q_free(&p->count);
	q_free(&p->list);
	return status;
}

/* The filters of /reports: the range, domain, org and token's scope. */
static void
reports_where(struct sqlq *q, const struct api_req *r, const struct range *rg,
    const char *dom, const char *org)
{
	q_range(q, rg);
	if (dom[0] != '\0') {
		q_sql(q, " AND r.domain = ");
		q_text(q, dom);
	}
	if (org != NULL) {
		q_sql(q, " AND r.org_name = ");
		q_text(q, org);
	}
	q_scope(q, r->scope);
}

static int
report_row(struct dbq_rows *st, struct json *j, void *arg)
{
	int64_t msgs = dbq_int(st, 9);
	int64_t pass = dbq_int(st, 10);

	(void)arg;
	json_object_begin(j);
	json_kv_int(j, "id", dbq_int(st, 0));
	json_kv_string(j, "org_name", dbq_text(st, 1));
	json_kv_string(j, "report_id", dbq_text(st, 2));
	json_kv_string(j, "domain", dbq_text(st, 3));
	json_key(j, "begin");
	json_ts(j, dbq_int(st, 4));
	json_key(j, "end");
	json_ts(j, dbq_int(st, 5));
	json_counts(j, msgs, pass);
	json_key(j, "policy");
	json_object_begin(j);
	json_kv_string(j, "p", dbq_text(st, 6));
	json_kv_string(j, "sp", dbq_text(st, 7));
	json_key(j, "pct");
	if ((int)dbq_int(st, 8) >= 0)
		json_int(j, (int)dbq_int(st, 8));
	else
		json_null(j);
	json_object_end(j);
	json_object_end(j);
	return 0;
}

int
api_reports(const struct api_req *r)
{
	struct page p = { SQLQ_INIT, SQLQ_INIT, "reports", report_row, NULL,
		NULL };
	char dom[WEBQ_MAX_DOMAIN + 2];
	const char *v, *org;
	struct range rg;
	struct paging pg;
	int status;

	if ((status = get_range(r, &rg)) != 0 ||
	    (status = get_paging(r, &pg)) != 0)
		return status;
	dom[0] = '\0';
	if ((v = webq_get(r->q, "domain")) != NULL && *v != '\0') {
		snprintf(dom, sizeof(dom), "%.*s", WEBQ_MAX_DOMAIN + 1, v);
		if (strlen(v) > WEBQ_MAX_DOMAIN || !webq_domain_is_valid(dom))
			return api_error(r->out, 400, "domain: not a domain "
			    "name");
		if ((status = domain_visible(r, dom)) != 0)
			return status;
	}
	org = webq_get(r->q, "org");
	if (org != NULL && *org == '\0')
		org = NULL;

	q_sql(&p.count, "SELECT COUNT(*) FROM agg_reports r WHERE 1 = 1");
	reports_where(&p.count, r, &rg, dom, org);
	q_sql(&p.list, "SELECT r.id, r.org_name, r.report_id, r.domain, "
	    "r.begin_ts, r.end_ts, r.p, r.sp, r.pct, "
	    "(SELECT COALESCE(SUM(c.count), 0) FROM agg_records c "
	    "WHERE c.report = r.id), (SELECT COALESCE(" PASS_SUM ", 0) "
	    "FROM agg_records c WHERE c.report = r.id) "
	    "FROM agg_reports r WHERE 1 = 1");
	reports_where(&p.list, r, &rg, dom, org);
	q_sql(&p.list, " ORDER BY r.begin_ts DESC, r.id");
	return page_answer(r, &pg, &p);
}

/* Readiness (api.md summary.readiness): see dmarcctl(8) "serve". */
struct readiness {
	char	 p[16];
	int	 pct;
	int64_t	 days;
	int64_t	 messages, pass;
	size_t	 nblocking;
};

static const char *
verdict(const struct readiness *rd, struct strbuf *msg, const char *d)
{
	if (rd->messages == 0) {
		strbuf_appendf(msg, "no aggregate reports for %s in this "
		    "period", d);
		return "not_ready";
	}
	if (strcmp(rd->p, "reject") == 0) {
		if (rd->nblocking > 0)
			strbuf_appendf(msg, "p=reject is published; %zu "
			    "legitimate-looking source(s) still fail DMARC "
			    "and lose mail", rd->nblocking);
		else
			strbuf_appends(msg, "p=reject is published and no "
			    "legitimate-looking source fails");
		return "enforcing";
	}
	if (rd->nblocking > 0) {
		strbuf_appendf(msg, "%zu legitimate-looking source(s) still "
		    "fail DMARC: fix their SPF or DKIM first", rd->nblocking);
		return "not_ready";
	}
	if (rd->pass * 100 < rd->messages * API_READY_MIN_PASS_PCT) {
		strbuf_appendf(msg, "only %lld of %lld messages pass DMARC: "
		    "make sure your own mail is signed and in SPF first",
		    (long long)rd->pass, (long long)rd->messages);
		return "not_ready";
	}
	if (rd->days < API_READY_MIN_DAYS) {
		strbuf_appendf(msg, "reports cover %lld day(s): collect at "
		    "least %d before changing the policy",
		    (long long)rd->days, API_READY_MIN_DAYS);
		return "monitoring";
	}
	if (strcmp(rd->p, "quarantine") == 0) {
		strbuf_appends(msg, "no legitimate-looking source fails: "
		    "ready to publish p=reject");
		return "ready_for_reject";
	}
	if (strcmp(rd->p, "none") == 0) {
		strbuf_appends(msg, "no legitimate-looking source fails: "
		    "ready to publish p=quarantine");
		return "ready_for_quarantine";
	}
	strbuf_appends(msg, "the reports show no published policy");
	return "monitoring";
}

static int
blocking_row(struct dbq_rows *st, struct json *j, void *arg)
{
	struct readiness *rd = arg;

	json_object_begin(j);
	json_kv_string(j, "source_ip", dbq_text(st, 0));
	json_key(j, "ptr");
	json_str_or_null(j, dbq_text(st, 1));
	json_kv_int(j, "messages", dbq_int(st, 2));
	json_kv_int(j, "fail", dbq_int(st, 3));
	json_object_end(j);
	rd->nblocking++;
	return 0;
}

/* The failing sources that look legitimate: some of their messages pass
 * DMARC, or some pass SPF or DKIM for any domain (an unaligned sender,
 * e.g. a mailing service), or their PTR's organization is the domain's
 * own.  Sources that never authenticate at all are taken as forgers. */
static int
blocking_sources(const struct api_req *r, const struct range *rg,
    struct json *j, struct readiness *rd)
{
	struct sqlq q = SQLQ_INIT;
	int status;

	q_sql(&q, "SELECT c.source_ip, n.ptr, SUM(c.count), SUM(c.count) - "
	    PASS_SUM ", " PASS_SUM ", n.org FROM agg_records c JOIN "
	    "agg_reports r ON c.report = r.id LEFT JOIN rdns n ON n.ip = "
	    "c.source_ip WHERE r.domain = ");
	q_text(&q, r->domain);
	q_range(&q, rg);
	/* n.ptr and n.org are grouped too: rdns has one row per ip, and
	 * PostgreSQL wants every selected column grouped or aggregated.
	 * The domain is a parameter again, not r.domain, for the same
	 * reason; the suffix test avoids LIKE (a '_' in a name). */
	q_sql(&q, " GROUP BY c.source_ip, n.ptr, n.org HAVING SUM(c.count) - "
	    PASS_SUM " > 0 AND (" PASS_SUM " > 0 OR SUM(CASE WHEN "
	    "c.spf_results LIKE '%result=pass%' OR c.dkim_results LIKE "
	    "'%result=pass%' THEN 1 ELSE 0 END) > 0 OR (n.org IS NOT NULL "
	    "AND n.org <> '' AND (CAST(");
	q_text(&q, r->domain);
	q_sql(&q, " AS TEXT) = n.org OR (length(CAST(");
	q_text(&q, r->domain);
	q_sql(&q, " AS TEXT)) > length(n.org) AND substr(CAST(");
	q_text(&q, r->domain);
	q_sql(&q, " AS TEXT), length(CAST(");
	q_text(&q, r->domain);
	q_sql(&q, " AS TEXT)) - length(n.org)) = '.' || n.org)))) "
	    "ORDER BY 4 DESC, c.source_ip LIMIT ");
	q_int(&q, API_BLOCKING_MAX);
	status = q_rows_json(r, &q, j, "blocking_sources", blocking_row, rd);
	q_free(&q);
	return status;
}

static int
daily_row(struct dbq_rows *st, struct json *j, void *arg)
{
	struct readiness *rd = arg;
	int64_t m = dbq_int(st, 1);
	int64_t p = dbq_int(st, 2);
	char day[16];

	webq_day_format(dbq_int(st, 0), day, sizeof(day));
	json_object_begin(j);
	json_kv_string(j, "date", day);
	json_counts(j, m, p);
	json_key(j, "pass_rate");
	json_rate(j, p, m);
	json_object_end(j);
	rd->days++;
	return 0;
}

static int
summary_daily(const struct api_req *r, const struct range *rg,
    struct json *j, struct readiness *rd)
{
	struct sqlq q = SQLQ_INIT;
	int status;

	q_sql(&q, "SELECT r.begin_ts / 86400, SUM(c.count), " PASS_SUM
	    " FROM agg_records c JOIN agg_reports r ON c.report = r.id "
	    "WHERE r.domain = ");
	q_text(&q, r->domain);
	q_range(&q, rg);
	q_sql(&q, " GROUP BY 1 ORDER BY 1");
	status = q_rows_json(r, &q, j, "daily", daily_row, rd);
	q_free(&q);
	return status;
}

/* The policy of the latest report in the range. */
static int
latest_policy(const struct api_req *r, const struct range *rg,
    struct readiness *rd)
{
	struct sqlq q = SQLQ_INIT;
	struct dbq_rows *st;
	bool failed;

	q_sql(&q, "SELECT r.p, r.pct FROM agg_reports r WHERE r.domain = ");
	q_text(&q, r->domain);
	q_range(&q, rg);
	q_sql(&q, " ORDER BY r.begin_ts DESC, r.id DESC LIMIT 1");
	if ((st = q_prepare(r->db, &q)) == NULL) {
		q_free(&q);
		return db_fail(r);
	}
	rd->p[0] = '\0';
	rd->pct = -1;
	if (dbq_next(st)) {
		snprintf(rd->p, sizeof(rd->p), "%s", dbq_text(st, 0));
		rd->pct = (int)dbq_int(st, 1);
	}
	failed = dbq_rows_failed(st);
	dbq_rows_free(st);
	q_free(&q);
	return failed ? db_fail(r) : 0;
}

int
api_summary(const struct api_req *r)
{
	struct sqlq q = SQLQ_INIT;
	struct strbuf msg = STRBUF_INIT, tail = STRBUF_INIT;
	struct readiness rd;
	struct dbq_rows *st = NULL;
	struct range rg;
	struct json j, jt;
	char day[16];
	int64_t reports = 0, v[8];
	const char *verd;
	int status, i;

	if ((status = get_range(r, &rg)) != 0 ||
	    (status = domain_visible(r, r->domain)) != 0)
		return status;
	memset(&rd, 0, sizeof(rd));
	q_sql(&q, "SELECT COUNT(*) FROM agg_reports r WHERE r.domain = ");
	q_text(&q, r->domain);
	q_range(&q, &rg);
	status = count_query(r, &q, &reports);
	q_free(&q);
	if (status != 0)
		return status;

	q_sql(&q, "SELECT COUNT(DISTINCT c.source_ip), "
	    "COALESCE(SUM(c.count), 0), COALESCE(" PASS_SUM ", 0), "
	    "COALESCE(SUM(CASE WHEN c.disposition = 'none' THEN c.count "
	    "ELSE 0 END), 0), COALESCE(SUM(CASE WHEN c.disposition = "
	    "'quarantine' THEN c.count ELSE 0 END), 0), COALESCE(SUM(CASE "
	    "WHEN c.disposition = 'reject' THEN c.count ELSE 0 END), 0), "
	    "COALESCE(SUM(CASE WHEN c.eval_spf = 'pass' THEN c.count ELSE 0 "
	    "END), 0), COALESCE(SUM(CASE WHEN c.eval_dkim = 'pass' THEN "
	    "c.count ELSE 0 END), 0) FROM agg_records c JOIN agg_reports r "
	    "ON c.report = r.id WHERE r.domain = ");
	q_text(&q, r->domain);
	q_range(&q, &rg);
	if ((st = q_prepare(r->db, &q)) == NULL || !dbq_next(st)) {
		status = db_fail(r);
		goto done;
	}
	for (i = 0; i < 8; i++)
		v[i] = dbq_int(st, i);
	rd.messages = v[1];
	rd.pass = v[2];

	json_init(&j, r->out, false);
	json_object_begin(&j);
	json_kv_string(&j, "domain", r->domain);
	webq_day_format(rg.from_day, day, sizeof(day));
	json_kv_string(&j, "from", day);
	webq_day_format(rg.to_day, day, sizeof(day));
	json_kv_string(&j, "to", day);
	json_kv_int(&j, "reports", reports);
	json_kv_int(&j, "sources", v[0]);
	json_counts(&j, v[1], v[2]);
	json_key(&j, "pass_rate");
	json_rate(&j, v[2], v[1]);
	json_key(&j, "fail_rate");
	json_rate(&j, v[1] - v[2], v[1]);
	json_key(&j, "policy_applied");
	json_object_begin(&j);
	json_kv_int(&j, "none", v[3]);
	json_kv_int(&j, "quarantine", v[4]);
	json_kv_int(&j, "reject", v[5]);
	json_object_end(&j);
	json_key(&j, "spf_aligned_rate");
	json_rate(&j, v[6], v[1]);
	json_key(&j, "dkim_aligned_rate");
	json_rate(&j, v[7], v[1]);
	if ((status = summary_daily(r, &rg, &j, &rd)) != 0 ||
	    (status = latest_policy(r, &rg, &rd)) != 0)
		goto done;
	/* The blocking list is written first into its own buffer: the
	 * verdict that precedes it depends on how many there are. */
	json_init(&jt, &tail, false);
	json_object_begin(&jt);
	if ((status = blocking_sources(r, &rg, &jt, &rd)) != 0)
		goto done;
	json_object_end(&jt);
	verd = verdict(&rd, &msg, r->domain);
	json_key(&j, "readiness");
	json_object_begin(&j);
	json_kv_string(&j, "verdict", verd);
	json_kv_string(&j, "message", strbuf_cstr(&msg));
	json_kv_string(&j, "policy", rd.p[0] != '\0' ? rd.p : NULL);
	/* tail is {"blocking_sources":[...]}: splice its member in. */
	strbuf_appendc(r->out, ',');
	strbuf_append(r->out, strbuf_cstr(&tail) + 1, strbuf_len(&tail) - 2);
	json_object_end(&j);
	json_object_end(&j);
	status = 200;
done:
	dbq_rows_free(st);
	q_free(&q);
	strbuf_release(&msg);
	strbuf_release(&tail);
	return status;
}

/*
 * The items of an auth-results text (ingest/xml.h): "k=v;k=v|k=v;..."
 * Calls back with each item's values for the keys asked.
 */
static const char *
item_value(const char *item, size_t n, const char *key, size_t *vlen)
{
	size_t kl = strlen(key), i = 0, j;

	while (i < n) {
		for (j = i; j < n && item[j] != ';'; j++)
			;
		if (j - i > kl && memcmp(item + i, key, kl) == 0 &&
		    item[i + kl] == '=') {
			*vlen = j - i - kl - 1;
			return item + i + kl + 1;
		}
		i = j + 1;
	}
	*vlen = 0;
	return "";
}

/* Write the auth results text as an array of objects with keys. */
static void
json_results(struct json *j, const char *text, const char *const *keys)
{
	const char *p = text, *bar, *v;
	size_t n, vl, k;

	json_array_begin(j);
	while (*p != '\0') {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n > 0) {
			json_object_begin(j);
			for (k = 0; keys[k] != NULL; k++) {
				v = item_value(p, n, keys[k], &vl);
				json_key(j, keys[k]);
				json_stringn(j, v, vl);
			}
			json_object_end(j);
		}
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	json_array_end(j);
}

/* Add each distinct "domain=" of text to list (space-separated). */
static void
collect_domains(struct strbuf *list, const char *text, size_t *n)
{
	const char *p = text, *bar, *v;
	char d[256];
	size_t len, vl;

	while (*p != '\0' && *n < 64) {
		bar = strchr(p, '|');
		len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		v = item_value(p, len, "domain", &vl);
		if (vl > 0 && vl < sizeof(d)) {
			memcpy(d, v, vl);
			d[vl] = '\0';
			if (strchr(d, ' ') == NULL &&
			    !token_scope_has(strbuf_cstr(list), d)) {
				if (strbuf_len(list) > 0)
					strbuf_appendc(list, ' ');
				strbuf_appends(list, d);
				(*n)++;
			}
		}
		if (bar == NULL)
			break;
		p = bar + 1;
	}
}

static void
json_word_list(struct json *j, const char *list)
{
	const char *p = list, *sp;

	json_array_begin(j);
	while (*p != '\0') {
		sp = strchr(p, ' ');
		json_stringn(j, p, sp != NULL ? (size_t)(sp - p) : strlen(p));
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	json_array_end(j);
}

/* The SPF and DKIM domains source_details() gathers from its rows. */
struct source_domains {
	struct strbuf spf, dkim;
	size_t	 nspf, ndkim;
};

/* A row of source_details(): an org (kind 1), or auth results (0). */
static int
source_detail_row(struct dbq_rows *st, struct json *j, void *arg)
{
	struct source_domains *sd = arg;

	if ((int)dbq_int(st, 0) == 1)
		json_string(j, dbq_text(st, 1));
	else {
		collect_domains(&sd->spf, dbq_text(st, 1), &sd->nspf);
		collect_domains(&sd->dkim, dbq_text(st, 2), &sd->ndkim);
	}
	return 0;
}

/*
 * " FROM" the records of ip for the path's domain in the range.  They
 * go through the source_ip index (the planner would otherwise walk
 * every record of the domain for each source).  PostgreSQL has no
 * INDEXED BY; its planner picks the index itself.
 */
static void
q_source_records(struct sqlq *q, const struct api_req *r,
    const struct range *rg, const char *ip)
{
	q_sql(q, " FROM agg_records c");
	if (!dbq_is_pgsql(r->db))
		q_sql(q, " INDEXED BY agg_records_ip");
	q_sql(q, " JOIN agg_reports r ON c.report = r.id WHERE "
	    "c.source_ip = ");
	q_text(q, ip);
	q_sql(q, " AND r.domain = ");
	q_text(q, r->domain);
	q_range(q, rg);
}

/* spf_domains, dkim_domains and orgs of one source. */
static int
source_details(const struct api_req *r, const struct range *rg,
    const char *ip, struct json *j)
{
	struct sqlq q = SQLQ_INIT;
	struct source_domains sd = { STRBUF_INIT, STRBUF_INIT, 0, 0 };
	int status;

	/* Both parts are sub-selects so that each keeps its LIMIT. */
	q_sql(&q, "SELECT * FROM (SELECT DISTINCT 0, c.spf_results, "
	    "c.dkim_results");
	q_source_records(&q, r, rg, ip);
	q_sql(&q, " LIMIT 200) AS a UNION ALL SELECT * FROM (SELECT "
	    "DISTINCT 1, r.org_name, CAST('' AS TEXT)");
	q_source_records(&q, r, rg, ip);
	q_sql(&q, " ORDER BY 2 LIMIT 50) AS b");
	if ((status = q_rows_json(r, &q, j, "orgs", source_detail_row,
	    &sd)) == 0) {
		json_key(j, "spf_domains");
		json_word_list(j, strbuf_cstr(&sd.spf));
		json_key(j, "dkim_domains");
		json_word_list(j, strbuf_cstr(&sd.dkim));
	}
	q_free(&q);
	strbuf_release(&sd.spf);
	strbuf_release(&sd.dkim);
	return status;
}

static const struct {
	const char *name;
	const char *column;
} source_sorts[] = {
	{ "messages", "4" },
	{ "fail", "6" },
	{ "pass_rate", "7" },
	{ "source_ip", "c.source_ip" },
};

/* What a row of /sources needs to look up its details. */
struct source_ctx {
	const struct api_req *r;
	const struct range *rg;
};

static int
source_row(struct dbq_rows *st, struct json *j, void *arg)
{
	const struct source_ctx *sc = arg;
	int64_t m = dbq_int(st, 3);
	int64_t p = dbq_int(st, 4);
	char ip[64];
	int status;

	snprintf(ip, sizeof(ip), "%s", dbq_text(st, 0));
	json_object_begin(j);
	json_kv_string(j, "source_ip", ip);
	json_key(j, "ptr");
	json_str_or_null(j, dbq_text(st, 1));
	json_key(j, "ptr_org");
	json_str_or_null(j, dbq_text(st, 2));
	json_counts(j, m, p);
	json_key(j, "pass_rate");
	json_rate(j, p, m);
	json_pass_fail(j, "spf", m, dbq_int(st, 7));
	json_pass_fail(j, "dkim", m, dbq_int(st, 8));
	json_key(j, "first_seen");
	json_ts(j, dbq_int(st, 9));
	json_key(j, "last_seen");
	json_ts(j, dbq_int(st, 10));
	if ((status = source_details(sc->r, sc->rg, ip, j)) != 0)
		return status;
	json_object_end(j);
	return 0;
}

int
api_sources(const struct api_req *r)
{
	struct source_ctx sc = { r, NULL };
	struct page p = { SQLQ_INIT, SQLQ_INIT, "sources", source_row, NULL,
		&sc };
	const char *sort = "4", *order = "DESC", *v;
	struct range rg;
	struct paging pg;
	int status;
	size_t i;

	if ((status = get_range(r, &rg)) != 0 ||
	    (status = get_paging(r, &pg)) != 0)
		return status;
	sc.rg = &rg;
	if ((v = webq_get(r->q, "sort")) != NULL) {
		for (i = 0; i < sizeof(source_sorts) / sizeof(source_sorts[0]);
		    i++)
			if (strcmp(v, source_sorts[i].name) == 0)
				break;
		if (i == sizeof(source_sorts) / sizeof(source_sorts[0]))
			return api_error(r->out, 400, "sort: expected "
			    "messages, fail, pass_rate or source_ip");
		sort = source_sorts[i].column;
		if (strcmp(v, "source_ip") == 0)
			order = "ASC";
	}
	if ((v = webq_get(r->q, "order")) != NULL) {
		if (strcmp(v, "asc") == 0)
			order = "ASC";
		else if (strcmp(v, "desc") == 0)
			order = "DESC";
		else
			return api_error(r->out, 400, "order: expected asc or "
			    "desc");
	}
	if ((status = domain_visible(r, r->domain)) != 0)
		return status;

	q_sql(&p.count, "SELECT COUNT(DISTINCT c.source_ip) FROM "
	    "agg_records c JOIN agg_reports r ON c.report = r.id WHERE "
	    "r.domain = ");
	q_text(&p.count, r->domain);
	q_range(&p.count, &rg);
	q_sql(&p.list, "SELECT c.source_ip, n.ptr, n.org, SUM(c.count), "
	    PASS_SUM ", SUM(c.count) - " PASS_SUM ", CASE WHEN SUM(c.count) "
	    "> 0 THEN CAST(" PASS_SUM " AS DOUBLE PRECISION) / SUM(c.count) "
	    "ELSE 0 END, SUM(CASE WHEN c.eval_spf = "
	    "'pass' THEN c.count ELSE 0 END), SUM(CASE WHEN c.eval_dkim = "
	    "'pass' THEN c.count ELSE 0 END), MIN(r.begin_ts), "
	    "MAX(r.end_ts) FROM agg_records c JOIN agg_reports r ON "
	    "c.report = r.id LEFT JOIN rdns n ON n.ip = c.source_ip "
	    "WHERE r.domain = ");
	q_text(&p.list, r->domain);
	q_range(&p.list, &rg);
	strbuf_appendf(&p.list.sql, " GROUP BY c.source_ip, n.ptr, n.org "
	    "ORDER BY %s %s, c.source_ip", sort, order);
	return page_answer(r, &pg, &p);
}

static void
json_reasons(struct json *j, const char *text)
{
	const char *p = text, *bar, *colon;
	size_t n;

	json_array_begin(j);
	while (*p != '\0') {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n > 0) {
			colon = memchr(p, ':', n);
			json_object_begin(j);
			json_key(j, "type");
			json_stringn(j, p, colon != NULL ?
			    (size_t)(colon - p) : n);
			json_key(j, "comment");
			if (colon != NULL)
				json_stringn(j, colon + 1,
				    n - (size_t)(colon - p) - 1);
			else
				json_null(j);
			json_object_end(j);
		}
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	json_array_end(j);
}

static int
failure_report_row(struct dbq_rows *st, struct json *j, void *arg)
{
	static const char *const cols[] = { "source_ip", "reporter",
		"auth_failure", "identity_alignment", "dkim_domain",
		"dkim_selector", "spf_dns", "original_mail_from",
		"header_from", "subject", "delivery_result" };
	int k;

	(void)arg;
	json_object_begin(j);
	json_key(j, "arrival");
	json_ts(j, dbq_int(st, 0));
	for (k = 0; k < 11; k++)
		json_kv_string(j, cols[k], dbq_text(st, k + 1));
	json_object_end(j);
	return 0;
}

/* The failure_reports member of /failures: the page's size, newest
 * first; arg is the range. */
static int
failure_reports(const struct api_req *r, const struct paging *pg,
    struct json *j, void *arg)
{
	const struct range *rg = arg;
	struct sqlq q = SQLQ_INIT;
	int status;

	q_sql(&q, "SELECT arrival_ts, source_ip, reporter, auth_failure, "
	    "identity_alignment, dkim_domain, dkim_selector, spf_dns, "
	    "original_mail_from, header_from, subject, delivery_result "
	    "FROM failure_reports WHERE lower(reported_domain) = ");
	q_text(&q, r->domain);
	q_sql(&q, " AND arrival_ts >= ");
	q_int(&q, rg->from_ts);
	q_sql(&q, " AND arrival_ts < ");
	q_int(&q, rg->to_ts);
	q_sql(&q, " ORDER BY arrival_ts DESC, id DESC LIMIT ");
	q_int(&q, pg->per_page);
	status = q_rows_json(r, &q, j, "failure_reports", failure_report_row,
	    NULL);
	q_free(&q);
	return status;
}

static int
record_row(struct dbq_rows *st, struct json *j, void *arg)
{
	static const char *const spf_keys[] = { "domain", "scope", "result",
		NULL };
	static const char *const dkim_keys[] = { "domain", "selector",
		"result", NULL };

	(void)arg;
	json_object_begin(j);
	json_kv_string(j, "source_ip", dbq_text(st, 0));
	json_key(j, "ptr");
	json_str_or_null(j, dbq_text(st, 1));
	json_kv_int(j, "messages", dbq_int(st, 2));
	json_kv_string(j, "disposition", dbq_text(st, 3));
	json_kv_string(j, "header_from", dbq_text(st, 4));
	json_kv_string(j, "envelope_from", dbq_text(st, 5));
	json_kv_string(j, "eval_spf", dbq_text(st, 6));
	json_kv_string(j, "eval_dkim", dbq_text(st, 7));
	json_key(j, "reasons");
	json_reasons(j, dbq_text(st, 8));
	json_key(j, "spf");
	json_results(j, dbq_text(st, 9), spf_keys);
	json_key(j, "dkim");
	json_results(j, dbq_text(st, 10), dkim_keys);
	json_kv_string(j, "org_name", dbq_text(st, 11));
	json_kv_string(j, "report_id", dbq_text(st, 12));
	json_key(j, "begin");
	json_ts(j, dbq_int(st, 13));
	json_object_end(j);
	return 0;
}

int
api_failures(const struct api_req *r)
{
	struct range rg;
	struct page p = { SQLQ_INIT, SQLQ_INIT, "records", record_row,
		failure_reports, &rg };
	struct paging pg;
	int status;

	if ((status = get_range(r, &rg)) != 0 ||
	    (status = get_paging(r, &pg)) != 0 ||
	    (status = domain_visible(r, r->domain)) != 0)
		return status;
	q_sql(&p.count, "SELECT COUNT(*) FROM agg_records c JOIN agg_reports "
	    "r ON c.report = r.id WHERE NOT " PASS_EXPR " AND r.domain = ");
	q_text(&p.count, r->domain);
	q_range(&p.count, &rg);
	q_sql(&p.list, "SELECT c.source_ip, n.ptr, c.count, c.disposition, "
	    "c.header_from, c.envelope_from, c.eval_spf, c.eval_dkim, "
	    "c.reasons, c.spf_results, c.dkim_results, r.org_name, "
	    "r.report_id, r.begin_ts FROM agg_records c JOIN agg_reports r "
	    "ON c.report = r.id LEFT JOIN rdns n ON n.ip = c.source_ip "
	    "WHERE NOT " PASS_EXPR " AND r.domain = ");
	q_text(&p.list, r->domain);
	q_range(&p.list, &rg);
	q_sql(&p.list, " ORDER BY r.begin_ts DESC, c.id");
	return page_answer(r, &pg, &p);
}

static int
alert_row(struct dbq_rows *st, struct json *j, void *arg)
{
	const char *detail = dbq_text(st, 3);

	(void)arg;
	json_object_begin(j);
	json_kv_int(j, "id", dbq_int(st, 0));
	json_kv_string(j, "kind", dbq_text(st, 1));
	json_kv_string(j, "subject", dbq_text(st, 2));
	json_key(j, "detail");
	/* detail is stored JSON; anything else is passed as text rather
	 * than spliced. */
	if (*detail == '{' && api_json_is_valid(detail))
		json_raw(j, detail);
	else {
		json_object_begin(j);
		json_kv_string(j, "text", detail);
		json_object_end(j);
	}
	json_key(j, "created");
	json_ts(j, dbq_int(st, 4));
	json_object_end(j);
	return 0;
}

int
api_alerts(const struct api_req *r)
{
	struct page p = { SQLQ_INIT, SQLQ_INIT, "alerts", alert_row, NULL,
		NULL };
	struct paging pg;
	int status;

	if ((status = get_paging(r, &pg)) != 0 ||
	    (status = domain_visible(r, r->domain)) != 0)
		return status;
	q_sql(&p.count, "SELECT COUNT(*) FROM alerts WHERE domain = ");
	q_text(&p.count, r->domain);
	q_sql(&p.list, "SELECT id, kind, subject, detail, created_at FROM "
	    "alerts WHERE domain = ");
	q_text(&p.list, r->domain);
	q_sql(&p.list, " ORDER BY created_at DESC, id DESC");
	return page_answer(r, &pg, &p);
}

int
api_domains(const struct api_req *r)
{
	struct dbq_rows *st = NULL;
	struct json j;
	const char *d;
	bool failed;

	if ((st = dbq_query(r->db, "SELECT domain FROM agg_reports UNION "
	    "SELECT lower(reported_domain) FROM failure_reports ORDER BY 1 "
	    "LIMIT 10000", NULL, 0)) == NULL)
		return db_fail(r);
	json_init(&j, r->out, false);
	json_object_begin(&j);
	json_key(&j, "domains");
	json_array_begin(&j);
	while (dbq_next(st)) {
		d = dbq_text(st, 0);
		if (*d != '\0' && token_scope_has(r->scope, d))
			json_string(&j, d);
	}
	failed = dbq_rows_failed(st);
	dbq_rows_free(st);
	if (failed)
		return db_fail(r);
	json_array_end(&j);
	json_object_end(&j);
	return 200;
}

/* A small validating JSON scanner (RFC 8259) for stored alert details. */
struct jscan {
	const char *p;
	int	 depth;
};

static void
ws(struct jscan *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
	    *s->p == '\r')
		s->p++;
}

static bool value(struct jscan *);

static bool
jstring(struct jscan *s)
{
	if (*s->p != '"')
		return false;
	for (s->p++; *s->p != '"'; s->p++) {
		if ((unsigned char)*s->p < 0x20)
			return false;
		if (*s->p == '\\') {
			s->p++;
			if (*s->p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (s->p[i] == '\0' ||
					    !strchr("0123456789abcdefABCDEF",
					    s->p[i]))
						return false;
				s->p += 4;
			} else if (*s->p == '\0' ||
			    strchr("\"\\/bfnrt", *s->p) == NULL)
				return false;
		}
	}
	s->p++;
	return true;
}

static bool
jnumber(struct jscan *s)
{
	const char *start = s->p;

	if (*s->p == '-')
		s->p++;
	if (*s->p < '0' || *s->p > '9')
		return false;
	while ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' ||
	    *s->p == 'e' || *s->p == 'E' || *s->p == '+' || *s->p == '-')
		s->p++;
	return s->p > start;
}

static bool
members(struct jscan *s, char close, bool keys)
{
	if (++s->depth > 16)
		return false;
	s->p++;
	ws(s);
	if (*s->p == close) {
		s->p++;
		s->depth--;
		return true;
	}
	for (;;) {
		ws(s);
		if (keys) {
			if (!jstring(s))
				return false;
			ws(s);
			if (*s->p++ != ':')
				return false;
		}
		if (!value(s))
			return false;
		ws(s);
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p++ != close)
			return false;
		s->depth--;
		return true;
	}
}

static bool
value(struct jscan *s)
{
	ws(s);
	switch (*s->p) {
	case '{':
		return members(s, '}', true);
	case '[':
		return members(s, ']', false);
	case '"':
		return jstring(s);
	case 't':
		return strncmp(s->p, "true", 4) == 0 && (s->p += 4, true);
	case 'f':
		return strncmp(s->p, "false", 5) == 0 && (s->p += 5, true);
	case 'n':
		return strncmp(s->p, "null", 4) == 0 && (s->p += 4, true);
	default:
		return jnumber(s);
	}
}

bool
api_json_is_valid(const char *text)
{
	struct jscan s = { text, 0 };

	if (strlen(text) > 65536 || !value(&s))
		return false;
	ws(&s);
	return *s.p == '\0';
}
