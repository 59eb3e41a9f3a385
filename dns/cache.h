/*
 * cache.h - the DNS answer cache shared by all threads.
 *
 * Keyed by (name, type); holds positive answers and negative ones
 * (NXDOMAIN and NODATA apart).  Bounded by entries and bytes, evicting the
 * least recently used.  Time is passed in by the caller (seconds on a
 * monotonic clock) so that tests control it.  All functions are safe to
 * call from several threads at once.
 */
#ifndef DM_DNS_CACHE_H
#define DM_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "answer.h"

struct dns_cache_config {
	size_t	 max_entries;	/* 0 disables the cache */
	size_t	 max_bytes;	/* approximate heap bytes of stored answers */
	uint32_t ttl_min;	/* clamp for every TTL (seconds) */
	uint32_t ttl_max;	/* clamp for positive answers */
	uint32_t neg_ttl_max;	/* clamp for NXDOMAIN/NODATA (RFC 2308 s5) */
};

struct dns_cache_stats {
	size_t	 entries;
	size_t	 bytes;
	uint64_t evictions;	/* pushed out by the size bounds */
	uint64_t expirations;	/* dropped because their TTL ran out */
};

struct dns_cache;

/* 10000 entries, 16 MiB, TTL clamps 0 .. 86400, negative at most 3600. */
void	 dns_cache_config_default(struct dns_cache_config *);

/* New empty cache; NULL when out of memory.  Free with dns_cache_free(). */
struct dns_cache *dns_cache_new(const struct dns_cache_config *);
void	 dns_cache_free(struct dns_cache *);

/*
 * How long an answer may be kept under this configuration: its TTL
 * clamped, or 0 when it must not be cached (errors, a negative answer
 * without SOA, a CNAME continuation).
 */
uint32_t dns_cache_ttl(const struct dns_cache_config *,
	    const struct dns_answer *);

/*
 * Store a copy of ans under (name, type) at time now, replacing any older
 * entry.  Returns true when stored; false when not cacheable, too big, the
 * cache is disabled, or memory ran out (the cache stays consistent).
 */
bool	 dns_cache_put(struct dns_cache *, const char *name, uint16_t type,
	    const struct dns_answer *ans, time_t now);

/*
 * On a hit, fill out (initialised by the call) with a copy whose TTLs are
 * reduced by the time spent in the cache and from_cache set, and return
 * true; release it with dns_answer_clear().  Expired entries are dropped.
 */
bool	 dns_cache_get(struct dns_cache *, const char *name, uint16_t type,
	    time_t now, struct dns_answer *out);

void	 dns_cache_stats(struct dns_cache *, struct dns_cache_stats *);

#endif
