/*
 * tokens.h - the API's bearer tokens (dmarcctl token, dmarcctl serve).
 *
 * A token is "dmarcd_" and 32 random bytes (getrandom) in base64url; it
 * is shown once, and only its SHA-256 (lower-case hex) is stored, in the
 * api_tokens table of schema version 5, on SQLite or PostgreSQL
 * (store/dbq.h).  Its scope is a space-separated
 * list of lower-case domains, or "*" for every domain.
 */
#ifndef DM_WEB_TOKENS_H
#define DM_WEB_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"
#include "store/dbq.h"

#define TOKEN_PREFIX		"dmarcd_"
#define TOKEN_LEN		(sizeof(TOKEN_PREFIX) - 1 + 43)
#define TOKEN_MAX_DOMAINS	256	/* domains in one scope */
#define TOKEN_MAX_NAME		64

/* A fresh token into out (at least TOKEN_LEN + 1 bytes).  0, or -1 when
 * the kernel's random source failed. */
int	 token_generate(char *out, size_t outsz);
/* SHA-256 of s as 64 hex digits and a NUL into hex[65]. */
void	 token_hash_hex(const char *s, size_t len, char hex[65]);
/*
 * The scope from a --domains list ("a.test,b.test" or "*"): names
 * checked and lower-cased, duplicates dropped, written space-separated
 * into out.  0, or -1 with a message naming the bad entry in err.
 */
int	 token_scope_parse(const char *list, struct strbuf *out,
	    struct strbuf *err);
/* True when scope ("*" or space-separated names) covers domain (lower
 * case). */
bool	 token_scope_has(const char *scope, const char *domain);
/* A name for a token: 1..64 of [A-Za-z0-9._-]. */
bool	 token_name_is_valid(const char *);

struct token_row {
	int64_t	 id;
	char	 name[TOKEN_MAX_NAME + 1];
	char	*scope;			/* owned; free with token_row_clear */
	time_t	 created, revoked, last_used;	/* 0: never */
};
void	 token_row_clear(struct token_row *);

enum token_status {
	TOKEN_OK,
	TOKEN_NOT_FOUND,	/* no such name / hash */
	TOKEN_EXISTS,		/* add: the name is taken */
	TOKEN_REVOKED,		/* lookup: found but revoked */
	TOKEN_ERR_DB		/* err says why */
};

/* Store a token's hash under name with scope. */
enum token_status token_add(struct dbq *, const char *name, const char *scope,
	    const char *hash, struct strbuf *err);
/* Mark name revoked (TOKEN_NOT_FOUND if unknown or already revoked). */
enum token_status token_revoke(struct dbq *, const char *name,
	    struct strbuf *err);
/* Call cb for each token, by name. */
enum token_status token_list(struct dbq *,
	    int (*cb)(const struct token_row *, void *), void *ctx,
	    struct strbuf *err);
/* Find the token whose hash is hash; row filled on TOKEN_OK and
 * TOKEN_REVOKED (the caller clears it). */
enum token_status token_find(struct dbq *, const char *hash,
	    struct token_row *row, struct strbuf *err);
/* Set last_used_at of token id to now. */
enum token_status token_touch(struct dbq *, int64_t id, time_t now,
	    struct strbuf *err);

#endif
