/*
 * authres.c - Authentication-Results writer and parser (RFC 8601).
 *
 * Implements the grammar of RFC 8601 section 2.2 with CFWS (RFC 5322
 * section 3.2.2: folding white space and nested comments) and the
 * value/token rules of RFC 2045 section 5.1.  Deliberately left out:
 * the meaning of methods and results (the caller's business) and
 * decoding of encoded words.  The parser reads each byte at most a
 * bounded number of times and keeps at most AUTHRES_MAX_RESULTS results.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "common/mem.h"

#define AUTHRES_MAX_PVALUE	256	/* bytes of a written value */

/* RFC 2045 section 5.1: tspecials, which a token may not contain. */
static bool
is_tspecial(unsigned char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !is_tspecial(c);
}

/* ---- writer ---------------------------------------------------------- */

/* Append s as a token if it is one, else as a quoted-string. */
static void
append_value(struct strbuf *out, const char *s, bool allow_at)
{
	size_t i, n = strlen(s);
	bool token = n > 0;

	if (n > AUTHRES_MAX_PVALUE)
		n = AUTHRES_MAX_PVALUE;
	for (i = 0; i < n && token; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_token_char(c) && !(allow_at && c == '@'))
			token = false;
	}
	if (token) {
		strbuf_append(out, s, n);
		return;
	}
	strbuf_appendc(out, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == '"' || c == '\\')
			strbuf_appendc(out, '\\');
		strbuf_appendc(out, c);
	}
	strbuf_appendc(out, '"');
}

void
authres_begin(struct authres_writer *w, struct strbuf *out,
    const char *authserv_id, bool fold)
{
	w->out = out;
	w->fold = fold;
	w->nresults = 0;
	strbuf_reset(out);
	append_value(out, authserv_id, false);
}

void
authres_add_result(struct authres_writer *w, const char *method,
    const char *result, const char *comment)
{
	size_t i;

	strbuf_appends(w->out, w->fold ? ";\n\t" : "; ");
	strbuf_appends(w->out, method);
	strbuf_appendc(w->out, '=');
	strbuf_appends(w->out, result);
	if (comment != NULL) {
		strbuf_appends(w->out, " (");
		for (i = 0; comment[i] != '\0' && i < AUTHRES_MAX_PVALUE;
		    i++) {
			unsigned char c = (unsigned char)comment[i];

			if (c < 0x20 || c == 0x7f)
				continue;
			/* RFC 5322 section 3.2.2: quote ( ) and \ in ctext. */
			if (c == '(' || c == ')' || c == '\\')
				strbuf_appendc(w->out, '\\');
			strbuf_appendc(w->out, c);
		}
		strbuf_appendc(w->out, ')');
	}
	w->nresults++;
}

void
authres_add_prop(struct authres_writer *w, const char *ptype,
    const char *property, const char *value)
{
	strbuf_appendc(w->out, ' ');
	strbuf_appends(w->out, ptype);
	strbuf_appendc(w->out, '.');
	strbuf_appends(w->out, property);
	strbuf_appendc(w->out, '=');
	append_value(w->out, value, true);
}

void
authres_finish(struct authres_writer *w)
{
	if (w->nresults == 0)
		strbuf_appends(w->out, "; none");
}

/* ---- parser ---------------------------------------------------------- */

struct cursor {
	const char *p, *end;
	enum authres_status err;	/* first error seen */
};

static void
fail(struct cursor *c, enum authres_status st)
{
	if (c->err == AUTHRES_OK)
		c->err = st;
}

/* Skip CFWS: white space, line folds and (nested (comments)). */
static void
skip_cfws(struct cursor *c)
{
	int depth = 0;

	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;

		if (depth == 0 && (ch == ' ' || ch == '\t' || ch == '\r' ||
		    ch == '\n')) {
			c->p++;
		} else if (ch == '(') {
			if (++depth > AUTHRES_MAX_COMMENT) {
				fail(c, AUTHRES_ERR_TOO_MANY);
				c->p = c->end;
				return;
			}
			c->p++;
		} else if (depth > 0 && ch == ')') {
			depth--;
			c->p++;
		} else if (depth > 0 && ch == '\\' && c->p + 1 < c->end) {
			c->p += 2;
		} else if (depth > 0) {
			c->p++;
		} else
			return;
	}
	if (depth > 0)
		fail(c, AUTHRES_ERR_SYNTAX);	/* unterminated comment */
}

