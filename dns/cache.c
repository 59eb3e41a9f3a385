/*
 * cache.c - a bounded, thread-safe TTL cache of DNS answers.
 *
 * One hash table (SipHash-2-4 with a random key, so names chosen by a
 * sender cannot pile into one bucket) and one LRU list, under one mutex:
 * every hit moves its entry to the front, so readers write too and a
 * read-write lock would buy nothing.  Entries hold deep copies; callers
 * get deep copies back, so nothing handed out is shared between threads.
 *
 * Implements RFC 2308 section 5 (negative answers are cached for the
 * negative TTL the parser derived from the SOA, and not at all without
 * one) and RFC 1035 section 3.2.1 (TTLs count down while cached).  TTL
 * clamps are local policy.  Leaves out: prefetching, serving stale data.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "cache.h"

struct entry {
	struct entry	*hnext;		/* hash chain */
	struct entry	*prev, *next;	/* LRU list, head most recent */
	uint64_t	 hash;
	uint16_t	 type;
	time_t		 stored;
	time_t		 expires;
	size_t		 bytes;
	struct dns_answer ans;
	char		 name[];
};

struct dns_cache {
	struct dns_cache_config cfg;
	pthread_mutex_t	 lock;
	struct entry	**buckets;
	size_t		 nbuckets;	/* power of two */
	struct entry	*head, *tail;
	size_t		 count;
	size_t		 bytes;
	uint64_t	 evictions;
	uint64_t	 expirations;
	uint8_t		 key[16];
};

void
dns_cache_config_default(struct dns_cache_config *cfg)
{
	cfg->max_entries = 10000;
	cfg->max_bytes = 16 * 1024 * 1024;
	cfg->ttl_min = 0;
	cfg->ttl_max = 86400;
	/* RFC 2308 section 5 suggests one to three hours at most. */
	cfg->neg_ttl_max = 3600;
}

/* SipHash-2-4 (Aumasson and Bernstein), over name bytes and the type. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
siphash(const uint8_t key[16], const uint8_t *in, size_t len)
{
	uint64_t k0 = load64(key), k1 = load64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < tail; i++)
		b |= (uint64_t)in[len - tail + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t
key_hash(const struct dns_cache *c, const char *name, uint16_t type)
{
	uint8_t buf[256 + 2];
	size_t len = strlen(name);

	/* Names are normalised to at most 253 bytes before they get here. */
	memcpy(buf, name, len);
	buf[len] = (uint8_t)(type >> 8);
	buf[len + 1] = (uint8_t)type;
	return siphash(c->key, buf, len + 2);
}

struct dns_cache *
dns_cache_new(const struct dns_cache_config *cfg)
{
	struct dns_cache *c;
	size_t n;

	if ((c = mem_calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cfg = *cfg;
	if (c->cfg.ttl_max < c->cfg.ttl_min)
		c->cfg.ttl_max = c->cfg.ttl_min;
	if (c->cfg.neg_ttl_max < c->cfg.ttl_min)
		c->cfg.neg_ttl_max = c->cfg.ttl_min;
	/* Load factor at most one, within reason. */
	for (n = 16; n < cfg->max_entries && n < ((size_t)1 << 20); n <<= 1)
		;
	if ((c->buckets = mem_calloc(n, sizeof(*c->buckets))) == NULL) {
		mem_free(c);
		return NULL;
	}
	c->nbuckets = n;
	arc4random_buf(c->key, sizeof(c->key));
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		mem_free(c->buckets);
		mem_free(c);
		return NULL;
	}
	return c;
}

static void
entry_free(struct entry *e)
{
	dns_answer_clear(&e->ans);
	mem_free(e);
}

void
dns_cache_free(struct dns_cache *c)
{
	struct entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&c->lock);
	mem_free(c->buckets);
	mem_free(c);
}

static uint32_t
clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

uint32_t
dns_cache_ttl(const struct dns_cache_config *cfg, const struct dns_answer *ans)
{
	uint32_t hi;

	if (!ans->has_ttl || ans->cname_target != NULL)
		return 0;
	switch (ans->status) {
	case DNS_OK:
		hi = cfg->ttl_max;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		hi = cfg->neg_ttl_max;
		break;
	default:
		return 0;
	}
	if (hi < cfg->ttl_min)
		hi = cfg->ttl_min;
	return clamp(ans->ttl, cfg->ttl_min, hi);
}

