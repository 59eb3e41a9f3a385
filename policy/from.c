/*
 * from.c - author domains from RFC 5322 From header fields.
 *
 * A single-pass lexer feeds a recursive-descent parser of the RFC 5322
 * section 3.4 address grammar (with the section 4.4 obsolete forms that
 * real mail still carries: CFWS around dots, source routes, empty list
 * elements).  RFC 6854 lets From hold groups, so the whole address-list
 * is accepted.  Every mailbox gives a display name, an unquoted local
 * part and a domain normalised by domain_normalize_dup() (lowercase
 * A-labels, RFC 9989 section 5.3.1).
 *
 * Deliberate choices, each one a place where parsers disagree and where
 * a lenient guess would let an attacker choose the domain we check:
 * - anything ambiguous is FROM_ERR_SYNTAX, never a best guess: two
 *   angle-addrs in one mailbox, text after an address, a line break
 *   not followed by white space, a NUL byte, an unclosed '<', quote,
 *   comment or literal;
 * - an RFC 2047 encoded-word is one word of a display name even when
 *   broken senders put "@", "<" or '"' in it unencoded, so
 *   "=?utf-8?q?a@evil.test?= <u@good.test>" gives good.test;
 * - a domain literal ("[192.0.2.1]") is FROM_ERR_DOMAIN_LITERAL: it is
 *   valid RFC 5322, but no DMARC record can be found for it;
 * - "<>" is a syntax error in From (it is only the null reverse-path
 *   of SMTP, which from_domain_of_address() accepts);
 * - local parts may have leading, trailing or doubled dots (legacy
 *   Japanese mobile addresses); they do not affect the domain.
 * Left out: decoding encoded words and comments-as-names, which DMARC
 * does not need.
 *
 * Bounds: FROM_MAX_FIELD_LEN bytes per field, FROM_MAX_ADDRESSES
 * mailboxes per list, FROM_MAX_COMMENT_DEPTH, and encoded-words are
 * looked for over at most FROM_MAX_EWORD_LEN bytes.  Every byte is
 * lexed once (an encoded-word guess rescans at most up to its third
 * '?'), so the work is linear in the input.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "domain.h"
#include "from.h"

struct from_list {
	struct from_address	*addrs;
	size_t			 naddrs;
	size_t			 addrs_cap;
	const char		**domains;	/* borrowed from addrs[] */
	size_t			 ndomains;
	size_t			 domains_cap;
	size_t			 nfields;
	enum from_status	 first_status;	/* of field 0 */
	bool			 nomem;
	bool			 has_error;
	size_t			 error_field;
	size_t			 error_offset;
};

/* Token types: the specials are their own character. */
enum {
	TOK_END = 0,
	TOK_ATOM = 256,		/* atext run, or an encoded-word */
	TOK_QSTRING,		/* start/end exclude the quotes */
	TOK_LITERAL		/* start/end include the brackets */
};

struct token {
	int	 type;
	size_t	 start;
	size_t	 end;
	bool	 space_before;	/* FWS or a comment before it */
	bool	 pure;		/* atom made of atext only */
};

/* What parse_words() saw. */
struct words {
	size_t	 nwords;
	bool	 local_ok;	/* could be an (obs-)local-part */
	bool	 last_word;	/* last token was a word, not a dot */
};

enum dom_kind {
	DOM_NONE,		/* no domain at all */
	DOM_NAME,
	DOM_LITERAL
};

struct parser {
	const char		*s;
	size_t			 len;
	size_t			 pos;
	struct token		 tok;
	struct from_list	*fl;
	bool			 in_group;
	enum from_status	 bad;	/* first bad domain */
	size_t			 naddr;	/* mailboxes seen */
	size_t			 err_off;
	struct strbuf		 disp;
	struct strbuf		 local;
	struct strbuf		 dom;
};

static enum from_status
fail(struct parser *p, enum from_status st, size_t off)
{
	p->err_off = off;
	return st;
}

/* RFC 5322 section 3.2.3 atext, plus UTF-8 bytes (RFC 6532). */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 2047 section 2 "token": printable ASCII but not especials. */
static bool
is_eword_token(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\"/[]?.=", c) == NULL;
}

