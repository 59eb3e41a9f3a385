/*
 * test_grade.c - table-driven tests of the DMARC record grader.
 *
 * Rows: the seed's seven configurations and six issues with the outcome
 * the seed describes, RFC 9989 additions, inheritance, classification of
 * TXT strings.  Every dns_snippet any test produces is graded again and
 * must be a valid record; every code of the table must be produced by
 * some test.  Then the JSON shape (golden strings), bounds and an
 * allocation-failure loop.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "policy/grade.h"
#include "tap.h"

#define RUA	"rua=mailto:dmarc@example.com"

struct gcase {
	const char *name;
	const char *domain, *found_at, *org;
	const char *txts[4];		/* NULL-terminated */
	int	 score;
	int	 present, valid;
	const char *policy;		/* NULL: not valid */
	const char *subpolicy;
	const char *codes;		/* every code, in result order */
	const char *snip_code;		/* optional snippet check */
	const char *snip_name, *snip_value;
};

static const struct gcase cases[] = {
	/* seed 003, "Common DMARC Configurations" 1-7 */
	{ "seed config 1 monitoring", "example.com", NULL, NULL,
	  { "v=DMARC1; p=none; " RUA }, 85, 1, 1, "none", "none",
	  "dmarc_policy_none", "dmarc_policy_none", "_dmarc.example.com",
	  "v=DMARC1; p=quarantine; " RUA },
	{ "seed config 2 quarantine", "example.com", NULL, NULL,
	  { "v=DMARC1; p=quarantine; pct=100; " RUA }, 95, 1, 1,
	  "quarantine", "quarantine",
	  "dmarc_policy_quarantine dmarc_pct_historic",
	  "dmarc_policy_quarantine", "_dmarc.example.com",
	  "v=DMARC1; p=reject; pct=100; " RUA },
	{ "seed config 3 reject", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; pct=100; " RUA }, 100, 1, 1, "reject",
	  "reject", "dmarc_pct_historic", "dmarc_pct_historic",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "seed config 4 strict", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; adkim=s; aspf=s; " RUA }, 100, 1, 1,
	  "reject", "reject", "dmarc_strict_alignment", NULL, NULL, NULL },
	{ "seed config 5 forensic", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; " RUA "; ruf=mailto:forensic@example.com; "
	    "fo=1" }, 100, 1, 1, "reject", "reject", "dmarc_ruf_privacy",
	  NULL, NULL, NULL },
	{ "seed config 6 subdomain policy", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; sp=quarantine; " RUA }, 100, 1, 1, "reject",
	  "quarantine", "dmarc_sp_weaker dmarc_np_missing", "dmarc_np_missing",
	  "_dmarc.example.com",
	  "v=DMARC1; p=reject; sp=quarantine; np=reject; " RUA },
	{ "seed config 7 two rua", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; " RUA ",mailto:reports@dmarcanalyzer.com" },
	  100, 1, 1, "reject", "reject", "dmarc_rua_external",
	  "dmarc_rua_external", "example.com._report._dmarc.dmarcanalyzer.com",
	  "v=DMARC1;" },
	{ "seed model response", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; " RUA }, 100, 1, 1, "reject", "reject", "",
	  NULL, NULL, NULL },

	/* seed 003, "Common DMARC Issues" 1-6 */
	{ "seed issue 1 missing", "example.com", NULL, NULL, { NULL }, 60,
	  0, 0, NULL, NULL, "dmarc_missing", "dmarc_missing",
	  "_dmarc.example.com", "v=DMARC1; p=none; " RUA },
	{ "seed issue 2 policy none", "example.com", NULL, NULL,
	  { "v=DMARC1; p=none; " RUA }, 85, 1, 1, "none", "none",
	  "dmarc_policy_none", "dmarc_policy_none", "_dmarc.example.com",
	  "v=DMARC1; p=quarantine; " RUA },
	{ "seed issue 3 quarantine", "example.com", NULL, NULL,
	  { "v=DMARC1; p=quarantine; " RUA }, 95, 1, 1, "quarantine",
	  "quarantine", "dmarc_policy_quarantine", "dmarc_policy_quarantine",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "seed issue 4 no rua", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject" }, 95, 1, 1, "reject", "reject",
	  "dmarc_no_rua", "dmarc_no_rua", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "seed issue 5 low pct", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; pct=50; " RUA }, 95, 1, 1, "reject",
	  "reject", "dmarc_low_pct", "dmarc_low_pct", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "seed issue 6 missing v", "example.com", NULL, NULL,
	  { "p=reject; " RUA }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_v_missing", "dmarc_invalid",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "seed issue 6 wrong version", "example.com", NULL, NULL,
	  { "v=DMARC2; p=reject" }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_v_invalid", "dmarc_invalid",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "seed issue 6 invalid policy", "example.com", NULL, NULL,
	  { "v=DMARC1; p=block" }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_p_invalid dmarc_no_usable_policy",
	  "dmarc_invalid", "_dmarc.example.com", "v=DMARC1; p=none; " RUA },
	{ "seed issue 6 missing semicolon", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject " RUA }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_no_usable_policy dmarc_missing_semicolon",
	  "dmarc_invalid", "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },

	/* More broken records */
	{ "lowercase version", "example.com", NULL, NULL,
	  { "v=dmarc1; p=reject; " RUA }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_v_invalid", "dmarc_invalid",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "version missing semicolon", "example.com", NULL, NULL,
	  { "v=DMARC1 p=reject; " RUA }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_missing_semicolon", "dmarc_invalid",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "quoted record", "example.com", NULL, NULL,
	  { "\"v=DMARC1; p=quarantine; " RUA "\"" }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_v_missing dmarc_uri_invalid",
	  "dmarc_invalid", "_dmarc.example.com",
	  "v=DMARC1; p=quarantine; " RUA },
	{ "version not first", "example.com", NULL, NULL,
	  { "p=reject; v=DMARC1; " RUA }, 60, 1, 0, NULL, NULL,
	  "dmarc_invalid dmarc_v_not_first", "dmarc_invalid",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "too long", "example.com", NULL, NULL, { NULL }, 60, 1, 0, NULL,
	  NULL, "dmarc_invalid dmarc_record_too_long", "dmarc_invalid",
	  "_dmarc.example.com", "v=DMARC1; p=none; " RUA },
	{ "invalid p acts as none", "example.com", NULL, NULL,
	  { "v=DMARC1; p=block; rua=mailto:d@example.com" }, 80, 1, 1,
	  "none", "none",
	  "dmarc_treated_as_none dmarc_policy_none dmarc_p_invalid",
	  "dmarc_policy_none", "_dmarc.example.com",
	  "v=DMARC1; p=quarantine; rua=mailto:d@example.com" },
	{ "syntax errors capped", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; " RUA "; adkim=x; aspf=y; fo=9; rf=z; ri=q" },
	  85, 1, 1, "reject", "reject", "dmarc_adkim_invalid "
	  "dmarc_aspf_invalid dmarc_fo_invalid dmarc_rf_invalid "
	  "dmarc_ri_invalid", "dmarc_adkim_invalid", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "missing p", "example.com", NULL, NULL, { "v=DMARC1; " RUA }, 85, 1,
	  1, "none", "none", "dmarc_policy_none dmarc_p_missing",
	  "dmarc_p_missing", "_dmarc.example.com", "v=DMARC1; p=none; " RUA },
	{ "bare v=DMARC1", "example.com", NULL, NULL, { "v=DMARC1" }, 80, 1, 1,
	  "none", "none", "dmarc_policy_none dmarc_no_rua dmarc_p_missing",
	  "dmarc_no_rua", "_dmarc.example.com", "v=DMARC1; p=none; " RUA },

	/* What else can be at _dmarc */
	{ "two DMARC records", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; " RUA, "v=DMARC1; p=none" }, 60, 1, 0, NULL,
	  NULL, "dmarc_duplicate", "dmarc_duplicate", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "two DMARC records, first broken", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject " RUA, "v=DMARC1; p=none" }, 60, 1, 0, NULL,
	  NULL, "dmarc_duplicate", "dmarc_duplicate", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "SPF at _dmarc only", "example.com", NULL, NULL,
	  { "v=spf1 -all" }, 60, 0, 0, NULL, NULL,
	  "dmarc_missing dmarc_spf_at_dmarc", NULL, NULL, NULL },
	{ "SPF beside DMARC", "example.com", NULL, NULL,
	  { "v=spf1 include:_spf.example.com ~all",
	    "v=DMARC1; p=reject; " RUA }, 100, 1, 1, "reject", "reject",
	  "dmarc_spf_at_dmarc", NULL, NULL, NULL },
	{ "other TXT beside DMARC", "example.com", NULL, NULL,
	  { "google-site-verification=abc123", "v=DMARC1; p=reject; " RUA },
	  100, 1, 1, "reject", "reject", "dmarc_foreign_txt", NULL, NULL,
	  NULL },
	{ "broken DMARC beside DMARC", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; " RUA, "v=dmarc1; p=none" }, 100, 1, 1,
	  "reject", "reject", "dmarc_foreign_txt", NULL, NULL, NULL },
	{ "DKIM key at _dmarc", "example.com", NULL, NULL,
	  { "v=DKIM1; k=rsa; p=MIIBIjANBg" }, 60, 0, 0, NULL, NULL,
	  "dmarc_missing dmarc_foreign_txt", NULL, NULL, NULL },
	{ "empty TXT", "example.com", NULL, NULL, { "" }, 60, 0, 0, NULL,
	  NULL, "dmarc_missing dmarc_foreign_txt", NULL, NULL, NULL },

	/* RFC 9989 additions */
	{ "testing", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; t=y; " RUA }, 95, 1, 1, "reject", "reject",
	  "dmarc_testing", "dmarc_testing", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "testing has no effect on none", "example.com", NULL, NULL,
	  { "v=DMARC1; p=none; t=y; " RUA }, 85, 1, 1, "none", "none",
	  "dmarc_policy_none", NULL, NULL, NULL },
	{ "rfc9989 B.2.5 testing", "test.example.com", NULL, NULL,
	  { "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
	    "mailto:tld-test@thirdparty.example.net; t=y" }, 90, 1, 1,
	  "quarantine", "quarantine",
	  "dmarc_policy_quarantine dmarc_testing dmarc_rua_external",
	  "dmarc_rua_external",
	  "test.example.com._report._dmarc.thirdparty.example.net",
	  "v=DMARC1;" },
	{ "rfc9989 B.2.3 third-party ruf", "example.com", NULL, NULL,
	  { "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
	    "ruf=mailto:auth-reports@thirdparty.example.net" }, 85, 1, 1,
	  "none", "none",
	  "dmarc_policy_none dmarc_ruf_external dmarc_ruf_privacy",
	  "dmarc_ruf_external",
	  "example.com._report._dmarc.thirdparty.example.net", "v=DMARC1;" },
	{ "rfc9989 B.2.3 authorization record graded", "example.com", NULL,
	  NULL, { "v=DMARC1;" }, 80, 1, 1, "none", "none",
	  "dmarc_policy_none dmarc_no_rua dmarc_p_missing", NULL, NULL,
	  NULL },
	{ "pct=0 with p=none", "example.com", NULL, NULL,
	  { "v=DMARC1; p=none; pct=0; " RUA }, 85, 1, 1, "none", "none",
	  "dmarc_policy_none dmarc_pct_historic", "dmarc_pct_historic",
	  "_dmarc.example.com", "v=DMARC1; p=none; " RUA },
	{ "historic rf and ri", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; rf=afrf; ri=86400; " RUA }, 100, 1, 1,
	  "reject", "reject", "dmarc_historic_tag", "dmarc_historic_tag",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "np weaker", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; np=none; " RUA }, 100, 1, 1, "reject",
	  "reject", "dmarc_np_weaker", "dmarc_np_weaker", "_dmarc.example.com",
	  "v=DMARC1; p=reject; np=reject; " RUA },
	{ "sp none", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; sp=none; " RUA }, 100, 1, 1, "reject", "none",
	  "dmarc_sp_weaker dmarc_np_missing", "dmarc_sp_weaker",
	  "_dmarc.example.com", "v=DMARC1; p=reject; " RUA },
	{ "all three set", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; sp=reject; np=reject; " RUA }, 100, 1, 1,
	  "reject", "reject", "", NULL, NULL, NULL },
	{ "fo without ruf", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; fo=1; " RUA }, 100, 1, 1, "reject", "reject",
	  "dmarc_fo_without_ruf", "dmarc_fo_without_ruf", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "psd=y on an ordinary domain", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; psd=y; " RUA }, 90, 1, 1, "reject", "reject",
	  "dmarc_psd_misuse", "dmarc_psd_misuse", "_dmarc.example.com",
	  "v=DMARC1; p=reject; " RUA },
	{ "psd=y with org domain known", "example.com", NULL, "example.com",
	  { "v=DMARC1; p=reject; psd=y; " RUA }, 90, 1, 1, "reject", "reject",
	  "dmarc_psd_misuse", NULL, NULL, NULL },
	{ "psd=y on a public suffix", "co.uk", NULL, NULL,
	  { "v=DMARC1; p=reject; psd=y; rua=mailto:d@co.uk" }, 100, 1, 1,
	  "reject", "reject", "", NULL, NULL, NULL },
	{ "rua inside the org (org known)", "mail.example.com", NULL,
	  "example.com", { "v=DMARC1; p=reject; "
	    "rua=mailto:d@reports.example.com" }, 100, 1, 1, "reject",
	  "reject", "", NULL, NULL, NULL },
	{ "rua inside the org (guessed)", "a.example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; rua=mailto:d@b.example.com" }, 100, 1, 1,
	  "reject", "reject", "", NULL, NULL, NULL },
	{ "rua outside, ccSLD guessed", "example.co.uk", NULL, NULL,
	  { "v=DMARC1; p=reject; rua=mailto:d@other.co.uk,"
	    "mailto:e@Other.CO.uk" }, 100, 1, 1, "reject", "reject",
	  "dmarc_rua_external", "dmarc_rua_external",
	  "example.co.uk._report._dmarc.other.co.uk", "v=DMARC1;" },
	{ "https rua", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; rua=https://r.example.com/d" }, 100, 1, 1,
	  "reject", "reject", "dmarc_uri_scheme_unsupported", NULL, NULL,
	  NULL },
	{ "invalid rua only", "example.com", NULL, NULL,
	  { "v=DMARC1; p=reject; rua=dmarc@example.com" }, 90, 1, 1, "reject",
	  "reject", "dmarc_uri_no_scheme dmarc_no_rua", "dmarc_uri_no_scheme",
	  "_dmarc.example.com", "v=DMARC1; p=reject" },

	/* Inheritance (RFC 9989 section 4.10.1) */
	{ "inherited from org", "mail.example.com", "example.com", NULL,
	  { "v=DMARC1; p=reject; rua=mailto:d@example.com" }, 100, 1, 1,
	  "reject", "reject", "dmarc_inherited", "dmarc_inherited",
	  "_dmarc.mail.example.com",
	  "v=DMARC1; p=reject; rua=mailto:d@example.com" },
	{ "inherited sp=none", "mail.example.com", "example.com", NULL,
	  { "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com" }, 85, 1,
	  1, "reject", "none", "dmarc_policy_none dmarc_sp_weaker "
	  "dmarc_np_missing dmarc_inherited", "dmarc_policy_none",
	  "_dmarc.example.com",
	  "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com" },
	{ "rfc9989 B.4.3 inherited from PSD", "giant.bank.example",
	  "bank.example", "giant.bank.example",
	  { "v=DMARC1; p=reject; psd=y" }, 85, 1, 1, "reject", "reject",
	  "dmarc_no_rua dmarc_inherited_from_psd",
	  "dmarc_inherited_from_psd", "_dmarc.giant.bank.example",
	  "v=DMARC1; p=none; rua=mailto:dmarc@giant.bank.example" },
	{ "missing at both", "mail.example.com", "example.com", NULL,
	  { NULL }, 60, 0, 0, NULL, NULL, "dmarc_missing", "dmarc_missing",
	  "_dmarc.mail.example.com",
	  "v=DMARC1; p=none; rua=mailto:dmarc@mail.example.com" },
	{ "IDN domain", "B\xc3\xbc" "cher.example", NULL, NULL, { NULL }, 60,
	  0, 0, NULL, NULL, "dmarc_missing", "dmarc_missing",
	  "_dmarc.xn--bcher-kva.example",
	  "v=DMARC1; p=none; rua=mailto:dmarc@xn--bcher-kva.example" },
};

