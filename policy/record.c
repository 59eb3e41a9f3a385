/*
 * record.c - the DMARC policy record parser.
 *
 * Parses the tag-value text of a DMARC Policy Record (RFC 9989 sections
 * 4.7 and 4.8) and the RFC 7489 tags that old records still carry (pct,
 * rf, ri: RFC 7489 section 6.3, "historic" in RFC 9989 section 9.3).
 * Every error and warning becomes a struct record_issue with its byte
 * position and an English sentence, because dmarcctl check shows them.
 *
 * Receiver rules applied here:
 * - v=DMARC1 must be the first tag, else the record is not DMARC at all
 *   (RFC 9989 section 4.7, tag v).
 * - A bad value of any other tag is discarded in favour of the default
 *   (section 4.8: "Syntax errors in the remainder of the record MUST be
 *   discarded in favor of default values"); unknown tags are ignored.
 * - An invalid p, sp or np: the record acts as p=none if rua has a valid
 *   URI, otherwise it is unusable (section 4.10.1).
 *
 * Decisions where the texts leave room (each repeated where it is coded):
 * - Case: RFC 5234 section 2.3 makes quoted ABNF strings case-insensitive,
 *   so tag names and keyword values match in any case ("P=Reject" is
 *   valid); only the v value is case-sensitive (%s"DMARC1", RFC 7405).
 * - A missing p tag is p=none (section 4.7, tag p), with a warning.
 * - A repeated tag: the first occurrence counts, later ones are errors
 *   that are discarded (section 4.8), rather than invalidating the whole
 *   record as RFC 6376 section 3.2 does for DKIM key records.
 * - pct out of 0..100 or not a number: the default 100 (RFC 7489 section
 *   6.3: errors "SHOULD be discarded in favor of default values").
 * - Spaces before v=DMARC1 are accepted with a warning (RFC 6376 section
 *   3.2 allows them in tag lists; the DMARC ABNF does not).
 *
 * Left out: DNS and the joining of TXT character-strings (section 4.5),
 * policy discovery, and external-destination verification (RFC 9990
 * section 3), which need DNS; see grade.c and report/.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "record.h"

#define ESC_MAX		48	/* bytes of untrusted text quoted in a message */
#define NO_POS		SIZE_MAX

/* Every code below; keep in sync with record_issue_codes[]. */
const char *const record_issue_codes[] = {
	"record_too_long", "leading_whitespace", "v_missing", "v_not_first",
	"v_invalid", "missing_semicolon", "empty_tag", "tag_syntax",
	"unknown_tag", "duplicate_tag", "empty_value", "p_invalid",
	"sp_invalid", "np_invalid", "adkim_invalid", "aspf_invalid",
	"psd_invalid", "t_invalid", "fo_invalid", "rf_invalid", "ri_invalid",
	"pct_invalid", "pct_out_of_range", "uri_empty", "uri_no_scheme",
	"uri_invalid", "uri_mailto_invalid", "uri_scheme_unsupported",
	"uri_size_invalid", "uri_size_overflow", "uri_size_obsolete",
	"too_many_uris", "p_missing", "treated_as_none", "no_usable_policy",
	NULL
};

struct span {
	size_t	 pos, len;
};

struct pctx {
	struct dmarc_record *r;
	const char *s;		/* r->raw */
	size_t	 len;
	size_t	 issues_cap, rua_cap, ruf_cap;
	bool	 nomem;		/* sticky: some allocation failed */
	bool	 is_dmarc;	/* first tag was v=DMARC1 */
	bool	 first_is_v;	/* first tag was a v tag, whatever its value */
	bool	 v_late;	/* a v tag came after another first tag */
	struct strbuf esc[2];	/* scratch for quoted untrusted text */
};

typedef void tag_parser(struct pctx *, enum record_tag, struct span);

static tag_parser parse_policy, parse_keyword, parse_fo, parse_rf,
    parse_ri, parse_pct, parse_uris;

static const struct tagdef {
	const char *name;
	enum record_tag tag;
	tag_parser *parse;
	const char *bad_code;	/* issue code for a bad value */
} tagdefs[RECORD_TAG_COUNT] = {
	{ "v",		RECORD_TAG_V,		NULL,		"v_invalid" },
	{ "p",		RECORD_TAG_P,		parse_policy,	"p_invalid" },
	{ "sp",		RECORD_TAG_SP,		parse_policy,	"sp_invalid" },
	{ "np",		RECORD_TAG_NP,		parse_policy,	"np_invalid" },
	{ "psd",	RECORD_TAG_PSD,		parse_keyword,	"psd_invalid" },
	{ "t",		RECORD_TAG_T,		parse_keyword,	"t_invalid" },
	{ "adkim",	RECORD_TAG_ADKIM,	parse_keyword,	"adkim_invalid" },
	{ "aspf",	RECORD_TAG_ASPF,	parse_keyword,	"aspf_invalid" },
	{ "fo",		RECORD_TAG_FO,		parse_fo,	"fo_invalid" },
	{ "rua",	RECORD_TAG_RUA,		parse_uris,	"uri_invalid" },
	{ "ruf",	RECORD_TAG_RUF,		parse_uris,	"uri_invalid" },
	{ "pct",	RECORD_TAG_PCT,		parse_pct,	"pct_invalid" },
	{ "rf",		RECORD_TAG_RF,		parse_rf,	"rf_invalid" },
	{ "ri",		RECORD_TAG_RI,		parse_ri,	"ri_invalid" },
};

