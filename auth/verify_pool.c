/*
 * verify_pool.c - a fixed set of threads and one FIFO of jobs (see
 * verify_pool.h).  One mutex, one condition for "work queued" and one
 * for "a job finished": jobs are a few per message and each waits on
 * DNS, so the lock is never the bottleneck.  Left out: priorities,
 * cancellation (a job's lookups end by the message's DNS deadline).
 */
#include "config.h"

#include <pthread.h>

#include "auth/verify_pool.h"
#include "common/mem.h"

struct verify_pool {
	pthread_mutex_t lock;
	pthread_cond_t	 work;		/* a job was queued, or stop */
	pthread_cond_t	 finished;	/* some job is done */
	struct verify_job *head, *tail;
	unsigned	 queued;
	unsigned	 idle;		/* threads waiting for work */
	bool		 stop;
	unsigned	 nthreads;
	pthread_t	 threads[VERIFY_POOL_MAX_THREADS];
};

static void *
pool_main(void *arg)
{
	struct verify_pool *p = arg;
	struct verify_job *j;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		p->idle++;
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		p->idle--;
		if ((j = p->head) == NULL)
			break;		/* stopping, and nothing left */
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg);
		pthread_mutex_lock(&p->lock);
		j->done = true;
		pthread_cond_broadcast(&p->finished);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct verify_pool *
verify_pool_new(unsigned nthreads)
{
	struct verify_pool *p;

	if (nthreads == 0)
		return NULL;
	if (nthreads > VERIFY_POOL_MAX_THREADS)
		nthreads = VERIFY_POOL_MAX_THREADS;
	if ((p = mem_calloc(1, sizeof(*p))) == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->finished, NULL);
	while (p->nthreads < nthreads && pthread_create(
	    &p->threads[p->nthreads], NULL, pool_main, p) == 0)
		p->nthreads++;
	if (p->nthreads == 0) {
		verify_pool_free(p);
		return NULL;
	}
	return p;
}

void
verify_pool_free(struct verify_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->finished);
	pthread_mutex_destroy(&p->lock);
	mem_free(p);
}

void
verify_pool_run(struct verify_pool *p, struct verify_job *j,
    void (*fn)(void *), void *arg)
{
	j->fn = fn;
	j->arg = arg;
	j->done = false;
	j->next = NULL;
	if (p != NULL) {
		pthread_mutex_lock(&p->lock);
		/* Only to an idle thread: under load every message's own
		 * thread is as good, and a queue would only add waiting. */
		if (!p->stop && p->queued < p->idle) {
			if (p->tail != NULL)
				p->tail->next = j;
			else
				p->head = j;
			p->tail = j;
			p->queued++;
			pthread_cond_signal(&p->work);
			pthread_mutex_unlock(&p->lock);
			return;
		}
		pthread_mutex_unlock(&p->lock);
	}
	fn(arg);
	j->done = true;
}

void
verify_pool_wait(struct verify_pool *p, struct verify_job *j)
{
	if (p == NULL)
		return;		/* run by the caller already */
	pthread_mutex_lock(&p->lock);
	while (!j->done)
		pthread_cond_wait(&p->finished, &p->lock);
	pthread_mutex_unlock(&p->lock);
}
