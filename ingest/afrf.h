/*
 * afrf.h - failure reports (AFRF: RFC 6591 on ARF, RFC 5965; RFC 9991)
 * read from a report e-mail.
 */
#ifndef DM_INGEST_AFRF_H
#define DM_INGEST_AFRF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/strbuf.h"
#include "ingest/xml.h"

#define INGEST_AFRF_MAX_FIELD	1024	/* bytes kept per feedback field */
#define INGEST_AFRF_MAX_HEADERS	(64u << 10) /* original header block */
#define INGEST_AFRF_MAX_FIELDS	256	/* lines of the feedback part */

/*
 * One failure report.  Every string is NUL-terminated and owned by the
 * struct; a field that occurs more than once (Original-Rcpt-To,
 * DKIM-Domain...) holds its values joined by ", ".  Unknown fields
 * are left out.
 */
struct ingest_failure {
	char	*reporter;		/* From: of the report e-mail, else
					 * Reporting-MTA */
	char	*feedback_type, *auth_failure, *identity_alignment;
	char	*reported_domain;	/* lower case, first value */
	char	*source_ip, *arrival_date, *delivery_result;
	char	*dkim_domain, *dkim_selector, *dkim_identity, *spf_dns;
	char	*original_mail_from, *original_rcpt_to;
	char	*original_envelope_id, *user_agent, *reporting_mta;
	time_t	 arrival;		/* Arrival-Date (or Received-Date),
					 * 0 when absent or unparsable */
	char	*header_from;		/* of the original message */
	char	*subject, *message_id;	/* Subject: RFC 2047 decoded,
					 * UTF-8, one line */
	char	*headers;		/* the original header block, LF
					 * lines, at most 64 KiB */
	bool	 headers_truncated;
	char	 report_key[65];	/* hex SHA-256 of the canonical
					 * content */
};

/*
 * Parse the e-mail msg[0..len).  INGEST_OK and *out (free with
 * ingest_failure_free()) when it holds a message/feedback-report part
 * of Feedback-Type auth-failure; INGEST_ERR_CONTENT with *out NULL and
 * err empty when it holds no feedback part at all (not a failure
 * report: try an aggregate report); INGEST_ERR_CONTENT with err set
 * when the feedback part is unusable (another feedback type, no
 * reported domain); INGEST_ERR_LIMIT past the MIME caps.
 */
enum ingest_status ingest_failure_parse(const char *msg, size_t len,
	    struct ingest_failure **out, struct strbuf *err);
void	 ingest_failure_free(struct ingest_failure *);

/* An RFC 5322 date-time ("Mon, 01 Oct 2018 11:20:27 +0200", the day
 * name and seconds optional, obsolete zones accepted) as UTC seconds;
 * -1 when it is not one. */
time_t	 ingest_parse_date(const char *);

#endif
