/*
 * spool.h - the durable local spool of the store (internal to store/).
 *
 * When the database cannot commit a batch (PostgreSQL away or too slow),
 * store.c appends the batch to this file, fsyncs it, and answers the
 * waiters: the records are durable on the local disk.  The writer thread
 * later replays them, in order, and empties the file once every replayed
 * row is committed.  Replays are idempotent thanks to the unique key
 * (node, message_key, author_index), so a crash between commit and
 * truncation only replays rows the database ignores.
 *
 * File format (all integers little-endian):
 *   header   16 bytes "DMARCD-SPOOL-1\n\0"
 *   record   u32 length of payload, u32 CRC-32 (IEEE, zlib's) of the
 *            payload, payload
 *   payload  u16 ncolumns, then per column: u8 name length, the column
 *            name (codec.c's), u8 kind (0 text, 1 integer), then
 *            text: u32 length + bytes, or integer: i64
 * Columns are named so that a spool written by an older build still
 * decodes after the column order changes; unknown columns are ignored.
 * A record whose length runs past the end of the file, or is
 * implausible, is a torn append (a crash mid-write): it and everything
 * after it are cut off and counted.  A whole record whose checksum does
 * not match is skipped and counted.
 *
 * Used by the writer thread only: no locking inside.  The file is
 * flock()ed, so two processes never share one spool.
 */
#ifndef DM_STORE_SPOOL_H
#define DM_STORE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define SPOOL_RECORD_MAX	(256 * 1024)	/* payload bytes, at most */

struct spool;

/*
 * Open (creating it, mode 0640) and lock the spool at path, and scan it:
 * a torn tail is cut off.  Returns NULL with a sentence in err on
 * failure (not a spool file, locked by another process, I/O error).
 * Free with spool_free().
 */
struct spool *spool_open(const char *path, struct strbuf *err);
void	 spool_free(struct spool *);

/* Records in the file not yet replayed. */
size_t	 spool_pending(const struct spool *);
/* Records discarded (torn or checksum mismatch) since spool_open(). */
uint64_t spool_discarded(const struct spool *);
const char *spool_path(const struct spool *);

/*
 * Append recs[0..n-1] with one write and fsync the file.  On failure
 * (disk full, file size limit, I/O error) the file is cut back to its
 * size before the call, so no partial batch stays, and -1 is returned
 * with the reason in err.
 */
int	 spool_append(struct spool *, const struct store_record *const *recs,
	    size_t n, struct strbuf *err);

/*
 * Decode up to max records from the replay position into recs[] (the
 * caller's array).  *n gets the number read: fewer than max only at the
 * end of the file.  A record that does not decode is skipped (counted).
 * Does not move the replay position: spool_consume() does, once the
 * records are committed.  -1 with err on a read error.
 */
int	 spool_peek(struct spool *, struct store_record *recs, size_t max,
	    size_t *n, struct strbuf *err);

/*
 * The records of the last spool_peek() are committed: move past them.
 * When none remain, the file is truncated to its header and fsync'd.
 * -1 with err if the truncation fails (the records are then replayed
 * again later, harmlessly).
 */
int	 spool_consume(struct spool *, struct strbuf *err);

/* CRC-32 (IEEE 802.3, as zlib's crc32()) of buf, continuing from crc. */
uint32_t spool_crc32(uint32_t crc, const void *buf, size_t len);

#endif
