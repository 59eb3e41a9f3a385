/*
 * discover.c - DMARC policy discovery for one Author Domain.
 *
 * Implements RFC 9989 section 4.10.1 (treewalk: the Author Domain's
 * record, else the Organizational Domain's, else the Public Suffix
 * Domain's) and RFC 7489 section 6.6.3 (psl: the Author Domain's record,
 * else the Organizational Domain's from the public suffix list), plus the
 * existence test of RFC 9989 section 3.2.13 / Appendix A.4 that decides
 * whether np applies.
 *
 * Deliberately left out: alignment (align.c), choosing p/sp/np and the
 * disposition (evaluate.c), and DNS error policy (fail open or closed is
 * the caller's choice; this file only reports TEMPERROR or PERMERROR).
 */
#include "config.h"

#include <string.h>

#include "common/mem.h"
#include "discover.h"
#include "domain.h"

void
discover_result_free(struct discover_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nsteps; i++)
		orgdomain_step_clear(&res->steps[i]);
	orgdomain_walk_free(res->walk_);
	record_free(res->records_[0]);
	record_free(res->records_[1]);
	mem_free(res->author);
	mem_free(res);
}

static enum discover_status
discover_dns_error(const struct orgdomain_step *step)
{
	return step->status == LOOKUP_TEMPFAIL ? DISCOVER_TEMPERROR :
	    DISCOVER_PERMERROR;
}

/* RFC 9989 section 4.10.1 over the walk of orgdomain.c. */
static enum discover_status
discover_treewalk(const struct orgdomain_config *cfg, const char *author,
    struct discover_result *res)
{
	struct orgdomain_walk *walk;
	const struct orgdomain_node *node;
	size_t i;

	/*
	 * One walk serves both purposes: its first query is _dmarc.<author>
	 * (policy discovery), and starting at the Author Domain is what
	 * section 4.10.2 asks for the Organizational Domain, so that a
	 * psd=y record at the parent is "other than the one for the domain
	 * where the tree walk started".  For names of more than eight
	 * labels the second query is the seven-label suffix, as 4.10.1
	 * ("shortening the Author Domain as described starting in step 3")
	 * and 4.10 step 4 agree.
	 */
	switch (orgdomain_walk(author, cfg->lookup, cfg->lookup_ctx, &walk)) {
	case ORGDOMAIN_ERR_DOMAIN:
		return DISCOVER_ERR_DOMAIN;
	case ORGDOMAIN_ERR_NOMEM:
		return DISCOVER_ERR_NOMEM;
	case ORGDOMAIN_ERR_CONFIG:
		return DISCOVER_ERR_CONFIG;
	default:
		break;
	}
	res->walk_ = walk;
	res->author = walk->start;	/* node domains point into it */
	walk->start = NULL;
	for (i = 0; i < walk->nsteps; i++) {
		res->steps[i] = walk->steps[i];
		memset(&walk->steps[i], 0, sizeof(walk->steps[i]));
	}
	res->nsteps = walk->nsteps;
	walk->nsteps = 0;
	res->org_status = walk->status;
	res->orgdomain = walk->orgdomain;
	res->org_rule = walk->rule;

	/* "If a valid DMARC Policy Record is found there, then this is the
	 * DMARC Policy Record to be applied to the message". */
	if (walk->nnodes > 0 && walk->nodes[0].domain == res->author) {
		node = &walk->nodes[0];
		res->record = node->record;
		res->record_status = node->rstatus;
		res->policy_domain = node->domain;
		res->source = DISCOVER_SOURCE_AUTHOR;
		return DISCOVER_FOUND;
	}
	/* Otherwise the record depends on the Organizational Domain, which
	 * depends on every answer of the walk. */
	if (walk->status != ORGDOMAIN_OK)
		return discover_dns_error(&res->steps[res->nsteps - 1]);

	/* "The Organizational Domain of the Author Domain" */
	for (i = 0; i < walk->nnodes; i++) {
		node = &walk->nodes[i];
		if (strcmp(node->domain, walk->orgdomain) == 0) {
			res->record = node->record;
			res->record_status = node->rstatus;
			res->policy_domain = node->domain;
			res->source = DISCOVER_SOURCE_ORG;
			return DISCOVER_FOUND;
		}
	}
	/* "The Public Suffix Domain of the Author Domain": the psd=y record
	 * that stopped the walk (rule 2 chose the name below it, which has
	 * no record of its own). */
	if (walk->nnodes > 0) {
		node = &walk->nodes[walk->nnodes - 1];
		if (node->record->psd == DMARC_PSD_Y) {
			res->record = node->record;
			res->record_status = node->rstatus;
			res->policy_domain = node->domain;
			res->source = DISCOVER_SOURCE_PSD;
			return DISCOVER_FOUND;
		}
	}
	/* "If the set produced by the DNS Tree Walk contains no DMARC Policy
	 * Record ... Mail Receivers MUST NOT apply the DMARC mechanism". */
	return DISCOVER_NONE;
}

