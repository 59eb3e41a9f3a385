/*
 * decompress.h - gzip and zip report containers, streamed, with caps.
 */
#ifndef DM_INGEST_DECOMPRESS_H
#define DM_INGEST_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "ingest/xml.h"

#define INGEST_MAX_INPUT	(32u << 20)	/* compressed file, e-mail */
#define INGEST_MAX_OUTPUT	INGEST_XML_MAX_BYTES /* decompressed */
#define INGEST_MAX_RATIO	250		/* out / in, past 1 MiB out */
#define INGEST_ZIP_MAX_ENTRIES	16

/* Where decompressed bytes go (ingest_xml_feed's shape). */
typedef enum ingest_status (*ingest_sink)(void *ctx, const void *buf,
	    size_t len, bool last, struct strbuf *err);

/* Inflate the gzip data buf[0..len) (several members allowed) into sink.
 * INGEST_ERR_LIMIT past INGEST_MAX_OUTPUT bytes or INGEST_MAX_RATIO,
 * INGEST_ERR_FORMAT for corrupt data; the sink's status otherwise. */
enum ingest_status ingest_gunzip(const void *buf, size_t len,
	    ingest_sink sink, void *ctx, struct strbuf *err);

/* The first entry named *.xml (else the first entry) of the zip archive
 * buf[0..len), stored or deflated, into sink; *name (may be NULL) gets a
 * pointer to a static copy of its name.  Caps as for gzip, and at most
 * INGEST_ZIP_MAX_ENTRIES entries.  The central directory is trusted only
 * after bounds checks; encrypted and zip64 entries are refused. */
enum ingest_status ingest_unzip(const void *buf, size_t len,
	    ingest_sink sink, void *ctx, struct strbuf *err);

#endif
