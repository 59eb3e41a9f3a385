/*
 * test_spf_screen.c - the RFC 7208 screen (auth/spf_screen.c), table by
 * table: valid records and their normalised form, every error class, the
 * CVE-2023-42118 triggers, explanation strings, bounds and allocation
 * failure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth/spf_screen.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "tap.h"

struct rec_case {
	const char	*name;
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	enum spf_screen_status want;
	const char	*out;		/* expected normalised record */
};

static const struct rec_case records[] = {
	{ "bare version", "v=spf1", 0, SPF_SCREEN_OK, "v=spf1" },
	{ "simple", "v=spf1 -all", 0, SPF_SCREEN_OK, "v=spf1 -all" },
	{ "case and names lowered",
	    "V=SPF1 +A:Example.COM/24 MX -ALL", 0, SPF_SCREEN_OK,
	    "v=spf1 +a:Example.COM/24 mx -all" },
	{ "extra spaces", "v=spf1  a   -all ", 0, SPF_SCREEN_OK,
	    "v=spf1 a -all" },
	{ "redirect kept", "v=spf1 redirect=_spf.example.com", 0,
	    SPF_SCREEN_OK, "v=spf1 redirect=_spf.example.com" },
	{ "redirect ignored with all (6.1)",
	    "v=spf1 redirect=x.example.com ~all", 0, SPF_SCREEN_OK,
	    "v=spf1 ~all" },
	{ "redirect moved last",
	    "v=spf1 redirect=x.example.com ip4:192.0.2.1", 0, SPF_SCREEN_OK,
	    "v=spf1 ip4:192.0.2.1 redirect=x.example.com" },
	{ "exp moved last", "v=spf1 exp=e.example.com -all", 0,
	    SPF_SCREEN_OK, "v=spf1 -all exp=e.example.com" },
	{ "unknown modifier dropped", "v=spf1 default=pass -all", 0,
	    SPF_SCREEN_OK, "v=spf1 -all" },
	{ "modifier name charset", "v=spf1 moo.cow-far_out=man:dog/cat -all",
	    0, SPF_SCREEN_OK, "v=spf1 -all" },
	{ "libspf2 exp-text dropped", "v=spf1 exp-text=x -all", 0,
	    SPF_SCREEN_OK, "v=spf1 -all" },
	{ "macros", "v=spf1 exists:%{i}.%{l2r-}.user.%{d2}", 0,
	    SPF_SCREEN_OK, "v=spf1 exists:%{i}.%{l2r-}.user.%{d2}" },
	{ "many delimiters", "v=spf1 exists:%{l1r+-}.x.example.com", 0,
	    SPF_SCREEN_OK, "v=spf1 exists:%{l1r+-}.x.example.com" },
	{ "all RFC delimiters", "v=spf1 exists:%{l.-+,/_=}.example.com", 0,
	    SPF_SCREEN_OK, "v=spf1 exists:%{l.-+,/_=}.example.com" },
	{ "upper R transformer", "v=spf1 exists:%{D2R}.x.example.com", 0,
	    SPF_SCREEN_OK, "v=spf1 exists:%{D2r}.x.example.com" },
	{ "transformer 128", "v=spf1 exists:%{d128}.example.com", 0,
	    SPF_SCREEN_OK, "v=spf1 exists:%{d128}.example.com" },
	{ "escapes", "v=spf1 a:macro%%percent%_%_space%-url-space.example.com",
	    0, SPF_SCREEN_OK,
	    "v=spf1 a:macro%%percent%_%_space%-url-space.example.com" },
	{ "domain-end macro", "v=spf1 a:%{H}", 0, SPF_SCREEN_OK,
	    "v=spf1 a:%{H}" },
	{ "domain-end escape", "v=spf1 a:foo%%", 0, SPF_SCREEN_OK,
	    "v=spf1 a:foo%%" },
	{ "dual cidr", "v=spf1 ip6:2001:db8::/32 ip4:192.0.2.0/24 a//64 "
	    "mx/24//64 a:x.example.com/0//0", 0, SPF_SCREEN_OK,
	    "v=spf1 ip6:2001:db8::/32 ip4:192.0.2.0/24 a//64 mx/24//64 "
	    "a:x.example.com/0//0" },
	{ "colon and slash in domain", "v=spf1 a:foo:bar/baz.example.com", 0,
	    SPF_SCREEN_OK, "v=spf1 a:foo:bar/baz.example.com" },
	{ "ptr forms", "v=spf1 ptr ?ptr:example.com", 0, SPF_SCREEN_OK,
	    "v=spf1 ptr ?ptr:example.com" },
	{ "dash toplabel", "v=spf1 a:foo.example.xn--zckzah", 0,
	    SPF_SCREEN_OK, "v=spf1 a:foo.example.xn--zckzah" },
	{ "trailing dot", "v=spf1 include:o.spf.example.com.", 0,
	    SPF_SCREEN_OK, "v=spf1 include:o.spf.example.com." },
	{ "mapped ip6", "v=spf1 ip6:::FFFF:1.2.3.4", 0, SPF_SCREEN_OK,
	    "v=spf1 ip6:::FFFF:1.2.3.4" },
	{ "unknown modifier may use c r t",
	    "v=spf1 foo=%{c}%{r}%{t} -all", 0, SPF_SCREEN_OK, "v=spf1 -all" },

	{ "not spf: v=spf10", "v=spf10", 0, SPF_SCREEN_ERR_NOT_SPF, NULL },
	{ "not spf: no version", "spf1 -all", 0, SPF_SCREEN_ERR_NOT_SPF, NULL },
	{ "NUL byte", "v=spf1 a:foo.example.com\0", 25,
	    SPF_SCREEN_ERR_CHAR, NULL },
	{ "8-bit byte", "v=spf1 \x80" "a:example.net -all", 0,
	    SPF_SCREEN_ERR_CHAR, NULL },
	{ "UTF-8 BOM", "v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all", 0,
	    SPF_SCREEN_ERR_CHAR, NULL },
	{ "CR between terms", "v=spf1 a:ctrl.example.com\rptr -all", 0,
	    SPF_SCREEN_ERR_CHAR, NULL },
	{ "tab between terms", "v=spf1 a\t-all", 0, SPF_SCREEN_ERR_CHAR,
	    NULL },
	{ "unknown term", "v=spf1 -all moo", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "modifier name starts with digit", "v=spf1 1up=foo", 0,
	    SPF_SCREEN_ERR_TERM, NULL },
	{ "empty modifier name", "v=spf1 =all", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "all with dot", "v=spf1 -all.", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "all with arg", "v=spf1 -all:foobar", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "all with cidr", "v=spf1 -all/8", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "include without domain", "v=spf1 include +all", 0,
	    SPF_SCREEN_ERR_TERM, NULL },
	{ "bare ip4", "v=spf1 ip4", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "redirect as mechanism", "v=spf1 redirect:x.example.com", 0,
	    SPF_SCREEN_ERR_TERM, NULL },
	{ "qualified modifier", "v=spf1 -redirect=x.example.com", 0,
	    SPF_SCREEN_ERR_TERM, NULL },
	{ "slash in modifier name", "v=spf1 moo.cow/far_out=man:dog/cat", 0,
	    SPF_SCREEN_ERR_TERM, NULL },
	{ "ptr with cidr", "v=spf1 ptr/0 -all", 0, SPF_SCREEN_ERR_TERM, NULL },
	{ "empty a domain", "v=spf1 a:", 0, SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "empty ptr domain", "v=spf1 ptr:", 0, SPF_SCREEN_ERR_DOMAIN_SPEC,
	    NULL },
	{ "only toplabel", "v=spf1 a:museum", 0, SPF_SCREEN_ERR_DOMAIN_SPEC,
	    NULL },
	{ "only toplabel dot", "v=spf1 a:museum.", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "numeric toplabel", "v=spf1 a:abc.123", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "address as domain", "v=spf1 a:111.222.33.44", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "toplabel starts with dash", "v=spf1 a:example.-com", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "port in domain", "v=spf1 a:example.com:8080", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "exists with cidr", "v=spf1 exists:mail.example.com/24", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "include with cidr", "v=spf1 include:ip5.example.com/24 -all", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "empty exp", "v=spf1 exp= -all", 0, SPF_SCREEN_ERR_DOMAIN_SPEC,
	    NULL },
	{ "empty redirect", "v=spf1 ?all redirect=", 0,
	    SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "exp=-all", "v=spf1 exp=-all", 0, SPF_SCREEN_ERR_DOMAIN_SPEC, NULL },
	{ "macro then dot", "v=spf1 a:%{d}.", 0, SPF_SCREEN_ERR_DOMAIN_SPEC,
	    NULL },
	{ "percent paren", "v=spf1 -exists:%(ir).sbl.example.com ?all", 0,
	    SPF_SCREEN_ERR_MACRO, NULL },
	{ "percent dot", "v=spf1 exists:foo%.sbl.example.com", 0,
	    SPF_SCREEN_ERR_MACRO, NULL },
	{ "percent at end", "v=spf1 exists:foo.example.com%", 0,
	    SPF_SCREEN_ERR_MACRO, NULL },
	{ "unterminated macro", "v=spf1 exists:%{d", 0, SPF_SCREEN_ERR_MACRO,
	    NULL },
	{ "bad macro in unknown modifier", "v=spf1 -all foo=%abc", 0,
	    SPF_SCREEN_ERR_MACRO, NULL },
	{ "bar delimiter (libspf2 only)", "v=spf1 exists:%{d|}.example.com", 0,
	    SPF_SCREEN_ERR_MACRO, NULL },
	{ "17 delimiters", "v=spf1 exists:%{d.................}.example.com",
	    0, SPF_SCREEN_ERR_MACRO, NULL },
	{ "unknown macro letter", "v=spf1 a:%{a}.example.com -all", 0,
	    SPF_SCREEN_ERR_MACRO_LETTER, NULL },
	{ "r outside explanation", "v=spf1 -all exp=%{r}.example.com", 0,
	    SPF_SCREEN_ERR_MACRO_LETTER, NULL },
	{ "c in a domain", "v=spf1 a:%{c}.example.com", 0,
	    SPF_SCREEN_ERR_MACRO_LETTER, NULL },
	{ "t in a domain", "v=spf1 exists:%{t}.example.com", 0,
	    SPF_SCREEN_ERR_MACRO_LETTER, NULL },
	{ "transformer 0", "v=spf1 exists:%{d0}.example.com", 0,
	    SPF_SCREEN_ERR_TRANSFORMER, NULL },
	{ "transformer 129", "v=spf1 exists:%{d129}.example.com", 0,
	    SPF_SCREEN_ERR_TRANSFORMER, NULL },
	{ "transformer 4 digits", "v=spf1 exists:%{d0001}.example.com", 0,
	    SPF_SCREEN_ERR_TRANSFORMER, NULL },
	{ "transformer huge", "v=spf1 exists:%{d4294967297}.example.com", 0,
	    SPF_SCREEN_ERR_TRANSFORMER, NULL },
	{ "ip4 cidr 33", "v=spf1 ip4:1.2.3.4/33 -all", 0,
	    SPF_SCREEN_ERR_CIDR, NULL },
	{ "ip4 cidr leading zero", "v=spf1 ip4:1.2.3.4/032 -all", 0,
	    SPF_SCREEN_ERR_CIDR, NULL },
	{ "a ip6 cidr 129", "v=spf1 a//129 -all", 0, SPF_SCREEN_ERR_CIDR,
	    NULL },
	{ "a ip4 cidr 33", "v=spf1 a/33 -all", 0, SPF_SCREEN_ERR_CIDR, NULL },
	{ "a single-slash ip6 cidr", "v=spf1 a/24/64 -all", 0,
	    SPF_SCREEN_ERR_CIDR, NULL },
	{ "ip6 cidr 129", "v=spf1 ip6:::1.1.1.1/129", 0, SPF_SCREEN_ERR_CIDR,
	    NULL },
	{ "short ip4", "v=spf1 ip4:1.2.3", 0, SPF_SCREEN_ERR_IP, NULL },
	{ "ip4 with port", "v=spf1 ip4:1.2.3.4:8080", 0, SPF_SCREEN_ERR_IP,
	    NULL },
	{ "ip4 leading zero", "v=spf1 ip4:01.2.3.4", 0, SPF_SCREEN_ERR_IP,
	    NULL },
	{ "ip4 dual cidr", "v=spf1 ip4:1.2.3.4//32", 0, SPF_SCREEN_ERR_IP,
	    NULL },
	{ "ip6 double ::", "v=spf1 ip6::CAFE::BABE", 0, SPF_SCREEN_ERR_IP,
	    NULL },
	{ "ip6 dual cidr", "v=spf1 ip6:::1.1.1.1//33", 0, SPF_SCREEN_ERR_IP,
	    NULL },
	{ "exp twice", "v=spf1 exp=a.example.com -all exp=b.example.com", 0,
	    SPF_SCREEN_ERR_DUP_MODIFIER, NULL },
	{ "redirect twice", "v=spf1 redirect=a.example.com -all "
	    "redirect=a.example.com", 0, SPF_SCREEN_ERR_DUP_MODIFIER, NULL },
};

