/*
 * action.c - the milter's decision from a verdict (RFC 9989 section 5.3
 * step 6 and section 8: local policy may override the Domain Owner's).
 *
 * Order: DNS trouble first (nothing is known), then the allow lists
 * (which only soften a DMARC fail), then the enforcement mode, then the
 * reply.  Every override is named with its RFC 7489 / RFC 9990 reason so
 * the history and the aggregate report say why.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "action.h"
#include "policy/domain.h"

/* Copy src into dst for an SMTP reply: printable ASCII only, '%' doubled
 * (libmilter passes the text through a format). */
static void
reply_text(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 3 < size; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c >= 0x7f)
			c = ' ';
		dst[o++] = (char)c;
		if (c == '%')
			dst[o++] = '%';
	}
	dst[o] = '\0';
}

/* RejectText with %d (author domain) and %p (policy) expanded. */
static void
expand(const char *tmpl, const char *domain, const char *policy,
    struct strbuf *out)
{
	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl != '%' || tmpl[1] == '\0') {
			strbuf_appendc(out, *tmpl);
			continue;
		}
		switch (*++tmpl) {
		case 'd':
			strbuf_appends(out, domain);
			break;
		case 'p':
			strbuf_appends(out, policy);
			break;
		case '%':
			strbuf_appendc(out, '%');
			break;
		default:
			strbuf_appendc(out, '%');
			strbuf_appendc(out, *tmpl);
		}
	}
}

static const char *
decisive_domain(const struct verdict *v)
{
	if (v->nauthors == 0)
		return "-";
	return v->authors[v->decisive].eval->header_from;
}

static void
set_override(struct milter_action *a, enum eval_override o,
    const char *comment)
{
	a->overridden = true;
	a->override = o;
	snprintf(a->override_comment, sizeof(a->override_comment), "%s",
	    comment);
}

static bool
in_cidrs(const struct cidr *c, size_t n, const struct verify_facts *f)
{
	size_t i;

	for (i = 0; f->have_ip && i < n; i++)
		if (cidr_contains(&c[i], &f->client_ip))
			return true;
	return false;
}

/* A verified DKIM signature from an AllowListDomains domain. */
static const char *
listed_signer(const struct milter_settings *s, const struct verdict *v)
{
	size_t i, j;

	for (i = 0; i < v->nsigs; i++) {
		if (v->sigs[i].result != DKIMV_PASS ||
		    v->sigs[i].domain == NULL)
			continue;
		for (j = 0; j < s->nlists; j++)
			if (domain_is_within(v->sigs[i].domain, s->lists[j]))
				return v->sigs[i].domain;
	}
	return NULL;
}

void
action_decide(const struct milter_settings *s, const struct verdict *v,
    const struct verify_facts *f, struct milter_action *a)
{
	enum eval_disposition disp = v->disposition;
	struct strbuf sb = STRBUF_INIT;
	char ip[ADDR_STRLEN];
	const char *signer;

	memset(a, 0, sizeof(*a));
	a->kind = ACTION_ACCEPT;
	a->applied = disp;
	if (v->skipped)
		return;

	/* RFC 9989 section 4.10.1: DNS errors are the receiver's call. */
	if (v->result == DMARC_RESULT_TEMPERROR) {
		a->applied = EVAL_DISP_NONE;
		if (!s->tempfail_dns)
			return;
		a->kind = ACTION_TEMPFAIL;
		a->rcode = "451";
		a->xcode = "4.7.0";
		strbuf_appendf(&sb, "temporary DNS failure evaluating DMARC "
		    "for %s; try again later", decisive_domain(v));
		goto text;
	}

	if (v->result == DMARC_RESULT_FAIL &&
	    (disp == EVAL_DISP_REJECT || disp == EVAL_DISP_QUARANTINE)) {
		if (in_cidrs(s->forwarders, s->nforwarders, f)) {
			addr_format(&f->client_ip, ip, sizeof(ip));
			strbuf_appendf(&sb, "client %s is in AllowForwarders",
			    ip);
			set_override(a, EVAL_OVERRIDE_TRUSTED_FORWARDER,
			    strbuf_cstr(&sb));
			disp = EVAL_DISP_NONE;
		} else if ((signer = listed_signer(s, v)) != NULL) {
			strbuf_appendf(&sb, "DKIM d=%s is in AllowListDomains",
			    signer);
			set_override(a, EVAL_OVERRIDE_MAILING_LIST,
			    strbuf_cstr(&sb));
			disp = EVAL_DISP_NONE;
		}
		strbuf_reset(&sb);
	}
	if (disp == EVAL_DISP_REJECT &&
	    s->mode == MILTER_MODE_QUARANTINE_ONLY) {
		set_override(a, EVAL_OVERRIDE_LOCAL_POLICY,
		    "EnforcementMode quarantine-only");
		disp = EVAL_DISP_QUARANTINE;
	}
	if ((disp == EVAL_DISP_REJECT || disp == EVAL_DISP_QUARANTINE) &&
	    s->mode == MILTER_MODE_MONITOR) {
		set_override(a, EVAL_OVERRIDE_LOCAL_POLICY,
		    "EnforcementMode monitor");
		disp = EVAL_DISP_NONE;
	}
	a->applied = disp;

	switch (disp) {
	case EVAL_DISP_REJECT:
		a->kind = ACTION_REJECT;
		a->rcode = "550";
		a->xcode = "5.7.1";
		if (v->nauthors == 0)
			strbuf_appendf(&sb, "message has no usable From field "
			    "(%s)", v->reason != NULL ? v->reason : "invalid");
		else
			expand(s->reject_text, decisive_domain(v),
			    dmarc_policy_name(v->policy), &sb);
		break;
	case EVAL_DISP_QUARANTINE:
		a->kind = ACTION_QUARANTINE;
		a->hold = s->qaction == MILTER_QUARANTINE_HOLD;
		a->quarantine_header = !a->hold;
		if (v->nauthors == 0)
			strbuf_appendf(&sb, "DMARC: no usable From field (%s)",
			    v->reason != NULL ? v->reason : "invalid");
		else
			strbuf_appendf(&sb, "DMARC: policy of %s (p=%s) "
			    "quarantines this message", decisive_domain(v),
			    dmarc_policy_name(v->policy));
		break;
	case EVAL_DISP_NONE:
	case EVAL_DISP_PASS:
		break;
	}
text:
	reply_text(a->text, sizeof(a->text), strbuf_cstr(&sb));
	strbuf_release(&sb);
}

const char *
action_kind_name(enum action_kind k)
{
	switch (k) {
	case ACTION_ACCEPT:
		return "accept";
	case ACTION_QUARANTINE:
		return "quarantine";
	case ACTION_REJECT:
		return "reject";
	case ACTION_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}
