/*
 * spf.h - SPF checks (RFC 7208) for dmarcd, on libspf2 and dns/.
 *
 * An spf_engine is built once from a resolver (or, in tests, from any
 * lookup function) and shared by all threads.  Each thread gets its own
 * libspf2 server and DNS layer on first use; checks in one thread run one
 * after the other.  Every check takes the message's deadline, which bounds
 * all of its DNS work.
 *
 * A check produces a struct spf_outcome: the result under its RFC 8601
 * name, the identity (scope mfrom or helo, and the domain whose policy
 * was evaluated) and a short reason.  The library never logs.
 */
#ifndef DM_AUTH_SPF_H
#define DM_AUTH_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "dns/resolver.h"

/* RFC 7208 section 2.6 results, named as in RFC 8601 section 2.7.2. */
enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR
};

/* Which identity was checked (RFC 7208 2.3 and 2.4). */
enum spf_scope {
	SPF_SCOPE_MFROM = 0,
	SPF_SCOPE_HELO
};

struct spf_config {
	unsigned	 max_dns_terms;	/* RFC 7208 4.6.4: 10 */
	unsigned	 max_void;	/* RFC 7208 4.6.4: 2 */
	const char	*receiver;	/* %{r}; NULL: gethostname() */
};

/* The result of one check.  Strings are owned; spf_outcome_clear(). */
struct spf_outcome {
	enum spf_result	 result;
	enum spf_scope	 scope;
	char		*domain;	/* the domain evaluated, or NULL */
	char		*sender;	/* <sender> as checked, e.g.
					 * postmaster@HELO for a null sender */
	char		*reason;	/* short, printable, never NULL after
					 * a check */
	char		*explanation;	/* result fail only, else NULL */
	bool		 explanation_default; /* not from the domain's exp= */
	unsigned	 dns_terms;	/* DNS-querying terms evaluated */
	unsigned	 void_lookups;
};

/* Lookup function with dns_query()'s shape (see auth/spf_dns.h). */
typedef enum dns_status (*spf_query_fn)(void *arg, const char *name,
	    uint16_t type, const struct dns_deadline *deadline,
	    struct dns_answer *out);

struct spf_engine;

/* RFC 7208 defaults: 10 terms, 2 void lookups, receiver from the host. */
void	 spf_config_init(struct spf_config *);

/*
 * New engine resolving through res (borrowed; it must outlive the
 * engine), with cfg (NULL: defaults; copied).  NULL when out of memory.
 * Free with spf_engine_free() after the threads that used it have
 * exited (each thread's libspf2 server is freed at thread exit).
 */
struct spf_engine *spf_engine_new(struct dns_resolver *res,
	    const struct spf_config *cfg);
/* Same, with answers from fn(arg, ...) instead: tests use a table. */
struct spf_engine *spf_engine_new_query(spf_query_fn fn, void *arg,
	    const struct spf_config *cfg);
void	 spf_engine_free(struct spf_engine *);

void	 spf_outcome_init(struct spf_outcome *);
/* Release the strings; leaves the outcome initialised. */
void	 spf_outcome_clear(struct spf_outcome *);

/*
 * Check the MAIL FROM identity of a message from ip that said helo:
 * mail_from is the reverse-path without angle brackets; NULL or "" is the
 * null sender, checked as postmaster@helo (RFC 7208 2.4).  deadline may
 * be NULL.  out is cleared and filled; the result is also returned.
 * Thread-safe.
 */
enum spf_result spf_check_mailfrom(struct spf_engine *, const struct addr *ip,
	    const char *helo, const char *mail_from,
	    const struct dns_deadline *deadline, struct spf_outcome *out);

/* Check the HELO identity (RFC 7208 2.3), for smtp.helo. */
enum spf_result spf_check_helo(struct spf_engine *, const struct addr *ip,
	    const char *helo, const struct dns_deadline *deadline,
	    struct spf_outcome *out);

/* "none", "neutral", "pass", "fail", "softfail", "temperror",
 * "permerror" (RFC 8601); "mfrom" and "helo". */
const char *spf_result_name(enum spf_result);
const char *spf_scope_name(enum spf_scope);
/* Inverse of spf_result_name(); -1 when unknown. */
int	 spf_result_from_name(const char *);

/* Test hook: this thread's DNS layer fails to allocate answers after n
 * more (n < 0: never).  Applies to the next checks of this thread. */
void	 spf_engine_fail_rr_after(struct spf_engine *, int n);

#endif