static bool
at(struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

/* A quoted-string; *out gets the unquoted text.  -1 on error. */
static int
read_quoted(struct cursor *c, struct strbuf *sb)
{
	c->p++;		/* opening quote */
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
		strbuf_appendc(sb, *c->p++);
	}
	if (c->p >= c->end) {
		fail(c, AUTHRES_ERR_SYNTAX);
		return -1;
	}
	c->p++;		/* closing quote */
	return 0;
}

static char *
take(struct cursor *c, struct strbuf *sb, bool lower)
{
	char *s;
	size_t i;

	if ((s = strbuf_steal(sb)) == NULL) {
		fail(c, AUTHRES_ERR_NOMEM);
		return NULL;
	}
	for (i = 0; lower && s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

/* value = token / quoted-string (RFC 2045). */
static char *
read_value(struct cursor *c)
{
	struct strbuf sb = STRBUF_INIT;

	if (at(c, '"')) {
		if (read_quoted(c, &sb) != 0) {
			strbuf_release(&sb);
			return NULL;
		}
		return take(c, &sb, false);
	}
	while (c->p < c->end && is_token_char((unsigned char)*c->p))
		strbuf_appendc(&sb, *c->p++);
	if (strbuf_len(&sb) == 0) {
		fail(c, AUTHRES_ERR_SYNTAX);
		return NULL;
	}
	return take(c, &sb, false);
}

/* Keyword = ldh-str (RFC 5321); lowercased. */
static char *
read_keyword(struct cursor *c)
{
	struct strbuf sb = STRBUF_INIT;

	while (c->p < c->end && (isalnum((unsigned char)*c->p) ||
	    *c->p == '-' || *c->p == '_'))
		strbuf_appendc(&sb, *c->p++);
	if (strbuf_len(&sb) == 0) {
		fail(c, AUTHRES_ERR_SYNTAX);
		return NULL;
	}
	return take(c, &sb, true);
}

/*
 * pvalue = value / [ [ local-part ] "@" ] domain-name: a quoted string
 * (possibly followed by @domain) or a run of characters up to white
 * space, ';' or a comment.
 */
static char *
read_pvalue(struct cursor *c)
{
	struct strbuf sb = STRBUF_INIT;

	if (at(c, '"') && read_quoted(c, &sb) != 0) {
		strbuf_release(&sb);
		return NULL;
	}
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;

		if (ch <= 0x20 || ch == 0x7f || ch == ';' || ch == '(' ||
		    ch == '"')
			break;
		strbuf_appendc(&sb, ch);
		c->p++;
	}
	return take(c, &sb, false);
}

static bool
expect(struct cursor *c, char ch)
{
	skip_cfws(c);
	if (!at(c, ch)) {
		fail(c, AUTHRES_ERR_SYNTAX);
		return false;
	}
	c->p++;
	skip_cfws(c);
	return true;
}

/* Properties and reason after "method=result", up to ';' or the end. */
static void
parse_props(struct cursor *c, struct authres_result *r)
{
	for (;;) {
		struct authres_prop *pp;
		char *ptype;

		skip_cfws(c);
		if (c->err != AUTHRES_OK || c->p >= c->end || at(c, ';'))
			return;
		if ((ptype = read_keyword(c)) == NULL)
			return;
		skip_cfws(c);
		if (strcmp(ptype, "reason") == 0 && at(c, '=')) {
			mem_free(ptype);
			if (!expect(c, '='))
				return;
			mem_free(r->reason);
			r->reason = read_value(c);
			continue;
		}
		if (r->nprops >= AUTHRES_MAX_PROPS) {
			mem_free(ptype);
			fail(c, AUTHRES_ERR_TOO_MANY);
			return;
		}
		pp = &r->props[r->nprops++];
		pp->ptype = ptype;
		if (!expect(c, '.') ||
		    (pp->property = read_keyword(c)) == NULL ||
		    !expect(c, '=') || (pp->value = read_pvalue(c)) == NULL)
			return;
	}
}

static void
parse_results(struct cursor *c, struct authres *ar)
{
	while (c->err == AUTHRES_OK) {
		struct authres_result *r;

		skip_cfws(c);
		if (c->p >= c->end)
			return;
		if (!expect(c, ';'))
			return;
		if (ar->nresults >= AUTHRES_MAX_RESULTS) {
			fail(c, AUTHRES_ERR_TOO_MANY);
			return;
		}
		r = &ar->results[ar->nresults];
		if ((r->method = read_keyword(c)) == NULL)
			return;
		ar->nresults++;
		skip_cfws(c);
		/* no-result: "; none" stands alone (section 2.2). */
		if (strcmp(r->method, "none") == 0 &&
		    (c->p >= c->end || at(c, ';'))) {
			mem_free(r->method);
			r->method = NULL;
			ar->nresults--;
			ar->none = true;
			continue;
		}
		if (at(c, '/')) {	/* method-version */
			c->p++;
			skip_cfws(c);
			while (c->p < c->end && isdigit((unsigned char)*c->p))
				c->p++;
		}
		if (!expect(c, '=') || (r->result = read_keyword(c)) == NULL)
			return;
		parse_props(c, r);
	}
}

enum authres_status
authres_parse(const char *value, size_t len, struct authres **out)
{
	struct cursor c = { value, value + len, AUTHRES_OK };
	struct authres *ar;

	*out = NULL;
	if (len > AUTHRES_MAX_LEN)
		return AUTHRES_ERR_TOO_LONG;
	if ((ar = mem_calloc(1, sizeof(*ar))) == NULL)
		return AUTHRES_ERR_NOMEM;
	ar->version = 1;
	skip_cfws(&c);
	if ((ar->authserv_id = read_value(&c)) != NULL) {
		skip_cfws(&c);
		if (c.p < c.end && isdigit((unsigned char)*c.p)) {
			int v = 0;

			while (c.p < c.end && isdigit((unsigned char)*c.p)) {
				if (v < 1000)
					v = v * 10 + (*c.p - '0');
				c.p++;
			}
			ar->version = v;
		}
		parse_results(&c, ar);
	}
	if (c.err == AUTHRES_ERR_NOMEM || ar->authserv_id == NULL) {
		enum authres_status st = c.err;

		authres_free(ar);
		return st == AUTHRES_OK ? AUTHRES_ERR_SYNTAX : st;
	}
	*out = ar;
	return c.err;
}

void
authres_free(struct authres *ar)
{
	size_t i, j;

	if (ar == NULL)
		return;
	for (i = 0; i < ar->nresults; i++) {
		struct authres_result *r = &ar->results[i];

		mem_free(r->method);
		mem_free(r->result);
		mem_free(r->reason);
		for (j = 0; j < r->nprops; j++) {
			mem_free(r->props[j].ptype);
			mem_free(r->props[j].property);
			mem_free(r->props[j].value);
		}
	}
	mem_free(ar->authserv_id);
	mem_free(ar);
}

const char *
authres_strerror(enum authres_status st)
{
	switch (st) {
	case AUTHRES_OK:
		return "ok";
	case AUTHRES_ERR_SYNTAX:
		return "not a valid Authentication-Results value (RFC 8601)";
	case AUTHRES_ERR_TOO_LONG:
		return "Authentication-Results value too long";
	case AUTHRES_ERR_TOO_MANY:
		return "too many results, properties or nested comments";
	case AUTHRES_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown Authentication-Results error";
}

bool
authres_is_from(const char *value, size_t len, const char *authserv_id)
{
	struct cursor c = { value, value + (len > AUTHRES_MAX_LEN ?
	    AUTHRES_MAX_LEN : len), AUTHRES_OK };
	struct strbuf sb = STRBUF_INIT;
	bool match = false;

	skip_cfws(&c);
	if (at(&c, '"')) {
		if (read_quoted(&c, &sb) != 0)
			goto done;
	} else
		while (c.p < c.end && is_token_char((unsigned char)*c.p))
			strbuf_appendc(&sb, *c.p++);
	match = !strbuf_failed(&sb) && strbuf_len(&sb) > 0 &&
	    strcasecmp(strbuf_cstr(&sb), authserv_id) == 0;
done:
	strbuf_release(&sb);
	return match;
}
