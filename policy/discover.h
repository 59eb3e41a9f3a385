/*
 * discover.h - DMARC policy discovery for one Author Domain.
 *
 * treewalk (RFC 9989 section 4.10.1): _dmarc.<author>, then a DNS Tree
 * Walk towards the root; the record applied is the Author Domain's, else
 * its Organizational Domain's, else its Public Suffix Domain's.
 * psl (RFC 7489 section 6.6.3): _dmarc.<author>, then _dmarc.<org> with
 * the Organizational Domain from the public suffix list.
 *
 * Either way the result also says whether the Author Domain exists
 * (RFC 9989 section 3.2.13), which decides between sp and np, and keeps
 * every DNS query as a step for `dmarcctl lookup`.
 */
#ifndef DM_POLICY_DISCOVER_H
#define DM_POLICY_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "lookup.h"
#include "orgdomain.h"
#include "record.h"

/* Tree walk queries plus the existence query. */
#define DISCOVER_MAX_STEPS	(ORGDOMAIN_MAX_QUERIES + 1)

enum discover_status {
	DISCOVER_FOUND,		/* a usable DMARC record applies */
	DISCOVER_NONE,		/* no record: DMARC does not apply */
	DISCOVER_TEMPERROR,	/* a temporary DNS failure decided */
	/*
	 * A permanent DNS failure decided, or the record that applies is
	 * unusable (RFC 9989 section 4.10.1: an invalid p, sp or np and no
	 * valid rua): DMARC is not applied.  record is set in that case.
	 */
	DISCOVER_PERMERROR,
	DISCOVER_ERR_DOMAIN,	/* the Author Domain is not a valid name */
	DISCOVER_ERR_CONFIG,	/* no lookup callback, or psl without list */
	DISCOVER_ERR_NOMEM
};

/* Where the record that applies was published, relative to the author. */
enum discover_source {
	DISCOVER_SOURCE_NONE,
	DISCOVER_SOURCE_AUTHOR,		/* the Author Domain itself: p */
	DISCOVER_SOURCE_ORG,		/* its Organizational Domain */
	DISCOVER_SOURCE_PSD		/* its Public Suffix Domain (psd=y) */
};

/* Does the Author Domain exist (RFC 9989 section 3.2.13, RFC 8020)? */
enum discover_exists {
	DISCOVER_EXISTS_UNCHECKED,	/* not needed: record at the author */
	DISCOVER_EXISTS_YES,
	DISCOVER_EXISTS_NO,		/* NXDOMAIN: np applies */
	DISCOVER_EXISTS_UNKNOWN		/* the query failed */
};

struct discover_result {
	enum discover_status status;
	enum orgdomain_method method;
	char	*author;		/* normalised Author Domain */
	/* Pointers into author (both are the author or its ancestors). */
	const char *policy_domain;	/* where the record is; NULL if none */
	const char *orgdomain;		/* NULL if unknown or none */
	enum orgdomain_status org_status; /* why orgdomain is NULL */
	enum orgdomain_rule org_rule;
	/* The record that applies (FOUND), or the unusable one (PERMERROR). */
	const struct dmarc_record *record;
	enum record_status record_status;
	enum discover_source source;
	enum discover_exists exists;
	struct orgdomain_step steps[DISCOVER_MAX_STEPS];
	size_t	 nsteps;

	/* Private: storage behind the pointers above. */
	struct orgdomain_walk *walk_;
	struct dmarc_record *records_[2];
};

/*
 * Discover the DMARC policy for author (normalised here) by cfg->method,
 * with DNS through cfg->lookup.  Returns the status, which is also
 * (*out)->status.  *out is a new result (free with discover_result_free())
 * for every status except DISCOVER_ERR_DOMAIN, DISCOVER_ERR_CONFIG and
 * DISCOVER_ERR_NOMEM, where it is NULL.
 *
 * When the record is found at the Author Domain, the Organizational
 * Domain is still determined (for relaxed alignment); a DNS failure after
 * that point leaves the status DISCOVER_FOUND with orgdomain NULL and
 * org_status saying why.  At most DISCOVER_MAX_STEPS queries are made.
 */
enum discover_status discover_policy(const struct orgdomain_config *cfg,
    const char *author, struct discover_result **out);
void	 discover_result_free(struct discover_result *);

/* The full result as one JSON object (for `dmarcctl lookup --json`). */
void	 discover_write_json(const struct discover_result *, struct json *);
/* The same for humans: one line per query, then the conclusion. */
void	 discover_write_text(const struct discover_result *, struct strbuf *);

const char *discover_status_name(enum discover_status);	/* "found" */
const char *discover_strerror(enum discover_status);	/* a sentence */
const char *discover_source_name(enum discover_source);	/* "author" */
const char *discover_exists_name(enum discover_exists);	/* "yes" */

#endif
