/*
 * align.h - Identifier Alignment (RFC 9989 sections 3.2.10, 4.4 and
 * 4.10.2) of a DKIM d= or SPF MAIL FROM domain with the Author Domain.
 *
 * Strict: the two normalised names are identical.  Relaxed: they have the
 * same Organizational Domain, found by either method of orgdomain.h.  A
 * public suffix never aligns with a different name: its Organizational
 * Domain is itself (treewalk, psd=y) or does not exist (psl).
 */
#ifndef DM_POLICY_ALIGN_H
#define DM_POLICY_ALIGN_H

#include "orgdomain.h"
#include "record.h"

enum align_status {
	ALIGN_PASS,		/* aligned */
	ALIGN_FAIL,		/* not aligned */
	ALIGN_ERR_TEMPFAIL,	/* unknown: a tree walk query failed */
	ALIGN_ERR_PERMFAIL,	/* unknown: permanent DNS failure */
	ALIGN_ERR_DOMAIN,	/* an input is not a valid domain name */
	ALIGN_ERR_CONFIG,	/* no lookup callback / no list */
	ALIGN_ERR_NOMEM
};

/*
 * Is identifier (a DKIM d= or SPF MAIL FROM domain) aligned with author
 * in mode?  Both are normalised here, so case and a trailing dot do not
 * matter.  author_org is the author's Organizational Domain when the
 * caller already has it (from discover_policy()), else NULL and it is
 * found with cfg when relaxed mode needs it.  DNS is used only in
 * relaxed mode with the treewalk method, and only when the identifier
 * lies within the author's Organizational Domain without being the
 * author: at most two walks of ORGDOMAIN_MAX_QUERIES queries.
 *
 * The caller checks first that the identifier authenticated (DKIM pass,
 * SPF pass): alignment of an unauthenticated identifier means nothing.
 */
enum align_status align_check_dkim(const struct orgdomain_config *cfg,
    const char *author, const char *author_org, const char *d,
    enum dmarc_alignment mode);
enum align_status align_check_spf(const struct orgdomain_config *cfg,
    const char *author, const char *author_org, const char *mailfrom_domain,
    enum dmarc_alignment mode);

const char *align_status_name(enum align_status);	/* "pass", "fail" */
const char *align_strerror(enum align_status);
const char *align_mode_name(enum dmarc_alignment);	/* "r" or "s" */

#endif
