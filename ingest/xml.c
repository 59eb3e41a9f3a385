/*
 * xml.c - a tolerant, streaming parser of DMARC aggregate reports (expat).
 *
 * Schemas: RFC 7489 appendix C and RFC 9990 section 3 (namespace
 * urn:ietf:params:xml:ns:dmarc-2.0).  Neither is validated: only 2 of
 * the public samples validate, so elements are matched by local name
 * (any prefix is dropped) and by their parent, and unknown elements are
 * skipped.  Tolerated on purpose: a missing <version>; float timestamps
 * ("1337270400.0", the fraction is dropped); enums in any case ("Pass"
 * is stored "pass"); empty enums (stored empty); stray character data
 * between elements; a stray unclosed element before <feedback> (the
 * document is complete once </feedback> is seen, whatever follows);
 * single-line files; invalid UTF-8.  The document is always read as
 * UTF-8 (a declared encoding is overridden): bytes that are not valid
 * UTF-8, and C0 controls that XML 1.0 forbids, are replaced by U+FFFD
 * before expat sees them, so one bad byte in an org name does not lose
 * a report.
 * Refused: an empty document, malformed XML (with expat's reason and the
 * line), any DOCTYPE (so no DTD, no entity: billion laughs and XXE never
 * reach expansion), depth past INGEST_XML_MAX_DEPTH, more than
 * INGEST_XML_MAX_BYTES of input or INGEST_XML_MAX_RECORDS records, and
 * a report without a policy_published domain or a report_id.
 * Text is kept up to INGEST_XML_MAX_TEXT bytes per element and then
 * truncated to its field, so memory use does not depend on the input.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/xml.h"

#define CHUNK	65536
#define NAMELEN	32

struct ingest_xml {
	XML_Parser	 p;
	ingest_report_cb report_cb;
	ingest_record_cb record_cb;
	void		*ctx;

	char		 stack[INGEST_XML_MAX_DEPTH + 1][NAMELEN];
	unsigned	 depth;
	char		 text[INGEST_XML_MAX_TEXT + 1];
	size_t		 ntext;

	struct ingest_report rep;
	struct ingest_record rec;
	bool		 in_record, report_sent, done, seen_feedback;
	/* the <spf>, <dkim> or <reason> being read */
	char		 a_domain[254], a_sel[64], a_scope[16], a_result[32];
	char		 r_type[64], r_comment[256];

	enum ingest_status status;	/* set by a handler that stopped */
	char		 why[160];
	uint64_t	 total;
	unsigned char	 pend[4];	/* an incomplete UTF-8 sequence */
	size_t		 npend;
	bool		 repaired, any_bytes, failed;
	/* scratch, written before it is read: left out of the zeroing */
	unsigned char	 out[3 * CHUNK + 16];
};

const char *
ingest_strerror(enum ingest_status s)
{
	switch (s) {
	case INGEST_OK:			return "success";
	case INGEST_ERR_NOMEM:		return "out of memory";
	case INGEST_ERR_EMPTY:		return "empty input";
	case INGEST_ERR_SYNTAX:		return "malformed XML";
	case INGEST_ERR_FORBIDDEN:	return "forbidden XML construct";
	case INGEST_ERR_LIMIT:		return "limit exceeded";
	case INGEST_ERR_CONTENT:	return "not a usable aggregate report";
	case INGEST_ERR_FORMAT:		return "unreadable container";
	case INGEST_ERR_IO:		return "read error";
	case INGEST_ERR_CALLBACK:	return "stopped by the caller";
	}
	return "unknown error";
}

static void
stop(struct ingest_xml *x, enum ingest_status s, const char *why)
{
	if (x->status == INGEST_OK) {
		x->status = s;
		snprintf(x->why, sizeof(x->why), "%s", why);
	}
	XML_StopParser(x->p, XML_FALSE);
}

/* Copy the trimmed text into dst (size n), lowercased for enums. */
static void
put(char *dst, size_t n, const char *src, bool lower)
{
	size_t i, len;

	while (*src == ' ' || *src == '\t' || *src == '\r' || *src == '\n')
		src++;
	len = strlen(src);
	while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t' ||
	    src[len - 1] == '\r' || src[len - 1] == '\n'))
		len--;
	if (len >= n)
		len = n - 1;
	for (i = 0; i < len; i++)
		dst[i] = lower ? (char)tolower((unsigned char)src[i]) : src[i];
	dst[len] = '\0';
}

