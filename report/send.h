/*
 * send.h - sending an aggregate report by e-mail (RFC 9990 section 3.2
 * "Email"): the rua mailto: destinations, the external destination
 * check's DNS name and TXT test (RFC 9990 section 4), the MIME message,
 * and the pipe to the local MTA's sendmail command.
 *
 * No DNS and no database here: the caller asks the resolver and keeps
 * track of what was sent.  Nothing logs.
 */
#ifndef DM_REPORT_SEND_H
#define DM_REPORT_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"

#define SEND_ADDR_MAX		320	/* local@domain, bytes */
#define SEND_ARGV_MAX		32	/* words of the sendmail command */
#define SEND_DEFAULT_COMMAND	"/usr/sbin/sendmail -t -oi"

enum send_status {
	SEND_OK,
	SEND_ERR_NOMEM,
	SEND_ERR_HEADER,	/* a header value holds CR, LF or NUL */
	SEND_ERR_COMMAND,	/* the command is empty, too long or not an
				   absolute path */
	SEND_ERR_EXEC,		/* pipe, fork or exec failed */
	SEND_ERR_WRITE,		/* the command stopped reading */
	SEND_ERR_EXIT,		/* it exited non-zero */
	SEND_ERR_SIGNAL,	/* it was killed by a signal */
	SEND_ERR_SMTP		/* the SMTP relay failed or refused it
				   (cli/relay.h) */
};

/* One rua destination. */
struct send_dest {
	char	 addr[SEND_ADDR_MAX];	/* local@host, percent-decoded */
	char	 host[254];		/* the host part, lowercase */
	uint64_t max_size;		/* RFC 7489 "!size" in bytes; 0: none */
};

/*
 * Parse one URI of a rua tag (uri[0..len), surrounding blanks allowed).
 * Only "mailto:" is sent (RFC 9990 section 3.2; other schemes are
 * reserved for later documents).  RFC 7489 section 6.2's "!size" suffix
 * (k, m, g, t units) fills max_size.  Returns 0, or -1 with *why set to a
 * static reason ("not a mailto: URI", "bad address", ...).
 */
int	 send_uri_parse(const char *uri, size_t len, struct send_dest *,
	    const char **why);

/*
 * RFC 9990 section 4 steps 2-4: append
 * "<policy_domain>._report._dmarc.<host>" to out.  Returns 0, or -1 when
 * the name is over 253 octets (no authorization can exist).  A DNS
 * wildcard "*._report._dmarc.<host>" answers the same query, so it needs
 * no query of its own.
 */
int	 send_verify_name(const char *policy_domain, const char *host,
	    struct strbuf *out);

/* RFC 9990 section 4 step 6: true if the TXT record's first tag is
 * v=DMARC1. */
bool	 send_txt_authorizes(const char *txt, size_t len);

/* What goes into one report message; every string is borrowed. */
struct send_message {
	const char *from;		/* ReportEmail */
	const char *to;			/* one address */
	const char *policy_domain;
	const char *submitter;		/* the reporter's domain */
	const char *report_id;		/* 1*(ALPHA / DIGIT) */
	const char *filename;		/* RFC 9990 section 3.2.1.1 */
	time_t	 date;
	const char *gz;			/* the gzipped XML */
	size_t	 gzlen;
};

/*
 * Append the RFC 5322 / MIME message (LF line ends, as sendmail reads
 * them): Subject "Report Domain: D Submitter: S Report-ID: ID", a
 * Message-ID built from the report ID (so a resend carries the same
 * one), multipart/mixed with a text/plain note and the report as an
 * application/gzip attachment named filename, base64 in 76-character
 * lines.  SEND_ERR_HEADER if a value holds CR, LF or NUL;
 * SEND_ERR_NOMEM if out failed.
 */
enum send_status send_message_build(const struct send_message *,
	    struct strbuf *out);

/*
 * Run command (words split on blanks; the first is an absolute path; no
 * shell, no PATH search) with msg[0..len) on its standard input and wait
 * for it.  Nothing of the message goes into argv.  SEND_OK when it exits
 * 0; otherwise a status, *code (may be NULL) the exit status or signal,
 * and a sentence in err (may be NULL).
 */
enum send_status send_pipe(const char *command, const char *msg,
	    size_t len, int *code, struct strbuf *err);

const char *send_strerror(enum send_status);

#endif
