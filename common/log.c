/*
 * log.c - stderr/syslog logging and key=value line helpers.
 *
 * The logger is configured once at start-up; log_msg() may then be called
 * from any thread (syslog(3) and a single fprintf per line are both
 * thread-safe).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_ident = "dmarcd";
static bool log_syslog;
static int log_level = LOG_INFO;

void
log_open(const char *ident, bool use_syslog, int facility)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

static void log_vmsg(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
log_vmsg(int level, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	if (level > log_level)
		return;
	strbuf_vappendf(&sb, fmt, ap);
	if (log_syslog)
		syslog(level, "%s", strbuf_cstr(&sb));
	else
		fprintf(stderr, "%s: %s\n", log_ident, strbuf_cstr(&sb));
	strbuf_release(&sb);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(code);
}

void
log_kvn(struct strbuf *sb, const char *key, const char *value, size_t n)
{
	bool quote = false;
	size_t i;

	strbuf_appendf(sb, " %s=", key);
	if (value == NULL || n == 0) {
		strbuf_appendc(sb, '-');
		return;
	}
	for (i = 0; i < n && i < LOG_VALUE_MAX; i++)
		if (value[i] == ' ' || value[i] == '=' || value[i] == '"')
			quote = true;
	if (quote)
		strbuf_appendc(sb, '"');
	strbuf_append_escaped(sb, value, n, LOG_VALUE_MAX);
	if (quote)
		strbuf_appendc(sb, '"');
}

void
log_kv(struct strbuf *sb, const char *key, const char *value)
{
	log_kvn(sb, key, value, value == NULL ? 0 : strlen(value));
}

void
log_kv_int(struct strbuf *sb, const char *key, long long value)
{
	strbuf_appendf(sb, " %s=%lld", key, value);
}
