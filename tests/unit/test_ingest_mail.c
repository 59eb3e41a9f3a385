/*
 * test_ingest_mail.c - the e-mail side of ingest/: the MIME walker
 * (mime.c), failure reports (afrf.c), RFC 5322 dates and mbox splitting
 * (mbox.c), table-driven.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"
#include "tests/unit/tap.h"

/* A failure report in the RFC 6591 layout; %s: the feedback fields. */
#define AFRF_HEAD "From: DMARC reporter <dmarc@reporter.example>\r\n" \
	"Subject: failure\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/report; report-type=feedback-report;\r\n" \
	"    boundary=\"BB\"\r\n\r\npreamble\r\n--BB\r\n" \
	"Content-Type: text/plain\r\n\r\nhuman text\r\n--BB\r\n" \
	"Content-Type: message/feedback-report\r\n\r\n"
#define AFRF_ORIG "\r\n--BB\r\nContent-Type: text/rfc822-headers\r\n\r\n" \
	"From: Someone <someone@Example.COM>\r\nSubject: hello\r\n" \
	"  world\r\nMessage-ID: <m1@example.com>\r\n\r\n--BB--\r\n"
#define FIELDS "Feedback-Type: auth-failure\r\nVersion: 1\r\n" \
	"User-Agent: test/1.0\r\nAuth-Failure: dmarc\r\n" \
	"Reported-Domain: Example.COM.\r\nSource-IP: 192.0.2.7\r\n" \
	"Arrival-Date: Thu, 29 Apr 2015 23:34:45 +0900\r\n" \
	"Original-Rcpt-To: a@example.net\r\nOriginal-Rcpt-To: b@example.net\r\n" \
	"DKIM-Domain: example.com\r\nDKIM-Selector: s1\r\n" \
	"Identity-Alignment: none\r\n"

struct fcase {
	const char *name, *msg;
	enum ingest_status want;
	const char *reason;		/* substring of err */
	const char *domain, *ip, *rcpt, *from, *subject, *reporter;
	long	 arrival;
};

