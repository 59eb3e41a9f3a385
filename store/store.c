/*
 * store.c - the store interface: back-end choice, the bounded queue and
 * the writer thread (group commit).
 *
 * Message threads copy their record into a queue node and, with wait,
 * sleep on a per-call waiter with its own condition variable, so a
 * commit wakes only the threads of its batch (one shared variable woke
 * every waiter, and half of them went back to sleep: at 16 submitters
 * the context switches were the biggest CPU cost of FULL durability).
 * One writer thread takes up to
 * STORE_BATCH_MAX records from the head of the queue, hands them to the
 * back-end as one transaction, and then wakes the waiters of that batch
 * with its result.  While it commits (one fsync in FULL mode), new
 * records pile up behind, so N concurrent submitters share one fsync:
 * group commit without any timer.  In RELAXED mode the writer also waits
 * up to flush_ms, or for STORE_BATCH_MIN records, to make bigger batches.
 *
 * A failed commit: waiters get the error and their records are dropped
 * (they will tempfail; keeping the row could record a message the MTA
 * never accepted), the other records go back to the head of the queue,
 * in order, and are retried after a pause that doubles up to
 * STORE_RETRY_MAX_MS.  The queue bound (queue_max, counting the batch in
 * flight) caps memory; past it store_submit() says STORE_ERR_FULL.
 *
 * Records are ordered by a sequence number; the queue stays sorted, so
 * store_flush() waits until the oldest pending record is younger than
 * the call.  Every API call counts itself in `users`, so store_close()
 * frees nothing while another thread is still inside the store.
 *
 * The spool (PostgreSQL only, spool.c): when the back-end fails a batch,
 * the writer appends the batch to the local spool file instead (one
 * fsync) and the waiters get STORE_OK.  While the spool holds records,
 * new batches go behind them in the spool, so rows reach the database
 * in order; the writer replays the spool (SPOOL_REPLAY_BATCH records per
 * transaction) when its retry time comes, between batches or while
 * idle, with a pause that doubles up to STORE_RETRY_MAX_MS, and empties
 * the file only after the last replayed rows are committed.  Only when
 * the append fails too (disk full) do the waiters get STORE_ERR_WRITE.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "store/backend.h"
#include "store/codec.h"
#include "store/spool.h"
#include "store/store.h"

#define SPARE_MAX	256	/* free queue nodes kept for reuse */
#define RETRY_FIRST_MS	50	/* first pause after a failed commit */
#define SPOOL_REPLAY_BATCH 128	/* records per replay transaction */
#define REPLAY_FIRST_MS	100	/* first pause before replaying again */

struct waiter {
	bool			 done;
	enum store_status	 st;
	pthread_cond_t		 cond;		/* signalled when done */
};

struct qnode {
	struct qnode		*next;
	struct waiter		*waiter;	/* NULL: nobody waits */
	uint64_t		 seq;
	uint64_t		 enq_us;	/* monotonic, at enqueue */
	struct store_record	 rec;
};

struct store {
	const struct store_backend *ops;
	void			*be;
	struct store_options	 opt;

	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;		/* the writer sleeps here */
	pthread_cond_t		 done;		/* flush and close sleep here */
	pthread_t		 thread;
	bool			 started;

	struct qnode		*head, *tail;	/* sorted by seq */
	size_t			 nqueued;
	size_t			 ninflight;	/* in the batch being written */
	uint64_t		 inflight_seq;	/* its first seq */
	size_t			 nwaiting;	/* nodes with a waiter */
	unsigned		 nflushers;
	unsigned		 users;		/* threads inside the API */
	uint64_t		 next_seq;
	uint64_t		 fail_gen;	/* failed commits so far */
	uint64_t		 retry_at_us;
	unsigned		 backoff_ms;
	bool			 closing;
	unsigned		 close_tries;
	enum store_status	 close_status;

	struct qnode		*spare;
	size_t			 nspare;

