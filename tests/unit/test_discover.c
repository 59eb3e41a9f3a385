/*
 * test_discover.c - DMARC policy discovery: RFC 9989 section 4.10.1
 * (treewalk), RFC 7489 section 6.6.3 (psl), and the existence test that
 * decides np (RFC 9989 section 3.2.13).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "policy/discover.h"
#include "policy/lookup_table.h"
#include "tap.h"

#define Q(n)	"_dmarc." n
#define E(n)	"A " n		/* an existence query in the expected log */

static const struct dcase {
	const char *name;
	enum orgdomain_method method;
	const char *zone;
	const char *author;
	enum discover_status st;
	const char *policy_domain;
	enum discover_source source;
	const char *org;
	enum discover_exists exists;
	const char *queries[DISCOVER_MAX_STEPS + 1];	/* NULL-terminated */
} cases[] = {
	/* --- treewalk (RFC 9989 section 4.10.1) --- */
	{ "record at the author", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
	    "example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_AUTHOR, "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("example.com"), Q("com") } },
	{ "B.4.1 policy domain is the author", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=none\n"
	    "_dmarc.signing.example.com TXT v=DMARC1; p=none\n",
	    "example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_AUTHOR, "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("example.com"), Q("com") } },
	{ "B.4.2 deep author: policy domain example.com",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=none\n"
	    "_dmarc.signing.example.com TXT v=DMARC1; p=none\n",
	    "a.b.c.d.e.f.g.h.i.j.k.example.com", DISCOVER_FOUND,
	    "example.com", DISCOVER_SOURCE_ORG, "example.com",
	    DISCOVER_EXISTS_NO,
	    { Q("a.b.c.d.e.f.g.h.i.j.k.example.com"),
	      Q("g.h.i.j.k.example.com"), Q("h.i.j.k.example.com"),
	      Q("i.j.k.example.com"), Q("j.k.example.com"),
	      Q("k.example.com"), Q("example.com"), Q("com"),
	      E("a.b.c.d.e.f.g.h.i.j.k.example.com") } },
	{ "B.4.3 author with its own record, psd=y above",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y\n"
	    "_dmarc.giant.bank.example TXT v=DMARC1; p=quarantine\n",
	    "giant.bank.example", DISCOVER_FOUND, "giant.bank.example",
	    DISCOVER_SOURCE_AUTHOR, "giant.bank.example",
	    DISCOVER_EXISTS_UNCHECKED,
	    { Q("giant.bank.example"), Q("bank.example") } },
	{ "subdomain of B.4.3 author: org record", ORGDOMAIN_TREEWALK,
	    "_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y\n"
	    "_dmarc.giant.bank.example TXT v=DMARC1; p=quarantine\n"
	    "www.giant.bank.example A !ok\n",
	    "www.giant.bank.example", DISCOVER_FOUND, "giant.bank.example",
	    DISCOVER_SOURCE_ORG, "giant.bank.example", DISCOVER_EXISTS_YES,
	    { Q("www.giant.bank.example"), Q("giant.bank.example"),
	      Q("bank.example"), E("www.giant.bank.example") } },
	{ "org without record: the PSD's record", ORGDOMAIN_TREEWALK,
	    "_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y\n",
	    "mail.mega.bank.example", DISCOVER_FOUND, "bank.example",
	    DISCOVER_SOURCE_PSD, "mega.bank.example", DISCOVER_EXISTS_NO,
	    { Q("mail.mega.bank.example"), Q("mega.bank.example"),
	      Q("bank.example"), E("mail.mega.bank.example") } },
	{ "psd=y at the parent: author is the org", ORGDOMAIN_TREEWALK,
	    "_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y\n",
	    "mega.bank.example", DISCOVER_FOUND, "bank.example",
	    DISCOVER_SOURCE_PSD, "mega.bank.example", DISCOVER_EXISTS_NO,
	    { Q("mega.bank.example"), Q("bank.example"),
	      E("mega.bank.example") } },
	{ "intermediate record does not apply below it", ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT v=DMARC1; p=none\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
	    "a.mail.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_NO,
	    { Q("a.mail.example.com"), Q("mail.example.com"),
	      Q("example.com"), Q("com"), E("a.mail.example.com") } },
	{ "psd=n intermediate is the org and policy domain",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT v=DMARC1; p=none; psd=n\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
	    "a.mail.example.com", DISCOVER_FOUND, "mail.example.com",
	    DISCOVER_SOURCE_ORG, "mail.example.com", DISCOVER_EXISTS_NO,
	    { Q("a.mail.example.com"), Q("mail.example.com"),
	      E("a.mail.example.com") } },
	{ "multiple records at the author: discarded, walk on",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT v=DMARC1; p=none\n"
	    "_dmarc.mail.example.com TXT v=DMARC1; p=reject\n"
	    "_dmarc.example.com TXT v=DMARC1; p=quarantine\n",
	    "mail.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_YES,
	    { Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "NODATA at _dmarc.<author>: exists without asking",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT !nodata\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject; np=reject; sp=none\n",
	    "mail.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_YES,
	    { Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "non-DMARC TXT at _dmarc.<author>: exists without asking",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT v=spf1 -all\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject; np=reject; sp=none\n",
	    "mail.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_YES,
	    { Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "NXDOMAIN author: existence query says NXDOMAIN",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=reject; np=reject; sp=none\n",
	    "nope.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_NO,
	    { Q("nope.example.com"), Q("example.com"), Q("com"),
	      E("nope.example.com") } },
	{ "existing author without _dmarc below it: NODATA for A",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=reject; np=reject; sp=none\n"
	    "www.example.com A !nodata\n",
	    "www.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_YES,
	    { Q("www.example.com"), Q("example.com"), Q("com"),
	      E("www.example.com") } },
	{ "existence query fails", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=reject; np=reject; sp=none\n"
	    "www.example.com A !tempfail\n",
	    "www.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_UNKNOWN,
	    { Q("www.example.com"), Q("example.com"), Q("com"),
	      E("www.example.com") } },
	{ "no record anywhere: DMARC does not apply", ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT v=spf1 -all\n",
	    "mail.example.com", DISCOVER_NONE, NULL, DISCOVER_SOURCE_NONE,
	    "mail.example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "tempfail at the author", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT !tempfail\n",
	    "example.com", DISCOVER_TEMPERROR, NULL, DISCOVER_SOURCE_NONE,
	    NULL, DISCOVER_EXISTS_UNCHECKED, { Q("example.com") } },
	{ "tempfail in the walk before any record", ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT !tempfail\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
	    "a.mail.example.com", DISCOVER_TEMPERROR, NULL,
	    DISCOVER_SOURCE_NONE, NULL, DISCOVER_EXISTS_UNCHECKED,
	    { Q("a.mail.example.com"), Q("mail.example.com") } },
	{ "author record found, walk tempfails: found, org unknown",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.mail.example.com TXT v=DMARC1; p=reject\n"
	    "_dmarc.example.com TXT !tempfail\n",
	    "mail.example.com", DISCOVER_FOUND, "mail.example.com",
	    DISCOVER_SOURCE_AUTHOR, NULL, DISCOVER_EXISTS_UNCHECKED,
	    { Q("mail.example.com"), Q("example.com") } },
	{ "permfail", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT !permfail\n",
	    "mail.example.com", DISCOVER_PERMERROR, NULL,
	    DISCOVER_SOURCE_NONE, NULL, DISCOVER_EXISTS_UNCHECKED,
	    { Q("mail.example.com"), Q("example.com") } },
	{ "invalid p without rua: no DMARC processing (permerror)",
	    ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=bogus\n",
	    "example.com", DISCOVER_PERMERROR, "example.com",
	    DISCOVER_SOURCE_AUTHOR, "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("example.com"), Q("com") } },
	{ "invalid p with rua: found (p=none)", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=bogus; "
	    "rua=mailto:d@example.com\n",
	    "example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_AUTHOR, "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("example.com"), Q("com") } },
	{ "uppercase author, trailing dot", ORGDOMAIN_TREEWALK,
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n"
	    "mail.example.com A !ok\n",
	    "MAIL.Example.COM.", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_YES,
	    { Q("mail.example.com"), Q("example.com"), Q("com"),
	      E("mail.example.com") } },

	/* --- psl (RFC 7489 section 6.6.3) --- */
	{ "psl: record at the author", ORGDOMAIN_PSL,
	    "_dmarc.mail.example.com TXT v=DMARC1; p=reject\n"
	    "_dmarc.example.com TXT v=DMARC1; p=none\n",
	    "mail.example.com", DISCOVER_FOUND, "mail.example.com",
	    DISCOVER_SOURCE_AUTHOR, "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("mail.example.com") } },
	{ "psl: record at the org domain", ORGDOMAIN_PSL,
	    "_dmarc.example.com TXT v=DMARC1; p=none\n",
	    "a.b.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_NO,
	    { Q("a.b.example.com"), Q("example.com"), E("a.b.example.com") } },
	{ "psl: intermediate record not consulted", ORGDOMAIN_PSL,
	    "_dmarc.b.example.com TXT v=DMARC1; p=reject\n",
	    "a.b.example.com", DISCOVER_NONE, NULL, DISCOVER_SOURCE_NONE,
	    "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("a.b.example.com"), Q("example.com") } },
	{ "psl: multiple at the author end discovery", ORGDOMAIN_PSL,
	    "_dmarc.mail.example.com TXT v=DMARC1; p=none\n"
	    "_dmarc.mail.example.com TXT v=DMARC1; p=reject\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
	    "mail.example.com", DISCOVER_NONE, NULL, DISCOVER_SOURCE_NONE,
	    "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("mail.example.com") } },
	{ "psl: author is the org domain, one query", ORGDOMAIN_PSL,
	    "", "example.com", DISCOVER_NONE, NULL, DISCOVER_SOURCE_NONE,
	    "example.com", DISCOVER_EXISTS_UNCHECKED, { Q("example.com") } },
	{ "psl: author is a public suffix", ORGDOMAIN_PSL,
	    "_dmarc.co.uk TXT v=DMARC1; p=reject\n",
	    "co.uk", DISCOVER_FOUND, "co.uk", DISCOVER_SOURCE_AUTHOR, NULL,
	    DISCOVER_EXISTS_UNCHECKED, { Q("co.uk") } },
	{ "psl: tempfail at the org", ORGDOMAIN_PSL,
	    "_dmarc.example.com TXT !tempfail\n",
	    "mail.example.com", DISCOVER_TEMPERROR, NULL,
	    DISCOVER_SOURCE_NONE, "example.com", DISCOVER_EXISTS_UNCHECKED,
	    { Q("mail.example.com"), Q("example.com") } },
	{ "psl: existing subdomain, NODATA at _dmarc", ORGDOMAIN_PSL,
	    "_dmarc.www.example.com TXT v=spf1 -all\n"
	    "_dmarc.example.com TXT v=DMARC1; p=reject; np=reject; sp=none\n",
	    "www.example.com", DISCOVER_FOUND, "example.com",
	    DISCOVER_SOURCE_ORG, "example.com", DISCOVER_EXISTS_YES,
	    { Q("www.example.com"), Q("example.com") } },
};

static const char mini_psl[] =
	"// ===BEGIN ICANN DOMAINS===\n"
	"com\nuk\nco.uk\nexample\ntest\n"
	"// ===END ICANN DOMAINS===\n";

static orgdomain_psl *
load_mini_psl(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	enum orgdomain_status err;
	orgdomain_psl *psl = NULL;
	int fd;

	if (dir == NULL || *dir == '\0' || strlen(dir) > 4000)
		dir = "/tmp";
	strcpy(path, dir);
	strcat(path, "/dm-psl-XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, mini_psl, sizeof(mini_psl) - 1) ==
	    (ssize_t)(sizeof(mini_psl) - 1))
		psl = orgdomain_psl_new(path, &err);
	close(fd);
	unlink(path);
	return psl;
}

static struct lookup_table *
table_from(const char *zone)
{
	struct lookup_table *t = lookup_table_new();
	size_t line = 0;

	if (t != NULL && lookup_table_load(t, zone, strlen(zone), &line) !=
	    LOOKUP_TABLE_OK) {
		tap_diag("zone line %zu does not load", line);
		lookup_table_free(t);
		return NULL;
	}
	return t;
}

/* "TXT name" entries of the log match "_dmarc..." strings, "A name" the
 * E() ones. */
static const char *
logged(const struct lookup_table *t, size_t i, char *buf, size_t len)
{
	enum lookup_qtype qtype;
	const char *q = lookup_table_query(t, i, &qtype);

	if (q == NULL)
		return NULL;
	if (qtype == LOOKUP_TXT)
		return q;
	if (strlen(q) + 3 > len)
		return NULL;
	strcpy(buf, "A ");
	strcat(buf, q);
	return buf;
}

static void
test_cases(const orgdomain_psl *psl)
{
	char buf[300];
	size_t i, q;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *c = &cases[i];
		struct lookup_table *t = table_from(c->zone);
		struct orgdomain_config cfg = { c->method, psl,
		    lookup_table_lookup, t };
		struct discover_result *res = NULL;
		enum discover_status st;
		size_t nq = 0;

		if (t == NULL || (c->method == ORGDOMAIN_PSL && psl == NULL)) {
			tap_ok(0, "%s: set-up", c->name);
			lookup_table_free(t);
			continue;
		}
		st = discover_policy(&cfg, c->author, &res);
		tap_int(st, c->st, "%s: status %s", c->name,
		    discover_status_name(st));
		if (res == NULL) {
			tap_ok(0, "%s: result", c->name);
			lookup_table_free(t);
			continue;
		}
		tap_int(res->status, st, "%s: status in result", c->name);
		tap_str(res->policy_domain, c->policy_domain,
		    "%s: policy domain", c->name);
		tap_int(res->source, c->source, "%s: source %s", c->name,
		    discover_source_name(res->source));
		tap_str(res->orgdomain, c->org, "%s: org domain", c->name);
		tap_int(res->exists, c->exists, "%s: exists %s", c->name,
		    discover_exists_name(res->exists));
		tap_str(res->method == ORGDOMAIN_PSL ? "psl" : "treewalk",
		    orgdomain_method_name(c->method), "%s: method", c->name);
		tap_ok((res->record != NULL) == (c->policy_domain != NULL),
		    "%s: record present iff policy domain", c->name);
		while (c->queries[nq] != NULL)
			nq++;
		tap_int(lookup_table_nqueries(t), nq, "%s: %zu queries",
		    c->name, nq);
		tap_int(res->nsteps, nq, "%s: one step per query", c->name);
		for (q = 0; q < nq; q++)
			tap_str(logged(t, q, buf, sizeof(buf)), c->queries[q],
			    "%s: query %zu", c->name, q + 1);
		discover_result_free(res);
		lookup_table_free(t);
	}
}

static void
test_details(void)
{
	struct lookup_table *t = table_from(
	    "_dmarc.example.com TXT v=DMARC1; p=bogus; "
	    "rua=mailto:d@example.com\n");
	struct orgdomain_config cfg = { ORGDOMAIN_TREEWALK, NULL,
	    lookup_table_lookup, t };
	struct discover_result *res = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	(void)discover_policy(&cfg, "example.com", &res);
	tap_ok(res != NULL && res->record != NULL &&
	    res->record->treated_as_none,
	    "invalid p with rua: treated_as_none");
	if (res != NULL) {
		json_init(&j, &sb, false);
		discover_write_json(res, &j);
		tap_ok(!json_failed(&j) && !strbuf_failed(&sb),
		    "json: written");
		tap_ok(strstr(strbuf_cstr(&sb), "\"status\":\"found\"") !=
		    NULL &&
		    strstr(strbuf_cstr(&sb), "\"qname\":\"_dmarc.com\"") !=
		    NULL && strstr(strbuf_cstr(&sb),
		    "\"discovery_method\":\"treewalk\"") != NULL,
		    "json: status, steps, method");
		strbuf_reset(&sb);
		discover_write_text(res, &sb);
		tap_ok(strstr(strbuf_cstr(&sb), "_dmarc.example.com") != NULL &&
		    strstr(strbuf_cstr(&sb), "policy domain   example.com") !=
		    NULL, "text: steps and policy domain");
	}
	discover_result_free(res);
	strbuf_release(&sb);
	lookup_table_free(t);

	/* Errors that give no result. */
	t = table_from("");
	cfg.lookup_ctx = t;
	tap_int(discover_policy(&cfg, "a..example", &res), DISCOVER_ERR_DOMAIN,
	    "invalid author domain");
	tap_ok(res == NULL, "invalid author domain: no result");
	tap_int(discover_policy(&cfg, NULL, &res), DISCOVER_ERR_DOMAIN,
	    "NULL author");
	cfg.method = ORGDOMAIN_PSL;
	tap_int(discover_policy(&cfg, "example.com", &res),
	    DISCOVER_ERR_CONFIG, "psl without a list");
	cfg.method = ORGDOMAIN_TREEWALK;
	cfg.lookup = NULL;
	tap_int(discover_policy(&cfg, "example.com", &res),
	    DISCOVER_ERR_CONFIG, "no lookup callback");
	tap_int(lookup_table_nqueries(t), 0, "errors: no queries");
	lookup_table_free(t);
	discover_result_free(NULL);
	tap_ok(1, "discover_result_free(NULL) is a no-op");
}

/* The same zone and author give the same answer whatever the case. */
static void
test_case_blind(void)
{
	static const char *const authors[] = { "sub.example.com",
	    "SUB.EXAMPLE.COM", "Sub.Example.Com.", "sUb.eXaMpLe.CoM" };
	struct lookup_table *t = table_from(
	    "_dmarc.EXAMPLE.com TXT v=DMARC1; p=reject; sp=quarantine\n");
	struct orgdomain_config cfg = { ORGDOMAIN_TREEWALK, NULL,
	    lookup_table_lookup, t };
	size_t i;

	for (i = 0; i < sizeof(authors) / sizeof(authors[0]); i++) {
		struct discover_result *res = NULL;

		(void)discover_policy(&cfg, authors[i], &res);
		tap_ok(res != NULL && res->status == DISCOVER_FOUND &&
		    strcmp(res->author, "sub.example.com") == 0 &&
		    res->policy_domain != NULL &&
		    strcmp(res->policy_domain, "example.com") == 0 &&
		    res->exists == DISCOVER_EXISTS_NO,
		    "case-blind: %s", authors[i]);
		discover_result_free(res);
	}
	lookup_table_free(t);
}

/* Every allocation failure gives DISCOVER_ERR_NOMEM (or the callback's
 * own TEMPERROR), never a crash or a leak. */
static void
test_alloc(const orgdomain_psl *psl)
{
	static const struct {
		const char *name, *zone, *author;
		enum orgdomain_method method;
	} runs[] = {
		{ "treewalk org record + existence",
		    "_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y; "
		    "rua=mailto:a@bank.example,mailto:b@bank.example\n"
		    "_dmarc.giant.bank.example TXT v=DMARC1; p=none; "
		    "sp=reject\n",
		    "x.y.giant.bank.example", ORGDOMAIN_TREEWALK },
		{ "treewalk author record",
		    "_dmarc.example.com TXT v=DMARC1; p=reject; fo=1:d; "
		    "ruf=mailto:f@example.com\n",
		    "example.com", ORGDOMAIN_TREEWALK },
		{ "psl org record",
		    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
		    "a.b.example.com", ORGDOMAIN_PSL },
	};
	size_t r;

	for (r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		struct lookup_table *t = table_from(runs[r].zone);
		struct orgdomain_config cfg = { runs[r].method, psl,
		    lookup_table_lookup, t };
		struct discover_result *res;
		enum discover_status st = DISCOVER_ERR_NOMEM;
		long n, bad = 0, nomem = 0;

		if (t == NULL || (runs[r].method == ORGDOMAIN_PSL &&
		    psl == NULL)) {
			tap_ok(0, "alloc %s: set-up", runs[r].name);
			lookup_table_free(t);
			continue;
		}
		for (n = 0; n < 100000; n++) {
			lookup_table_clear_log(t);
			mem_fail_after(n);
			st = discover_policy(&cfg, runs[r].author, &res);
			mem_fail_after(-1);
			if (st == DISCOVER_ERR_NOMEM)
				nomem++;
			else if (st != DISCOVER_FOUND &&
			    st != DISCOVER_TEMPERROR)
				bad++;
			if ((st == DISCOVER_ERR_NOMEM) != (res == NULL))
				bad++;
			discover_result_free(res);
			if (st == DISCOVER_FOUND)
				break;
		}
		tap_ok(st == DISCOVER_FOUND && bad == 0 && nomem > 0,
		    "alloc %s: %ld rounds, %ld nomem, %ld bad", runs[r].name,
		    n, nomem, bad);
		lookup_table_free(t);
	}
}

static void
test_names(void)
{
	int i;

	for (i = DISCOVER_FOUND; i <= DISCOVER_ERR_NOMEM; i++)
		tap_ok(strcmp(discover_status_name(i), "unknown") != 0 &&
		    strcmp(discover_strerror(i), "unknown discovery status") !=
		    0, "status %d named: %s", i, discover_status_name(i));
	for (i = DISCOVER_SOURCE_NONE; i <= DISCOVER_SOURCE_PSD; i++)
		tap_ok(strcmp(discover_source_name(i), "unknown") != 0,
		    "source %d named", i);
	tap_str(discover_exists_name(DISCOVER_EXISTS_NO), "no", "exists no");
	tap_str(discover_exists_name(DISCOVER_EXISTS_UNKNOWN), "unknown",
	    "exists unknown");
}

int
main(void)
{
	orgdomain_psl *psl = load_mini_psl();

	tap_ok(psl != NULL, "load the small public suffix list");
	test_cases(psl);
	test_details();
	test_case_blind();
	test_alloc(psl);
	test_names();
	orgdomain_psl_free(psl);
	return tap_done();
}