/* RFC 7489 section 6.6.3, steps 1 to 5. */
static enum discover_status
discover_psl(const struct orgdomain_config *cfg, const char *author,
    struct discover_result *res)
{
	struct orgdomain_step *step;
	enum record_status rst;
	struct dmarc_record *rec;
	char *org = NULL;
	size_t alen, olen;

	switch (domain_normalize_dup(author, strlen(author), &res->author)) {
	case DOMAIN_OK:
		break;
	case DOMAIN_ERR_NOMEM:
		return DISCOVER_ERR_NOMEM;
	default:
		return DISCOVER_ERR_DOMAIN;
	}

	/* The Organizational Domain is always a suffix of the author. */
	res->org_status = orgdomain_psl_lookup(cfg->psl, res->author, &org);
	if (res->org_status == ORGDOMAIN_ERR_NOMEM)
		return DISCOVER_ERR_NOMEM;
	if (res->org_status == ORGDOMAIN_OK) {
		alen = strlen(res->author);
		olen = strlen(org);
		if (olen <= alen && domain_is_within(res->author, org)) {
			res->orgdomain = res->author + (alen - olen);
			res->org_rule = ORGDOMAIN_RULE_PSL;
		} else
			res->org_status = ORGDOMAIN_ERR_DOMAIN;
		mem_free(org);
	}

	/* Step 1: _dmarc.<author>; step 2: non-DMARC TXT discarded. */
	step = &res->steps[res->nsteps];
	if (orgdomain_query_record(cfg->lookup, cfg->lookup_ctx, res->author,
	    step, &rec, &rst) == -1) {
		orgdomain_step_clear(step);
		return DISCOVER_ERR_NOMEM;
	}
	res->nsteps++;
	if (step->outcome == ORGDOMAIN_STEP_DNS_ERROR)
		return discover_dns_error(step);
	if (rec != NULL) {
		res->records_[0] = rec;
		res->record = rec;
		res->record_status = rst;
		res->policy_domain = res->author;
		res->source = DISCOVER_SOURCE_AUTHOR;
		return DISCOVER_FOUND;
	}
	/* Step 5: several records (not an empty set) end discovery; unlike
	 * RFC 9989, RFC 7489 does not go on to the Organizational Domain. */
	if (step->outcome == ORGDOMAIN_STEP_MULTIPLE)
		return DISCOVER_NONE;
	/* Step 3: "If the set is now empty", ask the Organizational Domain,
	 * unless the author is that domain or a public suffix. */
	if (res->orgdomain == NULL || res->orgdomain == res->author)
		return DISCOVER_NONE;
	step = &res->steps[res->nsteps];
	if (orgdomain_query_record(cfg->lookup, cfg->lookup_ctx,
	    res->orgdomain, step, &rec, &rst) == -1) {
		orgdomain_step_clear(step);
		return DISCOVER_ERR_NOMEM;
	}
	res->nsteps++;
	if (step->outcome == ORGDOMAIN_STEP_DNS_ERROR)
		return discover_dns_error(step);
	if (rec == NULL)
		return DISCOVER_NONE;
	res->records_[1] = rec;
	res->record = rec;
	res->record_status = rst;
	res->policy_domain = res->orgdomain;
	res->source = DISCOVER_SOURCE_ORG;
	return DISCOVER_FOUND;
}

/*
 * RFC 9989 section 3.2.13 and Appendix A.4: NXDOMAIN for the Author Domain
 * means it does not exist; NODATA means it does.  Returns -1 on no memory.
 */
static int
discover_existence(const struct orgdomain_config *cfg,
    struct discover_result *res)
{
	struct orgdomain_step *step = &res->steps[0];
	struct lookup_answer ans;

