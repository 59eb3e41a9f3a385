/*
 * ingest.c - from bytes to report callbacks.
 *
 * The container is told by content, never by file name: gzip magic
 * (1f 8b), zip local header ("PK\3\4"), XML (a "<" after an optional
 * BOM and white space), else an RFC 5322 message whose attachment is
 * read the same way, one level deep (a report inside an e-mail inside
 * an e-mail attachment is not looked for).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest.h"

static enum ingest_status
xml_sink(void *ctx, const void *buf, size_t len, bool last,
    struct strbuf *err)
{
	return ingest_xml_feed(ctx, buf, len, last, err);
}

static bool
looks_xml(const unsigned char *b, size_t len)
{
	size_t i = 0;

	if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' ||
	    b[i] == '\n'))
		i++;
	return i < len && b[i] == '<';
}

/* A failure report, if the message is one: INGEST_ERR_CONTENT with
 * err untouched when it holds no feedback part. */
static enum ingest_status
parse_failure(const unsigned char *b, size_t len,
    const struct ingest_handlers *h, struct strbuf *err)
{
	struct ingest_failure *f = NULL;
	enum ingest_status s;

	s = ingest_failure_parse((const char *)b, len, &f, err);
	if (s != INGEST_OK)
		return s;
	if (h->failure == NULL) {
		strbuf_appends(err, "a failure report, not an aggregate "
		    "report");
		s = INGEST_ERR_CONTENT;
	} else if (h->failure(f, h->ctx) != 0)
		s = INGEST_ERR_CALLBACK;
	ingest_failure_free(f);
	return s;
}

static enum ingest_status
parse(const unsigned char *b, size_t len, const struct ingest_handlers *h,
    struct strbuf *err, int depth)
{
	ingest_report_cb rcb = h->report;
	ingest_record_cb ccb = h->record;
	void *ctx = h->ctx;
	struct ingest_xml *x = NULL;
	enum ingest_status s;
	unsigned char *att = NULL;
	size_t attlen = 0, elen;

	if (len == 0) {
		strbuf_appends(err, "empty file");
		return INGEST_ERR_EMPTY;
	}
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		if ((x = ingest_xml_new(rcb, ccb, ctx)) == NULL)
			return INGEST_ERR_NOMEM;
		s = ingest_gunzip(b, len, xml_sink, x, err);
	} else if (len >= 4 && memcmp(b, "PK\3\4", 4) == 0) {
		if ((x = ingest_xml_new(rcb, ccb, ctx)) == NULL)
			return INGEST_ERR_NOMEM;
		s = ingest_unzip(b, len, xml_sink, x, err);
	} else if (looks_xml(b, len)) {
		if ((x = ingest_xml_new(rcb, ccb, ctx)) == NULL)
			return INGEST_ERR_NOMEM;
		s = ingest_xml_feed(x, b, len, true, err);
	} else if (depth == 0) {
		/* a failure report first: its original message may carry
		 * any attachment */
		elen = strbuf_len(err);
		s = parse_failure(b, len, h, err);
		if (s == INGEST_ERR_CONTENT && strbuf_len(err) == elen) {
			s = ingest_mime_attachment((const char *)b, len, &att,
			    &attlen, NULL, err);
			if (s == INGEST_OK)
				s = parse(att, attlen, h, err, 1);
			free(att);
		}
	} else {
		strbuf_appends(err, "attachment is neither XML, gzip nor zip");
		s = INGEST_ERR_FORMAT;
	}
	ingest_xml_free(x);
	return s;
}

enum ingest_status
ingest_buffer_with(const void *buf, size_t len,
    const struct ingest_handlers *h, struct strbuf *err)
{
	return parse(buf, len, h, err, 0);
}

enum ingest_status
ingest_buffer(const void *buf, size_t len, ingest_report_cb rcb,
    ingest_record_cb ccb, void *ctx, struct strbuf *err)
{
	struct ingest_handlers h = { rcb, ccb, NULL, ctx };

	return parse(buf, len, &h, err, 0);
}

static ssize_t
read_full(int fd, unsigned char *b, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

enum ingest_status
ingest_fd(int fd, ingest_report_cb rcb, ingest_record_cb ccb, void *ctx,
    struct strbuf *err)
{
	struct ingest_handlers h = { rcb, ccb, NULL, ctx };

	return ingest_fd_with(fd, &h, err);
}

enum ingest_status
ingest_fd_with(int fd, const struct ingest_handlers *h, struct strbuf *err)
{
	enum ingest_status s;
	struct ingest_xml *x;
	unsigned char *b, *nb;
	size_t len, cap = 65536;
	ssize_t r;

	if ((b = malloc(cap)) == NULL)
		return INGEST_ERR_NOMEM;
	if ((r = read_full(fd, b, cap)) < 0)
		goto ioerr;
	len = (size_t)r;
	if (len > 0 && looks_xml(b, len) && !(b[0] == 0x1f)) {
		/* stream a plain XML document, chunk by chunk */
		if ((x = ingest_xml_new(h->report, h->record, h->ctx)) ==
		    NULL) {
			free(b);
			return INGEST_ERR_NOMEM;
		}
		for (;;) {
			bool last = len < cap;

			s = ingest_xml_feed(x, b, len, last, err);
			if (s != INGEST_OK || last)
				break;
			if ((r = read_full(fd, b, cap)) < 0) {
				ingest_xml_free(x);
				goto ioerr;
			}
			len = (size_t)r;
		}
		ingest_xml_free(x);
		free(b);
		return s;
	}
	/* a container: read it whole, within the input cap */
	while (len == cap) {
		if (cap >= INGEST_MAX_INPUT) {
			free(b);
			strbuf_appendf(err, "input larger than %u MiB",
			    INGEST_MAX_INPUT >> 20);
			return INGEST_ERR_LIMIT;
		}
		if ((nb = realloc(b, cap * 2)) == NULL) {
			free(b);
			return INGEST_ERR_NOMEM;
		}
		b = nb;
		if ((r = read_full(fd, b + cap, cap)) < 0)
			goto ioerr;
		len = cap + (size_t)r;
		cap *= 2;
	}
	s = parse(b, len, h, err, 0);
	free(b);
	return s;
ioerr:
	strbuf_appendf(err, "read error: %s", strerror(errno));
	free(b);
	return INGEST_ERR_IO;
}
