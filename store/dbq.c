/*
 * dbq.c - store/dbq.h: the reads of dmarcctl serve, and the token and
 * alert writes, on SQLite or PostgreSQL.
 *
 * SQLite: one connection as before (read-only for the server's
 * threads), the request budget enforced by a progress handler every
 * 1000 VM steps.  PostgreSQL: one libpq connection in non-blocking mode,
 * with statement_timeout set to the statement bound and, for the
 * server, default_transaction_read_only on; each answer is awaited with
 * store/pgwait.h up to the request's deadline plus PG_CLIENT_GRACE_MS,
 * and a connection that missed it is closed (its state is unknown).
 * Results are fetched whole: every query of the API has a LIMIT.
 * Leaves out: a connection pool shared by threads (each server thread
 * has its own connection), cancelling a query on the server.
 */
#include "config.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "store/pgwait.h"
#include "store/store.h"
#include "store/dbq.h"

#define PG_SQLSTATE_CANCELED	"57014"	/* statement_timeout */
#define PG_SQLSTATE_UNIQUE	"23505"

struct dbq {
	sqlite3	*lite;
	PGconn	*pg;
	bool	 is_pg, broken;
	char	*label;
	unsigned timeout_ms;
	uint64_t deadline_ms;		/* 0: none */
	enum dbq_status status;
	struct strbuf msg;
};

struct dbq_rows {
	struct dbq *db;
	sqlite3_stmt *st;
	PGresult *res;
	int	 row, nrows;		/* PostgreSQL: the current row */
	bool	 failed;
};

bool
dbq_uri_is_pgsql(const char *uri)
{
	return strncmp(uri, "postgresql://", 13) == 0 ||
	    strncmp(uri, "postgres://", 11) == 0;
}

static void
set_error(struct dbq *db, enum dbq_status st, const char *what,
    const char *msg)
{
	db->status = st;
	strbuf_reset(&db->msg);
	strbuf_appends(&db->msg, what);
	if (msg != NULL) {
		strbuf_appends(&db->msg, ": ");
		pgwait_error(&db->msg, msg);
	}
}

/* SQLite calls this every 1000 VM steps: stop past the deadline. */
static int
progress(void *arg)
{
	struct dbq *db = arg;

	return db->deadline_ms != 0 && pgwait_now_ms() > db->deadline_ms;
}

static bool
lite_open(struct dbq *db, const char *uri, bool writable,
    struct strbuf *err)
{
	const char *p = uri;

	if (strncmp(p, "sqlite://", 9) == 0)
		p += 9;
	else if (strncmp(p, "sqlite:", 7) == 0)
		p += 7;
	else if (strchr(p, ':') != NULL && strchr(p, '/') != NULL &&
	    strchr(p, ':') < strchr(p, '/')) {
		strbuf_appendf(err, "HistoryDatabase %s: unknown scheme", uri);
		return false;
	}
	if (*p == '\0') {
		strbuf_appendf(err, "HistoryDatabase %s: no file name", uri);
		return false;
	}
	if ((db->label = mem_strdup(p)) == NULL) {
		strbuf_appends(err, "out of memory");
		return false;
	}
	if (sqlite3_open_v2(p, &db->lite, writable ? SQLITE_OPEN_READWRITE :
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot open the database%s: %s", p,
		    writable ? "" : " read-only", db->lite != NULL ?
		    sqlite3_errmsg(db->lite) : "out of memory");
		return false;
	}
	sqlite3_busy_timeout(db->lite, (int)db->timeout_ms);
	sqlite3_progress_handler(db->lite, 1000, progress, db);
	return true;
}

/* The session settings, in one round trip bounded by the statement
 * bound: a server that accepted the connection and then froze costs
 * one wait, not one per setting. */
static bool
pg_setup(struct dbq *db, bool writable)
{
	char sql[160];
	bool late;
	PGresult *r;
	bool ok;

	snprintf(sql, sizeof(sql), "SET statement_timeout = %u; "
	    "SET client_encoding = 'UTF8'%s", db->timeout_ms, writable ? "" :
	    "; SET default_transaction_read_only = on");
	r = pgwait_result(db->pg, PQsendQuery(db->pg, sql), db->timeout_ms,
	    &late);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok)
		set_error(db, late ? DBQ_UNAVAILABLE : DBQ_ERR, late ?
		    "no answer in time" : "cannot set up the session",
		    late ? NULL : PQerrorMessage(db->pg));
	return ok;
}

static bool
pg_open(struct dbq *db, const char *uri, bool writable,
    struct strbuf *err)
{
	static const char *const keys[] = { "connect_timeout",
		"application_name", "dbname", NULL };
	const char *vals[4];
	struct strbuf label = STRBUF_INIT;
	char ct[16];
	unsigned secs = db->timeout_ms / 1000;

