/*
 * test_from.c - From header author-domain extraction (policy/from.c).
 *
 * Table-driven: each row names its case, and the name is printed with
 * every check.  Rows marked "OpenDMARC" replay From values that broke
 * OpenDMARC (wrong domain, ignored second domain, NULL dereference).
 * Then: several fields, bounds, linear time on hostile input, the bare
 * address helper, and an allocation-failure loop over each parser path.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "policy/from.h"
#include "tests/unit/tap.h"

#define NUL_LEN(s)	(sizeof(s) - 1)	/* value with a NUL inside */
#define NODISP		"(null)"	/* expect no display name */

struct field_case {
	const char	*name;
	const char	*value;
	size_t		 len;		/* 0: strlen(value) */
	enum from_status want;
	const char	*domains;	/* distinct domains, joined by ',' */
	const char	*local;		/* first local part (NULL: skip) */
	const char	*display;	/* first display (NULL: skip) */
};

static const struct field_case field_cases[] = {
	/* Plain forms. */
	{ "addr-spec", "user@example.com", 0, FROM_OK, "example.com",
	    "user", NODISP },
	{ "name-addr", "John Doe <john@example.com>", 0, FROM_OK,
	    "example.com", "john", "John Doe" },
	{ "angle-addr alone", "<john@example.com>", 0, FROM_OK,
	    "example.com", "john", NODISP },
	{ "white space around", "  john@example.com \t", 0, FROM_OK,
	    "example.com", "john", NULL },
	{ "display name with quoted comma (OpenDMARC #72)",
	    "\"Doe, John\" <john@example.com>", 0, FROM_OK, "example.com",
	    "john", "Doe, John" },
	{ "obs-phrase with a dot", "John Q. Public <jqp@example.com>", 0,
	    FROM_OK, "example.com", "jqp", "John Q. Public" },
	{ "display name ending in a dot", "J. <j@x.test>", 0, FROM_OK,
	    "x.test", "j", "J." },
	{ "8-bit display name (RFC 6532)", "J\xc3\xb6rg <j@example.de>", 0,
	    FROM_OK, "example.de", "j", "J\xc3\xb6rg" },
	{ "8-bit local part (RFC 6532)", "j\xc3\xb6hn@example.com", 0,
	    FROM_OK, "example.com", "j\xc3\xb6hn", NULL },
	{ "percent hack local part", "user%other.test@x.test", 0, FROM_OK,
	    "x.test", "user%other.test", NULL },
	{ "bang path local part", "host!user@x.test", 0, FROM_OK, "x.test",
	    "host!user", NULL },

	/* Domain normalisation. */
	{ "uppercase domain lowercased (OpenDMARC)", "u@SUB.EXAMPLE.COM", 0,
	    FROM_OK, "sub.example.com", "u", NULL },
	{ "local part case kept", "X <U@Example.Org>", 0, FROM_OK,
	    "example.org", "U", "X" },
	{ "trailing dot removed", "a@example.com.", 0, FROM_OK,
	    "example.com", NULL, NULL },
	{ "trailing dot in angle-addr", "<a@example.com.>", 0, FROM_OK,
	    "example.com", NULL, NULL },
	{ "IDN U-label to A-label", "a@b\xc3\xbc" "cher.example", 0, FROM_OK,
	    "xn--bcher-kva.example", NULL, NULL },
	{ "IDN uppercase U-label", "a@B\xc3\x9c" "CHER.example", 0, FROM_OK,
	    "xn--bcher-kva.example", NULL, NULL },
	{ "IDN Japanese", "\xe7\x94\xa8@\xe4\xbe\x8b\xe3\x81\x88."
	    "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 0, FROM_OK,
	    "xn--r8jz45g.xn--zckzah", NULL, NULL },
	{ "A-label kept", "a@xn--bcher-kva.example", 0, FROM_OK,
	    "xn--bcher-kva.example", NULL, NULL },
	{ "invalid UTF-8 domain", "a@\xff\xfe.example", 0,
	    FROM_ERR_BAD_DOMAIN, "", NULL, NULL },

	/* Several mailboxes in one field. */
	{ "second domain reported (OpenDMARC CVE-2019-16378)",
	    "Support <support@example.com>, Support <support@thedomain.com>",
	    0, FROM_OK, "example.com,thedomain.com", "support", "Support" },
	{ "domains deduplicated in order", "a@x.test, b@X.TEST, c@y.test",
	    0, FROM_OK, "x.test,y.test", "a", NULL },
	{ "addr-specs without spaces", "a@x.test,b@y.test", 0, FROM_OK,
	    "x.test,y.test", NULL, NULL },
	{ "trailing comma (obs-mbox-list)", "a@x.test,", 0, FROM_OK,
	    "x.test", NULL, NULL },
	{ "leading empty elements (obs-mbox-list)", ", ,a@x.test", 0,
	    FROM_OK, "x.test", NULL, NULL },
	{ "only commas", ",,,", 0, FROM_ERR_NO_ADDRESS, "", NULL, NULL },

	/* Groups (RFC 6854). */
	{ "group of two", "Team: a@x.test, b@y.test;", 0, FROM_OK,
	    "x.test,y.test", "a", NODISP },
	{ "empty group (OpenDMARC NULL dereference)",
	    "undisclosed-recipients:;", 0, FROM_ERR_NO_ADDRESS, "", NULL,
	    NULL },
	{ "empty group without ';'", "undisclosed-recipients:", 0,
	    FROM_ERR_NO_ADDRESS, "", NULL, NULL },
	{ "group then mailbox", "Team: a@x.test;, b@y.test", 0, FROM_OK,
	    "x.test,y.test", NULL, NULL },
	{ "unquoted colon reads as a group", "Re: foo <a@x.test>", 0,
	    FROM_OK, "x.test", "a", "foo" },
	{ "nested group", "A: B: c@d.test;;", 0, FROM_ERR_SYNTAX, "", NULL,
	    NULL },
	{ "group member without domain", "G: a@, b@x.test;", 0,
	    FROM_ERR_BAD_DOMAIN, "x.test", "a", NULL },
	{ "group without name", ": a@x.test;", 0, FROM_ERR_SYNTAX, "", NULL,
	    NULL },
	{ "junk after a group member", "G: a@x.test b;", 0, FROM_ERR_SYNTAX,
	    "x.test", NULL, NULL },
	{ "semicolon outside a group", "a@x.test;", 0, FROM_ERR_SYNTAX,
	    "x.test", NULL, NULL },

	/* Odd values that crashed OpenDMARC: never a NULL domain with OK. */
	{ "empty value (OpenDMARC)", "", 0, FROM_ERR_NO_ADDRESS, "", NULL,
	    NULL },
	{ "folded white space only", " \r\n\t ", 0, FROM_ERR_NO_ADDRESS, "",
	    NULL, NULL },
	{ "comment only", "(nobody)", 0, FROM_ERR_NO_ADDRESS, "", NULL,
	    NULL },
	{ "<> (OpenDMARC)", "<>", 0, FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "@ (OpenDMARC)", "@", 0, FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "a@ (OpenDMARC)", "a@", 0, FROM_ERR_BAD_DOMAIN, "", "a", NULL },
	{ "<@> (OpenDMARC)", "<@>", 0, FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "@domain without local part", "@example.com", 0, FROM_ERR_SYNTAX,
	    "", NULL, NULL },
	{ "bare local part", "postmaster", 0, FROM_ERR_BAD_DOMAIN, "",
	    "postmaster", NULL },
	{ "angle-addr without domain", "Name <postmaster>", 0,
	    FROM_ERR_BAD_DOMAIN, "", "postmaster", "Name" },
	{ "empty angle-addr after a mailbox", "a@x.test, <>", 0,
	    FROM_ERR_SYNTAX, "x.test", NULL, NULL },

	/* Ambiguity is an error, never a guess. */
	{ "missing '>'", "Name <a@example.com", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "stray '>'", "a@example.com>", 0, FROM_ERR_SYNTAX, "example.com",
	    NULL, NULL },
	{ "two angle-addrs in one mailbox",
	    "Kelly <kelly@contoso.example> <shaw@ekaworld.example>", 0,
	    FROM_ERR_SYNTAX, "contoso.example", NULL, NULL },
	{ "addr-spec followed by angle-addr", "a@evil.test <b@good.test>", 0,
	    FROM_ERR_SYNTAX, "evil.test", NULL, NULL },
	{ "unquoted address as display name", "ceo@good.test <x@evil.test>",
	    0, FROM_ERR_SYNTAX, "good.test", NULL, NULL },
	{ "text after the address", "<a@x.test> trailing", 0,
	    FROM_ERR_SYNTAX, "x.test", NULL, NULL },
	{ "two '@'", "a@b@c.test", 0, FROM_ERR_SYNTAX, "b", NULL, NULL },
	{ "phrase without address", "John Smith", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "space inside local part", "john smith@example.com", 0,
	    FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "space inside domain", "a@exa mple.com", 0, FROM_ERR_SYNTAX, "exa",
	    NULL, NULL },
	{ "quoted string as domain", "a@\"x.test\"", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "backslash outside quotes", "a\\b@x.test", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "control character", "a\x01@x.test", 0, FROM_ERR_SYNTAX, "", NULL,
	    NULL },
	{ "unquoted brackets in display name", "[EXT] Bob <b@x.test>", 0,
	    FROM_ERR_SYNTAX, "", NULL, NULL },

	/* Quoted strings and quoted-pairs. */
	{ "quoted display name with address",
	    "\"ceo@good.test\" <x@evil.test>", 0, FROM_OK, "evil.test", "x",
	    "ceo@good.test" },
	{ "quoted local part with '@'", "\"a@evil.test\"@good.test", 0,
	    FROM_OK, "good.test", "a@evil.test", NODISP },
	{ "quoted local part with angle-addr (OpenDMARC #243)",
	    "\"Someone <someone@junk.example>\"@mydomain.example", 0,
	    FROM_OK, "mydomain.example", "Someone <someone@junk.example>",
	    NULL },
	{ "escaped quotes in display name (OpenDMARC #44)",
	    "\"\\\"AcmeCorp, Inc.\\\"\" <orders@other.example>", 0, FROM_OK,
	    "other.example", "orders", "\"AcmeCorp, Inc.\"" },
	{ "quoted-pair in local part", "\"a\\\"b\"@x.test", 0, FROM_OK,
	    "x.test", "a\"b", NULL },
	{ "empty quoted local part", "\"\"@x.test", 0, FROM_OK, "x.test", "",
	    NULL },
	{ "empty quoted display name", "\"\" <a@x.test>", 0, FROM_OK,
	    "x.test", "a", NODISP },
	{ "folded quoted string", "\"John\r\n Doe\" <j@x.test>", 0, FROM_OK,
	    "x.test", "j", "John Doe" },
	{ "unterminated quoted string", "\"John <a@x.test>", 0,
	    FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "quoted string ends in backslash", "\"John\\", 0, FROM_ERR_SYNTAX,
	    "", NULL, NULL },

	/* Comments. */
	{ "comments around", "(c1) a@x.test (c2)", 0, FROM_OK, "x.test",
	    "a", NODISP },
	{ "comment hides an address", "(<a@evil.test>) b@good.test", 0,
	    FROM_OK, "good.test", "b", NULL },
	{ "nested comments with quoted-pair",
	    "a@x.test (one (two (three)) \\) )", 0, FROM_OK, "x.test", NULL,
	    NULL },
	{ "comments inside the addr-spec", "a(c)@(c)x.test", 0, FROM_OK,
	    "x.test", "a", NULL },
	{ "old-style name in comment", "john@example.com (John Doe)", 0,
	    FROM_OK, "example.com", "john", NODISP },
	{ "unterminated comment", "a@x.test (oops", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "unbalanced ')'", "a@x.test )", 0, FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "comment ends in backslash", "a@x.test (c\\", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },

	/* Obsolete syntax (RFC 5322 section 4.4). */
	{ "obs-local-part with spaces around dots",
	    "john . doe @ example . com", 0, FROM_OK, "example.com",
	    "john.doe", NULL },
	{ "FWS around '@'", "a @ x.test", 0, FROM_OK, "x.test", "a", NULL },
	{ "obs-local-part of quoted words", "\"a\".\"b\"@x.test", 0, FROM_OK,
	    "x.test", "a.b", NULL },
	{ "doubled and trailing dots in local part (legacy mobile)",
	    "foo..bar.@docomo.example", 0, FROM_OK, "docomo.example",
	    "foo..bar.", NULL },
	{ "route addr", "<@route.test:user@example.com>", 0, FROM_OK,
	    "example.com", "user", NULL },
	{ "route of two domains", "X <@a.test,@b.test:user@example.com>", 0,
	    FROM_OK, "example.com", "user", "X" },
	{ "route without addr-spec", "<@a.test:>", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "route without ':'", "<@a.test user@example.com>", 0,
	    FROM_ERR_SYNTAX, "", NULL, NULL },

	/* RFC 2047 encoded words stay in the display name. */
	{ "encoded word with '@' and '<'",
	    "=?utf-8?q?a@evil.test_<x>?= <u@good.test>", 0, FROM_OK,
	    "good.test", "u", "=?utf-8?q?a@evil.test_<x>?=" },
	{ "encoded word, base64", "=?UTF-8?B?Sm9obiBEb2U=?= <john@example.com>",
	    0, FROM_OK, "example.com", "john", "=?UTF-8?B?Sm9obiBEb2U=?=" },
	{ "encoded word with a quote", "=?utf-8?q?O\"Neil?= <o@x.test>", 0,
	    FROM_OK, "x.test", "o", "=?utf-8?q?O\"Neil?=" },
	{ "adjacent encoded words", "=?utf-8?q?a<?= =?utf-8?q?b>?= <c@x.test>",
	    0, FROM_OK, "x.test", "c", "=?utf-8?q?a<?= =?utf-8?q?b>?=" },
	{ "encoded word with '@' and no address", "=?utf-8?q?ceo@good.test?=",
	    0, FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "encoded-word-like local part", "=?x?q?y?=@example.com", 0,
	    FROM_OK, "example.com", "=?x?q?y?=", NULL },
	{ "encoded word with a dot as local part", "=?x?q?J.Smith?=@x.test",
	    0, FROM_OK, "x.test", "=?x?q?J.Smith?=", NULL },
	{ "unclosed encoded word", "=?utf-8?q?a@evil.test <u@good.test>", 0,
	    FROM_ERR_SYNTAX, "evil.test", NULL, NULL },
	{ "encoded word with '<' as domain", "a@=?x?q?<b>?=", 0,
	    FROM_ERR_SYNTAX, "", NULL, NULL },

	/* Domains that DMARC cannot use. */
	{ "domain literal", "a@[192.0.2.1]", 0, FROM_ERR_DOMAIN_LITERAL, "",
	    "a", NULL },
	{ "IPv6 literal in angle-addr", "X <a@[IPv6:2001:db8::1]>", 0,
	    FROM_ERR_DOMAIN_LITERAL, "", "a", "X" },
	{ "literal then a good domain", "a@[192.0.2.1], b@good.test", 0,
	    FROM_ERR_DOMAIN_LITERAL, "good.test", NULL, NULL },
	{ "bad domain then a good one", "a@bad!.test, b@good.test", 0,
	    FROM_ERR_BAD_DOMAIN, "good.test", NULL, NULL },
	{ "unterminated literal", "a@[192.0.2.1", 0, FROM_ERR_SYNTAX, "",
	    NULL, NULL },
	{ "'[' inside a literal", "a@[1[2]", 0, FROM_ERR_SYNTAX, "", NULL,
	    NULL },
	{ "literal followed by a label", "a@[192.0.2.1].test", 0,
	    FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "empty label", "a@x..test", 0, FROM_ERR_BAD_DOMAIN, "", NULL,
	    NULL },
	{ "leading dot", "a@.x.test", 0, FROM_ERR_BAD_DOMAIN, "", NULL,
	    NULL },
	{ "domain of one dot", "a@.", 0, FROM_ERR_BAD_DOMAIN, "", NULL,
	    NULL },
	{ "label over 63 octets", "a@"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".test", 0, FROM_ERR_BAD_DOMAIN, "", NULL, NULL },

	/* Line breaks and NUL. */
	{ "LF folding", "John\n <j@x.test>", 0, FROM_OK, "x.test", "j",
	    "John" },
	{ "CRLF folding", "John\r\n\t<j@x.test>", 0, FROM_OK, "x.test", "j",
	    "John" },
	{ "trailing CRLF", "j@x.test\r\n", 0, FROM_OK, "x.test", "j", NULL },
	{ "CRLF without white space (injection)",
	    "a@good.test\r\nFrom: b@evil.test", 0, FROM_ERR_SYNTAX, "", NULL,
	    NULL },
	{ "bare CR", "a@good.test\rb", 0, FROM_ERR_SYNTAX, "", NULL, NULL },
	{ "blank line inside", "a@x.test\n\n b", 0, FROM_ERR_SYNTAX, "", NULL,
	    NULL },
	{ "NUL byte", "a@x.test\0b@evil.test", NUL_LEN("a@x.test\0b@evil.test"),
	    FROM_ERR_SYNTAX, "", NULL, NULL },
};

