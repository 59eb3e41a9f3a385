/*
 * test_dns_resolver.c - the resolver's logic without a network: retries
 * across servers, TCP fallback, CNAME chains that span replies, deadlines,
 * counters, the policy adapter, and nameserver configuration.  Replies
 * come from a table through dns_resolver_set_exchange().
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/mem.h"
#include "dns/lookup_adapter.h"
#include "dns/resolver.h"
#include "tap.h"

enum fake_mode {
	F_REPLY,		/* the reply below */
	F_TIMEOUT,		/* no reply */
	F_NETERR,		/* refused port */
	F_TC,			/* UDP: empty and truncated; TCP: the reply */
	F_WRONGQ		/* a reply to another question */
};

struct fake {
	int		 port;		/* which server; 0: any */
	const char	*name;
	uint16_t	 type;
	enum fake_mode	 mode;
	uint8_t		 rcode;
	const char	*an[18];
	const char	*ns[2];
};

#define SOA "t. 60 IN SOA ns.t. h.t. 1 3600 600 86400 60"

static const struct fake fakes[] = {
	{ 0, "a.t", DNS_TYPE_TXT, F_REPLY, 0, { "a.t. 300 IN CNAME b.u." },
	    { NULL } },
	{ 0, "b.u", DNS_TYPE_TXT, F_REPLY, 0, { "b.u. 100 IN TXT \"x\"" },
	    { NULL } },
	{ 0, "l1.t", DNS_TYPE_TXT, F_REPLY, 0,
	    { "l1.t. 300 IN CNAME l2.u." }, { NULL } },
	{ 0, "l2.u", DNS_TYPE_TXT, F_REPLY, 0,
	    { "l2.u. 300 IN CNAME l1.t." }, { NULL } },
	{ 0, "x0.t", DNS_TYPE_A, F_REPLY, 0, { "x0.t. 9 IN CNAME x1.u." },
	    { NULL } },
	{ 0, "x1.u", DNS_TYPE_A, F_REPLY, 0, { "x1.u. 9 IN CNAME x2.t." },
	    { NULL } },
	{ 0, "x2.t", DNS_TYPE_A, F_REPLY, 0, { "x2.t. 9 IN CNAME x3.u." },
	    { NULL } },
	{ 0, "x3.u", DNS_TYPE_A, F_REPLY, 0, { "x3.u. 9 IN CNAME x4.t." },
	    { NULL } },
	{ 0, "x4.t", DNS_TYPE_A, F_REPLY, 0, { "x4.t. 9 IN CNAME x5.u." },
	    { NULL } },
	{ 0, "x5.u", DNS_TYPE_A, F_REPLY, 0, { "x5.u. 9 IN CNAME x6.t." },
	    { NULL } },
	{ 0, "x6.t", DNS_TYPE_A, F_REPLY, 0, { "x6.t. 9 IN CNAME x7.u." },
	    { NULL } },
	{ 0, "x7.u", DNS_TYPE_A, F_REPLY, 0, { "x7.u. 9 IN CNAME x8.t." },
	    { NULL } },
	{ 0, "x8.t", DNS_TYPE_A, F_REPLY, 0, { "x8.t. 9 IN CNAME x9.u." },
	    { NULL } },
	{ 0, "x9.u", DNS_TYPE_A, F_REPLY, 0, { "x9.u. 9 IN A 192.0.2.9" },
	    { NULL } },
	{ 1001, "sf.t", DNS_TYPE_TXT, F_REPLY, 2, { NULL }, { NULL } },
	{ 1002, "sf.t", DNS_TYPE_TXT, F_REPLY, 0, { "sf.t. 60 IN TXT \"2\"" },
	    { NULL } },
	{ 0, "ref.t", DNS_TYPE_TXT, F_REPLY, 5, { NULL }, { NULL } },
	{ 1001, "wq.t", DNS_TYPE_TXT, F_WRONGQ, 0, { NULL }, { NULL } },
	{ 1002, "wq.t", DNS_TYPE_TXT, F_REPLY, 0, { "wq.t. 60 IN TXT \"2\"" },
	    { NULL } },
	{ 0, "tc.t", DNS_TYPE_TXT, F_TC, 0, { "tc.t. 60 IN TXT \"big\"" },
	    { NULL } },
	{ 1001, "to.t", DNS_TYPE_TXT, F_TIMEOUT, 0, { NULL }, { NULL } },
	{ 1002, "to.t", DNS_TYPE_TXT, F_TIMEOUT, 0, { NULL }, { NULL } },
	{ 1001, "ne.t", DNS_TYPE_TXT, F_NETERR, 0, { NULL }, { NULL } },
	{ 1002, "ne.t", DNS_TYPE_TXT, F_REPLY, 0, { "ne.t. 60 IN TXT \"2\"" },
	    { NULL } },
	{ 0, "nx.t", DNS_TYPE_TXT, F_REPLY, 3, { NULL }, { SOA } },
	{ 0, "nx.t", DNS_TYPE_A, F_REPLY, 3, { NULL }, { SOA } },
	{ 0, "nd.t", DNS_TYPE_TXT, F_REPLY, 0, { NULL }, { SOA } },
	{ 0, "nd.t", DNS_TYPE_A, F_REPLY, 0, { NULL }, { SOA } },
	{ 0, "many.t", DNS_TYPE_TXT, F_REPLY, 0, { "many.t. 60 IN TXT \"1\"",
	    "many.t. 60 IN TXT \"2\"", "many.t. 60 IN TXT \"3\"",
	    "many.t. 60 IN TXT \"4\"", "many.t. 60 IN TXT \"5\"",
	    "many.t. 60 IN TXT \"6\"", "many.t. 60 IN TXT \"7\"",
	    "many.t. 60 IN TXT \"8\"", "many.t. 60 IN TXT \"9\"",
	    "many.t. 60 IN TXT \"10\"", "many.t. 60 IN TXT \"11\"",
	    "many.t. 60 IN TXT \"12\"", "many.t. 60 IN TXT \"13\"",
	    "many.t. 60 IN TXT \"14\"", "many.t. 60 IN TXT \"15\"",
	    "many.t. 60 IN TXT \"16\"", "many.t. 60 IN TXT \"17\"" },
	    { NULL } },
	{ 0, "two.t", DNS_TYPE_TXT, F_REPLY, 0, { "two.t. 60 IN TXT \"a\"",
	    "two.t. 60 IN TXT \"b\" \"c\"" }, { NULL } },
};

