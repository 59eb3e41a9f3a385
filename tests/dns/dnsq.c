/*
 * dnsq.c - test driver: query through the dns/ resolver and print the
 * results in a stable format that the shell tests compare exactly.
 *
 *   dnsq [options] TYPE NAME [TYPE NAME ...]
 *
 * One line per query, "TYPE NAME: status[ ttl=N][ hops=N][ cached]",
 * then one indented line per record.  Exit 0 when every query got a
 * final answer (including NXDOMAIN, NODATA and permanent errors), 1 when
 * one failed temporarily, 64 on bad usage.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/mem.h"
#include "dns/lookup_adapter.h"
#include "dns/resolver.h"

static int opt_ttl, opt_policy;

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dnsq [-s IP[:PORT]]... [-t MS] [-r N] [-d MS] [--no-tcp]\n"
	    "            [--edns N] [--max-records N] [--max-txt-len N]\n"
	    "            [--max-txt-total N] [--max-cname N] [--ttl-min S]\n"
	    "            [--ttl-max S] [--neg-ttl-max S] [--no-cache]\n"
	    "            [--silent] [--repeat N] [--threads N] [--counters]\n"
	    "            [--ttl] [--policy] [--max-elapsed MS] [--wire FILE]\n"
	    "            TYPE NAME [TYPE NAME ...]\n");
	exit(EX_USAGE);
}

static unsigned long
num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		usage();
	return v;
}

/* Printable, bounded TXT text: escapes as \xHH, cut at max bytes. */
static void
print_text(const char *s, size_t len, size_t max)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
	if (len > max)
		printf("...");
}

static void
print_answer(const char *type, const char *name, const struct dns_answer *a)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	printf("%s %s: %s", type, name, dns_status_name(a->status));
	if (opt_ttl && a->has_ttl)
		printf(" ttl=%u", (unsigned)a->ttl);
	if (a->cname_hops > 0)
		printf(" hops=%u", a->cname_hops);
	if (a->from_cache)
		printf(" cached");
	putchar('\n');
	for (i = 0; i < a->nrr; i++) {
		const struct dns_rr *rr = &a->rr[i];

		switch (rr->type) {
		case DNS_TYPE_TXT:
			printf("  TXT strings=%zu len=%zu ", rr->u.txt.nstrings,
			    rr->u.txt.len);
			print_text(rr->u.txt.data, rr->u.txt.len, 100);
			putchar('\n');
			break;
		case DNS_TYPE_A:
			inet_ntop(AF_INET, &rr->u.a, addr, sizeof(addr));
			printf("  A %s\n", addr);
			break;
		case DNS_TYPE_AAAA:
			inet_ntop(AF_INET6, &rr->u.aaaa, addr, sizeof(addr));
			printf("  AAAA %s\n", addr);
			break;
		case DNS_TYPE_MX:
			printf("  MX %u %s\n", rr->u.mx.pref, rr->u.mx.host);
			break;
		default:
			printf("  %s %s\n", dns_type_name(rr->type),
			    rr->u.name);
			break;
		}
	}
}

/* Through the policy callback: TYPE is TXT or EXISTS. */
static int
run_policy(struct dns_resolver *res, const struct dns_deadline *dl,
    const char *type, const char *name)
{
	struct dns_lookup_ctx ctx;
	struct lookup_answer ans;
	enum lookup_status ls;
	size_t i;

	dns_lookup_ctx_init(&ctx, res, dl);
	if (strcmp(type, "TXT") == 0)
		ls = dns_lookup(&ctx, name, LOOKUP_TXT, &ans);
	else if (strcmp(type, "EXISTS") == 0)
		ls = dns_lookup(&ctx, name, LOOKUP_EXISTS, &ans);
	else
		usage();
	printf("policy %s %s: %s", type, name, lookup_status_name(ls));
	if (ls != LOOKUP_OK && ls != LOOKUP_NXDOMAIN && ls != LOOKUP_NODATA)
		printf(" reason=%s", dns_status_name(ctx.last));
	putchar('\n');
	for (i = 0; i < ans.ntxt; i++) {
		printf("  ");
		print_text(ans.txts[i], ans.txtlens[i], 100);
		putchar('\n');
	}
	lookup_answer_clear(&ans);
	return ls == LOOKUP_TEMPFAIL;
}

