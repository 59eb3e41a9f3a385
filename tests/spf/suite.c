/*
 * suite.c - a reader for the YAML subset of rfc7208-tests.yml, and a
 * lookup table over one scenario's zonedata (see suite.h).
 *
 * Zonedata follows the test suite's conventions (rfc7208-tests.yml
 * header): "SPF" entries are copied as TXT records unless the name has a
 * TXT entry of its own; "TXT: NONE" is such an entry with no record;
 * "TIMEOUT" makes every type the name has no records of time out.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/chars.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "suite.h"

/* ---- YAML subset ---- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind	 kind;
	char		*str;		/* scalar bytes, NUL added */
	size_t		 len;
	bool		 plain;		/* unquoted scalar */
	struct ynode	**v;		/* items or values */
	char		**k;		/* map keys */
	size_t		 n;
};

struct yline {
	char		*s;		/* text after the indentation */
	int		 indent;
	int		 no;		/* 1-based line number */
};

struct yparser {
	struct yline	*l;
	size_t		 n;
	size_t		 i;
	FILE		*err;
	bool		 failed;
};

static void
yfail(struct yparser *p, int no, const char *what)
{
	if (!p->failed && p->err != NULL)
		fprintf(p->err, "rfc7208 suite: line %d: %s\n", no, what);
	p->failed = true;
}

static struct ynode *
ynew(enum ykind kind)
{
	struct ynode *y = mem_calloc(1, sizeof(*y));

	if (y == NULL)
		abort();
	y->kind = kind;
	return y;
}

static void
yfree(struct ynode *y)
{
	size_t i;

	if (y == NULL)
		return;
	for (i = 0; i < y->n; i++) {
		yfree(y->v[i]);
		if (y->k != NULL)
			mem_free(y->k[i]);
	}
	mem_free(y->v);
	mem_free(y->k);
	mem_free(y->str);
	mem_free(y);
}

static void
yadd(struct ynode *y, char *key, struct ynode *v)
{
	y->v = mem_reallocarray(y->v, y->n + 1, sizeof(*y->v));
	if (y->kind == Y_MAP)
		y->k = mem_reallocarray(y->k, y->n + 1, sizeof(*y->k));
	if (y->v == NULL || (y->kind == Y_MAP && y->k == NULL))
		abort();
	y->v[y->n] = v;
	if (y->kind == Y_MAP)
		y->k[y->n] = key;
	y->n++;
}

static struct ynode *
yscalar(const char *s, size_t len, bool plain)
{
	struct ynode *y = ynew(Y_SCALAR);

	y->str = mem_alloc(len + 1);
	if (y->str == NULL)
		abort();
	memcpy(y->str, s, len);
	y->str[len] = '\0';
	y->len = len;
	y->plain = plain;
	return y;
}

/* A quoted scalar at s (s[0] is the quote); *end gets the byte after. */
static struct ynode *
yquoted(struct yparser *p, int no, const char *s, const char **end)
{
	struct strbuf sb = STRBUF_INIT;
	struct ynode *y;
	char q = s[0];
	const char *c;
	int h1, h2;

	for (c = s + 1; *c != '\0'; c++) {
		if (*c == q) {
			if (q == '\'' && c[1] == '\'') {
				strbuf_appendc(&sb, '\'');
				c++;
				continue;
			}
			break;
		}
		if (q == '"' && *c == '\\') {
			c++;
			switch (*c) {
			case 'x':
				h1 = char_hex_value(c[1]);
				h2 = h1 < 0 ? -1 : char_hex_value(c[2]);
				if (h2 < 0) {
					yfail(p, no, "bad \\x escape");
					goto out;
				}
				strbuf_appendc(&sb, (char)(h1 * 16 + h2));
				c += 2;
				break;
			case '0':
				strbuf_appendc(&sb, '\0');
				break;
			case 'n':
				strbuf_appendc(&sb, '\n');
				break;
			case 't':
				strbuf_appendc(&sb, '\t');
				break;
			case 'r':
				strbuf_appendc(&sb, '\r');
				break;
			case '\\':
			case '"':
			case '/':
				strbuf_appendc(&sb, *c);
				break;
			default:
				yfail(p, no, "unknown escape");
				goto out;
			}
			continue;
		}
		strbuf_appendc(&sb, *c);
	}
	if (*c != q)
		yfail(p, no, "unterminated quoted scalar");
out:
	*end = *c == q ? c + 1 : c;
	y = yscalar(sb.data, sb.len, false);
	strbuf_release(&sb);
	return y;
}

