/*
 * ingest.h - one input (file, stdin) to report callbacks: detects a
 * plain XML report, gzip, zip or a report e-mail (aggregate or
 * failure) by its content.
 */
#ifndef DM_INGEST_INGEST_H
#define DM_INGEST_INGEST_H

#include "ingest/afrf.h"
#include "ingest/decompress.h"
#include "ingest/mbox.h"
#include "ingest/mime.h"
#include "ingest/xml.h"

/* A failure report read from an e-mail; 0 to go on, else stop with
 * INGEST_ERR_CALLBACK. */
typedef int (*ingest_failure_cb)(const struct ingest_failure *, void *ctx);

/* What to call for what an input holds; failure may be NULL (a failure
 * report is then refused as "not an aggregate report"). */
struct ingest_handlers {
	ingest_report_cb report;
	ingest_record_cb record;
	ingest_failure_cb failure;
	void	*ctx;
};

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

/* ingest_fd() and ingest_buffer() that also read failure reports: an
 * e-mail with a message/feedback-report part goes to h->failure. */
enum ingest_status ingest_fd_with(int fd, const struct ingest_handlers *h,
	    struct strbuf *err);
enum ingest_status ingest_buffer_with(const void *buf, size_t len,
	    const struct ingest_handlers *h, struct strbuf *err);

#endif
