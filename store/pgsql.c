/*
 * pgsql.c - the PostgreSQL back-end of the store (many MTAs, one
 * database).
 *
 * One write connection, used by the writer thread only, with a
 * statement timeout (busy_timeout_ms) so a stalled server fails a batch
 * instead of holding the milter: store.c then spools it.  A server that
 * does not answer at all (stopped, hung host, dead network path) cannot
 * enforce its own timeout, so the writer also waits for each answer with
 * poll() for at most busy_timeout_ms + PG_CLIENT_GRACE_MS, and drops the
 * connection when it runs out.  A lost connection is re-opened at the
 * next batch (libpq's connect_timeout bounds that).  A batch is one BEGIN ...
 * COMMIT around a prepared INSERT ... ON CONFLICT DO NOTHING on the key
 * (node, message_key, author_index): replays from the spool, or the
 * same record from two tries, are no-ops, counted by the command tag.
 * FULL durability keeps synchronous_commit on; RELAXED turns it off for
 * the session.  Reads open their own connection per call; the verdict
 * scan (query) has no statement timeout, since it lasts as long as its
 * caller takes to consume the rows.
 *
 * The schema is the SQLite one (schema.c) with PostgreSQL types, under
 * the same version numbers, migrated in one transaction under an
 * advisory lock so that nodes starting together migrate once.  Messages
 * name the database by its URI with the password hidden.  Text that is
 * not valid UTF-8 (8-bit HELO or Message-ID) has its bad bytes replaced
 * by "?", since PostgreSQL refuses it and a refused row would block the
 * batch forever.  With a spool (opt->spool_path), a server that
 * cannot be reached at open is not an error: the writer connects, and
 * creates or migrates the schema, at its first batch that gets through
 * (until then store.c spools), so that an MTA keeps its milter while the
 * database is down.  A server that answers but refuses us (password,
 * database name) or has a newer schema still fails the open.  Leaves out: pipelining the inserts, TLS settings other
 * than what the URI says.
 */
#include "config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "store/backend.h"
#include "store/codec.h"
#include "store/pgwait.h"

#define PG_INSERT_NAME	"dmarcd_verdict_insert"
#define PG_LOCK_KEY	"7237164815651845"	/* advisory lock: migrations */

struct pg_migration {
	int		 version;
	const char	*description;
	const char	*sql;
};

static const char pg_schema_v1[] =
	"CREATE TABLE verdicts (\n"
	"  id               BIGSERIAL PRIMARY KEY,\n"
	"  node             TEXT NOT NULL,\n"
	"  message_key      TEXT NOT NULL,\n"
	"  author_index     INTEGER NOT NULL,\n"
	"  received         BIGINT NOT NULL,\n"
	"  day              BIGINT NOT NULL,\n"
	"  queue_id         TEXT NOT NULL DEFAULT '',\n"
	"  message_id       TEXT NOT NULL DEFAULT '',\n"
	"  client_ip        TEXT NOT NULL DEFAULT '',\n"
	"  helo             TEXT NOT NULL DEFAULT '',\n"
	"  mail_from_domain TEXT NOT NULL DEFAULT '',\n"
	"  header_from      TEXT NOT NULL DEFAULT '',\n"
	"  policy_domain    TEXT NOT NULL DEFAULT '',\n"
	"  org_domain       TEXT NOT NULL DEFAULT '',\n"
	"  discovery_method TEXT NOT NULL DEFAULT '',\n"
	"  p                TEXT NOT NULL DEFAULT '',\n"
	"  sp               TEXT NOT NULL DEFAULT '',\n"
	"  np               TEXT NOT NULL DEFAULT '',\n"
	"  pct              INTEGER NOT NULL DEFAULT -1,\n"
	"  testing          INTEGER NOT NULL DEFAULT 0,\n"
	"  adkim            TEXT NOT NULL DEFAULT '',\n"
	"  aspf             TEXT NOT NULL DEFAULT '',\n"
	"  fo               TEXT NOT NULL DEFAULT '',\n"
	"  rua              TEXT NOT NULL DEFAULT '',\n"
	"  ruf              TEXT NOT NULL DEFAULT '',\n"
	"  spf_result       TEXT NOT NULL DEFAULT '',\n"
	"  spf_domain       TEXT NOT NULL DEFAULT '',\n"
	"  spf_scope        TEXT NOT NULL DEFAULT '',\n"
	"  spf_aligned      INTEGER NOT NULL DEFAULT 0,\n"
	"  ndkim            INTEGER NOT NULL DEFAULT 0,\n"
	"  dkim             TEXT NOT NULL DEFAULT '',\n"
	"  eval_dkim        TEXT NOT NULL DEFAULT 'fail',\n"
	"  eval_spf         TEXT NOT NULL DEFAULT 'fail',\n"
	"  dmarc_result     TEXT NOT NULL DEFAULT '',\n"
	"  policy           TEXT NOT NULL DEFAULT '',\n"
	"  disposition      TEXT NOT NULL DEFAULT '',\n"
	"  reasons          TEXT NOT NULL DEFAULT '',\n"
	"  reason_comment   TEXT NOT NULL DEFAULT '',\n"
	"  action           TEXT NOT NULL DEFAULT '',\n"
	"  skip_reason      TEXT NOT NULL DEFAULT '',\n"
	"  UNIQUE (node, message_key, author_index)\n"
	");\n"
	"CREATE INDEX verdicts_domain_received\n"
	"  ON verdicts (policy_domain, received);\n"
	"CREATE INDEX verdicts_day_domain ON verdicts (day, policy_domain);\n";

