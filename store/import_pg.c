/*
 * import_pg.c - import.h on PostgreSQL (libpq).
 *
 * Same shape as the SQLite side: one transaction per aggregate report
 * (BEGIN, INSERT ... ON CONFLICT DO NOTHING RETURNING id, the records,
 * the record count, COMMIT), so a report is stored whole or not at
 * all, and a report already stored inserts nothing: a duplicate.  In
 * batch mode the transaction is the batch's (BEGIN at its first
 * report, COMMIT in import_pg_flush()) and each report a SAVEPOINT in
 * it, rolled back alone when the report fails (PostgreSQL aborts the
 * whole transaction on an error otherwise).
 * Statements are prepared once per connection.  Text that is not
 * valid UTF-8 (an 8-bit Subject of a failure report) has its bad
 * bytes replaced by '?', since PostgreSQL refuses it in TEXT columns.
 */
#include "config.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/import_pg.h"

#define NPARAMS	24

struct import_pg {
	PGconn	*c;
	char	 report[24];		/* the open report's id */
	bool	 open;			/* a report (or its savepoint) */
	bool	 batch, txn;		/* batch mode; its transaction open */
	struct strbuf pv[NPARAMS];	/* parameter values, UTF-8 checked */
};

static const struct {
	const char *name, *sql;
	int	 n;
} stmts[] = {
	{ "ins_report", "INSERT INTO agg_reports (org_name, email, "
	    "extra_contact, report_id, domain, begin_ts, end_ts, version, "
	    "adkim, aspf, p, sp, np, pct, fo, testing, discovery_method, "
	    "imported_at, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9, $10, $11, $12, $13, $14, $15, $16, $17, "
	    "EXTRACT(EPOCH FROM now())::BIGINT, $18) ON CONFLICT DO NOTHING "
	    "RETURNING id", 18 },
	{ "ins_record", "INSERT INTO agg_records (report, source_ip, count, "
	    "disposition, eval_dkim, eval_spf, reasons, header_from, "
	    "envelope_from, envelope_to, spf_results, dkim_results) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", 12 },
	{ "upd_count", "UPDATE agg_reports SET nrecords = $1 WHERE id = $2",
	    2 },
	{ "ins_failure", "INSERT INTO failure_reports (report_key, reporter, "
	    "reported_domain, arrival_ts, source_ip, feedback_type, "
	    "auth_failure, identity_alignment, delivery_result, dkim_domain, "
	    "dkim_selector, dkim_identity, spf_dns, original_mail_from, "
	    "original_rcpt_to, original_envelope_id, header_from, subject, "
	    "message_id, user_agent, headers, imported_at, source) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
	    "$15, $16, $17, $18, $19, $20, $21, "
	    "EXTRACT(EPOCH FROM now())::BIGINT, $22) ON CONFLICT DO NOTHING",
	    22 },
	{ "owned_add", "INSERT INTO owned_domains (domain, added_at, note) "
	    "VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT, $2) "
	    "ON CONFLICT DO NOTHING", 2 },
	{ "owned_remove", "DELETE FROM owned_domains WHERE domain = $1", 1 },
	{ "owned_list", "SELECT domain, added_at, note FROM owned_domains "
	    "ORDER BY domain", 0 },
	{ "rdns_get", "SELECT resolved_at FROM rdns WHERE ip = $1", 1 },
	{ "rdns_put", "INSERT INTO rdns (ip, ptr, org, status, resolved_at) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ip) DO UPDATE SET "
	    "ptr = EXCLUDED.ptr, org = EXCLUDED.org, "
	    "status = EXCLUDED.status, resolved_at = EXCLUDED.resolved_at",
	    5 },
};

static void
pq_error(struct import_pg *p, const char *what, struct strbuf *err)
{
	const char *m = PQerrorMessage(p->c);
	size_t n = strlen(m);

	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	if (err != NULL) {
		strbuf_appendf(err, "PostgreSQL: %s: ", what);
		strbuf_append_escaped(err, m, n, 400);
	}
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg, (void)msg;
}

