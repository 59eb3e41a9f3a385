/*
 * grade.h - grade a domain's DMARC set-up for `dmarcctl check` and
 * GET /api/v1/check.
 *
 * Input: the domain checked and the TXT strings found at _dmarc.<domain>
 * (or at _dmarc.<org domain> when the record is inherited).  Output: what
 * was found, a score out of 100 and a list of issues, each with advice and,
 * where it helps, a complete DNS record to publish.  No DNS here: the
 * caller looks the records up (policy/ performs no I/O).
 */
#ifndef DM_POLICY_GRADE_H
#define DM_POLICY_GRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/json.h"
#include "record.h"

#define GRADE_MAX_TXT		16	/* TXT strings considered */
#define GRADE_MAX_ISSUES	128	/* further issues are counted */
#define GRADE_SYNTAX_CAP	15	/* most points syntax errors cost */

enum grade_severity {
	GRADE_SEV_CRITICAL,
	GRADE_SEV_HIGH,
	GRADE_SEV_MEDIUM,
	GRADE_SEV_LOW,
	GRADE_SEV_INFO
};

struct grade_input {
	const char *domain;		/* the domain checked (any case, IDN) */
	const char *const *txts;	/* TXT strings found, each joined */
	const size_t *txtlens;		/* NULL: txts are NUL-terminated */
	size_t	 ntxt;
	/*
	 * NULL when the TXT strings come from _dmarc.<domain>.  Otherwise
	 * the domain at whose _dmarc name they were found (the
	 * organizational or public suffix domain, RFC 9989 section 4.10.1):
	 * the record is inherited.
	 */
	const char *found_at;
	/*
	 * Optional: the organizational domain of domain (from the PSL or the
	 * tree walk).  Sharpens the external-report-address and psd=y
	 * checks; without it they use a documented heuristic.
	 */
	const char *org_domain;
};

/* A DNS record to publish; the type is always TXT. */
struct grade_snippet {
	char	*name;			/* owner name, no trailing dot */
	char	*value;			/* the complete record text */
};

struct grade_issue {
	enum grade_severity severity;
	const char *code;		/* stable, snake_case, "dmarc_..." */
	char	*message;
	char	*remediation;
	int	 weight;		/* points taken off the score */
	bool	 has_pos;
	size_t	 pos;			/* byte offset in the record */
	struct grade_snippet snippet;	/* name == NULL: none */
};

struct grade_result {
	char	*domain;		/* normalised */
	char	*policy_domain;		/* where the record is published */
	bool	 inherited;		/* policy_domain != domain */
	bool	 present;		/* some DMARC (or DMARC-like) record */
	bool	 valid;			/* exactly one, usable record */
	char	*record;		/* raw text of the record graded */
	struct dmarc_record *parsed;	/* NULL when nothing to parse */
	enum record_status status;	/* of parsed */
	/* Valid records only, else DMARC_POLICY_UNSPEC: */
	enum dmarc_policy policy;	/* record_policy() */
	enum dmarc_policy subdomain_policy; /* sp, or p when sp is absent */
	enum dmarc_policy nxdomain_policy;  /* np, else sp, else p */
	enum dmarc_policy effective_policy; /* what applies to domain */
	int	 percentage;		/* pct; -1 unless valid */
	/* Borrowed from parsed (rua); only entries with .valid are used. */
	const struct dmarc_uri *aggregate_reports;
	size_t	 naggregate_reports;
	char	**dmarc_records;	/* every DMARC record found */
	size_t	 ndmarc_records;
	int	 score;			/* 0..100 */
	struct grade_issue *issues;	/* most severe first */
	size_t	 nissues;
	size_t	 issues_dropped;	/* beyond GRADE_MAX_ISSUES */
};

enum grade_status {
	GRADE_OK,
	GRADE_ERR_DOMAIN,	/* domain or found_at is not a domain name */
	GRADE_ERR_NOMEM
};

/*
 * Grade in.  On GRADE_OK, *out is a new result the caller frees with
 * grade_result_free(); otherwise *out is NULL.  Every dns_snippet in the
 * result is a complete record that record_parse() accepts as RECORD_OK.
 */
enum grade_status grade_check(const struct grade_input *in,
    struct grade_result **out);
void	 grade_result_free(struct grade_result *);
const char *grade_strerror(enum grade_status);
const char *grade_severity_name(enum grade_severity);

/*
 * The JSON of seed 003's checker: {"dmarc":{...},"score":N,"issues":[...]}.
 * grade_write_json_members() writes the three members into an object the
 * caller has open, so that a combined checker can add its own.
 */
void	 grade_write_json(const struct grade_result *, struct json *);
void	 grade_write_json_members(const struct grade_result *, struct json *);
/* The pieces: the "dmarc" object's value, and one issue object. */
void	 grade_write_json_dmarc(const struct grade_result *, struct json *);
void	 grade_write_json_issue(const struct grade_issue *, struct json *);

/* One row of the issue table (the man page is generated from it). */
struct grade_code_info {
	const char *code;
	const char *record_code;	/* record_parse() code, or NULL */
	enum grade_severity severity;
	int	 weight;
	const char *source;		/* seed rubric / RFC section */
	const char *remedy;		/* default remediation */
};

/* The whole table; *n gets its length. */
const struct grade_code_info *grade_code_table(size_t *n);
/* The row for a grade code, or NULL. */
const struct grade_code_info *grade_code_lookup(const char *code);

#endif
