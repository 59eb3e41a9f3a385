/*
 * api.h - the JSON endpoints of dmarcctl serve (doc/api.md), as SQL over
 * the received-report tables of schema versions 3 to 6, on SQLite or
 * PostgreSQL (store/dbq.h: the same SQL on both).
 *
 * Each handler reads the request's domain, parameters and token scope,
 * writes the whole JSON body (or a {"error": ...} object) into out and
 * returns the HTTP status.  Handlers never resolve DNS and never write.
 */
#ifndef DM_WEB_API_H
#define DM_WEB_API_H

#include <time.h>

#include "common/strbuf.h"
#include "web/query.h"
#include "store/dbq.h"

#define API_PER_PAGE_DEFAULT	50
#define API_PER_PAGE_MAX	500
#define API_PAGE_MAX		1000000
#define API_RANGE_DEFAULT_DAYS	30
#define API_BLOCKING_MAX	10	/* blocking sources named */
#define API_READY_MIN_DAYS	7	/* days of reports before advice */
#define API_READY_MIN_PASS_PCT	50	/* below: not ready, whatever else */

struct api_req {
	struct dbq *db;
	const char *scope;		/* the token's: "*" or names */
	const char *domain;		/* the path's domain, lower case */
	const struct webq *q;
	time_t	 now;
	struct strbuf *out;
};

/* An error body {"error": msg}; returns status. */
int	 api_error(struct strbuf *out, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

int	 api_reports(const struct api_req *);
int	 api_summary(const struct api_req *);
int	 api_sources(const struct api_req *);
int	 api_failures(const struct api_req *);
int	 api_alerts(const struct api_req *);
int	 api_domains(const struct api_req *);

/* True when s is one well-formed JSON value (depth and size bounded). */
bool	 api_json_is_valid(const char *s);

#endif