	/*
	 * RFC 8020: if _dmarc.<author> answered NOERROR (with or without
	 * data), a name below the author exists, so the author does too.
	 * Only an NXDOMAIN there (or a name too long to ask) needs the
	 * separate existence query.
	 */
	if (res->nsteps > 0 && (step->status == LOOKUP_OK ||
	    step->status == LOOKUP_NODATA) &&
	    step->outcome != ORGDOMAIN_STEP_TOO_LONG) {
		res->exists = DISCOVER_EXISTS_YES;
		return 0;
	}
	if (res->nsteps >= DISCOVER_MAX_STEPS) {	/* cannot happen */
		res->exists = DISCOVER_EXISTS_UNKNOWN;
		return 0;
	}
	step = &res->steps[res->nsteps];
	memset(step, 0, sizeof(*step));
	if ((step->qname = mem_strdup(res->author)) == NULL)
		return -1;
	res->nsteps++;
	step->qtype = LOOKUP_EXISTS;
	lookup_answer_init(&ans);
	(void)cfg->lookup(cfg->lookup_ctx, step->qname, LOOKUP_EXISTS, &ans);
	step->status = ans.status;
	lookup_answer_clear(&ans);
	switch (step->status) {
	case LOOKUP_OK:
	case LOOKUP_NODATA:
		step->outcome = ORGDOMAIN_STEP_EXISTS;
		step->note = "the Author Domain exists: sp (else p) applies";
		res->exists = DISCOVER_EXISTS_YES;
		break;
	case LOOKUP_NXDOMAIN:
		step->outcome = ORGDOMAIN_STEP_NOT_EXISTS;
		step->note = "the Author Domain does not exist: np (else sp, "
		    "else p) applies";
		res->exists = DISCOVER_EXISTS_NO;
		break;
	default:
		step->outcome = ORGDOMAIN_STEP_DNS_ERROR;
		step->note = "existence unknown: DNS failure";
		res->exists = DISCOVER_EXISTS_UNKNOWN;
		break;
	}
	return 0;
}

enum discover_status
discover_policy(const struct orgdomain_config *cfg, const char *author,
    struct discover_result **out)
{
	struct discover_result *res;
	enum discover_status st;

	*out = NULL;
	if (cfg == NULL || cfg->lookup == NULL ||
	    (cfg->method == ORGDOMAIN_PSL && cfg->psl == NULL))
		return DISCOVER_ERR_CONFIG;
	if (author == NULL)
		return DISCOVER_ERR_DOMAIN;
	if ((res = mem_calloc(1, sizeof(*res))) == NULL)
		return DISCOVER_ERR_NOMEM;
	res->method = cfg->method;
	if (cfg->method == ORGDOMAIN_PSL)
		st = discover_psl(cfg, author, res);
	else
		st = discover_treewalk(cfg, author, res);

	/*
	 * RFC 9989 section 4.10.1: a record with an invalid p, sp or np and
	 * no valid rua means "the Mail Receiver applies no DMARC processing
	 * to this message" (record_parse() says RECORD_ERR_INVALID; with a
	 * valid rua it says RECORD_OK and treated_as_none).  A record over
	 * the size cap cannot be evaluated either.
	 */
	if (st == DISCOVER_FOUND && res->record_status != RECORD_OK)
		st = DISCOVER_PERMERROR;
	/* sp and np apply only below the policy domain (4.10.1). */
	if (st == DISCOVER_FOUND && res->source != DISCOVER_SOURCE_AUTHOR &&
	    discover_existence(cfg, res) == -1)
		st = DISCOVER_ERR_NOMEM;

	if (st == DISCOVER_ERR_DOMAIN || st == DISCOVER_ERR_NOMEM ||
	    st == DISCOVER_ERR_CONFIG) {
		discover_result_free(res);
		return st;
	}
	res->status = st;
	*out = res;
	return st;
}

static const char *
discover_psd_name(enum dmarc_psd psd)
{
	switch (psd) {
	case DMARC_PSD_Y:
		return "y";
	case DMARC_PSD_N:
		return "n";
	case DMARC_PSD_U:
		break;
	}
	return "u";
}