/* Records that, between them, make record_parse() use every code. */
static const char *const coverage[] = {
	"  v=DMARC1; p=reject; " RUA,
	"v=DMARC1;; p=reject; " RUA,
	"v=DMARC1; p=reject; x=1; " RUA,
	"v=DMARC1; p=reject; p=none; " RUA,
	"v=DMARC1; p=reject; adkim=; " RUA,
	"v=DMARC1; p=reject; sp=x; " RUA,
	"v=DMARC1; p=reject; np=x",
	"v=DMARC1; p=reject; psd=x; t=x; pct=x; " RUA,
	"v=DMARC1; p=reject; pct=101; " RUA,
	"v=DMARC1; p=reject; rua=mailto:a@example.com,,mailto:a@b!x",
	"v=DMARC1; p=reject; rua=mailto:a@example.com!1k,mailto:b@x.y!99999999999t",
	"v=DMARC1; p=reject; rua=mailto:a b; ruf=mailto:nohost",
	"v=DMARC1; p=reject; rua:mailto:a@example.com",
	"v=DMARC1; p=reject; rua=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s",
};

static bool seen_code[256];

static void
note(const struct grade_result *g)
{
	size_t n, i, k;
	const struct grade_code_info *t = grade_code_table(&n);

	for (i = 0; i < g->nissues; i++)
		for (k = 0; k < n && k < 256; k++)
			if (strcmp(t[k].code, g->issues[i].code) == 0)
				seen_code[k] = true;
}

