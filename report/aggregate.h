/*
 * aggregate.h - DMARC aggregate reports (RFC 9990, and the RFC 7489
 * form) built from the verdict history.
 *
 * One pass over the history of a period (store_query_verdicts()) groups
 * the rows of every policy domain into records in a hash table; only the
 * groups are kept, so memory grows with the number of distinct records,
 * not with the number of rows.  Then each domain's report is written as
 * XML, byte for byte the same for the same rows.  Sending is not here.
 */
#ifndef DM_REPORT_AGGREGATE_H
#define DM_REPORT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"

struct store;

enum aggregate_format {
	AGGREGATE_RFC9990 = 0,		/* default */
	AGGREGATE_RFC7489
};

enum aggregate_status {
	AGGREGATE_OK,
	AGGREGATE_ERR_NOMEM,
	AGGREGATE_ERR_READ,		/* the store query failed */
	AGGREGATE_ERR_PERIOD,		/* from/to not on UTC day bounds */
	AGGREGATE_ERR_GZIP
};

/* Who reports: RFC 9990 section 2.1.2 report_metadata. */
struct aggregate_meta {
	const char *org_name;		/* required */
	const char *email;		/* required */
	const char *extra_contact_info;	/* NULL or "": omitted */
	const char *generator;		/* e.g. "dmarcd 0.1.0"; RFC 9990 */
	const char *receiver;		/* the filename's receiver domain */
};

/* The aggregated rows of one policy domain over the period. */
struct aggregate_report;
/* All the policy domains of one period. */
struct aggregate_set;

/*
 * Read the rows with from <= received < to (both on UTC day boundaries,
 * from < to) for policy_domain (NULL: every domain) and group them.
 * Rows that DMARC did not evaluate are counted but not reported: action
 * "skip", no policy domain, or no policy (empty p).  On success *out is
 * a new set the caller frees with aggregate_set_free(); on failure *out
 * is NULL and err (may be NULL) says why.
 */
enum aggregate_status aggregate_collect(struct store *,
	    const char *policy_domain, time_t from, time_t to,
	    struct aggregate_set **out, struct strbuf *err);
void	 aggregate_set_free(struct aggregate_set *);

/* The reports of the set, one per policy domain, sorted by domain. */
size_t	 aggregate_set_count(const struct aggregate_set *);
const struct aggregate_report *aggregate_set_get(const struct aggregate_set *,
	    size_t i);

/* Figures of one report. */
struct aggregate_stats {
	uint64_t rows;		/* rows read for the domain */
	uint64_t messages;	/* rows reported (the sum of the counts) */
	uint64_t skipped;	/* rows not DMARC-evaluated */
	size_t	 records;	/* distinct records (groups) */
	unsigned policies;	/* distinct published policies seen */
};
const char *aggregate_report_domain(const struct aggregate_report *);
/* The rua tag (comma-joined URIs) of the domain's last row; "" if none. */
const char *aggregate_report_rua(const struct aggregate_report *);
void	 aggregate_report_stats(const struct aggregate_report *,
	    struct aggregate_stats *);

/*
 * Append the report ID to out: the UTC date of begin (YYYYMMDD) and 16
 * hex digits of a hash of (receiver, org_name, domain, begin, end), so a
 * report that is built again (a retried send) has the same ID, and that
 * ID is usable as the filename's unique-id (RFC 9990 section 3.2.1.1:
 * 1*(ALPHA / DIGIT), and identical to the Report-ID).
 */
void	 aggregate_report_id(const struct aggregate_report *,
	    const struct aggregate_meta *, struct strbuf *out);

/*
 * Append the report as XML in the given form.  A report whose domain
 * has no reported message (only skipped rows) cannot be written: the
 * schema needs one record at least; aggregate_report_stats() says so
 * (messages == 0) and the function then returns AGGREGATE_ERR_READ.
 */
enum aggregate_status aggregate_write_xml(const struct aggregate_report *,
	    const struct aggregate_meta *, enum aggregate_format,
	    struct strbuf *out);

/*
 * Append the RFC 9990 section 3.2.1.1 filename:
 *   receiver!policy-domain!begin!end!unique-id.xml.gz
 */
void	 aggregate_filename(const struct aggregate_report *,
	    const struct aggregate_meta *, struct strbuf *out);

/* Append in[0..len) gzipped (RFC 1952) to out. */
enum aggregate_status aggregate_gzip(const char *in, size_t len,
	    struct strbuf *out);

const char *aggregate_strerror(enum aggregate_status);
/* "rfc9990" / "rfc7489" <-> the enum; parse returns -1 if unknown. */
const char *aggregate_format_name(enum aggregate_format);
int	 aggregate_format_parse(const char *, enum aggregate_format *);

#endif
