/*
 * decompress.c - gzip (RFC 1952) and zip (PKWARE APPNOTE 6.3, stored and
 * deflate entries) for report attachments, on zlib only.
 *
 * Both stream their output to a sink in 64 KiB pieces, so a bomb is
 * stopped by the output cap (INGEST_MAX_OUTPUT) or the ratio cap
 * (INGEST_MAX_RATIO) after at most one piece past it, in fixed memory.
 * Left out: zip64, encryption, multi-disk archives, and more than one
 * report per zip (the first *.xml entry is read).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "ingest/decompress.h"

#define OUTCHUNK 65536

static enum ingest_status
limit(struct strbuf *err, const char *what)
{
	strbuf_appendf(err, "%s", what);
	return INGEST_ERR_LIMIT;
}

/* Inflate with windowBits wb; in_len is the compressed size for the
 * ratio check. */
static enum ingest_status
inflate_to(const unsigned char *in, size_t in_len, int wb, bool multi,
    ingest_sink sink, void *ctx, struct strbuf *err)
{
	unsigned char out[OUTCHUNK];
	enum ingest_status s = INGEST_OK;
	uint64_t total = 0;
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, wb) != Z_OK)
		return INGEST_ERR_NOMEM;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)in_len;
	for (;;) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			strbuf_appendf(err, "corrupt compressed data: %s",
			    z.msg != NULL ? z.msg : "inflate failed");
			s = INGEST_ERR_FORMAT;
			break;
		}
		total += sizeof(out) - z.avail_out;
		if (total > INGEST_MAX_OUTPUT) {
			s = limit(err, "decompressed size exceeds 64 MiB "
			    "(compression bomb?)");
			break;
		}
		if (total > (1u << 20) && total / (in_len ? in_len : 1) >
		    INGEST_MAX_RATIO) {
			s = limit(err, "compression ratio over 250:1 "
			    "(compression bomb)");
			break;
		}
		if (rc == Z_STREAM_END && multi && z.avail_in > 0 &&
		    z.next_in[0] == 0x1f) {
			/* another gzip member follows */
			if ((s = sink(ctx, out, sizeof(out) - z.avail_out,
			    false, err)) != INGEST_OK)
				break;
			inflateReset(&z);
			continue;
		}
		if (rc == Z_BUF_ERROR && z.avail_in == 0 &&
		    z.avail_out == sizeof(out)) {
			strbuf_appendf(err, "truncated compressed data");
			s = INGEST_ERR_FORMAT;
			break;
		}
		s = sink(ctx, out, sizeof(out) - z.avail_out,
		    rc == Z_STREAM_END, err);
		if (s != INGEST_OK || rc == Z_STREAM_END)
			break;
	}
	inflateEnd(&z);
	return s;
}

enum ingest_status
ingest_gunzip(const void *buf, size_t len, ingest_sink sink, void *ctx,
    struct strbuf *err)
{
	if (len > INGEST_MAX_INPUT)
		return limit(err, "compressed file larger than 32 MiB");
	return inflate_to(buf, len, 15 + 16, true, sink, ctx, err);
}

static unsigned
u16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static enum ingest_status
bad(struct strbuf *err, const char *what)
{
	strbuf_appendf(err, "broken zip archive: %s", what);
	return INGEST_ERR_FORMAT;
}

enum ingest_status
ingest_unzip(const void *vbuf, size_t len, ingest_sink sink, void *ctx,
    struct strbuf *err)
{
	const unsigned char *b = vbuf, *e = NULL, *c, *pick = NULL;
	size_t i, off, n, cdoff, cdlen, lh, data;
	unsigned nent, k, method, flags;
	uint32_t csize, usize;

	if (len > INGEST_MAX_INPUT)
		return limit(err, "zip file larger than 32 MiB");
	if (len < 22)
		return bad(err, "too short");
	/* End of central directory: the last PK\5\6 within 64 KiB + 22. */
	for (i = len - 22 + 1; i-- > 0 && len - i <= 65535 + 22;)
		if (memcmp(b + i, "PK\5\6", 4) == 0) {
			e = b + i;
			break;
		}
	if (e == NULL)
		return bad(err, "no end of central directory");
	nent = u16(e + 10);
	cdlen = u32(e + 12);
	cdoff = u32(e + 16);
	if (nent == 0)
		return bad(err, "no entries");
	if (nent > INGEST_ZIP_MAX_ENTRIES) {
		strbuf_appendf(err, "zip archive has %u entries (at most %d)",
		    nent, INGEST_ZIP_MAX_ENTRIES);
		return INGEST_ERR_LIMIT;
	}
	if (cdoff > len || cdlen > len - cdoff)
		return bad(err, "central directory out of bounds");
	for (k = 0, off = cdoff; k < nent; k++) {
		if (off + 46 > cdoff + cdlen || memcmp(b + off, "PK\1\2", 4))
			return bad(err, "bad central directory entry");
		c = b + off;
		n = u16(c + 28);
		if (off + 46 + n > cdoff + cdlen)
			return bad(err, "entry name out of bounds");
		if (pick == NULL)
			pick = c;
		if (n >= 4 && strncasecmp((const char *)c + 46 + n - 4,
		    ".xml", 4) == 0 && (pick == c || strncasecmp(
		    (const char *)pick + 46 + u16(pick + 28) - 4, ".xml",
		    4) != 0))
			pick = c;
		off += 46 + n + u16(c + 30) + u16(c + 32);
	}
	c = pick;
	flags = u16(c + 8);
	method = u16(c + 10);
	csize = u32(c + 20);
	usize = u32(c + 24);
	lh = u32(c + 42);
	if (flags & 1)
		return bad(err, "encrypted entry");
	if (csize == 0xffffffffu || usize == 0xffffffffu || lh == 0xffffffffu)
		return bad(err, "zip64 is not supported");
	if (usize > INGEST_MAX_OUTPUT)
		return limit(err, "decompressed size exceeds 64 MiB "
		    "(compression bomb?)");
	if (lh > len || len - lh < 30 || memcmp(b + lh, "PK\3\4", 4))
		return bad(err, "bad local header");
	data = lh + 30 + u16(b + lh + 26) + u16(b + lh + 28);
	if (data > len || csize > len - data)
		return bad(err, "entry data out of bounds");
	if (method == 0)
		return sink(ctx, b + data, csize, true, err);
	if (method != 8)
		return bad(err, "compression method is not deflate");
	return inflate_to(b + data, csize, -15, false, sink, ctx, err);
}
