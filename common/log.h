/*
 * log.h - logging for the daemons and tools.
 *
 * Libraries never log (STYLE.md); daemons and the CLI do, through this.
 * Output goes to stderr or syslog.  Lines are built in a strbuf with the
 * log_kv_*() helpers, which escape and truncate untrusted text so that a
 * hostile header can neither forge log lines nor flood them:
 *   4F2C81A: dmarc from=example.com policy=reject disposition=reject
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "strbuf.h"

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */

/* Untrusted values in log lines are cut to this many bytes. */
#define LOG_VALUE_MAX	256

/*
 * Open the log: to syslog with the given facility when use_syslog, else
 * stderr prefixed with ident.  ident is not copied; it must stay valid.
 */
void	log_open(const char *ident, bool use_syslog, int facility);
void	log_close(void);
/* Messages above this level (e.g. LOG_INFO) are dropped. */
void	log_set_level(int level);
int	log_get_level(void);
/* Parse "error|warning|notice|info|debug" into a level; -1 if unknown. */
int	log_level_parse(const char *);

void	log_msg(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* fatal(): log at LOG_ERR and exit(code).  Start-up only (STYLE.md). */
void	fatal(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Append " key=value" to a log line.  The value is untrusted: control
 * characters, spaces, quotes and non-ASCII are escaped and it is cut to
 * LOG_VALUE_MAX bytes.  A value that needs quoting is quoted.  NULL or
 * empty values are written as key=-.
 */
void	log_kv(struct strbuf *, const char *key, const char *value);
void	log_kvn(struct strbuf *, const char *key, const char *value, size_t n);
void	log_kv_int(struct strbuf *, const char *key, long long value);

#endif
