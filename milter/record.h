/*
 * record.h - the history rows and the log line of one message.
 */
#ifndef DM_MILTER_RECORD_H
#define DM_MILTER_RECORD_H

#include <time.h>

#include "action.h"
#include "auth/verify.h"
#include "common/strbuf.h"
#include "store/store.h"

/* What we know of the message besides the verdict. */
struct record_facts {
	const struct verify_facts *facts;
	const char *node;
	const char *message_key;	/* 32 hex digits */
	const char *queue_id;		/* may be NULL */
	time_t	 received;
};

/*
 * Fill recs[0..] with one row per evaluated author domain (one row when
 * there is none) and return how many (at most max).  The action says what
 * was done; its override, if any, is added to the reasons.
 */
size_t	record_fill(const struct verdict *, const struct milter_action *,
	    const struct record_facts *, struct store_record *recs,
	    size_t max);

/* A row for a message that was not judged (trusted or authenticated). */
void	record_fill_skip(const struct record_facts *, const char *reason,
	    struct store_record *);

/*
 * The one decision line (STYLE.md): queue id first, then key=value pairs
 * with untrusted values escaped and cut:
 *   4F2C81A: dmarc result=fail from=example.com policy=reject ...
 */
void	record_logline(const struct verdict *, const struct milter_action *,
	    const struct record_facts *, struct strbuf *);

/* 32 random hex digits for the message key (idempotent replays). */
void	record_new_key(char out[33]);

#endif
