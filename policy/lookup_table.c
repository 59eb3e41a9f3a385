/*
 * lookup_table.c - static DNS answers for tests, fuzzers and offline
 * evaluation (see lookup_table.h).
 *
 * Deliberately simple: a linear array of names, because tables hold a
 * handful of entries.  Names are stored lowercase without a trailing dot
 * and compared byte for byte.  Implicit answers follow RFC 8020 (a name
 * with a descendant exists) and RFC 2308 (NXDOMAIN vs NODATA).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/mem.h"
#include "lookup_table.h"

#define QNAME_MAX	253

struct table_name {
	char	*name;
	char	*txts[LOOKUP_MAX_TXT];
	size_t	 txtlens[LOOKUP_MAX_TXT];
	size_t	 ntxt;
	bool	 forced[2];			/* per enum lookup_qtype */
	enum lookup_status status[2];
};

struct table_query {
	char	*name;
	enum lookup_qtype qtype;
};

struct lookup_table {
	struct table_name *names;
	size_t	 nnames, cap;
	struct table_query log[LOOKUP_TABLE_MAX_LOG];
	size_t	 nlog;		/* entries in log */
	size_t	 nqueries;	/* all queries, logged or not */
};

struct lookup_table *
lookup_table_new(void)
{
	return mem_calloc(1, sizeof(struct lookup_table));
}

void
lookup_table_clear_log(struct lookup_table *t)
{
	size_t i;

	for (i = 0; i < t->nlog; i++)
		mem_free(t->log[i].name);
	t->nlog = 0;
	t->nqueries = 0;
}

void
lookup_table_free(struct lookup_table *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->nnames; i++) {
		mem_free(t->names[i].name);
		for (j = 0; j < t->names[i].ntxt; j++)
			mem_free(t->names[i].txts[j]);
	}
	mem_free(t->names);
	lookup_table_clear_log(t);
	mem_free(t);
}