/*
 * If an RFC 2047 encoded-word "=?charset?enc?text?=" starts at i and
 * holds a character that would end an atom (other than '.'), return its
 * end; else 0.  Encoded-words made only of atext and dots lex the same
 * either way, so they are left to the ordinary rules, which keeps such
 * words valid in a local part.  Broken senders leave "@", "<" and
 * quotes unencoded in the text (RFC 2047 section 5 forbids it); taking
 * the word whole keeps those out of the address.  The scan stops at the
 * third '?', white space or FROM_MAX_EWORD_LEN.
 */
static size_t
lex_eword(const char *s, size_t len, size_t i)
{
	size_t start = i, n, end, k;
	bool special = false;

	if (len - i > FROM_MAX_EWORD_LEN)
		len = i + FROM_MAX_EWORD_LEN;
	i += 2;
	for (n = 0; i < len && is_eword_token((unsigned char)s[i]); i++)
		n++;
	if (n == 0 || i + 3 > len || s[i] != '?' ||
	    strchr("QqBb", s[i + 1]) == NULL || s[i + 2] != '?')
		return 0;
	for (i += 3; i < len && s[i] != '?' && s[i] > 0x20 && s[i] < 0x7f;
	    i++)
		;
	if (i + 2 > len || s[i] != '?' || s[i + 1] != '=')
		return 0;
	end = i + 2;
	for (k = start; k < end; k++)
		if (!is_atext((unsigned char)s[k]) && s[k] != '.')
			special = true;
	return special ? end : 0;
}

/*
 * RFC 5322 section 3.2.2: a line break inside a field is only allowed
 * as part of folding white space.  Accept CRLF or LF followed by SP or
 * HTAB, or one at the very end; refuse bare CR, blank lines and NUL.
 * Checked once up front so the lexer can treat CR and LF as blanks.
 */
static enum from_status
lex_check_lines(struct parser *p)
{
	size_t i, next;

	for (i = 0; i < p->len; i++) {
		char c = p->s[i];

		if (c == '\0')
			return fail(p, FROM_ERR_SYNTAX, i);
		if (c != '\r' && c != '\n')
			continue;
		if (c == '\r' && (i + 1 >= p->len || p->s[i + 1] != '\n'))
			return fail(p, FROM_ERR_SYNTAX, i);
		next = c == '\r' ? i + 2 : i + 1;
		if (next < p->len && p->s[next] != ' ' && p->s[next] != '\t')
			return fail(p, FROM_ERR_SYNTAX, i);
		i = next - 1;
	}
	return FROM_OK;
}

/* Skip one comment (RFC 5322 section 3.2.2), nested, with quoted-pairs. */
static enum from_status
lex_comment(struct parser *p)
{
	size_t start = p->pos, depth = 0;

	while (p->pos < p->len) {
		char c = p->s[p->pos++];

		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			p->pos++;
		} else if (c == '(') {
			if (++depth > FROM_MAX_COMMENT_DEPTH)
				return fail(p, FROM_ERR_TOO_DEEP, p->pos - 1);
		} else if (c == ')') {
			if (--depth == 0)
				return FROM_OK;
		}
	}
	return fail(p, FROM_ERR_SYNTAX, start);
}

/* Scan a quoted string or domain literal ending in close. */
static enum from_status
lex_delimited(struct parser *p, char close)
{
	size_t start = p->pos;

	p->pos++;
	while (p->pos < p->len) {
		char c = p->s[p->pos++];

		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			p->pos++;
		} else if (c == close)
			return FROM_OK;
		else if (close == ']' && c == '[')
			/* RFC 5322 section 3.4.1: dtext excludes '['. */
			return fail(p, FROM_ERR_SYNTAX, p->pos - 1);
	}
	return fail(p, FROM_ERR_SYNTAX, start);
}

