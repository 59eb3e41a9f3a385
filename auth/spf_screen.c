/*
 * spf_screen.c - RFC 7208 syntax screen for SPF records and explanation
 * strings: the CVE-2023-42118 defence.
 *
 * Why.  Debian 12 ships libspf2 1.2.10 without the 2023 fix for its macro
 * compiler (CVE-2023-42118, ZDI-23-1472).  SPF_c_parse_macro() compiles
 * each mechanism's domain-spec, each modifier value and each explanation
 * string into a 511-byte area; after every %{...} it restarts a literal
 * fragment with "space left = 511 - used - 4" in size_t.  When the
 * macros and literals before it have used 508 bytes (127 "%{d}", or any
 * mix of literals, escapes and macros that lands there), that difference
 * underflows to SIZE_MAX, the length check that follows always passes,
 * and the next literal is copied past the end of a stack buffer (the
 * explanation compiler's buffer is 519 bytes, so one byte suffices).  The
 * text comes from DNS, that is from whoever sends the mail.
 *
 * The defence.  Nothing reaches SPF_record_compile() or
 * SPF_record_compile_macro() before it passes this screen (auth/spf_dns.c
 * calls it on the top-level record, every include:/redirect= target and
 * every explanation TXT record).  The screen:
 *  - parses the whole record by the RFC 7208 ABNF: version, terms split
 *    on SP only, qualifiers, the eight mechanisms and their arguments,
 *    dual-cidr-length without leading zeros, ip4-network/ip6-network,
 *    modifiers (name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )),
 *    domain-spec = macro-string domain-end with the toplabel rule, and
 *    macro-strings exactly as section 7.1: "%%", "%_", "%-" and
 *    "%{" macro-letter transformers *delimiter "}" with the letters
 *    s l o d i p h v (and c r t in explanation text only), transformers
 *    *DIGIT ["r"], delimiters . - + , / _ =;
 *  - accepts only %x20-7E bytes (no NUL, no control, no 8-bit byte);
 *  - bounds everything: record 4096 bytes, explanation 1024 bytes,
 *    128 terms, 32 macros per record, 16 delimiters per macro, a
 *    transformer number of 1..128 (RFC 7208 7.3: it MUST be nonzero; a
 *    name has at most 127 labels) written in at most 3 digits;
 *  - computes, term by term, an upper bound of what libspf2's compiler
 *    will use (4 bytes per macro and per CIDR, 4 + the compiled length
 *    rounded up to 4 per literal run, "%-" compiling to 3 bytes) and
 *    refuses any term or explanation over 400 bytes, so the 508-byte
 *    underflow point is out of reach whatever the input.
 * A record that fails is a permerror; an explanation that fails is
 * ignored (RFC 7208 6.2).  The other reports of that ZDI batch
 * (CVE-2023-42114/42115/42116: Exim's SPA and external authenticators,
 * 42117: its proxy protocol, 42119: its dnsdb lookup) are in Exim's own
 * code.  libspf2's earlier CVE-2021-20314 (the same fragment arithmetic,
 * one step earlier) and CVE-2021-33912/33913 (URL-encoding 8-bit macro
 * values) are fixed in Debian's 1.2.10-7.1; we checked that an 8-bit
 * local-part encodes as "%e9".
 *
 * Left out: semantic checks that need DNS or the request (lookup limits
 * live in spf_dns.c), and IDN: SPF records are 7-bit by RFC 7208 3.1.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "spf_screen.h"

/* Per-record parsing state. */
struct screen {
	const char	*base;		/* start of the text, for offsets */
	size_t		 macros;	/* %{...} seen in the text */
	size_t		 erroff;
};

/* Per macro-string result. */
struct mstring {
	size_t		 cost;		/* libspf2 compile bound (bytes) */
	size_t		 tail;		/* offset after the last expand */
	bool		 has_expand;	/* any macro-expand, "%%" too */
};