	store_uri_redact(&label, uri);
	db->label = strbuf_steal(&label);
	if (db->label == NULL) {
		strbuf_appends(err, "out of memory");
		return false;
	}
	/* Settings in the URI come later, so they win. */
	snprintf(ct, sizeof(ct), "%u", secs < 2 ? 2 : secs);
	vals[0] = ct;
	vals[1] = "dmarcctl";
	vals[2] = uri;
	vals[3] = NULL;
	if ((db->pg = PQconnectdbParams(keys, vals, 1)) == NULL ||
	    PQstatus(db->pg) != CONNECTION_OK) {
		strbuf_appendf(err, "%s: cannot connect: ", db->label);
		pgwait_error(err, db->pg != NULL ? PQerrorMessage(db->pg) :
		    "out of memory");
		return false;
	}
	PQsetnonblocking(db->pg, 1);
	if (!pg_setup(db, writable)) {
		strbuf_appendf(err, "%s: %s", db->label, strbuf_cstr(&db->msg));
		return false;
	}
	return true;
}

struct dbq *
dbq_open(const char *uri, bool writable, unsigned timeout_ms,
    struct strbuf *err)
{
	struct dbq *db;

	if ((db = mem_calloc(1, sizeof(*db))) == NULL) {
		strbuf_appends(err, "out of memory");
		return NULL;
	}
	strbuf_init(&db->msg);
	db->timeout_ms = timeout_ms;
	db->is_pg = dbq_uri_is_pgsql(uri);
	if (!(db->is_pg ? pg_open(db, uri, writable, err) :
	    lite_open(db, uri, writable, err))) {
		dbq_close(db);
		return NULL;
	}
	return db;
}

void
dbq_close(struct dbq *db)
{
	if (db == NULL)
		return;
	if (db->pg != NULL)
		PQfinish(db->pg);
	sqlite3_close_v2(db->lite);
	mem_free(db->label);
	strbuf_release(&db->msg);
	mem_free(db);
}

bool
dbq_is_pgsql(const struct dbq *db)
{
	return db->is_pg;
}

const char *
dbq_label(const struct dbq *db)
{
	return db->label;
}

bool
dbq_is_broken(const struct dbq *db)
{
	return db->broken;
}

void
dbq_deadline(struct dbq *db, unsigned ms)
{
	db->deadline_ms = pgwait_now_ms() + ms;
}

struct dbq_param
dbq_param_text(const char *s)
{
	struct dbq_param p = { s, 0, true };

	return p;
}

struct dbq_param
dbq_param_int(int64_t i)
{
	struct dbq_param p = { NULL, i, false };

	return p;
}

enum dbq_status
dbq_status(const struct dbq *db)
{
	return db->status;
}

const char *
dbq_errmsg(const struct dbq *db)
{
	return strbuf_len(&db->msg) > 0 ? strbuf_cstr(&db->msg) :
	    "unknown error";
}

static void
lite_error(struct dbq *db)
{
	int ec = sqlite3_errcode(db->lite);

	set_error(db, ec == SQLITE_INTERRUPT ? DBQ_STOPPED :
	    ec == SQLITE_CONSTRAINT ? DBQ_CONSTRAINT : DBQ_ERR,
	    sqlite3_errmsg(db->lite), NULL);
}

static sqlite3_stmt *
lite_prepare(struct dbq *db, const char *sql,
    const struct dbq_param *params, int n)
{
	sqlite3_stmt *st = NULL;
	int i;

	if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK) {
		lite_error(db);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (params[i].is_text)
			sqlite3_bind_text(st, i + 1, params[i].s, -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, i + 1, params[i].i);
	}
	return st;
}

/* "?N" outside quoted literals into "$N". */
static void
pg_sql(struct strbuf *out, const char *sql)
{
	const char *p;
	char quote = '\0';

	for (p = sql; *p != '\0'; p++) {
		if (quote != '\0') {
			if (*p == quote)
				quote = '\0';
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
			strbuf_appendc(out, '$');
			continue;
		}
		strbuf_appendc(out, *p);
	}
}

/* Send sql and wait for its answer up to the deadline; NULL with the
 * status set. */