static int nsnippets;

/* Every snippet must be a complete record the grader calls valid. */
static void
check_snippets(const char *name, const struct grade_result *g)
{
	size_t i;

	for (i = 0; i < g->nissues; i++) {
		const struct grade_snippet *s = &g->issues[i].snippet;
		struct grade_input in;
		struct grade_result *g2 = NULL;
		const char *txts[1];

		if (s->name == NULL)
			continue;
		nsnippets++;
		memset(&in, 0, sizeof(in));
		in.domain = g->policy_domain;
		txts[0] = s->value;
		in.txts = txts;
		in.ntxt = 1;
		tap_ok(grade_check(&in, &g2) == GRADE_OK && g2->valid &&
		    g2->status == RECORD_OK, "%s: snippet of %s is valid: %s",
		    name, g->issues[i].code, s->value);
		tap_ok(strncmp(s->name, "_dmarc.", 7) == 0 ||
		    strstr(s->name, "._report._dmarc.") != NULL,
		    "%s: snippet name %s is a DMARC name", name, s->name);
		grade_result_free(g2);
	}
}

static void
codes_of(const struct grade_result *g, char *buf, size_t n)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < g->nissues && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s",
		    i > 0 ? " " : "", g->issues[i].code);
}

static char *toolong;

static void
run_case(const struct gcase *c)
{
	struct grade_input in;
	struct grade_result *g;
	const char *longtxt[2] = { toolong, NULL };
	char codes[2048];
	size_t i, n = 0;
	int sum = 0;

	memset(&in, 0, sizeof(in));
	in.domain = c->domain;
	in.found_at = c->found_at;
	in.org_domain = c->org;
	if (strcmp(c->name, "too long") == 0)
		in.txts = longtxt;
	else
		in.txts = c->txts;
	while (in.txts[n] != NULL)
		n++;
	in.ntxt = n;
	if (grade_check(&in, &g) != GRADE_OK) {
		tap_ok(0, "%s: grade_check", c->name);
		return;
	}
	tap_int(g->score, c->score, "%s: score", c->name);
	tap_int(g->present, c->present, "%s: present", c->name);
	tap_int(g->valid, c->valid, "%s: valid", c->name);
	tap_str(g->policy != DMARC_POLICY_UNSPEC ?
	    dmarc_policy_name(g->policy) : NULL, c->policy, "%s: policy",
	    c->name);
	tap_str(g->subdomain_policy != DMARC_POLICY_UNSPEC ?
	    dmarc_policy_name(g->subdomain_policy) : NULL, c->subpolicy,
	    "%s: subdomain_policy", c->name);
	codes_of(g, codes, sizeof(codes));
	tap_str(codes, c->codes, "%s: codes", c->name);
	for (i = 0; i < g->nissues; i++) {
		const struct grade_issue *is = &g->issues[i];

		sum += is->weight;
		tap_ok(is->message != NULL && strlen(is->message) > 20 &&
		    is->remediation != NULL && strlen(is->remediation) > 10 &&
		    grade_code_lookup(is->code) != NULL,
		    "%s: issue %s has a message, a remediation and a table row",
		    c->name, is->code);
		if (i > 0)
			tap_ok(g->issues[i - 1].severity <= is->severity,
			    "%s: issues sorted by severity", c->name);
	}
	tap_int(100 - sum, g->score, "%s: weights add up to the score",
	    c->name);
	if (c->snip_code != NULL) {
		const struct grade_issue *is = NULL;

		for (i = 0; i < g->nissues && is == NULL; i++)
			if (strcmp(g->issues[i].code, c->snip_code) == 0)
				is = &g->issues[i];
		tap_str(is != NULL ? is->snippet.name : "(no issue)",
		    c->snip_name, "%s: snippet name of %s", c->name,
		    c->snip_code);
		tap_str(is != NULL ? is->snippet.value : "(no issue)",
		    c->snip_value, "%s: snippet value of %s", c->name,
		    c->snip_code);
	}
	note(g);
	check_snippets(c->name, g);
	grade_result_free(g);
}

