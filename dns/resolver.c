/*
 * resolver.c - configured nameservers, tries and retries, TCP fallback,
 * deadlines, per-thread state, the shared cache and counters.
 *
 * A query goes: cache, else round-robin over the nameservers for 1 +
 * retries rounds, each try bounded by the per-try timeout and the
 * caller's deadline; a truncated UDP reply is asked again over TCP from
 * the same server; SERVFAIL, REFUSED and unusable replies move on to the
 * next server.  A CNAME chain that leaves one reply continues with a new
 * query for its target, under the same hop limit and loop check.
 *
 * Threads: the resolver itself is immutable after dns_resolver_new()
 * except for the cache (its own mutex) and the counters (atomics).  What
 * one query needs for itself, the 64 KiB reply buffer, lives in a per-
 * thread struct created on first use (pthread key) and freed at thread
 * exit.  ldns builds queries and parses replies; we do not use an
 * ldns_resolver per thread because its send path has one port for all
 * servers and no overall deadline (see transport.c).
 *
 * Implements RFC 1035 section 7 (resolver behaviour), RFC 7766 section
 * 5 (TCP after truncation), RFC 2308 (negative caching, via cache.c).
 * Leaves out: search lists and ndots (we only ask absolute names),
 * DNSSEC validation, nameserver selection by RTT.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "resolver.h"

#define RESOLV_CONF	"/etc/resolv.conf"
#define REPLY_MAX	65535

/* What each thread keeps for itself: the reply buffer. */
struct dns_thread {
	uint8_t		 buf[REPLY_MAX];
};

struct dns_resolver {
	struct dns_config cfg;
	struct dns_cache *cache;
	dns_exchange_fn	 exchange;
	pthread_key_t	 key;
	_Atomic uint64_t queries;
	_Atomic uint64_t cache_hits;
	_Atomic uint64_t cache_misses;
	_Atomic uint64_t timeouts;
	_Atomic uint64_t errors;
	_Atomic uint64_t tcp_fallbacks;
};

static const struct {
	const char *name;
	uint16_t type;
} dns_types[] = {
	{ "A", DNS_TYPE_A },
	{ "AAAA", DNS_TYPE_AAAA },
	{ "MX", DNS_TYPE_MX },
	{ "PTR", DNS_TYPE_PTR },
	{ "NS", DNS_TYPE_NS },
	{ "CNAME", DNS_TYPE_CNAME },
	{ "TXT", DNS_TYPE_TXT },
};

const char *
dns_type_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	return "unknown";
}

uint16_t
dns_type_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strcasecmp(dns_types[i].name, name) == 0)
			return dns_types[i].type;
	return 0;
}

void
dns_config_init(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = 2000;
	cfg->retries = 1;
	cfg->tcp_fallback = true;
	/* The DNS Flag Day 2020 size: no IP fragmentation on common paths. */
	cfg->edns_size = 1232;
	dns_limits_default(&cfg->limits);
	dns_cache_config_default(&cfg->cache);
}

/* Parse a numeric address and optional port into srv. */
static enum dns_status
parse_server(const char *host, const char *port, struct dns_server *srv)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	/* Never resolve: the resolver cannot depend on itself. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return DNS_ERR_CONFIG;
	if (res->ai_addrlen > sizeof(srv->addr)) {
		freeaddrinfo(res);
		return DNS_ERR_CONFIG;
	}
	memset(srv, 0, sizeof(*srv));
	memcpy(&srv->addr, res->ai_addr, res->ai_addrlen);
	srv->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return DNS_OK;
}

static bool
port_is_valid(const char *p)
{
	char *end;
	long v;

	if (*p < '0' || *p > '9')
		return false;
	v = strtol(p, &end, 10);
	return *end == '\0' && v >= 1 && v <= 65535;
}

enum dns_status
dns_config_add_nameserver(struct dns_config *cfg, const char *spec)
{
	char host[INET6_ADDRSTRLEN + 32], *p;
	const char *port = "53";
	size_t len = strlen(spec);

	if (cfg->nns >= DNS_MAX_NAMESERVERS || len == 0 ||
	    len >= sizeof(host))
		return DNS_ERR_CONFIG;
	memcpy(host, spec, len + 1);
	if (host[0] == '[') {
		/* [IPv6] or [IPv6]:PORT */
		if ((p = strchr(host, ']')) == NULL)
			return DNS_ERR_CONFIG;
		*p++ = '\0';
		if (*p == ':')
			port = p + 1;
		else if (*p != '\0')
			return DNS_ERR_CONFIG;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((p = strchr(host, ':')) != NULL && strchr(p + 1, ':') ==
	    NULL) {
		/* Exactly one colon: IPv4:PORT.  More: a bare IPv6. */
		*p = '\0';
		port = p + 1;
	}
	if (!port_is_valid(port))
		return DNS_ERR_CONFIG;
	if (parse_server(host, port, &cfg->ns[cfg->nns]) != DNS_OK)
		return DNS_ERR_CONFIG;
	cfg->nns++;
	return DNS_OK;
}

