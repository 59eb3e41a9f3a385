/*
 * test_store_spool.c - the durable spool: append and replay in order,
 * reopen, torn last record, checksum mismatch, a foreign file, the lock,
 * and a full disk (RLIMIT_FSIZE) that leaves no partial batch.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/spool.h"
#include "tap.h"

static char dir[] = "/tmp/test_store_spool.XXXXXX";
static char path[256];

static void
mkrec(struct store_record *r, unsigned k)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "n1");
	snprintf(r->message_key, sizeof(r->message_key), "%032x", k);
	r->author_index = k % 3;
	r->received = 1700000000 + (time_t)k;
	snprintf(r->helo, sizeof(r->helo), "h\xc3\xa9lo-%u", k);
	snprintf(r->policy_domain, sizeof(r->policy_domain), "d%u.test", k);
	r->pct = k % 2 ? 50 : -1;
	r->testing = k % 2;
	r->ndkim = k % 3;
	snprintf(r->dkim[0].domain, sizeof(r->dkim[0].domain), "a;b=%u", k);
	snprintf(r->dkim[0].selector, sizeof(r->dkim[0].selector), "s");
	snprintf(r->dkim[0].result, sizeof(r->dkim[0].result), "pass");
	r->dkim[0].aligned = true;
	snprintf(r->dkim[1].domain, sizeof(r->dkim[1].domain), "x.test");
	snprintf(r->dkim[1].result, sizeof(r->dkim[1].result), "fail");
	snprintf(r->action, sizeof(r->action), "accept");
	/* Only the signatures counted are stored. */
	memset(&r->dkim[r->ndkim], 0, sizeof(r->dkim[0]) *
	    (STORE_MAX_DKIM - r->ndkim));
}

static int
append_keys(struct spool *sp, unsigned from, unsigned n)
{
	struct store_record *recs = calloc(n, sizeof(*recs));
	const struct store_record **p = calloc(n, sizeof(*p));
	struct strbuf err = STRBUF_INIT;
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		mkrec(&recs[i], from + i);
		p[i] = &recs[i];
	}
	rc = spool_append(sp, p, n, &err);
	if (rc == -1)
		tap_diag("append: %s", strbuf_cstr(&err));
	strbuf_release(&err);
	free(recs);
	free(p);
	return rc;
}

/* Read everything pending; the keys must be want[0..nwant-1]. */
static void
check_replay(struct spool *sp, const unsigned *want, size_t nwant,
    const char *name)
{
	struct store_record got[8], exp;
	struct strbuf err = STRBUF_INIT;
	size_t n, i, total = 0;
	bool same = true;

	while (spool_pending(sp) > 0) {
		if (spool_peek(sp, got, 8, &n, &err) == -1)
			break;
		for (i = 0; i < n; i++, total++) {
			if (total >= nwant) {
				same = false;
				continue;
			}
			mkrec(&exp, want[total]);
			if (memcmp(&got[i], &exp, sizeof(exp)) != 0) {
				tap_diag("%s: record %zu differs (key %s)",
				    name, total, got[i].message_key);
				same = false;
			}
		}
		if (spool_consume(sp, &err) == -1)
			break;
	}
	tap_int(total, nwant, "%s: replayed count", name);
	tap_ok(same, "%s: records replayed whole and in order", name);
	strbuf_release(&err);
}

