/*
 * conf.c - typed "Key value" configuration parser.
 *
 * Deliberately strict: an unknown key, a repeated key or a bad value stops
 * start-up with a message naming the file, line and key, because a daemon
 * that guesses what a typo meant enforces the wrong policy.  Every problem
 * in a file is reported in one pass.  Input is bounded (file size, line
 * length, list items) so a hostile or corrupt file cannot make us work
 * without limit.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "mem.h"

struct conf_value {
	bool	 set;		/* from a file or conf_set() */
	unsigned line;		/* where it was set (0: default/override) */
	char	*str;		/* STRING, PATH, ENUM (canonical choice) */
	long	 num;		/* INT, BOOL, ENUM index */
	char	**list;		/* LIST */
	size_t	 nlist;
	struct cidr *cidrs;	/* CIDRS */
	size_t	 ncidrs;
};

struct conf {
	const struct conf_key *keys;
	size_t	 nkeys;
	struct conf_value *values;
	char	*path;		/* last file loaded */
	struct strbuf warnings;	/* CONF_IGNORED keys seen */
};

static void
conf_value_clear(struct conf_value *v)
{
	size_t i;

	mem_free(v->str);
	for (i = 0; i < v->nlist; i++)
		mem_free(v->list[i]);
	mem_free(v->list);
	mem_free(v->cidrs);
	memset(v, 0, sizeof(*v));
}

static int
conf_find(const struct conf *c, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++) {
		const struct conf_key *k = &c->keys[i];

		if (strlen(k->name) == len &&
		    strncasecmp(k->name, name, len) == 0)
			return (int)i;
		if (k->alias != NULL && strlen(k->alias) == len &&
		    strncasecmp(k->alias, name, len) == 0)
			return (int)i;
	}
	return -1;
}

static const char *const bool_true[] = { "yes", "true", "on", "1", NULL };
static const char *const bool_false[] = { "no", "false", "off", "0", NULL };

static int
word_index(const char *const *words, const char *s)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(words[i], s) == 0)
			return i;
	return -1;
}

/* Split a list value on commas and white space into v->list. */
static int
conf_split(const char *s, struct conf_value *v, struct strbuf *why)
{
	const char *p = s, *start;

	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if (v->nlist >= CONF_MAX_LIST) {
			strbuf_appendf(why, "more than %d items", CONF_MAX_LIST);
			return -1;
		}
		char **nl = mem_reallocarray(v->list, v->nlist + 1,
		    sizeof(*v->list));
		if (nl == NULL)
			goto nomem;
		v->list = nl;
		if ((v->list[v->nlist] = mem_strndup(start,
		    (size_t)(p - start))) == NULL)
			goto nomem;
		v->nlist++;
	}
	return 0;
nomem:
	strbuf_appends(why, "out of memory");
	return -1;
}

/* "5", "5s" (seconds) or "250ms"; milliseconds in *ms.  -1 if bad. */
static int
parse_duration(const char *s, long *ms)
{
	char *end;
	long n;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	n = strtol(s, &end, 10);
	if (errno == ERANGE || n > 86400000L)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		*ms = n * 1000;
	else if (strcmp(end, "ms") == 0)
		*ms = n;
	else
		return -1;
	return 0;
}

/*
 * Read a file of addresses or CIDR blocks (one or more per line, '#'
 * comments) into v->list, for CONF_CIDRS values that name a file.
 */
static int
conf_read_cidr_file(const char *path, struct conf_value *v, struct strbuf *why)
{
	char line[CONF_MAX_LINE];
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		strbuf_appendf(why, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#');

		if (hash != NULL)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		rc = conf_split(line, v, why);
	}
	fclose(f);
	return rc;
}

/* Resolve a relative path against the directory of the file it came from. */
static char *
conf_resolve_path(const char *value, const char *file)
{
	const char *slash;
	struct strbuf sb = STRBUF_INIT;

	if (value[0] == '/' || file == NULL ||
	    (slash = strrchr(file, '/')) == NULL)
		return mem_strdup(value);
	strbuf_append(&sb, file, (size_t)(slash - file) + 1);
	strbuf_appends(&sb, value);
	return strbuf_steal(&sb);
}

