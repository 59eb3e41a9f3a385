/*
 * orgdomain.c - Organizational Domain by DNS Tree Walk (RFC 9989 sections
 * 4.10 and 4.10.2) or by public suffix list (RFC 7489 section 3.2).
 *
 * The tree walk asks at most eight _dmarc TXT queries through the lookup
 * callback and keeps every step and every DMARC record it saw, so that
 * policy discovery (discover.c) can reuse them and `dmarcctl lookup` can
 * show them.  The PSL method wraps libpsl; the list is loaded once and is
 * read-only afterwards.
 *
 * Left out on purpose: caching (the resolver in dns/ caches answers), and
 * any guess about which PSL section applies (the whole list is used, as
 * RFC 7489 implementations do).
 */
#include "config.h"

#include <string.h>

#include <libpsl.h>

#include "common/mem.h"
#include "domain.h"
#include "orgdomain.h"

#define DMARC_PREFIX	"_dmarc."
#define QNAME_MAX	253

struct orgdomain_psl {
	psl_ctx_t *ctx;
};

orgdomain_psl *
orgdomain_psl_new(const char *path, enum orgdomain_status *err)
{
	orgdomain_psl *psl;

	if ((psl = mem_alloc(sizeof(*psl))) == NULL) {
		*err = ORGDOMAIN_ERR_NOMEM;
		return NULL;
	}
	if ((psl->ctx = psl_load_file(path != NULL ? path :
	    DEFAULT_PSL_FILE)) == NULL) {
		mem_free(psl);
		*err = ORGDOMAIN_ERR_PSL_LOAD;
		return NULL;
	}
	/*
	 * An empty (or wrong) file would leave only the implicit "*" rule,
	 * which silently turns every registered domain's parent into a
	 * suffix boundary at the TLD: refuse it.  (DAFSA files report -1.)
	 */
	if (psl_suffix_count(psl->ctx) == 0) {
		psl_free(psl->ctx);
		mem_free(psl);
		*err = ORGDOMAIN_ERR_PSL_EMPTY;
		return NULL;
	}
	*err = ORGDOMAIN_OK;
	return psl;
}

void
orgdomain_psl_free(orgdomain_psl *psl)
{
	if (psl == NULL)
		return;
	psl_free(psl->ctx);
	mem_free(psl);
}

static enum orgdomain_status
orgdomain_normalize(const char *domain, char **out)
{
	*out = NULL;
	if (domain == NULL)
		return ORGDOMAIN_ERR_DOMAIN;
	switch (domain_normalize_dup(domain, strlen(domain), out)) {
	case DOMAIN_OK:
		return ORGDOMAIN_OK;
	case DOMAIN_ERR_NOMEM:
		return ORGDOMAIN_ERR_NOMEM;
	default:
		return ORGDOMAIN_ERR_DOMAIN;
	}
}

enum orgdomain_status
orgdomain_psl_lookup(const orgdomain_psl *psl, const char *domain,
    char **org)
{
	enum orgdomain_status st;
	const char *reg;
	char *norm;

	*org = NULL;
	if (psl == NULL)
		return ORGDOMAIN_ERR_CONFIG;
	if ((st = orgdomain_normalize(domain, &norm)) != ORGDOMAIN_OK)
		return st;
	/*
	 * RFC 7489 section 3.2: the public suffix plus one label.  libpsl's
	 * registrable domain is exactly that, using the implicit "*" rule
	 * for unlisted TLDs (so "example" has none, "a.example" is its own)
	 * and NULL when the name is itself a public suffix.  The input is
	 * lowercase A-labels, which the list matches (tests.txt cases).
	 */
	if ((reg = psl_registrable_domain(psl->ctx, norm)) == NULL) {
		mem_free(norm);
		return ORGDOMAIN_IS_SUFFIX;
	}
	*org = mem_strdup(reg);
	mem_free(norm);
	return *org == NULL ? ORGDOMAIN_ERR_NOMEM : ORGDOMAIN_OK;
}

bool
orgdomain_psl_is_suffix(const orgdomain_psl *psl, const char *domain)
{
	char *norm;
	bool is;

	if (psl == NULL || orgdomain_normalize(domain, &norm) != ORGDOMAIN_OK)
		return false;
	is = psl_is_public_suffix(psl->ctx, norm) != 0;
	mem_free(norm);
	return is;
}

void
orgdomain_step_clear(struct orgdomain_step *step)
{
	mem_free(step->qname);
	memset(step, 0, sizeof(*step));
}