static void
test_coverage(void)
{
	size_t i, n;
	const struct grade_code_info *t;

	for (i = 0; i < sizeof(coverage) / sizeof(coverage[0]); i++) {
		struct grade_input in;
		struct grade_result *g;

		memset(&in, 0, sizeof(in));
		in.domain = "example.com";
		in.txts = &coverage[i];
		in.ntxt = 1;
		tap_ok(grade_check(&in, &g) == GRADE_OK, "coverage %zu grades",
		    i);
		note(g);
		check_snippets(coverage[i], g);
		grade_result_free(g);
	}
	t = grade_code_table(&n);
	for (i = 0; i < n; i++) {
		size_t k;

		tap_ok(seen_code[i], "grade code %s is produced by a test",
		    t[i].code);
		tap_ok(t[i].source != NULL && t[i].remedy != NULL &&
		    t[i].weight >= 0 && t[i].weight <= 40,
		    "grade code %s has a source, a remedy and a weight",
		    t[i].code);
		if (t[i].record_code == NULL)
			continue;
		for (k = 0; record_issue_codes[k] != NULL; k++)
			if (strcmp(record_issue_codes[k], t[i].record_code) == 0)
				break;
		tap_ok(record_issue_codes[k] != NULL, "%s maps a parser code",
		    t[i].code);
	}
	/* and every parser code has a row */
	for (i = 0; record_issue_codes[i] != NULL; i++) {
		const struct grade_code_info *ci = NULL;
		size_t k;

		for (k = 0; k < n && ci == NULL; k++)
			if (t[k].record_code != NULL &&
			    strcmp(t[k].record_code, record_issue_codes[i]) == 0)
				ci = &t[k];
		tap_ok(ci != NULL, "parser code %s has a grade row",
		    record_issue_codes[i]);
	}
}

