/*
 * evaluate.c - the DMARC verdict for one Author Domain: alignment, the
 * DMARC result, the policy that applies and the disposition.
 *
 * Implements RFC 9989 sections 4.4 and 5.3.3 to 5.3.6 (pass if any
 * authenticated identifier aligns), 4.10.1 (p for the Author Domain, sp
 * for existing subdomains, np for non-existent ones, falling back np ->
 * sp -> p), 4.7 (t=y: one level weaker, reason policy_test_mode), RFC 7489
 * section 6.6.4 (pct sampling, reason sampled_out) and RFC 9989 Appendix
 * A.6 (pct=0 read as t=y), selected by enum eval_pct_mode.
 *
 * Left out: local policy (trusted forwarders, mailing lists, the
 * MultipleFromPolicy switch, fail-open on DNS errors); the caller applies
 * those and records them with evaluate_add_reason().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "domain.h"
#include "evaluate.h"

void
evaluate_result_free(struct evaluate_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ndkim; i++) {
		mem_free(r->dkim[i].domain);
		mem_free(r->dkim[i].selector);
	}
	for (i = 0; i < r->nreasons; i++)
		mem_free(r->reasons[i].comment);
	mem_free(r->dkim);
	mem_free(r->header_from);
	mem_free(r->policy_domain);
	mem_free(r->org_domain);
	mem_free(r->rua);
	mem_free(r->ruf);
	mem_free(r->spf_domain);
	mem_free(r);
}

int
evaluate_add_reason(struct evaluate_result *r, enum eval_override type,
    const char *comment)
{
	struct evaluate_reason *reason;

	if (r->nreasons >= EVALUATE_MAX_REASONS)
		return -1;
	reason = &r->reasons[r->nreasons];
	reason->type = type;
	reason->comment = NULL;
	if (comment != NULL && (reason->comment = mem_strndup(comment,
	    strnlen(comment, EVALUATE_MAX_COMMENT))) == NULL)
		return -1;
	r->nreasons++;
	return 0;
}

/* A copy of an identifier: normalised when it is a valid name, else as
 * given (so reports still show what was seen).  NULL only on no memory
 * (or NULL input, *copy then NULL too). */
static int
evaluate_copy_domain(const char *in, char **copy, bool *valid)
{
	*copy = NULL;
	*valid = false;
	if (in == NULL)
		return 0;
	switch (domain_normalize_dup(in, strlen(in), copy)) {
	case DOMAIN_OK:
		*valid = true;
		return 0;
	case DOMAIN_ERR_NOMEM:
		return -1;
	default:
		*copy = mem_strdup(in);
		return *copy == NULL ? -1 : 0;
	}
}

/* Comma-joined valid URIs (rua= or ruf=), NULL when there is none. */
static int
evaluate_join_uris(const struct dmarc_uri *uris, size_t n, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if (!uris[i].valid || uris[i].uri == NULL)
			continue;
		if (strbuf_len(&sb) > 0)
			strbuf_appendc(&sb, ',');
		strbuf_appends(&sb, uris[i].uri);
	}
	if (strbuf_failed(&sb)) {
		strbuf_release(&sb);
		return -1;
	}
	if (strbuf_len(&sb) == 0)
		return 0;
	*out = strbuf_steal(&sb);
	return *out == NULL ? -1 : 0;
}

/* policy_published, with the defaults RFC 9990 section 3 asks for. */
static int
evaluate_copy_published(struct evaluate_result *r,
    const struct dmarc_record *rec)
{
	r->have_policy = true;
	r->p = record_policy(rec);
	r->sp = record_subdomain_policy(rec);
	r->np = record_nxdomain_policy(rec);
	r->sp_published = rec->sp != DMARC_POLICY_UNSPEC;
	r->np_published = rec->np != DMARC_POLICY_UNSPEC;
	r->adkim = rec->adkim;
	r->aspf = rec->aspf;
	r->pct = rec->pct;
	r->fo = rec->fo;
	r->testing = rec->testing;
	r->psd = rec->psd;
	r->treated_as_none = rec->treated_as_none;
	if (evaluate_join_uris(rec->rua, rec->nrua, &r->rua) == -1 ||
	    evaluate_join_uris(rec->ruf, rec->nruf, &r->ruf) == -1)
		return -1;
	return 0;
}

