/*
 * spf_dns.c - libspf2's DNS layer on dmarcd's resolver (see spf_dns.h).
 *
 * libspf2 calls three hooks of an SPF_dns_server_t:
 *  - lookup(name, type): A, AAAA, MX, PTR (and TXT, which our own hooks
 *    make unused) answered from the query function.  Our statuses become
 *    libspf2's h_errno-style codes: DNS_OK with records -> NETDB_SUCCESS,
 *    NXDOMAIN and an invalid name -> HOST_NOT_FOUND, NODATA -> NO_DATA,
 *    temporary failures, and also REFUSED and malformed replies ->
 *    TRY_AGAIN (RFC 7208 5: an RCODE other than 0 or 3 is a temperror),
 *    answers over a resolver bound -> NO_RECOVERY (libspf2 then treats
 *    the term as not matching).  The SPF RR type (99) is never asked for:
 *    RFC 7208 3.1 and 14.1 retired it, so it is always NO_DATA.
 *  - get_spf: our record fetch (TXT only, RFC 7208 4.4 and 4.5), which
 *    screens the record before SPF_record_compile() (CVE-2023-42118).
 *  - get_exp: our explanation fetch (RFC 7208 6.2): exactly one TXT
 *    record, screened, spaces made "%_", compiled and expanded; anything
 *    else gives the default explanation.  Its lookups do not count
 *    against the limits (RFC 7208 4.6.4 and the exp-void test).
 *
 * Limits (RFC 7208 4.6.4).  A term that queries DNS is seen here as: an
 * MX or PTR query, an A/AAAA query that is not one of the address
 * lookups of the MX or PTR names just returned (libspf2 makes those in
 * order, right after the MX or PTR answer), and each include:/redirect=
 * record fetch (the check's own fetch is not a term).  A %{p} macro's PTR
 * query is counted as a term too.  Void lookups are terms whose query
 * came back NXDOMAIN or empty.  Over a limit, the layer answers TRY_AGAIN
 * from then on, which makes libspf2 stop at once; auth/spf.c turns the
 * result into the permerror the RFC asks for.  PTR answers are cut to
 * the first 10 names (RFC 7208 4.6.4: the rest MUST be ignored; libspf2
 * would give a permerror instead).  Names longer than 253 bytes lose
 * labels from the left before the query (RFC 7208 7.3).
 *
 * Never NULL: libspf2 calls abort() when a lookup returns NULL, so each
 * check starts with SPF_DNS_RESERVE preallocated answers that stand in
 * (as TRY_AGAIN, which ends the evaluation) when allocation fails.
 */
#include "config.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "spf_dns.h"
#include "spf_screen.h"

#define SPF_DNS_RESERVE	8	/* answers kept for allocation failures */
#define SPF_DNS_PENDING	16	/* MX/PTR names whose address lookups
				 * are part of the same term */
#define NAME_MAX_LEN	253	/* RFC 1035 presentation length */

struct spf_dns {
	SPF_dns_server_t	 srv;		/* first: libspf2 sees this */
	spf_dns_query_fn	 query;
	void			*arg;
	struct spf_dns_limits	 lim;

	/* The current check. */
	const struct dns_deadline *deadline;
	SPF_request_t		*request;
	struct spf_dns_report	 rep;
	bool			 fetched;	/* the check's own record */
	bool			 in_exp;	/* inside get_exp */
	unsigned		 exp_lookups;
	char			*pending[SPF_DNS_PENDING];
	size_t			 npending;
	size_t			 next_pending;
	SPF_dns_rr_t		*reserve[SPF_DNS_RESERVE];
	size_t			 nreserve;
	int			 rr_budget;	/* test hook, < 0: unlimited */
};

static struct spf_dns *
layer(SPF_dns_server_t *srv)
{
	return (struct spf_dns *)srv->hook;
}

void
spf_dns_limits_default(struct spf_dns_limits *lim)
{
	lim->max_terms = 10;
	lim->max_void = 2;
	lim->max_ptr = 10;
	lim->max_exp = 4;
}

enum dns_status
spf_dns_query_resolver(void *arg, const char *name, uint16_t type,
    const struct dns_deadline *deadline, struct dns_answer *out)
{
	return dns_query((struct dns_resolver *)arg, name, type, deadline,
	    out);
}

