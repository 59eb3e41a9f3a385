/*
 * afrf.c - failure reports: RFC 6591 (authentication failure reporting
 * in ARF, RFC 5965) and RFC 9991 (DMARC failure reporting).
 *
 * A failure report is a multipart/report whose message/feedback-report
 * part holds "Name: value" fields (RFC 5965 section 3.1: a header
 * block), followed by the original message (message/rfc822) or only
 * its header (text/rfc822-headers).  Real reporters bend the layout:
 * NetEase sends multipart/mixed with a base64 feedback part, others put
 * the parts in another order; so the MIME walker (mime.c) visits every
 * entity and the first of each kind wins.  Only the original header
 * block is kept, never the body, and it is capped at 64 KiB.
 *
 * The report key, which makes a re-import a counted duplicate, is the
 * hex SHA-256 of a canonical form: each feedback field as
 * "lowercase-name:value" (white space collapsed) in order, a blank
 * line, then the original header with CR dropped.  The same report
 * with CRLF or LF lines, or re-wrapped, gives the same key.
 *
 * The Subject shown is decoded: RFC 2047 encoded-words to UTF-8
 * (rfc2047.c: B and Q, malformed words and unknown charsets kept as
 * they were, invalid UTF-8 and control characters replaced, at most
 * INGEST_AFRF_MAX_FIELD bytes).  The header block is kept as received.
 *
 * Not done: the text/plain human-readable part (ignored).
 */
#include "config.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/afrf.h"
#include "ingest/mime.h"
#include "ingest/rfc2047.h"

struct afrf_walk {
	const char *top;		/* the report e-mail's header block */
	size_t	 top_len;
	unsigned char *fb, *orig;	/* decoded feedback part, original */
	size_t	 fb_len, orig_len;
	bool	 nomem;
};

static int
walk_cb(const struct ingest_mime_part *p, void *ctx)
{
	struct afrf_walk *w = ctx;
	size_t hl;

	if (p->depth == 0) {
		w->top = p->header;
		w->top_len = p->header_len;
	}
	if (w->fb == NULL && ingest_mime_type_is(p->type,
	    "message/feedback-report")) {
		w->fb = ingest_mime_decode(p->body, p->body_len, p->cte,
		    &w->fb_len);
		w->nomem |= w->fb == NULL;
		return INGEST_MIME_SKIP;
	}
	if (w->orig == NULL && (ingest_mime_type_is(p->type,
	    "text/rfc822-headers") || ingest_mime_type_is(p->type,
	    "message/rfc822-headers") || (p->depth > 0 &&
	    ingest_mime_type_is(p->type, "message/rfc822")))) {
		w->orig = ingest_mime_decode(p->body, p->body_len, p->cte,
		    &w->orig_len);
		if (w->orig == NULL) {
			w->nomem = true;
			return INGEST_MIME_STOP;
		}
		/* keep the header block only (the body is never stored) */
		hl = ingest_mime_header_end((const char *)w->orig,
		    w->orig_len);
		w->orig_len = hl;
		/* a forwarded failure report: look inside */
		return w->fb == NULL ? INGEST_MIME_NEXT : INGEST_MIME_SKIP;
	}
	return INGEST_MIME_NEXT;
}

/* A copy of s[0..n) with runs of white space made one space, trimmed,
 * at most max bytes. */
static void
collapse_max(struct strbuf *out, const char *s, size_t n, size_t max)
{
	size_t i;
	bool sp = false;

	strbuf_reset(out);
	for (i = 0; i < n && strbuf_len(out) < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			sp = strbuf_len(out) > 0;
			continue;
		}
		if (sp)
			strbuf_appendc(out, ' ');
		sp = false;
		/* control characters are not kept */
		strbuf_appendc(out, c < 0x20 || c == 0x7f ? '?' : c);
	}
}

