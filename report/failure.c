/*
 * failure.c - DMARC failure reports: fo= decision, ruf= destinations and
 * the RFC 6591 auth-failure report as RFC 9991 section 5 augments it.
 *
 * Implements RFC 9991 sections 3 (fo, psd=y) and 5 (Identity-Alignment,
 * Auth-Failure: dmarc, DKIM-Domain/-Selector, SPF-DNS), RFC 6591 section
 * 3.1/3.2 fields and RFC 6522 multipart/report.  Left out: DKIM-
 * Canonicalized-Header/-Body and the original body, which never leaves
 * the host (privacy, RFC 9991 section 6.2); SPF-DNS names the record's
 * domain only, as the verify pipeline keeps no record text.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "failure.h"

#define FIELD_MAX	998	/* RFC 5322 section 2.1.1 */

static bool
dkim_failed(enum eval_auth_result a)
{
	return a != EVAL_AUTH_PASS && a != EVAL_AUTH_NONE;
}

static bool
spf_failed(enum eval_auth_result a)
{
	return a == EVAL_AUTH_FAIL || a == EVAL_AUTH_SOFTFAIL ||
	    a == EVAL_AUTH_PERMERROR;
}

bool
failure_fo_wants(const struct evaluate_result *r)
{
	bool dkim_ok = r->dkim_aligned == ALIGN_PASS;
	bool spf_ok = r->spf_aligned == ALIGN_PASS;
	size_t i;

	/* RFC 9989 section 4.7: "0" and "1" are exclusive; 1 is wider. */
	if ((r->fo & DMARC_FO_1) && (!dkim_ok || !spf_ok))
		return true;
	if ((r->fo & DMARC_FO_0) && !dkim_ok && !spf_ok)
		return true;
	if (r->fo & DMARC_FO_D)
		for (i = 0; i < r->ndkim; i++)
			if (dkim_failed(r->dkim[i].result))
				return true;
	if ((r->fo & DMARC_FO_S) && r->spf_present &&
	    spf_failed(r->spf_result))
		return true;
	return false;
}

const char *
failure_ruf(const struct evaluate_result *r)
{
	if (r == NULL || !r->have_policy || r->ruf == NULL ||
	    *r->ruf == '\0')
		return NULL;
	/* RFC 9991 section 3: MUST NOT consider ruf in a psd=y record. */
	if (r->psd == DMARC_PSD_Y)
		return NULL;
	return r->ruf;
}

bool
failure_is_due(const struct evaluate_result *r)
{
	return failure_ruf(r) != NULL && failure_fo_wants(r);
}

/* Printable ASCII without blanks, quotes or angle brackets: safe for a
 * To: field and an argv-free sendmail -t. */
static bool
addr_is_plain(const char *a, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] <= 0x20 || a[i] >= 0x7f || strchr("<>\"(),;:\\",
		    a[i]) != NULL)
			return false;
	return true;
}

size_t
failure_ruf_addresses(const char *ruf, char **out, size_t max)
{
	const char *p = ruf, *e, *end;
	size_t n = 0, len;

	while (p != NULL && *p != '\0' && n < max) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		end = e;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) > 7 && strncasecmp(p, "mailto:", 7) == 0) {
			const char *a = p + 7, *bang;

			/* RFC 9989 section 4.7: "!size" is a limit, not part
			 * of the address. */
			bang = memchr(a, '!', (size_t)(end - a));
			len = (size_t)((bang != NULL ? bang : end) - a);
			while (len > 0 && (a[len - 1] == ' ' ||
			    a[len - 1] == '\t'))
				len--;
			if (len > 0 && len <= 320 &&
			    memchr(a, '@', len) != NULL &&
			    addr_is_plain(a, len) &&
			    (out[n] = mem_strndup(a, len)) != NULL)
				n++;
		}
		p = *e == ',' ? e + 1 : e;
	}
	return n;
}

/* Does hdrs have a field name (case-blind) at the start of a line? */
static const char *
find_field(const char *hdrs, const char *name)
{
	size_t n = strlen(name);
	const char *p = hdrs;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return p + n + 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

bool
failure_is_report(const char *hdrs)
{
	const char *ct, *eol;
	char buf[512];
	size_t n;

	if (hdrs == NULL)
		return false;
	if (find_field(hdrs, FAILURE_MARKER_FIELD) != NULL)
		return true;
	if ((ct = find_field(hdrs, "Content-Type")) == NULL)
		return false;
	/* The value with its continuation lines, bounded. */
	for (eol = ct; (eol = strchr(eol, '\n')) != NULL &&
	    (eol[1] == ' ' || eol[1] == '\t'); eol++)
		;
	n = eol != NULL ? (size_t)(eol - ct) : strlen(ct);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, ct, n);
	buf[n] = '\0';
	return strcasestr(buf, "multipart/report") != NULL &&
	    strcasestr(buf, "feedback-report") != NULL;
}