/* ABNF core rules (RFC 5234 appendix B.1). */
static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive comparison of s[0..n) with a lowercase word. */
static bool
eq_ci(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || to_lower((unsigned char)s[i]) != word[i])
			return false;
	return word[n] == '\0';
}

static const char *
sp_str(const struct pctx *c, struct span v)
{
	return c->s + v.pos;
}

/*
 * Quote untrusted text for a message: escaped, cut to ESC_MAX bytes.  Two
 * slots so that one message can quote two pieces.
 */
static const char *
quote(struct pctx *c, int slot, const char *s, size_t n)
{
	struct strbuf *sb = &c->esc[slot];

	strbuf_reset(sb);
	strbuf_append_escaped(sb, s, n, ESC_MAX);
	if (strbuf_failed(sb)) {
		c->nomem = true;
		return "";
	}
	return strbuf_cstr(sb);
}

static const char *
quote_span(struct pctx *c, int slot, struct span v)
{
	return quote(c, slot, sp_str(c, v), v.len);
}

static void
issue_add(struct pctx *c, enum record_severity sev, const char *code,
    size_t pos, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Record one issue; past RECORD_MAX_ISSUES only count it. */
static void
issue_add(struct pctx *c, enum record_severity sev, const char *code,
    size_t pos, const char *fmt, ...)
{
	struct dmarc_record *r = c->r;
	struct record_issue *is;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	char *msg;

	if (c->nomem)
		return;
	if (r->nissues >= RECORD_MAX_ISSUES) {
		r->issues_dropped++;
		return;
	}
	if (r->nissues == c->issues_cap) {
		size_t ncap = c->issues_cap == 0 ? 4 : c->issues_cap * 2;

		if (ncap > RECORD_MAX_ISSUES)
			ncap = RECORD_MAX_ISSUES;
		is = mem_reallocarray(r->issues, ncap, sizeof(*is));
		if (is == NULL) {
			c->nomem = true;
			return;
		}
		r->issues = is;
		c->issues_cap = ncap;
	}
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	if ((msg = strbuf_steal(&sb)) == NULL) {
		c->nomem = true;
		return;
	}
	is = &r->issues[r->nissues++];
	is->severity = sev;
	is->code = code;
	is->pos = pos;
	is->message = msg;
}

static struct span
trim(const char *s, size_t pos, size_t end)
{
	struct span v;

	while (pos < end && is_wsp((unsigned char)s[pos]))
		pos++;
	while (end > pos && is_wsp((unsigned char)s[end - 1]))
		end--;
	v.pos = pos;
	v.len = end - pos;
	return v;
}

/*
 * Where a value seems to run into the next tag because a ';' is missing:
 * the position of whitespace followed by letters and '=' ("reject
 * rua=mailto:..."), or NO_POS.
 */
static size_t
find_missing_semicolon(const struct pctx *c, struct span v)
{
	const char *s = c->s;
	size_t i = v.pos, end = v.pos + v.len, j, k;

	while (i < end) {
		if (!is_wsp((unsigned char)s[i])) {
			i++;
			continue;
		}
		for (j = i; j < end && is_wsp((unsigned char)s[j]); j++)
			;
		for (k = j; k < end && is_alpha((unsigned char)s[k]); k++)
			;
		if (k > j) {
			while (k < end && is_wsp((unsigned char)s[k]))
				k++;
			if (k < end && s[k] == '=')
				return i;
		}
		i = j;
	}
	return NO_POS;
}

/* A p, sp or np tag whose value is unusable. */
static void
mark_invalid(struct pctx *c, enum record_tag tag)
{
	if (tag == RECORD_TAG_P)
		c->r->p_invalid = true;
	else if (tag == RECORD_TAG_SP)
		c->r->sp_invalid = true;
	else if (tag == RECORD_TAG_NP)
		c->r->np_invalid = true;
}

static void
mark_valid(struct pctx *c, enum record_tag tag)
{
	c->r->tags_valid |= 1u << tag;
}

static void
bad_value(struct pctx *c, enum record_tag tag, struct span v,
    const char *expect)
{
	mark_invalid(c, tag);
	issue_add(c, RECORD_SEV_ERROR, tagdefs[tag].bad_code, v.pos,
	    "Tag %s has the invalid value \"%s\"; %s.", tagdefs[tag].name,
	    quote_span(c, 0, v), expect);
}

/*
 * p, sp, np: dmarc-request = "none" / "quarantine" / "reject" (RFC 9989
 * section 4.8), in any case (RFC 5234 section 2.3).
 */
static void
parse_policy(struct pctx *c, enum record_tag tag, struct span v)
{
	static const char *const names[] = { "none", "quarantine", "reject" };
	enum dmarc_policy *dst = tag == RECORD_TAG_P ? &c->r->p :
	    tag == RECORD_TAG_SP ? &c->r->sp : &c->r->np;
	size_t i;

	for (i = 0; i < 3; i++)
		if (eq_ci(sp_str(c, v), v.len, names[i])) {
			*dst = (enum dmarc_policy)(DMARC_POLICY_NONE + i);
			mark_valid(c, tag);
			return;
		}
	bad_value(c, tag, v, "it must be none, quarantine or reject");
}

/* Single-letter keyword tags: psd, t, adkim, aspf. */
static void
parse_keyword(struct pctx *c, enum record_tag tag, struct span v)
{
	struct dmarc_record *r = c->r;
	int ch = v.len == 1 ? to_lower((unsigned char)c->s[v.pos]) : 0;

	switch (tag) {
	case RECORD_TAG_PSD:		/* dmarc-psd = "y" / "n" / "u" */
		if (ch == 'y' || ch == 'n' || ch == 'u') {
			r->psd = ch == 'y' ? DMARC_PSD_Y :
			    ch == 'n' ? DMARC_PSD_N : DMARC_PSD_U;
			break;
		}
		bad_value(c, tag, v, "it must be y, n or u");
		return;
	case RECORD_TAG_T:		/* dmarc-yorn = "y" / "n" */
		if (ch == 'y' || ch == 'n') {
			r->testing = ch == 'y';
			break;
		}
		bad_value(c, tag, v, "it must be y or n");
		return;
	default:			/* dmarc-rors = "r" / "s" */
		if (ch == 'r' || ch == 's') {
			*(tag == RECORD_TAG_ADKIM ? &r->adkim : &r->aspf) =
			    ch == 's' ? DMARC_ALIGN_STRICT : DMARC_ALIGN_RELAXED;
			break;
		}
		bad_value(c, tag, v,
		    "it must be r (relaxed) or s (strict); relaxed is used");
		return;
	}
	mark_valid(c, tag);
}

/*
 * fo: dmarc-fo (RFC 9989 section 4.8): colon-separated 0, 1, d, s; "0"
 * and "1" are mutually exclusive and each value appears at most once.
 * Spaces around the colons are tolerated.  A bad list gives the default 0.
 */
static void
parse_fo(struct pctx *c, enum record_tag tag, struct span v)
{
	size_t i = v.pos, end = v.pos + v.len;
	unsigned fo = 0, bit;

	while (i <= end) {
		size_t e = i;
		struct span t;

		while (e < end && c->s[e] != ':')
			e++;
		t = trim(c->s, i, e);
		bit = 0;
		if (t.len == 1)
			switch (to_lower((unsigned char)c->s[t.pos])) {
			case '0': bit = DMARC_FO_0; break;
			case '1': bit = DMARC_FO_1; break;
			case 'd': bit = DMARC_FO_D; break;
			case 's': bit = DMARC_FO_S; break;
			}
		if (bit == 0 || (fo & bit) != 0)
			goto bad;
		fo |= bit;
		i = e + 1;
	}
	if ((fo & (DMARC_FO_0 | DMARC_FO_1)) == (DMARC_FO_0 | DMARC_FO_1))
		goto bad;
	c->r->fo = fo;
	mark_valid(c, tag);
	return;
bad:
	bad_value(c, tag, v, "it must be a colon-separated list of 0, 1, d "
	    "and s, with 0 and 1 exclusive and each at most once; fo=0 is used");
}

/* rf (RFC 7489 section 6.3): colon-separated report formats. */
static void
parse_rf(struct pctx *c, enum record_tag tag, struct span v)
{
	size_t i = v.pos, end = v.pos + v.len;
	unsigned rf = 0;

	while (i <= end) {
		size_t e = i;
		struct span t;

		while (e < end && c->s[e] != ':')
			e++;
		t = trim(c->s, i, e);
		if (eq_ci(sp_str(c, t), t.len, "afrf"))
			rf |= DMARC_RF_AFRF;
		else if (eq_ci(sp_str(c, t), t.len, "iodef"))
			rf |= DMARC_RF_IODEF;
		else {
			bad_value(c, tag, v, "it must be afrf or iodef (or "
			    "both, separated by ':'); afrf is used");
			return;
		}
		i = e + 1;
	}
	c->r->rf = rf;
	mark_valid(c, tag);
}

/*
 * Digits only, as an unsigned number; false if empty, not digits, or
 * above max.
 */
static bool
parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out,
    bool *overflow)
{
	uint64_t v = 0;
	size_t i;

	*overflow = false;
	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit((unsigned char)s[i])) {
			*overflow = false;	/* not a number at all */
			return false;
		}
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10) {
			*overflow = true;
			/* keep scanning: a later non-digit is the worse error */
			v = max;
			continue;
		}
		if (!*overflow)
			v = v * 10 + d;
	}
	*out = v;
	return !*overflow;
}