static const char pg_schema_v2[] =
	"CREATE TABLE reports_sent (\n"
	"  policy_domain TEXT NOT NULL,\n"
	"  period_begin  BIGINT NOT NULL,\n"
	"  report_id     TEXT NOT NULL,\n"
	"  state         TEXT NOT NULL,\n"
	"  node          TEXT NOT NULL,\n"
	"  claimed_at    BIGINT NOT NULL,\n"
	"  sent_at       BIGINT,\n"
	"  attempts      INTEGER NOT NULL DEFAULT 1,\n"
	"  PRIMARY KEY (policy_domain, period_begin)\n"
	");\n";

/* Version 3: received aggregate reports (schema.c); import on
 * PostgreSQL is not yet implemented, the tables are here so that the
 * versions stay equal. */
static const char pg_schema_v3[] =
	"CREATE TABLE agg_reports (\n"
	"  id               BIGSERIAL PRIMARY KEY,\n"
	"  org_name         TEXT NOT NULL,\n"
	"  email            TEXT NOT NULL DEFAULT '',\n"
	"  extra_contact    TEXT NOT NULL DEFAULT '',\n"
	"  report_id        TEXT NOT NULL,\n"
	"  domain           TEXT NOT NULL,\n"
	"  begin_ts         BIGINT NOT NULL,\n"
	"  end_ts           BIGINT NOT NULL,\n"
	"  version          TEXT NOT NULL DEFAULT '',\n"
	"  adkim            TEXT NOT NULL DEFAULT '',\n"
	"  aspf             TEXT NOT NULL DEFAULT '',\n"
	"  p                TEXT NOT NULL DEFAULT '',\n"
	"  sp               TEXT NOT NULL DEFAULT '',\n"
	"  np               TEXT NOT NULL DEFAULT '',\n"
	"  pct              INTEGER NOT NULL DEFAULT -1,\n"
	"  fo               TEXT NOT NULL DEFAULT '',\n"
	"  testing          TEXT NOT NULL DEFAULT '',\n"
	"  discovery_method TEXT NOT NULL DEFAULT '',\n"
	"  nrecords         BIGINT NOT NULL DEFAULT 0,\n"
	"  imported_at      BIGINT NOT NULL,\n"
	"  source           TEXT NOT NULL DEFAULT '',\n"
	"  UNIQUE (org_name, report_id, domain)\n"
	");\n"
	"CREATE INDEX agg_reports_domain_begin ON agg_reports (domain, begin_ts);\n"
	"CREATE TABLE agg_records (\n"
	"  id               BIGSERIAL PRIMARY KEY,\n"
	"  report           BIGINT NOT NULL REFERENCES agg_reports (id)\n"
	"                   ON DELETE CASCADE,\n"
	"  source_ip        TEXT NOT NULL,\n"
	"  count            BIGINT NOT NULL,\n"
	"  disposition      TEXT NOT NULL DEFAULT '',\n"
	"  eval_dkim        TEXT NOT NULL DEFAULT '',\n"
	"  eval_spf         TEXT NOT NULL DEFAULT '',\n"
	"  reasons          TEXT NOT NULL DEFAULT '',\n"
	"  header_from      TEXT NOT NULL DEFAULT '',\n"
	"  envelope_from    TEXT NOT NULL DEFAULT '',\n"
	"  envelope_to      TEXT NOT NULL DEFAULT '',\n"
	"  spf_results      TEXT NOT NULL DEFAULT '',\n"
	"  dkim_results     TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE INDEX agg_records_report ON agg_records (report);\n"
	"CREATE INDEX agg_records_ip ON agg_records (source_ip);\n";

/* Versions 4 to 6: as in schema.c, with BIGINT and BIGSERIAL. */
static const char pg_schema_v4[] =
	"CREATE TABLE failure_reports (\n"
	"  id                   BIGSERIAL PRIMARY KEY,\n"
	"  report_key           TEXT NOT NULL UNIQUE,\n"
	"  reporter             TEXT NOT NULL DEFAULT '',\n"
	"  reported_domain      TEXT NOT NULL,\n"
	"  arrival_ts           BIGINT NOT NULL DEFAULT 0,  -- UTC seconds\n"
	"  source_ip            TEXT NOT NULL DEFAULT '',\n"
	"  feedback_type        TEXT NOT NULL DEFAULT '',\n"
	"  auth_failure         TEXT NOT NULL DEFAULT '',\n"
	"  identity_alignment   TEXT NOT NULL DEFAULT '',\n"
	"  delivery_result      TEXT NOT NULL DEFAULT '',\n"
	"  dkim_domain          TEXT NOT NULL DEFAULT '',\n"
	"  dkim_selector        TEXT NOT NULL DEFAULT '',\n"
	"  dkim_identity        TEXT NOT NULL DEFAULT '',\n"
	"  spf_dns              TEXT NOT NULL DEFAULT '',\n"
	"  original_mail_from   TEXT NOT NULL DEFAULT '',\n"
	"  original_rcpt_to     TEXT NOT NULL DEFAULT '',\n"
	"  original_envelope_id TEXT NOT NULL DEFAULT '',\n"
	"  header_from          TEXT NOT NULL DEFAULT '',\n"
	"  subject              TEXT NOT NULL DEFAULT '',\n"
	"  message_id           TEXT NOT NULL DEFAULT '',\n"
	"  user_agent           TEXT NOT NULL DEFAULT '',\n"
	"  headers              TEXT NOT NULL DEFAULT '',\n"
	"  imported_at          BIGINT NOT NULL,\n"
	"  source               TEXT NOT NULL DEFAULT ''  -- file name\n"
	");\n"
	"CREATE INDEX failure_reports_domain_arrival\n"
	"  ON failure_reports (reported_domain, arrival_ts);\n"
	"CREATE TABLE owned_domains (\n"
	"  domain     TEXT PRIMARY KEY,\n"
	"  added_at   BIGINT NOT NULL,\n"
	"  note       TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE TABLE rdns (\n"
	"  ip          TEXT PRIMARY KEY,\n"
	"  ptr         TEXT NOT NULL DEFAULT '',\n"
	"  org         TEXT NOT NULL DEFAULT '',  -- organizational domain of ptr\n"
	"  status      TEXT NOT NULL DEFAULT '',\n"
	"  resolved_at BIGINT NOT NULL\n"
	");\n";

