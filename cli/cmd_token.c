/*
 * cmd_token.c - `dmarcctl token add|list|revoke`: the bearer tokens of
 * dmarcctl serve (web/tokens.h).
 *
 * add prints the new token once, on standard output, and stores only its
 * SHA-256; list never shows a token, only its name and scope; revoke
 * keeps the row (list shows when it was revoked).  The database is the
 * HistoryDatabase (or --database), SQLite or PostgreSQL, created and
 * migrated like import does.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common/json.h"
#include "store/import.h"
#include "web/tokens.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: dmarcctl token add NAME --domains D1,D2|'*' "
	    "[--database URI] [--json]\n"
	    "       dmarcctl token list [--database URI] [--json]\n"
	    "       dmarcctl token revoke NAME [--database URI]\n");
}

/* The database (SQLite or PostgreSQL), created or migrated to the
 * latest schema; NULL after printing why (*rc gets the exit status). */
static struct dbq *
open_db(const char *uri, int *rc)
{
	struct strbuf err = STRBUF_INIT;
	struct store_importer *imp;
	enum store_status st;
	struct dbq *db = NULL;

	if ((imp = store_importer_open(uri, &st, &err)) == NULL) {
		cli_error("token", "%s", strbuf_cstr(&err));
		*rc = st == STORE_ERR_CONFIG ? EX_CONFIG : EX_UNAVAILABLE;
		goto done;
	}
	store_importer_close(imp);
	if ((db = dbq_open(uri, true, STORE_BUSY_MS, &err)) == NULL) {
		cli_error("token", "%s", strbuf_cstr(&err));
		*rc = EX_UNAVAILABLE;
	}
done:
	strbuf_release(&err);
	return db;
}

static int
token_do_add(struct dbq *db, const char *name, const char *domains, bool json)
{
	struct strbuf scope = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT;
	char tok[TOKEN_LEN + 1], hex[65];
	enum token_status ts;
	struct json j;
	int rc = EX_OK;

	if (!token_name_is_valid(name)) {
		cli_error("token", "add: name %.80s: use 1 to %d letters, "
		    "digits, '.', '_' or '-'", name, TOKEN_MAX_NAME);
		return EX_USAGE;
	}
	if (domains == NULL) {
		cli_error("token", "add %s: --domains is required (a list of "
		    "domains, or '*' for all)", name);
		return EX_USAGE;
	}
	if (token_scope_parse(domains, &scope, &err) != 0) {
		cli_error("token", "add %s: %s", name, strbuf_cstr(&err));
		rc = EX_DATAERR;
		goto done;
	}
	if (token_generate(tok, sizeof(tok)) != 0) {
		cli_error("token", "add %s: the kernel's random source failed",
		    name);
		rc = EX_OSERR;
		goto done;
	}
	token_hash_hex(tok, strlen(tok), hex);
	ts = token_add(db, name, strbuf_cstr(&scope), hex, &err);
	if (ts == TOKEN_EXISTS) {
		cli_error("token", "add %s: a token of that name exists "
		    "(revoked or not): choose another name", name);
		rc = EX_DATAERR;
		goto done;
	}
	if (ts != TOKEN_OK) {
		cli_error("token", "add %s: %s", name, strbuf_cstr(&err));
		rc = EX_UNAVAILABLE;
		goto done;
	}
	if (json) {
		json_init(&j, &out, false);
		json_object_begin(&j);
		json_kv_string(&j, "name", name);
		json_kv_string(&j, "token", tok);
		json_kv_string(&j, "domains", strbuf_cstr(&scope));
		json_object_end(&j);
		printf("%s\n", strbuf_cstr(&out));
	} else {
		printf("%s\n", tok);
		fprintf(stderr, "dmarcctl: token: %s created for %s; it is "
		    "shown only now\n", name, strbuf_cstr(&scope));
	}
done:
	explicit_bzero(tok, sizeof(tok));
	strbuf_release(&scope);
	strbuf_release(&err);
	strbuf_release(&out);
	return rc;
}

static void
fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "-");
}

struct listing {
	bool	 json;
	struct json j;
	size_t	 n;
};

