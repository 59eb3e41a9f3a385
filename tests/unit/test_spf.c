/*
 * test_spf.c - auth/spf.c and auth/spf_dns.c with answers from a lookup
 * table: every result, the result mapping (INVALID and errors), the
 * RFC 7208 4.6.4 limits across includes, the null sender, the HELO
 * scope, the deadline, the CVE-2023-42118 screen on every path that
 * compiles text (record, include target, redirect target, explanation),
 * answer-allocation failure (never a NULL to libspf2), allocation
 * failure in our own code, and checks from several threads at once.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/spf.h"
#include "auth/spf_dns.h"
#include "common/addr.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "tap.h"
#include "../spf/suite.h"

static const char zones[] =
"tests:\n"
"  dummy:\n"
"    host: 192.0.2.1\n"
"    helo: x.test\n"
"    mailfrom: x@x.test\n"
"    result: none\n"
"zonedata:\n"
"  pass.test:\n"
"    - TXT: v=spf1 ip4:192.0.2.1 -all\n"
"  fail.test:\n"
"    - TXT: v=spf1 ip4:192.0.2.99 -all exp=why.fail.test\n"
"  why.fail.test:\n"
"    - TXT: '%{i} is not one of %{d}''s hosts'\n"
"  softfail.test:\n"
"    - TXT: v=spf1 ~all\n"
"  neutral.test:\n"
"    - TXT: v=spf1 ?all\n"
"  fallsoff.test:\n"
"    - TXT: v=spf1 ip4:192.0.2.99\n"
"  norecord.test:\n"
"    - TXT: some verification token\n"
"    - A: 192.0.2.1\n"
"  syntax.test:\n"
"    - TXT: v=spf1 ip4:192.0.2.1 -all moo\n"
"  multiple.test:\n"
"    - TXT: v=spf1 -all\n"
"    - TXT: v=spf1 +all\n"
"  temp.test:\n"
"    - TIMEOUT\n"
"  inctemp.test:\n"
"    - TXT: v=spf1 include:temp.test -all\n"
"  incnone.test:\n"
"    - TXT: v=spf1 include:nothing.test -all\n"
"  a.test:\n"
"    - TXT: v=spf1 a -all\n"
"    - A: 192.0.2.1\n"
"  helo.test:\n"
"    - TXT: v=spf1 a -all\n"
"    - A: 192.0.2.7\n"
"  mx.test:\n"
"    - TXT: v=spf1 mx -all\n"
"    - MX: [10, mx1.mx.test]\n"
"    - MX: [20, mx2.mx.test]\n"
"  mx1.mx.test:\n"
"    - A: 192.0.2.30\n"
"  mx2.mx.test:\n"
"    - A: 192.0.2.31\n"
"  loop.test:\n"
"    - TXT: v=spf1 -all\n"
"  ten.test:\n"
"    - TXT: v=spf1 a:n1.test a:n2.test include:i1.test ip4:192.0.2.1 -all\n"
"  eleven.test:\n"
"    - TXT: v=spf1 a:n1.test a:n2.test include:i1.test a:n3.test ip4:192.0.2.1 -all\n"
"  i1.test:\n"
"    - TXT: v=spf1 include:i2.test\n"
"  i2.test:\n"
"    - TXT: v=spf1 a:n4.test a:n5.test a:n6.test a:n7.test a:n8.test a:n9.test\n"
"  n1.test:\n"
"    - A: 192.0.2.200\n"
"  n2.test:\n"
"    - A: 192.0.2.200\n"
"  n3.test:\n"
"    - A: 192.0.2.200\n"
"  n4.test:\n"
"    - A: 192.0.2.200\n"
"  n5.test:\n"
"    - A: 192.0.2.200\n"
"  n6.test:\n"
"    - A: 192.0.2.200\n"
"  n7.test:\n"
"    - A: 192.0.2.200\n"
"  n8.test:\n"
"    - A: 192.0.2.200\n"
"  n9.test:\n"
"    - A: 192.0.2.200\n"
"  void2.test:\n"
"    - TXT: v=spf1 a:gone1.test a:gone2.test ip4:192.0.2.1 -all\n"
"  void3.test:\n"
"    - TXT: v=spf1 a:gone1.test exists:gone2.test mx:gone3.test ip4:192.0.2.1 -all\n"
"  1.2.0.192.in-addr.arpa:\n"
"    - PTR: p1.test\n"
"    - PTR: p2.test\n"
"    - PTR: p3.test\n"
"    - PTR: p4.test\n"
"    - PTR: p5.test\n"
"    - PTR: p6.test\n"
"    - PTR: p7.test\n"
"    - PTR: p8.test\n"
"    - PTR: p9.test\n"
"    - PTR: p10.test\n"
"    - PTR: ptr11.test\n"
"  ptr11.test:\n"
"    - TXT: v=spf1 ptr -all\n"
"    - A: 192.0.2.1\n"
"  redirect.test:\n"
"    - TXT: v=spf1 redirect=pass.test\n"
"  redirall.test:\n"
"    - TXT: v=spf1 redirect=pass.test ~all\n"
"  mapped.test:\n"
"    - TXT: v=spf1 ip4:192.0.2.1 -all\n"
"  loopback.test:\n"
"    - TXT: v=spf1 -all\n"
"  upper.test:\n"
"    - TXT: v=spf1 exists:%{dR}.upper.test -all\n"
"  test.upper.upper.test:\n"
"    - A: 127.0.0.2\n"
"  d2.test:\n"
"    - TXT: v=spf1 exists:%{d2}.zone.test -all\n"
"  d2.test.zone.test:\n"
"    - A: 127.0.0.2\n";

struct spf_case {
	const char	*name;
	const char	*ip;
	const char	*helo;
	const char	*from;		/* NULL: HELO check */
	const char	*result;
	const char	*domain;	/* expected domain, NULL: not checked */
	const char	*reason;	/* substring of the reason, or NULL */
};

