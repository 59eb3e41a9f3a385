/*
 * test_dns_answer.c - the pure reply parser: statuses, CNAME chains,
 * negative TTLs, bounds, record decoding, malformed input and allocation
 * failures.  Replies are built with ldns from zone-file text.
 *
 * With DM_DNS_SEED_DIR set, every reply built here is also written to
 * that directory as a fuzz_dns input (fuzz/corpus/dns was seeded so).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/mem.h"
#include "dns/answer.h"
#include "dns/transport.h"
#include "tap.h"

static int nseeds;

/* Reply for (qname, qtype) with rcode and the given RRs; NULL ends lists. */
static uint8_t *
build(const char *qname, uint16_t qtype, uint8_t rcode, const char *const *an,
    const char *const *ns, size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *rr;
	ldns_rdf *dn;
	uint8_t *wire = NULL, *copy;
	const char *dir;
	char path[512];
	FILE *fp;

	rr = ldns_rr_new();
	dn = ldns_dname_new_frm_str(qname);
	ldns_rr_set_owner(rr, dn);
	ldns_rr_set_type(rr, (ldns_rr_type)qtype);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(rr, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_id(p, 4242);
	ldns_pkt_set_rcode(p, rcode);
	for (; an != NULL && *an != NULL; an++) {
		if (ldns_rr_new_frm_str(&rr, *an, 0, NULL, NULL) !=
		    LDNS_STATUS_OK) {
			fprintf(stderr, "bad test RR: %s\n", *an);
			exit(2);
		}
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (; ns != NULL && *ns != NULL; ns++) {
		if (ldns_rr_new_frm_str(&rr, *ns, 0, NULL, NULL) !=
		    LDNS_STATUS_OK) {
			fprintf(stderr, "bad test RR: %s\n", *ns);
			exit(2);
		}
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	if (ldns_pkt2wire(&wire, p, len) != LDNS_STATUS_OK)
		exit(2);
	ldns_pkt_free(p);
	copy = malloc(*len);
	memcpy(copy, wire, *len);
	free(wire);
	if ((dir = getenv("DM_DNS_SEED_DIR")) != NULL) {
		/* fuzz_dns.c: a byte choosing the query type, then the reply */
		static const uint16_t sel[] = { DNS_TYPE_TXT, DNS_TYPE_A,
		    DNS_TYPE_AAAA, DNS_TYPE_MX, DNS_TYPE_PTR, DNS_TYPE_CNAME };
		int k;

		for (k = 0; k < 5 && sel[k] != qtype; k++)
			;
		snprintf(path, sizeof(path), "%s/unit-%03d.seed", dir,
		    nseeds++);
		if ((fp = fopen(path, "wb")) != NULL) {
			fputc(k, fp);
			fwrite(copy, 1, *len, fp);
			fclose(fp);
		}
	}
	return copy;
}

/* Describe an answer in one line, as the cases below expect it. */
static const char *
describe(const struct dns_answer *a)
{
	static char buf[4096];
	char addr[INET6_ADDRSTRLEN];
	size_t i, n;

	n = (size_t)snprintf(buf, sizeof(buf), "%s",
	    dns_status_name(a->status));
	if (a->has_ttl)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " ttl=%u",
		    (unsigned)a->ttl);
	if (a->cname_hops > 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " hops=%u",
		    a->cname_hops);
	if (a->cname_target != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " next=%s",
		    a->cname_target);
	for (i = 0; i < a->nrr && n < sizeof(buf) - 100; i++) {
		const struct dns_rr *rr = &a->rr[i];

		switch (rr->type) {
		case DNS_TYPE_TXT:
			if (rr->u.txt.len > 64)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				    " [len=%zu/%zu]", rr->u.txt.len,
				    rr->u.txt.nstrings);
			else
				n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				    " [%s/%zu]", rr->u.txt.data,
				    rr->u.txt.nstrings);
			break;
		case DNS_TYPE_A:
			inet_ntop(AF_INET, &rr->u.a, addr, sizeof(addr));
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " [%s]",
			    addr);
			break;
		case DNS_TYPE_AAAA:
			inet_ntop(AF_INET6, &rr->u.aaaa, addr, sizeof(addr));
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " [%s]",
			    addr);
			break;
		case DNS_TYPE_MX:
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    " [%u %s]", rr->u.mx.pref, rr->u.mx.host);
			break;
		default:
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " [%s]",
			    rr->u.name);
			break;
		}
	}
	return buf;
}

