/*
 * fuzz_mime.c - libFuzzer target: any bytes as a report e-mail through
 * the MIME walker (mime.c), the aggregate attachment finder, the
 * failure report parser (afrf.c) and the mbox splitter (mbox.c).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
walk_cb(const struct ingest_mime_part *p, void *ctx)
{
	size_t *n = ctx;

	*n += p->body_len + p->header_len;
	return p->depth > 5 ? INGEST_MIME_SKIP : INGEST_MIME_NEXT;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	struct ingest_failure *f = NULL;
	const char *m = (const char *)data;
	unsigned char *out = NULL;
	size_t outlen, n = 0, off = 0;

	ingest_mime_walk(m, size, walk_cb, &n, &err);
	ingest_mime_attachment(m, size, &out, &outlen, NULL, &err);
	free(out);
	if (ingest_failure_parse(m, size, &f, &err) == INGEST_OK &&
	    (f->report_key[64] != '\0' || f->reported_domain[0] == '\0'))
		abort();
	ingest_failure_free(f);
	strbuf_set_limit(&msg, 1 << 16);
	while (ingest_mbox_next(m, size, &off, &msg))
		;
	strbuf_release(&msg);
	strbuf_release(&err);
	return 0;
}
