/*
 * import.c - received aggregate reports into schema version 3
 * (agg_reports, agg_records; schema.c), failure reports, owned domains
 * and reverse DNS into version 4 (failure_reports, owned_domains,
 * rdns).  This file is the SQLite side; a postgresql:// URI is handed
 * to import_pg.c, which keeps the same contract.
 *
 * The import runs in its own process (dmarcctl import), on its own
 * connection, outside the verdict writer thread: a report is one
 * transaction that may hold hundreds of thousands of rows, committed
 * once at its end, so a report is stored whole or not at all.  In
 * batch mode (store_importer_set_batch()) the transaction is the batch
 * and each report a SAVEPOINT in it: a report still goes in whole or
 * not at all, and the batch is on disk when store_import_flush()
 * returns.
 * Idempotence: INSERT OR IGNORE on UNIQUE (org_name, report_id,
 * domain) (and UNIQUE report_key for failure reports); no row
 * inserted means a duplicate.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/import.h"
#include "store/import_pg.h"

struct store_importer {
	char		*path;
	sqlite3		*db;
	sqlite3_stmt	*ins_report, *ins_record, *upd_count;
	sqlite3_stmt	*ins_failure, *rdns_get, *rdns_put;
	sqlite3_stmt	*begin, *commit, *rollback;
	sqlite3_stmt	*save, *release, *undo;
	sqlite3_int64	 report;
	bool		 open;		/* a report (or its savepoint) */
	bool		 batch, txn;	/* batch mode; its transaction open */
	struct import_pg *pg;		/* PostgreSQL: everything goes there */
};

static enum store_status
dberr(struct store_importer *im, const char *what, struct strbuf *err)
{
	strbuf_appendf(err, "%s: %s: %s", im->path, what,
	    sqlite3_errmsg(im->db));
	return STORE_ERR_WRITE;
}

struct store_importer *
store_importer_open(const char *uri, enum store_status *st,
    struct strbuf *err)
{
	struct store_importer *im = NULL;
	struct store *s;
	const char *path = uri;

