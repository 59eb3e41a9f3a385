/*
 * settings.h - what dmarcd decides with, built from dmarcd.conf.
 *
 * The settings a reload (SIGUSR1) may change live in one reference-
 * counted struct milter_settings: each message holds the settings it
 * started with, so a reload never changes the rules under a message in
 * flight.  What cannot change without a restart (the socket, the user,
 * the history database, the resolver) lives in struct milter_fixed and is
 * compared on reload: a change is logged and ignored.
 */
#ifndef DM_MILTER_SETTINGS_H
#define DM_MILTER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/verify.h"
#include "common/addr.h"
#include "common/conf.h"
#include "common/strbuf.h"

enum milter_mode {
	MILTER_MODE_ENFORCE,		/* reject, quarantine as published */
	MILTER_MODE_QUARANTINE_ONLY,	/* reject becomes quarantine */
	MILTER_MODE_MONITOR		/* headers and history only */
};

enum milter_qaction {
	MILTER_QUARANTINE_HOLD,		/* smfi_quarantine: Postfix hold queue */
	MILTER_QUARANTINE_HEADER	/* deliver with X-DMARC-Quarantine */
};

struct milter_settings {
	struct conf *conf;		/* owns every string below */
	char	 authserv_id[256];
	char	 node[64];
	struct verify_policy policy;
	orgdomain_psl *psl;
	const struct cidr *trusted;
	size_t	 ntrusted;
	bool	 ignore_auth;
	enum milter_mode mode;
	enum milter_qaction qaction;
	bool	 tempfail_dns;
	bool	 fail_tempfail;		/* FailMode tempfail (else accept) */
	const struct cidr *forwarders;
	size_t	 nforwarders;
	char *const *lists;		/* AllowListDomains */
	size_t	 nlists;
	const char *reject_text;
	int	 log_level;
	/* Failure reports (RFC 9991; milter/failure_sender.c) */
	bool	 fr_enabled;		/* FailureReports */
	long	 fr_per_dest;		/* FailureReportsPerDestination */
	long	 fr_per_hour;		/* FailureReportsPerHour */
	const char *fr_sendmail;	/* FailureReportSendmail */
	int	 fr_redact;		/* FailureReportHeaders (enum
					   failure_redact) */
	char	 report_from[320];	/* ReportEmail or noreply-dmarc@host */
	int	 refs;			/* atomic */
};

/* Settings that need a restart to change. */
struct milter_fixed {
	const char *socket;
	const char *socket_mode;
	const char *socket_owner;
	const char *user;
	bool	 run_as_root;
	const char *pidfile;
	const char *history;
	const char *spool;
	bool	 history_full;
	bool	 use_syslog;
	const char *facility;
	/* The resolver is built once: DNS settings need a restart too. */
	char *const *nameservers;
	size_t	 nnameservers;
	long	 dns_timeout, dns_retries;
};

/*
 * Load path into new settings (refs 1).  On error returns NULL with one
 * line per problem in err, each naming the file, line and key.
 */
struct milter_settings *settings_load(const char *path, struct strbuf *err);
void	 settings_ref(struct milter_settings *);
/* Drop a reference; the last one frees.  NULL is a no-op. */
void	 settings_unref(struct milter_settings *);
/* The restart-only values of s (pointers into s->conf). */
void	 settings_fixed(const struct milter_settings *, struct milter_fixed *);
/* Append a sentence per restart-only value that differs to why. */
bool	 settings_fixed_differ(const struct milter_fixed *,
	    const struct milter_fixed *, struct strbuf *why);

/* "mail", "daemon", "local0".."local7", "user" to LOG_*; -1 if unknown. */
int	 settings_facility(const char *);

#endif
