/*
 * check_online.h - the online half of `dmarcctl check DOMAIN`: the DNS
 * look-ups the offline grader (policy/grade.c) cannot make, shared by
 * check_online.c (driver, DMARC, report authorization, output),
 * check_spf.c and check_dkim.c.
 *
 * Each finding is a struct check_issue whose code is a row of the table
 * in check_online.c (printed by `dmarcctl check --list-codes` after the
 * grader's rows, and listed in dmarcctl(8)).
 */
#ifndef DM_CLI_CHECK_ONLINE_H
#define DM_CLI_CHECK_ONLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "policy/grade.h"
#include "store/aggsources.h"

struct dns_resolver;

#define CHECK_MAX_ISSUES	64	/* online issues kept per domain */
#define CHECK_MAX_SELECTORS	16	/* DKIM selectors tried */
#define CHECK_SPF_MAX_LOOKUPS	10	/* RFC 7208 section 4.6.4 */
#define CHECK_SPF_MAX_VOID	2	/* RFC 7208 section 4.6.4 */
#define CHECK_SPF_WALK_CAP	40	/* records fetched while counting */
#define CHECK_MAX_BLOCKERS	10	/* failing sources named */
#define CHECK_READY_FAIL_PCT	2	/* a legitimate source failing for at
					   least this share blocks the next
					   policy step */
#define CHECK_REPORT_DAYS	30	/* report window, --days */

struct check_code_info {
	const char *code;
	const char *category;		/* "dmarc", "spf", "dkim" */
	enum grade_severity severity;
	int	 weight;
	const char *source;
	const char *remedy;
};

struct check_issue {
	const struct check_code_info *info;
	char	*message;
	char	*snippet_name;		/* NULL: no record to publish */
	char	*snippet_value;
};

struct check_spf {
	bool	 present;		/* some v=spf1 record */
	bool	 valid;			/* exactly one, screens clean */
	char	*record;		/* the first v=spf1 record */
	size_t	 nrecords;
	int	 lookups;		/* DNS-querying terms, all records */
	int	 void_lookups;
	char	 all[2];		/* "-", "~", "?", "+" or "" */
};

struct check_dkim_key {
	char	*selector;
	bool	 present;
	bool	 valid;
	char	*algorithm;		/* k= ("rsa" by default) */
	int	 key_bits;		/* 0 when unknown */
	bool	 testing;		/* t=y */
	bool	 revoked;		/* empty p= */
};

/* A legitimate source of the imported reports that still fails DMARC. */
struct check_blocker {
	char	 source_ip[46];
	uint64_t messages, passed, auth_passed;
};

/* What the imported aggregate reports say (--database, HistoryDatabase). */
struct check_history {
	const char *database;		/* NULL: none read */
	unsigned days;			/* window, days before the last report */
	struct store_agg_summary sum;
	uint64_t legitimate;		/* sources judged legitimate */
	uint64_t blocking;		/* of which still failing */
	struct check_blocker blockers[CHECK_MAX_BLOCKERS];
	size_t	 nblockers;		/* named (the first, most failing) */
};

struct check_report {
	char	*domain;
	char	*org_domain;		/* from discovery, or NULL */
	struct grade_result *grade;
	struct check_spf spf;
	struct check_dkim_key dkim[CHECK_MAX_SELECTORS];
	size_t	 ndkim;
	struct check_issue issues[CHECK_MAX_ISSUES];
	size_t	 nissues;
	bool	 dns_failed;		/* a temporary DNS failure */
	char	*dns_error;		/* what failed, for the message */
	int	 score;			/* grade score minus online weights */
	struct check_history hist;
	char	*verdict;		/* the readiness line */
};

/* Record an issue (message printf-style).  Unknown codes abort. */
void	check_issue_add(struct check_report *, const char *code,
	    const char *snippet_name, const char *snippet_value,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Note a temporary DNS failure for name (the first one is kept). */
void	check_dns_failed(struct check_report *, const char *name,
	    const char *why);

/* The SPF part: TXT at the domain, screened, include: tree counted. */
void	check_spf_run(struct check_report *, struct dns_resolver *);
void	check_spf_clear(struct check_spf *);
/* The DKIM part: each selector (NULL list: the built-in one). */
void	check_dkim_run(struct check_report *, struct dns_resolver *,
	    const char *const *selectors, size_t nselectors);
void	check_dkim_clear(struct check_dkim_key *);

/* The online table; *n gets its length. */
const struct check_code_info *check_code_table(size_t *n);

struct cli_ctx;
struct cli_discovery;
/*
 * Check each domain (selectors: comma-separated list or NULL), print the
 * text or JSON, and return the worst exit status: 0, 1 (warnings),
 * 2 (errors), EX_TEMPFAIL (DNS failure), or another sysexits code.
 */
/* database: imported reports to read (NULL: none); days: their window. */
int	check_online(struct cli_ctx *, struct cli_discovery *, bool json,
	    const char *selectors, const char *database, unsigned days,
	    char **domains, int ndomains);

/*
 * The JSON of `dmarcctl check --json DOMAIN` (built-in DKIM selectors;
 * the report history of database over days, or none when database is
 * NULL) into out, for GET /api/v1/check; d must be open
 * (cli_discovery_open with DNS).  Returns the exit status check_online()
 * would; when no JSON could be made (EX_DATAERR: not a checkable name,
 * EX_TEMPFAIL without a DMARC answer, EX_IOERR: the history could not
 * be read) out holds the reason instead.  Not thread-safe: one call at
 * a time per d.
 */
int	check_online_json(const struct cli_discovery *, const char *domain,
	    const char *database, unsigned days, struct strbuf *out);

/* Allocation helpers of the CLI: out of memory ends the program. */
char	*check_strdup(const char *);
char	*check_strndup(const char *, size_t);

#endif