static const char pg_schema_v5[] =
	"CREATE TABLE api_tokens (\n"
	"  id           BIGSERIAL PRIMARY KEY,\n"
	"  name         TEXT NOT NULL UNIQUE,\n"
	"  hash         TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the token\n"
	"  domains      TEXT NOT NULL,\n"
	"  created_at   BIGINT NOT NULL,\n"
	"  revoked_at   BIGINT,\n"
	"  last_used_at BIGINT\n"
	");\n";

static const char pg_schema_v6[] =
	"CREATE TABLE alerts (\n"
	"  id                 BIGSERIAL PRIMARY KEY,\n"
	"  domain             TEXT NOT NULL,\n"
	"  kind               TEXT NOT NULL,\n"
	"  subject            TEXT NOT NULL,\n"
	"  dedup_key          TEXT NOT NULL UNIQUE,\n"
	"  detail             TEXT NOT NULL DEFAULT '{}',\n"
	"  created_at         BIGINT NOT NULL,\n"
	"  delivered_webhook  BIGINT,\n"
	"  delivered_digest   BIGINT\n"
	");\n"
	"CREATE INDEX alerts_domain_created ON alerts (domain, created_at);\n";

/* The same versions as store_sqlite_migrations (schema.c). */
static const struct pg_migration pg_migrations[] = {
	{ 1, "verdicts", pg_schema_v1 },
	{ 2, "reports_sent", pg_schema_v2 },
	{ 3, "agg_reports", pg_schema_v3 },
	{ 4, "failure_reports", pg_schema_v4 },
	{ 5, "api_tokens", pg_schema_v5 },
	{ 6, "alerts", pg_schema_v6 },
};
#define PG_NMIGRATIONS	(sizeof(pg_migrations) / sizeof(pg_migrations[0]))

struct pgsql_be {
	char		*uri;		/* with the password: for libpq only */
	char		*label;		/* the URI with the password hidden */
	PGconn		*conn;		/* the writer's */
	PGconn		*lockconn;	/* holds store_report_lock() */
	bool		 prepared;
	bool		 migrated;	/* the schema is checked: once */
	bool		 relaxed;
	unsigned	 timeout_ms;
	struct strbuf	 scratch;	/* DKIM column text */
	char		*pbuf;		/* parameter values, NUL-separated */
	size_t		 pcap;
	size_t		*poff;
	const char	**pval;
};

/* libpq prints notices on stderr by default; the library never logs. */
static void
quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Run sql; true when it gave want. */
static bool
exec_ok(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(c, sql);
	bool ok = r != NULL && PQresultStatus(r) == want;

	PQclear(r);
	return ok;
}

static const char *const pg_keys[] = { "connect_timeout",
	"application_name", "dbname", NULL };

/* The values for pg_keys; ct holds the timeout's text. */
static void
pg_params(const struct pgsql_be *be, const char *vals[4], char ct[16])
{
	unsigned secs = be->timeout_ms / 1000;

	/* Settings in the URI come later, so they win. */
	snprintf(ct, 16, "%u", secs < 2 ? 2 : secs);
	vals[0] = ct;
	vals[1] = "dmarcd";
	vals[2] = be->uri;
	vals[3] = NULL;
}

/* True when no server answers at all (down, starting or stopping), as
 * opposed to one that refused us (password, database name). */
static bool
pg_unreachable(const struct pgsql_be *be)
{
	const char *vals[4];
	char ct[16];
	PGPing p;

	pg_params(be, vals, ct);
	p = PQpingParams(pg_keys, vals, 1);
	return p == PQPING_NO_RESPONSE || p == PQPING_REJECT;
}

/* exec_ok() with pgwait_result()'s bound. */
static bool
exec_timed(PGconn *c, const char *sql, ExecStatusType want,
    unsigned timeout_ms, bool *timed_out)
{
	PGresult *r = pgwait_result(c, PQsendQuery(c, sql), timeout_ms,
	    timed_out);
	bool ok = r != NULL && PQresultStatus(r) == want;

	PQclear(r);
	return ok;
}

/* Connect with our session settings; NULL with err. */
static PGconn *
pg_connect(const struct pgsql_be *be, enum store_status *st,
    struct strbuf *err)
{
	const char *vals[4];
	char ct[16], sql[96];
	bool late = false;
	PGconn *c;

	pg_params(be, vals, ct);
	if ((c = PQconnectdbParams(pg_keys, vals, 1)) == NULL) {
		strbuf_appendf(err, "%s: out of memory", be->label);
		*st = STORE_ERR_NOMEM;
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		strbuf_appendf(err, "%s: cannot connect: ", be->label);
		pgwait_error(err, PQerrorMessage(c));
		PQfinish(c);
		*st = STORE_ERR_OPEN;
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notices, NULL);
	/* Sends never block (pgwait_result() flushes); PQexec() still
	 * blocks as before, whatever this says. */
	PQsetnonblocking(c, 1);
	snprintf(sql, sizeof(sql), "SET statement_timeout = %u",
	    be->timeout_ms);
	if (!exec_timed(c, sql, PGRES_COMMAND_OK, be->timeout_ms, &late) ||
	    !exec_timed(c, "SET client_encoding = 'UTF8'", PGRES_COMMAND_OK,
	    be->timeout_ms, &late) ||
	    (be->relaxed && !exec_timed(c, "SET synchronous_commit = off",
	    PGRES_COMMAND_OK, be->timeout_ms, &late))) {
		strbuf_appendf(err, "%s: cannot set up the session: ",
		    be->label);
		if (late)
			strbuf_appendf(err, "no answer within %u ms",
			    be->timeout_ms + PG_CLIENT_GRACE_MS);
		else
			pgwait_error(err, PQerrorMessage(c));
		PQfinish(c);
		*st = STORE_ERR_OPEN;
		return NULL;
	}
	*st = STORE_OK;
	return c;
}

