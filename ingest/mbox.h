/*
 * mbox.h - the messages of an mbox file (mboxrd, mboxo).
 */
#ifndef DM_INGEST_MBOX_H
#define DM_INGEST_MBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

/* Whether buf[0..len) starts as an mbox does: a "From " line. */
bool	 ingest_is_mbox(const void *buf, size_t len);

/*
 * The next message of the mbox buf[0..len) from *off (0 at first):
 * its From_ line dropped, mboxrd quoting undone (">From " -> "From ",
 * ">>From " -> ">From "), into msg (reset first), and *off moved past
 * it.  A message starts at a "From " line that opens the file or
 * follows a blank line.  msg may carry a size limit (strbuf_set_limit):
 * then strbuf_failed(msg) says the message was larger (it is still
 * skipped whole).  false when no message is left.
 */
bool	 ingest_mbox_next(const char *buf, size_t len, size_t *off,
	    struct strbuf *msg);

/* How many messages ingest_mbox_next() finds in buf[0..len): one pass
 * over the separators, nothing copied. */
size_t	 ingest_mbox_count(const char *buf, size_t len);

#endif