	struct strbuf		 last_error;
	struct store_stats	 stats;

	/* the writer thread's own */
	const struct store_record **batch;
	struct strbuf		 werr;
	struct strbuf		 serr;		/* the spool's errors */
	struct spool		*spool;		/* NULL: none */
	struct store_record	*replay_recs;	/* SPOOL_REPLAY_BATCH */
	const struct store_record **replay_ptrs;
	uint64_t		 replay_at_us;	/* next replay attempt */
	unsigned		 replay_backoff_ms;
};

/* What one commit (or replay) did, for the bookkeeping under the lock. */
struct commit_result {
	size_t	 inserted;		/* rows of the batch inserted */
	size_t	 replayed;		/* spooled records committed */
	size_t	 replay_inserted;	/* of which new rows */
	bool	 spooled;		/* the batch went to the spool */
	bool	 db_ok;			/* the database took a write */
	bool	 db_failed;		/* reason in werr */
	bool	 spool_failed;		/* reason in serr */
};

/* Monotonic microseconds. */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
wait_until(struct store *s, uint64_t due_us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due_us / 1000000);
	ts.tv_nsec = (long)(due_us % 1000000) * 1000;
	pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

/* Give a node back (lock held). */
static void
node_release(struct store *s, struct qnode *n)
{
	if (s->nspare < SPARE_MAX) {
		n->next = s->spare;
		s->spare = n;
		s->nspare++;
	} else
		mem_free(n);
}

/* Tell n's waiter, if any, how its record ended (lock held). */
static void
node_resolve(struct store *s, struct qnode *n, enum store_status st)
{
	if (n->waiter != NULL) {
		n->waiter->st = st;
		n->waiter->done = true;
		pthread_cond_signal(&n->waiter->cond);
		n->waiter = NULL;
		s->nwaiting--;
	}
}

static uint64_t
pending_min_seq(const struct store *s)
{
	if (s->ninflight > 0)
		return s->inflight_seq;
	return s->head != NULL ? s->head->seq : UINT64_MAX;
}

/* Give up on everything queued (store_close() after its tries). */
static void
drop_all(struct store *s, enum store_status st)
{
	struct qnode *n;

	while ((n = s->head) != NULL) {
		s->head = n->next;
		node_resolve(s, n, st);
		s->stats.failed++;
		node_release(s, n);
	}
	s->tail = NULL;
	s->nqueued = 0;
}

/* When the writer should take the next batch (lock held, queue not empty). */
static uint64_t
batch_due(const struct store *s, uint64_t now)
{
	bool someone_waits = s->nwaiting > 0 || s->nflushers > 0;
	uint64_t due;

	if (s->opt.durability == STORE_DURABILITY_FULL || someone_waits ||
	    s->closing || s->nqueued >= STORE_BATCH_MIN)
		due = now;
	else
		due = s->head->enq_us + (uint64_t)s->opt.flush_ms * 1000;
	/* After a failure, pause, unless a caller is waiting for the answer. */
	if (!someone_waits && s->retry_at_us > due)
		due = s->retry_at_us;
	return due;
}

/* The next replay after a failed one: a pause that doubles. */
static void
replay_later(struct store *s)
{
	s->replay_backoff_ms = s->replay_backoff_ms == 0 ? REPLAY_FIRST_MS :
	    s->replay_backoff_ms * 2 > STORE_RETRY_MAX_MS ? STORE_RETRY_MAX_MS :
	    s->replay_backoff_ms * 2;
	s->replay_at_us = now_us() + (uint64_t)s->replay_backoff_ms * 1000;
}

/*
 * Replay the spool into the database, oldest first (writer thread,
 * unlocked).  Stops at the first failure, with the next try scheduled.
 */
