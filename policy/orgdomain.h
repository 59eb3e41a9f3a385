/*
 * orgdomain.h - the Organizational Domain of a name, two ways.
 *
 *  - ORGDOMAIN_TREEWALK (RFC 9989 sections 4.10 and 4.10.2): a DNS Tree
 *    Walk over _dmarc TXT records through the lookup callback, at most
 *    eight queries per walk, psd=y / psd=n honoured.  The default.
 *  - ORGDOMAIN_PSL (RFC 7489 section 3.2): the public suffix list, with
 *    the implicit "*" rule for TLDs the list does not know.
 *
 * Every domain is normalised (domain_normalize_dup) on the way in, so
 * "Example.COM." and "example.com" give the same answer.
 */
#ifndef DM_POLICY_ORGDOMAIN_H
#define DM_POLICY_ORGDOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "lookup.h"
#include "record.h"

/* RFC 9989 section 4.10: a tree walk makes at most eight queries. */
#define ORGDOMAIN_MAX_QUERIES	8
/* Names with more labels are shortened to this many (4.10 step 4). */
#define ORGDOMAIN_SHORTEN_TO	7

enum orgdomain_method {
	ORGDOMAIN_TREEWALK = 0,	/* RFC 9989 (default) */
	ORGDOMAIN_PSL		/* RFC 7489 */
};

enum orgdomain_status {
	ORGDOMAIN_OK,
	ORGDOMAIN_IS_SUFFIX,	 /* psl: the name is a public suffix, so it
				    has no Organizational Domain */
	ORGDOMAIN_ERR_TEMPFAIL,	 /* a DNS query failed temporarily */
	ORGDOMAIN_ERR_PERMFAIL,	 /* a DNS query failed permanently */
	ORGDOMAIN_ERR_DOMAIN,	 /* the input is not a valid domain name */
	ORGDOMAIN_ERR_CONFIG,	 /* no list (psl) or no lookup callback */
	ORGDOMAIN_ERR_PSL_LOAD,	 /* the list file cannot be read or parsed */
	ORGDOMAIN_ERR_PSL_EMPTY, /* the list file holds no rules */
	ORGDOMAIN_ERR_NOMEM
};

/* Opaque handle on a loaded public suffix list. */
typedef struct orgdomain_psl orgdomain_psl;

/*
 * Load the public suffix list at path (NULL: DEFAULT_PSL_FILE), in the
 * publicsuffix.org text format or libpsl's DAFSA format.  Returns a new
 * handle (free with orgdomain_psl_free()) or NULL with *err set.  The
 * handle is read-only after loading: any number of threads may query it.
 */
orgdomain_psl *orgdomain_psl_new(const char *path,
    enum orgdomain_status *err);
void	 orgdomain_psl_free(orgdomain_psl *);

/*
 * RFC 7489 section 3.2: the registrable domain (public suffix plus one
 * label) of domain, as a new string in *org.  Returns ORGDOMAIN_OK,
 * ORGDOMAIN_IS_SUFFIX (*org NULL: the name is itself a public suffix, or
 * a single label under the implicit "*" rule), ORGDOMAIN_ERR_DOMAIN or
 * ORGDOMAIN_ERR_NOMEM.
 */
enum orgdomain_status orgdomain_psl_lookup(const orgdomain_psl *,
    const char *domain, char **org);
/* True if the (normalisable) domain is a public suffix per the list. */
bool	 orgdomain_psl_is_suffix(const orgdomain_psl *, const char *domain);

/* How one policy discovery or tree walk query went (for dmarcctl lookup). */
enum orgdomain_outcome {
	ORGDOMAIN_STEP_NO_RECORD,	/* no TXT starting with v=DMARC1 */
	ORGDOMAIN_STEP_RECORD,		/* exactly one DMARC record */
	ORGDOMAIN_STEP_MULTIPLE,	/* several DMARC records: all dropped */
	ORGDOMAIN_STEP_DNS_ERROR,	/* tempfail or permfail: walk stops */
	ORGDOMAIN_STEP_TOO_LONG,	/* _dmarc.<name> over 253 octets: not
					   asked, cannot exist */
	ORGDOMAIN_STEP_EXISTS,		/* existence query: the name exists */
	ORGDOMAIN_STEP_NOT_EXISTS	/* existence query: NXDOMAIN */
};