void
discover_write_json(const struct discover_result *res, struct json *j)
{
	const struct orgdomain_step *step;
	size_t i;

	json_object_begin(j);
	json_kv_string(j, "author_domain", res->author);
	json_kv_string(j, "discovery_method",
	    orgdomain_method_name(res->method));
	json_kv_string(j, "status", discover_status_name(res->status));
	json_kv_string(j, "policy_domain", res->policy_domain);
	json_kv_string(j, "source", discover_source_name(res->source));
	json_key(j, "record");
	if (res->record != NULL)
		json_stringn(j, res->record->raw, res->record->raw_len);
	else
		json_null(j);
	json_kv_string(j, "record_status", res->record != NULL ?
	    record_strerror(res->record_status) : NULL);
	json_kv_string(j, "org_domain", res->orgdomain);
	json_kv_string(j, "org_status", orgdomain_status_name(res->org_status));
	json_kv_string(j, "org_rule", orgdomain_rule_name(res->org_rule));
	json_kv_string(j, "author_exists", discover_exists_name(res->exists));
	json_key(j, "steps");
	json_array_begin(j);
	for (i = 0; i < res->nsteps; i++) {
		step = &res->steps[i];
		json_object_begin(j);
		json_kv_string(j, "qname", step->qname);
		json_kv_string(j, "type", step->qtype == LOOKUP_TXT ? "TXT" :
		    "A");
		json_kv_string(j, "status", lookup_status_name(step->status));
		json_kv_string(j, "outcome",
		    orgdomain_outcome_name(step->outcome));
		if (step->qtype == LOOKUP_TXT) {
			json_kv_int(j, "txt_records", (int64_t)step->ntxt);
			json_kv_int(j, "dmarc_records", (int64_t)step->ndmarc);
		}
		if (step->outcome == ORGDOMAIN_STEP_RECORD)
			json_kv_string(j, "psd", discover_psd_name(step->psd));
		json_kv_bool(j, "stop", step->stop);
		json_kv_string(j, "note", step->note);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

void
discover_write_text(const struct discover_result *res, struct strbuf *sb)
{
	const struct orgdomain_step *step;
	size_t i;

	strbuf_appendf(sb, "author domain   %s\n", res->author);
	strbuf_appendf(sb, "method          %s\n",
	    orgdomain_method_name(res->method));
	for (i = 0; i < res->nsteps; i++) {
		step = &res->steps[i];
		strbuf_appendf(sb, "  %zu. %-4s %s: %s", i + 1,
		    step->qtype == LOOKUP_TXT ? "TXT" : "A", step->qname,
		    lookup_status_name(step->status));
		if (step->note != NULL)
			strbuf_appendf(sb, ", %s", step->note);
		strbuf_appendc(sb, '\n');
	}
	strbuf_appendf(sb, "status          %s (%s)\n",
	    discover_status_name(res->status), discover_strerror(res->status));
	if (res->policy_domain != NULL)
		strbuf_appendf(sb, "policy domain   %s (%s)\n",
		    res->policy_domain, discover_source_name(res->source));
	if (res->record != NULL) {
		strbuf_appends(sb, "record          ");
		strbuf_append_escaped(sb, res->record->raw,
		    res->record->raw_len, 512);
		if (res->record_status != RECORD_OK)
			strbuf_appendf(sb, " (%s)",
			    record_strerror(res->record_status));
		strbuf_appendc(sb, '\n');
	}
	if (res->orgdomain != NULL)
		strbuf_appendf(sb, "org domain      %s (%s)\n", res->orgdomain,
		    orgdomain_rule_name(res->org_rule));
	else
		strbuf_appendf(sb, "org domain      unknown (%s)\n",
		    orgdomain_strerror(res->org_status));
	if (res->exists != DISCOVER_EXISTS_UNCHECKED)
		strbuf_appendf(sb, "author exists   %s\n",
		    discover_exists_name(res->exists));
}

const char *
discover_status_name(enum discover_status st)
{
	switch (st) {
	case DISCOVER_FOUND:
		return "found";
	case DISCOVER_NONE:
		return "none";
	case DISCOVER_TEMPERROR:
		return "temperror";
	case DISCOVER_PERMERROR:
		return "permerror";
	case DISCOVER_ERR_DOMAIN:
		return "invalid_domain";
	case DISCOVER_ERR_CONFIG:
		return "no_config";
	case DISCOVER_ERR_NOMEM:
		return "nomem";
	}
	return "unknown";
}

const char *
discover_strerror(enum discover_status st)
{
	switch (st) {
	case DISCOVER_FOUND:
		return "a DMARC policy record applies";
	case DISCOVER_NONE:
		return "no DMARC policy record: DMARC does not apply";
	case DISCOVER_TEMPERROR:
		return "temporary DNS failure during policy discovery";
	case DISCOVER_PERMERROR:
		return "permanent DNS failure or unusable DMARC record";
	case DISCOVER_ERR_DOMAIN:
		return "invalid author domain";
	case DISCOVER_ERR_CONFIG:
		return "no DNS lookup or public suffix list configured";
	case DISCOVER_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown discovery status";
}

const char *
discover_source_name(enum discover_source src)
{
	switch (src) {
	case DISCOVER_SOURCE_NONE:
		return "none";
	case DISCOVER_SOURCE_AUTHOR:
		return "author";
	case DISCOVER_SOURCE_ORG:
		return "org";
	case DISCOVER_SOURCE_PSD:
		return "psd";
	}
	return "unknown";
}

const char *
discover_exists_name(enum discover_exists e)
{
	switch (e) {
	case DISCOVER_EXISTS_UNCHECKED:
		return "unchecked";
	case DISCOVER_EXISTS_YES:
		return "yes";
	case DISCOVER_EXISTS_NO:
		return "no";
	case DISCOVER_EXISTS_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}
