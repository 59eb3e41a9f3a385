/*
 * import_rdns.c - PTR names of report source IPs, resolved at import
 * and cached in the rdns table, so that nothing on an HTTP request path
 * ever waits for DNS.
 *
 * After each stored report its new source IPs are looked up: an IP
 * with an rdns row younger than ImportReverseDNSMaxAge (7 days) is not
 * asked again, nor one already done in this run.  The PTR query goes
 * through dns/ (DNSTimeout, DNSRetries) with a 5 s deadline per IP and
 * a 10,000-IP cap per run; status is ok, nxdomain, nodata, servfail or
 * error, each cached like an answer (asked again when it has aged); a
 * timeout or network error is not cached, so the next run asks again.  org is the registrable domain of the
 * PTR name by the public suffix list (RFC 7489 section 3.2), a local
 * lookup: the RFC 9989 tree walk would cost DNS queries per name.
 * When the resolver is unreachable (RDNS_MAX_DOWN lookups in a row time
 * out or fail on the network), reverse DNS is given up for the run with
 * one warning, so an offline host does not stall a bulk import.
 * Not done: forward-confirming the PTR name.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/import_rdns.h"
#include "common/addr.h"
#include "common/strbuf.h"
#include "dns/answer.h"
#include "dns/resolver.h"
#include "policy/orgdomain.h"

#define RDNS_DEADLINE_MS	5000
#define RDNS_MAX_PER_RUN	10000u
#define RDNS_SEEN_SLOTS		(1u << 15)	/* power of two */
#define RDNS_MAX_DOWN		3

struct import_rdns {
	struct store_importer *im;
	struct dns_resolver *res;
	orgdomain_psl *psl;
	time_t	 max_age;
	char	**pending;		/* IPs of the current report */
	size_t	 npending, cap;
	char	**seen;			/* open addressing: done this run */
	unsigned done;
	unsigned down;			/* lookups failed in a row */
};

struct import_rdns *
import_rdns_new(const struct cli_ctx *ctx, struct store_importer *im)
{
	struct import_rdns *r;
	enum orgdomain_status os;
	const char *psl = conf_str(ctx->conf, "PublicSuffixList");

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->seen = calloc(RDNS_SEEN_SLOTS, sizeof(*r->seen))) == NULL) {
		free(r);
		return NULL;
	}
	r->im = im;
	r->max_age = (time_t)(conf_int(ctx->conf, "ImportReverseDNSMaxAge") /
	    1000);
	if ((r->res = cli_resolver_new(ctx, "import", NULL)) == NULL) {
		fprintf(stderr, "dmarcctl: import: no reverse DNS (no "
		    "resolver); set ImportReverseDNS no to silence this\n");
		import_rdns_free(r);
		return NULL;
	}
	if (psl != NULL && (r->psl = orgdomain_psl_new(psl, &os)) == NULL)
		fprintf(stderr, "dmarcctl: import: %s: %s: PTR names get no "
		    "organization\n", psl, orgdomain_strerror(os));
	return r;
}

void
import_rdns_free(struct import_rdns *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->npending; i++)
		free(r->pending[i]);
	free(r->pending);
	for (i = 0; i < RDNS_SEEN_SLOTS; i++)
		free(r->seen[i]);
	free(r->seen);
	dns_resolver_free(r->res);
	orgdomain_psl_free(r->psl);
	free(r);
}

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Whether ip was handled this run; if not, mark it (when room). */
static bool
seen_mark(struct import_rdns *r, const char *ip)
{
	unsigned i = hash(ip) & (RDNS_SEEN_SLOTS - 1), k;

	for (k = 0; k < RDNS_SEEN_SLOTS; k++) {
		char **slot = &r->seen[(i + k) & (RDNS_SEEN_SLOTS - 1)];

		if (*slot == NULL) {
			*slot = strdup(ip);
			return false;
		}
		if (strcmp(*slot, ip) == 0)
			return true;
	}
	return true;			/* table full: no more lookups */
}

/* Whether ip was handled this run (no marking). */
static bool
seen_has(const struct import_rdns *r, const char *ip)
{
	unsigned i = hash(ip) & (RDNS_SEEN_SLOTS - 1), k;

	for (k = 0; k < RDNS_SEEN_SLOTS; k++) {
		const char *slot = r->seen[(i + k) & (RDNS_SEEN_SLOTS - 1)];

		if (slot == NULL)
			return false;
		if (strcmp(slot, ip) == 0)
			return true;
	}
	return true;
}

