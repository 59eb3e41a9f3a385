/*
 * history.c - say loudly when the history cannot be written, and when it
 * can again.
 *
 * The store library never logs: a failed commit comes back to the
 * message that waits for it (the milter logs it with the FailMode
 * answer), but records nobody waits for are retried, and with
 * PostgreSQL a failed batch goes to the spool with STORE_OK.  Both would
 * pass in silence, so after each message the milter compares the
 * store's counters with what it last saw.  Left out: a timer (an idle
 * daemon logs the recovery with its next message, or at stop).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "common/log.h"
#include "history.h"

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t seen_errors;		/* write_errors last seen */
static uint64_t fail_errors;		/* write_errors when the run began */
static bool	 failing;
static time_t	 reminded;

void
history_log_stats(struct store *s, const char *what)
{
	struct store_stats st;

	store_get_stats(s, &st);
	log_msg(LOG_NOTICE, "history: %s: %llu records submitted, %llu "
	    "rows committed, %llu duplicates, %llu failed, %llu refused "
	    "(queue full), %llu failed commits, %llu spooled, %llu "
	    "replayed, %zu in the spool", what,
	    (unsigned long long)st.submitted, (unsigned long long)st.committed,
	    (unsigned long long)st.duplicates, (unsigned long long)st.failed,
	    (unsigned long long)st.rejected,
	    (unsigned long long)st.write_errors,
	    (unsigned long long)st.spooled, (unsigned long long)st.replayed,
	    st.spool_pending);
}

void
history_watch(struct store *s)
{
	struct strbuf why = STRBUF_INIT;
	struct store_stats st;
	time_t now;

	store_get_stats(s, &st);
	pthread_mutex_lock(&watch_lock);
	now = time(NULL);
	if (st.write_errors > seen_errors &&
	    (!failing || now - reminded >= HISTORY_REMIND_S)) {
		/* Also a failure that is over by now: it is said once. */
		store_last_error(s, &why);
		log_msg(LOG_ERR, "history: %s %s (%llu failed commits so "
		    "far; %llu records spooled, %llu given up, %zu queued)",
		    failing ? "still cannot write:" : "cannot write:",
		    strbuf_cstr(&why), (unsigned long long)st.write_errors,
		    (unsigned long long)st.spooled,
		    (unsigned long long)st.failed, st.queued);
		reminded = now;
		if (!failing)
			fail_errors = seen_errors;
		failing = true;
	}
	if (st.write_errors > seen_errors)
		seen_errors = st.write_errors;
	if (failing && !st.failing && st.spool_pending == 0) {
		failing = false;
		log_msg(LOG_NOTICE, "history: writing again after %llu failed "
		    "commits", (unsigned long long)(seen_errors -
		    fail_errors));
		history_log_stats(s, "since start");
	}
	pthread_mutex_unlock(&watch_lock);
	strbuf_release(&why);
}
