/*
 * test_dns_cache.c - the DNS answer cache: TTLs, clamps, negative
 * answers, eviction, allocation failures and a threaded smoke test.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "dns/cache.h"
#include "tap.h"

/* An answer with one TXT record holding text, or a negative one. */
static void
make_answer(struct dns_answer *a, enum dns_status st, uint32_t ttl,
    const char *text)
{
	dns_answer_init(a);
	a->status = st;
	a->qtype = DNS_TYPE_TXT;
	a->ttl = ttl;
	a->has_ttl = true;
	if (st == DNS_OK && text != NULL) {
		a->rr = mem_calloc(1, sizeof(*a->rr));
		a->rr[0].type = DNS_TYPE_TXT;
		a->rr[0].ttl = ttl;
		a->rr[0].u.txt.data = mem_strdup(text);
		a->rr[0].u.txt.len = strlen(text);
		a->rr[0].u.txt.nstrings = 1;
		a->nrr = 1;
	}
}

static struct dns_cache *
new_cache(size_t entries, size_t bytes, uint32_t tmin, uint32_t tmax,
    uint32_t nmax)
{
	struct dns_cache_config cfg;

	dns_cache_config_default(&cfg);
	cfg.max_entries = entries;
	if (bytes != 0)
		cfg.max_bytes = bytes;
	cfg.ttl_min = tmin;
	cfg.ttl_max = tmax;
	cfg.neg_ttl_max = nmax;
	return dns_cache_new(&cfg);
}

/* Look up and describe the result as "status ttl text" or "miss". */
static const char *
probe(struct dns_cache *c, const char *name, uint16_t type, time_t now)
{
	static char buf[256];
	struct dns_answer a;

	if (!dns_cache_get(c, name, type, now, &a))
		return "miss";
	snprintf(buf, sizeof(buf), "%s ttl=%u%s%s%s", dns_status_name(a.status),
	    (unsigned)a.ttl, a.nrr > 0 ? " " : "",
	    a.nrr > 0 ? a.rr[0].u.txt.data : "",
	    a.from_cache ? " cached" : "");
	dns_answer_clear(&a);
	return buf;
}

static void
test_ttl(void)
{
	struct dns_cache *c = new_cache(100, 0, 0, 86400, 3600);
	struct dns_answer a;

	make_answer(&a, DNS_OK, 300, "v=spf1 -all");
	tap_ok(dns_cache_put(c, "a.test", DNS_TYPE_TXT, &a, 1000),
	    "ttl: positive answer stored");
	dns_answer_clear(&a);
	tap_str(probe(c, "a.test", DNS_TYPE_TXT, 1000),
	    "ok ttl=300 v=spf1 -all cached", "ttl: fresh hit");
	tap_str(probe(c, "a.test", DNS_TYPE_TXT, 1100),
	    "ok ttl=200 v=spf1 -all cached", "ttl: counts down while cached");
	tap_str(probe(c, "A.Test.", DNS_TYPE_TXT, 1100),
	    "ok ttl=200 v=spf1 -all cached", "ttl: names fold case, dot");
	tap_str(probe(c, "a.test", DNS_TYPE_A, 1100), "miss",
	    "ttl: type is part of the key");
	tap_str(probe(c, "a.test", DNS_TYPE_TXT, 1299),
	    "ok ttl=1 v=spf1 -all cached", "ttl: last second");
	tap_str(probe(c, "a.test", DNS_TYPE_TXT, 1300), "miss",
	    "ttl: expired at stored+ttl");
	{
		struct dns_cache_stats st;

		dns_cache_stats(c, &st);
		tap_int(st.entries, 0, "ttl: expired entry dropped");
		tap_int(st.expirations, 1, "ttl: expiration counted");
	}
	/* The clock going backwards must not revive or break anything. */
	make_answer(&a, DNS_OK, 10, "x");
	dns_cache_put(c, "b.test", DNS_TYPE_TXT, &a, 500);
	dns_answer_clear(&a);
	tap_str(probe(c, "b.test", DNS_TYPE_TXT, 400), "ok ttl=10 x cached",
	    "ttl: earlier now is harmless");
	dns_cache_free(c);
}

