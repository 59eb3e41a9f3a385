/*
 * aggregate_gzip.c - gzip (RFC 1952) a report in memory with zlib, for
 * the ".xml.gz" form of RFC 9990 section 3.2.1.1.
 */
#include "config.h"

#include <string.h>
#include <zlib.h>

#include "aggregate.h"

enum aggregate_status
aggregate_gzip(const char *in, size_t len, struct strbuf *out)
{
	unsigned char buf[16384];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer; no file name or
	 * time in the header, so the same XML gives the same bytes. */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return AGGREGATE_ERR_GZIP;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	if ((size_t)z.avail_in != len) {
		deflateEnd(&z);
		return AGGREGATE_ERR_GZIP;
	}
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR)
			break;
		strbuf_append(out, (const char *)buf,
		    sizeof(buf) - z.avail_out);
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	if (zr != Z_STREAM_END)
		return AGGREGATE_ERR_GZIP;
	return strbuf_failed(out) ? AGGREGATE_ERR_NOMEM : AGGREGATE_OK;
}
