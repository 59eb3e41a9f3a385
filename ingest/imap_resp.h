/*
 * imap_resp.h - the few IMAP server responses dmarcctl import --imap
 * reads itself (libcurl hands over the untagged lines of a custom
 * command): "* CAPABILITY ..." and "* SEARCH n n n" (RFC 9051 sections
 * 7.2.2 and 7.3.4).  Pure functions, bounded, for the fuzzer.
 */
#ifndef DM_INGEST_IMAP_RESP_H
#define DM_INGEST_IMAP_RESP_H

#include <stdbool.h>
#include <stddef.h>

#define IMAP_RESP_MAX_UIDS	100000	/* UIDs kept from one SEARCH */

/* Is word (e.g. "MOVE") an atom of the first CAPABILITY line in
 * resp[0..len)?  Case-insensitive. */
bool	 imap_resp_has_capability(const char *resp, size_t len,
	    const char *word);

/*
 * The UIDs of the first "* SEARCH" line of resp[0..len) into *uids (the
 * caller frees it; NULL when none), at most IMAP_RESP_MAX_UIDS; parsing
 * stops at the first token that is not a non-zero 32-bit number.
 * Returns the count.
 */
size_t	 imap_resp_search(const char *resp, size_t len, unsigned long **uids);

#endif