/* ri (RFC 7489 section 6.3): a 32-bit unsigned number of seconds. */
static void
parse_ri(struct pctx *c, enum record_tag tag, struct span v)
{
	uint64_t n;
	bool over;

	if (!parse_uint(sp_str(c, v), v.len, UINT32_MAX, &n, &over)) {
		bad_value(c, tag, v, over ?
		    "it must fit in 32 bits; 86400 is used" :
		    "it must be a number of seconds; 86400 is used");
		return;
	}
	c->r->ri = (uint32_t)n;
	mark_valid(c, tag);
}

/*
 * pct (RFC 7489 section 6.3): an integer 0..100.  Anything else falls back
 * to the default 100: RFC 7489 section 6.3 says syntax errors "SHOULD be
 * discarded in favor of default values", and RFC 9989 section 4.8 says
 * MUST.  A number above 100 has its own code so that users see why.
 */
static void
parse_pct(struct pctx *c, enum record_tag tag, struct span v)
{
	uint64_t n;
	bool over;

	if (!parse_uint(sp_str(c, v), v.len, 100, &n, &over)) {
		if (over)
			issue_add(c, RECORD_SEV_ERROR, "pct_out_of_range", v.pos,
			    "Tag pct has the value \"%s\", above 100; the "
			    "default 100 is used.", quote_span(c, 0, v));
		else
			bad_value(c, tag, v, "it must be a whole number from "
			    "0 to 100; the default 100 is used");
		return;
	}
	c->r->pct = (int)n;
	mark_valid(c, tag);
}