static off_t
fsize(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static struct spool *
reopen(struct spool *sp)
{
	struct strbuf err = STRBUF_INIT;

	spool_free(sp);
	sp = spool_open(path, &err);
	if (sp == NULL)
		tap_diag("open: %s", strbuf_cstr(&err));
	strbuf_release(&err);
	return sp;
}

int
main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct spool *sp, *sp2;
	struct rlimit rl, old;
	unsigned want[16], i;
	off_t sz, rec1;
	int fd;
	char c;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/spool", dir);

	/* CRC-32 check value (IEEE): crc32("123456789") = 0xcbf43926. */
	tap_ok(spool_crc32(0, "123456789", 9) == 0xcbf43926U,
	    "crc32: the standard check value");

	sp = reopen(NULL);
	tap_ok(sp != NULL, "new spool: created");
	tap_int(spool_pending(sp), 0, "new spool: empty");
	tap_int(fsize(), 16, "new spool: just the header");

	/* Lock: a second opener is refused. */
	sp2 = spool_open(path, &err);
	tap_ok(sp2 == NULL && strstr(strbuf_cstr(&err), "lock") != NULL,
	    "lock: a second opener is refused");
	spool_free(sp2);
	strbuf_reset(&err);

	/* Append, reopen, replay in order, truncate. */
	tap_int(append_keys(sp, 0, 3), 0, "append: batch of 3");
	tap_int(append_keys(sp, 3, 2), 0, "append: batch of 2");
	tap_int(spool_pending(sp), 5, "append: 5 pending");
	sp = reopen(sp);
	tap_int(spool_pending(sp), 5, "reopen: 5 pending");
	tap_int(spool_discarded(sp), 0, "reopen: none discarded");
	for (i = 0; i < 5; i++)
		want[i] = i;
	check_replay(sp, want, 5, "replay");
	tap_int(spool_pending(sp), 0, "replay: nothing pending after");
	tap_int(fsize(), 16, "replay: file cut back to its header");

	/* A torn last record: cut 5 bytes off the end. */
	append_keys(sp, 10, 1);
	rec1 = fsize();
	append_keys(sp, 11, 1);
	sz = fsize();
	spool_free(sp);
	tap_ok(truncate(path, sz - 5) == 0, "torn: file cut mid-record");
	sp = reopen(NULL);
	tap_ok(sp != NULL, "torn: the spool still opens");
	tap_int(spool_pending(sp), 1, "torn: the whole record remains");
	tap_int(spool_discarded(sp), 1, "torn: the torn record is counted");
	tap_int(fsize(), rec1, "torn: the torn tail is cut off");
	append_keys(sp, 12, 1);
	want[0] = 10;
	want[1] = 12;
	check_replay(sp, want, 2, "torn then append");

	/* A torn header (crash in the length field). */
	append_keys(sp, 20, 1);
	sz = fsize();
	spool_free(sp);
	fd = open(path, O_WRONLY | O_APPEND);
	tap_ok(write(fd, "\x10\x00", 2) == 2, "torn length: 2 bytes written");
	close(fd);
	sp = reopen(NULL);
	tap_int(spool_pending(sp), 1, "torn length: one record pending");
	tap_int(fsize(), sz, "torn length: the 2 bytes are cut off");
	want[0] = 20;
	check_replay(sp, want, 1, "torn length");

	/* A checksum mismatch in the middle record: skipped, counted. */
	append_keys(sp, 30, 1);
	rec1 = fsize();
	append_keys(sp, 31, 1);
	append_keys(sp, 32, 1);
	spool_free(sp);
	fd = open(path, O_RDWR);
	pread(fd, &c, 1, rec1 + 40);
	c ^= 0x5a;
	tap_ok(pwrite(fd, &c, 1, rec1 + 40) == 1, "crc: a byte flipped");
	close(fd);
	sp = reopen(NULL);
	tap_int(spool_pending(sp), 2, "crc: two good records pending");
	tap_int(spool_discarded(sp), 1, "crc: the bad one is counted");
	want[0] = 30;
	want[1] = 32;
	check_replay(sp, want, 2, "crc");

	/* Disk full: a small file size limit; no partial batch stays. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	append_keys(sp, 40, 1);
	sz = fsize();
	rl = old;
	rl.rlim_cur = (rlim_t)sz + 600;
	tap_ok(setrlimit(RLIMIT_FSIZE, &rl) == 0, "full: limit set");
	tap_int(append_keys(sp, 41, 4), -1, "full: the append fails");
	tap_int(fsize(), sz, "full: the file is cut back");
	tap_int(spool_pending(sp), 1, "full: pending unchanged");
	setrlimit(RLIMIT_FSIZE, &old);
	tap_int(append_keys(sp, 45, 1), 0, "full: appends again after");
	sp = reopen(sp);
	tap_int(spool_discarded(sp), 0, "full: nothing torn left behind");
	want[0] = 40;
	want[1] = 45;
	check_replay(sp, want, 2, "full");
	spool_free(sp);

	/* Not a spool: refused, untouched. */
	fd = open(path, O_WRONLY | O_TRUNC);
	tap_ok(write(fd, "hello, world, this is a text file\n", 34) == 34,
	    "foreign: a text file");
	close(fd);
	sp = spool_open(path, &err);
	tap_ok(sp == NULL && strstr(strbuf_cstr(&err), "not a dmarcd") !=
	    NULL, "foreign: refused");
	tap_int(fsize(), 34, "foreign: left untouched");
	spool_free(sp);
	strbuf_release(&err);

	unlink(path);
	rmdir(dir);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
