/*
 * dkim_keycache.c - parsed DKIM public keys, shared between messages.
 *
 * Why this exists: libopendkim turns the p= of every signature's key
 * record into an EVP_PKEY with d2i_PUBKEY_bio(), once per message.  Under
 * OpenSSL 3 that call sets up a whole decoder chain each time: callgrind
 * put it at 43% of dmarcd's instructions for an RSA-2048 signed 4 KB
 * message (1.06 M of 2.48 M, bench/milter-bench.sh --callgrind), more
 * than the RSA verify itself, and a freshly parsed key also rebuilds the
 * Montgomery context that OpenSSL otherwise keeps in the key.
 * libopendkim has no way to be handed a parsed key, so dmarcd defines
 * d2i_PUBKEY_bio() itself: the dynamic linker binds libopendkim's call
 * to this definition (ordinary ELF symbol interposition: the executable
 * comes first in the lookup order), and a key already parsed from the
 * same bytes is returned as a new reference instead of parsed again.
 *
 * The cache is keyed by the DER bytes themselves, so an entry is never
 * stale: which key a selector publishes is still decided by the DNS
 * cache and its TTLs.  Bounded: DKIMV_KEYCACHE_SLOTS entries, direct-
 * mapped by a hash of the bytes (a colliding key evicts the older one),
 * each at most DKIMV_KEYCACHE_DER_MAX bytes.  Anything unusual (a caller
 * that passes a key to reuse, a BIO that is not a memory BIO, bytes that
 * do not parse, a larger key) goes to OpenSSL's own function, found with
 * dlsym(RTLD_NEXT), so errors and results are OpenSSL's.
 *
 * Callers only read the shared key: OpenSSL allows concurrent verifies
 * with one EVP_PKEY (its lazily built legacy RSA and Montgomery context
 * are set up under the key's own lock).
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/mem.h"
#include "dkim.h"

#define DKIMV_KEYCACHE_SLOTS	64
/* An RSA-8192 SubjectPublicKeyInfo is about 1.1 KB. */
#define DKIMV_KEYCACHE_DER_MAX	2048

typedef EVP_PKEY *d2i_pubkey_bio_fn(BIO *, EVP_PKEY **);

struct keycache_slot {
	unsigned char *der;	/* the bytes the key was parsed from */
	size_t	 len;
	size_t	 consumed;	/* what the parse read from the BIO */
	EVP_PKEY *pkey;		/* the cache's own reference */
};

static pthread_once_t keycache_once = PTHREAD_ONCE_INIT;
static d2i_pubkey_bio_fn *openssl_d2i_pubkey_bio;
static pthread_mutex_t keycache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keycache_slot keycache[DKIMV_KEYCACHE_SLOTS];
static unsigned long keycache_hits, keycache_misses;

static void
keycache_resolve(void)
{
	/* POSIX dlsym() returns void *; a function pointer is what it holds. */
	*(void **)&openssl_d2i_pubkey_bio = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
}

bool
dkimv_keycache_init(void)
{
	pthread_once(&keycache_once, keycache_resolve);
	return openssl_d2i_pubkey_bio != NULL;
}

void
dkimv_keycache_counts(unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&keycache_lock);
	*hits = keycache_hits;
	*misses = keycache_misses;
	pthread_mutex_unlock(&keycache_lock);
}

/* FNV-1a: the bytes are a public key someone published, not a secret,
 * and a collision only costs a parse. */
static size_t
keycache_slot_of(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h % DKIMV_KEYCACHE_SLOTS;
}

/* Read what the parse would have read, so the BIO ends where OpenSSL's
 * own function would leave it. */
static void
keycache_drain(BIO *bp, size_t n)
{
	unsigned char scratch[256];
	int r;

	while (n > 0 && (r = BIO_read(bp, scratch, n > sizeof(scratch) ?
	    (int)sizeof(scratch) : (int)n)) > 0)
		n -= (size_t)r;
}

/*
 * OpenSSL's d2i_PUBKEY_bio() with a cache (see the top of the file).
 * Returns a new reference the caller frees with EVP_PKEY_free(), or NULL
 * with OpenSSL's error queue set, as the original does.
 */
EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	struct keycache_slot *s;
	unsigned char *der = NULL;
	EVP_PKEY *pk, *old = NULL;
	char *data;
	long len;
	size_t before;

	if (!dkimv_keycache_init())
		return NULL;	/* no libcrypto in the process: cannot be */
	if (a != NULL || BIO_method_type(bp) != BIO_TYPE_MEM ||
	    (len = BIO_get_mem_data(bp, &data)) <= 0 ||
	    len > DKIMV_KEYCACHE_DER_MAX)
		return openssl_d2i_pubkey_bio(bp, a);
	s = &keycache[keycache_slot_of((unsigned char *)data, (size_t)len)];

	pthread_mutex_lock(&keycache_lock);
	if (s->pkey != NULL && s->len == (size_t)len &&
	    memcmp(s->der, data, s->len) == 0 && EVP_PKEY_up_ref(s->pkey)) {
		pk = s->pkey;
		keycache_hits++;
		pthread_mutex_unlock(&keycache_lock);
		keycache_drain(bp, s->consumed);
		return pk;
	}
	keycache_misses++;
	pthread_mutex_unlock(&keycache_lock);

	/* Copy first: the parse consumes the BIO's bytes. */
	before = (size_t)len;
	der = mem_alloc(before);
	if (der != NULL)
		memcpy(der, data, before);
	if ((pk = openssl_d2i_pubkey_bio(bp, NULL)) == NULL || der == NULL ||
	    !EVP_PKEY_up_ref(pk)) {
		mem_free(der);
		return pk;
	}
	pthread_mutex_lock(&keycache_lock);
	old = s->pkey;
	mem_free(s->der);
	s->der = der;
	s->len = before;
	s->consumed = before - (size_t)BIO_pending(bp);
	s->pkey = pk;
	pthread_mutex_unlock(&keycache_lock);
	EVP_PKEY_free(old);
	return pk;
}
