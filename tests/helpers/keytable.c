/*
 * keytable.c - table-driven DNS answers for the DKIM tests.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "keytable.h"

struct keyrow {
	char	*name;
	enum lookup_status status;
	char	*txt;		/* for LOOKUP_OK */
	size_t	 txtlen;
};

struct keytable {
	struct keyrow *rows;
	size_t	 nrows;
	size_t	 nqueries;
};

struct keytable *
keytable_new(void)
{
	return mem_calloc(1, sizeof(struct keytable));
}

void
keytable_free(struct keytable *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows; i++) {
		mem_free(t->rows[i].name);
		mem_free(t->rows[i].txt);
	}
	mem_free(t->rows);
	mem_free(t);
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
keytable_add_line(struct keytable *t, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *n, *ne, *v, *ve;
	struct keyrow *nr, row;

	while (p < end && is_space((unsigned char)*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	for (n = p; p < end && !is_space((unsigned char)*p); p++)
		;
	ne = p;
	while (p < end && is_space((unsigned char)*p))
		p++;
	v = p;
	for (ve = end; ve > v && is_space((unsigned char)ve[-1]); ve--)
		;
	memset(&row, 0, sizeof(row));
	row.status = LOOKUP_OK;
	if (ve - v == 8 && memcmp(v, "NXDOMAIN", 8) == 0)
		row.status = LOOKUP_NXDOMAIN;
	else if (ve - v == 6 && memcmp(v, "NODATA", 6) == 0)
		row.status = LOOKUP_NODATA;
	else if ((ve - v == 8 && memcmp(v, "TEMPFAIL", 8) == 0) ||
	    (ve - v >= 4 && memcmp(v, "~~", 2) == 0 &&
	    memcmp(ve - 2, "~~", 2) == 0))
		row.status = LOOKUP_TEMPFAIL;
	else if (ve - v == 8 && memcmp(v, "PERMFAIL", 8) == 0)
		row.status = LOOKUP_PERMFAIL;
	else if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
		v++;
		ve--;
	}
	if (ne == n) {
		errno = EINVAL;
		return -1;
	}
	row.name = mem_strndup(n, (size_t)(ne - n));
	if (row.status == LOOKUP_OK) {
		row.txt = mem_strndup(v, (size_t)(ve - v));
		row.txtlen = (size_t)(ve - v);
	}
	nr = mem_reallocarray(t->rows, t->nrows + 1, sizeof(*nr));
	if (row.name == NULL || (row.status == LOOKUP_OK && row.txt == NULL) ||
	    nr == NULL) {
		if (nr != NULL)
			t->rows = nr;
		mem_free(row.name);
		mem_free(row.txt);
		errno = ENOMEM;
		return -1;
	}
	t->rows = nr;
	t->rows[t->nrows++] = row;
	return 0;
}

int
keytable_load(struct keytable *t, const char *path, size_t *lineno)
{
	FILE *fp;
	char line[16384];
	size_t n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		if (keytable_add_line(t, line, strlen(line)) < 0) {
			if (lineno != NULL)
				*lineno = n;
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

enum lookup_status
keytable_lookup(void *ctx, const char *qname, enum lookup_qtype qtype,
    struct lookup_answer *ans)
{
	struct keytable *t = ctx;
	size_t i;
	bool found = false;

	t->nqueries++;
	ans->status = LOOKUP_NXDOMAIN;
	for (i = 0; i < t->nrows; i++) {
		const struct keyrow *r = &t->rows[i];

		if (strcasecmp(r->name, qname) != 0)
			continue;
		found = true;
		if (r->status != LOOKUP_OK) {
			lookup_answer_clear(ans);
			ans->status = r->status;
			return ans->status;
		}
		if (qtype == LOOKUP_TXT &&
		    lookup_answer_add_txt(ans, r->txt, r->txtlen) < 0)
			return ans->status = LOOKUP_PERMFAIL;
	}
	if (found)
		ans->status = ans->ntxt > 0 || qtype == LOOKUP_EXISTS ?
		    LOOKUP_OK : LOOKUP_NODATA;
	return ans->status;
}

size_t
keytable_queries(const struct keytable *t)
{
	return t->nqueries;
}