/* Combine alignment outcomes: any pass wins; else an unknown one keeps
 * the question open; else fail.  ERR_DOMAIN is a fail (a name that is
 * not a domain cannot align). */
static enum align_status
evaluate_merge(enum align_status acc, enum align_status st)
{
	static const int rank[] = {
		[ALIGN_PASS] = 5, [ALIGN_ERR_TEMPFAIL] = 4,
		[ALIGN_ERR_PERMFAIL] = 3, [ALIGN_ERR_CONFIG] = 2,
		[ALIGN_FAIL] = 1, [ALIGN_ERR_DOMAIN] = 0, [ALIGN_ERR_NOMEM] = 6
	};

	if (st == ALIGN_ERR_DOMAIN)
		st = ALIGN_FAIL;
	return rank[st] > rank[acc] ? st : acc;
}

/* RFC 9989 sections 5.3.3 and 5.3.4: alignment of each identifier that
 * authenticated.  Returns -1 on no memory. */
/*
 * RFC 9989 section 5.3.6: an identifier whose check ended in temperror
 * (its DNS queries did not complete) and that would align leaves the
 * verdict open: neither pass nor fail, so temperror, never a fail that
 * applies p=reject to mail whose SPF lookup merely timed out.  One that
 * would not align cannot change the verdict.
 */
static enum align_status
evaluate_unfinished(enum eval_auth_result res, enum align_status al)
{
	if (res != EVAL_AUTH_TEMPERROR)
		return al;
	return al == ALIGN_PASS || al == ALIGN_ERR_TEMPFAIL ?
	    ALIGN_ERR_TEMPFAIL : ALIGN_FAIL;
}

static int
evaluate_align(const struct evaluate_options *opts,
    const struct discover_result *disc, struct evaluate_result *r,
    bool spf_valid, const bool *dkim_valid)
{
	const struct dmarc_record *rec = disc->record;
	const char *aorg = disc->org_status == ORGDOMAIN_OK ?
	    disc->orgdomain : NULL;
	size_t i, j;

	/*
	 * 4.4.2: "DMARC relies solely on SPF validation of the MAIL FROM
	 * identity" (which RFC 7208 section 2.4 makes postmaster@HELO for a
	 * null reverse-path); a HELO-scope result never aligns.
	 */
	r->spf_aligned = ALIGN_FAIL;
	if (r->spf_present && (r->spf_result == EVAL_AUTH_PASS ||
	    r->spf_result == EVAL_AUTH_TEMPERROR) &&
	    r->spf_scope == EVAL_SPF_MFROM) {
		r->spf_aligned = spf_valid ? align_check_spf(&opts->org,
		    r->header_from, aorg, r->spf_domain, rec->aspf) :
		    ALIGN_ERR_DOMAIN;
		if (r->spf_aligned == ALIGN_ERR_NOMEM)
			return -1;
		r->spf_aligned = evaluate_unfinished(r->spf_result,
		    r->spf_aligned);
	}

	/* 4.4.1: "it is considered to produce a DMARC pass result if any
	 * DKIM-Authenticated Identifier aligns". */
	r->dkim_aligned = ALIGN_FAIL;
	for (i = 0; i < r->ndkim; i++) {
		struct evaluate_dkim *sig = &r->dkim[i];

		sig->aligned = ALIGN_FAIL;
		if (sig->result != EVAL_AUTH_PASS &&
		    sig->result != EVAL_AUTH_TEMPERROR)
			continue;
		if (!dkim_valid[i]) {
			sig->aligned = ALIGN_ERR_DOMAIN;
			continue;
		}
		/* The same d= twice needs no second tree walk. */
		for (j = 0; j < i; j++) {
			if (r->dkim[j].result == sig->result &&
			    dkim_valid[j] &&
			    strcmp(r->dkim[j].domain, sig->domain) == 0)
				break;
		}
		if (j < i)
			sig->aligned = r->dkim[j].aligned;
		else
			sig->aligned = align_check_dkim(&opts->org,
			    r->header_from, aorg, sig->domain, rec->adkim);
		if (sig->aligned == ALIGN_ERR_NOMEM)
			return -1;
		sig->aligned = evaluate_unfinished(sig->result, sig->aligned);
		r->dkim_aligned = evaluate_merge(r->dkim_aligned,
		    sig->aligned);
	}
	return 0;
}