enum dns_status
dns_config_set_nameservers(struct dns_config *cfg, const char *list)
{
	char spec[128];
	const char *p = list;
	size_t n;
	enum dns_status st;

	cfg->nns = 0;
	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t\r\n");
		if (n >= sizeof(spec))
			return DNS_ERR_CONFIG;
		memcpy(spec, p, n);
		spec[n] = '\0';
		if ((st = dns_config_add_nameserver(cfg, spec)) != DNS_OK)
			return st;
		p += n;
	}
	return cfg->nns > 0 ? DNS_OK : DNS_ERR_CONFIG;
}

enum dns_status
dns_config_load_resolv_conf(struct dns_config *cfg, const char *path)
{
	char line[512], *p, *addr;
	size_t before = cfg->nns;
	FILE *fp;

	if ((fp = fopen(path != NULL ? path : RESOLV_CONF, "re")) == NULL)
		return DNS_ERR_CONFIG;
	while (fgets(line, sizeof(line), fp) != NULL) {
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, "nameserver", 10) != 0 ||
		    !isspace((unsigned char)p[10]))
			continue;
		p += 10;
		while (isspace((unsigned char)*p))
			p++;
		addr = p;
		while (*p != '\0' && !isspace((unsigned char)*p) &&
		    *p != '#' && *p != ';')
			p++;
		*p = '\0';
		/* resolv.conf has no port syntax: a bare address, port 53. */
		if (cfg->nns < DNS_MAX_NAMESERVERS &&
		    parse_server(addr, "53", &cfg->ns[cfg->nns]) == DNS_OK)
			cfg->nns++;
	}
	fclose(fp);
	/* resolv.conf(5): without a nameserver line, the local host. */
	if (cfg->nns == before && cfg->nns < DNS_MAX_NAMESERVERS &&
	    parse_server("127.0.0.1", "53", &cfg->ns[cfg->nns]) == DNS_OK)
		cfg->nns++;
	return DNS_OK;
}

void
dns_deadline_in(struct dns_deadline *dl, unsigned ms)
{
	dl->at_ms = dns_now_ms() + ms;
	if (dl->at_ms == 0)
		dl->at_ms = 1;
	dl->cache_miss = NULL;
}

void
dns_deadline_none(struct dns_deadline *dl)
{
	dl->at_ms = 0;
	dl->cache_miss = NULL;
}

bool
dns_deadline_expired(const struct dns_deadline *dl)
{
	return dl != NULL && dl->at_ms != 0 && dns_now_ms() >= dl->at_ms;
}

static void
thread_free(void *p)
{
	mem_free(p);
}

struct dns_resolver *
dns_resolver_new(const struct dns_config *cfg, enum dns_status *why)
{
	struct dns_resolver *res;

	*why = DNS_ERR_CONFIG;
	if (cfg->nns > DNS_MAX_NAMESERVERS || cfg->timeout_ms == 0 ||
	    cfg->limits.max_records == 0 || cfg->retries > 10)
		return NULL;
	*why = DNS_ERR_NOMEM;
	if ((res = mem_calloc(1, sizeof(*res))) == NULL)
		return NULL;
	res->cfg = *cfg;
	/* RFC 6891 section 6.2.5: sizes below 512 are treated as 512. */
	if (res->cfg.edns_size > 0 && res->cfg.edns_size < 512)
		res->cfg.edns_size = 512;
	res->exchange = dns_exchange;
	if (cfg->cache.max_entries > 0 &&
	    (res->cache = dns_cache_new(&cfg->cache)) == NULL) {
		mem_free(res);
		return NULL;
	}
	if (pthread_key_create(&res->key, thread_free) != 0) {
		dns_cache_free(res->cache);
		mem_free(res);
		return NULL;
	}
	*why = DNS_OK;
	return res;
}

void
dns_resolver_free(struct dns_resolver *res)
{
	if (res == NULL)
		return;
	/* This thread's state; the others' went with their threads. */
	thread_free(pthread_getspecific(res->key));
	pthread_setspecific(res->key, NULL);
	pthread_key_delete(res->key);
	dns_cache_free(res->cache);
	mem_free(res);
}

