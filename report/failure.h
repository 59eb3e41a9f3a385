/*
 * failure.h - DMARC failure reports (RFC 9991) in the Abuse Reporting
 * Format for authentication failures (RFC 6591): whether one is due for
 * an Author Domain's evaluation (fo=), where it goes (ruf=), and the
 * report message itself.  Pure: no I/O, no logging; the milter queues
 * and sends (milter/failure.c).
 */
#ifndef DM_REPORT_FAILURE_H
#define DM_REPORT_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/strbuf.h"
#include "policy/evaluate.h"

#define FAILURE_MAX_HEADERS	(64 * 1024)	/* original header bytes kept */
#define FAILURE_MAX_FIELD	(8 * 1024)	/* bytes of one original field */
#define FAILURE_MAX_MESSAGE	(128 * 1024)	/* the whole report */
#define FAILURE_MAX_RCPTS	16		/* mailto: destinations */

/*
 * The marker our own reports carry.  A message with it (and a report
 * of ours is the only thing that should have it) gets no failure report,
 * so reports about reports cannot loop (RFC 9991 section 6.1).
 */
#define FAILURE_MARKER_FIELD	"X-DMARC-Failure-Report"

enum failure_status {
	FAILURE_OK,
	FAILURE_ERR_NOMEM,
	FAILURE_ERR_INPUT,	/* a required fact is missing */
	FAILURE_ERR_SIZE	/* the report would exceed FAILURE_MAX_MESSAGE */
};

/* What part 3 carries (FailureReportHeaders). */
enum failure_redact {
	FAILURE_HEADERS_ALL = 0,	/* every header field, never the body */
	FAILURE_HEADERS_MINIMAL		/* From, To, Cc, Date, Subject,
					   Message-ID, DKIM-Signature only */
};

/*
 * fo= against one evaluation (RFC 9989 section 4.7, RFC 9991 section 3):
 * true if the flags in r->fo ask for a report about this message.
 *   0: neither DKIM nor SPF produced an aligned pass;
 *   1: DKIM or SPF did not produce an aligned pass;
 *   d: a DKIM signature failed evaluation (any result but pass and
 *	none), aligned or not;
 *   s: SPF failed evaluation (fail, softfail, permerror), aligned or not.
 * Only the flags decide; whether there is a policy and a ruf= is
 * failure_ruf()'s question.
 */
bool	 failure_fo_wants(const struct evaluate_result *r);

/*
 * The ruf= URIs (comma-joined) that apply to r, or NULL: none published,
 * no policy, or a psd=y record (RFC 9991 section 3: ruf in a PSD record
 * MUST NOT be considered).  Points into r.
 */
const char *failure_ruf(const struct evaluate_result *r);

/* Both: a report is due for r (ruf applies and fo= wants one). */
bool	 failure_is_due(const struct evaluate_result *r);

/*
 * The mailto: addresses in a comma-joined ruf list, at most max, each a
 * new string in out[] (free with mem_free()).  Size limits ("!10m") and
 * non-mailto URIs are dropped.  Returns the number stored.
 */
size_t	 failure_ruf_addresses(const char *ruf, char **out, size_t max);

/*
 * True if a message whose header fields are in hdrs (as collected:
 * "Name: value\n" each) is itself a failure report of ours or any ARF
 * auth-failure report: it carries FAILURE_MARKER_FIELD, or a
 * Content-Type multipart/report with report-type=feedback-report.
 */
bool	 failure_is_report(const char *hdrs);

/*
 * Append one original header field to a collection (part 3): "Name: value"
 * with line endings made "\n", the field cut at FAILURE_MAX_FIELD.  The
 * collection stops growing at FAILURE_MAX_HEADERS (returns false then;
 * a truncated collection is still usable).
 */
bool	 failure_headers_add(struct strbuf *hdrs, const char *name,
	    const char *value);

/* The facts of the message a report is about (strings borrowed). */
struct failure_facts {
	const char *queue_id;		/* Original-Envelope-Id; may be NULL */
	const char *mail_from;		/* Original-Mail-From; "" null sender */
	time_t	 arrival;		/* Arrival-Date */
	const char *source_ip;		/* Source-IP; may be NULL */
	const char *authres;		/* our Authentication-Results value */
	const char *delivery_result;	/* "delivered", "spam", "policy",
					   "reject", "other"; may be NULL */
	const char *headers;		/* collected original fields */
	enum failure_redact redact;
};

/* How the report itself is addressed (strings borrowed). */
struct failure_envelope {
	const char *from;		/* ReportEmail */
	const char *to;			/* comma-joined addresses */
	const char *authserv_id;	/* our host name (Message-ID, A-R) */
	time_t	 now;			/* Date */
	unsigned long unique;		/* Message-ID and boundary salt */
};

/*
 * Build the whole report for evaluation r into out (appended): RFC 5322
 * header, then multipart/report; report-type=feedback-report with
 * text/plain, message/feedback-report (Feedback-Type: auth-failure,
 * Auth-Failure: dmarc, Identity-Alignment, ...) and text/rfc822-headers.
 * The original body is never included.  Untrusted values are made safe
 * for a header line (no CR, LF or other control characters) and cut.
 */
enum failure_status failure_build(const struct evaluate_result *r,
	    const struct failure_facts *, const struct failure_envelope *,
	    struct strbuf *out);

/* "dkim", "spf", "dkim,spf" or "none" (RFC 9991 section 5 item 2). */
const char *failure_identity_alignment(const struct evaluate_result *r);

const char *failure_strerror(enum failure_status);

#endif
