/*
 * verify.c - the message pipeline: SPF, DKIM, From, policy discovery,
 * alignment and the verdict, plus the Authentication-Results value.
 *
 * RFC 9989 section 5.3 (receiver actions) in order: authenticate with SPF
 * (RFC 7208) and DKIM (RFC 6376), extract the Author Domain(s) from From
 * (section 5.3.1), discover the policy (4.10.1), check alignment and
 * apply the policy.  The Authentication-Results field follows RFC 8601,
 * and fields claiming our authserv-id are marked for removal (section 5).
 *
 * Deliberately left out here: what to do with the verdict (reject, hold,
 * add the header) is the milter's job; logging is the caller's.
 */
#include "config.h"

#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "auth/authres.h"
#include "auth/verify.h"
#include "auth/verify_pool.h"
#include "common/mem.h"
#include "dns/lookup_adapter.h"

#define VERIFY_DEFAULT_DEADLINE_MS	10000
#define VERIFY_DEFAULT_LOOKUP_THREADS	4

struct verify_engine {
	struct verify_config cfg;
	char	*authserv_id;
	struct dns_resolver *res;
	struct dkimv_lib *dkim;
	struct spf_engine *spf;
	struct verify_pool *pool;	/* NULL: steps one after the other */
	_Atomic uint64_t in_line, pooled;	/* run_cached_or_pool() */
};

enum verify_state { ST_HEADERS, ST_BODY, ST_DONE };

#define VERIFY_MAX_MSGID	998	/* RFC 5322 line length */

struct verify {
	struct verify_engine *eng;
	const struct verify_policy *pol;
	struct verify_facts facts;	/* strings below are our copies */
	char	*queue_id, *helo, *mail_from;
	enum verify_state state;
	struct from_list *from;
	struct dkimv *dkim;
	struct dns_deadline deadline;
	struct dns_deadline spf_deadline;	/* verify_spf()'s own copy */
	struct dns_lookup_ctx lctx;
	unsigned ar_seen;		/* A-R fields so far */
	char	*message_id;
	struct verdict v;
	struct strbuf ar;
};

void
verify_config_init(struct verify_config *c)
{
	memset(c, 0, sizeof(*c));
	c->policy.authserv_id = "localhost";
	c->policy.method = ORGDOMAIN_TREEWALK;
	c->policy.pct_mode = EVAL_PCT_SAMPLE;
	c->policy.badfrom = VERIFY_BADFROM_REJECT;
	c->policy.deadline_ms = VERIFY_DEFAULT_DEADLINE_MS;
	c->lookup_threads = VERIFY_DEFAULT_LOOKUP_THREADS;
	dkimv_config_init(&c->dkim);
	spf_config_init(&c->spf);
}

struct verify_engine *
verify_engine_new(struct dns_resolver *res, const struct verify_config *cfg,
    enum verify_status *why)
{
	struct verify_engine *e;

