/*
 * answer.c - from a DNS reply on the wire to struct dns_answer.
 *
 * The parse is pure (no sockets, no clock, no globals) so that fuzzers and
 * unit tests can feed it any bytes.  ldns decodes the packet; this file
 * checks that the reply answers the question, follows CNAMEs inside the
 * answer section, tells NXDOMAIN from NODATA, takes the negative TTL from
 * the SOA, and enforces the limits on records and TXT sizes.
 *
 * Implements: RFC 1034 section 3.6.2 and RFC 1035 section 4 (CNAME in
 * answers, message format), RFC 2308 sections 2 and 5 (negative answers
 * and their TTL), RFC 6604 (the RCODE applies to the last name of a CNAME
 * chain), RFC 7208 section 3.3 (TXT character-strings are joined without
 * separator).  Leaves out: DNSSEC validation, DNAME (recursive resolvers
 * synthesise the CNAME for us), classes other than IN.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/mem.h"
#include "policy/lookup.h"
#include "answer.h"

static const struct {
	const char *name;
	const char *text;
	bool	 temporary;
} dns_statuses[] = {
	[DNS_OK] = { "ok", "success", false },
	[DNS_NXDOMAIN] = { "nxdomain", "the name does not exist", false },
	[DNS_NODATA] = { "nodata", "no record of that type", false },
	[DNS_ERR_TIMEOUT] = { "timeout", "no reply from any nameserver",
	    true },
	[DNS_ERR_DEADLINE] = { "deadline", "the lookup deadline has passed",
	    true },
	[DNS_ERR_SERVFAIL] = { "servfail", "nameserver failure (SERVFAIL)",
	    true },
	[DNS_ERR_NETWORK] = { "network", "network error talking to the "
	    "nameserver", true },
	[DNS_ERR_NOMEM] = { "nomem", "out of memory", true },
	[DNS_ERR_NO_SERVERS] = { "no-servers", "no nameserver configured",
	    true },
	/*
	 * Temporary: RFC 7208 section 5 makes any RCODE other than 0 and 3
	 * a temperror, and DMARC and DKIM follow the same rule here, so one
	 * refusing resolver gives one verdict (tests/faults).
	 */
	[DNS_ERR_REFUSED] = { "refused", "query refused or not understood "
	    "by the nameserver", true },
	[DNS_ERR_MALFORMED] = { "malformed", "malformed reply", false },
	[DNS_ERR_TRUNCATED] = { "truncated", "truncated reply and TCP "
	    "fallback disabled", false },
	[DNS_ERR_BADNAME] = { "badname", "invalid query name", false },
	[DNS_ERR_QTYPE] = { "qtype", "unsupported query type", false },
	[DNS_ERR_TOO_MANY] = { "too-many-records", "too many records in "
	    "the answer", false },
	[DNS_ERR_TXT_TOO_LONG] = { "txt-too-long", "TXT record over the "
	    "length limit", false },
	[DNS_ERR_TOO_BIG] = { "answer-too-big", "TXT data of the answer over "
	    "the size limit", false },
	[DNS_ERR_CNAME_CHAIN] = { "cname-chain", "CNAME chain too long",
	    false },
	[DNS_ERR_CNAME_LOOP] = { "cname-loop", "CNAME loop", false },
	[DNS_ERR_CONFIG] = { "config", "invalid resolver configuration",
	    false },
};

const char *
dns_strerror(enum dns_status st)
{
	if ((size_t)st >= sizeof(dns_statuses) / sizeof(dns_statuses[0]) ||
	    dns_statuses[st].text == NULL)
		return "unknown DNS status";
	return dns_statuses[st].text;
}

const char *
dns_status_name(enum dns_status st)
{
	if ((size_t)st >= sizeof(dns_statuses) / sizeof(dns_statuses[0]) ||
	    dns_statuses[st].name == NULL)
		return "unknown";
	return dns_statuses[st].name;
}

bool
dns_status_is_temporary(enum dns_status st)
{
	if ((size_t)st >= sizeof(dns_statuses) / sizeof(dns_statuses[0]))
		return true;
	return dns_statuses[st].temporary;
}

void
dns_limits_default(struct dns_limits *lim)
{
	lim->max_records = 64;
	lim->max_txt_len = LOOKUP_MAX_TXT_LEN;
	lim->max_txt_total = 64 * 1024;
	lim->max_cname = 8;
}