/* Read the next token into p->tok, skipping CFWS. */
static enum from_status
lex_next(struct parser *p)
{
	struct token *t = &p->tok;
	enum from_status st;
	bool space = false;
	size_t e;
	char c;

	for (;;) {
		if (p->pos >= p->len) {
			t->type = TOK_END;
			t->start = t->end = p->len;
			t->space_before = space;
			return FROM_OK;
		}
		c = p->s[p->pos];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p->pos++;
		} else if (c == '(') {
			if ((st = lex_comment(p)) != FROM_OK)
				return st;
		} else
			break;
		space = true;
	}
	t->space_before = space;
	t->start = p->pos;
	t->pure = true;

	if (c == '=' && p->pos + 1 < p->len && p->s[p->pos + 1] == '?' &&
	    (e = lex_eword(p->s, p->len, p->pos)) != 0) {
		t->type = TOK_ATOM;
		t->pure = false;
		p->pos = e;
	} else if (is_atext((unsigned char)c)) {
		t->type = TOK_ATOM;
		while (p->pos < p->len && is_atext((unsigned char)p->s[p->pos]))
			p->pos++;
	} else if (c == '"') {
		if ((st = lex_delimited(p, '"')) != FROM_OK)
			return st;
		t->type = TOK_QSTRING;
		t->start++;
		t->end = p->pos - 1;
		return FROM_OK;
	} else if (c == '[') {
		if ((st = lex_delimited(p, ']')) != FROM_OK)
			return st;
		t->type = TOK_LITERAL;
	} else if (c != '\0' && strchr(".<>@,:;", c) != NULL) {
		t->type = c;
		p->pos++;
	} else {
		/* ')', '\\', ']' or a control character. */
		return fail(p, FROM_ERR_SYNTAX, p->pos);
	}
	t->end = p->pos;
	return FROM_OK;
}

/* Append a token's text: quoted strings unquoted and unfolded. */
static void
append_token(struct strbuf *sb, const struct parser *p)
{
	const struct token *t = &p->tok;
	size_t i, run;

	if (t->type != TOK_QSTRING) {
		strbuf_append(sb, p->s + t->start, t->end - t->start);
		return;
	}
	for (i = t->start; i < t->end; i += run) {
		char c = p->s[i];

		if (c == '\\') {
			strbuf_appendc(sb, p->s[i + 1]);
			run = 2;
		} else if (c == '\r' || c == '\n') {
			run = 1;
		} else {
			for (run = 1; i + run < t->end; run++) {
				c = p->s[i + run];
				if (c == '\\' || c == '\r' || c == '\n')
					break;
			}
			strbuf_append(sb, p->s + i, run);
		}
	}
}

/*
 * A run of words and dots: a display name (phrase, obs-phrase) or a
 * local part (dot-atom, quoted-string, obs-local-part); which one is
 * only known from the token after it.  Both readings are built at once
 * so nothing is lexed twice: the phrase into disp (if not NULL) with
 * one space where there was CFWS, the local part into p->local.
 */
static enum from_status
parse_words(struct parser *p, struct strbuf *disp, struct words *w)
{
	enum from_status st;
	int type;

	w->nwords = 0;
	w->local_ok = true;
	w->last_word = false;
	strbuf_reset(&p->local);
	for (;;) {
		type = p->tok.type;
		if (type == TOK_ATOM || type == TOK_QSTRING) {
			/* Two words with no dot between: a phrase only. */
			if (w->last_word || !p->tok.pure)
				w->local_ok = false;
			w->last_word = true;
			w->nwords++;
		} else if (type == '.') {
			w->last_word = false;
		} else
			break;
		append_token(&p->local, p);
		if (disp != NULL) {
			if (p->tok.space_before && strbuf_len(disp) > 0)
				strbuf_appendc(disp, ' ');
			append_token(disp, p);
		}
		if ((st = lex_next(p)) != FROM_OK)
			return st;
	}
	if (strbuf_failed(&p->local) || (disp != NULL && strbuf_failed(disp)))
		return fail(p, FROM_ERR_NOMEM, p->tok.start);
	return FROM_OK;
}

/*
 * The domain after '@' into p->dom: dot-atom or obs-domain (CFWS
 * around the dots is dropped), or a domain literal.  *kind says which,
 * DOM_NONE when there is nothing that looks like a domain.
 */