static void
spool_replay(struct store *s, struct commit_result *cr)
{
	size_t n, i, ins;

	while (spool_pending(s->spool) > 0) {
		if (spool_peek(s->spool, s->replay_recs, SPOOL_REPLAY_BATCH,
		    &n, &s->serr) == -1) {
			cr->spool_failed = true;
			replay_later(s);
			return;
		}
		if (n > 0) {
			for (i = 0; i < n; i++)
				s->replay_ptrs[i] = &s->replay_recs[i];
			strbuf_reset(&s->werr);
			if (s->ops->write(s->be, s->replay_ptrs, n, &ins,
			    &s->werr) != STORE_OK) {
				cr->db_failed = true;
				replay_later(s);
				return;
			}
			cr->replayed += n;
			cr->replay_inserted += ins;
		}
		/* Committed: only now may the spool forget them. */
		if (spool_consume(s->spool, &s->serr) == -1) {
			cr->spool_failed = true;
			replay_later(s);
			return;
		}
	}
	cr->db_ok = true;
	s->replay_backoff_ms = 0;
	s->replay_at_us = 0;
}

/*
 * Commit the batch s->batch[0..n-1] (writer thread, unlocked): to the
 * database, or with a spool, to the spool when the database fails, or
 * when older spooled records cannot be replayed yet (they go first).
 */
static enum store_status
commit_batch(struct store *s, size_t n, struct commit_result *cr)
{
	enum store_status st;

	if (s->spool != NULL && spool_pending(s->spool) > 0) {
		if (now_us() >= s->replay_at_us)
			spool_replay(s, cr);
		if (spool_pending(s->spool) > 0)
			goto to_spool;
	}
	strbuf_reset(&s->werr);
	st = s->ops->write(s->be, s->batch, n, &cr->inserted, &s->werr);
	if (st == STORE_OK) {
		cr->db_ok = true;
		return STORE_OK;
	}
	cr->db_failed = true;
	if (s->spool == NULL)
		return st;
	replay_later(s);
to_spool:
	cr->inserted = 0;
	if (spool_append(s->spool, s->batch, n, &s->serr) == 0) {
		cr->spooled = true;
		return STORE_OK;
	}
	cr->spool_failed = true;
	return STORE_ERR_WRITE;
}

/* Count what a commit or replay did, and keep its errors (lock held). */
static void
commit_account(struct store *s, const struct commit_result *cr)
{
	s->stats.replayed += cr->replayed;
	s->stats.committed += cr->replay_inserted;
	s->stats.duplicates += cr->replayed - cr->replay_inserted;
	if (cr->db_failed || cr->spool_failed) {
		strbuf_reset(&s->last_error);
		s->stats.failing = true;
	} else if (cr->db_ok)
		s->stats.failing = false;
	if (cr->db_failed) {
		s->stats.write_errors++;
		strbuf_append(&s->last_error, strbuf_cstr(&s->werr),
		    strbuf_len(&s->werr));
		if (cr->spooled)
			strbuf_appends(&s->last_error, " (spooled)");
	}
	if (cr->spool_failed) {
		if (cr->db_failed)
			strbuf_appends(&s->last_error, "; ");
		strbuf_append(&s->last_error, strbuf_cstr(&s->serr),
		    strbuf_len(&s->serr));
	}
	if (s->spool != NULL) {
		s->stats.spool_pending = spool_pending(s->spool);
		s->stats.spool_discarded = spool_discarded(s->spool);
	}
}

