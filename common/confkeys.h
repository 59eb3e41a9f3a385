/*
 * confkeys.h - the keys of dmarcd.conf, shared by dmarcd and dmarcctl.
 *
 * Both programs read the same file, so there is one table; every key in
 * it is documented in conf/dmarcd.conf and dmarcd.conf(5).  A key is added
 * here only together with the code that honours it.
 */
#ifndef DM_CONFKEYS_H
#define DM_CONFKEYS_H

#include "conf.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define DMARCD_CONF_DEFAULT	SYSCONFDIR "/dmarcd/dmarcd.conf"

/* Choices of the enum keys, in the order conf_enum() indexes them. */
enum confkeys_discovery { CONFKEYS_DISCOVERY_TREEWALK, CONFKEYS_DISCOVERY_PSL };
enum confkeys_pct { CONFKEYS_PCT_SAMPLE, CONFKEYS_PCT_TESTING,
	CONFKEYS_PCT_IGNORE };
enum confkeys_mode { CONFKEYS_MODE_ENFORCE, CONFKEYS_MODE_QUARANTINE_ONLY,
	CONFKEYS_MODE_MONITOR };
enum confkeys_quarantine { CONFKEYS_QUARANTINE_HOLD,
	CONFKEYS_QUARANTINE_HEADER };
enum confkeys_durability { CONFKEYS_DURABILITY_FULL,
	CONFKEYS_DURABILITY_RELAXED };
enum confkeys_failmode { CONFKEYS_FAIL_TEMPFAIL, CONFKEYS_FAIL_ACCEPT };

extern const struct conf_key confkeys_dmarcd[];

#endif