static const struct fcase fcases[] = {
	{ "RFC 6591 layout", AFRF_HEAD FIELDS AFRF_ORIG, INGEST_OK, NULL,
	  "example.com", "192.0.2.7", "a@example.net, b@example.net",
	  "example.com", "hello world", "dmarc@reporter.example",
	  1430318085 },
	{ "no feedback part: not a failure report",
	  "From: a@b\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
	  INGEST_ERR_CONTENT, "", NULL, NULL, NULL, NULL, NULL, NULL, 0 },
	{ "abuse report refused",
	  AFRF_HEAD "Feedback-Type: abuse\r\nReported-Domain: x.test\r\n"
	  AFRF_ORIG, INGEST_ERR_CONTENT, "\"abuse\", not auth-failure",
	  NULL, NULL, NULL, NULL, NULL, NULL, 0 },
	{ "no Reported-Domain: the original From",
	  AFRF_HEAD "Feedback-Type: auth-failure\r\nSource-IP: 192.0.2.8\r\n"
	  AFRF_ORIG, INGEST_OK, NULL, "example.com", "192.0.2.8", "",
	  "example.com", "hello world", "dmarc@reporter.example", 0 },
	{ "no Reported-Domain, no original",
	  AFRF_HEAD "Feedback-Type: auth-failure\r\n\r\n--BB--\r\n",
	  INGEST_ERR_CONTENT, "without Reported-Domain", NULL, NULL, NULL,
	  NULL, NULL, NULL, 0 },
	{ "base64 feedback part, LF lines, multipart/mixed",
	  "From: abuse@163.example\nContent-Type: multipart/mixed; "
	  "boundary=x\n\n--x\nContent-Type: message/feedback-report\n"
	  "Content-Transfer-Encoding: base64\n\n"
	  /* Feedback-Type: auth-failure\r\nReported-Domain: d.example\r\n */
	  "RmVlZGJhY2stVHlwZTogYXV0aC1mYWlsdXJlDQpSZXBvcnRlZC1Eb21haW46IGQu\n"
	  "ZXhhbXBsZQ0K\n--x\nContent-Type: message/rfc822\n\n"
	  "From: <x@d.example>\nSubject: s\n\nbody\n--x--\n", INGEST_OK, NULL,
	  "d.example", "", "", "d.example", "s", "abuse@163.example", 0 },
	{ "RFC 2047 Subject decoded, folded over two words",
	  AFRF_HEAD FIELDS "\r\n--BB\r\nContent-Type: text/rfc822-headers"
	  "\r\n\r\nFrom: <x@example.com>\r\nSubject: Re: "
	  "=?UTF-8?B?R3LDvMOf?=\r\n =?iso-8859-1?Q?e_=80?=\r\n\r\n--BB--\r\n",
	  INGEST_OK, NULL, "example.com", "192.0.2.7",
	  "a@example.net, b@example.net", "example.com",
	  "Re: Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac", "dmarc@reporter.example",
	  1430318085 },
	{ "MIME nested too deep",
	  "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	  "Content-Type: multipart/mixed; boundary=c\n\n--c\n"
	  "Content-Type: multipart/mixed; boundary=d\n\n--d\n"
	  "Content-Type: multipart/mixed; boundary=e\n\n--e\n"
	  "Content-Type: multipart/mixed; boundary=f\n\n--f\n"
	  "Content-Type: multipart/mixed; boundary=g\n\n--g\n"
	  "Content-Type: multipart/mixed; boundary=h\n\n--h\n"
	  "Content-Type: multipart/mixed; boundary=i\n\n--i\n"
	  "Content-Type: text/plain\n\nx\n", INGEST_ERR_LIMIT,
	  "nested deeper than 8", NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

static void
failure_cases(void)
{
	struct strbuf err = STRBUF_INIT;
	struct ingest_failure *f, *g;
	enum ingest_status s;
	size_t i;

	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *t = &fcases[i];

		strbuf_reset(&err);
		s = ingest_failure_parse(t->msg, strlen(t->msg), &f, &err);
		tap_int(s, t->want, "%s: status (%s)", t->name,
		    strbuf_cstr(&err));
		if (t->reason != NULL && t->reason[0] != '\0')
			tap_ok(strstr(strbuf_cstr(&err), t->reason) != NULL,
			    "%s: reason \"%s\" in \"%s\"", t->name, t->reason,
			    strbuf_cstr(&err));
		else if (t->reason != NULL)
			tap_str(strbuf_cstr(&err), "", "%s: no reason: try "
			    "an aggregate report", t->name);
		if (s != INGEST_OK) {
			tap_ok(f == NULL, "%s: no report", t->name);
			continue;
		}
		tap_str(f->reported_domain, t->domain, "%s: domain", t->name);
		tap_str(f->source_ip, t->ip, "%s: source ip", t->name);
		tap_str(f->original_rcpt_to, t->rcpt, "%s: rcpt", t->name);
		tap_str(f->header_from, t->from, "%s: header_from", t->name);
		tap_str(f->subject, t->subject, "%s: subject", t->name);
		tap_str(f->reporter, t->reporter, "%s: reporter", t->name);
		tap_int(f->arrival, t->arrival, "%s: arrival", t->name);
		tap_int(strlen(f->report_key), 64, "%s: key", t->name);
		ingest_failure_free(f);
	}
	/* the key: CRLF and LF copies, and refolded fields, are one report;
	 * another source IP is another report */
	{
		const char *a = AFRF_HEAD FIELDS AFRF_ORIG;
		char *lf = strdup(a), *o = lf, *p;
		char *ip = strdup(a);

		for (p = lf; *p != '\0'; p++)
			if (*p != '\r')
				*o++ = *p;
		*o = '\0';
		memcpy(strstr(ip, "192.0.2.7"), "192.0.2.9", 9);
		ingest_failure_parse(a, strlen(a), &f, &err);
		ingest_failure_parse(lf, strlen(lf), &g, &err);
		tap_str(f->report_key, g->report_key, "CRLF and LF: one key");
		ingest_failure_free(g);
		ingest_failure_parse(ip, strlen(ip), &g, &err);
		tap_ok(strcmp(f->report_key, g->report_key) != 0,
		    "another Source-IP: another key");
		ingest_failure_free(f);
		ingest_failure_free(g);
		free(lf);
		free(ip);
	}
	strbuf_release(&err);
}

static const struct {
	const char *in;
	long	 want;
} dates[] = {
	{ "Mon, 01 Oct 2018 11:20:27 +0200", 1538385627 },
	{ "01 Oct 2018 09:20:27 GMT", 1538385627 },
	{ "Mon, 1 Oct 18 05:20:27 EDT", 1538385627 },
	{ "Mon, 01 Oct 2018 09:20 +0000", 1538385600 },
	{ "Mon, 01 Oct 2018 09:20:27 (no zone)", 1538385627 },
	{ "Mon 01 Oct 2018 09:20:27 +0000", -1 },
	{ "32 Oct 2018 09:20:27 +0000", -1 },
	{ "01 Foo 2018 09:20:27 +0000", -1 },
	{ "", -1 },
};

static void
date_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
		tap_int(ingest_parse_date(dates[i].in), dates[i].want,
		    "date \"%s\"", dates[i].in);
}