/* Write one batch from the head of the queue (lock held on entry/exit). */
static void
write_batch(struct store *s)
{
	struct qnode *first = s->head, *last = NULL, *n, *next;
	struct qnode *keep = NULL, *keep_last = NULL;
	struct commit_result cr;
	enum store_status st;
	size_t i = 0, nkept = 0;

	for (n = first; n != NULL && i < STORE_BATCH_MAX; n = n->next) {
		s->batch[i++] = &n->rec;
		last = n;
	}
	s->head = last->next;
	if (s->head == NULL)
		s->tail = NULL;
	last->next = NULL;
	s->nqueued -= i;
	s->ninflight = i;
	s->inflight_seq = first->seq;

	pthread_mutex_unlock(&s->lock);
	memset(&cr, 0, sizeof(cr));
	strbuf_reset(&s->werr);
	strbuf_reset(&s->serr);
	st = commit_batch(s, i, &cr);
	pthread_mutex_lock(&s->lock);

	s->ninflight = 0;
	commit_account(s, &cr);
	if (st == STORE_OK) {
		if (cr.spooled)
			s->stats.spooled += i;
		else {
			s->stats.committed += cr.inserted;
			s->stats.duplicates += i - cr.inserted;
			s->stats.batches++;
		}
		s->backoff_ms = 0;
		s->retry_at_us = 0;
		for (n = first; n != NULL; n = next) {
			next = n->next;
			node_resolve(s, n, STORE_OK);
			node_release(s, n);
		}
		goto wake;
	}

	if (!cr.db_failed)
		s->stats.write_errors++;
	s->fail_gen++;
	s->backoff_ms = s->backoff_ms == 0 ? RETRY_FIRST_MS :
	    s->backoff_ms * 2 > STORE_RETRY_MAX_MS ? STORE_RETRY_MAX_MS :
	    s->backoff_ms * 2;
	s->retry_at_us = now_us() + (uint64_t)s->backoff_ms * 1000;
	for (n = first; n != NULL; n = next) {
		next = n->next;
		if (n->waiter != NULL) {
			/* The caller answers (tempfail); the row must not
			 * appear later for a message the MTA refused. */
			node_resolve(s, n, st);
			s->stats.failed++;
			node_release(s, n);
		} else {
			n->next = NULL;
			if (keep_last != NULL)
				keep_last->next = n;
			else
				keep = n;
			keep_last = n;
			nkept++;
		}
	}
	/* Nobody waits for these: back to the head, in order, for a retry. */
	if (keep != NULL) {
		keep_last->next = s->head;
		if (s->head == NULL)
			s->tail = keep_last;
		s->head = keep;
		s->nqueued += nkept;
	}
	if (s->closing && ++s->close_tries >= STORE_CLOSE_TRIES) {
		s->close_status = STORE_ERR_WRITE;
		drop_all(s, STORE_ERR_WRITE);
	}
wake:
	if (s->nflushers > 0)
		pthread_cond_broadcast(&s->done);
}

/* Replay while the queue is empty (lock held on entry/exit). */
static void
replay_idle(struct store *s)
{
	struct commit_result cr;

	pthread_mutex_unlock(&s->lock);
	memset(&cr, 0, sizeof(cr));
	strbuf_reset(&s->werr);
	strbuf_reset(&s->serr);
	spool_replay(s, &cr);
	pthread_mutex_lock(&s->lock);
	commit_account(s, &cr);
	pthread_cond_broadcast(&s->done);
}

static void *
writer_main(void *arg)
{
	struct store *s = arg;
	uint64_t now, due;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->head == NULL && s->spool != NULL &&
		    spool_pending(s->spool) > 0) {
			/* Idle with spooled records: replay when due (and
			 * once more when closing). */
			now = now_us();
			if (!s->closing && now < s->replay_at_us) {
				wait_until(s, s->replay_at_us);
				continue;
			}
			replay_idle(s);
			if (s->closing && s->head == NULL)
				break;
			continue;
		}
		if (s->head == NULL) {
			if (s->closing)
				break;
			pthread_cond_wait(&s->wake, &s->lock);
			continue;
		}
		now = now_us();
		if ((due = batch_due(s, now)) > now) {
			wait_until(s, due);
			continue;
		}
		write_batch(s);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Enter the API: false once store_close() has begun. */
static bool
enter(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->closing) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	s->users++;
	return true;
}

/* Leave the API (lock held); unlocks. */
static void
leave(struct store *s)
{
	if (--s->users == 0 && s->closing)
		pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
}

