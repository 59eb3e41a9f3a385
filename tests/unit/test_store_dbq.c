/*
 * test_store_dbq.c - store/dbq.h on SQLite: parameters, NULLs, changed
 * rows, the unique-key status, a read-only connection that refuses a
 * write, the work budget (DBQ_STOPPED), and URIs it refuses.  The
 * PostgreSQL side runs in tests/web/test_api_pgsql.sh and
 * tests/ingest/test_alerts_pgsql.sh against a real server.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/dbq.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/dmarcd-dbq.XXXXXX", path[128], uri[160];
	struct strbuf err = STRBUF_INIT;
	struct dbq_param b[3];
	struct dbq *db, *ro;
	struct dbq_rows *r;
	int64_t changed = -1;
	int n;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: cannot create %s\n", dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/h.sqlite", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s", path);
	/* The file must exist: dbq never creates the schema, but SQLite
	 * makes an empty file on a read-write open. */
	fclose(fopen(path, "w"));

	db = dbq_open(uri, true, 500, &err);
	tap_ok(db != NULL, "open sqlite:// read-write (%s)", strbuf_cstr(&err));
	if (db == NULL)
		return tap_done();
	tap_ok(!dbq_is_pgsql(db) && strcmp(dbq_label(db), path) == 0,
	    "label: the file's path");
	tap_int(dbq_exec(db, "CREATE TABLE t (k TEXT UNIQUE, v INTEGER, "
	    "note TEXT)", NULL, 0, NULL), DBQ_OK, "create a table");
	b[0] = dbq_param_text("a?1");
	b[1] = dbq_param_int(-42);
	b[2] = dbq_param_text("it's");
	tap_int(dbq_exec(db, "INSERT INTO t VALUES (?1, ?2, ?3)", b, 3,
	    &changed), DBQ_OK, "insert with bound text and integer");
	tap_int(changed, 1, "one row changed");
	b[0] = dbq_param_text("b");
	tap_int(dbq_exec(db, "INSERT INTO t (k) VALUES (?1)", b, 1, NULL),
	    DBQ_OK, "insert with NULLs");
	b[0] = dbq_param_text("a?1");
	tap_int(dbq_exec(db, "INSERT INTO t (k) VALUES (?1)", b, 1, NULL),
	    DBQ_CONSTRAINT, "a taken unique key: DBQ_CONSTRAINT");

	r = dbq_query(db, "SELECT k, v, note, '?2 stays' FROM t ORDER BY k",
	    NULL, 0);
	tap_ok(r != NULL, "query");
	n = 0;
	while (r != NULL && dbq_next(r)) {
		if (n == 0) {
			tap_str(dbq_text(r, 0), "a?1", "row 1: text");
			tap_int(dbq_int(r, 1), -42, "row 1: integer");
			tap_str(dbq_text(r, 2), "it's", "row 1: quote kept");
			tap_str(dbq_text(r, 3), "?2 stays",
			    "a '?2' inside a literal is not a placeholder");
		} else {
			tap_str(dbq_text(r, 2), "", "row 2: NULL text reads \"\"");
			tap_int(dbq_int(r, 1), 0, "row 2: NULL integer reads 0");
		}
		n++;
	}
	tap_ok(r != NULL && !dbq_rows_failed(r), "rows read to the end");
	tap_int(n, 2, "two rows");
	dbq_rows_free(r);

	b[0] = dbq_param_int(7);
	b[1] = dbq_param_text("b");
	tap_int(dbq_exec(db, "UPDATE t SET v = ?1 WHERE k = ?2", b, 2,
	    &changed), DBQ_OK, "update");
	tap_int(changed, 1, "update: one row changed");
	b[1] = dbq_param_text("none");
	dbq_exec(db, "UPDATE t SET v = ?1 WHERE k = ?2", b, 2, &changed);
	tap_int(changed, 0, "update of no row: none changed");

	tap_ok(dbq_query(db, "SELECT nope FROM t", NULL, 0) == NULL &&
	    dbq_status(db) == DBQ_ERR && strstr(dbq_errmsg(db), "nope") !=
	    NULL, "a bad statement: DBQ_ERR naming the column (%s)",
	    dbq_errmsg(db));

	strbuf_reset(&err);
	ro = dbq_open(path, false, 500, &err);
	tap_ok(ro != NULL, "open a plain path read-only");
	if (ro != NULL) {
		b[0] = dbq_param_text("c");
		tap_int(dbq_exec(ro, "INSERT INTO t (k) VALUES (?1)", b, 1,
		    NULL), DBQ_ERR, "read-only: a write fails");
		/* A query that would run for minutes, stopped by the work
		 * budget (the progress handler). */
		dbq_deadline(ro, 50);
		r = dbq_query(ro, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
		    "SELECT x + 1 FROM c) SELECT count(*) FROM c", NULL, 0);
		tap_ok(r != NULL && !dbq_next(r) && dbq_rows_failed(r) &&
		    dbq_status(ro) == DBQ_STOPPED,
		    "past the deadline: DBQ_STOPPED");
		dbq_rows_free(r);
		dbq_close(ro);
	}
	dbq_close(db);

	strbuf_reset(&err);
	tap_ok(dbq_open("mysql://x/y", false, 500, &err) == NULL &&
	    strstr(strbuf_cstr(&err), "mysql://x/y") != NULL,
	    "an unknown scheme is refused, named (%s)", strbuf_cstr(&err));
	strbuf_reset(&err);
	tap_ok(dbq_open("sqlite://", false, 500, &err) == NULL &&
	    strstr(strbuf_cstr(&err), "no file name") != NULL,
	    "sqlite:// without a path is refused");
	strbuf_reset(&err);
	snprintf(uri, sizeof(uri), "%s/missing.sqlite", dir);
	tap_ok(dbq_open(uri, false, 500, &err) == NULL &&
	    strstr(strbuf_cstr(&err), "missing.sqlite") != NULL,
	    "a missing file is refused, named");
	tap_ok(dbq_uri_is_pgsql("postgresql://u@h/d") &&
	    dbq_uri_is_pgsql("postgres://h/d") &&
	    !dbq_uri_is_pgsql("/var/lib/dmarcd/postgres.sqlite"),
	    "PostgreSQL URIs told apart");

	strbuf_release(&err);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
