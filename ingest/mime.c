/*
 * mime.c - a small MIME walker for report e-mails (RFC 2045, 2046, 2183).
 *
 * It finds one attachment and decodes it; it does not build a tree, so
 * memory is the decoded attachment only.  Multipart bodies are split on
 * their boundary lines (RFC 2046 section 5.1.1); nested multiparts are
 * walked up to INGEST_MIME_MAX_DEPTH, at most INGEST_MIME_MAX_PARTS parts
 * in all.  message/rfc822 parts (a forwarded report) are walked too.
 * ingest_mime_walk() hands every entity to a callback (the aggregate
 * attachment finder below, and afrf.c for failure reports).
 * Header parameters: plain and quoted values; RFC 2231 continuations
 * are not joined (a name split that way still matches on its type).
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/chars.h"
#include "ingest/mime.h"

struct walk {
	unsigned parts;
	ingest_mime_cb cb;
	void	*ctx;
	struct strbuf *err;
	enum ingest_status st;
	bool	 stop;
};

size_t
ingest_mime_header_end(const char *m, size_t len)
{
	size_t i;

	if (len > 0 && m[0] == '\n')
		return 1;
	if (len > 1 && m[0] == '\r' && m[1] == '\n')
		return 2;
	for (i = 0; i + 1 < len; i++) {
		if (m[i] != '\n')
			continue;
		if (m[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && m[i + 1] == '\r' && m[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

bool
ingest_mime_header_get(const char *h, size_t hlen, const char *name,
    struct strbuf *out)
{
	size_t nl = strlen(name), i = 0, j;

	strbuf_reset(out);
	while (i < hlen) {
		if ((i == 0 || h[i - 1] == '\n') && hlen - i > nl &&
		    strncasecmp(h + i, name, nl) == 0 && h[i + nl] == ':') {
			for (j = i + nl + 1; j < hlen; j++) {
				if (h[j] == '\n' && (j + 1 >= hlen ||
				    (h[j + 1] != ' ' && h[j + 1] != '\t')))
					break;
				if (h[j] != '\r' && h[j] != '\n')
					strbuf_appendc(out, h[j]);
			}
			return true;
		}
		i++;
	}
	return false;
}

/* Parameter p of a header value (Content-Type, -Disposition). */
static void
param_get(const char *v, const char *p, struct strbuf *out)
{
	size_t pl = strlen(p);
	const char *s = v;

	strbuf_reset(out);
	while ((s = strchr(s, ';')) != NULL) {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncasecmp(s, p, pl) != 0)
			continue;
		s += pl;
		while (*s == ' ')
			s++;
		if (*s != '=')
			continue;
		s++;
		while (*s == ' ')
			s++;
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++)
				strbuf_appendc(out, *s);
		} else
			for (; *s != '\0' && *s != ';' && !isspace(
			    (unsigned char)*s); s++)
				strbuf_appendc(out, *s);
		return;
	}
}

