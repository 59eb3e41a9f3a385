/*
 * settings.c - dmarcd.conf into struct milter_settings, with the checks
 * that span several keys (OpenDMARC's switches against their dmarcd
 * counterparts, the public suffix list for PolicyDiscovery psl).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "common/confkeys.h"
#include "common/log.h"
#include "common/mem.h"
#include "settings.h"

/*
 * An OpenDMARC switch and its dmarcd key must not both be set: the file
 * would say two things.  Returns -1 and explains in err.
 */
static int
settings_conflict(const struct conf *c, const char *old, const char *new,
    struct strbuf *err)
{
	if (!conf_is_set(c, old) || !conf_is_set(c, new))
		return 0;
	strbuf_appendf(err, "%s: %s and %s are both set; keep only %s\n",
	    conf_path(c), old, new, new);
	return -1;
}

struct milter_settings *
settings_load(const char *path, struct strbuf *err)
{
	struct milter_settings *s;
	enum orgdomain_status ost;
	const char *v;
	int rc = 0;

	if ((s = mem_calloc(1, sizeof(*s))) == NULL ||
	    (s->conf = conf_new(confkeys_dmarcd)) == NULL) {
		strbuf_appends(err, "out of memory\n");
		mem_free(s);
		return NULL;
	}
	s->refs = 1;
	if (conf_load_file(s->conf, path, err) != 0)
		goto fail;
	rc |= settings_conflict(s->conf, "RejectFailures", "EnforcementMode",
	    err);
	rc |= settings_conflict(s->conf, "HoldQuarantinedMessages",
	    "QuarantineAction", err);
	rc |= settings_conflict(s->conf, "RejectMultiValueFrom",
	    "MultipleFromPolicy", err);
	if (rc != 0)
		goto fail;

	if ((v = conf_str(s->conf, "AuthservID")) == NULL) {
		if (gethostname(s->authserv_id, sizeof(s->authserv_id)) != 0)
			strcpy(s->authserv_id, "localhost");
		s->authserv_id[sizeof(s->authserv_id) - 1] = '\0';
	} else
		strlcpy(s->authserv_id, v, sizeof(s->authserv_id));
	if ((v = conf_str(s->conf, "NodeName")) == NULL) {
		if (gethostname(s->node, sizeof(s->node)) != 0)
			strcpy(s->node, "localhost");
		s->node[sizeof(s->node) - 1] = '\0';
	} else
		strlcpy(s->node, v, sizeof(s->node));

	s->policy.authserv_id = s->authserv_id;
	s->policy.pct_mode = (enum eval_pct_mode)conf_enum(s->conf, "PctMode");
	s->policy.badfrom = (enum verify_badfrom)conf_enum(s->conf,
	    "MultipleFromPolicy");
	if (conf_is_set(s->conf, "RejectMultiValueFrom"))
		s->policy.badfrom = conf_bool(s->conf, "RejectMultiValueFrom") ?
		    VERIFY_BADFROM_REJECT : VERIFY_BADFROM_NONE;
	s->policy.deadline_ms = (unsigned)conf_int(s->conf, "DNSDeadline");
	s->policy.method = ORGDOMAIN_TREEWALK;
	if (conf_enum(s->conf, "PolicyDiscovery") == CONFKEYS_DISCOVERY_PSL) {
		s->policy.method = ORGDOMAIN_PSL;
		if ((s->psl = orgdomain_psl_new(conf_str(s->conf,
		    "PublicSuffixList"), &ost)) == NULL) {
			strbuf_appendf(err, "%s: PublicSuffixList %s: %s\n",
			    path, conf_str(s->conf, "PublicSuffixList"),
			    orgdomain_strerror(ost));
			goto fail;
		}
		s->policy.psl = s->psl;
	}

	s->ntrusted = conf_cidrs(s->conf, "TrustedNetworks", &s->trusted);
	s->ignore_auth = conf_bool(s->conf, "IgnoreAuthenticatedClients");
	s->mode = (enum milter_mode)conf_enum(s->conf, "EnforcementMode");
	if (conf_is_set(s->conf, "RejectFailures"))
		s->mode = conf_bool(s->conf, "RejectFailures") ?
		    MILTER_MODE_ENFORCE : MILTER_MODE_MONITOR;
	s->qaction = (enum milter_qaction)conf_enum(s->conf,
	    "QuarantineAction");
	if (conf_is_set(s->conf, "HoldQuarantinedMessages"))
		s->qaction = conf_bool(s->conf, "HoldQuarantinedMessages") ?
		    MILTER_QUARANTINE_HOLD : MILTER_QUARANTINE_HEADER;
	s->tempfail_dns = conf_bool(s->conf, "TempfailOnDNSError");
	s->fail_tempfail = conf_enum(s->conf, "FailMode") ==
	    CONFKEYS_FAIL_TEMPFAIL;
	s->nforwarders = conf_cidrs(s->conf, "AllowForwarders",
	    &s->forwarders);
	s->nlists = conf_list(s->conf, "AllowListDomains", &s->lists);
	s->reject_text = conf_str(s->conf, "RejectText");
	s->log_level = log_level_parse(conf_str(s->conf, "LogLevel"));
	s->fr_enabled = conf_bool(s->conf, "FailureReports");
	s->fr_per_dest = conf_int(s->conf, "FailureReportsPerDestination");
	s->fr_per_hour = conf_int(s->conf, "FailureReportsPerHour");
	s->fr_sendmail = conf_str(s->conf, "FailureReportSendmail");
	s->fr_redact = conf_enum(s->conf, "FailureReportHeaders");
	if (s->fr_enabled && s->fr_sendmail[0] != '/') {
		strbuf_appendf(err, "%s: FailureReportSendmail %s: not an "
		    "absolute path (no shell runs it)\n", path, s->fr_sendmail);
		goto fail;
	}
	if ((v = conf_str(s->conf, "ReportEmail")) != NULL)
		strlcpy(s->report_from, v, sizeof(s->report_from));
	else
		snprintf(s->report_from, sizeof(s->report_from),
		    "noreply-dmarc@%s", s->node);
	if (settings_facility(conf_str(s->conf, "SyslogFacility")) < 0) {
		strbuf_appendf(err, "%s: SyslogFacility %s: unknown facility "
		    "(mail, daemon, user, local0..local7)\n", path,
		    conf_str(s->conf, "SyslogFacility"));
		goto fail;
	}
	return s;
fail:
	settings_unref(s);
	return NULL;
}

