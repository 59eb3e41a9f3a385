/*
 * record.c - one verdict into history rows (the aggregate report's raw
 * material, RFC 9990 section 3) and into the daemon's log line.
 *
 * Strings are cut to the row's fixed sizes; the report builder only needs
 * domain names, which always fit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "record.h"

#define COPY(dst, src) copy_cut((dst), sizeof(dst), (src))

/* src (NULL: empty) into dst[size], cut to fit.  Not snprintf("%s"):
 * about 30 copies a row made it a tenth of dmarcd's own CPU per message. */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

void
record_new_key(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	arc4random_buf(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

/* The domain part of a reverse-path, lowercased. */
static void
mail_from_domain(const char *mf, char *out, size_t len)
{
	const char *at = mf != NULL ? strrchr(mf, '@') : NULL;
	size_t i;

	copy_cut(out, len, at != NULL ? at + 1 : NULL);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
}

static void
record_common(const struct record_facts *rf, struct store_record *r)
{
	const struct verify_facts *f = rf->facts;

	memset(r, 0, sizeof(*r));
	COPY(r->node, rf->node);
	COPY(r->message_key, rf->message_key);
	r->received = rf->received;
	COPY(r->queue_id, rf->queue_id);
	if (f->have_ip)
		addr_format(&f->client_ip, r->client_ip, sizeof(r->client_ip));
	COPY(r->helo, f->helo);
	mail_from_domain(f->mail_from, r->mail_from_domain,
	    sizeof(r->mail_from_domain));
	r->pct = -1;
}

void
record_fill_skip(const struct record_facts *rf, const char *reason,
    struct store_record *r)
{
	record_common(rf, r);
	COPY(r->action, "skip");
	COPY(r->skip_reason, reason);
	COPY(r->dmarc_result, "none");
	COPY(r->disposition, "none");
}

static void
append_reason(struct store_record *r, const char *name, const char *comment)
{
	size_t n = strlen(r->reasons);

	snprintf(r->reasons + n, sizeof(r->reasons) - n, "%s%s",
	    n > 0 ? "," : "", name);
	if (comment != NULL && r->reason_comment[0] == '\0')
		COPY(r->reason_comment, comment);
}

static void
record_author(const struct verdict *v, const struct milter_action *a,
    const struct evaluate_result *e, struct store_record *r)
{
	size_t i;

	COPY(r->header_from, e->header_from);
	COPY(r->policy_domain, e->policy_domain);
	COPY(r->org_domain, e->org_domain);
	COPY(r->discovery_method, orgdomain_method_name(e->discovery_method));
	if (e->have_policy) {
		char fo[8];

		COPY(r->p, dmarc_policy_name(e->p));
		COPY(r->sp, dmarc_policy_name(e->sp));
		COPY(r->np, dmarc_policy_name(e->np));
		r->pct = e->pct;
		r->testing = e->testing;
		COPY(r->adkim, align_mode_name(e->adkim));
		COPY(r->aspf, align_mode_name(e->aspf));
		COPY(r->fo, eval_fo_string(e->fo, fo));
		COPY(r->rua, e->rua);
		COPY(r->ruf, e->ruf);
	}
	if (e->spf_present) {
		COPY(r->spf_result, eval_auth_result_name(e->spf_result));
		COPY(r->spf_domain, e->spf_domain);
		COPY(r->spf_scope, eval_spf_scope_name(e->spf_scope));
		r->spf_aligned = e->spf_aligned == ALIGN_PASS;
	}
	for (i = 0; i < e->ndkim && r->ndkim < STORE_MAX_DKIM; i++) {
		struct store_dkim *d = &r->dkim[r->ndkim++];

		COPY(d->domain, e->dkim[i].domain);
		COPY(d->selector, e->dkim[i].selector);
		COPY(d->result, eval_auth_result_name(e->dkim[i].result));
		d->aligned = e->dkim[i].aligned == ALIGN_PASS;
	}
	COPY(r->dmarc_result, dmarc_result_name(e->result));
	COPY(r->policy, e->policy != DMARC_POLICY_UNSPEC ?
	    dmarc_policy_name(e->policy) : "");
	/* What was applied to the message: the message-wide decision. */
	COPY(r->disposition, eval_disposition_name(a->applied));
	for (i = 0; i < e->nreasons; i++)
		append_reason(r, eval_override_name(e->reasons[i].type),
		    e->reasons[i].comment);
	if (a->overridden)
		append_reason(r, eval_override_name(a->override),
		    a->override_comment);
	(void)v;
}

size_t
record_fill(const struct verdict *v, const struct milter_action *a,
    const struct record_facts *rf, struct store_record *recs, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < v->nauthors && n < max; i++) {
		record_common(rf, &recs[n]);
		recs[n].author_index = (unsigned)i;
		COPY(recs[n].message_id, v->message_id);
		record_author(v, a, v->authors[i].eval, &recs[n]);
		COPY(recs[n].action, action_kind_name(a->kind));
		n++;
	}
	if (n == 0 && max > 0) {
		/* No author domain: still one row, so nothing goes unseen. */
		record_common(rf, &recs[0]);
		COPY(recs[0].message_id, v->message_id);
		COPY(recs[0].dmarc_result, dmarc_result_name(v->result));
		COPY(recs[0].disposition, eval_disposition_name(a->applied));
		COPY(recs[0].action, action_kind_name(a->kind));
		if (v->reason != NULL)
			COPY(recs[0].reason_comment, v->reason);
		if (v->spf_done) {
			COPY(recs[0].spf_result,
			    spf_result_name(v->spf_mfrom.result));
			COPY(recs[0].spf_domain, v->spf_mfrom.domain);
			COPY(recs[0].spf_scope, "mfrom");
		}
		n = 1;
	}
	return n;
}

void
record_logline(const struct verdict *v, const struct milter_action *a,
    const struct record_facts *rf, struct strbuf *sb)
{
	const struct verify_facts *f = rf->facts;
	struct strbuf tmp = STRBUF_INIT;
	char ip[ADDR_STRLEN] = "-";
	size_t i;

	strbuf_appendf(sb, "%s: dmarc", rf->queue_id != NULL ?
	    rf->queue_id : "NOQUEUE");
	strbuf_appendf(sb, " result=%s", dmarc_result_name(v->result));
	for (i = 0; i < v->nauthors; i++) {
		if (i > 0)
			strbuf_appendc(&tmp, ',');
		strbuf_appends(&tmp, v->authors[i].eval->header_from);
	}
	log_kv(sb, "from", strbuf_len(&tmp) > 0 ? strbuf_cstr(&tmp) : NULL);
	log_kv(sb, "policy", v->nauthors > 0 && v->policy !=
	    DMARC_POLICY_UNSPEC ? dmarc_policy_name(v->policy) : NULL);
	log_kv(sb, "disposition", eval_disposition_name(a->applied));
	log_kv(sb, "action", action_kind_name(a->kind));
	if (a->overridden)
		log_kv(sb, "override", eval_override_name(a->override));
	if (v->reason != NULL)
		log_kv(sb, "reason", v->reason);
	log_kv(sb, "spf", v->spf_done ? spf_result_name(v->spf_mfrom.result) :
	    NULL);
	strbuf_reset(&tmp);
	for (i = 0; i < v->nsigs; i++)
		strbuf_appendf(&tmp, "%s%s:%s", i ? "," : "",
		    dkimv_result_name(v->sigs[i].result),
		    v->sigs[i].domain != NULL ? v->sigs[i].domain : "-");
	log_kv(sb, "dkim", strbuf_len(&tmp) > 0 ? strbuf_cstr(&tmp) : "none");
	if (f->have_ip)
		addr_format(&f->client_ip, ip, sizeof(ip));
	log_kv(sb, "ip", ip);
	log_kv(sb, "helo", f->helo);
	log_kv(sb, "mailfrom", f->mail_from);
	log_kv(sb, "msgid", v->message_id);
	strbuf_release(&tmp);
}
