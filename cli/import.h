/*
 * import.h - the pieces of dmarcctl import shared by its inputs: the
 * local files (cmd_import.c), an IMAP mailbox (import_imap.c), and the
 * alerts checked after each run (alerts_run.c).
 */
#ifndef DM_CLI_IMPORT_H
#define DM_CLI_IMPORT_H

#include <stdbool.h>
#include <time.h>

#include "cli/cli.h"

struct imp;

/* The outcome of one input, as printed. */
enum import_outcome {
	IMPORT_STORED,
	IMPORT_DUPLICATE,
	IMPORT_REJECTED,	/* definitive: the input is not a report we
				   keep, and importing it again changes nothing */
	IMPORT_FAILED		/* the database failed: try again later */
};

/* Import the report read from fd, named name in the output line. */
enum import_outcome import_fd(struct imp *, int fd, const char *name);

/* dmarcctl import --imap: the options; NULL strings come from the
 * configuration (ImportImap* keys). */
struct import_imap_opts {
	const char *url;		/* imaps://user@host[:port]/MAILBOX */
	const char *password_file;
	const char *cafile;
	bool	 watch;
	long	 interval;		/* seconds between polls; 0: config */
};

/*
 * Import every message of the mailbox, moving each one whose outcome is
 * definitive to the done (stored, duplicate) or rejected folder; a
 * failed one stays where it is.  With watch, poll again every interval
 * until SIGTERM or SIGINT; after each pass the alerts of the database
 * at db are checked (alerts_after_import()).
 * Returns an exit status (sysexits) for setup and connection errors, or
 * EX_OK after the messages were processed (the caller then looks at
 * the counts).
 */
int	 import_imap(struct cli_ctx *, struct imp *,
	    const struct import_imap_opts *, const char *db);

/*
 * After an import run that began at since: find new alerts in the
 * domains it imported reports for (database at uri), and
 * deliver the pending ones to AlertWebhookURL.  New alerts are shown on
 * stderr when it is a terminal; problems always are.  They never change
 * the import's exit status.
 */
void	 alerts_after_import(struct cli_ctx *, const char *uri,
	    time_t since);

/* The thresholds from the configuration (Alert* keys). */
struct alerts_config;
void	 alerts_config_from(const struct cli_ctx *, struct alerts_config *);

/*
 * POST each alert not yet delivered to AlertWebhookURL (when set), as
 * one JSON object per request; a 2xx answer marks it delivered, any
 * other outcome leaves it for the next run.  Returns the number that
 * failed, after printing why.
 */
struct store_alerts;
unsigned alerts_webhook_deliver(struct cli_ctx *, struct store_alerts *);

int	 cmd_alerts(struct cli_ctx *, int, char **);

#endif