static int
list_one(const struct token_row *r, void *ctx)
{
	struct listing *l = ctx;
	char c[32], u[32], v[32];

	fmt_time(r->created, c, sizeof(c));
	fmt_time(r->last_used, u, sizeof(u));
	fmt_time(r->revoked, v, sizeof(v));
	if (l->json) {
		json_object_begin(&l->j);
		json_kv_string(&l->j, "name", r->name);
		json_kv_string(&l->j, "domains", r->scope);
		json_kv_string(&l->j, "created", c);
		json_kv_string(&l->j, "last_used", r->last_used ? u : NULL);
		json_kv_string(&l->j, "revoked", r->revoked ? v : NULL);
		json_object_end(&l->j);
	} else {
		if (l->n == 0)
			printf("%-20s %-20s %-20s %-20s %s\n", "NAME",
			    "CREATED", "LAST-USED", "REVOKED", "DOMAINS");
		printf("%-20s %-20s %-20s %-20s %s\n", r->name, c, u, v,
		    r->scope);
	}
	l->n++;
	return 0;
}

static int
token_do_list(struct dbq *db, bool json)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct listing l;
	int rc = EX_OK;

	memset(&l, 0, sizeof(l));
	l.json = json;
	if (json) {
		json_init(&l.j, &out, false);
		json_object_begin(&l.j);
		json_key(&l.j, "tokens");
		json_array_begin(&l.j);
	}
	if (token_list(db, list_one, &l, &err) != TOKEN_OK) {
		cli_error("token", "list: %s", strbuf_cstr(&err));
		rc = EX_UNAVAILABLE;
	} else if (json) {
		json_array_end(&l.j);
		json_object_end(&l.j);
		printf("%s\n", strbuf_cstr(&out));
	} else if (l.n == 0)
		printf("no tokens (create one with dmarcctl token add)\n");
	strbuf_release(&err);
	strbuf_release(&out);
	return rc;
}

struct token_opts {
	const char *domains, *uri;
	bool	 json;
};

/* getopt_long() over argv with optstring into *o: -1 at the end of the
 * options, or the first that is not one of o's ('h', '?'). */
static int
token_getopt(int argc, char **argv, const char *optstring,
    struct token_opts *o)
{
	static const struct option opts[] = {
		{ "domains", required_argument, NULL, 'D' },
		{ "database", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			o->domains = optarg;
			break;
		case 'd':
			o->uri = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		default:
			return ch;
		}
	}
	return -1;
}

int
cmd_token(struct cli_ctx *ctx, int argc, char **argv)
{
	struct token_opts o = { NULL, NULL, false };
	struct strbuf err = STRBUF_INIT;
	const char *verb;
	struct dbq *db;
	int ch, rc = EX_OK;

	optind = 1;
	if ((ch = token_getopt(argc, argv, "+h", &o)) == 'h') {
		usage(stdout);
		return EX_OK;
	}
	if (ch != -1 || optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	verb = argv[optind];
	argc -= optind;
	argv += optind;
	/* Options may also follow the verb and the name; -h there is a
	 * usage error. */
	optind = 0;		/* a new argv: glibc re-initializes */
	if (token_getopt(argc, argv, "h", &o) != -1) {
		usage(stderr);
		return EX_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(verb, "list") == 0 ? argc != 0 :
	    (strcmp(verb, "add") == 0 || strcmp(verb, "revoke") == 0) ?
	    argc != 1 : true) {
		if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 &&
		    strcmp(verb, "revoke") != 0)
			cli_error("token", "unknown verb %.40s: use add, list "
			    "or revoke", verb);
		usage(stderr);
		return EX_USAGE;
	}
	if (o.uri == NULL && (o.uri = conf_str(ctx->conf,
	    "HistoryDatabase")) == NULL) {
		cli_error("token", "no HistoryDatabase in the configuration "
		    "and no --database");
		return EX_CONFIG;
	}
	if ((db = open_db(o.uri, &rc)) == NULL)
		return rc;
	if (strcmp(verb, "add") == 0)
		rc = token_do_add(db, argv[0], o.domains, o.json);
	else if (strcmp(verb, "list") == 0)
		rc = token_do_list(db, o.json);
	else {
		switch (token_revoke(db, argv[0], &err)) {
		case TOKEN_OK:
			printf("token %s revoked\n", argv[0]);
			break;
		case TOKEN_NOT_FOUND:
			cli_error("token", "revoke %.80s: no such token (or "
			    "already revoked)", argv[0]);
			rc = EX_NOINPUT;
			break;
		default:
			cli_error("token", "revoke %.80s: %s", argv[0],
			    strbuf_cstr(&err));
			rc = EX_UNAVAILABLE;
			break;
		}
	}
	dbq_close(db);
	strbuf_release(&err);
	return rc;
}