static const struct spf_case cases[] = {
	{ "pass", "192.0.2.1", "mx.example.net", "u@pass.test", "pass",
	    "pass.test", "a mechanism matched" },
	{ "fail", "192.0.2.1", "mx.example.net", "u@fail.test", "fail",
	    "fail.test", NULL },
	{ "softfail", "192.0.2.1", "h.test", "u@softfail.test", "softfail",
	    NULL, NULL },
	{ "neutral", "192.0.2.1", "h.test", "u@neutral.test", "neutral",
	    NULL, NULL },
	{ "falls off the end", "192.0.2.1", "h.test", "u@fallsoff.test",
	    "neutral", NULL, "no mechanism matched" },
	{ "none: no record", "192.0.2.1", "h.test", "u@norecord.test", "none",
	    "norecord.test", "no SPF record" },
	{ "none: NXDOMAIN", "192.0.2.1", "h.test", "u@nowhere.test", "none",
	    NULL, "does not exist" },
	{ "none: single label", "192.0.2.1", "h.test", "u@localhost", "none",
	    NULL, "malformed" },
	{ "none: domain literal", "192.0.2.1", "h.test", "u@[192.0.2.1]",
	    "none", NULL, "malformed" },
	{ "none: label over 63", "192.0.2.1", "h.test", "u@"
	    "a123456789012345678901234567890123456789012345678901234567890123"
	    ".test", "none", NULL, "malformed" },
	{ "temperror: timeout", "192.0.2.1", "h.test", "u@temp.test",
	    "temperror", NULL, "timeout" },
	{ "temperror: include times out", "192.0.2.1", "h.test",
	    "u@inctemp.test", "temperror", NULL, NULL },
	{ "permerror: syntax", "192.0.2.1", "h.test", "u@syntax.test",
	    "permerror", NULL, "unknown or malformed term" },
	{ "permerror: multiple records", "192.0.2.1", "h.test",
	    "u@multiple.test", "permerror", NULL, "multiple SPF records" },
	{ "permerror: include of none", "192.0.2.1", "h.test",
	    "u@incnone.test", "permerror", NULL, NULL },
	{ "permerror: CVE record at the top", "192.0.2.1", "h.test",
	    "u@cve.test", "permerror", NULL, "too many macros" },
	{ "permerror: CVE record behind include", "192.0.2.1", "h.test",
	    "u@cveinc.test", "permerror", NULL, "compile safely" },
	{ "permerror: CVE record behind redirect", "192.0.2.1", "h.test",
	    "u@cveredir.test", "permerror", NULL, "compile safely" },
	{ "pass: 10 DNS terms across includes", "192.0.2.1", "h.test",
	    "u@ten.test", "pass", NULL, NULL },
	{ "permerror: 11 DNS terms across includes", "192.0.2.1", "h.test",
	    "u@eleven.test", "permerror", NULL, "more than 10" },
	{ "pass: 2 void lookups", "192.0.2.1", "h.test", "u@void2.test",
	    "pass", NULL, NULL },
	{ "permerror: 3 void lookups", "192.0.2.1", "h.test", "u@void3.test",
	    "permerror", NULL, "void" },
	{ "fail: 11th PTR name ignored", "192.0.2.1", "h.test",
	    "u@ptr11.test", "fail", NULL, NULL },
	{ "pass: mx", "192.0.2.31", "h.test", "u@mx.test", "pass", NULL,
	    NULL },
	{ "pass: redirect", "192.0.2.1", "h.test", "u@redirect.test", "pass",
	    NULL, NULL },
	{ "softfail: redirect ignored with all", "192.0.2.1", "h.test",
	    "u@redirall.test", "softfail", NULL, NULL },
	{ "pass: IPv4-mapped client is IPv4", "::ffff:192.0.2.1", "h.test",
	    "u@mapped.test", "pass", NULL, NULL },
	{ "fail: loopback client is checked, not passed", "127.0.0.1",
	    "h.test", "u@loopback.test", "fail", NULL, NULL },
	{ "pass: R transformer", "192.0.2.1", "h.test", "u@upper.test",
	    "pass", NULL, NULL },
	{ "null sender: postmaster@HELO", "192.0.2.7", "helo.test", "",
	    "pass", "helo.test", NULL },
	{ "null sender: no HELO", "192.0.2.7", "", "", "none", NULL,
	    "no HELO" },
	{ "no local-part", "192.0.2.1", "h.test", "@pass.test", "pass",
	    "pass.test", NULL },
	{ "HELO scope", "192.0.2.7", "helo.test", NULL, "pass", "helo.test",
	    NULL },
	{ "HELO scope: address literal", "192.0.2.7", "[192.0.2.7]", NULL,
	    "none", NULL, "malformed" },
	{ "HELO scope: fail", "192.0.2.8", "helo.test", NULL, "fail", NULL,
	    NULL },
};