/* "1337270400", "1337270400.0" (RFC says xs:integer; 2012 senders did
 * not agree); anything else is 0. */
static time_t
parse_time(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return 0;
	if (*end == '.')
		for (end++; isdigit((unsigned char)*end); end++)
			;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' ? (time_t)v : 0;
}

static uint64_t
parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	if (*s == '-')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno != 0 || end == s ? 0 : (uint64_t)v;
}

/* Append "|" and a piece to a results text, dropping what does not fit. */
static void
join(char *dst, size_t n, const char *piece)
{
	size_t len = strlen(dst), plen = strlen(piece);

	if (len + plen + 2 > n)
		return;
	if (len > 0)
		dst[len++] = '|';
	memcpy(dst + len, piece, plen + 1);
}

static const char *
local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

static void
send_report(struct ingest_xml *x)
{
	if (x->report_sent)
		return;
	x->report_sent = true;
	if (x->rep.domain[0] == '\0') {
		stop(x, INGEST_ERR_CONTENT, "no policy_published domain");
		return;
	}
	if (x->rep.report_id[0] == '\0') {
		stop(x, INGEST_ERR_CONTENT, "no report_id");
		return;
	}
	if (x->report_cb != NULL && x->report_cb(&x->rep, x->ctx) != 0)
		stop(x, INGEST_ERR_CALLBACK, "stopped by the report callback");
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
	struct ingest_xml *x = ud;
	const char *n = local(name);
	size_t nl;

	(void)attr;
	if (x->done)
		return;
	if (x->depth >= INGEST_XML_MAX_DEPTH) {
		stop(x, INGEST_ERR_LIMIT, "XML nested deeper than "
		    "32 elements");
		return;
	}
	/* a bounded copy (snprintf() was 5 % of a small report's import) */
	nl = strnlen(n, NAMELEN - 1);
	memcpy(x->stack[x->depth], n, nl);
	x->stack[x->depth++][nl] = '\0';
	x->ntext = 0;
	x->text[0] = '\0';
	if (strcmp(n, "feedback") == 0)
		x->seen_feedback = true;
	else if (strcmp(n, "record") == 0 && !x->in_record) {
		send_report(x);
		if (x->status != INGEST_OK)
			return;
		if (x->rep.nrecords >= INGEST_XML_MAX_RECORDS) {
			stop(x, INGEST_ERR_LIMIT, "more than 500000 records "
			    "in one report");
			return;
		}
		memset(&x->rec, 0, sizeof(x->rec));
		x->in_record = true;
	} else if (strcmp(n, "spf") == 0 || strcmp(n, "dkim") == 0) {
		x->a_domain[0] = x->a_sel[0] = x->a_scope[0] = '\0';
		x->a_result[0] = '\0';
	} else if (strcmp(n, "reason") == 0)
		x->r_type[0] = x->r_comment[0] = '\0';
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct ingest_xml *x = ud;
	size_t room = INGEST_XML_MAX_TEXT - x->ntext;

	if (len <= 0 || room == 0)
		return;
	if ((size_t)len > room)
		len = (int)room;
	memcpy(x->text + x->ntext, s, (size_t)len);
	x->ntext += (size_t)len;
	x->text[x->ntext] = '\0';
}

#define IS(a, b)	(strcmp((a), (b)) == 0)

static void
end_meta(struct ingest_xml *x, const char *n, const char *t)
{
	struct ingest_report *r = &x->rep;

	if (IS(n, "org_name"))
		put(r->org_name, sizeof(r->org_name), t, false);
	else if (IS(n, "email"))
		put(r->email, sizeof(r->email), t, false);
	else if (IS(n, "extra_contact_info"))
		put(r->extra_contact_info, sizeof(r->extra_contact_info), t,
		    false);
	else if (IS(n, "report_id"))
		put(r->report_id, sizeof(r->report_id), t, false);
}

