/*
 * fuzz_imap_resp.c - libFuzzer target: any bytes as an IMAP server's
 * untagged response lines (CAPABILITY, SEARCH), as import --imap reads
 * them.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ingest/imap_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long *uids;
	size_t n;

	(void)imap_resp_has_capability((const char *)data, size, "MOVE");
	n = imap_resp_search((const char *)data, size, &uids);
	if (n > IMAP_RESP_MAX_UIDS || (n > 0 && uids[n - 1] == 0))
		abort();
	free(uids);
	return 0;
}