/* Comma-join the distinct domains of fl. */
static void
join_domains(const struct from_list *fl, struct strbuf *sb)
{
	size_t i;

	strbuf_reset(sb);
	for (i = 0; i < from_list_ndomains(fl); i++) {
		if (i > 0)
			strbuf_appendc(sb, ',');
		strbuf_appends(sb, from_list_domain(fl, i));
	}
}

/* Every address with a FROM_OK status has a domain, and only those. */
static bool
addresses_consistent(const struct from_list *fl)
{
	const struct from_address *a;
	size_t i;

	for (i = 0; i < from_list_naddresses(fl); i++) {
		a = from_list_address(fl, i);
		if (a->local_part == NULL || a->domain_raw == NULL)
			return false;
		if ((a->status == FROM_OK) != (a->domain != NULL))
			return false;
	}
	return true;
}

static void
test_fields(void)
{
	struct strbuf sb = STRBUF_INIT;
	const struct field_case *c;
	const struct from_address *a;
	struct from_list *fl;
	enum from_status st;
	size_t i, len;

	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		c = &field_cases[i];
		len = c->len != 0 ? c->len : strlen(c->value);
		if ((fl = from_list_new()) == NULL) {
			tap_ok(0, "%s: from_list_new", c->name);
			continue;
		}
		st = from_list_add_field(fl, c->value, len);
		tap_ok(st == c->want && from_list_status(fl) == c->want,
		    "%s: status %s", c->name, from_strerror(c->want));
		if (st != c->want)
			tap_diag("got %s", from_strerror(st));
		join_domains(fl, &sb);
		tap_str(strbuf_cstr(&sb), c->domains, "%s: domains", c->name);
		tap_ok(addresses_consistent(fl), "%s: addresses consistent",
		    c->name);
		a = from_list_address(fl, 0);
		if (c->local != NULL)
			tap_str(a != NULL ? a->local_part : NULL, c->local,
			    "%s: local part", c->name);
		if (c->display != NULL)
			tap_str(a == NULL ? NULL : a->display_name != NULL ?
			    a->display_name : NODISP, c->display,
			    "%s: display name", c->name);
		from_list_free(fl);
	}
	strbuf_release(&sb);
}