/* RFC 3986 section 2: characters allowed in a URI (bar '%', checked apart). */
static bool
is_uri_char(int c)
{
	return is_alpha(c) || is_digit(c) ||
	    (c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL);
}

static bool
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * A plausible mail domain: dot-separated labels of letters, digits, '-'
 * and '_' (which appears in test and internal names), 1..63 octets each,
 * at most 253 in all (RFC 1035 section 2.3.4).
 */
static bool
is_mail_domain(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (is_alpha(ch) || is_digit(ch) || ch == '-' ||
		    ch == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label != 0;
}

bool
record_uri_host(const char *uri, const char **host, size_t *hostlen)
{
	const char *colon = strchr(uri, ':'), *p, *e, *at;

	if (colon == NULL)
		return false;
	if ((size_t)(colon - uri) == 6 && eq_ci(uri, 6, "mailto")) {
		/* RFC 6068: addr-spec before any '?' query. */
		e = colon + 1 + strcspn(colon + 1, "?");
		at = NULL;
		for (p = colon + 1; p < e; p++)
			if (*p == '@')
				at = p;
		if (at == NULL || at + 1 == e)
			return false;
		*host = at + 1;
		*hostlen = (size_t)(e - at - 1);
		return true;
	}
	/* RFC 3986 section 3.2: "//" [ userinfo "@" ] host [ ":" port ]. */
	if (colon[1] != '/' || colon[2] != '/')
		return false;
	p = colon + 3;
	e = p + strcspn(p, "/?#");
	for (at = e; at > p; at--)
		if (at[-1] == '@')
			break;
	p = at;
	if (*p == '[') {	/* IP-literal: keep it whole */
		const char *rb = memchr(p, ']', (size_t)(e - p));

		if (rb == NULL)
			return false;
		e = rb + 1;
	} else {
		const char *pc = memchr(p, ':', (size_t)(e - p));

		if (pc != NULL)
			e = pc;
	}
	if (e == p)
		return false;
	*host = p;
	*hostlen = (size_t)(e - p);
	return true;
}

/*
 * Check one reporting URI (RFC 9989 section 4.8: dmarc-uri = URI from
 * RFC 3986).  Issues name the tag and the URI.  Returns validity.
 */
static bool
check_uri(struct pctx *c, enum record_tag tag, struct span u)
{
	const char *s = sp_str(c, u), *tn = tagdefs[tag].name;
	size_t i, scheme = 0;

	if (u.len > 0 && is_alpha((unsigned char)s[0]))
		for (scheme = 1; scheme < u.len; scheme++) {
			int ch = (unsigned char)s[scheme];

			if (!is_alpha(ch) && !is_digit(ch) && ch != '+' &&
			    ch != '-' && ch != '.')
				break;
		}
	if (scheme == 0 || scheme >= u.len || s[scheme] != ':') {
		issue_add(c, RECORD_SEV_ERROR, "uri_no_scheme", u.pos,
		    "The %s entry \"%s\" is not a URI: it has no scheme%s.",
		    tn, quote_span(c, 0, u), memchr(s, '@', u.len) != NULL ?
		    "; write it as mailto:address" : " such as mailto:");
		return false;
	}
	for (i = scheme + 1; i < u.len; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '%' && i + 2 < u.len &&
		    is_hex((unsigned char)s[i + 1]) &&
		    is_hex((unsigned char)s[i + 2])) {
			i += 2;
			continue;
		}
		if (ch == '%' || !is_uri_char(ch)) {
			issue_add(c, RECORD_SEV_ERROR, "uri_invalid", u.pos + i,
			    "The %s URI \"%s\" contains the character \"%s\", "
			    "which is not allowed in a URI%s.", tn,
			    quote_span(c, 0, u), quote(c, 1, s + i, 1),
			    is_wsp(ch) ? " (separate URIs with commas)" : "");
			return false;
		}
	}
	if (i == scheme + 1) {
		issue_add(c, RECORD_SEV_ERROR, "uri_invalid", u.pos,
		    "The %s URI \"%s\" is empty after its scheme.", tn,
		    quote_span(c, 0, u));
		return false;
	}
	if (scheme == 6 && eq_ci(s, 6, "mailto")) {
		/* RFC 6068: mailto:local@domain, an optional ?query after. */
		size_t e = scheme + 1, at = 0;

		while (e < u.len && s[e] != '?')
			e++;
		for (i = scheme + 1; i < e; i++)
			if (s[i] == '@')
				at = i;
		if (at == 0 || at == scheme + 1 ||
		    !is_mail_domain(s + at + 1, e - at - 1)) {
			issue_add(c, RECORD_SEV_ERROR, "uri_mailto_invalid",
			    u.pos, "The %s URI \"%s\" does not hold a valid "
			    "mail address (local-part@domain).", tn,
			    quote_span(c, 0, u));
			return false;
		}
	} else
		issue_add(c, RECORD_SEV_WARNING, "uri_scheme_unsupported",
		    u.pos, "The %s URI \"%s\" does not use mailto:; receivers "
		    "are only required to support mailto: and ignore other "
		    "schemes (RFC 9989 section 4.7).", tn, quote_span(c, 0, u));
	return true;
}

