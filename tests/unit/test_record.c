/*
 * test_record.c - table-driven tests of the DMARC record parser.
 *
 * Each row gives a record, the status, every issue code in order, and
 * "key=value" checks on the parsed fields (see field()).  The rows cover
 * the seed's configurations and mistakes, RFC 9989 Appendix B, and every
 * issue code (checked at the end).  Then: positions, messages, bounds,
 * and an allocation-failure loop in the manner of expat's alloc_tests.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "policy/record.h"
#include "tap.h"

struct rcase {
	const char *name;
	const char *txt;
	enum record_status st;
	const char *codes;	/* every issue code, in order */
	const char *expect;	/* space-separated key=value checks */
};

static const struct rcase cases[] = {
	/* seed 003, "Common DMARC Configurations" 1-7 */
	{ "seed config 1 monitoring",
	  "v=DMARC1; p=none; rua=mailto:dmarc@example.com", RECORD_OK, "",
	  "p=none sp= np= nrua=1 rua0=mailto:dmarc@example.com pct=100 "
	  "adkim=r aspf=r fo=0 rf=afrf ri=86400 psd=u t=n treated=0" },
	{ "seed config 2 quarantine",
	  "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com",
	  RECORD_OK, "", "p=quarantine pct=100 nrua=1" },
	{ "seed config 3 reject",
	  "v=DMARC1; p=reject; pct=100; rua=mailto:dmarc@example.com",
	  RECORD_OK, "", "p=reject pct=100" },
	{ "seed config 4 strict alignment",
	  "v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:dmarc@example.com",
	  RECORD_OK, "", "p=reject adkim=s aspf=s" },
	{ "seed config 5 forensic",
	  "v=DMARC1; p=reject; rua=mailto:dmarc@example.com; "
	  "ruf=mailto:forensic@example.com; fo=1", RECORD_OK, "",
	  "fo=1 nruf=1 ruf0=mailto:forensic@example.com" },
	{ "seed config 6 subdomain policy",
	  "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com",
	  RECORD_OK, "", "p=reject sp=quarantine" },
	{ "seed config 7 two rua",
	  "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,"
	  "mailto:reports@dmarcanalyzer.com", RECORD_OK, "",
	  "nrua=2 rua1=mailto:reports@dmarcanalyzer.com rua1.valid=1" },
	{ "seed scenario no mail", "v=DMARC1; p=reject", RECORD_OK, "",
	  "p=reject nrua=0" },
	{ "seed scenario sp=none", "v=DMARC1; p=reject; sp=none", RECORD_OK,
	  "", "p=reject sp=none" },
	{ "seed best practice relaxed",
	  "v=DMARC1; p=reject; adkim=r; aspf=r", RECORD_OK, "",
	  "adkim=r aspf=r" },
	{ "seed quarantine pct=25",
	  "v=DMARC1; p=quarantine; pct=25; rua=mailto:dmarc@example.com",
	  RECORD_OK, "", "pct=25" },

	/* seed 003, "Common DMARC Issues" 6: syntax errors */
	{ "seed issue missing v",
	  "p=reject; rua=mailto:dmarc@example.com", RECORD_ERR_NOT_DMARC,
	  "v_missing", "pos.v_missing=0" },
	{ "seed issue wrong version", "v=DMARC2; p=reject",
	  RECORD_ERR_NOT_DMARC, "v_invalid", "pos.v_invalid=2" },
	{ "seed issue invalid policy", "v=DMARC1; p=block",
	  RECORD_ERR_INVALID, "p_invalid no_usable_policy",
	  "pos.p_invalid=12 pinv=1 p=" },
	{ "seed issue missing semicolon",
	  "v=DMARC1; p=reject rua=mailto:dmarc@example.com",
	  RECORD_ERR_INVALID, "no_usable_policy missing_semicolon",
	  "pos.missing_semicolon=18 pinv=1 nrua=0" },

	/* RFC 9989 Appendix B (TXT character-strings joined) */
	{ "rfc9989 B.2.1",
	  "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com",
	  RECORD_OK, "", "p=none rua0=mailto:dmarc-feedback@example.com" },
	{ "rfc9989 B.2.2",
	  "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
	  "ruf=mailto:auth-reports@example.com", RECORD_OK, "",
	  "nrua=1 nruf=1" },
	{ "rfc9989 B.2.3",
	  "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
	  "ruf=mailto:auth-reports@thirdparty.example.net", RECORD_OK, "",
	  "ruf0=mailto:auth-reports@thirdparty.example.net" },
	{ "rfc9989 B.2.3 authorization", "v=DMARC1;", RECORD_OK,
	  "p_missing", "p= treated=0" },
	{ "rfc9989 B.2.4 override",
	  "v=DMARC1; rua=mailto:aggregate-reports@thirdparty.example.net; "
	  "ruf=mailto:failure-reports@thirdparty.example.net", RECORD_OK,
	  "p_missing", "nrua=1 nruf=1" },
	{ "rfc9989 B.2.5 testing",
	  "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
	  "mailto:tld-test@thirdparty.example.net; t=y", RECORD_OK, "",
	  "p=quarantine t=y nrua=2" },
	{ "rfc9989 B.2.5 final",
	  "v=DMARC1; p=reject; rua=mailto:dmarc-feedback@example.com,"
	  "mailto:tld-test@thirdparty.example.net", RECORD_OK, "",
	  "p=reject t=n nrua=2" },
	{ "rfc9989 B.4.3 psd", "v=DMARC1; psd=y; p=reject", RECORD_OK, "",
	  "psd=y p=reject" },
	{ "rfc9989 np and psd=n",
	  "v=DMARC1; p=reject; sp=quarantine; np=reject; psd=n",
	  RECORD_OK, "", "np=reject sp=quarantine psd=n" },

	/* Case and spacing (RFC 5234 section 2.3, RFC 7405) */
	{ "v value is case-sensitive", "v=dmarc1; p=none",
	  RECORD_ERR_NOT_DMARC, "v_invalid", "" },
	{ "tag names and keywords any case",
	  "V=DMARC1; P=Reject; SP=None; ADKIM=S; RUA=MAILTO:D@EXAMPLE.COM",
	  RECORD_OK, "", "p=reject sp=none adkim=s nrua=1 rua0.valid=1" },
	{ "spaces around = and ;",
	  "v = DMARC1 ;p = reject ;\trua = mailto:d@example.com ; ",
	  RECORD_OK, "", "p=reject nrua=1" },
	{ "no spaces at all", "v=DMARC1;p=none;rua=mailto:d@example.com;",
	  RECORD_OK, "", "p=none nrua=1" },
	{ "leading whitespace", "  v=DMARC1; p=none", RECORD_OK,
	  "leading_whitespace", "p=none" },
	{ "version missing semicolon", "v=DMARC1 p=reject",
	  RECORD_ERR_NOT_DMARC, "missing_semicolon",
	  "pos.missing_semicolon=8" },
	{ "version not first", "p=none; v=DMARC1", RECORD_ERR_NOT_DMARC,
	  "v_not_first", "pos.v_not_first=8" },
	{ "version twice late", "p=none; v=DMARC1; v=DMARC1",
	  RECORD_ERR_NOT_DMARC, "v_not_first duplicate_tag", "" },
	{ "quoted record", "\"v=DMARC1; p=none\"", RECORD_ERR_NOT_DMARC,
	  "v_missing p_invalid", "" },
	{ "empty record", "", RECORD_ERR_NOT_DMARC, "v_missing", "" },
	{ "spf record", "v=spf1 include:_spf.example.com ~all",
	  RECORD_ERR_NOT_DMARC, "v_invalid", "" },
	{ "version DMARC10", "v=DMARC10; p=none", RECORD_ERR_NOT_DMARC,
	  "v_invalid", "" },
	{ "version without =", "v DMARC1; p=none", RECORD_ERR_NOT_DMARC,
	  "v_missing", "" },

	/* Structure */
	{ "empty tag between", "v=DMARC1;; p=none", RECORD_OK, "empty_tag",
	  "pos.empty_tag=9 p=none" },
	{ "two trailing semicolons", "v=DMARC1; p=none;;", RECORD_OK,
	  "empty_tag", "p=none" },
	{ "tag syntax colon", "v=DMARC1; p=none; rua:mailto:a@example.com",
	  RECORD_OK, "tag_syntax", "pos.tag_syntax=18 nrua=0" },
	{ "tag syntax no name", "v=DMARC1; p=none; =x", RECORD_OK,
	  "tag_syntax", "" },
	{ "tag syntax bare word", "v=DMARC1; p=none; reject", RECORD_OK,
	  "tag_syntax", "" },
	{ "unknown tag", "v=DMARC1; p=none; foo=bar", RECORD_OK,
	  "unknown_tag", "pos.unknown_tag=18" },
	{ "duplicate p first wins", "v=DMARC1; p=none; p=reject", RECORD_OK,
	  "duplicate_tag", "p=none pos.duplicate_tag=18" },
	{ "duplicate v", "v=DMARC1; p=none; v=DMARC1", RECORD_OK,
	  "duplicate_tag", "" },
	{ "empty p", "v=DMARC1; p=", RECORD_ERR_INVALID,
	  "empty_value no_usable_policy", "pinv=1" },
	{ "empty adkim", "v=DMARC1; p=none; adkim=", RECORD_OK,
	  "empty_value", "adkim=r" },
	{ "missing semicolon later tag",
	  "v=DMARC1; p=none; adkim=s aspf=s", RECORD_OK, "missing_semicolon",
	  "adkim=r aspf=r" },

	/* Policies and RFC 9989 section 4.10.1 */
	{ "invalid p with valid rua acts as none",
	  "v=DMARC1; p=block; rua=mailto:d@example.com", RECORD_OK,
	  "p_invalid treated_as_none", "treated=1 pinv=1 p=" },
	{ "invalid sp with valid rua",
	  "v=DMARC1; p=reject; sp=bogus; rua=mailto:d@example.com", RECORD_OK,
	  "sp_invalid treated_as_none", "treated=1 spinv=1 p=reject" },
	{ "invalid sp without rua", "v=DMARC1; p=reject; sp=bogus",
	  RECORD_ERR_INVALID, "sp_invalid no_usable_policy", "spinv=1" },
	{ "invalid np without rua", "v=DMARC1; p=reject; np=rejected",
	  RECORD_ERR_INVALID, "np_invalid no_usable_policy", "npinv=1" },
	{ "invalid p, only invalid rua",
	  "v=DMARC1; p=block; rua=dmarc@example.com", RECORD_ERR_INVALID,
	  "p_invalid no_usable_policy uri_no_scheme", "" },
	{ "invalid p, https rua counts",
	  "v=DMARC1; p=x; rua=https://r.example.com/d", RECORD_OK,
	  "p_invalid treated_as_none uri_scheme_unsupported", "treated=1" },
	{ "missing p", "v=DMARC1; rua=mailto:d@example.com", RECORD_OK,
	  "p_missing", "p= treated=0" },

	/* Single-value tags */
	{ "adkim invalid", "v=DMARC1; p=none; adkim=x", RECORD_OK,
	  "adkim_invalid", "adkim=r pos.adkim_invalid=24" },
	{ "aspf invalid", "v=DMARC1; p=none; aspf=relaxed", RECORD_OK,
	  "aspf_invalid", "aspf=r" },
	{ "psd invalid", "v=DMARC1; p=none; psd=maybe", RECORD_OK,
	  "psd_invalid", "psd=u" },
	{ "psd u", "v=DMARC1; p=none; psd=u", RECORD_OK, "", "psd=u" },
	{ "t invalid", "v=DMARC1; p=none; t=yes", RECORD_OK, "t_invalid",
	  "t=n" },
	{ "t=n", "v=DMARC1; p=none; t=n", RECORD_OK, "", "t=n" },

	/* fo, rf, ri, pct */
	{ "fo list", "v=DMARC1; p=none; fo=1:d:s", RECORD_OK, "",
	  "fo=1:d:s" },
	{ "fo d first", "v=DMARC1; p=none; fo=d:0", RECORD_OK, "", "fo=0:d" },
	{ "fo 0 and 1", "v=DMARC1; p=none; fo=0:1", RECORD_OK, "fo_invalid",
	  "fo=0" },
	{ "fo repeated", "v=DMARC1; p=none; fo=d:d", RECORD_OK, "fo_invalid",
	  "fo=0" },
	{ "fo bad value", "v=DMARC1; p=none; fo=2", RECORD_OK, "fo_invalid",
	  "fo=0" },
	{ "fo trailing colon", "v=DMARC1; p=none; fo=1:", RECORD_OK,
	  "fo_invalid", "fo=0" },
	{ "rf iodef", "v=DMARC1; p=none; rf=afrf:iodef", RECORD_OK, "",
	  "rf=afrf:iodef" },
	{ "rf invalid", "v=DMARC1; p=none; rf=xml", RECORD_OK, "rf_invalid",
	  "rf=afrf" },
	{ "ri max", "v=DMARC1; p=none; ri=4294967295", RECORD_OK, "",
	  "ri=4294967295" },
	{ "ri overflow", "v=DMARC1; p=none; ri=4294967296", RECORD_OK,
	  "ri_invalid", "ri=86400" },
	{ "ri not a number", "v=DMARC1; p=none; ri=1d", RECORD_OK,
	  "ri_invalid", "ri=86400" },
	{ "pct zero", "v=DMARC1; p=reject; pct=0", RECORD_OK, "", "pct=0" },
	{ "pct leading zeros", "v=DMARC1; p=reject; pct=050", RECORD_OK, "",
	  "pct=50" },
	{ "pct above 100", "v=DMARC1; p=reject; pct=150", RECORD_OK,
	  "pct_out_of_range", "pct=100" },
	{ "pct huge", "v=DMARC1; p=reject; pct=99999999999999999999999",
	  RECORD_OK, "pct_out_of_range", "pct=100" },
	{ "pct negative", "v=DMARC1; p=reject; pct=-5", RECORD_OK,
	  "pct_invalid", "pct=100" },
	{ "pct decimal", "v=DMARC1; p=reject; pct=50.5", RECORD_OK,
	  "pct_invalid", "pct=100" },
	{ "pct digits then junk", "v=DMARC1; p=reject; pct=999x", RECORD_OK,
	  "pct_invalid", "pct=100" },

	/* URIs and !size */
	{ "size plain", "v=DMARC1; p=none; rua=mailto:a@example.com!100",
	  RECORD_OK, "uri_size_obsolete",
	  "rua0=mailto:a@example.com rua0.size=100" },
	{ "size k", "v=DMARC1; p=none; rua=mailto:a@example.com!1k",
	  RECORD_OK, "uri_size_obsolete", "rua0.size=1024" },
	{ "size m", "v=DMARC1; p=none; rua=mailto:a@example.com!10m",
	  RECORD_OK, "uri_size_obsolete", "rua0.size=10485760" },
	{ "size G upper", "v=DMARC1; p=none; rua=mailto:a@example.com!2G",
	  RECORD_OK, "uri_size_obsolete", "rua0.size=2147483648" },
	{ "size t", "v=DMARC1; p=none; rua=mailto:a@example.com!1t",
	  RECORD_OK, "uri_size_obsolete", "rua0.size=1099511627776" },
	{ "size max", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com!18446744073709551615", RECORD_OK,
	  "uri_size_obsolete", "rua0.size=18446744073709551615" },
	{ "size overflow digits", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com!18446744073709551616", RECORD_OK,
	  "uri_size_overflow", "rua0.size=0 rua0.valid=1" },
	{ "size overflow unit", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com!17179869184t", RECORD_OK,
	  "uri_size_overflow", "rua0.size=0" },
	{ "size bad unit", "v=DMARC1; p=none; rua=mailto:a@example.com!10x",
	  RECORD_OK, "uri_size_invalid", "rua0.size=0 rua0.valid=1 "
	  "pos.uri_size_invalid=42" },
	{ "size empty", "v=DMARC1; p=none; rua=mailto:a@example.com!",
	  RECORD_OK, "uri_size_invalid", "" },
	{ "size unit only", "v=DMARC1; p=none; rua=mailto:a@example.com!k",
	  RECORD_OK, "uri_size_invalid", "" },
	{ "uri list spaces", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com , mailto:b@example.com!5m", RECORD_OK,
	  "uri_size_obsolete", "nrua=2 rua1=mailto:b@example.com" },
	{ "uri empty entry", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com,,mailto:b@example.com", RECORD_OK,
	  "uri_empty", "nrua=2 pos.uri_empty=43" },
	{ "uri no scheme", "v=DMARC1; p=none; rua=dmarc@example.com",
	  RECORD_OK, "uri_no_scheme", "nrua=1 rua0.valid=0" },
	{ "uri space instead of comma", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com mailto:b@example.com", RECORD_OK,
	  "uri_invalid", "rua0.valid=0 pos.uri_invalid=42" },
	{ "uri bad percent", "v=DMARC1; p=none; rua=mailto:a%zz@example.com",
	  RECORD_OK, "uri_invalid", "" },
	{ "uri percent ok", "v=DMARC1; p=none; rua=mailto:a%2Bb@example.com",
	  RECORD_OK, "", "rua0.valid=1" },
	{ "uri scheme only", "v=DMARC1; p=none; rua=mailto:", RECORD_OK,
	  "uri_invalid", "" },
	{ "mailto no at", "v=DMARC1; p=none; rua=mailto:example.com",
	  RECORD_OK, "uri_mailto_invalid", "rua0.valid=0" },
	{ "mailto empty local", "v=DMARC1; p=none; rua=mailto:@example.com",
	  RECORD_OK, "uri_mailto_invalid", "" },
	{ "mailto empty domain", "v=DMARC1; p=none; rua=mailto:a@",
	  RECORD_OK, "uri_mailto_invalid", "" },
	{ "mailto bad domain", "v=DMARC1; p=none; rua=mailto:a@ex..com",
	  RECORD_OK, "uri_mailto_invalid", "" },
	{ "mailto query", "v=DMARC1; p=none; "
	  "rua=mailto:a@example.com?subject=dmarc", RECORD_OK, "",
	  "rua0.valid=1" },
	{ "https rua", "v=DMARC1; p=none; rua=https://r.example.com/dmarc",
	  RECORD_OK, "uri_scheme_unsupported", "rua0.valid=1" },
	{ "ruf errors", "v=DMARC1; p=none; ruf=forensic@example.com",
	  RECORD_OK, "uri_no_scheme", "nruf=1 ruf0.valid=0" },
};