struct exp_case {
	const char	*name;
	const char	*in;
	enum spf_screen_status want;
	const char	*out;
};

static const struct exp_case explanations[] = {
	{ "spaces become %_", "This is a test.", SPF_SCREEN_OK,
	    "This%_is%_a%_test." },
	{ "exp macros", "%{c} is queried as %{ir}.%{v}.arpa", SPF_SCREEN_OK,
	    "%{c}%_is%_queried%_as%_%{ir}.%{v}.arpa" },
	{ "r and t allowed", "%{r} at %{t}", SPF_SCREEN_OK,
	    "%{r}%_at%_%{t}" },
	{ "empty", "", SPF_SCREEN_OK, "" },
	{ "unknown letter", "The %{x}-files.", SPF_SCREEN_ERR_MACRO_LETTER,
	    NULL },
	{ "non-ASCII", "\xEF\xBB\xBF" "Explanation", SPF_SCREEN_ERR_CHAR,
	    NULL },
	{ "bad escape", "100% sure", SPF_SCREEN_ERR_MACRO, NULL },
};

static void
test_records(void)
{
	struct strbuf out = STRBUF_INIT;
	enum spf_screen_status st;
	size_t i, len, off;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		len = records[i].len != 0 ? records[i].len :
		    strlen(records[i].in);
		st = spf_screen_record(records[i].in, len, &out, &off);
		tap_str(spf_screen_strerror(st),
		    spf_screen_strerror(records[i].want), "record: %s",
		    records[i].name);
		if (records[i].out != NULL)
			tap_str(strbuf_cstr(&out), records[i].out,
			    "record: %s: normalised", records[i].name);
		else
			tap_ok(strbuf_len(&out) == 0 && off <= len,
			    "record: %s: empty output, offset %zu in range",
			    records[i].name, off);
	}
	strbuf_release(&out);
}