static enum store_status
pg_fail(PGconn *c, const char *label, const char *what, enum store_status st,
    struct strbuf *err)
{
	strbuf_appendf(err, "%s: %s: ", label, what);
	pgwait_error(err, PQerrorMessage(c));
	if (PQtransactionStatus(c) != PQTRANS_IDLE)
		exec_ok(c, "ROLLBACK", PGRES_COMMAND_OK);
	return st;
}

/* Create or migrate the schema, as schema.c does for SQLite. */
static enum store_status
pg_migrate(PGconn *c, const char *label, struct strbuf *err)
{
	int cur, latest = pg_migrations[PG_NMIGRATIONS - 1].version;
	const char *params[3];
	char vbuf[16], tbuf[24];
	PGresult *r;
	size_t i;

	if (latest != store_schema_latest()) {
		strbuf_appendf(err, "%s: internal error: PostgreSQL schema "
		    "version %d differs from SQLite's %d", label, latest,
		    store_schema_latest());
		return STORE_ERR_SCHEMA;
	}
	if (!exec_ok(c, "BEGIN", PGRES_COMMAND_OK) ||
	    !exec_ok(c, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")",
	    PGRES_TUPLES_OK) ||
	    !exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_version (\n"
	    "  version     INTEGER PRIMARY KEY,\n"
	    "  applied     BIGINT NOT NULL,\n"
	    "  description TEXT NOT NULL\n"
	    ")", PGRES_COMMAND_OK))
		return pg_fail(c, label, "cannot read the schema version",
		    STORE_ERR_OPEN, err);
	r = PQexec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1) {
		PQclear(r);
		return pg_fail(c, label, "cannot read the schema version",
		    STORE_ERR_OPEN, err);
	}
	cur = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (cur > latest) {
		exec_ok(c, "ROLLBACK", PGRES_COMMAND_OK);
		strbuf_appendf(err, "%s: schema version %d is newer than this "
		    "dmarcd knows (%d): use a newer dmarcd, or another "
		    "database", label, cur, latest);
		return STORE_ERR_SCHEMA;
	}
	for (i = 0; i < PG_NMIGRATIONS; i++) {
		if (pg_migrations[i].version <= cur)
			continue;
		if (!exec_ok(c, pg_migrations[i].sql, PGRES_COMMAND_OK))
			goto bad;
		snprintf(vbuf, sizeof(vbuf), "%d", pg_migrations[i].version);
		snprintf(tbuf, sizeof(tbuf), "%lld", (long long)time(NULL));
		params[0] = vbuf;
		params[1] = tbuf;
		params[2] = pg_migrations[i].description;
		r = PQexecParams(c, "INSERT INTO schema_version (version, "
		    "applied, description) VALUES ($1, $2, $3)", 3, NULL,
		    params, NULL, NULL, 0);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			goto bad;
		}
		PQclear(r);
	}
	if (!exec_ok(c, "COMMIT", PGRES_COMMAND_OK))
		return pg_fail(c, label, "cannot commit the schema",
		    STORE_ERR_OPEN, err);
	return STORE_OK;

bad:
	strbuf_appendf(err, "%s: migration to schema version %d (%s) failed: ",
	    label, pg_migrations[i].version, pg_migrations[i].description);
	pgwait_error(err, PQerrorMessage(c));
	exec_ok(c, "ROLLBACK", PGRES_COMMAND_OK);
	return STORE_ERR_SCHEMA;
}

/* Prepare the insert on the writer's connection; *late as in
 * pgwait_result(). */
static bool
pg_prepare(struct pgsql_be *be, bool *late)
{
	struct strbuf sql = STRBUF_INIT;
	PGresult *r = NULL;
	bool ok = false;
	size_t i;

	*late = false;

	strbuf_appends(&sql, "INSERT INTO verdicts (");
	for (i = 0; i < store_ncolumns; i++)
		strbuf_appendf(&sql, "%s%s", i ? ", " : "",
		    store_columns[i].name);
	strbuf_appends(&sql, ") VALUES (");
	for (i = 0; i < store_ncolumns; i++)
		strbuf_appendf(&sql, "%s$%zu", i ? ", " : "", i + 1);
	strbuf_appends(&sql, ") ON CONFLICT (node, message_key, author_index) "
	    "DO NOTHING");
	if (!strbuf_failed(&sql)) {
		r = pgwait_result(be->conn, PQsendPrepare(be->conn,
		    PG_INSERT_NAME, strbuf_cstr(&sql), (int)store_ncolumns,
		    NULL), be->timeout_ms, late);
		ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	}
	PQclear(r);
	strbuf_release(&sql);
	be->prepared = ok;
	return ok;
}

static void pgsql_close(void *);

static void *
pgsql_open(const char *uri, const struct store_options *opt,
    enum store_status *st, struct strbuf *err)
{
	struct strbuf label = STRBUF_INIT;
	struct pgsql_be *be;
	bool late;

