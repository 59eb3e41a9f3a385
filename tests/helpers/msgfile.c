/*
 * msgfile.c - read a message file into header fields and a body.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "msgfile.h"

static int
read_all(const char *path, struct strbuf *raw)
{
	FILE *fp;
	char buf[8192];
	size_t n;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(raw, buf, n);
	if (ferror(fp) || strbuf_failed(raw)) {
		if (fp != stdin)
			fclose(fp);
		errno = EIO;
		return -1;
	}
	if (fp != stdin)
		fclose(fp);
	return 0;
}

static int
add_field(struct msgfile *m, const char *line, size_t len)
{
	struct msgfile_field *nf, *f;
	const char *colon = memchr(line, ':', len);

	if (colon == NULL || colon == line)
		return 0;	/* not a field; skipped */
	nf = mem_reallocarray(m->fields, m->nfields + 1, sizeof(*nf));
	if (nf == NULL)
		return -1;
	m->fields = nf;
	f = &m->fields[m->nfields];
	f->name = mem_strndup(line, (size_t)(colon - line));
	f->valuelen = len - (size_t)(colon - line) - 1;
	f->value = mem_strndup(colon + 1, f->valuelen);
	if (f->name == NULL || f->value == NULL) {
		mem_free(f->name);
		mem_free(f->value);
		return -1;
	}
	m->nfields++;
	return 0;
}

int
msgfile_read(const char *path, struct msgfile *m)
{
	struct strbuf raw = STRBUF_INIT, crlf = STRBUF_INIT;
	const char *p, *end, *eol, *start = NULL;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (read_all(path, &raw) < 0)
		goto fail;
	/* Bare LF becomes CRLF. */
	for (i = 0; i < raw.len; i++) {
		if (raw.data[i] == '\n' && (i == 0 || raw.data[i - 1] != '\r'))
			strbuf_appendc(&crlf, '\r');
		strbuf_appendc(&crlf, raw.data[i]);
	}
	strbuf_release(&raw);
	if (strbuf_failed(&crlf))
		goto fail;
	m->len = crlf.len;
	if ((m->data = strbuf_steal(&crlf)) == NULL) {
		m->data = mem_strdup("");
		if (m->data == NULL)
			goto fail;
	}
	p = m->data;
	end = m->data + m->len;
	if (end - p >= 5 && memcmp(p, "From ", 5) == 0) {
		eol = memchr(p, '\n', (size_t)(end - p));
		p = eol != NULL ? eol + 1 : end;
	}
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol != NULL ? eol + 1 : end;
		if (eol - p <= 2 && (p[0] == '\r' || p[0] == '\n')) {
			/* The blank line ends the header. */
			if (start != NULL &&
			    add_field(m, start, (size_t)(p - start - 2)) < 0)
				goto fail;
			start = NULL;
			p = eol;
			break;
		}
		if (p[0] != ' ' && p[0] != '\t') {
			if (start != NULL &&
			    add_field(m, start, (size_t)(p - start - 2)) < 0)
				goto fail;
			start = p;
		}
		p = eol;
	}
	if (start != NULL) {
		/* No body: the last field runs to the end of the file. */
		size_t n = (size_t)(end - start);

		while (n > 0 && (start[n - 1] == '\n' || start[n - 1] == '\r'))
			n--;
		if (add_field(m, start, n) < 0)
			goto fail;
	}
	m->body = p;
	m->bodylen = (size_t)(end - p);
	return 0;
fail:
	strbuf_release(&raw);
	strbuf_release(&crlf);
	msgfile_free(m);
	if (errno == 0)
		errno = ENOMEM;
	return -1;
}

void
msgfile_free(struct msgfile *m)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		mem_free(m->fields[i].name);
		mem_free(m->fields[i].value);
	}
	mem_free(m->fields);
	mem_free(m->data);
	memset(m, 0, sizeof(*m));
}
