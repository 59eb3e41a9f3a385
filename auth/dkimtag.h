/*
 * dkimtag.h - the DKIM tag=value list (RFC 6376 section 3.2), as used by
 * DKIM-Signature fields and key records.
 *
 * dkim.c parses each DKIM-Signature itself, before and independently of
 * libopendkim, so that it can report d=, s=, a= and b= for every
 * signature (even ones libopendkim refuses or never sees) and apply its
 * own rules (RFC 8301, From in h=) before spending DNS and CPU.  The
 * parser allocates nothing: values point into the input.
 */
#ifndef DM_AUTH_DKIMTAG_H
#define DM_AUTH_DKIMTAG_H

#include <stdbool.h>
#include <stddef.h>

/* The tags dmarcd looks at; every other tag is syntax-checked and ignored
 * (RFC 6376 section 3.2: unrecognised tags MUST be ignored). */
enum dkimtag_id {
	DKIMTAG_A, DKIMTAG_B, DKIMTAG_BH, DKIMTAG_C, DKIMTAG_D, DKIMTAG_G,
	DKIMTAG_H, DKIMTAG_I, DKIMTAG_K, DKIMTAG_L, DKIMTAG_N, DKIMTAG_P,
	DKIMTAG_Q, DKIMTAG_S, DKIMTAG_T, DKIMTAG_V, DKIMTAG_X, DKIMTAG_Z,
	DKIMTAG_COUNT
};

enum dkimtag_status {
	DKIMTAG_OK,
	DKIMTAG_ERR_SYNTAX,	/* not a tag-list: bad name, no '=', bad byte */
	DKIMTAG_ERR_DUPLICATE	/* a known tag given twice (section 3.2) */
};

struct dkimtag_value {
	const char *p;		/* into the parsed text; FWS trimmed both ends */
	size_t	 len;
};

struct dkimtag_list {
	struct dkimtag_value tag[DKIMTAG_COUNT];
	unsigned int present;	/* bit (1 << enum dkimtag_id) */
};

/*
 * Parse text (len bytes, need not be NUL-terminated) into list.  Work is
 * linear in len.  On error the list holds what was parsed before it.
 */
enum dkimtag_status dkimtag_parse(const char *text, size_t len,
	    struct dkimtag_list *list);

/* Is tag present (possibly with an empty value)? */
bool	 dkimtag_has(const struct dkimtag_list *, enum dkimtag_id);

/*
 * Does the colon-separated list in v contain item, compared
 * case-blind, FWS around items ignored?  For h= ("from") and q=
 * ("dns/txt").
 */
bool	 dkimtag_list_contains(const struct dkimtag_value *v,
	    const char *item);

/* The value with all FWS (SP, HT, CR, LF) removed, copied into out
 * (outsize bytes, NUL-terminated, truncated).  Returns the full length
 * the copy would have. */
size_t	 dkimtag_copy_nofws(const struct dkimtag_value *v, char *out,
	    size_t outsize);

#endif