static void
test_clamps(void)
{
	static const struct {
		const char *name;
		enum dns_status st;
		uint32_t ttl, tmin, tmax, nmax, want;
	} cases[] = {
		{ "in range", DNS_OK, 300, 30, 3600, 900, 300 },
		{ "raised to min", DNS_OK, 5, 30, 3600, 900, 30 },
		{ "zero raised to min", DNS_OK, 0, 30, 3600, 900, 30 },
		{ "zero, no min: not cached", DNS_OK, 0, 0, 3600, 900, 0 },
		{ "cut to max", DNS_OK, 604800, 30, 3600, 900, 3600 },
		{ "nxdomain cut to neg max", DNS_NXDOMAIN, 86400, 0, 3600, 900,
		    900 },
		{ "nodata cut to neg max", DNS_NODATA, 86400, 0, 3600, 900,
		    900 },
		{ "nodata raised to min", DNS_NODATA, 1, 60, 3600, 900, 60 },
		{ "neg max below min", DNS_NXDOMAIN, 500, 60, 3600, 10, 60 },
		{ "servfail never", DNS_ERR_SERVFAIL, 300, 60, 3600, 900, 0 },
		{ "timeout never", DNS_ERR_TIMEOUT, 300, 60, 3600, 900, 0 },
		{ "too-big never", DNS_ERR_TOO_BIG, 300, 60, 3600, 900, 0 },
	};
	struct dns_cache_config cfg;
	struct dns_answer a;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dns_cache_config_default(&cfg);
		cfg.ttl_min = cases[i].tmin;
		cfg.ttl_max = cases[i].tmax;
		cfg.neg_ttl_max = cases[i].nmax;
		make_answer(&a, cases[i].st, cases[i].ttl, "x");
		tap_int(dns_cache_ttl(&cfg, &a), cases[i].want, "clamp: %s",
		    cases[i].name);
		dns_answer_clear(&a);
	}
	/* A stored entry lives exactly for the clamped TTL. */
	{
		struct dns_cache *c = new_cache(10, 0, 60, 120, 30);

		make_answer(&a, DNS_OK, 5, "short");
		dns_cache_put(c, "c.test", DNS_TYPE_TXT, &a, 0);
		dns_answer_clear(&a);
		tap_str(probe(c, "c.test", DNS_TYPE_TXT, 59),
		    "ok ttl=1 short cached", "clamp: min keeps it 60 s");
		tap_str(probe(c, "c.test", DNS_TYPE_TXT, 60), "miss",
		    "clamp: gone after 60 s");
		make_answer(&a, DNS_OK, 99999, "long");
		dns_cache_put(c, "d.test", DNS_TYPE_TXT, &a, 0);
		dns_answer_clear(&a);
		tap_str(probe(c, "d.test", DNS_TYPE_TXT, 0),
		    "ok ttl=120 long cached", "clamp: max applied on store");
		tap_str(probe(c, "d.test", DNS_TYPE_TXT, 120), "miss",
		    "clamp: gone after max");
		dns_cache_free(c);
	}
}

