/*
 * spool.c - the durable local spool: append-only, checksummed records,
 * one fsync per batch, replay in order (spool.h has the file format).
 *
 * The spool is the fallback of a remote back-end, so it must never lose
 * what it acknowledged and never crash on what a crash left behind: each
 * append is one pwrite() at the known end of the file followed by
 * fdatasync(); a failed append is cut back with ftruncate() at once, so
 * the file only ever holds whole batches, except after a crash mid-write,
 * which the scan at open finds by length and checksum.  Leaves out:
 * compaction while replaying (the file is emptied only when all of it
 * is committed; until then it only grows).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "store/codec.h"
#include "store/spool.h"

#define SPOOL_MAGIC	"DMARCD-SPOOL-1\n"	/* + NUL: 16 bytes */
#define SPOOL_HDR	16
#define REC_HDR		8			/* length + CRC */

struct spool {
	char		*path;
	int		 fd;
	off_t		 end;		/* end of the last whole record */
	off_t		 replay;	/* first record not yet replayed */
	off_t		 peeked;	/* after the last spool_peek() */
	size_t		 pending;	/* records in [replay, end) */
	size_t		 npeeked;
	uint64_t	 discarded;
	struct strbuf	 buf;		/* encoding, writer only */
	struct strbuf	 scratch;	/* the DKIM column */
	unsigned char	*rbuf;		/* reading */
	size_t		 rcap;
};

static uint32_t crc_table[256];
static bool crc_ready;

uint32_t
spool_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t c;
	unsigned i, k;

	/* Racy only in the benign sense: every thread computes the same
	 * table; the flag is set after it is complete. */
	if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			crc_table[i] = c;
		}
		__atomic_store_n(&crc_ready, true, __ATOMIC_RELEASE);
	}
	crc = ~crc;
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
append_u32(struct strbuf *b, uint32_t v)
{
	unsigned char p[4];

	put_u32(p, v);
	strbuf_append(b, (const char *)p, 4);
}

static void
append_i64(struct strbuf *b, int64_t v)
{
	unsigned char p[8];
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
	strbuf_append(b, (const char *)p, 8);
}

/* Append one record (header + payload) of rec to sp->buf. */
static bool
encode_record(struct spool *sp, const struct store_record *rec)
{
	struct store_value v;
	size_t start = strbuf_len(&sp->buf), i, nlen;
	unsigned char n2[2];
	uint32_t len;

	strbuf_append(&sp->buf, "\0\0\0\0\0\0\0\0", REC_HDR);
	n2[0] = (unsigned char)store_ncolumns;
	n2[1] = (unsigned char)(store_ncolumns >> 8);
	strbuf_append(&sp->buf, (const char *)n2, 2);
	for (i = 0; i < store_ncolumns; i++) {
		if (!store_column_get(&store_columns[i], rec, &sp->scratch,
		    &v))
			return false;
		nlen = strlen(store_columns[i].name);
		strbuf_appendc(&sp->buf, (int)nlen);
		strbuf_append(&sp->buf, store_columns[i].name, nlen);
		if (v.is_text) {
			strbuf_appendc(&sp->buf, 0);
			append_u32(&sp->buf, (uint32_t)v.len);
			strbuf_append(&sp->buf, v.text, v.len);
		} else {
			strbuf_appendc(&sp->buf, 1);
			append_i64(&sp->buf, v.i);
		}
	}
	if (strbuf_failed(&sp->buf))
		return false;
	len = (uint32_t)(strbuf_len(&sp->buf) - start - REC_HDR);
	if (len > SPOOL_RECORD_MAX)
		return false;
	/* strbuf_cstr() is the buffer itself: patch the header in place. */
	{
		unsigned char *h = (unsigned char *)(uintptr_t)
		    strbuf_cstr(&sp->buf) + start;

		put_u32(h, len);
		put_u32(h + 4, spool_crc32(0, h + REC_HDR, len));
	}
	return true;
}

static const struct store_column *
column_named(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < store_ncolumns; i++)
		if (strlen(store_columns[i].name) == len &&
		    memcmp(store_columns[i].name, name, len) == 0)
			return &store_columns[i];
	return NULL;
}

