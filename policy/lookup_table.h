/*
 * lookup_table.h - a static DNS answer table behind the lookup callback.
 *
 * Unit tests, fuzzers and `dmarcctl evaluate --record` need policy
 * discovery without a resolver.  A lookup_table maps a query name to the
 * answer the callback returns; lookup_table_lookup() is a lookup_fn.
 *
 * Answers for names not listed follow RFC 8020: a name that is listed,
 * or has a listed descendant, exists (TXT query -> NODATA, existence
 * query -> OK); every other name is NXDOMAIN.  A status set explicitly
 * with lookup_table_set_status() overrides this.
 *
 * The table also logs every query it answers, so tests can assert the
 * exact sequence of queries (RFC 9989 section 4.10).
 */
#ifndef DM_POLICY_LOOKUP_TABLE_H
#define DM_POLICY_LOOKUP_TABLE_H

#include <stddef.h>

#include "lookup.h"

#define LOOKUP_TABLE_MAX_NAMES	1024	/* names per table */
#define LOOKUP_TABLE_MAX_LOG	256	/* queries logged (all are counted) */
#define LOOKUP_TABLE_MAX_LINE	8192	/* bytes per lookup_table_load() line */

enum lookup_table_status {
	LOOKUP_TABLE_OK,
	LOOKUP_TABLE_ERR_NAME,		/* name empty or over 253 octets */
	LOOKUP_TABLE_ERR_FULL,		/* too many names or TXT records */
	LOOKUP_TABLE_ERR_TOO_LONG,	/* TXT or line over its cap */
	LOOKUP_TABLE_ERR_SYNTAX,	/* lookup_table_load(): bad line */
	LOOKUP_TABLE_ERR_NOMEM
};

struct lookup_table;

/* A new empty table (NULL on no memory); free with lookup_table_free(). */
struct lookup_table *lookup_table_new(void);
void	 lookup_table_free(struct lookup_table *);

/* Add one TXT record (len bytes) at qname.  Names compare case-blind. */
enum lookup_table_status lookup_table_add_txt(struct lookup_table *,
    const char *qname, const char *txt, size_t len);
/*
 * Force the status of one query type at qname, e.g. LOOKUP_TEMPFAIL for
 * TXT, or LOOKUP_NXDOMAIN for an existence query.  A forced LOOKUP_OK on
 * a TXT query returns the TXT records added at that name (maybe none).
 */
enum lookup_table_status lookup_table_set_status(struct lookup_table *,
    const char *qname, enum lookup_qtype, enum lookup_status);

/*
 * Load answers from text, one per line:
 *	# comment
 *	_dmarc.example.com  TXT  v=DMARC1; p=reject
 *	_dmarc.example.com  TXT  "v=DMARC1; p=reject"	(quotes stripped)
 *	_dmarc.example.net  TXT  !tempfail		(forced status)
 *	gone.example.com    A    !nxdomain		(existence query)
 * Status words: ok, nxdomain, nodata, tempfail, permfail.  On error,
 * *errline (if not NULL) is the 1-based line number.
 */
enum lookup_table_status lookup_table_load(struct lookup_table *,
    const char *text, size_t len, size_t *errline);

/* The lookup callback: ctx is a struct lookup_table *. */
enum lookup_status lookup_table_lookup(void *ctx, const char *qname,
    enum lookup_qtype, struct lookup_answer *);

/* Number of queries answered so far, and the i-th (0-based) of the first
 * LOOKUP_TABLE_MAX_LOG: its name, or NULL if i is out of range. */
size_t	 lookup_table_nqueries(const struct lookup_table *);
const char *lookup_table_query(const struct lookup_table *, size_t i,
    enum lookup_qtype *);
/* Forget the query log. */
void	 lookup_table_clear_log(struct lookup_table *);

const char *lookup_table_strerror(enum lookup_table_status);
const char *lookup_table_qtype_name(enum lookup_qtype);	/* "TXT", "A" */

#endif