/*
 * Parse value for key k into v.  On error, append the reason to why and
 * return -1; v is left cleared.
 */
static int
conf_parse_value(const struct conf_key *k, const char *value,
    const char *file, struct conf_value *v, struct strbuf *why)
{
	char *end;
	long n;
	int i;
	size_t j;

	memset(v, 0, sizeof(*v));
	switch (k->type) {
	case CONF_STRING:
		if ((v->str = mem_strdup(value)) == NULL)
			goto nomem;
		return 0;
	case CONF_PATH:
		if (*value == '\0') {
			strbuf_appends(why, "empty path");
			return -1;
		}
		if ((v->str = conf_resolve_path(value, file)) == NULL)
			goto nomem;
		return 0;
	case CONF_BOOL:
		if (word_index(bool_true, value) >= 0)
			v->num = 1;
		else if (word_index(bool_false, value) >= 0)
			v->num = 0;
		else {
			strbuf_appends(why, "expected yes or no");
			return -1;
		}
		return 0;
	case CONF_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno == ERANGE) {
			strbuf_appends(why, "expected a whole number");
			return -1;
		}
		if (n < k->min || n > k->max) {
			strbuf_appendf(why, "%ld is outside %ld..%ld", n,
			    k->min, k->max);
			return -1;
		}
		v->num = n;
		return 0;
	case CONF_ENUM:
		if ((i = word_index(k->choices, value)) < 0) {
			strbuf_appends(why, "expected one of");
			for (i = 0; k->choices[i] != NULL; i++)
				strbuf_appendf(why, "%s %s", i ? "," : "",
				    k->choices[i]);
			return -1;
		}
		v->num = i;
		if ((v->str = mem_strdup(k->choices[i])) == NULL)
			goto nomem;
		return 0;
	case CONF_LIST:
		if (conf_split(value, v, why) != 0) {
			conf_value_clear(v);
			return -1;
		}
		return 0;
	case CONF_CIDRS:
		if (value[0] == '/' ? conf_read_cidr_file(value, v, why) != 0 :
		    conf_split(value, v, why) != 0)
			goto fail;
		if (v->nlist > 0 && (v->cidrs = mem_reallocarray(NULL,
		    v->nlist, sizeof(*v->cidrs))) == NULL)
			goto nomem;
		for (j = 0; j < v->nlist; j++) {
			if (cidr_parse(v->list[j], &v->cidrs[j]) != 0) {
				strbuf_appends(why, "bad address or CIDR block \"");
				strbuf_append_escaped(why, v->list[j],
				    strlen(v->list[j]), 64);
				strbuf_appends(why,
				    "\" (host bits set past the prefix?)");
				goto fail;
			}
		}
		v->ncidrs = v->nlist;
		return 0;
	case CONF_DURATION:
		if (parse_duration(value, &n) != 0) {
			strbuf_appends(why, "expected seconds (5, 5s) or "
			    "milliseconds (250ms)");
			return -1;
		}
		if (n < k->min || n > k->max) {
			strbuf_appendf(why, "%ldms is outside %ldms..%ldms", n,
			    k->min, k->max);
			return -1;
		}
		v->num = n;
		return 0;
	case CONF_IGNORED:
		return 0;
	case CONF_REFUSED:
		strbuf_appends(why, "not supported");
		return -1;
	}
	strbuf_appends(why, "internal error: unknown key type");
	return -1;
nomem:
	strbuf_appends(why, "out of memory");
fail:
	conf_value_clear(v);
	return -1;
}