/* Record the first problem of the check, with untrusted text escaped. */
static void
note(struct spf_dns *d, const char *what, const char *name,
    const char *detail)
{
	if (strbuf_len(&d->rep.why) > 0)
		return;
	strbuf_appends(&d->rep.why, what);
	if (name != NULL) {
		strbuf_appends(&d->rep.why, " ");
		strbuf_append_escaped(&d->rep.why, name, strlen(name), 80);
	}
	if (detail != NULL) {
		strbuf_appends(&d->rep.why, ": ");
		strbuf_appends(&d->rep.why, detail);
	}
}

static void
stop(struct spf_dns *d, enum spf_dns_stop why, const char *name)
{
	if (d->rep.stop != SPF_DNS_RUNNING)
		return;
	d->rep.stop = why;
	switch (why) {
	case SPF_DNS_STOP_TERMS:
		note(d, "more than 10 DNS-querying terms", NULL, NULL);
		break;
	case SPF_DNS_STOP_VOID:
		note(d, "more than 2 void lookups, last", name, NULL);
		break;
	case SPF_DNS_STOP_DEADLINE:
		note(d, "deadline passed before", name, NULL);
		break;
	case SPF_DNS_STOP_NOMEM:
		note(d, "out of memory", NULL, NULL);
		break;
	case SPF_DNS_RUNNING:
		break;
	}
}

static void
clear_pending(struct spf_dns *d)
{
	size_t i;

	for (i = 0; i < d->npending; i++)
		mem_free(d->pending[i]);
	d->npending = d->next_pending = 0;
}

/*
 * Copy name into buf (NAME_MAX_LEN + 2 bytes) without its trailing dot;
 * past 253 bytes, drop labels from the left (RFC 7208 7.3).  false when
 * nothing usable is left.
 */
static bool
prepare_name(const char *name, char *buf, size_t bufsz)
{
	const char *p, *dot;
	size_t n;

	if (name == NULL)
		return false;
	p = name;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '.')
		n--;
	while (n > NAME_MAX_LEN) {
		dot = memchr(p, '.', n);
		if (dot == NULL)
			return false;
		n -= (size_t)(dot + 1 - p);
		p = dot + 1;
	}
	if (n == 0 || n >= bufsz)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* A new answer, or a reserve one standing in as TRY_AGAIN.  Never NULL
 * while the reserve lasts (refilled by every spf_dns_begin()). */
static SPF_dns_rr_t *
rr_new(struct spf_dns *d, const char *domain, ns_type type,
    SPF_dns_stat_t herrno)
{
	SPF_dns_rr_t *rr;

	rr = NULL;
	if (d->rr_budget != 0) {
		if (d->rr_budget > 0)
			d->rr_budget--;
		rr = SPF_dns_rr_new_init(&d->srv, domain, type, 0, herrno);
	}
	if (rr != NULL)
		return rr;
	stop(d, SPF_DNS_STOP_NOMEM, NULL);
	if (d->nreserve > 0) {
		rr = d->reserve[--d->nreserve];
		rr->source = &d->srv;
		rr->rr_type = type;
		rr->num_rr = 0;
		rr->herrno = TRY_AGAIN;
		return rr;
	}
	/* Only reached after SPF_DNS_RESERVE failures in one check, which
	 * the TRY_AGAIN answers above make impossible: libspf2 stops at
	 * the first.  A last attempt, as libspf2 would abort on NULL. */
	return SPF_dns_rr_new();
}

/* Append one record's data to rr; false when out of memory. */
static bool
rr_add(SPF_dns_rr_t *rr, const struct dns_rr *src)
{
	const char *s;
	size_t len;
	int i;

	i = rr->num_rr;
	switch (src->type) {
	case DNS_TYPE_A:
		if (SPF_dns_rr_buf_realloc(rr, i, sizeof(SPF_dns_rr_data_t)))
			return false;
		rr->rr[i]->a = src->u.a;
		break;
	case DNS_TYPE_AAAA:
		if (SPF_dns_rr_buf_realloc(rr, i, sizeof(SPF_dns_rr_data_t)))
			return false;
		rr->rr[i]->aaaa = src->u.aaaa;
		break;
	case DNS_TYPE_MX:
	case DNS_TYPE_PTR:
	case DNS_TYPE_TXT:
		if (src->type == DNS_TYPE_MX) {
			s = src->u.mx.host;
			len = strlen(s);
		} else if (src->type == DNS_TYPE_PTR) {
			s = src->u.name;
			len = strlen(s);
		} else {
			s = src->u.txt.data;
			len = src->u.txt.len;
		}
		if (SPF_dns_rr_buf_realloc(rr, i, len + 1))
			return false;
		/* The union members are char[1] arrays in a buffer of len + 1
		 * bytes: write through a plain pointer. */
		memcpy((char *)rr->rr[i], s, len);
		((char *)rr->rr[i])[len] = '\0';
		break;
	default:
		return true;
	}
	rr->num_rr++;
	return true;
}