enum store_status
store_submit(struct store *s, const struct store_record *rec, bool wait)
{
	struct waiter w = { .done = false, .st = STORE_OK };
	struct qnode *n;
	enum store_status st = STORE_OK;

	if (s == NULL)
		return STORE_ERR_CLOSED;
	if (rec == NULL || rec->message_key[0] == '\0')
		return STORE_ERR_INVALID;
	if (!enter(s))
		return STORE_ERR_CLOSED;
	if (wait)
		pthread_cond_init(&w.cond, NULL);
	if (s->nqueued + s->ninflight >= s->opt.queue_max) {
		s->stats.rejected++;
		st = STORE_ERR_FULL;
		goto out;
	}
	if ((n = s->spare) != NULL) {
		s->spare = n->next;
		s->nspare--;
	}
	/* Copy outside the lock: a record is about 10 KB. */
	pthread_mutex_unlock(&s->lock);
	if (n == NULL)
		n = mem_alloc(sizeof(*n));
	if (n != NULL) {
		memcpy(&n->rec, rec, sizeof(n->rec));
		store_record_terminate(&n->rec);
		n->next = NULL;
		n->waiter = wait ? &w : NULL;
		n->enq_us = now_us();
	}
	pthread_mutex_lock(&s->lock);
	if (n == NULL) {
		st = STORE_ERR_NOMEM;
		goto out;
	}
	/* Checked again: other threads ran while we copied. */
	if (s->closing || s->nqueued + s->ninflight >= s->opt.queue_max) {
		if (!s->closing)
			s->stats.rejected++;
		st = s->closing ? STORE_ERR_CLOSED : STORE_ERR_FULL;
		node_release(s, n);
		goto out;
	}
	n->seq = ++s->next_seq;
	if (s->tail != NULL)
		s->tail->next = n;
	else
		s->head = n;
	s->tail = n;
	s->nqueued++;
	s->stats.submitted++;
	if (wait)
		s->nwaiting++;
	/* Relaxed mode without waiters: the writer is on a timer already,
	 * unless it sleeps on an empty queue or the batch is big enough. */
	if (wait || s->opt.durability == STORE_DURABILITY_FULL ||
	    s->nqueued == 1 || s->nqueued == STORE_BATCH_MIN)
		pthread_cond_signal(&s->wake);
	while (wait && !w.done)
		pthread_cond_wait(&w.cond, &s->lock);
	if (wait)
		st = w.st;
out:
	leave(s);
	/* Signalled under the lock, which we held again since: no thread
	 * is inside the variable any more. */
	if (wait)
		pthread_cond_destroy(&w.cond);
	return st;
}

enum store_status
store_flush(struct store *s)
{
	enum store_status st = STORE_OK;
	uint64_t target, gen;

	if (s == NULL || !enter(s))
		return STORE_ERR_CLOSED;
	target = s->next_seq;
	gen = s->fail_gen;
	s->nflushers++;
	pthread_cond_signal(&s->wake);
	while (pending_min_seq(s) <= target) {
		if (s->fail_gen != gen) {
			st = STORE_ERR_WRITE;
			break;
		}
		pthread_cond_wait(&s->done, &s->lock);
	}
	s->nflushers--;
	leave(s);
	return st;
}

void
store_last_error(struct store *s, struct strbuf *out)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	if (strbuf_failed(&s->last_error))
		strbuf_appends(out, "a commit failed (its message was lost "
		    "for want of memory)");
	else
		strbuf_append(out, strbuf_cstr(&s->last_error),
		    strbuf_len(&s->last_error));
	pthread_mutex_unlock(&s->lock);
}

void
store_get_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	out->queued = s->nqueued + s->ninflight;
	pthread_mutex_unlock(&s->lock);
}

enum store_status
store_count(struct store *s, uint64_t *n, struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	enum store_status st;

	*n = 0;
	if (s == NULL || !enter(s))
		return STORE_ERR_CLOSED;
	pthread_mutex_unlock(&s->lock);
	st = s->ops->count(s->be, n, err != NULL ? err : &local);
	strbuf_release(&local);
	pthread_mutex_lock(&s->lock);
	leave(s);
	return st;
}