static enum from_status
parse_domain(struct parser *p, enum dom_kind *kind)
{
	enum from_status st;
	bool last_atom = false;

	strbuf_reset(&p->dom);
	*kind = DOM_NONE;
	if (p->tok.type == TOK_LITERAL) {
		append_token(&p->dom, p);
		*kind = DOM_LITERAL;
		if ((st = lex_next(p)) != FROM_OK)
			return st;
	} else {
		for (;;) {
			if (p->tok.type == TOK_ATOM && !last_atom) {
				if (!p->tok.pure)
					return fail(p, FROM_ERR_SYNTAX,
					    p->tok.start);
				last_atom = true;
			} else if (p->tok.type == '.')
				last_atom = false;
			else
				break;
			append_token(&p->dom, p);
			if ((st = lex_next(p)) != FROM_OK)
				return st;
		}
		if (strbuf_len(&p->dom) > 0)
			*kind = DOM_NAME;
	}
	if (strbuf_failed(&p->dom))
		return fail(p, FROM_ERR_NOMEM, p->tok.start);
	return FROM_OK;
}

static void
address_clear(struct from_address *a)
{
	mem_free(a->display_name);
	mem_free(a->local_part);
	mem_free(a->domain);
	mem_free(a->domain_raw);
	memset(a, 0, sizeof(*a));
}

/* Make room for one more address and one more domain. */
static bool
list_reserve(struct from_list *fl)
{
	size_t ncap;
	void *n;

	if (fl->naddrs == fl->addrs_cap) {
		ncap = fl->addrs_cap == 0 ? 4 : fl->addrs_cap * 2;
		if ((n = mem_reallocarray(fl->addrs, ncap,
		    sizeof(*fl->addrs))) == NULL)
			return false;
		fl->addrs = n;
		fl->addrs_cap = ncap;
	}
	if (fl->ndomains == fl->domains_cap) {
		ncap = fl->domains_cap == 0 ? 4 : fl->domains_cap * 2;
		if ((n = mem_reallocarray(fl->domains, ncap,
		    sizeof(*fl->domains))) == NULL)
			return false;
		fl->domains = n;
		fl->domains_cap = ncap;
	}
	return true;
}

/*
 * Record one mailbox: disp (may be NULL), p->local and the domain of
 * the given kind in p->dom.  A bad domain is kept in the address and in
 * p->bad, and parsing goes on, so every domain can be logged.
 */
static enum from_status
add_mailbox(struct parser *p, const struct strbuf *disp, enum dom_kind kind)
{
	struct from_list *fl = p->fl;
	struct from_address a;
	enum domain_status ds;
	size_t i;

	memset(&a, 0, sizeof(a));
	if (fl->naddrs >= FROM_MAX_ADDRESSES)
		return fail(p, FROM_ERR_TOO_MANY, p->tok.start);
	if (!list_reserve(fl))
		goto nomem;
	if (disp != NULL && strbuf_len(disp) > 0 &&
	    (a.display_name = mem_strdup(strbuf_cstr(disp))) == NULL)
		goto nomem;
	if ((a.local_part = mem_strndup(strbuf_cstr(&p->local),
	    strbuf_len(&p->local))) == NULL)
		goto nomem;
	if ((a.domain_raw = mem_strndup(strbuf_cstr(&p->dom),
	    strbuf_len(&p->dom))) == NULL)
		goto nomem;
	switch (kind) {
	case DOM_NONE:
		a.status = FROM_ERR_BAD_DOMAIN;
		break;
	case DOM_LITERAL:
		/* No DNS name, so no DMARC record can apply. */
		a.status = FROM_ERR_DOMAIN_LITERAL;
		break;
	case DOM_NAME:
		ds = domain_normalize_dup(strbuf_cstr(&p->dom),
		    strbuf_len(&p->dom), &a.domain);
		if (ds == DOMAIN_ERR_NOMEM)
			goto nomem;
		a.status = ds == DOMAIN_OK ? FROM_OK : FROM_ERR_BAD_DOMAIN;
		break;
	}
	if (a.status != FROM_OK && p->bad == FROM_OK)
		p->bad = a.status;
	if (a.domain != NULL) {
		for (i = 0; i < fl->ndomains; i++)
			if (strcmp(fl->domains[i], a.domain) == 0)
				break;
		if (i == fl->ndomains)
			fl->domains[fl->ndomains++] = a.domain;
	}
	fl->addrs[fl->naddrs++] = a;
	p->naddr++;
	return FROM_OK;

nomem:
	address_clear(&a);
	return fail(p, FROM_ERR_NOMEM, p->tok.start);
}