/*
 * TXT records handed to libspf2 through lookup() (nothing of ours asks,
 * but a libspf2 code path might): a v=spf1 record that fails the screen
 * becomes a record that compiles to a permerror; any other text that is
 * not a valid explanation string is left out.
 */
static bool
rr_add_txt_screened(SPF_dns_rr_t *rr, const struct dns_rr *src)
{
	struct strbuf out = STRBUF_INIT;
	struct dns_rr copy;
	enum spf_screen_status st;
	bool ok;

	copy = *src;
	if (spf_screen_is_spf_record(src->u.txt.data, src->u.txt.len))
		st = spf_screen_record(src->u.txt.data, src->u.txt.len, &out,
		    NULL);
	else
		st = spf_screen_explanation(src->u.txt.data, src->u.txt.len,
		    &out, NULL);
	if (st == SPF_SCREEN_ERR_NOMEM) {
		strbuf_release(&out);
		return false;
	}
	if (st != SPF_SCREEN_OK) {
		strbuf_release(&out);
		if (!spf_screen_is_spf_record(src->u.txt.data,
		    src->u.txt.len))
			return true;
		/* An unknown mechanism: libspf2's own permerror. */
		strbuf_appends(&out, "v=spf1 screened-by-dmarcd");
	} else if (!spf_screen_is_spf_record(src->u.txt.data,
	    src->u.txt.len)) {
		/* Explanations keep their own text; the screen only said
		 * it is safe to compile. */
		strbuf_release(&out);
		return rr_add(rr, src);
	}
	if (strbuf_failed(&out)) {
		strbuf_release(&out);
		return false;
	}
	copy.u.txt.data = out.data;
	copy.u.txt.len = out.len;
	ok = rr_add(rr, &copy);
	strbuf_release(&out);
	return ok;
}

static bool
is_void(enum dns_status st, const struct dns_answer *ans, int num_rr)
{
	return st == DNS_NXDOMAIN || st == DNS_NODATA ||
	    (st == DNS_OK && (ans->nrr == 0 || num_rr == 0));
}

/* Remember MX/PTR names: their address lookups belong to this term. */
static void
set_pending(struct spf_dns *d, const SPF_dns_rr_t *rr)
{
	char buf[NAME_MAX_LEN + 2];
	int i;

	clear_pending(d);
	for (i = 0; i < rr->num_rr && d->npending < SPF_DNS_PENDING; i++) {
		if (!prepare_name(rr->rr[i]->mx, buf, sizeof(buf)))
			buf[0] = '\0';
		d->pending[d->npending] = mem_strdup(buf);
		if (d->pending[d->npending] == NULL)
			break;
		d->npending++;
	}
}

/* Is this A/AAAA query the next address lookup of an MX or PTR term? */
static bool
take_pending(struct spf_dns *d, const char *domain)
{
	char buf[NAME_MAX_LEN + 2];

	if (d->next_pending >= d->npending)
		return false;
	if (!prepare_name(domain, buf, sizeof(buf)))
		buf[0] = '\0';
	if (strcasecmp(buf, d->pending[d->next_pending]) != 0)
		return false;
	d->next_pending++;
	return true;
}

static SPF_dns_stat_t
herrno_of(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return NETDB_SUCCESS;
	case DNS_NXDOMAIN:
	case DNS_ERR_BADNAME:
		return HOST_NOT_FOUND;
	case DNS_NODATA:
		return NO_DATA;
	case DNS_ERR_REFUSED:
	case DNS_ERR_MALFORMED:
		/* RFC 7208 5: any RCODE other than 0 or 3 is a temperror. */
		return TRY_AGAIN;
	default:
		return dns_status_is_temporary(st) ? TRY_AGAIN : NO_RECOVERY;
	}
}