struct orgdomain_step {
	char	*qname;			/* as queried */
	enum lookup_qtype qtype;
	enum lookup_status status;	/* as the callback answered */
	enum orgdomain_outcome outcome;
	size_t	 ntxt;			/* TXT records in the answer */
	size_t	 ndmarc;		/* of which start with v=DMARC1 */
	enum dmarc_psd psd;		/* psd= of the record (STEP_RECORD) */
	bool	 stop;			/* the walk stopped here (psd=y/n) */
	const char *note;		/* static sentence for humans */
};

/* A name at which the walk found exactly one DMARC record. */
struct orgdomain_node {
	const char *domain;		/* points into walk->start */
	struct dmarc_record *record;	/* owned by the walk */
	enum record_status rstatus;	/* what record_parse() said */
	size_t	 step;			/* index into walk->steps */
};

/* How the Organizational Domain was selected (RFC 9989 section 4.10.2). */
enum orgdomain_rule {
	ORGDOMAIN_RULE_NONE,		/* not determined (DNS error) */
	ORGDOMAIN_RULE_PSD_N,		/* rule 1: record with psd=n */
	ORGDOMAIN_RULE_PSD_Y,		/* rule 2: one label below psd=y */
	ORGDOMAIN_RULE_SHORTEST,	/* rule 3: fewest labels with record */
	ORGDOMAIN_RULE_START,		/* no record: the starting domain */
	ORGDOMAIN_RULE_PSL		/* RFC 7489: public suffix list */
};

struct orgdomain_walk {
	char	*start;			/* normalised starting domain */
	enum orgdomain_status status;	/* OK, ERR_TEMPFAIL or ERR_PERMFAIL */
	const char *orgdomain;		/* points into start; NULL unless OK */
	enum orgdomain_rule rule;
	struct orgdomain_step steps[ORGDOMAIN_MAX_QUERIES];
	size_t	 nsteps;
	struct orgdomain_node nodes[ORGDOMAIN_MAX_QUERIES]; /* longest first */
	size_t	 nnodes;
};

/*
 * RFC 9989 section 4.10: walk from domain towards the root, querying
 * _dmarc.<name> for TXT through lookup, and select the Organizational
 * Domain by the rules of section 4.10.2.  On ORGDOMAIN_OK,
 * ORGDOMAIN_ERR_TEMPFAIL and ORGDOMAIN_ERR_PERMFAIL, *out is a new walk
 * (free with orgdomain_walk_free()) holding every step and every record
 * found; a DNS error stops the walk and leaves orgdomain NULL.  On
 * ORGDOMAIN_ERR_DOMAIN and ORGDOMAIN_ERR_NOMEM, *out is NULL.
 */
enum orgdomain_status orgdomain_walk(const char *domain, lookup_fn lookup,
    void *lookup_ctx, struct orgdomain_walk **out);
void	 orgdomain_walk_free(struct orgdomain_walk *);

/*
 * How the callers of discover, align and evaluate want Organizational
 * Domains found.  All members are borrowed.
 */
struct orgdomain_config {
	enum orgdomain_method method;
	const orgdomain_psl *psl;	/* required for ORGDOMAIN_PSL */
	lookup_fn lookup;		/* required for every DNS query */
	void	*lookup_ctx;
};

/*
 * The Organizational Domain of domain by cfg->method, as a new string in
 * *org (NULL unless ORGDOMAIN_OK).  With ORGDOMAIN_TREEWALK and walk not
 * NULL, *walk receives the walk (caller frees) whenever one was made.
 */
enum orgdomain_status orgdomain_find(const struct orgdomain_config *,
    const char *domain, char **org, struct orgdomain_walk **walk);

const char *orgdomain_strerror(enum orgdomain_status);
const char *orgdomain_status_name(enum orgdomain_status);
const char *orgdomain_method_name(enum orgdomain_method); /* "treewalk" */
/* Parse "treewalk" or "psl"; -1 if neither. */
int	 orgdomain_method_parse(const char *, enum orgdomain_method *);
const char *orgdomain_outcome_name(enum orgdomain_outcome);
const char *orgdomain_rule_name(enum orgdomain_rule);

/*
 * Internal to policy/ (discover.c shares the query code): query
 * _dmarc.<name> for TXT and fill *step; on exactly one DMARC record,
 * *rec is the parsed record (caller frees) and *rstatus its status.
 * Returns 0, or -1 on no memory.
 */
int	 orgdomain_query_record(lookup_fn, void *, const char *name,
	    struct orgdomain_step *step, struct dmarc_record **rec,
	    enum record_status *rstatus);
void	 orgdomain_step_clear(struct orgdomain_step *);

#endif