int
orgdomain_query_record(lookup_fn lookup, void *lookup_ctx, const char *name,
    struct orgdomain_step *step, struct dmarc_record **rec,
    enum record_status *rstatus)
{
	struct lookup_answer ans;
	size_t i, len = strlen(name), which = 0;

	memset(step, 0, sizeof(*step));
	*rec = NULL;
	*rstatus = RECORD_ERR_NOT_DMARC;
	step->qtype = LOOKUP_TXT;
	if ((step->qname = mem_alloc(sizeof(DMARC_PREFIX) + len)) == NULL)
		return -1;
	memcpy(step->qname, DMARC_PREFIX, sizeof(DMARC_PREFIX) - 1);
	memcpy(step->qname + sizeof(DMARC_PREFIX) - 1, name, len + 1);
	if (sizeof(DMARC_PREFIX) - 1 + len > QNAME_MAX) {
		/* No such name can exist in the DNS: nothing to ask. */
		step->status = LOOKUP_NXDOMAIN;
		step->outcome = ORGDOMAIN_STEP_TOO_LONG;
		step->note = "name longer than 253 octets: cannot exist";
		return 0;
	}

	lookup_answer_init(&ans);
	(void)lookup(lookup_ctx, step->qname, LOOKUP_TXT, &ans);
	step->status = ans.status;
	switch (ans.status) {
	case LOOKUP_OK:
		break;
	case LOOKUP_NXDOMAIN:
	case LOOKUP_NODATA:
		step->outcome = ORGDOMAIN_STEP_NO_RECORD;
		step->note = ans.status == LOOKUP_NXDOMAIN ?
		    "no such name" : "no TXT records";
		lookup_answer_clear(&ans);
		return 0;
	case LOOKUP_TEMPFAIL:
		step->outcome = ORGDOMAIN_STEP_DNS_ERROR;
		step->note = "temporary DNS failure";
		lookup_answer_clear(&ans);
		return 0;
	case LOOKUP_PERMFAIL:
	default:
		step->status = LOOKUP_PERMFAIL;
		step->outcome = ORGDOMAIN_STEP_DNS_ERROR;
		step->note = "permanent DNS failure";
		lookup_answer_clear(&ans);
		return 0;
	}

	/*
	 * RFC 9989 section 4.10 step 2: records that do not start with
	 * "v=DMARC1" are discarded; if several DMARC records remain, they
	 * are all discarded.
	 */
	step->ntxt = ans.ntxt;
	for (i = 0; i < ans.ntxt && i < LOOKUP_MAX_TXT; i++) {
		if (ans.txts[i] != NULL &&
		    record_is_dmarc(ans.txts[i], ans.txtlens[i])) {
			if (step->ndmarc++ == 0)
				which = i;
		}
	}
	if (step->ndmarc == 0) {
		step->outcome = ORGDOMAIN_STEP_NO_RECORD;
		step->note = step->ntxt == 0 ? "no TXT records" :
		    "no TXT record starts with v=DMARC1";
		lookup_answer_clear(&ans);
		return 0;
	}
	if (step->ndmarc > 1) {
		step->outcome = ORGDOMAIN_STEP_MULTIPLE;
		step->note = "several DMARC records: all discarded";
		lookup_answer_clear(&ans);
		return 0;
	}
	*rstatus = record_parse(ans.txts[which], ans.txtlens[which], rec);
	lookup_answer_clear(&ans);
	if (*rstatus == RECORD_ERR_NOMEM || *rec == NULL) {
		record_free(*rec);
		*rec = NULL;
		return -1;
	}
	step->outcome = ORGDOMAIN_STEP_RECORD;
	step->psd = (*rec)->psd;
	step->note = *rstatus == RECORD_OK ? "DMARC record" :
	    "DMARC record with errors";
	return 0;
}

void
orgdomain_walk_free(struct orgdomain_walk *walk)
{
	size_t i;

	if (walk == NULL)
		return;
	for (i = 0; i < walk->nsteps; i++)
		orgdomain_step_clear(&walk->steps[i]);
	for (i = 0; i < walk->nnodes; i++)
		record_free(walk->nodes[i].record);
	mem_free(walk->start);
	mem_free(walk);
}

/*
 * RFC 9989 section 4.10 steps 3, 4 and 7: the next target.  A name of
 * eight or more labels is shortened to seven, any other loses its
 * left-most label; NULL when no labels remain.
 */
