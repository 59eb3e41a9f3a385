/*
 * lookup_adapter.c - serve policy/'s lookup_fn from the dns/ resolver.
 *
 * Maps statuses (temporary errors to LOOKUP_TEMPFAIL, answers over a
 * bound and other permanent errors to LOOKUP_PERMFAIL) and copies TXT
 * records into the callback's fixed-size answer.  RFC 9989 section 4.10
 * depends on NXDOMAIN and NODATA staying apart: they are passed through.
 */
#include "config.h"

#include "lookup_adapter.h"

void
dns_lookup_ctx_init(struct dns_lookup_ctx *ctx, struct dns_resolver *res,
    const struct dns_deadline *dl)
{
	ctx->res = res;
	ctx->deadline = dl;
	ctx->last = DNS_OK;
}

enum lookup_status
dns_status_to_lookup(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return LOOKUP_OK;
	case DNS_NXDOMAIN:
		return LOOKUP_NXDOMAIN;
	case DNS_NODATA:
		return LOOKUP_NODATA;
	default:
		return dns_status_is_temporary(st) ? LOOKUP_TEMPFAIL :
		    LOOKUP_PERMFAIL;
	}
}

enum lookup_status
dns_lookup(void *vctx, const char *qname, enum lookup_qtype qtype,
    struct lookup_answer *ans)
{
	struct dns_lookup_ctx *ctx = vctx;
	struct dns_answer da;
	enum dns_status st;
	size_t i;

	lookup_answer_init(ans);
	st = dns_query(ctx->res, qname, qtype == LOOKUP_TXT ? DNS_TYPE_TXT :
	    DNS_TYPE_A, ctx->deadline, &da);
	if (st == DNS_OK && qtype == LOOKUP_TXT) {
		if (da.nrr > LOOKUP_MAX_TXT)
			st = DNS_ERR_TOO_MANY;
		for (i = 0; st == DNS_OK && i < da.nrr; i++) {
			if (da.rr[i].u.txt.len > LOOKUP_MAX_TXT_LEN)
				st = DNS_ERR_TXT_TOO_LONG;
			else if (lookup_answer_add_txt(ans, da.rr[i].u.txt.data,
			    da.rr[i].u.txt.len) == -1)
				st = DNS_ERR_NOMEM;
		}
	}
	dns_answer_clear(&da);
	ctx->last = st;
	if (st != DNS_OK)
		lookup_answer_clear(ans);
	ans->status = dns_status_to_lookup(st);
	return ans->status;
}