#define MS_EXP_LETTERS	0x01	/* c, r, t allowed (explanation text) */
#define MS_SPACE	0x02	/* SP allowed (explain-string) */
#define MS_NO_COST	0x04	/* never compiled: syntax only */

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool
eq_nocase(const char *p, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != (unsigned char)word[i])
			return false;
	return true;
}

/* The last c in p[0..n), or NULL (memrchr is not portable). */
static const char *
last_char(const char *p, size_t n, char c)
{
	while (n > 0)
		if (p[--n] == c)
			return p + n;
	return NULL;
}

static enum spf_screen_status
fail(struct screen *sc, const char *at, enum spf_screen_status st)
{
	sc->erroff = (size_t)(at - sc->base);
	return st;
}

/* libspf2 aligns every compiled item to 4 bytes (_align_sz). */
static size_t
align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Close a literal run: a 4-byte header plus the text, aligned. */
static enum spf_screen_status
close_run(struct screen *sc, const char *at, int flags, size_t *run,
    bool *in_run, struct mstring *ms)
{
	if (!*in_run)
		return SPF_SCREEN_OK;
	if (*run > SPF_SCREEN_MAX_LITERAL && !(flags & MS_NO_COST))
		return fail(sc, at, SPF_SCREEN_ERR_TERM_TOO_BIG);
	ms->cost += 4 + align4(*run);
	*run = 0;
	*in_run = false;
	return SPF_SCREEN_OK;
}

/*
 * "%{" macro-letter transformers *delimiter "}" starting at p[0] == '%'.
 * Appends the expand to out ("R" written "r") and returns its length in
 * *used.
 */
static enum spf_screen_status
parse_expand(struct screen *sc, const char *p, size_t n, int flags,
    struct strbuf *out, size_t *used)
{
	size_t i, ndig, ndelim;
	unsigned val;
	unsigned char c;

	/* p[0] == '%', p[1] == '{' */
	i = 2;
	if (i >= n)
		return fail(sc, p, SPF_SCREEN_ERR_MACRO);
	c = lower((unsigned char)p[i]);
	if (c == '\0' || strchr("slodiphvcrt", c) == NULL)
		return fail(sc, p + i, SPF_SCREEN_ERR_MACRO_LETTER);
	/* RFC 7208 7.1: c, r, t are allowed only in explanation text. */
	if (strchr("crt", c) != NULL && !(flags & MS_EXP_LETTERS))
		return fail(sc, p + i, SPF_SCREEN_ERR_MACRO_LETTER);
	strbuf_append(out, p, 3);
	i++;
	/* transformers = *DIGIT [ "r" ] */
	val = 0;
	ndig = 0;
	while (i < n && is_digit((unsigned char)p[i])) {
		if (++ndig > 3)
			return fail(sc, p + i, SPF_SCREEN_ERR_TRANSFORMER);
		val = val * 10 + (unsigned)(p[i] - '0');
		i++;
	}
	/* RFC 7208 7.3: the number MUST be nonzero. */
	if (ndig > 0 && (val == 0 || val > SPF_SCREEN_MAX_RHS))
		return fail(sc, p + i - ndig, SPF_SCREEN_ERR_TRANSFORMER);
	strbuf_append(out, p + 3, ndig);
	if (i < n && (p[i] == 'r' || p[i] == 'R')) {
		/* libspf2 only knows the lower-case form. */
		strbuf_appendc(out, 'r');
		i++;
	}
	ndelim = 0;
	while (i < n && p[i] != '\0' && strchr(".-+,/_=", p[i]) != NULL) {
		if (++ndelim > SPF_SCREEN_MAX_DELIMS)
			return fail(sc, p + i, SPF_SCREEN_ERR_MACRO);
		strbuf_appendc(out, p[i]);
		i++;
	}
	if (i >= n || p[i] != '}')
		return fail(sc, p + (i < n ? i : n - 1), SPF_SCREEN_ERR_MACRO);
	strbuf_appendc(out, '}');
	*used = i + 1;
	return SPF_SCREEN_OK;
}