/* The calls the fake saw: "PORTu:name" or "PORTt:name", space-separated. */
static char calls[4096];
static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;

static int
server_port(const struct dns_server *srv)
{
	const struct sockaddr_in *sin = (const void *)&srv->addr;

	return ntohs(sin->sin_port);
}

static void
log_call(int port, bool tcp, const char *name)
{
	size_t n;

	pthread_mutex_lock(&calls_lock);
	n = strlen(calls);
	snprintf(calls + n, sizeof(calls) - n, "%s%d%c:%s", n > 0 ? " " : "",
	    port, tcp ? 't' : 'u', name);
	pthread_mutex_unlock(&calls_lock);
}

static enum dns_status
fake_exchange(const struct dns_server *srv, bool tcp, uint8_t *query,
    size_t qlen, uint16_t id, uint64_t until_ms, uint8_t *buf, size_t bufsz,
    size_t *replylen)
{
	ldns_pkt *q = NULL, *r;
	ldns_rr *rr;
	const struct fake *f = NULL;
	char *qname;
	uint16_t qtype;
	uint8_t *wire = NULL;
	size_t i, wlen, len;
	int port = server_port(srv);

	(void)until_ms;
	if (ldns_wire2pkt(&q, query, qlen) != LDNS_STATUS_OK)
		return DNS_ERR_NETWORK;
	rr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	qname = ldns_rdf2str(ldns_rr_owner(rr));
	len = strlen(qname);
	if (len > 1)
		qname[len - 1] = '\0';
	qtype = (uint16_t)ldns_rr_get_type(rr);
	log_call(port, tcp, qname);
	for (i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		if ((fakes[i].port == 0 || fakes[i].port == port) &&
		    fakes[i].type == qtype &&
		    strcmp(fakes[i].name, qname) == 0) {
			f = &fakes[i];
			break;
		}
	}
	free(qname);
	if (f != NULL && f->mode == F_TIMEOUT) {
		ldns_pkt_free(q);
		return DNS_ERR_TIMEOUT;
	}
	if (f != NULL && f->mode == F_NETERR) {
		ldns_pkt_free(q);
		return DNS_ERR_NETWORK;
	}
	r = ldns_pkt_new();
	if (f != NULL && f->mode == F_WRONGQ) {
		ldns_rdf_deep_free(ldns_rr_owner(rr));
		ldns_rr_set_owner(rr, ldns_dname_new_frm_str("other.t"));
	}
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(rr));
	ldns_pkt_set_id(r, id);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_rcode(r, f == NULL ? 5 : f->rcode);
	if (f != NULL && f->mode == F_TC && !tcp) {
		ldns_pkt_set_tc(r, true);
	} else if (f != NULL) {
		for (i = 0; i < 18 && f->an[i] != NULL; i++) {
			ldns_rr_new_frm_str(&rr, f->an[i], 0, NULL, NULL);
			ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
		}
		for (i = 0; i < 2 && f->ns[i] != NULL; i++) {
			ldns_rr_new_frm_str(&rr, f->ns[i], 0, NULL, NULL);
			ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, rr);
		}
	}
	ldns_pkt2wire(&wire, r, &wlen);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	if (wlen > bufsz) {
		free(wire);
		return DNS_ERR_NETWORK;
	}
	memcpy(buf, wire, wlen);
	free(wire);
	*replylen = wlen;
	return DNS_OK;
}

