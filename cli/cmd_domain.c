/*
 * cmd_domain.c - dmarcctl domain add|list|remove: the owned_domains
 * table, the domains (and their subdomains) whose received reports
 * dmarcctl import stores, in addition to the OwnedDomains key.
 *
 *   dmarcctl domain add DOMAIN [NOTE]   EX_OK, also when already there
 *   dmarcctl domain remove DOMAIN       EX_OK, EX_DATAERR when absent
 *   dmarcctl domain list [--json]       the table, then the key's domains
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "store/import.h"

struct listing {
	bool	 json;
	struct json *j;
};

static void
list_row(const char *d, time_t added, const char *note, void *ctx)
{
	struct listing *l = ctx;
	char when[32];
	struct tm tm;

	if (l->json) {
		json_object_begin(l->j);
		json_kv_string(l->j, "domain", d);
		json_kv_string(l->j, "from", "database");
		json_kv_int(l->j, "added_at", (int64_t)added);
		json_kv_string(l->j, "note", note);
		json_object_end(l->j);
		return;
	}
	gmtime_r(&added, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\tdatabase\t%s\t%s\n", d, when, note);
}

/* A domain name as stored: lower case, no trailing dot; false when it
 * is not a plausible name. */
static bool
normalise(const char *in, struct strbuf *out)
{
	size_t i, n = strlen(in);

	while (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
		strbuf_appendc(out, tolower(c));
	}
	return strstr(strbuf_cstr(out), "..") == NULL &&
	    strbuf_cstr(out)[0] != '.';
}

int
cmd_domain(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "database", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf err = STRBUF_INIT, dom = STRBUF_INIT,
	    out = STRBUF_INIT;
	struct store_importer *im = NULL;
	struct listing l = { false, NULL };
	struct json j;
	const char *db = NULL, *verb;
	char *const *list;
	enum store_status st;
	bool changed = false;
	size_t i, n;
	int ch, rc = EX_OK;

	while ((ch = getopt_long(argc, argv, "jd:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			l.json = true;
			break;
		case 'd':
			db = optarg;
			break;
		case 'h':
			printf("usage: dmarcctl domain add DOMAIN [NOTE] | "
			    "remove DOMAIN | list [--json] [--database URI]\n");
			return EX_OK;
		default:
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("domain", "give add, remove or list");
		return EX_USAGE;
	}
	verb = argv[optind++];
	if ((strcmp(verb, "add") == 0 && (argc - optind < 1 ||
	    argc - optind > 2)) || (strcmp(verb, "remove") == 0 &&
	    argc - optind != 1) || (strcmp(verb, "list") == 0 &&
	    argc != optind) || (strcmp(verb, "add") != 0 &&
	    strcmp(verb, "remove") != 0 && strcmp(verb, "list") != 0)) {
		cli_error("domain", "usage: domain add DOMAIN [NOTE] | remove "
		    "DOMAIN | list");
		return EX_USAGE;
	}
	if (strcmp(verb, "list") != 0 && !normalise(argv[optind], &dom)) {
		cli_error("domain", "\"%s\" is not a domain name",
		    argv[optind]);
		rc = EX_DATAERR;
		goto done;
	}
	if (db == NULL)
		db = conf_str(ctx->conf, "HistoryDatabase");
	if (db == NULL || *db == '\0') {
		cli_error("domain", "no HistoryDatabase in the configuration "
		    "and no --database");
		rc = EX_CONFIG;
		goto done;
	}
	if ((im = store_importer_open(db, &st, &err)) == NULL) {
		cli_error("domain", "%s", strbuf_cstr(&err));
		rc = st == STORE_ERR_CONFIG ? EX_CONFIG : EX_CANTCREAT;
		goto done;
	}
	if (strcmp(verb, "add") == 0) {
		st = store_owned_add(im, strbuf_cstr(&dom), argc - optind == 2 ?
		    argv[optind + 1] : "", &changed, &err);
		if (st == STORE_OK)
			printf("%s: %s\n", strbuf_cstr(&dom), changed ?
			    "added" : "already owned");
	} else if (strcmp(verb, "remove") == 0) {
		st = store_owned_remove(im, strbuf_cstr(&dom), &changed, &err);
		if (st == STORE_OK && changed)
			printf("%s: removed\n", strbuf_cstr(&dom));
		else if (st == STORE_OK) {
			cli_error("domain", "%s: not in the owned_domains "
			    "table", strbuf_cstr(&dom));
			rc = EX_DATAERR;
		}
	} else {
		if (l.json) {
			json_init(&j, &out, false);
			l.j = &j;
			json_array_begin(&j);
		}
		st = store_owned_list(im, list_row, &l, &err);
		n = conf_list(ctx->conf, "OwnedDomains", &list);
		for (i = 0; i < n; i++) {
			if (l.json) {
				json_object_begin(&j);
				json_kv_string(&j, "domain", list[i]);
				json_kv_string(&j, "from", "OwnedDomains");
				json_object_end(&j);
			} else
				printf("%s\tOwnedDomains\n", list[i]);
		}
		if (l.json) {
			json_array_end(&j);
			printf("%s\n", strbuf_cstr(&out));
		}
	}
	if (st != STORE_OK) {
		cli_error("domain", "%s", strbuf_cstr(&err));
		rc = EX_TEMPFAIL;
	}
done:
	store_importer_close(im);
	strbuf_release(&err);
	strbuf_release(&dom);
	strbuf_release(&out);
	return rc;
}