static void
test_explanations(void)
{
	struct strbuf out = STRBUF_INIT;
	enum spf_screen_status st;
	size_t i;

	for (i = 0; i < sizeof(explanations) / sizeof(explanations[0]); i++) {
		st = spf_screen_explanation(explanations[i].in,
		    strlen(explanations[i].in), &out, NULL);
		tap_str(spf_screen_strerror(st),
		    spf_screen_strerror(explanations[i].want), "exp: %s",
		    explanations[i].name);
		if (explanations[i].out != NULL)
			tap_str(strbuf_cstr(&out), explanations[i].out,
			    "exp: %s: text", explanations[i].name);
	}
	strbuf_release(&out);
}

/* Build s repeated n times, with prefix and suffix. */
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

/*
 * CVE-2023-42118: libspf2 1.2.10 underflows once a term's compiled form
 * reaches 508 bytes; these are the shapes that get there.
 */
static void
test_cve(void)
{
	struct strbuf out = STRBUF_INIT;
	enum spf_screen_status st;
	char *s;

	/* The classic: 127 macros then a literal (explanation path, where
	 * the buffer is 519 bytes and one literal byte overflows it). */
	s = repeat("", "%{d}", 127, "xxxxxxxxxx");
	st = spf_screen_explanation(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TOO_MANY_MACROS),
	    "cve: 127 macros + literal in an explanation");
	free(s);

	s = repeat("v=spf1 exists:", "%{d}", 127, ".example.com");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TOO_MANY_MACROS),
	    "cve: 127 macros in a domain-spec");
	free(s);

	/* Few macros, many 3-byte "%-" escapes: over the cost bound. */
	s = repeat("v=spf1 exists:", "%-%-%-%{d}", 30, ".example.com");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TERM_TOO_BIG),
	    "cve: escapes and macros over the cost bound");
	free(s);

	/* Literal runs between macros: each costs a header and padding. */
	s = repeat("v=spf1 exists:", "abcde%{d}", 31, ".example.com");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TERM_TOO_BIG),
	    "cve: literal runs and macros over the cost bound");
	free(s);

	/* One literal run longer than libspf2's 255-byte fragment. */
	s = repeat("v=spf1 a:", "%-", 90, ".example.com");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TERM_TOO_BIG),
	    "cve: literal run over 255 bytes");
	free(s);

	s = repeat("", "%-", 200, "");
	st = spf_screen_explanation(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TERM_TOO_BIG),
	    "cve: explanation literal over the bound");
	free(s);

	/* Just under the bounds is still fine. */
	s = repeat("v=spf1 exists:", "%{d}", 32, ".example.com");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st), spf_screen_strerror(SPF_SCREEN_OK),
	    "cve: 32 macros are allowed");
	free(s);

	s = repeat("v=spf1 exists:%{d}", " exists:%{d}.example.com", 32, "");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TOO_MANY_MACROS),
	    "cve: macro count is per record");
	free(s);
	strbuf_release(&out);
}