/* Decode one payload into rec; -1 if it is malformed. */
static int
decode_payload(const unsigned char *p, size_t len, struct store_record *rec)
{
	const unsigned char *end = p + len, *name;
	const struct store_column *c;
	unsigned ncol, i, k, nlen;
	uint32_t tlen;
	uint64_t u;

	memset(rec, 0, sizeof(*rec));
	rec->pct = -1;
	if (len < 2)
		return -1;
	ncol = (unsigned)p[0] | (unsigned)p[1] << 8;
	p += 2;
	for (i = 0; i < ncol; i++) {
		if (end - p < 1)
			return -1;
		nlen = *p++;
		if ((size_t)(end - p) < (size_t)nlen + 1)
			return -1;
		name = p;
		p += nlen;
		c = column_named((const char *)name, nlen);
		if (*p++ == 0) {
			if (end - p < 4)
				return -1;
			tlen = get_u32(p);
			p += 4;
			if ((size_t)(end - p) < tlen)
				return -1;
			if (c != NULL && store_column_set(c, rec,
			    (const char *)p, tlen, 0) == -1)
				return -1;
			p += tlen;
		} else {
			if (end - p < 8)
				return -1;
			for (u = 0, k = 0; k < 8; k++)
				u |= (uint64_t)p[k] << (8 * k);
			p += 8;
			if (c != NULL && store_column_set(c, rec, "", 0,
			    (int64_t)u) == -1)
				return -1;
		}
	}
	return p == end ? 0 : -1;
}

/* Read exactly len bytes at off; 0, 1 at a short file, -1 on error. */
static int
read_at(struct spool *sp, off_t off, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = pread(sp->fd, (char *)buf + got, len - got,
		    off + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			return 1;
		got += (size_t)r;
	}
	return 0;
}

static bool
rbuf_reserve(struct spool *sp, size_t len)
{
	unsigned char *p;

	if (len <= sp->rcap)
		return true;
	if ((p = mem_realloc(sp->rbuf, len)) == NULL)
		return false;
	sp->rbuf = p;
	sp->rcap = len;
	return true;
}

/*
 * Read the record at off: 0 with its payload in sp->rbuf and *len, 1 at a
 * torn or implausible record (or the end), 2 at a checksum mismatch
 * (*len still tells where the next record starts), -1 on error.
 */
static int
read_record(struct spool *sp, off_t off, size_t *len)
{
	unsigned char h[REC_HDR];
	int rc;

	if ((rc = read_at(sp, off, h, REC_HDR)) != 0)
		return rc;
	*len = get_u32(h);
	if (*len < 2 || *len > SPOOL_RECORD_MAX)
		return 1;
	if (!rbuf_reserve(sp, *len)) {
		errno = ENOMEM;
		return -1;
	}
	if ((rc = read_at(sp, off + REC_HDR, sp->rbuf, *len)) != 0)
		return rc;
	return spool_crc32(0, sp->rbuf, *len) == get_u32(h + 4) ? 0 : 2;
}