static enum dmarc_policy
evaluate_weaker(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_REJECT:
		return DMARC_POLICY_QUARANTINE;
	case DMARC_POLICY_QUARANTINE:
	case DMARC_POLICY_NONE:
	case DMARC_POLICY_UNSPEC:
		break;
	}
	return DMARC_POLICY_NONE;
}

static enum eval_disposition
evaluate_disposition_of(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_REJECT:
		return EVAL_DISP_REJECT;
	case DMARC_POLICY_QUARANTINE:
		return EVAL_DISP_QUARANTINE;
	case DMARC_POLICY_NONE:
	case DMARC_POLICY_UNSPEC:
		break;
	}
	return EVAL_DISP_NONE;
}

/*
 * RFC 9989 section 4.10.1: p for the Author Domain itself; for a
 * subdomain of the Organizational or Public Suffix Domain, sp if the
 * Author Domain exists, np if it does not, "In the absence of applicable
 * sp or np tags, the p tag policy is used".  Returns false when the
 * answer depends on an existence query that failed.
 */
static bool
evaluate_policy(const struct discover_result *disc, struct evaluate_result *r)
{
	const struct dmarc_record *rec = disc->record;
	enum eval_policy_tag sp_tag, np_tag;

	sp_tag = rec->sp != DMARC_POLICY_UNSPEC && !rec->treated_as_none ?
	    EVAL_TAG_SP : EVAL_TAG_P;
	np_tag = rec->np != DMARC_POLICY_UNSPEC && !rec->treated_as_none ?
	    EVAL_TAG_NP : sp_tag;
	if (disc->source == DISCOVER_SOURCE_AUTHOR) {
		r->policy = record_policy(rec);
		r->policy_tag = EVAL_TAG_P;
		return true;
	}
	switch (disc->exists) {
	case DISCOVER_EXISTS_NO:
		r->policy = record_nxdomain_policy(rec);
		r->policy_tag = np_tag;
		return true;
	case DISCOVER_EXISTS_UNKNOWN:
		r->policy = record_subdomain_policy(rec);
		r->policy_tag = sp_tag;
		/* Harmless when np and sp say the same. */
		return record_nxdomain_policy(rec) == r->policy;
	case DISCOVER_EXISTS_YES:
	case DISCOVER_EXISTS_UNCHECKED:
		break;
	}
	r->policy = record_subdomain_policy(rec);
	r->policy_tag = sp_tag;
	return true;
}

/*
 * The disposition of a failing message: the policy, made one level weaker
 * by t=y (RFC 9989 section 4.7) or, in sample mode, for a message outside
 * the pct sample (RFC 7489 section 6.6.4).  A policy of none is never
 * changed, so it carries no reason.
 */
static int
evaluate_downgrade(const struct evaluate_options *opts,
    const struct dmarc_record *rec, struct evaluate_result *r)
{
	bool pct_seen = (rec->tags_seen & (1u << RECORD_TAG_PCT)) != 0;
	struct strbuf comment = STRBUF_INIT;
	unsigned roll;
	int rc;

	r->disposition = evaluate_disposition_of(r->policy);
	if (r->policy == DMARC_POLICY_NONE)
		return 0;
	if (rec->testing) {
		r->disposition = evaluate_disposition_of(
		    evaluate_weaker(r->policy));
		return evaluate_add_reason(r, EVAL_OVERRIDE_POLICY_TEST_MODE,
		    "t=y");
	}
	/* Appendix A.6: t=y is "analogous" to pct=0. */
	if (opts->pct_mode == EVAL_PCT_TESTING && pct_seen && rec->pct == 0) {
		r->disposition = evaluate_disposition_of(
		    evaluate_weaker(r->policy));
		return evaluate_add_reason(r, EVAL_OVERRIDE_POLICY_TEST_MODE,
		    "pct=0");
	}
	if (opts->pct_mode != EVAL_PCT_SAMPLE || rec->pct >= 100)
		return 0;
	/* RFC 7489 section 6.6.4: apply the policy to pct percent of the
	 * failing messages, the next weaker one to the rest. */
	roll = opts->random != NULL ? opts->random(opts->random_ctx) :
	    arc4random_uniform(100);
	if ((int)(roll % 100) < rec->pct)
		return 0;
	r->disposition = evaluate_disposition_of(evaluate_weaker(r->policy));
	strbuf_appendf(&comment, "outside the pct=%d sample", rec->pct);
	rc = strbuf_failed(&comment) ? -1 : evaluate_add_reason(r,
	    EVAL_OVERRIDE_SAMPLED_OUT, strbuf_cstr(&comment));
	strbuf_release(&comment);
	return rc;
}

