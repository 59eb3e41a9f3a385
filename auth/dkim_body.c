/*
 * dkim_body.c - the DKIM body hash: canonicalisation (RFC 6376 sections
 * 3.4.3 simple, 3.4.4 relaxed), the l= cut (3.5) and the digest (3.7).
 *
 * How it stays fast: the output of either canonicalisation is mostly the
 * input itself.  Line ends are found with memchr(), relaxed text that
 * needs no change eight bytes at a time (verbatim_end()); what is hashed
 * is kept as a span of the caller's chunk and grown while the next piece
 * is adjacent in memory, so a chunk of ordinary CRLF text reaches
 * EVP_DigestUpdate() as one span.  A span is broken only where the
 * canonical form differs from the input: held empty lines that turn out
 * not to be trailing (written from a constant CRLF run), a run of white
 * space that is not one SP (relaxed), white space at the end of a line
 * (relaxed), a bare CR or LF (written as CRLF).
 *
 * State between chunks: a CR that ended the last chunk, whether the
 * current line has content, a held run of white space (relaxed), and the
 * number of empty lines held back (section 3.4.3: trailing empty lines
 * are dropped, so they are written only when content follows).
 *
 * Left out: nothing of the two canonicalisations; the digests are the
 * two RFC 6376 names (SHA-1 is kept for completeness: dkim.c judges
 * rsa-sha1 signatures before any hashing, RFC 8301).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/mem.h"
#include "dkim_body.h"

/* Held empty lines are written from this, up to 32 at a time. */
static const char crlfs[] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
#define CRLFS_LINES	((sizeof(crlfs) - 1) / 2)

struct dkimb {
	EVP_MD_CTX *md;
	enum dkimb_canon canon;
	uint64_t limit;		/* l=, or DKIMB_NO_LIMIT */
	uint64_t len;		/* canonical bytes so far (may pass l=) */
	uint64_t hashed;	/* of which given to the digest */
	uint64_t blanks;	/* empty lines held back */
	const unsigned char *span; /* canonical bytes not yet hashed */
	size_t	 spanlen;
	bool	 cr;		/* the last chunk ended with a CR */
	bool	 content;	/* the current line has content */
	bool	 wsp;		/* relaxed: white space held in this line */
	bool	 failed;
	bool	 done;
};