static int
sync_dir(const char *path)
{
	char *dir, *slash;
	int fd, rc = 0;

	if ((dir = mem_strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		rc = fsync(fd);
		close(fd);
	}
	mem_free(dir);
	return rc;
}

/* Check or write the header; scan the records; cut a torn tail. */
static int
spool_scan(struct spool *sp, struct strbuf *err)
{
	char hdr[SPOOL_HDR];
	struct stat stb;
	size_t len;
	off_t off;
	int rc;

	if (fstat(sp->fd, &stb) == -1)
		goto io;
	if (stb.st_size < SPOOL_HDR) {
		/* New, or its creation was torn: only a prefix of the
		 * header may be there. */
		if (stb.st_size > 0 && (read_at(sp, 0, hdr,
		    (size_t)stb.st_size) != 0 ||
		    memcmp(hdr, SPOOL_MAGIC, (size_t)stb.st_size) != 0))
			goto notspool;
		if (ftruncate(sp->fd, 0) == -1 ||
		    pwrite(sp->fd, SPOOL_MAGIC, SPOOL_HDR, 0) != SPOOL_HDR ||
		    fdatasync(sp->fd) == -1 || sync_dir(sp->path) == -1)
			goto io;
		sp->end = sp->replay = SPOOL_HDR;
		return 0;
	}
	if (read_at(sp, 0, hdr, SPOOL_HDR) != 0)
		goto io;
	if (memcmp(hdr, SPOOL_MAGIC, SPOOL_HDR) != 0)
		goto notspool;
	off = SPOOL_HDR;
	for (;;) {
		rc = read_record(sp, off, &len);
		if (rc == -1)
			goto io;
		if (rc == 1)
			break;
		if (rc == 2)
			sp->discarded++;
		else
			sp->pending++;
		off += REC_HDR + (off_t)len;
	}
	if (off < stb.st_size) {
		/* A torn append: a crash while writing the last batch. */
		sp->discarded++;
		if (ftruncate(sp->fd, off) == -1 || fdatasync(sp->fd) == -1)
			goto io;
	}
	sp->end = off;
	sp->replay = SPOOL_HDR;
	return 0;

notspool:
	strbuf_appendf(err, "%s: not a dmarcd spool file (left untouched)",
	    sp->path);
	return -1;
io:
	strbuf_appendf(err, "%s: cannot read or set up the spool: %s",
	    sp->path, strerror(errno));
	return -1;
}

struct spool *
spool_open(const char *path, struct strbuf *err)
{
	struct spool *sp;

	if (path == NULL || *path == '\0') {
		strbuf_appends(err, "empty spool path");
		return NULL;
	}
	if ((sp = mem_calloc(1, sizeof(*sp))) == NULL ||
	    (sp->path = mem_strdup(path)) == NULL) {
		mem_free(sp);
		strbuf_appendf(err, "%s: out of memory", path);
		return NULL;
	}
	strbuf_init(&sp->buf);
	strbuf_init(&sp->scratch);
	sp->fd = -1;
	sp->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (sp->fd == -1) {
		strbuf_appendf(err, "%s: cannot open or create the spool: %s",
		    path, strerror(errno));
		goto fail;
	}
	if (flock(sp->fd, LOCK_EX | LOCK_NB) == -1) {
		strbuf_appendf(err, "%s: cannot lock the spool (%s): is "
		    "another dmarcd using it?", path, strerror(errno));
		goto fail;
	}
	if (spool_scan(sp, err) == -1)
		goto fail;
	return sp;

fail:
	spool_free(sp);
	return NULL;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	strbuf_release(&sp->buf);
	strbuf_release(&sp->scratch);
	mem_free(sp->rbuf);
	mem_free(sp->path);
	mem_free(sp);
}

size_t
spool_pending(const struct spool *sp)
{
	return sp->pending;
}

uint64_t
spool_discarded(const struct spool *sp)
{
	return sp->discarded;
}

const char *
spool_path(const struct spool *sp)
{
	return sp->path;
}

int
spool_append(struct spool *sp, const struct store_record *const *recs,
    size_t n, struct strbuf *err)
{
	const char *p;
	size_t i, len, done = 0;
	ssize_t w;
	int e;

	strbuf_reset(&sp->buf);
	for (i = 0; i < n; i++)
		if (!encode_record(sp, recs[i])) {
			strbuf_appendf(err, "%s: cannot encode a record for the "
			    "spool (out of memory)", sp->path);
			return -1;
		}
	p = strbuf_cstr(&sp->buf);
	len = strbuf_len(&sp->buf);
	while (done < len) {
		w = pwrite(sp->fd, p + done, len - done, sp->end + (off_t)done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			goto fail;
		done += (size_t)w;
	}
	if (fdatasync(sp->fd) == -1)
		goto fail;
	sp->end += (off_t)len;
	sp->pending += n;
	return 0;

fail:
	e = errno;
	/* Leave no partial batch behind (best effort: a torn tail is
	 * found by the scan at the next open anyway). */
	if (ftruncate(sp->fd, sp->end) == 0)
		(void)fdatasync(sp->fd);
	strbuf_appendf(err, "%s: cannot append %zu record%s to the spool: %s",
	    sp->path, n, n == 1 ? "" : "s", strerror(e));
	return -1;
}

int
spool_peek(struct spool *sp, struct store_record *recs, size_t max,
    size_t *n, struct strbuf *err)
{
	off_t off = sp->replay;
	size_t len;
	int rc;

	*n = 0;
	sp->npeeked = 0;
	while (*n < max && off < sp->end) {
		rc = read_record(sp, off, &len);
		if (rc == -1) {
			strbuf_appendf(err, "%s: cannot read the spool: %s",
			    sp->path, strerror(errno));
			return -1;
		}
		if (rc == 1) {
			/* Cannot happen below sp->end unless someone else
			 * cut the file: stop there. */
			sp->end = off;
			break;
		}
		off += REC_HDR + (off_t)len;
		/* Checksum mismatches were counted by the scan, and are not
		 * pending. */
		if (rc == 2)
			continue;
		sp->npeeked++;
		if (decode_payload(sp->rbuf, len, &recs[*n]) == -1) {
			sp->discarded++;
			continue;
		}
		(*n)++;
	}
	sp->peeked = off;
	return 0;
}

int
spool_consume(struct spool *sp, struct strbuf *err)
{
	sp->replay = sp->peeked;
	sp->pending = sp->pending > sp->npeeked ? sp->pending - sp->npeeked :
	    0;
	sp->npeeked = 0;
	if (sp->replay < sp->end)
		return 0;
	sp->pending = 0;
	if (ftruncate(sp->fd, SPOOL_HDR) == -1 || fdatasync(sp->fd) == -1) {
		strbuf_appendf(err, "%s: cannot empty the spool: %s", sp->path,
		    strerror(errno));
		/* The replayed records stay: replayed again, harmlessly. */
		return -1;
	}
	sp->end = sp->replay = sp->peeked = SPOOL_HDR;
	return 0;
}