static void
mbox_cases(void)
{
	const char *mb = "From a@b Thu Jan  1 00:00:00 2026\n"
	    "Subject: one\n\n>From the start\n>>From two\nend\n\n"
	    "From b@c Thu Jan  1 00:00:01 2026\nSubject: two\n\n"
	    "no blank before\nFrom here is not a separator\n";
	struct strbuf m = STRBUF_INIT;
	size_t off = 0;

	tap_ok(ingest_is_mbox(mb, strlen(mb)), "mbox: detected");
	tap_ok(!ingest_is_mbox("Subject: x\n", 11), "mbox: not a message");
	tap_ok(ingest_mbox_next(mb, strlen(mb), &off, &m), "mbox: first");
	tap_str(strbuf_cstr(&m), "Subject: one\n\nFrom the start\n>From two\n"
	    "end\n", "mbox: first, unquoted (mboxrd)");
	tap_ok(ingest_mbox_next(mb, strlen(mb), &off, &m), "mbox: second");
	tap_str(strbuf_cstr(&m), "Subject: two\n\nno blank before\n"
	    "From here is not a separator\n", "mbox: second, whole");
	tap_ok(!ingest_mbox_next(mb, strlen(mb), &off, &m), "mbox: end");
	off = 0;
	strbuf_set_limit(&m, 10);
	tap_ok(ingest_mbox_next(mb, strlen(mb), &off, &m) &&
	    strbuf_failed(&m), "mbox: a message over the limit is flagged");
	tap_ok(ingest_mbox_next(mb, strlen(mb), &off, &m),
	    "mbox: and the next one is still found");
	/* the count the progress bar uses agrees with the splitter */
	tap_int(ingest_mbox_count(mb, strlen(mb)), 2, "mbox: count 2");
	tap_int(ingest_mbox_count("From x\n", 7), 1, "mbox: count, one line");
	tap_int(ingest_mbox_count("From x\na\nFrom y\n\nFrom z\n", 24), 2,
	    "mbox: count, From_ without a blank line before is no separator");
	tap_int(ingest_mbox_count("\n\nSubject: x\n", 14), 0,
	    "mbox: count, no From_ line");
	tap_int(ingest_mbox_count("", 0), 0, "mbox: count, empty");
	strbuf_release(&m);
}

struct seen {
	char	 types[512];
	unsigned n;
};

