/*
 * check_spf.c - the SPF part of `dmarcctl check DOMAIN`.
 *
 * The TXT records at the domain: none, several v=spf1 records (RFC 7208
 * section 4.5: permerror), syntax (auth/spf_screen.c, the screen every
 * record passes before libspf2 compiles it), the DNS-querying terms
 * counted by walking include: and redirect= through DNS (section 4.6.4:
 * at most 10, and at most 2 void look-ups), and the "all" qualifier
 * (section 5.1).  Terms with macros are counted but not followed: their
 * targets depend on the message.  The walk fetches at most
 * CHECK_SPF_WALK_CAP records and never follows a loop.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/spf_screen.h"
#include "check_online.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "dns/resolver.h"

struct spf_walk {
	struct check_report *rep;
	struct dns_resolver *res;
	char	*seen[CHECK_SPF_WALK_CAP];
	size_t	 nseen;
	int	 lookups;
	int	 voids;
	char	 all;			/* qualifier of the effective "all" */
};

/* Fetch the one SPF record of name into *rec (new string), or NULL. */
static enum dns_status
spf_fetch(struct spf_walk *w, const char *name, char **rec, size_t *nrec)
{
	struct dns_answer a;
	enum dns_status st;
	size_t i;

	*rec = NULL;
	*nrec = 0;
	st = dns_query_txt(w->res, name, NULL, &a);
	if (st == DNS_OK)
		for (i = 0; i < a.nrr; i++) {
			if (!spf_screen_is_spf_record(a.rr[i].u.txt.data,
			    a.rr[i].u.txt.len))
				continue;
			if ((*nrec)++ == 0)
				*rec = check_strndup(a.rr[i].u.txt.data,
				    a.rr[i].u.txt.len);
		}
	else if (dns_status_is_temporary(st))
		check_dns_failed(w->rep, name, dns_strerror(st));
	dns_answer_clear(&a);
	return st;
}

/* A void look-up (RFC 7208 4.6.4): NXDOMAIN or no answer for name. */
static void
spf_probe(struct spf_walk *w, const char *name, uint16_t type)
{
	struct dns_answer a;
	enum dns_status st;

	st = dns_query(w->res, name, type, NULL, &a);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		w->voids++;
	else if (st != DNS_OK && dns_status_is_temporary(st))
		check_dns_failed(w->rep, name, dns_strerror(st));
	dns_answer_clear(&a);
}

static void spf_walk_record(struct spf_walk *, const char *domain,
    const char *rec, int depth, bool top);

static void
spf_follow(struct spf_walk *w, const char *target, int depth, bool redirect,
    bool top)
{
	char *rec;
	size_t i, n;
	enum dns_status st;

	if (strchr(target, '%') != NULL || w->nseen >= CHECK_SPF_WALK_CAP ||
	    depth > CHECK_SPF_MAX_LOOKUPS)
		return;
	for (i = 0; i < w->nseen; i++)
		if (strcasecmp(w->seen[i], target) == 0)
			return;
	w->seen[w->nseen++] = check_strdup(target);
	st = spf_fetch(w, target, &rec, &n);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		w->voids++;
	if (rec == NULL) {
		if (!dns_status_is_temporary(st))
			check_issue_add(w->rep, "spf_include_missing", NULL,
			    NULL, "%s=%s: no SPF record there (%s): "
			    "evaluation ends in permerror",
			    redirect ? "redirect" : "include", target,
			    st == DNS_OK ? "TXT without v=spf1" :
			    dns_strerror(st));
		return;
	}
	spf_walk_record(w, target, rec, depth + 1, top);
	mem_free(rec);
}