bool
failure_headers_add(struct strbuf *hdrs, const char *name,
    const char *value)
{
	size_t start = strbuf_len(hdrs), n = 0;
	const char *p;

	if (start >= FAILURE_MAX_HEADERS)
		return false;
	strbuf_appends(hdrs, name);
	strbuf_appendc(hdrs, ':');
	if (*value != ' ' && *value != '\t')
		strbuf_appendc(hdrs, ' ');
	for (p = value; *p != '\0' && n < FAILURE_MAX_FIELD; p++, n++) {
		if (*p == '\r')
			continue;
		strbuf_appendc(hdrs, *p);
		/* A line break must start a continuation line, never a new
		 * field. */
		if (*p == '\n' && p[1] != ' ' && p[1] != '\t' &&
		    !(p[1] == '\r' && (p[2] == ' ' || p[2] == '\t')))
			strbuf_appendc(hdrs, ' ');
	}
	strbuf_appendc(hdrs, '\n');
	if (strbuf_failed(hdrs) || strbuf_len(hdrs) > FAILURE_MAX_HEADERS) {
		/* Keep whole fields only. */
		strbuf_truncate(hdrs, start);
		return false;
	}
	return true;
}

const char *
failure_identity_alignment(const struct evaluate_result *r)
{
	bool dkim = r->dkim_aligned != ALIGN_PASS;
	bool spf = r->spf_aligned != ALIGN_PASS;

	/* RFC 9991 section 5 item 2: the mechanisms that failed to
	 * authenticate an aligned identity, or "none". */
	if (dkim && spf)
		return "dkim,spf";
	return dkim ? "dkim" : spf ? "spf" : "none";
}

/* An untrusted value for one header line: printable ASCII, cut. */
static void
append_safe(struct strbuf *sb, const char *s, size_t max)
{
	size_t n;

	for (n = 0; s != NULL && s[n] != '\0' && n < max; n++)
		strbuf_appendc(sb, (s[n] > 0x20 && s[n] < 0x7f) ||
		    s[n] == ' ' ? s[n] : '?');
}

static void
field(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_appends(sb, name);
	strbuf_appends(sb, ": ");
	append_safe(sb, value, FIELD_MAX - strlen(name) - 2);
	strbuf_appendc(sb, '\n');
}

/* A folded value (ours, e.g. Authentication-Results): keep folding,
 * make line ends "\n", drop other control characters. */
static void
field_folded(struct strbuf *sb, const char *name, const char *value)
{
	const char *p;

	strbuf_appends(sb, name);
	strbuf_appends(sb, ": ");
	for (p = value; *p != '\0' && p - value < FAILURE_MAX_FIELD; p++) {
		if (*p == '\n' && (p[1] == ' ' || p[1] == '\t'))
			strbuf_appendc(sb, '\n');
		else if ((*p >= 0x20 && *p < 0x7f) || *p == '\t')
			strbuf_appendc(sb, *p);
	}
	strbuf_appendc(sb, '\n');
}

static const char *const minimal_fields[] = { "From", "To", "Cc", "Date",
	"Subject", "Message-ID", "DKIM-Signature", NULL };

static bool
is_minimal(const char *line)
{
	size_t i, n;

	for (i = 0; minimal_fields[i] != NULL; i++) {
		n = strlen(minimal_fields[i]);
		if (strncasecmp(line, minimal_fields[i], n) == 0 &&
		    line[n] == ':')
			return true;
	}
	return false;
}

/* Part 3: the original header fields, 7-bit, every line a field or a
 * continuation; per redact. */
static void
append_headers(struct strbuf *sb, const char *hdrs, enum failure_redact rd)
{
	const char *p = hdrs, *e;
	bool keep = false;

	while (p != NULL && *p != '\0') {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		if (*p != ' ' && *p != '\t')
			keep = rd == FAILURE_HEADERS_ALL || is_minimal(p);
		if (keep && e > p) {
			const char *q;

			for (q = p; q < e && q - p < FIELD_MAX; q++)
				strbuf_appendc(sb, (*q >= 0x20 && *q < 0x7f) ||
				    *q == '\t' ? *q : '?');
			strbuf_appendc(sb, '\n');
		}
		p = *e == '\n' ? e + 1 : e;
	}
}

/* The original Subject (unfolded, cut) for "FW: ..." or NULL. */
static void
append_subject(struct strbuf *sb, const char *hdrs)
{
	const char *v = hdrs != NULL ? find_field(hdrs, "Subject") : NULL;
	size_t n = 0;

	strbuf_appends(sb, "Subject: FW: ");
	if (v == NULL) {
		strbuf_appends(sb, "DMARC failure report");
		strbuf_appendc(sb, '\n');
		return;
	}
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0' && n < 200; v++, n++) {
		if (*v == '\n' && v[1] != ' ' && v[1] != '\t')
			break;
		if (*v == '\n' || *v == '\t')
			continue;
		strbuf_appendc(sb, *v >= 0x20 && *v < 0x7f ? *v : '?');
	}
	strbuf_appendc(sb, '\n');
}