/* Several fields in one message. */
struct multi_case {
	const char	*name;
	const char	*fields[3];	/* NULL-terminated */
	enum from_status want;
	const char	*domains;
};

static const struct multi_case multi_cases[] = {
	{ "no From field", { NULL }, FROM_ERR_NONE, "" },
	{ "one field", { "a@x.test", NULL }, FROM_OK, "x.test" },
	{ "two fields, two domains", { "a@x.test", "b@y.test", NULL },
	    FROM_ERR_MULTIPLE_FIELDS, "x.test,y.test" },
	{ "two identical fields", { "a@x.test", "a@x.test", NULL },
	    FROM_ERR_MULTIPLE_FIELDS, "x.test" },
	{ "second field empty", { "a@x.test", "", NULL },
	    FROM_ERR_MULTIPLE_FIELDS, "x.test" },
	{ "second field bad", { "a@x.test", "<<", NULL },
	    FROM_ERR_MULTIPLE_FIELDS, "x.test" },
	{ "three fields", { "a@x.test", "b@y.test", "c@z.test" },
	    FROM_ERR_MULTIPLE_FIELDS, "x.test,y.test,z.test" },
};

static void
test_multi(void)
{
	struct strbuf sb = STRBUF_INIT;
	const struct multi_case *c;
	struct from_list *fl;
	size_t i, j;

	for (i = 0; i < sizeof(multi_cases) / sizeof(multi_cases[0]); i++) {
		c = &multi_cases[i];
		if ((fl = from_list_new()) == NULL) {
			tap_ok(0, "%s: from_list_new", c->name);
			continue;
		}
		for (j = 0; j < 3 && c->fields[j] != NULL; j++)
			from_list_add_field(fl, c->fields[j],
			    strlen(c->fields[j]));
		tap_int(from_list_nfields(fl), j, "%s: field count", c->name);
		tap_ok(from_list_status(fl) == c->want, "%s: status %s",
		    c->name, from_strerror(c->want));
		join_domains(fl, &sb);
		tap_str(strbuf_cstr(&sb), c->domains, "%s: domains", c->name);
		from_list_free(fl);
	}
	strbuf_release(&sb);
}

