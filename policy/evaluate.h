/*
 * evaluate.h - the DMARC verdict for one Author Domain.
 *
 * From plain inputs (the discovery result, the SPF result and the DKIM
 * results) evaluate_message() computes the DMARC result, the alignment of
 * each identifier, the policy that applies (p, sp or np), and the
 * disposition after t= and pct= handling, with the override reasons.  The
 * result carries everything one verdict record and one aggregate report
 * row need (RFC 9990 policy_published, policy_evaluated, auth_results).
 */
#ifndef DM_POLICY_EVALUATE_H
#define DM_POLICY_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>

#include "align.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "discover.h"
#include "orgdomain.h"
#include "record.h"

#define EVALUATE_MAX_DKIM	100	/* signatures considered (RFC 9990
					   reports carry at most 100) */
#define EVALUATE_MAX_REASONS	8
#define EVALUATE_MAX_COMMENT	256	/* bytes of a reason comment kept */

/*
 * An SPF or DKIM result as RFC 8601 sections 2.7.1 and 2.7.2 name them.
 * softfail is SPF only; policy is DKIM only.
 */
enum eval_auth_result {
	EVAL_AUTH_NONE = 0,
	EVAL_AUTH_PASS,
	EVAL_AUTH_FAIL,
	EVAL_AUTH_SOFTFAIL,
	EVAL_AUTH_NEUTRAL,
	EVAL_AUTH_POLICY,
	EVAL_AUTH_TEMPERROR,
	EVAL_AUTH_PERMERROR
};

/* Which identity SPF checked (RFC 7208 section 2). */
enum eval_spf_scope {
	EVAL_SPF_MFROM = 0,	/* MAIL FROM, or postmaster@HELO for <> */
	EVAL_SPF_HELO		/* HELO identity: never used for alignment */
};

enum dmarc_result {
	DMARC_RESULT_NONE = 0,	/* no policy record: DMARC does not apply */
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR
};

/* RFC 9990 ActionDispositionType. */
enum eval_disposition {
	EVAL_DISP_NONE = 0,	/* no action (no policy, p=none, error) */
	EVAL_DISP_PASS,		/* DMARC pass */
	EVAL_DISP_QUARANTINE,
	EVAL_DISP_REJECT
};

/* RFC 7489 PolicyOverrideType plus RFC 9990's policy_test_mode. */
enum eval_override {
	EVAL_OVERRIDE_FORWARDED,
	EVAL_OVERRIDE_SAMPLED_OUT,
	EVAL_OVERRIDE_TRUSTED_FORWARDER,
	EVAL_OVERRIDE_MAILING_LIST,
	EVAL_OVERRIDE_LOCAL_POLICY,
	EVAL_OVERRIDE_OTHER,
	EVAL_OVERRIDE_POLICY_TEST_MODE
};

/* What the receiver does with pct= (a config switch, PctMode). */
enum eval_pct_mode {
	EVAL_PCT_SAMPLE = 0,	/* RFC 7489 section 6.6.4: a failing message
				   outside the sample gets the next weaker
				   policy, reason sampled_out */
	EVAL_PCT_TESTING,	/* RFC 9989 Appendix A.6: pct=0 acts as t=y,
				   other values are ignored */
	EVAL_PCT_IGNORE		/* RFC 9989: pct is not a tag any more */
};

/* Which tag supplied the policy that applies (RFC 9989 section 4.10.1). */
enum eval_policy_tag {
	EVAL_TAG_NONE = 0,	/* no policy applies */
	EVAL_TAG_P,
	EVAL_TAG_SP,
	EVAL_TAG_NP
};

enum evaluate_status {
	EVALUATE_OK,
	EVALUATE_ERR_DOMAIN,	/* the Author Domain is not a valid name */
	EVALUATE_ERR_INPUT,	/* no discovery, or it is for another domain */
	EVALUATE_ERR_NOMEM
};

/* Returns a number in 0..99 (uniform) for pct sampling. */
typedef unsigned (*evaluate_random_fn)(void *ctx);

struct evaluate_options {
	struct orgdomain_config org;	/* for relaxed alignment (borrowed) */
	enum eval_pct_mode pct_mode;
	evaluate_random_fn random;	/* NULL: arc4random_uniform(100) */
	void	*random_ctx;
};

struct evaluate_dkim_input {
	const char *domain;		/* d= */
	const char *selector;		/* s= */
	enum eval_auth_result result;
};

struct evaluate_input {
	const char *author;			/* RFC5322.From domain */
	const struct discover_result *discovery; /* for this author */
	/* SPF: present false when SPF was not evaluated at all. */
	bool	 spf_present;
	enum eval_auth_result spf_result;
	const char *spf_domain;			/* the domain SPF checked */
	enum eval_spf_scope spf_scope;
	const struct evaluate_dkim_input *dkim;	/* ndkim signatures */
	size_t	 ndkim;
};