static void
test_negative(void)
{
	struct dns_cache *c = new_cache(100, 0, 0, 86400, 600);
	struct dns_answer a;

	make_answer(&a, DNS_NXDOMAIN, 300, NULL);
	tap_ok(dns_cache_put(c, "gone.test", DNS_TYPE_TXT, &a, 0),
	    "negative: nxdomain stored");
	dns_answer_clear(&a);
	make_answer(&a, DNS_NODATA, 120, NULL);
	tap_ok(dns_cache_put(c, "empty.test", DNS_TYPE_TXT, &a, 0),
	    "negative: nodata stored");
	dns_answer_clear(&a);
	tap_str(probe(c, "gone.test", DNS_TYPE_TXT, 10),
	    "nxdomain ttl=290 cached", "negative: nxdomain comes back");
	tap_str(probe(c, "empty.test", DNS_TYPE_TXT, 10),
	    "nodata ttl=110 cached", "negative: nodata stays nodata");
	tap_str(probe(c, "empty.test", DNS_TYPE_TXT, 120), "miss",
	    "negative: nodata expires by its SOA TTL");

	/* RFC 2308 section 5: no SOA, no negative caching. */
	make_answer(&a, DNS_NXDOMAIN, 300, NULL);
	a.has_ttl = false;
	tap_ok(!dns_cache_put(c, "nosoa.test", DNS_TYPE_TXT, &a, 0),
	    "negative: without SOA not stored");
	dns_answer_clear(&a);
	tap_str(probe(c, "nosoa.test", DNS_TYPE_TXT, 0), "miss",
	    "negative: without SOA a miss");

	/* Errors are never cached. */
	make_answer(&a, DNS_ERR_SERVFAIL, 300, NULL);
	tap_ok(!dns_cache_put(c, "bad.test", DNS_TYPE_TXT, &a, 0),
	    "negative: servfail not stored");
	dns_answer_clear(&a);

	/* A CNAME continuation is not an answer. */
	make_answer(&a, DNS_OK, 300, NULL);
	a.cname_target = mem_strdup("elsewhere.test");
	tap_ok(!dns_cache_put(c, "alias.test", DNS_TYPE_TXT, &a, 0),
	    "negative: cname continuation not stored");
	dns_answer_clear(&a);

	/* A bad name is refused, not truncated into another key. */
	make_answer(&a, DNS_OK, 300, "x");
	tap_ok(!dns_cache_put(c, "bad\\name.test", DNS_TYPE_TXT, &a, 0),
	    "negative: invalid name not stored");
	dns_answer_clear(&a);
	dns_cache_free(c);
}

static void
test_eviction(void)
{
	struct dns_cache *c = new_cache(3, 0, 0, 86400, 3600);
	struct dns_cache_stats st;
	struct dns_answer a;
	char name[32];
	int i;

	for (i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		make_answer(&a, DNS_OK, 300, name);
		dns_cache_put(c, name, DNS_TYPE_TXT, &a, 0);
		dns_answer_clear(&a);
	}
	/* Touch n1: n2 becomes the least recently used. */
	tap_str(probe(c, "n1.test", DNS_TYPE_TXT, 1),
	    "ok ttl=299 n1.test cached", "evict: n1 present");
	make_answer(&a, DNS_OK, 300, "n4.test");
	dns_cache_put(c, "n4.test", DNS_TYPE_TXT, &a, 1);
	dns_answer_clear(&a);
	tap_str(probe(c, "n2.test", DNS_TYPE_TXT, 1), "miss",
	    "evict: LRU entry n2 evicted");
	tap_str(probe(c, "n1.test", DNS_TYPE_TXT, 1),
	    "ok ttl=299 n1.test cached", "evict: recently used n1 kept");
	tap_str(probe(c, "n3.test", DNS_TYPE_TXT, 1),
	    "ok ttl=299 n3.test cached", "evict: n3 kept");
	dns_cache_stats(c, &st);
	tap_int(st.entries, 3, "evict: bounded at 3 entries");
	tap_int(st.evictions, 1, "evict: one eviction counted");

	/* Replacing a key does not grow the cache. */
	make_answer(&a, DNS_OK, 60, "new");
	dns_cache_put(c, "n3.test", DNS_TYPE_TXT, &a, 1);
	dns_answer_clear(&a);
	tap_str(probe(c, "n3.test", DNS_TYPE_TXT, 1), "ok ttl=60 new cached",
	    "evict: replaced value served");
	dns_cache_stats(c, &st);
	tap_int(st.entries, 3, "evict: replace keeps the count");
	dns_cache_free(c);

	/* The byte bound. */
	c = new_cache(1000, 2048, 0, 86400, 3600);
	{
		char big[4096];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		make_answer(&a, DNS_OK, 300, big);
		tap_ok(!dns_cache_put(c, "big.test", DNS_TYPE_TXT, &a, 0),
		    "evict: answer over the byte bound refused");
		dns_answer_clear(&a);
		big[600] = '\0';
		for (i = 0; i < 10; i++) {
			snprintf(name, sizeof(name), "b%d.test", i);
			make_answer(&a, DNS_OK, 300, big);
			dns_cache_put(c, name, DNS_TYPE_TXT, &a, 0);
			dns_answer_clear(&a);
		}
		dns_cache_stats(c, &st);
		tap_ok(st.bytes <= 2048 && st.entries >= 1 && st.entries < 4,
		    "evict: bytes bounded (%zu bytes, %zu entries)", st.bytes,
		    st.entries);
		tap_ok(strncmp(probe(c, "b9.test", DNS_TYPE_TXT, 0), "ok ",
		    3) == 0, "evict: newest kept");
	}
	dns_cache_free(c);

	/* A disabled cache stores nothing. */
	c = new_cache(0, 0, 0, 86400, 3600);
	make_answer(&a, DNS_OK, 300, "x");
	tap_ok(!dns_cache_put(c, "x.test", DNS_TYPE_TXT, &a, 0),
	    "evict: max_entries 0 disables");
	dns_answer_clear(&a);
	dns_cache_free(c);
	dns_cache_free(NULL);
	tap_ok(1, "evict: dns_cache_free(NULL) is a no-op");
}

