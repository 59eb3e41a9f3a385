/*
 * test_web_query.c - web/query.c (request target parsing) and the pure
 * parts of web/tokens.c (scope lists, hashing, token format).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "web/query.h"
#include "web/tokens.h"

static const struct {
	const char *name, *in;
	bool plus;
	enum webq_status st;
	const char *out;
} decodes[] = {
	{ "plain", "abc", false, WEBQ_OK, "abc" },
	{ "escapes", "a%20b%2Fc", false, WEBQ_OK, "a b/c" },
	{ "lower-case hex", "%2f%2e", false, WEBQ_OK, "/." },
	{ "plus as space in queries", "a+b", true, WEBQ_OK, "a b" },
	{ "plus kept in paths", "a+b", false, WEBQ_OK, "a+b" },
	{ "%00 refused", "a%00b", false, WEBQ_ERR_ENCODING, NULL },
	{ "truncated escape", "ab%2", false, WEBQ_ERR_ENCODING, NULL },
	{ "bad hex", "%zz", false, WEBQ_ERR_ENCODING, NULL },
	{ "invalid UTF-8 (lone continuation)", "%80", false,
	  WEBQ_ERR_ENCODING, NULL },
	{ "invalid UTF-8 (overlong slash)", "%c0%af", false,
	  WEBQ_ERR_ENCODING, NULL },
	{ "invalid UTF-8 (surrogate)", "%ed%a0%80", false,
	  WEBQ_ERR_ENCODING, NULL },
	{ "valid UTF-8", "%c3%a9t%c3%a9", false, WEBQ_OK, "\xc3\xa9t\xc3\xa9" },
};

static const struct {
	const char *name, *path;
	enum webq_status st;
	enum webq_route route;
	const char *arg;
} routes[] = {
	{ "root", "/", WEBQ_OK, WEBQ_ROUTE_INDEX, "" },
	{ "static file", "/static/app.js", WEBQ_OK, WEBQ_ROUTE_STATIC,
	  "app.js" },
	{ "static subdir", "/static/vendor/chart.umd.js", WEBQ_OK,
	  WEBQ_ROUTE_STATIC, "vendor/chart.umd.js" },
	{ "static dot-dot", "/static/../etc/passwd", WEBQ_ERR_VALUE,
	  WEBQ_ROUTE_NONE, "" },
	{ "static encoded dot-dot", "/static/%2e%2e/%2e%2e/etc/passwd",
	  WEBQ_ERR_VALUE, WEBQ_ROUTE_NONE, "" },
	{ "static encoded slash", "/static/..%2fsecret", WEBQ_ERR_VALUE,
	  WEBQ_ROUTE_NONE, "" },
	{ "static hidden file", "/static/.git/config", WEBQ_ERR_VALUE,
	  WEBQ_ROUTE_NONE, "" },
	{ "static empty segment", "/static//etc", WEBQ_ERR_VALUE,
	  WEBQ_ROUTE_NONE, "" },
	{ "static backslash", "/static/a%5c..%5cb", WEBQ_ERR_VALUE,
	  WEBQ_ROUTE_NONE, "" },
	{ "static NUL", "/static/a%00.js", WEBQ_ERR_ENCODING,
	  WEBQ_ROUTE_NONE, "" },
	{ "metrics", "/metrics", WEBQ_OK, WEBQ_ROUTE_METRICS, "" },
	{ "reports", "/api/exchange/dmarc-reports", WEBQ_OK,
	  WEBQ_ROUTE_REPORTS, "" },
	{ "summary", "/api/exchange/dmarc-reports/Example.COM/summary",
	  WEBQ_OK, WEBQ_ROUTE_SUMMARY, "example.com" },
	{ "sources", "/api/exchange/dmarc-reports/a.test/sources", WEBQ_OK,
	  WEBQ_ROUTE_SOURCES, "a.test" },
	{ "failures", "/api/exchange/dmarc-reports/a.test/failures", WEBQ_OK,
	  WEBQ_ROUTE_FAILURES, "a.test" },
	{ "alerts", "/api/exchange/dmarc-reports/a.test/alerts", WEBQ_OK,
	  WEBQ_ROUTE_ALERTS, "a.test" },
	{ "bad domain", "/api/exchange/dmarc-reports/a'b/summary",
	  WEBQ_ERR_VALUE, WEBQ_ROUTE_NONE, "" },
	{ "unknown sub-resource", "/api/exchange/dmarc-reports/a.test/x",
	  WEBQ_OK, WEBQ_ROUTE_NONE, "" },
	{ "check", "/api/v1/check", WEBQ_OK, WEBQ_ROUTE_CHECK, "" },
	{ "domains", "/api/v1/domains", WEBQ_OK, WEBQ_ROUTE_DOMAINS, "" },
	{ "unknown", "/api/v2/x", WEBQ_OK, WEBQ_ROUTE_NONE, "" },
	{ "prefix lookalike", "/api/exchange/dmarc-reportsX", WEBQ_OK,
	  WEBQ_ROUTE_NONE, "" },
};

static const struct {
	const char *in;
	enum webq_status st;
	long day;
} days[] = {
	{ "1970-01-01", WEBQ_OK, 0 },
	{ "2026-11-25", WEBQ_OK, 20782 },
	{ "2024-02-29", WEBQ_OK, 19782 },
	{ "2023-02-29", WEBQ_ERR_VALUE, 0 },
	{ "2026-13-01", WEBQ_ERR_VALUE, 0 },
	{ "2026-00-10", WEBQ_ERR_VALUE, 0 },
	{ "2026-1-1", WEBQ_ERR_VALUE, 0 },
	{ "1969-12-31", WEBQ_ERR_VALUE, 0 },
	{ "2026-11-25x", WEBQ_ERR_VALUE, 0 },
	{ "yesterday", WEBQ_ERR_VALUE, 0 },
	{ "", WEBQ_ERR_VALUE, 0 },
};

int
main(void)
{
	char out[64], arg[WEBQ_MAX_PATH + 1], big[4096], tok[TOKEN_LEN + 1];
	char hex[65], d[300];
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	enum webq_route route;
	enum webq_status st;
	struct webq q;
	uint64_t u;
	int64_t day;
	size_t i;

	for (i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
		st = webq_decode(decodes[i].in, strlen(decodes[i].in),
		    decodes[i].plus, out, sizeof(out), NULL);
		tap_int(st, decodes[i].st, "decode: %s", decodes[i].name);
		if (decodes[i].out != NULL)
			tap_str(out, decodes[i].out, "decode: %s: value",
			    decodes[i].name);
	}
	tap_int(webq_decode("abcdef", 6, false, out, 4, NULL),
	    WEBQ_ERR_TOO_LONG, "decode: output cap");

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		st = webq_route(routes[i].path, &route, arg, sizeof(arg));
		tap_int(st, routes[i].st, "route: %s: status", routes[i].name);
		tap_str(webq_route_name(route), webq_route_name(routes[i].route),
		    "route: %s: route", routes[i].name);
		if (st == WEBQ_OK)
			tap_str(arg, routes[i].arg, "route: %s: argument",
			    routes[i].name);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	tap_int(webq_route(big, &route, arg, sizeof(arg)), WEBQ_ERR_TOO_LONG,
	    "route: a path over the cap");

	webq_init(&q);
	tap_int(webq_parse(&q, "from=2026-01-01&to=2026-01-31&org=a+b%26c&x",
	    43), WEBQ_OK, "query: parse");
	tap_str(webq_get(&q, "org"), "a b&c", "query: decoded value");
	tap_str(webq_get(&q, "x"), "", "query: key without value");
	tap_ok(webq_get(&q, "nope") == NULL, "query: absent key");
	webq_init(&q);
	tap_int(webq_parse(&q, "page=1&page=2", 13), WEBQ_ERR_DUPLICATE,
	    "query: duplicate refused");
	tap_str(q.bad, "page", "query: duplicate named");
	webq_init(&q);
	for (i = 0, st = WEBQ_OK; i < WEBQ_MAX_PARAMS + 1 && st == WEBQ_OK;
	    i++) {
		snprintf(out, sizeof(out), "k%zu", i);
		st = webq_add(&q, out, "v");
	}
	tap_int(st, WEBQ_ERR_TOO_MANY, "query: parameter count cap");
	webq_init(&q);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tap_int(webq_add(&q, "k", big), WEBQ_ERR_TOO_LONG,
	    "query: value length cap");
	tap_int(webq_add(&q, "k", "%ff"), WEBQ_ERR_ENCODING,
	    "query: invalid UTF-8 value");

	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		day = -1;
		st = webq_day(days[i].in, &day);
		tap_int(st, days[i].st, "day \"%s\": status", days[i].in);
		if (st == WEBQ_OK) {
			tap_int(day, days[i].day, "day %s: number", days[i].in);
			webq_day_format(day, out, sizeof(out));
			tap_ok(strcmp(out, days[i].in) == 0,
			    "day %s: formats back (%s)", days[i].in, out);
		}
	}
	tap_int(webq_uint("500", 1, 500, &u), WEBQ_OK, "uint: at the max");
	tap_int(webq_uint("501", 1, 500, &u), WEBQ_ERR_VALUE, "uint: past max");
	tap_int(webq_uint("0", 1, 500, &u), WEBQ_ERR_VALUE, "uint: under min");
	tap_int(webq_uint("-1", 1, 500, &u), WEBQ_ERR_VALUE, "uint: sign");
	tap_int(webq_uint("1e3", 1, 5000, &u), WEBQ_ERR_VALUE, "uint: exponent");
	tap_int(webq_uint("99999999999999999999", 1, 500, &u), WEBQ_ERR_VALUE,
	    "uint: overflow");
	tap_int(webq_uint("", 1, 500, &u), WEBQ_ERR_VALUE, "uint: empty");

	snprintf(d, sizeof(d), "Mail.Example.COM.");
	tap_ok(webq_domain_is_valid(d) && strcmp(d, "mail.example.com") == 0,
	    "domain: lower-cased, trailing dot dropped");
	snprintf(d, sizeof(d), "a..b");
	tap_ok(!webq_domain_is_valid(d), "domain: empty label");
	snprintf(d, sizeof(d), "x' OR '1'='1");
	tap_ok(!webq_domain_is_valid(d), "domain: SQL-looking text refused");
	memset(d, 'a', 64);
	d[64] = '\0';
	tap_ok(!webq_domain_is_valid(d), "domain: 64-byte label");

	/* Tokens. */
	tap_int(token_generate(tok, sizeof(tok)), 0, "token: generated");
	tap_int(strlen(tok), TOKEN_LEN, "token: length");
	tap_ok(strncmp(tok, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0 &&
	    strspn(tok + strlen(TOKEN_PREFIX), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == 43,
	    "token: prefix and base64url alphabet");
	token_hash_hex("abc", 3, hex);
	tap_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
	    "f20015ad", "token: SHA-256 of \"abc\" (FIPS 180-2 example)");
	tap_int(token_scope_parse("B.test, a.test,b.test", &sb, &err), 0,
	    "scope: list parsed");
	tap_str(strbuf_cstr(&sb), "b.test a.test", "scope: lower-cased, "
	    "duplicates dropped");
	tap_ok(token_scope_has(strbuf_cstr(&sb), "a.test") &&
	    !token_scope_has(strbuf_cstr(&sb), "c.test") &&
	    !token_scope_has(strbuf_cstr(&sb), "test"),
	    "scope: membership is whole names");
	tap_ok(token_scope_has("*", "anything.test"), "scope: * is all");
	strbuf_reset(&sb);
	tap_int(token_scope_parse("a.test,*", &sb, &err), -1,
	    "scope: * mixed with names refused");
	strbuf_reset(&sb);
	strbuf_reset(&err);
	tap_int(token_scope_parse("a.test,bad domain!", &sb, &err), -1,
	    "scope: bad name refused");
	tap_ok(strstr(strbuf_cstr(&err), "domain!") != NULL,
	    "scope: error names the entry");
	tap_ok(token_name_is_valid("ci-dash_1.0") &&
	    !token_name_is_valid("a b") && !token_name_is_valid(""),
	    "token names");
	strbuf_release(&sb);
	strbuf_release(&err);
	return tap_done();
}