struct import_pg *
import_pg_open(const char *uri, enum store_status *st, struct strbuf *err)
{
	struct import_pg *p;
	PGresult *r;
	size_t i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*st = STORE_ERR_NOMEM;
		return NULL;
	}
	for (i = 0; i < NPARAMS; i++)
		strbuf_init(&p->pv[i]);
	p->c = PQconnectdb(uri);
	if (p->c == NULL || PQstatus(p->c) != CONNECTION_OK) {
		if (p->c != NULL)
			pq_error(p, "cannot connect", err);
		*st = STORE_ERR_OPEN;
		goto fail;
	}
	PQsetNoticeProcessor(p->c, quiet, NULL);
	r = PQexec(p->c, "SET client_encoding = 'UTF8'");
	PQclear(r);
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		r = PQprepare(p->c, stmts[i].name, stmts[i].sql, stmts[i].n,
		    NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			pq_error(p, stmts[i].name, err);
			*st = STORE_ERR_SCHEMA;
			goto fail;
		}
		PQclear(r);
	}
	*st = STORE_OK;
	return p;
fail:
	import_pg_close(p);
	return NULL;
}

void
import_pg_close(struct import_pg *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->open || p->txn) {
		PGresult *r = PQexec(p->c, "ROLLBACK");
		PQclear(r);
	}
	PQfinish(p->c);
	for (i = 0; i < NPARAMS; i++)
		strbuf_release(&p->pv[i]);
	free(p);
}

/* Parameter i := s, with bytes that are not UTF-8 made '?'. */
static const char *
param(struct import_pg *p, int i, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s != NULL ? s : "");
	struct strbuf *b = &p->pv[i];
	size_t k, n;

	strbuf_reset(b);
	while (*u != '\0') {
		if (*u < 0x80) {
			strbuf_appendc(b, *u++);
			continue;
		}
		n = (*u & 0xe0) == 0xc0 ? 2 : (*u & 0xf0) == 0xe0 ? 3 :
		    (*u & 0xf8) == 0xf0 ? 4 : 0;
		for (k = 1; n > 0 && k < n; k++)
			if ((u[k] & 0xc0) != 0x80)
				n = 0;
		/* overlong two-byte forms and out-of-range leads */
		if (n == 2 && *u < 0xc2)
			n = 0;
		if (n == 4 && *u > 0xf4)
			n = 0;
		if (n == 0) {
			strbuf_appendc(b, '?');
			u++;
			continue;
		}
		strbuf_append(b, (const char *)u, n);
		u += n;
	}
	return strbuf_cstr(b);
}

static const char *
param_i(struct import_pg *p, int i, int64_t v)
{
	strbuf_reset(&p->pv[i]);
	strbuf_appendf(&p->pv[i], "%" PRId64, v);
	return strbuf_cstr(&p->pv[i]);
}

/* Run a prepared statement; the result (caller clears) or NULL. */
static PGresult *
run(struct import_pg *p, const char *name, int n, const char *const *v,
    ExecStatusType want, struct strbuf *err)
{
	PGresult *r = PQexecPrepared(p->c, name, n, v, NULL, NULL, 0);

	if (r != NULL && PQresultStatus(r) == want)
		return r;
	pq_error(p, name, err);
	PQclear(r);
	return NULL;
}

static bool
simple(struct import_pg *p, const char *sql, struct strbuf *err)
{
	PGresult *r = PQexec(p->c, sql);
	bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		pq_error(p, sql, err);
	PQclear(r);
	return ok;
}

enum store_status
import_pg_set_durability(struct import_pg *p, bool relaxed,
    struct strbuf *err)
{
	return simple(p, relaxed ? "SET synchronous_commit = off" :
	    "SET synchronous_commit = on", err) ? STORE_OK : STORE_ERR_CONFIG;
}

void
import_pg_set_batch(struct import_pg *p, bool on)
{
	p->batch = on;
}

bool
import_pg_pending(const struct import_pg *p)
{
	return p->txn;
}

enum store_status
import_pg_flush(struct import_pg *p, struct strbuf *err)
{
	if (!p->txn)
		return STORE_OK;
	p->txn = false;
	if (simple(p, "COMMIT", err))
		return STORE_OK;
	simple(p, "ROLLBACK", NULL);
	return STORE_ERR_WRITE;
}

