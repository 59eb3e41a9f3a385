/*
 * test_orgdomain.c - Organizational Domain by public suffix list (RFC 7489
 * section 3.2; the publicsuffix.org test vectors) and by DNS Tree Walk
 * (RFC 9989 sections 4.10 and 4.10.2, Appendix B.4).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "policy/domain.h"
#include "policy/lookup_table.h"
#include "policy/orgdomain.h"
#include "tap.h"

/*
 * publicsuffix.org tests.txt (CC0), 78 cases: input, registrable domain
 * ("null": none).  U-label cases are compared after normalisation, since
 * the policy core works on A-labels (RFC 9989 section 5.3.1).
 */
static const struct {
	const char *in, *want;
} psl_vectors[] = {
	{ NULL, NULL },
	{ "COM", NULL }, { "example.COM", "example.com" },
	{ "WwW.example.COM", "example.com" },
	{ ".com", NULL }, { ".example", NULL }, { ".example.com", NULL },
	{ ".example.example", NULL },
	{ "example", NULL }, { "example.example", "example.example" },
	{ "b.example.example", "example.example" },
	{ "a.b.example.example", "example.example" },
	{ "biz", NULL }, { "domain.biz", "domain.biz" },
	{ "b.domain.biz", "domain.biz" }, { "a.b.domain.biz", "domain.biz" },
	{ "com", NULL }, { "example.com", "example.com" },
	{ "b.example.com", "example.com" },
	{ "a.b.example.com", "example.com" },
	{ "uk.com", NULL }, { "example.uk.com", "example.uk.com" },
	{ "b.example.uk.com", "example.uk.com" },
	{ "a.b.example.uk.com", "example.uk.com" },
	{ "test.ac", "test.ac" },
	{ "mm", NULL }, { "c.mm", NULL }, { "b.c.mm", "b.c.mm" },
	{ "a.b.c.mm", "b.c.mm" },
	{ "jp", NULL }, { "test.jp", "test.jp" }, { "www.test.jp", "test.jp" },
	{ "ac.jp", NULL }, { "test.ac.jp", "test.ac.jp" },
	{ "www.test.ac.jp", "test.ac.jp" },
	{ "kyoto.jp", NULL }, { "test.kyoto.jp", "test.kyoto.jp" },
	{ "ide.kyoto.jp", NULL }, { "b.ide.kyoto.jp", "b.ide.kyoto.jp" },
	{ "a.b.ide.kyoto.jp", "b.ide.kyoto.jp" },
	{ "c.kobe.jp", NULL }, { "b.c.kobe.jp", "b.c.kobe.jp" },
	{ "a.b.c.kobe.jp", "b.c.kobe.jp" },
	{ "city.kobe.jp", "city.kobe.jp" },
	{ "www.city.kobe.jp", "city.kobe.jp" },
	{ "ck", NULL }, { "test.ck", NULL }, { "b.test.ck", "b.test.ck" },
	{ "a.b.test.ck", "b.test.ck" }, { "www.ck", "www.ck" },
	{ "www.www.ck", "www.ck" },
	{ "us", NULL }, { "test.us", "test.us" }, { "www.test.us", "test.us" },
	{ "ak.us", NULL }, { "test.ak.us", "test.ak.us" },
	{ "www.test.ak.us", "test.ak.us" },
	{ "k12.ak.us", NULL }, { "test.k12.ak.us", "test.k12.ak.us" },
	{ "www.test.k12.ak.us", "test.k12.ak.us" },
	{ "\xe9\xa3\x9f\xe7\x8b\xae.com.cn",
	    "\xe9\xa3\x9f\xe7\x8b\xae.com.cn" },
	{ "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn",
	    "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn" },
	{ "www.\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn",
	    "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn" },
	{ "shishi.\xe5\x85\xac\xe5\x8f\xb8.cn",
	    "shishi.\xe5\x85\xac\xe5\x8f\xb8.cn" },
	{ "\xe5\x85\xac\xe5\x8f\xb8.cn", NULL },
	{ "\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd",
	    "\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd" },
	{ "www.\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd",
	    "\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd" },
	{ "shishi.\xe4\xb8\xad\xe5\x9b\xbd",
	    "shishi.\xe4\xb8\xad\xe5\x9b\xbd" },
	{ "\xe4\xb8\xad\xe5\x9b\xbd", NULL },
	{ "xn--85x722f.com.cn", "xn--85x722f.com.cn" },
	{ "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	{ "www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	{ "shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn" },
	{ "xn--55qx5d.cn", NULL },
	{ "xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s" },
	{ "www.xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s" },
	{ "shishi.xn--fiqs8s", "shishi.xn--fiqs8s" },
	{ "xn--fiqs8s", NULL },
};

/* A small list of our own, so the alignment regressions do not depend on
 * what the installed list says. */
static const char mini_psl[] =
	"// ===BEGIN ICANN DOMAINS===\n"
	"uk\nco.uk\ntest\nexample\n*.wild.example\n!www.wild.example\n"
	"// ===END ICANN DOMAINS===\n"
	"// ===BEGIN PRIVATE DOMAINS===\n"
	"pages.example\n"
	"// ===END PRIVATE DOMAINS===\n";

static char *
write_temp(const char *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((path = malloc(strlen(dir) + 32)) == NULL)
		return NULL;
	strcpy(path, dir);
	strcat(path, "/dm-psl-XXXXXX");
	if ((fd = mkstemp(path)) == -1) {
		free(path);
		return NULL;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static char *
normalized(const char *s)
{
	char *out = NULL;

	if (s == NULL || domain_normalize_dup(s, strlen(s), &out) != DOMAIN_OK)
		return NULL;
	return out;
}

static void
test_psl_vectors(void)
{
	const char *path = getenv("DM_PSL_FILE");
	enum orgdomain_status err;
	orgdomain_psl *psl;
	size_t i;

	if (path == NULL)
		path = DEFAULT_PSL_FILE;
	if ((psl = orgdomain_psl_new(path, &err)) == NULL) {
		tap_diag("cannot load %s (%s): skipping the %zu vectors", path,
		    orgdomain_strerror(err),
		    sizeof(psl_vectors) / sizeof(psl_vectors[0]));
		tap_ok(1, "psl vectors # SKIP no public suffix list");
		return;
	}
	for (i = 0; i < sizeof(psl_vectors) / sizeof(psl_vectors[0]); i++) {
		char *org = NULL, *want = normalized(psl_vectors[i].want);
		enum orgdomain_status st;

		st = orgdomain_psl_lookup(psl, psl_vectors[i].in, &org);
		tap_str(org, want, "psl vector %zu: %s", i + 1,
		    psl_vectors[i].in ? psl_vectors[i].in : "null");
		tap_ok((st == ORGDOMAIN_OK) == (want != NULL),
		    "psl vector %zu: status %s", i + 1,
		    orgdomain_status_name(st));
		mem_free(org);
		mem_free(want);
	}
	orgdomain_psl_free(psl);
}

static void
test_psl_mini(void)
{
	static const struct {
		const char *name, *in, *want;
		enum orgdomain_status st;
		int suffix;
	} cases[] = {
		{ "registered under co.uk", "a.b.co.uk", "b.co.uk",
		    ORGDOMAIN_OK, 0 },
		{ "co.uk is a suffix", "co.uk", NULL, ORGDOMAIN_IS_SUFFIX, 1 },
		{ "uk is a suffix", "uk", NULL, ORGDOMAIN_IS_SUFFIX, 1 },
		{ "test is a suffix", "test", NULL, ORGDOMAIN_IS_SUFFIX, 1 },
		{ "x.test registered", "mail.x.test", "x.test", ORGDOMAIN_OK,
		    0 },
		{ "unlisted TLD: implicit * rule", "a.b.nosuchtld",
		    "b.nosuchtld",
		    ORGDOMAIN_OK, 0 },
		{ "unlisted TLD itself", "nosuchtld", NULL, ORGDOMAIN_IS_SUFFIX,
		    1 },
		{ "wildcard", "a.b.c.wild.example", "b.c.wild.example",
		    ORGDOMAIN_OK, 0 },
		{ "wildcard exception", "a.www.wild.example",
		    "www.wild.example",
		    ORGDOMAIN_OK, 0 },
		{ "private section used", "x.y.pages.example",
		    "y.pages.example",
		    ORGDOMAIN_OK, 0 },
		{ "uppercase and trailing dot", "A.B.CO.UK.", "b.co.uk",
		    ORGDOMAIN_OK, 0 },
		{ "invalid name", "a..b", NULL, ORGDOMAIN_ERR_DOMAIN, 0 },
	};
	enum orgdomain_status err;
	orgdomain_psl *psl;
	char *path, *org;
	size_t i;

	if ((path = write_temp(mini_psl, sizeof(mini_psl) - 1)) == NULL) {
		tap_ok(0, "write the small list");
		return;
	}
	psl = orgdomain_psl_new(path, &err);
	tap_ok(psl != NULL, "load the small list (%s)",
	    orgdomain_strerror(err));
	for (i = 0; psl != NULL && i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum orgdomain_status st;

		st = orgdomain_psl_lookup(psl, cases[i].in, &org);
		tap_str(org, cases[i].want, "mini psl: %s", cases[i].name);
		tap_int(st, cases[i].st, "mini psl: %s: status", cases[i].name);
		tap_int(orgdomain_psl_is_suffix(psl, cases[i].in),
		    cases[i].suffix, "mini psl: %s: is_suffix", cases[i].name);
		mem_free(org);
	}
	orgdomain_psl_free(psl);
	unlink(path);
	free(path);

	/* Loading errors. */
	psl = orgdomain_psl_new("/nonexistent/dmarcd/psl.dat", &err);
	tap_ok(psl == NULL && err == ORGDOMAIN_ERR_PSL_LOAD,
	    "missing list file: %s", orgdomain_status_name(err));
	if ((path = write_temp("// nothing\n", 11)) != NULL) {
		psl = orgdomain_psl_new(path, &err);
		tap_ok(psl == NULL && err == ORGDOMAIN_ERR_PSL_EMPTY,
		    "list without rules refused: %s",
		    orgdomain_status_name(err));
		orgdomain_psl_free(psl);
		unlink(path);
		free(path);
	}
	orgdomain_psl_free(NULL);
	tap_ok(1, "orgdomain_psl_free(NULL) is a no-op");
}

/* Zones used by the tree walk cases. */
#define R_NONE	"TXT v=DMARC1; p=none\n"

static const char zone_b41[] =		/* RFC 9989 B.4.1 / B.4.2 */
	"_dmarc.example.com " R_NONE
	"_dmarc.signing.example.com " R_NONE;
static const char zone_b43[] =		/* RFC 9989 B.4.3 */
	"_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y\n"
	"_dmarc.giant.bank.example " R_NONE;
static const char zone_two[] =		/* RFC 9989 4.10.2, first example */
	"_dmarc.mail.example.com " R_NONE
	"_dmarc.example.com " R_NONE;
static const char zone_psdn[] =		/* 4.10.2, second example */
	"_dmarc.mail.example.com TXT v=DMARC1; p=none; psd=n\n"
	"_dmarc.example.com " R_NONE;
static const char zone_com_psdy[] =	/* 4.10.2, last example */
	"_dmarc.com TXT v=DMARC1; p=reject; psd=y\n";
static const char zone_multi[] =	/* 4.10 step 2 */
	"_dmarc.example.com " R_NONE
	"_dmarc.example.com TXT v=DMARC1; p=reject\n"
	"_dmarc.mail.example.com " R_NONE;
static const char zone_junk[] =		/* non-DMARC TXT discarded */
	"_dmarc.example.com TXT v=spf1 -all\n"
	"_dmarc.example.com TXT some verification token\n"
	"_dmarc.example.com " R_NONE
	"_dmarc.mail.example.com TXT v=DMARC2; p=reject\n";
static const char zone_tempfail[] =
	"_dmarc.example.com " R_NONE
	"_dmarc.mail.example.com TXT !tempfail\n";
static const char zone_permfail[] =
	"_dmarc.mail.example.com TXT !permfail\n";
static const char zone_deep[] =
	"_dmarc.example.com " R_NONE;
static const char zone_empty[] = "";

#define Q(n)	"_dmarc." n

static const struct walk_case {
	const char *name;
	const char *zone;
	const char *start;
	enum orgdomain_status st;
	const char *org;
	enum orgdomain_rule rule;
	const char *queries[ORGDOMAIN_MAX_QUERIES + 1];	/* NULL-terminated */
} walk_cases[] = {
	{ "B.4.1 author example.com", zone_b41, "example.com",
	    ORGDOMAIN_OK, "example.com", ORGDOMAIN_RULE_SHORTEST,
	    { Q("example.com"), Q("com") } },
	{ "B.4.1 DKIM signing.example.com", zone_b41, "signing.example.com",
	    ORGDOMAIN_OK, "example.com", ORGDOMAIN_RULE_SHORTEST,
	    { Q("signing.example.com"), Q("example.com"), Q("com") } },
	{ "B.4.2 deep author: shortened to 7 labels, 8 queries", zone_b41,
	    "a.b.c.d.e.f.g.h.i.j.k.example.com", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("a.b.c.d.e.f.g.h.i.j.k.example.com"),
	      Q("g.h.i.j.k.example.com"), Q("h.i.j.k.example.com"),
	      Q("i.j.k.example.com"), Q("j.k.example.com"),
	      Q("k.example.com"), Q("example.com"), Q("com") } },
	{ "4.10 example: exactly the eight listed queries", zone_empty,
	    "a.b.c.d.e.f.g.h.i.j.mail.example.com", ORGDOMAIN_OK,
	    "a.b.c.d.e.f.g.h.i.j.mail.example.com", ORGDOMAIN_RULE_START,
	    { Q("a.b.c.d.e.f.g.h.i.j.mail.example.com"),
	      Q("g.h.i.j.mail.example.com"), Q("h.i.j.mail.example.com"),
	      Q("i.j.mail.example.com"), Q("j.mail.example.com"),
	      Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "exactly 8 labels: parent next (7 labels)", zone_deep,
	    "a.b.c.d.e.f.example.com", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("a.b.c.d.e.f.example.com"), Q("b.c.d.e.f.example.com"),
	      Q("c.d.e.f.example.com"), Q("d.e.f.example.com"),
	      Q("e.f.example.com"), Q("f.example.com"), Q("example.com"),
	      Q("com") } },
	{ "9 labels: 7-label name next", zone_deep,
	    "x.a.b.c.d.e.f.example.com", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("x.a.b.c.d.e.f.example.com"), Q("b.c.d.e.f.example.com"),
	      Q("c.d.e.f.example.com"), Q("d.e.f.example.com"),
	      Q("e.f.example.com"), Q("f.example.com"), Q("example.com"),
	      Q("com") } },
	{ "7 labels: one label at a time", zone_deep,
	    "b.c.d.e.f.example.com", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("b.c.d.e.f.example.com"), Q("c.d.e.f.example.com"),
	      Q("d.e.f.example.com"), Q("e.f.example.com"),
	      Q("f.example.com"), Q("example.com"), Q("com") } },
	{ "B.4.3 author: psd=y stops, org one label below", zone_b43,
	    "giant.bank.example", ORGDOMAIN_OK, "giant.bank.example",
	    ORGDOMAIN_RULE_PSD_Y,
	    { Q("giant.bank.example"), Q("bank.example") } },
	{ "B.4.3 MAIL FROM", zone_b43, "mail.giant.bank.example",
	    ORGDOMAIN_OK, "giant.bank.example", ORGDOMAIN_RULE_PSD_Y,
	    { Q("mail.giant.bank.example"), Q("giant.bank.example"),
	      Q("bank.example") } },
	{ "B.4.3 DKIM", zone_b43, "mail.mega.bank.example", ORGDOMAIN_OK,
	    "mega.bank.example", ORGDOMAIN_RULE_PSD_Y,
	    { Q("mail.mega.bank.example"), Q("mega.bank.example"),
	      Q("bank.example") } },
	{ "psd=y at the starting domain: the start", zone_b43,
	    "bank.example", ORGDOMAIN_OK, "bank.example",
	    ORGDOMAIN_RULE_SHORTEST, { Q("bank.example") } },
	{ "4.10.2: shortest of two records", zone_two, "a.mail.example.com",
	    ORGDOMAIN_OK, "example.com", ORGDOMAIN_RULE_SHORTEST,
	    { Q("a.mail.example.com"), Q("mail.example.com"),
	      Q("example.com"), Q("com") } },
	{ "4.10.2: psd=n stops and is the org domain", zone_psdn,
	    "a.mail.example.com", ORGDOMAIN_OK, "mail.example.com",
	    ORGDOMAIN_RULE_PSD_N,
	    { Q("a.mail.example.com"), Q("mail.example.com") } },
	{ "4.10.2: only _dmarc.com with psd=y", zone_com_psdy,
	    "a.mail.example.com", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_PSD_Y,
	    { Q("a.mail.example.com"), Q("mail.example.com"),
	      Q("example.com"), Q("com") } },
	{ "multiple DMARC records at one name all discarded", zone_multi,
	    "a.mail.example.com", ORGDOMAIN_OK, "mail.example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("a.mail.example.com"), Q("mail.example.com"),
	      Q("example.com"), Q("com") } },
	{ "non-DMARC TXT (and v=DMARC2) discarded", zone_junk,
	    "mail.example.com", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "no record anywhere: the starting domain", zone_empty,
	    "mail.example.com", ORGDOMAIN_OK, "mail.example.com",
	    ORGDOMAIN_RULE_START,
	    { Q("mail.example.com"), Q("example.com"), Q("com") } },
	{ "uppercase, trailing dot: same walk", zone_two,
	    "A.Mail.EXAMPLE.com.", ORGDOMAIN_OK, "example.com",
	    ORGDOMAIN_RULE_SHORTEST,
	    { Q("a.mail.example.com"), Q("mail.example.com"),
	      Q("example.com"), Q("com") } },
	{ "tempfail stops the walk", zone_tempfail, "a.mail.example.com",
	    ORGDOMAIN_ERR_TEMPFAIL, NULL, ORGDOMAIN_RULE_NONE,
	    { Q("a.mail.example.com"), Q("mail.example.com") } },
	{ "permfail stops the walk", zone_permfail, "mail.example.com",
	    ORGDOMAIN_ERR_PERMFAIL, NULL, ORGDOMAIN_RULE_NONE,
	    { Q("mail.example.com") } },
	{ "single label", zone_empty, "localhost", ORGDOMAIN_OK, "localhost",
	    ORGDOMAIN_RULE_START, { Q("localhost") } },
};

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

