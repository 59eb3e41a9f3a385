/*
 * imap_resp.c - CAPABILITY and SEARCH responses (see imap_resp.h).
 * Work is linear in the input; nothing is read past len.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/imap_resp.h"

/* The first line of resp[0..len) that begins with prefix: its rest, up to
 * the line end, in *rest / *restlen. */
static bool
find_line(const char *resp, size_t len, const char *prefix,
    const char **rest, size_t *restlen)
{
	size_t plen = strlen(prefix), i = 0, e;

	while (i < len) {
		for (e = i; e < len && resp[e] != '\n'; e++)
			;
		if (e - i >= plen && strncasecmp(resp + i, prefix, plen) == 0) {
			*rest = resp + i + plen;
			*restlen = e - i - plen;
			if (*restlen > 0 && (*rest)[*restlen - 1] == '\r')
				(*restlen)--;
			return true;
		}
		i = e + 1;
	}
	return false;
}

bool
imap_resp_has_capability(const char *resp, size_t len, const char *word)
{
	const char *p;
	size_t n, i = 0, j, wlen = strlen(word);

	if (!find_line(resp, len, "* CAPABILITY ", &p, &n))
		return false;
	while (i < n) {
		while (i < n && p[i] == ' ')
			i++;
		for (j = i; j < n && p[j] != ' '; j++)
			;
		if (j - i == wlen && strncasecmp(p + i, word, wlen) == 0)
			return true;
		i = j;
	}
	return false;
}

size_t
imap_resp_search(const char *resp, size_t len, unsigned long **uids)
{
	unsigned long *v = NULL, *nv;
	const char *p;
	size_t n, i = 0, count = 0, cap = 0;
	uint64_t u;

	*uids = NULL;
	if (!find_line(resp, len, "* SEARCH", &p, &n))
		return 0;
	while (i < n && p[i] == ' ' && count < IMAP_RESP_MAX_UIDS) {
		i++;
		u = 0;
		if (i >= n || p[i] < '0' || p[i] > '9')
			break;
		while (i < n && p[i] >= '0' && p[i] <= '9' && u <= UINT32_MAX)
			u = u * 10 + (uint64_t)(p[i++] - '0');
		/* RFC 9051: nz-number, a 32-bit unsigned non-zero UID */
		if (u == 0 || u > UINT32_MAX || (i < n && p[i] != ' '))
			break;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		v[count++] = (unsigned long)u;
	}
	*uids = v;
	return count;
}