static struct dns_resolver *
new_resolver(int nservers, void (*tweak)(struct dns_config *))
{
	struct dns_config cfg;
	struct dns_resolver *res;
	enum dns_status why;
	char spec[32];
	int i;

	dns_config_init(&cfg);
	for (i = 0; i < nservers; i++) {
		snprintf(spec, sizeof(spec), "127.0.0.1:%d", 1001 + i);
		dns_config_add_nameserver(&cfg, spec);
	}
	if (tweak != NULL)
		tweak(&cfg);
	if ((res = dns_resolver_new(&cfg, &why)) == NULL) {
		printf("Bail out! resolver: %s\n", dns_strerror(why));
		exit(1);
	}
	dns_resolver_set_exchange(res, fake_exchange);
	return res;
}

/* "status[ hops=N][ cached] [txt]..." for one query. */
static const char *
ask(struct dns_resolver *res, const char *name, uint16_t type,
    const struct dns_deadline *dl)
{
	static char buf[512];
	struct dns_answer a;
	size_t i, n;

	calls[0] = '\0';
	dns_query(res, name, type, dl, &a);
	n = (size_t)snprintf(buf, sizeof(buf), "%s", dns_status_name(a.status));
	if (a.cname_hops > 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " hops=%u",
		    a.cname_hops);
	if (a.from_cache)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " cached");
	for (i = 0; i < a.nrr && n < sizeof(buf) - 64; i++) {
		if (a.rr[i].type == DNS_TYPE_TXT)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " [%s]",
			    a.rr[i].u.txt.data);
		else if (a.rr[i].type == DNS_TYPE_A)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " [%s]",
			    inet_ntoa(a.rr[i].u.a));
	}
	dns_answer_clear(&a);
	return buf;
}

static const char *
counters(struct dns_resolver *res)
{
	static char buf[256];
	struct dns_counters c;

	dns_resolver_counters(res, &c);
	snprintf(buf, sizeof(buf), "q=%llu hit=%llu miss=%llu to=%llu err=%llu "
	    "tc=%llu", (unsigned long long)c.queries,
	    (unsigned long long)c.cache_hits,
	    (unsigned long long)c.cache_misses,
	    (unsigned long long)c.timeouts, (unsigned long long)c.errors,
	    (unsigned long long)c.tcp_fallbacks);
	return buf;
}

static void
no_tcp(struct dns_config *cfg)
{
	cfg->tcp_fallback = false;
}

static void
cname9(struct dns_config *cfg)
{
	cfg->limits.max_cname = 9;
}

static void
test_chains(void)
{
	struct dns_resolver *res = new_resolver(1, NULL);
	struct dns_answer a;

	tap_str(ask(res, "a.t", DNS_TYPE_TXT, NULL), "ok hops=1 [x]",
	    "chain: continued in a second query");
	tap_str(calls, "1001u:a.t 1001u:b.u", "chain: the queries sent");
	calls[0] = '\0';
	dns_query(res, "a.t", DNS_TYPE_TXT, NULL, &a);
	tap_ok(a.from_cache && a.ttl <= 100 && a.cname_hops == 1,
	    "chain: cached under the name asked, shortest TTL (%u)",
	    (unsigned)a.ttl);
	dns_answer_clear(&a);
	tap_str(calls, "", "chain: no query for the cached chain");
	tap_str(ask(res, "l1.t", DNS_TYPE_TXT, NULL), "cname-loop hops=2",
	    "chain: loop across replies");
	tap_str(ask(res, "x0.t", DNS_TYPE_A, NULL), "cname-chain hops=8",
	    "chain: 9 hops across replies over the limit of 8");
	tap_str(calls, "1001u:x0.t 1001u:x1.u 1001u:x2.t 1001u:x3.u "
	    "1001u:x4.t 1001u:x5.u 1001u:x6.t 1001u:x7.u 1001u:x8.t",
	    "chain: stopped at the limit");
	dns_resolver_free(res);
	res = new_resolver(1, cname9);
	tap_str(ask(res, "x0.t", DNS_TYPE_A, NULL), "ok hops=9 [192.0.2.9]",
	    "chain: 9 hops with a limit of 9");
	dns_resolver_free(res);
}