/* The table in grade.c's top comment lists every row of codes[]. */
static void
test_table_comment(void)
{
	const char *top = getenv("top_srcdir");
	const struct grade_code_info *t;
	char path[4096], line[256], *src;
	size_t i, n, len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy/grade.c", top ? top : ".");
	if ((f = fopen(path, "r")) == NULL) {
		tap_diag("%s not found: comment table not checked", path);
		return;
	}
	src = malloc(1 << 20);
	len = fread(src, 1, (1 << 20) - 1, f);
	src[len] = '\0';
	fclose(f);
	t = grade_code_table(&n);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), " * %-29s %-8s %3d   %s\n",
		    t[i].code, grade_severity_name(t[i].severity), t[i].weight,
		    t[i].source);
		tap_ok(strstr(src, line) != NULL,
		    "grade.c comment table has the row of %s", t[i].code);
	}
	free(src);
}

static char *
json_of(const struct grade_result *g)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb, false);
	grade_write_json(g, &j);
	return strbuf_steal(&sb);
}

static void
test_json(void)
{
	static const char want_reject[] =
	    "{\"dmarc\":{\"present\":true,\"valid\":true,"
	    "\"record\":\"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\","
	    "\"policy\":\"reject\",\"subdomain_policy\":\"reject\","
	    "\"percentage\":100,"
	    "\"aggregate_reports\":[\"mailto:dmarc@example.com\"],"
	    "\"failure_reports\":[],\"np\":\"reject\","
	    "\"effective_policy\":\"reject\",\"adkim\":\"r\",\"aspf\":\"r\","
	    "\"fo\":\"0\",\"testing\":false,\"psd\":\"u\","
	    "\"domain\":\"example.com\",\"policy_domain\":\"example.com\","
	    "\"inherited\":false,"
	    "\"records\":[\"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\"]"
	    "},\"score\":100,\"issues\":[]}";
	static const char want_missing[] =
	    "{\"dmarc\":{\"present\":false,\"valid\":false,\"record\":null,"
	    "\"policy\":null,\"subdomain_policy\":null,\"percentage\":null,"
	    "\"aggregate_reports\":[],\"failure_reports\":[],\"np\":null,"
	    "\"effective_policy\":null,\"adkim\":null,\"aspf\":null,"
	    "\"fo\":null,\"testing\":null,\"psd\":null,"
	    "\"domain\":\"example.com\",\"policy_domain\":\"example.com\","
	    "\"inherited\":false,\"records\":[]},\"score\":60,\"issues\":["
	    "{\"severity\":\"critical\",\"category\":\"dmarc\","
	    "\"code\":\"dmarc_missing\",\"message\":\"No DMARC record was "
	    "found at _dmarc.example.com: receivers apply no DMARC policy, and "
	    "anyone can send mail as example.com.\",\"remediation\":\"Publish "
	    "a DMARC record; start with p=none and a rua address, read the "
	    "reports, then move to quarantine and reject.\","
	    "\"dns_snippet\":{\"name\":\"_dmarc.example.com\",\"type\":\"TXT\","
	    "\"value\":\"v=DMARC1; p=none; rua=mailto:dmarc@example.com\"},"
	    "\"position\":null}]}";
	const char *rec[] = { "v=DMARC1; p=reject; " RUA, NULL };
	const char *bad[] = { "v=DMARC1; p=\"\x01\xff; " RUA, NULL };
	struct grade_input in;
	struct grade_result *g;
	char *s;

	memset(&in, 0, sizeof(in));
	in.domain = "example.com";
	in.txts = rec;
	in.ntxt = 1;
	grade_check(&in, &g);
	s = json_of(g);
	tap_str(s, want_reject, "JSON of the seed's model record");
	mem_free(s);
	grade_result_free(g);

	in.ntxt = 0;
	grade_check(&in, &g);
	s = json_of(g);
	tap_str(s, want_missing, "JSON of a missing record");
	mem_free(s);
	grade_result_free(g);

	in.txts = bad;
	in.ntxt = 1;
	grade_check(&in, &g);
	s = json_of(g);
	tap_ok(s != NULL && strstr(s, "\"position\":12") != NULL &&
	    strstr(s, "\\u0001") != NULL && strstr(s, "\"valid\":true") != NULL,
	    "JSON escapes hostile bytes and carries positions");
	mem_free(s);
	grade_result_free(g);
}