/*
 * macro-string (RFC 7208 7.1), or explain-string with MS_SPACE.  Writes
 * the normalised text to out (spaces as "%_" in explain-strings).
 */
static enum spf_screen_status
parse_macro_string(struct screen *sc, const char *p, size_t n, int flags,
    struct strbuf *out, struct mstring *ms)
{
	enum spf_screen_status st;
	size_t i, run, used;
	bool in_run;
	unsigned char c;

	memset(ms, 0, sizeof(*ms));
	run = 0;
	in_run = false;
	i = 0;
	while (i < n) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 1 >= n)
				return fail(sc, p + i, SPF_SCREEN_ERR_MACRO);
			switch (p[i + 1]) {
			case '%':
			case '_':
			case '-':
				/* Escapes join the literal run; "%-" is
				 * "%20", 3 bytes. */
				run += p[i + 1] == '-' ? 3 : 1;
				in_run = true;
				strbuf_append(out, p + i, 2);
				i += 2;
				break;
			case '{':
				st = close_run(sc, p + i, flags, &run,
				    &in_run, ms);
				if (st != SPF_SCREEN_OK)
					return st;
				if (++sc->macros > SPF_SCREEN_MAX_MACROS)
					return fail(sc, p + i,
					    SPF_SCREEN_ERR_TOO_MANY_MACROS);
				st = parse_expand(sc, p + i, n - i, flags, out,
				    &used);
				if (st != SPF_SCREEN_OK)
					return st;
				ms->cost += 4;
				i += used;
				break;
			default:
				/* RFC 7208 7.1: any other '%' is an error. */
				return fail(sc, p + i, SPF_SCREEN_ERR_MACRO);
			}
			ms->has_expand = true;
			ms->tail = i;
			continue;
		}
		if (c == ' ' && (flags & MS_SPACE)) {
			run++;
			in_run = true;
			strbuf_append(out, "%_", 2);
			i++;
			continue;
		}
		/* macro-literal = %x21-24 / %x26-7E */
		if (c < 0x21 || c > 0x7e)
			return fail(sc, p + i, SPF_SCREEN_ERR_CHAR);
		run++;
		in_run = true;
		strbuf_appendc(out, (char)c);
		i++;
	}
	st = close_run(sc, p + n, flags, &run, &in_run, ms);
	if (st != SPF_SCREEN_OK)
		return st;
	if (ms->cost > SPF_SCREEN_MAX_TERM_COST && !(flags & MS_NO_COST))
		return fail(sc, p, SPF_SCREEN_ERR_TERM_TOO_BIG);
	return SPF_SCREEN_OK;
}

/*
 * toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
 */
static bool
is_toplabel(const char *p, size_t n)
{
	size_t i;
	bool alpha, dash;

	if (n == 0)
		return false;
	alpha = dash = false;
	for (i = 0; i < n; i++) {
		if (is_alpha((unsigned char)p[i]))
			alpha = true;
		else if (p[i] == '-')
			dash = true;
		else if (!is_digit((unsigned char)p[i]))
			return false;
	}
	if (!dash)
		return alpha;
	return is_alnum((unsigned char)p[0]) &&
	    is_alnum((unsigned char)p[n - 1]);
}

/*
 * domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand
 * *cost receives the libspf2 compile bound of the macro-string.
 */
static enum spf_screen_status
parse_domain_spec(struct screen *sc, const char *p, size_t n,
    struct strbuf *out, size_t *cost)
{
	enum spf_screen_status st;
	struct mstring ms;
	const char *tail, *dot;
	size_t tn;