/* Render one field of r for comparison with a key=value check. */
static const char *
field(const struct dmarc_record *r, const char *key, char *buf, size_t n)
{
	unsigned idx;
	char sub[16];

	if (strcmp(key, "p") == 0)
		return dmarc_policy_name(r->p);
	if (strcmp(key, "sp") == 0)
		return dmarc_policy_name(r->sp);
	if (strcmp(key, "np") == 0)
		return dmarc_policy_name(r->np);
	if (strcmp(key, "adkim") == 0)
		return r->adkim == DMARC_ALIGN_STRICT ? "s" : "r";
	if (strcmp(key, "aspf") == 0)
		return r->aspf == DMARC_ALIGN_STRICT ? "s" : "r";
	if (strcmp(key, "psd") == 0)
		return r->psd == DMARC_PSD_Y ? "y" : r->psd == DMARC_PSD_N ?
		    "n" : "u";
	if (strcmp(key, "t") == 0)
		return r->testing ? "y" : "n";
	if (strcmp(key, "fo") == 0) {
		snprintf(buf, n, "%s%s%s%s%s%s%s",
		    r->fo & DMARC_FO_0 ? "0" : "", r->fo & DMARC_FO_1 ? "1" : "",
		    (r->fo & (DMARC_FO_0 | DMARC_FO_1)) &&
		    (r->fo & DMARC_FO_D) ? ":" : "",
		    r->fo & DMARC_FO_D ? "d" : "",
		    (r->fo & (DMARC_FO_0 | DMARC_FO_1 | DMARC_FO_D)) &&
		    (r->fo & DMARC_FO_S) ? ":" : "",
		    r->fo & DMARC_FO_S ? "s" : "", "");
		return buf;
	}
	if (strcmp(key, "rf") == 0)
		return r->rf == (DMARC_RF_AFRF | DMARC_RF_IODEF) ?
		    "afrf:iodef" : r->rf == DMARC_RF_IODEF ? "iodef" :
		    r->rf == DMARC_RF_AFRF ? "afrf" : "?";
	if (strcmp(key, "pct") == 0) {
		snprintf(buf, n, "%d", r->pct);
		return buf;
	}
	if (strcmp(key, "ri") == 0) {
		snprintf(buf, n, "%lu", (unsigned long)r->ri);
		return buf;
	}
	if (strcmp(key, "nrua") == 0 || strcmp(key, "nruf") == 0) {
		snprintf(buf, n, "%zu", key[3] == 'a' ? r->nrua : r->nruf);
		return buf;
	}
	if (strcmp(key, "treated") == 0)
		return r->treated_as_none ? "1" : "0";
	if (strcmp(key, "pinv") == 0)
		return r->p_invalid ? "1" : "0";
	if (strcmp(key, "spinv") == 0)
		return r->sp_invalid ? "1" : "0";
	if (strcmp(key, "npinv") == 0)
		return r->np_invalid ? "1" : "0";
	if (strncmp(key, "pos.", 4) == 0) {
		const struct record_issue *is = record_find_issue(r, key + 4);

		if (is == NULL)
			return "(no such issue)";
		snprintf(buf, n, "%zu", is->pos);
		return buf;
	}
	if ((strncmp(key, "rua", 3) == 0 || strncmp(key, "ruf", 3) == 0) &&
	    sscanf(key + 3, "%u%15s", &idx, sub) >= 1) {
		const struct dmarc_uri *u = key[2] == 'a' ? r->rua : r->ruf;
		size_t nu = key[2] == 'a' ? r->nrua : r->nruf;

		if (idx >= nu)
			return "(no such uri)";
		if (strchr(key, '.') == NULL)
			return u[idx].uri;
		if (strcmp(strchr(key, '.'), ".size") == 0) {
			snprintf(buf, n, "%llu",
			    (unsigned long long)u[idx].max_size);
			return buf;
		}
		if (strcmp(strchr(key, '.'), ".valid") == 0)
			return u[idx].valid ? "1" : "0";
	}
	return "(unknown key)";
}

