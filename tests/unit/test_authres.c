/*
 * test_authres.c - Authentication-Results writer and parser (RFC 8601).
 */
#include "config.h"

#include <string.h>

#include "auth/authres.h"
#include "common/mem.h"
#include "tap.h"

static void
test_writer(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct authres_writer w;

	authres_begin(&w, &sb, "mx.example.net", false);
	authres_add_result(&w, "spf", "pass", NULL);
	authres_add_prop(&w, "smtp", "mailfrom", "bounce@example.com");
	authres_add_result(&w, "dkim", "pass", NULL);
	authres_add_prop(&w, "header", "d", "example.com");
	authres_add_prop(&w, "header", "s", "s1");
	authres_add_prop(&w, "header", "b", "AbC/+=12");
	authres_add_result(&w, "dmarc", "fail", "p=reject dis=reject");
	authres_add_prop(&w, "header", "from", "example.com");
	authres_finish(&w);
	tap_str(strbuf_cstr(&sb), "mx.example.net; spf=pass "
	    "smtp.mailfrom=bounce@example.com; dkim=pass header.d=example.com "
	    "header.s=s1 header.b=\"AbC/+=12\"; dmarc=fail "
	    "(p=reject dis=reject) header.from=example.com",
	    "writer: full value, header.b quoted, address unquoted");

	authres_begin(&w, &sb, "mx.example.net", true);
	authres_finish(&w);
	tap_str(strbuf_cstr(&sb), "mx.example.net; none",
	    "writer: no results gives '; none'");

	authres_begin(&w, &sb, "mx", true);
	authres_add_result(&w, "spf", "none", "evil)\r\n(x\\");
	authres_add_prop(&w, "smtp", "helo", "a b\"\n");
	authres_finish(&w);
	tap_str(strbuf_cstr(&sb), "mx;\n\tspf=none (evil\\)\\(x\\\\) "
	    "smtp.helo=\"a b\\\"\"",
	    "writer: folding, hostile comment and value escaped");
	strbuf_release(&sb);
}

static const struct {
	const char *name, *value;
	enum authres_status st;
	const char *id;
	size_t nresults;
	const char *m0, *r0, *p0, *v0;
} parse_cases[] = {
	{ "RFC 8601 B.2 none", "example.org 1; none", AUTHRES_OK,
	    "example.org", 0, NULL, NULL, NULL, NULL },
	{ "RFC 8601 B.3 spf", "example.com;\r\n spf=pass "
	    "smtp.mailfrom=example.net", AUTHRES_OK, "example.com", 1,
	    "spf", "pass", "mailfrom", "example.net" },
	{ "RFC 8601 B.4 comments", "example.com; auth=pass (cram-md5) "
	    "smtp.auth=sender@example.net; spf=pass smtp.mailfrom=example.net",
	    AUTHRES_OK, "example.com", 2, "auth", "pass", "auth",
	    "sender@example.net" },
	{ "RFC 8601 B.6 dkim header.i with @", "example.com; dkim=pass "
	    "(good signature) header.i=@mail-router.example.net; dkim=fail "
	    "(bad signature) header.i=@newyork.example.com",
	    AUTHRES_OK, "example.com", 2, "dkim", "pass", "i",
	    "@mail-router.example.net" },
	{ "version and method version", "mx.test 1; dkim/1=pass header.d=a.test",
	    AUTHRES_OK, "mx.test", 1, "dkim", "pass", "d", "a.test" },
	{ "quoted authserv-id", "\"mx;forged\"; spf=fail", AUTHRES_OK,
	    "mx;forged", 1, "spf", "fail", NULL, NULL },
	{ "uppercase method and result lowered", "mx; DMARC=PASS header.from=X",
	    AUTHRES_OK, "mx", 1, "dmarc", "pass", "from", "X" },
	{ "reason", "mx; dkim=fail reason=\"bad sig\" header.d=x",
	    AUTHRES_OK, "mx", 1, "dkim", "fail", "d", "x" },
	{ "nested comment", "mx (a (b) c); spf=pass", AUTHRES_OK, "mx", 1,
	    "spf", "pass", NULL, NULL },
	{ "empty", "", AUTHRES_ERR_SYNTAX, NULL, 0, NULL, NULL, NULL, NULL },
	{ "garbage after id kept id", "mx.example.net; ===", AUTHRES_ERR_SYNTAX,
	    "mx.example.net", 0, NULL, NULL, NULL, NULL },
	{ "missing result", "mx; spf=", AUTHRES_ERR_SYNTAX, "mx", 1, "spf",
	    NULL, NULL, NULL },
	{ "unterminated comment", "mx (oops; spf=pass", AUTHRES_ERR_SYNTAX,
	    "mx", 0, NULL, NULL, NULL, NULL },
	{ "unterminated quote", "\"mx", AUTHRES_ERR_SYNTAX, NULL, 0, NULL,
	    NULL, NULL, NULL },
};