static void
end_policy(struct ingest_xml *x, const char *n, const char *t)
{
	struct ingest_report *r = &x->rep;
	char buf[16];

	if (IS(n, "domain"))
		put(r->domain, sizeof(r->domain), t, true);
	else if (IS(n, "adkim"))
		put(r->adkim, sizeof(r->adkim), t, true);
	else if (IS(n, "aspf"))
		put(r->aspf, sizeof(r->aspf), t, true);
	else if (IS(n, "p"))
		put(r->p, sizeof(r->p), t, true);
	else if (IS(n, "sp"))
		put(r->sp, sizeof(r->sp), t, true);
	else if (IS(n, "np"))
		put(r->np, sizeof(r->np), t, true);
	else if (IS(n, "fo"))
		put(r->fo, sizeof(r->fo), t, true);
	else if (IS(n, "testing"))
		put(r->testing, sizeof(r->testing), t, true);
	else if (IS(n, "discovery_method"))
		put(r->discovery_method, sizeof(r->discovery_method), t, true);
	else if (IS(n, "pct")) {
		put(buf, sizeof(buf), t, false);
		r->pct = buf[0] == '\0' ? -1 : (int)(parse_u64(buf) % 1000);
	}
}

static void
end_record_part(struct ingest_xml *x, const char *n, const char *parent,
    const char *t)
{
	struct ingest_record *c = &x->rec;
	char piece[512], buf[32];

	if (IS(parent, "row")) {
		if (IS(n, "source_ip"))
			put(c->source_ip, sizeof(c->source_ip), t, true);
		else if (IS(n, "count")) {
			put(buf, sizeof(buf), t, false);
			c->count = parse_u64(buf);
		}
	} else if (IS(parent, "policy_evaluated")) {
		if (IS(n, "disposition"))
			put(c->disposition, sizeof(c->disposition), t, true);
		else if (IS(n, "dkim"))
			put(c->dkim, sizeof(c->dkim), t, true);
		else if (IS(n, "spf"))
			put(c->spf, sizeof(c->spf), t, true);
	} else if (IS(parent, "reason")) {
		if (IS(n, "type"))
			put(x->r_type, sizeof(x->r_type), t, true);
		else if (IS(n, "comment"))
			put(x->r_comment, sizeof(x->r_comment), t, false);
	} else if (IS(parent, "identifiers")) {
		if (IS(n, "header_from"))
			put(c->header_from, sizeof(c->header_from), t, true);
		else if (IS(n, "envelope_from"))
			put(c->envelope_from, sizeof(c->envelope_from), t,
			    true);
		else if (IS(n, "envelope_to"))
			put(c->envelope_to, sizeof(c->envelope_to), t, true);
	} else if (IS(parent, "spf") || IS(parent, "dkim")) {
		if (IS(n, "domain"))
			put(x->a_domain, sizeof(x->a_domain), t, true);
		else if (IS(n, "selector"))
			put(x->a_sel, sizeof(x->a_sel), t, false);
		else if (IS(n, "scope"))
			put(x->a_scope, sizeof(x->a_scope), t, true);
		else if (IS(n, "result"))
			put(x->a_result, sizeof(x->a_result), t, true);
	} else if (IS(parent, "auth_results")) {
		if (IS(n, "spf") && c->nspf < INGEST_XML_MAX_AUTH) {
			snprintf(piece, sizeof(piece),
			    "domain=%s;scope=%s;result=%s", x->a_domain,
			    x->a_scope, x->a_result);
			join(c->spf_results, sizeof(c->spf_results), piece);
			c->nspf++;
		} else if (IS(n, "dkim") && c->ndkim < INGEST_XML_MAX_AUTH) {
			snprintf(piece, sizeof(piece),
			    "domain=%s;selector=%s;result=%s", x->a_domain,
			    x->a_sel, x->a_result);
			join(c->dkim_results, sizeof(c->dkim_results), piece);
			c->ndkim++;
		}
	}
	/* RFC 7489 C: policy_evaluated/reason, {type, comment} */
	if (IS(n, "reason") && IS(parent, "policy_evaluated")) {
		if (x->r_comment[0] != '\0')
			snprintf(piece, sizeof(piece), "%s:%s", x->r_type,
			    x->r_comment);
		else
			snprintf(piece, sizeof(piece), "%s", x->r_type);
		if (piece[0] != '\0')
			join(c->reasons, sizeof(c->reasons), piece);
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct ingest_xml *x = ud;
	const char *n = local(name), *parent, *gp;

	if (x->done || x->depth == 0)
		return;
	parent = x->depth >= 2 ? x->stack[x->depth - 2] : "";
	gp = x->depth >= 3 ? x->stack[x->depth - 3] : "";
	if (x->in_record && IS(n, "record")) {
		x->in_record = false;
		x->rep.nrecords++;
		if (x->record_cb != NULL &&
		    x->record_cb(&x->rep, &x->rec, x->ctx) != 0)
			stop(x, INGEST_ERR_CALLBACK,
			    "stopped by the record callback");
	} else if (x->in_record)
		end_record_part(x, n, parent, x->text);
	else if (IS(parent, "report_metadata"))
		end_meta(x, n, x->text);
	else if (IS(parent, "date_range") && IS(gp, "report_metadata")) {
		if (IS(n, "begin"))
			x->rep.begin = parse_time(x->text);
		else if (IS(n, "end"))
			x->rep.end = parse_time(x->text);
	} else if (IS(parent, "policy_published"))
		end_policy(x, n, x->text);
	else if (IS(parent, "feedback") && IS(n, "version"))
		put(x->rep.version, sizeof(x->rep.version), x->text, false);
	else if (IS(n, "feedback")) {
		send_report(x);
		if (x->status == INGEST_OK) {
			/* Whatever follows (a stray unclosed element's end,
			 * trailing junk) does not matter. */
			x->done = true;
			XML_StopParser(x->p, XML_FALSE);
		}
	}
	x->depth--;
	x->ntext = 0;
	x->text[0] = '\0';
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	stop(ud, INGEST_ERR_FORBIDDEN, "a DOCTYPE (DTD, entities) is not "
	    "allowed in a report");
}

static void XMLCALL
on_entity(void *ud, const XML_Char *name, int is_param,
    const XML_Char *value, int vlen, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)vlen, (void)base;
	(void)sysid, (void)pubid, (void)notation;
	stop(ud, INGEST_ERR_FORBIDDEN, "an entity declaration is not "
	    "allowed in a report");
}

