/*
 * import_queue.h - the records of a large report stored by a second
 * thread while the first one goes on parsing.
 *
 * Why: on a report of thousands of records, parsing (expat and
 * ingest/xml.c) and storing (SQLite or PostgreSQL) each take a large
 * share of the time, and the machine usually has a second core.  A
 * record is copied into a bounded ring and stored by the queue's thread
 * in order; the importer connection is used by one thread at a time:
 * by the queue's thread while records are in flight, by the caller only
 * after import_queue_drain() has returned.
 */
#ifndef DMARCD_CLI_IMPORT_QUEUE_H
#define DMARCD_CLI_IMPORT_QUEUE_H

#include "common/strbuf.h"
#include "ingest/xml.h"
#include "store/import.h"

struct import_queue;

/* Store one parsed record through im, in this thread. */
enum store_status import_record_store(struct store_importer *im,
	    const struct ingest_record *c, struct strbuf *err);

/* A queue storing through im; NULL when out of memory.  Its thread
 * starts with the first record. */
struct import_queue *import_queue_new(struct store_importer *im);
/* Drains, stops the thread and frees. */
void	import_queue_free(struct import_queue *);

/* Hand over a copy of c.  STORE_OK, or the error of an earlier record
 * of this report (the record is then not taken; *err says why). */
enum store_status import_queue_put(struct import_queue *,
	    const struct ingest_record *c, struct strbuf *err);

/* Wait until every record handed over is stored; the first error since
 * the last drain (with *err), or STORE_OK.  Afterwards the caller may
 * use the importer again. */
enum store_status import_queue_drain(struct import_queue *,
	    struct strbuf *err);

#endif