void
settings_ref(struct milter_settings *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
}

void
settings_unref(struct milter_settings *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	orgdomain_psl_free(s->psl);
	conf_free(s->conf);
	mem_free(s);
}

void
settings_fixed(const struct milter_settings *s, struct milter_fixed *f)
{
	f->socket = conf_str(s->conf, "Socket");
	f->socket_mode = conf_str(s->conf, "SocketMode");
	f->socket_owner = conf_str(s->conf, "SocketOwner");
	f->user = conf_str(s->conf, "UserID");
	f->run_as_root = conf_bool(s->conf, "RunAsRoot");
	f->pidfile = conf_str(s->conf, "PidFile");
	f->history = conf_str(s->conf, "HistoryDatabase");
	f->spool = conf_str(s->conf, "HistorySpool");
	f->history_full = conf_enum(s->conf, "HistoryDurability") ==
	    CONFKEYS_DURABILITY_FULL;
	f->use_syslog = conf_bool(s->conf, "Syslog");
	f->facility = conf_str(s->conf, "SyslogFacility");
	f->nnameservers = conf_list(s->conf, "Nameservers", &f->nameservers);
	f->dns_timeout = conf_int(s->conf, "DNSTimeout");
	f->dns_retries = conf_int(s->conf, "DNSRetries");
}

static bool
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

bool
settings_fixed_differ(const struct milter_fixed *a,
    const struct milter_fixed *b, struct strbuf *why)
{
	static const char *const names[] = { "Socket", "SocketMode",
	    "SocketOwner", "UserID", "PidFile", "HistoryDatabase",
	    "HistorySpool", "SyslogFacility" };
	const char *av[] = { a->socket, a->socket_mode, a->socket_owner,
	    a->user, a->pidfile, a->history, a->spool, a->facility };
	const char *bv[] = { b->socket, b->socket_mode, b->socket_owner,
	    b->user, b->pidfile, b->history, b->spool, b->facility };
	bool differ = false;
	size_t i;
	bool ns_differ;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_differs(av[i], bv[i])) {
			strbuf_appendf(why, "%s%s", differ ? ", " : "",
			    names[i]);
			differ = true;
		}
	ns_differ = a->nnameservers != b->nnameservers ||
	    a->dns_timeout != b->dns_timeout ||
	    a->dns_retries != b->dns_retries;

	for (i = 0; !ns_differ && i < a->nnameservers; i++)
		ns_differ = strcmp(a->nameservers[i], b->nameservers[i]) != 0;
	if (ns_differ) {
		strbuf_appendf(why, "%sNameservers/DNSTimeout/DNSRetries",
		    differ ? ", " : "");
		differ = true;
	}
	if (a->history_full != b->history_full ||
	    a->run_as_root != b->run_as_root || a->use_syslog != b->use_syslog) {
		strbuf_appendf(why, "%sHistoryDurability/RunAsRoot/Syslog",
		    differ ? ", " : "");
		differ = true;
	}
	return differ;
}

int
settings_facility(const char *name)
{
	static const struct {
		const char *name;
		int fac;
	} tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(name, tab[i].name) == 0)
			return tab[i].fac;
	return -1;
}