struct ingest_xml *
ingest_xml_new(ingest_report_cb report_cb, ingest_record_cb record_cb,
    void *ctx)
{
	struct ingest_xml *x;

	/* not calloc(): zeroing the 192 KiB of out[] was a third of the
	 * instructions of a small report's import */
	if ((x = malloc(sizeof(*x))) == NULL)
		return NULL;
	memset(x, 0, offsetof(struct ingest_xml, out));
	/* "UTF-8" overrides the declared encoding: see the top. */
	if ((x->p = XML_ParserCreate("UTF-8")) == NULL) {
		free(x);
		return NULL;
	}
	x->report_cb = report_cb;
	x->record_cb = record_cb;
	x->ctx = ctx;
	x->rep.pct = -1;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
	return x;
}

void
ingest_xml_free(struct ingest_xml *x)
{
	if (x == NULL)
		return;
	XML_ParserFree(x->p);
	free(x);
}

bool
ingest_xml_repaired(const struct ingest_xml *x)
{
	return x->repaired;
}

/* Length of the valid UTF-8 XML character at s (n bytes available):
 * > 0 valid, 0 need more bytes, -1 invalid (replace one byte). */
static int
utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	int len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ?
		    1 : -1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return -1;
	}
	/* U+FFFE and U+FFFF are not XML characters */
	if (len == 3 && c == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
		return -1;
	return len;
}

/* Repair in into x->out; returns its length.  A sequence cut by the end
 * of the chunk waits in x->pend unless last. */
