/*
 * fuzz_dkim_body.c - libFuzzer target for auth/dkim_body.c, the DKIM
 * body canonicaliser and hasher that every signed message's body goes
 * through.
 *
 * Input: byte 0 picks the canonicalisation (bit 0) and whether there is
 * an l= (bit 1); bytes 1-2 are l= (0..65535); bytes 3-6 seed the chunk
 * splits; the rest is the body.  Checked on every input:
 *  - no crash, leak or out-of-bounds read (ASan, UBSan);
 *  - the digest and canonical length are the same whether the body is
 *    given whole, in random chunks (split anywhere: inside a CRLF, a run
 *    of white space, the trailing empty lines) or byte by byte;
 *  - they are the same for the body with its line ends made CRLF as
 *    auth/dkim.c does before hashing (a bare CR or LF becomes CRLF);
 *  - the canonical length reaches l= or is below it only when the whole
 *    body was hashed.
 * A difference aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dkim_body.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_BODY	(64 * 1024)

struct result {
	unsigned char md[DKIMB_DIGEST_MAX];
	size_t	 mdlen;
	uint64_t clen;
};

/* Hash body; step 0: random chunks from *seed, else chunks of step. */
static void
hash(enum dkimb_canon canon, uint64_t limit, const uint8_t *body, size_t n,
    uint32_t seed, size_t step, struct result *r)
{
	struct dkimb *b;
	size_t at = 0, len;

	if ((b = dkimb_new(canon, DKIMB_SHA256, limit)) == NULL)
		abort();
	while (at < n) {
		if (step == 0) {
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 16) % 17;	/* empty chunks too */
		} else
			len = step;
		if (len > n - at)
			len = n - at;
		if (!dkimb_update(b, body + at, len))
			abort();
		at += len;
	}
	if (!dkimb_final(b, r->md, &r->mdlen, &r->clen))
		abort();
	dkimb_free(b);
}

static void
same(const struct result *a, const struct result *b)
{
	if (a->mdlen != b->mdlen || memcmp(a->md, b->md, a->mdlen) != 0 ||
	    a->clen != b->clen)
		abort();
}

/* Line ends made CRLF as dkim.c's dkimv_body() does. */
static size_t
fix_crlf(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if ((in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) ||
		    (in[i] == '\r' && (i + 1 == n || in[i + 1] != '\n'))) {
			out[o++] = '\r';
			out[o++] = '\n';
		} else
			out[o++] = in[i];
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dkimb_canon canon;
	uint64_t limit;
	uint32_t seed;
	const uint8_t *body;
	uint8_t *fixed;
	size_t n, fn;
	struct result whole, r;

	if (size < 7 || size - 7 > MAX_BODY)
		return 0;
	canon = (data[0] & 1) ? DKIMB_RELAXED : DKIMB_SIMPLE;
	limit = (data[0] & 2) ? (uint64_t)data[1] << 8 | data[2] :
	    DKIMB_NO_LIMIT;
	seed = (uint32_t)data[3] << 24 | (uint32_t)data[4] << 16 |
	    (uint32_t)data[5] << 8 | data[6];
	body = data + 7;
	n = size - 7;

	hash(canon, limit, body, n, 0, n > 0 ? n : 1, &whole);
	hash(canon, limit, body, n, seed, 0, &r);
	same(&whole, &r);
	hash(canon, limit, body, n, 0, 1, &r);
	same(&whole, &r);
	if (limit != DKIMB_NO_LIMIT && whole.clen < limit) {
		/* Below l=: the whole body was hashed, as without l=. */
		hash(canon, DKIMB_NO_LIMIT, body, n, 0, n > 0 ? n : 1, &r);
		same(&whole, &r);
	}
	if ((fixed = malloc(2 * n + 1)) == NULL)
		return 0;
	fn = fix_crlf(body, n, fixed);
	hash(canon, limit, fixed, fn, seed, 0, &r);
	free(fixed);
	same(&whole, &r);
	return 0;
}
