/*
 * from.h - author domains from the RFC 5322 From header field.
 *
 * The milter hands every From field it sees to from_list_add_field(),
 * then asks from_list_status() for one verdict and from_list_domain() for
 * the distinct author domains in order.  Nothing here does I/O.
 *
 * Typical use:
 *
 *	struct from_list *fl = from_list_new();
 *	for each From field: from_list_add_field(fl, value, len);
 *	switch (from_list_status(fl)) { case FROM_OK: ... }
 *	for (i = 0; i < from_list_ndomains(fl); i++)
 *		evaluate(from_list_domain(fl, i));
 *	from_list_free(fl);
 *
 * FROM_OK does not mean "exactly one domain": a single From field may
 * hold several mailboxes (RFC 5322 section 3.6.2).  DMARC then evaluates
 * each distinct Author Domain and applies the strictest result (RFC 9989
 * section 11.5, after RFC 7489 section 6.6.1); from_list_ndomains() tells
 * the caller how many there are.
 */
#ifndef DM_POLICY_FROM_H
#define DM_POLICY_FROM_H

#include <stddef.h>

#define FROM_MAX_FIELD_LEN	16384	/* bytes of one field value */
#define FROM_MAX_ADDRESSES	64	/* mailboxes kept per list */
#define FROM_MAX_COMMENT_DEPTH	32	/* nested "( ( ... ) )" */
#define FROM_MAX_EWORD_LEN	1024	/* RFC 2047 encoded-word cap */

enum from_status {
	FROM_OK = 0,
	FROM_ERR_NONE,		/* no From field at all */
	FROM_ERR_MULTIPLE_FIELDS, /* more than one From field */
	FROM_ERR_NO_ADDRESS,	/* field without a mailbox: "", "x:;" */
	FROM_ERR_SYNTAX,	/* not parseable as RFC 5322 address-list */
	FROM_ERR_BAD_DOMAIN,	/* missing domain, or not a valid name */
	FROM_ERR_DOMAIN_LITERAL, /* domain is "[192.0.2.1]": no DMARC */
	FROM_ERR_TOO_LONG,	/* value over FROM_MAX_FIELD_LEN */
	FROM_ERR_TOO_MANY,	/* over FROM_MAX_ADDRESSES mailboxes */
	FROM_ERR_TOO_DEEP,	/* comments nested too deeply */
	FROM_ERR_NOMEM
};

/*
 * One mailbox.  All strings are NUL-terminated and owned by the list.
 * display_name is NULL when the mailbox has none; quoted strings are
 * unquoted and RFC 2047 encoded words are kept as written.  local_part
 * is the unquoted content ("a b"@x.test gives a b).  domain is the
 * normalised author domain (lowercase A-labels, no trailing dot) or NULL
 * when status is not FROM_OK; domain_raw is what the header said (CFWS
 * removed), for logs: escape it before printing, it is untrusted.
 */
struct from_address {
	char			*display_name;
	char			*local_part;
	char			*domain;
	char			*domain_raw;
	enum from_status	 status;	/* FROM_OK, FROM_ERR_BAD_DOMAIN
						   or FROM_ERR_DOMAIN_LITERAL */
};

struct from_list;

/*
 * A new empty list; NULL when out of memory.  Free with from_list_free().
 * The other from_list_* functions take a non-NULL list.  There is no
 * global state: lists used by different threads are independent.
 */
struct from_list *from_list_new(void);
/* Free the list and every string it holds.  NULL is a no-op. */
void	 from_list_free(struct from_list *);

/*
 * Parse the value of one From field (the text after "From:"; len bytes,
 * need not be NUL-terminated, borrowed).  The value may be folded with
 * CRLF or LF followed by SP or HTAB; a line break not followed by
 * white space, or a NUL byte, is a syntax error.  Returns this field's
 * own status.  The first hard error (syntax, bound, memory) stops the
 * parse of the field; the mailboxes found before it stay in the list so
 * they can be logged, but from_list_status() is what decides.  Every
 * call counts as one field, even when it fails.  Linear in len.
 */
enum from_status from_list_add_field(struct from_list *, const char *value,
    size_t len);

/*
 * The verdict over all fields added, in this order of precedence:
 * FROM_ERR_NOMEM (any field), FROM_ERR_NONE (no field),
 * FROM_ERR_MULTIPLE_FIELDS (RFC 5322 section 3.6 allows exactly one),
 * then the status of the single field: a hard error, else the first bad
 * domain (FROM_ERR_BAD_DOMAIN or FROM_ERR_DOMAIN_LITERAL), else
 * FROM_ERR_NO_ADDRESS when the field held no mailbox, else FROM_OK.
 */
enum from_status from_list_status(const struct from_list *);

/* Number of From fields added so far. */
size_t	 from_list_nfields(const struct from_list *);

/*
 * Where the first hard error was found: the field index (0-based) and
 * the byte offset in that field's value.  Returns 0 when there was no
 * hard error (the outputs are then left alone), 1 otherwise.
 */
int	 from_list_error_at(const struct from_list *, size_t *field,
	    size_t *offset);

/*
 * Mailboxes in header order, across all fields; NULL when i is out of
 * range.  The pointer is borrowed and valid until from_list_free().
 */
size_t	 from_list_naddresses(const struct from_list *);
const struct from_address *from_list_address(const struct from_list *,
	    size_t i);

/*
 * Distinct normalised author domains over all fields, in order of first
 * appearance; mailboxes with a bad domain contribute none.  Only
 * meaningful for DMARC when from_list_status() is FROM_OK; otherwise
 * they are for logs.  Borrowed strings, valid
 * until from_list_free(); NULL when i is out of range.
 */
size_t	 from_list_ndomains(const struct from_list *);
const char *from_list_domain(const struct from_list *, size_t i);

/*
 * The normalised domain of one bare address, as in SMTP MAIL FROM or on
 * a command line: "user@example.com" or "<user@example.com>", with an
 * optional source route and surrounding white space.  On FROM_OK,
 * *domain_out is a new string the caller frees with mem_free(); on any
 * other status it is NULL.  "" and "<>" (the null reverse-path) give
 * FROM_ERR_NO_ADDRESS; a missing or bad domain FROM_ERR_BAD_DOMAIN; a
 * literal FROM_ERR_DOMAIN_LITERAL; display names or several addresses
 * FROM_ERR_SYNTAX.  Same length cap as a From field.
 */
enum from_status from_domain_of_address(const char *addr, size_t len,
    char **domain_out);

/* A short English description of a status (static string). */
const char *from_strerror(enum from_status);

#endif