/* Copy qname lowercased, without a trailing dot; NULL if empty/too long. */
static enum lookup_table_status
table_canon(const char *qname, size_t len, char *out)
{
	size_t i;

	if (len > 0 && qname[len - 1] == '.')
		len--;
	if (len == 0 || len > QNAME_MAX || memchr(qname, '\0', len) != NULL)
		return LOOKUP_TABLE_ERR_NAME;
	for (i = 0; i < len; i++) {
		char c = qname[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return LOOKUP_TABLE_OK;
}

static struct table_name *
table_find(const struct lookup_table *t, const char *canon)
{
	size_t i;

	for (i = 0; i < t->nnames; i++)
		if (strcmp(t->names[i].name, canon) == 0)
			return &t->names[i];
	return NULL;
}

static enum lookup_table_status
table_get(struct lookup_table *t, const char *qname, size_t len,
    struct table_name **out)
{
	char canon[QNAME_MAX + 1];
	struct table_name *n, *grown;
	enum lookup_table_status st;

	if ((st = table_canon(qname, len, canon)) != LOOKUP_TABLE_OK)
		return st;
	if ((n = table_find(t, canon)) != NULL) {
		*out = n;
		return LOOKUP_TABLE_OK;
	}
	if (t->nnames >= LOOKUP_TABLE_MAX_NAMES)
		return LOOKUP_TABLE_ERR_FULL;
	if (t->nnames == t->cap) {
		size_t ncap = t->cap == 0 ? 8 : t->cap * 2;

		grown = mem_reallocarray(t->names, ncap, sizeof(*grown));
		if (grown == NULL)
			return LOOKUP_TABLE_ERR_NOMEM;
		t->names = grown;
		t->cap = ncap;
	}
	n = &t->names[t->nnames];
	memset(n, 0, sizeof(*n));
	if ((n->name = mem_strdup(canon)) == NULL)
		return LOOKUP_TABLE_ERR_NOMEM;
	t->nnames++;
	*out = n;
	return LOOKUP_TABLE_OK;
}

static enum lookup_table_status
table_add_txt(struct lookup_table *t, const char *qname, size_t qlen,
    const char *txt, size_t len)
{
	struct table_name *n;
	enum lookup_table_status st;

	if (len > LOOKUP_MAX_TXT_LEN)
		return LOOKUP_TABLE_ERR_TOO_LONG;
	if ((st = table_get(t, qname, qlen, &n)) != LOOKUP_TABLE_OK)
		return st;
	if (n->ntxt >= LOOKUP_MAX_TXT)
		return LOOKUP_TABLE_ERR_FULL;
	if ((n->txts[n->ntxt] = mem_strndup(txt, len)) == NULL)
		return LOOKUP_TABLE_ERR_NOMEM;
	n->txtlens[n->ntxt++] = len;
	return LOOKUP_TABLE_OK;
}

enum lookup_table_status
lookup_table_add_txt(struct lookup_table *t, const char *qname,
    const char *txt, size_t len)
{
	return table_add_txt(t, qname, strlen(qname), txt, len);
}

static enum lookup_table_status
table_set_status(struct lookup_table *t, const char *qname, size_t qlen,
    enum lookup_qtype qtype, enum lookup_status status)
{
	struct table_name *n;
	enum lookup_table_status st;

	if ((st = table_get(t, qname, qlen, &n)) != LOOKUP_TABLE_OK)
		return st;
	n->forced[qtype == LOOKUP_EXISTS] = true;
	n->status[qtype == LOOKUP_EXISTS] = status;
	return LOOKUP_TABLE_OK;
}

enum lookup_table_status
lookup_table_set_status(struct lookup_table *t, const char *qname,
    enum lookup_qtype qtype, enum lookup_status status)
{
	return table_set_status(t, qname, strlen(qname), qtype, status);
}

/* Does this entry make its name (and so its ancestors) exist? */
static bool
table_name_exists(const struct table_name *n)
{
	size_t i;

	if (n->ntxt > 0)
		return true;
	for (i = 0; i < 2; i++)
		if (n->forced[i] && (n->status[i] == LOOKUP_OK ||
		    n->status[i] == LOOKUP_NODATA))
			return true;
	return false;
}

/* RFC 8020: canon exists if it, or a name below it, is in the table. */
static bool
table_exists(const struct lookup_table *t, const char *canon)
{
	size_t i, lc = strlen(canon), ln;

	for (i = 0; i < t->nnames; i++) {
		const char *name = t->names[i].name;

		if (!table_name_exists(&t->names[i]))
			continue;
		ln = strlen(name);
		if (ln == lc && strcmp(name, canon) == 0)
			return true;
		if (ln > lc && name[ln - lc - 1] == '.' &&
		    strcmp(name + ln - lc, canon) == 0)
			return true;
	}
	return false;
}

static void
table_log(struct lookup_table *t, const char *canon, enum lookup_qtype qtype)
{
	t->nqueries++;
	if (t->nlog >= LOOKUP_TABLE_MAX_LOG)
		return;
	/* A failed copy only shortens the log; the answer is unaffected. */
	if ((t->log[t->nlog].name = mem_strdup(canon)) != NULL)
		t->log[t->nlog++].qtype = qtype;
}

enum lookup_status
lookup_table_lookup(void *ctx, const char *qname, enum lookup_qtype qtype,
    struct lookup_answer *ans)
{
	struct lookup_table *t = ctx;
	const struct table_name *n;
	char canon[QNAME_MAX + 1];
	size_t i;

	lookup_answer_init(ans);
	if (table_canon(qname, strlen(qname), canon) != LOOKUP_TABLE_OK) {
		ans->status = LOOKUP_PERMFAIL;
		return ans->status;
	}
	table_log(t, canon, qtype);
	n = table_find(t, canon);
	if (n != NULL && n->forced[qtype == LOOKUP_EXISTS]) {
		ans->status = n->status[qtype == LOOKUP_EXISTS];
	} else if (qtype == LOOKUP_TXT && n != NULL && n->ntxt > 0) {
		ans->status = LOOKUP_OK;
	} else if (table_exists(t, canon)) {
		ans->status = qtype == LOOKUP_TXT ? LOOKUP_NODATA : LOOKUP_OK;
	} else {
		ans->status = LOOKUP_NXDOMAIN;
	}
	if (qtype == LOOKUP_TXT && ans->status == LOOKUP_OK && n != NULL) {
		for (i = 0; i < n->ntxt; i++) {
			if (lookup_answer_add_txt(ans, n->txts[i],
			    n->txtlens[i]) == -1) {
				/* As a resolver would: out of memory is a
				 * temporary failure. */
				lookup_answer_clear(ans);
				ans->status = LOOKUP_TEMPFAIL;
				break;
			}
		}
	}
	return ans->status;
}

size_t
lookup_table_nqueries(const struct lookup_table *t)
{
	return t->nqueries;
}

const char *
lookup_table_query(const struct lookup_table *t, size_t i,
    enum lookup_qtype *qtype)
{
	if (i >= t->nlog)
		return NULL;
	if (qtype != NULL)
		*qtype = t->log[i].qtype;
	return t->log[i].name;
}

static bool
table_word(const char *s, size_t len, const char *word)
{
	size_t i;

	if (len != strlen(word))
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return true;
}

static bool
table_status_word(const char *s, size_t len, enum lookup_status *st)
{
	static const enum lookup_status all[] = { LOOKUP_OK, LOOKUP_NXDOMAIN,
	    LOOKUP_NODATA, LOOKUP_TEMPFAIL, LOOKUP_PERMFAIL };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (table_word(s, len, lookup_status_name(all[i]))) {
			*st = all[i];
			return true;
		}
	}
	return false;
}

static bool
table_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parse one line (without its newline). */
static enum lookup_table_status
table_load_line(struct lookup_table *t, const char *s, size_t len)
{
	const char *name, *type, *val;
	size_t nlen, tlen, vlen;
	enum lookup_qtype qtype;
	enum lookup_status st;

	while (len > 0 && table_is_space(*s))
		s++, len--;
	while (len > 0 && table_is_space(s[len - 1]))
		len--;
	if (len == 0 || *s == '#')
		return LOOKUP_TABLE_OK;
	name = s;
	for (nlen = 0; nlen < len && !table_is_space(s[nlen]); nlen++)
		;
	s += nlen, len -= nlen;
	while (len > 0 && table_is_space(*s))
		s++, len--;
	type = s;
	for (tlen = 0; tlen < len && !table_is_space(s[tlen]); tlen++)
		;
	s += tlen, len -= tlen;
	while (len > 0 && table_is_space(*s))
		s++, len--;
	val = s;
	vlen = len;

	if (table_word(type, tlen, "txt"))
		qtype = LOOKUP_TXT;
	else if (table_word(type, tlen, "a"))
		qtype = LOOKUP_EXISTS;
	else
		return LOOKUP_TABLE_ERR_SYNTAX;
	if (vlen > 0 && val[0] == '!') {
		if (!table_status_word(val + 1, vlen - 1, &st))
			return LOOKUP_TABLE_ERR_SYNTAX;
		return table_set_status(t, name, nlen, qtype, st);
	}
	if (qtype != LOOKUP_TXT)
		return LOOKUP_TABLE_ERR_SYNTAX;
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"')
		val++, vlen -= 2;
	return table_add_txt(t, name, nlen, val, vlen);
}

enum lookup_table_status
lookup_table_load(struct lookup_table *t, const char *text, size_t len,
    size_t *errline)
{
	enum lookup_table_status st;
	const char *end = text + len, *nl;
	size_t line = 0;

	while (text < end) {
		line++;
		if ((nl = memchr(text, '\n', (size_t)(end - text))) == NULL)
			nl = end;
		if ((size_t)(nl - text) > LOOKUP_TABLE_MAX_LINE)
			st = LOOKUP_TABLE_ERR_TOO_LONG;
		else
			st = table_load_line(t, text, (size_t)(nl - text));
		if (st != LOOKUP_TABLE_OK) {
			if (errline != NULL)
				*errline = line;
			return st;
		}
		text = nl < end ? nl + 1 : end;
	}
	return LOOKUP_TABLE_OK;
}

const char *
lookup_table_strerror(enum lookup_table_status st)
{
	switch (st) {
	case LOOKUP_TABLE_OK:
		return "ok";
	case LOOKUP_TABLE_ERR_NAME:
		return "query name empty or longer than 253 octets";
	case LOOKUP_TABLE_ERR_FULL:
		return "too many names or TXT records in the table";
	case LOOKUP_TABLE_ERR_TOO_LONG:
		return "TXT record or line too long";
	case LOOKUP_TABLE_ERR_SYNTAX:
		return "expected: NAME TXT text, NAME TXT !status or "
		    "NAME A !status";
	case LOOKUP_TABLE_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown lookup table error";
}

const char *
lookup_table_qtype_name(enum lookup_qtype qtype)
{
	switch (qtype) {
	case LOOKUP_TXT:
		return "TXT";
	case LOOKUP_EXISTS:
		return "A";
	}
	return "?";
}
