/*
 * codec.c - struct store_record to and from database values.
 *
 * The column table (schema order), the DKIM column's text format
 * (store.h documents it), the UTC day number and the two derived
 * policy_evaluated results.  Back-end independent: SQLite uses it now,
 * PostgreSQL later.  Leaves out: any SQL.
 *
 * The derived columns eval_dkim and eval_spf are RFC 9990 section 3.1.7
 * ("policy_evaluated": dkim and spf are the DMARC alignment results,
 * pass or fail), computed once at insert so that a report is a plain
 * GROUP BY.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "common/chars.h"
#include "store/codec.h"

#define TEXT(f)	{ #f, STORE_COL_TEXT, offsetof(struct store_record, f), \
		    sizeof(((struct store_record *)0)->f) }
#define FIELD(f, t) { #f, t, offsetof(struct store_record, f), 0 }
#define DERIVED(n, t) { n, t, 0, 0 }

/* In the order of the CREATE TABLE in schema.c (after id). */
const struct store_column store_columns[] = {
	TEXT(node),
	TEXT(message_key),
	FIELD(author_index, STORE_COL_UINT),
	FIELD(received, STORE_COL_TIME),
	DERIVED("day", STORE_COL_DAY),
	TEXT(queue_id),
	TEXT(message_id),
	TEXT(client_ip),
	TEXT(helo),
	TEXT(mail_from_domain),
	TEXT(header_from),
	TEXT(policy_domain),
	TEXT(org_domain),
	TEXT(discovery_method),
	TEXT(p),
	TEXT(sp),
	TEXT(np),
	FIELD(pct, STORE_COL_INT),
	FIELD(testing, STORE_COL_BOOL),
	TEXT(adkim),
	TEXT(aspf),
	TEXT(fo),
	TEXT(rua),
	TEXT(ruf),
	TEXT(spf_result),
	TEXT(spf_domain),
	TEXT(spf_scope),
	FIELD(spf_aligned, STORE_COL_BOOL),
	DERIVED("ndkim", STORE_COL_NDKIM),
	DERIVED("dkim", STORE_COL_DKIM),
	DERIVED("eval_dkim", STORE_COL_EVAL_DKIM),
	DERIVED("eval_spf", STORE_COL_EVAL_SPF),
	TEXT(dmarc_result),
	TEXT(policy),
	TEXT(disposition),
	TEXT(reasons),
	TEXT(reason_comment),
	TEXT(action),
	TEXT(skip_reason),
};
const size_t store_ncolumns = sizeof(store_columns) / sizeof(store_columns[0]);

int64_t
store_day(time_t t)
{
	int64_t s = (int64_t)t;

	/* Floor division: the second before the epoch is day -1. */
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

/* Bytes written %HH in the DKIM column. */
static bool
dkim_must_escape(unsigned char c)
{
	return c < 0x21 || c > 0x7e || c == '%' || c == ';' || c == '=' ||
	    c == '|';
}

static void
dkim_append_value(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	const char *run = s;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (!dkim_must_escape(*p))
			continue;
		strbuf_append(out, run, (size_t)((const char *)p - run));
		strbuf_appendc(out, '%');
		strbuf_appendc(out, hex[*p >> 4]);
		strbuf_appendc(out, hex[*p & 0x0f]);
		run = (const char *)p + 1;
	}
	strbuf_appends(out, run);
}

void
store_dkim_encode(const struct store_dkim *dkim, unsigned n,
    struct strbuf *out)
{
	unsigned i;

	if (n > STORE_MAX_DKIM)
		n = STORE_MAX_DKIM;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_appendc(out, '|');
		strbuf_appends(out, "d=");
		dkim_append_value(out, dkim[i].domain);
		strbuf_appends(out, ";s=");
		dkim_append_value(out, dkim[i].selector);
		strbuf_appends(out, ";r=");
		dkim_append_value(out, dkim[i].result);
		strbuf_appends(out, dkim[i].aligned ? ";a=1" : ";a=0");
	}
}

/* Decode the escaped value s[0..len-1] into dst[size]; -1 if bad. */
static int
dkim_decode_value(const char *s, size_t len, char *dst, size_t size)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (len - i < 3 || (hi = char_hex_value(s[i + 1])) < 0 ||
			    (lo = char_hex_value(s[i + 2])) < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= size)
			return -1;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/* Decode one "k=v;k=v" signature of len bytes into d. */
static int
dkim_decode_one(const char *s, size_t len, struct store_dkim *d)
{
	const char *end = s + len;

	memset(d, 0, sizeof(*d));
	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *eq;
		size_t vlen;

		if (semi == NULL)
			semi = end;
		if ((eq = memchr(s, '=', (size_t)(semi - s))) == NULL ||
		    eq - s != 1)
			return -1;
		vlen = (size_t)(semi - eq - 1);
		switch (*s) {
		case 'd':
			if (dkim_decode_value(eq + 1, vlen, d->domain,
			    sizeof(d->domain)) == -1)
				return -1;
			break;
		case 's':
			if (dkim_decode_value(eq + 1, vlen, d->selector,
			    sizeof(d->selector)) == -1)
				return -1;
			break;
		case 'r':
			if (dkim_decode_value(eq + 1, vlen, d->result,
			    sizeof(d->result)) == -1)
				return -1;
			break;
		case 'a':
			if (vlen != 1 || (eq[1] != '0' && eq[1] != '1'))
				return -1;
			d->aligned = eq[1] == '1';
			break;
		default:
			/* A key from a later version: skip it. */
			break;
		}
		s = semi < end ? semi + 1 : end;
	}
	return 0;
}