static void
collapse(struct strbuf *out, const char *s, size_t n)
{
	collapse_max(out, s, n, INGEST_AFRF_MAX_FIELD);
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Append v to *slot, joined by ", " when it holds a value already. */
static bool
field_add(char **slot, const char *v)
{
	size_t a, b;
	char *n;

	if (*slot == NULL || **slot == '\0') {
		free(*slot);
		return (*slot = strdup(v)) != NULL;
	}
	a = strlen(*slot), b = strlen(v);
	if (a + b + 2 > INGEST_AFRF_MAX_FIELD * 4)
		return true;		/* enough values kept */
	if ((n = realloc(*slot, a + b + 3)) == NULL)
		return false;
	memcpy(n + a, ", ", 2);
	memcpy(n + a + 2, v, b + 1);
	*slot = n;
	return true;
}

static char **
field_slot(struct ingest_failure *f, const char *name)
{
	static const struct {
		const char *name;
		size_t	 off;
	} map[] = {
#define F(n, m) { n, offsetof(struct ingest_failure, m) }
		F("feedback-type", feedback_type),
		F("auth-failure", auth_failure),
		F("identity-alignment", identity_alignment),
		F("reported-domain", reported_domain),
		F("source-ip", source_ip),
		F("arrival-date", arrival_date),
		F("received-date", arrival_date),	/* ARF drafts */
		F("delivery-result", delivery_result),
		F("dkim-domain", dkim_domain),
		F("dkim-selector", dkim_selector),
		F("dkim-identity", dkim_identity),
		F("spf-dns", spf_dns),
		F("original-mail-from", original_mail_from),
		F("original-rcpt-to", original_rcpt_to),
		F("original-envelope-id", original_envelope_id),
		F("user-agent", user_agent),
		F("reporting-mta", reporting_mta),
#undef F
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(name, map[i].name) == 0)
			return (char **)((char *)f + map[i].off);
	return NULL;
}

/* The fields of the feedback part, into f and the canonical text. */
static bool
parse_fields(struct ingest_failure *f, const char *b, size_t len,
    struct strbuf *canon)
{
	struct strbuf name = STRBUF_INIT, val = STRBUF_INIT;
	size_t i = 0, ls, le, nfields = 0;
	bool ok = true;
	char **slot;

	/* blank lines before the first field occur (NetEase) */
	while (i < len && (b[i] == '\r' || b[i] == '\n'))
		i++;
	while (i < len && nfields < INGEST_AFRF_MAX_FIELDS) {
		const char *colon;

		/* one field: a line and its continuation lines */
		ls = i;
		for (le = i; le < len; le++)
			if (b[le] == '\n' && (le + 1 >= len ||
			    (b[le + 1] != ' ' && b[le + 1] != '\t')))
				break;
		i = le < len ? le + 1 : len;
		if (le == ls || (le - ls == 1 && b[ls] == '\r'))
			break;			/* the blank line: end */
		nfields++;
		colon = memchr(b + ls, ':', le - ls);
		if (colon == NULL || colon == b + ls)
			continue;
		strbuf_reset(&name);
		strbuf_append(&name, b + ls, (size_t)(colon - (b + ls)));
		while (strbuf_len(&name) > 0 && isspace((unsigned char)
		    strbuf_cstr(&name)[strbuf_len(&name) - 1]))
			strbuf_truncate(&name, strbuf_len(&name) - 1);
		collapse(&val, colon + 1, (size_t)(b + le - colon - 1));
		{
			const char *n = strbuf_cstr(&name);
			size_t k;

			for (k = 0; n[k] != '\0' && k < 64; k++)
				strbuf_appendc(canon,
				    tolower((unsigned char)n[k]));
		}
		strbuf_appendc(canon, ':');
		strbuf_appends(canon, strbuf_cstr(&val));
		strbuf_appendc(canon, '\n');
		if ((slot = field_slot(f, strbuf_cstr(&name))) != NULL &&
		    strbuf_len(&val) > 0 && !field_add(slot,
		    strbuf_cstr(&val))) {
			ok = false;
			break;
		}
	}
	strbuf_release(&name);
	strbuf_release(&val);
	return ok;
}

/* The address of a From: value: inside <...> if any, else the value;
 * trimmed. */
static void
from_address(const char *v, struct strbuf *out)
{
	const char *lt = strrchr(v, '<'), *gt;

	strbuf_reset(out);
	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		collapse(out, lt + 1, (size_t)(gt - lt - 1));
		return;
	}
	collapse(out, v, strlen(v));
}