static void
test_servers(void)
{
	struct dns_resolver *res = new_resolver(2, NULL);
	struct dns_deadline dl;

	tap_str(ask(res, "sf.t", DNS_TYPE_TXT, NULL), "ok [2]",
	    "servers: SERVFAIL, then the next server");
	tap_str(calls, "1001u:sf.t 1002u:sf.t", "servers: both asked");
	tap_str(ask(res, "ref.t", DNS_TYPE_TXT, NULL), "refused",
	    "servers: REFUSED everywhere is permanent");
	tap_str(calls, "1001u:ref.t 1002u:ref.t 1001u:ref.t 1002u:ref.t",
	    "servers: two rounds over two servers");
	tap_str(ask(res, "wq.t", DNS_TYPE_TXT, NULL), "ok [2]",
	    "servers: a reply to another question is skipped");
	tap_str(ask(res, "ne.t", DNS_TYPE_TXT, NULL), "ok [2]",
	    "servers: network error, then the next server");
	tap_str(ask(res, "to.t", DNS_TYPE_TXT, NULL), "timeout",
	    "servers: timeouts everywhere");
	tap_str(calls, "1001u:to.t 1002u:to.t 1001u:to.t 1002u:to.t",
	    "servers: each server tried each round");
	tap_str(counters(res), "q=14 hit=0 miss=5 to=4 err=7 tc=0",
	    "servers: counters");
	dns_deadline_in(&dl, 0);
	usleep(2000);
	tap_str(ask(res, "nx.t", DNS_TYPE_TXT, &dl), "deadline",
	    "servers: a passed deadline sends nothing");
	tap_str(calls, "", "servers: no query after the deadline");
	dns_resolver_free(res);
}

static void
test_truncation(void)
{
	struct dns_resolver *res = new_resolver(1, NULL);

	tap_str(ask(res, "tc.t", DNS_TYPE_TXT, NULL), "ok [big]",
	    "tc: TCP fallback");
	tap_str(calls, "1001u:tc.t 1001t:tc.t", "tc: same server over TCP");
	tap_str(counters(res), "q=2 hit=0 miss=1 to=0 err=0 tc=1",
	    "tc: counted");
	dns_resolver_free(res);
	res = new_resolver(1, no_tcp);
	tap_str(ask(res, "tc.t", DNS_TYPE_TXT, NULL), "truncated",
	    "tc: fallback disabled");
	dns_resolver_free(res);
}

static void
test_misc(void)
{
	struct dns_resolver *res = new_resolver(0, NULL);

	tap_str(ask(res, "a.t", DNS_TYPE_TXT, NULL), "no-servers",
	    "misc: no nameserver");
	dns_resolver_free(res);
	res = new_resolver(1, NULL);
	tap_str(ask(res, "a\\b.t", DNS_TYPE_TXT, NULL), "badname",
	    "misc: bad name");
	tap_str(ask(res, "a.t", DNS_TYPE_SOA, NULL), "qtype",
	    "misc: unsupported type");
	tap_str(ask(res, "nx.t", DNS_TYPE_TXT, NULL), "nxdomain",
	    "misc: nxdomain");
	tap_str(ask(res, "nx.t", DNS_TYPE_TXT, NULL), "nxdomain cached",
	    "misc: nxdomain cached");
	tap_str(ask(res, "nd.t", DNS_TYPE_TXT, NULL), "nodata",
	    "misc: nodata");
	tap_str(ask(res, "nd.t", DNS_TYPE_TXT, NULL), "nodata cached",
	    "misc: nodata cached");
	tap_str(dns_type_name(DNS_TYPE_AAAA), "AAAA", "misc: type name");
	tap_int(dns_type_from_name("mx"), DNS_TYPE_MX, "misc: type by name");
	tap_int(dns_type_from_name("SOA"), 0, "misc: unknown type name");
	dns_resolver_free(res);
	dns_resolver_free(NULL);
}