/* Counts lookups by type on the way to the table. */
struct counting {
	struct suite_scenario *sc;
	unsigned	 by_type[256];
};

static enum dns_status
counting_query(void *arg, const char *name, uint16_t type,
    const struct dns_deadline *dl, struct dns_answer *out)
{
	struct counting *c = arg;

	c->by_type[type & 0xff]++;
	return suite_query(c->sc, name, type, dl, out);
}

static char *
repeat(const char *prefix, const char *s, size_t n, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_appends(&sb, prefix);
	for (i = 0; i < n; i++)
		strbuf_appends(&sb, s);
	strbuf_appends(&sb, suffix);
	return strbuf_steal(&sb);
}

static void
add_txt(struct suite_scenario *sc, const char *name, const char *txt)
{
	suite_add_txt(sc, name, txt, strlen(txt));
}

/* The CVE-2023-42118 shapes, added to the zones as raw TXT records. */
static void
add_cve_records(struct suite_scenario *sc)
{
	char *s;

	/* 127 macros, then a literal long enough to leave libspf2's 4 KiB
	 * stack buffer once its length check has underflowed. */
	s = repeat("v=spf1 exists:", "%{d}", 127, "");
	{
		char *t = repeat(s, "x", 3500, ".example.com");

		free(s);
		s = t;
	}
	suite_add_txt(sc, "cve.test", s, strlen(s));
	free(s);
	add_txt(sc, "cveinc.test", "v=spf1 include:cvetarget.test -all");
	s = repeat("v=spf1 a:", "ab%-%{d}", 30, ".example.com");
	suite_add_txt(sc, "cvetarget.test", s, strlen(s));
	free(s);
	add_txt(sc, "cveredir.test", "v=spf1 redirect=cvetarget2.test");
	s = repeat("v=spf1 exists:", "%-%-%-%{d}", 30, ".example.com");
	suite_add_txt(sc, "cvetarget2.test", s, strlen(s));
	free(s);
	/* The explanation path: the compiler's buffer is 519 bytes there,
	 * so one literal byte after 127 macros overflows it. */
	add_txt(sc, "cveexp.test", "v=spf1 -all exp=cveexptxt.test");
	s = repeat("", "%{d}", 127, "xxxxxxxxxx");
	suite_add_txt(sc, "cveexptxt.test", s, strlen(s));
	free(s);
}