static size_t
rtrim(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n;
}

/* An inline value: quoted, [flow], or plain. */
static struct ynode *
yinline(struct yparser *p, int no, const char *s)
{
	struct ynode *y, *item;
	const char *e, *c;
	size_t n;

	if (s[0] == '"' || s[0] == '\'') {
		y = yquoted(p, no, s, &e);
		while (*e == ' ')
			e++;
		if (*e != '\0' && *e != '#')
			yfail(p, no, "text after quoted scalar");
		return y;
	}
	if (s[0] != '[')
		return yscalar(s, rtrim(s, strlen(s)), true);
	y = ynew(Y_SEQ);
	c = s + 1;
	for (;;) {
		while (*c == ' ')
			c++;
		if (*c == ']')
			break;
		if (*c == '\0') {
			yfail(p, no, "unterminated flow sequence");
			break;
		}
		if (*c == '"' || *c == '\'') {
			item = yquoted(p, no, c, &e);
			c = e;
		} else {
			n = strcspn(c, ",]");
			item = yscalar(c, rtrim(c, n), true);
			c += n;
		}
		yadd(y, NULL, item);
		while (*c == ' ')
			c++;
		if (*c == ',')
			c++;
		else if (*c != ']') {
			yfail(p, no, "bad flow sequence");
			break;
		}
	}
	return y;
}

static bool
ydocsep(const struct yline *l)
{
	return l->indent == 0 && strncmp(l->s, "---", 3) == 0 &&
	    (l->s[3] == '\0' || l->s[3] == ' ');
}

/* Length of a "key:" at s (the key, not the colon), or 0. */
static size_t
ykey_len(const char *s)
{
	const char *c;

	if (s[0] == '"') {
		c = strchr(s + 1, '"');
		return c != NULL && c[1] == ':' && (c[2] == ' ' ||
		    c[2] == '\0') ? (size_t)(c + 1 - s) : 0;
	}
	for (c = s; *c != '\0'; c++)
		if (*c == ':' && (c[1] == ' ' || c[1] == '\0'))
			return c > s ? (size_t)(c - s) : 0;
	return 0;
}

static struct ynode *yblock(struct yparser *, int min_indent);

static bool
yat_end(struct yparser *p)
{
	return p->i >= p->n || ydocsep(&p->l[p->i]);
}

/* > or | block scalar: the lines indented deeper than indent. */
static struct ynode *
yblockscalar(struct yparser *p, int indent, char style)
{
	struct strbuf sb = STRBUF_INIT;
	struct ynode *y;

	while (!yat_end(p) && p->l[p->i].indent > indent) {
		if (sb.len > 0)
			strbuf_appendc(&sb, style == '|' ? '\n' : ' ');
		strbuf_appends(&sb, p->l[p->i].s);
		p->i++;
	}
	y = yscalar(sb.data, sb.len, false);
	strbuf_release(&sb);
	return y;
}

static struct ynode *
ymap(struct yparser *p, int indent)
{
	struct ynode *y, *v;
	struct yline *l;
	const char *rest, *e;
	char *key;
	size_t klen;

	y = ynew(Y_MAP);
	while (!yat_end(p) && !p->failed && p->l[p->i].indent == indent) {
		l = &p->l[p->i];
		klen = ykey_len(l->s);
		if (klen == 0) {
			yfail(p, l->no, "expected a key");
			break;
		}
		if (l->s[0] == '"') {
			v = yquoted(p, l->no, l->s, &e);
			key = v->str;
			v->str = NULL;
			yfree(v);
		} else {
			key = mem_strndup(l->s, klen);
		}
		rest = l->s + klen + 1;
		while (*rest == ' ')
			rest++;
		p->i++;
		if (*rest == '\0') {
			if (!yat_end(p) && (p->l[p->i].indent > indent ||
			    (p->l[p->i].indent == indent &&
			    p->l[p->i].s[0] == '-')))
				v = yblock(p, p->l[p->i].indent);
			else
				v = yscalar("", 0, true);
		} else if (*rest == '>' || *rest == '|') {
			v = yblockscalar(p, indent, *rest);
		} else {
			v = yinline(p, l->no, rest);
			if (v->kind == Y_SCALAR && v->plain) {
				/* Plain scalars may go on over deeper lines. */
				struct strbuf sb = STRBUF_INIT;

				strbuf_append(&sb, v->str, v->len);
				while (!yat_end(p) &&
				    p->l[p->i].indent > indent) {
					strbuf_appendc(&sb, ' ');
					strbuf_appends(&sb, p->l[p->i].s);
					p->i++;
				}
				yfree(v);
				v = yscalar(sb.data, sb.len, true);
				strbuf_release(&sb);
			}
		}
		yadd(y, key, v);
	}
	return y;
}

