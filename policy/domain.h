/*
 * domain.h - domain name normalisation and comparison.
 *
 * Every domain that enters the policy core (From, DKIM d=, MAIL FROM,
 * HELO, record locations) goes through domain_normalize_dup() first, so
 * that comparisons are plain byte comparisons: lowercase A-labels, no
 * trailing dot (RFC 9989 section 4.4, RFC 8616 for U-labels).
 */
#ifndef DM_POLICY_DOMAIN_H
#define DM_POLICY_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_MAX_LEN		253
#define DOMAIN_MAX_LABEL	63

enum domain_status {
	DOMAIN_OK,
	DOMAIN_ERR_EMPTY,
	DOMAIN_ERR_TOO_LONG,	/* name over 253 or a label over 63 octets */
	DOMAIN_ERR_SYNTAX,	/* empty label, bad character */
	DOMAIN_ERR_IDN,		/* U-label that IDNA2008 refuses */
	DOMAIN_ERR_NOMEM
};

/*
 * Normalise name (len bytes, UTF-8) into a new string the caller frees:
 * lowercased, trailing dot removed, U-labels converted to A-labels.
 * Only LDH labels (and '_' which appears in DNS names we look up) are
 * accepted in the result.
 */
enum domain_status domain_normalize_dup(const char *name, size_t len,
    char **out);
const char *domain_strerror(enum domain_status);

/* Number of labels in a normalised name ("a.b.c" -> 3). */
size_t	 domain_label_count(const char *);
/* The name with its n left-most labels removed, or NULL if none remain. */
const char *domain_strip_labels(const char *, size_t n);
/* The parent of a name, or NULL for a single label. */
const char *domain_parent(const char *);
/* True if sub equals parent or is a subdomain of it (normalised names). */
bool	 domain_is_within(const char *sub, const char *parent);

#endif
