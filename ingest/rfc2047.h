/*
 * rfc2047.h - RFC 2047 encoded-words in unstructured header text (the
 * Subject of a failure report's original message), decoded to UTF-8.
 */
#ifndef DM_INGEST_RFC2047_H
#define DM_INGEST_RFC2047_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

#define RFC2047_MAX_CHARSET	64	/* longest charset name read */

/*
 * Decode the header text in[0..len) into out (reset first): encoded
 * words ("=?charset?B|Q?text?=", B and Q, any charset iconv(3) knows,
 * UTF-8, US-ASCII, ISO-8859-1 and windows-1252 built in) become UTF-8,
 * white space between two adjacent encoded words is dropped (RFC 2047
 * section 6.2), and a malformed word or one in an unknown charset is
 * kept as it was.  The result is valid UTF-8 on one line: an invalid
 * sequence becomes U+FFFD, TAB, CR and LF a space, and any other
 * control character U+FFFD.  At most max bytes are written, cut on a
 * character boundary; true when the text was cut.  An allocation
 * failure is left in out (strbuf_failed()).
 */
bool	 rfc2047_decode(struct strbuf *out, const char *in, size_t len,
	    size_t max);

#endif
