/*
 * pgwait.h - bounded waits for libpq answers, shared by the store's
 * PostgreSQL back-end (pgsql.c) and dmarcctl serve's reads (web/webdb.c).
 *
 * A server that does not answer at all (stopped, hung host, dead network
 * path) cannot enforce its own statement_timeout, so the client waits
 * for each answer with poll(), never longer than a deadline.  The
 * connection must be in non-blocking mode (PQsetnonblocking).
 */
#ifndef DM_STORE_PGWAIT_H
#define DM_STORE_PGWAIT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

/* Past statement_timeout: the server's own error, if it can answer,
 * comes first. */
#define PG_CLIENT_GRACE_MS	1000

/* Monotonic milliseconds. */
uint64_t pgwait_now_ms(void);

/*
 * The result of the query just sent (sent: what the PQsend* call
 * returned), waiting at most timeout_ms + PG_CLIENT_GRACE_MS.  Returns
 * the last result, which the caller clears, or NULL: the send failed or
 * the connection broke (PQerrorMessage says why), or no answer came in
 * time (*timed_out; the connection is unusable: drop it).
 */
PGresult *pgwait_result(PGconn *c, int sent, unsigned timeout_ms,
	    bool *timed_out);
/* The same with an absolute deadline (pgwait_now_ms() clock). */
PGresult *pgwait_result_until(PGconn *c, int sent, uint64_t deadline_ms,
	    bool *timed_out);

/* Append libpq's message msg to err as one line, without its trailing
 * newline, control characters escaped, at most 400 bytes. */
void	 pgwait_error(struct strbuf *err, const char *msg);

#endif