static void
test_bounds(void)
{
	const char *many[GRADE_MAX_TXT + 3];
	struct grade_input in;
	struct grade_result *g;
	size_t i, foreign = 0;
	char name[300];

	for (i = 0; i < GRADE_MAX_TXT + 3; i++)
		many[i] = "some-verification=1";
	memset(&in, 0, sizeof(in));
	in.domain = "example.com";
	in.txts = many;
	in.ntxt = GRADE_MAX_TXT + 3;
	tap_ok(grade_check(&in, &g) == GRADE_OK, "many TXT strings grade");
	for (i = 0; i < g->nissues; i++)
		foreign += strcmp(g->issues[i].code, "dmarc_foreign_txt") == 0;
	tap_int(foreign, GRADE_MAX_TXT, "only GRADE_MAX_TXT strings looked at");
	tap_ok(g->nissues > 0 && strcmp(g->issues[g->nissues - 1].code,
	    "dmarc_too_many_txt") == 0, "dmarc_too_many_txt reported");
	note(g);
	grade_result_free(g);

	/* an authorization name over 253 octets cannot be published */
	memset(name, 0, sizeof(name));
	memset(name, 'a', 63);
	name[63] = '.';
	memset(name + 64, 'b', 63);
	name[127] = '.';
	memset(name + 128, 'c', 63);
	strcat(name, ".example.com");
	{
		const char *txt[] = { "v=DMARC1; p=reject; rua=mailto:x@"
		    "reports.a-dmarc-vendor-with-a-long-name.example.net",
		    NULL };

		in.domain = name;
		in.txts = txt;
		in.ntxt = 1;
		tap_ok(grade_check(&in, &g) == GRADE_OK && g->nissues == 1 &&
		    strcmp(g->issues[0].code, "dmarc_rua_external") == 0 &&
		    g->issues[0].snippet.name == NULL &&
		    strstr(g->issues[0].remediation, "longer than DNS") != NULL,
		    "external authorization name too long: no snippet");
		grade_result_free(g);
	}

	/* a huge SPF record at _dmarc is still an SPF record */
	{
		char *spf = malloc(RECORD_MAX_LEN + 100);
		const char *txt[1];

		strcpy(spf, "v=spf1");
		for (i = 6; i + 12 < RECORD_MAX_LEN + 50; i += 12)
			memcpy(spf + i, " ip4:1.2.3.4", 12);
		spf[i] = '\0';
		txt[0] = spf;
		in.domain = "example.com";
		in.txts = txt;
		in.ntxt = 1;
		tap_ok(grade_check(&in, &g) == GRADE_OK && !g->present &&
		    g->nissues == 2 &&
		    strcmp(g->issues[1].code, "dmarc_spf_at_dmarc") == 0,
		    "an SPF record over RECORD_MAX_LEN is classified as SPF");
		grade_result_free(g);
		free(spf);
	}

	in.domain = "exa mple.com";
	in.ntxt = 0;
	tap_int(grade_check(&in, &g), GRADE_ERR_DOMAIN, "bad domain refused");
	tap_ok(g == NULL, "no result for a bad domain");
	in.domain = "example.com";
	in.found_at = "..";
	tap_int(grade_check(&in, &g), GRADE_ERR_DOMAIN, "bad found_at refused");
	in.found_at = NULL;
	in.org_domain = "";
	tap_int(grade_check(&in, &g), GRADE_ERR_DOMAIN, "bad org refused");
	in.domain = NULL;
	tap_int(grade_check(&in, &g), GRADE_ERR_DOMAIN, "NULL domain refused");
	grade_result_free(NULL);
	tap_ok(1, "grade_result_free(NULL) is a no-op");
	tap_str(grade_severity_name(GRADE_SEV_MEDIUM), "medium",
	    "grade_severity_name");
	tap_ok(strlen(grade_strerror(GRADE_ERR_NOMEM)) > 0, "grade_strerror");
}