struct evaluate_dkim {
	char	*domain;		/* normalised if valid, else as given */
	char	*selector;
	enum eval_auth_result result;
	enum align_status aligned;	/* ALIGN_FAIL unless result pass */
};

struct evaluate_reason {
	enum eval_override type;
	char	*comment;		/* NULL or a sentence (owned) */
};

struct evaluate_result {
	/* identifiers */
	char	*header_from;		/* normalised Author Domain */
	char	*policy_domain;		/* NULL when no record applies */
	char	*org_domain;		/* of the author; NULL if unknown */
	enum orgdomain_method discovery_method;
	enum discover_status discovery;
	enum discover_source source;
	enum discover_exists author_exists;

	/* policy_published (defaults filled in, RFC 9990 section 3) */
	bool	 have_policy;		/* the fields below are meaningful */
	enum dmarc_policy p, sp, np;	/* effective, never UNSPEC */
	bool	 sp_published, np_published;
	enum dmarc_alignment adkim, aspf;
	int	 pct;
	unsigned fo;			/* DMARC_FO_* */
	bool	 testing;		/* t=y */
	enum dmarc_psd psd;
	bool	 treated_as_none;	/* invalid p/sp/np with valid rua */
	char	*rua, *ruf;		/* comma-joined valid URIs, or NULL */

	/* auth_results */
	bool	 spf_present;
	enum eval_auth_result spf_result;
	char	*spf_domain;
	enum eval_spf_scope spf_scope;
	enum align_status spf_aligned;
	struct evaluate_dkim *dkim;
	size_t	 ndkim;
	size_t	 ndkim_dropped;		/* beyond EVALUATE_MAX_DKIM */

	/* policy_evaluated */
	enum align_status dkim_aligned;	/* pass if any signature aligned */
	enum dmarc_result result;
	enum dmarc_policy policy;	/* the policy that applies */
	enum eval_policy_tag policy_tag;
	enum eval_disposition disposition;
	struct evaluate_reason reasons[EVALUATE_MAX_REASONS];
	size_t	 nreasons;
};

/*
 * Evaluate one Author Domain.  in->discovery must be discover_policy()'s
 * result for in->author.  Alignment may make DNS queries through
 * opts->org (relaxed mode, treewalk).  On EVALUATE_OK, *out is a new
 * result (free with evaluate_result_free()); otherwise *out is NULL.
 * Signatures beyond EVALUATE_MAX_DKIM are counted in ndkim_dropped and
 * not considered: ignoring one can only turn a pass into a fail.
 */
enum evaluate_status evaluate_message(const struct evaluate_options *opts,
    const struct evaluate_input *in, struct evaluate_result **out);
void	 evaluate_result_free(struct evaluate_result *);

/*
 * Record an override (local policy, mailing list, ...) the caller applied;
 * comment may be NULL.  Returns -1 when the list is full or on no memory.
 */
int	 evaluate_add_reason(struct evaluate_result *, enum eval_override,
	    const char *comment);

/*
 * Several author domains (several From addresses): the message verdict.
 * result: fail if any fails, else temperror, else permerror, else pass
 * if any passes, else none.  disposition: the strongest of all.
 * decisive: index of the result that set the disposition (or the first
 * failing one).  What a message with several From domains deserves
 * beyond this (MultipleFromPolicy) is the caller's decision.
 */
struct evaluate_verdict {
	enum dmarc_result result;
	enum eval_disposition disposition;
	size_t	 decisive;
};
void	 evaluate_combine(const struct evaluate_result *const *, size_t n,
	    struct evaluate_verdict *);

/* The full result as one JSON object (`dmarcctl evaluate --json`). */
void	 evaluate_write_json(const struct evaluate_result *, struct json *);
/* The same for humans, one "label  value" line each. */
void	 evaluate_write_text(const struct evaluate_result *, struct strbuf *);

const char *evaluate_strerror(enum evaluate_status);
const char *eval_auth_result_name(enum eval_auth_result);	/* "pass" */
/* RFC 8601 result word (case-blind) to enum; -1 if unknown. */
int	 eval_auth_result_parse(const char *, enum eval_auth_result *);
const char *eval_spf_scope_name(enum eval_spf_scope);		/* "mfrom" */
const char *dmarc_result_name(enum dmarc_result);		/* "pass" */
const char *eval_disposition_name(enum eval_disposition);	/* "reject" */
const char *eval_override_name(enum eval_override);	/* "sampled_out" */
int	 eval_override_parse(const char *, enum eval_override *);
const char *eval_pct_mode_name(enum eval_pct_mode);		/* "sample" */
int	 eval_pct_mode_parse(const char *, enum eval_pct_mode *);
const char *eval_policy_tag_name(enum eval_policy_tag);		/* "sp" */
/* fo= flags (DMARC_FO_*) as written in records, e.g. "0:d", into buf,
 * which it returns. */
const char *eval_fo_string(unsigned fo, char buf[8]);

#endif
