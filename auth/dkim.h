/*
 * dkim.h - DKIM signature verification (RFC 6376) on libopendkim.
 *
 * Prefix: dkimv_ ("DKIM verify").  libopendkim owns the dkim_ prefix for
 * its own symbols, so nothing here may start with dkim_.
 *
 * One struct dkimv_lib is created at start-up and shared by every thread
 * (it wraps libopendkim's DKIM_LIB, which is meant to be shared).  Each
 * message gets its own struct dkimv: header fields are fed one at a time
 * as the milter receives them, then end-of-headers, then body chunks as
 * they arrive (nothing here buffers the body), then dkimv_finish() judges
 * every signature.  Key records are fetched through the caller's
 * lookup_fn (policy/lookup.h), never through libresolv.
 *
 * This header does not expose libopendkim: callers need neither its
 * headers nor its flags.
 */
#ifndef DM_AUTH_DKIM_H
#define DM_AUTH_DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/lookup.h"

/* Defaults for struct dkimv_config (dkimv_config_init()). */
#define DKIMV_DEFAULT_MAX_SIGS		8	/* signatures verified */
#define DKIMV_DEFAULT_MIN_RSA_BITS	1024	/* RFC 8301 section 3.2 floor */
#define DKIMV_DEFAULT_MAX_HEADER_LEN	65536	/* bytes per field, name+value */
#define DKIMV_DEFAULT_MAX_HEADERS	1000	/* header fields per message */
#define DKIMV_DEFAULT_CLOCK_DRIFT	300	/* seconds of t=/x= slack */
/*
 * Signature fields handed to libopendkim are capped at the larger of
 * DKIMV_SIG_FIELD_FACTOR * max_sigs and DKIMV_MIN_SIG_FIELDS; fields past
 * that are reported (as policy) but libopendkim never sees them, which
 * bounds its parsing and hashing work.
 */
#define DKIMV_SIG_FIELD_FACTOR		4
#define DKIMV_MIN_SIG_FIELDS		32
/* Characters of b= kept for Authentication-Results header.b (RFC 6008
 * asks for at least 8). */
#define DKIMV_BPREFIX_LEN		12

enum dkimv_status {
	DKIMV_OK,
	DKIMV_ERR_NOMEM,
	DKIMV_ERR_LIBRARY,	/* libopendkim refused to start or failed */
	DKIMV_ERR_CONFIG,	/* a configuration value out of range */
	DKIMV_ERR_STATE,	/* call out of order (e.g. header after eoh) */
	DKIMV_ERR_HEADER_TOO_LONG, /* one field over max_header_len */
	DKIMV_ERR_TOO_MANY_HEADERS /* over max_headers fields */
};

/*
 * The per-signature result, named as in RFC 8601 section 2.7.1.
 * DKIMV_NONE is the message-level "not signed" and never appears on a
 * signature.
 */
enum dkimv_result {
	DKIMV_NONE,
	DKIMV_PASS,
	DKIMV_FAIL,
	DKIMV_NEUTRAL,		/* signature syntax error or unsupported tag */
	DKIMV_POLICY,		/* not evaluated: over the signature cap */
	DKIMV_TEMPERROR,	/* key lookup failed transiently */
	DKIMV_PERMERROR		/* no key, bad key, From not signed, ... */
};

struct dkimv_config {
	unsigned int	max_sigs;	/* 1..64: signatures verified */
	unsigned int	min_rsa_bits;	/* >= 1024 (RFC 8301 floor) */
	size_t		max_header_len;	/* >= 1024 */
	size_t		max_headers;	/* >= 1 */
	unsigned int	clock_drift;	/* seconds, <= 86400 */
	/*
	 * false (the default): dmarcd hashes the body (auth/dkim_body.c)
	 * and libopendkim the rest.  true: libopendkim hashes the body
	 * too, as before dkim_body.c; for the tests that compare the two.
	 */
	bool		lib_body_hash;
};

/*
 * One judged signature.  Strings are NUL-terminated, owned by the result
 * set, and hold only safe printable characters (anything else in the
 * message was rejected or replaced), so they can go into headers and
 * logs as they are.  A tag the signature lacks is NULL.
 */