static void
test_cases(struct spf_engine *e)
{
	struct spf_outcome out;
	struct dns_deadline dl;
	struct addr ip;
	size_t i;

	spf_outcome_init(&out);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct spf_case *c = &cases[i];

		if (addr_parse(c->ip, &ip) != 0) {
			tap_ok(0, "%s: bad ip", c->name);
			continue;
		}
		dns_deadline_in(&dl, 5000);
		if (c->from != NULL)
			spf_check_mailfrom(e, &ip, c->helo, c->from, &dl, &out);
		else
			spf_check_helo(e, &ip, c->helo, &dl, &out);
		tap_str(spf_result_name(out.result), c->result, "%s: result",
		    c->name);
		if (c->domain != NULL)
			tap_str(out.domain, c->domain, "%s: domain", c->name);
		if (c->reason != NULL) {
			tap_ok(out.reason != NULL &&
			    strstr(out.reason, c->reason) != NULL,
			    "%s: reason has \"%s\"", c->name, c->reason);
			if (out.reason != NULL &&
			    strstr(out.reason, c->reason) == NULL)
				tap_diag("reason: %s", out.reason);
		}
		tap_str(spf_scope_name(out.scope),
		    c->from != NULL ? "mfrom" : "helo", "%s: scope", c->name);
	}
	spf_outcome_clear(&out);
}

static void
test_details(struct spf_engine *e, struct counting *cnt)
{
	struct spf_outcome out;
	struct dns_deadline dl;
	struct addr ip;

	spf_outcome_init(&out);
	addr_parse("192.0.2.1", &ip);

	spf_check_mailfrom(e, &ip, "mx.example.net", "", NULL, &out);
	tap_str(out.sender, "postmaster@mx.example.net",
	    "null sender checks postmaster@HELO");
	tap_str(out.domain, "mx.example.net", "null sender domain is HELO");

	spf_check_mailfrom(e, &ip, "h.test", "u@fail.test", NULL, &out);
	tap_str(out.explanation, "192.0.2.1 is not one of fail.test's hosts",
	    "explanation from exp= (spaces survive libspf2)");
	tap_ok(!out.explanation_default, "explanation is not the default");

	spf_check_mailfrom(e, &ip, "h.test", "u@cveexp.test", NULL, &out);
	tap_str(spf_result_name(out.result), "fail",
	    "CVE explanation: still fail, no crash");
	tap_ok(out.explanation_default,
	    "CVE explanation: screened out, default explanation used");
	tap_diag("default explanation: %s", out.explanation);

	spf_check_mailfrom(e, &ip, "h.test", "u@eleven.test", NULL, &out);
	tap_int(out.dns_terms, 11, "11 terms counted across includes");
	spf_check_mailfrom(e, &ip, "h.test", "u@void3.test", NULL, &out);
	tap_int(out.void_lookups, 3, "3 void lookups counted");

	/* libspf2 1.2.10 drops the first character when a transformer
	 * number is not smaller than the number of parts: %{d2} of
	 * "d2.test" gives "2.test".  Pinned here; see the report. */
	spf_check_mailfrom(e, &ip, "h.test", "u@d2.test", NULL, &out);
	tap_str(spf_result_name(out.result), "fail",
	    "libspf2 %%{d2} truncation bug still present (expected fail)");

	/* An expired deadline: temperror, nothing asked. */
	dns_deadline_none(&dl);
	dl.at_ms = 1;
	memset(cnt->by_type, 0, sizeof(cnt->by_type));
	spf_check_mailfrom(e, &ip, "h.test", "u@pass.test", &dl, &out);
	tap_str(spf_result_name(out.result), "temperror",
	    "expired deadline: temperror");
	tap_ok(out.reason != NULL && strstr(out.reason, "deadline") != NULL,
	    "expired deadline: reason says so (%s)",
	    out.reason != NULL ? out.reason : "");

	/* Only TXT for records: the SPF RR type is never asked. */
	memset(cnt->by_type, 0, sizeof(cnt->by_type));
	spf_check_mailfrom(e, &ip, "h.test", "u@a.test", NULL, &out);
	tap_ok(cnt->by_type[99] == 0 && cnt->by_type[DNS_TYPE_TXT] == 1 &&
	    cnt->by_type[DNS_TYPE_A] == 1, "one TXT and one A lookup, no "
	    "type 99 (TXT %u, A %u, SPF %u)", cnt->by_type[DNS_TYPE_TXT],
	    cnt->by_type[DNS_TYPE_A], cnt->by_type[99]);
	spf_outcome_clear(&out);
}