static void
codes_of(const struct dmarc_record *r, char *buf, size_t n)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nissues && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s",
		    i > 0 ? " " : "", r->issues[i].code);
}

/* Every code produced, to prove each one is tested. */
static bool seen_code[64];

static void
note_codes(const struct dmarc_record *r)
{
	size_t i, k;

	for (i = 0; i < r->nissues; i++) {
		for (k = 0; record_issue_codes[k] != NULL; k++)
			if (strcmp(record_issue_codes[k], r->issues[i].code) == 0)
				break;
		tap_ok(record_issue_codes[k] != NULL,
		    "issue code %s is listed in record_issue_codes",
		    r->issues[i].code);
		if (record_issue_codes[k] != NULL)
			seen_code[k] = true;
	}
}

static void
run_case(const struct rcase *c)
{
	struct dmarc_record *r = NULL;
	enum record_status st;
	char codes[1024], buf[64], key[64], want[256];
	const char *p;
	size_t i;

	st = record_parse(c->txt, strlen(c->txt), &r);
	tap_int(st, c->st, "%s: status (%s)", c->name, record_strerror(st));
	if (r == NULL) {
		tap_ok(0, "%s: record returned", c->name);
		return;
	}
	codes_of(r, codes, sizeof(codes));
	tap_str(codes, c->codes, "%s: issue codes", c->name);
	tap_ok(record_is_dmarc(c->txt, strlen(c->txt)) ==
	    (st != RECORD_ERR_NOT_DMARC), "%s: record_is_dmarc agrees",
	    c->name);
	tap_ok(r->raw_len == strlen(c->txt) &&
	    memcmp(r->raw, c->txt, r->raw_len) == 0, "%s: raw kept", c->name);
	for (i = 0; i < r->nissues; i++)
		tap_ok(r->issues[i].message != NULL &&
		    strlen(r->issues[i].message) > 10 &&
		    r->issues[i].pos <= r->raw_len,
		    "%s: issue %s has a message and a position in range",
		    c->name, r->issues[i].code);
	note_codes(r);
	for (p = c->expect; *p != '\0';) {
		size_t kl = strcspn(p, "="), vl;

		if (kl >= sizeof(key))
			break;
		memcpy(key, p, kl);
		key[kl] = '\0';
		p += kl + (p[kl] == '=');
		vl = strcspn(p, " ");
		if (vl >= sizeof(want))
			break;
		memcpy(want, p, vl);
		want[vl] = '\0';
		p += vl;
		p += strspn(p, " ");
		tap_str(field(r, key, buf, sizeof(buf)), want, "%s: %s",
		    c->name, key);
	}
	record_free(r);
}

