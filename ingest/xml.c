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

struct ingest_xml {
	XML_Parser	 p;
	ingest_report_cb report_cb;
	ingest_record_cb record_cb;
	void		*ctx;

	unsigned char	 stack[INGEST_XML_MAX_DEPTH + 1];	/* enum el */
	unsigned	 depth;
	char		 text[INGEST_XML_MAX_TEXT + 1];
	size_t		 ntext;

	struct ingest_report rep;
	struct ingest_record rec;
	bool		 in_record, report_sent, done, seen_feedback;
	bool		 want_text;	/* the open element's text is read */
	/* the <spf>, <dkim> or <reason> being read */
	char		 a_domain[254], a_sel[64], a_scope[16], a_result[32];
	char		 r_type[64], r_comment[256];

	enum ingest_status status;	/* set by a handler that stopped */
	char		 why[160];
	uint64_t	 total;
	unsigned char	 pend[4];	/* an incomplete UTF-8 sequence */
	size_t		 npend;
	bool		 repaired, any_bytes, failed;
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

/*
 * The elements the parser acts on, by local name.  The open elements are
 * kept as these numbers, not as names: matching every end tag against
 * its name and its parent's with strcmp() chains was a sixth of a large
 * report's import (callgrind, 6,858 records).
 */
enum el {
	EL_OTHER,
	EL_FEEDBACK, EL_VERSION,
	EL_REPORT_METADATA, EL_ORG_NAME, EL_EMAIL, EL_EXTRA_CONTACT_INFO,
	EL_REPORT_ID, EL_DATE_RANGE, EL_BEGIN, EL_END,
	EL_POLICY_PUBLISHED, EL_DOMAIN, EL_ADKIM, EL_ASPF, EL_P, EL_SP, EL_NP,
	EL_PCT, EL_FO, EL_TESTING, EL_DISCOVERY_METHOD,
	EL_RECORD, EL_ROW, EL_SOURCE_IP, EL_COUNT, EL_POLICY_EVALUATED,
	EL_DISPOSITION, EL_DKIM, EL_SPF, EL_REASON, EL_TYPE, EL_COMMENT,
	EL_IDENTIFIERS, EL_HEADER_FROM, EL_ENVELOPE_FROM, EL_ENVELOPE_TO,
	EL_AUTH_RESULTS, EL_SELECTOR, EL_SCOPE, EL_RESULT
};

#define EL_IS(s)	(len == sizeof(s) - 1 && memcmp(n, (s), len) == 0)

/* The element called n (a local name), by its length first. */
static enum el
element(const char *n)
{
	size_t len = strlen(n);

	switch (len) {
	case 1:
		return EL_IS("p") ? EL_P : EL_OTHER;
	case 2:
		return EL_IS("sp") ? EL_SP : EL_IS("np") ? EL_NP :
		    EL_IS("fo") ? EL_FO : EL_OTHER;
	case 3:
		return EL_IS("spf") ? EL_SPF : EL_IS("row") ? EL_ROW :
		    EL_IS("end") ? EL_END : EL_IS("pct") ? EL_PCT : EL_OTHER;
	case 4:
		return EL_IS("dkim") ? EL_DKIM : EL_IS("type") ? EL_TYPE :
		    EL_IS("aspf") ? EL_ASPF : EL_OTHER;
	case 5:
		return EL_IS("count") ? EL_COUNT : EL_IS("scope") ? EL_SCOPE :
		    EL_IS("adkim") ? EL_ADKIM : EL_IS("email") ? EL_EMAIL :
		    EL_IS("begin") ? EL_BEGIN : EL_OTHER;
	case 6:
		return EL_IS("record") ? EL_RECORD : EL_IS("domain") ?
		    EL_DOMAIN : EL_IS("result") ? EL_RESULT :
		    EL_IS("reason") ? EL_REASON : EL_OTHER;
	case 7:
		return EL_IS("comment") ? EL_COMMENT : EL_IS("version") ?
		    EL_VERSION : EL_IS("testing") ? EL_TESTING : EL_OTHER;
	case 8:
		return EL_IS("selector") ? EL_SELECTOR : EL_IS("feedback") ?
		    EL_FEEDBACK : EL_IS("org_name") ? EL_ORG_NAME : EL_OTHER;
	case 9:
		return EL_IS("source_ip") ? EL_SOURCE_IP :
		    EL_IS("report_id") ? EL_REPORT_ID : EL_OTHER;
	case 10:
		return EL_IS("date_range") ? EL_DATE_RANGE : EL_OTHER;
	case 11:
		return EL_IS("header_from") ? EL_HEADER_FROM :
		    EL_IS("disposition") ? EL_DISPOSITION :
		    EL_IS("identifiers") ? EL_IDENTIFIERS :
		    EL_IS("envelope_to") ? EL_ENVELOPE_TO : EL_OTHER;
	case 12:
		return EL_IS("auth_results") ? EL_AUTH_RESULTS : EL_OTHER;
	case 13:
		return EL_IS("envelope_from") ? EL_ENVELOPE_FROM : EL_OTHER;
	case 15:
		return EL_IS("report_metadata") ? EL_REPORT_METADATA :
		    EL_OTHER;
	case 16:
		return EL_IS("policy_evaluated") ? EL_POLICY_EVALUATED :
		    EL_IS("policy_published") ? EL_POLICY_PUBLISHED :
		    EL_IS("discovery_method") ? EL_DISCOVERY_METHOD :
		    EL_OTHER;
	case 18:
		return EL_IS("extra_contact_info") ? EL_EXTRA_CONTACT_INFO :
		    EL_OTHER;
	}
	return EL_OTHER;
}

#undef EL_IS

/* Is e an element whose text is read?  The white space between the
 * children of a container, and unknown elements, are not kept. */
static bool
has_text(enum el e)
{
	switch (e) {
	case EL_OTHER:
	case EL_FEEDBACK:
	case EL_REPORT_METADATA:
	case EL_DATE_RANGE:
	case EL_POLICY_PUBLISHED:
	case EL_RECORD:
	case EL_ROW:
	case EL_POLICY_EVALUATED:
	case EL_REASON:
	case EL_IDENTIFIERS:
	case EL_AUTH_RESULTS:
		return false;
	default:
		return true;
	}
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
	enum el e = element(local(name));

	(void)attr;
	if (x->done)
		return;
	if (x->depth >= INGEST_XML_MAX_DEPTH) {
		stop(x, INGEST_ERR_LIMIT, "XML nested deeper than "
		    "32 elements");
		return;
	}
	x->stack[x->depth++] = (unsigned char)e;
	x->ntext = 0;
	x->text[0] = '\0';
	x->want_text = has_text(e);
	switch (e) {
	case EL_FEEDBACK:
		x->seen_feedback = true;
		break;
	case EL_RECORD:
		if (x->in_record)
			break;
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
		break;
	case EL_SPF:
	case EL_DKIM:
		x->a_domain[0] = x->a_sel[0] = x->a_scope[0] = '\0';
		x->a_result[0] = '\0';
		break;
	case EL_REASON:
		x->r_type[0] = x->r_comment[0] = '\0';
		break;
	default:
		break;
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct ingest_xml *x = ud;
	size_t room = INGEST_XML_MAX_TEXT - x->ntext;

	if (len <= 0 || room == 0 || !x->want_text)
		return;
	if ((size_t)len > room)
		len = (int)room;
	memcpy(x->text + x->ntext, s, (size_t)len);
	x->ntext += (size_t)len;
	x->text[x->ntext] = '\0';
}

static void
end_meta(struct ingest_xml *x, enum el e, const char *t)
{
	struct ingest_report *r = &x->rep;

	switch (e) {
	case EL_ORG_NAME:
		put(r->org_name, sizeof(r->org_name), t, false);
		break;
	case EL_EMAIL:
		put(r->email, sizeof(r->email), t, false);
		break;
	case EL_EXTRA_CONTACT_INFO:
		put(r->extra_contact_info, sizeof(r->extra_contact_info), t,
		    false);
		break;
	case EL_REPORT_ID:
		put(r->report_id, sizeof(r->report_id), t, false);
		break;
	default:
		break;
	}
}

static void
end_policy(struct ingest_xml *x, enum el e, const char *t)
{
	struct ingest_report *r = &x->rep;
	char buf[16];

	switch (e) {
	case EL_DOMAIN:
		put(r->domain, sizeof(r->domain), t, true);
		break;
	case EL_ADKIM:
		put(r->adkim, sizeof(r->adkim), t, true);
		break;
	case EL_ASPF:
		put(r->aspf, sizeof(r->aspf), t, true);
		break;
	case EL_P:
		put(r->p, sizeof(r->p), t, true);
		break;
	case EL_SP:
		put(r->sp, sizeof(r->sp), t, true);
		break;
	case EL_NP:
		put(r->np, sizeof(r->np), t, true);
		break;
	case EL_FO:
		put(r->fo, sizeof(r->fo), t, true);
		break;
	case EL_TESTING:
		put(r->testing, sizeof(r->testing), t, true);
		break;
	case EL_DISCOVERY_METHOD:
		put(r->discovery_method, sizeof(r->discovery_method), t, true);
		break;
	case EL_PCT:
		put(buf, sizeof(buf), t, false);
		r->pct = buf[0] == '\0' ? -1 : (int)(parse_u64(buf) % 1000);
		break;
	default:
		break;
	}
}

/* An element of <auth_results>: <spf> or <dkim> (the children were read
 * into a_domain, a_sel, a_scope, a_result). */
static void
end_auth(struct ingest_xml *x, enum el e)
{
	struct ingest_record *c = &x->rec;
	char piece[512];

	if (e == EL_SPF && c->nspf < INGEST_XML_MAX_AUTH) {
		snprintf(piece, sizeof(piece), "domain=%s;scope=%s;result=%s",
		    x->a_domain, x->a_scope, x->a_result);
		join(c->spf_results, sizeof(c->spf_results), piece);
		c->nspf++;
	} else if (e == EL_DKIM && c->ndkim < INGEST_XML_MAX_AUTH) {
		snprintf(piece, sizeof(piece),
		    "domain=%s;selector=%s;result=%s", x->a_domain, x->a_sel,
		    x->a_result);
		join(c->dkim_results, sizeof(c->dkim_results), piece);
		c->ndkim++;
	}
}

/* RFC 7489 C: policy_evaluated/reason, {type, comment} */
static void
end_reason(struct ingest_xml *x)
{
	char piece[512];

	if (x->r_comment[0] != '\0')
		snprintf(piece, sizeof(piece), "%s:%s", x->r_type,
		    x->r_comment);
	else
		snprintf(piece, sizeof(piece), "%s", x->r_type);
	if (piece[0] != '\0')
		join(x->rec.reasons, sizeof(x->rec.reasons), piece);
}

static void
end_record_part(struct ingest_xml *x, enum el e, enum el parent,
    const char *t)
{
	struct ingest_record *c = &x->rec;
	char buf[32];

	switch (parent) {
	case EL_ROW:
		if (e == EL_SOURCE_IP)
			put(c->source_ip, sizeof(c->source_ip), t, true);
		else if (e == EL_COUNT) {
			put(buf, sizeof(buf), t, false);
			c->count = parse_u64(buf);
		}
		break;
	case EL_POLICY_EVALUATED:
		if (e == EL_DISPOSITION)
			put(c->disposition, sizeof(c->disposition), t, true);
		else if (e == EL_DKIM)
			put(c->dkim, sizeof(c->dkim), t, true);
		else if (e == EL_SPF)
			put(c->spf, sizeof(c->spf), t, true);
		else if (e == EL_REASON)
			end_reason(x);
		break;
	case EL_REASON:
		if (e == EL_TYPE)
			put(x->r_type, sizeof(x->r_type), t, true);
		else if (e == EL_COMMENT)
			put(x->r_comment, sizeof(x->r_comment), t, false);
		break;
	case EL_IDENTIFIERS:
		if (e == EL_HEADER_FROM)
			put(c->header_from, sizeof(c->header_from), t, true);
		else if (e == EL_ENVELOPE_FROM)
			put(c->envelope_from, sizeof(c->envelope_from), t,
			    true);
		else if (e == EL_ENVELOPE_TO)
			put(c->envelope_to, sizeof(c->envelope_to), t, true);
		break;
	case EL_SPF:
	case EL_DKIM:
		if (e == EL_DOMAIN)
			put(x->a_domain, sizeof(x->a_domain), t, true);
		else if (e == EL_SELECTOR)
			put(x->a_sel, sizeof(x->a_sel), t, false);
		else if (e == EL_SCOPE)
			put(x->a_scope, sizeof(x->a_scope), t, true);
		else if (e == EL_RESULT)
			put(x->a_result, sizeof(x->a_result), t, true);
		break;
	case EL_AUTH_RESULTS:
		end_auth(x, e);
		break;
	default:
		break;
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct ingest_xml *x = ud;
	enum el e, parent, gp;

	(void)name;	/* the element is the top of the stack */
	if (x->done || x->depth == 0)
		return;
	e = (enum el)x->stack[x->depth - 1];
	parent = x->depth >= 2 ? (enum el)x->stack[x->depth - 2] : EL_OTHER;
	gp = x->depth >= 3 ? (enum el)x->stack[x->depth - 3] : EL_OTHER;
	if (x->in_record && e == EL_RECORD) {
		x->in_record = false;
		x->rep.nrecords++;
		if (x->record_cb != NULL &&
		    x->record_cb(&x->rep, &x->rec, x->ctx) != 0)
			stop(x, INGEST_ERR_CALLBACK,
			    "stopped by the record callback");
	} else if (x->in_record)
		end_record_part(x, e, parent, x->text);
	else if (parent == EL_REPORT_METADATA)
		end_meta(x, e, x->text);
	else if (parent == EL_DATE_RANGE && gp == EL_REPORT_METADATA) {
		if (e == EL_BEGIN)
			x->rep.begin = parse_time(x->text);
		else if (e == EL_END)
			x->rep.end = parse_time(x->text);
	} else if (parent == EL_POLICY_PUBLISHED)
		end_policy(x, e, x->text);
	else if (parent == EL_FEEDBACK && e == EL_VERSION)
		put(x->rep.version, sizeof(x->rep.version), x->text, false);
	else if (e == EL_FEEDBACK) {
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
	x->want_text = false;	/* what follows is the parent's: a container */
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

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
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

/* A byte that is a whole XML character by itself: printable ASCII,
 * tab and the line ends.  Runs of these are copied with memcpy(). */
static inline bool
plain(unsigned char c)
{
	return (c >= 0x20 && c < 0x80) || c == '\t' || c == '\n' || c == '\r';
}

/* The length of the run of plain bytes at p (n bytes available).  Eight
 * bytes at a time while none is under 0x20 or over 0x7f: then the
 * subtraction borrows from no byte and sets no top bit, and neither does
 * the word itself; a word that fails is walked byte by byte.  The
 * byte-by-byte loop alone was 6 % of a large report's import. */
static size_t
plain_run(const unsigned char *p, size_t n)
{
	const uint64_t low = 0x2020202020202020u, top = 0x8080808080808080u;
	size_t i = 0, k;
	uint64_t w;

	for (;;) {
		while (i + 8 <= n) {
			memcpy(&w, p + i, sizeof(w));
			if (((w | (w - low)) & top) != 0)
				break;
			i += 8;
		}
		for (k = 0; k < 8; k++, i++)
			if (i == n || !plain(p[i]))
				return i;
	}
}

/* Repair in into out (room for 3 * len + 16 bytes); returns its length.
 * A sequence cut by the end of the chunk waits in x->pend unless last. */
static size_t
repair(struct ingest_xml *x, const unsigned char *in, size_t len, bool last,
    unsigned char *out)
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
			memcpy(out + o, tmp, (size_t)k);
			o += (size_t)k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
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
		size_t j = i + plain_run(in + i, len - i);

		memcpy(out + o, in + i, j - i);
		o += j - i;
		i = j;
		if (i == len)
			break;
		k = utf8_char(in + i, len - i);
		if (k == 0 && !last) {
			memcpy(x->pend, in + i, len - i);
			x->npend = len - i;
			break;
		}
		if (k > 0) {
			memcpy(out + o, in + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
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
	unsigned char *out;
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
		/* repaired straight into expat's buffer: XML_Parse() would
		 * copy it there again */
		if ((out = XML_GetBuffer(x->p, (int)(3 * n + 16))) == NULL)
			return fail(x, XML_GetErrorCode(x->p) ==
			    XML_ERROR_NO_MEMORY ? INGEST_ERR_NOMEM :
			    INGEST_ERR_SYNTAX, err);
		o = repair(x, in, n, last && n == len, out);
		in += n;
		len -= n;
		if (XML_ParseBuffer(x->p, (int)o, last && len == 0) ==
		    XML_STATUS_ERROR) {
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