/*
 * The obsolete size limit after a URI (RFC 9989 section 4.8,
 * obs-dmarc-report-size = "!" 1*DIGIT [ "k" / "m" / "g" / "t" ]; units
 * are powers of 1024 as in RFC 7489 section 6.2).  s points after '!'.
 */
static void
parse_size(struct pctx *c, enum record_tag tag, struct span sz,
    struct dmarc_uri *du)
{
	const char *s = sp_str(c, sz);
	size_t n = sz.len;
	unsigned shift = 0;
	uint64_t v;
	bool over;

	if (n > 0 && !is_digit((unsigned char)s[n - 1])) {
		switch (to_lower((unsigned char)s[n - 1])) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		case 't': shift = 40; break;
		default: shift = 99; break;
		}
		n--;
	}
	if (shift == 99 || !parse_uint(s, n, UINT64_MAX, &v, &over)) {
		if (shift != 99 && over)
			goto overflow;
		issue_add(c, RECORD_SEV_ERROR, "uri_size_invalid", sz.pos - 1,
		    "The size limit \"!%s\" after a %s URI is not a number "
		    "with an optional unit k, m, g or t; it is ignored.",
		    quote_span(c, 0, sz), tagdefs[tag].name);
		return;
	}
	if (shift != 0 && v > (UINT64_MAX >> shift))
		goto overflow;
	du->max_size = v << shift;
	issue_add(c, RECORD_SEV_INFO, "uri_size_obsolete", sz.pos - 1,
	    "The size limit \"!%s\" after a %s URI is obsolete (RFC 9989 "
	    "section 4.8); report senders may ignore it.",
	    quote_span(c, 0, sz), tagdefs[tag].name);
	return;
overflow:
	issue_add(c, RECORD_SEV_ERROR, "uri_size_overflow", sz.pos - 1,
	    "The size limit \"!%s\" after a %s URI is too large to represent; "
	    "it is ignored.", quote_span(c, 0, sz), tagdefs[tag].name);
}

/*
 * rua, ruf: dmarc-urilist = URI *(*WSP "," *WSP URI), each URI optionally
 * followed by "!size" (RFC 9989 section 4.8).  ',' and '!' must be
 * percent-encoded inside URIs, so they delimit.
 */
static void
parse_uris(struct pctx *c, enum record_tag tag, struct span v)
{
	struct dmarc_record *r = c->r;
	struct dmarc_uri **list = tag == RECORD_TAG_RUA ? &r->rua : &r->ruf;
	size_t *n = tag == RECORD_TAG_RUA ? &r->nrua : &r->nruf;
	size_t *cap = tag == RECORD_TAG_RUA ? &c->rua_cap : &c->ruf_cap;
	size_t i = v.pos, end = v.pos + v.len;
	bool any_valid = false;

	while (i <= end && !c->nomem) {
		size_t e = i, bang;
		struct span item, u;
		struct dmarc_uri *du;

		while (e < end && c->s[e] != ',')
			e++;
		item = trim(c->s, i, e);
		i = e + 1;
		if (item.len == 0) {
			issue_add(c, RECORD_SEV_ERROR, "uri_empty", item.pos,
			    "Tag %s has an empty entry in its URI list.",
			    tagdefs[tag].name);
			continue;
		}
		if (*n >= RECORD_MAX_URIS) {
			issue_add(c, RECORD_SEV_ERROR, "too_many_uris",
			    item.pos, "Tag %s lists more than %d URIs; the "
			    "rest are ignored.", tagdefs[tag].name,
			    RECORD_MAX_URIS);
			break;
		}
		for (bang = item.pos; bang < item.pos + item.len; bang++)
			if (c->s[bang] == '!')
				break;
		u = trim(c->s, item.pos, bang);
		if (*n == *cap) {
			size_t ncap = *cap == 0 ? 2 : *cap * 2;

			if (ncap > RECORD_MAX_URIS)
				ncap = RECORD_MAX_URIS;
			du = mem_reallocarray(*list, ncap, sizeof(*du));
			if (du == NULL) {
				c->nomem = true;
				return;
			}
			*list = du;
			*cap = ncap;
		}
		du = &(*list)[*n];
		memset(du, 0, sizeof(*du));
		if ((du->uri = mem_strndup(sp_str(c, u), u.len)) == NULL) {
			c->nomem = true;
			return;
		}
		(*n)++;
		du->pos = u.pos;
		du->valid = check_uri(c, tag, u);
		if (bang < item.pos + item.len) {
			struct span sz;

			sz.pos = bang + 1;
			sz.len = item.pos + item.len - sz.pos;
			parse_size(c, tag, sz, du);
		}
		any_valid |= du->valid;
	}
	if (any_valid)
		mark_valid(c, tag);
}