/* Decode len bytes of DKIM column text (see store.h). */
static int
dkim_decode_n(const char *s, size_t len, struct store_dkim *dkim,
    unsigned *n)
{
	const char *end = s + len, *bar;

	*n = 0;
	if (len == 0)
		return 0;
	for (;;) {
		if (*n >= STORE_MAX_DKIM)
			return -1;
		if ((bar = memchr(s, '|', (size_t)(end - s))) == NULL)
			bar = end;
		if (bar == s || dkim_decode_one(s, (size_t)(bar - s),
		    &dkim[*n]) == -1)
			return -1;
		(*n)++;
		if (bar == end)
			return 0;
		s = bar + 1;
	}
}

int
store_dkim_decode(const char *text, struct store_dkim *dkim, unsigned *n)
{
	return dkim_decode_n(text, strlen(text), dkim, n);
}

/* RFC 9990 policy_evaluated dkim: an aligned signature that passed. */
static const char *
eval_dkim(const struct store_record *r)
{
	unsigned i;

	for (i = 0; i < r->ndkim && i < STORE_MAX_DKIM; i++)
		if (r->dkim[i].aligned &&
		    strcmp(r->dkim[i].result, "pass") == 0)
			return "pass";
	return "fail";
}

/* RFC 9990 policy_evaluated spf: SPF passed and its domain aligned. */
static const char *
eval_spf(const struct store_record *r)
{
	return r->spf_aligned && strcmp(r->spf_result, "pass") == 0 ?
	    "pass" : "fail";
}

bool
store_column_get(const struct store_column *c, const struct store_record *rec,
    struct strbuf *scratch, struct store_value *v)
{
	const char *base = (const char *)rec + c->off;

	memset(v, 0, sizeof(*v));
	switch (c->type) {
	case STORE_COL_TEXT:
		v->is_text = true;
		v->text = base;
		v->len = strnlen(base, c->size);
		break;
	case STORE_COL_INT:
		v->i = *(const int *)(const void *)base;
		break;
	case STORE_COL_UINT:
		v->i = *(const unsigned *)(const void *)base;
		break;
	case STORE_COL_BOOL:
		v->i = *(const bool *)(const void *)base ? 1 : 0;
		break;
	case STORE_COL_TIME:
		v->i = (int64_t)*(const time_t *)(const void *)base;
		break;
	case STORE_COL_DAY:
		v->i = store_day(rec->received);
		break;
	case STORE_COL_NDKIM:
		v->i = rec->ndkim < STORE_MAX_DKIM ? rec->ndkim :
		    STORE_MAX_DKIM;
		break;
	case STORE_COL_DKIM:
		strbuf_reset(scratch);
		store_dkim_encode(rec->dkim, rec->ndkim, scratch);
		if (strbuf_failed(scratch))
			return false;
		v->is_text = true;
		v->text = strbuf_cstr(scratch);
		v->len = strbuf_len(scratch);
		break;
	case STORE_COL_EVAL_DKIM:
		v->is_text = true;
		v->text = eval_dkim(rec);
		v->len = strlen(v->text);
		break;
	case STORE_COL_EVAL_SPF:
		v->is_text = true;
		v->text = eval_spf(rec);
		v->len = strlen(v->text);
		break;
	}
	return true;
}

int
store_column_set(const struct store_column *c, struct store_record *rec,
    const char *text, size_t len, int64_t i)
{
	char *base = (char *)rec + c->off;

	switch (c->type) {
	case STORE_COL_TEXT:
		if (len >= c->size || (len > 0 && memchr(text, '\0', len)))
			return -1;
		memcpy(base, text, len);
		base[len] = '\0';
		break;
	case STORE_COL_INT:
		if (i < -2147483647 - 1 || i > 2147483647)
			return -1;
		*(int *)(void *)base = (int)i;
		break;
	case STORE_COL_UINT:
		if (i < 0 || i > 4294967295LL)
			return -1;
		*(unsigned *)(void *)base = (unsigned)i;
		break;
	case STORE_COL_BOOL:
		*(bool *)(void *)base = i != 0;
		break;
	case STORE_COL_TIME:
		*(time_t *)(void *)base = (time_t)i;
		break;
	case STORE_COL_DKIM:
		if (len > 0 && memchr(text, '\0', len))
			return -1;
		return dkim_decode_n(text, len, rec->dkim, &rec->ndkim);
	case STORE_COL_DAY:
	case STORE_COL_NDKIM:
	case STORE_COL_EVAL_DKIM:
	case STORE_COL_EVAL_SPF:
		break;
	}
	return 0;
}

/* A bool that may hold any byte (a caller's garbage) as true or false,
 * without loading it as a bool, which would be undefined. */
static void
bool_normalize(bool *b)
{
	unsigned char c;

	memcpy(&c, b, 1);
	*b = c != 0;
}

void
store_record_terminate(struct store_record *rec)
{
	const struct store_column *c;
	size_t i;
	unsigned k;

	for (i = 0; i < store_ncolumns; i++) {
		c = &store_columns[i];
		if (c->type == STORE_COL_TEXT)
			((char *)rec + c->off)[c->size - 1] = '\0';
		else if (c->type == STORE_COL_BOOL)
			bool_normalize((bool *)(void *)((char *)rec + c->off));
	}
	if (rec->ndkim > STORE_MAX_DKIM)
		rec->ndkim = STORE_MAX_DKIM;
	for (k = 0; k < STORE_MAX_DKIM; k++) {
		rec->dkim[k].domain[sizeof(rec->dkim[k].domain) - 1] = '\0';
		rec->dkim[k].selector[sizeof(rec->dkim[k].selector) - 1] = '\0';
		rec->dkim[k].result[sizeof(rec->dkim[k].result) - 1] = '\0';
		bool_normalize(&rec->dkim[k].aligned);
	}
}