void
dns_answer_init(struct dns_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	ans->status = DNS_ERR_NOMEM;
}

static void
rr_clear(struct dns_rr *rr)
{
	switch (rr->type) {
	case DNS_TYPE_MX:
		mem_free(rr->u.mx.host);
		break;
	case DNS_TYPE_PTR:
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
		mem_free(rr->u.name);
		break;
	case DNS_TYPE_TXT:
		mem_free(rr->u.txt.data);
		break;
	default:
		break;
	}
}

void
dns_answer_clear(struct dns_answer *ans)
{
	size_t i;

	for (i = 0; i < ans->nrr; i++)
		rr_clear(&ans->rr[i]);
	mem_free(ans->rr);
	mem_free(ans->cname_target);
	dns_answer_init(ans);
}

static int
rr_copy(struct dns_rr *dst, const struct dns_rr *src)
{
	*dst = *src;
	switch (src->type) {
	case DNS_TYPE_MX:
		dst->u.mx.host = mem_strdup(src->u.mx.host);
		return dst->u.mx.host == NULL ? -1 : 0;
	case DNS_TYPE_PTR:
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
		dst->u.name = mem_strdup(src->u.name);
		return dst->u.name == NULL ? -1 : 0;
	case DNS_TYPE_TXT:
		dst->u.txt.data = mem_strndup(src->u.txt.data, src->u.txt.len);
		return dst->u.txt.data == NULL ? -1 : 0;
	default:
		return 0;
	}
}

enum dns_status
dns_answer_copy(struct dns_answer *dst, const struct dns_answer *src)
{
	size_t i;

	dns_answer_init(dst);
	dst->status = src->status;
	dst->qtype = src->qtype;
	dst->ttl = src->ttl;
	dst->has_ttl = src->has_ttl;
	dst->cname_hops = src->cname_hops;
	dst->from_cache = src->from_cache;
	if (src->cname_target != NULL &&
	    (dst->cname_target = mem_strdup(src->cname_target)) == NULL)
		goto fail;
	if (src->nrr > 0) {
		dst->rr = mem_calloc(src->nrr, sizeof(*dst->rr));
		if (dst->rr == NULL)
			goto fail;
		for (i = 0; i < src->nrr; i++) {
			if (rr_copy(&dst->rr[i], &src->rr[i]) == -1)
				goto fail;
			dst->nrr++;
		}
	}
	return DNS_OK;
fail:
	dns_answer_clear(dst);
	dst->status = DNS_ERR_NOMEM;
	return DNS_ERR_NOMEM;
}

size_t
dns_answer_size(const struct dns_answer *ans)
{
	size_t i, n;

	n = sizeof(*ans) + ans->nrr * sizeof(struct dns_rr);
	if (ans->cname_target != NULL)
		n += strlen(ans->cname_target) + 1;
	for (i = 0; i < ans->nrr; i++) {
		const struct dns_rr *rr = &ans->rr[i];

		switch (rr->type) {
		case DNS_TYPE_MX:
			n += strlen(rr->u.mx.host) + 1;
			break;
		case DNS_TYPE_PTR:
		case DNS_TYPE_NS:
		case DNS_TYPE_CNAME:
			n += strlen(rr->u.name) + 1;
			break;
		case DNS_TYPE_TXT:
			n += rr->u.txt.len + 1;
			break;
		default:
			break;
		}
	}
	return n;
}

enum dns_status
dns_name_normalize(const char *name, char *buf, size_t bufsz)
{
	size_t i, len, label;
	unsigned char c;

	len = strlen(name);
	/* One trailing dot is the absolute form of the same name. */
	if (len > 0 && name[len - 1] == '.')
		len--;
	/* RFC 1035 section 2.3.4: 255 octets on the wire, 253 as text. */
	if (len == 0 || len > 253 || len + 1 > bufsz)
		return DNS_ERR_BADNAME;
	label = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		/*
		 * Any octet is legal in a label, but names reach us from mail
		 * headers and SPF macros: control characters and backslashes
		 * (which ldns would read as escapes) have no business in them.
		 * A space is allowed: SPF's %_ macro makes one (RFC 7208
		 * section 7.3), and dns_name_rdf() escapes it for ldns.
		 */
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			return DNS_ERR_BADNAME;
		if (c == '.') {
			if (label == 0)
				return DNS_ERR_BADNAME;
			label = 0;
		} else if (++label > 63) {
			return DNS_ERR_BADNAME;
		}
		buf[i] = (char)tolower(c);
	}
	buf[len] = '\0';
	return DNS_OK;
}

