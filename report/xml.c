/*
 * xml.c - a tiny XML writer (see xml.h).  Writing only: dmarcd never
 * parses XML in this module.  XML 1.0 section 2.2 (Char production) and
 * section 2.4 (character data escaping).
 */
#include "config.h"

#include <string.h>

#include "xml.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

void
xml_init(struct xml *x, struct strbuf *out)
{
	memset(x, 0, sizeof(*x));
	x->out = out;
	strbuf_appends(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

static void
indent(struct xml *x)
{
	int i;

	for (i = 0; i < x->depth; i++)
		strbuf_appends(x->out, "  ");
}

void
xml_open(struct xml *x, const char *name, const char *attrs)
{
	indent(x);
	strbuf_appendf(x->out, "<%s%s%s>\n", name, attrs ? " " : "",
	    attrs ? attrs : "");
	if (x->depth < XML_MAX_DEPTH)
		x->stack[x->depth] = name;
	x->depth++;
}

void
xml_close(struct xml *x)
{
	if (x->depth == 0)
		return;
	x->depth--;
	indent(x);
	strbuf_appendf(x->out, "</%s>\n", x->depth < XML_MAX_DEPTH ?
	    x->stack[x->depth] : "?");
}

void
xml_elem(struct xml *x, const char *name, const char *text)
{
	if (text == NULL)
		return;
	indent(x);
	strbuf_appendf(x->out, "<%s>", name);
	xml_escape(x->out, text);
	strbuf_appendf(x->out, "</%s>\n", name);
}

void
xml_elem_int(struct xml *x, const char *name, long long v)
{
	indent(x);
	strbuf_appendf(x->out, "<%s>%lld</%s>\n", name, v, name);
}

void
xml_comment(struct xml *x, const char *text)
{
	const char *p;

	indent(x);
	strbuf_appends(x->out, "<!-- ");
	for (p = text; *p != '\0'; p++) {
		/* XML 1.0 section 2.5: "--" must not occur in a comment. */
		if (*p == '-' && (p[1] == '-' || p[1] == '\0'))
			strbuf_appends(x->out, "- ");
		else if (*p == '<' || *p == '&')
			strbuf_appendc(x->out, ' ');
		else
			strbuf_appendc(x->out, *p);
	}
	strbuf_appends(x->out, " -->\n");
}

/* Length of the valid UTF-8 sequence at s (2..4), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned long cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, and the two
	 * non-characters XML 1.0 excludes (U+FFFE, U+FFFF). */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

void
xml_escape(struct strbuf *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n;

	while (*s != '\0') {
		switch (*s) {
		case '&':
			strbuf_appends(out, "&amp;");
			break;
		case '<':
			strbuf_appends(out, "&lt;");
			break;
		case '>':
			strbuf_appends(out, "&gt;");
			break;
		case '"':
			strbuf_appends(out, "&quot;");
			break;
		case '\'':
			strbuf_appends(out, "&apos;");
			break;
		case '\t': case '\n': case '\r':
			strbuf_appendc(out, *s);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				strbuf_appends(out, REPLACEMENT);
			} else if (*s < 0x80) {
				strbuf_appendc(out, *s);
			} else if ((n = utf8_len(s)) > 0) {
				strbuf_append(out, (const char *)s, n);
				s += n;
				continue;
			} else {
				strbuf_appends(out, REPLACEMENT);
			}
			break;
		}
		s++;
	}
}
