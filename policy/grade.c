/*
 * grade.c - grade a domain's DMARC record for `dmarcctl check`.
 *
 * Takes the TXT strings found at _dmarc.<domain> (RFC 9989 section 4.10
 * step 1: records that do not start with v=DMARC1 are discarded, and
 * several DMARC records are all discarded), parses the one DMARC record
 * with record_parse(), and turns what it finds into issues with advice
 * and a complete corrected DNS record (dns_snippet) that record_parse()
 * accepts.  The score starts at 100 and loses each issue's weight, with
 * syntax errors capped at GRADE_SYNTAX_CAP, and never goes below 0.
 * Leaves out DNS (the caller looks records up) and SPF/DKIM grading.
 *
 * The table of every issue code, generated from codes[] below (the man
 * page is generated from it too).  "seed #N" is seed 003's "Common DMARC
 * Issues" N; dmarc_<x> rows map record_parse() code <x>; those with
 * weight 5 cost nothing when the whole record is ignored (dmarc_invalid
 * has the 40 then), and GRADE_SYNTAX_CAP (15) in all otherwise.
 *
 * code                          severity  wt   source
 * dmarc_missing                 critical  40   seed #1; RFC 9989 4.10.1
 * dmarc_invalid                 critical  40   seed #6; RFC 9989 4.7, 4.10.1
 * dmarc_duplicate               critical  40   RFC 9989 4.10 step 1
 * dmarc_policy_none             high      15   seed #2
 * dmarc_policy_quarantine       medium     5   seed #3
 * dmarc_no_rua                  medium     5   seed #4; RFC 9989 4.7 rua
 * dmarc_low_pct                 medium     5   seed #5; RFC 7489 6.3 pct
 * dmarc_testing                 medium     5   RFC 9989 4.7 t, A.6
 * dmarc_psd_misuse              high      10   RFC 9989 4.7 psd, 4.10.2
 * dmarc_inherited_from_psd      medium    10   RFC 9989 4.10.1, 3.2.15
 * dmarc_inherited               info       0   RFC 9989 4.10.1
 * dmarc_spf_at_dmarc            medium     0   RFC 9989 4.10 step 1; RFC 7208 3
 * dmarc_foreign_txt             info       0   RFC 9989 4.10 step 1
 * dmarc_too_many_txt            info       0   RFC 9989 4.10 step 1
 * dmarc_pct_historic            low        0   RFC 9989 9.3, A.6
 * dmarc_historic_tag            info       0   RFC 9989 9.3 (rf, ri)
 * dmarc_np_missing              low        0   RFC 9989 4.7 np
 * dmarc_np_weaker               low        0   RFC 9989 4.7 np
 * dmarc_sp_weaker               low        0   RFC 9989 4.7 sp; seed practice 6
 * dmarc_rua_external            low        0   RFC 9990 3; RFC 9989 11.6
 * dmarc_ruf_external            low        0   RFC 9991; 9990 3; 9989 11.6
 * dmarc_ruf_privacy             info       0   RFC 9989 10.2, 11.6; seed FAQ
 * dmarc_fo_without_ruf          info       0   RFC 9989 4.7 fo
 * dmarc_strict_alignment        info       0   RFC 9989 4.4; seed practice 5
 * dmarc_record_too_long         medium     0   RFC 9989 4.8 (bound ours)
 * dmarc_leading_whitespace      low        0   RFC 9989 4.8
 * dmarc_v_missing               medium     0   RFC 9989 4.7 v
 * dmarc_v_not_first             medium     0   RFC 9989 4.7 v
 * dmarc_v_invalid               medium     0   RFC 9989 4.7 v
 * dmarc_missing_semicolon       medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_empty_tag               low        0   RFC 9989 4.8
 * dmarc_tag_syntax              medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_unknown_tag             info       0   RFC 9989 4.7
 * dmarc_duplicate_tag           medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_empty_value             medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_p_invalid               medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_sp_invalid              medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_np_invalid              medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_adkim_invalid           medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_aspf_invalid            medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_psd_invalid             medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_t_invalid               medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_fo_invalid              medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_rf_invalid              medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_ri_invalid              medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_pct_invalid             medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_pct_out_of_range        medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_empty               medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_no_scheme           medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_invalid             medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_mailto_invalid      medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_scheme_unsupported  low        0   RFC 9989 4.7 rua
 * dmarc_uri_size_invalid        medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_size_overflow       medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_uri_size_obsolete       info       0   RFC 9989 4.8
 * dmarc_too_many_uris           medium     5   seed #6 (weight ours); 9989 4.8
 * dmarc_p_missing               low        0   RFC 9989 4.7 p
 * dmarc_treated_as_none         high       0   RFC 9989 4.10.1
 * dmarc_no_usable_policy        medium     0   RFC 9989 4.10.1
 *
 * Weights: the seed's rubric gives missing 40, p=none 15, p=quarantine 5,
 * no rua 5, pct<100 5.  Our choices: a record receivers ignore (invalid,
 * duplicated) costs what a missing one does, since receivers then apply
 * no DMARC (RFC 9989 section 4.10.1); a discarded tag costs 5, at most
 * 15 in all, and nothing when the whole record is ignored anyway; t=y 5
 * (the policy is applied one step lower); psd=y on a non-PSD 10 (it moves
 * the organizational domain, breaking relaxed alignment).  pct<100 is only
 * charged when the policy enforces: with p=none pct changes nothing.
 * dmarc_np_missing is only raised when np's fallback (sp) is weaker than
 * p, so the seed's model record "v=DMARC1; p=reject; rua=..." is clean.
 * The seed's sample response shows score 95 with no issues; that score is
 * the whole check's (SPF, DKIM...), this one is DMARC's alone.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "domain.h"
#include "grade.h"

#define Q_MAX		64	/* bytes of untrusted text quoted */
#define SYNTAX_WEIGHT	5

#define CRIT	GRADE_SEV_CRITICAL
#define HIGH	GRADE_SEV_HIGH
#define MED	GRADE_SEV_MEDIUM
#define LOW	GRADE_SEV_LOW
#define INFO	GRADE_SEV_INFO

#define RFC_SYNTAX	"seed #6 (weight ours); 9989 4.8"
#define SYNTAX_FIX	"Correct or remove the tag; until then receivers " \
	"use its default value."