void
dns_resolver_set_exchange(struct dns_resolver *res, dns_exchange_fn fn)
{
	res->exchange = fn != NULL ? fn : dns_exchange;
}

const struct dns_config *
dns_resolver_config(const struct dns_resolver *res)
{
	return &res->cfg;
}

static struct dns_thread *
thread_state(struct dns_resolver *res)
{
	struct dns_thread *t;

	if ((t = pthread_getspecific(res->key)) != NULL)
		return t;
	if ((t = mem_alloc(sizeof(*t))) == NULL)
		return NULL;
	if (pthread_setspecific(res->key, t) != 0) {
		mem_free(t);
		return NULL;
	}
	return t;
}

static void
count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* The end of one try: the per-try timeout, cut short by the deadline. */
static uint64_t
try_until(const struct dns_resolver *res, const struct dns_deadline *dl,
    bool *cut)
{
	uint64_t until = dns_now_ms() + res->cfg.timeout_ms;

	*cut = false;
	if (dl != NULL && dl->at_ms != 0 && dl->at_ms <= until) {
		until = dl->at_ms;
		*cut = true;
	}
	return until;
}

/*
 * One try against one server: UDP, then TCP if the reply is truncated.
 * On DNS_OK the reply is in t->buf, *len bytes.
 */
static enum dns_status
try_server(struct dns_resolver *res, struct dns_thread *t,
    const struct dns_server *srv, uint8_t *query, size_t qlen,
    const struct dns_deadline *dl, size_t *len)
{
	enum dns_status st;
	uint64_t until;
	bool cut;

	until = try_until(res, dl, &cut);
	count(&res->queries);
	st = res->exchange(srv, false, query, qlen,
	    (uint16_t)arc4random_uniform(65536), until, t->buf, sizeof(t->buf),
	    len);
	if (st == DNS_OK && dns_wire_is_truncated(t->buf, *len)) {
		if (!res->cfg.tcp_fallback)
			return DNS_ERR_TRUNCATED;
		/* RFC 7766 section 5: ask the same server again over TCP. */
		count(&res->tcp_fallbacks);
		count(&res->queries);
		until = try_until(res, dl, &cut);
		st = res->exchange(srv, true, query, qlen,
		    (uint16_t)arc4random_uniform(65536), until, t->buf,
		    sizeof(t->buf), len);
	}
	if (st == DNS_ERR_TIMEOUT) {
		count(&res->timeouts);
		if (cut)
			st = DNS_ERR_DEADLINE;
	} else if (st != DNS_OK) {
		count(&res->errors);
	}
	return st;
}

/* Ask the servers about one name; parse the first usable reply into out. */
static enum dns_status
query_servers(struct dns_resolver *res, const char *name, uint16_t type,
    const struct dns_limits *lim, const struct dns_deadline *dl,
    struct dns_answer *out)
{
	struct dns_thread *t;
	enum dns_status st, last = DNS_ERR_TIMEOUT;
	uint8_t *query;
	size_t qlen = 0, len = 0, i;
	unsigned round;

	dns_answer_init(out);
	out->qtype = type;
	if (res->cfg.nns == 0)
		return out->status = DNS_ERR_NO_SERVERS;
	if ((t = thread_state(res)) == NULL)
		return out->status = DNS_ERR_NOMEM;
	if ((query = dns_query_wire_new(name, type, res->cfg.edns_size,
	    &qlen)) == NULL)
		return out->status = DNS_ERR_NOMEM;
	for (round = 0; round <= res->cfg.retries; round++) {
		for (i = 0; i < res->cfg.nns; i++) {
			if (dns_deadline_expired(dl)) {
				last = DNS_ERR_DEADLINE;
				goto done;
			}
			st = try_server(res, t, &res->cfg.ns[i], query, qlen,
			    dl, &len);
			if (st == DNS_ERR_TRUNCATED) {
				last = st;
				goto done;
			}
			if (st != DNS_OK) {
				last = st;
				continue;
			}
			st = dns_answer_parse(t->buf, len, name, type, lim,
			    out);
			/*
			 * A failing or confused server: another one may do
			 * better.  Every other outcome is the answer.
			 */
			if (st == DNS_ERR_SERVFAIL || st == DNS_ERR_REFUSED ||
			    st == DNS_ERR_MALFORMED) {
				count(&res->errors);
				dns_answer_clear(out);
				out->qtype = type;
				last = st;
				continue;
			}
			mem_free(query);
			return st;
		}
	}
done:
	mem_free(query);
	dns_answer_clear(out);
	out->qtype = type;
	return out->status = last;
}