	/* store_open() validates the URI, creates and migrates. */
	if ((s = store_open(uri, STORE_DURABILITY_RELAXED, st, err)) == NULL)
		return NULL;
	store_close(s);
	if (strncmp(uri, "postgres", 8) == 0) {
		if ((im = calloc(1, sizeof(*im))) == NULL) {
			*st = STORE_ERR_NOMEM;
			return NULL;
		}
		if ((im->pg = import_pg_open(uri, st, err)) == NULL) {
			free(im);
			return NULL;
		}
		*st = STORE_OK;
		return im;
	}
	if (strncmp(path, "sqlite://", 9) == 0)
		path += 9;
	else if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	if ((im = calloc(1, sizeof(*im))) == NULL ||
	    (im->path = strdup(path)) == NULL) {
		free(im);
		*st = STORE_ERR_NOMEM;
		return NULL;
	}
	*st = STORE_ERR_OPEN;
	/* one thread uses the connection: no mutex (3.5 % of a large
	 * report's import was pthread_mutex_lock/unlock) */
	if (sqlite3_open_v2(path, &im->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot open: %s", path,
		    im->db ? sqlite3_errmsg(im->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(im->db, STORE_BUSY_MS);
	/* foreign_keys stays off on this connection: the only child rows
	 * it writes are agg_records under the agg_reports row it has just
	 * inserted, and the check (a parent lookup and a statement journal
	 * per record) was a tenth of a large report's import */
	if (sqlite3_prepare_v2(im->db, "INSERT OR IGNORE INTO agg_reports "
	    "(org_name, email, extra_contact, report_id, domain, begin_ts, "
	    "end_ts, version, adkim, aspf, p, sp, np, pct, fo, testing, "
	    "discovery_method, imported_at, source) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "strftime('%s', 'now'), ?18)", -1, &im->ins_report, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "INSERT INTO agg_records (report, "
	    "source_ip, count, disposition, eval_dkim, eval_spf, reasons, "
	    "header_from, envelope_from, envelope_to, spf_results, "
	    "dkim_results) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	    "?11, ?12)", -1, &im->ins_record, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "UPDATE agg_reports SET nrecords = ?1 "
	    "WHERE id = ?2", -1, &im->upd_count, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "INSERT OR IGNORE INTO failure_reports "
	    "(report_key, reporter, reported_domain, arrival_ts, source_ip, "
	    "feedback_type, auth_failure, identity_alignment, "
	    "delivery_result, dkim_domain, dkim_selector, dkim_identity, "
	    "spf_dns, original_mail_from, original_rcpt_to, "
	    "original_envelope_id, header_from, subject, message_id, "
	    "user_agent, headers, imported_at, source) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "?18, ?19, ?20, ?21, strftime('%s', 'now'), ?22)", -1,
	    &im->ins_failure, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "SELECT resolved_at FROM rdns WHERE "
	    "ip = ?1", -1, &im->rdns_get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "INSERT OR REPLACE INTO rdns (ip, ptr, "
	    "org, status, resolved_at) VALUES (?1, ?2, ?3, ?4, ?5)", -1,
	    &im->rdns_put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "BEGIN IMMEDIATE", -1, &im->begin,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "COMMIT", -1, &im->commit, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "ROLLBACK", -1, &im->rollback, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "SAVEPOINT report", -1, &im->save,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "RELEASE report", -1, &im->release,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(im->db, "ROLLBACK TO report", -1, &im->undo,
	    NULL) != SQLITE_OK) {
		strbuf_appendf(err, "%s: %s", path, sqlite3_errmsg(im->db));
		*st = STORE_ERR_SCHEMA;
		goto fail;
	}
	*st = STORE_OK;
	return im;
fail:
	store_importer_close(im);
	return NULL;
}

void
store_importer_close(struct store_importer *im)
{
	if (im == NULL)
		return;
	import_pg_close(im->pg);
	if (im->open || im->txn)
		sqlite3_exec(im->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(im->ins_report);
	sqlite3_finalize(im->ins_record);
	sqlite3_finalize(im->upd_count);
	sqlite3_finalize(im->ins_failure);
	sqlite3_finalize(im->rdns_get);
	sqlite3_finalize(im->rdns_put);
	sqlite3_finalize(im->begin);
	sqlite3_finalize(im->commit);
	sqlite3_finalize(im->rollback);
	sqlite3_finalize(im->save);
	sqlite3_finalize(im->release);
	sqlite3_finalize(im->undo);
	sqlite3_close(im->db);
	free(im->path);
	free(im);
}

enum store_status
store_importer_set_durability(struct store_importer *im,
    enum store_durability d, struct strbuf *err)
{
	bool relaxed = d == STORE_DURABILITY_RELAXED;

	if (im->pg != NULL)
		return import_pg_set_durability(im->pg, relaxed, err);
	/* the history is in WAL mode (sqlite.c): NORMAL fsyncs the WAL at
	 * checkpoints only, and a crash of the process loses nothing */
	if (sqlite3_exec(im->db, relaxed ? "PRAGMA synchronous = NORMAL" :
	    "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot set synchronous: %s", im->path,
		    sqlite3_errmsg(im->db));
		return STORE_ERR_CONFIG;
	}
	return STORE_OK;
}

/* Step a prepared transaction statement: true when done. */
static bool
step0(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE;
}

void
store_importer_set_batch(struct store_importer *im, bool on)
{
	if (im->pg != NULL)
		import_pg_set_batch(im->pg, on);
	else
		im->batch = on;
}

bool
store_import_pending(const struct store_importer *im)
{
	return im->pg != NULL ? import_pg_pending(im->pg) : im->txn;
}

enum store_status
store_import_flush(struct store_importer *im, struct strbuf *err)
{
	if (im->pg != NULL)
		return import_pg_flush(im->pg, err);
	if (!im->txn)
		return STORE_OK;
	im->txn = false;
	if (step0(im->commit))
		return STORE_OK;
	dberr(im, "cannot commit the batch", err);
	if (!sqlite3_get_autocommit(im->db))
		step0(im->rollback);
	return STORE_ERR_WRITE;
}

/* A report's transaction: its own, or a savepoint in the batch's. */
static enum store_status
report_open(struct store_importer *im, struct strbuf *err)
{
	if (!im->batch) {
		if (!step0(im->begin))
			return dberr(im, "cannot begin", err);
		return STORE_OK;
	}
	if (!im->txn) {
		if (!step0(im->begin))
			return dberr(im, "cannot begin", err);
		im->txn = true;
	}
	if (!step0(im->save))
		return dberr(im, "cannot begin the report", err);
	return STORE_OK;
}

/* Keep (commit) or undo the open report. */
static bool
report_close(struct store_importer *im, bool keep)
{
	if (!im->batch)
		return step0(keep ? im->commit : im->rollback);
	if (!keep)
		step0(im->undo);
	return step0(im->release);
}

static void
bind_s(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
}

/* Not copied: for a statement stepped and reset before v changes. */
static void
bind_static(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_STATIC);
}

enum store_status
store_import_begin(struct store_importer *im,
    const struct store_agg_report *r, bool *duplicate, struct strbuf *err)
{
	sqlite3_stmt *st = im->ins_report;
	int rc;

	*duplicate = false;
	if (im->pg != NULL)
		return import_pg_begin(im->pg, r, duplicate, err);
	if (report_open(im, err) != STORE_OK)
		return STORE_ERR_WRITE;
	im->open = true;
	sqlite3_reset(st);
	bind_s(st, 1, r->org_name);
	bind_s(st, 2, r->email);
	bind_s(st, 3, r->extra_contact);
	bind_s(st, 4, r->report_id);
	bind_s(st, 5, r->domain);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->begin);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->end);
	bind_s(st, 8, r->version);
	bind_s(st, 9, r->adkim);
	bind_s(st, 10, r->aspf);
	bind_s(st, 11, r->p);
	bind_s(st, 12, r->sp);
	bind_s(st, 13, r->np);
	sqlite3_bind_int(st, 14, r->pct);
	bind_s(st, 15, r->fo);
	bind_s(st, 16, r->testing);
	bind_s(st, 17, r->discovery_method);
	bind_s(st, 18, r->source);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		dberr(im, "cannot store the report", err);
		store_import_end(im, false, 0, NULL);
		return STORE_ERR_WRITE;
	}
	if (sqlite3_changes(im->db) == 0) {
		*duplicate = true;
		return store_import_end(im, false, 0, err);
	}
	im->report = sqlite3_last_insert_rowid(im->db);
	return STORE_OK;
}