static struct ynode *
yseq(struct yparser *p, int indent)
{
	struct ynode *y;
	struct yline *l;
	const char *rest;
	int col;

	y = ynew(Y_SEQ);
	while (!yat_end(p) && !p->failed && p->l[p->i].indent == indent &&
	    p->l[p->i].s[0] == '-') {
		l = &p->l[p->i];
		rest = l->s + 1;
		while (*rest == ' ')
			rest++;
		col = indent + (int)(rest - l->s);
		if (*rest == '\0') {
			p->i++;
			yadd(y, NULL, yblock(p, indent + 1));
		} else if (ykey_len(rest) > 0) {
			/* "- key: value": a map whose first key is here. */
			l->s += rest - l->s;
			l->indent = col;
			yadd(y, NULL, ymap(p, col));
		} else {
			p->i++;
			yadd(y, NULL, yinline(p, l->no, rest));
		}
	}
	return y;
}

static struct ynode *
yblock(struct yparser *p, int min_indent)
{
	if (yat_end(p) || p->l[p->i].indent < min_indent)
		return yscalar("", 0, true);
	if (p->l[p->i].s[0] == '-' &&
	    (p->l[p->i].s[1] == ' ' || p->l[p->i].s[1] == '\0'))
		return yseq(p, p->l[p->i].indent);
	return ymap(p, p->l[p->i].indent);
}

static struct ynode *
yget(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->k[i], key) == 0)
			return map->v[i];
	return NULL;
}

/* ---- scenarios ---- */

static char *
dup_scalar(const struct ynode *y)
{
	if (y == NULL || y->kind != Y_SCALAR)
		return NULL;
	return mem_strndup(y->str, y->len);
}

static char *
lower_name(const char *s, size_t n)
{
	char *r;
	size_t i;

	if (n > 0 && s[n - 1] == '.')
		n--;
	r = mem_strndup(s, n);
	if (r == NULL)
		abort();
	for (i = 0; r[i] != '\0'; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	return r;
}

static void
add_rr(struct suite_name *z, const struct suite_rr *rr)
{
	z->rr = mem_reallocarray(z->rr, z->nrr + 1, sizeof(*z->rr));
	if (z->rr == NULL)
		abort();
	z->rr[z->nrr++] = *rr;
}

static void
load_txt(struct suite_rr *rr, const struct ynode *v)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (v->kind == Y_SCALAR) {
		strbuf_append(&sb, v->str, v->len);
		rr->nstrings = 1;
	} else {
		for (i = 0; i < v->n; i++)
			if (v->v[i]->kind == Y_SCALAR)
				strbuf_append(&sb, v->v[i]->str,
				    v->v[i]->len);
		rr->nstrings = v->n;
	}
	rr->len = sb.len;
	rr->data = mem_alloc(sb.len + 1);
	if (rr->data == NULL)
		abort();
	memcpy(rr->data, sb.data, sb.len);
	rr->data[sb.len] = '\0';
	strbuf_release(&sb);
}