struct conf *
conf_new(const struct conf_key *keys)
{
	struct conf *c;
	struct strbuf why = STRBUF_INIT;
	size_t i;

	if ((c = mem_calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->keys = keys;
	strbuf_init(&c->warnings);
	while (keys[c->nkeys].name != NULL)
		c->nkeys++;
	if ((c->values = mem_calloc(c->nkeys, sizeof(*c->values))) == NULL)
		goto fail;
	for (i = 0; i < c->nkeys; i++) {
		if (keys[i].def == NULL)
			continue;
		/* Defaults are ours: a bad one is a programming error. */
		if (conf_parse_value(&keys[i], keys[i].def, NULL,
		    &c->values[i], &why) != 0)
			goto fail;
	}
	strbuf_release(&why);
	return c;
fail:
	strbuf_release(&why);
	conf_free(c);
	return NULL;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; c->values != NULL && i < c->nkeys; i++)
		conf_value_clear(&c->values[i]);
	mem_free(c->values);
	mem_free(c->path);
	strbuf_release(&c->warnings);
	mem_free(c);
}

/* Append "FILE:LINE: key: msg" and a newline to err. */
static void
conf_error(struct strbuf *err, const char *file, unsigned line,
    const char *key, size_t keylen, const char *msg)
{
	strbuf_appendf(err, "%s:%u: ", file, line);
	if (key != NULL) {
		strbuf_append_escaped(err, key, keylen, 64);
		strbuf_appends(err, ": ");
	}
	strbuf_appends(err, msg);
	strbuf_appendc(err, '\n');
}

/* Trim white space at both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' ||
	    (*e)[-1] == '\r'))
		(*e)--;
}

static int
conf_apply(struct conf *c, const char *file, unsigned line, const char *key,
    size_t keylen, const char *value, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	struct conf_value nv;
	int idx;

	if ((idx = conf_find(c, key, keylen)) < 0) {
		conf_error(err, file, line, key, keylen, "unknown key");
		return -1;
	}
	if (c->values[idx].set && c->values[idx].line != 0 && line != 0) {
		strbuf_appendf(&why, "already set at line %u",
		    c->values[idx].line);
		conf_error(err, file, line, key, keylen,
		    strbuf_cstr(&why));
		strbuf_release(&why);
		return -1;
	}
	if (conf_parse_value(&c->keys[idx], value, file, &nv, &why) != 0) {
		strbuf_appends(&why, " (");
		strbuf_appends(&why, c->keys[idx].help != NULL ?
		    c->keys[idx].help : c->keys[idx].name);
		strbuf_appends(&why, ")");
		conf_error(err, file, line, key, keylen,
		    strbuf_cstr(&why));
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	if (c->keys[idx].type == CONF_IGNORED) {
		strbuf_appendf(&c->warnings, "%s:%u: ", file, line);
		strbuf_append_escaped(&c->warnings, key, keylen, 64);
		strbuf_appendf(&c->warnings, ": ignored: %s\n",
		    c->keys[idx].help);
	}
	conf_value_clear(&c->values[idx]);
	c->values[idx] = nv;
	c->values[idx].set = true;
	c->values[idx].line = line;
	return 0;
}

int
conf_load_buffer(struct conf *c, const char *name, const char *buf,
    size_t len, struct strbuf *err)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;
	int rc = 0;

	if (len > CONF_MAX_FILE) {
		strbuf_appendf(err, "%s: file larger than %d bytes\n", name,
		    CONF_MAX_FILE);
		return -1;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *ls, *le, *ks, *ke, *vs, *ve, *q;
		char *value;

		if (eol == NULL)
			eol = end;
		line++;
		ls = p;
		le = eol;
		p = eol < end ? eol + 1 : end;
		if ((size_t)(le - ls) > CONF_MAX_LINE) {
			conf_error(err, name, line, NULL, 0,
			    "line longer than 8192 bytes");
			rc = -1;
			continue;
		}
		if (memchr(ls, '\0', (size_t)(le - ls)) != NULL) {
			conf_error(err, name, line, NULL, 0,
			    "NUL byte in line");
			rc = -1;
			continue;
		}
		/* A '#' at the start or after white space opens a comment. */
		for (q = ls; q < le; q++)
			if (*q == '#' && (q == ls || q[-1] == ' ' ||
			    q[-1] == '\t')) {
				le = q;
				break;
			}
		trim(&ls, &le);
		if (ls == le)
			continue;
		ks = ls;
		for (ke = ks; ke < le && *ke != ' ' && *ke != '\t'; ke++)
			;
		vs = ke;
		ve = le;
		trim(&vs, &ve);
		if ((value = mem_strndup(vs, (size_t)(ve - vs))) == NULL) {
			conf_error(err, name, line, NULL, 0, "out of memory");
			return -1;
		}
		if (conf_apply(c, name, line, ks, (size_t)(ke - ks), value,
		    err) != 0)
			rc = -1;
		mem_free(value);
	}
	return rc;
}

