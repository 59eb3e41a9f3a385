/*
 * strbuf.c - growable string buffer.
 *
 * Deliberately small: append, formatted append, escaped append for
 * untrusted text.  Growth doubles; a hard limit per buffer bounds what
 * hostile input can make us build.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strbuf.h"

static char empty[1] = "";

void
strbuf_init(struct strbuf *sb)
{
	sb->data = empty;
	sb->len = 0;
	sb->cap = 0;
	sb->limit = 0;
	sb->failed = false;
}

void
strbuf_release(struct strbuf *sb)
{
	if (sb->cap != 0)
		mem_free(sb->data);
	strbuf_init(sb);
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->cap != 0)
		sb->data[0] = '\0';
	sb->failed = false;
}

void
strbuf_set_limit(struct strbuf *sb, size_t limit)
{
	sb->limit = limit;
}

void
strbuf_truncate(struct strbuf *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->data[len] = '\0';
	}
}

/* Make room for n more bytes plus the terminator; false on failure. */
static bool
strbuf_reserve(struct strbuf *sb, size_t n)
{
	size_t need, ncap;
	char *p;

	if (sb->failed)
		return false;
	if (n > SIZE_MAX / 2 - sb->len ||
	    (sb->limit != 0 && sb->len + n > sb->limit)) {
		sb->failed = true;
		return false;
	}
	need = sb->len + n + 1;
	if (need <= sb->cap)
		return true;
	ncap = sb->cap < 64 ? 64 : sb->cap;
	while (ncap < need)
		ncap *= 2;
	if (sb->cap == 0) {
		if ((p = mem_alloc(ncap)) != NULL)
			p[0] = '\0';
	} else
		p = mem_realloc(sb->data, ncap);
	if (p == NULL) {
		sb->failed = true;
		return false;
	}
	sb->data = p;
	sb->cap = ncap;
	return true;
}

void
strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
	if (!strbuf_reserve(sb, n))
		return;
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
strbuf_appends(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void
strbuf_appendc(struct strbuf *sb, int c)
{
	char ch = (char)c;

	strbuf_append(sb, &ch, 1);
}

void
strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		sb->failed = true;
		return;
	}
	if (!strbuf_reserve(sb, (size_t)n))
		return;
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void
strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(sb, fmt, ap);
	va_end(ap);
}

void
strbuf_append_escaped(struct strbuf *sb, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, lim = n < max ? n : max;

	for (i = 0; i < lim; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"') {
			strbuf_appendc(sb, '\\');
			strbuf_appendc(sb, c);
		} else if (c < 0x20 || c >= 0x7f) {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			strbuf_append(sb, esc, sizeof(esc));
		} else
			strbuf_appendc(sb, c);
	}
	if (n > max)
		strbuf_appends(sb, "...");
}

bool
strbuf_failed(const struct strbuf *sb)
{
	return sb->failed;
}

const char *
strbuf_cstr(const struct strbuf *sb)
{
	return sb->data;
}

size_t
strbuf_len(const struct strbuf *sb)
{
	return sb->len;
}

char *
strbuf_steal(struct strbuf *sb)
{
	char *p;

	if (sb->failed) {
		strbuf_release(sb);
		return NULL;
	}
	p = sb->cap != 0 ? sb->data : mem_strdup("");
	strbuf_init(sb);
	return p;
}