static int
evaluate_copy_inputs(const struct evaluate_input *in,
    struct evaluate_result *r, bool *spf_valid, bool *dkim_valid)
{
	size_t i, n;
	bool valid;

	r->spf_present = in->spf_present;
	r->spf_result = in->spf_result;
	r->spf_scope = in->spf_scope;
	*spf_valid = false;
	if (in->spf_present &&
	    evaluate_copy_domain(in->spf_domain, &r->spf_domain, spf_valid) ==
	    -1)
		return -1;

	n = in->dkim != NULL ? in->ndkim : 0;
	if (n > EVALUATE_MAX_DKIM) {
		r->ndkim_dropped = n - EVALUATE_MAX_DKIM;
		n = EVALUATE_MAX_DKIM;
	}
	if (n == 0)
		return 0;
	if ((r->dkim = mem_calloc(n, sizeof(*r->dkim))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		struct evaluate_dkim *sig = &r->dkim[r->ndkim++];

		sig->result = in->dkim[i].result;
		sig->aligned = ALIGN_FAIL;
		if (evaluate_copy_domain(in->dkim[i].domain, &sig->domain,
		    &valid) == -1)
			return -1;
		dkim_valid[i] = valid;
		if (in->dkim[i].selector != NULL && (sig->selector =
		    mem_strdup(in->dkim[i].selector)) == NULL)
			return -1;
	}
	return 0;
}

enum evaluate_status
evaluate_message(const struct evaluate_options *opts,
    const struct evaluate_input *in, struct evaluate_result **out)
{
	const struct discover_result *disc = in->discovery;
	bool dkim_valid[EVALUATE_MAX_DKIM], spf_valid;
	struct evaluate_result *r;
	enum evaluate_status st = EVALUATE_ERR_NOMEM;

	*out = NULL;
	if (disc == NULL || in->author == NULL || disc->author == NULL)
		return EVALUATE_ERR_INPUT;
	if ((r = mem_calloc(1, sizeof(*r))) == NULL)
		return EVALUATE_ERR_NOMEM;
	/* Normalise at the boundary: "EXAMPLE.com." is example.com. */
	switch (domain_normalize_dup(in->author, strlen(in->author),
	    &r->header_from)) {
	case DOMAIN_OK:
		break;
	case DOMAIN_ERR_NOMEM:
		goto fail;
	default:
		st = EVALUATE_ERR_DOMAIN;
		goto fail;
	}
	if (strcmp(r->header_from, disc->author) != 0) {
		st = EVALUATE_ERR_INPUT;
		goto fail;
	}
	r->discovery_method = disc->method;
	r->discovery = disc->status;
	r->source = disc->source;
	r->author_exists = disc->exists;
	if ((disc->policy_domain != NULL && disc->status == DISCOVER_FOUND &&
	    (r->policy_domain = mem_strdup(disc->policy_domain)) == NULL) ||
	    (disc->orgdomain != NULL &&
	    (r->org_domain = mem_strdup(disc->orgdomain)) == NULL))
		goto fail;
	if (evaluate_copy_inputs(in, r, &spf_valid, dkim_valid) == -1)
		goto fail;
	r->spf_aligned = ALIGN_FAIL;
	r->dkim_aligned = ALIGN_FAIL;

	switch (disc->status) {
	case DISCOVER_FOUND:
		break;
	case DISCOVER_TEMPERROR:
		/* 5.3.6: "the message cannot be considered to pass or
		 * fail"; what to do is the caller's choice. */
		r->result = DMARC_RESULT_TEMPERROR;
		goto done;
	case DISCOVER_PERMERROR:
		r->result = DMARC_RESULT_PERMERROR;
		goto done;
	default:
		/* 5.3.2: no record, "DMARC validation terminates". */
		r->result = DMARC_RESULT_NONE;
		goto done;
	}

	if (evaluate_copy_published(r, disc->record) == -1 ||
	    evaluate_align(opts, disc, r, spf_valid, dkim_valid) == -1)
		goto fail;
	/* 5.3.5: pass if one or more Authenticated Identifiers align. */
	if (r->spf_aligned == ALIGN_PASS || r->dkim_aligned == ALIGN_PASS) {
		r->result = DMARC_RESULT_PASS;
		(void)evaluate_policy(disc, r);
		r->disposition = EVAL_DISP_PASS;
		goto done;
	}
	/* 5.3.6: a DNS query this verdict needed did not complete. */
	switch (evaluate_merge(evaluate_merge(ALIGN_FAIL, r->spf_aligned),
	    r->dkim_aligned)) {
	case ALIGN_ERR_TEMPFAIL:
		r->result = DMARC_RESULT_TEMPERROR;
		(void)evaluate_policy(disc, r);
		goto done;
	case ALIGN_ERR_PERMFAIL:
	case ALIGN_ERR_CONFIG:
		r->result = DMARC_RESULT_PERMERROR;
		(void)evaluate_policy(disc, r);
		goto done;
	default:
		break;
	}
	r->result = DMARC_RESULT_FAIL;
	if (!evaluate_policy(disc, r)) {
		/* sp or np: the existence query failed and they differ. */
		r->result = DMARC_RESULT_TEMPERROR;
		goto done;
	}
	if (evaluate_downgrade(opts, disc->record, r) == -1)
		goto fail;
done:
	*out = r;
	return EVALUATE_OK;
fail:
	evaluate_result_free(r);
	return st;
}

/* Order of strength, for evaluate_combine(). */
static int
evaluate_result_rank(enum dmarc_result res)
{
	switch (res) {
	case DMARC_RESULT_FAIL:
		return 4;
	case DMARC_RESULT_TEMPERROR:
		return 3;
	case DMARC_RESULT_PERMERROR:
		return 2;
	case DMARC_RESULT_PASS:
		return 1;
	case DMARC_RESULT_NONE:
		break;
	}
	return 0;
}

static int
evaluate_disposition_rank(enum eval_disposition d)
{
	switch (d) {
	case EVAL_DISP_REJECT:
		return 3;
	case EVAL_DISP_QUARANTINE:
		return 2;
	case EVAL_DISP_NONE:
		return 1;
	case EVAL_DISP_PASS:
		break;
	}
	return 0;
}

void
evaluate_combine(const struct evaluate_result *const *res, size_t n,
    struct evaluate_verdict *v)
{
	size_t i;

