/*
 * backend.h - what store.c needs from a database back-end (internal).
 *
 * store.c owns the queue, the writer thread, the statistics and the
 * error bookkeeping; a back-end only turns a batch into one transaction
 * and answers the read calls.  write() is called from the writer thread
 * only, one call at a time; count() and query() may be called from any
 * thread at the same time as write() and must be thread-safe on their
 * own.  Every function fills err (never NULL) with a sentence naming the
 * database when it fails, and never logs.
 */
#ifndef DM_STORE_BACKEND_H
#define DM_STORE_BACKEND_H

#include "store/store.h"

struct store_backend {
	const char *name;

	/* target is the URI with any "scheme:" prefix removed. */
	void	*(*open)(const char *target, const struct store_options *,
		    enum store_status *, struct strbuf *err);

	/*
	 * Insert recs[0..n-1] in one transaction, ignoring rows whose key
	 * is already stored, and commit with the configured durability.
	 * *inserted counts the new rows.  On failure nothing of the batch
	 * is stored (the transaction is rolled back) and STORE_ERR_WRITE or
	 * STORE_ERR_NOMEM is returned.
	 */
	enum store_status (*write)(void *, const struct store_record *const *,
		    size_t n, size_t *inserted, struct strbuf *err);

	enum store_status (*count)(void *, uint64_t *, struct strbuf *err);

	enum store_status (*query)(void *, const char *policy_domain,
		    time_t from, time_t to, store_verdict_cb, void *ctx,
		    struct strbuf *err);

	void	 (*close)(void *);

	/* Sent reports and retention (store.h); thread-safe like count().
	 * now is the local clock, which PostgreSQL ignores for its own. */
	enum store_claim (*report_claim)(void *, const char *domain,
		    time_t begin, const char *report_id, const char *node,
		    time_t now, unsigned stale_after_s, struct strbuf *err);
	enum store_status (*report_mark_sent)(void *, const char *domain,
		    time_t begin, time_t now, struct strbuf *err);
	enum store_status (*expire)(void *, int64_t before_day, bool dry_run,
		    uint64_t *verdicts, uint64_t *reports, struct strbuf *err);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_pgsql;


#endif
