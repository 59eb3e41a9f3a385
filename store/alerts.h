/*
 * alerts.h - alerts found in the received aggregate reports (schema
 * version 6, table alerts), after each dmarcctl import.
 *
 * For each domain that got reports in the run, on its latest report day
 * L (a report counts for the UTC day of the middle of its period) against
 * the 7 days before it (L-7 .. L-1, "the baseline"):
 *   new_source      a source (the PTR organization from table rdns when
 *                   known, else the IP) that sent at least
 *                   new_source_min messages on L and never appears in an
 *                   earlier report of the domain (only once the domain has
 *                   earlier reports: the first import is no news);
 *   pass_rate_drop  the DMARC pass rate (policy_evaluated DKIM or SPF
 *                   pass) on L is at least drop_points below the
 *                   baseline's, both with rate_min messages or more;
 *   dkim_failing    an IP that passed DKIM or SPF in the baseline, and
 *                   failed DKIM there for less than half of its messages,
 *                   fails DKIM on L for dkim_fail_min messages or more.
 * Each alert has a dedup_key (kind, domain, subject; the day for
 * pass_rate_drop) and is stored once: the same source never alerts
 * twice.  SQLite or PostgreSQL (store/dbq.h).  Nothing logs.
 */
#ifndef DM_STORE_ALERTS_H
#define DM_STORE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

struct alerts_config {
	long	 new_source_min;	/* AlertNewSourceMinMessages */
	long	 drop_points;		/* AlertPassRateDrop */
	long	 rate_min;		/* AlertPassRateMinMessages */
	long	 dkim_fail_min;		/* AlertDkimFailMinMessages */
};

struct alert {
	int64_t	 id;
	const char *domain, *kind, *subject;
	const char *detail;		/* a JSON object */
	time_t	 created_at;
	time_t	 delivered_webhook, delivered_digest;	/* 0: not yet */
};

enum alerts_filter {
	ALERTS_ALL,
	ALERTS_WEBHOOK_PENDING,
	ALERTS_DIGEST_PENDING
};

enum alerts_channel {
	ALERTS_WEBHOOK,
	ALERTS_DIGEST
};

struct store_alerts;

/* Open the history at uri (created and migrated as by store_open()).
 * NULL with *st and err on failure. */
struct store_alerts *store_alerts_open(const char *uri,
	    enum store_status *st, struct strbuf *err);
void	 store_alerts_close(struct store_alerts *);

/*
 * Look for alerts in the domains with a report imported at or after
 * since; store the new ones (*nnew counts them).  One transaction.
 */
enum store_status store_alerts_detect(struct store_alerts *,
	    const struct alerts_config *, time_t since, unsigned *nnew,
	    struct strbuf *err);

/*
 * Call cb for each alert (oldest first) that matches filter and, when
 * domain is not NULL, that domain.  The alert's strings live until cb
 * returns.  A non-zero return from cb stops the walk.
 */
enum store_status store_alerts_list(struct store_alerts *,
	    enum alerts_filter, const char *domain,
	    int (*cb)(const struct alert *, void *), void *ctx,
	    struct strbuf *err);

/* Record that alert id went out through channel at time when. */
enum store_status store_alerts_mark(struct store_alerts *, int64_t id,
	    enum alerts_channel, time_t when, struct strbuf *err);

#endif