/* The domain of an address, lower case ("" without an @). */
static void
address_domain(const char *a, struct strbuf *out)
{
	const char *at = strrchr(a, '@');

	strbuf_reset(out);
	if (at == NULL)
		return;
	for (at++; *at != '\0' && *at != '>' && *at != ' ' && *at != ';';
	    at++)
		strbuf_appendc(out, tolower((unsigned char)*at));
}

static bool
header_field(const char *h, size_t hlen, const char *name, char **slot)
{
	struct strbuf raw = STRBUF_INIT, v = STRBUF_INIT;
	bool ok;

	if (ingest_mime_header_get(h, hlen, name, &raw))
		collapse(&v, strbuf_cstr(&raw), strbuf_len(&raw));
	ok = (*slot = strdup(strbuf_cstr(&v))) != NULL;
	strbuf_release(&raw);
	strbuf_release(&v);
	return ok;
}

/* The Subject, RFC 2047 encoded-words decoded to UTF-8 (rfc2047.c):
 * read from up to 4 times the field's bound, as a Q-encoded CJK
 * character takes 9 bytes for its 3. */
static bool
subject_field(const char *h, size_t hlen, char **slot)
{
	struct strbuf raw = STRBUF_INIT, v = STRBUF_INIT, d = STRBUF_INIT;
	bool ok;

	if (ingest_mime_header_get(h, hlen, "Subject", &raw))
		collapse_max(&v, strbuf_cstr(&raw), strbuf_len(&raw),
		    INGEST_AFRF_MAX_FIELD * 4);
	rfc2047_decode(&d, strbuf_cstr(&v), strbuf_len(&v),
	    INGEST_AFRF_MAX_FIELD);
	ok = !strbuf_failed(&d) && (*slot = strbuf_steal(&d)) != NULL;
	strbuf_release(&raw);
	strbuf_release(&v);
	strbuf_release(&d);
	return ok;
}

void
ingest_failure_free(struct ingest_failure *f)
{
	if (f == NULL)
		return;
	free(f->reporter), free(f->feedback_type), free(f->auth_failure);
	free(f->identity_alignment), free(f->reported_domain);
	free(f->source_ip), free(f->arrival_date), free(f->delivery_result);
	free(f->dkim_domain), free(f->dkim_selector), free(f->dkim_identity);
	free(f->spf_dns), free(f->original_mail_from);
	free(f->original_rcpt_to), free(f->original_envelope_id);
	free(f->user_agent), free(f->reporting_mta), free(f->header_from);
	free(f->subject), free(f->message_id), free(f->headers);
	free(f);
}

/* Every NULL string of f made "": callers read them without checks. */
static bool
fill_empty(struct ingest_failure *f)
{
	char **all[] = { &f->reporter, &f->feedback_type, &f->auth_failure,
	    &f->identity_alignment, &f->reported_domain, &f->source_ip,
	    &f->arrival_date, &f->delivery_result, &f->dkim_domain,
	    &f->dkim_selector, &f->dkim_identity, &f->spf_dns,
	    &f->original_mail_from, &f->original_rcpt_to,
	    &f->original_envelope_id, &f->user_agent, &f->reporting_mta,
	    &f->header_from, &f->subject, &f->message_id, &f->headers };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i] == NULL && (*all[i] = dup_or_empty(NULL)) == NULL)
			return false;
	return true;
}

