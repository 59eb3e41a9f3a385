/*
 * dbq.h - one database connection over SQLite or PostgreSQL that runs
 * the same SQL on both: the reads of dmarcctl serve (web/api.c), the API
 * tokens (web/tokens.c) and the alerts (store/alerts.c).
 *
 * SQL is written once, in the dialect both accept, with numbered
 * placeholders "?1", "?2"... (rewritten to "$1"... for PostgreSQL; a
 * '?' inside a quoted literal is left alone).  Values are always bound,
 * never spliced.  Every column is read back as text or as a 64-bit
 * integer; NULL reads as "" or 0.
 *
 * The work of one server request is bounded: dbq_deadline() starts a
 * budget that SQLite enforces with its progress handler and PostgreSQL
 * with statement_timeout plus a client-side wait (store/pgwait.h), so that a
 * frozen server costs one bounded wait, not a hung thread.  After such
 * a wait the connection is dropped (dbq_is_broken): the caller opens
 * a new one for its next request.
 */
#ifndef DM_STORE_DBQ_H
#define DM_STORE_DBQ_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

enum dbq_status {
	DBQ_OK,
	DBQ_ERR,		/* the statement failed: dbq_errmsg() */
	DBQ_STOPPED,		/* the work budget ran out */
	DBQ_UNAVAILABLE,	/* no connection, or no answer in time */
	DBQ_CONSTRAINT	/* a unique key was already taken */
};

struct dbq_param {
	const char *s;		/* text when is_text, borrowed */
	int64_t	 i;
	bool	 is_text;
};

struct dbq;
struct dbq_rows;

/* A text parameter (s borrowed, not copied) and an integer one. */
struct dbq_param dbq_param_text(const char *s);
struct dbq_param dbq_param_int(int64_t i);

/* True when uri names a PostgreSQL database (postgres[ql]://...). */
bool	 dbq_uri_is_pgsql(const char *uri);

/*
 * Open the HistoryDatabase uri (a SQLite path, "sqlite:PATH",
 * "sqlite://PATH", or a PostgreSQL URI): read-only unless writable.
 * timeout_ms bounds each statement (PostgreSQL) or the wait for a
 * lock (SQLite).  Never creates or migrates the schema.  The result is
 * freed with dbq_close(); NULL with a message naming the database in
 * err.
 */
struct dbq *dbq_open(const char *uri, bool writable, unsigned timeout_ms,
	    struct strbuf *err);
void	 dbq_close(struct dbq *);

bool	 dbq_is_pgsql(const struct dbq *);
/* The database's name for messages (a URI's password hidden). */
const char *dbq_label(const struct dbq *);
/* True after a lost connection or an answer that never came. */
bool	 dbq_is_broken(const struct dbq *);
/* Start a budget of ms for the statements that follow. */
void	 dbq_deadline(struct dbq *, unsigned ms);

/*
 * Run sql with its n parameters.  NULL on failure (dbq_status() and
 * dbq_errmsg() say why); otherwise walk the rows with dbq_next()
 * and free them with dbq_rows_free().
 */
struct dbq_rows *dbq_query(struct dbq *, const char *sql,
	    const struct dbq_param *params, int n);
/* The next row: true while there is one.  False at the end or on an
 * error, which dbq_rows_failed() tells apart. */
bool	 dbq_next(struct dbq_rows *);
bool	 dbq_rows_failed(const struct dbq_rows *);
void	 dbq_rows_free(struct dbq_rows *);
int64_t	 dbq_int(const struct dbq_rows *, int col);
const char *dbq_text(const struct dbq_rows *, int col);

/*
 * Run a statement that returns no rows; *changed (may be NULL) gets the
 * number of rows it changed.
 */
enum dbq_status dbq_exec(struct dbq *, const char *sql,
	    const struct dbq_param *params, int n, int64_t *changed);

/* The last failure. */
enum dbq_status dbq_status(const struct dbq *);
const char *dbq_errmsg(const struct dbq *);

#endif
