/*
 * spf.c - SPF checks (RFC 7208) on libspf2, with DNS from dns/.
 *
 * What it does: builds the <sender> and <domain> of check_host() for the
 * MAIL FROM identity (postmaster@HELO for the null sender, RFC 7208 2.4)
 * or the HELO identity (2.3), applies the initial processing of 4.3
 * (malformed or single-label domain: none), fetches the record through
 * spf_dns_get_spf() (TXT only, screened: the CVE-2023-42118 defence) and
 * runs libspf2's interpreter on it, then maps libspf2's answer onto the
 * seven RFC 8601 result names:
 *  - pass, fail, softfail, neutral as they are;
 *  - SPF_RESULT_INVALID and errors: a DNS error (SPF_E_DNS_ERROR, or our
 *    layer saw a temporary failure or the deadline) is temperror, any
 *    other error (syntax, include of none, 4.6.4 limits) is permerror;
 *  - over 10 DNS-querying terms or 2 void lookups anywhere in the check,
 *    includes included (RFC 7208 4.6.4), is permerror whatever libspf2
 *    said, since our layer stopped the evaluation at that point.
 *
 * Threads: the engine is shared; each thread has its own SPF_server_t
 * with its own DNS layer (pthread key, freed at thread exit).  A server
 * serves one check at a time, so the layer holds the running check's
 * deadline and request: no locks on the check path.  We call
 * SPF_record_interpret() ourselves rather than SPF_request_query_mailfrom()
 * because the latter gives any loopback client a "pass", which would be
 * an aligned SPF pass for DMARC.
 *
 * Left out: the HELO-before-MAIL-FROM shortcut of RFC 7208 2.3 (the
 * caller runs both checks and decides), local policies and best-guess
 * records (non-standard), and the SPF RR type (retired, RFC 7208 3.1).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "spf.h"
#include "spf_dns.h"

/* The explanation when the domain gives none (RFC 7208 6.2).  libspf2
 * cannot compile literal spaces, hence "%_". */
#define SPF_DEFAULT_EXPLANATION \
	"%{o}%_does%_not%_designate%_%{c}%_as%_a%_permitted%_sender"

#define REASON_MAX	300

struct spf_engine {
	spf_query_fn	 fn;
	void		*arg;
	struct spf_config cfg;
	char		*receiver;
	pthread_key_t	 key;
};

