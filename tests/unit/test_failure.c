/*
 * test_failure.c - report/failure.c: the fo= matrix, ruf and psd=y,
 * ruf addresses, the AFRF report's fields, the loop marker and
 * redaction (never a body).
 */
#include "config.h"

#include <string.h>

#include "common/mem.h"
#include "report/failure.h"
#include "tap.h"

#define P ALIGN_PASS
#define F ALIGN_FAIL

/* One row: fo flags, aligned DKIM/SPF, a DKIM signature result, SPF. */
static const struct fo_case {
	const char *name;
	unsigned fo;
	enum align_status dkim_al, spf_al;
	enum eval_auth_result sig;	/* NONE: no signature */
	enum eval_auth_result spf;
	bool want;
} fo_cases[] = {
	/* fo=0: only when neither produced an aligned pass */
	{ "0 both aligned pass", DMARC_FO_0, P, P, EVAL_AUTH_PASS,
	    EVAL_AUTH_PASS, false },
	{ "0 dkim aligned only", DMARC_FO_0, P, F, EVAL_AUTH_PASS,
	    EVAL_AUTH_FAIL, false },
	{ "0 spf aligned only", DMARC_FO_0, F, P, EVAL_AUTH_FAIL,
	    EVAL_AUTH_PASS, false },
	{ "0 neither aligned", DMARC_FO_0, F, F, EVAL_AUTH_FAIL,
	    EVAL_AUTH_FAIL, true },
	{ "0 neither, no sig", DMARC_FO_0, F, F, EVAL_AUTH_NONE,
	    EVAL_AUTH_NONE, true },
	/* fo=1: when either did not */
	{ "1 both aligned pass", DMARC_FO_1, P, P, EVAL_AUTH_PASS,
	    EVAL_AUTH_PASS, false },
	{ "1 dkim aligned only", DMARC_FO_1, P, F, EVAL_AUTH_PASS,
	    EVAL_AUTH_PASS, true },
	{ "1 spf aligned only", DMARC_FO_1, F, P, EVAL_AUTH_NONE,
	    EVAL_AUTH_PASS, true },
	{ "1 neither aligned", DMARC_FO_1, F, F, EVAL_AUTH_FAIL,
	    EVAL_AUTH_FAIL, true },
	/* fo=d: a signature failed, alignment does not matter */
	{ "d sig fail, dmarc pass", DMARC_FO_D, P, P, EVAL_AUTH_FAIL,
	    EVAL_AUTH_PASS, true },
	{ "d sig permerror", DMARC_FO_D, F, F, EVAL_AUTH_PERMERROR,
	    EVAL_AUTH_FAIL, true },
	{ "d sig pass, unaligned", DMARC_FO_D, F, F, EVAL_AUTH_PASS,
	    EVAL_AUTH_FAIL, false },
	{ "d no signature", DMARC_FO_D, F, F, EVAL_AUTH_NONE,
	    EVAL_AUTH_FAIL, false },
	/* fo=s: SPF failed, alignment does not matter */
	{ "s spf fail, dmarc pass", DMARC_FO_S, P, P, EVAL_AUTH_PASS,
	    EVAL_AUTH_FAIL, true },
	{ "s spf softfail", DMARC_FO_S, F, F, EVAL_AUTH_NONE,
	    EVAL_AUTH_SOFTFAIL, true },
	{ "s spf pass unaligned", DMARC_FO_S, F, F, EVAL_AUTH_FAIL,
	    EVAL_AUTH_PASS, false },
	{ "s spf none", DMARC_FO_S, F, F, EVAL_AUTH_FAIL,
	    EVAL_AUTH_NONE, false },
	/* combinations */
	{ "0:d sig fail, spf aligned", DMARC_FO_0 | DMARC_FO_D, F, P,
	    EVAL_AUTH_FAIL, EVAL_AUTH_PASS, true },
	{ "0:d all pass", DMARC_FO_0 | DMARC_FO_D, P, P, EVAL_AUTH_PASS,
	    EVAL_AUTH_PASS, false },
	{ "d:s spf fail only", DMARC_FO_D | DMARC_FO_S, P, F,
	    EVAL_AUTH_PASS, EVAL_AUTH_FAIL, true },
	{ "d:s nothing failed", DMARC_FO_D | DMARC_FO_S, F, F,
	    EVAL_AUTH_PASS, EVAL_AUTH_PASS, false },
	{ "1:d:s dkim unaligned", DMARC_FO_1 | DMARC_FO_D | DMARC_FO_S, F, P,
	    EVAL_AUTH_PASS, EVAL_AUTH_PASS, true },
	{ "no flags", 0, F, F, EVAL_AUTH_FAIL, EVAL_AUTH_FAIL, false },
};