static const char *
orgdomain_next_target(const char *name)
{
	size_t x = domain_label_count(name);

	if (x >= ORGDOMAIN_MAX_QUERIES)
		return domain_strip_labels(name, x - ORGDOMAIN_SHORTEN_TO);
	return domain_parent(name);
}

/* RFC 9989 section 4.10.2: select the Organizational Domain. */
static void
orgdomain_select(struct orgdomain_walk *walk)
{
	const struct orgdomain_node *node;
	size_t i, below;

	if (walk->nnodes == 0) {
		/* "If this process does not determine the Organizational
		 * Domain, then the initial target domain is the
		 * Organizational Domain." */
		walk->orgdomain = walk->start;
		walk->rule = ORGDOMAIN_RULE_START;
		return;
	}
	/* "from the longest to the shortest" */
	for (i = 0; i < walk->nnodes; i++) {
		node = &walk->nodes[i];
		/* Rule 1: psd=n marks the Organizational Domain itself. */
		if (node->record->psd == DMARC_PSD_N) {
			walk->orgdomain = node->domain;
			walk->rule = ORGDOMAIN_RULE_PSD_N;
			return;
		}
		/* Rule 2: psd=y on a record other than the starting one:
		 * the domain one label below it (towards the start). */
		if (node->record->psd == DMARC_PSD_Y &&
		    node->domain != walk->start) {
			below = domain_label_count(node->domain) + 1;
			walk->orgdomain = domain_strip_labels(walk->start,
			    domain_label_count(walk->start) - below);
			walk->rule = ORGDOMAIN_RULE_PSD_Y;
			return;
		}
	}
	/* Rule 3: the record at the name with the fewest labels. */
	walk->orgdomain = walk->nodes[walk->nnodes - 1].domain;
	walk->rule = ORGDOMAIN_RULE_SHORTEST;
}

enum orgdomain_status
orgdomain_walk(const char *domain, lookup_fn lookup, void *lookup_ctx,
    struct orgdomain_walk **out)
{
	struct orgdomain_walk *walk;
	struct orgdomain_step *step;
	struct dmarc_record *rec;
	enum record_status rst;
	enum orgdomain_status st;
	const char *name;
	char *start;

	*out = NULL;
	if (lookup == NULL)
		return ORGDOMAIN_ERR_CONFIG;
	if ((st = orgdomain_normalize(domain, &start)) != ORGDOMAIN_OK)
		return st;
	if ((walk = mem_calloc(1, sizeof(*walk))) == NULL) {
		mem_free(start);
		return ORGDOMAIN_ERR_NOMEM;
	}
	walk->start = start;
	walk->status = ORGDOMAIN_OK;

	/* Steps 1 and 5: query the target; 4 and 7: shorten; at most 8. */
	for (name = start; name != NULL && walk->nsteps < ORGDOMAIN_MAX_QUERIES;
	    name = orgdomain_next_target(name)) {
		step = &walk->steps[walk->nsteps];
		if (orgdomain_query_record(lookup, lookup_ctx, name, step, &rec,
		    &rst) == -1) {
			orgdomain_step_clear(step);
			orgdomain_walk_free(walk);
			return ORGDOMAIN_ERR_NOMEM;
		}
		walk->nsteps++;
		if (step->outcome == ORGDOMAIN_STEP_DNS_ERROR) {
			/* The selection below depends on every name asked:
			 * without this answer it cannot be made. */
			walk->status = step->status == LOOKUP_TEMPFAIL ?
			    ORGDOMAIN_ERR_TEMPFAIL : ORGDOMAIN_ERR_PERMFAIL;
			walk->rule = ORGDOMAIN_RULE_NONE;
			*out = walk;
			return walk->status;
		}
		if (rec == NULL)
			continue;
		walk->nodes[walk->nnodes].domain = name;
		walk->nodes[walk->nnodes].record = rec;
		walk->nodes[walk->nnodes].rstatus = rst;
		walk->nodes[walk->nnodes].step = walk->nsteps - 1;
		walk->nnodes++;
		/* Steps 2 and 6: a single record with psd=n or psd=y stops
		 * the walk. */
		if (rec->psd == DMARC_PSD_N || rec->psd == DMARC_PSD_Y) {
			step->stop = true;
			step->note = rec->psd == DMARC_PSD_N ?
			    "DMARC record with psd=n: the walk stops" :
			    "DMARC record with psd=y: the walk stops";
			break;
		}
	}
	orgdomain_select(walk);
	*out = walk;
	return ORGDOMAIN_OK;
}