static void
test_parser(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct authres *ar = NULL;
		enum authres_status st;

		st = authres_parse(parse_cases[i].value,
		    strlen(parse_cases[i].value), &ar);
		tap_int(st, parse_cases[i].st, "parse status: %s",
		    parse_cases[i].name);
		tap_str(ar ? ar->authserv_id : NULL, parse_cases[i].id,
		    "parse authserv-id: %s", parse_cases[i].name);
		tap_int(ar ? ar->nresults : 0, parse_cases[i].nresults,
		    "parse result count: %s", parse_cases[i].name);
		if (ar != NULL && ar->nresults > 0) {
			const struct authres_result *r = &ar->results[0];

			tap_str(r->method, parse_cases[i].m0, "parse method: %s",
			    parse_cases[i].name);
			tap_str(r->result, parse_cases[i].r0, "parse result: %s",
			    parse_cases[i].name);
			if (parse_cases[i].p0 != NULL) {
				tap_str(r->nprops ? r->props[0].property : NULL,
				    parse_cases[i].p0, "parse property: %s",
				    parse_cases[i].name);
				tap_str(r->nprops ? r->props[0].value : NULL,
				    parse_cases[i].v0, "parse value: %s",
				    parse_cases[i].name);
			}
		}
		authres_free(ar);
	}
}

static void
test_roundtrip_and_bounds(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct authres_writer w;
	struct authres *ar = NULL;
	char big[AUTHRES_MAX_LEN + 2];
	size_t i;
	long n;

	authres_begin(&w, &sb, "mx.example.net", true);
	authres_add_result(&w, "dkim", "pass", NULL);
	authres_add_prop(&w, "header", "b", "ab/c=");
	authres_finish(&w);
	tap_int(authres_parse(strbuf_cstr(&sb), strbuf_len(&sb), &ar),
	    AUTHRES_OK, "roundtrip: what we write parses");
	tap_str(ar && ar->nresults == 1 && ar->results[0].nprops == 1 ?
	    ar->results[0].props[0].value : NULL, "ab/c=",
	    "roundtrip: quoted value comes back unquoted");
	authres_free(ar);

	strbuf_reset(&sb);
	strbuf_appends(&sb, "mx");
	for (i = 0; i <= AUTHRES_MAX_RESULTS; i++)
		strbuf_appends(&sb, "; spf=pass");
	tap_int(authres_parse(strbuf_cstr(&sb), strbuf_len(&sb), &ar),
	    AUTHRES_ERR_TOO_MANY, "bounds: too many results refused");
	tap_int(ar ? ar->nresults : 0, AUTHRES_MAX_RESULTS,
	    "bounds: results up to the cap are kept");
	authres_free(ar);

	strbuf_reset(&sb);
	strbuf_appends(&sb, "mx ");
	for (i = 0; i <= AUTHRES_MAX_COMMENT; i++)
		strbuf_appendc(&sb, '(');
	tap_int(authres_parse(strbuf_cstr(&sb), strbuf_len(&sb), &ar),
	    AUTHRES_ERR_TOO_MANY, "bounds: comment nesting capped");
	authres_free(ar);

	memset(big, 'a', sizeof(big));
	tap_int(authres_parse(big, sizeof(big), &ar), AUTHRES_ERR_TOO_LONG,
	    "bounds: over-long value refused");
	tap_ok(ar == NULL, "bounds: no structure for an over-long value");

	tap_ok(authres_is_from("  MX.Example.NET; spf=pass", 26,
	    "mx.example.net"), "is_from: our id, other case, leading space");
	tap_ok(authres_is_from("(c) \"mx.example.net\" ; none", 27,
	    "mx.example.net"), "is_from: quoted id after a comment");
	tap_ok(!authres_is_from("mx.example.net.evil; none", 25,
	    "mx.example.net"), "is_from: longer id is not ours");
	tap_ok(!authres_is_from("", 0, "mx"), "is_from: empty value");

	for (n = 0; n < 100; n++) {
		enum authres_status st;

		mem_fail_after(n);
		st = authres_parse("mx; spf=pass smtp.mailfrom=a@b; dkim=fail"
		    " reason=x header.d=b", 61, &ar);
		mem_fail_after(-1);
		authres_free(ar);
		if (st == AUTHRES_OK)
			break;
	}
	tap_ok(n < 100, "alloc failures handled, then success after %ld", n);
	strbuf_release(&sb);
}

int
main(void)
{
	test_writer();
	test_parser();
	test_roundtrip_and_bounds();
	return tap_done();
}
