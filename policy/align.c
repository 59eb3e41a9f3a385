/*
 * align.c - Identifier Alignment of DKIM and SPF identifiers with the
 * Author Domain (RFC 9989 sections 3.2.10, 4.4.1, 4.4.2 and 4.10.2;
 * RFC 7489 section 3.1 for the psl method).
 *
 * Two regressions of OpenDMARC are excluded by construction: strict mode
 * is a plain comparison of normalised names (a subdomain signer never
 * passes), and relaxed mode compares Organizational Domains that a
 * public suffix cannot share with a registered name.
 *
 * Left out: deciding which identifiers authenticated (evaluate.c does).
 */
#include "config.h"

#include <string.h>

#include "align.h"
#include "common/mem.h"
#include "domain.h"

static enum align_status
align_from_orgdomain(enum orgdomain_status st)
{
	switch (st) {
	case ORGDOMAIN_OK:
	case ORGDOMAIN_IS_SUFFIX:
		return ALIGN_FAIL;	/* not an error; callers decide */
	case ORGDOMAIN_ERR_TEMPFAIL:
		return ALIGN_ERR_TEMPFAIL;
	case ORGDOMAIN_ERR_PERMFAIL:
		return ALIGN_ERR_PERMFAIL;
	case ORGDOMAIN_ERR_DOMAIN:
		return ALIGN_ERR_DOMAIN;
	case ORGDOMAIN_ERR_NOMEM:
		return ALIGN_ERR_NOMEM;
	default:
		return ALIGN_ERR_CONFIG;
	}
}

static enum align_status
align_normalize(const char *in, char **out)
{
	*out = NULL;
	if (in == NULL)
		return ALIGN_ERR_DOMAIN;
	switch (domain_normalize_dup(in, strlen(in), out)) {
	case DOMAIN_OK:
		return ALIGN_PASS;
	case DOMAIN_ERR_NOMEM:
		return ALIGN_ERR_NOMEM;
	default:
		return ALIGN_ERR_DOMAIN;
	}
}

static enum align_status
align_check(const struct orgdomain_config *cfg, const char *author_in,
    const char *author_org_in, const char *ident_in,
    enum dmarc_alignment mode)
{
	char *author = NULL, *ident = NULL, *aorg = NULL, *iorg = NULL;
	enum orgdomain_status ost;
	enum align_status st;

	if ((st = align_normalize(author_in, &author)) != ALIGN_PASS ||
	    (st = align_normalize(ident_in, &ident)) != ALIGN_PASS)
		goto done;

	/*
	 * Strict (3.2.10.2): identical.  Identical names also share every
	 * Organizational Domain, so they align in relaxed mode too, without
	 * DNS (4.10.2: "no need to perform Identifier Alignment
	 * Evaluations" when the domains are the same).
	 */
	if (strcmp(author, ident) == 0) {
		st = ALIGN_PASS;
		goto done;
	}
	if (mode == DMARC_ALIGN_STRICT) {
		st = ALIGN_FAIL;
		goto done;
	}

	/* Relaxed (3.2.10.1): the same Organizational Domain. */
	if (author_org_in != NULL) {
		if ((st = align_normalize(author_org_in, &aorg)) != ALIGN_PASS)
			goto done;
	} else {
		ost = orgdomain_find(cfg, author, &aorg, NULL);
		if (ost != ORGDOMAIN_OK) {
			/* psl: an author that is a public suffix has no
			 * Organizational Domain to share. */
			st = align_from_orgdomain(ost);
			goto done;
		}
	}
	/*
	 * Every method puts a name's Organizational Domain at the name or
	 * above it, so an identifier outside the author's Organizational
	 * Domain cannot share it: no DNS needed.  This also makes d=co.uk
	 * fail against a.co.uk (co.uk is above a.co.uk's Organizational
	 * Domain), which OpenDMARC got wrong.
	 */
	if (!domain_is_within(ident, aorg)) {
		st = ALIGN_FAIL;
		goto done;
	}
	ost = orgdomain_find(cfg, ident, &iorg, NULL);
	if (ost != ORGDOMAIN_OK) {
		st = align_from_orgdomain(ost);
		goto done;
	}
	st = strcmp(iorg, aorg) == 0 ? ALIGN_PASS : ALIGN_FAIL;
done:
	mem_free(author);
	mem_free(ident);
	mem_free(aorg);
	mem_free(iorg);
	return st;
}

/* RFC 9989 section 4.4.1: the DKIM signing domain (d=). */
enum align_status
align_check_dkim(const struct orgdomain_config *cfg, const char *author,
    const char *author_org, const char *d, enum dmarc_alignment mode)
{
	return align_check(cfg, author, author_org, d, mode);
}

/* RFC 9989 section 4.4.2: the MAIL FROM domain SPF authenticated. */
enum align_status
align_check_spf(const struct orgdomain_config *cfg, const char *author,
    const char *author_org, const char *mailfrom_domain,
    enum dmarc_alignment mode)
{
	return align_check(cfg, author, author_org, mailfrom_domain, mode);
}

const char *
align_status_name(enum align_status st)
{
	switch (st) {
	case ALIGN_PASS:
		return "pass";
	case ALIGN_FAIL:
		return "fail";
	case ALIGN_ERR_TEMPFAIL:
		return "temperror";
	case ALIGN_ERR_PERMFAIL:
		return "permerror";
	case ALIGN_ERR_DOMAIN:
		return "invalid_domain";
	case ALIGN_ERR_CONFIG:
		return "no_config";
	case ALIGN_ERR_NOMEM:
		return "nomem";
	}
	return "unknown";
}

const char *
align_strerror(enum align_status st)
{
	switch (st) {
	case ALIGN_PASS:
		return "aligned";
	case ALIGN_FAIL:
		return "not aligned";
	case ALIGN_ERR_TEMPFAIL:
		return "alignment unknown: temporary DNS failure";
	case ALIGN_ERR_PERMFAIL:
		return "alignment unknown: permanent DNS failure";
	case ALIGN_ERR_DOMAIN:
		return "invalid domain name";
	case ALIGN_ERR_CONFIG:
		return "no DNS lookup or public suffix list configured";
	case ALIGN_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown alignment status";
}

const char *
align_mode_name(enum dmarc_alignment mode)
{
	return mode == DMARC_ALIGN_STRICT ? "s" : "r";
}