	store_uri_redact(&label, uri);
	if ((be = mem_calloc(1, sizeof(*be))) != NULL)
		strbuf_init(&be->scratch);
	if (be == NULL ||
	    (be->uri = mem_strdup(uri)) == NULL ||
	    (be->label = strbuf_steal(&label)) == NULL ||
	    (be->poff = mem_reallocarray(NULL, store_ncolumns,
	    sizeof(*be->poff))) == NULL ||
	    (be->pval = mem_reallocarray(NULL, store_ncolumns,
	    sizeof(*be->pval))) == NULL) {
		strbuf_appends(err, "postgresql: out of memory");
		strbuf_release(&label);
		*st = STORE_ERR_NOMEM;
		pgsql_close(be);
		return NULL;
	}
	be->timeout_ms = opt->busy_timeout_ms;
	be->relaxed = opt->durability == STORE_DURABILITY_RELAXED;
	if ((be->conn = pg_connect(be, st, err)) == NULL) {
		if (*st != STORE_ERR_OPEN || opt->spool_path == NULL ||
		    *opt->spool_path == '\0' || !pg_unreachable(be))
			goto fail;
		/* No server answers, and there is a spool: open anyway.
		 * err keeps why, for the caller to warn. */
		*st = STORE_OK;
		return be;
	}
	if ((*st = pg_migrate(be->conn, be->label, err)) != STORE_OK)
		goto fail;
	be->migrated = true;
	if (!pg_prepare(be, &late)) {
		strbuf_appendf(err, "%s: cannot prepare the insert: ",
		    be->label);
		if (late)
			strbuf_appendf(err, "no answer within %u ms",
			    be->timeout_ms + PG_CLIENT_GRACE_MS);
		else
			pgwait_error(err, PQerrorMessage(be->conn));
		*st = STORE_ERR_SCHEMA;
		goto fail;
	}
	*st = STORE_OK;
	return be;

fail:
	pgsql_close(be);
	return NULL;
}

/* Length of the valid UTF-8 prefix of s[0..n). */
static size_t
utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return i;
		if (n - i < len)
			return i;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

static bool
pbuf_reserve(struct pgsql_be *be, size_t need)
{
	char *p;
	size_t cap;

	if (need <= be->pcap)
		return true;
	cap = need < 16384 ? 16384 : need * 2;
	if ((p = mem_realloc(be->pbuf, cap)) == NULL)
		return false;
	be->pbuf = p;
	be->pcap = cap;
	return true;
}

/* Fill be->pval with rec's column values as NUL-terminated text. */
static bool
build_params(struct pgsql_be *be, const struct store_record *rec)
{
	struct store_value v;
	size_t i, used = 0, ok, j;
	char num[24];

	for (i = 0; i < store_ncolumns; i++) {
		if (!store_column_get(&store_columns[i], rec, &be->scratch, &v))
			return false;
		if (!v.is_text) {
			snprintf(num, sizeof(num), "%lld", (long long)v.i);
			v.text = num;
			v.len = strlen(num);
		}
		if (!pbuf_reserve(be, used + v.len + 1))
			return false;
		be->poff[i] = used;
		memcpy(be->pbuf + used, v.text, v.len);
		/* Keep what is valid, "?" for each bad byte. */
		for (j = 0; (ok = utf8_valid_prefix((const unsigned char *)
		    be->pbuf + used + j, v.len - j)) < v.len - j; j += ok + 1)
			be->pbuf[used + j + ok] = '?';
		used += v.len;
		be->pbuf[used++] = '\0';
	}
	for (i = 0; i < store_ncolumns; i++)
		be->pval[i] = be->pbuf + be->poff[i];
	return true;
}

/* Drop the writer's connection after a timeout: it may be mid-query. */
static void
writer_drop(struct pgsql_be *be)
{
	PQfinish(be->conn);
	be->conn = NULL;
	be->prepared = false;
}

static enum store_status
pgsql_write(void *arg, const struct store_record *const *recs, size_t n,
    size_t *inserted, struct strbuf *err)
{
	struct pgsql_be *be = arg;
	enum store_status st;
	PGresult *r;
	bool late = false;
	size_t i;

	*inserted = 0;
	if (be->conn == NULL || PQstatus(be->conn) != CONNECTION_OK) {
		/* The server went away: a new connection, prepared anew. */
		writer_drop(be);
		if ((be->conn = pg_connect(be, &st, err)) == NULL)
			return st == STORE_ERR_NOMEM ? st : STORE_ERR_WRITE;
	}
	if (!be->migrated) {
		/* Opened while the server was down: the schema first. */
		if (pg_migrate(be->conn, be->label, err) != STORE_OK) {
			PQfinish(be->conn);
			be->conn = NULL;
			return STORE_ERR_WRITE;
		}
		be->migrated = true;
	}
	if (!be->prepared && !pg_prepare(be, &late)) {
		if (!late)
			return pg_fail(be->conn, be->label,
			    "cannot prepare the insert", STORE_ERR_WRITE, err);
		strbuf_appendf(err, "%s: cannot prepare the insert: ",
		    be->label);
		goto timeout;
	}
	if (!exec_timed(be->conn, "BEGIN", PGRES_COMMAND_OK, be->timeout_ms,
	    &late))
		goto fail;
	for (i = 0; i < n; i++) {
		if (!build_params(be, recs[i])) {
			if (!exec_timed(be->conn, "ROLLBACK", PGRES_COMMAND_OK,
			    be->timeout_ms, &late) && late)
				writer_drop(be);
			strbuf_appendf(err, "%s: out of memory", be->label);
			return STORE_ERR_NOMEM;
		}
		r = pgwait_result(be->conn, PQsendQueryPrepared(be->conn,
		    PG_INSERT_NAME, (int)store_ncolumns, be->pval, NULL, NULL,
		    0), be->timeout_ms, &late);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			goto fail;
		}
		/* "INSERT 0 1", or "INSERT 0 0" for a key already stored. */
		*inserted += (size_t)strtoul(PQcmdTuples(r), NULL, 10);
		PQclear(r);
	}
	if (!exec_timed(be->conn, "COMMIT", PGRES_COMMAND_OK, be->timeout_ms,
	    &late))
		goto fail;
	return STORE_OK;