static PGresult *
pg_run(struct dbq *db, const char *sql, const struct dbq_param *params,
    int n)
{
	struct strbuf text = STRBUF_INIT;
	const char **vals = NULL;
	char (*num)[24] = NULL;
	uint64_t now = pgwait_now_ms(), until;
	PGresult *r = NULL;
	ExecStatusType rs;
	const char *state;
	bool late = false;
	int i;

	if (db->broken || db->pg == NULL) {
		set_error(db, DBQ_UNAVAILABLE, "the connection was lost",
		    NULL);
		return NULL;
	}
	if (db->deadline_ms != 0 && now >= db->deadline_ms) {
		set_error(db, DBQ_STOPPED, "out of time", NULL);
		return NULL;
	}
	until = now + db->timeout_ms;
	if (db->deadline_ms != 0 && db->deadline_ms < until)
		until = db->deadline_ms;
	until += PG_CLIENT_GRACE_MS;
	pg_sql(&text, sql);
	if (strbuf_failed(&text) || (n > 0 &&
	    ((vals = mem_reallocarray(NULL, (size_t)n, sizeof(*vals))) ==
	    NULL || (num = mem_reallocarray(NULL, (size_t)n,
	    sizeof(*num))) == NULL))) {
		set_error(db, DBQ_ERR, "out of memory", NULL);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (params[i].is_text)
			vals[i] = params[i].s;
		else {
			snprintf(num[i], sizeof(num[i]), "%" PRId64,
			    params[i].i);
			vals[i] = num[i];
		}
	}
	r = pgwait_result_until(db->pg, PQsendQueryParams(db->pg,
	    strbuf_cstr(&text), n, NULL, vals, NULL, NULL, 0), until, &late);
	if (r == NULL) {
		if (late)
			set_error(db, DBQ_UNAVAILABLE, "no answer in time",
			    NULL);
		else
			set_error(db, DBQ_UNAVAILABLE, "connection lost",
			    PQerrorMessage(db->pg));
		/* The connection's state is unknown: drop it. */
		PQfinish(db->pg);
		db->pg = NULL;
		db->broken = true;
		goto done;
	}
	rs = PQresultStatus(r);
	if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK)
		goto done;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		db->broken = true;
		set_error(db, DBQ_UNAVAILABLE, "connection lost",
		    PQerrorMessage(db->pg));
	} else
		set_error(db, state != NULL && strcmp(state,
		    PG_SQLSTATE_CANCELED) == 0 ? DBQ_STOPPED : state !=
		    NULL && strcmp(state, PG_SQLSTATE_UNIQUE) == 0 ?
		    DBQ_CONSTRAINT : DBQ_ERR, "error",
		    PQresultErrorMessage(r));
	PQclear(r);
	r = NULL;
done:
	strbuf_release(&text);
	mem_free(vals);
	mem_free(num);
	return r;
}

struct dbq_rows *
dbq_query(struct dbq *db, const char *sql,
    const struct dbq_param *params, int n)
{
	struct dbq_rows *rows;

	if ((rows = mem_calloc(1, sizeof(*rows))) == NULL) {
		set_error(db, DBQ_ERR, "out of memory", NULL);
		return NULL;
	}
	rows->db = db;
	rows->row = -1;
	if (db->is_pg) {
		if ((rows->res = pg_run(db, sql, params, n)) != NULL) {
			rows->nrows = PQntuples(rows->res);
			return rows;
		}
	} else if ((rows->st = lite_prepare(db, sql, params, n)) != NULL)
		return rows;
	mem_free(rows);
	return NULL;
}

bool
dbq_next(struct dbq_rows *rows)
{
	int rc;

	if (rows->failed)
		return false;
	if (rows->res != NULL) {
		if (rows->row + 1 >= rows->nrows)
			return false;
		rows->row++;
		return true;
	}
	if ((rc = sqlite3_step(rows->st)) == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE) {
		lite_error(rows->db);
		rows->failed = true;
	}
	return false;
}

bool
dbq_rows_failed(const struct dbq_rows *rows)
{
	return rows->failed;
}

void
dbq_rows_free(struct dbq_rows *rows)
{
	if (rows == NULL)
		return;
	PQclear(rows->res);
	sqlite3_finalize(rows->st);
	mem_free(rows);
}

const char *
dbq_text(const struct dbq_rows *rows, int col)
{
	const char *s;

	if (rows->res != NULL) {
		if (rows->row < 0 || col >= PQnfields(rows->res) ||
		    PQgetisnull(rows->res, rows->row, col))
			return "";
		return PQgetvalue(rows->res, rows->row, col);
	}
	s = (const char *)sqlite3_column_text(rows->st, col);
	return s != NULL ? s : "";
}

int64_t
dbq_int(const struct dbq_rows *rows, int col)
{
	if (rows->res != NULL)
		return (int64_t)strtoll(dbq_text(rows, col), NULL, 10);
	return (int64_t)sqlite3_column_int64(rows->st, col);
}

enum dbq_status
dbq_exec(struct dbq *db, const char *sql,
    const struct dbq_param *params, int n, int64_t *changed)
{
	sqlite3_stmt *st;
	PGresult *r;
	int rc;

	if (changed != NULL)
		*changed = 0;
	if (db->is_pg) {
		if ((r = pg_run(db, sql, params, n)) == NULL)
			return db->status;
		if (changed != NULL)
			*changed = (int64_t)strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		return DBQ_OK;
	}
	if ((st = lite_prepare(db, sql, params, n)) == NULL)
		return db->status;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		lite_error(db);
		sqlite3_finalize(st);
		return db->status;
	}
	if (changed != NULL)
		*changed = sqlite3_changes(db->lite);
	sqlite3_finalize(st);
	return DBQ_OK;
}