#define SOA_T "t. 3600 IN SOA ns.t. host.t. 1 3600 600 86400 300"
#define SOA_LOW "t. 60 IN SOA ns.t. host.t. 1 3600 600 86400 300"

struct pcase {
	const char *name;
	const char *qname;
	uint16_t qtype;
	uint8_t rcode;
	const char *an[12];
	const char *ns[3];
	const char *want;
};

static const struct pcase cases[] = {
	{ "txt single", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN TXT \"v=DMARC1; p=none\"" }, { NULL },
	    "ok ttl=300 [v=DMARC1; p=none/1]" },
	{ "txt multi-string joined", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN TXT \"v=spf1 \" \"ip4:192.0.2.0/24\" \" -all\"" },
	    { NULL }, "ok ttl=300 [v=spf1 ip4:192.0.2.0/24 -all/3]" },
	{ "txt several, min ttl", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN TXT \"one\"", "a.t. 200 IN TXT \"two\"" },
	    { NULL }, "ok ttl=200 [one/1] [two/1]" },
	{ "txt empty string", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN TXT \"\"" }, { NULL }, "ok ttl=300 [/1]" },
	{ "owner case folded", "a.t", DNS_TYPE_TXT, 0,
	    { "A.T. 300 IN TXT \"x\"" }, { NULL }, "ok ttl=300 [x/1]" },
	{ "other owners ignored", "a.t", DNS_TYPE_TXT, 0,
	    { "b.t. 300 IN TXT \"no\"", "a.t. 300 IN TXT \"yes\"",
	    "a.t. 300 IN A 192.0.2.1" }, { NULL }, "ok ttl=300 [yes/1]" },
	{ "nxdomain ttl from soa minimum", "a.t", DNS_TYPE_TXT, 3, { NULL },
	    { SOA_T }, "nxdomain ttl=300" },
	{ "nodata ttl from soa ttl", "a.t", DNS_TYPE_TXT, 0, { NULL },
	    { SOA_LOW }, "nodata ttl=60" },
	{ "nodata without soa", "a.t", DNS_TYPE_TXT, 0, { NULL }, { NULL },
	    "nodata" },
	{ "soa of another zone ignored", "a.t", DNS_TYPE_TXT, 3, { NULL },
	    { "u. 3600 IN SOA ns.u. host.u. 1 3600 600 86400 5" },
	    "nxdomain" },
	{ "cname chain in packet", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 100 IN CNAME b.t.", "b.t. 300 IN CNAME c.t.",
	    "c.t. 300 IN TXT \"end\"" }, { NULL },
	    "ok ttl=100 hops=2 [end/1]" },
	{ "cname chain, records first", "a.t", DNS_TYPE_TXT, 0,
	    { "c.t. 300 IN TXT \"end\"", "b.t. 300 IN CNAME c.t.",
	    "a.t. 300 IN CNAME b.t." }, { NULL }, "ok ttl=300 hops=2 [end/1]" },
	{ "cname to nxdomain (RFC 6604)", "a.t", DNS_TYPE_TXT, 3,
	    { "a.t. 300 IN CNAME gone.t." }, { SOA_T },
	    "nxdomain ttl=300 hops=1" },
	{ "cname to nodata", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 30 IN CNAME b.t." }, { SOA_T }, "nodata ttl=30 hops=1" },
	{ "cname leaves the packet", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN CNAME elsewhere.u." }, { NULL },
	    "ok ttl=300 hops=1 next=elsewhere.u" },
	{ "cname loop", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN CNAME b.t.", "b.t. 300 IN CNAME a.t." }, { NULL },
	    "cname-loop hops=1" },
	{ "cname self loop", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 IN CNAME A.T." }, { NULL }, "cname-loop" },
	{ "cname chain of 8 allowed", "c0.t", DNS_TYPE_A, 0,
	    { "c0.t. 1 IN CNAME c1.t.", "c1.t. 1 IN CNAME c2.t.",
	    "c2.t. 1 IN CNAME c3.t.", "c3.t. 1 IN CNAME c4.t.",
	    "c4.t. 1 IN CNAME c5.t.", "c5.t. 1 IN CNAME c6.t.",
	    "c6.t. 1 IN CNAME c7.t.", "c7.t. 1 IN CNAME c8.t.",
	    "c8.t. 1 IN A 192.0.2.8" }, { NULL },
	    "ok ttl=1 hops=8 [192.0.2.8]" },
	{ "cname chain of 9 refused", "c0.t", DNS_TYPE_A, 0,
	    { "c0.t. 1 IN CNAME c1.t.", "c1.t. 1 IN CNAME c2.t.",
	    "c2.t. 1 IN CNAME c3.t.", "c3.t. 1 IN CNAME c4.t.",
	    "c4.t. 1 IN CNAME c5.t.", "c5.t. 1 IN CNAME c6.t.",
	    "c6.t. 1 IN CNAME c7.t.", "c7.t. 1 IN CNAME c8.t.",
	    "c8.t. 1 IN CNAME c9.t.", "c9.t. 1 IN A 192.0.2.9" }, { NULL },
	    "cname-chain hops=8" },
	{ "asking for the cname itself", "a.t", DNS_TYPE_CNAME, 0,
	    { "a.t. 300 IN CNAME b.t." }, { NULL }, "ok ttl=300 [b.t]" },
	{ "a records", "h.t", DNS_TYPE_A, 0,
	    { "h.t. 60 IN A 192.0.2.1", "h.t. 60 IN A 192.0.2.2" }, { NULL },
	    "ok ttl=60 [192.0.2.1] [192.0.2.2]" },
	{ "aaaa record", "h.t", DNS_TYPE_AAAA, 0,
	    { "h.t. 60 IN AAAA 2001:db8::1" }, { NULL },
	    "ok ttl=60 [2001:db8::1]" },
	{ "mx records", "t", DNS_TYPE_MX, 0,
	    { "t. 60 IN MX 10 mx1.t.", "t. 60 IN MX 20 MX2.t." }, { NULL },
	    "ok ttl=60 [10 mx1.t] [20 MX2.t]" },
	{ "null mx (RFC 7505)", "t", DNS_TYPE_MX, 0, { "t. 60 IN MX 0 ." },
	    { NULL }, "ok ttl=60 [0 .]" },
	{ "ptr record", "1.2.0.192.in-addr.arpa", DNS_TYPE_PTR, 0,
	    { "1.2.0.192.in-addr.arpa. 60 IN PTR mail.t." }, { NULL },
	    "ok ttl=60 [mail.t]" },
	{ "servfail", "a.t", DNS_TYPE_TXT, 2, { NULL }, { NULL }, "servfail" },
	{ "refused", "a.t", DNS_TYPE_TXT, 5, { NULL }, { NULL }, "refused" },
	{ "formerr", "a.t", DNS_TYPE_TXT, 1, { NULL }, { NULL }, "refused" },
	{ "records of another class ignored", "a.t", DNS_TYPE_TXT, 0,
	    { "a.t. 300 CH TXT \"chaos\"" }, { SOA_T }, "nodata ttl=300" },
};

static void
test_cases(void)
{
	struct dns_limits lim;
	struct dns_answer a;
	uint8_t *wire;
	size_t i, len;

	dns_limits_default(&lim);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];

		wire = build(c->qname, c->qtype, c->rcode, c->an, c->ns, &len);
		dns_answer_parse(wire, len, c->qname, c->qtype, &lim, &a);
		tap_str(describe(&a), c->want, "parse: %s", c->name);
		dns_answer_clear(&a);
		free(wire);
	}
}

