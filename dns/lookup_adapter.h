/*
 * lookup_adapter.h - the policy core's lookup callback, served by dns/.
 *
 * policy/ asks for DNS through a lookup_fn (policy/lookup.h).  This is
 * the implementation that dmarcctl and dmarcd plug in.  dns/ includes
 * policy/lookup.h only for that callback's types: the header is pure
 * declarations and policy/lookup.c holds nothing but the answer helpers,
 * so the module layering (dns/ below auth/, beside policy/) holds.
 */
#ifndef DM_DNS_LOOKUP_ADAPTER_H
#define DM_DNS_LOOKUP_ADAPTER_H

#include "policy/lookup.h"
#include "resolver.h"

/*
 * The callback's context: which resolver, which deadline (the message's;
 * may be NULL), and, after each call, the detailed status of the last
 * lookup so that the caller can log why a TEMPFAIL or PERMFAIL happened.
 */
struct dns_lookup_ctx {
	struct dns_resolver	*res;
	const struct dns_deadline *deadline;
	enum dns_status		 last;
};

void	 dns_lookup_ctx_init(struct dns_lookup_ctx *, struct dns_resolver *,
	    const struct dns_deadline *);

/*
 * A lookup_fn: ctx is a struct dns_lookup_ctx.  LOOKUP_TXT asks for TXT
 * records (each joined, at most LOOKUP_MAX_TXT of LOOKUP_MAX_TXT_LEN bytes:
 * more is LOOKUP_PERMFAIL with ctx->last DNS_ERR_TOO_MANY or
 * DNS_ERR_TXT_TOO_LONG).  LOOKUP_EXISTS asks for A records: NXDOMAIN means
 * the name does not exist, OK and NODATA that it does.  Always sets
 * ans->status, which is also returned.
 */
enum lookup_status dns_lookup(void *ctx, const char *qname,
	    enum lookup_qtype qtype, struct lookup_answer *ans);

/* OK, NXDOMAIN, NODATA map to themselves; errors to TEMPFAIL or PERMFAIL. */
enum lookup_status dns_status_to_lookup(enum dns_status);

#endif
