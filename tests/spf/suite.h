/*
 * suite.h - the openspf RFC 7208 test suite (YAML) as plain data, and a
 * lookup table that answers like dns_query() from a scenario's zonedata.
 *
 * The reader understands the YAML subset that rfc7208-tests.yml uses:
 * "---" documents; block mappings and sequences by indentation;
 * "- key: value" items; plain, 'single' and "double" quoted scalars
 * (with \xHH, \0, \\, \", \n, \t, \r); [flow, sequences]; and block
 * scalars (>, >-, |, |-).  Anything else is an error with a line number.
 */
#ifndef DM_TESTS_SPF_SUITE_H
#define DM_TESTS_SPF_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dns/resolver.h"

#define SUITE_MAX_RESULTS 4

struct suite_rr {
	uint16_t	 type;		/* DNS_TYPE_* */
	char		*data;		/* TXT joined, MX host, PTR/CNAME name */
	size_t		 len;		/* TXT bytes (may hold NULs) */
	size_t		 nstrings;	/* TXT character-strings */
	uint16_t	 pref;		/* MX */
	uint8_t		 addr[16];	/* A (4 bytes), AAAA */
};

struct suite_name {
	char		*name;		/* lower case, no trailing dot */
	struct suite_rr	*rr;
	size_t		 nrr;
	bool		 timeout;	/* TIMEOUT: unanswered types time out */
};

struct suite_test {
	char		*name;
	char		*host;
	char		*helo;
	char		*mailfrom;
	char		*results[SUITE_MAX_RESULTS];
	size_t		 nresults;
	char		*explanation;	/* NULL: not checked */
};

struct suite_scenario {
	char		*description;
	struct suite_test *tests;
	size_t		 ntests;
	struct suite_name *names;
	size_t		 nnames;
};

struct suite {
	struct suite_scenario *sc;
	size_t		 nsc;
};

/* Read the suite from path; -1 with a message on err when it fails. */
int	 suite_load(const char *path, struct suite *, FILE *err);
/* The same from text in memory. */
int	 suite_load_buf(const char *text, size_t len, struct suite *,
	    FILE *err);
void	 suite_free(struct suite *);

/* Add a TXT record of len bytes to name (created when absent). */
void	 suite_add_txt(struct suite_scenario *, const char *name,
	    const char *txt, size_t len);

/*
 * A spf_query_fn over one scenario's zonedata (arg: the scenario).
 * Follows CNAMEs (loops and chains over 8 are errors, as dns_query()),
 * answers NXDOMAIN for unknown names, NODATA for known ones without the
 * type, and DNS_ERR_TIMEOUT where the zonedata says TIMEOUT.
 */
enum dns_status suite_query(void *arg, const char *name, uint16_t type,
	    const struct dns_deadline *deadline, struct dns_answer *out);

/* Does the zonedata make (name, type) time out?  (For NSD mode.) */
bool	 suite_times_out(const struct suite_scenario *, const char *name,
	    uint16_t type);

/* Write the scenario's records as zone-file lines, one zone per top
 * label: calls emit(zone, line, arg) for each line. */
void	 suite_zone_lines(const struct suite_scenario *,
	    void (*emit)(const char *zone, const char *line, void *arg),
	    void *arg);

#endif
