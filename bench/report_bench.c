/*
 * report_bench.c - aggregate report generation over a large history:
 * fills a SQLite history with N rows (default 1,000,000) over one day for
 * 20 policy domains and 200 source IPs, then times aggregate_collect()
 * and writing + gzipping every report, printing rows/s and peak RSS.
 *
 *   bench/report_bench [ROWS [DB]]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "report/aggregate.h"
#include "store/store.h"

#define DAY0	1711497600

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	const char *db = argc > 2 ? argv[2] : "/tmp/report_bench.sqlite";
	struct aggregate_meta meta = { "Bench", "noreply@bench.example", NULL,
		"dmarcd bench", "bench.example" };
	struct strbuf err = STRBUF_INIT, xml = STRBUF_INIT, gz = STRBUF_INIT;
	struct aggregate_set *set;
	struct store_record r;
	struct store *s;
	struct rusage ru;
	enum store_status st;
	uint64_t count = 0, msgs = 0, recs = 0;
	double t0, t1, t2;
	unsigned long i;
	size_t k;

	unlink(db);
	if ((s = store_open(db, STORE_DURABILITY_RELAXED, &st, &err)) ==
	    NULL) {
		fprintf(stderr, "%s\n", strbuf_cstr(&err));
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.node, sizeof(r.node), "mx1");
		snprintf(r.message_key, sizeof(r.message_key), "%032lx", i);
		r.received = DAY0 + (time_t)(i * 86400 / n);
		snprintf(r.client_ip, sizeof(r.client_ip), "192.0.%lu.%lu",
		    i % 200 / 100, i % 100);
		snprintf(r.policy_domain, sizeof(r.policy_domain),
		    "d%lu.example", i % 20);
		snprintf(r.header_from, sizeof(r.header_from), "%s",
		    r.policy_domain);
		snprintf(r.mail_from_domain, sizeof(r.mail_from_domain), "%s",
		    r.policy_domain);
		snprintf(r.p, sizeof(r.p), "reject");
		r.pct = -1;
		snprintf(r.spf_result, sizeof(r.spf_result), i % 7 ? "pass" :
		    "fail");
		snprintf(r.spf_domain, sizeof(r.spf_domain), "%s",
		    r.policy_domain);
		snprintf(r.spf_scope, sizeof(r.spf_scope), "mfrom");
		r.spf_aligned = true;
		r.ndkim = 1;
		snprintf(r.dkim[0].domain, sizeof(r.dkim[0].domain), "%s",
		    r.policy_domain);
		snprintf(r.dkim[0].selector, sizeof(r.dkim[0].selector), "s1");
		snprintf(r.dkim[0].result, sizeof(r.dkim[0].result), "pass");
		r.dkim[0].aligned = true;
		snprintf(r.disposition, sizeof(r.disposition), "pass");
		snprintf(r.action, sizeof(r.action), "accept");
		while ((st = store_submit(s, &r, false)) == STORE_ERR_FULL)
			store_flush(s);
		if (st != STORE_OK) {
			fprintf(stderr, "submit: %s\n", store_strerror(st));
			return 1;
		}
	}
	store_flush(s);
	t1 = now();
	printf("fill:    %lu rows in %.2f s (%.0f rows/s)\n", n, t1 - t0,
	    n / (t1 - t0));
	if (aggregate_collect(s, NULL, DAY0, DAY0 + 86400, &set, &err) !=
	    AGGREGATE_OK) {
		fprintf(stderr, "collect: %s\n", strbuf_cstr(&err));
		return 1;
	}
	for (k = 0; k < aggregate_set_count(set); k++) {
		struct aggregate_stats as;

		aggregate_report_stats(aggregate_set_get(set, k), &as);
		count += as.rows;
		msgs += as.messages;
		recs += as.records;
		strbuf_reset(&xml);
		strbuf_reset(&gz);
		aggregate_write_xml(aggregate_set_get(set, k), &meta,
		    AGGREGATE_RFC9990, &xml);
		aggregate_gzip(xml.data, xml.len, &gz);
	}
	t2 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("report:  %llu rows, %zu reports, %llu records in %.2f s "
	    "(%.0f rows/s)\n", (unsigned long long)count,
	    aggregate_set_count(set), (unsigned long long)recs, t2 - t1,
	    count / (t2 - t1));
	printf("peak RSS: %ld KiB\n", ru.ru_maxrss);
	aggregate_set_free(set);
	store_close(s);
	strbuf_release(&err);
	strbuf_release(&xml);
	strbuf_release(&gz);
	unlink(db);
	(void)msgs;
	return 0;
}
