/*
 * query.c - the request target of dmarcctl serve, parsed without I/O.
 *
 * RFC 3986 section 2.1 percent-decoding (with the form encoding's '+'
 * for a space in query strings), routing of the API's paths, the query
 * string's parameters and the typed values of api.md.  Everything is
 * bounded by the WEBQ_MAX_* caps; a decoded NUL, a bad escape or invalid
 * UTF-8 is refused rather than passed on to SQL or the file system.
 * Left out: matrix parameters, repeated parameters (refused) and any
 * normalisation beyond decoding (a path with "." or ".." segments is
 * refused, not resolved).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/chars.h"
#include "web/query.h"

const char *
webq_strerror(enum webq_status st)
{
	switch (st) {
	case WEBQ_OK:
		return "ok";
	case WEBQ_ERR_ENCODING:
		return "bad percent-encoding or invalid UTF-8";
	case WEBQ_ERR_TOO_LONG:
		return "too long";
	case WEBQ_ERR_TOO_MANY:
		return "too many parameters";
	case WEBQ_ERR_DUPLICATE:
		return "given more than once";
	case WEBQ_ERR_VALUE:
		return "bad value";
	}
	return "unknown error";
}

/* RFC 3629 section 4: well-formed UTF-8, no overlongs or surrogates. */
static bool
utf8_is_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned c;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3;
		else
			return false;
		if (n - i <= need)
			return false;
		for (k = 1; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && s[i + 1] < 0xa0) ||
		    (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) ||
		    (c == 0xf4 && s[i + 1] > 0x8f))
			return false;
		i += need + 1;
	}
	return true;
}

enum webq_status
webq_decode(const char *src, size_t len, bool plus, char *out, size_t outsz,
    size_t *outlen)
{
	size_t i, o = 0;
	int hi, lo, c;

	if (outlen != NULL)
		*outlen = 0;
	if (outsz == 0)
		return WEBQ_ERR_TOO_LONG;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '%') {
			if (len - i < 3 || (hi = char_hex_value(src[i + 1])) < 0 ||
			    (lo = char_hex_value(src[i + 2])) < 0)
				return WEBQ_ERR_ENCODING;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0')
			return WEBQ_ERR_ENCODING;
		if (o + 1 >= outsz)
			return WEBQ_ERR_TOO_LONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!utf8_is_valid((const unsigned char *)out, o))
		return WEBQ_ERR_ENCODING;
	if (outlen != NULL)
		*outlen = o;
	return WEBQ_OK;
}

static const char *const route_names[] = {
	"none", "index", "static", "metrics", "reports", "summary",
	"sources", "failures", "alerts", "check", "domains"
};

const char *
webq_route_name(enum webq_route r)
{
	if ((size_t)r >= sizeof(route_names) / sizeof(route_names[0]))
		return "none";
	return route_names[r];
}

bool
webq_domain_is_valid(char *d)
{
	size_t n = strlen(d), label = 0, i;

	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	if (n == 0 || n > WEBQ_MAX_DOMAIN)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
		if (c >= 'A' && c <= 'Z')
			d[i] = (char)(c - 'A' + 'a');
	}
	return label > 0;
}

/* Each '/'-separated segment of a static file path is a plain name. */
static bool
static_path_is_safe(const char *p)
{
	const char *seg = p, *end;
	size_t n;

	if (*p == '\0' || strchr(p, '\\') != NULL)
		return false;
	for (;;) {
		end = strchr(seg, '/');
		n = end != NULL ? (size_t)(end - seg) : strlen(seg);
		/* Empty, ".", ".." and hidden names are all refused. */
		if (n == 0 || seg[0] == '.')
			return false;
		if (end == NULL)
			return true;
		seg = end + 1;
	}
}

static const struct {
	const char *suffix;
	enum webq_route route;
} domain_routes[] = {
	{ "/summary", WEBQ_ROUTE_SUMMARY },
	{ "/sources", WEBQ_ROUTE_SOURCES },
	{ "/failures", WEBQ_ROUTE_FAILURES },
	{ "/alerts", WEBQ_ROUTE_ALERTS },
};

#define REPORTS_PREFIX	"/api/exchange/dmarc-reports"