static int
walk_cb(const struct ingest_mime_part *p, void *ctx)
{
	struct seen *s = ctx;
	size_t l = strlen(s->types);

	snprintf(s->types + l, sizeof(s->types) - l, "%s%u:%.*s",
	    s->n++ ? " " : "", p->depth, (int)strcspn(p->type, ";"),
	    p->type);
	return INGEST_MIME_NEXT;
}

static void
mime_cases(void)
{
	static const struct {
		const char *name, *msg, *walk;
		const char *attach;	/* decoded attachment or NULL */
	} c[] = {
		{ "single part",
		  "Content-Type: text/xml\n\n<feedback/>\n", "0:text/xml",
		  "<feedback/>\n" },
		{ "nested, forwarded, quoted-printable",
		  "Content-Type: multipart/mixed; boundary=\"o\"\n\n--o\n"
		  "Content-Type: text/plain\n\nhi\n--o\n"
		  "Content-Type: message/rfc822\n\n"
		  "Content-Type: multipart/mixed; boundary=i\n\n--i\n"
		  "Content-Type: application/octet-stream; name=r.xml\n"
		  "Content-Transfer-Encoding: quoted-printable\n\n"
		  "<a x=3D\"1\"/>=\n\n--i--\n--o--\n",
		  "0:multipart/mixed 1:text/plain 1:message/rfc822 "
		  "2:multipart/mixed 3:application/octet-stream",
		  "<a x=\"1\"/>" },
		{ "no close delimiter, CRLF",
		  "Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n"
		  "Content-Type: application/gzip\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\nH4sI\r\n",
		  "0:multipart/mixed 1:application/gzip", "\x1f\x8b\x08" },
		{ "no attachment", "Content-Type: text/plain\n\nhello\n",
		  "0:text/plain", NULL },
	};
	struct strbuf err = STRBUF_INIT;
	unsigned char *out;
	size_t i, len;
	struct seen s;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&s, 0, sizeof(s));
		strbuf_reset(&err);
		tap_int(ingest_mime_walk(c[i].msg, strlen(c[i].msg), walk_cb,
		    &s, &err), INGEST_OK, "mime %s: walk", c[i].name);
		tap_str(s.types, c[i].walk, "mime %s: entities", c[i].name);
		out = NULL;
		tap_int(ingest_mime_attachment(c[i].msg, strlen(c[i].msg),
		    &out, &len, NULL, &err), c[i].attach != NULL ? INGEST_OK :
		    INGEST_ERR_CONTENT, "mime %s: attachment", c[i].name);
		if (c[i].attach != NULL)
			tap_ok(out != NULL && len == strlen(c[i].attach) &&
			    memcmp(out, c[i].attach, len) == 0,
			    "mime %s: decoded", c[i].name);
		free(out);
	}
	/* more parts than the cap */
	{
		struct strbuf m = STRBUF_INIT;
		int k;

		strbuf_appends(&m, "Content-Type: multipart/mixed; "
		    "boundary=q\n\n");
		for (k = 0; k < INGEST_MIME_MAX_PARTS + 1; k++)
			strbuf_appends(&m, "--q\nContent-Type: text/plain\n\n"
			    "x\n");
		strbuf_appends(&m, "--q--\n");
		memset(&s, 0, sizeof(s));
		strbuf_reset(&err);
		tap_int(ingest_mime_walk(strbuf_cstr(&m), strbuf_len(&m),
		    walk_cb, &s, &err), INGEST_ERR_LIMIT, "mime: part cap");
		tap_ok(strstr(strbuf_cstr(&err), "more than 64 MIME parts") !=
		    NULL, "mime: part cap named (%s)", strbuf_cstr(&err));
		strbuf_release(&m);
	}
	strbuf_release(&err);
}

int
main(void)
{
	failure_cases();
	date_cases();
	mbox_cases();
	mime_cases();
	return tap_done();
}
