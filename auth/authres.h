/*
 * authres.h - the Authentication-Results header field (RFC 8601).
 *
 * The writer builds the value dmarcd adds; the parser reads incoming
 * fields well enough to find the authserv-id (forged fields carrying ours
 * are removed, RFC 8601 section 5) and the method results (imported
 * failure reports carry them).  Both are bounded: a field over
 * AUTHRES_MAX_LEN or with too many results is refused, never truncated
 * silently.
 */
#ifndef DM_AUTH_AUTHRES_H
#define DM_AUTH_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

#define AUTHRES_MAX_LEN		16384	/* bytes of one field value */
#define AUTHRES_MAX_RESULTS	64	/* resinfo elements */
#define AUTHRES_MAX_PROPS	16	/* properties per resinfo */
#define AUTHRES_MAX_COMMENT	16	/* nesting depth of comments */

/* ---- writer ---------------------------------------------------------- */

struct authres_writer {
	struct strbuf *out;	/* not owned */
	bool	 fold;		/* start each result on a folded line */
	size_t	 nresults;
};

/*
 * Start a field value in out (which is reset): the authserv-id, quoted
 * if it is not a token.  fold: put each result on its own continuation
 * line ("\n\t"), as MTAs expect from milters, keeping lines short.
 */
void	authres_begin(struct authres_writer *, struct strbuf *out,
	    const char *authserv_id, bool fold);
/* "; method=result", then " (comment)" when comment is not NULL. */
void	authres_add_result(struct authres_writer *, const char *method,
	    const char *result, const char *comment);
/*
 * " ptype.property=value" for the last result; the value is quoted when
 * it is not a token or an address (RFC 8601 section 2.2 pvalue), e.g.
 * header.b values holding '/' or '='.  Control characters are dropped
 * and the value is cut at 256 bytes: values come from outside.
 */
void	authres_add_prop(struct authres_writer *, const char *ptype,
	    const char *property, const char *value);
/* Close the value: "; none" when no result was added (section 2.2). */
void	authres_finish(struct authres_writer *);

/* ---- parser ---------------------------------------------------------- */

struct authres_prop {
	char	*ptype;		/* "smtp", "header", "body", "policy" */
	char	*property;	/* "mailfrom", "d", ... */
	char	*value;		/* unquoted */
};

struct authres_result {
	char	*method;	/* lowercased: "spf", "dkim", "dmarc", ... */
	char	*result;	/* lowercased: "pass", ... */
	char	*reason;	/* reason= value, or NULL */
	struct authres_prop props[AUTHRES_MAX_PROPS];
	size_t	 nprops;
};

struct authres {
	char	*authserv_id;	/* as written (compare case-blind) */
	int	 version;	/* 1 unless given */
	bool	 none;		/* "; none" */
	struct authres_result results[AUTHRES_MAX_RESULTS];
	size_t	 nresults;
};

enum authres_status {
	AUTHRES_OK,
	AUTHRES_ERR_SYNTAX,	/* not an RFC 8601 value */
	AUTHRES_ERR_TOO_LONG,	/* over AUTHRES_MAX_LEN */
	AUTHRES_ERR_TOO_MANY,	/* results, properties or comment depth */
	AUTHRES_ERR_NOMEM
};

/*
 * Parse one field value (len bytes, may be folded, borrowed).  On
 * AUTHRES_OK and AUTHRES_ERR_SYNTAX / TOO_MANY, *out is a new structure
 * (free with authres_free()) holding what was read before the error: the
 * authserv-id is read first, so a forged field is recognised even when
 * the rest is garbage.  *out is NULL on TOO_LONG and NOMEM.
 */
enum authres_status authres_parse(const char *value, size_t len,
	    struct authres **out);
void	authres_free(struct authres *);
const char *authres_strerror(enum authres_status);

/*
 * True if the field value claims to come from authserv_id (case-blind),
 * so a receiving MTA must treat it as forged and remove it.  Cheap: reads
 * only up to the authserv-id.
 */
bool	authres_is_from(const char *value, size_t len, const char *authserv_id);

#endif
