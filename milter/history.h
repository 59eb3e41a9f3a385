/*
 * history.h - dmarcd's log of the history store's health.
 */
#ifndef DM_MILTER_HISTORY_H
#define DM_MILTER_HISTORY_H

#include "store/store.h"

/*
 * Look at the store's counters after a message and log a change: the
 * first failed commit of a run of failures (LOG_ERR, with the store's
 * sentence naming the database or spool file, and what became of the
 * records), a reminder at most every HISTORY_REMIND_S seconds while
 * commits keep failing, and the recovery (LOG_NOTICE, with the figures)
 * once a commit succeeds and the spool is empty again.  A record that
 * went to the spool leaves its message nothing to log, so this is where
 * an outage shows.  Thread-safe.
 */
void	 history_watch(struct store *);

/* One line of the store's counters, at LOG_NOTICE: what ("stopped")
 * starts it. */
void	 history_log_stats(struct store *, const char *what);

#define HISTORY_REMIND_S	60

#endif