static void
test_adapter(void)
{
	static const struct {
		const char *name;
		enum lookup_qtype qtype;
		const char *want;
	} cases[] = {
		{ "two.t", LOOKUP_TXT, "ok a|bc|" },
		{ "nx.t", LOOKUP_TXT, "nxdomain" },
		{ "nd.t", LOOKUP_TXT, "nodata" },
		{ "nx.t", LOOKUP_EXISTS, "nxdomain" },
		{ "nd.t", LOOKUP_EXISTS, "nodata" },
		{ "many.t", LOOKUP_TXT, "permfail too-many-records" },
		{ "to.t", LOOKUP_TXT, "tempfail timeout" },
		/* RFC 7208 5: an RCODE other than 0 or 3 is temporary. */
		{ "ref.t", LOOKUP_TXT, "tempfail refused" },
		{ "l1.t", LOOKUP_TXT, "permfail cname-loop" },
		{ "bad\\name", LOOKUP_TXT, "permfail badname" },
	};
	struct dns_resolver *res = new_resolver(2, NULL);
	struct dns_lookup_ctx ctx;
	struct lookup_answer ans;
	enum lookup_status ls;
	char got[256];
	size_t i, j, n;

	dns_lookup_ctx_init(&ctx, res, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ls = dns_lookup(&ctx, cases[i].name, cases[i].qtype, &ans);
		n = (size_t)snprintf(got, sizeof(got), "%s",
		    lookup_status_name(ls));
		if (ls == LOOKUP_OK) {
			n += (size_t)snprintf(got + n, sizeof(got) - n, " ");
			for (j = 0; j < ans.ntxt; j++)
				n += (size_t)snprintf(got + n, sizeof(got) - n,
				    "%s|", ans.txts[j]);
		} else if (ls != LOOKUP_NXDOMAIN && ls != LOOKUP_NODATA) {
			snprintf(got + n, sizeof(got) - n, " %s",
			    dns_status_name(ctx.last));
		}
		tap_ok(ans.status == ls, "adapter: %s status set",
		    cases[i].name);
		tap_str(got, cases[i].want, "adapter: %s %s", cases[i].name,
		    cases[i].qtype == LOOKUP_TXT ? "txt" : "exists");
		lookup_answer_clear(&ans);
	}
	dns_resolver_free(res);
}

static struct dns_resolver *shared;
static int thread_bad;