enum webq_status
webq_route(const char *rawpath, enum webq_route *route, char *arg,
    size_t argsz)
{
	char path[WEBQ_MAX_PATH + 1];
	const char *rest, *slash;
	enum webq_status st;
	size_t n, i, plen = strlen(REPORTS_PREFIX);

	*route = WEBQ_ROUTE_NONE;
	if (argsz > 0)
		arg[0] = '\0';
	if ((st = webq_decode(rawpath, strlen(rawpath), false, path,
	    sizeof(path), &n)) != WEBQ_OK)
		return st;
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		*route = WEBQ_ROUTE_INDEX;
		return WEBQ_OK;
	}
	if (strncmp(path, "/static/", 8) == 0) {
		if (!static_path_is_safe(path + 8))
			return WEBQ_ERR_VALUE;
		if (strlen(path + 8) >= argsz)
			return WEBQ_ERR_TOO_LONG;
		memcpy(arg, path + 8, strlen(path + 8) + 1);
		*route = WEBQ_ROUTE_STATIC;
		return WEBQ_OK;
	}
	if (strcmp(path, "/metrics") == 0) {
		*route = WEBQ_ROUTE_METRICS;
		return WEBQ_OK;
	}
	if (strcmp(path, "/api/v1/check") == 0) {
		*route = WEBQ_ROUTE_CHECK;
		return WEBQ_OK;
	}
	if (strcmp(path, "/api/v1/domains") == 0) {
		*route = WEBQ_ROUTE_DOMAINS;
		return WEBQ_OK;
	}
	if (strncmp(path, REPORTS_PREFIX, plen) != 0)
		return WEBQ_OK;
	rest = path + plen;
	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		*route = WEBQ_ROUTE_REPORTS;
		return WEBQ_OK;
	}
	if (*rest != '/')
		return WEBQ_OK;
	rest++;
	if ((slash = strchr(rest, '/')) == NULL)
		return WEBQ_OK;
	for (i = 0; i < sizeof(domain_routes) / sizeof(domain_routes[0]);
	    i++) {
		if (strcmp(slash, domain_routes[i].suffix) != 0)
			continue;
		n = (size_t)(slash - rest);
		if (n > WEBQ_MAX_DOMAIN || n >= argsz)
			return WEBQ_ERR_VALUE;
		memcpy(arg, rest, n);
		arg[n] = '\0';
		if (!webq_domain_is_valid(arg)) {
			arg[0] = '\0';
			return WEBQ_ERR_VALUE;
		}
		*route = domain_routes[i].route;
		return WEBQ_OK;
	}
	return WEBQ_OK;
}

void
webq_init(struct webq *q)
{
	q->n = 0;
	q->bad[0] = '\0';
}

enum webq_status
webq_add(struct webq *q, const char *rawkey, const char *rawvalue)
{
	struct webq_param *p;
	enum webq_status st;
	size_t i;

	if (q->n >= WEBQ_MAX_PARAMS)
		return WEBQ_ERR_TOO_MANY;
	p = &q->p[q->n];
	if ((st = webq_decode(rawkey, strlen(rawkey), true, p->key,
	    sizeof(p->key), NULL)) != WEBQ_OK) {
		snprintf(q->bad, sizeof(q->bad), "%s", "(parameter name)");
		return st;
	}
	for (i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, p->key) == 0) {
			snprintf(q->bad, sizeof(q->bad), "%s", p->key);
			return WEBQ_ERR_DUPLICATE;
		}
	if ((st = webq_decode(rawvalue != NULL ? rawvalue : "",
	    rawvalue != NULL ? strlen(rawvalue) : 0, true, p->value,
	    sizeof(p->value), NULL)) != WEBQ_OK) {
		snprintf(q->bad, sizeof(q->bad), "%s", p->key);
		return st;
	}
	q->n++;
	return WEBQ_OK;
}

enum webq_status
webq_parse(struct webq *q, const char *raw, size_t len)
{
	char key[3 * WEBQ_MAX_KEY + 1], val[3 * WEBQ_MAX_VALUE + 1];
	size_t i = 0, j, eq, klen, vlen;
	enum webq_status st;

	while (i < len) {
		for (j = i; j < len && raw[j] != '&'; j++)
			;
		if (j > i) {
			for (eq = i; eq < j && raw[eq] != '='; eq++)
				;
			klen = eq - i;
			vlen = eq < j ? j - eq - 1 : 0;
			if (klen >= sizeof(key) || vlen >= sizeof(val))
				return WEBQ_ERR_TOO_LONG;
			memcpy(key, raw + i, klen);
			key[klen] = '\0';
			memcpy(val, raw + eq + (eq < j), vlen);
			val[vlen] = '\0';
			if ((st = webq_add(q, key, eq < j ? val : NULL)) !=
			    WEBQ_OK)
				return st;
		}
		i = j + 1;
	}
	return WEBQ_OK;
}

const char *
webq_get(const struct webq *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) == 0)
			return q->p[i].value;
	return NULL;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

enum webq_status
webq_day(const char *s, int64_t *day)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	unsigned y = 0, m, d, i, max;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return WEBQ_ERR_VALUE;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return WEBQ_ERR_VALUE;
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1970 || m < 1 || m > 12)
		return WEBQ_ERR_VALUE;
	max = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d < 1 || d > max)
		return WEBQ_ERR_VALUE;
	*day = days_from_civil(y, m, d);
	return WEBQ_OK;
}

void
webq_day_format(int64_t z, char *out, size_t outsz)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;

	/* The inverse of days_from_civil. */
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, outsz, "%04lld-%02u-%02u", (long long)y, m, d);
}

enum webq_status
webq_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (*s == '\0' || strlen(s) > 19)
		return WEBQ_ERR_VALUE;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return WEBQ_ERR_VALUE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return WEBQ_ERR_VALUE;
	*out = v;
	return WEBQ_OK;
}
