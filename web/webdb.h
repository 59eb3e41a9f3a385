/*
 * webdb.h - one database connection of dmarcctl serve and dmarcctl
 * token, over SQLite or PostgreSQL, with the same SQL on both.
 *
 * SQL is written once, in the dialect both accept, with numbered
 * placeholders "?1", "?2"... (rewritten to "$1"... for PostgreSQL; a
 * '?' inside a quoted literal is left alone).  Values are always bound,
 * never spliced.  Every column is read back as text or as a 64-bit
 * integer; NULL reads as "" or 0.
 *
 * The work of one request is bounded: webdb_deadline() starts a budget
 * that SQLite enforces with its progress handler and PostgreSQL with
 * statement_timeout plus a client-side wait (store/pgwait.h), so that a
 * frozen server costs one bounded wait, not a hung thread.  After such
 * a wait the connection is dropped (webdb_is_broken): the caller opens
 * a new one for its next request.
 */
#ifndef DM_WEB_WEBDB_H
#define DM_WEB_WEBDB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

enum webdb_status {
	WEBDB_OK,
	WEBDB_ERR,		/* the statement failed: webdb_errmsg() */
	WEBDB_STOPPED,		/* the work budget ran out */
	WEBDB_UNAVAILABLE,	/* no connection, or no answer in time */
	WEBDB_CONSTRAINT	/* a unique key was already taken */
};

struct webdb_param {
	const char *s;		/* text when is_text, borrowed */
	int64_t	 i;
	bool	 is_text;
};

struct webdb;
struct webdb_rows;

/* True when uri names a PostgreSQL database (postgres[ql]://...). */
bool	 webdb_uri_is_pgsql(const char *uri);

/*
 * Open the HistoryDatabase uri (a SQLite path, "sqlite:PATH",
 * "sqlite://PATH", or a PostgreSQL URI): read-only unless writable.
 * timeout_ms bounds each statement (PostgreSQL) or the wait for a
 * lock (SQLite).  Never creates or migrates the schema.  The result is
 * freed with webdb_close(); NULL with a message naming the database in
 * err.
 */
struct webdb *webdb_open(const char *uri, bool writable, unsigned timeout_ms,
	    struct strbuf *err);
void	 webdb_close(struct webdb *);

bool	 webdb_is_pgsql(const struct webdb *);
/* The database's name for messages (a URI's password hidden). */
const char *webdb_label(const struct webdb *);
/* True after a lost connection or an answer that never came. */
bool	 webdb_is_broken(const struct webdb *);
/* Start a budget of ms for the statements that follow. */
void	 webdb_deadline(struct webdb *, unsigned ms);

/*
 * Run sql with its n parameters.  NULL on failure (webdb_status() and
 * webdb_errmsg() say why); otherwise walk the rows with webdb_next()
 * and free them with webdb_rows_free().
 */
struct webdb_rows *webdb_query(struct webdb *, const char *sql,
	    const struct webdb_param *params, int n);
/* The next row: true while there is one.  False at the end or on an
 * error, which webdb_rows_failed() tells apart. */
bool	 webdb_next(struct webdb_rows *);
bool	 webdb_rows_failed(const struct webdb_rows *);
void	 webdb_rows_free(struct webdb_rows *);
int64_t	 webdb_int(const struct webdb_rows *, int col);
const char *webdb_text(const struct webdb_rows *, int col);

/*
 * Run a statement that returns no rows; *changed (may be NULL) gets the
 * number of rows it changed.
 */
enum webdb_status webdb_exec(struct webdb *, const char *sql,
	    const struct webdb_param *params, int n, int64_t *changed);

/* The last failure. */
enum webdb_status webdb_status(const struct webdb *);
const char *webdb_errmsg(const struct webdb *);

#endif