/* Count the DNS-querying terms of rec (published at domain). */
static void
spf_walk_record(struct spf_walk *w, const char *domain, const char *rec,
    int depth, bool top)
{
	const char *p = rec + 6, *e;	/* past "v=spf1" */
	char term[512], *redirect = NULL;
	bool has_all = false;
	size_t len;

	for (;;) {
		const char *t, *arg;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		len = (size_t)(e - p);
		if (len >= sizeof(term))
			len = sizeof(term) - 1;
		memcpy(term, p, len);
		term[len] = '\0';
		p = e;
		t = term;
		if (*t == '+' || *t == '-' || *t == '~' || *t == '?')
			t++;
		arg = strpbrk(t, ":=/");
		if (strcasecmp(t, "all") == 0) {
			has_all = true;
			if (top)
				w->all = t == term ? '+' : term[0];
		} else if (strncasecmp(t, "include:", 8) == 0) {
			w->lookups++;
			spf_follow(w, t + 8, depth, false, false);
		} else if (strncasecmp(t, "redirect=", 9) == 0) {
			w->lookups++;
			mem_free(redirect);
			redirect = check_strdup(t + 9);
		} else if (strncasecmp(t, "exists:", 7) == 0) {
			w->lookups++;
			if (strchr(t + 7, '%') == NULL)
				spf_probe(w, t + 7, DNS_TYPE_A);
		} else if (strncasecmp(t, "ptr", 3) == 0 &&
		    (t[3] == '\0' || t[3] == ':' || t[3] == '/')) {
			w->lookups++;
		} else if ((strncasecmp(t, "a", 1) == 0 && (t[1] == '\0' ||
		    t[1] == ':' || t[1] == '/')) || (strncasecmp(t, "mx", 2)
		    == 0 && (t[2] == '\0' || t[2] == ':' || t[2] == '/'))) {
			bool mx = (t[0] == 'm' || t[0] == 'M');
			char host[256];
			const char *h = domain;

			w->lookups++;
			if (arg != NULL && *arg == ':') {
				len = strcspn(arg + 1, "/");
				if (len >= sizeof(host))
					len = sizeof(host) - 1;
				memcpy(host, arg + 1, len);
				host[len] = '\0';
				h = host;
			}
			if (strchr(h, '%') == NULL)
				spf_probe(w, h, mx ? DNS_TYPE_MX : DNS_TYPE_A);
		}
	}
	/* RFC 7208 section 6.1: redirect is ignored when "all" is there. */
	if (redirect != NULL && !has_all)
		spf_follow(w, redirect, depth, true, top);
	mem_free(redirect);
}

void
check_spf_run(struct check_report *rep, struct dns_resolver *res)
{
	struct check_spf *s = &rep->spf;
	struct spf_walk w;
	struct strbuf out = STRBUF_INIT;
	enum spf_screen_status sst;
	enum dns_status st;
	size_t off = 0, i;
	char snippet[] = "v=spf1 mx -all";

	memset(&w, 0, sizeof(w));
	w.rep = rep;
	w.res = res;
	st = spf_fetch(&w, rep->domain, &s->record, &s->nrecords);
	if (dns_status_is_temporary(st))
		return;
	if (st != DNS_OK && st != DNS_NXDOMAIN && st != DNS_NODATA) {
		check_issue_add(rep, "spf_lookup_error", NULL, NULL,
		    "the TXT records of %s cannot be read (%s): receivers "
		    "return permerror", rep->domain, dns_strerror(st));
		return;
	}
	s->present = s->record != NULL;
	if (!s->present) {
		check_issue_add(rep, "spf_missing", rep->domain, snippet,
		    "%s has no SPF record", rep->domain);
		return;
	}
	if (s->nrecords > 1) {
		check_issue_add(rep, "spf_multiple", NULL, NULL,
		    "%s has %zu SPF records; receivers return permerror",
		    rep->domain, s->nrecords);
	}
	sst = spf_screen_record(s->record, strlen(s->record), &out, &off);
	strbuf_release(&out);
	if (sst != SPF_SCREEN_OK) {
		check_issue_add(rep, "spf_syntax", NULL, NULL,
		    "SPF record at %s: %s at byte %zu", rep->domain,
		    spf_screen_strerror(sst), off);
		return;
	}
	s->valid = s->nrecords == 1;
	spf_walk_record(&w, rep->domain, s->record, 0, true);
	s->lookups = w.lookups;
	s->void_lookups = w.voids;
	s->all[0] = w.all;
	s->all[1] = '\0';
	if (w.lookups > CHECK_SPF_MAX_LOOKUPS) {
		s->valid = false;
		check_issue_add(rep, "spf_too_many_lookups", NULL, NULL,
		    "SPF for %s needs %d DNS look-ups; the limit is %d",
		    rep->domain, w.lookups, CHECK_SPF_MAX_LOOKUPS);
	}
	if (w.voids > CHECK_SPF_MAX_VOID) {
		s->valid = false;
		check_issue_add(rep, "spf_too_many_void_lookups", NULL, NULL,
		    "SPF for %s makes %d void look-ups; the limit is %d",
		    rep->domain, w.voids, CHECK_SPF_MAX_VOID);
	}
	switch (w.all) {
	case '+':
		check_issue_add(rep, "spf_plus_all", NULL, NULL,
		    "SPF for %s ends in +all: every host may send for it",
		    rep->domain);
		break;
	case '?':
		check_issue_add(rep, "spf_neutral_all", NULL, NULL,
		    "SPF for %s ends in ?all: unlisted hosts get neutral",
		    rep->domain);
		break;
	case '~':
		check_issue_add(rep, "spf_softfail_all", NULL, NULL,
		    "SPF for %s ends in ~all (softfail)", rep->domain);
		break;
	case '-':
		break;
	default:
		check_issue_add(rep, "spf_no_all", NULL, NULL,
		    "SPF for %s has no \"all\": unlisted hosts get neutral",
		    rep->domain);
	}
	for (i = 0; i < w.nseen; i++)
		mem_free(w.seen[i]);
}

void
check_spf_clear(struct check_spf *s)
{
	mem_free(s->record);
	memset(s, 0, sizeof(*s));
}
