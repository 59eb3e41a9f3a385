/*
 * sqlite.c - the SQLite back-end of the store (one MTA).
 *
 * One write connection, used by the writer thread only: WAL mode, so
 * readers (the report builder, the API) never block the milter's
 * writes; synchronous=FULL in FULL durability (the WAL is fsync'd at
 * every commit) and NORMAL in RELAXED (no fsync at commit: a crash of
 * the process loses nothing, a power cut may lose the last commits); a
 * busy timeout, so another process holding the write lock delays a batch
 * instead of failing it at once.  A batch is one BEGIN IMMEDIATE ...
 * COMMIT around a prepared INSERT OR IGNORE, so replays of a key are
 * no-ops.  Reads open their own connection per call.
 *
 * The file is created mode 0640 (it holds client IPs and Message-IDs);
 * SQLite gives the -wal and -shm files the same mode.  Claims of sent reports
 * (reports_sent) are BEGIN IMMEDIATE transactions; expiry deletes whole
 * days.  Leaves out: read-only opening (a later option for the web
 * process) and VACUUM after expiry.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/mem.h"
#include "store/backend.h"
#include "store/codec.h"
#include "store/schema.h"

struct sqlite_be {
	char		*path;
	sqlite3		*db;		/* the writer's connection */
	sqlite3_stmt	*insert;
	sqlite3_stmt	*begin, *commit;	/* prepared once: see run_stmt() */
	struct strbuf	 scratch;	/* DKIM column text, writer only */
	unsigned	 busy_ms;
	int		 lock_fd;	/* store_report_lock(); -1: none */
};

/* The reason for a failure: SQLite's message, and errno when it has one. */
static void
append_reason(struct strbuf *err, sqlite3 *db)
{
	int e;

	if (db == NULL) {
		strbuf_appends(err, "out of memory");
		return;
	}
	strbuf_appends(err, sqlite3_errmsg(db));
	if ((e = sqlite3_system_errno(db)) != 0)
		strbuf_appendf(err, " (%s)", strerror(e));
}

static enum store_status
open_status(int rc)
{
	return (rc & 0xff) == SQLITE_NOMEM ? STORE_ERR_NOMEM : STORE_ERR_OPEN;
}

/*
 * Open a connection to path with the busy timeout set.  create: make the
 * file (mode 0640) if missing.
 */
static sqlite3 *
connect_db(const char *path, bool create, unsigned busy_ms,
    enum store_status *st, struct strbuf *err)
{
	sqlite3 *db = NULL;
	int fd, rc;