/* Answer allocation fails: the reserve stands in; never NULL. */
static void
test_rr_failure(struct spf_engine *e)
{
	struct spf_outcome out;
	struct addr ip;
	int n;

	spf_outcome_init(&out);
	addr_parse("192.0.2.31", &ip);
	for (n = 0; n < 4; n++) {
		spf_engine_fail_rr_after(e, n);
		spf_check_mailfrom(e, &ip, "h.test", "u@mx.test", NULL, &out);
		tap_str(spf_result_name(out.result),
		    n < 3 ? "temperror" : "pass",
		    "answer allocation fails after %d: %s", n,
		    out.reason != NULL ? out.reason : "");
	}
	spf_engine_fail_rr_after(e, -1);
	spf_check_mailfrom(e, &ip, "h.test", "u@mx.test", NULL, &out);
	tap_str(spf_result_name(out.result), "pass",
	    "answer allocation restored");
	spf_outcome_clear(&out);
}

/* Our own allocations fail one by one: a clean result every time. */
static void
test_alloc_failure(struct spf_engine *e)
{
	struct spf_outcome out;
	struct addr ip;
	long failed;
	int n, bad;

	addr_parse("192.0.2.1", &ip);
	bad = 0;
	for (n = 0; n < 200; n++) {
		spf_outcome_init(&out);
		mem_fail_after(n);
		spf_check_mailfrom(e, &ip, "h.test", "u@eleven.test", NULL,
		    &out);
		failed = mem_fail_after(-1);
		if (out.result != SPF_PERMERROR && out.result != SPF_TEMPERROR)
			bad++;
		spf_outcome_clear(&out);
		if (failed == 0)
			break;
	}
	tap_ok(bad == 0 && n < 200, "allocation failures give permerror or "
	    "temperror (%d steps, %d bad)", n, bad);
}

/*
 * The layer's plain lookup() path, which our get_spf/get_exp hooks make
 * unused, still screens TXT and never returns NULL.
 */
