/*
 * spf_dns.h - libspf2's DNS layer, served by dmarcd's resolver.
 *
 * libspf2 asks for DNS through an SPF_dns_server_t.  The one built here
 * answers every lookup with dns_query() (or, in tests, with any function
 * of the same shape), so nothing resolves through libresolv.  It also:
 *  - fetches SPF records itself (the get_spf hook): TXT only, one v=spf1
 *    record, screened by spf_screen_record() before SPF_record_compile();
 *  - fetches explanations itself (the get_exp hook), screened by
 *    spf_screen_explanation() before SPF_record_compile_macro();
 *  - counts, across include: and redirect=, the terms that query DNS
 *    (RFC 7208 4.6.4: at most 10) and the void lookups (at most 2), which
 *    libspf2 does not (it counts per included record, and has no void
 *    limit), and stops the evaluation when a limit or the deadline is
 *    passed;
 *  - never hands libspf2 a NULL answer, which would abort the process:
 *    each check starts with a small reserve of preallocated answers that
 *    stand in, as TRY_AGAIN, when an allocation fails.
 *
 * One layer belongs to one SPF_server_t, which serves one check at a time
 * (auth/spf.c keeps one per thread).  spf_dns_begin() binds the layer to
 * the check about to run: its deadline and its SPF_request_t.
 */
#ifndef DM_AUTH_SPF_DNS_H
#define DM_AUTH_SPF_DNS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>
#include <spf2/spf_record.h>

#include "common/strbuf.h"
#include "dns/resolver.h"

/*
 * Where answers come from: dns_query()'s shape.  out is initialised by
 * the function and released by the caller with dns_answer_clear().
 */
typedef enum dns_status (*spf_dns_query_fn)(void *arg, const char *name,
	    uint16_t type, const struct dns_deadline *deadline,
	    struct dns_answer *out);

/* A spf_dns_query_fn over dns_query(); arg is a struct dns_resolver. */
enum dns_status spf_dns_query_resolver(void *arg, const char *name,
	    uint16_t type, const struct dns_deadline *deadline,
	    struct dns_answer *out);

struct spf_dns_limits {
	unsigned max_terms;	/* DNS-querying terms per check (10) */
	unsigned max_void;	/* void lookups per check (2) */
	unsigned max_ptr;	/* PTR names considered (10, RFC 7208 4.6.4) */
	unsigned max_exp;	/* explanation lookups per check (4) */
};

/* RFC 7208 defaults. */
void	 spf_dns_limits_default(struct spf_dns_limits *);

/* Why the layer stopped answering during a check. */
enum spf_dns_stop {
	SPF_DNS_RUNNING = 0,
	SPF_DNS_STOP_TERMS,	/* over max_terms: permerror */
	SPF_DNS_STOP_VOID,	/* over max_void: permerror */
	SPF_DNS_STOP_DEADLINE,	/* the deadline passed: temperror */
	SPF_DNS_STOP_NOMEM	/* an allocation failed: temperror */
};

/* What the first SPF record fetch of a check found. */
enum spf_dns_fetch {
	SPF_FETCH_NOT_YET = 0,
	SPF_FETCH_OK,		/* one record, screened and compiled */
	SPF_FETCH_NO_RECORD,	/* the name exists, no v=spf1 record */
	SPF_FETCH_NXDOMAIN,	/* the name does not exist */
	SPF_FETCH_BADNAME,	/* the name is not a valid domain */
	SPF_FETCH_TEMP,		/* temporary DNS failure */
	SPF_FETCH_MULTIPLE,	/* more than one v=spf1 record (4.5) */
	SPF_FETCH_SCREENED,	/* refused by spf_screen_record() */
	SPF_FETCH_COMPILE,	/* libspf2 refused the screened record */
	SPF_FETCH_BOUND,	/* the answer is over a resolver bound */
	SPF_FETCH_STOPPED	/* a limit or the deadline was already hit */
};

/* What the layer saw during the current check. */
struct spf_dns_report {
	unsigned		 terms;		/* DNS-querying terms */
	unsigned		 voids;		/* void lookups */
	unsigned		 queries;	/* lookups passed to the source */
	enum spf_dns_stop	 stop;
	enum spf_dns_fetch	 top;	/* the check's own record */
	SPF_errcode_t		 top_err; /* libspf2's code if COMPILE */
	struct strbuf		 why;	/* first problem, for the reason */
};

/*
 * New layer over fn/arg with the given limits (NULL: defaults).  Hand it
 * to SPF_server_new_dns(); SPF_server_free() frees it.  NULL when out of
 * memory.
 */
SPF_dns_server_t *spf_dns_new(spf_dns_query_fn fn, void *arg,
	    const struct spf_dns_limits *lim);

/*
 * Bind the layer to one check: reset the counters and the report, keep
 * deadline (may be NULL) and request (borrowed until spf_dns_end()), and
 * refill the answer reserve.  -1 when the reserve cannot be filled: do
 * not run the check then.
 */
int	 spf_dns_begin(SPF_dns_server_t *,
	    const struct dns_deadline *deadline, SPF_request_t *request);
void	 spf_dns_end(SPF_dns_server_t *);

/* The report of the current (or last) check; valid until the next begin. */
const struct spf_dns_report *spf_dns_report(SPF_dns_server_t *);

/*
 * The record fetch, also installed as the layer's get_spf hook: look up
 * TXT at request->cur_dom, select the v=spf1 record, screen it and
 * compile it into *recordp.  Returns SPF_E_SUCCESS, SPF_E_NOT_SPF (no
 * record: none, or permerror inside include/redirect), SPF_E_DNS_ERROR
 * (temperror) or another code (permerror), as libspf2 expects.
 */
SPF_errcode_t spf_dns_get_spf(SPF_server_t *, SPF_request_t *,
	    SPF_response_t *, SPF_record_t **recordp);

/*
 * The server's default explanation expanded for request into *bufp
 * (malloc'd, libspf2's convention; *bufp may be NULL on entry).
 */
SPF_errcode_t spf_dns_default_explanation(SPF_server_t *, SPF_request_t *,
	    char **bufp, size_t *buflenp);

/*
 * Test hook: after n more answers are allocated, allocation fails (the
 * reserve takes over); n < 0 restores normal behaviour.
 */
void	 spf_dns_fail_rr_after(SPF_dns_server_t *, int n);

#endif