/*
 * The rest of an angle-addr, after '<' (RFC 5322 section 3.4 and
 * obs-angle-addr in section 4.4): an optional source route, which is
 * skipped (RFC 5321 section 4.1.2 tells receivers to ignore it), then
 * addr-spec and '>'.  "<user>" has no domain: FROM_ERR_BAD_DOMAIN.
 */
static enum from_status
parse_angle(struct parser *p, const struct strbuf *disp)
{
	enum from_status st;
	enum dom_kind kind;
	struct words w;

	if (p->tok.type == '@') {
		for (;;) {
			/* obs-route: "@a,@b:" */
			if ((st = lex_next(p)) != FROM_OK ||
			    (st = parse_domain(p, &kind)) != FROM_OK)
				return st;
			if (kind == DOM_NONE)
				return fail(p, FROM_ERR_SYNTAX, p->tok.start);
			while (p->tok.type == ',')
				if ((st = lex_next(p)) != FROM_OK)
					return st;
			if (p->tok.type == ':')
				break;
			if (p->tok.type != '@')
				return fail(p, FROM_ERR_SYNTAX, p->tok.start);
		}
		if ((st = lex_next(p)) != FROM_OK)
			return st;
	}
	if ((st = parse_words(p, NULL, &w)) != FROM_OK)
		return st;
	if (w.nwords == 0 || !w.local_ok)
		return fail(p, FROM_ERR_SYNTAX, p->tok.start);
	kind = DOM_NONE;
	strbuf_reset(&p->dom);
	if (p->tok.type == '@') {
		if ((st = lex_next(p)) != FROM_OK ||
		    (st = parse_domain(p, &kind)) != FROM_OK)
			return st;
	}
	if (p->tok.type != '>')
		return fail(p, FROM_ERR_SYNTAX, p->tok.start);
	if ((st = lex_next(p)) != FROM_OK)
		return st;
	return add_mailbox(p, disp, kind);
}

static enum from_status parse_address(struct parser *);

/*
 * group = display-name ":" [group-list] ";" (RFC 5322 section 3.4,
 * allowed in From by RFC 6854).  Groups do not nest.  A missing ';' at
 * the very end is tolerated: "undisclosed-recipients:" is common.
 */
static enum from_status
parse_group(struct parser *p)
{
	enum from_status st;

	p->in_group = true;
	if ((st = lex_next(p)) != FROM_OK)
		return st;
	for (;;) {
		if (p->tok.type == ';') {
			if ((st = lex_next(p)) != FROM_OK)
				return st;
			break;
		}
		if (p->tok.type == TOK_END)
			break;
		if (p->tok.type != ',') {
			if ((st = parse_address(p)) != FROM_OK)
				return st;
			if (p->tok.type == ';' || p->tok.type == TOK_END)
				continue;
			if (p->tok.type != ',')
				return fail(p, FROM_ERR_SYNTAX, p->tok.start);
		}
		if ((st = lex_next(p)) != FROM_OK)
			return st;
	}
	p->in_group = false;
	return FROM_OK;
}

/* address = mailbox / group; mailbox = name-addr / addr-spec. */
static enum from_status
parse_address(struct parser *p)
{
	enum from_status st;
	enum dom_kind kind;
	struct words w;

	strbuf_reset(&p->disp);
	strbuf_reset(&p->dom);
	if ((st = parse_words(p, &p->disp, &w)) != FROM_OK)
		return st;
	switch (p->tok.type) {
	case '<':
		if ((st = lex_next(p)) != FROM_OK)
			return st;
		return parse_angle(p, &p->disp);
	case ':':
		if (p->in_group || w.nwords == 0)
			break;
		return parse_group(p);
	case '@':
		if (w.nwords == 0 || !w.local_ok)
			break;
		if ((st = lex_next(p)) != FROM_OK ||
		    (st = parse_domain(p, &kind)) != FROM_OK)
			return st;
		return add_mailbox(p, NULL, kind);
	case ',':
	case ';':
	case TOK_END:
		/* "From: user": a local part and no domain. */
		if (w.nwords > 0 && w.local_ok)
			return add_mailbox(p, NULL, DOM_NONE);
		break;
	}
	return fail(p, FROM_ERR_SYNTAX, p->tok.start);
}