	v->result = DMARC_RESULT_NONE;
	v->disposition = EVAL_DISP_NONE;
	v->decisive = 0;
	for (i = 0; i < n; i++) {
		if (evaluate_result_rank(res[i]->result) >
		    evaluate_result_rank(v->result))
			v->result = res[i]->result;
		if (i == 0 || evaluate_disposition_rank(res[i]->disposition) >
		    evaluate_disposition_rank(v->disposition)) {
			v->disposition = res[i]->disposition;
			v->decisive = i;
		}
	}
	/* Among equally strong dispositions, name the first failing one. */
	for (i = 0; i < n; i++) {
		if (res[i]->result == DMARC_RESULT_FAIL &&
		    res[i]->disposition == v->disposition) {
			v->decisive = i;
			break;
		}
	}
}

const char *
eval_fo_string(unsigned fo, char buf[8])
{
	static const struct {
		unsigned flag;
		char	 c;
	} order[] = { { DMARC_FO_0, '0' }, { DMARC_FO_1, '1' },
	    { DMARC_FO_D, 'd' }, { DMARC_FO_S, 's' } };
	size_t i, n = 0;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(fo & order[i].flag))
			continue;
		if (n > 0)
			buf[n++] = ':';
		buf[n++] = order[i].c;
	}
	if (n == 0)
		buf[n++] = '0';
	buf[n] = '\0';
	return buf;
}

static const char *
evaluate_psd_name(enum dmarc_psd psd)
{
	return psd == DMARC_PSD_Y ? "y" : psd == DMARC_PSD_N ? "n" : "u";
}

static void
evaluate_json_aligned(struct json *j, enum align_status st)
{
	json_kv_bool(j, "aligned", st == ALIGN_PASS);
	json_kv_string(j, "alignment", align_status_name(st));
}