/* Messages name the tag and the bad value, escaped and cut. */
static void
test_messages(void)
{
	static const char bad[] = "v=DMARC1; p=bl\001ock\"x";
	struct dmarc_record *r;
	static const char nul[] = "v=DMARC1; p=none\0x; rua=mailto:a@example.com";
	static const char semi[] = "v=DMARC1; p=reject rua=mailto:d@example.com";
	char longv[600];
	const struct record_issue *is;

	record_parse(bad, sizeof(bad) - 1, &r);
	is = r != NULL ? record_find_issue(r, "p_invalid") : NULL;
	tap_ok(is != NULL && strstr(is->message, "Tag p") != NULL &&
	    strstr(is->message, "bl\\x01ock\\\"x") != NULL,
	    "message names tag p and escapes the value: %s",
	    is != NULL ? is->message : "(none)");
	record_free(r);

	memset(longv, 0, sizeof(longv));
	strcpy(longv, "v=DMARC1; p=none; adkim=");
	memset(longv + strlen(longv), 'x', 500);
	record_parse(longv, strlen(longv), &r);
	is = r != NULL ? record_find_issue(r, "adkim_invalid") : NULL;
	tap_ok(is != NULL && strstr(is->message, "...") != NULL &&
	    strlen(is->message) < 300, "a long bad value is cut in the message");
	record_free(r);

	/* A NUL inside the record is data, not the end. */
	record_parse(nul, sizeof(nul) - 1, &r);
	tap_ok(r != NULL && r->p_invalid && r->treated_as_none &&
	    r->raw_len == sizeof(nul) - 1,
	    "embedded NUL makes p invalid, kept in raw");
	is = r != NULL ? record_find_issue(r, "p_invalid") : NULL;
	tap_ok(is != NULL && strstr(is->message, "\\x00") != NULL,
	    "embedded NUL is escaped in the message");
	record_free(r);

	record_parse(semi, sizeof(semi) - 1, &r);
	is = r != NULL ? record_find_issue(r, "missing_semicolon") : NULL;
	tap_ok(is != NULL && strstr(is->message, "tag p") != NULL &&
	    strstr(is->message, "\"rua=mailto:d@example.com\"") != NULL,
	    "missing semicolon message names the tag and what follows: %s",
	    is != NULL ? is->message : "(none)");
	record_free(r);

	record_parse("v=dmarc1; p=none", 16, &r);
	is = r != NULL ? record_find_issue(r, "v_invalid") : NULL;
	tap_ok(is != NULL && strstr(is->message, "case-sensitive") != NULL,
	    "lowercase version says the value is case-sensitive");
	record_free(r);
}

