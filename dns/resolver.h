/*
 * resolver.h - the one DNS resolver of dmarcd, on ldns.
 *
 * A struct dns_resolver is built once from an immutable struct dns_config
 * and shared by all threads.  Each thread that queries gets its own state
 * (created on first use, freed when the thread exits); the answer cache
 * and the counters are shared.  Every query takes an optional deadline:
 * the whole lookup, retries and TCP fallback included, ends by then.
 *
 * The library never logs: each call returns an enum dns_status, and
 * dns_strerror() says why.
 */
#ifndef DM_DNS_RESOLVER_H
#define DM_DNS_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "cache.h"
#include "transport.h"

#define DNS_MAX_NAMESERVERS	8

struct dns_config {
	struct dns_server ns[DNS_MAX_NAMESERVERS];
	size_t		 nns;
	unsigned	 timeout_ms;	/* per try (default 2000) */
	unsigned	 retries;	/* extra rounds over the servers (1),
					 * at most 10 */
	bool		 tcp_fallback;	/* retry over TCP on TC=1 (true) */
	uint16_t	 edns_size;	/* EDNS0 UDP payload, 0: none (1232) */
	struct dns_limits limits;	/* max_cname is capped at 15 */
	struct dns_cache_config cache;
};

/*
 * A point in time (monotonic) that a lookup must not run past.  With
 * cache_miss set, the lookup may use the cache only: a question the
 * cache cannot answer fails at once, as if the deadline had passed
 * (DNS_ERR_DEADLINE), and sets *cache_miss to true.  The message
 * pipeline uses this to run a warm check in line before handing it to
 * a lookup thread (auth/verify.c).
 */
struct dns_deadline {
	uint64_t	 at_ms;		/* 0: no deadline */
	bool		*cache_miss;	/* not NULL: the cache only */
};

/* The shared counters, for metrics.  Each is read atomically. */
struct dns_counters {
	uint64_t	 queries;	/* packets sent (UDP and TCP) */
	uint64_t	 cache_hits;
	uint64_t	 cache_misses;
	uint64_t	 timeouts;	/* tries that got no reply in time */
	uint64_t	 errors;	/* tries that failed otherwise: network
					 * errors, SERVFAIL, REFUSED, replies
					 * that do not parse or match */
	uint64_t	 tcp_fallbacks;	/* truncated UDP replies retried */
};

struct dns_resolver;

/* Defaults as documented above, limits and cache defaults, no servers. */
void	 dns_config_init(struct dns_config *);

/*
 * Add one nameserver "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (a bare
 * IPv6 address takes no port).  Numeric only: no name is resolved.
 * DNS_ERR_CONFIG on a bad address or port or a full list.
 */
enum dns_status dns_config_add_nameserver(struct dns_config *,
	    const char *spec);

/* Replace the list with the comma- or space-separated specs in list. */
enum dns_status dns_config_set_nameservers(struct dns_config *,
	    const char *list);

/*
 * Add the "nameserver" lines of a resolv.conf file (path NULL:
 * /etc/resolv.conf), port 53; 127.0.0.1 when it names none, as the C
 * library does (resolv.conf(5)).  DNS_ERR_CONFIG when it cannot be read.
 */
enum dns_status dns_config_load_resolv_conf(struct dns_config *,
	    const char *path);

/* Deadline ms milliseconds from now; dns_deadline_none() never expires.
 * Both clear cache_miss. */
void	 dns_deadline_in(struct dns_deadline *, unsigned ms);
void	 dns_deadline_none(struct dns_deadline *);
bool	 dns_deadline_expired(const struct dns_deadline *);

/*
 * New resolver with a copy of cfg; NULL with *why set (DNS_ERR_CONFIG,
 * DNS_ERR_NOMEM).  An empty nameserver list is allowed: every query then
 * fails with DNS_ERR_NO_SERVERS.  Free with dns_resolver_free() after the
 * threads that used it have exited (their state is freed at thread exit).
 */
struct dns_resolver *dns_resolver_new(const struct dns_config *cfg,
	    enum dns_status *why);
void	 dns_resolver_free(struct dns_resolver *);

/* The configuration the resolver runs with (read only). */
const struct dns_config *dns_resolver_config(const struct dns_resolver *);

/*
 * Look up (name, type): type is one of DNS_TYPE_A, AAAA, MX, PTR, NS,
 * CNAME, TXT.  Answers come from the cache when fresh.  CNAMEs are
 * followed, also across queries, within limits.max_cname.  deadline may
 * be NULL.  out is initialised by the call; whatever the status, release
 * it with dns_answer_clear().  Records are present only with DNS_OK.
 * Thread-safe.
 */
enum dns_status dns_query(struct dns_resolver *, const char *name,
	    uint16_t type, const struct dns_deadline *deadline,
	    struct dns_answer *out);

/* dns_query() for TXT: each rr[i].u.txt holds one joined record. */
enum dns_status dns_query_txt(struct dns_resolver *, const char *name,
	    const struct dns_deadline *deadline, struct dns_answer *out);

void	 dns_resolver_counters(const struct dns_resolver *,
	    struct dns_counters *);
void	 dns_resolver_cache_stats(const struct dns_resolver *,
	    struct dns_cache_stats *);

/*
 * Test seam: replace the network exchange (dns_exchange() by default) so
 * that unit tests can serve canned replies.  Call before any query.
 */
typedef enum dns_status (*dns_exchange_fn)(const struct dns_server *,
	    bool tcp, uint8_t *query, size_t qlen, uint16_t id,
	    uint64_t until_ms, uint8_t *buf, size_t bufsz, size_t *replylen);
void	 dns_resolver_set_exchange(struct dns_resolver *, dns_exchange_fn);

/* "A", "TXT", ... for the types above, "unknown" otherwise. */
const char *dns_type_name(uint16_t type);
/* Inverse of dns_type_name for the supported types; 0 when unknown. */
uint16_t dns_type_from_name(const char *);

#endif