static void
test_walks(void)
{
	size_t i, q;

	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *c = &walk_cases[i];
		struct lookup_table *t = table_from(c->zone);
		struct orgdomain_walk *walk = NULL;
		enum orgdomain_status st;
		size_t nq = 0;

		if (t == NULL) {
			tap_ok(0, "%s: table", c->name);
			continue;
		}
		st = orgdomain_walk(c->start, lookup_table_lookup, t, &walk);
		tap_int(st, c->st, "%s: status %s", c->name,
		    orgdomain_status_name(st));
		tap_str(walk ? walk->orgdomain : NULL, c->org, "%s: org domain",
		    c->name);
		tap_int(walk ? (long)walk->rule : -1, c->rule, "%s: rule %s",
		    c->name, walk ? orgdomain_rule_name(walk->rule) : "-");
		while (c->queries[nq] != NULL)
			nq++;
		tap_int(lookup_table_nqueries(t), nq, "%s: %zu queries",
		    c->name, nq);
		for (q = 0; q < nq; q++)
			tap_str(lookup_table_query(t, q, NULL), c->queries[q],
			    "%s: query %zu", c->name, q + 1);
		tap_int(walk ? walk->nsteps : 0, nq, "%s: one step per query",
		    c->name);
		orgdomain_walk_free(walk);
		lookup_table_free(t);
	}
}