/* from_domain_of_address(): MAIL FROM and command-line input. */
struct bare_case {
	const char	*name;
	const char	*addr;
	enum from_status want;
	const char	*domain;	/* NULL unless FROM_OK */
};

static const struct bare_case bare_cases[] = {
	{ "bare addr-spec", "user@example.com", FROM_OK, "example.com" },
	{ "bracketed, uppercase", "<user@Example.COM>", FROM_OK,
	    "example.com" },
	{ "white space around", "  <user@example.com>  ", FROM_OK,
	    "example.com" },
	{ "source route", "<@relay.test:user@example.com>", FROM_OK,
	    "example.com" },
	{ "quoted local part", "\"quoted user\"@example.com", FROM_OK,
	    "example.com" },
	{ "IDN", "user@b\xc3\xbc" "cher.example", FROM_OK,
	    "xn--bcher-kva.example" },
	{ "trailing dot", "<user@example.com.>", FROM_OK, "example.com" },
	{ "null reverse-path", "<>", FROM_ERR_NO_ADDRESS, NULL },
	{ "empty", "", FROM_ERR_NO_ADDRESS, NULL },
	{ "local part only", "user", FROM_ERR_BAD_DOMAIN, NULL },
	{ "empty domain", "user@", FROM_ERR_BAD_DOMAIN, NULL },
	{ "bracketed without domain", "<postmaster>", FROM_ERR_BAD_DOMAIN,
	    NULL },
	{ "literal", "user@[192.0.2.1]", FROM_ERR_DOMAIN_LITERAL, NULL },
	{ "display name refused", "Name <user@example.com>", FROM_ERR_SYNTAX,
	    NULL },
	{ "two addresses refused", "a@x.test, b@y.test", FROM_ERR_SYNTAX,
	    NULL },
	{ "missing '>'", "<user@example.com", FROM_ERR_SYNTAX, NULL },
	{ "text after <>", "<> x", FROM_ERR_SYNTAX, NULL },
	{ "group refused", "g: a@x.test;", FROM_ERR_SYNTAX, NULL },
	{ "phrase refused", "John Smith", FROM_ERR_SYNTAX, NULL },
};