fail:
	*inserted = 0;
	strbuf_appendf(err, "%s: cannot commit %zu record%s: ", be->label, n,
	    n == 1 ? "" : "s");
	if (late)
		goto timeout;
	pgwait_error(err, PQerrorMessage(be->conn));
	if (PQstatus(be->conn) == CONNECTION_OK &&
	    PQtransactionStatus(be->conn) != PQTRANS_IDLE &&
	    !exec_timed(be->conn, "ROLLBACK", PGRES_COMMAND_OK,
	    be->timeout_ms, &late) && late)
		writer_drop(be);
	return STORE_ERR_WRITE;

timeout:
	/* Maybe committed after all (a COMMIT without its answer): the
	 * caller spools or retries the batch, and the key makes that
	 * harmless. */
	*inserted = 0;
	strbuf_appendf(err, "no answer within %u ms (server stopped or "
	    "unreachable); connection dropped",
	    be->timeout_ms + PG_CLIENT_GRACE_MS);
	writer_drop(be);
	return STORE_ERR_WRITE;
}

static enum store_status
pgsql_count(void *arg, uint64_t *n, struct strbuf *err)
{
	struct pgsql_be *be = arg;
	enum store_status st;
	PGresult *r;
	PGconn *c;

	*n = 0;
	if ((c = pg_connect(be, &st, err)) == NULL)
		return st == STORE_ERR_NOMEM ? st : STORE_ERR_READ;
	r = PQexec(c, "SELECT COUNT(*) FROM verdicts");
	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK &&
	    PQntuples(r) == 1) {
		*n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		st = STORE_OK;
	} else {
		strbuf_appendf(err, "%s: cannot count the verdicts: ",
		    be->label);
		pgwait_error(err, PQerrorMessage(c));
		st = STORE_ERR_READ;
	}
	PQclear(r);
	PQfinish(c);
	return st;
}

/* Fill rec from row 0 of r; the name of a bad column, or NULL. */
static const char *
decode_row(const PGresult *r, struct store_record *rec)
{
	const struct store_column *c;
	const char *t;
	char *end;
	long long v;
	size_t i;
	int col;

	memset(rec, 0, sizeof(*rec));
	for (i = 0; i < store_ncolumns; i++) {
		c = &store_columns[i];
		col = (int)i + 1;
		t = PQgetvalue(r, 0, col);
		switch (c->type) {
		case STORE_COL_DAY:
		case STORE_COL_NDKIM:
		case STORE_COL_EVAL_DKIM:
		case STORE_COL_EVAL_SPF:
			/* Derived from the others: nothing to read (and
			 * eval_* hold "pass"/"fail", not numbers). */
			continue;
		default:
			break;
		}
		if (c->type == STORE_COL_TEXT || c->type == STORE_COL_DKIM) {
			if (store_column_set(c, rec, t,
			    (size_t)PQgetlength(r, 0, col), 0) == -1)
				return c->name;
			continue;
		}
		v = strtoll(t, &end, 10);
		if (end == t || *end != '\0' ||
		    store_column_set(c, rec, NULL, 0, v) == -1)
			return c->name;
	}
	return NULL;
}

static enum store_status
pgsql_query(void *arg, const char *domain, time_t from, time_t to,
    store_verdict_cb cb, void *ctx, struct strbuf *err)
{
	struct pgsql_be *be = arg;
	struct store_record *rec = NULL;
	struct strbuf sql = STRBUF_INIT;
	enum store_status st = STORE_ERR_READ;
	const char *params[5], *bad;
	char p1[24], p2[24], p3[24], p4[24];
	PGresult *r = NULL;
	PGconn *c;
	size_t i;

	if (to <= from)
		return STORE_OK;
	if ((c = pg_connect(be, &st, err)) == NULL)
		return st == STORE_ERR_NOMEM ? st : STORE_ERR_READ;
	st = STORE_ERR_READ;
	/* The rows stream as fast as cb takes them: the statement lasts
	 * as long as the whole scan (a report over millions of rows), so
	 * the writer's timeout, there to spare the MTA, does not apply. */
	if (!exec_ok(c, "SET statement_timeout = 0", PGRES_COMMAND_OK))
		goto fail;
	if ((rec = mem_alloc(sizeof(*rec))) == NULL) {
		strbuf_appendf(err, "%s: out of memory", be->label);
		st = STORE_ERR_NOMEM;
		goto done;
	}
	strbuf_appends(&sql, "SELECT id");
	for (i = 0; i < store_ncolumns; i++)
		strbuf_appendf(&sql, ", %s", store_columns[i].name);
	strbuf_appends(&sql, " FROM verdicts WHERE day >= $1 AND day <= $2 "
	    "AND received >= $3 AND received < $4");
	if (domain != NULL)
		strbuf_appends(&sql, " AND policy_domain = $5");
	strbuf_appends(&sql, " ORDER BY received, id");
	snprintf(p1, sizeof(p1), "%lld", (long long)store_day(from));
	snprintf(p2, sizeof(p2), "%lld", (long long)store_day(to));
	snprintf(p3, sizeof(p3), "%lld", (long long)from);
	snprintf(p4, sizeof(p4), "%lld", (long long)to);
	params[0] = p1;
	params[1] = p2;
	params[2] = p3;
	params[3] = p4;
	params[4] = domain;
	if (strbuf_failed(&sql) || !PQsendQueryParams(c, strbuf_cstr(&sql),
	    domain != NULL ? 5 : 4, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(c))
		goto fail;
	while ((r = PQgetResult(c)) != NULL) {
		switch (PQresultStatus(r)) {
		case PGRES_SINGLE_TUPLE:
			if ((bad = decode_row(r, rec)) != NULL) {
				strbuf_appendf(err, "%s: verdict row %s: column "
				    "%s does not decode", be->label,
				    PQgetvalue(r, 0, 0), bad);
				PQclear(r);
				/* Closing the connection ends the query. */
				goto done;
			}
			if (cb(rec, ctx) != 0) {
				PQclear(r);
				st = STORE_OK;
				goto done;
			}
			break;
		case PGRES_TUPLES_OK:
			st = STORE_OK;
			break;
		default:
			PQclear(r);
			goto fail;
		}
		PQclear(r);
	}
	if (st == STORE_OK)
		goto done;
fail:
	strbuf_appendf(err, "%s: cannot read the verdicts: ", be->label);
	pgwait_error(err, PQerrorMessage(c));
	st = STORE_ERR_READ;
done:
	strbuf_release(&sql);
	PQfinish(c);
	mem_free(rec);
	return st;
}

/* The server's clock in UTC seconds: one clock for the whole fleet. */
#define PG_NOW	"EXTRACT(EPOCH FROM now())::bigint"

/* Run a parameterized statement; the result (to PQclear) or NULL with
 * err filled when its status is not want. */
static PGresult *
pg_exec(PGconn *c, const char *sql, int n, const char *const *params,
    ExecStatusType want)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);

	if (r != NULL && PQresultStatus(r) == want)
		return r;
	PQclear(r);
	return NULL;
}

