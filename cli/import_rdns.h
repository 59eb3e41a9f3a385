/*
 * import_rdns.h - reverse DNS of report source IPs, at import time.
 */
#ifndef DM_CLI_IMPORT_RDNS_H
#define DM_CLI_IMPORT_RDNS_H

#include "cli/cli.h"
#include "store/import.h"

struct import_rdns;

/* A resolver from the configuration (Nameservers, DNSTimeout) and the
 * public suffix list; NULL (after a warning on stderr) when either
 * cannot be had: the import goes on without reverse DNS. */
struct import_rdns *import_rdns_new(const struct cli_ctx *,
	    struct store_importer *);
void	 import_rdns_free(struct import_rdns *);
/* Remember ip, seen in the report being imported. */
void	 import_rdns_note(struct import_rdns *, const char *ip);
/* Resolve the remembered IPs whose rdns row is missing or older than
 * ImportReverseDNSMaxAge, store the outcome, and forget them. */
void	 import_rdns_flush(struct import_rdns *);
/* Forget the remembered IPs (the report was not stored). */
void	 import_rdns_discard(struct import_rdns *);
/* How many IPs are remembered; import_rdns_discard_from() forgets those
 * remembered after that mark (one report of a batch was not stored). */
size_t	 import_rdns_mark(const struct import_rdns *);
void	 import_rdns_discard_from(struct import_rdns *, size_t mark);

#endif