struct dkimv_sig {
	char	*domain;	/* d=, normalised (policy/domain.h) */
	char	*selector;	/* s=, lowercased */
	char	*algorithm;	/* a= as written, lowercased, e.g. "rsa-sha256" */
	char	*identity;	/* i= (AUID), quoted-printable decoded */
	char	*b_prefix;	/* first DKIMV_BPREFIX_LEN characters of b= */
	unsigned int keybits;	/* 0 when no key was loaded */
	enum dkimv_result result;
	const char *reason;	/* short static text, e.g. "body hash mismatch" */
	bool	 testing;	/* key record carries t=y (RFC 6376 3.6.1) */
};

struct dkimv_lib;
struct dkimv;

/* Fill a configuration with the DKIMV_DEFAULT_* values. */
void	 dkimv_config_init(struct dkimv_config *);

/*
 * Parsed public keys are cached across messages (dkim_keycache.c):
 * dkimv_keycache_init() finds OpenSSL's own parser and is called by
 * dkimv_lib_new(); false if it is missing.  dkimv_keycache_counts()
 * gives the hits and misses so far (benchmarks and tests).
 */
bool	 dkimv_keycache_init(void);
void	 dkimv_keycache_counts(unsigned long *hits, unsigned long *misses);

/*
 * Create the shared library handle (config NULL: defaults).  On success
 * *out is set and must be released with dkimv_lib_free() after every
 * verifier made from it is freed.  The handle is read-only after this
 * call and safe to use from many threads at once.
 */
enum dkimv_status dkimv_lib_new(const struct dkimv_config *,
	    struct dkimv_lib **out);
void	 dkimv_lib_free(struct dkimv_lib *);

/*
 * Start verifying one message.  id is a printable queue id used only
 * by libopendkim's diagnostics (copied).  Every key record is fetched
 * with lookup(lookup_ctx, "<selector>._domainkey.<domain>", LOOKUP_TXT,
 * ...) during dkimv_finish(); lookup must not be NULL (DKIMV_ERR_CONFIG)
 * and lookup_ctx is borrowed for the life of the verifier.  Free with
 * dkimv_free().
 */
enum dkimv_status dkimv_new(struct dkimv_lib *, const char *id,
	    lookup_fn lookup, void *lookup_ctx, struct dkimv **out);
void	 dkimv_free(struct dkimv *);

/*
 * Feed one header field, in message order.  name is the field name
 * (no colon); value is every byte after the colon, as in the message:
 * leading white space included, folding kept (CRLF or bare LF), no
 * trailing line break.  A milter should negotiate SMFIP_HDR_LEADSPC so
 * that libmilter keeps the leading space.  Fields that cannot be header
 * fields (empty or non-printable name, NUL bytes) are skipped.
 * Returns DKIMV_OK, or a sticky message-level error once a bound is
 * crossed (later calls return it again and dkimv_finish() reports every
 * signature as permerror).
 */
enum dkimv_status dkimv_header(struct dkimv *, const char *name,
	    const char *value, size_t valuelen);
/* End of the header block. */
enum dkimv_status dkimv_eoh(struct dkimv *);
/* One chunk of body, in order, CRLF line ends (bare LF is tolerated). */
enum dkimv_status dkimv_body(struct dkimv *, const unsigned char *,
	    size_t);

/*
 * End of message: fetch keys, verify, judge each signature.  *sigs
 * points into the verifier (valid until dkimv_free() or
 * dkimv_take_results()); *nsigs is 0 for an unsigned message.  The
 * return value is the message-level status: DKIMV_OK, the sticky bound
 * error from dkimv_header(), or DKIMV_ERR_NOMEM / DKIMV_ERR_LIBRARY when
 * verification could not run (then every signature found is temperror).
 * Calling it twice returns the same results.
 */
enum dkimv_status dkimv_finish(struct dkimv *, const struct dkimv_sig **sigs,
	    size_t *nsigs);

/*
 * Move the results out of the verifier (finishing it first if needed);
 * the caller frees them with dkimv_sigs_free().  NULL (and *nsigs 0)
 * when there are none.
 */
struct dkimv_sig *dkimv_take_results(struct dkimv *, size_t *nsigs);
void	 dkimv_sigs_free(struct dkimv_sig *, size_t nsigs);

/* The message-level result for Authentication-Results when one line is
 * wanted: the best of the signatures (pass > fail > ... ), or none. */
enum dkimv_result dkimv_summary(const struct dkimv_sig *, size_t nsigs);

/* "pass", "fail", ... (RFC 8601 names). */
const char *dkimv_result_name(enum dkimv_result);
const char *dkimv_strerror(enum dkimv_status);

#endif