static const struct tagdef *
tag_lookup(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < RECORD_TAG_COUNT; i++)
		if (eq_ci(s, n, tagdefs[i].name))
			return &tagdefs[i];
	return NULL;
}

/*
 * The version tag, the first tag of the record (RFC 9989 section 4.7,
 * tag v; section 4.8, dmarc-version = "v" equals %s"DMARC1").  Scans
 * from the start of s; returns true if it is v=DMARC1.  *is_v says
 * whether the first tag is a v tag at all, and then *val is its value.
 */
static bool
version_scan(const char *s, size_t len, bool *is_v, struct span *val)
{
	size_t i = 0, e;

	*is_v = false;
	while (i < len && is_wsp((unsigned char)s[i]))
		i++;
	if (i >= len || to_lower((unsigned char)s[i]) != 'v')
		return false;
	i++;
	while (i < len && is_wsp((unsigned char)s[i]))
		i++;
	if (i >= len || s[i] != '=')
		return false;
	*is_v = true;
	i++;
	for (e = i; e < len && s[e] != ';'; e++)
		;
	*val = trim(s, i, e);
	return val->len == 6 && memcmp(s + val->pos, "DMARC1", 6) == 0;
}

bool
record_is_dmarc(const char *txt, size_t len)
{
	struct span v;
	bool is_v;

	if (txt == NULL)
		return false;
	return version_scan(txt, len, &is_v, &v);
}

/* The first tag when it is not v=DMARC1: say why nobody will use it. */
static void
version_problem(struct pctx *c, bool is_v, struct span v)
{
	size_t ms;

	if (!is_v) {
		size_t i = 0;

		while (i < c->len && is_wsp((unsigned char)c->s[i]))
			i++;
		if (c->len == 0 || i == c->len)
			issue_add(c, RECORD_SEV_ERROR, "v_missing", 0,
			    "The record is empty; a DMARC record starts with "
			    "v=DMARC1.");
		else if (c->s[i] == '"' || c->s[i] == '\'')
			issue_add(c, RECORD_SEV_ERROR, "v_missing", i,
			    "The record starts with a quote character; quotes "
			    "belong to zone-file syntax, the record itself must "
			    "start with v=DMARC1.");
		/* otherwise v_missing or v_not_first is added at the end */
		return;
	}
	ms = find_missing_semicolon(c, v);
	if (ms != NO_POS && v.len >= 6 &&
	    memcmp(c->s + v.pos, "DMARC1", 6) == 0 && ms == v.pos + 6)
		issue_add(c, RECORD_SEV_ERROR, "missing_semicolon", ms,
		    "A ';' is missing after v=DMARC1, so the version is read "
		    "as \"%s\" and receivers ignore the whole record.",
		    quote_span(c, 0, v));
	else if (eq_ci(c->s + v.pos, v.len, "dmarc1"))
		issue_add(c, RECORD_SEV_ERROR, "v_invalid", v.pos,
		    "The version is \"%s\" but the value is case-sensitive: it "
		    "must be exactly DMARC1 (RFC 9989 section 4.7), so receivers "
		    "ignore the record.", quote_span(c, 0, v));
	else
		issue_add(c, RECORD_SEV_ERROR, "v_invalid", v.pos,
		    "The version tag v has the value \"%s\"; the only valid "
		    "value is DMARC1, so receivers ignore the record.",
		    quote_span(c, 0, v));
}

/* One "name=value" part between semicolons (trimmed, not empty). */
static void
parse_tag(struct pctx *c, struct span seg, bool first)
{
	struct dmarc_record *r = c->r;
	const struct tagdef *td;
	const char *s = c->s;
	size_t i = seg.pos, end = seg.pos + seg.len, ms;
	struct span name, val;

	/* dmarc-tag = 1*ALPHA equals 1*dmarc-value */
	while (i < end && is_alpha((unsigned char)s[i]))
		i++;
	name.pos = seg.pos;
	name.len = i - seg.pos;
	while (i < end && is_wsp((unsigned char)s[i]))
		i++;
	if (name.len == 0 || i >= end || s[i] != '=') {
		if (first && !c->first_is_v)
			return;		/* reported as v_missing */
		issue_add(c, RECORD_SEV_ERROR, "tag_syntax", seg.pos,
		    "\"%s\" is not a tag of the form name=value; it is "
		    "ignored.", quote_span(c, 0, seg));
		return;
	}
	val = trim(s, i + 1, end);
	td = tag_lookup(s + name.pos, name.len);
	if (td == NULL) {
		issue_add(c, RECORD_SEV_INFO, "unknown_tag", seg.pos,
		    "The tag \"%s\" is not a DMARC tag and is ignored "
		    "(RFC 9989 section 4.7).", quote_span(c, 0, name));
		return;
	}
	if (td->tag == RECORD_TAG_V) {
		if (first)
			return;		/* done by version_problem() */
		if (!c->first_is_v && !c->v_late) {
			c->v_late = true;
			issue_add(c, RECORD_SEV_ERROR, "v_not_first", seg.pos,
			    "The version tag v appears at byte %zu but must be "
			    "the first tag, so receivers ignore the record "
			    "(RFC 9989 section 4.7).", seg.pos);
			return;
		}
	}
	if (td->tag == RECORD_TAG_V || (r->tags_seen & (1u << td->tag))) {
		/* RFC 9989 section 4.8: discard; the first one counts. */
		issue_add(c, RECORD_SEV_ERROR, "duplicate_tag", seg.pos,
		    "The tag %s appears more than once; only its first value is "
		    "used.", td->name);
		return;
	}
	r->tags_seen |= 1u << td->tag;
	r->value_span[td->tag].pos = val.pos;
	r->value_span[td->tag].len = val.len;
	if (val.len == 0) {
		mark_invalid(c, td->tag);
		issue_add(c, RECORD_SEV_ERROR, "empty_value", name.pos,
		    "The tag %s has an empty value and is ignored.", td->name);
		return;
	}
	if ((ms = find_missing_semicolon(c, val)) != NO_POS) {
		struct span rest = trim(s, ms, end);

		mark_invalid(c, td->tag);
		issue_add(c, RECORD_SEV_ERROR, "missing_semicolon", ms,
		    "The value of tag %s runs on into \"%s\": a ';' seems to "
		    "be missing, so the tag is ignored.", td->name,
		    quote_span(c, 0, rest));
		return;
	}
	td->parse(c, td->tag, val);
}

