/*
 * test_evaluate.c - the DMARC verdict: RFC 9989 sections 4.10.1 (p, sp,
 * np and their fallback), 5.3 (pass/fail, DNS errors), 4.7 (t=y),
 * RFC 7489 section 6.6.4 and RFC 9989 Appendix A.6 (pct in each mode),
 * with an injected random source so sampling is deterministic.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "policy/evaluate.h"
#include "policy/lookup_table.h"
#include "tap.h"

#define NOROLL	(-1)	/* the random source must not be called */
#define NOREASON (-1)

#define SPF_NONE	false, EVAL_AUTH_NONE, NULL, EVAL_SPF_MFROM
#define SPF(res, dom)	true, EVAL_AUTH_##res, dom, EVAL_SPF_MFROM
#define SPF_HELO(res, dom) true, EVAL_AUTH_##res, dom, EVAL_SPF_HELO
#define DKIM(res, dom)	{ dom, "sel", EVAL_AUTH_##res }

#define PASS	DMARC_RESULT_PASS
#define FAIL	DMARC_RESULT_FAIL
#define NONE	DMARC_RESULT_NONE
#define TEMP	DMARC_RESULT_TEMPERROR
#define PERM	DMARC_RESULT_PERMERROR
#define P_NONE	DMARC_POLICY_NONE
#define P_QUAR	DMARC_POLICY_QUARANTINE
#define P_REJ	DMARC_POLICY_REJECT
#define D_NONE	EVAL_DISP_NONE
#define D_PASS	EVAL_DISP_PASS
#define D_QUAR	EVAL_DISP_QUARANTINE
#define D_REJ	EVAL_DISP_REJECT

#define Z_REJECT "_dmarc.example.com TXT v=DMARC1; p=reject\n"

