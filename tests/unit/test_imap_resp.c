/*
 * test_imap_resp.c - CAPABILITY and SEARCH responses (ingest/imap_resp.c),
 * table-driven, including hostile and oversized ones.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/imap_resp.h"
#include "tests/unit/tap.h"

static const struct {
	const char *name, *resp, *word;
	bool	 want;
} caps[] = {
	{ "MOVE listed", "* CAPABILITY IMAP4rev1 MOVE UIDPLUS\r\n", "MOVE",
	    true },
	{ "last on the line", "* CAPABILITY IMAP4rev1 UIDPLUS MOVE\r\n",
	    "MOVE", true },
	{ "any case", "* capability imap4rev1 move\r\n", "MOVE", true },
	{ "a longer atom is not it", "* CAPABILITY MOVEX XMOVE\r\n", "MOVE",
	    false },
	{ "absent", "* CAPABILITY IMAP4rev1 UIDPLUS\r\n", "MOVE", false },
	{ "not a CAPABILITY line", "* OK [CAPABILITY MOVE] hi\r\n", "MOVE",
	    false },
	{ "on the next line only", "* OK x\r\n* CAPABILITY A MOVE\r\n",
	    "MOVE", true },
	{ "empty", "", "MOVE", false },
};

static const struct {
	const char *name, *resp;
	size_t	 n;
	unsigned long first, last;
} searches[] = {
	{ "three", "* SEARCH 3 4 17\r\n", 3, 3, 17 },
	{ "none", "* SEARCH\r\n", 0, 0, 0 },
	{ "after other lines", "* 3 EXISTS\r\n* SEARCH 9\r\n", 1, 9, 9 },
	{ "largest UID", "* SEARCH 1 4294967295\r\n", 2, 1, 4294967295ul },
	{ "past 32 bits stops", "* SEARCH 5 4294967296 6\r\n", 1, 5, 5 },
	{ "zero stops", "* SEARCH 5 0 6\r\n", 1, 5, 5 },
	{ "junk stops", "* SEARCH 5 6a 7\r\n", 1, 5, 5 },
	{ "no line end", "* SEARCH 8 9", 2, 8, 9 },
	{ "no SEARCH", "* OK done\r\n", 0, 0, 0 },
};

int
main(void)
{
	struct { char *buf; size_t len; } big;
	unsigned long *uids;
	size_t i, n, off;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		tap_int(imap_resp_has_capability(caps[i].resp,
		    strlen(caps[i].resp), caps[i].word), caps[i].want,
		    "capability: %s", caps[i].name);
	for (i = 0; i < sizeof(searches) / sizeof(searches[0]); i++) {
		n = imap_resp_search(searches[i].resp,
		    strlen(searches[i].resp), &uids);
		tap_int(n, searches[i].n, "search: %s: count",
		    searches[i].name);
		if (n > 0 && n == searches[i].n) {
			tap_int(uids[0], searches[i].first, "search: %s: first",
			    searches[i].name);
			tap_int(uids[n - 1], searches[i].last,
			    "search: %s: last", searches[i].name);
		}
		free(uids);
	}
	/* Not read past len: the rest of the buffer would be a UID. */
	n = imap_resp_search("* SEARCH 12 34", 11, &uids);
	tap_int(n, 1, "search: stops at len");
	if (n == 1)
		tap_int(uids[0], 12, "search: stops at len: the UID");
	free(uids);
	/* More UIDs than the cap: IMAP_RESP_MAX_UIDS kept. */
	big.len = 8 + (size_t)(IMAP_RESP_MAX_UIDS + 10) * 7 + 2;
	big.buf = malloc(big.len + 1);
	memcpy(big.buf, "* SEARCH", 8);
	off = 8;
	for (i = 0; i < IMAP_RESP_MAX_UIDS + 10; i++)
		off += (size_t)snprintf(big.buf + off, big.len + 1 - off,
		    " %06zu", i + 1);
	memcpy(big.buf + off, "\r\n", 2);
	n = imap_resp_search(big.buf, off + 2, &uids);
	tap_int(n, IMAP_RESP_MAX_UIDS, "search: capped at %d UIDs",
	    IMAP_RESP_MAX_UIDS);
	free(uids);
	free(big.buf);
	return tap_done();
}