static int
run_query(struct dns_resolver *res, const struct dns_deadline *dl,
    const char *type, const char *name)
{
	struct dns_answer a;
	uint16_t t;
	int temp;

	if (opt_policy)
		return run_policy(res, dl, type, name);
	if ((t = dns_type_from_name(type)) == 0)
		usage();
	dns_query(res, name, t, dl, &a);
	print_answer(type, name, &a);
	temp = dns_status_is_temporary(a.status);
	dns_answer_clear(&a);
	return temp;
}

/* One exchange with the first server; the raw reply goes to path. */
static int
run_wire(const struct dns_config *cfg, const char *type, const char *name,
    const char *path)
{
	static uint8_t buf[65535];
	char norm[256];
	uint8_t *q;
	size_t qlen = 0, len = 0;
	uint16_t t;
	enum dns_status st;
	FILE *fp;

	if ((t = dns_type_from_name(type)) == 0 || cfg->nns == 0 ||
	    dns_name_normalize(name, norm, sizeof(norm)) != DNS_OK)
		usage();
	if ((q = dns_query_wire_new(norm, t, cfg->edns_size, &qlen)) == NULL)
		return 1;
	st = dns_exchange(&cfg->ns[0], false, q, qlen, 1234,
	    dns_now_ms() + cfg->timeout_ms, buf, sizeof(buf), &len);
	if (st == DNS_OK && dns_wire_is_truncated(buf, len) &&
	    cfg->tcp_fallback)
		st = dns_exchange(&cfg->ns[0], true, q, qlen, 1235,
		    dns_now_ms() + cfg->timeout_ms, buf, sizeof(buf), &len);
	mem_free(q);
	if (st != DNS_OK) {
		printf("wire %s %s: %s\n", type, name, dns_status_name(st));
		return 1;
	}
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		return 1;
	}
	printf("wire %s %s: %zu bytes\n", type, name, len);
	return 0;
}

/* A UDP socket on loopback that never answers: a dead server. */
static int
silent_server(struct dns_config *cfg)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char spec[64];
	int fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1)
		return -1;
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sin.sin_port));
	if (dns_config_add_nameserver(cfg, spec) != DNS_OK)
		return -1;
	return fd;
}

struct thread_arg {
	struct dns_resolver *res;
	char	**argv;
	int	 argc;
	int	 bad;
};