static void
test_walk_steps(void)
{
	struct lookup_table *t = table_from(zone_multi);
	struct orgdomain_walk *walk = NULL;
	char longname[300];
	size_t i;

	(void)orgdomain_walk("a.mail.example.com", lookup_table_lookup, t,
	    &walk);
	if (walk == NULL) {
		tap_ok(0, "steps: walk");
		lookup_table_free(t);
		return;
	}
	tap_int(walk->steps[0].outcome, ORGDOMAIN_STEP_NO_RECORD,
	    "steps: NXDOMAIN is no record");
	tap_int(walk->steps[0].status, LOOKUP_NXDOMAIN, "steps: status kept");
	tap_int(walk->steps[1].outcome, ORGDOMAIN_STEP_RECORD,
	    "steps: one record");
	tap_int(walk->steps[2].outcome, ORGDOMAIN_STEP_MULTIPLE,
	    "steps: two records discarded");
	tap_int(walk->steps[2].ndmarc, 2, "steps: both counted");
	tap_int(walk->nnodes, 1, "steps: only the single record kept");
	tap_ok(walk->steps[1].note != NULL && walk->steps[2].note != NULL,
	    "steps: notes for humans");
	orgdomain_walk_free(walk);
	lookup_table_free(t);

	/* psd stop is flagged on the step. */
	t = table_from(zone_b43);
	(void)orgdomain_walk("giant.bank.example", lookup_table_lookup, t,
	    &walk);
	tap_ok(walk != NULL && walk->nsteps == 2 && walk->steps[1].stop &&
	    walk->steps[1].psd == DMARC_PSD_Y && !walk->steps[0].stop,
	    "steps: psd=y stop flagged");
	orgdomain_walk_free(walk);
	lookup_table_free(t);

	/*
	 * A name whose _dmarc form exceeds 253 octets is never asked: three
	 * labels of 63, one of 51 and "com" make 247 octets, 254 with
	 * "_dmarc.".
	 */
	memset(longname, 'a', sizeof(longname));
	for (i = 0; i < 3; i++)
		longname[i * 64 + 63] = '.';
	memset(longname + 192, 'b', 51);
	strcpy(longname + 243, ".com");
	tap_int(strlen(longname), 247, "long name: 247 octets");
	t = table_from(zone_deep);
	(void)orgdomain_walk(longname, lookup_table_lookup, t, &walk);
	tap_ok(walk != NULL && walk->steps[0].outcome ==
	    ORGDOMAIN_STEP_TOO_LONG, "long name: first step skipped");
	tap_int(lookup_table_nqueries(t), walk ? walk->nsteps - 1 : 99,
	    "long name: not sent to the callback");
	orgdomain_walk_free(walk);
	lookup_table_free(t);

	tap_int(orgdomain_walk("a..b", lookup_table_lookup, NULL, &walk),
	    ORGDOMAIN_ERR_DOMAIN, "invalid start");
	tap_ok(walk == NULL, "invalid start: no walk");
	tap_int(orgdomain_walk("example.com", NULL, NULL, &walk),
	    ORGDOMAIN_ERR_CONFIG, "no callback");
	orgdomain_walk_free(NULL);
}