static void *
worker(void *arg)
{
	static const char *names[] = { "a.t", "sf.t", "nx.t", "two.t",
	    "tc.t" };
	struct dns_answer a;
	int i;

	(void)arg;
	for (i = 0; i < 500; i++) {
		dns_query(shared, names[i % 5], DNS_TYPE_TXT, NULL, &a);
		if (a.status != (i % 5 == 2 ? DNS_NXDOMAIN : DNS_OK))
			__atomic_add_fetch(&thread_bad, 1, __ATOMIC_RELAXED);
		dns_answer_clear(&a);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t th[4];
	struct dns_counters c;
	int i;

	shared = new_resolver(2, NULL);
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	dns_resolver_counters(shared, &c);
	tap_int(thread_bad, 0, "threads: every answer right");
	tap_int(c.cache_hits + c.cache_misses, 2000,
	    "threads: every query counted once");
	dns_resolver_free(shared);
}

static int
port_of(const struct dns_config *cfg, size_t i)
{
	const struct sockaddr_in *sin = (const void *)&cfg->ns[i].addr;

	return ntohs(sin->sin_port);
}

static void
test_config(void)
{
	static const struct {
		const char *spec;
		int family, port;
	} specs[] = {
		{ "192.0.2.1", AF_INET, 53 },
		{ "192.0.2.1:5300", AF_INET, 5300 },
		{ "2001:db8::1", AF_INET6, 53 },
		{ "::1", AF_INET6, 53 },
		{ "[::1]", AF_INET6, 53 },
		{ "[2001:db8::1]:5353", AF_INET6, 5353 },
		{ "192.0.2.1:0", 0, 0 },
		{ "192.0.2.1:65536", 0, 0 },
		{ "192.0.2.1:", 0, 0 },
		{ "192.0.2.1:53x", 0, 0 },
		{ "ns.example.test", 0, 0 },
		{ "ns.example.test:53", 0, 0 },
		{ "", 0, 0 },
		{ "[::1", 0, 0 },
		{ "[::1]x", 0, 0 },
		{ "[192.0.2.1]:53", AF_INET, 53 },
		{ "300.1.1.1", 0, 0 },
	};
	struct dns_config cfg;
	enum dns_status st;
	char path[] = "/tmp/dmarcd-resolv.XXXXXX";
	FILE *fp;
	size_t i;
	int fd, ok;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		dns_config_init(&cfg);
		st = dns_config_add_nameserver(&cfg, specs[i].spec);
		if (specs[i].family == 0)
			ok = st == DNS_ERR_CONFIG && cfg.nns == 0;
		else
			ok = st == DNS_OK && cfg.nns == 1 &&
			    cfg.ns[0].addr.ss_family == specs[i].family &&
			    port_of(&cfg, 0) == specs[i].port;
		tap_ok(ok, "config: \"%s\"", specs[i].spec);
	}
	dns_config_init(&cfg);
	st = dns_config_set_nameservers(&cfg,
	    " 127.0.0.1:5300, 127.0.0.2 ,[::1]:53,");
	tap_ok(st == DNS_OK && cfg.nns == 3 && port_of(&cfg, 0) == 5300,
	    "config: a list");
	st = dns_config_set_nameservers(&cfg, "1.1.1.1 1.1.1.2 1.1.1.3 "
	    "1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9");
	tap_int(st, DNS_ERR_CONFIG, "config: more than 8 servers");
	tap_int(dns_config_set_nameservers(&cfg, " , "), DNS_ERR_CONFIG,
	    "config: an empty list");

	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fputs("# comment\nsearch example.test\nnameserver 192.0.2.53\n"
	    "nameserver   2001:db8::53 # trailing\n  nameserver fe80::1%lo\n"
	    "nameserver bogus\noptions ndots:2\n", fp);
	fclose(fp);
	dns_config_init(&cfg);
	st = dns_config_load_resolv_conf(&cfg, path);
	tap_ok(st == DNS_OK && cfg.nns == 3 &&
	    cfg.ns[0].addr.ss_family == AF_INET && port_of(&cfg, 0) == 53 &&
	    cfg.ns[1].addr.ss_family == AF_INET6 &&
	    cfg.ns[2].addr.ss_family == AF_INET6,
	    "resolv.conf: three servers (%zu)", cfg.nns);
	fp = fopen(path, "w");
	fputs("search example.test\n", fp);
	fclose(fp);
	dns_config_init(&cfg);
	st = dns_config_load_resolv_conf(&cfg, path);
	tap_ok(st == DNS_OK && cfg.nns == 1 &&
	    ((struct sockaddr_in *)&cfg.ns[0].addr)->sin_addr.s_addr ==
	    htonl(INADDR_LOOPBACK), "resolv.conf: none named, 127.0.0.1");
	unlink(path);
	dns_config_init(&cfg);
	tap_int(dns_config_load_resolv_conf(&cfg, path), DNS_ERR_CONFIG,
	    "resolv.conf: missing file");
	{
		struct dns_resolver *res;
		enum dns_status why;

		dns_config_init(&cfg);
		cfg.timeout_ms = 0;
		res = dns_resolver_new(&cfg, &why);
		tap_ok(res == NULL && why == DNS_ERR_CONFIG,
		    "config: zero timeout refused");
	}
}

static void
test_alloc_failures(void)
{
	struct dns_resolver *res;
	struct dns_answer a;
	enum dns_status why;
	struct dns_config cfg;
	long n;
	int clean = 1, succeeded = 0;

	dns_config_init(&cfg);
	dns_config_add_nameserver(&cfg, "127.0.0.1:1001");
	for (n = 0; n < 60; n++) {
		mem_fail_after(n);
		res = dns_resolver_new(&cfg, &why);
		if (res == NULL) {
			mem_fail_after(-1);
			if (why != DNS_ERR_NOMEM)
				clean = 0;
			continue;
		}
		dns_resolver_set_exchange(res, fake_exchange);
		dns_query(res, "a.t", DNS_TYPE_TXT, NULL, &a);
		if (a.status == DNS_OK)
			succeeded++;
		else if (a.status != DNS_ERR_NOMEM)
			clean = 0;
		dns_answer_clear(&a);
		mem_fail_after(-1);
		dns_resolver_free(res);
	}
	tap_ok(clean, "alloc: every failure is a clean nomem");
	tap_ok(succeeded > 0, "alloc: and the query works once memory does");
}

int
main(void)
{
	test_chains();
	test_servers();
	test_truncation();
	test_misc();
	test_adapter();
	test_threads();
	test_config();
	test_alloc_failures();
	return tap_done();
}
