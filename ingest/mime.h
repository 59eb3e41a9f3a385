/*
 * mime.h - find the report attachment in a report e-mail.
 */
#ifndef DM_INGEST_MIME_H
#define DM_INGEST_MIME_H

#include <stddef.h>

#include "common/strbuf.h"
#include "ingest/xml.h"

#define INGEST_MIME_MAX_DEPTH	8
#define INGEST_MIME_MAX_PARTS	64

/*
 * Walk the message msg[0..len) (RFC 5322 + MIME, LF or CRLF lines) and
 * decode (base64, quoted-printable, 7bit/8bit/binary) the first part
 * that holds a report: application/gzip, application/x-gzip,
 * application/zip, application/x-zip-compressed, text/xml,
 * application/xml, or application/octet-stream (or any type) whose
 * file name ends in .xml, .gz or .zip.  On INGEST_OK, *out is a new
 * buffer the caller frees and *outlen its length; name (may be NULL)
 * gets the attachment's file name.  INGEST_ERR_CONTENT when no part
 * holds a report, INGEST_ERR_LIMIT past the depth or part caps.
 */
enum ingest_status ingest_mime_attachment(const char *msg, size_t len,
	    unsigned char **out, size_t *outlen, struct strbuf *name,
	    struct strbuf *err);

#endif