/* A report's transaction: its own, or a savepoint in the batch's. */
static bool
report_open(struct import_pg *p, struct strbuf *err)
{
	if (!p->batch)
		return simple(p, "BEGIN", err);
	if (!p->txn) {
		if (!simple(p, "BEGIN", err))
			return false;
		p->txn = true;
	}
	return simple(p, "SAVEPOINT report", err);
}

/* Keep (commit) or undo the open report. */
static bool
report_close(struct import_pg *p, bool keep, struct strbuf *err)
{
	if (!p->batch)
		return simple(p, keep ? "COMMIT" : "ROLLBACK", err);
	return simple(p, keep ? "RELEASE SAVEPOINT report" :
	    "ROLLBACK TO SAVEPOINT report; RELEASE SAVEPOINT report", err);
}

enum store_status
import_pg_begin(struct import_pg *p, const struct store_agg_report *a,
    bool *duplicate, struct strbuf *err)
{
	const char *v[18];
	PGresult *r;

	*duplicate = false;
	if (!report_open(p, err))
		return STORE_ERR_WRITE;
	p->open = true;
	v[0] = param(p, 0, a->org_name);
	v[1] = param(p, 1, a->email);
	v[2] = param(p, 2, a->extra_contact);
	v[3] = param(p, 3, a->report_id);
	v[4] = param(p, 4, a->domain);
	v[5] = param_i(p, 5, (int64_t)a->begin);
	v[6] = param_i(p, 6, (int64_t)a->end);
	v[7] = param(p, 7, a->version);
	v[8] = param(p, 8, a->adkim);
	v[9] = param(p, 9, a->aspf);
	v[10] = param(p, 10, a->p);
	v[11] = param(p, 11, a->sp);
	v[12] = param(p, 12, a->np);
	v[13] = param_i(p, 13, a->pct);
	v[14] = param(p, 14, a->fo);
	v[15] = param(p, 15, a->testing);
	v[16] = param(p, 16, a->discovery_method);
	v[17] = param(p, 17, a->source);
	if ((r = run(p, "ins_report", 18, v, PGRES_TUPLES_OK, err)) ==
	    NULL) {
		import_pg_end(p, false, 0, NULL);
		return STORE_ERR_WRITE;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		*duplicate = true;
		return import_pg_end(p, false, 0, err);
	}
	snprintf(p->report, sizeof(p->report), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return STORE_OK;
}

enum store_status
import_pg_record(struct import_pg *p, const struct store_agg_record *c,
    struct strbuf *err)
{
	const char *v[12];
	PGresult *r;

	v[0] = p->report;
	v[1] = param(p, 1, c->source_ip);
	v[2] = param_i(p, 2, (int64_t)(c->count > INT64_MAX ? INT64_MAX :
	    c->count));
	v[3] = param(p, 3, c->disposition);
	v[4] = param(p, 4, c->eval_dkim);
	v[5] = param(p, 5, c->eval_spf);
	v[6] = param(p, 6, c->reasons);
	v[7] = param(p, 7, c->header_from);
	v[8] = param(p, 8, c->envelope_from);
	v[9] = param(p, 9, c->envelope_to);
	v[10] = param(p, 10, c->spf_results);
	v[11] = param(p, 11, c->dkim_results);
	if ((r = run(p, "ins_record", 12, v, PGRES_COMMAND_OK, err)) == NULL)
		return STORE_ERR_WRITE;
	PQclear(r);
	return STORE_OK;
}

enum store_status
import_pg_end(struct import_pg *p, bool commit, uint64_t nrecords,
    struct strbuf *err)
{
	const char *v[2];
	PGresult *r;

	if (!p->open)
		return STORE_OK;
	p->open = false;
	if (commit) {
		v[0] = param_i(p, 0, (int64_t)nrecords);
		v[1] = p->report;
		if ((r = run(p, "upd_count", 2, v, PGRES_COMMAND_OK, err)) !=
		    NULL) {
			PQclear(r);
			if (report_close(p, true, err))
				return STORE_OK;
		}
	}
	report_close(p, false, NULL);
	return commit ? STORE_ERR_WRITE : STORE_OK;
}

enum store_status
import_pg_failure(struct import_pg *p, const struct store_failure_report *f,
    bool *duplicate, struct strbuf *err)
{
	const char *const s[] = { f->report_key, f->reporter,
	    f->reported_domain, NULL, f->source_ip, f->feedback_type,
	    f->auth_failure, f->identity_alignment, f->delivery_result,
	    f->dkim_domain, f->dkim_selector, f->dkim_identity, f->spf_dns,
	    f->original_mail_from, f->original_rcpt_to,
	    f->original_envelope_id, f->header_from, f->subject,
	    f->message_id, f->user_agent, f->headers, f->source };
	const char *v[22];
	PGresult *r;
	int i;

	for (i = 0; i < 22; i++)
		v[i] = i == 3 ? param_i(p, i, (int64_t)f->arrival) :
		    param(p, i, s[i]);
	/* its own implicit transaction, or a savepoint in the batch's */
	if (p->batch && !report_open(p, err))
		return STORE_ERR_WRITE;
	if ((r = run(p, "ins_failure", 22, v, PGRES_COMMAND_OK, err)) ==
	    NULL) {
		if (p->batch)
			report_close(p, false, NULL);
		return STORE_ERR_WRITE;
	}
	*duplicate = strcmp(PQcmdTuples(r), "0") == 0;
	PQclear(r);
	if (p->batch && !report_close(p, true, err))
		return STORE_ERR_WRITE;
	return STORE_OK;
}

static enum store_status
changes(struct import_pg *p, const char *name, int n, const char *const *v,
    bool *changed, struct strbuf *err)
{
	PGresult *r;

	if ((r = run(p, name, n, v, PGRES_COMMAND_OK, err)) == NULL)
		return STORE_ERR_WRITE;
	*changed = strcmp(PQcmdTuples(r), "0") != 0;
	PQclear(r);
	return STORE_OK;
}

enum store_status
import_pg_owned_add(struct import_pg *p, const char *d, const char *note,
    bool *changed, struct strbuf *err)
{
	const char *v[2] = { param(p, 0, d), param(p, 1, note) };

	return changes(p, "owned_add", 2, v, changed, err);
}

enum store_status
import_pg_owned_remove(struct import_pg *p, const char *d, bool *changed,
    struct strbuf *err)
{
	const char *v[1] = { param(p, 0, d) };

	return changes(p, "owned_remove", 1, v, changed, err);
}

enum store_status
import_pg_owned_list(struct import_pg *p, void (*cb)(const char *, time_t,
    const char *, void *), void *ctx, struct strbuf *err)
{
	PGresult *r;
	int i;

	if ((r = run(p, "owned_list", 0, NULL, PGRES_TUPLES_OK, err)) ==
	    NULL)
		return STORE_ERR_READ;
	for (i = 0; i < PQntuples(r); i++)
		cb(PQgetvalue(r, i, 0), (time_t)strtoll(PQgetvalue(r, i, 1),
		    NULL, 10), PQgetvalue(r, i, 2), ctx);
	PQclear(r);
	return STORE_OK;
}

enum store_status
import_pg_rdns_get(struct import_pg *p, const char *ip, bool *found,
    time_t *at, struct strbuf *err)
{
	const char *v[1] = { param(p, 0, ip) };
	PGresult *r;

	*found = false;
	if ((r = run(p, "rdns_get", 1, v, PGRES_TUPLES_OK, err)) == NULL)
		return STORE_ERR_READ;
	if (PQntuples(r) > 0) {
		*found = true;
		*at = (time_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	return STORE_OK;
}

enum store_status
import_pg_rdns_put(struct import_pg *p, const char *ip, const char *ptr,
    const char *org, const char *status, time_t at, struct strbuf *err)
{
	const char *v[5] = { param(p, 0, ip), param(p, 1, ptr),
	    param(p, 2, org), param(p, 3, status), param_i(p, 4, at) };
	bool changed;

	return changes(p, "rdns_put", 5, v, &changed, err);
}