static void
test_bare(void)
{
	const struct bare_case *c;
	enum from_status st;
	char *dom;
	size_t i;

	for (i = 0; i < sizeof(bare_cases) / sizeof(bare_cases[0]); i++) {
		c = &bare_cases[i];
		dom = (char *)"junk";
		st = from_domain_of_address(c->addr, strlen(c->addr), &dom);
		tap_ok(st == c->want, "bare %s: status %s", c->name,
		    from_strerror(c->want));
		if (st != c->want)
			tap_diag("got %s", from_strerror(st));
		tap_str(dom, c->domain, "bare %s: domain", c->name);
		mem_free(dom);
	}
}

/* A value of n copies of unit, up to max bytes. */
static char *
repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_appends(&sb, prefix);
	for (i = 0; i < n; i++)
		strbuf_appends(&sb, unit);
	strbuf_appends(&sb, suffix);
	return strbuf_steal(&sb);
}

static enum from_status
parse_one(const char *v, size_t len, struct from_list **out)
{
	struct from_list *fl;
	enum from_status st;

	if ((fl = from_list_new()) == NULL)
		return FROM_ERR_NOMEM;
	from_list_add_field(fl, v, len);
	st = from_list_status(fl);
	if (out != NULL)
		*out = fl;
	else
		from_list_free(fl);
	return st;
}

