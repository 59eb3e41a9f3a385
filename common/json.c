/*
 * json.c - streaming JSON writer (RFC 8259).
 *
 * Strings are escaped as RFC 8259 section 7 requires; bytes that are not
 * valid UTF-8 are replaced with U+FFFD so that hostile input can never make
 * us emit invalid JSON.  Non-finite doubles become null.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "json.h"

void
json_init(struct json *j, struct strbuf *out, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
}

static void
json_newline(struct json *j)
{
	int i;

	if (!j->pretty)
		return;
	strbuf_appendc(j->out, '\n');
	for (i = 0; i < j->depth; i++)
		strbuf_appends(j->out, "  ");
}

/* Emit the separator a new value needs at this position. */
static void
json_value_prefix(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		strbuf_appendc(j->out, ',');
	if (j->depth > 0)
		json_newline(j);
	j->need_comma[j->depth] = true;
}

static void
json_open(struct json *j, int c)
{
	json_value_prefix(j);
	if (j->depth >= JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	strbuf_appendc(j->out, c);
	j->depth++;
	j->need_comma[j->depth] = false;
}

static void
json_close(struct json *j, int c)
{
	bool had = j->need_comma[j->depth];

	if (j->depth <= 0) {
		j->failed = true;
		return;
	}
	j->depth--;
	if (had)
		json_newline(j);
	strbuf_appendc(j->out, c);
}

void
json_object_begin(struct json *j)
{
	json_open(j, '{');
}

void
json_object_end(struct json *j)
{
	json_close(j, '}');
}

void
json_array_begin(struct json *j)
{
	json_open(j, '[');
}

void
json_array_end(struct json *j)
{
	json_close(j, ']');
}

/* Length of a valid UTF-8 sequence starting at s, or 0 if invalid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void
json_escape(struct strbuf *out, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	strbuf_appendc(out, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			strbuf_appendc(out, '\\');
			strbuf_appendc(out, c);
			i++;
		} else if (c == '\n') {
			strbuf_appends(out, "\\n");
			i++;
		} else if (c == '\r') {
			strbuf_appends(out, "\\r");
			i++;
		} else if (c == '\t') {
			strbuf_appends(out, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4],
			    hex[c & 15] };

			strbuf_append(out, esc, sizeof(esc));
			i++;
		} else if ((k = utf8_seq_len(s + i, n - i)) == 0) {
			strbuf_appends(out, "\xef\xbf\xbd");
			i++;
		} else {
			strbuf_append(out, str + i, k);
			i += k;
		}
	}
	strbuf_appendc(out, '"');
}

void
json_key(struct json *j, const char *key)
{
	json_value_prefix(j);
	json_escape(j->out, key, strlen(key));
	strbuf_appends(j->out, j->pretty ? ": " : ":");
	j->after_key = true;
}

void
json_stringn(struct json *j, const char *s, size_t n)
{
	json_value_prefix(j);
	json_escape(j->out, s, n);
}

void
json_string(struct json *j, const char *s)
{
	if (s == NULL)
		json_null(j);
	else
		json_stringn(j, s, strlen(s));
}

void
json_int(struct json *j, int64_t v)
{
	json_value_prefix(j);
	strbuf_appendf(j->out, "%lld", (long long)v);
}

void
json_uint(struct json *j, uint64_t v)
{
	json_value_prefix(j);
	strbuf_appendf(j->out, "%llu", (unsigned long long)v);
}

void
json_double(struct json *j, double v)
{
	if (!isfinite(v)) {
		json_null(j);
		return;
	}
	json_value_prefix(j);
	strbuf_appendf(j->out, "%.10g", v);
}

void
json_bool(struct json *j, bool v)
{
	json_value_prefix(j);
	strbuf_appends(j->out, v ? "true" : "false");
}

void
json_null(struct json *j)
{
	json_value_prefix(j);
	strbuf_appends(j->out, "null");
}

void
json_raw(struct json *j, const char *text)
{
	json_value_prefix(j);
	strbuf_appends(j->out, text);
}

void
json_kv_string(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	json_string(j, v);
}

void
json_kv_int(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	json_int(j, v);
}

void
json_kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}

bool
json_failed(const struct json *j)
{
	return j->failed || strbuf_failed(j->out) || j->depth != 0;
}