	if (n == 0)
		return fail(sc, p, SPF_SCREEN_ERR_DOMAIN_SPEC);
	st = parse_macro_string(sc, p, n, 0, out, &ms);
	if (st != SPF_SCREEN_OK)
		return st;
	*cost = ms.cost;
	tail = p + ms.tail;
	tn = n - ms.tail;
	if (tn == 0)
		return ms.has_expand ? SPF_SCREEN_OK :
		    fail(sc, p, SPF_SCREEN_ERR_DOMAIN_SPEC);
	if (tail[tn - 1] == '.')
		tn--;
	dot = NULL;
	if (tn > 0)
		dot = last_char(tail, tn, '.');
	if (dot == NULL ||
	    !is_toplabel(dot + 1, (size_t)(tail + tn - (dot + 1))))
		return fail(sc, tail, SPF_SCREEN_ERR_DOMAIN_SPEC);
	return SPF_SCREEN_OK;
}

/*
 * A CIDR length: "0" / %x31-39 *DIGIT (no leading zero), at most max.
 */
static bool
is_cidr_len(const char *p, size_t n, unsigned max)
{
	unsigned v;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return false;
	v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v <= max;
}

/*
 * Strip a trailing dual-cidr-length ( [ "/" ip4 ] [ "//" ip6 ] ) from
 * p[0..*n); *n becomes the length before it.  *cidr is set when one was
 * found.
 */
static enum spf_screen_status
strip_dual_cidr(struct screen *sc, const char *p, size_t *n, bool *cidr)
{
	size_t end, k;

	end = *n;
	*cidr = false;
	k = end;
	while (k > 0 && is_digit((unsigned char)p[k - 1]))
		k--;
	if (k < end && k >= 2 && p[k - 1] == '/' && p[k - 2] == '/') {
		if (!is_cidr_len(p + k, end - k, 128))
			return fail(sc, p + k, SPF_SCREEN_ERR_CIDR);
		end = k - 2;
		*cidr = true;
		k = end;
		while (k > 0 && is_digit((unsigned char)p[k - 1]))
			k--;
	}
	if (k < end && k >= 1 && p[k - 1] == '/' &&
	    (k < 2 || p[k - 2] != '/')) {
		if (!is_cidr_len(p + k, end - k, 32))
			return fail(sc, p + k, SPF_SCREEN_ERR_CIDR);
		end = k - 1;
		*cidr = true;
	}
	*n = end;
	return SPF_SCREEN_OK;
}