enum store_status
store_query_verdicts(struct store *s, const char *policy_domain, time_t from,
    time_t to, store_verdict_cb cb, void *ctx, struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	enum store_status st;

	if (s == NULL || !enter(s))
		return STORE_ERR_CLOSED;
	pthread_mutex_unlock(&s->lock);
	st = s->ops->query(s->be, policy_domain, from, to, cb, ctx,
	    err != NULL ? err : &local);
	strbuf_release(&local);
	pthread_mutex_lock(&s->lock);
	leave(s);
	return st;
}

/* uri, with the value of a "password=" parameter hidden. */
enum store_claim
store_report_claim(struct store *s, const char *domain, time_t begin,
    const char *report_id, const char *node, unsigned stale_after_s,
    struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	enum store_claim c;

	if (s == NULL || !enter(s))
		return STORE_CLAIM_ERROR;
	pthread_mutex_unlock(&s->lock);
	c = s->ops->report_claim(s->be, domain, begin, report_id, node,
	    time(NULL), stale_after_s, err != NULL ? err : &local);
	strbuf_release(&local);
	pthread_mutex_lock(&s->lock);
	leave(s);
	return c;
}

enum store_claim
store_report_lock(struct store *s, const char *node, struct strbuf *what,
    struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT, lwhat = STRBUF_INIT;
	enum store_claim c;

	if (s == NULL || !enter(s))
		return STORE_CLAIM_ERROR;
	pthread_mutex_unlock(&s->lock);
	c = s->ops->report_lock(s->be, node, what != NULL ? what : &lwhat,
	    err != NULL ? err : &local);
	strbuf_release(&local);
	strbuf_release(&lwhat);
	pthread_mutex_lock(&s->lock);
	leave(s);
	return c;
}

enum store_status
store_report_mark_sent(struct store *s, const char *domain, time_t begin,
    struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	enum store_status st;

	if (s == NULL || !enter(s))
		return STORE_ERR_CLOSED;
	pthread_mutex_unlock(&s->lock);
	st = s->ops->report_mark_sent(s->be, domain, begin, time(NULL),
	    err != NULL ? err : &local);
	strbuf_release(&local);
	pthread_mutex_lock(&s->lock);
	leave(s);
	return st;
}

enum store_status
store_expire(struct store *s, int64_t before_day, bool dry_run,
    uint64_t *verdicts, uint64_t *reports, struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	enum store_status st;
	uint64_t v = 0, r = 0;

	if (s == NULL || !enter(s))
		return STORE_ERR_CLOSED;
	pthread_mutex_unlock(&s->lock);
	st = s->ops->expire(s->be, before_day, dry_run, &v, &r,
	    err != NULL ? err : &local);
	strbuf_release(&local);
	pthread_mutex_lock(&s->lock);
	leave(s);
	if (verdicts != NULL)
		*verdicts = v;
	if (reports != NULL)
		*reports = r;
	return st;
}

const char *
store_claim_strerror(enum store_claim c)
{
	switch (c) {
	case STORE_CLAIM_OK:
		return "claimed";
	case STORE_CLAIM_SENT:
		return "already sent";
	case STORE_CLAIM_BUSY:
		return "claimed by another node";
	case STORE_CLAIM_ERROR:
		break;
	}
	return "database error";
}

static void
append_params_redacted(struct strbuf *out, const char *uri)
{
	const char *p, *end;

	while ((p = strstr(uri, "password=")) != NULL) {
		p += 9;
		strbuf_append(out, uri, (size_t)(p - uri));
		strbuf_appends(out, "*****");
		end = p + strcspn(p, "& ");
		uri = end;
	}
	strbuf_appends(out, uri);
}