static void
test_find(void)
{
	struct lookup_table *t = table_from(zone_b43);
	struct orgdomain_config cfg = { ORGDOMAIN_TREEWALK, NULL,
	    lookup_table_lookup, t };
	struct orgdomain_walk *walk = NULL;
	enum orgdomain_status err;
	char *org = NULL, *path;

	tap_int(orgdomain_find(&cfg, "x.mega.bank.example", &org, &walk),
	    ORGDOMAIN_OK, "find treewalk: status");
	tap_str(org, "mega.bank.example", "find treewalk: org");
	tap_ok(walk != NULL && walk->nsteps == 3, "find treewalk: walk kept");
	mem_free(org);
	orgdomain_walk_free(walk);

	cfg.method = ORGDOMAIN_PSL;
	tap_int(orgdomain_find(&cfg, "x.example.com", &org, NULL),
	    ORGDOMAIN_ERR_CONFIG, "find psl without a list");
	if ((path = write_temp(mini_psl, sizeof(mini_psl) - 1)) != NULL) {
		cfg.psl = orgdomain_psl_new(path, &err);
		tap_int(orgdomain_find(&cfg, "X.Y.CO.UK", &org, &walk),
		    ORGDOMAIN_OK, "find psl: status");
		tap_str(org, "y.co.uk", "find psl: org");
		tap_ok(walk == NULL, "find psl: no walk");
		mem_free(org);
		orgdomain_psl_free((orgdomain_psl *)cfg.psl);
		unlink(path);
		free(path);
	}
	lookup_table_free(t);
}