ldns_rdf *
dns_name_rdf(const char *norm)
{
	char buf[DNS_NAME_TEXT_MAX];
	size_t o = 0;

	/* ldns reads presentation format: write a space as \032. */
	for (; *norm != '\0'; norm++) {
		if (o + 5 >= sizeof(buf))
			return NULL;
		if (*norm == ' ') {
			memcpy(buf + o, "\\032", 4);
			o += 4;
		} else
			buf[o++] = *norm;
	}
	buf[o] = '\0';
	return ldns_dname_new_frm_str(buf);
}

/* A domain name rdf as text without the trailing dot ("." for the root). */
static char *
dname_dup(const ldns_rdf *rdf)
{
	char *s, *d;
	size_t len;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return NULL;
	if ((s = ldns_rdf2str(rdf)) == NULL)
		return NULL;
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		len--;
	d = mem_strndup(s, len);
	free(s);
	return d;
}

struct parse_state {
	const struct dns_limits *lim;
	struct dns_answer *out;
	size_t	 txt_total;
	size_t	 cap;
};

static enum dns_status
add_txt(struct parse_state *ps, struct dns_rr *rr, const ldns_rr *lrr)
{
	const ldns_rdf *rdf;
	size_t i, n, len, slen;
	const uint8_t *d;
	char *buf;

	n = ldns_rr_rd_count(lrr);
	len = 0;
	for (i = 0; i < n; i++) {
		rdf = ldns_rr_rdf(lrr, i);
		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR ||
		    ldns_rdf_size(rdf) < 1 ||
		    (size_t)ldns_rdf_data(rdf)[0] + 1 != ldns_rdf_size(rdf))
			return DNS_ERR_MALFORMED;
		len += ldns_rdf_data(rdf)[0];
	}
	if (len > ps->lim->max_txt_len)
		return DNS_ERR_TXT_TOO_LONG;
	if (len > ps->lim->max_txt_total - ps->txt_total)
		return DNS_ERR_TOO_BIG;
	ps->txt_total += len;
	if ((buf = mem_alloc(len + 1)) == NULL)
		return DNS_ERR_NOMEM;
	len = 0;
	for (i = 0; i < n; i++) {
		d = ldns_rdf_data(ldns_rr_rdf(lrr, i));
		slen = d[0];
		memcpy(buf + len, d + 1, slen);
		len += slen;
	}
	buf[len] = '\0';
	rr->u.txt.data = buf;
	rr->u.txt.len = len;
	rr->u.txt.nstrings = n;
	return DNS_OK;
}