static void
test_alloc_failures(void)
{
	struct dns_cache *c;
	struct dns_answer a, out;
	long n;
	int stored = 0, consistent = 1;

	/* Every allocation in new/put/get fails in turn; nothing leaks. */
	for (n = 0; n < 20; n++) {
		mem_fail_after(n);
		c = new_cache(10, 0, 0, 86400, 3600);
		mem_fail_after(-1);
		if (c == NULL)
			continue;
		make_answer(&a, DNS_OK, 300, "payload");
		mem_fail_after(n);
		if (dns_cache_put(c, "f.test", DNS_TYPE_TXT, &a, 0))
			stored++;
		if (dns_cache_get(c, "f.test", DNS_TYPE_TXT, 0, &out)) {
			if (out.nrr != 1 ||
			    strcmp(out.rr[0].u.txt.data, "payload") != 0)
				consistent = 0;
		}
		mem_fail_after(-1);
		dns_answer_clear(&out);
		dns_answer_clear(&a);
		dns_cache_free(c);
	}
	tap_ok(stored > 0, "alloc: put succeeds once allocations do");
	tap_ok(consistent, "alloc: hits are complete after failures");
}

#define NTHREADS 4
#define NNAMES 40

static struct dns_cache *shared;
static int thread_bad[NTHREADS];

static void *
worker(void *arg)
{
	int id = (int)(long)arg, i, k;
	struct dns_answer a;
	char name[32];
	unsigned seed = (unsigned)id * 7919u + 1;

	for (i = 0; i < 3000; i++) {
		k = (int)(rand_r(&seed) % NNAMES);
		snprintf(name, sizeof(name), "t%d.test", k);
		if (rand_r(&seed) % 3 == 0) {
			make_answer(&a, k % 5 == 0 ? DNS_NXDOMAIN : DNS_OK,
			    100 + (uint32_t)k, name);
			dns_cache_put(shared, name, DNS_TYPE_TXT, &a,
			    (time_t)(i / 100));
			dns_answer_clear(&a);
		} else if (dns_cache_get(shared, name, DNS_TYPE_TXT,
		    (time_t)(i / 100), &a)) {
			/* Each name only ever maps to its own data. */
			if (k % 5 == 0 ? a.status != DNS_NXDOMAIN :
			    (a.status != DNS_OK || a.nrr != 1 ||
			    strcmp(a.rr[0].u.txt.data, name) != 0))
				thread_bad[id]++;
			dns_answer_clear(&a);
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t th[NTHREADS];
	struct dns_cache_stats st;
	int i, bad = 0;

	shared = new_cache(16, 0, 0, 86400, 3600);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(long)i);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		bad += thread_bad[i];
	}
	dns_cache_stats(shared, &st);
	tap_int(bad, 0, "threads: every hit matched its key");
	tap_ok(st.entries <= 16, "threads: bound held (%zu entries)",
	    st.entries);
	tap_ok(st.evictions > 0, "threads: evictions happened (%llu)",
	    (unsigned long long)st.evictions);
	dns_cache_free(shared);
}

int
main(void)
{
	test_ttl();
	test_clamps();
	test_negative();
	test_eviction();
	test_alloc_failures();
	test_threads();
	return tap_done();
}