struct dkimb *
dkimb_new(enum dkimb_canon canon, enum dkimb_hash hash, uint64_t limit)
{
	struct dkimb *b;
	const EVP_MD *md = hash == DKIMB_SHA1 ? EVP_sha1() : EVP_sha256();

	if ((b = mem_calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->canon = canon;
	b->limit = limit;
	if (md == NULL || (b->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->md, md, NULL) != 1) {
		dkimb_free(b);
		return NULL;
	}
	return b;
}

void
dkimb_free(struct dkimb *b)
{
	if (b == NULL)
		return;
	EVP_MD_CTX_free(b->md);
	mem_free(b);
}

/* Hash the pending span, cut at l=. */
static void
flush(struct dkimb *b)
{
	uint64_t room;
	size_t n = b->spanlen;

	if (n == 0)
		return;
	if (b->limit != DKIMB_NO_LIMIT) {
		room = b->limit > b->hashed ? b->limit - b->hashed : 0;
		if (n > room)
			n = (size_t)room;
	}
	if (n > 0 && EVP_DigestUpdate(b->md, b->span, n) != 1)
		b->failed = true;
	b->hashed += n;
	b->spanlen = 0;
}

/* Canonical output: n bytes at p, joined to the span when adjacent. */
static void
emit(struct dkimb *b, const void *p, size_t n)
{
	if (b->spanlen > 0 && (const unsigned char *)p == b->span + b->spanlen)
		b->spanlen += n;
	else {
		flush(b);
		b->span = p;
		b->spanlen = n;
	}
	b->len += n;
}

/* Empty lines held back are not trailing after all: write them. */
static void
emit_blanks(struct dkimb *b)
{
	uint64_t k;

	while (b->blanks > 0) {
		k = b->blanks < CRLFS_LINES ? b->blanks : CRLFS_LINES;
		emit(b, crlfs, (size_t)k * 2);
		flush(b);	/* the next run starts at crlfs again */
		b->blanks -= k;
	}
}

/* The line ends; eol is its CRLF in the input, or NULL (bare CR or LF). */
static void
line_end(struct dkimb *b, const unsigned char *eol)
{
	/* Section 3.4.4 b: white space at the end of a line is dropped. */
	b->wsp = false;
	if (!b->content) {
		/* Sections 3.4.3, 3.4.4 c: empty lines at the end go. */
		b->blanks++;
		return;
	}
	emit(b, eol != NULL ? (const void *)eol : (const void *)"\r\n", 2);
	b->content = false;
}

/* Simple: every byte of a line is content, as it is. */
static void
simple_part(struct dkimb *b, const unsigned char *p, size_t n)
{
	emit_blanks(b);
	emit(b, p, n);
	b->content = true;
}

/* RFC 6376 section 2.8 WSP: SP and HTAB. */
static const unsigned char wsp[256] = { ['\t'] = 1, [' '] = 1 };

#define BYTES(c)	((uint64_t)(c) * 0x0101010101010101ULL)
#define LOW7		BYTES(0x7f)

/* 0x80 in each byte of x that is zero, and nothing else. */
static uint64_t
zero_bytes(uint64_t x)
{
	return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/*
 * How far from s the text is its own relaxed form: up to the first
 * HTAB, SP followed by WSP, or SP at the end.  Eight bytes are tested at
 * a time (a HTAB, or two SPs side by side, in bytes 0-7); seven are
 * passed, so that the pair of bytes 7 and 8 is tested with the next.
 */
static const unsigned char *
verbatim_end(const unsigned char *s, const unsigned char *end)
{
	const unsigned char *t = s;
	uint64_t w, sp;

	while (end - t >= 8) {
		memcpy(&w, t, 8);
		sp = zero_bytes(w ^ BYTES(' '));
		if ((zero_bytes(w ^ BYTES('\t')) | (sp & (sp >> 8))) != 0)
			break;
		t += 7;
	}
	for (;;) {
		while (t < end && !wsp[*t])
			t++;
		if (t + 1 < end && *t == ' ' && !wsp[t[1]]) {
			t++;
			continue;
		}
		return t;
	}
}

/*
 * Relaxed (section 3.4.4 a): a run of white space becomes one SP, but
 * only once content follows it on the same line; until then it is held
 * (it may be trailing, and the line may go on in the next chunk).  Text
 * with single SPs between words is its own canonical form: it is found
 * by verbatim_end() and emitted as one span.
 */
static void
relaxed_part(struct dkimb *b, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n, *s = p, *t;

	if (wsp[*s]) {
		while (s < end && wsp[*s])
			s++;
		b->wsp = true;
		if (s == end)
			return;
	}
	/* s is at content. */
	if (!b->content)
		emit_blanks(b);
	if (b->wsp) {
		/* Leading or held white space before content: one SP. */
		if (s - p == 1 && *p == ' ')
			emit(b, p, 1);
		else
			emit(b, " ", 1);
		b->wsp = false;
	}
	b->content = true;
	while (s < end) {
		/* Content and single SPs followed by content, as they are. */
		t = verbatim_end(s, end);
		emit(b, s, (size_t)(t - s));
		if (t == end)
			break;
		/* A run that is not one SP, or one at the end of the part. */
		for (s = t; s < end && wsp[*s]; s++)
			;
		if (s == end) {
			b->wsp = true;
			break;
		}
		emit(b, " ", 1);
	}
}

static void
line_part(struct dkimb *b, const unsigned char *p, size_t n)
{
	if (b->canon == DKIMB_SIMPLE)
		simple_part(b, p, n);
	else
		relaxed_part(b, p, n);
}

static bool
limit_reached(const struct dkimb *b)
{
	return b->limit != DKIMB_NO_LIMIT && b->len >= b->limit;
}

/*
 * Each memchr() starts past the last hit of its byte and is redone only
 * when that hit is used, so a chunk is scanned about twice in all,
 * whatever its mix of CR and LF.
 */
bool
dkimb_update(struct dkimb *b, const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len, *q;
	const unsigned char *nextcr = NULL, *nextlf = NULL;

	if (b->failed || b->done)
		return false;
	if (len == 0 || limit_reached(b))
		return true;
	if (b->cr) {
		/* A CR ended the last chunk: CRLF split, or a bare CR. */
		b->cr = false;
		line_end(b, NULL);
		if (*p == '\n')
			p++;
	}
	while (p < end && !limit_reached(b)) {
		if (nextcr == NULL || nextcr < p)
			if ((nextcr = memchr(p, '\r', (size_t)(end - p))) == NULL)
				nextcr = end;
		if (nextlf == NULL || nextlf < p)
			if ((nextlf = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nextlf = end;
		q = nextcr < nextlf ? nextcr : nextlf;
		if (q > p)
			line_part(b, p, (size_t)(q - p));
		if (q == end)
			break;
		if (*q == '\n') {
			line_end(b, NULL);	/* bare LF */
			p = q + 1;
		} else if (q + 1 == end) {
			b->cr = true;		/* known with the next chunk */
			break;
		} else if (q[1] == '\n') {
			line_end(b, q);
			p = q + 2;
		} else {
			line_end(b, NULL);	/* bare CR */
			p = q + 1;
		}
	}
	/* The span points into the caller's chunk: hash it now. */
	flush(b);
	return !b->failed;
}

bool
dkimb_final(struct dkimb *b, unsigned char *digest, size_t *digestlen,
    uint64_t *canonlen)
{
	unsigned int n = 0;

	*digestlen = 0;
	*canonlen = 0;
	if (b->failed || b->done)
		return false;
	b->done = true;
	if (!limit_reached(b)) {
		/* A held CR, or a last line without a line end: it ends. */
		if (b->cr || b->content || b->wsp)
			line_end(b, NULL);
		b->cr = false;
		/* Section 3.4.3: an empty simple body is one CRLF. */
		if (b->canon == DKIMB_SIMPLE && b->len == 0)
			emit(b, "\r\n", 2);
	}
	flush(b);
	if (b->failed || EVP_DigestFinal_ex(b->md, digest, &n) != 1 ||
	    n > DKIMB_DIGEST_MAX)
		return false;
	*digestlen = n;
	/* Past l=, how far depends on where the chunks ended: cut it. */
	*canonlen = b->limit != DKIMB_NO_LIMIT && b->len > b->limit ?
	    b->limit : b->len;
	return true;
}