static void
test_bounds(void)
{
	struct dmarc_record *r;
	char *big;
	size_t i, len;
	enum record_status st;
	char list[2048];

	/* exactly RECORD_MAX_LEN is parsed, one more is refused */
	big = malloc(RECORD_MAX_LEN + 2);
	strcpy(big, "v=DMARC1; p=reject; x=");
	len = strlen(big);
	memset(big + len, 'a', RECORD_MAX_LEN - len);
	big[RECORD_MAX_LEN] = '\0';
	st = record_parse(big, RECORD_MAX_LEN, &r);
	tap_int(st, RECORD_OK, "record of RECORD_MAX_LEN bytes parses");
	tap_ok(r != NULL && r->p == DMARC_POLICY_REJECT, "its p is read");
	record_free(r);
	big[RECORD_MAX_LEN] = 'a';
	big[RECORD_MAX_LEN + 1] = '\0';
	st = record_parse(big, RECORD_MAX_LEN + 1, &r);
	tap_int(st, RECORD_ERR_TOO_LONG, "record over RECORD_MAX_LEN refused");
	tap_ok(r != NULL && r->nissues == 1 &&
	    strcmp(r->issues[0].code, "record_too_long") == 0 &&
	    r->issues[0].pos == RECORD_MAX_LEN && r->raw_len == RECORD_MAX_LEN,
	    "too long: one issue at the bound, raw cut to the bound");
	if (r != NULL)
		note_codes(r);
	record_free(r);
	free(big);

	/* more than RECORD_MAX_ISSUES issues are counted, not kept */
	strcpy(list, "v=DMARC1; p=none");
	for (i = 0; i < 100; i++)
		strcat(list, "; zz=1");
	st = record_parse(list, strlen(list), &r);
	tap_ok(st == RECORD_OK && r->nissues == RECORD_MAX_ISSUES &&
	    r->issues_dropped == 100 - RECORD_MAX_ISSUES,
	    "issues capped at RECORD_MAX_ISSUES, the rest counted");
	record_free(r);

	/* more than RECORD_MAX_URIS URIs */
	strcpy(list, "v=DMARC1; p=none; rua=");
	for (i = 0; i < RECORD_MAX_URIS + 3; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%smailto:r%zu@example.com", i > 0 ? "," : "", i);
	st = record_parse(list, strlen(list), &r);
	tap_ok(st == RECORD_OK && r->nrua == RECORD_MAX_URIS &&
	    record_find_issue(r, "too_many_uris") != NULL && r->nissues == 1,
	    "rua capped at RECORD_MAX_URIS with one too_many_uris issue");
	if (r != NULL)
		note_codes(r);
	record_free(r);

	record_free(NULL);
	tap_ok(1, "record_free(NULL) is a no-op");
	st = record_parse(NULL, 0, &r);
	tap_ok(st == RECORD_ERR_NOT_DMARC && r != NULL && r->raw_len == 0,
	    "NULL text is an empty record");
	record_free(r);
}

static void
test_accessors(void)
{
	static const struct {
		const char *txt;
		enum dmarc_policy p, sp, np;
	} t[] = {
		{ "v=DMARC1; p=reject", DMARC_POLICY_REJECT,
		  DMARC_POLICY_REJECT, DMARC_POLICY_REJECT },
		{ "v=DMARC1; p=reject; sp=none", DMARC_POLICY_REJECT,
		  DMARC_POLICY_NONE, DMARC_POLICY_NONE },
		{ "v=DMARC1; p=none; sp=quarantine; np=reject",
		  DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE,
		  DMARC_POLICY_REJECT },
		{ "v=DMARC1; sp=reject", DMARC_POLICY_NONE,
		  DMARC_POLICY_REJECT, DMARC_POLICY_REJECT },
		{ "v=DMARC1; p=reject; np=x; rua=mailto:a@example.com",
		  DMARC_POLICY_NONE, DMARC_POLICY_NONE, DMARC_POLICY_NONE },
	};
	static const struct {
		const char *uri, *host;
	} h[] = {
		{ "mailto:dmarc@Example.COM", "Example.COM" },
		{ "mailto:a@b@example.net?subject=x", "example.net" },
		{ "https://user@reports.example.org:8443/x", "reports.example.org" },
		{ "https://[2001:db8::1]:443/x", "[2001:db8::1]" },
		{ "http://example.com", "example.com" },
		{ "mailto:nobody", NULL },
		{ "urn:x:y", NULL },
		{ "nocolon", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dmarc_record *r;

		record_parse(t[i].txt, strlen(t[i].txt), &r);
		tap_str(dmarc_policy_name(record_policy(r)),
		    dmarc_policy_name(t[i].p), "record_policy(%s)", t[i].txt);
		tap_str(dmarc_policy_name(record_subdomain_policy(r)),
		    dmarc_policy_name(t[i].sp), "record_subdomain_policy(%s)",
		    t[i].txt);
		tap_str(dmarc_policy_name(record_nxdomain_policy(r)),
		    dmarc_policy_name(t[i].np), "record_nxdomain_policy(%s)",
		    t[i].txt);
		record_free(r);
	}
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		const char *host = NULL;
		size_t hl = 0;
		char got[128] = "";
		bool ok = record_uri_host(h[i].uri, &host, &hl);

		if (ok && hl < sizeof(got)) {
			memcpy(got, host, hl);
			got[hl] = '\0';
		}
		tap_str(ok ? got : NULL, h[i].host, "record_uri_host(%s)",
		    h[i].uri);
	}
	tap_str(record_tag_name(RECORD_TAG_RUA), "rua", "record_tag_name");
	tap_str(record_tag_name(RECORD_TAG_COUNT), "", "record_tag_name range");
	tap_str(record_severity_name(RECORD_SEV_WARNING), "warning",
	    "record_severity_name");
	tap_str(dmarc_policy_name(DMARC_POLICY_UNSPEC), "", "unspec name");
	tap_ok(strlen(record_strerror(RECORD_ERR_NOMEM)) > 0 &&
	    strlen(record_strerror(RECORD_ERR_TOO_LONG)) > 0,
	    "record_strerror");
	tap_ok(record_is_dmarc("v=DMARC1", 8) && record_is_dmarc(" V = DMARC1 ;",
	    13) && !record_is_dmarc("v=DMARC1 p=none", 15) &&
	    !record_is_dmarc(NULL, 0) && !record_is_dmarc("v=DMARC", 7),
	    "record_is_dmarc edge cases");
}

/* Allocation failure at every point gives NOMEM and no leak (ASan). */
static void
test_alloc_failures(void)
{
	static const char *const txts[] = {
		"v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; "
		"aspf=s; pct=50; fo=1:d:s; rf=afrf; ri=3600; t=y; psd=n; "
		"rua=mailto:a@example.com!10m,mailto:b@example.net,"
		"https://x.example/r,bad; ruf=mailto:f@example.com; foo=bar; "
		"p=none;; adkim=q",
		"p=none; v=DMARC2; rua=x",
		"v=DMARC1; p=block; rua=mailto:a@example.com",
	};
	size_t t;

	for (t = 0; t < sizeof(txts) / sizeof(txts[0]); t++) {
		struct dmarc_record *ref, *r;
		enum record_status want, st = RECORD_ERR_NOMEM;
		long n;

		want = record_parse(txts[t], strlen(txts[t]), &ref);
		for (n = 0; n < 10000; n++) {
			mem_fail_after(n);
			st = record_parse(txts[t], strlen(txts[t]), &r);
			mem_fail_after(-1);
			if (st != RECORD_ERR_NOMEM)
				break;
			if (r != NULL) {
				tap_ok(0, "alloc %zu: NOMEM left a record", t);
				record_free(r);
			}
		}
		tap_ok(st == want && r != NULL && r->nissues == ref->nissues &&
		    r->nrua == ref->nrua, "alloc failure loop %zu: success "
		    "after %ld failures, same result", t, n);
		tap_ok(n > 5, "alloc failure loop %zu covered %ld points", t, n);
		record_free(r);
		record_free(ref);
	}
}

int
main(void)
{
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_messages();
	test_bounds();
	test_accessors();
	test_alloc_failures();
	for (k = 0; record_issue_codes[k] != NULL; k++)
		tap_ok(seen_code[k], "issue code %s is tested",
		    record_issue_codes[k]);
	return tap_done();
}