/*
 * Each step is one statement, atomic on its own: the INSERT takes a free
 * key; else the UPDATE takes the row if it is still 'claimed' by us or
 * stale (under READ COMMITTED a second UPDATE waits for the first and
 * re-checks its WHERE on the new row, so only one wins); else the SELECT
 * says why not.  A row deleted in between (expiry) sends us round again.
 */
static enum store_claim
pgsql_report_claim(void *arg, const char *domain, time_t begin,
    const char *report_id, const char *node, time_t now,
    unsigned stale_after_s, struct strbuf *err)
{
	struct pgsql_be *be = arg;
	enum store_claim claim = STORE_CLAIM_ERROR;
	enum store_status st;
	const char *params[5];
	char bbuf[24], sbuf[16];
	PGresult *r;
	PGconn *c;
	int round;

	(void)now;
	if ((c = pg_connect(be, &st, err)) == NULL)
		return STORE_CLAIM_ERROR;
	snprintf(bbuf, sizeof(bbuf), "%lld", (long long)begin);
	snprintf(sbuf, sizeof(sbuf), "%u", stale_after_s);
	params[0] = domain;
	params[1] = bbuf;
	params[2] = report_id;
	params[3] = node;
	params[4] = sbuf;
	for (round = 0; round < 3; round++) {
		if ((r = pg_exec(c, "INSERT INTO reports_sent (policy_domain, "
		    "period_begin, report_id, state, node, claimed_at, "
		    "attempts) VALUES ($1, $2, $3, 'claimed', $4, " PG_NOW
		    ", 1) ON CONFLICT (policy_domain, period_begin) DO "
		    "NOTHING", 4, params, PGRES_COMMAND_OK)) == NULL)
			goto fail;
		claim = strcmp(PQcmdTuples(r), "1") == 0 ? STORE_CLAIM_OK :
		    STORE_CLAIM_ERROR;
		PQclear(r);
		if (claim == STORE_CLAIM_OK)
			break;
		if ((r = pg_exec(c, "UPDATE reports_sent SET report_id = $3, "
		    "node = $4, claimed_at = " PG_NOW ", attempts = attempts "
		    "+ 1 WHERE policy_domain = $1 AND period_begin = $2 AND "
		    "state = 'claimed' AND (node = $4 OR claimed_at < "
		    PG_NOW " - $5::bigint) RETURNING attempts", 5, params,
		    PGRES_TUPLES_OK)) == NULL)
			goto fail;
		claim = PQntuples(r) == 1 ? STORE_CLAIM_OK :
		    STORE_CLAIM_ERROR;
		PQclear(r);
		if (claim == STORE_CLAIM_OK)
			break;
		if ((r = pg_exec(c, "SELECT state FROM reports_sent WHERE "
		    "policy_domain = $1 AND period_begin = $2", 2, params,
		    PGRES_TUPLES_OK)) == NULL)
			goto fail;
		if (PQntuples(r) == 1)
			claim = strcmp(PQgetvalue(r, 0, 0), "sent") == 0 ?
			    STORE_CLAIM_SENT : STORE_CLAIM_BUSY;
		PQclear(r);
		if (claim != STORE_CLAIM_ERROR)
			break;
	}
	if (claim == STORE_CLAIM_ERROR) {
		strbuf_appendf(err, "%s: cannot claim the report of %s: the "
		    "row keeps changing", be->label, domain);
	}
	PQfinish(c);
	return claim;

fail:
	strbuf_appendf(err, "%s: cannot claim the report of %s: ", be->label,
	    domain);
	pgwait_error(err, PQerrorMessage(c));
	PQfinish(c);
	return STORE_CLAIM_ERROR;
}

static enum store_status
pgsql_report_mark_sent(void *arg, const char *domain, time_t begin,
    time_t now, struct strbuf *err)
{
	struct pgsql_be *be = arg;
	enum store_status st;
	const char *params[2];
	char bbuf[24];
	PGresult *r;
	PGconn *c;

	(void)now;
	if ((c = pg_connect(be, &st, err)) == NULL)
		return st == STORE_ERR_NOMEM ? st : STORE_ERR_WRITE;
	snprintf(bbuf, sizeof(bbuf), "%lld", (long long)begin);
	params[0] = domain;
	params[1] = bbuf;
	r = pg_exec(c, "UPDATE reports_sent SET state = 'sent', sent_at = "
	    PG_NOW " WHERE policy_domain = $1 AND period_begin = $2", 2,
	    params, PGRES_COMMAND_OK);
	if (r == NULL) {
		strbuf_appendf(err, "%s: cannot mark the report of %s sent: ",
		    be->label, domain);
		pgwait_error(err, PQerrorMessage(c));
		st = STORE_ERR_WRITE;
	} else if (strcmp(PQcmdTuples(r), "1") != 0) {
		strbuf_appendf(err, "%s: cannot mark the report of %s sent: "
		    "it is not claimed", be->label, domain);
		st = STORE_ERR_WRITE;
	} else
		st = STORE_OK;
	PQclear(r);
	PQfinish(c);
	return st;
}

