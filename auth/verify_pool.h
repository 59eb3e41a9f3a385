/*
 * verify_pool.h - a few threads that run a message's independent,
 * DNS-bound steps at the same time (auth/verify.c: SPF and DMARC policy
 * discovery while the calling thread verifies DKIM).
 *
 * With a cold cache each step waits for the network: run one after the
 * other, a message waits for the sum of their lookups; run together, for
 * the slowest chain.  A job is caller-owned memory; the pool never frees
 * it.  A job goes to the pool only if a thread is idle; otherwise (or
 * with no pool) the caller runs it itself, so under load nothing waits
 * in a queue and nothing depends on the pool being there.
 */
#ifndef DM_AUTH_VERIFY_POOL_H
#define DM_AUTH_VERIFY_POOL_H

#include <stdbool.h>

#define VERIFY_POOL_MAX_THREADS	16

struct verify_job {
	void	(*fn)(void *);
	void	*arg;
	bool	 done;			/* under the pool's lock */
	struct verify_job *next;
};

struct verify_pool;

/* A pool of nthreads threads (at most VERIFY_POOL_MAX_THREADS); NULL when
 * nthreads is 0 or on failure (callers then run jobs themselves). */
struct verify_pool *verify_pool_new(unsigned nthreads);
/* Stop and join the threads; jobs still queued are run first. */
void	 verify_pool_free(struct verify_pool *);

/* Start job->fn(job->arg) on an idle pool thread, or run it now when
 * the pool is NULL or busy.  Every job given here must be passed to
 * verify_pool_wait() before its memory is reused. */
void	 verify_pool_run(struct verify_pool *, struct verify_job *,
	    void (*fn)(void *), void *arg);
/* Until the job has run. */
void	 verify_pool_wait(struct verify_pool *, struct verify_job *);

#endif
