/*
 * keytable.h - a DNS stand-in for the DKIM tests: a lookup_fn over a
 * text table, one record per line, in the format of Mail::DKIM's
 * t/FAKE_DNS.dat so that its corpus runs unchanged:
 *
 *	# comment
 *	sel._domainkey.example.com  v=DKIM1; k=rsa; p=MIGf...
 *	sel._domainkey.example.com  "v=DKIM1; p="	(quotes are stripped)
 *	gone._domainkey.example.com NXDOMAIN
 *	void._domainkey.example.com NODATA
 *	slow._domainkey.example.com TEMPFAIL	(also ~~Query timed out~~,
 *						 ~~SERVFAIL~~)
 *	bad._domainkey.example.com  PERMFAIL
 *
 * Several lines for one name give several TXT records.  Names compare
 * case-blind; unlisted names are NXDOMAIN.  Every query is counted.
 */
#ifndef DM_TESTS_KEYTABLE_H
#define DM_TESTS_KEYTABLE_H

#include <stddef.h>

#include "policy/lookup.h"

struct keytable;

struct keytable *keytable_new(void);
void	 keytable_free(struct keytable *);
/* Add one line (without its line end).  0 on success, -1 on a bad line
 * or no memory. */
int	 keytable_add_line(struct keytable *, const char *line, size_t len);
/* Load a whole file; 0 on success, -1 (errno, or EINVAL with *lineno). */
int	 keytable_load(struct keytable *, const char *path, size_t *lineno);
/* The lookup_fn; ctx is a struct keytable *. */
enum lookup_status keytable_lookup(void *ctx, const char *qname,
	    enum lookup_qtype, struct lookup_answer *);
size_t	 keytable_queries(const struct keytable *);

#endif
