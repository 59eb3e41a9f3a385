/*
 * pgwait.c - bounded waits for libpq answers (pgwait.h): poll() on the
 * connection's socket up to a deadline, so that a frozen server costs a
 * bounded wait instead of a hung thread.  Leaves out: cancelling the
 * query on the server (the caller drops the connection instead).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "store/pgwait.h"

void
pgwait_error(struct strbuf *err, const char *msg)
{
	char line[401];
	size_t n = msg != NULL ? strlen(msg) : 0, i;

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (n == 0) {
		strbuf_appends(err, "unknown error");
		return;
	}
	/* libpq's messages span lines: make them one log line. */
	if (n > sizeof(line) - 1)
		n = sizeof(line) - 1;
	for (i = 0; i < n; i++)
		line[i] = msg[i] == '\n' || msg[i] == '\t' ? ' ' : msg[i];
	strbuf_append_escaped(err, line, n, 400);
}

uint64_t
pgwait_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until c's socket is ready for events; false past deadline_ms. */
static bool
wait_socket(PGconn *c, short events, uint64_t deadline_ms)
{
	struct pollfd pfd;
	uint64_t now;
	int rc;

	pfd.fd = PQsocket(c);
	pfd.events = events;
	for (;;) {
		if (pfd.fd < 0 || (now = pgwait_now_ms()) >= deadline_ms)
			return false;
		pfd.revents = 0;
		rc = poll(&pfd, 1, deadline_ms - now > INT_MAX ? INT_MAX :
		    (int)(deadline_ms - now));
		if (rc > 0)
			return true;
		if (rc == -1 && errno != EINTR)
			return false;
	}
}

PGresult *
pgwait_result_until(PGconn *c, int sent, uint64_t deadline,
    bool *timed_out)
{
	PGresult *r, *last = NULL;
	int f;

	*timed_out = false;
	if (!sent)
		return NULL;
	while ((f = PQflush(c)) == 1) {
		if (!wait_socket(c, POLLOUT | POLLIN, deadline))
			goto timeout;
		if (!PQconsumeInput(c))
			return NULL;
	}
	if (f == -1)
		return NULL;
	for (;;) {
		while (PQisBusy(c)) {
			if (!wait_socket(c, POLLIN, deadline))
				goto timeout;
			if (!PQconsumeInput(c)) {
				PQclear(last);
				return NULL;
			}
		}
		if ((r = PQgetResult(c)) == NULL)
			break;
		PQclear(last);
		last = r;
	}
	return last;

timeout:
	PQclear(last);
	*timed_out = true;
	return NULL;
}

PGresult *
pgwait_result(PGconn *c, int sent, unsigned timeout_ms, bool *timed_out)
{
	return pgwait_result_until(c, sent, pgwait_now_ms() + timeout_ms +
	    PG_CLIENT_GRACE_MS, timed_out);
}