int
conf_load_file(struct conf *c, const char *path, struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT;
	char chunk[8192];
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		strbuf_appendf(err, "%s: cannot open: %s\n", path,
		    strerror(errno));
		return -1;
	}
	strbuf_set_limit(&data, CONF_MAX_FILE + 1);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		strbuf_append(&data, chunk, (size_t)n);
	if (n < 0)
		strbuf_appendf(err, "%s: read error: %s\n", path,
		    strerror(errno));
	else if (strbuf_failed(&data))
		strbuf_appendf(err, "%s: file larger than %d bytes or out of "
		    "memory\n", path, CONF_MAX_FILE);
	else {
		rc = conf_load_buffer(c, path, strbuf_cstr(&data),
		    strbuf_len(&data), err);
		mem_free(c->path);
		if ((c->path = mem_strdup(path)) == NULL)
			rc = -1;
	}
	close(fd);
	strbuf_release(&data);
	return rc;
}

int
conf_set(struct conf *c, const char *key, const char *value,
    struct strbuf *err)
{
	return conf_apply(c, "command line", 0, key, strlen(key), value, err);
}

static const struct conf_value *
conf_get(const struct conf *c, const char *key, enum conf_type want)
{
	int idx = conf_find(c, key, strlen(key));

	/* Asking for a key that is not in the table is a programming error. */
	if (idx < 0 || c->keys[idx].type != want)
		abort();
	return &c->values[idx];
}

const char *
conf_str(const struct conf *c, const char *key)
{
	int idx = conf_find(c, key, strlen(key));

	if (idx < 0 || (c->keys[idx].type != CONF_STRING &&
	    c->keys[idx].type != CONF_PATH && c->keys[idx].type != CONF_ENUM))
		abort();
	return c->values[idx].str;
}

long
conf_int(const struct conf *c, const char *key)
{
	int idx = conf_find(c, key, strlen(key));

	if (idx < 0 || (c->keys[idx].type != CONF_INT &&
	    c->keys[idx].type != CONF_DURATION))
		abort();
	return c->values[idx].num;
}

bool
conf_bool(const struct conf *c, const char *key)
{
	return conf_get(c, key, CONF_BOOL)->num != 0;
}

int
conf_enum(const struct conf *c, const char *key)
{
	return (int)conf_get(c, key, CONF_ENUM)->num;
}

size_t
conf_list(const struct conf *c, const char *key, char *const **items)
{
	const struct conf_value *v = conf_get(c, key, CONF_LIST);

	*items = v->list;
	return v->nlist;
}

size_t
conf_cidrs(const struct conf *c, const char *key, const struct cidr **cidrs)
{
	const struct conf_value *v = conf_get(c, key, CONF_CIDRS);

	*cidrs = v->cidrs;
	return v->ncidrs;
}

bool
conf_is_set(const struct conf *c, const char *key)
{
	int idx = conf_find(c, key, strlen(key));

	if (idx < 0)
		abort();
	return c->values[idx].set;
}

const char *
conf_warnings(const struct conf *c)
{
	return strbuf_cstr(&c->warnings);
}

const char *
conf_path(const struct conf *c)
{
	return c->path;
}