static int
load_name(struct suite_name *z, const char *name, const struct ynode *seq,
    FILE *err)
{
	struct suite_rr rr, *spf;
	const struct ynode *item, *v;
	const char *t;
	size_t i, nspf;
	bool txt_entry;

	memset(z, 0, sizeof(*z));
	z->name = lower_name(name, strlen(name));
	spf = NULL;
	nspf = 0;
	txt_entry = false;
	for (i = 0; seq != NULL && seq->kind == Y_SEQ && i < seq->n; i++) {
		item = seq->v[i];
		if (item->kind == Y_SCALAR && strcmp(item->str, "TIMEOUT") == 0) {
			z->timeout = true;
			continue;
		}
		if (item->kind != Y_MAP || item->n != 1) {
			fprintf(err, "zonedata %s: bad entry\n", name);
			return -1;
		}
		t = item->k[0];
		v = item->v[0];
		memset(&rr, 0, sizeof(rr));
		if (strcmp(t, "A") == 0 || strcmp(t, "AAAA") == 0) {
			rr.type = t[1] == '\0' ? DNS_TYPE_A : DNS_TYPE_AAAA;
			if (v->kind != Y_SCALAR || inet_pton(rr.type ==
			    DNS_TYPE_A ? AF_INET : AF_INET6, v->str,
			    rr.addr) != 1) {
				fprintf(err, "zonedata %s: bad address\n", name);
				return -1;
			}
		} else if (strcmp(t, "MX") == 0) {
			rr.type = DNS_TYPE_MX;
			if (v->kind != Y_SEQ || v->n != 2) {
				fprintf(err, "zonedata %s: bad MX\n", name);
				return -1;
			}
			rr.pref = (uint16_t)atoi(v->v[0]->str);
			rr.data = lower_name(v->v[1]->str, v->v[1]->len);
			/* keep the case the zone gave */
			memcpy(rr.data, v->v[1]->str, strlen(rr.data));
		} else if (strcmp(t, "PTR") == 0 || strcmp(t, "CNAME") == 0) {
			rr.type = t[0] == 'P' ? DNS_TYPE_PTR : DNS_TYPE_CNAME;
			rr.data = lower_name(v->str, v->len);
			memcpy(rr.data, v->str, strlen(rr.data));
		} else if (strcmp(t, "TXT") == 0 || strcmp(t, "SPF") == 0) {
			if (t[0] == 'T')
				txt_entry = true;
			if (v->kind == Y_SCALAR && v->plain &&
			    strcmp(v->str, "NONE") == 0)
				continue;
			rr.type = DNS_TYPE_TXT;
			load_txt(&rr, v);
			if (t[0] == 'S') {
				spf = mem_reallocarray(spf, nspf + 1,
				    sizeof(*spf));
				if (spf == NULL)
					abort();
				spf[nspf++] = rr;
				continue;
			}
		} else {
			fprintf(err, "zonedata %s: unknown type %s\n", name, t);
			return -1;
		}
		add_rr(z, &rr);
	}
	/* SPF entries stand for TXT records unless TXT is given. */
	for (i = 0; i < nspf; i++) {
		if (txt_entry)
			mem_free(spf[i].data);
		else
			add_rr(z, &spf[i]);
	}
	mem_free(spf);
	return 0;
}

static int
load_scenario(struct suite_scenario *sc, const struct ynode *doc, FILE *err)
{
	const struct ynode *tests, *zd, *t, *r;
	struct suite_test *st;
	size_t i, j;

	memset(sc, 0, sizeof(*sc));
	sc->description = dup_scalar(yget(doc, "description"));
	tests = yget(doc, "tests");
	zd = yget(doc, "zonedata");
	if (tests == NULL || tests->kind != Y_MAP) {
		fprintf(err, "scenario without tests\n");
		return -1;
	}
	sc->tests = mem_calloc(tests->n, sizeof(*sc->tests));
	for (i = 0; i < tests->n; i++) {
		t = tests->v[i];
		st = &sc->tests[sc->ntests++];
		st->name = mem_strdup(tests->k[i]);
		st->host = dup_scalar(yget(t, "host"));
		st->helo = dup_scalar(yget(t, "helo"));
		st->mailfrom = dup_scalar(yget(t, "mailfrom"));
		st->explanation = dup_scalar(yget(t, "explanation"));
		r = yget(t, "result");
		if (r != NULL && r->kind == Y_SCALAR)
			st->results[st->nresults++] = dup_scalar(r);
		else if (r != NULL && r->kind == Y_SEQ)
			for (j = 0; j < r->n && j < SUITE_MAX_RESULTS; j++)
				st->results[st->nresults++] =
				    dup_scalar(r->v[j]);
		if (st->host == NULL || st->helo == NULL ||
		    st->mailfrom == NULL || st->nresults == 0) {
			fprintf(err, "test %s: incomplete\n", st->name);
			return -1;
		}
	}
	if (zd != NULL && zd->kind == Y_MAP) {
		sc->names = mem_calloc(zd->n + 1, sizeof(*sc->names));
		for (i = 0; i < zd->n; i++) {
			if (load_name(&sc->names[i], zd->k[i], zd->v[i],
			    err) != 0)
				return -1;
			sc->nnames++;
		}
	}
	return 0;
}