/* The original header block, CR dropped, capped at a line end. */
static bool
keep_headers(struct ingest_failure *f, const unsigned char *h, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (h[i] == '\r' || h[i] == '\0')
			continue;
		if (strbuf_len(&sb) >= INGEST_AFRF_MAX_HEADERS) {
			f->headers_truncated = true;
			break;
		}
		strbuf_appendc(&sb, h[i]);
	}
	if (f->headers_truncated) {
		const char *s = strbuf_cstr(&sb), *nl = strrchr(s, '\n');

		strbuf_truncate(&sb, nl != NULL ? (size_t)(nl - s) + 1 : 0);
	}
	/* the blank line that ended the block is not kept */
	while (strbuf_len(&sb) > 0 &&
	    strbuf_cstr(&sb)[strbuf_len(&sb) - 1] == '\n')
		strbuf_truncate(&sb, strbuf_len(&sb) - 1);
	if (strbuf_failed(&sb)) {
		strbuf_release(&sb);
		return false;
	}
	f->headers = strbuf_steal(&sb);
	return f->headers != NULL;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool
make_key(struct ingest_failure *f, struct strbuf *canon)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	strbuf_appendc(canon, '\n');
	strbuf_appends(canon, f->headers);
	if (strbuf_failed(canon) || EVP_Digest(strbuf_cstr(canon),
	    strbuf_len(canon), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return false;
	for (i = 0; i < 32; i++) {
		f->report_key[2 * i] = hex[md[i] >> 4];
		f->report_key[2 * i + 1] = hex[md[i] & 15];
	}
	f->report_key[64] = '\0';
	return true;
}

enum ingest_status
ingest_failure_parse(const char *msg, size_t len,
    struct ingest_failure **out, struct strbuf *err)
{
	struct strbuf canon = STRBUF_INIT, tmp = STRBUF_INIT,
	    dom = STRBUF_INIT;
	struct ingest_failure *f = NULL;
	struct afrf_walk w;
	enum ingest_status s;
	char *c;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	if ((s = ingest_mime_walk(msg, len, walk_cb, &w, err)) != INGEST_OK)
		goto done;
	s = INGEST_ERR_NOMEM;
	if (w.nomem)
		goto done;
	if (w.fb == NULL) {
		s = INGEST_ERR_CONTENT;	/* not a failure report */
		goto done;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    !parse_fields(f, (const char *)w.fb, w.fb_len, &canon))
		goto done;
	/* the original message's header, and what we show of it */
	if (w.orig != NULL) {
		if (!keep_headers(f, w.orig, w.orig_len))
			goto done;
		if (!header_field(f->headers, strlen(f->headers), "From",
		    &c))
			goto done;
		from_address(c, &tmp);
		free(c);
		address_domain(strbuf_cstr(&tmp), &dom);
		if ((f->header_from = strdup(strbuf_cstr(&dom))) == NULL ||
		    !subject_field(f->headers, strlen(f->headers),
		    &f->subject) || !header_field(f->headers,
		    strlen(f->headers), "Message-ID", &f->message_id))
			goto done;
	}
	if (w.top != NULL) {
		if (!header_field(w.top, w.top_len, "From", &c))
			goto done;
		from_address(c, &tmp);
		free(c);
		if (strbuf_len(&tmp) > 0 &&
		    (f->reporter = strdup(strbuf_cstr(&tmp))) == NULL)
			goto done;
	}
	if (f->reporter == NULL && f->reporting_mta != NULL &&
	    (f->reporter = strdup(f->reporting_mta)) == NULL)
		goto done;
	if (!fill_empty(f))
		goto done;
	if (f->headers == NULL && (f->headers = strdup("")) == NULL)
		goto done;
	s = INGEST_ERR_CONTENT;
	/* RFC 6591 section 3.1: Feedback-Type auth-failure */
	if (strcasecmp(f->feedback_type, "auth-failure") != 0) {
		strbuf_appendf(err, "feedback report of type \"%.64s\", not "
		    "auth-failure", f->feedback_type[0] != '\0' ?
		    f->feedback_type : "(none)");
		goto done;
	}
	/* Reported-Domain is required (RFC 6591 section 3.1); the first
	 * one, and the original From domain if it is missing */
	if ((c = strchr(f->reported_domain, ',')) != NULL)
		*c = '\0';
	lower(f->reported_domain);
	c = f->reported_domain + strlen(f->reported_domain);
	while (c > f->reported_domain && c[-1] == '.')
		*--c = '\0';
	if (f->reported_domain[0] == '\0' && f->header_from[0] != '\0') {
		free(f->reported_domain);
		if ((f->reported_domain = strdup(f->header_from)) == NULL) {
			s = INGEST_ERR_NOMEM;
			goto done;
		}
	}
	if (f->reported_domain[0] == '\0') {
		strbuf_appends(err, "failure report without Reported-Domain "
		    "and without the original From");
		goto done;
	}
	f->arrival = ingest_parse_date(f->arrival_date);
	if (f->arrival < 0)
		f->arrival = 0;
	s = INGEST_ERR_NOMEM;
	if (!make_key(f, &canon))
		goto done;
	*out = f;
	f = NULL;
	s = INGEST_OK;
done:
	ingest_failure_free(f);
	free(w.fb);
	free(w.orig);
	strbuf_release(&canon);
	strbuf_release(&tmp);
	strbuf_release(&dom);
	return s;
}

/* RFC 5322 section 3.3, with the obsolete forms of section 4.3. */
time_t
ingest_parse_date(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const struct {
		const char *name;
		int	 off;		/* minutes east of UTC */
	} zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
		{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	struct tm tm;
	char mon[4], zone[8];
	const char *p = s, *m;
	int day, year, hh, mm, ss = 0, off = 0, n = 0, i;
	time_t t;

	if (s == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	/* an optional day name and comma */
	if (isalpha((unsigned char)*p)) {
		while (isalpha((unsigned char)*p))
			p++;
		while (*p == ' ')
			p++;
		if (*p != ',')
			return -1;
		p++;
	}
	if (sscanf(p, "%d %3s %d %d:%d%n", &day, mon, &year, &hh, &mm,
	    &n) != 5)
		return -1;
	p += n;
	if (*p == ':') {
		if (sscanf(p, ":%d%n", &ss, &n) != 1)
			return -1;
		p += n;
	}
	for (i = 0; mon[i] != '\0'; i++)
		mon[i] = (char)tolower((unsigned char)mon[i]);
	if (strlen(mon) != 3 || (m = strstr(months, mon)) == NULL ||
	    (m - months) % 3 != 0)
		return -1;
	/* RFC 5322 section 4.3: two-digit years */
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 ||
	    year > 9999 || hh < 0 || mm < 0 || ss < 0)
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '+' || *p == '-') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)
		    p[2]) || !isdigit((unsigned char)p[3]) ||
		    !isdigit((unsigned char)p[4]))
			return -1;
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 +
		    (p[3] - '0') * 10 + (p[4] - '0');
		if (*p == '-')
			off = -off;
	} else if (*p != '\0' && *p != '(') {
		for (i = 0; i < 7 && isalpha((unsigned char)p[i]); i++)
			zone[i] = p[i];
		zone[i] = '\0';
		for (i = 0; i < (int)(sizeof(zones) / sizeof(zones[0])); i++)
			if (strcasecmp(zone, zones[i].name) == 0)
				break;
		/* RFC 5322 4.3: other zones are treated as UTC */
		off = i < (int)(sizeof(zones) / sizeof(zones[0])) ?
		    zones[i].off : 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	return t - (time_t)off * 60;
}