/* address-list, with the empty elements of obs-addr-list. */
static enum from_status
parse_address_list(struct parser *p)
{
	enum from_status st;

	if ((st = lex_next(p)) != FROM_OK)
		return st;
	for (;;) {
		if (p->tok.type == TOK_END)
			return FROM_OK;
		if (p->tok.type != ',') {
			if ((st = parse_address(p)) != FROM_OK)
				return st;
			if (p->tok.type == TOK_END)
				return FROM_OK;
			if (p->tok.type != ',')
				return fail(p, FROM_ERR_SYNTAX, p->tok.start);
		}
		if ((st = lex_next(p)) != FROM_OK)
			return st;
	}
}

/* One bare address, "<>" or "" (from_domain_of_address()). */
static enum from_status
parse_bare(struct parser *p)
{
	enum from_status st;
	enum dom_kind kind;
	struct words w;

	if ((st = lex_next(p)) != FROM_OK)
		return st;
	if (p->tok.type == TOK_END)
		return FROM_OK;		/* no address */
	strbuf_reset(&p->dom);
	if (p->tok.type == '<') {
		if ((st = lex_next(p)) != FROM_OK)
			return st;
		if (p->tok.type == '>') {
			if ((st = lex_next(p)) != FROM_OK)
				return st;
		} else if ((st = parse_angle(p, NULL)) != FROM_OK)
			return st;
	} else {
		if ((st = parse_words(p, NULL, &w)) != FROM_OK)
			return st;
		if (w.nwords == 0 || !w.local_ok)
			return fail(p, FROM_ERR_SYNTAX, p->tok.start);
		kind = DOM_NONE;
		if (p->tok.type == '@' &&
		    ((st = lex_next(p)) != FROM_OK ||
		    (st = parse_domain(p, &kind)) != FROM_OK))
			return st;
		if ((st = add_mailbox(p, NULL, kind)) != FROM_OK)
			return st;
	}
	if (p->tok.type != TOK_END)
		return fail(p, FROM_ERR_SYNTAX, p->tok.start);
	return FROM_OK;
}

/* Run one parse over value; the field's own status. */
static enum from_status
parse_run(struct from_list *fl, const char *value, size_t len, bool bare,
    size_t *err_off)
{
	struct parser p;
	enum from_status st;

	memset(&p, 0, sizeof(p));
	p.s = value;
	p.len = len;
	p.fl = fl;
	p.bad = FROM_OK;
	strbuf_init(&p.disp);
	strbuf_init(&p.local);
	strbuf_init(&p.dom);

	if (len > FROM_MAX_FIELD_LEN)
		st = fail(&p, FROM_ERR_TOO_LONG, FROM_MAX_FIELD_LEN);
	else if ((st = lex_check_lines(&p)) == FROM_OK)
		st = bare ? parse_bare(&p) : parse_address_list(&p);

	strbuf_release(&p.disp);
	strbuf_release(&p.local);
	strbuf_release(&p.dom);
	*err_off = p.err_off;
	if (st != FROM_OK)
		return st;
	if (p.bad != FROM_OK)
		return p.bad;
	return p.naddr == 0 ? FROM_ERR_NO_ADDRESS : FROM_OK;
}

struct from_list *
from_list_new(void)
{
	struct from_list *fl;

	if ((fl = mem_calloc(1, sizeof(*fl))) == NULL)
		return NULL;
	fl->first_status = FROM_ERR_NONE;
	return fl;
}

void
from_list_free(struct from_list *fl)
{
	size_t i;

	if (fl == NULL)
		return;
	for (i = 0; i < fl->naddrs; i++)
		address_clear(&fl->addrs[i]);
	mem_free(fl->addrs);
	mem_free(fl->domains);
	mem_free(fl);
}