void
evaluate_write_json(const struct evaluate_result *r, struct json *j)
{
	char fo[8];
	size_t i;

	json_object_begin(j);
	json_kv_string(j, "header_from", r->header_from);
	json_kv_string(j, "policy_domain", r->policy_domain);
	json_kv_string(j, "org_domain", r->org_domain);
	json_kv_string(j, "discovery_method",
	    orgdomain_method_name(r->discovery_method));
	json_kv_string(j, "discovery", discover_status_name(r->discovery));
	json_kv_string(j, "policy_source", discover_source_name(r->source));
	json_kv_string(j, "author_exists",
	    discover_exists_name(r->author_exists));

	json_key(j, "policy_published");
	if (r->have_policy) {
		json_object_begin(j);
		json_kv_string(j, "domain", r->policy_domain);
		json_kv_string(j, "p", dmarc_policy_name(r->p));
		json_kv_string(j, "sp", dmarc_policy_name(r->sp));
		json_kv_string(j, "np", dmarc_policy_name(r->np));
		json_kv_bool(j, "sp_published", r->sp_published);
		json_kv_bool(j, "np_published", r->np_published);
		json_kv_string(j, "adkim", align_mode_name(r->adkim));
		json_kv_string(j, "aspf", align_mode_name(r->aspf));
		json_kv_int(j, "pct", r->pct);
		json_kv_string(j, "fo", eval_fo_string(r->fo, fo));
		json_kv_string(j, "testing", r->testing ? "y" : "n");
		json_kv_string(j, "psd", evaluate_psd_name(r->psd));
		json_kv_bool(j, "treated_as_none", r->treated_as_none);
		json_kv_string(j, "rua", r->rua);
		json_kv_string(j, "ruf", r->ruf);
		json_object_end(j);
	} else
		json_null(j);

	json_key(j, "auth_results");
	json_object_begin(j);
	json_key(j, "spf");
	if (r->spf_present) {
		json_object_begin(j);
		json_kv_string(j, "domain", r->spf_domain);
		json_kv_string(j, "scope", eval_spf_scope_name(r->spf_scope));
		json_kv_string(j, "result",
		    eval_auth_result_name(r->spf_result));
		evaluate_json_aligned(j, r->spf_aligned);
		json_object_end(j);
	} else
		json_null(j);
	json_key(j, "dkim");
	json_array_begin(j);
	for (i = 0; i < r->ndkim; i++) {
		json_object_begin(j);
		json_kv_string(j, "domain", r->dkim[i].domain);
		json_kv_string(j, "selector", r->dkim[i].selector);
		json_kv_string(j, "result",
		    eval_auth_result_name(r->dkim[i].result));
		evaluate_json_aligned(j, r->dkim[i].aligned);
		json_object_end(j);
	}
	json_array_end(j);
	json_kv_int(j, "dkim_dropped", (int64_t)r->ndkim_dropped);
	json_object_end(j);

	json_key(j, "policy_evaluated");
	json_object_begin(j);
	json_kv_string(j, "dmarc", dmarc_result_name(r->result));
	json_kv_string(j, "policy", r->policy_tag == EVAL_TAG_NONE ? NULL :
	    dmarc_policy_name(r->policy));
	json_kv_string(j, "policy_tag", eval_policy_tag_name(r->policy_tag));
	json_kv_string(j, "disposition", eval_disposition_name(r->disposition));
	json_kv_string(j, "dkim", r->dkim_aligned == ALIGN_PASS ? "pass" :
	    "fail");
	json_kv_string(j, "spf", r->spf_aligned == ALIGN_PASS ? "pass" :
	    "fail");
	json_key(j, "reasons");
	json_array_begin(j);
	for (i = 0; i < r->nreasons; i++) {
		json_object_begin(j);
		json_kv_string(j, "type",
		    eval_override_name(r->reasons[i].type));
		json_kv_string(j, "comment", r->reasons[i].comment);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_object_end(j);
}

/* Untrusted text (identifiers as given, URIs) goes through escaping. */
static void
evaluate_text_str(struct strbuf *sb, const char *s)
{
	if (s == NULL)
		strbuf_appends(sb, "-");
	else
		strbuf_append_escaped(sb, s, strlen(s), 256);
}

void
evaluate_write_text(const struct evaluate_result *r, struct strbuf *sb)
{
	char fo[8];
	size_t i;

	strbuf_appendf(sb, "header from     %s\n", r->header_from);
	strbuf_appendf(sb, "discovery       %s, %s\n",
	    orgdomain_method_name(r->discovery_method),
	    discover_strerror(r->discovery));
	strbuf_appends(sb, "policy domain   ");
	evaluate_text_str(sb, r->policy_domain);
	if (r->policy_domain != NULL)
		strbuf_appendf(sb, " (%s)", discover_source_name(r->source));
	strbuf_appends(sb, "\norg domain      ");
	evaluate_text_str(sb, r->org_domain);
	strbuf_appendc(sb, '\n');
	if (r->author_exists != DISCOVER_EXISTS_UNCHECKED)
		strbuf_appendf(sb, "author exists   %s\n",
		    discover_exists_name(r->author_exists));
	if (r->have_policy) {
		strbuf_appendf(sb, "published       p=%s sp=%s np=%s adkim=%s "
		    "aspf=%s pct=%d fo=%s t=%s psd=%s%s\n",
		    dmarc_policy_name(r->p), dmarc_policy_name(r->sp),
		    dmarc_policy_name(r->np), align_mode_name(r->adkim),
		    align_mode_name(r->aspf), r->pct,
		    eval_fo_string(r->fo, fo), r->testing ? "y" : "n",
		    evaluate_psd_name(r->psd),
		    r->treated_as_none ? " (treated as p=none)" : "");
		if (r->rua != NULL) {
			strbuf_appends(sb, "rua             ");
			evaluate_text_str(sb, r->rua);
			strbuf_appendc(sb, '\n');
		}
		if (r->ruf != NULL) {
			strbuf_appends(sb, "ruf             ");
			evaluate_text_str(sb, r->ruf);
			strbuf_appendc(sb, '\n');
		}
	}
	strbuf_appends(sb, "spf             ");
	if (r->spf_present) {
		strbuf_appendf(sb, "%s (%s ",
		    eval_auth_result_name(r->spf_result),
		    eval_spf_scope_name(r->spf_scope));
		evaluate_text_str(sb, r->spf_domain);
		strbuf_appendf(sb, "), %s\n", align_strerror(r->spf_aligned));
	} else
		strbuf_appends(sb, "not evaluated\n");
	for (i = 0; i < r->ndkim; i++) {
		strbuf_appendf(sb, "dkim            %s (d=",
		    eval_auth_result_name(r->dkim[i].result));
		evaluate_text_str(sb, r->dkim[i].domain);
		strbuf_appends(sb, " s=");
		evaluate_text_str(sb, r->dkim[i].selector);
		strbuf_appendf(sb, "), %s\n",
		    align_strerror(r->dkim[i].aligned));
	}
	if (r->ndkim == 0)
		strbuf_appends(sb, "dkim            no signatures\n");
	if (r->ndkim_dropped > 0)
		strbuf_appendf(sb, "dkim            %zu more signatures not "
		    "considered\n", r->ndkim_dropped);
	strbuf_appendf(sb, "dmarc           %s\n",
	    dmarc_result_name(r->result));
	if (r->policy_tag != EVAL_TAG_NONE)
		strbuf_appendf(sb, "policy          %s (from %s)\n",
		    dmarc_policy_name(r->policy),
		    eval_policy_tag_name(r->policy_tag));
	strbuf_appendf(sb, "disposition     %s",
	    eval_disposition_name(r->disposition));
	for (i = 0; i < r->nreasons; i++) {
		strbuf_appendf(sb, "%s%s", i == 0 ? " (" : ", ",
		    eval_override_name(r->reasons[i].type));
		if (r->reasons[i].comment != NULL) {
			strbuf_appendc(sb, ' ');
			evaluate_text_str(sb, r->reasons[i].comment);
		}
	}
	strbuf_appends(sb, r->nreasons > 0 ? ")\n" : "\n");
}

const char *
evaluate_strerror(enum evaluate_status st)
{
	switch (st) {
	case EVALUATE_OK:
		return "ok";
	case EVALUATE_ERR_DOMAIN:
		return "invalid author domain";
	case EVALUATE_ERR_INPUT:
		return "the discovery result is missing or for another domain";
	case EVALUATE_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown evaluation status";
}

static const char *const auth_result_names[] = {
	[EVAL_AUTH_NONE] = "none", [EVAL_AUTH_PASS] = "pass",
	[EVAL_AUTH_FAIL] = "fail", [EVAL_AUTH_SOFTFAIL] = "softfail",
	[EVAL_AUTH_NEUTRAL] = "neutral", [EVAL_AUTH_POLICY] = "policy",
	[EVAL_AUTH_TEMPERROR] = "temperror", [EVAL_AUTH_PERMERROR] = "permerror"
};

const char *
eval_auth_result_name(enum eval_auth_result res)
{
	if ((unsigned)res >= sizeof(auth_result_names) /
	    sizeof(auth_result_names[0]))
		return "unknown";
	return auth_result_names[res];
}

int
eval_auth_result_parse(const char *s, enum eval_auth_result *res)
{
	size_t i;

	for (i = 0; i < sizeof(auth_result_names) /
	    sizeof(auth_result_names[0]); i++) {
		if (strcasecmp(s, auth_result_names[i]) == 0) {
			*res = (enum eval_auth_result)i;
			return 0;
		}
	}
	return -1;
}

const char *
eval_spf_scope_name(enum eval_spf_scope scope)
{
	return scope == EVAL_SPF_HELO ? "helo" : "mfrom";
}

const char *
dmarc_result_name(enum dmarc_result res)
{
	switch (res) {
	case DMARC_RESULT_NONE:
		return "none";
	case DMARC_RESULT_PASS:
		return "pass";
	case DMARC_RESULT_FAIL:
		return "fail";
	case DMARC_RESULT_TEMPERROR:
		return "temperror";
	case DMARC_RESULT_PERMERROR:
		return "permerror";
	}
	return "unknown";
}

const char *
eval_disposition_name(enum eval_disposition d)
{
	switch (d) {
	case EVAL_DISP_NONE:
		return "none";
	case EVAL_DISP_PASS:
		return "pass";
	case EVAL_DISP_QUARANTINE:
		return "quarantine";
	case EVAL_DISP_REJECT:
		return "reject";
	}
	return "unknown";
}

static const char *const override_names[] = {
	[EVAL_OVERRIDE_FORWARDED] = "forwarded",
	[EVAL_OVERRIDE_SAMPLED_OUT] = "sampled_out",
	[EVAL_OVERRIDE_TRUSTED_FORWARDER] = "trusted_forwarder",
	[EVAL_OVERRIDE_MAILING_LIST] = "mailing_list",
	[EVAL_OVERRIDE_LOCAL_POLICY] = "local_policy",
	[EVAL_OVERRIDE_OTHER] = "other",
	[EVAL_OVERRIDE_POLICY_TEST_MODE] = "policy_test_mode"
};

const char *
eval_override_name(enum eval_override o)
{
	if ((unsigned)o >= sizeof(override_names) / sizeof(override_names[0]))
		return "unknown";
	return override_names[o];
}

int
eval_override_parse(const char *s, enum eval_override *o)
{
	size_t i;

	for (i = 0; i < sizeof(override_names) / sizeof(override_names[0]);
	    i++) {
		if (strcmp(s, override_names[i]) == 0) {
			*o = (enum eval_override)i;
			return 0;
		}
	}
	return -1;
}

const char *
eval_pct_mode_name(enum eval_pct_mode m)
{
	switch (m) {
	case EVAL_PCT_SAMPLE:
		return "sample";
	case EVAL_PCT_TESTING:
		return "testing";
	case EVAL_PCT_IGNORE:
		return "ignore";
	}
	return "unknown";
}

int
eval_pct_mode_parse(const char *s, enum eval_pct_mode *m)
{
	if (strcmp(s, "sample") == 0)
		*m = EVAL_PCT_SAMPLE;
	else if (strcmp(s, "testing") == 0)
		*m = EVAL_PCT_TESTING;
	else if (strcmp(s, "ignore") == 0)
		*m = EVAL_PCT_IGNORE;
	else
		return -1;
	return 0;
}

const char *
eval_policy_tag_name(enum eval_policy_tag t)
{
	switch (t) {
	case EVAL_TAG_NONE:
		return "none";
	case EVAL_TAG_P:
		return "p";
	case EVAL_TAG_SP:
		return "sp";
	case EVAL_TAG_NP:
		return "np";
	}
	return "unknown";
}
