/*
 * test_align.c - Identifier Alignment: RFC 9989 Appendix B.1 and B.4,
 * the table of section 4.4, and the OpenDMARC regressions (strict mode
 * with a subdomain signer; relaxed mode with a public suffix).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "policy/align.h"
#include "policy/lookup_table.h"
#include "tap.h"

#define TW	ORGDOMAIN_TREEWALK
#define PSL	ORGDOMAIN_PSL
#define R	DMARC_ALIGN_RELAXED
#define S	DMARC_ALIGN_STRICT
#define ANY	(-1)		/* do not check the query count */

static const char zone[] =
	"_dmarc.example.com TXT v=DMARC1; p=none\n"
	"_dmarc.signing.example.com TXT v=DMARC1; p=none\n"
	"_dmarc.bank.example TXT v=DMARC1; p=reject; psd=y\n"
	"_dmarc.giant.bank.example TXT v=DMARC1; p=none\n"
	"_dmarc.co.uk TXT v=DMARC1; p=reject; psd=y\n"
	"_dmarc.a.co.uk TXT v=DMARC1; p=none\n"
	"_dmarc.b.co.uk TXT v=DMARC1; p=none\n"
	"_dmarc.test TXT v=DMARC1; p=reject; psd=y\n"
	"_dmarc.x.test TXT v=DMARC1; p=none\n"
	"_dmarc.example.net TXT v=DMARC1; p=none\n"
	"_dmarc.mail.example.net TXT v=DMARC1; p=none; psd=n\n"
	"_dmarc.example.org TXT !tempfail\n"
	"_dmarc.example.edu TXT !permfail\n";

static const char mini_psl[] =
	"// ===BEGIN ICANN DOMAINS===\n"
	"com\nnet\norg\nedu\nuk\nco.uk\ntest\nexample\nbank.example\n"
	"// ===END ICANN DOMAINS===\n";

enum which { SPF, DKIM };

