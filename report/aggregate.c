/*
 * aggregate.c - group the verdict history into DMARC aggregate reports
 * and write them as XML (RFC 9990 section 2.1, and the RFC 7489
 * appendix C form).
 *
 * Grouping (RFC 9990 section 2.1.3 "one record per (IP, result,
 * authentication identifiers) tuple"): rows of one policy domain are one
 * <record> when they share source IP, header_from, envelope_from, the SPF
 * result, domain and scope, the whole DKIM result set (domain, selector,
 * result of every signature, in order), the disposition, the dkim/spf
 * policy_evaluated results and the override reasons with their comment.
 * envelope_to is not in the history, so it is neither grouped on nor
 * written.  Records are written sorted by their grouping key (source IP
 * first), so the same rows always give the same bytes.
 *
 * Published policy: a report holds one policy_published (RFC 9990
 * section 2.1 "Changes in Policy During Reporting Period"); when the
 * record changed during the period this module reports the last one seen
 * (the rows come in order of received time) and says so in an XML
 * comment, as the section allows.
 *
 * Left out: sending, envelope_to, human_result, <error>, extensions.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "xml.h"
#include "common/mem.h"
#include "store/store.h"

#define DAY	86400

/* The grouping key: these fields, each followed by a NUL. */
enum {
	K_IP, K_FROM, K_ENVFROM, K_SPF_RESULT, K_SPF_DOMAIN, K_SPF_SCOPE,
	K_DKIM, K_DISPOSITION, K_EVAL_DKIM, K_EVAL_SPF, K_REASONS,
	K_COMMENT, K_NFIELDS
};

struct group {
	char	*key;		/* K_NFIELDS NUL-terminated fields */
	size_t	 keylen;
	uint64_t hash;
	uint64_t count;
};

/* Published-policy fields of the last row seen. */
struct published {
	char	 p[12], sp[12], np[12];
	int	 pct;
	bool	 testing;
	char	 adkim[2], aspf[2];
	char	 fo[8];
	char	 discovery_method[16];
};

struct aggregate_report {
	char	 domain[254];
	time_t	 from, to;
	uint64_t hash;		/* of domain, for the set's table */
	struct published pol;
	bool	 have_pol;
	char	 rua[512];	/* of the last row seen: where to send */
	struct aggregate_stats st;
	struct group **slots;	/* open addressing, power of two */
	size_t	 nslots;
	struct group **sorted;	/* filled by finish() */
};

struct aggregate_set {
	struct aggregate_report **slots;
	size_t	 nslots, count;
	struct aggregate_report **sorted;
	time_t	 from, to;
	struct strbuf key;	/* scratch */
	bool	 nomem;
};

/* FNV-1a, 64 bits. */
static uint64_t
hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define HASH_INIT	0xcbf29ce484222325ULL

static void
group_free(struct group *g)
{
	if (g == NULL)
		return;
	mem_free(g->key);
	mem_free(g);
}

static void
report_free(struct aggregate_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nslots; i++)
		group_free(r->slots[i]);
	mem_free(r->slots);
	mem_free(r->sorted);
	mem_free(r);
}

void
aggregate_set_free(struct aggregate_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nslots; i++)
		report_free(s->slots[i]);
	mem_free(s->slots);
	mem_free(s->sorted);
	strbuf_release(&s->key);
	mem_free(s);
}

