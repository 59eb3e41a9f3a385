/*
 * dkim_body.h - the DKIM body hash (RFC 6376 section 3.7): the body
 * canonicalised, simple (section 3.4.3) or relaxed (3.4.4), cut at an
 * optional l= length (3.5, counted in canonical bytes), and hashed with
 * SHA-1 or SHA-256.
 *
 * Prefix: dkimb_ ("DKIM body"); libopendkim owns dkim_.
 *
 * auth/dkim.c gives the body here instead of to libopendkim, whose
 * canonicaliser copies byte by byte (see the comment there).  The body
 * is streamed in chunks of any size, split anywhere (inside a CRLF, a
 * run of white space or the trailing empty lines): the state kept
 * between chunks is a few flags and a count of held empty lines, never
 * body bytes, and the work is linear in the body.
 *
 * Line ends: CRLF, and also a bare CR or a bare LF, each end one line,
 * as auth/dkim.c's dkimv_body() fixes them before libopendkim sees
 * them; a non-empty body whose last line has no line end gets one.
 */
#ifndef DM_AUTH_DKIM_BODY_H
#define DM_AUTH_DKIM_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dkimb_canon { DKIMB_SIMPLE, DKIMB_RELAXED };
enum dkimb_hash { DKIMB_SHA1, DKIMB_SHA256 };

#define DKIMB_NO_LIMIT	UINT64_MAX	/* no l= tag: the whole body */
#define DKIMB_DIGEST_MAX 32		/* SHA-256 */

struct dkimb;

/*
 * A new hasher; limit is l= (canonical bytes hashed at most) or
 * DKIMB_NO_LIMIT.  NULL when memory or the digest is not available.
 * Free with dkimb_free() (NULL is a no-op).
 */
struct dkimb *dkimb_new(enum dkimb_canon, enum dkimb_hash, uint64_t limit);
void	 dkimb_free(struct dkimb *);

/* Feed len bytes of body.  False if the digest failed (then sticky). */
bool	 dkimb_update(struct dkimb *, const void *buf, size_t len);

/*
 * End of body: the digest into digest (DKIMB_DIGEST_MAX bytes of room),
 * its length into *digestlen, and into *canonlen the length of the
 * canonical body counted up to l= at most (as libopendkim's canon_wrote:
 * less than l= means l= is beyond the body, which section 3.5 makes a
 * failure).  False if the digest failed.  Call once.
 */
bool	 dkimb_final(struct dkimb *, unsigned char *digest, size_t *digestlen,
	    uint64_t *canonlen);

#endif