static const struct ecase {
	const char *name;
	const char *zone;
	const char *author;
	enum orgdomain_method method;
	enum eval_pct_mode pct_mode;
	int roll;
	bool spf_present;
	enum eval_auth_result spf;
	const char *spf_domain;
	enum eval_spf_scope scope;
	struct evaluate_dkim_input dkim[3];
	size_t ndkim;
	/* expected */
	enum dmarc_result result;
	enum eval_policy_tag tag;
	enum dmarc_policy policy;
	enum eval_disposition disp;
	int reason;
} cases[] = {
	/* DMARC pass and fail (RFC 9989 section 5.3.5) */
	{ "aligned SPF pass", Z_REJECT, "example.com", ORGDOMAIN_TREEWALK,
	    EVAL_PCT_SAMPLE, NOROLL, SPF(PASS, "example.com"), { { 0 } }, 0,
	    PASS, EVAL_TAG_P, P_REJ, D_PASS, NOREASON },
	{ "aligned DKIM pass (relaxed)", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(FAIL, "example.com"), { DKIM(PASS, "mail.example.com") }, 1,
	    PASS, EVAL_TAG_P, P_REJ, D_PASS, NOREASON },
	{ "unaligned SPF pass, DKIM fail: reject", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "bulk.example.net"), { DKIM(FAIL, "example.com") }, 1,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "no identifiers at all: fail", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "aligned SPF softfail is no pass", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(SOFTFAIL, "example.com"), { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "HELO-scope SPF pass never aligns", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_HELO(PASS, "example.com"), { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "several signatures: the third aligns", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { DKIM(FAIL, "example.com"), DKIM(PASS, "esp.example.net"),
	      DKIM(PASS, "example.com") }, 3,
	    PASS, EVAL_TAG_P, P_REJ, D_PASS, NOREASON },
	{ "adkim=s: subdomain signer fails (OpenDMARC regression)",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; adkim=s\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { DKIM(PASS, "mail.example.com") }, 1,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "aspf=s: subdomain MAIL FROM fails",
	    "_dmarc.example.com TXT v=DMARC1; p=quarantine; aspf=s\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "bounce.example.com"), { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_QUAR, D_QUAR, NOREASON },
	{ "d=co.uk never aligns with a.co.uk (psl)",
	    "_dmarc.a.co.uk TXT v=DMARC1; p=reject\n", "a.co.uk",
	    ORGDOMAIN_PSL, EVAL_PCT_SAMPLE, NOROLL, SPF(PASS, "co.uk"),
	    { DKIM(PASS, "co.uk") }, 1,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "d=test never aligns with x.test (treewalk, psd=y)",
	    "_dmarc.x.test TXT v=DMARC1; p=reject\n"
	    "_dmarc.test TXT v=DMARC1; p=none; psd=y\n", "x.test",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { DKIM(PASS, "test") }, 1,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },

	/* Discovery outcomes (sections 4.10.1, 5.3.2, 5.3.6) */
	{ "no record: DMARC does not apply", "", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(FAIL, "example.com"), { { 0 } }, 0,
	    NONE, EVAL_TAG_NONE, P_NONE, D_NONE, NOREASON },
	{ "DNS tempfail: temperror", "_dmarc.example.com TXT !tempfail\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "example.com"), { { 0 } }, 0,
	    TEMP, EVAL_TAG_NONE, P_NONE, D_NONE, NOREASON },
	{ "DNS permfail: permerror", "_dmarc.example.com TXT !permfail\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "example.com"), { { 0 } }, 0,
	    PERM, EVAL_TAG_NONE, P_NONE, D_NONE, NOREASON },
	{ "invalid p, no rua: permerror",
	    "_dmarc.example.com TXT v=DMARC1; p=rejekt\n", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, PERM, EVAL_TAG_NONE, P_NONE, D_NONE, NOREASON },
	{ "invalid p with rua: acts as p=none",
	    "_dmarc.example.com TXT v=DMARC1; p=rejekt; "
	    "rua=mailto:d@example.com\n", "example.com", ORGDOMAIN_TREEWALK,
	    EVAL_PCT_SAMPLE, NOROLL, SPF_NONE, { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_NONE, D_NONE, NOREASON },
	{ "invalid sp with rua: the whole record acts as p=none",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; sp=bogus; "
	    "rua=mailto:d@example.com\n", "mail.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_P, P_NONE, D_NONE, NOREASON },
	{ "no p tag: p=none", "_dmarc.example.com TXT v=DMARC1; "
	    "rua=mailto:d@example.com\n", "example.com", ORGDOMAIN_TREEWALK,
	    EVAL_PCT_SAMPLE, NOROLL, SPF_NONE, { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_NONE, D_NONE, NOREASON },

	/* p, sp, np (section 4.10.1) */
	{ "sp for an existing subdomain",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; sp=quarantine\n"
	    "mail.example.com A !ok\n", "mail.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_SP, P_QUAR, D_QUAR, NOREASON },
	{ "sp ignored for the policy domain itself",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; sp=none\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ,
	    NOREASON },
	{ "no sp: p for an existing subdomain",
	    "_dmarc.example.com TXT v=DMARC1; p=quarantine; np=reject\n"
	    "mail.example.com A !ok\n", "mail.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_P, P_QUAR, D_QUAR, NOREASON },
	{ "np for a non-existent subdomain (NXDOMAIN)",
	    "_dmarc.example.com TXT v=DMARC1; p=none; sp=quarantine; "
	    "np=reject\n", "ghost.example.com", ORGDOMAIN_TREEWALK,
	    EVAL_PCT_SAMPLE, NOROLL, SPF_NONE, { { 0 } }, 0,
	    FAIL, EVAL_TAG_NP, P_REJ, D_REJ, NOREASON },
	{ "NODATA subdomain exists: sp, not np",
	    "_dmarc.example.com TXT v=DMARC1; p=none; sp=quarantine; "
	    "np=reject\nmx.example.com A !nodata\n", "mx.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_SP, P_QUAR, D_QUAR, NOREASON },
	{ "np absent: sp for a non-existent subdomain",
	    "_dmarc.example.com TXT v=DMARC1; p=none; sp=quarantine\n",
	    "ghost.example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_SP, P_QUAR, D_QUAR,
	    NOREASON },
	{ "np and sp absent: p for a non-existent subdomain",
	    "_dmarc.example.com TXT v=DMARC1; p=reject\n",
	    "ghost.example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ,
	    NOREASON },
	{ "np from a PSD record",
	    "_dmarc.bank.example TXT v=DMARC1; p=none; np=reject; psd=y\n",
	    "ghost.mega.bank.example", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE,
	    NOROLL, SPF_NONE, { { 0 } }, 0,
	    FAIL, EVAL_TAG_NP, P_REJ, D_REJ, NOREASON },
	{ "np in psl mode too",
	    "_dmarc.example.com TXT v=DMARC1; p=none; np=quarantine\n",
	    "ghost.example.com", ORGDOMAIN_PSL, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_NP, P_QUAR, D_QUAR,
	    NOREASON },
	{ "existence unknown, np differs: temperror",
	    "_dmarc.example.com TXT v=DMARC1; p=none; np=reject\n"
	    "www.example.com A !tempfail\n", "www.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, TEMP, EVAL_TAG_P, P_NONE, D_NONE, NOREASON },
	{ "existence unknown, np same as sp: fail",
	    "_dmarc.example.com TXT v=DMARC1; p=none; sp=reject; np=reject\n"
	    "www.example.com A !tempfail\n", "www.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_SP, P_REJ, D_REJ, NOREASON },

	/* t=y (section 4.7) */
	{ "t=y: reject becomes quarantine",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; t=y\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_POLICY_TEST_MODE },
	{ "t=y: quarantine becomes none",
	    "_dmarc.example.com TXT v=DMARC1; p=quarantine; t=y\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_QUAR, D_NONE,
	    EVAL_OVERRIDE_POLICY_TEST_MODE },
	{ "t=y with p=none: no effect, no reason",
	    "_dmarc.example.com TXT v=DMARC1; p=none; t=y\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_NONE, D_NONE,
	    NOREASON },
	{ "t=y on sp",
	    "_dmarc.example.com TXT v=DMARC1; p=none; sp=reject; t=y\n"
	    "www.example.com A !ok\n", "www.example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { { 0 } }, 0, FAIL, EVAL_TAG_SP, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_POLICY_TEST_MODE },
	{ "t=y and pct=50: t=y alone, no sampling",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; t=y; pct=50\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_POLICY_TEST_MODE },
	{ "t=y does not touch a pass",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; t=y\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "example.com"), { { 0 } }, 0, PASS, EVAL_TAG_P, P_REJ,
	    D_PASS, NOREASON },

	/* pct, sample mode (RFC 7489 section 6.6.4) */
	{ "sample: pct=50, roll 49 is sampled",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=50\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, 49,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ,
	    NOREASON },
	{ "sample: pct=50, roll 50 is sampled out",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=50\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, 50,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_SAMPLED_OUT },
	{ "sample: quarantine sampled out is none",
	    "_dmarc.example.com TXT v=DMARC1; p=quarantine; pct=10\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, 99,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_QUAR, D_NONE,
	    EVAL_OVERRIDE_SAMPLED_OUT },
	{ "sample: pct=0 samples every message out",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=0\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, 0,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_SAMPLED_OUT },
	{ "sample: pct=100 draws nothing",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=100\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ,
	    NOREASON },
	{ "sample: p=none draws nothing",
	    "_dmarc.example.com TXT v=DMARC1; p=none; pct=0\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_NONE, D_NONE,
	    NOREASON },
	{ "sample: a pass draws nothing",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=0\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "example.com"), { { 0 } }, 0, PASS, EVAL_TAG_P, P_REJ,
	    D_PASS, NOREASON },

	/* pct, testing mode (RFC 9989 Appendix A.6) */
	{ "testing: pct=0 acts as t=y",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=0\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_TESTING, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_POLICY_TEST_MODE },
	{ "testing: pct=30 is ignored",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=30\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_TESTING, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ,
	    NOREASON },

	/* pct, ignore mode (RFC 9989) */
	{ "ignore: pct=0 ignored",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=0\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_IGNORE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_REJ,
	    NOREASON },
	{ "ignore: pct=50 ignored",
	    "_dmarc.example.com TXT v=DMARC1; p=quarantine; pct=50\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_IGNORE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_QUAR, D_QUAR,
	    NOREASON },
	{ "ignore: t=y still applies",
	    "_dmarc.example.com TXT v=DMARC1; p=reject; pct=0; t=y\n",
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_IGNORE, NOROLL,
	    SPF_NONE, { { 0 } }, 0, FAIL, EVAL_TAG_P, P_REJ, D_QUAR,
	    EVAL_OVERRIDE_POLICY_TEST_MODE },

	/* An unfinished identifier check (section 5.3.6, tests/faults) */
	{ "aligned SPF temperror, no DKIM: temperror, not fail", Z_REJECT,
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(TEMPERROR, "example.com"), { { 0 } }, 0,
	    TEMP, EVAL_TAG_P, P_REJ, D_NONE, NOREASON },
	{ "unaligned SPF temperror: fail", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(TEMPERROR, "bulk.example.net"), { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "aligned SPF temperror, aligned DKIM pass: pass", Z_REJECT,
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(TEMPERROR, "example.com"), { DKIM(PASS, "example.com") }, 1,
	    PASS, EVAL_TAG_P, P_REJ, D_PASS, NOREASON },
	{ "aligned DKIM temperror: temperror", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(FAIL, "example.com"), { DKIM(TEMPERROR, "mail.example.com") },
	    1, TEMP, EVAL_TAG_P, P_REJ, D_NONE, NOREASON },
	{ "unaligned DKIM temperror, same d= passing later: fail", Z_REJECT,
	    "example.com", ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF_NONE, { DKIM(TEMPERROR, "esp.example.net"),
	    DKIM(PASS, "esp.example.net") }, 2,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },
	{ "aligned SPF permerror stays fail", Z_REJECT, "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PERMERROR, "example.com"), { { 0 } }, 0,
	    FAIL, EVAL_TAG_P, P_REJ, D_REJ, NOREASON },

	/* DNS trouble during alignment (section 5.3.6) */
	{ "identifier walk tempfails: temperror",
	    Z_REJECT "_dmarc.sub.example.com TXT !tempfail\n", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { DKIM(PASS, "sub.example.com") }, 1,
	    TEMP, EVAL_TAG_P, P_REJ, D_NONE, NOREASON },
	{ "identifier walk tempfails but SPF aligns: pass",
	    Z_REJECT "_dmarc.sub.example.com TXT !tempfail\n", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL,
	    SPF(PASS, "example.com"), { DKIM(PASS, "sub.example.com") }, 1,
	    PASS, EVAL_TAG_P, P_REJ, D_PASS, NOREASON },
	{ "author org unknown (walk tempfail): relaxed temperror",
	    Z_REJECT "_dmarc.com TXT !tempfail\n", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { DKIM(PASS, "mail.example.com") }, 1,
	    TEMP, EVAL_TAG_P, P_REJ, D_NONE, NOREASON },
	{ "author org unknown, identical DKIM: pass",
	    Z_REJECT "_dmarc.com TXT !tempfail\n", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { DKIM(PASS, "example.com") }, 1,
	    PASS, EVAL_TAG_P, P_REJ, D_PASS, NOREASON },
	{ "author org unknown, unrelated DKIM: still unknown",
	    Z_REJECT "_dmarc.com TXT !tempfail\n", "example.com",
	    ORGDOMAIN_TREEWALK, EVAL_PCT_SAMPLE, NOROLL, SPF_NONE,
	    { DKIM(PASS, "example.net") }, 1,
	    TEMP, EVAL_TAG_P, P_REJ, D_NONE, NOREASON },
};

struct roll {
	unsigned value;
	int	 calls;
};

static unsigned
roll_fn(void *ctx)
{
	struct roll *r = ctx;

	r->calls++;
	return r->value;
}

static const char mini_psl[] =
	"// ===BEGIN ICANN DOMAINS===\n"
	"com\nnet\nuk\nco.uk\ntest\nexample\n"
	"// ===END ICANN DOMAINS===\n";

static orgdomain_psl *psl;

static orgdomain_psl *
load_mini_psl(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	enum orgdomain_status err;
	orgdomain_psl *p = NULL;
	int fd;

	if (dir == NULL || *dir == '\0' || strlen(dir) > 4000)
		dir = "/tmp";
	strcpy(path, dir);
	strcat(path, "/dm-psl-XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, mini_psl, sizeof(mini_psl) - 1) ==
	    (ssize_t)(sizeof(mini_psl) - 1))
		p = orgdomain_psl_new(path, &err);
	close(fd);
	unlink(path);
	return p;
}

/* Discovery and evaluation of one case; NULL on a set-up failure. */
static struct evaluate_result *
run(const struct ecase *c, const char *author, struct roll *roll,
    enum evaluate_status *stp)
{
	struct lookup_table *t = lookup_table_new();
	struct evaluate_options opts;
	struct evaluate_input in;
	struct discover_result *disc = NULL;
	struct evaluate_result *res = NULL;
	enum evaluate_status st = EVALUATE_ERR_INPUT;

	if (t == NULL || lookup_table_load(t, c->zone, strlen(c->zone),
	    NULL) != LOOKUP_TABLE_OK)
		goto done;
	memset(&opts, 0, sizeof(opts));
	opts.org.method = c->method;
	opts.org.psl = psl;
	opts.org.lookup = lookup_table_lookup;
	opts.org.lookup_ctx = t;
	opts.pct_mode = c->pct_mode;
	opts.random = roll_fn;
	opts.random_ctx = roll;
	(void)discover_policy(&opts.org, author, &disc);
	if (disc == NULL)
		goto done;
	memset(&in, 0, sizeof(in));
	in.author = author;
	in.discovery = disc;
	in.spf_present = c->spf_present;
	in.spf_result = c->spf;
	in.spf_domain = c->spf_domain;
	in.spf_scope = c->scope;
	in.dkim = c->dkim;
	in.ndkim = c->ndkim;
	st = evaluate_message(&opts, &in, &res);
done:
	if (stp != NULL)
		*stp = st;
	discover_result_free(disc);
	lookup_table_free(t);
	return res;
}

static void
test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ecase *c = &cases[i];
		struct roll roll = { c->roll < 0 ? 0 : (unsigned)c->roll, 0 };
		struct evaluate_result *r;
		enum evaluate_status st;

		r = run(c, c->author, &roll, &st);
		tap_int(st, EVALUATE_OK, "%s: evaluated", c->name);
		if (r == NULL)
			continue;
		tap_str(dmarc_result_name(r->result),
		    dmarc_result_name(c->result), "%s: dmarc", c->name);
		tap_str(eval_policy_tag_name(r->policy_tag),
		    eval_policy_tag_name(c->tag), "%s: policy tag", c->name);
		if (c->tag != EVAL_TAG_NONE)
			tap_str(dmarc_policy_name(r->policy),
			    dmarc_policy_name(c->policy), "%s: policy",
			    c->name);
		tap_str(eval_disposition_name(r->disposition),
		    eval_disposition_name(c->disp), "%s: disposition",
		    c->name);
		if (c->reason == NOREASON)
			tap_int(r->nreasons, 0, "%s: no reason", c->name);
		else
			tap_ok(r->nreasons == 1 &&
			    (int)r->reasons[0].type == c->reason,
			    "%s: reason %s", c->name,
			    eval_override_name(c->reason));
		if (c->roll == NOROLL)
			tap_int(roll.calls, 0, "%s: no random draw", c->name);
		else
			tap_int(roll.calls, 1, "%s: one random draw", c->name);
		evaluate_result_free(r);
	}
}

/* Uppercase input must not change the outcome (normalise at the
 * boundary): every case again with the author and identifiers
 * uppercased. */
static void
upper(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = (in[i] >= 'a' && in[i] <= 'z') ?
		    (char)(in[i] - 'a' + 'A') : in[i];
	out[i] = '\0';
}

static void
test_uppercase(void)
{
	char author[300], spf[300], dkim[3][300];
	size_t i, k;
	int same = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ecase c = cases[i];
		struct roll r1 = { c.roll < 0 ? 0 : (unsigned)c.roll, 0 };
		struct roll r2 = r1;
		struct evaluate_result *a, *b;

		upper(c.author, author, sizeof(author));
		if (c.spf_domain != NULL) {
			upper(c.spf_domain, spf, sizeof(spf));
			c.spf_domain = spf;
		}
		for (k = 0; k < c.ndkim; k++) {
			upper(c.dkim[k].domain, dkim[k], sizeof(dkim[k]));
			c.dkim[k].domain = dkim[k];
		}
		a = run(&cases[i], cases[i].author, &r1, NULL);
		b = run(&c, author, &r2, NULL);
		if (a != NULL && b != NULL && a->result == b->result &&
		    a->policy == b->policy &&
		    a->disposition == b->disposition &&
		    a->nreasons == b->nreasons &&
		    a->spf_aligned == b->spf_aligned &&
		    a->dkim_aligned == b->dkim_aligned &&
		    strcmp(a->header_from, b->header_from) == 0)
			same++;
		else
			tap_diag("uppercase differs: %s", c.name);
		evaluate_result_free(a);
		evaluate_result_free(b);
	}
	tap_int(same, sizeof(cases) / sizeof(cases[0]),
	    "uppercase author and identifiers: same verdict in every case");
}

/* Treewalk, SPF pass for spf_domain (if not NULL), the given signatures. */
static struct evaluate_result *
run_one(const char *zone, const char *author, const char *spf_domain,
    const struct evaluate_dkim_input *dkim, size_t ndkim)
{
	struct lookup_table *t = lookup_table_new();
	struct roll roll = { 0, 0 };
	struct evaluate_options opts;
	struct evaluate_input in;
	struct discover_result *disc = NULL;
	struct evaluate_result *res = NULL;

	if (t == NULL || lookup_table_load(t, zone, strlen(zone), NULL) !=
	    LOOKUP_TABLE_OK) {
		lookup_table_free(t);
		return NULL;
	}
	memset(&opts, 0, sizeof(opts));
	opts.org.lookup = lookup_table_lookup;
	opts.org.lookup_ctx = t;
	opts.random = roll_fn;
	opts.random_ctx = &roll;
	(void)discover_policy(&opts.org, author, &disc);
	memset(&in, 0, sizeof(in));
	in.author = author;
	in.discovery = disc;
	in.spf_present = spf_domain != NULL;
	in.spf_result = EVAL_AUTH_PASS;
	in.spf_domain = spf_domain;
	in.dkim = dkim;
	in.ndkim = ndkim;
	if (disc != NULL)
		(void)evaluate_message(&opts, &in, &res);
	discover_result_free(disc);
	lookup_table_free(t);
	return res;
}

static void
test_details(void)
{
	static const struct evaluate_dkim_input sigs[] = {
		DKIM(FAIL, "example.com"), DKIM(PASS, "esp.example.net"),
		DKIM(PASS, "Example.COM"), DKIM(PASS, "bad..name"),
	};
	struct evaluate_dkim_input many[EVALUATE_MAX_DKIM + 3];
	struct strbuf sb = STRBUF_INIT;
	struct evaluate_result *r;
	struct json j;
	size_t i;

	r = run_one("_dmarc.example.com TXT v=DMARC1; p=reject; sp=none; "
	    "np=quarantine; adkim=r; aspf=s; fo=1:d; pct=80; "
	    "rua=mailto:a@example.com,mailto:b@example.com; "
	    "ruf=mailto:f@example.com\n", "example.com", "bounce.example.com",
	    sigs, 4);
	tap_ok(r != NULL, "details: evaluated");
	if (r == NULL)
		return;
	tap_str(r->header_from, "example.com", "details: header_from");
	tap_str(r->policy_domain, "example.com", "details: policy domain");
	tap_str(r->org_domain, "example.com", "details: org domain");
	tap_int(r->discovery_method, ORGDOMAIN_TREEWALK, "details: method");
	tap_ok(r->have_policy && r->p == P_REJ && r->sp == P_NONE &&
	    r->np == P_QUAR && r->sp_published && r->np_published,
	    "details: p sp np published");
	tap_ok(r->adkim == DMARC_ALIGN_RELAXED &&
	    r->aspf == DMARC_ALIGN_STRICT &&
	    r->pct == 80 && r->fo == (DMARC_FO_1 | DMARC_FO_D) && !r->testing &&
	    r->psd == DMARC_PSD_U, "details: adkim aspf pct fo t psd");
	tap_str(r->rua, "mailto:a@example.com,mailto:b@example.com",
	    "details: rua joined");
	tap_str(r->ruf, "mailto:f@example.com", "details: ruf");
	tap_int(r->spf_aligned, ALIGN_FAIL, "details: aspf=s subdomain fails");
	tap_str(r->spf_domain, "bounce.example.com", "details: spf domain");
	tap_int(r->ndkim, 4, "details: four signatures");
	tap_int(r->dkim[0].aligned, ALIGN_FAIL, "details: failing sig");
	tap_int(r->dkim[1].aligned, ALIGN_FAIL, "details: unrelated sig");
	tap_int(r->dkim[2].aligned, ALIGN_PASS, "details: aligned sig");
	tap_str(r->dkim[2].domain, "example.com", "details: d= normalised");
	tap_str(r->dkim[2].selector, "sel", "details: selector kept");
	tap_int(r->dkim[3].aligned, ALIGN_ERR_DOMAIN, "details: bad d=");
	tap_str(r->dkim[3].domain, "bad..name", "details: bad d= kept");
	tap_int(r->dkim_aligned, ALIGN_PASS, "details: dkim aligned");
	tap_int(r->result, PASS, "details: pass");

	json_init(&j, &sb, false);
	evaluate_write_json(r, &j);
	tap_ok(!json_failed(&j), "json: written");
	tap_ok(strstr(strbuf_cstr(&sb), "\"policy_evaluated\":{\"dmarc\":"
	    "\"pass\",\"policy\":\"reject\",\"policy_tag\":\"p\","
	    "\"disposition\":\"pass\",\"dkim\":\"pass\",\"spf\":\"fail\","
	    "\"reasons\":[]}") != NULL, "json: policy_evaluated");
	tap_ok(strstr(strbuf_cstr(&sb), "\"fo\":\"1:d\"") != NULL &&
	    strstr(strbuf_cstr(&sb), "\"discovery_method\":\"treewalk\"") !=
	    NULL && strstr(strbuf_cstr(&sb), "{\"domain\":\"esp.example.net\","
	    "\"selector\":\"sel\",\"result\":\"pass\",\"aligned\":false,"
	    "\"alignment\":\"fail\"}") != NULL, "json: published and dkim");
	strbuf_reset(&sb);
	evaluate_write_text(r, &sb);
	tap_ok(strstr(strbuf_cstr(&sb), "dmarc           pass\n") != NULL &&
	    strstr(strbuf_cstr(&sb), "policy domain   example.com (author)") !=
	    NULL && strstr(strbuf_cstr(&sb), "fo=1:d") != NULL,
	    "text: verdict lines");

	/* Caller-added overrides show in both forms. */
	tap_int(evaluate_add_reason(r, EVAL_OVERRIDE_MAILING_LIST,
	    "list.example.org"), 0, "add reason");
	tap_int(evaluate_add_reason(r, EVAL_OVERRIDE_LOCAL_POLICY, NULL), 0,
	    "add reason without comment");
	strbuf_reset(&sb);
	json_init(&j, &sb, false);
	evaluate_write_json(r, &j);
	tap_ok(strstr(strbuf_cstr(&sb), "\"reasons\":[{\"type\":"
	    "\"mailing_list\",\"comment\":\"list.example.org\"},{\"type\":"
	    "\"local_policy\",\"comment\":null}]") != NULL,
	    "json: reasons");
	strbuf_reset(&sb);
	evaluate_write_text(r, &sb);
	tap_ok(strstr(strbuf_cstr(&sb), "(mailing_list list.example.org, "
	    "local_policy)") != NULL, "text: reasons");
	for (i = r->nreasons; i < EVALUATE_MAX_REASONS; i++)
		(void)evaluate_add_reason(r, EVAL_OVERRIDE_OTHER, "x");
	tap_int(evaluate_add_reason(r, EVAL_OVERRIDE_OTHER, "x"), -1,
	    "reasons: full list refused");
	evaluate_result_free(r);

	/* Signature cap: the ones beyond it are counted, not considered. */
	for (i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		many[i].domain = "esp.example.net";
		many[i].selector = "s";
		many[i].result = EVAL_AUTH_PASS;
	}
	many[EVALUATE_MAX_DKIM].domain = "example.com";	/* beyond: ignored */
	r = run_one(Z_REJECT, "example.com", NULL, many,
	    sizeof(many) / sizeof(many[0]));
	tap_ok(r != NULL && r->ndkim == EVALUATE_MAX_DKIM &&
	    r->ndkim_dropped == 3 && r->result == FAIL,
	    "dkim cap: %d kept, 3 dropped, fail", EVALUATE_MAX_DKIM);
	evaluate_result_free(r);
	strbuf_release(&sb);
}

/* RFC 9989 Appendix B.3.1 and B.2.5, end to end. */
static void
test_appendix_b(void)
{
	static const struct evaluate_dkim_input b31_dkim[] = {
		DKIM(PASS, "example.com"),
	};
	static const char b25_zone[] =
	    "_dmarc.example.com TXT v=DMARC1; p=none; "
	    "rua=mailto:dmarc-feedback@example.com\n"
	    "_dmarc.test.example.com TXT v=DMARC1; p=quarantine; "
	    "rua=mailto:dmarc-feedback@example.com,"
	    "mailto:tld-test@thirdparty.example.net; t=y\n"
	    "host.test.example.com A !ok\n";
	struct evaluate_result *r;

	r = run_one("_dmarc.example.com TXT v=DMARC1; p=reject; aspf=r; "
	    "rua=mailto:dmarc-feedback@example.com\n", "example.com",
	    "mail.example.com", b31_dkim, 1);
	tap_ok(r != NULL && r->spf_aligned == ALIGN_PASS &&
	    r->dkim_aligned == ALIGN_PASS && r->result == PASS &&
	    r->disposition == D_PASS && r->policy == P_REJ,
	    "B.3.1: SPF and DKIM both align, pass avoids reject");
	evaluate_result_free(r);

	r = run_one(b25_zone, "test.example.com", NULL, NULL, 0);
	tap_ok(r != NULL && r->result == FAIL && r->policy == P_QUAR &&
	    r->disposition == D_NONE && r->nreasons == 1 &&
	    r->reasons[0].type == EVAL_OVERRIDE_POLICY_TEST_MODE &&
	    r->rua != NULL && strcmp(r->rua, "mailto:dmarc-feedback@"
	    "example.com,mailto:tld-test@thirdparty.example.net") == 0,
	    "B.2.5: t=y quarantine tested as none, two rua");
	evaluate_result_free(r);

	/* The subdomain record does not cover names below it: those get
	 * the Organizational Domain's policy (RFC 9989 section 4.10.1). */
	r = run_one(b25_zone, "host.test.example.com", NULL, NULL, 0);
	tap_ok(r != NULL && r->policy_domain != NULL &&
	    strcmp(r->policy_domain, "example.com") == 0 &&
	    r->policy == P_NONE && r->policy_tag == EVAL_TAG_P &&
	    r->disposition == D_NONE && r->nreasons == 0,
	    "B.2.5: a name below test.example.com uses example.com");
	evaluate_result_free(r);
}

static void
test_errors(void)
{
	struct lookup_table *t = lookup_table_new();
	struct orgdomain_config cfg = { ORGDOMAIN_TREEWALK, NULL,
	    lookup_table_lookup, t };
	struct evaluate_options opts;
	struct evaluate_input in;
	struct discover_result *disc = NULL;
	struct evaluate_result *r = NULL;

	(void)lookup_table_load(t, Z_REJECT, strlen(Z_REJECT), NULL);
	(void)discover_policy(&cfg, "example.com", &disc);
	memset(&opts, 0, sizeof(opts));
	opts.org = cfg;
	memset(&in, 0, sizeof(in));
	in.author = "example.net";
	in.discovery = disc;
	tap_int(evaluate_message(&opts, &in, &r), EVALUATE_ERR_INPUT,
	    "discovery for another domain");
	tap_ok(r == NULL, "error: no result");
	in.author = "bad..name";
	tap_int(evaluate_message(&opts, &in, &r), EVALUATE_ERR_DOMAIN,
	    "invalid author");
	in.author = "example.com";
	in.discovery = NULL;
	tap_int(evaluate_message(&opts, &in, &r), EVALUATE_ERR_INPUT,
	    "no discovery");
	/* The default random source: pct=0 in sample mode is always out. */
	in.discovery = disc;
	evaluate_result_free(NULL);
	tap_int(evaluate_message(&opts, &in, &r), EVALUATE_OK,
	    "default random source: evaluated");
	evaluate_result_free(r);
	discover_result_free(disc);
	lookup_table_free(t);
}

static void
test_combine(void)
{
	struct evaluate_result a, b, c;
	const struct evaluate_result *v3[3] = { &a, &b, &c };
	struct evaluate_verdict v;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	a.result = PASS, a.disposition = D_PASS;
	b.result = FAIL, b.disposition = D_QUAR;
	c.result = NONE, c.disposition = D_NONE;
	evaluate_combine(v3, 3, &v);
	tap_ok(v.result == FAIL && v.disposition == D_QUAR && v.decisive == 1,
	    "combine: one failure decides");
	b.result = PASS, b.disposition = D_PASS;
	evaluate_combine(v3, 2, &v);
	tap_ok(v.result == PASS && v.disposition == D_PASS && v.decisive == 0,
	    "combine: all pass");
	evaluate_combine(v3, 3, &v);
	tap_ok(v.result == PASS && v.disposition == D_NONE,
	    "combine: pass and no policy");
	c.result = TEMP;
	evaluate_combine(v3, 3, &v);
	tap_ok(v.result == TEMP, "combine: temperror beats pass");
	a.result = FAIL, a.disposition = D_NONE;	/* p=none failure */
	b.result = FAIL, b.disposition = D_REJ;
	evaluate_combine(v3, 3, &v);
	tap_ok(v.result == FAIL && v.disposition == D_REJ && v.decisive == 1,
	    "combine: the strongest disposition");
	evaluate_combine(v3, 0, &v);
	tap_ok(v.result == NONE && v.disposition == D_NONE,
	    "combine: nothing");
}

static void
test_alloc(void)
{
	static const struct evaluate_dkim_input sigs[] = {
		DKIM(PASS, "esp.example.net"), DKIM(PASS, "mail.example.com"),
	};
	static const char zone[] = "_dmarc.example.com TXT v=DMARC1; "
	    "p=reject; pct=50; rua=mailto:a@example.com\n";
	struct lookup_table *t = lookup_table_new();
	struct evaluate_options opts;
	struct evaluate_input in;
	struct discover_result *disc = NULL;
	struct evaluate_result *r;
	struct roll roll = { 99, 0 };
	enum evaluate_status st = EVALUATE_ERR_NOMEM;
	size_t run;

	(void)lookup_table_load(t, zone, sizeof(zone) - 1, NULL);
	memset(&opts, 0, sizeof(opts));
	opts.org.lookup = lookup_table_lookup;
	opts.org.lookup_ctx = t;
	opts.random = roll_fn;
	opts.random_ctx = &roll;
	(void)discover_policy(&opts.org, "example.com", &disc);
	memset(&in, 0, sizeof(in));
	in.author = "example.com";
	in.discovery = disc;
	in.spf_present = true;
	in.spf_result = EVAL_AUTH_PASS;
	in.spf_domain = "bounce.example.net";
	in.dkim = sigs;
	/* Run 0: a relaxed DKIM pass (tree walks); run 1: a sampled-out
	 * failure (reasons). */
	for (run = 0; run < 2; run++) {
		enum dmarc_result want = run == 0 ? PASS : FAIL;
		long n, bad = 0, nomem = 0;

		in.ndkim = run == 0 ? 2 : 1;
		for (n = 0; disc != NULL && n < 100000; n++) {
			mem_fail_after(n);
			st = evaluate_message(&opts, &in, &r);
			mem_fail_after(-1);
			if (st == EVALUATE_ERR_NOMEM)
				nomem++;
			else if (st != EVALUATE_OK)
				bad++;
			if ((st == EVALUATE_OK) != (r != NULL))
				bad++;
			/* A failed copy inside the lookup table is a
			 * tempfail, as a resolver out of memory would be. */
			if (st == EVALUATE_OK && r->result != want &&
			    r->result != TEMP)
				bad++;
			evaluate_result_free(r);
			if (st == EVALUATE_OK && nomem == n)
				break;
		}
		tap_ok(st == EVALUATE_OK && bad == 0 && nomem > 0,
		    "alloc failures (%s): %ld rounds, %ld nomem, %ld bad",
		    dmarc_result_name(want), n, nomem, bad);
	}
	discover_result_free(disc);
	lookup_table_free(t);
}

static void
test_names(void)
{
	enum eval_auth_result ar;
	enum eval_override ov;
	enum eval_pct_mode pm;
	int i;

	for (i = EVAL_AUTH_NONE; i <= EVAL_AUTH_PERMERROR; i++) {
		tap_ok(eval_auth_result_parse(eval_auth_result_name(i), &ar) ==
		    0 && (int)ar == i, "auth result %s round-trips",
		    eval_auth_result_name(i));
	}
	tap_ok(eval_auth_result_parse("PASS", &ar) == 0 &&
	    ar == EVAL_AUTH_PASS, "auth result parse is case-blind");
	tap_ok(eval_auth_result_parse("hardfail", &ar) == -1,
	    "auth result parse rejects unknown");
	for (i = EVAL_OVERRIDE_FORWARDED; i <= EVAL_OVERRIDE_POLICY_TEST_MODE;
	    i++)
		tap_ok(eval_override_parse(eval_override_name(i), &ov) == 0 &&
		    (int)ov == i, "override %s round-trips",
		    eval_override_name(i));
	for (i = EVAL_PCT_SAMPLE; i <= EVAL_PCT_IGNORE; i++)
		tap_ok(eval_pct_mode_parse(eval_pct_mode_name(i), &pm) == 0 &&
		    (int)pm == i, "pct mode %s round-trips",
		    eval_pct_mode_name(i));
	tap_ok(eval_pct_mode_parse("random", &pm) == -1,
	    "pct mode parse rejects unknown");
	for (i = DMARC_RESULT_NONE; i <= DMARC_RESULT_PERMERROR; i++)
		tap_ok(strcmp(dmarc_result_name(i), "unknown") != 0,
		    "dmarc result %d named", i);
	for (i = EVAL_DISP_NONE; i <= EVAL_DISP_REJECT; i++)
		tap_ok(strcmp(eval_disposition_name(i), "unknown") != 0,
		    "disposition %d named", i);
	for (i = EVAL_TAG_NONE; i <= EVAL_TAG_NP; i++)
		tap_ok(strcmp(eval_policy_tag_name(i), "unknown") != 0,
		    "policy tag %d named", i);
	for (i = EVALUATE_OK; i <= EVALUATE_ERR_NOMEM; i++)
		tap_ok(strcmp(evaluate_strerror(i),
		    "unknown evaluation status") != 0, "status %d named", i);
	tap_str(eval_spf_scope_name(EVAL_SPF_MFROM), "mfrom", "scope mfrom");
	tap_str(eval_spf_scope_name(EVAL_SPF_HELO), "helo", "scope helo");
	{
		char buf[8];

		tap_str(eval_fo_string(DMARC_FO_0, buf), "0", "fo 0");
		tap_str(eval_fo_string(DMARC_FO_0 | DMARC_FO_D | DMARC_FO_S,
		    buf), "0:d:s", "fo 0:d:s");
		tap_str(eval_fo_string(0, buf), "0", "fo empty is 0");
	}
}

int
main(void)
{
	psl = load_mini_psl();
	tap_ok(psl != NULL, "small public suffix list loads");
	test_cases();
	test_uppercase();
	test_details();
	test_appendix_b();
	test_errors();
	test_combine();
	test_alloc();
	test_names();
	orgdomain_psl_free(psl);
	return tap_done();
}
