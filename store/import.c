/*
 * import.c - received aggregate reports into schema version 3
 * (agg_reports, agg_records; schema.c).
 *
 * The import runs in its own process (dmarcctl import), on its own
 * connection, outside the verdict writer thread: a report is one
 * transaction that may hold hundreds of thousands of rows, committed
 * once at its end, so a report is stored whole or not at all.
 * Idempotence: INSERT OR IGNORE on UNIQUE (org_name, report_id,
 * domain); no row inserted means a duplicate.  PostgreSQL: not yet.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/import.h"

struct store_importer {
	char		*path;
	sqlite3		*db;
	sqlite3_stmt	*ins_report, *ins_record, *upd_count;
	sqlite3_int64	 report;
	bool		 open;
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
		strbuf_appends(err, "importing into PostgreSQL is not yet "
		    "supported: use a SQLite HistoryDatabase");
		*st = STORE_ERR_CONFIG;
		return NULL;
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
	if (sqlite3_open_v2(path, &im->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		strbuf_appendf(err, "%s: cannot open: %s", path,
		    im->db ? sqlite3_errmsg(im->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(im->db, STORE_BUSY_MS);
	sqlite3_exec(im->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
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
	    "WHERE id = ?2", -1, &im->upd_count, NULL) != SQLITE_OK) {
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
	if (im->open)
		sqlite3_exec(im->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(im->ins_report);
	sqlite3_finalize(im->ins_record);
	sqlite3_finalize(im->upd_count);
	sqlite3_close(im->db);
	free(im->path);
	free(im);
}

static void
bind_s(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
}

enum store_status
store_import_begin(struct store_importer *im,
    const struct store_agg_report *r, bool *duplicate, struct strbuf *err)
{
	sqlite3_stmt *st = im->ins_report;
	int rc;

	*duplicate = false;
	if (sqlite3_exec(im->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return dberr(im, "cannot begin", err);
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

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, im->report);
	bind_s(st, 2, c->source_ip);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(c->count > INT64_MAX ?
	    INT64_MAX : c->count));
	bind_s(st, 4, c->disposition);
	bind_s(st, 5, c->eval_dkim);
	bind_s(st, 6, c->eval_spf);
	bind_s(st, 7, c->reasons);
	bind_s(st, 8, c->header_from);
	bind_s(st, 9, c->envelope_from);
	bind_s(st, 10, c->envelope_to);
	bind_s(st, 11, c->spf_results);
	bind_s(st, 12, c->dkim_results);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dberr(im, "cannot store a record", err);
	return STORE_OK;
}

enum store_status
store_import_end(struct store_importer *im, bool commit, uint64_t nrecords,
    struct strbuf *err)
{
	if (!im->open)
		return STORE_OK;
	im->open = false;
	if (commit) {
		sqlite3_reset(im->upd_count);
		sqlite3_bind_int64(im->upd_count, 1, (sqlite3_int64)nrecords);
		sqlite3_bind_int64(im->upd_count, 2, im->report);
		if (sqlite3_step(im->upd_count) == SQLITE_DONE &&
		    sqlite3_exec(im->db, "COMMIT", NULL, NULL, NULL) ==
		    SQLITE_OK)
			return STORE_OK;
		if (err != NULL)
			dberr(im, "cannot commit the report", err);
	}
	sqlite3_exec(im->db, "ROLLBACK", NULL, NULL, NULL);
	return commit ? STORE_ERR_WRITE : STORE_OK;
}