/* Decode one record of the asked type into a new slot of ps->out. */
static enum dns_status
add_rr(struct parse_state *ps, const ldns_rr *lrr)
{
	struct dns_answer *out = ps->out;
	struct dns_rr *rr, *grown;
	const ldns_rdf *rdf0;
	enum dns_status st;

	if (out->nrr >= ps->lim->max_records)
		return DNS_ERR_TOO_MANY;
	if (out->nrr == ps->cap) {
		size_t ncap = ps->cap == 0 ? 4 : ps->cap * 2;

		grown = mem_reallocarray(out->rr, ncap, sizeof(*out->rr));
		if (grown == NULL)
			return DNS_ERR_NOMEM;
		out->rr = grown;
		ps->cap = ncap;
	}
	rr = &out->rr[out->nrr];
	memset(rr, 0, sizeof(*rr));
	rr->type = out->qtype;
	rr->ttl = ldns_rr_ttl(lrr);
	rdf0 = ldns_rr_rd_count(lrr) > 0 ? ldns_rr_rdf(lrr, 0) : NULL;
	st = DNS_OK;
	switch (out->qtype) {
	case DNS_TYPE_A:
		if (rdf0 == NULL || ldns_rdf_size(rdf0) != sizeof(rr->u.a))
			return DNS_ERR_MALFORMED;
		memcpy(&rr->u.a, ldns_rdf_data(rdf0), sizeof(rr->u.a));
		break;
	case DNS_TYPE_AAAA:
		if (rdf0 == NULL || ldns_rdf_size(rdf0) != sizeof(rr->u.aaaa))
			return DNS_ERR_MALFORMED;
		memcpy(&rr->u.aaaa, ldns_rdf_data(rdf0), sizeof(rr->u.aaaa));
		break;
	case DNS_TYPE_MX:
		if (ldns_rr_rd_count(lrr) != 2 || ldns_rdf_size(rdf0) != 2)
			return DNS_ERR_MALFORMED;
		rr->u.mx.pref = ldns_rdf2native_int16(rdf0);
		if (ldns_rdf_get_type(ldns_rr_rdf(lrr, 1)) !=
		    LDNS_RDF_TYPE_DNAME)
			return DNS_ERR_MALFORMED;
		if ((rr->u.mx.host = dname_dup(ldns_rr_rdf(lrr, 1))) == NULL)
			return DNS_ERR_NOMEM;
		break;
	case DNS_TYPE_PTR:
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
		if (rdf0 == NULL ||
		    ldns_rdf_get_type(rdf0) != LDNS_RDF_TYPE_DNAME)
			return DNS_ERR_MALFORMED;
		if ((rr->u.name = dname_dup(rdf0)) == NULL)
			return DNS_ERR_NOMEM;
		break;
	case DNS_TYPE_TXT:
		st = add_txt(ps, rr, lrr);
		break;
	default:
		return DNS_ERR_QTYPE;
	}
	if (st == DNS_OK)
		out->nrr++;
	return st;
}

static void
ttl_min(struct dns_answer *out, uint32_t ttl)
{
	if (!out->has_ttl || ttl < out->ttl)
		out->ttl = ttl;
	out->has_ttl = true;
}

/*
 * RFC 2308 section 5: the negative TTL is the minimum of the SOA's own
 * TTL and its MINIMUM field.  Only an SOA at or above the name counts.
 */
static bool
negative_ttl(const ldns_pkt *pkt, const ldns_rdf *name, uint32_t *ttl)
{
	const ldns_rr_list *auth = ldns_pkt_authority(pkt);
	const ldns_rr *rr;
	const ldns_rdf *owner, *min;
	size_t i;
	uint32_t t;

	for (i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_rr_rd_count(rr) != 7)
			continue;
		owner = ldns_rr_owner(rr);
		if (ldns_dname_compare(owner, name) != 0 &&
		    !ldns_dname_is_subdomain(name, owner))
			continue;
		min = ldns_rr_rdf(rr, 6);
		if (ldns_rdf_size(min) != 4)
			continue;
		t = ldns_rdf2native_int32(min);
		*ttl = t < ldns_rr_ttl(rr) ? t : ldns_rr_ttl(rr);
		return true;
	}
	return false;
}

static enum dns_status
check_question(const ldns_pkt *pkt, const ldns_rdf *qdname, uint16_t qtype)
{
	const ldns_rr_list *q = ldns_pkt_question(pkt);
	const ldns_rr *rr;

	if (!ldns_pkt_qr(pkt) || ldns_rr_list_rr_count(q) != 1)
		return DNS_ERR_MALFORMED;
	rr = ldns_rr_list_rr(q, 0);
	if (ldns_rr_get_type(rr) != qtype ||
	    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
	    ldns_rr_owner(rr) == NULL ||
	    ldns_dname_compare(ldns_rr_owner(rr), qdname) != 0)
		return DNS_ERR_MALFORMED;
	return DNS_OK;
}

/*
 * Walk the answer section from qdname.  Returns DNS_OK with *last set to
 * the name the walk ended on (owned by the packet, or qdname).
 */
