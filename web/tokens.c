/*
 * tokens.c - bearer tokens for the HTTP API: generation, hashing, scope,
 * and the api_tokens rows (schema version 5).
 *
 * The plain token never touches the database or a log: the server hashes
 * what the client sends and looks the hash up (an indexed UNIQUE
 * column), so a stolen database gives no usable token.  RFC 6750
 * section 2.1 allows the base64url alphabet used here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "common/mem.h"
#include "web/query.h"
#include "web/tokens.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
token_generate(char *out, size_t outsz)
{
	unsigned char rnd[33];		/* 32 used; 33 = 11 groups of 3 */
	size_t got = 0, i, o;
	ssize_t r;
	unsigned v;

	if (outsz < TOKEN_LEN + 1)
		return -1;
	while (got < 32) {
		r = getrandom(rnd + got, 32 - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	rnd[32] = 0;
	o = strlen(TOKEN_PREFIX);
	memcpy(out, TOKEN_PREFIX, o);
	/* 32 bytes = 256 bits = 43 base64 digits (the last holds 4 bits). */
	for (i = 0; i < 33; i += 3) {
		v = (unsigned)rnd[i] << 16 | (unsigned)rnd[i + 1] << 8 |
		    rnd[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		if (i + 3 < 33)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return o == TOKEN_LEN ? 0 : -1;
}

void
token_hash_hex(const char *s, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;

	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		/* Never matches a stored hash (those are hex digits). */
		memset(hex, 'x', 64);
		hex[64] = '\0';
		return;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

bool
token_name_is_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TOKEN_MAX_NAME)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

int
token_scope_parse(const char *list, struct strbuf *out, struct strbuf *err)
{
	char *copy, *p, *save = NULL;
	size_t n = 0;
	int rc = -1;

	if (strcmp(list, "*") == 0) {
		strbuf_appends(out, "*");
		return 0;
	}
	if ((copy = mem_strdup(list)) == NULL) {
		strbuf_appends(err, "out of memory");
		return -1;
	}
	for (p = strtok_r(copy, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save)) {
		if (strcmp(p, "*") == 0) {
			strbuf_appends(err, "--domains: \"*\" cannot be mixed "
			    "with domain names");
			goto done;
		}
		if (!webq_domain_is_valid(p)) {
			strbuf_appends(err, "--domains: not a domain name: ");
			strbuf_append_escaped(err, p, strlen(p), 80);
			goto done;
		}
		if (token_scope_has(strbuf_cstr(out), p))
			continue;
		if (++n > TOKEN_MAX_DOMAINS) {
			strbuf_appendf(err, "--domains: more than %d domains",
			    TOKEN_MAX_DOMAINS);
			goto done;
		}
		if (strbuf_len(out) > 0)
			strbuf_appendc(out, ' ');
		strbuf_appends(out, p);
	}
	if (n == 0) {
		strbuf_appends(err, "--domains: no domain given (a list, or "
		    "\"*\" for all)");
		goto done;
	}
	rc = strbuf_failed(out) ? -1 : 0;
done:
	mem_free(copy);
	return rc;
}

bool
token_scope_has(const char *scope, const char *domain)
{
	size_t dn = strlen(domain), n;
	const char *p = scope, *sp;

	if (strcmp(scope, "*") == 0)
		return true;
	while (*p != '\0') {
		sp = strchr(p, ' ');
		n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (n == dn && memcmp(p, domain, n) == 0)
			return true;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	return false;
}

void
token_row_clear(struct token_row *r)
{
	if (r == NULL)
		return;
	mem_free(r->scope);
	r->scope = NULL;
}

static enum token_status
db_error(struct dbq *db, const char *what, struct strbuf *err)
{
	strbuf_appendf(err, "%s: %s", what, dbq_errmsg(db));
	return TOKEN_ERR_DB;
}

enum token_status
token_add(struct dbq *db, const char *name, const char *scope,
    const char *hash, struct strbuf *err)
{
	struct dbq_param b[4];
	enum dbq_status st;

	b[0] = dbq_param_text(name);
	b[1] = dbq_param_text(hash);
	b[2] = dbq_param_text(scope);
	b[3] = dbq_param_int((int64_t)time(NULL));
	st = dbq_exec(db, "INSERT INTO api_tokens (name, hash, domains, "
	    "created_at) VALUES (?1, ?2, ?3, ?4)", b, 4, NULL);
	if (st == DBQ_CONSTRAINT)
		return TOKEN_EXISTS;
	return st == DBQ_OK ? TOKEN_OK : db_error(db, "token add", err);
}

enum token_status
token_revoke(struct dbq *db, const char *name, struct strbuf *err)
{
	struct dbq_param b[2];
	int64_t changed;

	b[0] = dbq_param_text(name);
	b[1] = dbq_param_int((int64_t)time(NULL));
	if (dbq_exec(db, "UPDATE api_tokens SET revoked_at = ?2 WHERE "
	    "name = ?1 AND revoked_at IS NULL", b, 2, &changed) != DBQ_OK)
		return db_error(db, "token revoke", err);
	return changed == 0 ? TOKEN_NOT_FOUND : TOKEN_OK;
}

static void
row_read(const struct dbq_rows *st, struct token_row *r)
{
	r->id = dbq_int(st, 0);
	snprintf(r->name, sizeof(r->name), "%s", dbq_text(st, 1));
	r->scope = mem_strdup(dbq_text(st, 2));
	r->created = (time_t)dbq_int(st, 3);
	r->revoked = (time_t)dbq_int(st, 4);
	r->last_used = (time_t)dbq_int(st, 5);
}

#define ROW_COLUMNS	"id, name, domains, created_at, " \
	"COALESCE(revoked_at, 0), COALESCE(last_used_at, 0)"

enum token_status
token_list(struct dbq *db, int (*cb)(const struct token_row *, void *),
    void *ctx, struct strbuf *err)
{
	struct dbq_rows *st;
	struct token_row r;
	bool failed;

	if ((st = dbq_query(db, "SELECT " ROW_COLUMNS " FROM api_tokens "
	    "ORDER BY name", NULL, 0)) == NULL)
		return db_error(db, "token list", err);
	while (dbq_next(st)) {
		memset(&r, 0, sizeof(r));
		row_read(st, &r);
		if (r.scope == NULL || cb(&r, ctx) != 0) {
			token_row_clear(&r);
			break;
		}
		token_row_clear(&r);
	}
	failed = dbq_rows_failed(st);
	dbq_rows_free(st);
	return failed ? db_error(db, "token list", err) : TOKEN_OK;
}

enum token_status
token_find(struct dbq *db, const char *hash, struct token_row *r,
    struct strbuf *err)
{
	struct dbq_param b[1];
	struct dbq_rows *st;
	enum token_status ts;

	memset(r, 0, sizeof(*r));
	b[0] = dbq_param_text(hash);
	if ((st = dbq_query(db, "SELECT " ROW_COLUMNS " FROM api_tokens "
	    "WHERE hash = ?1", b, 1)) == NULL)
		return db_error(db, "token lookup", err);
	if (dbq_next(st)) {
		row_read(st, r);
		if (r->scope == NULL) {
			strbuf_appends(err, "token lookup: out of memory");
			ts = TOKEN_ERR_DB;
		} else
			ts = r->revoked != 0 ? TOKEN_REVOKED : TOKEN_OK;
	} else if (!dbq_rows_failed(st))
		ts = TOKEN_NOT_FOUND;
	else
		ts = db_error(db, "token lookup", err);
	dbq_rows_free(st);
	return ts;
}

enum token_status
token_touch(struct dbq *db, int64_t id, time_t now, struct strbuf *err)
{
	struct dbq_param b[2];

	b[0] = dbq_param_int(id);
	b[1] = dbq_param_int((int64_t)now);
	if (dbq_exec(db, "UPDATE api_tokens SET last_used_at = ?2 WHERE "
	    "id = ?1", b, 2, NULL) != DBQ_OK)
		return db_error(db, "token last use", err);
	return TOKEN_OK;
}