static enum store_status
pgsql_expire(void *arg, int64_t before_day, bool dry_run,
    uint64_t *verdicts, uint64_t *reports, struct strbuf *err)
{
	struct pgsql_be *be = arg;
	enum store_status st;
	const char *params[1];
	char dbuf[24], bbuf[24];
	PGresult *r1 = NULL, *r2 = NULL;
	PGconn *c;

	*verdicts = *reports = 0;
	if ((c = pg_connect(be, &st, err)) == NULL)
		return st == STORE_ERR_NOMEM ? st :
		    dry_run ? STORE_ERR_READ : STORE_ERR_WRITE;
	snprintf(dbuf, sizeof(dbuf), "%lld", (long long)before_day);
	snprintf(bbuf, sizeof(bbuf), "%lld", (long long)before_day * 86400);
	/* Expiry may take a while: no statement timeout for it. */
	if (!exec_ok(c, "SET statement_timeout = 0", PGRES_COMMAND_OK) ||
	    !exec_ok(c, "BEGIN", PGRES_COMMAND_OK))
		goto fail;
	params[0] = dbuf;
	if (dry_run)
		r1 = pg_exec(c, "SELECT COUNT(*) FROM verdicts WHERE day < $1",
		    1, params, PGRES_TUPLES_OK);
	else
		r1 = pg_exec(c, "DELETE FROM verdicts WHERE day < $1", 1,
		    params, PGRES_COMMAND_OK);
	if (r1 == NULL)
		goto fail;
	params[0] = bbuf;
	if (dry_run)
		r2 = pg_exec(c, "SELECT COUNT(*) FROM reports_sent WHERE "
		    "period_begin < $1", 1, params, PGRES_TUPLES_OK);
	else
		r2 = pg_exec(c, "DELETE FROM reports_sent WHERE period_begin "
		    "< $1", 1, params, PGRES_COMMAND_OK);
	if (r2 == NULL || !exec_ok(c, "COMMIT", PGRES_COMMAND_OK))
		goto fail;
	*verdicts = strtoull(dry_run ? PQgetvalue(r1, 0, 0) : PQcmdTuples(r1),
	    NULL, 10);
	*reports = strtoull(dry_run ? PQgetvalue(r2, 0, 0) : PQcmdTuples(r2),
	    NULL, 10);
	PQclear(r1);
	PQclear(r2);
	PQfinish(c);
	return STORE_OK;

fail:
	st = pg_fail(c, be->label, "cannot expire old rows",
	    dry_run ? STORE_ERR_READ : STORE_ERR_WRITE, err);
	PQclear(r1);
	PQclear(r2);
	PQfinish(c);
	return st;
}

/* The advisory lock's first key: "dmrc" in ASCII; the second is the
 * node name's hashtext(). */
#define PG_REPORT_LOCK_CLASS	"1684894307"

/* A session-level advisory lock on a connection kept until close. */
static enum store_claim
pgsql_report_lock(void *arg, const char *node, struct strbuf *what,
    struct strbuf *err)
{
	struct pgsql_be *be = arg;
	const char *params[1] = { node };
	enum store_claim claim;
	enum store_status st;
	PGresult *r;
	PGconn *c;

	strbuf_appendf(what, "PostgreSQL advisory lock (" PG_REPORT_LOCK_CLASS
	    ", hashtext('%s')) on %s", node, be->label);
	if (be->lockconn != NULL)
		return STORE_CLAIM_OK;
	if ((c = pg_connect(be, &st, err)) == NULL)
		return STORE_CLAIM_ERROR;
	if ((r = pg_exec(c, "SELECT pg_try_advisory_lock("
	    PG_REPORT_LOCK_CLASS ", hashtext($1))", 1, params,
	    PGRES_TUPLES_OK)) == NULL || PQntuples(r) != 1) {
		PQclear(r);
		(void)pg_fail(c, be->label, "cannot take the report lock",
		    STORE_ERR_READ, err);
		PQfinish(c);
		return STORE_CLAIM_ERROR;
	}
	claim = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? STORE_CLAIM_OK :
	    STORE_CLAIM_BUSY;
	PQclear(r);
	if (claim == STORE_CLAIM_OK)
		be->lockconn = c;
	else
		PQfinish(c);
	return claim;
}

static void
pgsql_close(void *arg)
{
	struct pgsql_be *be = arg;

	if (be == NULL)
		return;
	PQfinish(be->conn);
	if (be->lockconn != NULL)
		PQfinish(be->lockconn);	/* ends the session: unlocks */
	if (be->uri != NULL)
		/* It may hold a password. */
		explicit_bzero(be->uri, strlen(be->uri));
	mem_free(be->uri);
	mem_free(be->label);
	strbuf_release(&be->scratch);
	mem_free(be->pbuf);
	mem_free(be->poff);
	mem_free(be->pval);
	mem_free(be);
}

const struct store_backend store_backend_pgsql = {
	"postgresql",
	pgsql_open,
	pgsql_write,
	pgsql_count,
	pgsql_query,
	pgsql_close,
	pgsql_report_claim,
	pgsql_report_mark_sent,
	pgsql_expire,
	pgsql_report_lock,
};