/* Double a hash table (rehashing); 0, or -1 when out of memory. */
static int
group_grow(struct aggregate_report *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 64, i, j;
	struct group **t;

	if ((t = mem_calloc(n, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < r->nslots; i++) {
		if (r->slots[i] == NULL)
			continue;
		for (j = r->slots[i]->hash & (n - 1); t[j] != NULL;
		    j = (j + 1) & (n - 1))
			;
		t[j] = r->slots[i];
	}
	mem_free(r->slots);
	r->slots = t;
	r->nslots = n;
	return 0;
}

static int
set_grow(struct aggregate_set *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 16, i, j;
	struct aggregate_report **t;

	if ((t = mem_calloc(n, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i] == NULL)
			continue;
		for (j = s->slots[i]->hash & (n - 1); t[j] != NULL;
		    j = (j + 1) & (n - 1))
			;
		t[j] = s->slots[i];
	}
	mem_free(s->slots);
	s->slots = t;
	s->nslots = n;
	return 0;
}

static struct aggregate_report *
set_domain(struct aggregate_set *s, const char *domain)
{
	size_t len = strnlen(domain, 253), i;
	uint64_t h = hash_bytes(domain, len, HASH_INIT);
	struct aggregate_report *r;

	if ((s->count + 1) * 2 > s->nslots && set_grow(s) != 0)
		return NULL;
	for (i = h & (s->nslots - 1); (r = s->slots[i]) != NULL;
	    i = (i + 1) & (s->nslots - 1))
		if (r->hash == h && strncmp(r->domain, domain, len) == 0 &&
		    r->domain[len] == '\0')
			return r;
	if ((r = mem_calloc(1, sizeof(*r))) == NULL)
		return NULL;
	memcpy(r->domain, domain, len);
	r->hash = h;
	r->from = s->from;
	r->to = s->to;
	s->slots[i] = r;
	s->count++;
	return r;
}

static void
key_field(struct strbuf *k, const char *v, size_t max)
{
	strbuf_append(k, v, strnlen(v, max));
	strbuf_appendc(k, '\0');
}
#define KEY(k, field)	key_field((k), (field), sizeof(field))

/* RFC 9990 section 2.1.3.2 policy_evaluated dkim/spf (aligned pass). */
static const char *
eval_dkim(const struct store_record *r)
{
	unsigned i;

	for (i = 0; i < r->ndkim && i < STORE_MAX_DKIM; i++)
		if (r->dkim[i].aligned &&
		    strcmp(r->dkim[i].result, "pass") == 0)
			return "pass";
	return "fail";
}

static const char *
eval_spf(const struct store_record *r)
{
	return r->spf_aligned && strcmp(r->spf_result, "pass") == 0 ?
	    "pass" : "fail";
}

static void
build_key(struct strbuf *k, const struct store_record *r)
{
	strbuf_reset(k);
	KEY(k, r->client_ip);
	KEY(k, r->header_from);
	KEY(k, r->mail_from_domain);
	KEY(k, r->spf_result);
	KEY(k, r->spf_domain);
	KEY(k, r->spf_scope);
	/* The DKIM encoding is canonical (store.h), so equal strings mean
	 * equal result sets. */
	store_dkim_encode(r->dkim, r->ndkim, k);
	strbuf_appendc(k, '\0');
	KEY(k, r->disposition);
	strbuf_appends(k, eval_dkim(r));
	strbuf_appendc(k, '\0');
	strbuf_appends(k, eval_spf(r));
	strbuf_appendc(k, '\0');
	KEY(k, r->reasons);
	KEY(k, r->reason_comment);
}

static void
take_policy(struct aggregate_report *rep, const struct store_record *r)
{
	struct published p;

	memset(&p, 0, sizeof(p));
#define CP(f)	memcpy(p.f, r->f, sizeof(p.f) - 1)
	CP(p); CP(sp); CP(np); CP(adkim); CP(aspf); CP(fo);
	CP(discovery_method);
#undef CP
	p.pct = r->pct;
	p.testing = r->testing;
	if (!rep->have_pol || memcmp(&p, &rep->pol, sizeof(p)) != 0)
		rep->st.policies++;
	rep->pol = p;
	rep->have_pol = true;
}

static int
add_row(const struct store_record *r, void *ctx)
{
	struct aggregate_set *s = ctx;
	struct aggregate_report *rep;
	struct group *g;
	uint64_t h;
	size_t i;

	/* Not DMARC-evaluated: no policy domain, skipped by the milter
	 * (trusted or authenticated clients), or no policy applied. */
	if (r->policy_domain[0] == '\0')
		return 0;
	if ((rep = set_domain(s, r->policy_domain)) == NULL)
		goto nomem;
	rep->st.rows++;
	if (strcmp(r->action, "skip") == 0 || r->p[0] == '\0') {
		rep->st.skipped++;
		return 0;
	}
	take_policy(rep, r);
	memcpy(rep->rua, r->rua, sizeof(rep->rua) - 1);
	build_key(&s->key, r);
	if (strbuf_failed(&s->key))
		goto nomem;
	h = hash_bytes(s->key.data, s->key.len, HASH_INIT);
	if ((rep->st.records + 1) * 2 > rep->nslots && group_grow(rep) != 0)
		goto nomem;
	for (i = h & (rep->nslots - 1); (g = rep->slots[i]) != NULL;
	    i = (i + 1) & (rep->nslots - 1))
		if (g->hash == h && g->keylen == s->key.len &&
		    memcmp(g->key, s->key.data, g->keylen) == 0)
			break;
	if (g == NULL) {
		if ((g = mem_calloc(1, sizeof(*g))) == NULL)
			goto nomem;
		if ((g->key = mem_alloc(s->key.len)) == NULL) {
			mem_free(g);
			goto nomem;
		}
		memcpy(g->key, s->key.data, s->key.len);
		g->keylen = s->key.len;
		g->hash = h;
		rep->slots[i] = g;
		rep->st.records++;
	}
	g->count++;
	rep->st.messages++;
	return 0;
nomem:
	s->nomem = true;
	return 1;
}

static int
cmp_group(const void *a, const void *b)
{
	const struct group *x = *(struct group *const *)a;
	const struct group *y = *(struct group *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

static int
cmp_report(const void *a, const void *b)
{
	return strcmp((*(struct aggregate_report *const *)a)->domain,
	    (*(struct aggregate_report *const *)b)->domain);
}

/* Sorted views of the tables. */
static int
finish(struct aggregate_set *s)
{
	struct aggregate_report *r;
	size_t i, j, n = 0;

	if ((s->sorted = mem_calloc(s->count + 1, sizeof(*s->sorted))) ==
	    NULL)
		return -1;
	for (i = 0; i < s->nslots; i++) {
		if ((r = s->slots[i]) == NULL)
			continue;
		s->sorted[n++] = r;
		if ((r->sorted = mem_calloc(r->st.records + 1,
		    sizeof(*r->sorted))) == NULL)
			return -1;
		for (j = 0, r->st.records = 0; j < r->nslots; j++)
			if (r->slots[j] != NULL)
				r->sorted[r->st.records++] = r->slots[j];
		qsort(r->sorted, r->st.records, sizeof(*r->sorted),
		    cmp_group);
	}
	qsort(s->sorted, n, sizeof(*s->sorted), cmp_report);
	return 0;
}

enum aggregate_status
aggregate_collect(struct store *st, const char *policy_domain, time_t from,
    time_t to, struct aggregate_set **out, struct strbuf *err)
{
	struct aggregate_set *s;
	enum store_status ss;

	*out = NULL;
	/* RFC 9990 section 2.1.2.1: whole UTC days, no overlap. */
	if (from < 0 || to <= from || from % DAY != 0 || to % DAY != 0) {
		if (err != NULL)
			strbuf_appendf(err, "period %lld..%lld is not on UTC "
			    "day boundaries", (long long)from, (long long)to);
		return AGGREGATE_ERR_PERIOD;
	}
	if ((s = mem_calloc(1, sizeof(*s))) == NULL)
		return AGGREGATE_ERR_NOMEM;
	strbuf_init(&s->key);
	s->from = from;
	s->to = to;
	ss = store_query_verdicts(st, policy_domain, from, to, add_row, s,
	    err);
	if (s->nomem || (ss == STORE_OK && finish(s) != 0)) {
		aggregate_set_free(s);
		return AGGREGATE_ERR_NOMEM;
	}
	if (ss != STORE_OK) {
		aggregate_set_free(s);
		return AGGREGATE_ERR_READ;
	}
	*out = s;
	return AGGREGATE_OK;
}

size_t
aggregate_set_count(const struct aggregate_set *s)
{
	return s->count;
}

const struct aggregate_report *
aggregate_set_get(const struct aggregate_set *s, size_t i)
{
	return i < s->count ? s->sorted[i] : NULL;
}

const char *
aggregate_report_domain(const struct aggregate_report *r)
{
	return r->domain;
}

const char *
aggregate_report_rua(const struct aggregate_report *r)
{
	return r->rua;
}

void
aggregate_report_stats(const struct aggregate_report *r,
    struct aggregate_stats *st)
{
	*st = r->st;
}

void
aggregate_report_id(const struct aggregate_report *r,
    const struct aggregate_meta *m, struct strbuf *out)
{
	char buf[64];
	uint64_t h = HASH_INIT;
	struct tm tm;
	time_t t = r->from;

	h = hash_bytes(m->receiver ? m->receiver : "",
	    strlen(m->receiver ? m->receiver : "") + 1, h);
	h = hash_bytes(m->org_name, strlen(m->org_name) + 1, h);
	h = hash_bytes(r->domain, strlen(r->domain) + 1, h);
	snprintf(buf, sizeof(buf), "%lld-%lld", (long long)r->from,
	    (long long)r->to);
	h = hash_bytes(buf, strlen(buf), h);
	gmtime_r(&t, &tm);
	strbuf_appendf(out, "%04d%02d%02d%016llx", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, (unsigned long long)h);
}

void
aggregate_filename(const struct aggregate_report *r,
    const struct aggregate_meta *m, struct strbuf *out)
{
	/* RFC 9990 section 3.2.1.1; end as in date_range. */
	strbuf_appendf(out, "%s!%s!%lld!%lld!", m->receiver ? m->receiver :
	    "", r->domain, (long long)r->from, (long long)r->to - 1);
	aggregate_report_id(r, m, out);
	strbuf_appends(out, ".xml.gz");
}

const char *
aggregate_strerror(enum aggregate_status st)
{
	switch (st) {
	case AGGREGATE_OK:
		return "success";
	case AGGREGATE_ERR_NOMEM:
		return "out of memory";
	case AGGREGATE_ERR_READ:
		return "cannot read the history";
	case AGGREGATE_ERR_PERIOD:
		return "period not on UTC day boundaries";
	case AGGREGATE_ERR_GZIP:
		return "gzip compression failed";
	}
	return "unknown error";
}

const char *
aggregate_format_name(enum aggregate_format f)
{
	return f == AGGREGATE_RFC7489 ? "rfc7489" : "rfc9990";
}

int
aggregate_format_parse(const char *s, enum aggregate_format *f)
{
	if (strcmp(s, "rfc9990") == 0)
		*f = AGGREGATE_RFC9990;
	else if (strcmp(s, "rfc7489") == 0)
		*f = AGGREGATE_RFC7489;
	else
		return -1;
	return 0;
}

/* ---- XML (RFC 9990 section 2.1, RFC 7489 appendix C) ---- */

static const char *const dkim_results[] = { "none", "pass", "fail",
	"policy", "neutral", "temperror", "permerror", NULL };
static const char *const spf_results[] = { "none", "pass", "fail",
	"softfail", "policy", "neutral", "temperror", "permerror", NULL };
static const char *const policies[] = { "none", "quarantine", "reject",
	NULL };
static const char *const reasons_9990[] = { "local_policy",
	"mailing_list", "other", "policy_test_mode", "trusted_forwarder",
	NULL };
static const char *const reasons_7489[] = { "forwarded", "sampled_out",
	"trusted_forwarder", "mailing_list", "local_policy", "other", NULL };

static bool
in_list(const char *v, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(v, *list) == 0)
			return true;
	return false;
}

/* v if the schema allows it, else fallback (values come from our own
 * milter, so a fallback means a newer writer or a damaged row). */
static const char *
enum_or(const char *v, const char *const *list, const char *fallback)
{
	return in_list(v, list) ? v : fallback;
}

static void
split_key(const struct group *g, const char *f[K_NFIELDS])
{
	const char *p = g->key;
	int i;

	for (i = 0; i < K_NFIELDS; i++) {
		f[i] = p;
		p += strlen(p) + 1;
	}
}

static void
write_metadata(struct xml *x, const struct aggregate_report *r,
    const struct aggregate_meta *m, enum aggregate_format fmt)
{
	struct strbuf id = STRBUF_INIT;

	xml_open(x, "report_metadata", NULL);
	xml_elem(x, "org_name", m->org_name);
	xml_elem(x, "email", m->email);
	if (m->extra_contact_info != NULL && m->extra_contact_info[0] != '\0')
		xml_elem(x, "extra_contact_info", m->extra_contact_info);
	aggregate_report_id(r, m, &id);
	xml_elem(x, "report_id", strbuf_cstr(&id));
	strbuf_release(&id);
	/* RFC 9990 section 2.1.2.1: the reporting period, not the first
	 * and last message; end is the period's last second, so the
	 * reports of consecutive days do not overlap. */
	xml_open(x, "date_range", NULL);
	xml_elem_int(x, "begin", (long long)r->from);
	xml_elem_int(x, "end", (long long)r->to - 1);
	xml_close(x);
	if (fmt == AGGREGATE_RFC9990 && m->generator != NULL &&
	    m->generator[0] != '\0')
		xml_elem(x, "generator", m->generator);
	xml_close(x);
}

static void
write_policy(struct xml *x, const struct aggregate_report *r,
    enum aggregate_format fmt)
{
	const struct published *p = &r->pol;
	const char *adkim = p->adkim[0] ? p->adkim : "r";
	const char *aspf = p->aspf[0] ? p->aspf : "r";
	const char *pp = enum_or(p->p, policies, "none");
	const char *sp = p->sp[0] ? enum_or(p->sp, policies, pp) : pp;
	char pct[16];

	if (r->st.policies > 1)
		xml_comment(x, "the published DMARC record changed during "
		    "the period: this is the last one seen (RFC 9990 "
		    "section 2.1, Changes in Policy During Reporting "
		    "Period)");
	xml_open(x, "policy_published", NULL);
	xml_elem(x, "domain", r->domain);
	if (fmt == AGGREGATE_RFC7489) {
		/* Appendix C: sp, pct and fo are required; write the
		 * defaults when the record had none. */
		xml_elem(x, "adkim", strcmp(adkim, "s") ? "r" : "s");
		xml_elem(x, "aspf", strcmp(aspf, "s") ? "r" : "s");
		xml_elem(x, "p", pp);
		xml_elem(x, "sp", sp);
		snprintf(pct, sizeof(pct), "%d", p->pct < 0 || p->pct > 100 ?
		    100 : p->pct);
		xml_elem(x, "pct", pct);
		xml_elem(x, "fo", p->fo[0] ? p->fo : "0");
	} else {
		xml_elem(x, "p", pp);
		if (p->sp[0])
			xml_elem(x, "sp", sp);
		if (p->np[0])
			xml_elem(x, "np", enum_or(p->np, policies, sp));
		xml_elem(x, "adkim", strcmp(adkim, "s") ? "r" : "s");
		xml_elem(x, "aspf", strcmp(aspf, "s") ? "r" : "s");
		if (strcmp(p->discovery_method, "psl") == 0 ||
		    strcmp(p->discovery_method, "treewalk") == 0)
			xml_elem(x, "discovery_method", p->discovery_method);
		xml_elem(x, "fo", p->fo[0] ? p->fo : "0");
		xml_elem(x, "testing", p->testing ? "y" : "n");
	}
	xml_close(x);
}

/*
 * The override reasons, comma-joined in the row.  Types the format does
 * not know become "other" with the original type in the comment:
 * sampled_out and forwarded in RFC 9990 (pct= is gone), policy_test_mode
 * in RFC 7489.  The row's one comment goes with the first reason.
 */
static void
write_reasons(struct xml *x, const char *reasons, const char *comment,
    enum aggregate_format fmt)
{
	struct strbuf type = STRBUF_INIT, c = STRBUF_INIT;
	const char *p = reasons, *e;
	bool first = true;

	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		strbuf_reset(&type);
		strbuf_reset(&c);
		strbuf_append(&type, p, (size_t)(e - p));
		p = *e ? e + 1 : e;
		if (type.len == 0)
			continue;
		if (!in_list(strbuf_cstr(&type), fmt == AGGREGATE_RFC7489 ?
		    reasons_7489 : reasons_9990)) {
			if (strcmp(strbuf_cstr(&type), "policy_test_mode") ==
			    0)
				strbuf_appends(&c, "policy_test_mode: the "
				    "DMARC record has t=y");
			else
				strbuf_appends(&c, strbuf_cstr(&type));
			strbuf_reset(&type);
			strbuf_appends(&type, "other");
		}
		if (first && comment[0] != '\0') {
			if (c.len > 0)
				strbuf_appends(&c, "; ");
			strbuf_appends(&c, comment);
		}
		first = false;
		xml_open(x, "reason", NULL);
		xml_elem(x, "type", strbuf_cstr(&type));
		if (c.len > 0)
			xml_elem(x, "comment", strbuf_cstr(&c));
		xml_close(x);
	}
	strbuf_release(&type);
	strbuf_release(&c);
}

/*
 * RFC 7489 appendix C's IPAddress pattern accepts IPv6 only as eight
 * groups, without "::"; write IPv6 addresses that way in that form.
 */
static void
write_source_ip(struct xml *x, const char *ip, enum aggregate_format fmt)
{
	unsigned char a[16];
	char buf[48];
	int i, n = 0;

	if (fmt != AGGREGATE_RFC7489 || strchr(ip, ':') == NULL ||
	    inet_pton(AF_INET6, ip, a) != 1) {
		xml_elem(x, "source_ip", ip);
		return;
	}
	for (i = 0; i < 16; i += 2)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%x",
		    i ? ":" : "", (unsigned)(a[i] << 8 | a[i + 1]));
	xml_elem(x, "source_ip", buf);
}

static void
write_record(struct xml *x, const struct group *g, enum aggregate_format fmt)
{
	struct store_dkim dkim[STORE_MAX_DKIM];
	const char *f[K_NFIELDS], *disp;
	unsigned n = 0, i;

	split_key(g, f);
	disp = enum_or(f[K_DISPOSITION], policies, "none");
	/* RFC 9990 adds "pass" (DMARC passed under an enforcing policy);
	 * RFC 7489 has only none, quarantine and reject. */
	if (fmt == AGGREGATE_RFC9990 && strcmp(f[K_DISPOSITION], "pass") == 0)
		disp = "pass";
	xml_open(x, "record", NULL);
	xml_open(x, "row", NULL);
	write_source_ip(x, f[K_IP], fmt);
	xml_elem_int(x, "count", (long long)g->count);
	xml_open(x, "policy_evaluated", NULL);
	xml_elem(x, "disposition", disp);
	xml_elem(x, "dkim", f[K_EVAL_DKIM]);
	xml_elem(x, "spf", f[K_EVAL_SPF]);
	write_reasons(x, f[K_REASONS], f[K_COMMENT], fmt);
	xml_close(x);
	xml_close(x);
	xml_open(x, "identifiers", NULL);
	xml_elem(x, "header_from", f[K_FROM]);
	/* Empty for a null reverse-path (RFC 9990 section 2.1.3.3). */
	xml_elem(x, "envelope_from", f[K_ENVFROM]);
	xml_close(x);
	xml_open(x, "auth_results", NULL);
	if (store_dkim_decode(f[K_DKIM], dkim, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		xml_open(x, "dkim", NULL);
		xml_elem(x, "domain", dkim[i].domain);
		xml_elem(x, "selector", dkim[i].selector);
		xml_elem(x, "result", enum_or(dkim[i].result, dkim_results,
		    "permerror"));
		xml_close(x);
	}
	/* RFC 9990: spf is optional and only the mfrom scope exists;
	 * RFC 7489: spf is required, with scope helo or mfrom. */
	if (f[K_SPF_RESULT][0] != '\0' || fmt == AGGREGATE_RFC7489) {
		xml_open(x, "spf", NULL);
		xml_elem(x, "domain", f[K_SPF_DOMAIN][0] ? f[K_SPF_DOMAIN] :
		    f[K_ENVFROM]);
		if (fmt == AGGREGATE_RFC7489)
			xml_elem(x, "scope", strcmp(f[K_SPF_SCOPE], "helo") ?
			    "mfrom" : "helo");
		else if (strcmp(f[K_SPF_SCOPE], "mfrom") == 0 ||
		    f[K_SPF_SCOPE][0] == '\0')
			xml_elem(x, "scope", "mfrom");
		xml_elem(x, "result", f[K_SPF_RESULT][0] ?
		    enum_or(f[K_SPF_RESULT], spf_results, "permerror") :
		    "none");
		xml_close(x);
	}
	xml_close(x);
	xml_close(x);
}

enum aggregate_status
aggregate_write_xml(const struct aggregate_report *r,
    const struct aggregate_meta *m, enum aggregate_format fmt,
    struct strbuf *out)
{
	struct xml x;
	size_t i;

	/* The schemas require one record at least. */
	if (r->st.records == 0)
		return AGGREGATE_ERR_READ;
	xml_init(&x, out);
	xml_open(&x, "feedback", fmt == AGGREGATE_RFC9990 ?
	    "xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\"" : NULL);
	/* RFC 9990 section 2.1.1: version MUST be 1.0 (RFC 7489 too). */
	xml_elem(&x, "version", "1.0");
	write_metadata(&x, r, m, fmt);
	write_policy(&x, r, fmt);
	for (i = 0; i < r->st.records; i++)
		write_record(&x, r->sorted[i], fmt);
	xml_close(&x);
	return strbuf_failed(out) ? AGGREGATE_ERR_NOMEM : AGGREGATE_OK;
}