int
suite_load(const char *path, struct suite *s, FILE *err)
{
	FILE *f;
	char *buf;
	size_t cap, len, rd;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(err, "%s: cannot open\n", path);
		return -1;
	}
	cap = 1 << 20;
	buf = mem_alloc(cap);
	len = 0;
	while (buf != NULL && (rd = fread(buf + len, 1, cap - len - 1, f)) > 0)
		len += rd;
	fclose(f);
	if (buf == NULL || len >= cap - 1) {
		fprintf(err, "%s: too big\n", path);
		mem_free(buf);
		return -1;
	}
	rc = suite_load_buf(buf, len, s, err);
	mem_free(buf);
	return rc;
}

int
suite_load_buf(const char *text, size_t len, struct suite *s, FILE *err)
{
	struct yparser p;
	struct ynode *doc;
	char *buf, *line, *nl;
	int no, rc;

	memset(s, 0, sizeof(*s));
	memset(&p, 0, sizeof(p));
	p.err = err;
	buf = mem_strndup(text, len);
	if (buf == NULL)
		return -1;

	/* Lines, without blank and comment-only ones. */
	no = 0;
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = buf + len;
		*nl = '\0';
		no++;
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		{
			char *c = line;
			int ind = 0;

			while (*c == ' ') {
				c++;
				ind++;
			}
			if (*c == '\0' || *c == '#')
				continue;
			p.l = mem_reallocarray(p.l, p.n + 1, sizeof(*p.l));
			if (p.l == NULL)
				abort();
			p.l[p.n].s = c;
			p.l[p.n].indent = ind;
			p.l[p.n].no = no;
			p.n++;
		}
	}

	rc = 0;
	while (p.i < p.n && !p.failed) {
		if (ydocsep(&p.l[p.i])) {
			p.i++;
			continue;
		}
		doc = ymap(&p, 0);
		if (!p.failed) {
			s->sc = mem_reallocarray(s->sc, s->nsc + 1,
			    sizeof(*s->sc));
			if (s->sc == NULL)
				abort();
			if (load_scenario(&s->sc[s->nsc], doc, err) != 0)
				rc = -1;
			s->nsc++;
		}
		yfree(doc);
		if (rc != 0)
			break;
		if (p.i < p.n && !ydocsep(&p.l[p.i]) && !p.failed)
			yfail(&p, p.l[p.i].no, "unexpected indentation");
	}
	if (p.failed)
		rc = -1;
	mem_free(p.l);
	mem_free(buf);
	if (rc != 0)
		suite_free(s);
	return rc;
}

void
suite_free(struct suite *s)
{
	struct suite_scenario *sc;
	size_t i, j, k;

	for (i = 0; i < s->nsc; i++) {
		sc = &s->sc[i];
		mem_free(sc->description);
		for (j = 0; j < sc->ntests; j++) {
			mem_free(sc->tests[j].name);
			mem_free(sc->tests[j].host);
			mem_free(sc->tests[j].helo);
			mem_free(sc->tests[j].mailfrom);
			mem_free(sc->tests[j].explanation);
			for (k = 0; k < sc->tests[j].nresults; k++)
				mem_free(sc->tests[j].results[k]);
		}
		mem_free(sc->tests);
		for (j = 0; j < sc->nnames; j++) {
			for (k = 0; k < sc->names[j].nrr; k++)
				mem_free(sc->names[j].rr[k].data);
			mem_free(sc->names[j].rr);
			mem_free(sc->names[j].name);
		}
		mem_free(sc->names);
	}
	mem_free(s->sc);
	memset(s, 0, sizeof(*s));
}