static const struct acase {
	const char *name;
	enum orgdomain_method method;
	enum which which;
	const char *author, *author_org, *ident;
	enum dmarc_alignment mode;
	enum align_status want;
	int queries;
} cases[] = {
	/* RFC 9989 B.1.1 (SPF) */
	{ "B.1.1 ex 1: SPF strict", TW, SPF, "example.com", NULL,
	    "example.com", S, ALIGN_PASS, 0 },
	{ "B.1.1 ex 1: SPF strict (psl)", PSL, SPF, "example.com", NULL,
	    "example.com", S, ALIGN_PASS, 0 },
	{ "B.1.1 ex 2: SPF relaxed", TW, SPF, "example.com", NULL,
	    "child.example.com", R, ALIGN_PASS, 5 },
	{ "B.1.1 ex 2: SPF relaxed (psl)", PSL, SPF, "example.com", NULL,
	    "child.example.com", R, ALIGN_PASS, 0 },
	{ "B.1.1 ex 2 under strict: not aligned", TW, SPF, "example.com", NULL,
	    "child.example.com", S, ALIGN_FAIL, 0 },
	{ "B.1.1 ex 3: no SPF alignment", TW, SPF, "child.example.com", NULL,
	    "example.net", R, ALIGN_FAIL, 3 },
	{ "B.1.1 ex 3: no SPF alignment (psl)", PSL, SPF, "child.example.com",
	    NULL, "example.net", R, ALIGN_FAIL, 0 },
	/* RFC 9989 B.1.2 (DKIM) */
	{ "B.1.2 ex 1: DKIM strict", TW, DKIM, "example.com", NULL,
	    "example.com", S, ALIGN_PASS, 0 },
	{ "B.1.2 ex 2: DKIM relaxed", TW, DKIM, "child.example.com", NULL,
	    "example.com", R, ALIGN_PASS, 5 },
	{ "B.1.2 ex 2: DKIM relaxed (psl)", PSL, DKIM, "child.example.com",
	    NULL, "example.com", R, ALIGN_PASS, 0 },
	{ "B.1.2 ex 3: no DKIM alignment", TW, DKIM, "child.example.com",
	    NULL, "example.net", R, ALIGN_FAIL, 3 },
	{ "B.1.2 ex 3: no DKIM alignment (psl)", PSL, DKIM,
	    "child.example.com", NULL, "example.net", R, ALIGN_FAIL, 0 },
	/* RFC 9989 section 4.4, Table 1 */
	{ "4.4 table row 1: relaxed", TW, DKIM, "news.example.com", NULL,
	    "foo.example.com", R, ALIGN_PASS, 6 },
	{ "4.4 table row 1: relaxed (psl)", PSL, DKIM, "news.example.com",
	    NULL, "foo.example.com", R, ALIGN_PASS, 0 },
	{ "4.4 table row 2: strict", TW, DKIM, "news.example.com", NULL,
	    "news.example.com", S, ALIGN_PASS, 0 },
	{ "4.4 table row 3: none", TW, DKIM, "news.example.com", NULL,
	    "foo.example.net", R, ALIGN_FAIL, 3 },
	/* RFC 9989 B.4.1 and B.4.3 */
	{ "B.4.1 DKIM signing.example.com", TW, DKIM, "example.com", NULL,
	    "signing.example.com", R, ALIGN_PASS, 5 },
	{ "B.4.3 SPF mail.giant.bank.example aligned", TW, SPF,
	    "giant.bank.example", NULL, "mail.giant.bank.example", R,
	    ALIGN_PASS, 5 },
	{ "B.4.3 DKIM mail.mega.bank.example not aligned", TW, DKIM,
	    "giant.bank.example", NULL, "mail.mega.bank.example", R,
	    ALIGN_FAIL, 2 },
	{ "B.4.3 with a list that knows bank.example (psl)", PSL, DKIM,
	    "giant.bank.example", NULL, "mail.mega.bank.example", R,
	    ALIGN_FAIL, 0 },
	/* OpenDMARC regressions */
	{ "strict: subdomain signer fails", TW, DKIM, "example.com", NULL,
	    "mail.example.com", S, ALIGN_FAIL, 0 },
	{ "strict: subdomain signer fails (psl)", PSL, DKIM, "example.com",
	    NULL, "mail.example.com", S, ALIGN_FAIL, 0 },
	{ "strict: parent signer fails", TW, DKIM, "mail.example.com", NULL,
	    "example.com", S, ALIGN_FAIL, 0 },
	{ "relaxed: d=co.uk vs a.co.uk", TW, DKIM, "a.co.uk", NULL, "co.uk",
	    R, ALIGN_FAIL, 2 },
	{ "relaxed: d=co.uk vs a.co.uk (psl)", PSL, DKIM, "a.co.uk", NULL,
	    "co.uk", R, ALIGN_FAIL, 0 },
	{ "relaxed: d=uk vs a.co.uk (psl)", PSL, DKIM, "a.co.uk", NULL, "uk",
	    R, ALIGN_FAIL, 0 },
	{ "relaxed: d=test vs x.test", TW, DKIM, "x.test", NULL, "test", R,
	    ALIGN_FAIL, 2 },
	{ "relaxed: d=test vs x.test (psl)", PSL, DKIM, "x.test", NULL,
	    "test", R, ALIGN_FAIL, 0 },
	{ "relaxed: SPF co.uk vs mail.a.co.uk (psl)", PSL, SPF,
	    "mail.a.co.uk", NULL, "co.uk", R, ALIGN_FAIL, 0 },
	{ "relaxed: siblings under a suffix", TW, DKIM, "b.co.uk", NULL,
	    "a.co.uk", R, ALIGN_FAIL, 2 },
	{ "relaxed: siblings under a suffix (psl)", PSL, DKIM, "b.co.uk",
	    NULL, "a.co.uk", R, ALIGN_FAIL, 0 },
	{ "relaxed: author is a suffix, subdomain signer (psl)", PSL, DKIM,
	    "co.uk", NULL, "a.co.uk", R, ALIGN_FAIL, 0 },
	{ "identical names align even when a suffix (psl)", PSL, DKIM,
	    "co.uk", NULL, "co.uk", R, ALIGN_PASS, 0 },
	/* psd=n makes a subdomain its own Organizational Domain */
	{ "psd=n subdomain is not aligned with its parent", TW, DKIM,
	    "example.net", NULL, "x.mail.example.net", R, ALIGN_FAIL, 4 },
	{ "psd=n: the psl method aligns them", PSL, DKIM, "example.net",
	    NULL, "x.mail.example.net", R, ALIGN_PASS, 0 },
	/* Boundary normalisation */
	{ "uppercase and trailing dots", TW, DKIM, "EXAMPLE.COM.", NULL,
	    "Signing.Example.Com.", R, ALIGN_PASS, 5 },
	{ "uppercase strict", TW, SPF, "Example.COM", NULL, "eXample.com.",
	    S, ALIGN_PASS, 0 },
	{ "U-label author, A-label signer", PSL, DKIM,
	    "b\xc3\xbc" "cher.example.com", NULL,
	    "xn--bcher-kva.example.com", S, ALIGN_PASS, 0 },
	/* Known author Organizational Domain */
	{ "author org given: one walk only", TW, DKIM, "news.example.com",
	    "example.com", "foo.example.com", R, ALIGN_PASS, 3 },
	{ "author org given, identifier outside: no DNS", TW, DKIM,
	    "news.example.com", "example.com", "example.net", R, ALIGN_FAIL,
	    0 },
	/* Errors */
	{ "author walk tempfails", TW, DKIM, "a.example.org", NULL,
	    "b.example.org", R, ALIGN_ERR_TEMPFAIL, 2 },
	{ "identifier walk permfails", TW, DKIM, "example.edu",
	    "example.edu", "b.example.edu", R, ALIGN_ERR_PERMFAIL, 2 },
	{ "strict needs no DNS even when it fails", TW, DKIM,
	    "a.example.org", NULL, "b.example.org", S, ALIGN_FAIL, 0 },
	{ "invalid identifier", TW, DKIM, "example.com", NULL, "bad..name",
	    R, ALIGN_ERR_DOMAIN, 0 },
	{ "invalid author", TW, SPF, "", NULL, "example.com", R,
	    ALIGN_ERR_DOMAIN, 0 },
	{ "NULL identifier", TW, SPF, "example.com", NULL, NULL, R,
	    ALIGN_ERR_DOMAIN, 0 },
};

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