void
import_rdns_note(struct import_rdns *r, const char *ip)
{
	char **nv;

	/* bounded: a report of many rows keeps at most RDNS_MAX_PER_RUN
	 * (duplicates among them are skipped when flushed) */
	if (r == NULL || ip == NULL || *ip == '\0' || seen_has(r, ip) ||
	    r->npending >= RDNS_MAX_PER_RUN || r->done >= RDNS_MAX_PER_RUN)
		return;
	if (r->npending == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;

		if ((nv = realloc(r->pending, nc * sizeof(*nv))) == NULL)
			return;
		r->pending = nv;
		r->cap = nc;
	}
	if ((r->pending[r->npending] = strdup(ip)) != NULL)
		r->npending++;
}

/* The reverse name of a: in-addr.arpa (RFC 1035 section 3.5) or
 * ip6.arpa nibbles (RFC 3596 section 2.5). */
static bool
reverse_name(const char *ip, struct strbuf *out)
{
	static const char hex[] = "0123456789abcdef";
	struct addr a;
	int i;

	strbuf_reset(out);
	if (addr_parse(ip, &a) != 0)
		return false;
	if (a.v4) {
		strbuf_appendf(out, "%u.%u.%u.%u.in-addr.arpa", a.a[15],
		    a.a[14], a.a[13], a.a[12]);
		return true;
	}
	for (i = 15; i >= 0; i--)
		strbuf_appendf(out, "%c.%c.", hex[a.a[i] & 15],
		    hex[a.a[i] >> 4]);
	strbuf_appends(out, "ip6.arpa");
	return true;
}

static const char *
status_of(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_ERR_TIMEOUT:
	case DNS_ERR_DEADLINE:
		return "timeout";
	case DNS_ERR_SERVFAIL:
		return "servfail";
	default:
		return "error";
	}
}

static void
resolve_one(struct import_rdns *r, const char *ip)
{
	struct strbuf name = STRBUF_INIT, err = STRBUF_INIT;
	struct dns_deadline dl;
	struct dns_answer ans;
	enum dns_status ds;
	const char *ptr = "";
	char *org = NULL;
	time_t now = time(NULL), at;
	bool found;

	if (store_rdns_get(r->im, ip, &found, &at, &err) != STORE_OK ||
	    (found && now - at < r->max_age) ||
	    !reverse_name(ip, &name) || r->done >= RDNS_MAX_PER_RUN)
		goto done;
	r->done++;
	dns_deadline_in(&dl, RDNS_DEADLINE_MS);
	ds = dns_query(r->res, strbuf_cstr(&name), DNS_TYPE_PTR, &dl, &ans);
	if (ds == DNS_ERR_TIMEOUT || ds == DNS_ERR_DEADLINE ||
	    ds == DNS_ERR_NETWORK || ds == DNS_ERR_NO_SERVERS) {
		if (++r->down == RDNS_MAX_DOWN) {
			fprintf(stderr, "dmarcctl: import: reverse DNS given up "
			    "for this run: %u lookups in a row failed (%s)\n",
			    RDNS_MAX_DOWN, dns_strerror(ds));
			r->done = RDNS_MAX_PER_RUN;
		}
		dns_answer_clear(&ans);
		goto done;		/* not cached: asked again next run */
	}
	r->down = 0;
	if (ds == DNS_OK && ans.nrr > 0 && ans.rr[0].u.name != NULL) {
		ptr = ans.rr[0].u.name;
		if (r->psl != NULL &&
		    orgdomain_psl_lookup(r->psl, ptr, &org) != ORGDOMAIN_OK)
			org = NULL;
	}
	store_rdns_put(r->im, ip, ptr, org != NULL ? org : "", status_of(ds),
	    now, &err);
	free(org);
	dns_answer_clear(&ans);
done:
	strbuf_release(&name);
	strbuf_release(&err);
}

void
import_rdns_flush(struct import_rdns *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->npending; i++) {
		if (!seen_mark(r, r->pending[i]))
			resolve_one(r, r->pending[i]);
		free(r->pending[i]);
	}
	r->npending = 0;
}

void
import_rdns_discard(struct import_rdns *r)
{
	import_rdns_discard_from(r, 0);
}

size_t
import_rdns_mark(const struct import_rdns *r)
{
	return r != NULL ? r->npending : 0;
}

void
import_rdns_discard_from(struct import_rdns *r, size_t mark)
{
	size_t i;

	if (r == NULL || mark > r->npending)
		return;
	for (i = mark; i < r->npending; i++)
		free(r->pending[i]);
	r->npending = mark;
}