enum failure_status
failure_build(const struct evaluate_result *r, const struct failure_facts *f,
    const struct failure_envelope *env, struct strbuf *out)
{
	char date[64], arrival[64], boundary[80];
	const char *ia;
	struct tm tm;
	size_t i, start = strbuf_len(out);

	if (r == NULL || r->header_from == NULL || env->from == NULL ||
	    env->to == NULL || env->authserv_id == NULL)
		return FAILURE_ERR_INPUT;
	if (gmtime_r(&env->now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm) == 0)
		return FAILURE_ERR_INPUT;
	if (gmtime_r(&f->arrival, &tm) == NULL ||
	    strftime(arrival, sizeof(arrival), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm) == 0)
		return FAILURE_ERR_INPUT;
	snprintf(boundary, sizeof(boundary), "=_dmarcd_%lx_%lx",
	    (unsigned long)env->now, env->unique);
	ia = failure_identity_alignment(r);

	/* RFC 5322 header; RFC 3834 Auto-Submitted and our marker keep
	 * this report from ever being reported on. */
	field(out, "From", env->from);
	field(out, "To", env->to);
	append_subject(out, f->headers);
	field(out, "Date", date);
	strbuf_appendf(out, "Message-ID: <dmarcd.fr.%lx.%lx@",
	    (unsigned long)env->now, env->unique);
	append_safe(out, env->authserv_id, 255);
	strbuf_appends(out, ">\n");
	field(out, "Auto-Submitted", "auto-generated");
	field(out, FAILURE_MARKER_FIELD, "dmarcd");
	field(out, "MIME-Version", "1.0");
	strbuf_appendf(out, "Content-Type: multipart/report; "
	    "report-type=feedback-report;\n\tboundary=\"%s\"\n\n", boundary);
	strbuf_appends(out, "This is a MIME-formatted message.\n\n");

	/* Part 1: for humans. */
	strbuf_appendf(out, "--%s\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\n", boundary);
	strbuf_appends(out, "This is a DMARC authentication failure report "
	    "(RFC 9991) for a message\nwith From domain ");
	append_safe(out, r->header_from, 255);
	strbuf_appends(out, " received from IP ");
	append_safe(out, f->source_ip != NULL ? f->source_ip : "unknown", 64);
	strbuf_appendf(out, "\non %s.  Aligned identifiers that failed: %s.\n"
	    "The message body is not included.\n\n", arrival, ia);

	/* Part 2: RFC 6591 section 3.1 and RFC 9991 section 5. */
	strbuf_appendf(out, "--%s\nContent-Type: message/feedback-report\n"
	    "Content-Transfer-Encoding: 7bit\n\n", boundary);
	field(out, "Feedback-Type", "auth-failure");
	field(out, "Version", "1");
	field(out, "User-Agent", "dmarcd/" VERSION);
	field(out, "Auth-Failure", "dmarc");
	if (f->authres != NULL)
		field_folded(out, "Authentication-Results", f->authres);
	field(out, "Identity-Alignment", ia);
	if (f->queue_id != NULL && *f->queue_id != '\0')
		field(out, "Original-Envelope-Id", f->queue_id);
	strbuf_appends(out, "Original-Mail-From: <");
	append_safe(out, f->mail_from != NULL ? f->mail_from : "", 320);
	strbuf_appends(out, ">\n");
	field(out, "Arrival-Date", arrival);
	if (f->source_ip != NULL)
		field(out, "Source-IP", f->source_ip);
	field(out, "Reported-Domain", r->header_from);
	if (f->delivery_result != NULL)
		field(out, "Delivery-Result", f->delivery_result);
	/* DKIM-Domain/-Selector per signature, up to a few (RFC 6591
	 * section 3.2: they may repeat). */
	for (i = 0; i < r->ndkim && i < 8; i++) {
		if (r->dkim[i].domain != NULL)
			field(out, "DKIM-Domain", r->dkim[i].domain);
		if (r->dkim[i].selector != NULL)
			field(out, "DKIM-Selector", r->dkim[i].selector);
	}
	if (r->spf_present && r->spf_domain != NULL &&
	    r->spf_aligned != ALIGN_PASS) {
		strbuf_appends(out, "SPF-DNS: txt : ");
		append_safe(out, r->spf_domain, 255);
		strbuf_appendc(out, '\n');
	}
	strbuf_appendc(out, '\n');

	/* Part 3: headers only (RFC 6591 section 3.3 allows
	 * text/rfc822-headers); never the body. */
	strbuf_appendf(out, "--%s\nContent-Type: text/rfc822-headers\n"
	    "Content-Transfer-Encoding: 7bit\n\n", boundary);
	if (f->headers != NULL)
		append_headers(out, f->headers, f->redact);
	strbuf_appendf(out, "\n--%s--\n", boundary);

	if (strbuf_failed(out))
		return FAILURE_ERR_NOMEM;
	if (strbuf_len(out) - start > FAILURE_MAX_MESSAGE) {
		strbuf_truncate(out, start);
		return FAILURE_ERR_SIZE;
	}
	return FAILURE_OK;
}

const char *
failure_strerror(enum failure_status st)
{
	switch (st) {
	case FAILURE_OK:
		return "ok";
	case FAILURE_ERR_NOMEM:
		return "out of memory";
	case FAILURE_ERR_INPUT:
		return "missing facts for a failure report";
	case FAILURE_ERR_SIZE:
		return "failure report too large";
	}
	return "unknown failure report status";
}
