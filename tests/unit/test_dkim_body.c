/*
 * test_dkim_body.c - auth/dkim_body.c: the DKIM body canonicalisations
 * (RFC 6376 sections 3.4.3, 3.4.4), l= (3.5) and the digest.
 *
 * Each case gives a body and its canonical forms written out by hand;
 * the hasher's digest must be the digest of that text, for every way of
 * cutting the body into chunks.  Known bh= values of the empty body
 * check the digests themselves.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/dkim_body.h"
#include "tap.h"

struct bcase {
	const char *name;
	const char *in;
	size_t	 inlen;		/* 0: strlen(in) */
	const char *simple;	/* canonical forms */
	const char *relaxed;
};

static const struct bcase cases[] = {
	/* RFC 6376 section 3.4.5, both examples on the same body. */
	{ "RFC 6376 3.4.5", " C \r\nD \t E\r\n\r\n\r\n", 0,
	    " C \r\nD \t E\r\n", " C\r\nD E\r\n" },
	{ "empty body", "", 0, "\r\n", "" },
	{ "one CRLF", "\r\n", 0, "\r\n", "" },
	{ "only empty lines", "\r\n\r\n\r\n", 0, "\r\n", "" },
	{ "trailing empty lines", "a\r\n\r\n\r\n", 0, "a\r\n", "a\r\n" },
	{ "leading empty lines", "\r\n\r\na\r\n", 0, "\r\n\r\na\r\n",
	    "\r\n\r\na\r\n" },
	{ "empty lines inside", "a\r\n\r\n\r\nb\r\n", 0, "a\r\n\r\n\r\nb\r\n",
	    "a\r\n\r\n\r\nb\r\n" },
	{ "trailing WSP", "a \t \r\nb\t\r\n", 0, "a \t \r\nb\t\r\n",
	    "a\r\nb\r\n" },
	{ "lines of only WSP", "a\r\n \t \r\n\t\r\nb\r\n  \r\n \r\n", 0,
	    "a\r\n \t \r\n\t\r\nb\r\n  \r\n \r\n", "a\r\n\r\n\r\nb\r\n" },
	{ "only WSP", " \t ", 0, " \t \r\n", "" },
	{ "WSP runs", " a \t  b\t\tc d \r\n\t e\r\n", 0,
	    " a \t  b\t\tc d \r\n\t e\r\n", " a b c d\r\n e\r\n" },
	{ "single spaces kept", "one two three\r\n", 0, "one two three\r\n",
	    "one two three\r\n" },
	{ "no final line end", "last", 0, "last\r\n", "last\r\n" },
	{ "WSP then no line end", "x \t", 0, "x \t\r\n", "x\r\n" },
	{ "bare LF", "a\nb\n\n", 0, "a\r\nb\r\n", "a\r\nb\r\n" },
	{ "bare CR", "a\rb\r\n", 0, "a\r\nb\r\n", "a\r\nb\r\n" },
	{ "CR CR LF", "a\r\r\nb\r\n", 0, "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
	{ "LF CR", "a\n\rb", 0, "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
	{ "CR at the end", "a\r", 0, "a\r\n", "a\r\n" },
	{ "CR at the end after WSP", "a \r", 0, "a \r\n", "a\r\n" },
	{ "NUL and 8-bit bytes", "a\0b \xe9\r\n", 7, "a\0b \xe9\r\n",
	    "a\0b \xe9\r\n" },
	{ "VT and FF are not WSP", "a\v\fb \v\r\n", 0, "a\v\fb \v\r\n",
	    "a\v\fb \v\r\n" },
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static size_t
in_len(const struct bcase *c)
{
	return c->inlen != 0 ? c->inlen : strlen(c->in);
}

/* Length of a canonical form: NULs inside are counted by the input's. */
static size_t
canon_len(const struct bcase *c, const char *canon)
{
	return c->inlen != 0 ? c->inlen : strlen(canon);
}

static void
digest_of(enum dkimb_hash h, const void *p, size_t n, unsigned char *out,
    size_t *outlen)
{
	unsigned int len = 0;

	EVP_Digest(p, n, out, &len, h == DKIMB_SHA1 ? EVP_sha1() :
	    EVP_sha256(), NULL);
	*outlen = len;
}

/* Hash in[0..n) cut at the given split points (sorted, <= n). */
static int
run(enum dkimb_canon canon, enum dkimb_hash h, uint64_t limit,
    const char *in, size_t n, const size_t *cuts, size_t ncuts,
    unsigned char *md, size_t *mdlen, uint64_t *clen)
{
	struct dkimb *b;
	size_t i, at = 0;
	int ok = 1;

	if ((b = dkimb_new(canon, h, limit)) == NULL)
		return 0;
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		if (!dkimb_update(b, in + at, to - at))
			ok = 0;
		at = to;
	}
	if (!dkimb_final(b, md, mdlen, clen))
		ok = 0;
	dkimb_free(b);
	return ok;
}

static int
same(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
b64(const unsigned char *md, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}

static void
test_cases(void)
{
	unsigned char md[DKIMB_DIGEST_MAX], want[DKIMB_DIGEST_MAX];
	size_t mdlen, wantlen, i, n, a, c;
	uint64_t clen;
	int k, ok, split_ok;

	for (i = 0; i < NCASES; i++) {
		for (k = 0; k < 2; k++) {
			const struct bcase *bc = &cases[i];
			enum dkimb_canon canon = k ? DKIMB_RELAXED : DKIMB_SIMPLE;
			const char *form = k ? bc->relaxed : bc->simple;
			size_t flen = canon_len(bc, form);
			const char *cname = k ? "relaxed" : "simple";

			n = in_len(bc);
			digest_of(DKIMB_SHA256, form, flen, want, &wantlen);
			ok = run(canon, DKIMB_SHA256, DKIMB_NO_LIMIT, bc->in,
			    n, NULL, 0, md, &mdlen, &clen);
			tap_ok(ok && same(md, mdlen, want, wantlen),
			    "%s, %s: digest of the canonical form", bc->name,
			    cname);
			tap_int(clen, flen, "%s, %s: canonical length",
			    bc->name, cname);
			/* Every cut in one place and in two places. */
			split_ok = 1;
			for (a = 0; a <= n; a++)
				for (c = a; c <= n; c++) {
					size_t cuts[2] = { a, c };

					if (!run(canon, DKIMB_SHA256,
					    DKIMB_NO_LIMIT, bc->in, n, cuts, 2,
					    md, &mdlen, &clen) ||
					    !same(md, mdlen, want, wantlen) ||
					    clen != flen)
						split_ok = 0;
				}
			tap_ok(split_ok, "%s, %s: same digest for every split "
			    "into three chunks", bc->name, cname);
		}
	}
}

/* Byte by byte, the same as whole. */
static void
test_bytewise(void)
{
	unsigned char md[DKIMB_DIGEST_MAX], want[DKIMB_DIGEST_MAX];
	size_t mdlen, wantlen, i, j, n, cuts[64];
	uint64_t clen;
	int ok = 1;

	for (i = 0; i < NCASES; i++) {
		n = in_len(&cases[i]);
		if (n > sizeof(cuts) / sizeof(cuts[0]))
			continue;
		for (j = 0; j < n; j++)
			cuts[j] = j;
		(void)run(DKIMB_RELAXED, DKIMB_SHA256, DKIMB_NO_LIMIT,
		    cases[i].in, n, NULL, 0, want, &wantlen, &clen);
		if (!run(DKIMB_RELAXED, DKIMB_SHA256, DKIMB_NO_LIMIT,
		    cases[i].in, n, cuts, n, md, &mdlen, &clen) ||
		    !same(md, mdlen, want, wantlen))
			ok = 0;
	}
	tap_ok(ok, "every case fed one byte at a time: same digest");
}

/* Well-known bh= values: the empty body, simple and relaxed. */
static void
test_known(void)
{
	unsigned char md[DKIMB_DIGEST_MAX];
	char out[64];
	size_t mdlen;
	uint64_t clen;

	run(DKIMB_SIMPLE, DKIMB_SHA256, DKIMB_NO_LIMIT, "", 0, NULL, 0, md,
	    &mdlen, &clen);
	b64(md, mdlen, out);
	tap_str(out, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=",
	    "empty body, simple, sha256: bh= of CRLF");
	run(DKIMB_RELAXED, DKIMB_SHA256, DKIMB_NO_LIMIT, "", 0, NULL, 0, md,
	    &mdlen, &clen);
	b64(md, mdlen, out);
	tap_str(out, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	    "empty body, relaxed, sha256: bh= of nothing");
	run(DKIMB_SIMPLE, DKIMB_SHA1, DKIMB_NO_LIMIT, "\r\n\r\n", 4, NULL, 0,
	    md, &mdlen, &clen);
	b64(md, mdlen, out);
	tap_str(out, "uoq1oCgLlTqpdDX/iUbLy7J1Wic=",
	    "empty lines only, simple, sha1: bh= of CRLF");
	run(DKIMB_RELAXED, DKIMB_SHA1, DKIMB_NO_LIMIT, " \r\n", 3, NULL, 0,
	    md, &mdlen, &clen);
	b64(md, mdlen, out);
	tap_str(out, "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
	    "a line of WSP only, relaxed, sha1: bh= of nothing");
}

/* l= counts canonical bytes, and may cut a line or a CRLF in two. */
static void
test_limit(void)
{
	static const struct {
		const char *name;
		enum dkimb_canon canon;
		const char *in;
		uint64_t limit;
		const char *hashed;
		uint64_t clen;
	} lc[] = {
		{ "l= mid-line, relaxed", DKIMB_RELAXED, "abc  \tdef \r\n\r\n",
		    5, "abc d", 5 },
		{ "l= inside the CRLF", DKIMB_RELAXED, "abc  \tdef \r\n\r\n",
		    8, "abc def\r", 8 },
		{ "l= the whole body", DKIMB_RELAXED, "abc  \tdef \r\n\r\n",
		    9, "abc def\r\n", 9 },
		{ "l= beyond the body", DKIMB_RELAXED, "abc  \tdef \r\n\r\n",
		    100, "abc def\r\n", 9 },
		{ "l=0", DKIMB_SIMPLE, "abc\r\n", 0, "", 0 },
		{ "l= mid-line, simple", DKIMB_SIMPLE, "abc  \tdef \r\n", 6,
		    "abc  \t", 6 },
		{ "l=1, empty simple body", DKIMB_SIMPLE, "", 1, "\r", 1 },
		{ "l= into held empty lines", DKIMB_SIMPLE,
		    "a\r\n\r\n\r\nb\r\n", 5, "a\r\n\r\n", 5 },
	};
	unsigned char md[DKIMB_DIGEST_MAX], want[DKIMB_DIGEST_MAX];
	size_t mdlen, wantlen, i, a, n;
	uint64_t clen;
	int split_ok;

	for (i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
		n = strlen(lc[i].in);
		digest_of(DKIMB_SHA256, lc[i].hashed, strlen(lc[i].hashed),
		    want, &wantlen);
		run(lc[i].canon, DKIMB_SHA256, lc[i].limit, lc[i].in, n, NULL,
		    0, md, &mdlen, &clen);
		tap_ok(same(md, mdlen, want, wantlen), "%s: digest of \"%s\"",
		    lc[i].name, lc[i].hashed);
		/* Counted up to l= at most, as libopendkim does. */
		tap_int(clen, lc[i].clen, "%s: canonical length", lc[i].name);
		split_ok = 1;
		for (a = 0; a <= n; a++)
			if (!run(lc[i].canon, DKIMB_SHA256, lc[i].limit,
			    lc[i].in, n, &a, 1, md, &mdlen, &clen) ||
			    !same(md, mdlen, want, wantlen) ||
			    clen != lc[i].clen)
				split_ok = 0;
		tap_ok(split_ok, "%s: every split, same digest", lc[i].name);
	}
}

/*
 * dkim.c makes line ends CRLF before hashing (a bare LF or CR becomes
 * CRLF); the hasher reads them the same way, so the fixed body and the
 * raw one give the same digest.
 */
static size_t
fix_crlf(const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
			out[o++] = '\r';
			out[o++] = '\n';
		} else if (in[i] == '\r' && (i + 1 == n || in[i + 1] != '\n')) {
			out[o++] = '\r';
			out[o++] = '\n';
		} else
			out[o++] = in[i];
	}
	return o;
}

static void
test_fixed_same(void)
{
	unsigned char md[DKIMB_DIGEST_MAX], want[DKIMB_DIGEST_MAX];
	char fixed[128];
	size_t mdlen, wantlen, i, n, fn;
	uint64_t clen, wclen;
	int k, ok = 1;

	for (i = 0; i < NCASES; i++)
		for (k = 0; k < 2; k++) {
			enum dkimb_canon canon = k ? DKIMB_RELAXED : DKIMB_SIMPLE;

			n = in_len(&cases[i]);
			fn = fix_crlf(cases[i].in, n, fixed);
			run(canon, DKIMB_SHA256, DKIMB_NO_LIMIT, cases[i].in, n,
			    NULL, 0, want, &wantlen, &wclen);
			run(canon, DKIMB_SHA256, DKIMB_NO_LIMIT, fixed, fn,
			    NULL, 0, md, &mdlen, &clen);
			if (!same(md, mdlen, want, wantlen) || clen != wclen) {
				ok = 0;
				tap_diag("differs: %s", cases[i].name);
			}
		}
	tap_ok(ok, "bodies with line ends fixed as dkim.c does: same digest");
}

/* A large body: work linear, chunking irrelevant, many held lines. */
static void
test_large(void)
{
	enum { LINES = 20000 };
	struct dkimb *b;
	unsigned char md[DKIMB_DIGEST_MAX], want[DKIMB_DIGEST_MAX];
	char *body, *canon;
	size_t mdlen, wantlen, n = 0, cn = 0, at, step, i;
	uint64_t clen;
	int ok = 1;

	body = malloc((size_t)LINES * 40 + 100000 * 2 + 16);
	canon = malloc((size_t)LINES * 40 + 100000 * 2 + 16);
	if (body == NULL || canon == NULL) {
		tap_ok(0, "large body: no memory");
		free(body);
		free(canon);
		return;
	}
	for (i = 0; i < LINES; i++) {
		n += (size_t)sprintf(body + n, "line %zu  with\t runs \r\n", i);
		cn += (size_t)sprintf(canon + cn, "line %zu with runs\r\n", i);
		if (i == LINES / 2) {
			/* 100000 empty lines in the middle: all kept. */
			for (at = 0; at < 100000; at++) {
				memcpy(body + n, "\r\n", 2);
				memcpy(canon + cn, "\r\n", 2);
				n += 2;
				cn += 2;
			}
		}
	}
	digest_of(DKIMB_SHA256, canon, cn, want, &wantlen);
	for (step = 1; step <= 65536; step *= 4) {
		if ((b = dkimb_new(DKIMB_RELAXED, DKIMB_SHA256,
		    DKIMB_NO_LIMIT)) == NULL) {
			ok = 0;
			break;
		}
		for (at = 0; at < n; at += step)
			if (!dkimb_update(b, body + at,
			    n - at < step ? n - at : step))
				ok = 0;
		if (!dkimb_final(b, md, &mdlen, &clen) ||
		    !same(md, mdlen, want, wantlen) || clen != cn)
			ok = 0;
		dkimb_free(b);
	}
	tap_ok(ok, "%zu-byte relaxed body in chunks of 1 to 65536 bytes: "
	    "digest of the canonical form", n);
	free(body);
	free(canon);
}

/*
 * Reference canonicalisations, byte by byte and plainly written from
 * sections 3.4.3 and 3.4.4, for bodies of CRLF-terminated lines.
 */
static size_t
ref_canon(enum dkimb_canon canon, const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, line, keep = 0;
	int ws;

	while (i < n) {
		line = o;
		ws = 0;
		for (; i < n && in[i] != '\r'; i++) {
			if (canon == DKIMB_RELAXED &&
			    (in[i] == ' ' || in[i] == '\t')) {
				ws = 1;
				continue;
			}
			if (ws)
				out[o++] = ' ';	/* a run: one SP */
			ws = 0;
			out[o++] = in[i];
		}
		i += 2;		/* CRLF */
		out[o++] = '\r';
		out[o++] = '\n';
		if (o - line > 2)
			keep = o;	/* the end of the last non-empty line */
	}
	o = keep;		/* trailing empty lines dropped */
	if (canon == DKIMB_SIMPLE && o == 0) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	return o;
}

/* White space of every shape at every offset from an 8-byte boundary. */
static void
test_reference(void)
{
	static const char *shapes[] = { " ", "  ", "\t", " \t", "\t ", "   ",
	    " \t \t" };
	static const char *tails[] = { "", " ", "\t", " \t " };
	unsigned char md[DKIMB_DIGEST_MAX], want[DKIMB_DIGEST_MAX];
	char *in, *ref;
	size_t n = 0, rn, mdlen, wantlen, k, sh, tl, j, step;
	uint64_t clen;
	int canon, ok = 1;

	in = malloc(64 * 1024);
	ref = malloc(64 * 1024);
	if (in == NULL || ref == NULL) {
		tap_ok(0, "reference: no memory");
		free(in);
		free(ref);
		return;
	}
	for (k = 0; k < 17; k++)
		for (sh = 0; sh < sizeof(shapes) / sizeof(shapes[0]); sh++)
			for (tl = 0; tl < sizeof(tails) / sizeof(tails[0]);
			    tl++) {
				for (j = 0; j < k; j++)
					in[n++] = (char)('a' + j % 26);
				n += (size_t)sprintf(in + n, "%sb c d%s\r\n",
				    shapes[sh], tails[tl]);
				if ((k + sh + tl) % 5 == 0)
					n += (size_t)sprintf(in + n, "%s\r\n",
					    tails[tl]);
			}
	for (canon = 0; canon < 2; canon++) {
		rn = ref_canon(canon ? DKIMB_RELAXED : DKIMB_SIMPLE, in, n, ref);
		digest_of(DKIMB_SHA256, ref, rn, want, &wantlen);
		for (step = 1; step <= n; step = step * 3 + 1) {
			struct dkimb *b = dkimb_new(canon ? DKIMB_RELAXED :
			    DKIMB_SIMPLE, DKIMB_SHA256, DKIMB_NO_LIMIT);
			size_t at;

			for (at = 0; b != NULL && at < n; at += step)
				(void)dkimb_update(b, in + at,
				    n - at < step ? n - at : step);
			if (b == NULL || !dkimb_final(b, md, &mdlen, &clen) ||
			    !same(md, mdlen, want, wantlen) || clen != rn)
				ok = 0;
			dkimb_free(b);
		}
	}
	tap_ok(ok, "%zu bytes of white space shapes at every offset: the "
	    "reference canonicalisations' digests, in chunks of 1, 4, 13, "
	    "... bytes", n);
	free(in);
	free(ref);
}

static void
test_misuse(void)
{
	struct dkimb *b;
	unsigned char md[DKIMB_DIGEST_MAX];
	size_t mdlen;
	uint64_t clen;

	dkimb_free(NULL);
	tap_ok(1, "dkimb_free(NULL) is a no-op");
	b = dkimb_new(DKIMB_SIMPLE, DKIMB_SHA256, DKIMB_NO_LIMIT);
	tap_ok(b != NULL && dkimb_final(b, md, &mdlen, &clen),
	    "final on a new hasher");
	tap_ok(b != NULL && !dkimb_final(b, md, &mdlen, &clen) &&
	    !dkimb_update(b, "x", 1), "final twice, update after final: "
	    "refused");
	dkimb_free(b);
}

int
main(void)
{
	test_cases();
	test_bytewise();
	test_known();
	test_limit();
	test_fixed_same();
	test_large();
	test_reference();
	test_misuse();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