static void
test_bounds(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct from_list *fl = NULL;
	enum from_status st;
	char *v;
	size_t i;

	/* Field length. */
	v = repeat("a@x.test", " ", FROM_MAX_FIELD_LEN - 8, "");
	tap_int(parse_one(v, strlen(v), NULL), FROM_OK,
	    "bound: field of exactly FROM_MAX_FIELD_LEN bytes");
	mem_free(v);
	v = repeat("a@x.test", " ", FROM_MAX_FIELD_LEN - 7, "");
	tap_int(parse_one(v, strlen(v), NULL), FROM_ERR_TOO_LONG,
	    "bound: field one byte too long");
	mem_free(v);
	tap_int(from_domain_of_address("a@x.test", FROM_MAX_FIELD_LEN + 1,
	    &v), FROM_ERR_TOO_LONG, "bound: bare address too long");

	/* Address count, each mailbox a distinct domain. */
	for (i = 0; i < FROM_MAX_ADDRESSES; i++)
		strbuf_appendf(&sb, "%su%zu@d%zu.test", i ? ", " : "", i, i);
	st = parse_one(strbuf_cstr(&sb), strbuf_len(&sb), &fl);
	tap_int(st, FROM_OK, "bound: FROM_MAX_ADDRESSES mailboxes");
	tap_int(from_list_ndomains(fl), FROM_MAX_ADDRESSES,
	    "bound: FROM_MAX_ADDRESSES distinct domains");
	tap_str(from_list_domain(fl, FROM_MAX_ADDRESSES - 1), "d63.test",
	    "bound: last domain kept");
	tap_ok(from_list_domain(fl, FROM_MAX_ADDRESSES) == NULL,
	    "bound: domain index out of range is NULL");
	tap_ok(from_list_address(fl, FROM_MAX_ADDRESSES) == NULL,
	    "bound: address index out of range is NULL");
	from_list_free(fl);
	strbuf_appends(&sb, ", one@more.test");
	tap_int(parse_one(strbuf_cstr(&sb), strbuf_len(&sb), NULL),
	    FROM_ERR_TOO_MANY, "bound: one mailbox too many");
	strbuf_release(&sb);

	/* The address cap counts over all fields of the list. */
	fl = from_list_new();
	v = repeat("a@x.test", ", a@x.test", FROM_MAX_ADDRESSES - 1, "");
	tap_int(from_list_add_field(fl, v, strlen(v)), FROM_OK,
	    "bound: first field fills the list");
	tap_int(from_list_add_field(fl, "b@y.test", 8), FROM_ERR_TOO_MANY,
	    "bound: second field over the cap");
	tap_int(from_list_status(fl), FROM_ERR_MULTIPLE_FIELDS,
	    "bound: two fields still reported as multiple");
	mem_free(v);
	from_list_free(fl);

	/* Comment nesting. */
	{
		struct strbuf c = STRBUF_INIT;

		strbuf_appends(&c, "a@x.test ");
		for (i = 0; i < FROM_MAX_COMMENT_DEPTH; i++)
			strbuf_appendc(&c, '(');
		for (i = 0; i < FROM_MAX_COMMENT_DEPTH; i++)
			strbuf_appendc(&c, ')');
		tap_int(parse_one(strbuf_cstr(&c), strbuf_len(&c), NULL),
		    FROM_OK, "bound: comments nested FROM_MAX_COMMENT_DEPTH");
		strbuf_reset(&c);
		strbuf_appends(&c, "a@x.test ");
		for (i = 0; i <= FROM_MAX_COMMENT_DEPTH; i++)
			strbuf_appendc(&c, '(');
		for (i = 0; i <= FROM_MAX_COMMENT_DEPTH; i++)
			strbuf_appendc(&c, ')');
		tap_int(parse_one(strbuf_cstr(&c), strbuf_len(&c), NULL),
		    FROM_ERR_TOO_DEEP, "bound: comments nested one too deep");
		strbuf_release(&c);
	}

	/* Error positions. */
	fl = from_list_new();
	from_list_add_field(fl, "a@x.test", 8);
	tap_int(from_list_error_at(fl, NULL, NULL), 0,
	    "error position: none when the field parses");
	from_list_add_field(fl, "Name <a@example.com", 19);
	{
		size_t field = 99, off = 99;

		tap_int(from_list_error_at(fl, &field, &off), 1,
		    "error position: reported");
		tap_int(field, 1, "error position: second field");
		tap_int(off, 19, "error position: at the end of the value");
	}
	from_list_free(fl);
}