static size_t
repair(struct ingest_xml *x, const unsigned char *in, size_t len, bool last)
{
	unsigned char tmp[8];
	size_t o = 0, i = 0;
	int k;

	/* finish a pending sequence first */
	while (x->npend > 0) {
		size_t t = x->npend, j;

		memcpy(tmp, x->pend, t);
		for (j = 0; j < len && t < 4; j++)
			tmp[t++] = in[j];
		k = utf8_char(tmp, t);
		if (k == 0 && !last && len < 4)
			goto keep;
		if (k > 0) {
			memcpy(x->out + o, tmp, (size_t)k);
			o += (size_t)k;
		} else {
			memcpy(x->out + o, "\xef\xbf\xbd", 3);
			o += 3;
			x->repaired = true;
			k = 1;
		}
		if ((size_t)k >= x->npend) {
			i = (size_t)k - x->npend;
			x->npend = 0;
		} else {
			memmove(x->pend, x->pend + k, x->npend - (size_t)k);
			x->npend -= (size_t)k;
		}
	}
	while (i < len) {
		if (in[i] >= 0x20 && in[i] < 0x80) {
			x->out[o++] = in[i++];
			continue;
		}
		k = utf8_char(in + i, len - i);
		if (k == 0 && !last) {
			memcpy(x->pend, in + i, len - i);
			x->npend = len - i;
			break;
		}
		if (k > 0) {
			memcpy(x->out + o, in + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
		} else {
			memcpy(x->out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			x->repaired = true;
		}
	}
	return o;
keep:
	memcpy(x->pend + x->npend, in, len);
	x->npend += len;
	return o;
}

static enum ingest_status
fail(struct ingest_xml *x, enum ingest_status s, struct strbuf *err)
{
	x->failed = true;
	x->status = s;
	if (err != NULL) {
		if (s == INGEST_ERR_SYNTAX)
			strbuf_appendf(err, "malformed XML at line %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(x->p),
			    XML_ErrorString(XML_GetErrorCode(x->p)));
		else
			strbuf_appendf(err, "%s", x->why);
	}
	return s;
}

enum ingest_status
ingest_xml_feed(struct ingest_xml *x, const void *buf, size_t len, bool last,
    struct strbuf *err)
{
	const unsigned char *in = buf;
	size_t n, o;

	if (x->failed)
		return x->status;
	if (x->done)
		return INGEST_OK;
	if (len > 0)
		x->any_bytes = true;
	x->total += len;
	if (x->total > INGEST_XML_MAX_BYTES) {
		snprintf(x->why, sizeof(x->why), "report larger than %u MiB",
		    INGEST_XML_MAX_BYTES >> 20);
		return fail(x, INGEST_ERR_LIMIT, err);
	}
	do {
		n = len > CHUNK ? CHUNK : len;
		o = repair(x, in, n, last && n == len);
		in += n;
		len -= n;
		if (XML_Parse(x->p, (const char *)x->out, (int)o,
		    last && len == 0) == XML_STATUS_ERROR) {
			if (x->done)
				return INGEST_OK;
			if (x->status != INGEST_OK)
				return fail(x, x->status, err);
			if (XML_GetErrorCode(x->p) == XML_ERROR_NO_MEMORY)
				return fail(x, INGEST_ERR_NOMEM, err);
			if (!x->any_bytes) {
				snprintf(x->why, sizeof(x->why), "empty file");
				return fail(x, INGEST_ERR_EMPTY, err);
			}
			return fail(x, INGEST_ERR_SYNTAX, err);
		}
	} while (len > 0);
	if (!last)
		return INGEST_OK;
	if (x->done)
		return INGEST_OK;
	snprintf(x->why, sizeof(x->why), x->seen_feedback ?
	    "the <feedback> element is not closed" :
	    "no <feedback> element: not an aggregate report");
	return fail(x, INGEST_ERR_CONTENT, err);
}

enum ingest_status
ingest_xml_parse(const void *buf, size_t len, ingest_report_cb report_cb,
    ingest_record_cb record_cb, void *ctx, struct strbuf *err)
{
	struct ingest_xml *x;
	enum ingest_status s;

	if ((x = ingest_xml_new(report_cb, record_cb, ctx)) == NULL)
		return INGEST_ERR_NOMEM;
	s = ingest_xml_feed(x, buf, len, true, err);
	ingest_xml_free(x);
	return s;
}