/* A TXT RR text with total bytes split into 255-byte strings. */
static char *
long_txt(const char *owner, size_t total)
{
	size_t cap = total * 2 + 256, n, chunk;
	char *s = malloc(cap);

	n = (size_t)snprintf(s, cap, "%s 300 IN TXT", owner);
	while (total > 0) {
		chunk = total > 255 ? 255 : total;
		s[n++] = ' ';
		s[n++] = '"';
		memset(s + n, 'x', chunk);
		n += chunk;
		s[n++] = '"';
		total -= chunk;
	}
	s[n] = '\0';
	return s;
}

static void
test_bounds(void)
{
	struct dns_limits lim;
	struct dns_answer a;
	const char *an[20];
	char *big, *rrs[17];
	uint8_t *wire;
	size_t len, i;

	dns_limits_default(&lim);
	big = long_txt("a.t.", lim.max_txt_len);
	an[0] = big;
	an[1] = NULL;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(describe(&a), "ok ttl=300 [len=8192/33]",
	    "bounds: TXT of exactly max_txt_len accepted");
	dns_answer_clear(&a);
	free(wire);
	free(big);

	big = long_txt("a.t.", lim.max_txt_len + 1);
	an[0] = big;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(describe(&a), "txt-too-long",
	    "bounds: TXT over max_txt_len refused");
	tap_int(a.nrr, 0, "bounds: no partial records on error");
	dns_answer_clear(&a);
	free(wire);
	free(big);

	/* Total bytes across records. */
	lim.max_txt_total = 1000;
	for (i = 0; i < 3; i++)
		an[i] = rrs[i] = long_txt("a.t.", 400);
	an[3] = NULL;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(describe(&a), "answer-too-big",
	    "bounds: TXT data over max_txt_total refused");
	dns_answer_clear(&a);
	free(wire);
	an[2] = NULL;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(describe(&a), "ok ttl=300 [len=400/2] [len=400/2]",
	    "bounds: TXT data under max_txt_total accepted");
	dns_answer_clear(&a);
	free(wire);
	for (i = 0; i < 3; i++)
		free(rrs[i]);

	/* Number of records. */
	dns_limits_default(&lim);
	lim.max_records = 16;
	for (i = 0; i < 17; i++) {
		rrs[i] = malloc(64);
		snprintf(rrs[i], 64, "a.t. 300 IN TXT \"r%zu\"", i);
		an[i] = rrs[i];
	}
	an[17] = NULL;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(describe(&a), "too-many-records",
	    "bounds: 17 records over a limit of 16");
	dns_answer_clear(&a);
	free(wire);
	an[16] = NULL;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_int(a.nrr, 16, "bounds: 16 records at a limit of 16");
	dns_answer_clear(&a);
	free(wire);
	for (i = 0; i < 17; i++)
		free(rrs[i]);

	/* A chain limit of 0 refuses any CNAME. */
	lim.max_cname = 0;
	an[0] = "a.t. 300 IN CNAME b.t.";
	an[1] = "b.t. 300 IN TXT \"x\"";
	an[2] = NULL;
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(describe(&a), "cname-chain", "bounds: max_cname 0");
	dns_answer_clear(&a);
	free(wire);
}

