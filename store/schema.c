/*
 * schema.c - the SQLite schema, as numbered migrations.
 *
 * A migration is never edited once released: a change to the schema is a
 * new migration at the end of the list.  The table schema_version holds
 * one row per applied migration; the version of a database is the
 * largest.  A database newer than this build is refused untouched
 * (STORE_ERR_SCHEMA), so an old binary never writes rows a newer schema
 * does not expect.  The PostgreSQL back-end will carry the same
 * versions with its own SQL.
 *
 * Version 1, verdicts: one row per (message, author domain), every field
 * of struct store_record (codec.c maps them, in this order), plus the
 * derived columns day (UTC day number), ndkim, eval_dkim and eval_spf
 * that make the RFC 9990 aggregate report a GROUP BY over
 *   (client_ip, header_from, mail_from_domain, disposition, eval_dkim,
 *    eval_spf, reasons, dkim, spf_domain, spf_scope, spf_result)
 * for one policy_domain and one day.  Indexes: the UNIQUE key makes
 * replays idempotent; (policy_domain, received) serves the report and
 * the per-domain API; (day, policy_domain) lists the domains of a day
 * and serves expiry by day.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/schema.h"

static const char schema_v1[] =
	"CREATE TABLE verdicts (\n"
	"  id               INTEGER PRIMARY KEY,\n"
	"  node             TEXT NOT NULL,\n"
	"  message_key      TEXT NOT NULL,\n"
	"  author_index     INTEGER NOT NULL,\n"
	"  received         INTEGER NOT NULL,  -- UTC seconds\n"
	"  day              INTEGER NOT NULL,  -- received / 86400, floored\n"
	"  queue_id         TEXT NOT NULL DEFAULT '',\n"
	"  message_id       TEXT NOT NULL DEFAULT '',\n"
	"  client_ip        TEXT NOT NULL DEFAULT '',\n"
	"  helo             TEXT NOT NULL DEFAULT '',\n"
	"  mail_from_domain TEXT NOT NULL DEFAULT '',  -- envelope_from\n"
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
	"  dkim             TEXT NOT NULL DEFAULT '',  -- see store.h\n"
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

/*
 * Version 2, reports_sent: one row per aggregate report (policy domain,
 * period), claimed by one `dmarcctl report` before it sends and marked
 * sent after, so that racing runs send it once (store_report_claim()).
 */
static const char schema_v2[] =
	"CREATE TABLE reports_sent (\n"
	"  policy_domain TEXT NOT NULL,\n"
	"  period_begin  INTEGER NOT NULL,  -- UTC seconds\n"
	"  report_id     TEXT NOT NULL,\n"
	"  state         TEXT NOT NULL,     -- claimed | sent\n"
	"  node          TEXT NOT NULL,\n"
	"  claimed_at    INTEGER NOT NULL,\n"
	"  sent_at       INTEGER,\n"
	"  attempts      INTEGER NOT NULL DEFAULT 1,\n"
	"  PRIMARY KEY (policy_domain, period_begin)\n"
	");\n";

/*
 * Version 3, received aggregate reports (dmarcctl import): agg_reports,
 * one row per report, UNIQUE (org_name, report_id, domain) so that a
 * re-import is counted as a duplicate and stored once; agg_records, its
 * rows, with the auth results as text (ingest/xml.h gives the format).
 */
static const char schema_v3[] =
	"CREATE TABLE agg_reports (\n"
	"  id               INTEGER PRIMARY KEY,\n"
	"  org_name         TEXT NOT NULL,\n"
	"  email            TEXT NOT NULL DEFAULT '',\n"
	"  extra_contact    TEXT NOT NULL DEFAULT '',\n"
	"  report_id        TEXT NOT NULL,\n"
	"  domain           TEXT NOT NULL,\n"
	"  begin_ts         INTEGER NOT NULL,  -- UTC seconds\n"
	"  end_ts           INTEGER NOT NULL,\n"
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
	"  nrecords         INTEGER NOT NULL DEFAULT 0,\n"
	"  imported_at      INTEGER NOT NULL,\n"
	"  source           TEXT NOT NULL DEFAULT '',  -- file name\n"
	"  UNIQUE (org_name, report_id, domain)\n"
	");\n"
	"CREATE INDEX agg_reports_domain_begin ON agg_reports (domain, begin_ts);\n"
	"CREATE TABLE agg_records (\n"
	"  id               INTEGER PRIMARY KEY,\n"
	"  report           INTEGER NOT NULL REFERENCES agg_reports (id)\n"
	"                   ON DELETE CASCADE,\n"
	"  source_ip        TEXT NOT NULL,\n"
	"  count            INTEGER NOT NULL,\n"
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