static char s_hfrom[] = "example.test", s_pd[] = "example.test",
    s_ruf[] = "mailto:ruf@example.test", s_spfd[] = "bounce.other.test",
    s_dom[] = "example.test", s_sel[] = "sel1";

static void
fill(struct evaluate_result *r, struct evaluate_dkim *d,
    const struct fo_case *c)
{
	memset(r, 0, sizeof(*r));
	memset(d, 0, sizeof(*d));
	r->header_from = s_hfrom;
	r->policy_domain = s_pd;
	r->have_policy = true;
	r->p = DMARC_POLICY_REJECT;
	r->ruf = s_ruf;
	r->fo = c->fo;
	r->dkim_aligned = c->dkim_al;
	r->spf_aligned = c->spf_al;
	r->spf_present = true;
	r->spf_result = c->spf;
	r->spf_domain = s_spfd;
	r->result = c->dkim_al == P || c->spf_al == P ? DMARC_RESULT_PASS :
	    DMARC_RESULT_FAIL;
	if (c->sig != EVAL_AUTH_NONE) {
		d->domain = s_dom;
		d->selector = s_sel;
		d->result = c->sig;
		d->aligned = c->dkim_al;
		r->dkim = d;
		r->ndkim = 1;
	}
}

static void
test_fo(void)
{
	struct evaluate_result r;
	struct evaluate_dkim d;
	size_t i;

	for (i = 0; i < sizeof(fo_cases) / sizeof(fo_cases[0]); i++) {
		fill(&r, &d, &fo_cases[i]);
		tap_int(failure_is_due(&r), fo_cases[i].want, "fo %s",
		    fo_cases[i].name);
	}
}

static void
test_ruf(void)
{
	static const struct fo_case c = { "x", DMARC_FO_1, F, F,
	    EVAL_AUTH_FAIL, EVAL_AUTH_FAIL, true };
	struct evaluate_result r;
	struct evaluate_dkim d;
	char *addr[4];
	char list[] = "mailto:a@x.test!10m, mailto:b@y.test,https://no.test/,"
	    "mailto:bad address@z.test,mailto:nodomain";
	size_t n, i;

	fill(&r, &d, &c);
	tap_ok(failure_ruf(&r) != NULL, "ruf: psd=u uses ruf");
	r.psd = DMARC_PSD_N;
	tap_ok(failure_ruf(&r) != NULL, "ruf: psd=n uses ruf");
	r.psd = DMARC_PSD_Y;
	tap_ok(failure_ruf(&r) == NULL, "ruf: psd=y ignores ruf");
	tap_ok(!failure_is_due(&r), "ruf: psd=y no report");
	r.psd = DMARC_PSD_U;
	r.ruf = NULL;
	tap_ok(!failure_is_due(&r), "ruf: none published, no report");
	r.ruf = s_ruf;
	r.have_policy = false;
	tap_ok(!failure_is_due(&r), "ruf: no policy, no report");

	n = failure_ruf_addresses(list, addr, 4);
	tap_int(n, 2, "ruf addresses: mailto only, valid only");
	tap_str(n > 0 ? addr[0] : NULL, "a@x.test", "ruf addresses: !size cut");
	tap_str(n > 1 ? addr[1] : NULL, "b@y.test", "ruf addresses: second");
	for (i = 0; i < n; i++)
		mem_free(addr[i]);
	n = failure_ruf_addresses("mailto:a@x.test,mailto:b@x.test,"
	    "mailto:c@x.test", addr, 2);
	tap_int(n, 2, "ruf addresses: capped at max");
	for (i = 0; i < n; i++)
		mem_free(addr[i]);
}

