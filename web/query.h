/*
 * query.h - parsing an HTTP request's target for dmarcctl serve.
 *
 * Pure functions, no I/O: percent-decoding with bounds, the route a path
 * names, the query string's parameters, and the typed values the API
 * takes (days as YYYY-MM-DD, bounded integers, domain names).  Every
 * input comes from the network: each function has a size cap and
 * returns a status instead of trusting its input.
 */
#ifndef DM_WEB_QUERY_H
#define DM_WEB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBQ_MAX_PATH		1024	/* decoded path bytes */
#define WEBQ_MAX_PARAMS		32	/* query parameters kept */
#define WEBQ_MAX_KEY		32	/* decoded key bytes */
#define WEBQ_MAX_VALUE		512	/* decoded value bytes */
#define WEBQ_MAX_DOMAIN		253

enum webq_status {
	WEBQ_OK,
	WEBQ_ERR_ENCODING,	/* bad %XX, %00, or invalid UTF-8 */
	WEBQ_ERR_TOO_LONG,	/* past one of the caps above */
	WEBQ_ERR_TOO_MANY,	/* more than WEBQ_MAX_PARAMS parameters */
	WEBQ_ERR_DUPLICATE,	/* a parameter given twice */
	WEBQ_ERR_VALUE		/* a value of the wrong form */
};

const char *webq_strerror(enum webq_status);

/*
 * Percent-decode src (len bytes) into out (outsz bytes, NUL-terminated).
 * plus: '+' means a space (query strings).  %00, a bad escape and
 * invalid UTF-8 in the result are WEBQ_ERR_ENCODING; a result longer
 * than outsz - 1 is WEBQ_ERR_TOO_LONG.  *outlen gets the length.
 */
enum webq_status webq_decode(const char *src, size_t len, bool plus,
	    char *out, size_t outsz, size_t *outlen);

enum webq_route {
	WEBQ_ROUTE_NONE = 0,		/* unknown: 404 */
	WEBQ_ROUTE_INDEX,		/* GET / */
	WEBQ_ROUTE_STATIC,		/* /static/<file>: arg is the file */
	WEBQ_ROUTE_METRICS,
	WEBQ_ROUTE_REPORTS,		/* /api/exchange/dmarc-reports */
	WEBQ_ROUTE_SUMMARY,		/* .../{domain}/summary: arg domain */
	WEBQ_ROUTE_SOURCES,
	WEBQ_ROUTE_FAILURES,
	WEBQ_ROUTE_ALERTS,
	WEBQ_ROUTE_CHECK,		/* /api/v1/check */
	WEBQ_ROUTE_DOMAINS		/* /api/v1/domains */
};

/* The name of a route for metrics ("summary", "static", ...). */
const char *webq_route_name(enum webq_route);

/*
 * Route the raw (still percent-encoded) path.  On WEBQ_OK, *route is set
 * (WEBQ_ROUTE_NONE when nothing matches) and arg (argsz bytes) holds the
 * decoded domain (lower-cased) or static file path.  A static path is
 * checked segment by segment after decoding: no empty, "." or ".."
 * segment, no segment starting with '.', no backslash; such a path is
 * WEBQ_ERR_VALUE (the server answers 404).  A domain that is not a
 * host name is WEBQ_ERR_VALUE too.
 */
enum webq_status webq_route(const char *rawpath, enum webq_route *route,
	    char *arg, size_t argsz);

struct webq_param {
	char	 key[WEBQ_MAX_KEY + 1];
	char	 value[WEBQ_MAX_VALUE + 1];
};

struct webq {
	struct webq_param p[WEBQ_MAX_PARAMS];
	size_t	 n;
	char	 bad[WEBQ_MAX_KEY + 1];	/* key of the first failure */
};

void	 webq_init(struct webq *);
/*
 * Add one parameter from raw (still percent-encoded) key and value
 * (value NULL: "key" without "="; taken as empty).  Decoded with '+'
 * as space.  On failure, q->bad names the key when it could be decoded.
 */
enum webq_status webq_add(struct webq *, const char *rawkey,
	    const char *rawvalue);
/* Parse a whole raw query string "a=1&b=2" (without '?'). */
enum webq_status webq_parse(struct webq *, const char *raw, size_t len);
/* The decoded value of key, or NULL when absent. */
const char *webq_get(const struct webq *, const char *key);

/*
 * A day "YYYY-MM-DD" (a real calendar date, years 1970..9999) as a day
 * number (days since 1970-01-01).  WEBQ_ERR_VALUE otherwise.
 */
enum webq_status webq_day(const char *, int64_t *day);
/* Format a day number as YYYY-MM-DD into out (at least 11 bytes). */
void	 webq_day_format(int64_t day, char *out, size_t outsz);
/* A decimal integer in [min, max], digits only, no sign, no spaces. */
enum webq_status webq_uint(const char *, uint64_t min, uint64_t max,
	    uint64_t *out);
/* A host name: LDH labels (and '_'), 1..63 bytes each, 253 in all; a
 * trailing dot is dropped and the result lower-cased in place. */
bool	 webq_domain_is_valid(char *);

#endif
