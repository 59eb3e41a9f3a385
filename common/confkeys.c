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
	{ "DNSTimeout", NULL, CONF_INT, "2000", 50, 60000, NULL,
	    "milliseconds to wait for one DNS reply (50..60000)" },
	{ "DNSRetries", NULL, CONF_INT, "1", 0, 5, NULL,
	    "extra rounds over the nameservers after a timeout (0..5)" },
	{ "LogLevel", NULL, CONF_ENUM, "info", 0, 0, level_choices,
	    "error, warning, notice, info or debug" },
	{ "Syslog", NULL, CONF_BOOL, "yes", 0, 0, NULL,
	    "log to syslog (yes) or standard error (no)" },
	{ "SyslogFacility", NULL, CONF_STRING, "mail", 0, 0, NULL,
	    "syslog facility name, e.g. mail or local0" },
	{ NULL, NULL, CONF_STRING, NULL, 0, 0, NULL, NULL }
};