static void
test_layer(struct suite_scenario *sc)
{
	SPF_dns_server_t *dns;
	SPF_dns_rr_t *rr;
	struct counting cnt;

	memset(&cnt, 0, sizeof(cnt));
	cnt.sc = sc;
	dns = spf_dns_new(counting_query, &cnt, NULL);
	if (dns == NULL || spf_dns_begin(dns, NULL, NULL) != 0) {
		tap_ok(0, "layer: new");
		return;
	}
	rr = SPF_dns_lookup(dns, "pass.test", ns_t_txt, 0);
	tap_ok(rr->herrno == NETDB_SUCCESS && rr->num_rr == 1 &&
	    strcmp(rr->rr[0]->txt, "v=spf1 ip4:192.0.2.1 -all") == 0,
	    "layer: TXT record passes the screen");
	SPF_dns_rr_free(rr);
	rr = SPF_dns_lookup(dns, "cve.test", ns_t_txt, 0);
	tap_ok(rr->num_rr == 1 &&
	    strcmp(rr->rr[0]->txt, "v=spf1 screened-by-dmarcd") == 0,
	    "layer: CVE record replaced by a permerror marker");
	SPF_dns_rr_free(rr);
	rr = SPF_dns_lookup(dns, "cveexptxt.test", ns_t_txt, 0);
	tap_ok(rr->herrno == NO_DATA && rr->num_rr == 0,
	    "layer: CVE explanation text left out");
	SPF_dns_rr_free(rr);
	rr = SPF_dns_lookup(dns, "why.fail.test", ns_t_txt, 0);
	tap_ok(rr->num_rr == 1 && strcmp(rr->rr[0]->txt,
	    "%{i} is not one of %{d}'s hosts") == 0,
	    "layer: explanation text kept as is");
	SPF_dns_rr_free(rr);
	memset(cnt.by_type, 0, sizeof(cnt.by_type));
	rr = SPF_dns_lookup(dns, "pass.test", (ns_type)99, 0);
	tap_ok(rr->herrno == NO_DATA && cnt.by_type[99] == 0,
	    "layer: type SPF (99) is NO_DATA without a query");
	SPF_dns_rr_free(rr);
	rr = SPF_dns_lookup(dns, "nowhere.test", ns_t_a, 0);
	tap_ok(rr->herrno == HOST_NOT_FOUND, "layer: NXDOMAIN is "
	    "HOST_NOT_FOUND");
	SPF_dns_rr_free(rr);
	rr = SPF_dns_lookup(dns, "temp.test", ns_t_a, 0);
	tap_ok(rr->herrno == TRY_AGAIN, "layer: timeout is TRY_AGAIN");
	SPF_dns_rr_free(rr);
	spf_dns_begin(dns, NULL, NULL);
	spf_dns_fail_rr_after(dns, 0);
	rr = SPF_dns_lookup(dns, "a.test", ns_t_a, 0);
	tap_ok(rr != NULL && rr->herrno == TRY_AGAIN &&
	    spf_dns_report(dns)->stop == SPF_DNS_STOP_NOMEM,
	    "layer: allocation failure gives a reserve TRY_AGAIN, not NULL");
	SPF_dns_rr_free(rr);
	spf_dns_end(dns);
	SPF_dns_free(dns);
}

struct thread_arg {
	struct spf_engine *e;
	int		 bad;
};

static void *
worker(void *p)
{
	struct thread_arg *a = p;
	struct spf_outcome out;
	struct addr ip;
	int i;

	spf_outcome_init(&out);
	addr_parse("192.0.2.1", &ip);
	for (i = 0; i < 50; i++) {
		spf_check_mailfrom(a->e, &ip, "h.test",
		    i % 2 ? "u@pass.test" : "u@eleven.test", NULL, &out);
		if (out.result != (i % 2 ? SPF_PASS : SPF_PERMERROR))
			a->bad++;
	}
	spf_outcome_clear(&out);
	return NULL;
}

static void
test_threads(struct spf_engine *e)
{
	struct thread_arg a[4];
	pthread_t t[4];
	int i, bad;

	bad = 0;
	for (i = 0; i < 4; i++) {
		a[i].e = e;
		a[i].bad = 0;
		if (pthread_create(&t[i], NULL, worker, &a[i]) != 0)
			bad++;
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	tap_int(bad, 0, "4 threads x 50 checks on one engine");
}

int
main(void)
{
	struct suite suite;
	struct counting cnt;
	struct spf_engine *e;
	struct spf_config cfg;
	int r;

	if (suite_load_buf(zones, sizeof(zones) - 1, &suite, stdout) != 0)
		return tap_skip_all("zones do not load");
	add_cve_records(&suite.sc[0]);
	memset(&cnt, 0, sizeof(cnt));
	cnt.sc = &suite.sc[0];
	spf_config_init(&cfg);
	cfg.receiver = "mx.receiver.test";
	e = spf_engine_new_query(counting_query, &cnt, &cfg);
	if (e == NULL)
		return tap_skip_all("out of memory");

	test_cases(e);
	test_details(e, &cnt);
	test_rr_failure(e);
	test_alloc_failure(e);
	test_threads(e);
	test_layer(&suite.sc[0]);

	for (r = SPF_NONE; r <= SPF_PERMERROR; r++)
		tap_int(spf_result_from_name(spf_result_name(r)), r,
		    "result name %s round-trips", spf_result_name(r));
	tap_int(spf_result_from_name("bogus"), -1, "unknown result name");

	spf_engine_free(e);
	suite_free(&suite);
	return tap_done();
}
