/*
 * spf_screen.h - RFC 7208 syntax screen run before libspf2 compiles text.
 *
 * Every SPF record and every explanation string that reaches libspf2 is
 * first checked here against the RFC 7208 ABNF (sections 4.5, 5, 6, 7.1
 * and 12) and against bounds chosen so that libspf2 1.2.10's compiler
 * can never reach the integer underflow of CVE-2023-42118 (see the top
 * comment of spf_screen.c).  Text that fails is never compiled: the
 * caller turns the failure into a permerror (records) or falls back to
 * the default explanation (RFC 7208 section 6.2).
 *
 * Pure functions: no I/O, no globals, no libspf2.
 */
#ifndef DM_AUTH_SPF_SCREEN_H
#define DM_AUTH_SPF_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

/* Bounds.  Each is far above what published records use. */
#define SPF_SCREEN_MAX_RECORD	4096	/* bytes of one SPF record */
#define SPF_SCREEN_MAX_EXP	1024	/* bytes of one explanation string */
#define SPF_SCREEN_MAX_TERMS	128	/* terms per record (libspf2 counts
					 * mechanisms in an unsigned char) */
#define SPF_SCREEN_MAX_MACROS	32	/* %{...} expands per record */
#define SPF_SCREEN_MAX_DELIMS	16	/* delimiter characters per expand */
#define SPF_SCREEN_MAX_RHS	128	/* largest transformer number */
#define SPF_SCREEN_MAX_LITERAL	255	/* bytes of one literal run, compiled
					 * (libspf2's SPF_MAX_STR_LEN) */
/*
 * Upper bound on the bytes libspf2 needs to compile one term (or one
 * explanation string).  libspf2 compiles into a 511-byte area and its
 * length arithmetic underflows once 508 bytes are used: 400 leaves a
 * wide margin.
 */
#define SPF_SCREEN_MAX_TERM_COST 400

enum spf_screen_status {
	SPF_SCREEN_OK = 0,
	SPF_SCREEN_ERR_NOT_SPF,		/* does not start with "v=spf1" */
	SPF_SCREEN_ERR_TOO_LONG,	/* over SPF_SCREEN_MAX_RECORD/_EXP */
	SPF_SCREEN_ERR_CHAR,		/* byte outside %x20-7E */
	SPF_SCREEN_ERR_TERM,		/* unknown or malformed term */
	SPF_SCREEN_ERR_DOMAIN_SPEC,	/* empty, or no valid domain-end */
	SPF_SCREEN_ERR_MACRO,		/* bad %-escape or macro-expand */
	SPF_SCREEN_ERR_MACRO_LETTER,	/* unknown letter, or c/r/t outside
					 * explanation text (RFC 7208 7.1) */
	SPF_SCREEN_ERR_TRANSFORMER,	/* number 0, over 128, or too long */
	SPF_SCREEN_ERR_CIDR,		/* bad or out-of-range prefix length */
	SPF_SCREEN_ERR_IP,		/* bad ip4-network or ip6-network */
	SPF_SCREEN_ERR_DUP_MODIFIER,	/* redirect= or exp= twice (6/2) */
	SPF_SCREEN_ERR_TOO_MANY_TERMS,
	SPF_SCREEN_ERR_TOO_MANY_MACROS,
	SPF_SCREEN_ERR_TERM_TOO_BIG,	/* compiled form over the cost bound */
	SPF_SCREEN_ERR_NOMEM
};

/* Human-readable reason, never NULL. */
const char *spf_screen_strerror(enum spf_screen_status);

/*
 * True when txt (len bytes, may hold NULs) is an SPF version 1 record:
 * "v=spf1", in any case, followed by a space or the end (RFC 7208 4.5).
 */
bool	 spf_screen_is_spf_record(const char *txt, size_t len);

/*
 * Check one SPF record (len bytes; a NUL byte is a syntax error).  On
 * SPF_SCREEN_OK, out (emptied first) holds the record libspf2 should
 * compile: the same terms, each separated by one space, mechanism and
 * modifier names in lower case, an "R" transformer as "r", unknown
 * modifiers left out (RFC 7208 6: they never change the result), and
 * redirect= moved last, or dropped when the record has an "all"
 * mechanism (RFC 7208 6.1).  On error, *erroff (may be NULL) is the byte
 * offset of the problem and out is emptied.
 */
enum spf_screen_status spf_screen_record(const char *rec, size_t len,
	    struct strbuf *out, size_t *erroff);

/*
 * Check one explanation string (RFC 7208 6.2: explain-string =
 * *( macro-string / SP ), US-ASCII).  On SPF_SCREEN_OK, out holds the
 * text with each space written as "%_" (libspf2 cannot compile a literal
 * space: it reads it as the end of a term).  Errors as above.
 */
enum spf_screen_status spf_screen_explanation(const char *txt, size_t len,
	    struct strbuf *out, size_t *erroff);

#endif