	*why = VERIFY_ERR_NOMEM;
	if (!verify_policy_is_valid(&cfg->policy)) {
		*why = VERIFY_ERR_CONFIG;
		return NULL;
	}
	if ((e = mem_calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->cfg = *cfg;
	e->res = res;
	if ((e->authserv_id = mem_strdup(cfg->policy.authserv_id)) == NULL)
		goto fail;
	e->cfg.policy.authserv_id = e->authserv_id;
	if (dkimv_lib_new(&cfg->dkim, &e->dkim) != DKIMV_OK) {
		*why = VERIFY_ERR_CONFIG;
		goto fail;
	}
	if ((e->spf = spf_engine_new(res, &cfg->spf)) == NULL)
		goto fail;
	/* No pool (threads refused) only costs cold-cache latency. */
	e->pool = verify_pool_new(cfg->lookup_threads);
	*why = VERIFY_OK;
	return e;
fail:
	verify_engine_free(e);
	return NULL;
}

void
verify_engine_free(struct verify_engine *e)
{
	if (e == NULL)
		return;
	/* First: pool threads free their SPF state at exit. */
	verify_pool_free(e->pool);
	spf_engine_free(e->spf);
	dkimv_lib_free(e->dkim);
	mem_free(e->authserv_id);
	mem_free(e);
}

static bool
dup_opt(const char *s, char **out)
{
	*out = NULL;
	return s == NULL || (*out = mem_strdup(s)) != NULL;
}

bool
verify_policy_is_valid(const struct verify_policy *p)
{
	return p->authserv_id != NULL && *p->authserv_id != '\0' &&
	    (p->method != ORGDOMAIN_PSL || p->psl != NULL);
}

struct verify *
verify_new(struct verify_engine *e, const struct verify_facts *facts)
{
	return verify_new_policy(e, &e->cfg.policy, facts);
}

struct verify *
verify_new_policy(struct verify_engine *e, const struct verify_policy *pol,
    const struct verify_facts *facts)
{
	struct verify *v;

	if (!verify_policy_is_valid(pol))
		return NULL;
	if ((v = mem_calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->eng = e;
	v->pol = pol;
	v->facts = *facts;
	strbuf_init(&v->ar);
	spf_outcome_init(&v->v.spf_mfrom);
	spf_outcome_init(&v->v.spf_helo);
	if (!dup_opt(facts->queue_id, &v->queue_id) ||
	    !dup_opt(facts->helo, &v->helo) ||
	    !dup_opt(facts->mail_from, &v->mail_from))
		goto fail;
	v->facts.queue_id = v->queue_id;
	v->facts.helo = v->helo;
	v->facts.mail_from = v->mail_from;
	dns_deadline_none(&v->deadline);
	dns_deadline_none(&v->spf_deadline);
	dns_lookup_ctx_init(&v->lctx, e->res, &v->deadline);
	if ((v->from = from_list_new()) == NULL)
		goto fail;
	/* The key lookups happen in verify_eom(), under the deadline. */
	if (dkimv_new(e->dkim, v->queue_id != NULL ? v->queue_id : "-",
	    dns_lookup, &v->lctx, &v->dkim) != DKIMV_OK)
		goto fail;
	return v;
fail:
	verify_free(v);
	return NULL;
}

void
verify_free(struct verify *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->v.nauthors; i++) {
		evaluate_result_free(v->v.authors[i].eval);
		discover_result_free(v->v.authors[i].discovery);
	}
	spf_outcome_clear(&v->v.spf_mfrom);
	spf_outcome_clear(&v->v.spf_helo);
	dkimv_free(v->dkim);
	from_list_free(v->from);
	strbuf_release(&v->ar);
	mem_free(v->queue_id);
	mem_free(v->helo);
	mem_free(v->mail_from);
	mem_free(v->message_id);
	mem_free(v);
}

enum verify_status
verify_header(struct verify *v, const char *name, const char *value,
    size_t len)
{
	if (v->state != ST_HEADERS)
		return VERIFY_ERR_STATE;
	/* A bound crossed here is sticky in the verifier and reported as
	 * permerror for every signature at the end. */
	(void)dkimv_header(v->dkim, name, value, len);
	if (strcasecmp(name, "From") == 0) {
		if (from_list_add_field(v->from, value, len) == FROM_ERR_NOMEM)
			return VERIFY_ERR_NOMEM;
	} else if (strcasecmp(name, "Message-ID") == 0 &&
	    v->message_id == NULL) {
		const char *p = value, *end = value + len;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((v->message_id = mem_strndup(p, (size_t)(end - p) >
		    VERIFY_MAX_MSGID ? VERIFY_MAX_MSGID : (size_t)(end - p)))
		    == NULL)
			return VERIFY_ERR_NOMEM;
		v->v.message_id = v->message_id;
	} else if (strcasecmp(name, "Authentication-Results") == 0) {
		v->v.ar_total = ++v->ar_seen;
		if (authres_is_from(value, len, v->pol->authserv_id)) {
			if (v->v.nforged < VERIFY_MAX_FORGED)
				v->v.forged[v->v.nforged++] = v->ar_seen;
			else
				v->v.forged_overflow = true;
		}
	}
	return VERIFY_OK;
}

enum verify_status
verify_eoh(struct verify *v)
{
	if (v->state != ST_HEADERS)
		return VERIFY_ERR_STATE;
	v->state = ST_BODY;
	(void)dkimv_eoh(v->dkim);
	return VERIFY_OK;
}

enum verify_status
verify_body(struct verify *v, const unsigned char *p, size_t len)
{
	if (v->state != ST_BODY)
		return VERIFY_ERR_STATE;
	(void)dkimv_body(v->dkim, p, len);
	return VERIFY_OK;
}

enum eval_auth_result
verify_dkim_result(enum dkimv_result r)
{
	switch (r) {
	case DKIMV_NONE:
		return EVAL_AUTH_NONE;
	case DKIMV_PASS:
		return EVAL_AUTH_PASS;
	case DKIMV_FAIL:
		return EVAL_AUTH_FAIL;
	case DKIMV_NEUTRAL:
		return EVAL_AUTH_NEUTRAL;
	case DKIMV_POLICY:
		return EVAL_AUTH_POLICY;
	case DKIMV_TEMPERROR:
		return EVAL_AUTH_TEMPERROR;
	case DKIMV_PERMERROR:
		return EVAL_AUTH_PERMERROR;
	}
	return EVAL_AUTH_PERMERROR;
}

enum eval_auth_result
verify_spf_result(enum spf_result r)
{
	switch (r) {
	case SPF_NONE:
		return EVAL_AUTH_NONE;
	case SPF_NEUTRAL:
		return EVAL_AUTH_NEUTRAL;
	case SPF_PASS:
		return EVAL_AUTH_PASS;
	case SPF_FAIL:
		return EVAL_AUTH_FAIL;
	case SPF_SOFTFAIL:
		return EVAL_AUTH_SOFTFAIL;
	case SPF_TEMPERROR:
		return EVAL_AUTH_TEMPERROR;
	case SPF_PERMERROR:
		return EVAL_AUTH_PERMERROR;
	}
	return EVAL_AUTH_PERMERROR;
}

/* SPF for the MAIL FROM identity and for HELO (RFC 7208 2.3, 2.4).
 * A verify_pool job: it writes only v->v.spf_*. */
static void
verify_spf(void *arg)
{
	struct verify *v = arg;
	struct verify_engine *e = v->eng;

	if (!v->facts.have_ip)
		return;
	spf_check_mailfrom(e->spf, &v->facts.client_ip, v->facts.helo,
	    v->facts.mail_from, &v->spf_deadline, &v->v.spf_mfrom);
	if (v->facts.helo != NULL && *v->facts.helo != '\0')
		spf_check_helo(e->spf, &v->facts.client_ip, v->facts.helo,
		    &v->spf_deadline, &v->v.spf_helo);
	v->v.spf_done = true;
}

/* Forget what a cache-only verify_spf() found, before it runs again
 * with the network. */
static void
verify_spf_undo(void *arg)
{
	struct verify *v = arg;

	spf_outcome_clear(&v->v.spf_mfrom);
	spf_outcome_clear(&v->v.spf_helo);
	v->v.spf_done = false;
}

static void
verify_org_config(const struct verify *v, struct dns_lookup_ctx *lctx,
    struct orgdomain_config *org)
{
	memset(org, 0, sizeof(*org));
	org->method = v->pol->method;
	org->psl = v->pol->psl;
	org->lookup = dns_lookup;
	org->lookup_ctx = lctx;
}

/* Policy discovery (RFC 9989 section 4.10.1) for the author domains, as
 * a verify_pool job: its own lookup context (ctx->last is per caller),
 * results only in here. */
struct verify_discovery {
	struct verify *v;
	struct dns_deadline deadline;	/* the message's, a copy of its own */
	struct dns_lookup_ctx lctx;
	size_t	 n;
	enum discover_status st[VERIFY_MAX_AUTHORS];
	struct discover_result *res[VERIFY_MAX_AUTHORS];
};

static void
verify_discover(void *arg)
{
	struct verify_discovery *d = arg;
	struct orgdomain_config org;
	size_t i;

	verify_org_config(d->v, &d->lctx, &org);
	for (i = 0; i < d->n; i++)
		d->st[i] = discover_policy(&org, from_list_domain(d->v->from, i),
		    &d->res[i]);
}

/* Forget what a cache-only verify_discover() found, before it runs
 * again with the network. */
static void
verify_discover_undo(void *arg)
{
	struct verify_discovery *d = arg;
	size_t i;

	for (i = 0; i < d->n; i++) {
		discover_result_free(d->res[i]);
		d->res[i] = NULL;
	}
}

/*
 * Run fn(arg) in this thread with lookups from the DNS cache only; if
 * one missed, undo(arg) and hand fn(arg) to the lookup pool as job j
 * (verify_pool_wait() then waits for it; for a job done here it returns
 * at once).  dl is the deadline fn's lookups use, the job's own copy:
 * the message's is shared with the jobs already on the pool, which
 * must not see cache_miss set.
 */
static void
run_cached_or_pool(struct verify *v, struct verify_job *j,
    struct dns_deadline *dl, void (*fn)(void *), void *arg,
    void (*undo)(void *))
{
	bool missed = false;

	dl->cache_miss = &missed;
	verify_pool_run(NULL, j, fn, arg);
	dl->cache_miss = NULL;
	if (!missed) {
		atomic_fetch_add_explicit(&v->eng->in_line, 1,
		    memory_order_relaxed);
		return;
	}
	undo(arg);
	atomic_fetch_add_explicit(&v->eng->pooled, 1, memory_order_relaxed);
	verify_pool_run(v->eng->pool, j, fn, arg);
}

void
verify_engine_counts(const struct verify_engine *e, uint64_t *in_line,
    uint64_t *pooled)
{
	*in_line = atomic_load_explicit(&e->in_line, memory_order_relaxed);
	*pooled = atomic_load_explicit(&e->pooled, memory_order_relaxed);
}

/* Evaluate one author domain with its discovery result (taken over);
 * -1 on no memory. */
static int
verify_author(struct verify *v, const char *domain, enum discover_status ds,
    struct discover_result *discovery, const struct evaluate_dkim_input *dk,
    size_t ndk)
{
	struct verify_author *a = &v->v.authors[v->v.nauthors];
	struct evaluate_options eo;
	struct evaluate_input in;

	memset(&eo, 0, sizeof(eo));
	verify_org_config(v, &v->lctx, &eo.org);
	eo.pct_mode = v->pol->pct_mode;
	eo.random = v->pol->random;
	eo.random_ctx = v->pol->random_ctx;

	if (ds == DISCOVER_ERR_NOMEM) {
		discover_result_free(discovery);
		return -1;
	}
	a->discovery = discovery;
	if (a->discovery == NULL)	/* not a domain or misconfigured */
		return 0;
	memset(&in, 0, sizeof(in));
	in.author = domain;
	in.discovery = a->discovery;
	if (v->v.spf_done) {
		in.spf_present = true;
		in.spf_result = verify_spf_result(v->v.spf_mfrom.result);
		in.spf_domain = v->v.spf_mfrom.domain;
		in.spf_scope = EVAL_SPF_MFROM;
	}
	in.dkim = dk;
	in.ndkim = ndk;
	if (evaluate_message(&eo, &in, &a->eval) == EVALUATE_ERR_NOMEM) {
		discover_result_free(a->discovery);
		a->discovery = NULL;
		return -1;
	}
	v->v.nauthors++;
	return 0;
}

static enum eval_disposition
badfrom_disposition(enum verify_badfrom b)
{
	switch (b) {
	case VERIFY_BADFROM_REJECT:
		return EVAL_DISP_REJECT;
	case VERIFY_BADFROM_QUARANTINE:
		return EVAL_DISP_QUARANTINE;
	case VERIFY_BADFROM_NONE:
		break;
	}
	return EVAL_DISP_NONE;
}

static const char *
disposition_word(enum eval_disposition d)
{
	/* The "dis=" of Authentication-Results: what we did to it. */
	return d == EVAL_DISP_PASS ? "none" : eval_disposition_name(d);
}

/* Authentication-Results (RFC 8601) for the verdict. */
static void
verify_build_authres(struct verify *v)
{
	struct verdict *vd = &v->v;
	struct authres_writer w;
	struct strbuf c = STRBUF_INIT;
	size_t i;

	authres_begin(&w, &v->ar, v->pol->authserv_id, true);
	if (vd->spf_done) {
		authres_add_result(&w, "spf",
		    spf_result_name(vd->spf_mfrom.result), NULL);
		if (v->facts.mail_from != NULL && *v->facts.mail_from != '\0')
			authres_add_prop(&w, "smtp", "mailfrom",
			    v->facts.mail_from);
		else if (v->facts.helo != NULL)
			authres_add_prop(&w, "smtp", "helo", v->facts.helo);
		if (v->facts.helo != NULL && *v->facts.helo != '\0' &&
		    v->facts.mail_from != NULL && *v->facts.mail_from != '\0') {
			authres_add_result(&w, "spf",
			    spf_result_name(vd->spf_helo.result), NULL);
			authres_add_prop(&w, "smtp", "helo", v->facts.helo);
		}
	}
	if (vd->nsigs == 0)
		authres_add_result(&w, "dkim", "none", NULL);
	for (i = 0; i < vd->nsigs; i++) {
		const struct dkimv_sig *s = &vd->sigs[i];

		authres_add_result(&w, "dkim", dkimv_result_name(s->result),
		    s->result == DKIMV_PASS ? NULL : s->reason);
		if (s->domain != NULL)
			authres_add_prop(&w, "header", "d", s->domain);
		if (s->selector != NULL)
			authres_add_prop(&w, "header", "s", s->selector);
		if (s->b_prefix != NULL)
			authres_add_prop(&w, "header", "b", s->b_prefix);
	}
	if (vd->nauthors == 0)
		authres_add_result(&w, "dmarc", dmarc_result_name(vd->result),
		    vd->reason);
	for (i = 0; i < vd->nauthors; i++) {
		const struct evaluate_result *r = vd->authors[i].eval;

		strbuf_reset(&c);
		if (r->have_policy)
			strbuf_appendf(&c, "p=%s dis=%s",
			    dmarc_policy_name(r->p),
			    disposition_word(i == vd->decisive ?
			    vd->disposition : r->disposition));
		authres_add_result(&w, "dmarc", dmarc_result_name(r->result),
		    r->have_policy ? strbuf_cstr(&c) : NULL);
		authres_add_prop(&w, "header", "from", r->header_from);
	}
	authres_finish(&w);
	strbuf_release(&c);
}

enum verify_status
verify_eom(struct verify *v, const struct verdict **out)
{
	struct evaluate_dkim_input dk[EVALUATE_MAX_DKIM];
	const struct evaluate_result *evals[VERIFY_MAX_AUTHORS];
	struct evaluate_verdict cv;
	struct verdict *vd = &v->v;
	struct verify_discovery disc;
	struct verify_job spf_job, disc_job;
	size_t i, ndk = 0, n = 0;

	*out = vd;
	if (v->state == ST_DONE)
		return VERIFY_OK;
	if (v->state == ST_HEADERS)
		(void)verify_eoh(v);
	v->state = ST_DONE;
	vd->result = DMARC_RESULT_NONE;
	vd->disposition = EVAL_DISP_NONE;
	if (v->facts.trusted || v->facts.authenticated) {
		vd->skipped = true;
		vd->skip_reason = v->facts.trusted ? "trusted network" :
		    "authenticated client";
		return VERIFY_OK;
	}
	if (v->pol->deadline_ms > 0)
		dns_deadline_in(&v->deadline, v->pol->deadline_ms);

	vd->from_status = from_list_status(v->from);
	if (vd->from_status == FROM_OK) {
		n = from_list_ndomains(v->from);
		if (n > VERIFY_MAX_AUTHORS) {
			vd->authors_dropped = n - VERIFY_MAX_AUTHORS;
			n = VERIFY_MAX_AUTHORS;
		}
	}
	memset(&disc, 0, sizeof(disc));
	disc.v = v;
	disc.n = n;
	disc.deadline = v->deadline;
	v->spf_deadline = v->deadline;
	dns_lookup_ctx_init(&disc.lctx, v->eng->res, &disc.deadline);
	/*
	 * SPF, the DMARC policy records and the DKIM keys are independent
	 * chains of lookups: with a cold cache, run the first two on the
	 * pool while this thread verifies DKIM, so the message waits for the
	 * slowest chain, not for their sum.  Each writes only its own part.
	 * With a warm cache each takes a few microseconds, less than handing
	 * it to a pool thread and back (two wake-ups, a tenth of the
	 * message's system time): each is tried here from the cache alone
	 * first, and goes to the pool only if a lookup missed.
	 */
	run_cached_or_pool(v, &spf_job, &v->spf_deadline, verify_spf, v,
	    verify_spf_undo);
	run_cached_or_pool(v, &disc_job, &disc.deadline, verify_discover,
	    &disc, verify_discover_undo);
	vd->dkim_status = dkimv_finish(v->dkim, &vd->sigs, &vd->nsigs);
	for (i = 0; i < vd->nsigs && ndk < sizeof(dk) / sizeof(dk[0]); i++) {
		if (vd->sigs[i].domain == NULL)
			continue;
		dk[ndk].domain = vd->sigs[i].domain;
		dk[ndk].selector = vd->sigs[i].selector;
		dk[ndk].result = verify_dkim_result(vd->sigs[i].result);
		ndk++;
	}
	verify_pool_wait(v->eng->pool, &spf_job);
	verify_pool_wait(v->eng->pool, &disc_job);

	if (vd->from_status == FROM_ERR_NOMEM)
		return VERIFY_ERR_NOMEM;
	if (vd->from_status != FROM_OK) {
		/* RFC 9989 section 5.3.1: no usable Author Domain.  Never a
		 * silent pass: the configured outcome applies. */
		vd->result = DMARC_RESULT_PERMERROR;
		vd->disposition = badfrom_disposition(v->pol->badfrom);
		vd->reason = from_strerror(vd->from_status);
		goto finish;
	}

	for (i = 0; i < n; i++)
		if (verify_author(v, from_list_domain(v->from, i), disc.st[i],
		    disc.res[i], dk, ndk) != 0) {
			while (++i < n)
				discover_result_free(disc.res[i]);
			return VERIFY_ERR_NOMEM;
		}
	if (vd->nauthors == 0) {
		vd->result = DMARC_RESULT_PERMERROR;
		vd->disposition = badfrom_disposition(v->pol->badfrom);
		vd->reason = "no author domain could be evaluated";
	} else {
		for (i = 0; i < vd->nauthors; i++)
			evals[i] = vd->authors[i].eval;
		evaluate_combine(evals, vd->nauthors, &cv);
		vd->result = cv.result;
		vd->disposition = cv.disposition;
		vd->decisive = cv.decisive;
		vd->policy = evals[cv.decisive]->policy;
		if (vd->authors_dropped > 0) {
			/* Domains we did not evaluate could have failed. */
			vd->reason = "too many author domains";
			if (vd->disposition < badfrom_disposition(
			    v->pol->badfrom))
				vd->disposition = badfrom_disposition(
				    v->pol->badfrom);
		}
	}
	vd->dns_temporary = vd->result == DMARC_RESULT_TEMPERROR;
finish:
	verify_build_authres(v);
	vd->authres = strbuf_failed(&v->ar) ? NULL : (char *)strbuf_cstr(&v->ar);
	return vd->authres == NULL ? VERIFY_ERR_NOMEM : VERIFY_OK;
}

static void
write_spf_json(struct json *j, const char *key, const struct spf_outcome *o)
{
	json_key(j, key);
	json_object_begin(j);
	json_kv_string(j, "result", spf_result_name(o->result));
	json_kv_string(j, "scope", spf_scope_name(o->scope));
	json_kv_string(j, "domain", o->domain);
	json_kv_string(j, "sender", o->sender);
	json_kv_string(j, "reason", o->reason);
	json_object_end(j);
}

void
verify_write_json(const struct verdict *vd, struct json *j)
{
	size_t i;

	json_object_begin(j);
	json_kv_bool(j, "skipped", vd->skipped);
	if (vd->skipped)
		json_kv_string(j, "skip_reason", vd->skip_reason);
	json_kv_string(j, "dmarc", dmarc_result_name(vd->result));
	json_kv_string(j, "disposition", eval_disposition_name(
	    vd->disposition));
	json_kv_string(j, "reason", vd->reason);
	json_kv_bool(j, "dns_temporary", vd->dns_temporary);
	json_kv_string(j, "from_status", from_strerror(vd->from_status));
	if (vd->spf_done) {
		write_spf_json(j, "spf", &vd->spf_mfrom);
		if (vd->spf_helo.reason != NULL)
			write_spf_json(j, "spf_helo", &vd->spf_helo);
	}
	json_key(j, "dkim");
	json_array_begin(j);
	for (i = 0; i < vd->nsigs; i++) {
		const struct dkimv_sig *s = &vd->sigs[i];

		json_object_begin(j);
		json_kv_string(j, "domain", s->domain);
		json_kv_string(j, "selector", s->selector);
		json_kv_string(j, "algorithm", s->algorithm);
		json_kv_int(j, "key_bits", s->keybits);
		json_kv_string(j, "result", dkimv_result_name(s->result));
		json_kv_string(j, "reason", s->reason);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "authors");
	json_array_begin(j);
	for (i = 0; i < vd->nauthors; i++) {
		json_object_begin(j);
		json_key(j, "discovery");
		discover_write_json(vd->authors[i].discovery, j);
		json_key(j, "evaluation");
		evaluate_write_json(vd->authors[i].eval, j);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "forged_authentication_results");
	json_array_begin(j);
	for (i = 0; i < vd->nforged; i++)
		json_int(j, vd->forged[i]);
	json_array_end(j);
	json_kv_string(j, "authentication_results", vd->authres);
	json_object_end(j);
}

void
verify_write_text(const struct verdict *vd, struct strbuf *out)
{
	size_t i;

	if (vd->skipped) {
		strbuf_appendf(out, "skipped: %s\n", vd->skip_reason);
		return;
	}
	strbuf_appendf(out, "dmarc           %s\n",
	    dmarc_result_name(vd->result));
	strbuf_appendf(out, "disposition     %s\n",
	    eval_disposition_name(vd->disposition));
	if (vd->reason != NULL)
		strbuf_appendf(out, "reason          %s\n", vd->reason);
	if (vd->spf_done)
		strbuf_appendf(out, "spf             %s (%s %s) %s\n",
		    spf_result_name(vd->spf_mfrom.result),
		    spf_scope_name(vd->spf_mfrom.scope),
		    vd->spf_mfrom.domain ? vd->spf_mfrom.domain : "-",
		    vd->spf_mfrom.reason ? vd->spf_mfrom.reason : "");
	for (i = 0; i < vd->nsigs; i++)
		strbuf_appendf(out, "dkim            %s (d=%s s=%s a=%s "
		    "bits=%u) %s\n", dkimv_result_name(vd->sigs[i].result),
		    vd->sigs[i].domain ? vd->sigs[i].domain : "-",
		    vd->sigs[i].selector ? vd->sigs[i].selector : "-",
		    vd->sigs[i].algorithm ? vd->sigs[i].algorithm : "-",
		    vd->sigs[i].keybits,
		    vd->sigs[i].reason ? vd->sigs[i].reason : "");
	for (i = 0; i < vd->nauthors; i++) {
		strbuf_appendf(out, "\n-- author domain %zu\n", i + 1);
		evaluate_write_text(vd->authors[i].eval, out);
		if (strbuf_len(out) > 0 &&
		    strbuf_cstr(out)[strbuf_len(out) - 1] != '\n')
			strbuf_appendc(out, '\n');
	}
	for (i = 0; i < vd->nforged; i++)
		strbuf_appendf(out, "forged A-R      Authentication-Results #%u "
		    "carries our authserv-id: removed\n", vd->forged[i]);
	if (vd->authres != NULL)
		strbuf_appendf(out, "\nAuthentication-Results: %s\n",
		    vd->authres);
}

const char *
verify_strerror(enum verify_status st)
{
	switch (st) {
	case VERIFY_OK:
		return "ok";
	case VERIFY_ERR_NOMEM:
		return "out of memory";
	case VERIFY_ERR_CONFIG:
		return "invalid verification configuration";
	case VERIFY_ERR_STATE:
		return "message data out of order";
	case VERIFY_ERR_INTERNAL:
		return "internal error in an authentication library";
	}
	return "unknown verification error";
}

static const char *const badfrom_names[] = { "reject", "quarantine", "none" };

const char *
verify_badfrom_name(enum verify_badfrom b)
{
	return (size_t)b < 3 ? badfrom_names[b] : "unknown";
}

int
verify_badfrom_parse(const char *s, enum verify_badfrom *out)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (strcasecmp(s, badfrom_names[i]) == 0) {
			*out = (enum verify_badfrom)i;
			return 0;
		}
	return -1;
}