static void
test_malformed(void)
{
	static const char *an[] = { "a.t. 300 IN TXT \"x\"", NULL };
	struct dns_limits lim;
	struct dns_answer a;
	uint8_t *wire, junk[64];
	size_t len, cut;
	int ok = 1;

	dns_limits_default(&lim);
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "b.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(dns_status_name(a.status), "malformed",
	    "malformed: question for another name");
	dns_answer_clear(&a);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_A, &lim, &a);
	tap_str(dns_status_name(a.status), "malformed",
	    "malformed: question for another type");
	dns_answer_clear(&a);
	wire[2] &= 0x7f;	/* QR = 0: a query, not a reply */
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(dns_status_name(a.status), "malformed",
	    "malformed: QR bit clear");
	dns_answer_clear(&a);
	wire[2] |= 0x80;
	for (cut = 0; cut < len; cut++) {
		dns_answer_parse(wire, cut, "a.t", DNS_TYPE_TXT, &lim, &a);
		if (a.status != DNS_ERR_MALFORMED)
			ok = 0;
		dns_answer_clear(&a);
	}
	tap_ok(ok, "malformed: every truncation of a reply is malformed");
	free(wire);
	memset(junk, 0xff, sizeof(junk));
	dns_answer_parse(junk, sizeof(junk), "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(dns_status_name(a.status), "malformed", "malformed: junk");
	dns_answer_clear(&a);
	dns_answer_parse(NULL, 0, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(dns_status_name(a.status), "malformed", "malformed: empty");
	dns_answer_clear(&a);
	dns_answer_parse(junk, sizeof(junk), "bad\tname", DNS_TYPE_TXT, &lim,
	    &a);
	tap_str(dns_status_name(a.status), "badname",
	    "malformed: bad query name");
	dns_answer_clear(&a);

	/* Our own query parses, but is not an answer. */
	wire = dns_query_wire_new("a.t", DNS_TYPE_TXT, 1232, &len);
	tap_ok(wire != NULL && len > 12, "query: built (%zu bytes)", len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_str(dns_status_name(a.status), "malformed",
	    "query: a query is not a reply");
	dns_answer_clear(&a);
	tap_ok(!dns_wire_is_truncated(wire, len), "query: TC clear");
	mem_free(wire);
}

static void
test_embedded_nul(void)
{
	static const char *an[] = { "a.t. 300 IN TXT \"ab\\000cd\"", NULL };
	struct dns_limits lim;
	struct dns_answer a;
	uint8_t *wire;
	size_t len;

	dns_limits_default(&lim);
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
	tap_ok(a.status == DNS_OK && a.nrr == 1 && a.rr[0].u.txt.len == 5 &&
	    memcmp(a.rr[0].u.txt.data, "ab\0cd", 6) == 0,
	    "txt: embedded NUL kept, length exact");
	dns_answer_clear(&a);
	free(wire);
}

static void
test_copy(void)
{
	static const char *an[] = { "t. 60 IN MX 10 mx1.t.",
	    "t. 60 IN MX 20 mx2.t.", NULL };
	struct dns_limits lim;
	struct dns_answer a, b;
	uint8_t *wire;
	size_t len;
	char want[256];

	dns_limits_default(&lim);
	wire = build("t", DNS_TYPE_MX, 0, an, NULL, &len);
	dns_answer_parse(wire, len, "t", DNS_TYPE_MX, &lim, &a);
	snprintf(want, sizeof(want), "%s", describe(&a));
	tap_int(dns_answer_copy(&b, &a), DNS_OK, "copy: succeeds");
	dns_answer_clear(&a);
	tap_str(describe(&b), want, "copy: deep and equal");
	dns_answer_clear(&b);
	free(wire);
}

static void
test_alloc_failures(void)
{
	static const char *an[] = { "a.t. 100 IN CNAME b.t.",
	    "b.t. 300 IN TXT \"one\" \"two\"", "b.t. 300 IN TXT \"three\"",
	    "b.t. 300 IN TXT \"four\"", "b.t. 300 IN TXT \"five\"",
	    "b.t. 300 IN TXT \"six\"", NULL };
	static const char *mx[] = { "t. 60 IN MX 10 mx1.t.",
	    "t. 60 IN MX 20 mx2.t.", NULL };
	struct dns_limits lim;
	struct dns_answer a, b;
	uint8_t *wire, *wmx;
	size_t len, lmx;
	long n;
	int good = 1, nomem = 0;

	dns_limits_default(&lim);
	wire = build("a.t", DNS_TYPE_TXT, 0, an, NULL, &len);
	wmx = build("t", DNS_TYPE_MX, 0, mx, NULL, &lmx);
	for (n = 0; n < 40; n++) {
		mem_fail_after(n);
		dns_answer_parse(wire, len, "a.t", DNS_TYPE_TXT, &lim, &a);
		if (a.status == DNS_ERR_NOMEM)
			nomem++;
		else if (a.status != DNS_OK || a.nrr != 5)
			good = 0;
		mem_fail_after(n);
		if (dns_answer_copy(&b, &a) == DNS_OK && b.nrr != a.nrr)
			good = 0;
		mem_fail_after(-1);
		dns_answer_clear(&b);
		dns_answer_clear(&a);
		mem_fail_after(n);
		dns_answer_parse(wmx, lmx, "t", DNS_TYPE_MX, &lim, &a);
		if (a.status != DNS_OK && a.status != DNS_ERR_NOMEM)
			good = 0;
		mem_fail_after(-1);
		dns_answer_clear(&a);
	}
	tap_ok(nomem > 0, "alloc: failures reported as nomem (%d)", nomem);
	tap_ok(good, "alloc: otherwise complete answers");
	free(wire);
	free(wmx);
}

static void
test_names(void)
{
	static const struct {
		const char *in, *want;
	} names[] = {
		{ "Example.TEST", "example.test" },
		{ "example.test.", "example.test" },
		{ "_dmarc.example.test", "_dmarc.example.test" },
		{ "", NULL },
		{ ".", NULL },
		{ "a..b", NULL },
		{ ".a", NULL },
		/* SPF's %_ macro makes spaces (RFC 7208 section 7.3). */
		{ "a B.test", "a b.test" },
		{ "a\\.b.test", NULL },
		{ "a\"b.test", NULL },
		{ "a\tb", NULL },
		{ "caf\xc3\xa9.test", NULL },
	};
	char buf[256], label[80], longname[300];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum dns_status st = dns_name_normalize(names[i].in, buf,
		    sizeof(buf));

		tap_str(st == DNS_OK ? buf : NULL, names[i].want,
		    "name: \"%s\"", names[i].in);
	}
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(longname, sizeof(longname), "%s.test", label);
	tap_int(dns_name_normalize(longname, buf, sizeof(buf)), DNS_OK,
	    "name: 63-byte label");
	label[63] = 'a';
	label[64] = '\0';
	snprintf(longname, sizeof(longname), "%s.test", label);
	tap_int(dns_name_normalize(longname, buf, sizeof(buf)),
	    DNS_ERR_BADNAME, "name: 64-byte label");
	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	tap_int(dns_name_normalize(longname, buf, sizeof(buf)), DNS_OK,
	    "name: 253 bytes");
	longname[253] = 'a';
	longname[254] = '\0';
	tap_int(dns_name_normalize(longname, buf, sizeof(buf)),
	    DNS_ERR_BADNAME, "name: 254 bytes");
}

static void
test_strerror(void)
{
	int st, ok = 1;

	for (st = DNS_OK; st <= DNS_ERR_CONFIG; st++)
		if (strcmp(dns_status_name((enum dns_status)st), "unknown") ==
		    0 || strcmp(dns_strerror((enum dns_status)st),
		    "unknown DNS status") == 0)
			ok = 0;
	tap_ok(ok, "strerror: every status has a name and a text");
	tap_str(dns_strerror((enum dns_status)999), "unknown DNS status",
	    "strerror: out of range");
	tap_ok(dns_status_is_temporary(DNS_ERR_TIMEOUT) &&
	    dns_status_is_temporary(DNS_ERR_SERVFAIL) &&
	    dns_status_is_temporary(DNS_ERR_REFUSED) &&
	    !dns_status_is_temporary(DNS_ERR_TOO_BIG) &&
	    !dns_status_is_temporary(DNS_NXDOMAIN),
	    "strerror: temporary and permanent split");
}

int
main(void)
{
	test_cases();
	test_bounds();
	test_malformed();
	test_embedded_nul();
	test_copy();
	test_alloc_failures();
	test_names();
	test_strerror();
	return tap_done();
}