/* Is the deadline of the check gone?  Stops the layer when it is. */
static bool
out_of_time(struct spf_dns *d, const char *name)
{
	if (d->deadline == NULL || !dns_deadline_expired(d->deadline))
		return false;
	stop(d, SPF_DNS_STOP_DEADLINE, name);
	return true;
}

static void
note_dns(struct spf_dns *d, enum dns_status st, const char *name,
    uint16_t type)
{
	struct strbuf what = STRBUF_INIT;

	strbuf_appendf(&what, "DNS %s for %s", dns_status_name(st),
	    dns_type_name(type));
	if (!strbuf_failed(&what))
		note(d, strbuf_cstr(&what), name, NULL);
	strbuf_release(&what);
}

static SPF_dns_rr_t *
dns_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_dns *d = layer(srv);
	char name[NAME_MAX_LEN + 2];
	struct dns_answer ans;
	enum dns_status st;
	SPF_dns_rr_t *rr;
	SPF_dns_stat_t h;
	uint16_t qtype;
	bool term;
	size_t i;

	(void)should_cache;	/* the resolver has its own cache */
	switch (type) {
	case ns_t_a:
	case ns_t_aaaa:
	case ns_t_mx:
	case ns_t_ptr:
	case ns_t_txt:
		qtype = (uint16_t)type;
		break;
	default:
		/* Type SPF (99) and anything else: never asked. */
		return rr_new(d, domain, type, NO_DATA);
	}
	if (d->rep.stop != SPF_DNS_RUNNING || out_of_time(d, domain))
		return rr_new(d, domain, type, TRY_AGAIN);

	term = false;
	if (!d->in_exp && qtype != DNS_TYPE_TXT) {
		if ((qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA) &&
		    take_pending(d, domain)) {
			/* an address of an MX or PTR name: same term */
		} else {
			clear_pending(d);
			term = true;
			if (++d->rep.terms > d->lim.max_terms) {
				stop(d, SPF_DNS_STOP_TERMS, domain);
				return rr_new(d, domain, type, TRY_AGAIN);
			}
		}
	}

	dns_answer_init(&ans);
	if (prepare_name(domain, name, sizeof(name))) {
		d->rep.queries++;
		st = d->query(d->arg, name, qtype, d->deadline, &ans);
	} else
		st = DNS_ERR_BADNAME;
	h = herrno_of(st);
	if (st == DNS_OK && ans.nrr == 0)
		h = NO_DATA;
	if (h == TRY_AGAIN) {
		if (st == DNS_ERR_DEADLINE)
			stop(d, SPF_DNS_STOP_DEADLINE, domain);
		else if (st == DNS_ERR_NOMEM)
			stop(d, SPF_DNS_STOP_NOMEM, NULL);
		note_dns(d, st, domain, qtype);
	}

	rr = rr_new(d, domain, type, h);
	if (h == NETDB_SUCCESS && rr->herrno == NETDB_SUCCESS) {
		for (i = 0; i < ans.nrr; i++) {
			if (ans.rr[i].type != qtype)
				continue;
			/* RFC 7208 4.6.4: PTR names past the 10th are
			 * ignored. */
			if (qtype == DNS_TYPE_PTR &&
			    (unsigned)rr->num_rr >= d->lim.max_ptr)
				break;
			if (!(qtype == DNS_TYPE_TXT ?
			    rr_add_txt_screened(rr, &ans.rr[i]) :
			    rr_add(rr, &ans.rr[i]))) {
				stop(d, SPF_DNS_STOP_NOMEM, NULL);
				rr->num_rr = 0;
				rr->herrno = TRY_AGAIN;
				break;
			}
		}
		if (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0)
			rr->herrno = NO_DATA;
		rr->ttl = ans.ttl;
		if (rr->num_rr > 0 && !d->in_exp &&
		    (qtype == DNS_TYPE_MX || qtype == DNS_TYPE_PTR))
			set_pending(d, rr);
	}
	if (term && rr->herrno != TRY_AGAIN &&
	    is_void(st, &ans, rr->num_rr) &&
	    ++d->rep.voids > d->lim.max_void) {
		/* RFC 7208 4.6.4: over the void limit is a permerror. */
		stop(d, SPF_DNS_STOP_VOID, domain);
		rr->num_rr = 0;
		rr->herrno = TRY_AGAIN;
	}
	dns_answer_clear(&ans);
	return rr;
}