static enum dns_status
walk_answer(struct parse_state *ps, const ldns_pkt *pkt,
    const ldns_rdf *qdname, const ldns_rdf **last)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	const ldns_rdf *cur, *visited[16], *target;
	const ldns_rr *rr, *cname;
	struct dns_answer *out = ps->out;
	size_t i, nvisited, nan;
	unsigned max_cname;
	enum dns_status st;

	/* visited[] bounds the chain regardless of the configured limit. */
	max_cname = ps->lim->max_cname;
	if (max_cname > sizeof(visited) / sizeof(visited[0]) - 1)
		max_cname = sizeof(visited) / sizeof(visited[0]) - 1;
	cur = qdname;
	visited[0] = qdname;
	nvisited = 1;
	nan = ldns_rr_list_rr_count(an);
	for (;;) {
		cname = NULL;
		for (i = 0; i < nan; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
				continue;
			if (ldns_rr_get_type(rr) == out->qtype) {
				if ((st = add_rr(ps, rr)) != DNS_OK)
					return st;
				ttl_min(out, ldns_rr_ttl(rr));
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    cname == NULL) {
				cname = rr;
			}
		}
		/* Data at a name wins over a (broken) CNAME beside it. */
		if (out->nrr > 0 || cname == NULL || out->qtype ==
		    DNS_TYPE_CNAME)
			break;
		if (ldns_rr_rd_count(cname) != 1 ||
		    (target = ldns_rr_rdf(cname, 0)) == NULL ||
		    ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME)
			return DNS_ERR_MALFORMED;
		for (i = 0; i < nvisited; i++)
			if (ldns_dname_compare(visited[i], target) == 0)
				return DNS_ERR_CNAME_LOOP;
		if (out->cname_hops >= max_cname)
			return DNS_ERR_CNAME_CHAIN;
		out->cname_hops++;
		ttl_min(out, ldns_rr_ttl(cname));
		visited[nvisited++] = target;
		cur = target;
	}
	*last = cur;
	return DNS_OK;
}

enum dns_status
dns_answer_parse(const uint8_t *wire, size_t len, const char *qname,
    uint16_t qtype, const struct dns_limits *lim, struct dns_answer *out)
{
	struct parse_state ps;
	ldns_pkt *pkt = NULL;
	ldns_rdf *qdname = NULL;
	const ldns_rdf *last = NULL;
	char norm[256];
	enum dns_status st;
	uint32_t nttl;
	bool have_neg;

	dns_answer_init(out);
	out->qtype = qtype;
	memset(&ps, 0, sizeof(ps));
	ps.lim = lim;
	ps.out = out;

	if ((st = dns_name_normalize(qname, norm, sizeof(norm))) != DNS_OK)
		goto done;
	if ((qdname = dns_name_rdf(norm)) == NULL) {
		st = DNS_ERR_BADNAME;
		goto done;
	}
	/* A DNS message header alone is 12 bytes (RFC 1035 section 4.1.1). */
	if (wire == NULL || len < 12 ||
	    ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK || pkt == NULL) {
		st = DNS_ERR_MALFORMED;
		goto done;
	}
	if ((st = check_question(pkt, qdname, qtype)) != DNS_OK)
		goto done;
	switch (ldns_pkt_get_rcode(pkt)) {
	case LDNS_RCODE_NOERROR:
	case LDNS_RCODE_NXDOMAIN:
		break;
	case LDNS_RCODE_SERVFAIL:
		st = DNS_ERR_SERVFAIL;
		goto done;
	default:
		st = DNS_ERR_REFUSED;
		goto done;
	}
	if ((st = walk_answer(&ps, pkt, qdname, &last)) != DNS_OK)
		goto done;
	if (out->nrr > 0) {
		st = DNS_OK;
		goto done;
	}
	have_neg = negative_ttl(pkt, last, &nttl);
	/* RFC 6604: the RCODE speaks of the last name of the chain. */
	if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN) {
		st = DNS_NXDOMAIN;
	} else if (out->cname_hops > 0 && !have_neg) {
		/*
		 * The chain leaves what this server answered for (an
		 * authoritative server does not chase out-of-zone targets):
		 * the caller asks again for the target.
		 */
		if ((out->cname_target = dname_dup(last)) == NULL) {
			st = DNS_ERR_NOMEM;
			goto done;
		}
		st = DNS_OK;
		goto done;
	} else {
		st = DNS_NODATA;
	}
	/* RFC 2308 section 5: without an SOA, no negative caching. */
	if (have_neg)
		ttl_min(out, nttl);
	else
		out->has_ttl = false;
done:
	if (st != DNS_OK && st != DNS_NXDOMAIN && st != DNS_NODATA) {
		/* No partial answers: callers see records only with DNS_OK. */
		unsigned hops = out->cname_hops;

		dns_answer_clear(out);
		out->qtype = qtype;
		out->cname_hops = hops;
	}
	out->status = st;
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(qdname);
	return st;
}
