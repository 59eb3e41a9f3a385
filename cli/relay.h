/*
 * relay.h - sending report e-mails through an SMTP relay (libcurl)
 * instead of the ReportSendmail command: ReportSMTPRelay,
 * ReportSMTPUser, ReportSMTPPasswordFile, ReportSMTPStartTLS.  Used by
 * dmarcctl report and the dmarcctl alerts digest.
 */
#ifndef DM_CLI_RELAY_H
#define DM_CLI_RELAY_H

#include <stddef.h>

#include "cli/cli.h"
#include "common/strbuf.h"
#include "report/send.h"

struct relay;

/*
 * From the configuration: *out is NULL when ReportSMTPRelay is unset
 * (use ReportSendmail), else a new relay ready to send, which the caller
 * frees with relay_free().  EX_OK, or an exit status after printing
 * (cli_error(cmd, ...)) what is wrong with which key.  Nothing is
 * connected yet.
 */
int	 relay_new(const struct cli_ctx *, const char *cmd,
	    struct relay **out);

/*
 * Send msg[0..len) (LF line ends, as send_message_build() makes it) with
 * envelope sender from and one recipient to.  The connection is kept for
 * the next call.  SEND_OK when the relay accepted the message (250 after
 * DATA); SEND_ERR_SMTP when it could not be reached or answered 4xx/5xx
 * to any step, with a sentence in err (the relay URL, libcurl's reason
 * and the server's first 4xx/5xx reply line); SEND_ERR_HEADER when from
 * or to holds a character an SMTP path cannot; SEND_ERR_NOMEM.
 */
enum send_status relay_send(struct relay *, const char *from, const char *to,
	    const char *msg, size_t len, struct strbuf *err);

/* The relay URL without user or password, for messages. */
const char *relay_display(const struct relay *);

/* Close the connection and wipe the password; NULL is fine. */
void	 relay_free(struct relay *);

#endif