/* Allocation failure anywhere: NOMEM, no result, no leak (ASan). */
static void
test_alloc_failures(void)
{
	static const char *const sets[][3] = {
		{ "v=DMARC1; p=quarantine; sp=none; pct=50; t=y; psd=y; "
		  "adkim=s; rf=afrf; fo=1; rua=mailto:a@example.com,"
		  "mailto:b@vendor.example.net!10m; ruf=mailto:f@other.example; "
		  "x=1; p=block", "v=spf1 -all", "hello" },
		{ "v=DMARC1; p=reject", "v=DMARC1; p=reject rua=x", NULL },
		{ "\"v=DMARC2; p=reject rua=mailto:a@example.com\"", NULL, NULL },
		{ NULL, NULL, NULL },
	};
	size_t t;

	for (t = 0; t < sizeof(sets) / sizeof(sets[0]); t++) {
		struct grade_input in;
		struct grade_result *ref, *g = NULL;
		enum grade_status st = GRADE_ERR_NOMEM;
		long n;

		memset(&in, 0, sizeof(in));
		in.domain = "sub.example.com";
		in.found_at = "example.com";
		in.txts = sets[t];
		while (in.ntxt < 3 && sets[t][in.ntxt] != NULL)
			in.ntxt++;
		grade_check(&in, &ref);
		for (n = 0; n < 100000; n++) {
			mem_fail_after(n);
			st = grade_check(&in, &g);
			mem_fail_after(-1);
			if (st != GRADE_ERR_NOMEM)
				break;
			if (g != NULL) {
				tap_ok(0, "grade alloc %zu: NOMEM left a result",
				    t);
				grade_result_free(g);
				g = NULL;
			}
		}
		tap_ok(st == GRADE_OK && g != NULL && ref != NULL &&
		    g->score == ref->score && g->nissues == ref->nissues,
		    "grade alloc failure loop %zu: same result after %ld "
		    "failures", t, n);
		grade_result_free(g);
		grade_result_free(ref);
	}
}

int
main(void)
{
	size_t i;

	toolong = malloc(RECORD_MAX_LEN + 100);
	strcpy(toolong, "v=DMARC1; p=reject; x=");
	memset(toolong + strlen(toolong), 'a', RECORD_MAX_LEN);
	toolong[RECORD_MAX_LEN + 50] = '\0';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_bounds();
	test_coverage();
	test_table_comment();
	test_json();
	test_alloc_failures();
	tap_ok(nsnippets > 60, "%d snippets were checked", nsnippets);
	free(toolong);
	return tap_done();
}
