/*
 * fuzz_ingest_xml.c - libFuzzer target: any bytes through the importer's
 * input detection (XML, gzip, zip, e-mail) and tolerant XML parser,
 * failure reports included.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
rcb(const struct ingest_report *r, void *ctx)
{
	(void)ctx;
	return r->domain[0] == '\0';
}

static int
ccb(const struct ingest_report *r, const struct ingest_record *c, void *ctx)
{
	(void)r, (void)ctx;
	return c->source_ip[0] == '!';
}

static int
fcb(const struct ingest_failure *f, void *ctx)
{
	(void)ctx;
	return f->reported_domain[0] == '!';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_handlers h = { rcb, ccb, fcb, NULL };
	struct strbuf err = STRBUF_INIT;

	ingest_buffer_with(data, size, &h, &err);
	strbuf_release(&err);
	return 0;
}