void
suite_add_txt(struct suite_scenario *sc, const char *name, const char *txt,
    size_t len)
{
	struct suite_name *z;
	struct suite_rr rr;
	size_t i;

	z = NULL;
	for (i = 0; i < sc->nnames; i++)
		if (strcasecmp(sc->names[i].name, name) == 0)
			z = &sc->names[i];
	if (z == NULL) {
		sc->names = mem_reallocarray(sc->names, sc->nnames + 1,
		    sizeof(*sc->names));
		if (sc->names == NULL)
			abort();
		z = &sc->names[sc->nnames++];
		memset(z, 0, sizeof(*z));
		z->name = lower_name(name, strlen(name));
	}
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_TYPE_TXT;
	rr.data = mem_alloc(len + 1);
	if (rr.data == NULL)
		abort();
	memcpy(rr.data, txt, len);
	rr.data[len] = '\0';
	rr.len = len;
	rr.nstrings = (len + 254) / 255;
	add_rr(z, &rr);
}

/* ---- the lookup table ---- */

static const struct suite_name *
find_name(const struct suite_scenario *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->nnames; i++)
		if (strcasecmp(sc->names[i].name, name) == 0)
			return &sc->names[i];
	return NULL;
}

static const struct suite_rr *
find_cname(const struct suite_name *z)
{
	size_t i;

	for (i = 0; i < z->nrr; i++)
		if (z->rr[i].type == DNS_TYPE_CNAME)
			return &z->rr[i];
	return NULL;
}

bool
suite_times_out(const struct suite_scenario *sc, const char *name,
    uint16_t type)
{
	char norm[256];
	const struct suite_name *z;
	size_t i;

	if (dns_name_normalize(name, norm, sizeof(norm)) != DNS_OK)
		return false;
	if ((z = find_name(sc, norm)) == NULL || !z->timeout)
		return false;
	for (i = 0; i < z->nrr; i++)
		if (z->rr[i].type == type || z->rr[i].type == DNS_TYPE_CNAME)
			return false;
	return true;
}

static enum dns_status
answer(struct dns_answer *out, enum dns_status st)
{
	out->status = st;
	return st;
}

enum dns_status
suite_query(void *arg, const char *name, uint16_t type,
    const struct dns_deadline *deadline, struct dns_answer *out)
{
	const struct suite_scenario *sc = arg;
	const struct suite_name *z;
	const struct suite_rr *cn, *r;
	struct dns_rr *rr;
	char norm[256], seen[9][256];
	size_t i, n, hops;

	(void)deadline;
	dns_answer_init(out);
	out->qtype = type;
	if (dns_name_normalize(name, norm, sizeof(norm)) != DNS_OK)
		return answer(out, DNS_ERR_BADNAME);
	for (hops = 0;; hops++) {
		z = find_name(sc, norm);
		if (z == NULL)
			return answer(out, DNS_NXDOMAIN);
		cn = find_cname(z);
		if (cn == NULL || type == DNS_TYPE_CNAME)
			break;
		if (hops >= 8)
			return answer(out, DNS_ERR_CNAME_CHAIN);
		memcpy(seen[hops], norm, sizeof(norm));
		if (dns_name_normalize(cn->data, norm, sizeof(norm)) != DNS_OK)
			return answer(out, DNS_ERR_MALFORMED);
		for (i = 0; i <= hops; i++)
			if (strcasecmp(seen[i], norm) == 0)
				return answer(out, DNS_ERR_CNAME_LOOP);
		out->cname_hops = (unsigned)hops + 1;
	}
	n = 0;
	for (i = 0; i < z->nrr; i++)
		if (z->rr[i].type == type)
			n++;
	if (n == 0)
		return answer(out, z->timeout ? DNS_ERR_TIMEOUT : DNS_NODATA);
	out->rr = mem_calloc(n, sizeof(*out->rr));
	if (out->rr == NULL)
		return answer(out, DNS_ERR_NOMEM);
	out->ttl = 300;
	out->has_ttl = true;
	for (i = 0; i < z->nrr; i++) {
		r = &z->rr[i];
		if (r->type != type)
			continue;
		rr = &out->rr[out->nrr];
		rr->type = type;
		rr->ttl = 300;
		switch (type) {
		case DNS_TYPE_A:
			memcpy(&rr->u.a, r->addr, 4);
			break;
		case DNS_TYPE_AAAA:
			memcpy(&rr->u.aaaa, r->addr, 16);
			break;
		case DNS_TYPE_MX:
			rr->u.mx.pref = r->pref;
			rr->u.mx.host = mem_strdup(r->data);
			if (rr->u.mx.host == NULL)
				goto nomem;
			break;
		case DNS_TYPE_TXT:
			rr->u.txt.data = mem_alloc(r->len + 1);
			if (rr->u.txt.data == NULL)
				goto nomem;
			memcpy(rr->u.txt.data, r->data, r->len);
			rr->u.txt.data[r->len] = '\0';
			rr->u.txt.len = r->len;
			rr->u.txt.nstrings = r->nstrings;
			break;
		default:
			rr->u.name = mem_strdup(r->data);
			if (rr->u.name == NULL)
				goto nomem;
			break;
		}
		out->nrr++;
	}
	return answer(out, DNS_OK);
nomem:
	dns_answer_clear(out);
	return answer(out, DNS_ERR_NOMEM);
}