static bool
type_is_supported(uint16_t type)
{
	return strcmp(dns_type_name(type), "unknown") != 0;
}

enum dns_status
dns_query(struct dns_resolver *res, const char *name, uint16_t type,
    const struct dns_deadline *dl, struct dns_answer *out)
{
	char norm[256], seen[16][256];
	struct dns_limits lim;
	enum dns_status st;
	size_t nseen = 0, i;
	unsigned hops = 0;
	uint32_t chain_ttl = UINT32_MAX;
	time_t now;

	dns_answer_init(out);
	out->qtype = type;
	if ((st = dns_name_normalize(name, norm, sizeof(norm))) != DNS_OK)
		return out->status = st;
	if (!type_is_supported(type))
		return out->status = DNS_ERR_QTYPE;
	now = (time_t)(dns_now_ms() / 1000);
	if (res->cache != NULL &&
	    dns_cache_get(res->cache, norm, type, now, out)) {
		count(&res->cache_hits);
		return out->status;
	}
	if (dl != NULL && dl->cache_miss != NULL) {
		/* the cache only (see the .h); the lookup that follows
		 * without it counts the miss */
		*dl->cache_miss = true;
		return out->status = DNS_ERR_DEADLINE;
	}
	count(&res->cache_misses);

	lim = res->cfg.limits;
	if (lim.max_cname > sizeof(seen) / sizeof(seen[0]) - 1)
		lim.max_cname = sizeof(seen) / sizeof(seen[0]) - 1;
	memcpy(seen[nseen++], norm, sizeof(norm));
	for (;;) {
		struct dns_limits left = lim;

		left.max_cname = lim.max_cname - hops;
		st = query_servers(res, seen[nseen - 1], type, &left, dl, out);
		hops += out->cname_hops;
		if (st != DNS_OK || out->cname_target == NULL)
			break;
		/* The chain goes on in another query. */
		if (out->has_ttl && out->ttl < chain_ttl)
			chain_ttl = out->ttl;
		/* Every reply that continues adds a hop: seen[] suffices. */
		if (nseen >= sizeof(seen) / sizeof(seen[0])) {
			st = DNS_ERR_CNAME_CHAIN;
			break;
		}
		if (dns_name_normalize(out->cname_target, seen[nseen],
		    sizeof(seen[0])) != DNS_OK) {
			st = DNS_ERR_MALFORMED;
			break;
		}
		for (i = 0; i < nseen; i++) {
			if (strcmp(seen[i], seen[nseen]) == 0) {
				st = DNS_ERR_CNAME_LOOP;
				break;
			}
		}
		if (st != DNS_OK)
			break;
		/*
		 * The hop limit itself is enforced by the parser, which gets
		 * only what is left of it for the next reply.
		 */
		nseen++;
		dns_answer_clear(out);
	}
	if (st != DNS_OK && st != DNS_NXDOMAIN && st != DNS_NODATA) {
		dns_answer_clear(out);
		out->qtype = type;
	} else if (chain_ttl != UINT32_MAX && out->has_ttl &&
	    chain_ttl < out->ttl) {
		out->ttl = chain_ttl;
	}
	out->cname_hops = hops;
	out->status = st;
	if (res->cache != NULL)
		(void)dns_cache_put(res->cache, norm, type, out, now);
	return st;
}

enum dns_status
dns_query_txt(struct dns_resolver *res, const char *name,
    const struct dns_deadline *dl, struct dns_answer *out)
{
	return dns_query(res, name, DNS_TYPE_TXT, dl, out);
}

void
dns_resolver_counters(const struct dns_resolver *res,
    struct dns_counters *c)
{
	struct dns_resolver *r = (struct dns_resolver *)res;

	c->queries = atomic_load_explicit(&r->queries, memory_order_relaxed);
	c->cache_hits = atomic_load_explicit(&r->cache_hits,
	    memory_order_relaxed);
	c->cache_misses = atomic_load_explicit(&r->cache_misses,
	    memory_order_relaxed);
	c->timeouts = atomic_load_explicit(&r->timeouts,
	    memory_order_relaxed);
	c->errors = atomic_load_explicit(&r->errors, memory_order_relaxed);
	c->tcp_fallbacks = atomic_load_explicit(&r->tcp_fallbacks,
	    memory_order_relaxed);
}

void
dns_resolver_cache_stats(const struct dns_resolver *res,
    struct dns_cache_stats *st)
{
	dns_cache_stats(res->cache, st);
}
