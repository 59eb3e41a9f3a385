/*
 * ingest.h - one input (file, stdin) to report callbacks: detects a
 * plain XML report, gzip, zip or a report e-mail by its content.
 */
#ifndef DM_INGEST_INGEST_H
#define DM_INGEST_INGEST_H

#include "ingest/decompress.h"
#include "ingest/mime.h"
#include "ingest/xml.h"

/*
 * Read fd to its end and parse the report it holds, calling report_cb
 * and record_cb (see xml.h).  A plain XML document is streamed; gzip,
 * zip and e-mail inputs are read whole (at most INGEST_MAX_INPUT bytes)
 * and their report streamed out of them.  err gets the precise reason
 * on failure.
 */
enum ingest_status ingest_fd(int fd, ingest_report_cb report_cb,
	    ingest_record_cb record_cb, void *ctx, struct strbuf *err);

/* The same for a buffer (fuzzing, tests). */
enum ingest_status ingest_buffer(const void *buf, size_t len,
	    ingest_report_cb report_cb, ingest_record_cb record_cb,
	    void *ctx, struct strbuf *err);

#endif
