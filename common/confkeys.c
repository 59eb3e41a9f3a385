/*
 * confkeys.c - the table of dmarcd.conf keys.
 *
 * Where OpenDMARC has a key for the same thing, its name is accepted as an
 * alias so an operator can move with few edits (see dmarcd.conf(5)).
 */
#include "config.h"

#include <stddef.h>

#include "confkeys.h"

static const char *const discovery_choices[] = { "treewalk", "psl", NULL };
static const char *const pct_choices[] = { "sample", "testing", "ignore",
	NULL };
static const char *const badfrom_choices[] = { "reject", "quarantine",
	"none", NULL };
static const char *const mode_choices[] = { "enforce", "quarantine-only",
	"monitor", NULL };
static const char *const quarantine_choices[] = { "hold", "header", NULL };
static const char *const durability_choices[] = { "full", "relaxed", NULL };
static const char *const failmode_choices[] = { "tempfail", "accept", NULL };
static const char *const redact_choices[] = { "all", "minimal", NULL };
static const char *const starttls_choices[] = { "auto", "yes", "no",
	NULL };	/* the order of cli/relay.c's STARTTLS_* */
static const char *const level_choices[] = { "error", "warning", "notice",
	"info", "debug", NULL };

const struct conf_key confkeys_dmarcd[] = {
	{ "PolicyDiscovery", NULL, CONF_ENUM, "treewalk", 0, 0,
	    discovery_choices,
	    "treewalk (RFC 9989) or psl (RFC 7489 public suffix list)" },
	{ "PublicSuffixList", NULL, CONF_PATH, DEFAULT_PSL_FILE,
	    0, 0, NULL, "path of the public suffix list file" },
	{ "PctMode", NULL, CONF_ENUM, "sample", 0, 0, pct_choices,
	    "how pct= is honoured: sample, testing or ignore" },
	{ "AuthservID", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "the authserv-id of Authentication-Results; unset: host name" },
	{ "MultipleFromPolicy", NULL, CONF_ENUM, "reject", 0, 0,
	    badfrom_choices,
	    "reject, quarantine or none for messages without a usable From" },
	{ "Nameservers", NULL, CONF_LIST, NULL, 0, 0, NULL,
	    "nameservers as IP or IP:PORT; unset: /etc/resolv.conf" },
	{ "DNSTimeout", NULL, CONF_DURATION, "2s", 50, 60000, NULL,
	    "time to wait for one DNS reply: 5 or 5s (seconds), 500ms" },
	{ "DNSRetries", NULL, CONF_INT, "1", 0, 5, NULL,
	    "extra rounds over the nameservers after a timeout (0..5)" },
	{ "DNSDeadline", NULL, CONF_DURATION, "10s", 100, 120000, NULL,
	    "longest time all DNS work for one message may take" },
	{ "LogLevel", NULL, CONF_ENUM, "info", 0, 0, level_choices,
	    "error, warning, notice, info or debug" },
	{ "Syslog", NULL, CONF_BOOL, "yes", 0, 0, NULL,
	    "log to syslog (yes) or standard error (no)" },
	{ "SyslogFacility", NULL, CONF_STRING, "mail", 0, 0, NULL,
	    "syslog facility name, e.g. mail or local0" },

	/* dmarcd: the milter */
	{ "Socket", NULL, CONF_STRING, "inet:8893@127.0.0.1", 0, 0, NULL,
	    "inet:PORT@ADDR, inet6:PORT@ADDR, unix:PATH or local:PATH" },
	{ "SocketMode", NULL, CONF_STRING, "0660", 0, 0, NULL,
	    "octal permissions of a unix socket, e.g. 0660" },
	{ "SocketOwner", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "user[:group] owning a unix socket (e.g. postfix:postfix)" },
	{ "UserID", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "user[:group] to run as after binding the socket" },
	{ "RunAsRoot", NULL, CONF_BOOL, "no", 0, 0, NULL,
	    "yes allows running as root when UserID is unset" },
	{ "PidFile", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "file to write the process ID to" },
	{ "NodeName", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "this MTA's name in the history; unset: host name" },
	{ "TrustedNetworks", "IgnoreHosts", CONF_CIDRS, "127.0.0.0/8 ::1", 0,
	    0, NULL, "clients (IP or CIDR, or a file of them) never judged" },
	{ "IgnoreAuthenticatedClients", NULL, CONF_BOOL, "yes", 0, 0, NULL,
	    "skip clients that authenticated with SMTP AUTH" },
	{ "EnforcementMode", NULL, CONF_ENUM, "enforce", 0, 0, mode_choices,
	    "enforce, quarantine-only or monitor" },
	{ "RejectFailures", NULL, CONF_BOOL, NULL, 0, 0, NULL,
	    "OpenDMARC's switch: yes = EnforcementMode enforce, no = monitor" },
	{ "QuarantineAction", NULL, CONF_ENUM, "hold", 0, 0,
	    quarantine_choices,
	    "hold (the MTA's quarantine, Postfix's hold queue) or header" },
	{ "HoldQuarantinedMessages", NULL, CONF_BOOL, NULL, 0, 0, NULL,
	    "OpenDMARC's switch: yes = QuarantineAction hold, no = header" },
	{ "RejectMultiValueFrom", NULL, CONF_BOOL, NULL, 0, 0, NULL,
	    "OpenDMARC's switch: yes = MultipleFromPolicy reject, no = none" },
	{ "TempfailOnDNSError", NULL, CONF_BOOL, "yes", 0, 0, NULL,
	    "answer 451 when DNS trouble leaves the verdict unknown" },
	{ "FailMode", NULL, CONF_ENUM, "tempfail", 0, 0, failmode_choices,
	    "on an internal or history error: tempfail or accept" },
	{ "AllowForwarders", NULL, CONF_CIDRS, NULL, 0, 0, NULL,
	    "forwarders (IP or CIDR) whose DMARC failures are overridden" },
	{ "AllowListDomains", NULL, CONF_LIST, NULL, 0, 0, NULL,
	    "mailing list domains: a verified DKIM signature overrides" },
	{ "RejectText", NULL, CONF_STRING,
	    "DMARC policy of %d (p=%p) rejects this message", 0, 0, NULL,
	    "the 550 reply text; %d is the author domain, %p its policy" },
	/* dmarcctl serve: the HTTP API and the dashboard */
	{ "ServeListen", NULL, CONF_STRING, "127.0.0.1:8080", 0, 0, NULL,
	    "ADDRESS:PORT (or [IPv6]:PORT) dmarcctl serve listens on" },
	{ "ServeThreads", NULL, CONF_INT, "4", 1, 64, NULL,
	    "threads of dmarcctl serve (1..64)" },
	{ "ServeMaxConnections", NULL, CONF_INT, "256", 1, 100000, NULL,
	    "open HTTP connections at most" },
	{ "ServeMaxConnectionsPerIP", NULL, CONF_INT, "32", 1, 100000, NULL,
	    "open HTTP connections per client address at most" },
	{ "ServeTimeout", NULL, CONF_DURATION, "10s", 1000, 3600000, NULL,
	    "an idle HTTP connection is closed after this long" },
	{ "ServeMaxHeaderSize", NULL, CONF_INT, "16384", 4096, 1048576,
	    NULL, "bytes for one request's line and headers (431 past it)" },
	{ "ServeTLSCert", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "PEM certificate: serve HTTPS (with ServeTLSKey)" },
	{ "ServeTLSKey", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "PEM private key of ServeTLSCert" },
	{ "ServeUserID", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "user[:group] dmarcctl serve runs as; unset: UserID" },
	{ "ServeMetricsToken", NULL, CONF_BOOL, "no", 0, 0, NULL,
	    "yes: /metrics needs a bearer token too" },
	{ "ServeCheckRate", NULL, CONF_INT, "10", 1, 100000, NULL,
	    "/api/v1/check requests per minute and token" },
	{ "ServeCheckCacheTTL", NULL, CONF_DURATION, "60s", 0, 3600000, NULL,
	    "how long a /api/v1/check answer is reused" },
	{ "WebRoot", NULL, CONF_PATH, PKGDATADIR "/web", 0, 0, NULL,
	    "directory of the dashboard's files (/ and /static/)" },
	{ "ChartJSDir", NULL, CONF_PATH, "/usr/share/javascript/chart.js", 0,
	    0, NULL, "directory of Debian's libjs-chart.js "
	    "(/static/vendor/chart.umd.js)" },

	{ "HistoryDatabase", NULL, CONF_STRING,
	    "/var/lib/dmarcd/history.sqlite", 0, 0, NULL,
	    "SQLite file path (or sqlite:PATH) of the verdict history" },
	{ "HistoryDurability", NULL, CONF_ENUM, "full", 0, 0,
	    durability_choices,
	    "full: reply only after the row is committed; relaxed: do not wait" },
	{ "HistorySpool", NULL, CONF_STRING, "/var/lib/dmarcd/spool", 0, 0,
	    NULL, "PostgreSQL: local file holding records while the database "
	    "is away" },

	/* dmarcctl report: aggregate reports (RFC 9990 report_metadata) */
	{ "ReportOrgName", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "org_name of aggregate reports; unset: the host name" },
	{ "ReportEmail", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "email of aggregate reports; unset: noreply-dmarc@ the host name" },
	{ "ReportContactInfo", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "extra_contact_info of aggregate reports (a URL); unset: none" },
	{ "ReportSendmail", NULL, CONF_STRING, "/usr/sbin/sendmail -t -oi", 0,
	    0, NULL, "command that reads a report e-mail on stdin (run "
	    "without a shell; absolute path, blank-separated words)" },
	{ "ReportSMTPRelay", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "smtp://HOST[:PORT] or smtps://HOST[:PORT]: dmarcctl sends "
	    "reports there instead of ReportSendmail; unset: ReportSendmail" },
	{ "ReportSMTPUser", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "SMTP AUTH user at ReportSMTPRelay; unset: no AUTH" },
	{ "ReportSMTPPasswordFile", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "file of mode 0600 holding ReportSMTPUser's password" },
	{ "ReportSMTPStartTLS", NULL, CONF_ENUM, "auto", 0, 0,
	    starttls_choices, "smtp:// relay: yes (STARTTLS required), no, or "
	    "auto (required unless the relay is a loopback address)" },
	{ "ReportSMTPCAFile", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "PEM CA certificates that verify ReportSMTPRelay's certificate; "
	    "unset: the system's" },

	/* dmarcd: failure reports (RFC 9991), off by default */
	{ "FailureReports", NULL, CONF_BOOL, "no", 0, 0, NULL,
	    "send RFC 9991 failure reports to ruf= addresses (yes/no)" },
	{ "FailureReportsPerDestination", NULL, CONF_INT, "10", 0, 100000,
	    NULL, "failure reports per ruf address per hour" },
	{ "FailureReportsPerHour", NULL, CONF_INT, "100", 0, 1000000, NULL,
	    "failure reports per hour in all" },
	{ "FailureReportSendmail", NULL, CONF_STRING,
	    "/usr/sbin/sendmail -t -oi", 0, 0, NULL,
	    "command (split on spaces, no shell) the report is piped to" },
	{ "FailureReportHeaders", NULL, CONF_ENUM, "all", 0, 0,
	    redact_choices, "header fields of the failing message in a "
	    "report: all or minimal (never the body)" },

	/* dmarcctl import: received reports */
	{ "OwnedDomains", NULL, CONF_LIST, NULL, 0, 0, NULL,
	    "domains (and their subdomains) whose received reports are "
	    "stored; more in the database (dmarcctl domain add)" },
	{ "ImportReverseDNS", NULL, CONF_BOOL, "yes", 0, 0, NULL,
	    "resolve the PTR of new report source IPs at import (yes/no)" },
	{ "ImportReverseDNSMaxAge", NULL, CONF_DURATION, "604800s", 60000,
	    31536000000L, NULL, "age after which a cached PTR is resolved "
	    "again (default 7 days)" },

	/* dmarcctl report: exactly once (reports_sent) */
	{ "ReportClaimTimeout", NULL, CONF_DURATION, "3600s", 60000, 604800000,
	    NULL, "age after which another run may take over a report claimed "
	    "but not marked sent" },

	/* dmarcctl import --imap (cli/import_imap.c) */
	{ "ImportImapURL", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "imaps://USER@HOST[:PORT]/MAILBOX read by dmarcctl import when "
	    "given no input" },
	{ "ImportImapPasswordFile", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "file holding the IMAP password (mode 0600 or stricter)" },
	{ "ImportImapCAFile", NULL, CONF_PATH, NULL, 0, 0, NULL,
	    "PEM CA certificates that verify the IMAP server; unset: the "
	    "system's" },
	{ "ImportImapDoneFolder", NULL, CONF_STRING, "dmarc-processed", 0, 0,
	    NULL, "IMAP folder that stored and duplicate reports move to" },
	{ "ImportImapRejectedFolder", NULL, CONF_STRING, "dmarc-rejected", 0,
	    0, NULL, "IMAP folder that rejected messages move to" },
	{ "ImportImapPollInterval", NULL, CONF_DURATION, "300s", 1000,
	    86400000, NULL, "dmarcctl import --watch: time between polls" },

	/* alerts after dmarcctl import (store/alerts.c, cli/alerts_run.c) */
	{ "AlertNewSourceMinMessages", NULL, CONF_INT, "10", 1, 1000000000,
	    NULL, "messages a new sending source needs in a day to alert" },
	{ "AlertPassRateDrop", NULL, CONF_INT, "10", 1, 100, NULL,
	    "percentage points below the 7-day baseline that alert" },
	{ "AlertPassRateMinMessages", NULL, CONF_INT, "100", 1, 1000000000,
	    NULL, "messages the day and the baseline each need before a pass "
	    "rate drop alerts" },
	{ "AlertDkimFailMinMessages", NULL, CONF_INT, "10", 1, 1000000000,
	    NULL, "DKIM failures in a day from a source that passed before "
	    "that alert" },
	{ "AlertWebhookURL", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "http(s) URL each new alert is POSTed to as JSON; unset: none" },
	{ "AlertDigestTo", NULL, CONF_STRING, NULL, 0, 0, NULL,
	    "address dmarcctl alerts digest mails new alerts to" },

	/*
	 * OpenDMARC keys with no effect here: accepted so its configuration
	 * loads, with a warning that says why (dmarcd.conf(5), "Moving from
	 * OpenDMARC").
	 */
	{ "SPFSelfValidate", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "dmarcd always checks SPF itself" },
	{ "SPFIgnoreResults", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "dmarcd never trusts SPF results from other hosts" },
	{ "TrustedAuthservIDs", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "dmarcd checks SPF and DKIM itself and trusts no upstream "
	    "Authentication-Results" },
	{ "RequiredHeaders", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "see MultipleFromPolicy for messages without a usable From" },
	{ "Background", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "dmarcd runs in the foreground under systemd; -f is implied" },
	{ "AutoRestart", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "systemd restarts dmarcd (Restart=on-failure)" },
	{ "AutoRestartCount", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "systemd restarts dmarcd" },
	{ "AutoRestartRate", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "systemd restarts dmarcd" },
	{ "UMask", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "use SocketMode for the socket's permissions" },
	{ "SoftwareHeader", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "dmarcd adds no software header" },
	{ "EnableCoredumps", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "set LimitCORE= in the systemd unit instead" },
	{ "MilterDebug", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "use LogLevel debug" },
	{ "AuthservIDWithJobID", NULL, CONF_IGNORED, NULL, 0, 0, NULL,
	    "the queue id is in the log line, not the authserv-id" },
	{ "HistoryFile", NULL, CONF_REFUSED, NULL, 0, 0, NULL,
	    "dmarcd keeps its history in HistoryDatabase; opendmarc-import "
	    "is not needed" },
	{ "ChangeRootDirectory", NULL, CONF_REFUSED, NULL, 0, 0, NULL,
	    "use the systemd unit's ProtectSystem= and ReadWritePaths=" },
	{ NULL, NULL, CONF_STRING, NULL, 0, 0, NULL, NULL }
};