static bool
status_is_hard(enum from_status st)
{
	switch (st) {
	case FROM_OK:
	case FROM_ERR_NONE:
	case FROM_ERR_MULTIPLE_FIELDS:
	case FROM_ERR_NO_ADDRESS:
	case FROM_ERR_BAD_DOMAIN:
	case FROM_ERR_DOMAIN_LITERAL:
		return false;
	case FROM_ERR_SYNTAX:
	case FROM_ERR_TOO_LONG:
	case FROM_ERR_TOO_MANY:
	case FROM_ERR_TOO_DEEP:
	case FROM_ERR_NOMEM:
		break;
	}
	return true;
}

enum from_status
from_list_add_field(struct from_list *fl, const char *value, size_t len)
{
	enum from_status st;
	size_t off = 0;

	if (value == NULL)
		len = 0;
	st = parse_run(fl, value, len, false, &off);
	if (fl->nfields == 0)
		fl->first_status = st;
	if (st == FROM_ERR_NOMEM)
		fl->nomem = true;
	if (status_is_hard(st) && !fl->has_error) {
		fl->has_error = true;
		fl->error_field = fl->nfields;
		fl->error_offset = off;
	}
	fl->nfields++;
	return st;
}

enum from_status
from_list_status(const struct from_list *fl)
{
	if (fl->nomem)
		return FROM_ERR_NOMEM;
	if (fl->nfields == 0)
		return FROM_ERR_NONE;
	/* RFC 5322 section 3.6: exactly one From field. */
	if (fl->nfields > 1)
		return FROM_ERR_MULTIPLE_FIELDS;
	return fl->first_status;
}

size_t
from_list_nfields(const struct from_list *fl)
{
	return fl->nfields;
}

int
from_list_error_at(const struct from_list *fl, size_t *field, size_t *offset)
{
	if (!fl->has_error)
		return 0;
	if (field != NULL)
		*field = fl->error_field;
	if (offset != NULL)
		*offset = fl->error_offset;
	return 1;
}

size_t
from_list_naddresses(const struct from_list *fl)
{
	return fl->naddrs;
}

const struct from_address *
from_list_address(const struct from_list *fl, size_t i)
{
	return i < fl->naddrs ? &fl->addrs[i] : NULL;
}

size_t
from_list_ndomains(const struct from_list *fl)
{
	return fl->ndomains;
}

const char *
from_list_domain(const struct from_list *fl, size_t i)
{
	return i < fl->ndomains ? fl->domains[i] : NULL;
}

enum from_status
from_domain_of_address(const char *addr, size_t len, char **domain_out)
{
	struct from_list *fl;
	enum from_status st;
	size_t off;

	*domain_out = NULL;
	if (addr == NULL)
		len = 0;
	if ((fl = from_list_new()) == NULL)
		return FROM_ERR_NOMEM;
	st = parse_run(fl, addr, len, true, &off);
	if (st == FROM_OK) {
		/* parse_bare() adds exactly one mailbox on success. */
		*domain_out = fl->addrs[0].domain;
		fl->addrs[0].domain = NULL;
	}
	from_list_free(fl);
	return st;
}

const char *
from_strerror(enum from_status st)
{
	switch (st) {
	case FROM_OK:
		return "ok";
	case FROM_ERR_NONE:
		return "no From header field";
	case FROM_ERR_MULTIPLE_FIELDS:
		return "more than one From header field";
	case FROM_ERR_NO_ADDRESS:
		return "From header field has no address";
	case FROM_ERR_SYNTAX:
		return "From header field cannot be parsed";
	case FROM_ERR_BAD_DOMAIN:
		return "From address has a missing or invalid domain";
	case FROM_ERR_DOMAIN_LITERAL:
		return "From address has an address literal, not a domain";
	case FROM_ERR_TOO_LONG:
		return "From header field too long";
	case FROM_ERR_TOO_MANY:
		return "too many From addresses";
	case FROM_ERR_TOO_DEEP:
		return "From header field has comments nested too deeply";
	case FROM_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown From error";
}