/* One thread's libspf2 server and its DNS layer (owned by the server). */
struct spf_thread {
	SPF_server_t	 *server;
	SPF_dns_server_t *dns;
};

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void
log_nothing(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

/* A library does not write to stderr (STYLE.md); libspf2's warnings and
 * notes go nowhere.  Its error handler is left alone: it aborts. */
static void
quiet_libspf2(void)
{
	SPF_warning_handler = log_nothing;
	SPF_info_handler = log_nothing;
	SPF_debug_handler = log_nothing;
}

void
spf_config_init(struct spf_config *cfg)
{
	cfg->max_dns_terms = 10;
	cfg->max_void = 2;
	cfg->receiver = NULL;
}

static void
thread_free(void *p)
{
	struct spf_thread *t = p;

	if (t == NULL)
		return;
	if (t->server != NULL)
		SPF_server_free(t->server);	/* frees t->dns too */
	mem_free(t);
}

struct spf_engine *
spf_engine_new_query(spf_query_fn fn, void *arg, const struct spf_config *cfg)
{
	struct spf_engine *e;

	(void)pthread_once(&quiet_once, quiet_libspf2);
	e = mem_calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->fn = fn;
	e->arg = arg;
	if (cfg != NULL)
		e->cfg = *cfg;
	else
		spf_config_init(&e->cfg);
	if (e->cfg.receiver != NULL) {
		e->receiver = mem_strdup(e->cfg.receiver);
		if (e->receiver == NULL)
			goto fail;
	}
	e->cfg.receiver = e->receiver;
	if (pthread_key_create(&e->key, thread_free) != 0)
		goto fail;
	return e;
fail:
	mem_free(e->receiver);
	mem_free(e);
	return NULL;
}

struct spf_engine *
spf_engine_new(struct dns_resolver *res, const struct spf_config *cfg)
{
	return spf_engine_new_query(spf_dns_query_resolver, res, cfg);
}

void
spf_engine_free(struct spf_engine *e)
{
	if (e == NULL)
		return;
	thread_free(pthread_getspecific(e->key));
	(void)pthread_setspecific(e->key, NULL);
	(void)pthread_key_delete(e->key);
	mem_free(e->receiver);
	mem_free(e);
}

/* This thread's server, created on first use; NULL when out of memory. */
static struct spf_thread *
thread_get(struct spf_engine *e)
{
	struct spf_dns_limits lim;
	SPF_response_t *resp;
	struct spf_thread *t;
	SPF_errcode_t err;

	t = pthread_getspecific(e->key);
	if (t != NULL)
		return t;
	t = mem_calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	spf_dns_limits_default(&lim);
	lim.max_terms = e->cfg.max_dns_terms;
	lim.max_void = e->cfg.max_void;
	t->dns = spf_dns_new(e->fn, e->arg, &lim);
	if (t->dns == NULL)
		goto fail;
	t->server = SPF_server_new_dns(t->dns, 0);
	if (t->server == NULL) {
		SPF_dns_free(t->dns);
		goto fail;
	}
	/* Debian's 1.2.10 frees a server's DNS layer only when this is
	 * set; later versions free it anyway.  Either way, once. */
	t->server->destroy_resolver = 1;
	/* libspf2's own backstops; our layer enforces the same limits
	 * across includes (RFC 7208 4.6.4). */
	SPF_server_set_max_dns_mech(t->server, (int)e->cfg.max_dns_terms);
	SPF_server_set_max_dns_mx(t->server, 10);
	SPF_server_set_max_dns_ptr(t->server, 10);
	if (e->receiver != NULL &&
	    SPF_server_set_rec_dom(t->server, e->receiver) != SPF_E_SUCCESS)
		goto fail;
	resp = NULL;
	err = SPF_server_set_explanation(t->server, SPF_DEFAULT_EXPLANATION,
	    &resp);
	if (resp != NULL)
		SPF_response_free(resp);
	if (err != SPF_E_SUCCESS)
		goto fail;
	if (pthread_setspecific(e->key, t) != 0)
		goto fail;
	return t;
fail:
	thread_free(t);
	return NULL;
}

void
spf_engine_fail_rr_after(struct spf_engine *e, int n)
{
	struct spf_thread *t;

	if ((t = thread_get(e)) != NULL)
		spf_dns_fail_rr_after(t->dns, n);
}

void
spf_outcome_init(struct spf_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->result = SPF_NONE;
}

void
spf_outcome_clear(struct spf_outcome *o)
{
	mem_free(o->domain);
	mem_free(o->sender);
	mem_free(o->reason);
	mem_free(o->explanation);
	spf_outcome_init(o);
}

static const char *const result_names[] = {
	[SPF_NONE] = "none",
	[SPF_NEUTRAL] = "neutral",
	[SPF_PASS] = "pass",
	[SPF_FAIL] = "fail",
	[SPF_SOFTFAIL] = "softfail",
	[SPF_TEMPERROR] = "temperror",
	[SPF_PERMERROR] = "permerror",
};

const char *
spf_result_name(enum spf_result r)
{
	if ((unsigned)r < sizeof(result_names) / sizeof(result_names[0]))
		return result_names[r];
	return "permerror";
}

int
spf_result_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++)
		if (s != NULL && strcasecmp(s, result_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
spf_scope_name(enum spf_scope s)
{
	return s == SPF_SCOPE_HELO ? "helo" : "mfrom";
}

/*
 * RFC 7208 4.3: a domain that is malformed (empty label, label over 63,
 * over 253 bytes) or not multi-label has no SPF policy.  We also want
 * letters, digits, '-' and '_' only, and a top label that is not all
 * digits: a domain literal or an address is not a domain.
 */
static bool
domain_is_valid(const char *d)
{
	size_t len, i, label, labels;
	bool alpha_in_label;

	len = strlen(d);
	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	label = labels = 0;
	alpha_in_label = false;
	for (i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			labels++;
			if (i == len && !alpha_in_label)
				return false;
			label = 0;
			alpha_in_label = false;
			continue;
		}
		if ((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') || d[i] == '-' || d[i] == '_')
			alpha_in_label = true;
		else if (d[i] < '0' || d[i] > '9')
			return false;
		label++;
	}
	return labels >= 2;
}

static enum spf_result
finish(struct spf_outcome *out, enum spf_result r, const char *reason,
    const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	/* detail is already printable: our notes escape what came from
	 * DNS, and libspf2's messages are constants. */
	strbuf_appends(&sb, reason);
	if (detail != NULL && *detail != '\0') {
		strbuf_appends(&sb, ": ");
		strbuf_append(&sb, detail, strnlen(detail, REASON_MAX));
	}
	mem_free(out->reason);
	out->reason = strbuf_steal(&sb);
	if (out->reason == NULL)
		out->reason = mem_strdup("out of memory");
	strbuf_release(&sb);
	out->result = r;
	return r;
}

/* The outcome when the check's own record fetch did not succeed. */
static enum spf_result
map_fetch(const struct spf_dns_report *rep, struct spf_outcome *out)
{
	const char *why = strbuf_cstr(&rep->why);

	switch (rep->top) {
	case SPF_FETCH_NO_RECORD:
		return finish(out, SPF_NONE, "no SPF record", NULL);
	case SPF_FETCH_NXDOMAIN:
		return finish(out, SPF_NONE, "domain does not exist", NULL);
	case SPF_FETCH_BADNAME:
		return finish(out, SPF_NONE, "malformed domain", NULL);
	case SPF_FETCH_TEMP:
		return finish(out, SPF_TEMPERROR, "temporary DNS error", why);
	case SPF_FETCH_MULTIPLE:
	case SPF_FETCH_SCREENED:
	case SPF_FETCH_COMPILE:
	case SPF_FETCH_BOUND:
		return finish(out, SPF_PERMERROR, "invalid SPF record", why);
	case SPF_FETCH_STOPPED:
	case SPF_FETCH_NOT_YET:
	case SPF_FETCH_OK:
		break;
	}
	return finish(out, SPF_TEMPERROR, "SPF evaluation stopped", why);
}

/* Map what libspf2 returned, given what our DNS layer saw. */
static enum spf_result
map_response(SPF_response_t *resp, const struct spf_dns_report *rep,
    struct spf_outcome *out)
{
	const char *why = strbuf_cstr(&rep->why);
	SPF_errcode_t code;
	const char *how;

	switch (rep->stop) {
	case SPF_DNS_STOP_TERMS:
	case SPF_DNS_STOP_VOID:
		/* RFC 7208 4.6.4: exceeding a limit is a permerror. */
		return finish(out, SPF_PERMERROR, "processing limit", why);
	case SPF_DNS_STOP_DEADLINE:
	case SPF_DNS_STOP_NOMEM:
		return finish(out, SPF_TEMPERROR, "evaluation stopped", why);
	case SPF_DNS_RUNNING:
		break;
	}
	code = SPF_response_errcode(resp);
	how = SPF_response_reason(resp) == SPF_REASON_DEFAULT ?
	    "no mechanism matched" : "a mechanism matched";
	switch (SPF_response_result(resp)) {
	case SPF_RESULT_PASS:
		return finish(out, SPF_PASS, how, NULL);
	case SPF_RESULT_FAIL:
		return finish(out, SPF_FAIL, how, NULL);
	case SPF_RESULT_SOFTFAIL:
		return finish(out, SPF_SOFTFAIL, how, NULL);
	case SPF_RESULT_NEUTRAL:
		return finish(out, SPF_NEUTRAL, how, NULL);
	case SPF_RESULT_NONE:
		return finish(out, SPF_NONE, "no SPF record", NULL);
	case SPF_RESULT_TEMPERROR:
		return finish(out, SPF_TEMPERROR, "temporary DNS error",
		    *why != '\0' ? why : SPF_strerror(code));
	case SPF_RESULT_PERMERROR:
		return finish(out, SPF_PERMERROR, "permanent error",
		    *why != '\0' ? why : SPF_strerror(code));
	case SPF_RESULT_INVALID:
		break;
	}
	/* libspf2 stopped without a result: tell DNS from syntax. */
	if (code == SPF_E_DNS_ERROR)
		return finish(out, SPF_TEMPERROR, "temporary DNS error",
		    *why != '\0' ? why : SPF_strerror(code));
	return finish(out, SPF_PERMERROR, "permanent error",
	    *why != '\0' ? why : SPF_strerror(code));
}

static void
set_client(SPF_request_t *req, const struct addr *ip)
{
	struct in6_addr a6;
	struct in_addr a4;

	/* RFC 7208 5: an IPv4-mapped IPv6 address is treated as IPv4. */
	if (ip->v4) {
		memcpy(&a4.s_addr, ip->a + 12, 4);
		SPF_request_set_ipv4(req, a4);
	} else {
		memcpy(a6.s6_addr, ip->a, 16);
		SPF_request_set_ipv6(req, a6);
	}
}

/* The explanation of a fail, and whether it is our default one. */
static void
take_explanation(struct spf_thread *t, SPF_request_t *req,
    SPF_response_t *resp, struct spf_outcome *out)
{
	const char *exp;
	char *def;
	size_t deflen;

	exp = SPF_response_get_explanation(resp);
	if (exp == NULL)
		return;
	out->explanation = mem_strndup(exp, strnlen(exp, 512));
	def = NULL;
	deflen = 0;
	out->explanation_default =
	    spf_dns_default_explanation(t->server, req, &def, &deflen) ==
	    SPF_E_SUCCESS && def != NULL && strcmp(def, exp) == 0;
	free(def);
}

static enum spf_result
run_check(struct spf_engine *e, enum spf_scope scope, const struct addr *ip,
    const char *helo, const char *sender, const char *domain,
    const struct dns_deadline *deadline, struct spf_outcome *out)
{
	const struct spf_dns_report *rep;
	SPF_response_t *resp;
	SPF_request_t *req;
	SPF_record_t *rec;
	struct spf_thread *t;
	enum spf_result r;
	SPF_errcode_t err;

	out->scope = scope;
	out->sender = mem_strdup(sender);
	out->domain = mem_strdup(domain);
	if (out->sender == NULL || out->domain == NULL)
		return finish(out, SPF_TEMPERROR, "out of memory", NULL);
	if (!domain_is_valid(domain))
		return finish(out, SPF_NONE, "malformed domain", NULL);
	if ((t = thread_get(e)) == NULL)
		return finish(out, SPF_TEMPERROR, "out of memory", NULL);

	req = SPF_request_new(t->server);
	if (req == NULL)
		return finish(out, SPF_TEMPERROR, "out of memory", NULL);
	resp = NULL;
	set_client(req, ip);
	/* %{h} needs a value even when the client gave no HELO. */
	if (SPF_request_set_helo_dom(req, helo != NULL && *helo != '\0' ?
	    helo : "unknown") != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(req, sender) != 0) {
		r = finish(out, SPF_TEMPERROR, "out of memory", NULL);
		goto done;
	}
	/* check_host()'s <domain>: our copy lives until the end. */
	req->cur_dom = out->domain;
	resp = SPF_response_new(req);
	if (resp == NULL || spf_dns_begin(t->dns, deadline, req) != 0) {
		r = finish(out, SPF_TEMPERROR, "out of memory", NULL);
		goto done;
	}
	rep = spf_dns_report(t->dns);

	rec = NULL;
	err = spf_dns_get_spf(t->server, req, resp, &rec);
	if (err != SPF_E_SUCCESS || rec == NULL) {
		r = map_fetch(rep, out);
	} else {
		/* SPF_record_interpret() needs the record for exp=. */
		resp->spf_record_exp = rec;
		(void)SPF_record_interpret(rec, req, resp, 0);
		resp->spf_record_exp = NULL;
		SPF_record_free(rec);
		r = map_response(resp, rep, out);
		if (r == SPF_FAIL)
			take_explanation(t, req, resp, out);
	}
	out->dns_terms = rep->terms;
	out->void_lookups = rep->voids;
	spf_dns_end(t->dns);
done:
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return r;
}

enum spf_result
spf_check_mailfrom(struct spf_engine *e, const struct addr *ip,
    const char *helo, const char *mail_from,
    const struct dns_deadline *deadline, struct spf_outcome *out)
{
	struct strbuf sender = STRBUF_INIT;
	const char *at, *domain;
	enum spf_result r;

	spf_outcome_clear(out);
	if (mail_from == NULL || *mail_from == '\0') {
		/* RFC 7208 2.4: the null sender is checked as
		 * postmaster@HELO. */
		if (helo == NULL || *helo == '\0') {
			out->scope = SPF_SCOPE_MFROM;
			return finish(out, SPF_NONE,
			    "null sender and no HELO", NULL);
		}
		strbuf_appendf(&sender, "postmaster@%s", helo);
		domain = helo;
	} else {
		/* RFC 7208 4.3: no local-part means "postmaster". */
		at = strrchr(mail_from, '@');
		if (at == NULL) {
			strbuf_appendf(&sender, "postmaster@%s", mail_from);
			domain = mail_from;
		} else {
			if (at == mail_from)
				strbuf_appends(&sender, "postmaster");
			else
				strbuf_append(&sender, mail_from,
				    (size_t)(at - mail_from));
			strbuf_appends(&sender, at);
			domain = at + 1;
		}
	}
	if (strbuf_failed(&sender)) {
		strbuf_release(&sender);
		out->scope = SPF_SCOPE_MFROM;
		return finish(out, SPF_TEMPERROR, "out of memory", NULL);
	}
	r = run_check(e, SPF_SCOPE_MFROM, ip, helo, strbuf_cstr(&sender),
	    domain, deadline, out);
	strbuf_release(&sender);
	return r;
}

enum spf_result
spf_check_helo(struct spf_engine *e, const struct addr *ip, const char *helo,
    const struct dns_deadline *deadline, struct spf_outcome *out)
{
	struct strbuf sender = STRBUF_INIT;
	enum spf_result r;

	spf_outcome_clear(out);
	if (helo == NULL || *helo == '\0') {
		out->scope = SPF_SCOPE_HELO;
		return finish(out, SPF_NONE, "no HELO", NULL);
	}
	/* RFC 7208 2.3: <sender> is postmaster@HELO. */
	strbuf_appendf(&sender, "postmaster@%s", helo);
	if (strbuf_failed(&sender)) {
		strbuf_release(&sender);
		out->scope = SPF_SCOPE_HELO;
		return finish(out, SPF_TEMPERROR, "out of memory", NULL);
	}
	r = run_check(e, SPF_SCOPE_HELO, ip, helo, strbuf_cstr(&sender), helo,
	    deadline, out);
	strbuf_release(&sender);
	return r;
}
