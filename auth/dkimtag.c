/*
 * dkimtag.c - RFC 6376 section 3.2 tag=value lists.
 *
 *   tag-list  = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec  = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name  = ALPHA *ALNUMPUNC            ; ALNUMPUNC = ALPHA / DIGIT / "_"
 *   tag-value = [ tval *( 1*(WSP / FWS) tval ) ]
 *   tval      = 1*VALCHAR                   ; VALCHAR = %x21-3A / %x3C-7E
 *
 * Deliberately strict where the grammar is: any byte outside VALCHAR and
 * folding white space is an error (libopendkim refuses those too), and a
 * known tag that appears twice makes the whole list invalid.  Duplicates
 * of unknown tags are not tracked, which keeps the work linear.  Empty
 * tag-specs are tolerated only at the end (";;" inside is an error, as in
 * libopendkim).  Nothing is allocated.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "dkimtag.h"

static const char *const tag_names[DKIMTAG_COUNT] = {
	"a", "b", "bh", "c", "d", "g", "h", "i", "k", "l", "n", "p",
	"q", "s", "t", "v", "x", "z"
};

static int
is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_valchar(int c)
{
	return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e);
}

static int
tag_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < DKIMTAG_COUNT; i++)
		if (strlen(tag_names[i]) == len &&
		    memcmp(tag_names[i], name, len) == 0)
			return i;
	return -1;
}

/* One tag-spec in [s, e): split, check and store it. */
static enum dkimtag_status
parse_spec(const char *s, const char *e, struct dkimtag_list *list)
{
	const char *eq, *n, *ne, *v, *ve, *p;
	int id;

	if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL)
		return DKIMTAG_ERR_SYNTAX;
	for (n = s; n < eq && is_fws((unsigned char)*n); n++)
		;
	for (ne = eq; ne > n && is_fws((unsigned char)ne[-1]); ne--)
		;
	if (n == ne || !is_alpha((unsigned char)*n))
		return DKIMTAG_ERR_SYNTAX;
	for (p = n + 1; p < ne; p++)
		if (!is_alpha((unsigned char)*p) &&
		    !(*p >= '0' && *p <= '9') && *p != '_')
			return DKIMTAG_ERR_SYNTAX;
	for (v = eq + 1; v < e && is_fws((unsigned char)*v); v++)
		;
	for (ve = e; ve > v && is_fws((unsigned char)ve[-1]); ve--)
		;
	for (p = v; p < ve; p++)
		if (!is_valchar((unsigned char)*p) && !is_fws((unsigned char)*p))
			return DKIMTAG_ERR_SYNTAX;
	/* Tag names are case-sensitive (section 3.2). */
	if ((id = tag_lookup(n, (size_t)(ne - n))) < 0)
		return DKIMTAG_OK;
	if (list->present & (1u << id))
		return DKIMTAG_ERR_DUPLICATE;
	list->present |= 1u << id;
	list->tag[id].p = v;
	list->tag[id].len = (size_t)(ve - v);
	return DKIMTAG_OK;
}

enum dkimtag_status
dkimtag_parse(const char *text, size_t len, struct dkimtag_list *list)
{
	const char *p = text, *end = text + len, *semi, *q;
	enum dkimtag_status st;

	memset(list, 0, sizeof(*list));
	while (p < end) {
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		for (q = p; q < semi && is_fws((unsigned char)*q); q++)
			;
		if (q == semi) {
			/* An empty tag-spec: allowed only as the last one. */
			if (semi == end)
				break;
			for (q = semi + 1; q < end && is_fws((unsigned char)*q);
			    q++)
				;
			if (q == end)
				break;
			return DKIMTAG_ERR_SYNTAX;
		}
		if ((st = parse_spec(p, semi, list)) != DKIMTAG_OK)
			return st;
		p = semi < end ? semi + 1 : end;
	}
	return DKIMTAG_OK;
}

bool
dkimtag_has(const struct dkimtag_list *list, enum dkimtag_id id)
{
	return (list->present & (1u << id)) != 0;
}

bool
dkimtag_list_contains(const struct dkimtag_value *v, const char *item)
{
	const char *p = v->p, *end = v->p + v->len, *colon, *s, *e;
	size_t ilen = strlen(item);

	if (p == NULL)
		return false;
	while (p <= end) {
		if ((colon = memchr(p, ':', (size_t)(end - p))) == NULL)
			colon = end;
		for (s = p; s < colon && is_fws((unsigned char)*s); s++)
			;
		for (e = colon; e > s && is_fws((unsigned char)e[-1]); e--)
			;
		if ((size_t)(e - s) == ilen && strncasecmp(s, item, ilen) == 0)
			return true;
		if (colon == end)
			break;
		p = colon + 1;
	}
	return false;
}

size_t
dkimtag_copy_nofws(const struct dkimtag_value *v, char *out, size_t outsize)
{
	size_t i, n = 0;

	for (i = 0; v->p != NULL && i < v->len; i++) {
		if (is_fws((unsigned char)v->p[i]))
			continue;
		if (outsize > 0 && n < outsize - 1)
			out[n] = v->p[i];
		n++;
	}
	if (outsize > 0)
		out[n < outsize - 1 ? n : outsize - 1] = '\0';
	return n;
}