/* Threads check that concurrent answers agree with the first thread's. */
static void *
thread_main(void *p)
{
	struct thread_arg *ta = p;
	struct dns_answer a;
	int i, k;

	for (k = 0; k < 50; k++) {
		for (i = 0; i + 1 < ta->argc; i += 2) {
			dns_query(ta->res, ta->argv[i + 1],
			    dns_type_from_name(ta->argv[i]), NULL, &a);
			if (dns_status_is_temporary(a.status))
				ta->bad++;
			dns_answer_clear(&a);
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "no-tcp", no_argument, NULL, 1 },
		{ "edns", required_argument, NULL, 2 },
		{ "max-records", required_argument, NULL, 3 },
		{ "max-txt-len", required_argument, NULL, 4 },
		{ "max-txt-total", required_argument, NULL, 5 },
		{ "max-cname", required_argument, NULL, 6 },
		{ "ttl-min", required_argument, NULL, 7 },
		{ "ttl-max", required_argument, NULL, 8 },
		{ "neg-ttl-max", required_argument, NULL, 9 },
		{ "no-cache", no_argument, NULL, 10 },
		{ "silent", no_argument, NULL, 11 },
		{ "repeat", required_argument, NULL, 12 },
		{ "counters", no_argument, NULL, 13 },
		{ "ttl", no_argument, NULL, 14 },
		{ "policy", no_argument, NULL, 15 },
		{ "max-elapsed", required_argument, NULL, 16 },
		{ "wire", required_argument, NULL, 17 },
		{ "threads", required_argument, NULL, 18 },
		{ NULL, 0, NULL, 0 }
	};
	struct dns_config cfg;
	struct dns_resolver *res;
	struct dns_deadline dl, *dlp = NULL;
	struct dns_counters ctr;
	enum dns_status why;
	const char *wire = NULL;
	unsigned long deadline = 0, repeat = 1, max_elapsed = 0, r,
	    nthreads = 0;
	int ch, i, rc = 0, silent = 0, counters = 0, silent_fd = -1;
	uint64_t start;

	dns_config_init(&cfg);
	while ((ch = getopt_long(argc, argv, "s:t:r:d:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			if (dns_config_add_nameserver(&cfg, optarg) != DNS_OK) {
				fprintf(stderr, "dnsq: bad server %s\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 't':
			cfg.timeout_ms = (unsigned)num(optarg);
			break;
		case 'r':
			cfg.retries = (unsigned)num(optarg);
			break;
		case 'd':
			deadline = num(optarg);
			break;
		case 1:
			cfg.tcp_fallback = false;
			break;
		case 2:
			cfg.edns_size = (uint16_t)num(optarg);
			break;
		case 3:
			cfg.limits.max_records = num(optarg);
			break;
		case 4:
			cfg.limits.max_txt_len = num(optarg);
			break;
		case 5:
			cfg.limits.max_txt_total = num(optarg);
			break;
		case 6:
			cfg.limits.max_cname = (unsigned)num(optarg);
			break;
		case 7:
			cfg.cache.ttl_min = (uint32_t)num(optarg);
			break;
		case 8:
			cfg.cache.ttl_max = (uint32_t)num(optarg);
			break;
		case 9:
			cfg.cache.neg_ttl_max = (uint32_t)num(optarg);
			break;
		case 10:
			cfg.cache.max_entries = 0;
			break;
		case 11:
			silent = 1;
			break;
		case 12:
			repeat = num(optarg);
			break;
		case 13:
			counters = 1;
			break;
		case 14:
			opt_ttl = 1;
			break;
		case 15:
			opt_policy = 1;
			break;
		case 16:
			max_elapsed = num(optarg);
			break;
		case 17:
			wire = optarg;
			break;
		case 18:
			nthreads = num(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc % 2 != 0)
		usage();
	if (silent) {
		/* The dead server goes first: every query must get past it. */
		struct dns_config tmp = cfg;

		tmp.nns = 0;
		if ((silent_fd = silent_server(&tmp)) == -1) {
			perror("dnsq: silent server");
			return EX_OSERR;
		}
		for (i = 0; i < (int)cfg.nns && tmp.nns < DNS_MAX_NAMESERVERS;
		    i++)
			tmp.ns[tmp.nns++] = cfg.ns[i];
		cfg = tmp;
	}
	if (cfg.nns == 0 &&
	    dns_config_load_resolv_conf(&cfg, NULL) != DNS_OK) {
		fprintf(stderr, "dnsq: no nameserver\n");
		return EX_CONFIG;
	}
	if (wire != NULL)
		return run_wire(&cfg, argv[0], argv[1], wire);
	if ((res = dns_resolver_new(&cfg, &why)) == NULL) {
		fprintf(stderr, "dnsq: %s\n", dns_strerror(why));
		return EX_CONFIG;
	}
	if (deadline > 0) {
		dns_deadline_in(&dl, (unsigned)deadline);
		dlp = &dl;
	}
	start = dns_now_ms();
	if (nthreads > 0) {
		pthread_t th[16];
		struct thread_arg ta[16];
		int bad = 0;

		if (nthreads > 16)
			nthreads = 16;
		for (r = 0; r < nthreads; r++) {
			ta[r].res = res;
			ta[r].argv = argv;
			ta[r].argc = argc;
			ta[r].bad = 0;
			pthread_create(&th[r], NULL, thread_main, &ta[r]);
		}
		for (r = 0; r < nthreads; r++) {
			pthread_join(th[r], NULL);
			bad += ta[r].bad;
		}
		printf("threads %lu: %s\n", nthreads, bad == 0 ? "ok" :
		    "temporary failures");
		rc = bad != 0;
	}
	for (r = 0; r < repeat; r++)
		for (i = 0; i + 1 < argc; i += 2)
			rc |= run_query(res, dlp, argv[i], argv[i + 1]);
	if (max_elapsed > 0) {
		uint64_t took = dns_now_ms() - start;

		if (took <= max_elapsed)
			printf("elapsed: within %lu ms\n", max_elapsed);
		else
			printf("elapsed: %llu ms, over %lu ms\n",
			    (unsigned long long)took, max_elapsed);
	}
	if (counters) {
		dns_resolver_counters(res, &ctr);
		printf("counters: queries=%llu cache_hits=%llu "
		    "cache_misses=%llu timeouts=%llu errors=%llu "
		    "tcp_fallbacks=%llu\n",
		    (unsigned long long)ctr.queries,
		    (unsigned long long)ctr.cache_hits,
		    (unsigned long long)ctr.cache_misses,
		    (unsigned long long)ctr.timeouts,
		    (unsigned long long)ctr.errors,
		    (unsigned long long)ctr.tcp_fallbacks);
	}
	dns_resolver_free(res);
	if (silent_fd != -1)
		close(silent_fd);
	return rc;
}