	if (create) {
		/* SQLite would create the file 0644; the history is private.
		 * This also gives a plain errno for a bad directory. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		if (fd == -1) {
			strbuf_appendf(err, "%s: cannot open or create the "
			    "database: %s", path, strerror(errno));
			*st = STORE_ERR_OPEN;
			return NULL;
		}
		close(fd);
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot open the database: ", path);
		append_reason(err, db);
		*st = open_status(rc);
		sqlite3_close(db);
		return NULL;
	}
	if (sqlite3_db_readonly(db, "main") == 1) {
		strbuf_appendf(err, "%s: the database is read-only", path);
		*st = STORE_ERR_OPEN;
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, (int)busy_ms);
	return db;
}

/* Run a PRAGMA; if want is not NULL, its one result must equal it. */
static int
pragma(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *got;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && want != NULL) {
		got = sqlite3_column_text(st, 0);
		rc = got != NULL &&
		    sqlite3_stricmp((const char *)got, want) == 0 ?
		    SQLITE_OK : SQLITE_ERROR;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = want == NULL ? SQLITE_OK : SQLITE_ERROR;
	sqlite3_finalize(st);
	return rc;
}

static int
set_max_bytes(sqlite3 *db, uint64_t max_bytes)
{
	sqlite3_stmt *st = NULL;
	char sql[64];
	int64_t pages = 0;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		pages = (int64_t)(max_bytes /
		    (uint64_t)sqlite3_column_int(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)(pages > 0 ? pages : 1));
	return pragma(db, sql, NULL);
}

/* "INSERT OR IGNORE INTO verdicts (c, ...) VALUES (?, ...)" */
static int
prepare_insert(struct sqlite_be *be)
{
	struct strbuf sql = STRBUF_INIT;
	size_t i;
	int rc;

	strbuf_appends(&sql, "INSERT OR IGNORE INTO verdicts (");
	for (i = 0; i < store_ncolumns; i++)
		strbuf_appendf(&sql, "%s%s", i ? ", " : "",
		    store_columns[i].name);
	strbuf_appends(&sql, ") VALUES (");
	for (i = 0; i < store_ncolumns; i++)
		strbuf_appends(&sql, i ? ", ?" : "?");
	strbuf_appends(&sql, ")");
	rc = strbuf_failed(&sql) ? SQLITE_NOMEM :
	    sqlite3_prepare_v3(be->db, strbuf_cstr(&sql), -1,
	    SQLITE_PREPARE_PERSISTENT, &be->insert, NULL);
	strbuf_release(&sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(be->db, "BEGIN IMMEDIATE", -1,
		    SQLITE_PREPARE_PERSISTENT, &be->begin, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(be->db, "COMMIT", -1,
		    SQLITE_PREPARE_PERSISTENT, &be->commit, NULL);
	return rc;
}

/*
 * Run a statement without results.  BEGIN and COMMIT are kept prepared:
 * sqlite3_exec() parsed and compiled them again for every batch, a third
 * of the writer's instructions when each message commits alone.
 */
static int
run_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void sqlite_close(void *);

static void *
sqlite_open(const char *path, const struct store_options *opt,
    enum store_status *st, struct strbuf *err)
{
	struct sqlite_be *be;
	int rc;
	unsigned waited;

	if (*path == '\0') {
		strbuf_appends(err, "sqlite: empty database path");
		*st = STORE_ERR_CONFIG;
		return NULL;
	}
	if ((be = mem_calloc(1, sizeof(*be))) == NULL ||
	    (be->path = mem_strdup(path)) == NULL) {
		mem_free(be);
		strbuf_appendf(err, "%s: out of memory", path);
		*st = STORE_ERR_NOMEM;
		return NULL;
	}
	strbuf_init(&be->scratch);
	be->lock_fd = -1;
	be->busy_ms = opt->busy_timeout_ms;
	if ((be->db = connect_db(path, true, be->busy_ms, st, err)) == NULL)
		goto fail;

	/*
	 * WAL: readers never block the writer, and one fsync per commit.
	 * Switching a new file to WAL needs an exclusive lock and SQLite does
	 * not always wait for it through the busy handler (several processes
	 * opening a new file at once), so retry for the busy timeout.
	 */
	for (waited = 0;; waited += 10) {
		rc = pragma(be->db, "PRAGMA journal_mode = WAL", "wal");
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) !=
		    SQLITE_LOCKED) || waited >= be->busy_ms)
			break;
		usleep(10000);
	}
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB)
			strbuf_appendf(err, "%s: not an SQLite database: ",
			    path);
		else
			strbuf_appendf(err, "%s: cannot use WAL mode: ", path);
		if (rc == SQLITE_ERROR)
			strbuf_appends(err,
			    "the file system does not allow it");
		else
			append_reason(err, be->db);
		if ((rc & 0xff) == SQLITE_READONLY ||
		    (rc & 0xff) == SQLITE_CANTOPEN)
			strbuf_appendf(err, "; its directory must be writable "
			    "for %s-wal and %s-shm", path, path);
		*st = open_status(rc);
		goto fail;
	}
	rc = pragma(be->db, opt->durability == STORE_DURABILITY_FULL ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL);
	if (rc == SQLITE_OK && opt->max_bytes > 0)
		rc = set_max_bytes(be->db, opt->max_bytes);
	if (rc != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot set up the connection: ", path);
		append_reason(err, be->db);
		*st = open_status(rc);
		goto fail;
	}
	if ((*st = store_sqlite_migrate(be->db, path, store_sqlite_migrations,
	    store_sqlite_nmigrations, NULL, err)) != STORE_OK)
		goto fail;
	if ((rc = prepare_insert(be)) != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot prepare the insert: ", path);
		append_reason(err, rc == SQLITE_NOMEM ? NULL : be->db);
		*st = rc == SQLITE_NOMEM ? STORE_ERR_NOMEM : STORE_ERR_SCHEMA;
		goto fail;
	}
	*st = STORE_OK;
	return be;