/* ---- zone files (NSD mode) ---- */

/* A name in zone-file syntax, absolute, with \DDD for the unusual. */
static void
zone_name(struct strbuf *sb, const char *name)
{
	const unsigned char *c;

	if (*name == '\0') {
		strbuf_appendc(sb, '.');
		return;
	}
	for (c = (const unsigned char *)name; *c != '\0'; c++) {
		if (isalnum(*c) || *c == '-' || *c == '_' || *c == '.')
			strbuf_appendc(sb, (char)*c);
		else
			strbuf_appendf(sb, "\\%03u", *c);
	}
	strbuf_appendc(sb, '.');
}

static void
zone_txt(struct strbuf *sb, const char *p, size_t n)
{
	size_t i, chunk;

	if (n == 0) {
		strbuf_appends(sb, " \"\"");
		return;
	}
	/* Character-strings of at most 255 bytes. */
	for (i = 0; i < n; i += chunk) {
		chunk = n - i > 255 ? 255 : n - i;
		strbuf_appends(sb, " \"");
		for (size_t j = i; j < i + chunk; j++) {
			unsigned char c = (unsigned char)p[j];

			if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
				strbuf_appendf(sb, "\\%03u", c);
			else
				strbuf_appendc(sb, (char)c);
		}
		strbuf_appendc(sb, '"');
	}
}

void
suite_zone_lines(const struct suite_scenario *sc,
    void (*emit)(const char *zone, const char *line, void *arg), void *arg)
{
	struct strbuf sb = STRBUF_INIT;
	char abuf[INET6_ADDRSTRLEN];
	const struct suite_name *z;
	const struct suite_rr *r;
	const char *zone;
	size_t i, j;

	for (i = 0; i < sc->nnames; i++) {
		z = &sc->names[i];
		zone = strrchr(z->name, '.');
		zone = zone != NULL ? zone + 1 : z->name;
		for (j = 0; j < z->nrr; j++) {
			r = &z->rr[j];
			strbuf_reset(&sb);
			zone_name(&sb, z->name);
			strbuf_appends(&sb, " 300 IN ");
			switch (r->type) {
			case DNS_TYPE_A:
				inet_ntop(AF_INET, r->addr, abuf, sizeof(abuf));
				strbuf_appendf(&sb, "A %s", abuf);
				break;
			case DNS_TYPE_AAAA:
				inet_ntop(AF_INET6, r->addr, abuf,
				    sizeof(abuf));
				strbuf_appendf(&sb, "AAAA %s", abuf);
				break;
			case DNS_TYPE_MX:
				strbuf_appendf(&sb, "MX %u ", r->pref);
				zone_name(&sb, r->data);
				break;
			case DNS_TYPE_PTR:
				strbuf_appends(&sb, "PTR ");
				zone_name(&sb, r->data);
				break;
			case DNS_TYPE_CNAME:
				strbuf_appends(&sb, "CNAME ");
				zone_name(&sb, r->data);
				break;
			case DNS_TYPE_TXT:
				strbuf_appends(&sb, "TXT");
				zone_txt(&sb, r->data, r->len);
				break;
			}
			emit(zone, strbuf_cstr(&sb), arg);
		}
	}
	strbuf_release(&sb);
}