/*
 * Hostile inputs that make naive parsers quadratic: each must finish
 * far below a second (a quadratic parse of 16 KiB takes seconds).
 */
static void
test_linear(void)
{
	static const struct {
		const char *name, *prefix, *unit, *suffix;
	} cases[] = {
		{ "open comments", "", "(", "" },
		{ "comment pairs", "a@x.test ", "()", "" },
		{ "encoded-word starts", "", "=?", "" },
		{ "encoded-word heads", "", "=?a?q?", "" },
		{ "encoded words with specials", "", "=?a?q?<@?= ",
		    "<a@x.test>" },
		{ "broken encoded words", "", "=?a?q?<@=?", "" },
		{ "dots in local part", "", "a.", "@x.test" },
		{ "phrase words", "", "a ", "<a@x.test>" },
		{ "empty groups", "", "g:;,", "" },
		{ "empty elements", "", ",", "a@x.test" },
		{ "quoted pairs", "\"", "\\\"", "\"@x.test" },
		{ "route commas", "<@a", ",", ":a@x.test>" },
		{ "folds", "a@x.test", "\r\n ", "" },
		{ "many dots in domain", "a@", "a.", "test" },
		{ "many mailboxes", "", "a@x.test,", "" },
	};
	enum from_status st;
	clock_t t0;
	double secs;
	size_t i, n, ul;
	char *v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ul = strlen(cases[i].unit);
		n = (FROM_MAX_FIELD_LEN - strlen(cases[i].prefix) -
		    strlen(cases[i].suffix)) / ul;
		v = repeat(cases[i].prefix, cases[i].unit, n, cases[i].suffix);
		t0 = clock();
		st = parse_one(v, strlen(v), NULL);
		secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		tap_ok(secs < 1.0 && st != FROM_ERR_NOMEM,
		    "linear: %s (%zu bytes, %s)", cases[i].name, strlen(v),
		    from_strerror(st));
		if (secs >= 1.0)
			tap_diag("took %.3f s", secs);
		mem_free(v);
	}
}

