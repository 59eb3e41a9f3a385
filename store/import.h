/*
 * import.h - storing received aggregate reports (dmarcctl import).
 *
 * One report is one transaction: store_import_begin() inserts the
 * report row (or finds it already stored: a duplicate, skipped),
 * store_import_record() adds its rows as they stream in, and
 * store_import_end() commits or rolls back.  SQLite only for now:
 * a PostgreSQL URI gives STORE_ERR_CONFIG ("not yet").
 */
#ifndef DM_STORE_IMPORT_H
#define DM_STORE_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

struct store_agg_report {
	const char *org_name, *email, *extra_contact, *report_id, *domain;
	time_t	 begin, end;
	const char *version, *adkim, *aspf, *p, *sp, *np, *fo, *testing;
	const char *discovery_method;
	int	 pct;
	const char *source;		/* the input's file name */
};

struct store_agg_record {
	const char *source_ip;
	uint64_t count;
	const char *disposition, *eval_dkim, *eval_spf, *reasons;
	const char *header_from, *envelope_from, *envelope_to;
	const char *spf_results, *dkim_results;
};

struct store_importer;

/* Open the history at uri for importing (created and migrated as by
 * store_open()).  NULL with *st and err on failure. */
struct store_importer *store_importer_open(const char *uri,
	    enum store_status *st, struct strbuf *err);
void	 store_importer_close(struct store_importer *);

/* Begin a report: STORE_OK and *duplicate=false with a transaction
 * open; STORE_OK and *duplicate=true when (org_name, report_id, domain)
 * is stored already (nothing open); an error otherwise. */
enum store_status store_import_begin(struct store_importer *,
	    const struct store_agg_report *, bool *duplicate,
	    struct strbuf *err);
enum store_status store_import_record(struct store_importer *,
	    const struct store_agg_record *, struct strbuf *err);
/* Commit (with the final record count) or roll back. */
enum store_status store_import_end(struct store_importer *, bool commit,
	    uint64_t nrecords, struct strbuf *err);

#endif
