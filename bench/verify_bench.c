/*
 * verify_bench.c - throughput of the message pipeline (auth/verify.c):
 * SPF + DKIM + DMARC for one message, repeated, with a warm DNS cache.
 *
 *   verify_bench -s IP:PORT -n COUNT [-t THREADS] --client-ip IP
 *       --helo NAME --mail-from ADDR FILE.eml
 *
 * The message is read and split into header fields once; each iteration
 * then feeds the same fields and body to a new verify object, as the
 * milter does per message.  Prints messages per second, microseconds per
 * message, and the DNS cache hit rate.  A figure, never an assertion.
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/verify.h"
#include "common/strbuf.h"

#define MAX_FIELDS	512

struct field {
	char	*name;
	char	*value;
	size_t	 len;
};

static struct field fields[MAX_FIELDS];
static size_t nfields;
static struct strbuf body = STRBUF_INIT;
static struct verify_engine *engine;
static struct verify_facts facts;
static long per_thread;
static int failures;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Split the message once: header fields (folding kept) and CRLF body. */
static void
load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	bool in_body = false;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (in_body) {
			strbuf_append(&body, line, n);
			strbuf_appends(&body, "\r\n");
		} else if (n == 0) {
			in_body = true;
		} else if ((line[0] == ' ' || line[0] == '\t') && nfields > 0) {
			struct field *fl = &fields[nfields - 1];
			size_t add = n + 2;

			fl->value = realloc(fl->value, fl->len + add + 1);
			memcpy(fl->value + fl->len, "\r\n", 2);
			memcpy(fl->value + fl->len + 2, line, n + 1);
			fl->len += add;
		} else if (nfields < MAX_FIELDS && strchr(line, ':') != NULL) {
			char *colon = strchr(line, ':');

			fields[nfields].name = strndup(line, (size_t)(colon - line));
			fields[nfields].value = strdup(colon + 1);
			fields[nfields].len = strlen(colon + 1);
			nfields++;
		}
	}
	fclose(f);
}

static void *
worker(void *arg)
{
	const struct verdict *vd;
	long i;
	size_t k;

	(void)arg;
	for (i = 0; i < per_thread; i++) {
		struct verify *v = verify_new(engine, &facts);

		for (k = 0; k < nfields; k++)
			verify_header(v, fields[k].name, fields[k].value,
			    fields[k].len);
		verify_eoh(v);
		verify_body(v, (const unsigned char *)strbuf_cstr(&body),
		    strbuf_len(&body));
		if (verify_eom(v, &vd) != VERIFY_OK ||
		    vd->result != DMARC_RESULT_PASS)
			__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
		verify_free(v);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct dns_config dc;
	struct dns_resolver *res;
	struct verify_config vc;
	struct dns_counters c0, c1;
	enum verify_status vs;
	enum dns_status ds;
	pthread_t th[64];
	long count = 2000;
	int ch, nthreads = 1, t;
	double t0, t1;

	dns_config_init(&dc);
	while ((ch = getopt_long(argc, argv, "s:n:t:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (dns_config_set_nameservers(&dc, optarg) != DNS_OK)
				return 2;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 't':
			nthreads = atoi(optarg);
			if (nthreads < 1 || nthreads > 64)
				return 2;
			break;
		case 'i':
			if (addr_parse(optarg, &facts.client_ip) != 0)
				return 2;
			facts.have_ip = true;
			break;
		case 'H':
			facts.helo = optarg;
			break;
		case 'm':
			facts.mail_from = optarg;
			break;
		default:
			fprintf(stderr, "usage: verify_bench -s IP:PORT [-n N] "
			    "[-t THREADS] --client-ip IP --helo H "
			    "--mail-from A FILE\n");
			return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	load(argv[optind]);
	if ((res = dns_resolver_new(&dc, &ds)) == NULL)
		return 1;
	verify_config_init(&vc);
	vc.policy.authserv_id = "bench.test";
	if ((engine = verify_engine_new(res, &vc, &vs)) == NULL)
		return 1;

	/* Warm the cache (and each code path) once. */
	per_thread = 1;
	worker(NULL);
	if (failures > 0) {
		fprintf(stderr, "verify_bench: the message does not pass DMARC "
		    "with this zone; fix the set-up\n");
		return 1;
	}
	dns_resolver_counters(res, &c0);
	per_thread = count / nthreads;
	t0 = now();
	for (t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, worker, NULL);
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	t1 = now();
	dns_resolver_counters(res, &c1);
	{
		double n = (double)per_thread * nthreads;
		unsigned long long hits = c1.cache_hits - c0.cache_hits;
		unsigned long long miss = c1.cache_misses - c0.cache_misses;

		printf("messages        %.0f (%d thread%s, %zu-byte body)\n", n,
		    nthreads, nthreads == 1 ? "" : "s", strbuf_len(&body));
		printf("throughput      %.0f msgs/s\n", n / (t1 - t0));
		printf("per message     %.1f us wall\n", (t1 - t0) / n * 1e6);
		printf("dns cache       %llu hits, %llu misses, hit rate %.2f%%\n",
		    hits, miss, hits + miss ? 100.0 * (double)hits /
		    (double)(hits + miss) : 0.0);
		printf("dns queries     %llu sent during the run\n",
		    (unsigned long long)(c1.queries - c0.queries));
		printf("failures        %d\n", failures);
	}
	verify_engine_free(engine);
	dns_resolver_free(res);
	return failures > 0;
}