/* qnum "." qnum "." qnum "." qnum, no leading zeros (RFC 7208 5.6). */
static bool
is_ip4_network(const char *p, size_t n)
{
	size_t i, start, parts;
	unsigned v;

	parts = 0;
	i = 0;
	while (parts < 4) {
		start = i;
		v = 0;
		while (i < n && is_digit((unsigned char)p[i]) && i - start < 3)
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && p[start] == '0'))
			return false;
		if (i < n && is_digit((unsigned char)p[i]))
			return false;
		parts++;
		if (parts < 4) {
			if (i >= n || p[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

static bool
is_ip6_network(const char *p, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t i;

	if (n == 0 || n >= sizeof(buf))
		return false;
	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)p[i]) && p[i] != ':' &&
		    p[i] != '.' && strchr("abcdefABCDEF", p[i]) == NULL)
			return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* ip4 / ip6: ":" network [ cidr ] after the mechanism name. */
static enum spf_screen_status
parse_ip(struct screen *sc, const char *p, size_t n, bool v6)
{
	const char *slash;
	size_t netlen;

	if (n < 2 || p[0] != ':')
		return fail(sc, p, SPF_SCREEN_ERR_TERM);
	p++;
	n--;
	netlen = n;
	slash = last_char(p, n, '/');
	if (slash != NULL) {
		netlen = (size_t)(slash - p);
		if (!is_cidr_len(slash + 1, n - netlen - 1, v6 ? 128 : 32))
			return fail(sc, slash, SPF_SCREEN_ERR_CIDR);
	}
	if (v6 ? !is_ip6_network(p, netlen) : !is_ip4_network(p, netlen))
		return fail(sc, p, SPF_SCREEN_ERR_IP);
	return SPF_SCREEN_OK;
}

enum mech_arg {
	ARG_NONE,	/* all */
	ARG_DOMAIN,	/* include, exists: ":" domain-spec required */
	ARG_DOMAIN_OPT,	/* ptr */
	ARG_DOMAIN_CIDR,/* a, mx */
	ARG_IP4,
	ARG_IP6
};

static const struct {
	const char	*name;
	enum mech_arg	 arg;
} mechanisms[] = {
	{ "all", ARG_NONE },
	{ "include", ARG_DOMAIN },
	{ "a", ARG_DOMAIN_CIDR },
	{ "mx", ARG_DOMAIN_CIDR },
	{ "ptr", ARG_DOMAIN_OPT },
	{ "ip4", ARG_IP4 },
	{ "ip6", ARG_IP6 },
	{ "exists", ARG_DOMAIN },
};

/* The arguments of a mechanism: p[0..n) follows its name. */
static enum spf_screen_status
parse_mech_args(struct screen *sc, enum mech_arg arg, const char *p,
    size_t n, struct strbuf *out)
{
	enum spf_screen_status st;
	size_t dlen, cost;
	bool cidr;

	st = SPF_SCREEN_OK;
	cost = 0;
	switch (arg) {
	case ARG_NONE:
		return n == 0 ? SPF_SCREEN_OK :
		    fail(sc, p, SPF_SCREEN_ERR_TERM);
	case ARG_IP4:
	case ARG_IP6:
		st = parse_ip(sc, p, n, arg == ARG_IP6);
		if (st == SPF_SCREEN_OK)
			strbuf_append(out, p, n);
		return st;
	case ARG_DOMAIN:
	case ARG_DOMAIN_OPT:
		if (n == 0 && arg == ARG_DOMAIN_OPT)
			return SPF_SCREEN_OK;
		if (n == 0 || p[0] != ':')
			return fail(sc, p, SPF_SCREEN_ERR_TERM);
		strbuf_appendc(out, ':');
		st = parse_domain_spec(sc, p + 1, n - 1, out, &cost);
		break;
	case ARG_DOMAIN_CIDR:
		dlen = n;
		st = strip_dual_cidr(sc, p, &dlen, &cidr);
		if (st != SPF_SCREEN_OK)
			return st;
		if (dlen > 0) {
			if (p[0] != ':')
				return fail(sc, p, SPF_SCREEN_ERR_TERM);
			strbuf_appendc(out, ':');
			st = parse_domain_spec(sc, p + 1, dlen - 1, out,
			    &cost);
			if (st != SPF_SCREEN_OK)
				return st;
		}
		strbuf_append(out, p + dlen, n - dlen);
		if (cidr)
			cost += 4;
		break;
	}
	if (st == SPF_SCREEN_OK && cost > SPF_SCREEN_MAX_TERM_COST)
		return fail(sc, p, SPF_SCREEN_ERR_TERM_TOO_BIG);
	return st;
}

struct record_state {
	struct strbuf	 redirect;	/* " redirect=..." when present */
	struct strbuf	 exp;		/* " exp=..." when present */
	bool		 has_all;
};

/* One term: directive or modifier (RFC 7208 4.6.1). */
static enum spf_screen_status
parse_term(struct screen *sc, const char *p, size_t n, struct strbuf *out,
    struct record_state *rs)
{
	struct strbuf scratch = STRBUF_INIT;
	enum spf_screen_status st;
	struct strbuf *dst;
	struct mstring ms;
	size_t i, name, k, cost;
	bool qual;

	qual = p[0] == '+' || p[0] == '-' || p[0] == '?' || p[0] == '~';
	i = qual ? 1 : 0;
	name = i;
	while (i < n && (is_alnum((unsigned char)p[i]) || p[i] == '-' ||
	    p[i] == '_' || p[i] == '.'))
		i++;
	if (i == name)
		return fail(sc, p + name, SPF_SCREEN_ERR_TERM);

	if (i < n && p[i] == '=') {
		/* modifier: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
		if (qual || !is_alpha((unsigned char)p[name]))
			return fail(sc, p, SPF_SCREEN_ERR_TERM);
		if (eq_nocase(p + name, i - name, "redirect") ||
		    eq_nocase(p + name, i - name, "exp")) {
			dst = p[name] == 'r' || p[name] == 'R' ?
			    &rs->redirect : &rs->exp;
			if (strbuf_len(dst) > 0)
				return fail(sc, p,
				    SPF_SCREEN_ERR_DUP_MODIFIER);
			strbuf_appends(dst, dst == &rs->redirect ?
			    " redirect=" : " exp=");
			st = parse_domain_spec(sc, p + i + 1, n - i - 1, dst,
			    &cost);
			if (st == SPF_SCREEN_OK && strbuf_failed(dst))
				st = SPF_SCREEN_ERR_NOMEM;
			return st;
		}
		/* unknown-modifier = name "=" macro-string: checked, then
		 * left out, since it never changes the result (RFC 7208 6). */
		st = parse_macro_string(sc, p + i + 1, n - i - 1,
		    MS_EXP_LETTERS | MS_NO_COST, &scratch, &ms);
		strbuf_release(&scratch);
		return st;
	}

	for (k = 0; k < sizeof(mechanisms) / sizeof(mechanisms[0]); k++)
		if (eq_nocase(p + name, i - name, mechanisms[k].name))
			break;
	if (k == sizeof(mechanisms) / sizeof(mechanisms[0]))
		return fail(sc, p, SPF_SCREEN_ERR_TERM);
	/* A mechanism name is followed by ':', '/' or the end. */
	if (i < n && p[i] != ':' && p[i] != '/')
		return fail(sc, p + i, SPF_SCREEN_ERR_TERM);
	if (mechanisms[k].arg == ARG_NONE)
		rs->has_all = true;
	strbuf_appendc(out, ' ');
	if (qual)
		strbuf_appendc(out, p[0]);
	strbuf_appends(out, mechanisms[k].name);
	return parse_mech_args(sc, mechanisms[k].arg, p + i, n - i, out);
}

static void
check_chars(struct screen *sc, const char *p, size_t n,
    enum spf_screen_status *st)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) {
			*st = fail(sc, p + i, SPF_SCREEN_ERR_CHAR);
			return;
		}
	*st = SPF_SCREEN_OK;
}