enum orgdomain_status
orgdomain_find(const struct orgdomain_config *cfg, const char *domain,
    char **org, struct orgdomain_walk **walkp)
{
	struct orgdomain_walk *walk;
	enum orgdomain_status st;

	*org = NULL;
	if (walkp != NULL)
		*walkp = NULL;
	if (cfg->method == ORGDOMAIN_PSL)
		return orgdomain_psl_lookup(cfg->psl, domain, org);

	if ((st = orgdomain_walk(domain, cfg->lookup, cfg->lookup_ctx,
	    &walk)) == ORGDOMAIN_OK) {
		if ((*org = mem_strdup(walk->orgdomain)) == NULL)
			st = ORGDOMAIN_ERR_NOMEM;
	}
	if (walkp != NULL && st != ORGDOMAIN_ERR_NOMEM)
		*walkp = walk;
	else
		orgdomain_walk_free(walk);
	return st;
}

const char *
orgdomain_strerror(enum orgdomain_status st)
{
	switch (st) {
	case ORGDOMAIN_OK:
		return "ok";
	case ORGDOMAIN_IS_SUFFIX:
		return "the name is a public suffix: it has no "
		    "organizational domain";
	case ORGDOMAIN_ERR_TEMPFAIL:
		return "temporary DNS failure during the tree walk";
	case ORGDOMAIN_ERR_PERMFAIL:
		return "permanent DNS failure during the tree walk";
	case ORGDOMAIN_ERR_DOMAIN:
		return "invalid domain name";
	case ORGDOMAIN_ERR_CONFIG:
		return "no public suffix list or DNS lookup configured";
	case ORGDOMAIN_ERR_PSL_LOAD:
		return "cannot read or parse the public suffix list";
	case ORGDOMAIN_ERR_PSL_EMPTY:
		return "the public suffix list holds no rules";
	case ORGDOMAIN_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown organizational domain error";
}

const char *
orgdomain_status_name(enum orgdomain_status st)
{
	switch (st) {
	case ORGDOMAIN_OK:
		return "ok";
	case ORGDOMAIN_IS_SUFFIX:
		return "public_suffix";
	case ORGDOMAIN_ERR_TEMPFAIL:
		return "tempfail";
	case ORGDOMAIN_ERR_PERMFAIL:
		return "permfail";
	case ORGDOMAIN_ERR_DOMAIN:
		return "invalid_domain";
	case ORGDOMAIN_ERR_CONFIG:
		return "no_config";
	case ORGDOMAIN_ERR_PSL_LOAD:
		return "psl_load";
	case ORGDOMAIN_ERR_PSL_EMPTY:
		return "psl_empty";
	case ORGDOMAIN_ERR_NOMEM:
		return "nomem";
	}
	return "unknown";
}

const char *
orgdomain_method_name(enum orgdomain_method m)
{
	switch (m) {
	case ORGDOMAIN_TREEWALK:
		return "treewalk";
	case ORGDOMAIN_PSL:
		return "psl";
	}
	return "unknown";
}

int
orgdomain_method_parse(const char *s, enum orgdomain_method *m)
{
	if (strcmp(s, "treewalk") == 0)
		*m = ORGDOMAIN_TREEWALK;
	else if (strcmp(s, "psl") == 0)
		*m = ORGDOMAIN_PSL;
	else
		return -1;
	return 0;
}

const char *
orgdomain_outcome_name(enum orgdomain_outcome o)
{
	switch (o) {
	case ORGDOMAIN_STEP_NO_RECORD:
		return "no_record";
	case ORGDOMAIN_STEP_RECORD:
		return "record";
	case ORGDOMAIN_STEP_MULTIPLE:
		return "multiple_records";
	case ORGDOMAIN_STEP_DNS_ERROR:
		return "dns_error";
	case ORGDOMAIN_STEP_TOO_LONG:
		return "name_too_long";
	case ORGDOMAIN_STEP_EXISTS:
		return "exists";
	case ORGDOMAIN_STEP_NOT_EXISTS:
		return "not_exists";
	}
	return "unknown";
}

const char *
orgdomain_rule_name(enum orgdomain_rule r)
{
	switch (r) {
	case ORGDOMAIN_RULE_NONE:
		return "none";
	case ORGDOMAIN_RULE_PSD_N:
		return "psd_n";
	case ORGDOMAIN_RULE_PSD_Y:
		return "psd_y";
	case ORGDOMAIN_RULE_SHORTEST:
		return "shortest";
	case ORGDOMAIN_RULE_START:
		return "start";
	case ORGDOMAIN_RULE_PSL:
		return "psl";
	}
	return "unknown";
}