enum store_status
store_import_record(struct store_importer *im,
    const struct store_agg_record *c, struct strbuf *err)
{
	sqlite3_stmt *st = im->ins_record;
	int rc;

	if (im->pg != NULL)
		return import_pg_record(im->pg, c, err);
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, im->report);
	bind_static(st, 2, c->source_ip);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(c->count > INT64_MAX ?
	    INT64_MAX : c->count));
	bind_static(st, 4, c->disposition);
	bind_static(st, 5, c->eval_dkim);
	bind_static(st, 6, c->eval_spf);
	bind_static(st, 7, c->reasons);
	bind_static(st, 8, c->header_from);
	bind_static(st, 9, c->envelope_from);
	bind_static(st, 10, c->envelope_to);
	bind_static(st, 11, c->spf_results);
	bind_static(st, 12, c->dkim_results);
	/* the record's strings are the parser's, valid during this call:
	 * bound without a copy, and the statement reset before returning */
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dberr(im, "cannot store a record", err);
	return STORE_OK;
}

enum store_status
store_import_end(struct store_importer *im, bool commit, uint64_t nrecords,
    struct strbuf *err)
{
	if (im->pg != NULL)
		return import_pg_end(im->pg, commit, nrecords, err);
	if (!im->open)
		return STORE_OK;
	im->open = false;
	if (commit) {
		sqlite3_reset(im->upd_count);
		sqlite3_bind_int64(im->upd_count, 1, (sqlite3_int64)nrecords);
		sqlite3_bind_int64(im->upd_count, 2, im->report);
		if (sqlite3_step(im->upd_count) == SQLITE_DONE &&
		    report_close(im, true))
			return STORE_OK;
		if (err != NULL)
			dberr(im, "cannot commit the report", err);
	}
	/* a report's failed COMMIT leaves its transaction open; in batch
	 * mode its savepoint is undone and released */
	if (!im->batch && !sqlite3_get_autocommit(im->db))
		step0(im->rollback);
	else if (im->batch)
		report_close(im, false);
	return commit ? STORE_ERR_WRITE : STORE_OK;
}