/* The TXT records of ans that are SPF records: how many, which one. */
static size_t
select_spf(const struct dns_answer *ans, size_t *which)
{
	size_t i, n;

	n = 0;
	for (i = 0; i < ans->nrr; i++) {
		if (ans->rr[i].type != DNS_TYPE_TXT)
			continue;
		if (spf_screen_is_spf_record(ans->rr[i].u.txt.data,
		    ans->rr[i].u.txt.len)) {
			*which = i;
			n++;
		}
	}
	return n;
}

static void
set_fetch(struct spf_dns *d, bool first, enum spf_dns_fetch f)
{
	if (first)
		d->rep.top = f;
}

SPF_errcode_t
spf_dns_get_spf(SPF_server_t *server, SPF_request_t *req,
    SPF_response_t *resp, SPF_record_t **recordp)
{
	struct spf_dns *d = layer(server->resolver);
	struct strbuf rec = STRBUF_INIT;
	char name[NAME_MAX_LEN + 2];
	struct dns_answer ans;
	enum spf_screen_status sst;
	enum dns_status st;
	const char *domain;
	SPF_errcode_t err;
	size_t which, n, off;
	bool first;

	*recordp = NULL;
	domain = req->cur_dom;
	first = !d->fetched;
	d->fetched = true;
	clear_pending(d);
	dns_answer_init(&ans);

	if (d->rep.stop != SPF_DNS_RUNNING || out_of_time(d, domain)) {
		set_fetch(d, first, SPF_FETCH_STOPPED);
		err = d->rep.stop == SPF_DNS_STOP_TERMS ||
		    d->rep.stop == SPF_DNS_STOP_VOID ?
		    SPF_E_BIG_DNS : SPF_E_DNS_ERROR;
		goto out;
	}
	/* include: and redirect= are terms; the check's own fetch is not. */
	if (!first && ++d->rep.terms > d->lim.max_terms) {
		stop(d, SPF_DNS_STOP_TERMS, domain);
		err = SPF_E_BIG_DNS;
		goto out;
	}
	if (!prepare_name(domain, name, sizeof(name))) {
		/* RFC 7208 4.3: a malformed domain has no record. */
		set_fetch(d, first, SPF_FETCH_BADNAME);
		err = SPF_E_NOT_SPF;
		goto out;
	}
	d->rep.queries++;
	st = d->query(d->arg, name, DNS_TYPE_TXT, d->deadline, &ans);
	switch (herrno_of(st)) {
	case NETDB_SUCCESS:
		break;
	case HOST_NOT_FOUND:
		set_fetch(d, first, st == DNS_NXDOMAIN ? SPF_FETCH_NXDOMAIN :
		    SPF_FETCH_BADNAME);
		err = SPF_E_NOT_SPF;
		goto out;
	case NO_DATA:
		set_fetch(d, first, SPF_FETCH_NO_RECORD);
		err = SPF_E_NOT_SPF;
		goto out;
	case TRY_AGAIN:
		if (st == DNS_ERR_DEADLINE)
			stop(d, SPF_DNS_STOP_DEADLINE, domain);
		else if (st == DNS_ERR_NOMEM)
			stop(d, SPF_DNS_STOP_NOMEM, NULL);
		note_dns(d, st, domain, DNS_TYPE_TXT);
		set_fetch(d, first, SPF_FETCH_TEMP);
		err = SPF_E_DNS_ERROR;
		goto out;
	default:
		note_dns(d, st, domain, DNS_TYPE_TXT);
		set_fetch(d, first, SPF_FETCH_BOUND);
		err = SPF_E_BIG_STRING;
		goto out;
	}

	n = select_spf(&ans, &which);
	if (n == 0) {
		set_fetch(d, first, SPF_FETCH_NO_RECORD);
		err = SPF_E_NOT_SPF;
		goto out;
	}
	if (n > 1) {
		/* RFC 7208 4.5: more than one record is a permerror. */
		note(d, "multiple SPF records at", domain, NULL);
		set_fetch(d, first, SPF_FETCH_MULTIPLE);
		err = SPF_E_MULTIPLE_RECORDS;
		goto out;
	}
	sst = spf_screen_record(ans.rr[which].u.txt.data,
	    ans.rr[which].u.txt.len, &rec, &off);
	if (sst == SPF_SCREEN_ERR_NOMEM) {
		stop(d, SPF_DNS_STOP_NOMEM, NULL);
		set_fetch(d, first, SPF_FETCH_TEMP);
		err = SPF_E_DNS_ERROR;
		goto out;
	}
	if (sst != SPF_SCREEN_OK) {
		struct strbuf what = STRBUF_INIT;

		strbuf_appendf(&what, "%s at offset %zu",
		    spf_screen_strerror(sst), off);
		note(d, "syntax error in the SPF record of", domain,
		    strbuf_failed(&what) ? NULL : strbuf_cstr(&what));
		strbuf_release(&what);
		set_fetch(d, first, SPF_FETCH_SCREENED);
		err = SPF_E_SYNTAX;
		goto out;
	}
	err = SPF_record_compile(server, resp, recordp, strbuf_cstr(&rec));
	if (err != SPF_E_SUCCESS) {
		if (*recordp != NULL)
			SPF_record_free(*recordp);
		*recordp = NULL;
		if (err == SPF_E_NO_MEMORY) {
			stop(d, SPF_DNS_STOP_NOMEM, NULL);
			set_fetch(d, first, SPF_FETCH_TEMP);
			err = SPF_E_DNS_ERROR;
			goto out;
		}
		note(d, "libspf2 rejected the SPF record of", domain,
		    SPF_strerror(err));
		if (first)
			d->rep.top_err = err;
		set_fetch(d, first, SPF_FETCH_COMPILE);
		goto out;
	}
	set_fetch(d, first, SPF_FETCH_OK);
out:
	dns_answer_clear(&ans);
	strbuf_release(&rec);
	if (err != SPF_E_SUCCESS)
		SPF_response_add_error(resp, err, "SPF record fetch failed");
	return err;
}