static void
test_alignment(void)
{
	static const struct {
		enum align_status dkim, spf;
		const char *want;
	} t[] = {
		{ F, F, "dkim,spf" }, { P, F, "spf" }, { F, P, "dkim" },
		{ P, P, "none" },
	};
	struct evaluate_result r;
	size_t i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.dkim_aligned = t[i].dkim;
		r.spf_aligned = t[i].spf;
		tap_str(failure_identity_alignment(&r), t[i].want,
		    "Identity-Alignment %s", t[i].want);
	}
}

static const char *const required[] = {
	"\nSubject: FW: Hello there\n",
	"\nAuto-Submitted: auto-generated\n",
	"\n" FAILURE_MARKER_FIELD ": dmarcd\n",
	"\nContent-Type: multipart/report; report-type=feedback-report;",
	"\nContent-Type: message/feedback-report\n",
	"\nFeedback-Type: auth-failure\n",
	"\nVersion: 1\n",
	"\nUser-Agent: dmarcd/" VERSION "\n",
	"\nAuth-Failure: dmarc\n",
	"\nIdentity-Alignment: dkim,spf\n",
	"\nOriginal-Envelope-Id: 4F2C81A\n",
	"\nOriginal-Mail-From: <bounce@bounce.other.test>\n",
	"\nArrival-Date: Sun, 01 Nov 2026 12:00:00 +0000\n",
	"\nSource-IP: 192.0.2.7\n",
	"\nReported-Domain: example.test\n",
	"\nDKIM-Domain: example.test\n",
	"\nDKIM-Selector: sel1\n",
	"\nSPF-DNS: txt : bounce.other.test\n",
	"\nDelivery-Result: reject\n",
	"\nAuthentication-Results: mx.test;\n\tdmarc=fail header.from="
	    "example.test\n",
	"\nContent-Type: text/rfc822-headers\n",
	"\nFrom: a@example.test\n",
	"\nX-Secret: kept\n",
	"\nTo: ruf@example.test\n",
};