enum store_status
store_import_failure(struct store_importer *im,
    const struct store_failure_report *f, bool *duplicate,
    struct strbuf *err)
{
	sqlite3_stmt *st = im->ins_failure;
	const char *const v[] = { f->report_key, f->reporter,
	    f->reported_domain, NULL, f->source_ip, f->feedback_type,
	    f->auth_failure, f->identity_alignment, f->delivery_result,
	    f->dkim_domain, f->dkim_selector, f->dkim_identity, f->spf_dns,
	    f->original_mail_from, f->original_rcpt_to,
	    f->original_envelope_id, f->header_from, f->subject,
	    f->message_id, f->user_agent, f->headers, f->source };
	int i;

	*duplicate = false;
	if (im->pg != NULL)
		return import_pg_failure(im->pg, f, duplicate, err);
	sqlite3_reset(st);
	for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++)
		if (i != 3)
			bind_s(st, i + 1, v[i]);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)f->arrival);
	/* one statement: its own implicit transaction, or in batch mode
	 * part of the batch's (a failed statement undoes itself alone) */
	if (im->batch && !im->txn) {
		if (!step0(im->begin))
			return dberr(im, "cannot begin", err);
		im->txn = true;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		dberr(im, "cannot store the failure report", err);
		sqlite3_reset(st);
		return STORE_ERR_WRITE;
	}
	*duplicate = sqlite3_changes(im->db) == 0;
	sqlite3_reset(st);
	return STORE_OK;
}

static enum store_status
exec1(struct store_importer *im, const char *sql, const char *a,
    const char *b, bool *changed, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(im->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dberr(im, "cannot prepare", err);
	bind_s(st, 1, a);
	if (b != NULL)
		bind_s(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(im, "cannot write owned_domains", err);
	*changed = sqlite3_changes(im->db) > 0;
	return STORE_OK;
}

enum store_status
store_owned_add(struct store_importer *im, const char *domain,
    const char *note, bool *changed, struct strbuf *err)
{
	if (im->pg != NULL)
		return import_pg_owned_add(im->pg, domain, note, changed, err);
	return exec1(im, "INSERT OR IGNORE INTO owned_domains (domain, "
	    "added_at, note) VALUES (?1, strftime('%s', 'now'), ?2)",
	    domain, note != NULL ? note : "", changed, err);
}

enum store_status
store_owned_remove(struct store_importer *im, const char *domain,
    bool *changed, struct strbuf *err)
{
	if (im->pg != NULL)
		return import_pg_owned_remove(im->pg, domain, changed, err);
	return exec1(im, "DELETE FROM owned_domains WHERE domain = ?1",
	    domain, NULL, changed, err);
}

enum store_status
store_owned_list(struct store_importer *im, void (*cb)(const char *,
    time_t, const char *, void *), void *ctx, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (im->pg != NULL)
		return import_pg_owned_list(im->pg, cb, ctx, err);
	if (sqlite3_prepare_v2(im->db, "SELECT domain, added_at, note FROM "
	    "owned_domains ORDER BY domain", -1, &st, NULL) != SQLITE_OK)
		return dberr(im, "cannot read owned_domains", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		    (time_t)sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2), ctx);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(im, "cannot read owned_domains", err);
	return STORE_OK;
}

enum store_status
store_rdns_get(struct store_importer *im, const char *ip, bool *found,
    time_t *resolved_at, struct strbuf *err)
{
	sqlite3_stmt *st = im->rdns_get;
	int rc;

	*found = false;
	if (im->pg != NULL)
		return import_pg_rdns_get(im->pg, ip, found, resolved_at, err);
	sqlite3_reset(st);
	bind_s(st, 1, ip);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = true;
		*resolved_at = (time_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(im, "cannot read rdns", err);
	return STORE_OK;
}

enum store_status
store_rdns_put(struct store_importer *im, const char *ip, const char *ptr,
    const char *org, const char *status, time_t resolved_at,
    struct strbuf *err)
{
	sqlite3_stmt *st = im->rdns_put;

	if (im->pg != NULL)
		return import_pg_rdns_put(im->pg, ip, ptr, org, status,
		    resolved_at, err);
	sqlite3_reset(st);
	bind_s(st, 1, ip);
	bind_s(st, 2, ptr);
	bind_s(st, 3, org);
	bind_s(st, 4, status);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)resolved_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dberr(im, "cannot write rdns", err);
	return STORE_OK;
}
