/*
 * mbox.c - split an mbox into messages.
 *
 * The mbox family has no RFC (RFC 4155 only registers application/mbox
 * and describes the From_ line).  Writers quote body lines that would
 * look like a separator: mboxrd quotes "From " and every ">...From "
 * with one more ">", and we undo exactly that; an mboxo file, which
 * quotes "From " only, loses a ">" on ">From " lines, a difference no
 * report parser can see.  A separator is a "From " line at the start
 * of the file or after a blank line, so an unquoted "From " inside a
 * paragraph does not split a message.  Content-Length (mboxcl) is
 * ignored.
 */
#include "config.h"

#include <string.h>

#include "ingest/mbox.h"

bool
ingest_is_mbox(const void *buf, size_t len)
{
	return len >= 5 && memcmp(buf, "From ", 5) == 0;
}

/* Whether the line at p (of n bytes left) is a separator. */
static bool
is_from(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/* Past the next From_ line at or after i (and anything before it);
 * len when there is none, *found false. */
static size_t
past_separator(const char *buf, size_t len, size_t i, bool *found)
{
	size_t le;

	*found = false;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);

		le = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		*found = is_from(buf + i, len - i);
		i = le;
		if (*found)
			return i;
	}
	return len;
}

/* The end of the message that starts at i: the next From_ line after
 * a blank line, or len. */
static size_t
message_end(const char *buf, size_t len, size_t i)
{
	size_t le;
	bool blank = true;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);

		le = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		if (blank && is_from(buf + i, len - i))
			break;
		blank = le - i == 1 || (le - i == 2 && buf[i] == '\r');
		i = le;
	}
	return i;
}

size_t
ingest_mbox_count(const char *buf, size_t len)
{
	size_t i = 0, n = 0;
	bool found;

	while (i < len) {
		i = past_separator(buf, len, i, &found);
		if (!found)
			break;
		i = message_end(buf, len, i);
		n++;
	}
	return n;
}

bool
ingest_mbox_next(const char *buf, size_t len, size_t *off,
    struct strbuf *msg)
{
	size_t i = *off, ls, le, q, start, skip;
	bool found;

	strbuf_reset(msg);
	if (i >= len)
		return false;
	/* skip the From_ line (and anything before one, e.g. blank lines) */
	i = past_separator(buf, len, i, &found);
	if (!found) {
		*off = len;
		return false;
	}
	/* first the message's end, so that one past the size limit is
	 * skipped without being copied */
	start = i;
	i = message_end(buf, len, i);
	if (msg->limit > 0 && i - start > msg->limit) {
		msg->failed = true;
		*off = i;
		return true;
	}
	for (ls = start; ls < i; ls = le) {
		const char *nl = memchr(buf + ls, '\n', i - ls);

		le = nl != NULL ? (size_t)(nl - buf) + 1 : i;
		/* mboxrd: ">From ", ">>From "... lose one ">" */
		for (q = ls; q < le && buf[q] == '>'; q++)
			;
		skip = q > ls && is_from(buf + q, le - q) ? 1 : 0;
		strbuf_append(msg, buf + ls + skip, le - ls - skip);
	}
	*off = i;
	/* the blank line before the next separator belongs to the mbox */
	if (!strbuf_failed(msg) && strbuf_len(msg) > 0 &&
	    strbuf_cstr(msg)[strbuf_len(msg) - 1] == '\n') {
		size_t n = strbuf_len(msg);
		const char *s = strbuf_cstr(msg);

		if (n >= 2 && s[n - 2] == '\n')
			strbuf_truncate(msg, n - 1);
		else if (n >= 3 && s[n - 2] == '\r' && s[n - 3] == '\n')
			strbuf_truncate(msg, n - 2);
	}
	return true;
}