/* The macro data follows the SPF_macro_t header (spf_record.h). */
static SPF_data_t *
macro_data(SPF_macro_t *mac)
{
	return (SPF_data_t *)(void *)((char *)mac + sizeof(SPF_macro_t));
}

static SPF_errcode_t
expand_macro(SPF_server_t *server, SPF_request_t *req, SPF_macro_t *mac,
    char **bufp, size_t *buflenp)
{
	SPF_response_t *tmp;
	SPF_errcode_t err;

	tmp = SPF_response_new(req);
	if (tmp == NULL)
		return SPF_E_NO_MEMORY;
	err = SPF_record_expand_data(server, req, tmp, macro_data(mac),
	    mac->macro_len, bufp, buflenp);
	SPF_response_free(tmp);
	return err;
}

SPF_errcode_t
spf_dns_default_explanation(SPF_server_t *server, SPF_request_t *req,
    char **bufp, size_t *buflenp)
{
	static const char lame[] = "no explanation available";
	char *p;

	if (server->explanation != NULL && req != NULL)
		return expand_macro(server, req, server->explanation, bufp,
		    buflenp);
	if (*buflenp < sizeof(lame)) {
		p = realloc(*bufp, sizeof(lame));
		if (p == NULL)
			return SPF_E_NO_MEMORY;
		*bufp = p;
		*buflenp = sizeof(lame);
	}
	memcpy(*bufp, lame, sizeof(lame));
	return SPF_E_SUCCESS;
}

/*
 * The get_exp hook: domain is the expanded exp= target, and points into
 * *bufp, where the explanation goes.
 */