/*
 * Allocation failures (as in expat's alloc_tests.c): fail the n-th
 * allocation for n = 0, 1, ... until the parse succeeds; every earlier
 * attempt must report FROM_ERR_NOMEM cleanly, and ASan checks for leaks.
 */
static void
test_alloc(void)
{
	static const char *const values[] = {
		"a@x.test",
		"\"Doe, John\" <john@EXAMPLE.com>, b@b\xc3\xbc" "cher.example",
		"Team: a@x.test, (c) b@y.test, c@x.test;, d@[192.0.2.1], e@",
		"=?utf-8?q?a@b?= <@r.test:u@z.test>, v@w.test, x@y.test, "
		"p@q.test, r@s.test",
	};
	struct from_list *fl, *ref;
	enum from_status want, st;
	bool clean;
	char *dom;
	long n;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		ref = from_list_new();
		want = from_list_add_field(ref, values[i], strlen(values[i]));
		clean = true;
		for (n = 0; n < 1000; n++) {
			mem_fail_after(n);
			fl = from_list_new();
			st = fl == NULL ? FROM_ERR_NOMEM :
			    from_list_add_field(fl, values[i],
			    strlen(values[i]));
			if (fl != NULL && st == FROM_ERR_NOMEM &&
			    from_list_status(fl) != FROM_ERR_NOMEM)
				clean = false;
			mem_fail_after(-1);
			from_list_free(fl);
			if (st != FROM_ERR_NOMEM) {
				clean = clean && st == want;
				break;
			}
		}
		tap_ok(clean && n < 1000 && n > 0,
		    "alloc: value %zu recovers after %ld failures", i, n);
		from_list_free(ref);
	}

	clean = true;
	for (n = 0; n < 1000; n++) {
		mem_fail_after(n);
		st = from_domain_of_address("<@r.test:u@EXAMPLE.com>", 23,
		    &dom);
		mem_fail_after(-1);
		if (st != FROM_ERR_NOMEM) {
			tap_str(dom, "example.com", "alloc: bare domain");
			mem_free(dom);
			break;
		}
		if (dom != NULL)
			clean = false;
	}
	tap_ok(clean && n < 1000 && n > 0,
	    "alloc: bare address recovers after %ld failures", n);
}

static void
test_misc(void)
{
	struct from_list *fl;
	enum from_status st;
	const char *s;
	size_t i;
	bool distinct = true;

	from_list_free(NULL);
	tap_ok(1, "misc: from_list_free(NULL) is a no-op");
	for (st = FROM_OK; st <= FROM_ERR_NOMEM; st++) {
		s = from_strerror(st);
		if (s == NULL || *s == '\0')
			distinct = false;
		for (i = FROM_OK; i < (size_t)st; i++)
			if (strcmp(from_strerror((enum from_status)i), s) == 0)
				distinct = false;
	}
	tap_ok(distinct, "misc: every status has its own message");
	tap_ok(from_strerror((enum from_status)999) != NULL,
	    "misc: unknown status has a message");
	fl = from_list_new();
	tap_int(from_list_add_field(fl, NULL, 0), FROM_ERR_NO_ADDRESS,
	    "misc: NULL value with length 0 is an empty field");
	from_list_free(fl);
}

int
main(void)
{
	test_fields();
	test_multi();
	test_bare();
	test_bounds();
	test_linear();
	test_alloc();
	test_misc();
	return tap_done();
}
