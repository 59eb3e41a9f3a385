/*
 * failure_sender.h - dmarcd's failure report sender: at end of message
 * the reports RFC 9991 asks for are built and queued (bounded, never
 * waiting), and one thread verifies external destinations, applies the
 * rate limits and pipes each report to FailureReportSendmail.
 */
#ifndef DM_MILTER_FAILURE_SENDER_H
#define DM_MILTER_FAILURE_SENDER_H

#include <time.h>

#include "action.h"
#include "auth/verify.h"
#include "dns/resolver.h"
#include "settings.h"

#define FAILURE_SENDER_QUEUE	64	/* reports waiting; more are dropped */

/* The message a report is about (strings borrowed for the call). */
struct failure_origin {
	const struct verify_facts *facts;
	const char *queue_id;		/* may be NULL */
	time_t	 received;
	const char *headers;		/* collected by failure_headers_add() */
};

/*
 * Queue the failure reports due for vd (one per ruf address and author
 * domain), built now from the borrowed inputs.  Starts the sender thread
 * on first use; res (borrowed, lives as long as the daemon) verifies
 * external destinations.  Never blocks on I/O; logs what it drops.
 */
void	 failure_sender_submit(const struct milter_settings *,
	    struct dns_resolver *res, const struct verdict *vd,
	    const struct milter_action *, const struct failure_origin *);

#endif
