/*
 * lookup.h - how DNS reaches the pure policy core.
 *
 * policy/ performs no I/O.  Whoever calls it supplies a lookup callback:
 * unit tests and fuzzers plug in a table, dmarcctl and dmarcd plug in the
 * ldns resolver from dns/.  NXDOMAIN and NODATA are kept apart because the
 * np= tag depends on the difference (RFC 9989 section 3.2.13, RFC 8020).
 */
#ifndef DM_POLICY_LOOKUP_H
#define DM_POLICY_LOOKUP_H

#include <stddef.h>

enum lookup_qtype {
	LOOKUP_TXT,		/* TXT records at the name */
	LOOKUP_EXISTS		/* does the name exist at all? (A query) */
};

enum lookup_status {
	LOOKUP_OK,		/* answer present (for TXT: txts/ntxt set) */
	LOOKUP_NXDOMAIN,	/* the name does not exist */
	LOOKUP_NODATA,		/* the name exists, no record of that type */
	LOOKUP_TEMPFAIL,	/* timeout, SERVFAIL, REFUSED, network */
	LOOKUP_PERMFAIL		/* answer over a bound, malformed */
};

/* Hard bounds on what a callback may hand back. */
#define LOOKUP_MAX_TXT		16	/* TXT records considered per name */
#define LOOKUP_MAX_TXT_LEN	8192	/* bytes per joined TXT record */

/*
 * One answer.  The callback fills txts with up to LOOKUP_MAX_TXT
 * records (each the concatenation of its character-strings, NUL
 * terminated, allocated with mem_alloc); the caller releases them with
 * lookup_answer_clear().
 */
struct lookup_answer {
	enum lookup_status status;
	char	*txts[LOOKUP_MAX_TXT];
	size_t	 txtlens[LOOKUP_MAX_TXT];
	size_t	 ntxt;
};

/* Returns the answer's status; must always fill ans->status. */
typedef enum lookup_status (*lookup_fn)(void *ctx, const char *qname,
    enum lookup_qtype qtype, struct lookup_answer *ans);

void	 lookup_answer_init(struct lookup_answer *);
void	 lookup_answer_clear(struct lookup_answer *);
/* Append one TXT string to an answer (for callbacks); -1 on no memory
 * or when the answer is full (then status becomes LOOKUP_PERMFAIL). */
int	 lookup_answer_add_txt(struct lookup_answer *, const char *, size_t);
const char *lookup_status_name(enum lookup_status);

#endif