/* Unlink e from its bucket and the LRU list (lock held). */
static void
unlink_entry(struct dns_cache *c, struct entry *e)
{
	struct entry **pp;

	for (pp = &c->buckets[e->hash & (c->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->count--;
	c->bytes -= e->bytes;
}

static void
push_front(struct dns_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static struct entry *
find(struct dns_cache *c, const char *name, uint16_t type, uint64_t h)
{
	struct entry *e;

	for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->type == type &&
		    strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

bool
dns_cache_put(struct dns_cache *c, const char *name, uint16_t type,
    const struct dns_answer *ans, time_t now)
{
	struct entry *e, *old;
	char norm[256];
	uint32_t ttl;
	size_t nlen, bytes;
	uint64_t h;

	if (c == NULL || c->cfg.max_entries == 0)
		return false;
	if ((ttl = dns_cache_ttl(&c->cfg, ans)) == 0)
		return false;
	if (dns_name_normalize(name, norm, sizeof(norm)) != DNS_OK)
		return false;
	nlen = strlen(norm);
	bytes = sizeof(*e) + nlen + 1 + dns_answer_size(ans);
	if (bytes > c->cfg.max_bytes)
		return false;
	if ((e = mem_calloc(1, sizeof(*e) + nlen + 1)) == NULL)
		return false;
	memcpy(e->name, norm, nlen + 1);
	if (dns_answer_copy(&e->ans, ans) != DNS_OK) {
		mem_free(e);
		return false;
	}
	e->ans.ttl = ttl;
	e->ans.from_cache = false;
	e->type = type;
	e->stored = now;
	e->expires = now + (time_t)ttl;
	e->bytes = bytes;
	h = key_hash(c, norm, type);
	e->hash = h;

	pthread_mutex_lock(&c->lock);
	if ((old = find(c, norm, type, h)) != NULL) {
		unlink_entry(c, old);
		entry_free(old);
	}
	/* Make room: least recently used first. */
	while (c->tail != NULL && (c->count + 1 > c->cfg.max_entries ||
	    c->bytes + bytes > c->cfg.max_bytes)) {
		old = c->tail;
		unlink_entry(c, old);
		if (old->expires <= now)
			c->expirations++;
		else
			c->evictions++;
		entry_free(old);
	}
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	push_front(c, e);
	c->count++;
	c->bytes += bytes;
	pthread_mutex_unlock(&c->lock);
	return true;
}

bool
dns_cache_get(struct dns_cache *c, const char *name, uint16_t type,
    time_t now, struct dns_answer *out)
{
	struct entry *e;
	char norm[256];
	uint32_t age = 0;
	size_t i;
	bool hit = false;
	uint64_t h;

	dns_answer_init(out);
	if (c == NULL || c->cfg.max_entries == 0 ||
	    dns_name_normalize(name, norm, sizeof(norm)) != DNS_OK)
		return false;
	h = key_hash(c, norm, type);
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, norm, type, h)) != NULL) {
		if (now >= e->expires) {
			unlink_entry(c, e);
			c->expirations++;
			entry_free(e);
		} else if (dns_answer_copy(out, &e->ans) == DNS_OK) {
			/* Move to the front of the LRU list. */
			if (e != c->head) {
				e->prev->next = e->next;
				if (e->next != NULL)
					e->next->prev = e->prev;
				else
					c->tail = e->prev;
				push_front(c, e);
			}
			age = now > e->stored ? (uint32_t)(now - e->stored) : 0;
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (!hit)
		return false;
	/* RFC 1035 section 3.2.1: hand out what is left of the TTL. */
	out->ttl -= age < out->ttl ? age : out->ttl;
	for (i = 0; i < out->nrr; i++)
		out->rr[i].ttl = out->rr[i].ttl > out->ttl ? out->ttl :
		    out->rr[i].ttl;
	out->from_cache = true;
	return true;
}

void
dns_cache_stats(struct dns_cache *c, struct dns_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	st->entries = c->count;
	st->bytes = c->bytes;
	st->evictions = c->evictions;
	st->expirations = c->expirations;
	pthread_mutex_unlock(&c->lock);
}
