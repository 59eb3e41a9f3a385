/*
 * import.h - storing received aggregate and failure reports (dmarcctl
 * import), owned domains and the reverse DNS cache.
 *
 * One report is one transaction: store_import_begin() inserts the
 * report row (or finds it already stored: a duplicate, skipped),
 * store_import_record() adds its rows as they stream in, and
 * store_import_end() commits or rolls back.
 *
 * Batch mode (store_importer_set_batch()): the reports of a batch share
 * one transaction, each in a SAVEPOINT of its own, so that a report
 * that fails is undone alone; store_import_end() then only keeps or
 * undoes the report, and store_import_flush() commits the batch (with
 * HistoryDurability full, synchronously).  Until the flush returns
 * STORE_OK nothing of the batch is stored: the caller reports the
 * batch's reports as stored only then.  A process killed before the
 * flush leaves none of the batch; never part of a report.
 * SQLite (import.c) or
 * PostgreSQL (import_pg.c), told by the URI as for store_open().
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

/* One failure report (RFC 6591); report_key is its identity. */
struct store_failure_report {
	const char *report_key, *reporter, *reported_domain;
	time_t	 arrival;
	const char *source_ip, *feedback_type, *auth_failure;
	const char *identity_alignment, *delivery_result;
	const char *dkim_domain, *dkim_selector, *dkim_identity, *spf_dns;
	const char *original_mail_from, *original_rcpt_to;
	const char *original_envelope_id;
	const char *header_from, *subject, *message_id, *user_agent;
	const char *headers;
	const char *source;		/* the input's file name */
};

struct store_importer;

/* Open the history at uri for importing (created and migrated as by
 * store_open()).  NULL with *st and err on failure. */
struct store_importer *store_importer_open(const char *uri,
	    enum store_status *st, struct strbuf *err);
void	 store_importer_close(struct store_importer *);
/* STORE_DURABILITY_FULL (the default): a report is on disk when its
 * commit returns (SQLite synchronous=FULL, PostgreSQL synchronous_commit
 * on); RELAXED: a crash of the machine (not of the process) may lose the
 * last commits (synchronous=NORMAL in WAL mode, synchronous_commit
 * off), for bulk imports. */
enum store_status store_importer_set_durability(struct store_importer *,
	    enum store_durability, struct strbuf *err);

/* Batch mode on or off (off by default: a commit per report).  Turn it
 * off only with nothing pending. */
void	 store_importer_set_batch(struct store_importer *, bool on);
/* Whether a batch transaction is open (reports kept but not stored). */
bool	 store_import_pending(const struct store_importer *);
/* Commit the open batch, if any.  On error nothing of it is stored. */
enum store_status store_import_flush(struct store_importer *,
	    struct strbuf *err);

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

/* Store a failure report in its own transaction; *duplicate when its
 * report_key is stored already. */
enum store_status store_import_failure(struct store_importer *,
	    const struct store_failure_report *, bool *duplicate,
	    struct strbuf *err);

/*
 * Owned domains (table owned_domains): add (*changed false when it was
 * there), remove (*changed false when it was not), and list in name
 * order, cb called once per domain with its added_at time and note.
 */
enum store_status store_owned_add(struct store_importer *,
	    const char *domain, const char *note, bool *changed,
	    struct strbuf *err);
enum store_status store_owned_remove(struct store_importer *,
	    const char *domain, bool *changed, struct strbuf *err);
enum store_status store_owned_list(struct store_importer *,
	    void (*cb)(const char *domain, time_t added, const char *note,
	    void *ctx), void *ctx, struct strbuf *err);

/*
 * Reverse DNS cache (table rdns).  store_rdns_get: *found and, when
 * found, *resolved_at.  store_rdns_put: insert or replace.
 */
enum store_status store_rdns_get(struct store_importer *, const char *ip,
	    bool *found, time_t *resolved_at, struct strbuf *err);
enum store_status store_rdns_put(struct store_importer *, const char *ip,
	    const char *ptr, const char *org, const char *status,
	    time_t resolved_at, struct strbuf *err);

#endif