static const char alloc_rec[] = "v=spf1 a:%{d}.example.com "
    "redirect=x.example.com exp=%{d}.example.com";

static void
test_bounds(void)
{
	struct strbuf out = STRBUF_INIT;
	enum spf_screen_status st;
	char *s;
	long failed;
	int n;

	s = repeat("v=spf1", " a", 128, "");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st), spf_screen_strerror(SPF_SCREEN_OK),
	    "bounds: 128 terms");
	free(s);
	s = repeat("v=spf1", " a", 129, "");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TOO_MANY_TERMS),
	    "bounds: 129 terms");
	free(s);
	s = repeat("v=spf1", " ", SPF_SCREEN_MAX_RECORD, "");
	st = spf_screen_record(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TOO_LONG),
	    "bounds: record over 4096 bytes");
	free(s);
	s = repeat("", "x", SPF_SCREEN_MAX_EXP + 1, "");
	st = spf_screen_explanation(s, strlen(s), &out, NULL);
	tap_str(spf_screen_strerror(st),
	    spf_screen_strerror(SPF_SCREEN_ERR_TOO_LONG),
	    "bounds: explanation over 1024 bytes");
	free(s);

	tap_ok(spf_screen_is_spf_record("v=spf1", 6) &&
	    spf_screen_is_spf_record("V=SpF1 -all", 11) &&
	    !spf_screen_is_spf_record("v=spf10", 7) &&
	    !spf_screen_is_spf_record("v=spf1mx", 8) &&
	    !spf_screen_is_spf_record("v=spf", 5) &&
	    !spf_screen_is_spf_record(NULL, 0), "is_spf_record");

	/* Every allocation failure gives NOMEM or a clean result. */
	for (n = 0; n < 40; n++) {
		strbuf_release(&out);
		mem_fail_after(n);
		st = spf_screen_record(alloc_rec, strlen(alloc_rec), &out,
		    NULL);
		failed = mem_fail_after(-1);
		if (failed == 0)
			break;
		if (st != SPF_SCREEN_ERR_NOMEM || strbuf_len(&out) != 0) {
			tap_ok(0, "alloc failure %d: got %s", n,
			    spf_screen_strerror(st));
			break;
		}
	}
	tap_ok(n < 40 && st == SPF_SCREEN_OK,
	    "allocation failures handled (%d steps)", n);
	strbuf_release(&out);
}

int
main(void)
{
	test_records();
	test_explanations();
	test_cve();
	test_bounds();
	return tap_done();
}
