/*
 * storecli - drive the store from the shell, for the PostgreSQL tests.
 *
 *   storecli URI submit N [--node X] [--threads T] [--start K]
 *            [--spool PATH] [--delay-ms D] [--relaxed] [--drain SECS]
 *   storecli URI count
 *   storecli URI claim DOMAIN BEGIN NODE [STALE_S]
 *   storecli URI mark DOMAIN BEGIN
 *   storecli URI expire BEFORE_DAY
 *
 * submit stores N synthetic records with keys K..K+N-1 under node X
 * (default "node1"), from T threads, each waiting for its commit (FULL
 * durability unless --relaxed), D milliseconds apart per thread.  With
 * --drain, it then waits up to SECS seconds for the spool to empty.  It
 * prints "acked A", "failed F", then the store counters (committed,
 * duplicates, spooled, replayed, spool_pending, spool_discarded) one per
 * line, and exits 0 if every record was acknowledged (and, with --drain,
 * the spool is empty), 1 otherwise.  count prints the number of rows.
 * claim prints ok, sent, busy or error (store_report_claim(), default
 * STALE_S 3600) and exits 0 unless error; mark marks the report sent;
 * expire prints "verdicts V reports R" (store_expire()).
 * Errors go to stderr; exit 2 on a usage or open error.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static struct store *st;
static const char *node = "node1";
static unsigned long long next_key, end_key;
static unsigned delay_ms;
static unsigned long acked, failed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void
fill(struct store_record *r, unsigned long long k)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "%s", node);
	snprintf(r->message_key, sizeof(r->message_key), "%032llx", k);
	r->received = time(NULL);
	snprintf(r->queue_id, sizeof(r->queue_id), "Q%llu", k);
	snprintf(r->client_ip, sizeof(r->client_ip), "192.0.2.%llu", k % 250);
	snprintf(r->header_from, sizeof(r->header_from), "example.test");
	snprintf(r->policy_domain, sizeof(r->policy_domain), "example.test");
	snprintf(r->p, sizeof(r->p), "reject");
	r->pct = -1;
	snprintf(r->spf_result, sizeof(r->spf_result), "pass");
	r->ndkim = 1;
	snprintf(r->dkim[0].domain, sizeof(r->dkim[0].domain), "example.test");
	snprintf(r->dkim[0].selector, sizeof(r->dkim[0].selector), "s1");
	snprintf(r->dkim[0].result, sizeof(r->dkim[0].result), "pass");
	r->dkim[0].aligned = true;
	snprintf(r->dmarc_result, sizeof(r->dmarc_result), "pass");
	snprintf(r->disposition, sizeof(r->disposition), "none");
	snprintf(r->action, sizeof(r->action), "accept");
}

static void *
worker(void *arg)
{
	struct store_record rec;
	struct timespec ts;
	unsigned long long k;
	enum store_status s;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		k = next_key++;
		pthread_mutex_unlock(&mu);
		if (k >= end_key)
			break;
		fill(&rec, k);
		s = store_submit(st, &rec, true);
		pthread_mutex_lock(&mu);
		if (s == STORE_OK)
			acked++;
		else {
			failed++;
			fprintf(stderr, "storecli: key %llu: %s\n", k,
			    store_strerror(s));
		}
		pthread_mutex_unlock(&mu);
		if (delay_ms > 0) {
			ts.tv_sec = delay_ms / 1000;
			ts.tv_nsec = (long)(delay_ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static const char *const claim_names[] = {
	[STORE_CLAIM_OK] = "ok",
	[STORE_CLAIM_SENT] = "sent",
	[STORE_CLAIM_BUSY] = "busy",
	[STORE_CLAIM_ERROR] = "error",
};

/* claim, mark and expire; an exit status. */
static int
reports(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	enum store_status s;
	enum store_claim c;
	uint64_t v, r;
	int rc = 0;

	if ((st = store_open(argv[1], STORE_DURABILITY_FULL, &s, &err)) ==
	    NULL) {
		fprintf(stderr, "storecli: %s\n", strbuf_cstr(&err));
		strbuf_release(&err);
		return 2;
	}
	if (strcmp(argv[2], "claim") == 0) {
		c = store_report_claim(st, argv[3],
		    (time_t)strtoll(argv[4], NULL, 10), "ID", argv[5],
		    argc > 6 ? (unsigned)atoi(argv[6]) : 3600, &err);
		printf("%s\n", claim_names[c]);
		rc = c == STORE_CLAIM_ERROR;
	} else if (strcmp(argv[2], "mark") == 0) {
		s = store_report_mark_sent(st, argv[3],
		    (time_t)strtoll(argv[4], NULL, 10), &err);
		rc = s != STORE_OK;
	} else {
		s = store_expire(st, strtoll(argv[3], NULL, 10), false, &v, &r,
		    &err);
		printf("verdicts %llu reports %llu\n", (unsigned long long)v,
		    (unsigned long long)r);
		rc = s != STORE_OK;
	}
	if (rc != 0)
		fprintf(stderr, "storecli: %s\n", strbuf_cstr(&err));
	store_close(st);
	strbuf_release(&err);
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: storecli URI submit N [--node X] [--threads T] "
	    "[--start K] [--spool PATH] [--delay-ms D] [--relaxed] "
	    "[--drain SECS]\n       storecli URI count\n"
	    "       storecli URI claim DOMAIN BEGIN NODE [STALE_S]\n"
	    "       storecli URI mark DOMAIN BEGIN\n"
	    "       storecli URI expire BEFORE_DAY\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct store_options opt;
	struct store_stats ss;
	struct strbuf err = STRBUF_INIT;
	enum store_status s;
	pthread_t th[64];
	unsigned threads = 1, i, drain = 0;
	uint64_t n;
	int a, rc = 0;

	if (argc < 3)
		return usage();
	if ((strcmp(argv[2], "claim") == 0 && argc >= 6 && argc <= 7) ||
	    (strcmp(argv[2], "mark") == 0 && argc == 5) ||
	    (strcmp(argv[2], "expire") == 0 && argc == 4))
		return reports(argc, argv);
	memset(&opt, 0, sizeof(opt));
	opt.durability = STORE_DURABILITY_FULL;
	if (strcmp(argv[2], "count") == 0) {
		if ((st = store_open_opts(argv[1], &opt, &s, &err)) == NULL) {
			fprintf(stderr, "storecli: %s\n", strbuf_cstr(&err));
			strbuf_release(&err);
			return 2;
		}
		if ((s = store_count(st, &n, &err)) != STORE_OK) {
			fprintf(stderr, "storecli: %s\n", strbuf_cstr(&err));
			rc = 1;
		} else
			printf("%llu\n", (unsigned long long)n);
		store_close(st);
		strbuf_release(&err);
		return rc;
	}
	if (strcmp(argv[2], "submit") != 0 || argc < 4)
		return usage();
	end_key = strtoull(argv[3], NULL, 10);
	for (a = 4; a < argc; a++) {
		if (strcmp(argv[a], "--relaxed") == 0) {
			opt.durability = STORE_DURABILITY_RELAXED;
			continue;
		}
		if (a + 1 >= argc)
			return usage();
		if (strcmp(argv[a], "--node") == 0)
			node = argv[++a];
		else if (strcmp(argv[a], "--threads") == 0)
			threads = (unsigned)atoi(argv[++a]);
		else if (strcmp(argv[a], "--start") == 0)
			next_key = strtoull(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--spool") == 0)
			opt.spool_path = argv[++a];
		else if (strcmp(argv[a], "--delay-ms") == 0)
			delay_ms = (unsigned)atoi(argv[++a]);
		else if (strcmp(argv[a], "--drain") == 0)
			drain = (unsigned)atoi(argv[++a]);
		else
			return usage();
	}
	if (threads < 1 || threads > 64)
		return usage();
	end_key += next_key;
	if ((st = store_open_opts(argv[1], &opt, &s, &err)) == NULL) {
		fprintf(stderr, "storecli: %s\n", strbuf_cstr(&err));
		strbuf_release(&err);
		return 2;
	}
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	store_flush(st);
	for (i = 0; i < drain * 10; i++) {
		store_get_stats(st, &ss);
		if (ss.spool_pending == 0)
			break;
		usleep(100000);
	}
	store_get_stats(st, &ss);
	strbuf_reset(&err);
	store_last_error(st, &err);
	if (strbuf_len(&err) > 0)
		fprintf(stderr, "storecli: last error: %s\n",
		    strbuf_cstr(&err));
	printf("acked %lu\nfailed %lu\ncommitted %llu\nduplicates %llu\n"
	    "spooled %llu\nreplayed %llu\nspool_pending %zu\n"
	    "spool_discarded %llu\n", acked, failed,
	    (unsigned long long)ss.committed,
	    (unsigned long long)ss.duplicates,
	    (unsigned long long)ss.spooled, (unsigned long long)ss.replayed,
	    ss.spool_pending, (unsigned long long)ss.spool_discarded);
	if (failed > 0 || (drain > 0 && ss.spool_pending > 0))
		rc = 1;
	if (store_close(st) != STORE_OK)
		rc = 1;
	strbuf_release(&err);
	return rc;
}