static const struct grade_code_info codes[] = {
	/* The seed's rubric. */
	{ "dmarc_missing", NULL, CRIT, 40,
	  "seed #1; RFC 9989 4.10.1",
	  "Publish a DMARC record; start with p=none and a rua address, "
	  "read the reports, then move to quarantine and reject." },
	{ "dmarc_invalid", NULL, CRIT, 40,
	  "seed #6; RFC 9989 4.7, 4.10.1",
	  "Replace the record with a valid one." },
	{ "dmarc_duplicate", NULL, CRIT, 40, "RFC 9989 4.10 step 1",
	  "Keep exactly one TXT record starting with v=DMARC1 at this name." },
	{ "dmarc_policy_none", NULL, HIGH, 15, "seed #2",
	  "After monitoring the aggregate reports, move to p=quarantine." },
	{ "dmarc_policy_quarantine", NULL, MED, 5, "seed #3",
	  "Once no legitimate mail fails DMARC, move to p=reject." },
	{ "dmarc_no_rua", NULL, MED, 5, "seed #4; RFC 9989 4.7 rua",
	  "Add rua=mailto:<address> with a mailbox that reads the reports." },
	{ "dmarc_low_pct", NULL, MED, 5, "seed #5; RFC 7489 6.3 pct",
	  "Remove pct (the default is 100) so the policy applies to all "
	  "failing mail." },
	/* RFC 9989 additions. */
	{ "dmarc_testing", NULL, MED, 5, "RFC 9989 4.7 t, A.6",
	  "Remove t=y once the reports show that legitimate mail passes." },
	{ "dmarc_psd_misuse", NULL, HIGH, 10, "RFC 9989 4.7 psd, 4.10.2",
	  "Remove psd=y: it is only for public suffix operators." },
	{ "dmarc_inherited_from_psd", NULL, MED, 10,
	  "RFC 9989 4.10.1, 3.2.15",
	  "Publish a DMARC record for your own domain." },
	{ "dmarc_inherited", NULL, INFO, 0, "RFC 9989 4.10.1",
	  "Publish a record at this name only if the domain needs its own "
	  "policy." },
	{ "dmarc_spf_at_dmarc", NULL, MED, 0,
	  "RFC 9989 4.10 step 1; RFC 7208 3",
	  "Move the SPF record to the domain itself; receivers ignore it "
	  "at _dmarc." },
	{ "dmarc_foreign_txt", NULL, INFO, 0, "RFC 9989 4.10 step 1",
	  "Remove TXT records that are not DMARC records from the _dmarc "
	  "name." },
	{ "dmarc_too_many_txt", NULL, INFO, 0, "RFC 9989 4.10 step 1",
	  "Keep only the DMARC record at the _dmarc name." },
	{ "dmarc_pct_historic", NULL, LOW, 0, "RFC 9989 9.3, A.6",
	  "Remove pct; use t=y instead of pct=0 for testing." },
	{ "dmarc_historic_tag", NULL, INFO, 0, "RFC 9989 9.3 (rf, ri)",
	  "Remove the historic tag; receivers following RFC 9989 ignore it." },
	{ "dmarc_np_missing", NULL, LOW, 0, "RFC 9989 4.7 np",
	  "Add np=reject: names that do not exist never send legitimate "
	  "mail." },
	{ "dmarc_np_weaker", NULL, LOW, 0, "RFC 9989 4.7 np",
	  "Make np at least as strict as p." },
	{ "dmarc_sp_weaker", NULL, LOW, 0,
	  "RFC 9989 4.7 sp; seed practice 6",
	  "Remove sp (subdomains then get p) once subdomain mail passes." },
	{ "dmarc_rua_external", NULL, LOW, 0,
	  "RFC 9990 3; RFC 9989 11.6",
	  "The report destination must authorize your domain in its DNS." },
	{ "dmarc_ruf_external", NULL, LOW, 0,
	  "RFC 9991; 9990 3; 9989 11.6",
	  "The report destination must authorize your domain in its DNS." },
	{ "dmarc_ruf_privacy", NULL, INFO, 0,
	  "RFC 9989 10.2, 11.6; seed FAQ",
	  "Keep ruf only if you need per-message reports and can protect the "
	  "personal data in them." },
	{ "dmarc_fo_without_ruf", NULL, INFO, 0, "RFC 9989 4.7 fo",
	  "Remove fo, or add a ruf address." },
	{ "dmarc_strict_alignment", NULL, INFO, 0,
	  "RFC 9989 4.4; seed practice 5",
	  "Keep strict alignment only if every sender uses the exact "
	  "domain." },
	/* record_parse() codes: dmarc_ + the parser's code. */
	{ "dmarc_record_too_long", "record_too_long", MED, 0,
	  "RFC 9989 4.8 (bound ours)", "Shorten the record." },
	{ "dmarc_leading_whitespace", "leading_whitespace", LOW, 0,
	  "RFC 9989 4.8", "Start the record with v=DMARC1." },
	{ "dmarc_v_missing", "v_missing", MED, 0, "RFC 9989 4.7 v",
	  "Start the record with v=DMARC1;." },
	{ "dmarc_v_not_first", "v_not_first", MED, 0, "RFC 9989 4.7 v",
	  "Move v=DMARC1 to the start of the record." },
	{ "dmarc_v_invalid", "v_invalid", MED, 0, "RFC 9989 4.7 v",
	  "Write the version exactly as v=DMARC1." },
	{ "dmarc_missing_semicolon", "missing_semicolon", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Separate every tag from the next with ';'." },
	{ "dmarc_empty_tag", "empty_tag", LOW, 0, "RFC 9989 4.8",
	  "Remove the extra ';'." },
	{ "dmarc_tag_syntax", "tag_syntax", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Write every tag as name=value, separated by ';'." },
	{ "dmarc_unknown_tag", "unknown_tag", INFO, 0, "RFC 9989 4.7",
	  "Check the tag name for a typo, or remove it." },
	{ "dmarc_duplicate_tag", "duplicate_tag", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Keep each tag once." },
	{ "dmarc_empty_value", "empty_value", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  SYNTAX_FIX },
	{ "dmarc_p_invalid", "p_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Use p=none, p=quarantine or p=reject." },
	{ "dmarc_sp_invalid", "sp_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Use sp=none, sp=quarantine or sp=reject, or remove sp." },
	{ "dmarc_np_invalid", "np_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Use np=none, np=quarantine or np=reject, or remove np." },
	{ "dmarc_adkim_invalid", "adkim_invalid", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Use adkim=r or adkim=s." },
	{ "dmarc_aspf_invalid", "aspf_invalid", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Use aspf=r or aspf=s." },
	{ "dmarc_psd_invalid", "psd_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Remove psd (only public suffix operators need it)." },
	{ "dmarc_t_invalid", "t_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Use t=y or t=n, or remove t." },
	{ "dmarc_fo_invalid", "fo_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Use fo=0, fo=1, fo=d, fo=s or a list such as fo=1:d:s." },
	{ "dmarc_rf_invalid", "rf_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Remove rf (historic; afrf is the only format in use)." },
	{ "dmarc_ri_invalid", "ri_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Remove ri (historic; receivers send daily reports)." },
	{ "dmarc_pct_invalid", "pct_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Remove pct (historic; the default is 100)." },
	{ "dmarc_pct_out_of_range", "pct_out_of_range", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Remove pct (historic; the default is 100)." },
	{ "dmarc_uri_empty", "uri_empty", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Remove the extra ','." },
	{ "dmarc_uri_no_scheme", "uri_no_scheme", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Write each address as mailto:local@domain." },
	{ "dmarc_uri_invalid", "uri_invalid", MED, SYNTAX_WEIGHT, RFC_SYNTAX,
	  "Write each address as mailto:local@domain, separated by ','." },
	{ "dmarc_uri_mailto_invalid", "uri_mailto_invalid", MED,
	  SYNTAX_WEIGHT, RFC_SYNTAX, "Write each address as "
	  "mailto:local@domain." },
	{ "dmarc_uri_scheme_unsupported", "uri_scheme_unsupported", LOW, 0,
	  "RFC 9989 4.7 rua", "Use a mailto: address." },
	{ "dmarc_uri_size_invalid", "uri_size_invalid", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Remove the !size suffix." },
	{ "dmarc_uri_size_overflow", "uri_size_overflow", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "Remove the !size suffix." },
	{ "dmarc_uri_size_obsolete", "uri_size_obsolete", INFO, 0,
	  "RFC 9989 4.8", "Remove the !size suffix." },
	{ "dmarc_too_many_uris", "too_many_uris", MED, SYNTAX_WEIGHT,
	  RFC_SYNTAX, "List fewer report addresses." },
	{ "dmarc_p_missing", "p_missing", LOW, 0, "RFC 9989 4.7 p",
	  "Add a p tag so the policy is explicit." },
	{ "dmarc_treated_as_none", "treated_as_none", HIGH, 0,
	  "RFC 9989 4.10.1", "Correct the invalid policy tag." },
	{ "dmarc_no_usable_policy", "no_usable_policy", MED, 0,
	  "RFC 9989 4.10.1", "Correct the invalid policy tag." },
};

#define NCODES	(sizeof(codes) / sizeof(codes[0]))

/* Tags that mark a non-DMARC TXT record as a DMARC attempt. */
#define DMARC_LIKE_TAGS	((1u << RECORD_TAG_P) | (1u << RECORD_TAG_SP) | \
	(1u << RECORD_TAG_NP) | (1u << RECORD_TAG_RUA) | \
	(1u << RECORD_TAG_RUF) | (1u << RECORD_TAG_ADKIM) | \
	(1u << RECORD_TAG_ASPF) | (1u << RECORD_TAG_PCT) | \
	(1u << RECORD_TAG_FO) | (1u << RECORD_TAG_PSD))

#define TAGBIT(t)	(1u << (t))

/* Changes to a record for a corrected snippet. */
struct edit {
	enum dmarc_policy p, sp, np;	/* UNSPEC: keep the record's */
	unsigned drop;			/* TAGBIT()s to leave out */
	bool	 add_rua;		/* add a placeholder rua if none */
};

struct gctx {
	const struct grade_input *in;
	struct grade_result *g;
	const char *pd;			/* policy domain (normalised) */
	char	*org;			/* normalised in->org_domain or NULL */
	const struct dmarc_record *base; /* for snippets, may be NULL */
	struct dmarc_record *repaired;	/* owned base, when repaired */
	size_t	 issues_cap;
	bool	 nomem;
	struct strbuf q[2];
};

const struct grade_code_info *
grade_code_table(size_t *n)
{
	*n = NCODES;
	return codes;
}

const struct grade_code_info *
grade_code_lookup(const char *code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

static const struct grade_code_info *
code_for_record(const char *rcode)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (codes[i].record_code != NULL &&
		    strcmp(codes[i].record_code, rcode) == 0)
			return &codes[i];
	return NULL;
}

/* Quote untrusted text (escaped, cut) for a message; two slots. */
static const char *
gq(struct gctx *c, int slot, const char *s, size_t n)
{
	struct strbuf *sb = &c->q[slot];

	strbuf_reset(sb);
	strbuf_append_escaped(sb, s, n, Q_MAX);
	if (strbuf_failed(sb)) {
		c->nomem = true;
		return "";
	}
	return strbuf_cstr(sb);
}

static char *
vformat(struct gctx *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static char *
vformat(struct gctx *c, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	strbuf_vappendf(&sb, fmt, ap);
	if ((s = strbuf_steal(&sb)) == NULL)
		c->nomem = true;
	return s;
}

static char *
format(struct gctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
format(struct gctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(c, fmt, ap);
	va_end(ap);
	return s;
}

static struct grade_issue *
gadd_info(struct gctx *c, const struct grade_code_info *ci,
    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/*
 * Add an issue of the given table row with a formatted message and the
 * row's remediation.  The pointer is valid until the next gadd().
 */
static struct grade_issue *
gadd_info(struct gctx *c, const struct grade_code_info *ci,
    const char *fmt, va_list ap)
{
	struct grade_result *g = c->g;
	struct grade_issue *is;

	if (c->nomem)
		return NULL;
	if (g->nissues >= GRADE_MAX_ISSUES) {
		g->issues_dropped++;
		return NULL;
	}
	if (g->nissues == c->issues_cap) {
		size_t ncap = c->issues_cap == 0 ? 8 : c->issues_cap * 2;

		if (ncap > GRADE_MAX_ISSUES)
			ncap = GRADE_MAX_ISSUES;
		is = mem_reallocarray(g->issues, ncap, sizeof(*is));
		if (is == NULL) {
			c->nomem = true;
			return NULL;
		}
		g->issues = is;
		c->issues_cap = ncap;
	}
	is = &g->issues[g->nissues];
	memset(is, 0, sizeof(*is));
	is->severity = ci->severity;
	is->code = ci->code;
	is->weight = ci->weight;
	if ((is->message = vformat(c, fmt, ap)) == NULL)
		return NULL;
	if ((is->remediation = mem_strdup(ci->remedy)) == NULL) {
		mem_free(is->message);
		c->nomem = true;
		return NULL;
	}
	g->nissues++;
	return is;
}

static struct grade_issue *
gadd(struct gctx *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct grade_issue *
gadd(struct gctx *c, const char *code, const char *fmt, ...)
{
	const struct grade_code_info *ci = grade_code_lookup(code);
	struct grade_issue *is;
	va_list ap;

	if (ci == NULL)		/* a code missing from codes[]: a bug */
		ci = grade_code_lookup("dmarc_invalid");
	va_start(ap, fmt);
	is = gadd_info(c, ci, fmt, ap);
	va_end(ap);
	return is;
}

static void
gremedy(struct gctx *c, struct grade_issue *is, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replace an issue's remediation. */
static void
gremedy(struct gctx *c, struct grade_issue *is, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (is == NULL)
		return;
	va_start(ap, fmt);
	s = vformat(c, fmt, ap);
	va_end(ap);
	if (s != NULL) {
		mem_free(is->remediation);
		is->remediation = s;
	}
}

/*
 * Attach a snippet (taking name and value).  A value that record_parse()
 * does not accept as RECORD_OK is never shown: it is dropped here.
 */
static void
gsnippet(struct gctx *c, struct grade_issue *is, char *name, char *value)
{
	struct dmarc_record *r = NULL;
	enum record_status st = RECORD_ERR_INVALID;

	if (is != NULL && name != NULL && value != NULL) {
		st = record_parse(value, strlen(value), &r);
		record_free(r);
		if (st == RECORD_ERR_NOMEM)
			c->nomem = true;
	}
	if (st != RECORD_OK) {
		mem_free(name);
		mem_free(value);
		return;
	}
	is->snippet.name = name;
	is->snippet.value = value;
}

static char *
dmarc_name(struct gctx *c, const char *domain)
{
	return format(c, "_dmarc.%s", domain);
}

static void
append_uris(struct strbuf *sb, const char *tag, const struct dmarc_uri *u,
    size_t n, size_t *count)
{
	size_t i;

	*count = 0;
	for (i = 0; i < n; i++) {
		if (!u[i].valid)
			continue;
		strbuf_appends(sb, *count == 0 ? "; " : ",");
		if (*count == 0)
			strbuf_appendf(sb, "%s=", tag);
		strbuf_appends(sb, u[i].uri);
		(*count)++;
	}
}

/*
 * A complete record from base (may be NULL) with the edits applied, in
 * the order of the seed's examples.  Invalid, unknown and repeated tags
 * are left out, as receivers ignore them anyway (RFC 9989 section 4.8);
 * the obsolete !size suffixes too.
 */
static char *
build_record(struct gctx *c, const struct dmarc_record *b,
    const struct edit *e)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned ok = b != NULL ? b->tags_valid & ~e->drop : 0;
	enum dmarc_policy p;
	size_t nrua = 0, nruf = 0;
	char *s;

	p = e->p != DMARC_POLICY_UNSPEC ? e->p :
	    (ok & TAGBIT(RECORD_TAG_P)) ? b->p : DMARC_POLICY_NONE;
	strbuf_appendf(&sb, "v=DMARC1; p=%s", dmarc_policy_name(p));
	if (e->sp != DMARC_POLICY_UNSPEC)
		strbuf_appendf(&sb, "; sp=%s", dmarc_policy_name(e->sp));
	else if (ok & TAGBIT(RECORD_TAG_SP))
		strbuf_appendf(&sb, "; sp=%s", dmarc_policy_name(b->sp));
	if (e->np != DMARC_POLICY_UNSPEC)
		strbuf_appendf(&sb, "; np=%s", dmarc_policy_name(e->np));
	else if (ok & TAGBIT(RECORD_TAG_NP))
		strbuf_appendf(&sb, "; np=%s", dmarc_policy_name(b->np));
	if (ok & TAGBIT(RECORD_TAG_ADKIM))
		strbuf_appendf(&sb, "; adkim=%c",
		    b->adkim == DMARC_ALIGN_STRICT ? 's' : 'r');
	if (ok & TAGBIT(RECORD_TAG_ASPF))
		strbuf_appendf(&sb, "; aspf=%c",
		    b->aspf == DMARC_ALIGN_STRICT ? 's' : 'r');
	if (ok & TAGBIT(RECORD_TAG_PCT))
		strbuf_appendf(&sb, "; pct=%d", b->pct);
	if (ok & TAGBIT(RECORD_TAG_T))
		strbuf_appendf(&sb, "; t=%c", b->testing ? 'y' : 'n');
	if (ok & TAGBIT(RECORD_TAG_PSD))
		strbuf_appendf(&sb, "; psd=%c", b->psd == DMARC_PSD_Y ? 'y' :
		    b->psd == DMARC_PSD_N ? 'n' : 'u');
	if (ok & TAGBIT(RECORD_TAG_RUA))
		append_uris(&sb, "rua", b->rua, b->nrua, &nrua);
	if (nrua == 0 && e->add_rua)
		strbuf_appendf(&sb, "; rua=mailto:dmarc@%s", c->pd);
	if (ok & TAGBIT(RECORD_TAG_RUF))
		append_uris(&sb, "ruf", b->ruf, b->nruf, &nruf);
	if ((ok & TAGBIT(RECORD_TAG_FO)) && nruf > 0) {
		const char *sep = "";

		strbuf_appends(&sb, "; fo=");
		if (b->fo & DMARC_FO_0) {
			strbuf_appends(&sb, "0");
			sep = ":";
		}
		if (b->fo & DMARC_FO_1) {
			strbuf_appendf(&sb, "%s1", sep);
			sep = ":";
		}
		if (b->fo & DMARC_FO_D) {
			strbuf_appendf(&sb, "%sd", sep);
			sep = ":";
		}
		if (b->fo & DMARC_FO_S)
			strbuf_appendf(&sb, "%ss", sep);
	}
	if (ok & TAGBIT(RECORD_TAG_RF))
		strbuf_appendf(&sb, "; rf=%s",
		    b->rf == (DMARC_RF_AFRF | DMARC_RF_IODEF) ? "afrf:iodef" :
		    b->rf == DMARC_RF_IODEF ? "iodef" : "afrf");
	if (ok & TAGBIT(RECORD_TAG_RI))
		strbuf_appendf(&sb, "; ri=%lu", (unsigned long)b->ri);
	if ((s = strbuf_steal(&sb)) == NULL)
		c->nomem = true;
	return s;
}

/* Attach the corrected record with edits e, at _dmarc.<policy domain>. */
static void
gfix(struct gctx *c, struct grade_issue *is, const struct edit *e)
{
	if (is == NULL)
		return;
	gsnippet(c, is, dmarc_name(c, c->pd), build_record(c, c->base, e));
}

/*
 * Repair a broken record's text for the snippets: insert the ';' that
 * record_parse() found missing, and put v=DMARC1 first.  A few rounds;
 * the result may still be invalid (p=block), which build_record() then
 * replaces with p=none.  Returns the last parse, or NULL.
 */
static struct dmarc_record *
repair(struct gctx *c, const char *txt, size_t len)
{
	struct strbuf cur = STRBUF_INIT, next = STRBUF_INIT;
	struct dmarc_record *r = NULL;
	enum record_status st;
	int round;
	bool failed = false;

	if (len > RECORD_MAX_LEN)
		return NULL;
	strbuf_append(&cur, txt, len);
	for (round = 0; round < 4 && !strbuf_failed(&cur); round++) {
		size_t i, at = 0;
		bool changed = false;

		record_free(r);
		r = NULL;
		st = record_parse(strbuf_cstr(&cur), strbuf_len(&cur), &r);
		if (st == RECORD_ERR_NOMEM) {
			c->nomem = true;
			break;
		}
		if (st == RECORD_OK || st == RECORD_ERR_TOO_LONG)
			break;
		strbuf_reset(&next);
		/* Issues are sorted by position. */
		for (i = 0; i < r->nissues; i++) {
			if (strcmp(r->issues[i].code, "missing_semicolon") != 0)
				continue;
			strbuf_append(&next, strbuf_cstr(&cur) + at,
			    r->issues[i].pos - at);
			strbuf_appendc(&next, ';');
			at = r->issues[i].pos;
			changed = true;
		}
		if (changed)
			strbuf_append(&next, strbuf_cstr(&cur) + at,
			    strbuf_len(&cur) - at);
		else if (st == RECORD_ERR_NOT_DMARC) {
			const char *s = strbuf_cstr(&cur);
			size_t n = strbuf_len(&cur), k = 0;

			while (k < n && (s[k] == ' ' || s[k] == '\t'))
				k++;
			if (k < n && (s[k] == '"' || s[k] == '\'')) {
				/* zone-file quotes pasted into the record */
				for (; k < n; k++)
					if (s[k] != '"' && s[k] != '\'')
						strbuf_appendc(&next, s[k]);
			} else if (record_find_issue(r, "v_invalid") != NULL) {
				/* replace the first tag, a bad v= */
				const char *semi = memchr(s, ';', n);

				strbuf_appends(&next, "v=DMARC1;");
				if (semi != NULL)
					strbuf_append(&next, semi + 1,
					    n - (size_t)(semi + 1 - s));
			} else {
				strbuf_appends(&next, "v=DMARC1; ");
				strbuf_append(&next, s + k, n - k);
			}
			changed = true;
		}
		if (!changed)
			break;
		failed |= strbuf_failed(&next);
		strbuf_reset(&cur);
		strbuf_append(&cur, strbuf_cstr(&next), strbuf_len(&next));
	}
	if (failed || strbuf_failed(&cur) || strbuf_failed(&next)) {
		c->nomem = true;
		record_free(r);
		r = NULL;
	}
	strbuf_release(&cur);
	strbuf_release(&next);
	return r;
}

/* none < quarantine < reject */
static int
strength(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? 2 : p == DMARC_POLICY_QUARANTINE;
}

/*
 * A guess at a name's organizational domain when the caller gave none:
 * the last two labels, or three when those two look like a public suffix
 * such as co.uk (see looks_like_psd()).  Only for advice, never policy.
 */
static bool looks_like_psd(const char *, const char *);

static const char *
guess_org(const char *name)
{
	size_t n = domain_label_count(name);
	const char *two, *three;

	if (n <= 2)
		return name;
	two = domain_strip_labels(name, n - 2);
	three = domain_strip_labels(name, n - 3);
	return looks_like_psd(two, NULL) ? three : two;
}

/*
 * Whether a policy domain looks like a public suffix.  With the caller's
 * organizational domain: anything above it.  Without: a single label, or
 * two labels where the first is at most three letters and the last two
 * (co.uk, com.au, or.jp): a heuristic, stated in the message.
 */
static bool
looks_like_psd(const char *pd, const char *org)
{
	size_t n = domain_label_count(pd);
	const char *dot;

	if (org != NULL)
		return !domain_is_within(pd, org);
	if (n <= 1)
		return true;
	if (n > 2)
		return false;
	dot = strchr(pd, '.');
	return (size_t)(dot - pd) <= 3 && strlen(dot + 1) == 2;
}

/*
 * Whether a report destination host is outside the policy domain's
 * organization (RFC 9990 section 3 compares organizational domains).
 */
static bool
host_is_external(const struct gctx *c, const char *host)
{
	if (domain_is_within(host, c->pd) || domain_is_within(c->pd, host))
		return false;
	if (c->org != NULL)
		return !domain_is_within(host, c->org);
	return strcmp(guess_org(host), guess_org(c->pd)) != 0;
}

/*
 * One issue per distinct external host in a URI list, each with the
 * authorization record the host must publish (RFC 9990 section 3: a TXT
 * record "v=DMARC1;" at <policy domain>._report._dmarc.<host>).
 */
static void
check_external(struct gctx *c, const struct dmarc_uri *u, size_t n,
    const char *tag, const char *code)
{
	char *seen[RECORD_MAX_URIS];
	size_t nseen = 0, i, j;

	for (i = 0; i < n && !c->nomem; i++) {
		const char *h;
		size_t hl;
		char *host = NULL, *name, *value;
		struct grade_issue *is;
		enum domain_status ds;

		if (!u[i].valid || !record_uri_host(u[i].uri, &h, &hl))
			continue;
		ds = domain_normalize_dup(h, hl, &host);
		if (ds == DOMAIN_ERR_NOMEM)
			c->nomem = true;
		if (ds != DOMAIN_OK)
			continue;
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], host) == 0)
				break;
		if (j < nseen || !host_is_external(c, host)) {
			mem_free(host);
			continue;
		}
		seen[nseen++] = host;
		is = gadd(c, code, "The %s address %s is outside %s%s; "
		    "receivers send reports there only if %s authorizes it "
		    "(RFC 9990 section 3).", tag, u[i].uri, c->pd,
		    c->org == NULL ? " (judged without the public suffix list)"
		    : "", host);
		name = format(c, "%s._report._dmarc.%s", c->pd, host);
		if (name == NULL || is == NULL) {
			mem_free(name);
			continue;
		}
		if (strlen(name) > DOMAIN_MAX_LEN) {
			gremedy(c, is, "The name %s._report._dmarc.%s would be "
			    "longer than DNS allows, so the authorization "
			    "cannot be published: send reports to an address "
			    "inside %s and forward them.", c->pd, host, c->pd);
			mem_free(name);
			continue;
		}
		gremedy(c, is, "Unless it already exists, the operator of %s "
		    "must publish TXT \"v=DMARC1;\" at %s (or at "
		    "*._report._dmarc.%s for every domain).", host, name,
		    host);
		if ((value = mem_strdup("v=DMARC1;")) == NULL)
			c->nomem = true;
		gsnippet(c, is, name, value);
	}
	for (j = 0; j < nseen; j++)
		mem_free(seen[j]);
}

/* The parser's issues as grade issues, with their positions. */
static void
add_record_issues(struct gctx *c, const struct dmarc_record *r,
    bool usable)
{
	struct grade_issue *is;
	struct edit e;
	char *clean = NULL, *name, *value;
	bool tried = false;
	size_t i;

	/*
	 * One snippet serves them all: the record as receivers read it,
	 * cleaned.  It is built and checked (gsnippet) once, then copied.
	 */
	memset(&e, 0, sizeof(e));
	e.add_rua = !usable;
	for (i = 0; i < r->nissues && !c->nomem; i++) {
		const struct record_issue *ri = &r->issues[i];
		const struct grade_code_info *ci = code_for_record(ri->code);

		if (ci == NULL)
			ci = grade_code_lookup("dmarc_tag_syntax");
		is = gadd(c, ci->code, "%s", ri->message);
		if (is == NULL)
			continue;
		is->has_pos = true;
		is->pos = ri->pos;
		if (!usable)
			is->weight = 0;
		/* Not for notes, nor where cleaning changes nothing. */
		if (ri->severity == RECORD_SEV_INFO ||
		    strcmp(ri->code, "uri_scheme_unsupported") == 0)
			continue;
		if (!tried) {
			tried = true;
			gfix(c, is, &e);
			if (is->snippet.value != NULL &&
			    (clean = mem_strdup(is->snippet.value)) == NULL)
				c->nomem = true;
			continue;
		}
		if (clean == NULL)
			continue;
		name = dmarc_name(c, c->pd);
		if ((value = mem_strdup(clean)) == NULL)
			c->nomem = true;
		if (name == NULL || value == NULL) {
			mem_free(name);
			mem_free(value);
			continue;
		}
		is->snippet.name = name;
		is->snippet.value = value;
	}
	mem_free(clean);
}

static void
grade_policy(struct gctx *c, const struct dmarc_record *r)
{
	struct grade_result *g = c->g;
	struct grade_issue *is;
	struct edit e;
	bool via_sp = g->inherited && r->sp != DMARC_POLICY_UNSPEC &&
	    !r->treated_as_none;
	const char *why = r->treated_as_none ? " (the record is treated as "
	    "p=none because a policy tag is invalid)" : via_sp ?
	    " (from the sp tag of the record it inherits)" : r->p ==
	    DMARC_POLICY_UNSPEC ? " (the record has no p tag)" : "";

	memset(&e, 0, sizeof(e));
	if (g->effective_policy == DMARC_POLICY_NONE) {
		is = gadd(c, "dmarc_policy_none", "The DMARC policy for %s is "
		    "none%s: receivers only report, and spoofed mail is still "
		    "delivered.", g->domain, why);
		*(via_sp ? &e.sp : &e.p) = DMARC_POLICY_QUARANTINE;
		gfix(c, is, &e);
	} else if (g->effective_policy == DMARC_POLICY_QUARANTINE) {
		is = gadd(c, "dmarc_policy_quarantine", "The DMARC policy for "
		    "%s is quarantine%s: failing mail goes to spam folders "
		    "instead of being rejected.", g->domain, via_sp ?
		    " (from the sp tag of the record it inherits)" : "");
		*(via_sp ? &e.sp : &e.p) = DMARC_POLICY_REJECT;
		gfix(c, is, &e);
	}
	if (r->testing && g->effective_policy != DMARC_POLICY_NONE) {
		memset(&e, 0, sizeof(e));
		e.drop = TAGBIT(RECORD_TAG_T);
		is = gadd(c, "dmarc_testing", "t=y is set: receivers apply the "
		    "policy one step lower (%s instead of %s).",
		    g->effective_policy == DMARC_POLICY_REJECT ? "quarantine" :
		    "none", dmarc_policy_name(g->effective_policy));
		gfix(c, is, &e);
	}
	if (r->tags_valid & TAGBIT(RECORD_TAG_PCT)) {
		memset(&e, 0, sizeof(e));
		e.drop = TAGBIT(RECORD_TAG_PCT);
		if (r->pct < 100 && g->effective_policy != DMARC_POLICY_NONE) {
			is = gadd(c, "dmarc_low_pct", "pct=%d: the policy "
			    "applies to only %d%% of failing mail.", r->pct,
			    r->pct);
			gfix(c, is, &e);
		} else {
			is = gadd(c, "dmarc_pct_historic", "pct=%d is historic "
			    "in RFC 9989 (Appendix A.6); receivers following "
			    "it ignore the tag.", r->pct);
			if (r->pct == 0)
				gremedy(c, is, "Replace pct=0 with t=y.");
			gfix(c, is, &e);
		}
	}
}

static void
grade_subpolicies(struct gctx *c, const struct dmarc_record *r)
{
	struct grade_issue *is;
	struct edit e;
	enum dmarc_policy p = record_policy(r), nx;

	if (r->treated_as_none)
		return;
	memset(&e, 0, sizeof(e));
	if (r->sp != DMARC_POLICY_UNSPEC && strength(r->sp) < strength(p)) {
		e.drop = TAGBIT(RECORD_TAG_SP);
		is = gadd(c, "dmarc_sp_weaker", "sp=%s is weaker than p=%s: "
		    "spoofed mail from subdomains of %s is treated more "
		    "leniently.", dmarc_policy_name(r->sp),
		    dmarc_policy_name(p), c->pd);
		gfix(c, is, &e);
	}
	memset(&e, 0, sizeof(e));
	nx = record_nxdomain_policy(r);
	if (r->np != DMARC_POLICY_UNSPEC && strength(r->np) < strength(p)) {
		e.np = p;
		is = gadd(c, "dmarc_np_weaker", "np=%s is weaker than p=%s, "
		    "though names that do not exist never send legitimate "
		    "mail.", dmarc_policy_name(r->np), dmarc_policy_name(p));
		gfix(c, is, &e);
	} else if (r->np == DMARC_POLICY_UNSPEC &&
	    strength(nx) < strength(p)) {
		/*
		 * Only when the fallback (sp) is weaker than p: with p alone
		 * np already falls back to p, and the seed's model record
		 * "v=DMARC1; p=reject; rua=..." must grade with no issues.
		 */
		e.np = DMARC_POLICY_REJECT;
		is = gadd(c, "dmarc_np_missing", "There is no np tag, so mail "
		    "from non-existent subdomains of %s gets %s=%s (RFC 9989 "
		    "section 4.7).", c->pd, r->sp != DMARC_POLICY_UNSPEC ?
		    "sp" : "p", dmarc_policy_name(nx));
		gfix(c, is, &e);
	}
}

static void
grade_reports(struct gctx *c, const struct dmarc_record *r)
{
	struct grade_issue *is;
	struct edit e;
	size_t i;
	bool ruf = false;

	memset(&e, 0, sizeof(e));
	if (!record_has_valid_rua(r)) {
		e.add_rua = true;
		is = gadd(c, "dmarc_no_rua", "%s: no aggregate reports are "
		    "sent, so you cannot see who sends mail as %s.",
		    r->nrua > 0 ? "No rua address is valid" :
		    "There is no rua tag", c->pd);
		gremedy(c, is, "Add rua=mailto:dmarc@%s (create that mailbox, "
		    "or use your report processor's address).", c->pd);
		gfix(c, is, &e);
	}
	check_external(c, r->rua, r->nrua, "rua", "dmarc_rua_external");
	for (i = 0; i < r->nruf; i++)
		ruf |= r->ruf[i].valid;
	if (ruf) {
		gadd(c, "dmarc_ruf_privacy", "ruf asks for per-message failure "
		    "reports, which can contain headers and content of real "
		    "mail; few receivers send them.");
		check_external(c, r->ruf, r->nruf, "ruf",
		    "dmarc_ruf_external");
	} else if (r->tags_valid & TAGBIT(RECORD_TAG_FO)) {
		memset(&e, 0, sizeof(e));
		e.drop = TAGBIT(RECORD_TAG_FO);
		is = gadd(c, "dmarc_fo_without_ruf", "fo is set but there is no "
		    "valid ruf address, so it has no effect (RFC 9989 section "
		    "4.7).");
		gfix(c, is, &e);
	}
	if (r->tags_valid & (TAGBIT(RECORD_TAG_RF) | TAGBIT(RECORD_TAG_RI))) {
		memset(&e, 0, sizeof(e));
		e.drop = TAGBIT(RECORD_TAG_RF) | TAGBIT(RECORD_TAG_RI);
		is = gadd(c, "dmarc_historic_tag", "The tag%s %s %s historic in "
		    "RFC 9989 (section 9.3) and ignored by its receivers.",
		    (r->tags_valid & TAGBIT(RECORD_TAG_RF)) &&
		    (r->tags_valid & TAGBIT(RECORD_TAG_RI)) ? "s" : "",
		    (r->tags_valid & TAGBIT(RECORD_TAG_RF)) ?
		    ((r->tags_valid & TAGBIT(RECORD_TAG_RI)) ? "rf and ri" :
		    "rf") : "ri",
		    (r->tags_valid & TAGBIT(RECORD_TAG_RF)) &&
		    (r->tags_valid & TAGBIT(RECORD_TAG_RI)) ? "are" : "is");
		gfix(c, is, &e);
	}
}

static const char *
first_valid_uri(const struct dmarc_uri *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (u[i].valid)
			return u[i].uri;
	return "";
}

static void
grade_misc(struct gctx *c, const struct dmarc_record *r)
{
	struct grade_result *g = c->g;
	struct grade_issue *is;
	struct edit e;

	if (r->adkim == DMARC_ALIGN_STRICT || r->aspf == DMARC_ALIGN_STRICT)
		gadd(c, "dmarc_strict_alignment", "Strict alignment (%s%s%s): "
		    "mail signed or sent from subdomains such as mail.%s "
		    "fails DMARC.", r->adkim == DMARC_ALIGN_STRICT ?
		    "adkim=s" : "", r->adkim == DMARC_ALIGN_STRICT &&
		    r->aspf == DMARC_ALIGN_STRICT ? ", " : "",
		    r->aspf == DMARC_ALIGN_STRICT ? "aspf=s" : "", c->pd);
	if (r->psd == DMARC_PSD_Y && !looks_like_psd(c->pd, c->org)) {
		memset(&e, 0, sizeof(e));
		e.drop = TAGBIT(RECORD_TAG_PSD);
		is = gadd(c, "dmarc_psd_misuse", "psd=y declares %s a public "
		    "suffix domain%s; receivers then treat each name below it "
		    "as a separate organization, which breaks relaxed "
		    "alignment.", c->pd, c->org != NULL ? "" :
		    " although it does not look like one");
		gfix(c, is, &e);
	}
	if (g->inherited) {
		char *name, *value;
		bool psd = r->psd == DMARC_PSD_Y || looks_like_psd(c->pd,
		    c->org);

		is = gadd(c, psd ? "dmarc_inherited_from_psd" :
		    "dmarc_inherited", "%s has no DMARC record of its own; the "
		    "record at _dmarc.%s%s applies to it (RFC 9989 section "
		    "4.10.1).", g->domain, c->pd, psd ? ", a public suffix "
		    "domain," : "");
		/* Its own record, keeping the policy it has today. */
		name = dmarc_name(c, g->domain);
		if (record_has_valid_rua(r) && !psd)
			value = format(c, "v=DMARC1; p=%s; rua=%s",
			    dmarc_policy_name(g->effective_policy),
			    first_valid_uri(r->rua, r->nrua));
		else
			value = format(c, "v=DMARC1; p=%s; rua=mailto:dmarc@%s",
			    psd ? "none" : dmarc_policy_name(
			    g->effective_policy), g->domain);
		gsnippet(c, is, name, value);
	}
}

/* A usable record: everything worth saying about it. */
static void
grade_usable(struct gctx *c)
{
	struct grade_result *g = c->g;
	const struct dmarc_record *r = g->parsed;

	g->valid = true;
	g->policy = record_policy(r);
	g->subdomain_policy = record_subdomain_policy(r);
	g->nxdomain_policy = record_nxdomain_policy(r);
	/*
	 * RFC 9989 section 4.10.1: an inherited record gives an existing
	 * subdomain its sp (else p).
	 */
	g->effective_policy = g->inherited ? g->subdomain_policy : g->policy;
	g->percentage = r->pct;
	g->aggregate_reports = r->rua;
	g->naggregate_reports = r->nrua;
	c->base = r;
	add_record_issues(c, r, true);
	grade_policy(c, r);
	grade_subpolicies(c, r);
	grade_reports(c, r);
	grade_misc(c, r);
}

/* Why a record is ignored, from its first error. */
static const char *
first_error(const struct dmarc_record *r)
{
	size_t i;

	for (i = 0; i < r->nissues; i++)
		if (r->issues[i].severity == RECORD_SEV_ERROR &&
		    strcmp(r->issues[i].code, "no_usable_policy") != 0)
			return r->issues[i].message;
	return "";
}

/* A DMARC or DMARC-like record that receivers ignore. */
static void
grade_ignored(struct gctx *c)
{
	struct grade_result *g = c->g;
	struct dmarc_record *r = g->parsed;
	struct grade_issue *is;
	struct edit e;

	is = gadd(c, "dmarc_invalid", "The record at _dmarc.%s is not a "
	    "usable DMARC record, so receivers apply no DMARC policy to %s: "
	    "%s", c->pd, g->domain, r->nissues > 0 ? first_error(r) : "");
	/* A record over the bound is not repaired: start from scratch. */
	if (g->status != RECORD_ERR_TOO_LONG)
		c->repaired = repair(c, r->raw, r->raw_len);
	c->base = c->repaired;
	memset(&e, 0, sizeof(e));
	e.add_rua = true;
	gfix(c, is, &e);
	if (is != NULL)
		gremedy(c, is, "Publish a corrected record%s.",
		    is->snippet.value != NULL ? " such as the one shown" : "");
	add_record_issues(c, r, false);
}

enum txt_kind { TXT_DMARC, TXT_SPF, TXT_ATTEMPT, TXT_OTHER };

static bool
contains_ci(const char *s, size_t n, const char *word)
{
	size_t i, j, wl = strlen(word);

	for (i = 0; i + wl <= n; i++) {
		for (j = 0; j < wl; j++) {
			int ch = (unsigned char)s[i + j];

			if (ch >= 'A' && ch <= 'Z')
				ch += 'a' - 'A';
			if (ch != word[j])
				break;
		}
		if (j == wl)
			return true;
	}
	return false;
}

/*
 * What a TXT string at _dmarc is.  A DMARC attempt is a record that
 * receivers ignore but that was plainly meant as DMARC: it mentions
 * DMARC, or its tags are DMARC tags ("p=reject; rua=...").
 */
static enum txt_kind
classify(const char *s, size_t n, const struct dmarc_record *r,
    enum record_status st)
{
	size_t k = 0;

	/* A record over the bound is not parsed: look at its start. */
	if (st != RECORD_ERR_NOT_DMARC &&
	    (st != RECORD_ERR_TOO_LONG || record_is_dmarc(s, n)))
		return TXT_DMARC;
	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (n - k >= 6 && contains_ci(s + k, 6, "v=spf1") &&
	    (n - k == 6 || s[k + 6] == ' '))
		return TXT_SPF;
	if (contains_ci(s, n, "dmarc"))
		return TXT_ATTEMPT;
	if (n - k >= 2 && (s[k] == 'v' || s[k] == 'V'))
		return TXT_OTHER;	/* v=DKIM1, v=STSv1 ... */
	if (r != NULL && (r->tags_seen & DMARC_LIKE_TAGS))
		return TXT_ATTEMPT;
	return TXT_OTHER;
}

static void
grade_missing(struct gctx *c)
{
	struct grade_result *g = c->g;
	struct grade_issue *is;
	char *value;

	if (g->inherited)
		is = gadd(c, "dmarc_missing", "No DMARC record was found for %s, "
		    "neither at _dmarc.%s nor at _dmarc.%s: receivers apply no "
		    "DMARC policy, and anyone can send mail as %s.", g->domain,
		    g->domain, c->pd, g->domain);
	else
		is = gadd(c, "dmarc_missing", "No DMARC record was found at "
		    "_dmarc.%s: receivers apply no DMARC policy, and anyone can "
		    "send mail as %s.", g->domain, g->domain);
	value = format(c, "v=DMARC1; p=none; rua=mailto:dmarc@%s", g->domain);
	gsnippet(c, is, dmarc_name(c, g->domain), value);
}

static bool
dup_string(struct gctx *c, char **dst, const char *s, size_t n)
{
	if ((*dst = mem_strndup(s, n)) == NULL)
		c->nomem = true;
	return *dst != NULL;
}

/* Classify the TXT strings and grade the one record that counts. */
static void
grade_txts(struct gctx *c)
{
	const struct grade_input *in = c->in;
	struct grade_result *g = c->g;
	struct dmarc_record *recs[GRADE_MAX_TXT] = { NULL };
	enum record_status sts[GRADE_MAX_TXT];
	enum txt_kind kinds[GRADE_MAX_TXT];
	size_t n = in->ntxt > GRADE_MAX_TXT ? GRADE_MAX_TXT : in->ntxt;
	size_t i, ndmarc = 0, nattempt = 0, pick = SIZE_MAX;

	if (in->txts == NULL)
		n = 0;
	for (i = 0; i < n; i++) {
		const char *s = in->txts[i] != NULL ? in->txts[i] : "";
		size_t len = in->txtlens != NULL ? in->txtlens[i] : strlen(s);

		sts[i] = record_parse(s, len, &recs[i]);
		if (sts[i] == RECORD_ERR_NOMEM) {
			c->nomem = true;
			goto done;
		}
		kinds[i] = classify(s, len, recs[i], sts[i]);
		ndmarc += kinds[i] == TXT_DMARC;
		nattempt += kinds[i] == TXT_ATTEMPT;
	}
	g->dmarc_records = mem_calloc(ndmarc > 0 ? ndmarc : 1, sizeof(char *));
	if (g->dmarc_records == NULL) {
		c->nomem = true;
		goto done;
	}
	for (i = 0; i < n; i++)
		if (kinds[i] == TXT_DMARC) {
			if (pick == SIZE_MAX)
				pick = i;
			if (!dup_string(c, &g->dmarc_records[g->ndmarc_records],
			    recs[i]->raw, recs[i]->raw_len))
				goto done;
			g->ndmarc_records++;
		}
	if (pick == SIZE_MAX && nattempt > 0)
		for (i = 0; i < n && pick == SIZE_MAX; i++)
			if (kinds[i] == TXT_ATTEMPT)
				pick = i;

	if (pick != SIZE_MAX) {
		g->present = true;
		g->parsed = recs[pick];
		g->status = sts[pick];
		recs[pick] = NULL;
		if (!dup_string(c, &g->record, g->parsed->raw,
		    g->parsed->raw_len))
			goto done;
	}
	if (ndmarc > 1) {
		struct grade_issue *is;
		struct edit e;

		is = gadd(c, "dmarc_duplicate", "There are %zu DMARC records at "
		    "_dmarc.%s; receivers discard them all (RFC 9989 section "
		    "4.10), so no DMARC policy applies.", ndmarc, c->pd);
		if (g->status == RECORD_OK)
			c->base = g->parsed;
		else
			c->base = c->repaired = repair(c, g->parsed->raw,
			    g->parsed->raw_len);
		memset(&e, 0, sizeof(e));
		e.add_rua = c->base == NULL;
		gremedy(c, is, "Delete all but one DMARC record at _dmarc.%s; "
		    "the one shown is the first, cleaned up.", c->pd);
		gfix(c, is, &e);
	} else if (pick == SIZE_MAX)
		grade_missing(c);
	else if (g->status == RECORD_OK)
		grade_usable(c);
	else
		grade_ignored(c);

	for (i = 0; i < n && !c->nomem; i++) {
		const char *s = in->txts[i] != NULL ? in->txts[i] : "";
		size_t len = in->txtlens != NULL ? in->txtlens[i] : strlen(s);

		if (kinds[i] == TXT_SPF)
			gadd(c, "dmarc_spf_at_dmarc", "An SPF record (\"%s\") is "
			    "published at _dmarc.%s; it belongs at %s itself, "
			    "and receivers ignore it here.", gq(c, 0, s, len),
			    c->pd, c->pd);
		else if (kinds[i] == TXT_OTHER ||
		    (kinds[i] == TXT_ATTEMPT && i != pick))
			gadd(c, "dmarc_foreign_txt", "The TXT record \"%s\" at "
			    "_dmarc.%s is not a DMARC record; receivers ignore "
			    "it.", gq(c, 0, s, len), c->pd);
	}
	if (in->ntxt > GRADE_MAX_TXT)
		gadd(c, "dmarc_too_many_txt", "There are %zu TXT records at "
		    "_dmarc.%s; only the first %d were checked.", in->ntxt,
		    c->pd, GRADE_MAX_TXT);
done:
	for (i = 0; i < n; i++)
		record_free(recs[i]);
}

/* Most severe first, keeping the order within a severity. */
static void
sort_issues(struct grade_result *g)
{
	size_t i, j;

	for (i = 1; i < g->nissues; i++) {
		struct grade_issue t = g->issues[i];

		for (j = i; j > 0 && g->issues[j - 1].severity > t.severity;
		    j--)
			g->issues[j] = g->issues[j - 1];
		g->issues[j] = t;
	}
}

/*
 * 100 minus the weights, syntax errors (issues from record_parse())
 * capped at GRADE_SYNTAX_CAP in all, floor 0.  Each issue's weight is
 * set to what it actually took off.
 */
static void
score(struct grade_result *g)
{
	int total = 0, syntax = 0;
	size_t i;

	for (i = 0; i < g->nissues; i++) {
		struct grade_issue *is = &g->issues[i];
		const struct grade_code_info *ci = grade_code_lookup(is->code);

		if (ci != NULL && ci->record_code != NULL) {
			if (is->weight > GRADE_SYNTAX_CAP - syntax)
				is->weight = GRADE_SYNTAX_CAP - syntax;
			syntax += is->weight;
		}
		if (is->weight > 100 - total)
			is->weight = 100 - total;
		total += is->weight;
	}
	g->score = 100 - total;
}

static enum grade_status
normalize(const char *name, char **out)
{
	enum domain_status ds;

	if (name == NULL)
		return GRADE_ERR_DOMAIN;
	ds = domain_normalize_dup(name, strlen(name), out);
	if (ds == DOMAIN_OK)
		return GRADE_OK;
	return ds == DOMAIN_ERR_NOMEM ? GRADE_ERR_NOMEM : GRADE_ERR_DOMAIN;
}

enum grade_status
grade_check(const struct grade_input *in, struct grade_result **out)
{
	struct grade_result *g;
	struct gctx c;
	enum grade_status st;

	*out = NULL;
	if ((g = mem_calloc(1, sizeof(*g))) == NULL)
		return GRADE_ERR_NOMEM;
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.g = g;
	strbuf_init(&c.q[0]);
	strbuf_init(&c.q[1]);
	g->percentage = -1;
	if ((st = normalize(in->domain, &g->domain)) != GRADE_OK)
		goto fail;
	if (in->found_at != NULL) {
		if ((st = normalize(in->found_at, &g->policy_domain)) != GRADE_OK)
			goto fail;
		g->inherited = strcmp(g->policy_domain, g->domain) != 0;
	} else if ((g->policy_domain = mem_strdup(g->domain)) == NULL) {
		st = GRADE_ERR_NOMEM;
		goto fail;
	}
	if (in->org_domain != NULL &&
	    (st = normalize(in->org_domain, &c.org)) != GRADE_OK)
		goto fail;
	c.pd = g->policy_domain;

	grade_txts(&c);
	if (c.nomem) {
		st = GRADE_ERR_NOMEM;
		goto fail;
	}
	sort_issues(g);
	score(g);
	record_free(c.repaired);
	mem_free(c.org);
	strbuf_release(&c.q[0]);
	strbuf_release(&c.q[1]);
	*out = g;
	return GRADE_OK;
fail:
	record_free(c.repaired);
	mem_free(c.org);
	strbuf_release(&c.q[0]);
	strbuf_release(&c.q[1]);
	grade_result_free(g);
	return st;
}

void
grade_result_free(struct grade_result *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nissues; i++) {
		mem_free(g->issues[i].message);
		mem_free(g->issues[i].remediation);
		mem_free(g->issues[i].snippet.name);
		mem_free(g->issues[i].snippet.value);
	}
	for (i = 0; i < g->ndmarc_records; i++)
		mem_free(g->dmarc_records[i]);
	mem_free(g->dmarc_records);
	mem_free(g->issues);
	record_free(g->parsed);
	mem_free(g->record);
	mem_free(g->domain);
	mem_free(g->policy_domain);
	mem_free(g);
}