bool
spf_screen_is_spf_record(const char *txt, size_t len)
{
	if (txt == NULL || len < 6 || !eq_nocase(txt, 6, "v=spf1"))
		return false;
	return len == 6 || txt[6] == ' ';
}

enum spf_screen_status
spf_screen_record(const char *rec, size_t len, struct strbuf *out,
    size_t *erroff)
{
	struct record_state rs = { STRBUF_INIT, STRBUF_INIT, false };
	struct screen sc;
	enum spf_screen_status st;
	size_t i, start, terms;

	memset(&sc, 0, sizeof(sc));
	sc.base = rec;
	strbuf_reset(out);
	if (len > SPF_SCREEN_MAX_RECORD) {
		st = fail(&sc, rec + SPF_SCREEN_MAX_RECORD,
		    SPF_SCREEN_ERR_TOO_LONG);
		goto done;
	}
	/* RFC 7208 3.1 and 4.6.1: US-ASCII, terms separated by SP only. */
	check_chars(&sc, rec, len, &st);
	if (st != SPF_SCREEN_OK)
		goto done;
	if (!spf_screen_is_spf_record(rec, len)) {
		st = fail(&sc, rec, SPF_SCREEN_ERR_NOT_SPF);
		goto done;
	}
	strbuf_appends(out, "v=spf1");
	terms = 0;
	i = 6;
	while (i < len) {
		while (i < len && rec[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && rec[i] != ' ')
			i++;
		if (++terms > SPF_SCREEN_MAX_TERMS) {
			st = fail(&sc, rec + start,
			    SPF_SCREEN_ERR_TOO_MANY_TERMS);
			goto done;
		}
		st = parse_term(&sc, rec + start, i - start, out, &rs);
		if (st != SPF_SCREEN_OK)
			goto done;
	}
	/* RFC 7208 6.1: redirect is ignored when "all" is present. */
	if (!rs.has_all)
		strbuf_append(out, strbuf_cstr(&rs.redirect),
		    strbuf_len(&rs.redirect));
	strbuf_append(out, strbuf_cstr(&rs.exp), strbuf_len(&rs.exp));
	st = SPF_SCREEN_OK;
	if (strbuf_failed(out) || strbuf_failed(&rs.redirect) ||
	    strbuf_failed(&rs.exp))
		st = SPF_SCREEN_ERR_NOMEM;
done:
	strbuf_release(&rs.redirect);
	strbuf_release(&rs.exp);
	if (st != SPF_SCREEN_OK)
		strbuf_reset(out);
	if (erroff != NULL)
		*erroff = st == SPF_SCREEN_OK ? 0 : sc.erroff;
	return st;
}

enum spf_screen_status
spf_screen_explanation(const char *txt, size_t len, struct strbuf *out,
    size_t *erroff)
{
	struct screen sc;
	struct mstring ms;
	enum spf_screen_status st;

	memset(&sc, 0, sizeof(sc));
	sc.base = txt;
	strbuf_reset(out);
	if (len > SPF_SCREEN_MAX_EXP) {
		st = fail(&sc, txt + SPF_SCREEN_MAX_EXP,
		    SPF_SCREEN_ERR_TOO_LONG);
		goto done;
	}
	/* RFC 7208 6.2: the explanation string is US-ASCII. */
	check_chars(&sc, txt, len, &st);
	if (st != SPF_SCREEN_OK)
		goto done;
	st = parse_macro_string(&sc, txt, len, MS_EXP_LETTERS | MS_SPACE,
	    out, &ms);
	if (st == SPF_SCREEN_OK && strbuf_failed(out))
		st = SPF_SCREEN_ERR_NOMEM;
done:
	if (st != SPF_SCREEN_OK)
		strbuf_reset(out);
	if (erroff != NULL)
		*erroff = st == SPF_SCREEN_OK ? 0 : sc.erroff;
	return st;
}

const char *
spf_screen_strerror(enum spf_screen_status st)
{
	switch (st) {
	case SPF_SCREEN_OK:
		return "ok";
	case SPF_SCREEN_ERR_NOT_SPF:
		return "not an SPF version 1 record";
	case SPF_SCREEN_ERR_TOO_LONG:
		return "text too long";
	case SPF_SCREEN_ERR_CHAR:
		return "character outside printable US-ASCII";
	case SPF_SCREEN_ERR_TERM:
		return "unknown or malformed term";
	case SPF_SCREEN_ERR_DOMAIN_SPEC:
		return "invalid domain-spec";
	case SPF_SCREEN_ERR_MACRO:
		return "invalid macro";
	case SPF_SCREEN_ERR_MACRO_LETTER:
		return "macro letter not allowed here";
	case SPF_SCREEN_ERR_TRANSFORMER:
		return "macro transformer out of range";
	case SPF_SCREEN_ERR_CIDR:
		return "invalid CIDR length";
	case SPF_SCREEN_ERR_IP:
		return "invalid IP network";
	case SPF_SCREEN_ERR_DUP_MODIFIER:
		return "redirect or exp modifier repeated";
	case SPF_SCREEN_ERR_TOO_MANY_TERMS:
		return "too many terms";
	case SPF_SCREEN_ERR_TOO_MANY_MACROS:
		return "too many macros";
	case SPF_SCREEN_ERR_TERM_TOO_BIG:
		return "term too large to compile safely";
	case SPF_SCREEN_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown screen error";
}
