/*
 * mime.h - walk a report e-mail: find the aggregate report attachment,
 * or hand every MIME entity to a callback (failure reports, afrf.h).
 */
#ifndef DM_INGEST_MIME_H
#define DM_INGEST_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "ingest/xml.h"

#define INGEST_MIME_MAX_DEPTH	8
#define INGEST_MIME_MAX_PARTS	64

/* One entity of a message, borrowed from the message buffer. */
struct ingest_mime_part {
	const char *header;		/* its header block (with the
					 * blank line), header_len bytes */
	size_t	 header_len;
	const char *type;		/* Content-Type value, trimmed;
					 * "text/plain" when absent */
	const char *filename;		/* filename= or name=, or "" */
	const char *cte;		/* Content-Transfer-Encoding */
	const char *body;		/* encoded body, body_len bytes */
	size_t	 body_len;
	unsigned depth;			/* 0: the message itself */
};

/* What a walk callback wants next. */
enum {
	INGEST_MIME_NEXT,	/* go on (into a multipart or message) */
	INGEST_MIME_STOP,	/* end the walk */
	INGEST_MIME_SKIP	/* go on, but not into this entity */
};
typedef int (*ingest_mime_cb)(const struct ingest_mime_part *, void *ctx);

/*
 * Walk the message msg[0..len) (RFC 5322 + MIME, LF or CRLF lines),
 * depth first, calling cb for every entity (multiparts and
 * message/rfc822 included, before their children).  INGEST_ERR_LIMIT
 * past INGEST_MIME_MAX_DEPTH, INGEST_MIME_MAX_PARTS or 64 MiB, with
 * err saying which; INGEST_OK otherwise, whatever cb returned.
 */
enum ingest_status ingest_mime_walk(const char *msg, size_t len,
	    ingest_mime_cb cb, void *ctx, struct strbuf *err);

/*
 * Walk the message and decode (base64, quoted-printable,
 * 7bit/8bit/binary) the first part that holds a report:
 * application/gzip, application/x-gzip, application/zip,
 * application/x-zip-compressed, text/xml, application/xml, or any type
 * whose file name ends in .xml, .gz or .zip.  On INGEST_OK, *out is a
 * new buffer the caller frees and *outlen its length; name (may be
 * NULL) gets the attachment's file name.  INGEST_ERR_CONTENT when no
 * part holds a report, INGEST_ERR_LIMIT past the caps.
 */
enum ingest_status ingest_mime_attachment(const char *msg, size_t len,
	    unsigned char **out, size_t *outlen, struct strbuf *name,
	    struct strbuf *err);

/* The offset of the body of the entity m[0..len): just past the blank
 * line, or len when there is none. */
size_t	 ingest_mime_header_end(const char *m, size_t len);
/* Field name (case-insensitive) of the header block h[0..hlen) into
 * out, unfolded, CR and LF dropped, not trimmed; false when absent. */
bool	 ingest_mime_header_get(const char *h, size_t hlen,
	    const char *name, struct strbuf *out);
/* Whether a Content-Type value is of the media type want ("text/xml"),
 * case-insensitive, parameters ignored. */
bool	 ingest_mime_type_is(const char *type, const char *want);
/* Decode len bytes of a body in the transfer encoding cte; a new
 * buffer of *outlen bytes (plus room for a NUL) the caller frees, or
 * NULL when out of memory.  Unknown encodings are copied. */
unsigned char *ingest_mime_decode(const char *b, size_t len,
	    const char *cte, size_t *outlen);

#endif
