/*
 * aggsources.h - reading imported aggregate reports (agg_reports,
 * agg_records; dmarcctl import) back per sending source, for the
 * readiness verdict of `dmarcctl check --database`.
 *
 * SQLite or PostgreSQL; the database is opened read-only and never
 * created.
 */
#ifndef DM_STORE_AGGSOURCES_H
#define DM_STORE_AGGSOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"
#include "store/store.h"

/* One sending IP over the window, all rows of the domain's reports. */
struct store_agg_source {
	char	 source_ip[46];
	uint64_t messages;
	uint64_t passed;	/* DMARC pass: policy_evaluated dkim or spf
				   pass (aligned) */
	uint64_t auth_passed;	/* failed DMARC, but the raw auth_results
				   hold a DKIM or SPF pass for auth_domain
				   or one of its subdomains */
};

struct store_agg_summary {
	uint64_t reports;
	uint64_t messages;
	uint64_t passed;
	uint64_t sources;
	time_t	 begin, end;	/* the window read (0 when no report) */
};

/* Return 0 to go on, anything else to stop (STORE_OK is returned). */
typedef int (*store_agg_source_cb)(const struct store_agg_source *,
	    void *ctx);

/*
 * Every source of the reports whose policy_published domain is domain
 * (any case) and whose period ends within days of the latest such
 * report (days 0: all), in order of source_ip.  auth_domain (usually
 * the organizational domain) decides auth_passed.  *sum gets the totals.
 * STORE_ERR_OPEN when the database cannot be opened, STORE_ERR_READ on a query failure (or a database
 * without the tables); err names the database.
 */
enum store_status store_agg_sources(const char *uri, const char *domain,
	    const char *auth_domain, unsigned days,
	    struct store_agg_summary *sum, store_agg_source_cb cb, void *ctx,
	    struct strbuf *err);

#endif
