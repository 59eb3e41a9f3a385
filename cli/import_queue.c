/*
 * import_queue.c - a single-producer, single-consumer ring of records
 * (import_queue.h).
 *
 * The ring holds QUEUE_SLOTS copies of struct ingest_record.  Storing
 * a record is quicker than parsing one, so the storing thread would
 * sleep after each record and need a wake-up (a futex call each way)
 * for the next: it is woken only once QUEUE_WAKE records wait, or by a
 * drain, and then stores until the ring is empty.  The parsing thread
 * waits only when the ring is full.  After an error the storing thread
 * discards what is left of the report and import_queue_put() refuses
 * more, so the parser stops at its next record.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/import_queue.h"

#define QUEUE_SLOTS	64
#define QUEUE_WAKE	32

struct import_queue {
	struct store_importer *im;
	pthread_t thread;
	bool	 started, quit;
	bool	 flush;			/* a drain waits: store what there is */
	pthread_mutex_t mu;
	pthread_cond_t	 wake;		/* to the storing thread */
	pthread_cond_t	 room;		/* to the parsing thread */
	bool	 waiting_room;		/* the parsing thread sleeps */
	size_t	 head, count;		/* slots in use, the oldest first */
	enum store_status sst;		/* the first error since the drain */
	struct strbuf err;
	struct ingest_record slot[QUEUE_SLOTS];
};

enum store_status
import_record_store(struct store_importer *im, const struct ingest_record *c,
    struct strbuf *err)
{
	struct store_agg_record a = {
		.source_ip = c->source_ip, .count = c->count,
		.disposition = c->disposition, .eval_dkim = c->dkim,
		.eval_spf = c->spf, .reasons = c->reasons,
		.header_from = c->header_from,
		.envelope_from = c->envelope_from,
		.envelope_to = c->envelope_to,
		.spf_results = c->spf_results,
		.dkim_results = c->dkim_results,
	};

	return store_import_record(im, &a, err);
}

static void *
run(void *arg)
{
	struct import_queue *q = arg;
	struct strbuf err = STRBUF_INIT;
	enum store_status s;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->quit && q->count < QUEUE_WAKE &&
		    !(q->flush && q->count > 0))
			pthread_cond_wait(&q->wake, &q->mu);
		if (q->count == 0)
			break;
		while (q->count > 0) {
			s = q->sst;
			pthread_mutex_unlock(&q->mu);
			/* the slot stays counted until it is stored: the
			 * parsing thread does not write it */
			if (s == STORE_OK) {
				strbuf_reset(&err);
				s = import_record_store(q->im, &q->slot[q->head], &err);
			}
			pthread_mutex_lock(&q->mu);
			if (s != STORE_OK && q->sst == STORE_OK) {
				q->sst = s;
				strbuf_reset(&q->err);
				strbuf_appends(&q->err, strbuf_cstr(&err));
			}
			q->head = (q->head + 1) % QUEUE_SLOTS;
			q->count--;
			/* the parser waits for room, or a drain for none */
			if (q->waiting_room && (q->count == 0 ||
			    q->count == QUEUE_SLOTS / 2))
				pthread_cond_signal(&q->room);
		}
	}
	pthread_mutex_unlock(&q->mu);
	strbuf_release(&err);
	return NULL;
}

struct import_queue *
import_queue_new(struct store_importer *im)
{
	struct import_queue *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->im = im;
	q->sst = STORE_OK;
	strbuf_init(&q->err);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_cond_init(&q->room, NULL);
	return q;
}

void
import_queue_free(struct import_queue *q)
{
	if (q == NULL)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->quit = true;
		pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->thread, NULL);
	}
	pthread_cond_destroy(&q->room);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->mu);
	strbuf_release(&q->err);
	free(q);
}

enum store_status
import_queue_put(struct import_queue *q, const struct ingest_record *c,
    struct strbuf *err)
{
	enum store_status s;

	if (!q->started) {
		/* no thread (it could not be created): store here */
		if (pthread_create(&q->thread, NULL, run, q) != 0)
			return import_record_store(q->im, c, err);
		q->started = true;
	}
	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_SLOTS && q->sst == STORE_OK) {
		q->waiting_room = true;
		pthread_cond_wait(&q->room, &q->mu);
		q->waiting_room = false;
	}
	if ((s = q->sst) != STORE_OK) {
		strbuf_appends(err, strbuf_cstr(&q->err));
		pthread_mutex_unlock(&q->mu);
		return s;
	}
	q->slot[(q->head + q->count) % QUEUE_SLOTS] = *c;
	if (++q->count == QUEUE_WAKE)
		pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->mu);
	return STORE_OK;
}

enum store_status
import_queue_drain(struct import_queue *q, struct strbuf *err)
{
	enum store_status s;

	if (!q->started)
		return STORE_OK;
	pthread_mutex_lock(&q->mu);
	q->flush = true;
	pthread_cond_signal(&q->wake);
	while (q->count > 0) {
		q->waiting_room = true;
		pthread_cond_wait(&q->room, &q->mu);
		q->waiting_room = false;
	}
	q->flush = false;
	if ((s = q->sst) != STORE_OK && err != NULL)
		strbuf_appends(err, strbuf_cstr(&q->err));
	q->sst = STORE_OK;
	strbuf_reset(&q->err);
	pthread_mutex_unlock(&q->mu);
	return s;
}