void
store_uri_redact(struct strbuf *out, const char *uri)
{
	const char *auth = strstr(uri, "://"), *at, *colon, *slash;

	if (auth == NULL) {
		append_params_redacted(out, uri);
		return;
	}
	auth += 3;
	slash = strchr(auth, '/');
	at = strchr(auth, '@');
	if (at == NULL || (slash != NULL && at > slash)) {
		append_params_redacted(out, uri);
		return;
	}
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL) {
		append_params_redacted(out, uri);
		return;
	}
	strbuf_append(out, uri, (size_t)(colon - uri));
	strbuf_appends(out, ":*****");
	append_params_redacted(out, at);
}

/* The back-end for uri and the target it gets; NULL with *st and err. */
static const struct store_backend *
parse_uri(const char *uri, const char **target, enum store_status *st,
    struct strbuf *err)
{
	size_t n;

	*st = STORE_ERR_CONFIG;
	if (uri == NULL || *uri == '\0') {
		strbuf_appends(err, "empty history database path");
		return NULL;
	}
	if (strncmp(uri, "sqlite:", 7) == 0) {
		*target = uri + 7;
		if (strncmp(*target, "//", 2) == 0)
			*target += 2;
		return &store_backend_sqlite;
	}
	if (strncmp(uri, "postgresql://", 13) == 0 ||
	    strncmp(uri, "postgres://", 11) == 0) {
		/* libpq reads the URI itself. */
		*target = uri;
		return &store_backend_pgsql;
	}
	/* "scheme:" (RFC 3986 section 3.1) that we do not know. */
	n = strspn(uri, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	if (n > 0 && uri[n] == ':' && ((uri[0] >= 'a' && uri[0] <= 'z') ||
	    (uri[0] >= 'A' && uri[0] <= 'Z'))) {
		store_uri_redact(err, uri);
		strbuf_appendf(err, ": unknown database type \"%.*s\" (use a "
		    "file path, sqlite:PATH or postgresql://...; write a "
		    "relative path with a colon as ./%.*s)", (int)n, uri,
		    (int)n, uri);
		return NULL;
	}
	*target = uri;
	return &store_backend_sqlite;
}

static void
store_free(struct store *s)
{
	struct qnode *n;

	if (s == NULL)
		return;
	while ((n = s->head) != NULL) {
		s->head = n->next;
		mem_free(n);
	}
	while ((n = s->spare) != NULL) {
		s->spare = n->next;
		mem_free(n);
	}
	if (s->be != NULL)
		s->ops->close(s->be);
	spool_free(s->spool);
	mem_free(s->replay_recs);
	mem_free(s->replay_ptrs);
	strbuf_release(&s->last_error);
	strbuf_release(&s->werr);
	strbuf_release(&s->serr);
	mem_free(s->batch);
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	mem_free(s);
}

struct store *
store_open_opts(const char *uri, const struct store_options *opt,
    enum store_status *stp, struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	const struct store_backend *ops;
	const char *target = NULL;
	enum store_status st = STORE_OK;
	struct store *s = NULL;
	pthread_condattr_t ca;
	size_t elen;
	int rc;

	if (err == NULL)
		err = &local;
	if ((ops = parse_uri(uri, &target, &st, err)) == NULL)
		goto fail;
	if ((s = mem_calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	if ((s->batch = mem_reallocarray(NULL, STORE_BATCH_MAX,
	    sizeof(*s->batch))) == NULL) {
		mem_free(s);
		s = NULL;
		goto nomem;
	}
	s->ops = ops;
	if (opt != NULL)
		s->opt = *opt;
	if (s->opt.busy_timeout_ms == 0)
		s->opt.busy_timeout_ms = STORE_BUSY_MS;
	if (s->opt.flush_ms == 0)
		s->opt.flush_ms = STORE_FLUSH_MS;
	if (s->opt.queue_max == 0)
		s->opt.queue_max = STORE_QUEUE_MAX;
	strbuf_init(&s->last_error);
	strbuf_init(&s->werr);
	strbuf_init(&s->serr);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->done, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);

	elen = strbuf_len(err);
	if ((s->be = ops->open(target, &s->opt, &st, err)) == NULL)
		goto fail;
	if (strbuf_len(err) > elen) {
		/* Opened without its server (PostgreSQL down, a spool to
		 * fall back on): why, for store_last_error(). */
		strbuf_append(&s->last_error, strbuf_cstr(err) + elen,
		    strbuf_len(err) - elen);
		strbuf_truncate(err, elen);
	}
	if (ops == &store_backend_pgsql && s->opt.spool_path != NULL &&
	    *s->opt.spool_path != '\0') {
		if ((s->spool = spool_open(s->opt.spool_path, err)) == NULL) {
			st = STORE_ERR_OPEN;
			goto fail;
		}
		if ((s->replay_recs = mem_reallocarray(NULL,
		    SPOOL_REPLAY_BATCH, sizeof(*s->replay_recs))) == NULL ||
		    (s->replay_ptrs = mem_reallocarray(NULL,
		    SPOOL_REPLAY_BATCH, sizeof(*s->replay_ptrs))) == NULL)
			goto nomem;
		s->stats.spool_pending = spool_pending(s->spool);
		s->stats.spool_discarded = spool_discarded(s->spool);
	}
	s->opt.spool_path = NULL;	/* the caller's string: not kept */
	if ((rc = pthread_create(&s->thread, NULL, writer_main, s)) != 0) {
		store_uri_redact(err, uri);
		strbuf_appendf(err, ": cannot start the writer thread: %s",
		    strerror(rc));
		st = STORE_ERR_NOMEM;
		goto fail;
	}
	s->started = true;
	if (stp != NULL)
		*stp = STORE_OK;
	strbuf_release(&local);
	return s;

nomem:
	store_uri_redact(err, uri);
	strbuf_appends(err, ": out of memory");
	st = STORE_ERR_NOMEM;
fail:
	store_free(s);
	if (stp != NULL)
		*stp = st;
	strbuf_release(&local);
	return NULL;
}

struct store *
store_open(const char *uri, enum store_durability durability,
    enum store_status *st, struct strbuf *err)
{
	struct store_options opt;

	memset(&opt, 0, sizeof(opt));
	opt.durability = durability;
	return store_open_opts(uri, &opt, st, err);
}

enum store_status
store_close(struct store *s)
{
	enum store_status st;

	if (s == NULL)
		return STORE_OK;
	pthread_mutex_lock(&s->lock);
	if (s->closing) {
		/* A second close of the same store: a caller bug; the first
		 * one frees it. */
		pthread_mutex_unlock(&s->lock);
		return STORE_ERR_CLOSED;
	}
	s->closing = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);

	/* The writer drains the queue (waiters included), then ends. */
	pthread_join(s->thread, NULL);

	pthread_mutex_lock(&s->lock);
	while (s->users > 0)
		pthread_cond_wait(&s->done, &s->lock);
	st = s->close_status;
	pthread_mutex_unlock(&s->lock);
	store_free(s);
	return st;
}

const char *
store_strerror(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return "success";
	case STORE_ERR_NOMEM:
		return "out of memory";
	case STORE_ERR_CONFIG:
		return "bad history database setting";
	case STORE_ERR_OPEN:
		return "cannot open the history database";
	case STORE_ERR_SCHEMA:
		return "history database schema error";
	case STORE_ERR_WRITE:
		return "cannot write to the history database";
	case STORE_ERR_FULL:
		return "history queue full";
	case STORE_ERR_CLOSED:
		return "history store closed";
	case STORE_ERR_INVALID:
		return "history record without its key";
	case STORE_ERR_READ:
		return "cannot read the history database";
	}
	return "unknown history store status";
}

const char *
store_durability_name(enum store_durability d)
{
	switch (d) {
	case STORE_DURABILITY_FULL:
		return "full";
	case STORE_DURABILITY_RELAXED:
		return "relaxed";
	}
	return "unknown";
}