fail:
	sqlite_close(be);
	return NULL;
}

/* Bind every column of rec to the insert statement. */
static int
bind_record(struct sqlite_be *be, const struct store_record *rec)
{
	struct store_value v;
	size_t i;
	int rc;

	for (i = 0; i < store_ncolumns; i++) {
		if (!store_column_get(&store_columns[i], rec, &be->scratch, &v))
			return SQLITE_NOMEM;
		if (v.is_text)
			rc = sqlite3_bind_text(be->insert, (int)i + 1, v.text,
			    (int)v.len, SQLITE_STATIC);
		else
			rc = sqlite3_bind_int64(be->insert, (int)i + 1,
			    (sqlite3_int64)v.i);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static enum store_status
sqlite_write(void *arg, const struct store_record *const *recs, size_t n,
    size_t *inserted, struct strbuf *err)
{
	struct sqlite_be *be = arg;
	size_t i;
	int rc;

	*inserted = 0;
	if ((rc = run_stmt(be->begin)) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((rc = bind_record(be, recs[i])) != SQLITE_OK)
			goto fail;
		rc = sqlite3_step(be->insert);
		sqlite3_reset(be->insert);
		if (rc != SQLITE_DONE)
			goto fail;
		/* 0 when the key was already stored: a replay. */
		*inserted += (size_t)sqlite3_changes(be->db);
	}
	if ((rc = run_stmt(be->commit)) != SQLITE_OK)
		goto fail;
	sqlite3_clear_bindings(be->insert);
	return STORE_OK;

fail:
	strbuf_appendf(err, "%s: cannot commit %zu record%s: ", be->path, n,
	    n == 1 ? "" : "s");
	append_reason(err, rc == SQLITE_NOMEM ? NULL : be->db);
	sqlite3_reset(be->insert);
	sqlite3_clear_bindings(be->insert);
	/* Some errors (SQLITE_FULL in COMMIT) roll back by themselves. */
	if (!sqlite3_get_autocommit(be->db))
		sqlite3_exec(be->db, "ROLLBACK", NULL, NULL, NULL);
	*inserted = 0;
	return rc == SQLITE_NOMEM ? STORE_ERR_NOMEM : STORE_ERR_WRITE;
}

static enum store_status
sqlite_count(void *arg, uint64_t *n, struct strbuf *err)
{
	struct sqlite_be *be = arg;
	enum store_status st;
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db;
	int rc;

	*n = 0;
	if ((db = connect_db(be->path, false, be->busy_ms, &st, err)) == NULL)
		return STORE_ERR_READ;
	rc = sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM verdicts", -1, &stmt,
	    NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot count the verdicts: ",
		    be->path);
		append_reason(err, db);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return rc == SQLITE_OK ? STORE_OK : STORE_ERR_READ;
}

/* "SELECT id, c, ... FROM verdicts WHERE ... ORDER BY received, id" */
static int
prepare_query(sqlite3 *db, bool by_domain, sqlite3_stmt **st)
{
	struct strbuf sql = STRBUF_INIT;
	size_t i;
	int rc;

	strbuf_appends(&sql, "SELECT id");
	for (i = 0; i < store_ncolumns; i++)
		strbuf_appendf(&sql, ", %s", store_columns[i].name);
	/* The day bounds let a query for all domains use the day index. */
	strbuf_appends(&sql, " FROM verdicts WHERE day >= ?1 AND day <= ?2 "
	    "AND received >= ?3 AND received < ?4");
	if (by_domain)
		strbuf_appends(&sql, " AND policy_domain = ?5");
	strbuf_appends(&sql, " ORDER BY received, id");
	rc = strbuf_failed(&sql) ? SQLITE_NOMEM :
	    sqlite3_prepare_v2(db, strbuf_cstr(&sql), -1, st, NULL);
	strbuf_release(&sql);
	return rc;
}

/* Fill rec from the current row; the name of a bad column, or NULL. */
static const char *
decode_row(sqlite3_stmt *st, struct store_record *rec)
{
	const struct store_column *c;
	size_t i;
	int col;

	memset(rec, 0, sizeof(*rec));
	for (i = 0; i < store_ncolumns; i++) {
		c = &store_columns[i];
		col = (int)i + 1;
		if (c->type == STORE_COL_TEXT || c->type == STORE_COL_DKIM) {
			const unsigned char *t = sqlite3_column_text(st, col);
			size_t len = (size_t)sqlite3_column_bytes(st, col);

			if (store_column_set(c, rec, t != NULL ?
			    (const char *)t : "", t != NULL ? len : 0, 0) == -1)
				return c->name;
		} else if (store_column_set(c, rec, NULL, 0,
		    sqlite3_column_int64(st, col)) == -1)
			return c->name;
	}
	return NULL;
}

static enum store_status
sqlite_query(void *arg, const char *domain, time_t from, time_t to,
    store_verdict_cb cb, void *ctx, struct strbuf *err)
{
	struct sqlite_be *be = arg;
	struct store_record *rec = NULL;
	enum store_status status = STORE_ERR_READ;
	sqlite3_stmt *st = NULL;
	const char *bad;
	sqlite3 *db;
	int rc;

	if (to <= from)
		return STORE_OK;
	if ((db = connect_db(be->path, false, be->busy_ms, &status, err)) ==
	    NULL)
		return STORE_ERR_READ;
	if ((rec = mem_alloc(sizeof(*rec))) == NULL) {
		strbuf_appendf(err, "%s: out of memory", be->path);
		status = STORE_ERR_NOMEM;
		goto done;
	}
	if ((rc = prepare_query(db, domain != NULL, &st)) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, store_day(from));
	sqlite3_bind_int64(st, 2, store_day(to));
	sqlite3_bind_int64(st, 3, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)to);
	if (domain != NULL)
		sqlite3_bind_text(st, 5, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((bad = decode_row(st, rec)) != NULL) {
			strbuf_appendf(err, "%s: verdict row %lld: column %s "
			    "does not decode", be->path,
			    (long long)sqlite3_column_int64(st, 0), bad);
			goto done;
		}
		if (cb(rec, ctx) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	status = STORE_OK;
	goto done;

fail:
	strbuf_appendf(err, "%s: cannot read the verdicts: ", be->path);
	append_reason(err, rc == SQLITE_NOMEM ? NULL : db);
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	mem_free(rec);
	return status;
}

/* Step a statement that returns no row; SQLITE_OK or the error. */
static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * The claim in one BEGIN IMMEDIATE transaction: the write lock is taken
 * before the row is read, so two claimers are serialized and only the
 * first sees the row free (or stale).
 */
static enum store_claim
sqlite_report_claim(void *arg, const char *domain, time_t begin,
    const char *report_id, const char *node, time_t now,
    unsigned stale_after_s, struct strbuf *err)
{
	struct sqlite_be *be = arg;
	enum store_claim claim = STORE_CLAIM_ERROR;
	enum store_status st;
	sqlite3_stmt *sel = NULL, *put = NULL;
	const unsigned char *state, *holder;
	sqlite3 *db;
	bool take;
	int rc;

	if ((db = connect_db(be->path, false, be->busy_ms, &st, err)) == NULL)
		return STORE_CLAIM_ERROR;
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(db, "SELECT state, node, claimed_at "
	    "FROM reports_sent WHERE policy_domain = ?1 AND "
	    "period_begin = ?2", -1, &sel, NULL)) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(sel, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(sel, 2, (sqlite3_int64)begin);
	if ((rc = sqlite3_step(sel)) == SQLITE_DONE) {
		rc = sqlite3_prepare_v2(db, "INSERT INTO reports_sent "
		    "(policy_domain, period_begin, report_id, state, node, "
		    "claimed_at, attempts) VALUES (?1, ?2, ?3, 'claimed', ?4, "
		    "?5, 1)", -1, &put, NULL);
		claim = STORE_CLAIM_OK;
	} else if (rc == SQLITE_ROW) {
		state = sqlite3_column_text(sel, 0);
		holder = sqlite3_column_text(sel, 1);
		take = state != NULL && strcmp((const char *)state,
		    "claimed") == 0 && ((holder != NULL &&
		    strcmp((const char *)holder, node) == 0) ||
		    sqlite3_column_int64(sel, 2) <
		    (sqlite3_int64)now - (sqlite3_int64)stale_after_s);
		if (state != NULL && strcmp((const char *)state, "sent") == 0)
			claim = STORE_CLAIM_SENT;
		else if (!take)
			claim = STORE_CLAIM_BUSY;
		else {
			rc = sqlite3_prepare_v2(db, "UPDATE reports_sent SET "
			    "report_id = ?3, node = ?4, claimed_at = ?5, "
			    "attempts = attempts + 1 WHERE policy_domain = ?1 "
			    "AND period_begin = ?2", -1, &put, NULL);
			claim = STORE_CLAIM_OK;
		}
		if (claim == STORE_CLAIM_OK && rc != SQLITE_OK)
			goto fail;
		rc = SQLITE_OK;
	} else
		goto fail;
	if (rc != SQLITE_OK)
		goto fail;
	if (put != NULL) {
		sqlite3_bind_text(put, 1, domain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 2, (sqlite3_int64)begin);
		sqlite3_bind_text(put, 3, report_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 4, node, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 5, (sqlite3_int64)now);
		if ((rc = step_done(put)) != SQLITE_OK)
			goto fail;
	}
	if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
		goto fail;
	goto done;

fail:
	strbuf_appendf(err, "%s: cannot claim the report of %s: ", be->path,
	    domain);
	append_reason(err, rc == SQLITE_NOMEM ? NULL : db);
	claim = STORE_CLAIM_ERROR;
done:
	sqlite3_finalize(sel);
	sqlite3_finalize(put);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return claim;
}

static enum store_status
sqlite_report_mark_sent(void *arg, const char *domain, time_t begin,
    time_t now, struct strbuf *err)
{
	struct sqlite_be *be = arg;
	enum store_status st;
	sqlite3_stmt *up = NULL;
	sqlite3 *db;
	int rc;

	if ((db = connect_db(be->path, false, be->busy_ms, &st, err)) == NULL)
		return STORE_ERR_WRITE;
	rc = sqlite3_prepare_v2(db, "UPDATE reports_sent SET state = 'sent', "
	    "sent_at = ?3 WHERE policy_domain = ?1 AND period_begin = ?2", -1,
	    &up, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(up, 1, domain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, (sqlite3_int64)begin);
		sqlite3_bind_int64(up, 3, (sqlite3_int64)now);
		rc = step_done(up);
	}
	if (rc != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot mark the report of %s sent: ",
		    be->path, domain);
		append_reason(err, db);
		st = STORE_ERR_WRITE;
	} else if (sqlite3_changes(db) != 1) {
		strbuf_appendf(err, "%s: cannot mark the report of %s sent: "
		    "it is not claimed", be->path, domain);
		st = STORE_ERR_WRITE;
	} else
		st = STORE_OK;
	sqlite3_finalize(up);
	sqlite3_close(db);
	return st;
}

/* Run sql with ?1 = day (or the period begin) and give its count or
 * its number of changed rows in *n. */
static int
expire_one(sqlite3 *db, const char *sql, int64_t arg, bool count,
    uint64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)arg);
	rc = sqlite3_step(st);
	if (count && rc == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (!count && rc == SQLITE_DONE) {
		*n = (uint64_t)sqlite3_changes(db);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static enum store_status
sqlite_expire(void *arg, int64_t before_day, bool dry_run,
    uint64_t *verdicts, uint64_t *reports, struct strbuf *err)
{
	struct sqlite_be *be = arg;
	enum store_status st;
	sqlite3 *db;
	int rc;

	*verdicts = *reports = 0;
	if ((db = connect_db(be->path, false, be->busy_ms, &st, err)) == NULL)
		return dry_run ? STORE_ERR_READ : STORE_ERR_WRITE;
	if ((rc = sqlite3_exec(db, dry_run ? "BEGIN" : "BEGIN IMMEDIATE", NULL,
	    NULL, NULL)) == SQLITE_OK &&
	    (rc = expire_one(db, dry_run ?
	    "SELECT COUNT(*) FROM verdicts WHERE day < ?1" :
	    "DELETE FROM verdicts WHERE day < ?1", before_day, dry_run,
	    verdicts)) == SQLITE_OK &&
	    (rc = expire_one(db, dry_run ?
	    "SELECT COUNT(*) FROM reports_sent WHERE period_begin < ?1" :
	    "DELETE FROM reports_sent WHERE period_begin < ?1",
	    before_day * 86400, dry_run, reports)) == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot expire old rows: ", be->path);
		append_reason(err, rc == SQLITE_NOMEM ? NULL : db);
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		*verdicts = *reports = 0;
	}
	sqlite3_close(db);
	return rc == SQLITE_OK ? STORE_OK :
	    dry_run ? STORE_ERR_READ : STORE_ERR_WRITE;
}

/* flock(2) on "<database>.report-lock": released when the descriptor is
 * closed, so also when the process dies. */
static enum store_claim
sqlite_report_lock(void *arg, const char *node, struct strbuf *what,
    struct strbuf *err)
{
	struct sqlite_be *be = arg;
	struct strbuf path = STRBUF_INIT;
	enum store_claim c = STORE_CLAIM_ERROR;
	int fd;

	(void)node;	/* one database file per node */
	strbuf_appendf(&path, "%s.report-lock", be->path);
	strbuf_appends(what, strbuf_cstr(&path));
	if (be->lock_fd >= 0) {
		c = STORE_CLAIM_OK;
		goto out;
	}
	if (strbuf_failed(&path)) {
		strbuf_appendf(err, "%s: out of memory", be->path);
		goto out;
	}
	if ((fd = open(strbuf_cstr(&path), O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0600)) < 0) {
		strbuf_appendf(err, "%s: %s", strbuf_cstr(&path),
		    strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		be->lock_fd = fd;
		c = STORE_CLAIM_OK;
		goto out;
	}
	if (errno == EWOULDBLOCK)
		c = STORE_CLAIM_BUSY;
	else
		strbuf_appendf(err, "%s: flock: %s", strbuf_cstr(&path),
		    strerror(errno));
	close(fd);
out:
	strbuf_release(&path);
	return c;
}

static void
sqlite_close(void *arg)
{
	struct sqlite_be *be = arg;

	if (be == NULL)
		return;
	sqlite3_finalize(be->insert);
	sqlite3_finalize(be->begin);
	sqlite3_finalize(be->commit);
	/* The last connection to close checkpoints and removes the WAL. */
	sqlite3_close(be->db);
	if (be->lock_fd >= 0)
		close(be->lock_fd);
	strbuf_release(&be->scratch);
	mem_free(be->path);
	mem_free(be);
}

const struct store_backend store_backend_sqlite = {
	"sqlite",
	sqlite_open,
	sqlite_write,
	sqlite_count,
	sqlite_query,
	sqlite_close,
	sqlite_report_claim,
	sqlite_report_mark_sent,
	sqlite_expire,
	sqlite_report_lock,
};