static SPF_errcode_t
dns_get_exp(SPF_server_t *server, const char *domain, char **bufp,
    size_t *buflenp)
{
	struct spf_dns *d = layer(server->resolver);
	struct strbuf text = STRBUF_INIT;
	char name[NAME_MAX_LEN + 2];
	struct dns_answer ans;
	enum dns_status st;
	SPF_macro_t *mac;
	SPF_response_t *tmp;
	SPF_errcode_t err;
	size_t i, n, which;
	bool ok;

	ok = false;
	dns_answer_init(&ans);
	if (d->request == NULL)
		return SPF_E_NOT_CONFIG;
	d->in_exp = true;
	if (d->rep.stop != SPF_DNS_RUNNING || out_of_time(d, domain) ||
	    d->exp_lookups >= d->lim.max_exp ||
	    !prepare_name(domain, name, sizeof(name)))
		goto fallback;
	d->exp_lookups++;
	d->rep.queries++;
	st = d->query(d->arg, name, DNS_TYPE_TXT, d->deadline, &ans);
	if (st != DNS_OK)
		goto fallback;
	/* RFC 7208 6.2: exactly one TXT record, or no explanation. */
	n = 0;
	which = 0;
	for (i = 0; i < ans.nrr; i++)
		if (ans.rr[i].type == DNS_TYPE_TXT) {
			which = i;
			n++;
		}
	if (n != 1 || spf_screen_explanation(ans.rr[which].u.txt.data,
	    ans.rr[which].u.txt.len, &text, NULL) != SPF_SCREEN_OK)
		goto fallback;
	tmp = SPF_response_new(d->request);
	if (tmp == NULL)
		goto fallback;
	mac = NULL;
	err = SPF_record_compile_macro(server, tmp, &mac, strbuf_cstr(&text));
	SPF_response_free(tmp);
	if (err == SPF_E_SUCCESS && mac != NULL) {
		err = expand_macro(server, d->request, mac, bufp, buflenp);
		ok = err == SPF_E_SUCCESS;
	}
	if (mac != NULL)
		SPF_macro_free(mac);
fallback:
	dns_answer_clear(&ans);
	strbuf_release(&text);
	err = ok ? SPF_E_SUCCESS :
	    spf_dns_default_explanation(server, d->request, bufp, buflenp);
	d->in_exp = false;
	return err;
}

static void
dns_destroy(SPF_dns_server_t *srv)
{
	struct spf_dns *d = layer(srv);

	clear_pending(d);
	while (d->nreserve > 0)
		SPF_dns_rr_free(d->reserve[--d->nreserve]);
	strbuf_release(&d->rep.why);
	mem_free(d);
}

SPF_dns_server_t *
spf_dns_new(spf_dns_query_fn fn, void *arg, const struct spf_dns_limits *lim)
{
	struct spf_dns *d;

	d = mem_calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->srv.destroy = dns_destroy;
	d->srv.lookup = dns_lookup;
	d->srv.get_spf = spf_dns_get_spf;
	d->srv.get_exp = dns_get_exp;
	d->srv.add_cache = NULL;
	d->srv.layer_below = NULL;
	d->srv.name = "dmarcd";
	d->srv.debug = 0;
	d->srv.hook = d;
	d->query = fn;
	d->arg = arg;
	if (lim != NULL)
		d->lim = *lim;
	else
		spf_dns_limits_default(&d->lim);
	d->rr_budget = -1;
	strbuf_init(&d->rep.why);
	strbuf_set_limit(&d->rep.why, 512);
	return &d->srv;
}

int
spf_dns_begin(SPF_dns_server_t *srv, const struct dns_deadline *deadline,
    SPF_request_t *request)
{
	struct spf_dns *d = layer(srv);
	SPF_dns_rr_t *rr;

	d->deadline = deadline;
	d->request = request;
	d->fetched = false;
	d->in_exp = false;
	d->exp_lookups = 0;
	clear_pending(d);
	d->rep.terms = d->rep.voids = d->rep.queries = 0;
	d->rep.stop = SPF_DNS_RUNNING;
	d->rep.top = SPF_FETCH_NOT_YET;
	d->rep.top_err = SPF_E_SUCCESS;
	strbuf_reset(&d->rep.why);
	strbuf_set_limit(&d->rep.why, 512);
	while (d->nreserve < SPF_DNS_RESERVE) {
		rr = SPF_dns_rr_new();
		if (rr == NULL)
			return -1;
		d->reserve[d->nreserve++] = rr;
	}
	return 0;
}

void
spf_dns_end(SPF_dns_server_t *srv)
{
	struct spf_dns *d = layer(srv);

	d->request = NULL;
	d->deadline = NULL;
	clear_pending(d);
}

const struct spf_dns_report *
spf_dns_report(SPF_dns_server_t *srv)
{
	return &layer(srv)->rep;
}

void
spf_dns_fail_rr_after(SPF_dns_server_t *srv, int n)
{
	layer(srv)->rr_budget = n < 0 ? -1 : n;
}