/* Stable insertion sort by position (at most RECORD_MAX_ISSUES). */
static void
issues_sort(struct dmarc_record *r)
{
	size_t i, j;

	for (i = 1; i < r->nissues; i++) {
		struct record_issue t = r->issues[i];

		for (j = i; j > 0 && r->issues[j - 1].pos > t.pos; j--)
			r->issues[j] = r->issues[j - 1];
		r->issues[j] = t;
	}
}

static enum record_status
parse_all(struct pctx *c)
{
	struct dmarc_record *r = c->r;
	const char *s = c->s;
	struct span v;
	size_t pos = 0, idx = 0, firstbad = NO_POS;
	bool is_v;

	c->is_dmarc = version_scan(s, c->len, &is_v, &v);
	c->first_is_v = is_v;
	if (c->len > 0 && is_wsp((unsigned char)s[0]))
		issue_add(c, RECORD_SEV_WARNING, "leading_whitespace", 0,
		    "The record starts with spaces; some receivers do not find "
		    "v=DMARC1 there.");
	if (c->is_dmarc) {
		r->tags_seen |= 1u << RECORD_TAG_V;
		r->tags_valid |= 1u << RECORD_TAG_V;
		r->value_span[RECORD_TAG_V].pos = v.pos;
		r->value_span[RECORD_TAG_V].len = v.len;
	} else
		version_problem(c, is_v, v);

	/* dmarc-record = dmarc-version *(dmarc-sep dmarc-tag) [dmarc-sep] */
	for (;;) {
		size_t end = pos;
		struct span seg;

		while (end < c->len && s[end] != ';')
			end++;
		seg = trim(s, pos, end);
		if (seg.len > 0)
			parse_tag(c, seg, idx == 0);
		else if (idx > 0 && end < c->len)
			/* Only one trailing dmarc-sep is allowed. */
			issue_add(c, RECORD_SEV_WARNING, "empty_tag", seg.pos,
			    "There is an empty tag (two ';' in a row) at byte "
			    "%zu.", seg.pos);
		idx++;
		if (end >= c->len || c->nomem)
			break;
		pos = end + 1;
	}

	if (!c->is_dmarc) {
		if (!c->first_is_v && !c->v_late &&
		    !record_find_issue(r, "v_missing"))
			issue_add(c, RECORD_SEV_ERROR, "v_missing", 0,
			    "The record does not start with v=DMARC1, so "
			    "receivers ignore it (RFC 9989 section 4.7).");
		issues_sort(r);
		return RECORD_ERR_NOT_DMARC;
	}

	/*
	 * RFC 9989 section 4.7, tag p: "If this tag is not present in an
	 * otherwise syntactically valid DMARC Policy Record, then the record
	 * is treated as if it included p=none".  Section 4.10.1 ("does not
	 * contain a valid p tag") is read as covering invalid values only,
	 * since 4.7 speaks about absence explicitly.
	 */
	if (!(r->tags_seen & (1u << RECORD_TAG_P)))
		issue_add(c, RECORD_SEV_WARNING, "p_missing", c->len,
		    "There is no p tag, so receivers treat the record as "
		    "p=none (RFC 9989 section 4.7).");

	/*
	 * RFC 9989 section 4.10.1: an invalid p, sp or np with at least one
	 * syntactically valid rua URI acts as p=none; without one, "the Mail
	 * Receiver applies no DMARC processing".
	 */
	if (r->p_invalid)
		firstbad = r->value_span[RECORD_TAG_P].pos;
	if (r->sp_invalid && r->value_span[RECORD_TAG_SP].pos < firstbad)
		firstbad = r->value_span[RECORD_TAG_SP].pos;
	if (r->np_invalid && r->value_span[RECORD_TAG_NP].pos < firstbad)
		firstbad = r->value_span[RECORD_TAG_NP].pos;
	if (firstbad != NO_POS) {
		const char *which = r->p_invalid ? "p" :
		    r->sp_invalid ? "sp" : "np";

		if (record_has_valid_rua(r)) {
			r->treated_as_none = true;
			issue_add(c, RECORD_SEV_WARNING, "treated_as_none",
			    firstbad, "Because tag %s is invalid and rua has a "
			    "valid URI, receivers act as if the record said "
			    "p=none (RFC 9989 section 4.10.1).", which);
		} else {
			issue_add(c, RECORD_SEV_ERROR, "no_usable_policy",
			    firstbad, "Because tag %s is invalid and there is no "
			    "valid rua URI, receivers apply no DMARC processing "
			    "at all (RFC 9989 section 4.10.1).", which);
			issues_sort(r);
			return RECORD_ERR_INVALID;
		}
	}
	issues_sort(r);
	return RECORD_OK;
}