static void
test_cases(struct lookup_table *t, const orgdomain_psl *psl)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct acase *c = &cases[i];
		struct orgdomain_config cfg = { c->method, psl,
		    lookup_table_lookup, t };
		enum align_status st;

		lookup_table_clear_log(t);
		if (c->which == DKIM)
			st = align_check_dkim(&cfg, c->author, c->author_org,
			    c->ident, c->mode);
		else
			st = align_check_spf(&cfg, c->author, c->author_org,
			    c->ident, c->mode);
		tap_int(st, c->want, "%s: %s", c->name, align_status_name(st));
		if (c->queries != ANY)
			tap_int(lookup_table_nqueries(t), c->queries,
			    "%s: %d DNS queries", c->name, c->queries);
	}
}

static void
test_misc(struct lookup_table *t)
{
	struct orgdomain_config cfg = { ORGDOMAIN_PSL, NULL,
	    lookup_table_lookup, t };
	long n, bad = 0;
	enum align_status st = ALIGN_ERR_NOMEM;

	tap_int(align_check_dkim(&cfg, "a.example.com", NULL, "b.example.com",
	    R), ALIGN_ERR_CONFIG, "psl without a list");
	tap_int(align_check_dkim(&cfg, "a.example.com", NULL, "a.example.com",
	    R), ALIGN_PASS, "identical names need no list");

	/* Allocation failures: a clean ALIGN_ERR_NOMEM, then the answer. */
	cfg.method = ORGDOMAIN_TREEWALK;
	for (n = 0; n < 10000; n++) {
		lookup_table_clear_log(t);
		mem_fail_after(n);
		st = align_check_dkim(&cfg, "mail.giant.bank.example", NULL,
		    "x.giant.bank.example", R);
		mem_fail_after(-1);
		if (st != ALIGN_ERR_NOMEM && st != ALIGN_ERR_TEMPFAIL &&
		    st != ALIGN_PASS)
			bad++;
		if (st == ALIGN_PASS)
			break;
	}
	tap_ok(st == ALIGN_PASS && bad == 0, "alloc failures: %ld rounds, "
	    "%ld bad", n, bad);

	for (n = ALIGN_PASS; n <= ALIGN_ERR_NOMEM; n++)
		tap_ok(strcmp(align_status_name(n), "unknown") != 0 &&
		    strcmp(align_strerror(n), "unknown alignment status") != 0,
		    "status %ld named: %s", n, align_status_name(n));
	tap_str(align_mode_name(DMARC_ALIGN_STRICT), "s", "mode name s");
	tap_str(align_mode_name(DMARC_ALIGN_RELAXED), "r", "mode name r");
}

int
main(void)
{
	struct lookup_table *t = lookup_table_new();
	orgdomain_psl *psl = load_mini_psl();

	tap_ok(t != NULL && lookup_table_load(t, zone, sizeof(zone) - 1,
	    NULL) == LOOKUP_TABLE_OK, "zone loads");
	tap_ok(psl != NULL, "small public suffix list loads");
	if (t == NULL || psl == NULL)
		return tap_done();
	test_cases(t, psl);
	test_misc(t);
	orgdomain_psl_free(psl);
	lookup_table_free(t);
	return tap_done();
}