static void
test_build(void)
{
	static const struct fo_case c = { "x", DMARC_FO_1, F, F,
	    EVAL_AUTH_FAIL, EVAL_AUTH_FAIL, true };
	struct evaluate_result r;
	struct evaluate_dkim d;
	struct strbuf hdrs = STRBUF_INIT, out = STRBUF_INIT;
	struct failure_facts f;
	struct failure_envelope env;
	enum failure_status st;
	const char *s, *p3;
	size_t i;

	fill(&r, &d, &c);
	failure_headers_add(&hdrs, "From", " a@example.test");
	failure_headers_add(&hdrs, "Subject", " Hello\r\n there");
	failure_headers_add(&hdrs, "X-Secret", " kept");
	failure_headers_add(&hdrs, "Bcc", " evil\r\nInjected: yes");
	memset(&f, 0, sizeof(f));
	f.queue_id = "4F2C81A";
	f.mail_from = "bounce@bounce.other.test";
	f.arrival = 1793534400;		/* 2026-11-01 12:00:00 UTC */
	f.source_ip = "192.0.2.7";
	f.authres = "mx.test;\r\n\tdmarc=fail header.from=example.test";
	f.delivery_result = "reject";
	f.headers = strbuf_cstr(&hdrs);
	memset(&env, 0, sizeof(env));
	env.from = "noreply-dmarc@mx.test";
	env.to = "ruf@example.test";
	env.authserv_id = "mx.test";
	env.now = 1793534460;
	env.unique = 42;
	st = failure_build(&r, &f, &env, &out);
	tap_int(st, FAILURE_OK, "build: ok");
	s = strbuf_cstr(&out);
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		tap_ok(strstr(s, required[i]) != NULL, "build: has %.*s", (int)
		    strcspn(required[i] + 1, ":;\n"), required[i] + 1);
	tap_ok(strncmp(s, "From: noreply-dmarc@mx.test\n", 28) == 0,
	    "build: From first");
	tap_ok(strstr(s, "\r") == NULL, "build: no CR anywhere");
	tap_ok(strstr(s, "\nInjected: yes") == NULL,
	    "build: folded value cannot inject a field");
	tap_ok(failure_is_report(s), "loop: our report is a report");

	/* Minimal redaction keeps only the listed fields. */
	strbuf_reset(&out);
	f.redact = FAILURE_HEADERS_MINIMAL;
	st = failure_build(&r, &f, &env, &out);
	p3 = strstr(strbuf_cstr(&out), "text/rfc822-headers");
	tap_int(st, FAILURE_OK, "redact minimal: ok");
	tap_ok(p3 != NULL && strstr(p3, "X-Secret") == NULL,
	    "redact minimal: X-Secret dropped");
	tap_ok(p3 != NULL && strstr(p3, "\nFrom: a@example.test") != NULL,
	    "redact minimal: From kept");

	/* Missing facts. */
	strbuf_reset(&out);
	env.to = NULL;
	tap_int(failure_build(&r, &f, &env, &out), FAILURE_ERR_INPUT,
	    "build: no To is an input error");
	strbuf_release(&out);
	strbuf_release(&hdrs);
}

static void
test_loop_and_bounds(void)
{
	struct strbuf h = STRBUF_INIT;
	char *big;
	size_t i;
	bool ok = true;

	tap_ok(!failure_is_report("From: a@b.test\nSubject: hi\n"),
	    "loop: ordinary message is not a report");
	tap_ok(failure_is_report("From: a@b.test\nx-dmarc-failure-report: "
	    "dmarcd\n"), "loop: marker, any case");
	tap_ok(failure_is_report("Content-Type: multipart/report;\n\t"
	    "report-type=feedback-report; boundary=x\n"),
	    "loop: any ARF report (folded Content-Type)");
	tap_ok(!failure_is_report("Content-Type: multipart/report; "
	    "report-type=delivery-status\n"), "loop: a DSN is not");
	tap_ok(!failure_is_report(NULL), "loop: NULL");

	/* Field cut and collection cap. */
	big = mem_alloc(FAILURE_MAX_FIELD * 2 + 1);
	memset(big, 'a', FAILURE_MAX_FIELD * 2);
	big[FAILURE_MAX_FIELD * 2] = '\0';
	failure_headers_add(&h, "X-Big", big);
	tap_ok(strbuf_len(&h) <= FAILURE_MAX_FIELD + 16,
	    "bounds: one field is cut at FAILURE_MAX_FIELD");
	for (i = 0; i < 64 && ok; i++)
		ok = failure_headers_add(&h, "X-Big", big);
	tap_ok(!ok, "bounds: collection stops growing");
	tap_ok(strbuf_len(&h) <= FAILURE_MAX_HEADERS,
	    "bounds: collection within FAILURE_MAX_HEADERS");
	tap_ok(strbuf_len(&h) > 0 && strbuf_cstr(&h)[strbuf_len(&h) - 1]
	    == '\n', "bounds: whole fields only");
	mem_free(big);
	strbuf_release(&h);
}

int
main(void)
{
	test_fo();
	test_ruf();
	test_alignment();
	test_build();
	test_loop_and_bounds();
	return tap_done();
}