/*
 * Version 4, received failure reports and ownership (dmarcctl import):
 * failure_reports, one row per AFRF report (RFC 6591, RFC 9991),
 * UNIQUE report_key (a SHA-256 of the report's feedback part and
 * original headers, so a re-import is a counted duplicate); the AFRF
 * fields as columns, the original headers as reported (redacted or not)
 * in headers.  owned_domains: the domains whose incoming reports are
 * stored, in addition to the OwnedDomains key.  rdns: reverse DNS of
 * report source IPs, resolved at import and cached, never on an HTTP
 * request (status: ok, nxdomain, servfail, timeout).
 */
static const char schema_v4[] =
	"CREATE TABLE failure_reports (\n"
	"  id                   INTEGER PRIMARY KEY,\n"
	"  report_key           TEXT NOT NULL UNIQUE,\n"
	"  reporter             TEXT NOT NULL DEFAULT '',\n"
	"  reported_domain      TEXT NOT NULL,\n"
	"  arrival_ts           INTEGER NOT NULL DEFAULT 0,  -- UTC seconds\n"
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
	"  imported_at          INTEGER NOT NULL,\n"
	"  source               TEXT NOT NULL DEFAULT ''  -- file name\n"
	");\n"
	"CREATE INDEX failure_reports_domain_arrival\n"
	"  ON failure_reports (reported_domain, arrival_ts);\n"
	"CREATE TABLE owned_domains (\n"
	"  domain     TEXT PRIMARY KEY,\n"
	"  added_at   INTEGER NOT NULL,\n"
	"  note       TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE TABLE rdns (\n"
	"  ip          TEXT PRIMARY KEY,\n"
	"  ptr         TEXT NOT NULL DEFAULT '',\n"
	"  org         TEXT NOT NULL DEFAULT '',  -- organizational domain of ptr\n"
	"  status      TEXT NOT NULL DEFAULT '',\n"
	"  resolved_at INTEGER NOT NULL\n"
	");\n";

/*
 * Version 5, API tokens (dmarcctl token, dmarcctl serve): only a
 * SHA-256 of each token is kept; domains is the scope, space-separated
 * lower-case names, "*" for every domain.  A revoked token keeps its
 * row (revoked_at set) so that list shows it.
 */
static const char schema_v5[] =
	"CREATE TABLE api_tokens (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  name         TEXT NOT NULL UNIQUE,\n"
	"  hash         TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the token\n"
	"  domains      TEXT NOT NULL,\n"
	"  created_at   INTEGER NOT NULL,\n"
	"  revoked_at   INTEGER,\n"
	"  last_used_at INTEGER\n"
	");\n";

/*
 * Version 6, alerts found after an import: kind is new_source,
 * pass_rate_drop or dkim_failing; subject the source (IP or PTR
 * organization) or the day; dedup_key UNIQUE, so one source alerts
 * once; detail a JSON object; delivered_* the time the webhook and the
 * mail digest carried it (NULL: not yet).
 */
static const char schema_v6[] =
	"CREATE TABLE alerts (\n"
	"  id                 INTEGER PRIMARY KEY,\n"
	"  domain             TEXT NOT NULL,\n"
	"  kind               TEXT NOT NULL,\n"
	"  subject            TEXT NOT NULL,\n"
	"  dedup_key          TEXT NOT NULL UNIQUE,\n"
	"  detail             TEXT NOT NULL DEFAULT '{}',\n"
	"  created_at         INTEGER NOT NULL,\n"
	"  delivered_webhook  INTEGER,\n"
	"  delivered_digest   INTEGER\n"
	");\n"
	"CREATE INDEX alerts_domain_created ON alerts (domain, created_at);\n";

