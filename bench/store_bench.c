/*
 * store_bench.c - verdict history throughput: records per second through
 * store_submit() for FULL durability (every submitter waits for its
 * group commit, one fsync per batch) against RELAXED (nobody waits), with
 * 1 and 16 submitting threads by default.
 *
 *   store_bench [-n RECORDS] [-d DIR] [-t THREADS[,THREADS...]]
 *
 * Each run writes RECORDS realistic records (2 DKIM signatures) into a
 * new SQLite file in DIR (default: the current directory: use the disk
 * the history will live on, not a tmpfs) and removes it afterwards.  The
 * time includes the final flush, so RELAXED is charged for its commits
 * too.  Prints records/s, microseconds per record, the process's CPU
 * time (user + system, getrusage) per record and records per commit.
 * The wall-clock rate of FULL follows the disk's fsync latency, which
 * varies a lot on a shared machine; the CPU time is the stable figure.
 * A figure, never an assertion.
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

struct worker {
	struct store	*s;
	unsigned	 id;
	long		 n;
	bool		 wait;
	long		 errors;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of the whole process. */
static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
fill(struct store_record *r, unsigned id, long i)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "bench");
	snprintf(r->message_key, sizeof(r->message_key), "%08x%024lx", id, i);
	r->received = time(NULL);
	snprintf(r->queue_id, sizeof(r->queue_id), "%X%lX", id, i);
	snprintf(r->message_id, sizeof(r->message_id),
	    "<%ld.%u.1767225600@mail.example.org>", i, id);
	snprintf(r->client_ip, sizeof(r->client_ip), "192.0.2.%ld", i % 250);
	strcpy(r->helo, "mail.example.org");
	strcpy(r->mail_from_domain, "bounces.example.org");
	strcpy(r->header_from, "example.org");
	snprintf(r->policy_domain, sizeof(r->policy_domain),
	    "example%ld.org", i % 50);
	strcpy(r->org_domain, "example.org");
	strcpy(r->discovery_method, "treewalk");
	strcpy(r->p, "reject");
	r->pct = -1;
	strcpy(r->adkim, "r");
	strcpy(r->aspf, "r");
	strcpy(r->rua, "mailto:dmarc@example.org");
	strcpy(r->spf_result, "pass");
	strcpy(r->spf_domain, "bounces.example.org");
	strcpy(r->spf_scope, "mfrom");
	r->spf_aligned = true;
	r->ndkim = 2;
	strcpy(r->dkim[0].domain, "example.org");
	strcpy(r->dkim[0].selector, "s2026");
	strcpy(r->dkim[0].result, "pass");
	r->dkim[0].aligned = true;
	strcpy(r->dkim[1].domain, "esp.example.net");
	strcpy(r->dkim[1].selector, "k1");
	strcpy(r->dkim[1].result, "pass");
	strcpy(r->dmarc_result, "pass");
	strcpy(r->policy, "reject");
	strcpy(r->disposition, "pass");
	strcpy(r->action, "accept");
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct store_record r;
	long i;

	for (i = 0; i < w->n; i++) {
		fill(&r, w->id, i);
		while (store_submit(w->s, &r, w->wait) == STORE_ERR_FULL)
			usleep(1000);	/* relaxed: the writer is behind */
	}
	return NULL;
}

static double
run(const char *dir, enum store_durability d, unsigned threads, long n)
{
	struct strbuf err = STRBUF_INIT;
	struct worker *w = calloc(threads, sizeof(*w));
	pthread_t *t = calloc(threads, sizeof(*t));
	struct store_stats stats;
	enum store_status st;
	struct store *s;
	char path[4096], side[4200];
	double t0, c0, secs, cpu;
	unsigned i;

	snprintf(path, sizeof(path), "%s/store-bench-%ld.db", dir,
	    (long)getpid());
	unlink(path);
	if ((s = store_open(path, d, &st, &err)) == NULL) {
		fprintf(stderr, "store_bench: %s\n", strbuf_cstr(&err));
		exit(1);
	}
	t0 = now();
	c0 = cpu_now();
	for (i = 0; i < threads; i++) {
		w[i].s = s;
		w[i].id = i;
		w[i].n = n / threads;
		w[i].wait = d == STORE_DURABILITY_FULL;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	if (store_flush(s) != STORE_OK) {
		store_last_error(s, &err);
		fprintf(stderr, "store_bench: %s\n", strbuf_cstr(&err));
	}
	secs = now() - t0;
	cpu = cpu_now() - c0;
	store_get_stats(s, &stats);
	store_close(s);
	printf("%-8s %3u thread%s %7llu records %9.0f records/s %8.1f us/record"
	    " %6.1f cpu_us/record %7.1f records/commit\n",
	    store_durability_name(d), threads,
	    threads == 1 ? " " : "s", (unsigned long long)stats.committed,
	    (double)stats.committed / secs, secs * 1e6 /
	    (double)stats.committed, cpu * 1e6 / (double)stats.committed,
	    (double)stats.committed /
	    (double)(stats.batches ? stats.batches : 1));
	fflush(stdout);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	strbuf_release(&err);
	free(w);
	free(t);
	return (double)stats.committed / secs;
}

int
main(int argc, char **argv)
{
	const char *dir = ".", *tlist = "1,16";
	long n = 20000;
	int c;
	char *list, *tok, *save = NULL;

	while ((c = getopt(argc, argv, "n:d:t:")) != -1) {
		switch (c) {
		case 'n':
			n = atol(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			tlist = optarg;
			break;
		default:
			fprintf(stderr, "usage: store_bench [-n RECORDS] "
			    "[-d DIR] [-t THREADS[,THREADS...]]\n");
			return 64;
		}
	}
	if (n <= 0)
		n = 20000;
	printf("store_bench: SQLite %s, %ld records per run, in %s\n",
	    sqlite3_libversion(), n, dir);
	list = strdup(tlist);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		unsigned threads = (unsigned)atoi(tok);
		double full, relaxed;

		if (threads == 0)
			continue;
		relaxed = run(dir, STORE_DURABILITY_RELAXED, threads, n);
		full = run(dir, STORE_DURABILITY_FULL, threads, n);
		printf("%3u thread%s: full = %.1f%% of relaxed throughput\n",
		    threads, threads == 1 ? " " : "s", 100.0 * full / relaxed);
	}
	free(list);
	return 0;
}