/* Allocation failures anywhere in a walk give ERR_NOMEM (or the callback's
 * own TEMPFAIL), never a crash or a leak. */
static void
test_walk_alloc(void)
{
	struct lookup_table *t = table_from(zone_b41);
	struct orgdomain_walk *walk;
	enum orgdomain_status st = ORGDOMAIN_ERR_NOMEM;
	long n, bad = 0;

	for (n = 0; n < 10000; n++) {
		lookup_table_clear_log(t);
		mem_fail_after(n);
		st = orgdomain_walk("a.signing.example.com",
		    lookup_table_lookup, t, &walk);
		mem_fail_after(-1);
		if (st != ORGDOMAIN_ERR_NOMEM && st != ORGDOMAIN_ERR_TEMPFAIL &&
		    st != ORGDOMAIN_OK)
			bad++;
		if ((st == ORGDOMAIN_ERR_NOMEM) != (walk == NULL))
			bad++;
		orgdomain_walk_free(walk);
		if (st == ORGDOMAIN_OK)
			break;
	}
	tap_ok(st == ORGDOMAIN_OK && bad == 0,
	    "walk alloc failures: %ld rounds, %ld bad", n, bad);
	lookup_table_free(t);
}

static void
test_names(void)
{
	int i;

	for (i = ORGDOMAIN_OK; i <= ORGDOMAIN_ERR_NOMEM; i++)
		tap_ok(strcmp(orgdomain_status_name(i), "unknown") != 0 &&
		    strcmp(orgdomain_strerror(i), "unknown organizational "
		    "domain error") != 0, "status %d named", i);
	for (i = ORGDOMAIN_STEP_NO_RECORD; i <= ORGDOMAIN_STEP_NOT_EXISTS; i++)
		tap_ok(strcmp(orgdomain_outcome_name(i), "unknown") != 0,
		    "outcome %d named", i);
	for (i = ORGDOMAIN_RULE_NONE; i <= ORGDOMAIN_RULE_PSL; i++)
		tap_ok(strcmp(orgdomain_rule_name(i), "unknown") != 0,
		    "rule %d named", i);
	tap_str(orgdomain_method_name(ORGDOMAIN_TREEWALK), "treewalk",
	    "method name treewalk");
	tap_str(orgdomain_method_name(ORGDOMAIN_PSL), "psl", "method name psl");
	{
		enum orgdomain_method m = ORGDOMAIN_TREEWALK;

		tap_ok(orgdomain_method_parse("psl", &m) == 0 &&
		    m == ORGDOMAIN_PSL, "parse psl");
		tap_ok(orgdomain_method_parse("PSL2", &m) == -1,
		    "parse rejects unknown");
	}
}

int
main(void)
{
	test_psl_vectors();
	test_psl_mini();
	test_walks();
	test_walk_steps();
	test_find();
	test_walk_alloc();
	test_names();
	return tap_done();
}