const struct store_migration store_sqlite_migrations[] = {
	{ 1, "verdicts", schema_v1 },
	{ 2, "reports_sent", schema_v2 },
	{ 3, "agg_reports", schema_v3 },
	{ 4, "failure_reports", schema_v4 },
	{ 5, "api_tokens", schema_v5 },
	{ 6, "alerts", schema_v6 },
};
const size_t store_sqlite_nmigrations =
    sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0]);

int
store_schema_latest(void)
{
	return store_sqlite_migrations[store_sqlite_nmigrations - 1].version;
}

static const char create_version[] =
	"CREATE TABLE IF NOT EXISTS schema_version (\n"
	"  version     INTEGER PRIMARY KEY,\n"
	"  applied     INTEGER NOT NULL,  -- UTC seconds\n"
	"  description TEXT NOT NULL\n"
	")";

/* Errors that mean the file itself is unusable, not its schema. */
static bool
is_open_error(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_NOMEM:
		return true;
	}
	return false;
}

static int
read_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1, &st,
	    NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
record_version(sqlite3 *db, const struct store_migration *m)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "INSERT INTO schema_version "
	    "(version, applied, description) VALUES (?, ?, ?)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(st, 3, m->description, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The version in a read transaction: 0 if schema_version is absent. */
static int
peek_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc, exists = 0;

	*version = 0;
	rc = sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name = 'schema_version'", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		exists = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && exists)
		rc = read_version(db, version);
	return rc;
}

static enum store_status
newer(const char *name, int cur, int latest, struct strbuf *err)
{
	strbuf_appendf(err, "%s: schema version %d is newer than this dmarcd "
	    "knows (%d): use a newer dmarcd, or another database", name, cur,
	    latest);
	return STORE_ERR_SCHEMA;
}

enum store_status
store_sqlite_migrate(sqlite3 *db, const char *name,
    const struct store_migration *m, size_t n, int *version,
    struct strbuf *err)
{
	enum store_status status = STORE_ERR_SCHEMA;
	int rc, cur = 0, latest = n > 0 ? m[n - 1].version : 0;
	size_t i;

	if (version != NULL)
		*version = 0;
	/* The common case, an up-to-date file, takes no write lock. */
	if ((rc = peek_version(db, &cur)) != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot read the schema version: %s",
		    name, sqlite3_errmsg(db));
		return is_open_error(rc) ? STORE_ERR_OPEN : STORE_ERR_SCHEMA;
	}
	if (version != NULL)
		*version = cur;
	if (cur > latest)
		return newer(name, cur, latest, err);
	if (cur == latest)
		return STORE_OK;

	/* Migrate; read the version again under the write lock, as another
	 * process may have migrated since. */
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot lock the database to migrate "
		    "it: %s", name, sqlite3_errmsg(db));
		return STORE_ERR_OPEN;
	}
	if ((rc = sqlite3_exec(db, create_version, NULL, NULL, NULL)) !=
	    SQLITE_OK || (rc = read_version(db, &cur)) != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot read the schema version: %s",
		    name, sqlite3_errmsg(db));
		if (is_open_error(rc))
			status = STORE_ERR_OPEN;
		goto fail;
	}
	if (version != NULL)
		*version = cur;
	if (cur > latest) {
		status = newer(name, cur, latest, err);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (m[i].version <= cur)
			continue;
		if ((rc = sqlite3_exec(db, m[i].sql, NULL, NULL, NULL)) !=
		    SQLITE_OK ||
		    (rc = record_version(db, &m[i])) != SQLITE_OK) {
			strbuf_appendf(err, "%s: migration to schema version %d "
			    "(%s) failed: %s", name, m[i].version,
			    m[i].description, sqlite3_errmsg(db));
			goto fail;
		}
	}
	if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot commit the schema: %s", name,
		    sqlite3_errmsg(db));
		status = STORE_ERR_OPEN;
		goto fail;
	}
	return STORE_OK;

fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return status;
}