enum record_status
record_parse(const char *txt, size_t len, struct dmarc_record **out)
{
	struct dmarc_record *r;
	struct pctx c;
	enum record_status st;
	size_t keep = len > RECORD_MAX_LEN ? RECORD_MAX_LEN : len;

	*out = NULL;
	if (txt == NULL)
		len = keep = 0;
	if ((r = mem_calloc(1, sizeof(*r))) == NULL)
		return RECORD_ERR_NOMEM;
	/* Defaults: RFC 9989 section 4.7 and RFC 7489 section 6.3. */
	r->fo = DMARC_FO_0;
	r->pct = 100;
	r->rf = DMARC_RF_AFRF;
	r->ri = 86400;
	r->adkim = r->aspf = DMARC_ALIGN_RELAXED;
	r->psd = DMARC_PSD_U;

	memset(&c, 0, sizeof(c));
	c.r = r;
	strbuf_init(&c.esc[0]);
	strbuf_init(&c.esc[1]);
	/* A too-long record keeps its first RECORD_MAX_LEN bytes to show. */
	if ((r->raw = mem_alloc(keep + 1)) == NULL) {
		mem_free(r);
		return RECORD_ERR_NOMEM;
	}
	if (keep > 0)
		memcpy(r->raw, txt, keep);
	r->raw[keep] = '\0';
	r->raw_len = keep;
	c.s = r->raw;
	c.len = keep;

	if (len > RECORD_MAX_LEN) {
		issue_add(&c, RECORD_SEV_ERROR, "record_too_long", RECORD_MAX_LEN,
		    "The record is %zu bytes long; records over %d bytes are "
		    "refused.", len, RECORD_MAX_LEN);
		st = RECORD_ERR_TOO_LONG;
	} else
		st = parse_all(&c);
	strbuf_release(&c.esc[0]);
	strbuf_release(&c.esc[1]);
	if (c.nomem) {
		record_free(r);
		return RECORD_ERR_NOMEM;
	}
	*out = r;
	return st;
}

void
record_free(struct dmarc_record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrua; i++)
		mem_free(r->rua[i].uri);
	for (i = 0; i < r->nruf; i++)
		mem_free(r->ruf[i].uri);
	for (i = 0; i < r->nissues; i++)
		mem_free(r->issues[i].message);
	mem_free(r->rua);
	mem_free(r->ruf);
	mem_free(r->issues);
	mem_free(r->raw);
	mem_free(r);
}

const char *
record_strerror(enum record_status st)
{
	switch (st) {
	case RECORD_OK:
		return "ok";
	case RECORD_ERR_NOT_DMARC:
		return "not a DMARC record (does not start with v=DMARC1)";
	case RECORD_ERR_INVALID:
		return "DMARC record without a usable policy";
	case RECORD_ERR_TOO_LONG:
		return "DMARC record too long";
	case RECORD_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown record status";
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	case DMARC_POLICY_UNSPEC:
		break;
	}
	return "";
}

const char *
record_severity_name(enum record_severity sev)
{
	switch (sev) {
	case RECORD_SEV_ERROR:
		return "error";
	case RECORD_SEV_WARNING:
		return "warning";
	case RECORD_SEV_INFO:
		return "info";
	}
	return "";
}

const char *
record_tag_name(enum record_tag tag)
{
	if ((unsigned)tag >= RECORD_TAG_COUNT)
		return "";
	return tagdefs[tag].name;
}

enum dmarc_policy
record_policy(const struct dmarc_record *r)
{
	if (r->treated_as_none || r->p == DMARC_POLICY_UNSPEC)
		return DMARC_POLICY_NONE;
	return r->p;
}

enum dmarc_policy
record_subdomain_policy(const struct dmarc_record *r)
{
	if (r->treated_as_none || r->sp == DMARC_POLICY_UNSPEC)
		return record_policy(r);
	return r->sp;
}

enum dmarc_policy
record_nxdomain_policy(const struct dmarc_record *r)
{
	if (r->treated_as_none || r->np == DMARC_POLICY_UNSPEC)
		return record_subdomain_policy(r);
	return r->np;
}

bool
record_has_valid_rua(const struct dmarc_record *r)
{
	size_t i;

	for (i = 0; i < r->nrua; i++)
		if (r->rua[i].valid)
			return true;
	return false;
}

const struct record_issue *
record_find_issue(const struct dmarc_record *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->nissues; i++)
		if (strcmp(r->issues[i].code, code) == 0)
			return &r->issues[i];
	return NULL;
}