unsigned char *
ingest_mime_decode(const char *b, size_t len, const char *cte,
    size_t *outlen)
{
	unsigned char *o = malloc(len + 1);
	size_t i, n = 0;
	unsigned acc = 0;
	int bits = 0, v, h, l;

	if (o == NULL)
		return NULL;
	if (strcasecmp(cte, "base64") == 0) {
		for (i = 0; i < len; i++) {
			if (b[i] == '=')
				break;
			if ((v = char_base64_value((unsigned char)b[i])) < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			if ((bits += 6) >= 8) {
				bits -= 8;
				o[n++] = (unsigned char)(acc >> bits);
				acc &= (1u << bits) - 1;
			}
		}
	} else if (strcasecmp(cte, "quoted-printable") == 0) {
		for (i = 0; i < len; i++) {
			if (b[i] != '=') {
				o[n++] = (unsigned char)b[i];
				continue;
			}
			if (i + 2 < len && (h = char_hex_value((unsigned char)b[i + 1]))
			    >= 0 && (l = char_hex_value((unsigned char)b[i + 2])) >= 0) {
				o[n++] = (unsigned char)(h << 4 | l);
				i += 2;
			} else if (i + 1 < len && b[i + 1] == '\n')
				i++;
			else if (i + 2 < len && b[i + 1] == '\r' &&
			    b[i + 2] == '\n')
				i += 2;
			else
				o[n++] = '=';
		}
	} else {
		memcpy(o, b, len);
		n = len;
	}
	*outlen = n;
	return o;
}

static bool
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

bool
ingest_mime_type_is(const char *type, const char *want)
{
	size_t tl = strlen(want);

	while (*type == ' ' || *type == '\t')
		type++;
	return strncasecmp(type, want, tl) == 0 && (type[tl] == '\0' ||
	    type[tl] == ';' || isspace((unsigned char)type[tl]));
}

static bool
is_report(const char *type, const char *fname)
{
	static const char *const types[] = { "application/gzip",
	    "application/x-gzip", "application/zip",
	    "application/x-zip-compressed", "application/x-zip",
	    "text/xml", "application/xml" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (ingest_mime_type_is(type, types[i]))
			return true;
	return ends_with(fname, ".xml") || ends_with(fname, ".gz") ||
	    ends_with(fname, ".zip") || ends_with(fname, ".xml.gz");
}

static void walk_entity(struct walk *, const char *, size_t, unsigned);

static void
walk_multipart(struct walk *w, const char *b, size_t len, const char *bnd,
    unsigned depth)
{
	size_t bl = strlen(bnd), i = 0, start = 0, end;
	bool in = false;

	/* RFC 2046 section 5.1.1: a boundary is 1 to 70 characters; some
	 * senders go past that, so up to 200 is accepted. */
	if (bl == 0 || bl > 200)
		return;
	while (i < len && !w->stop && w->st == INGEST_OK) {
		const char *nl;
		size_t next;

		nl = memchr(b + i, '\n', len - i);
		next = nl != NULL ? (size_t)(nl - b) + 1 : len;
		if (len - i >= bl + 2 && b[i] == '-' && b[i + 1] == '-' &&
		    memcmp(b + i + 2, bnd, bl) == 0) {
			if (in) {
				end = i;
				/* the line break before the delimiter is
				 * part of it (RFC 2046 5.1.1) */
				if (end > start && b[end - 1] == '\n')
					end--;
				if (end > start && b[end - 1] == '\r')
					end--;
				walk_entity(w, b + start, end - start,
				    depth + 1);
			}
			if (len - i >= bl + 4 && b[i + bl + 2] == '-' &&
			    b[i + bl + 3] == '-')
				return;
			in = true;
			start = next;
		}
		i = next;
	}
	/* a missing close delimiter: the last part runs to the end */
	if (in && !w->stop && w->st == INGEST_OK && start < len)
		walk_entity(w, b + start, len - start, depth + 1);
}

static void
trim(struct strbuf *sb, struct strbuf *tmp)
{
	const char *s = strbuf_cstr(sb);

	strbuf_reset(tmp);
	while (*s == ' ' || *s == '\t')
		s++;
	strbuf_appends(tmp, s);
	while (strbuf_len(tmp) > 0 && isspace((unsigned char)
	    strbuf_cstr(tmp)[strbuf_len(tmp) - 1]))
		strbuf_truncate(tmp, strbuf_len(tmp) - 1);
	strbuf_reset(sb);
	strbuf_appends(sb, strbuf_cstr(tmp));
}

static void
walk_entity(struct walk *w, const char *m, size_t len, unsigned depth)
{
	struct strbuf ct, cte, disp, fname, tmp;
	struct ingest_mime_part p;
	const char *t;
	size_t hl;
	int rc;

	if (depth > INGEST_MIME_MAX_DEPTH) {
		strbuf_appendf(w->err, "MIME nested deeper than %d levels",
		    INGEST_MIME_MAX_DEPTH);
		w->st = INGEST_ERR_LIMIT;
		return;
	}
	if (++w->parts > INGEST_MIME_MAX_PARTS) {
		strbuf_appendf(w->err, "more than %d MIME parts",
		    INGEST_MIME_MAX_PARTS);
		w->st = INGEST_ERR_LIMIT;
		return;
	}
	strbuf_init(&ct), strbuf_init(&cte), strbuf_init(&disp);
	strbuf_init(&fname), strbuf_init(&tmp);
	hl = ingest_mime_header_end(m, len);
	if (!ingest_mime_header_get(m, hl, "Content-Type", &ct))
		strbuf_appends(&ct, "text/plain");
	trim(&ct, &tmp);
	if (!ingest_mime_header_get(m, hl, "Content-Transfer-Encoding", &cte))
		strbuf_appends(&cte, "7bit");
	trim(&cte, &tmp);
	if (ingest_mime_header_get(m, hl, "Content-Disposition", &disp))
		param_get(strbuf_cstr(&disp), "filename", &fname);
	if (strbuf_len(&fname) == 0)
		param_get(strbuf_cstr(&ct), "name", &fname);
	t = strbuf_cstr(&ct);
	memset(&p, 0, sizeof(p));
	p.header = m;
	p.header_len = hl;
	p.type = t;
	p.filename = strbuf_cstr(&fname);
	p.cte = strbuf_cstr(&cte);
	p.body = m + hl;
	p.body_len = len - hl;
	p.depth = depth;
	rc = w->cb(&p, w->ctx);
	if (rc == INGEST_MIME_STOP)
		w->stop = true;
	else if (rc == INGEST_MIME_SKIP)
		;
	else if (strncasecmp(t, "multipart/", 10) == 0) {
		param_get(t, "boundary", &tmp);
		walk_multipart(w, m + hl, len - hl, strbuf_cstr(&tmp), depth);
	} else if (ingest_mime_type_is(t, "message/rfc822"))
		walk_entity(w, m + hl, len - hl, depth + 1);
	strbuf_release(&ct), strbuf_release(&cte), strbuf_release(&disp);
	strbuf_release(&fname), strbuf_release(&tmp);
}

enum ingest_status
ingest_mime_walk(const char *msg, size_t len, ingest_mime_cb cb, void *ctx,
    struct strbuf *err)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.cb = cb;
	w.ctx = ctx;
	w.err = err;
	if (len > INGEST_XML_MAX_BYTES) {
		strbuf_appendf(err, "message larger than %u MiB",
		    INGEST_XML_MAX_BYTES >> 20);
		return INGEST_ERR_LIMIT;
	}
	walk_entity(&w, msg, len, 0);
	return w.st;
}

struct attach {
	unsigned char **out;
	size_t	*outlen;
	struct strbuf *name;
	bool	 found, nomem;
};

static int
attach_cb(const struct ingest_mime_part *p, void *ctx)
{
	struct attach *a = ctx;

	if (strncasecmp(p->type, "multipart/", 10) == 0 ||
	    ingest_mime_type_is(p->type, "message/rfc822") ||
	    !is_report(p->type, p->filename))
		return INGEST_MIME_NEXT;
	*a->out = ingest_mime_decode(p->body, p->body_len, p->cte,
	    a->outlen);
	if (*a->out == NULL)
		a->nomem = true;
	else {
		a->found = true;
		if (a->name != NULL)
			strbuf_appends(a->name, p->filename);
	}
	return INGEST_MIME_STOP;
}

enum ingest_status
ingest_mime_attachment(const char *msg, size_t len, unsigned char **out,
    size_t *outlen, struct strbuf *name, struct strbuf *err)
{
	struct attach a;
	enum ingest_status s;

	memset(&a, 0, sizeof(a));
	a.out = out;
	a.outlen = outlen;
	a.name = name;
	*out = NULL;
	*outlen = 0;
	s = ingest_mime_walk(msg, len, attach_cb, &a, err);
	if (s != INGEST_OK) {
		free(*out);
		*out = NULL;
		return s;
	}
	if (a.nomem)
		return INGEST_ERR_NOMEM;
	if (!a.found) {
		strbuf_appendf(err, "no report in the message: no gzip, zip "
		    "or XML attachment and no message/feedback-report part");
		return INGEST_ERR_CONTENT;
	}
	return INGEST_OK;
}
