/*
 * check_online.c - `dmarcctl check DOMAIN...`: the online checker.
 *
 * For each domain: DMARC discovery as a receiver does it (policy/discover,
 * tree walk or PSL), the TXT strings at the policy domain graded by
 * policy/grade.c; the authorization record of each external report
 * destination (RFC 9990 section 3, RFC 7489 section 7.1); SPF
 * (check_spf.c); DKIM keys (check_dkim.c); and a one-line readiness
 * verdict.  Output as text or as the checker's JSON, a superset of seed
 * 003's shape.  The verdict also reads the aggregate reports imported
 * for the domain (dmarcctl import) when a database is given: legitimate
 * sources still failing DMARC block the next policy step and are named
 * (the rule: check_blocker_add(), documented in dmarcctl(8)).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check_online.h"
#include "cli.h"
#include "common/json.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "dns/resolver.h"
#include "policy/discover.h"

#define CRIT	GRADE_SEV_CRITICAL
#define HIGH	GRADE_SEV_HIGH
#define MED	GRADE_SEV_MEDIUM
#define LOW	GRADE_SEV_LOW
#define INFO	GRADE_SEV_INFO

static const struct check_code_info codes[] = {
	{ "dmarc_rua_unauthorized", "dmarc", MED, 5,
	  "RFC 9990 3; RFC 7489 7.1",
	  "Ask the report receiver to publish the record shown, or use an "
	  "address in your own domain." },
	{ "dmarc_ruf_unauthorized", "dmarc", LOW, 0,
	  "RFC 9991; RFC 7489 7.1",
	  "Ask the report receiver to publish the record shown." },
	{ "dmarc_lookup_error", "dmarc", CRIT, 0,
	  "RFC 9989 4.10 (scored as dmarc_missing)",
	  "Publish one TXT record of at most 8192 bytes at _dmarc, without "
	  "a CNAME loop; receivers cannot read this one." },
	{ "spf_missing", "spf", HIGH, 15, "RFC 7208 4.5 (weight ours)",
	  "Publish one SPF record listing the hosts that send your mail, "
	  "ending in -all." },
	{ "spf_multiple", "spf", HIGH, 15, "RFC 7208 4.5",
	  "Merge the SPF records into one." },
	{ "spf_lookup_error", "spf", HIGH, 15, "RFC 7208 4.4, 4.5",
	  "Publish one TXT record that receivers can read: at most 4096 "
	  "bytes, no CNAME loop; they return permerror for this one." },
	{ "spf_syntax", "spf", HIGH, 15, "RFC 7208 4.6, 12",
	  "Fix the record's syntax; receivers return permerror." },
	{ "spf_include_missing", "spf", HIGH, 10, "RFC 7208 5.2, 6.1",
	  "Remove or correct the include:/redirect= target." },
	{ "spf_too_many_lookups", "spf", HIGH, 10, "RFC 7208 4.6.4",
	  "Reduce include:, a, mx, ptr, exists and redirect terms to 10 "
	  "DNS look-ups in all (flatten includes or use ip4:/ip6:)." },
	{ "spf_too_many_void_lookups", "spf", HIGH, 10, "RFC 7208 4.6.4",
	  "Remove terms whose names do not exist or have no records." },
	{ "spf_plus_all", "spf", CRIT, 20, "RFC 7208 5.1, 11",
	  "End the record in -all (or ~all while testing)." },
	{ "spf_neutral_all", "spf", MED, 5, "RFC 7208 5.1, 8.2",
	  "End the record in -all (or ~all while testing)." },
	{ "spf_no_all", "spf", LOW, 2, "RFC 7208 4.7, 5.1",
	  "End the record in -all." },
	{ "spf_softfail_all", "spf", INFO, 0, "RFC 7208 8.5",
	  "Once every sender is listed, end the record in -all." },
	{ "dkim_not_found", "dkim", LOW, 0, "RFC 6376 3.6.2.1",
	  "Give your selectors with --selector; sign outgoing mail with "
	  "DKIM." },
	{ "dkim_selector_missing", "dkim", MED, 5, "RFC 6376 3.6.2.1",
	  "Publish the key of this selector, or stop signing with it." },
	{ "dkim_key_invalid", "dkim", HIGH, 10, "RFC 6376 3.6.1",
	  "Publish the key record your signer prints (v=DKIM1; k=rsa; "
	  "p=<base64 key>)." },
	{ "dkim_unknown_algorithm", "dkim", MED, 5, "RFC 6376 3.6.1; 8463",
	  "Use k=rsa or k=ed25519." },
	{ "dkim_key_too_weak", "dkim", HIGH, 15, "RFC 8301 3.2",
	  "Generate a 2048-bit RSA key and publish it under a new "
	  "selector." },
	{ "dkim_key_short", "dkim", LOW, 2, "RFC 8301 3.2 (2048 advised)",
	  "Move to a 2048-bit RSA key under a new selector." },
	{ "dkim_sha1_only", "dkim", HIGH, 10, "RFC 8301 3.1",
	  "Remove h= or include sha256 in it." },
	{ "dkim_key_revoked", "dkim", INFO, 0, "RFC 6376 3.6.1 p",
	  "Remove the record once no signer uses the selector." },
	{ "dkim_testing", "dkim", LOW, 0, "RFC 6376 3.6.1 t",
	  "Remove t=y once signatures verify." },
};

const struct check_code_info *
check_code_table(size_t *n)
{
	*n = sizeof(codes) / sizeof(codes[0]);
	return codes;
}

static void
nomem(void)
{
	cli_error("check", "out of memory");
	exit(EX_OSERR);
}

char *
check_strdup(const char *s)
{
	char *p = mem_strdup(s);

	if (p == NULL)
		nomem();
	return p;
}

char *
check_strndup(const char *s, size_t n)
{
	char *p = mem_strndup(s, n);

	if (p == NULL)
		nomem();
	return p;
}

void
check_issue_add(struct check_report *rep, const char *code,
    const char *snippet_name, const char *snippet_value, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	struct check_issue *is;
	va_list ap;
	size_t i;

	if (rep->nissues >= CHECK_MAX_ISSUES)
		return;
	is = &rep->issues[rep->nissues];
	memset(is, 0, sizeof(*is));
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].code, code) == 0)
			is->info = &codes[i];
	if (is->info == NULL)
		abort();	/* a code missing from the table: a bug */
	va_start(ap, fmt);
	strbuf_vappendf(&msg, fmt, ap);
	va_end(ap);
	if (strbuf_failed(&msg))
		nomem();
	is->message = strbuf_steal(&msg);
	if (snippet_name != NULL) {
		is->snippet_name = check_strdup(snippet_name);
		is->snippet_value = check_strdup(snippet_value);
	}
	rep->nissues++;
}

void
check_dns_failed(struct check_report *rep, const char *name, const char *why)
{
	struct strbuf m = STRBUF_INIT;

	rep->dns_failed = true;
	if (rep->dns_error != NULL)
		return;
	strbuf_appendf(&m, "%s: %s", name, why);
	if (strbuf_failed(&m))
		nomem();
	rep->dns_error = strbuf_steal(&m);
}

/*
 * The TXT strings at _dmarc.<name> into *a; false on a temporary failure.
 * An answer that cannot be read for good (over a bound, a CNAME loop) is
 * noted in *unreadable (a new string naming it, freed by the caller).
 */
static bool
dmarc_txt(struct check_report *rep, struct dns_resolver *res,
    const char *name, struct dns_answer *a, char **unreadable)
{
	struct strbuf q = STRBUF_INIT;
	enum dns_status st;

	strbuf_appendf(&q, "_dmarc.%s", name);
	st = dns_query_txt(res, strbuf_cstr(&q), NULL, a);
	if (st != DNS_OK && dns_status_is_temporary(st))
		check_dns_failed(rep, strbuf_cstr(&q), dns_strerror(st));
	else if (st != DNS_OK && st != DNS_NXDOMAIN && st != DNS_NODATA &&
	    *unreadable == NULL) {
		strbuf_appendf(&q, ": %s", dns_strerror(st));
		if (strbuf_failed(&q))
			nomem();
		*unreadable = strbuf_steal(&q);
	}
	strbuf_release(&q);
	return !rep->dns_failed;
}

static int
grade_answer(struct check_report *rep, const struct dns_answer *a,
    const char *found_at, const char *org)
{
	const char *txts[GRADE_MAX_TXT];
	size_t lens[GRADE_MAX_TXT];
	struct grade_input in;
	size_t i, n = 0;

	for (i = 0; a->status == DNS_OK && i < a->nrr && n < GRADE_MAX_TXT;
	    i++) {
		txts[n] = a->rr[i].u.txt.data;
		lens[n++] = a->rr[i].u.txt.len;
	}
	memset(&in, 0, sizeof(in));
	in.domain = rep->domain;
	in.txts = txts;
	in.txtlens = lens;
	in.ntxt = n;
	in.found_at = found_at;
	in.org_domain = org;
	return grade_check(&in, &rep->grade) == GRADE_OK ? 0 : -1;
}

/* The host of a mailto: URI, lower-cased, into buf; false if none. */
static bool
mailto_host(const char *uri, char *buf, size_t len)
{
	const char *at, *end;
	size_t i, n;

	if (strncasecmp(uri, "mailto:", 7) != 0 ||
	    (at = strrchr(uri, '@')) == NULL)
		return false;
	at++;
	end = at + strcspn(at, "!?,>");
	if ((n = (size_t)(end - at)) == 0 || n >= len)
		return false;
	for (i = 0; i < n; i++)
		buf[i] = (char)(at[i] >= 'A' && at[i] <= 'Z' ? at[i] + 32 :
		    at[i]);
	buf[n] = '\0';
	return true;
}

/*
 * RFC 9990 section 3 (RFC 7489 section 7.1): a destination outside the
 * policy domain's Organizational Domain must publish
 * <policy domain>._report._dmarc.<host> TXT "v=DMARC1".
 */
static void
check_report_auth(struct check_report *rep, const struct cli_discovery *d,
    const char *org, const struct dmarc_uri *u, size_t n, bool ruf)
{
	const char *pd = rep->grade->policy_domain;
	struct strbuf name = STRBUF_INIT;
	struct dns_answer a;
	enum dns_status st;
	char host[256], *horg;
	size_t i, j;
	bool ok;

	for (i = 0; i < n; i++) {
		if (!u[i].valid || !mailto_host(u[i].uri, host, sizeof(host)))
			continue;
		horg = NULL;
		if (orgdomain_find(&d->oc, host, &horg, NULL) != ORGDOMAIN_OK)
			horg = NULL;
		ok = org != NULL && horg != NULL ? strcasecmp(org, horg) == 0 :
		    strcasecmp(host, pd) == 0;
		mem_free(horg);
		if (ok)
			continue;
		strbuf_reset(&name);
		strbuf_appendf(&name, "%s._report._dmarc.%s", pd, host);
		st = dns_query_txt(d->res, strbuf_cstr(&name), NULL, &a);
		ok = false;
		for (j = 0; st == DNS_OK && j < a.nrr; j++)
			if (strncasecmp(a.rr[j].u.txt.data, "v=DMARC1", 8) == 0)
				ok = true;
		if (!ok && dns_status_is_temporary(st))
			check_dns_failed(rep, strbuf_cstr(&name),
			    dns_strerror(st));
		else if (!ok)
			check_issue_add(rep, ruf ? "dmarc_ruf_unauthorized" :
			    "dmarc_rua_unauthorized", strbuf_cstr(&name),
			    "v=DMARC1;", "%s is outside %s and has not "
			    "authorized its reports: no v=DMARC1 record at %s",
			    u[i].uri, org != NULL ? org : pd,
			    strbuf_cstr(&name));
		dns_answer_clear(&a);
	}
	strbuf_release(&name);
}

/*
 * Drop the grader's issues with code: the online check has looked up
 * what the grader could only guess at.  Their weight is 0 (the table in
 * policy/grade.c), so the score stands.
 */
static void
drop_grade_issues(struct grade_result *g, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < g->nissues; i++) {
		struct grade_issue *is = &g->issues[i];

		if (strcmp(is->code, code) != 0) {
			g->issues[n++] = *is;
			continue;
		}
		mem_free(is->message);
		mem_free(is->remediation);
		mem_free(is->snippet.name);
		mem_free(is->snippet.value);
	}
	g->nissues = n;
}

static int
check_dmarc(struct check_report *rep, const struct cli_discovery *d)
{
	struct discover_result *dr = NULL;
	struct dns_answer a;
	const char *found_at = NULL, *org = NULL;
	const struct dmarc_record *r;
	enum discover_status dst;
	char *unreadable = NULL;
	int rc = 0;

	dns_answer_init(&a);
	dst = discover_policy(&d->oc, rep->domain, &dr);
	if (dr == NULL) {
		cli_error("check", "%s: %s", rep->domain,
		    discover_strerror(dst));
		return -1;
	}
	if (dr->status == DISCOVER_TEMPERROR) {
		check_dns_failed(rep, rep->domain, "DMARC discovery failed");
		goto done;
	}
	org = dr->orgdomain;
	if (org != NULL)
		rep->org_domain = check_strdup(org);
	if (!dmarc_txt(rep, d->res, dr->author, &a, &unreadable))
		goto done;
	/*
	 * Nothing at the domain's own _dmarc name: grade what discovery
	 * found higher up, as inherited.
	 */
	if (a.status != DNS_OK && dr->policy_domain != NULL &&
	    strcmp(dr->policy_domain, dr->author) != 0) {
		dns_answer_clear(&a);
		found_at = dr->policy_domain;
		if (!dmarc_txt(rep, d->res, found_at, &a, &unreadable))
			goto done;
	}
	if (grade_answer(rep, &a, found_at, org) != 0) {
		cli_error("check", "%s: cannot grade its DMARC record",
		    rep->domain);
		rc = -1;
		goto done;
	}
	/* Not "no record": one is there that receivers cannot read. */
	if (unreadable != NULL && !rep->grade->present) {
		drop_grade_issues(rep->grade, "dmarc_missing");
		check_issue_add(rep, "dmarc_lookup_error", NULL, NULL,
		    "%s: receivers cannot read the DMARC record, so no "
		    "DMARC policy applies", unreadable);
	}
	if (rep->grade->valid && (r = rep->grade->parsed) != NULL) {
		check_report_auth(rep, d, org, r->rua, r->nrua, false);
		check_report_auth(rep, d, org, r->ruf, r->nruf, true);
		/* Replaced by dmarc_r?f_unauthorized, or found authorized. */
		if (!rep->dns_failed) {
			drop_grade_issues(rep->grade, "dmarc_rua_external");
			drop_grade_issues(rep->grade, "dmarc_ruf_external");
		}
	}
done:
	mem_free(unreadable);
	dns_answer_clear(&a);
	discover_result_free(dr);
	return rc;
}

/*
 * The issues that only say where the domain stands on the progression
 * (none, quarantine, reject): they are what the verdict reports, not
 * what holds it back.
 */
static bool
is_progression(const char *code)
{
	return strcmp(code, "dmarc_policy_none") == 0 ||
	    strcmp(code, "dmarc_policy_quarantine") == 0 ||
	    strcmp(code, "dmarc_low_pct") == 0;
}

/*
 * The issues of rep, the grader's and the online check's, of severity
 * sev or worse; with no_progression, not counting the grader's
 * progression ones.
 */
static size_t
count_issues(const struct check_report *rep, enum grade_severity sev,
    bool no_progression)
{
	size_t i, n = 0;

	for (i = 0; i < rep->grade->nissues; i++)
		if (rep->grade->issues[i].severity <= sev &&
		    !(no_progression &&
		    is_progression(rep->grade->issues[i].code)))
			n++;
	for (i = 0; i < rep->nissues; i++)
		if (rep->issues[i].info->severity <= sev)
			n++;
	return n;
}

/*
 * A source of the reports is legitimate when some of its messages pass
 * DMARC (aligned SPF or DKIM pass), or when its raw results show an SPF
 * or DKIM pass for the organizational domain or below it (the domain's
 * own mail that fails only alignment).  It blocks the next step when at
 * least CHECK_READY_FAIL_PCT per cent of its messages fail DMARC.  The
 * blockers named are those with the most failing messages.
 */
static int
check_blocker_add(const struct store_agg_source *src, void *arg)
{
	struct check_history *h = arg;
	struct check_blocker *b;
	uint64_t failed = src->messages - src->passed;
	size_t i, min = 0;

	if (src->passed == 0 && src->auth_passed == 0)
		return 0;
	h->legitimate++;
	if (failed == 0 || failed * 100 < src->messages *
	    CHECK_READY_FAIL_PCT)
		return 0;
	h->blocking++;
	if (h->nblockers < CHECK_MAX_BLOCKERS)
		b = &h->blockers[h->nblockers++];
	else {
		for (i = 1; i < h->nblockers; i++)
			if (h->blockers[i].messages - h->blockers[i].passed <
			    h->blockers[min].messages - h->blockers[min].passed)
				min = i;
		b = &h->blockers[min];
		if (b->messages - b->passed >= failed)
			return 0;
	}
	memset(b, 0, sizeof(*b));
	snprintf(b->source_ip, sizeof(b->source_ip), "%s", src->source_ip);
	b->messages = src->messages;
	b->passed = src->passed;
	b->auth_passed = src->auth_passed;
	return 0;
}

static int
blocker_cmp(const void *a, const void *b)
{
	const struct check_blocker *x = a, *y = b;
	uint64_t fx = x->messages - x->passed, fy = y->messages - y->passed;

	if (fx != fy)
		return fx > fy ? -1 : 1;
	return strcmp(x->source_ip, y->source_ip);
}

/* Read the imported reports of the policy domain; -1 after an error. */
static int
check_history_read(struct check_report *rep, const char *database,
    unsigned days)
{
	struct check_history *h = &rep->hist;
	struct strbuf err = STRBUF_INIT;
	const struct grade_result *g = rep->grade;
	enum store_status st;

	h->database = database;
	h->days = days;
	if (database == NULL || !g->valid || g->policy_domain == NULL)
		return 0;
	st = store_agg_sources(database, g->policy_domain,
	    rep->org_domain != NULL ? rep->org_domain : g->policy_domain,
	    days, &h->sum, check_blocker_add, h, &err);
	if (st != STORE_OK) {
		cli_error("check", "%s: %s", rep->domain, strbuf_cstr(&err));
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	qsort(h->blockers, h->nblockers, sizeof(h->blockers[0]), blocker_cmp);
	return 0;
}

static void
append_blockers(struct strbuf *v, const struct check_history *h)
{
	size_t i;

	strbuf_appendf(v, "%llu legitimate source%s still fail%s DMARC: ",
	    (unsigned long long)h->blocking, h->blocking == 1 ? "" : "s",
	    h->blocking == 1 ? "s" : "");
	for (i = 0; i < h->nblockers; i++)
		strbuf_appendf(v, "%s%s (%llu of %llu failing)", i ? ", " : "",
		    h->blockers[i].source_ip, (unsigned long long)
		    (h->blockers[i].messages - h->blockers[i].passed),
		    (unsigned long long)h->blockers[i].messages);
	if (h->blocking > h->nblockers)
		strbuf_appendf(v, " and %llu more", (unsigned long long)
		    (h->blocking - h->nblockers));
}

/*
 * One line on the policy progression (seed: none, then quarantine, then
 * reject), starting with the verdict: "not protected", "monitoring",
 * "ready for quarantine", "ready for reject" or "enforcing".
 */
static char *
check_verdict(const struct check_report *rep)
{
	const struct grade_result *g = rep->grade;
	const struct check_history *h = &rep->hist;
	struct strbuf v = STRBUF_INIT;
	const char *next = "quarantine";
	size_t errors = count_issues(rep, GRADE_SEV_HIGH, true);

	if (!g->valid) {
		strbuf_appends(&v, "not protected: publish a valid DMARC "
		    "record (p=none) and read the reports");
		goto done;
	}
	if (g->policy == DMARC_POLICY_REJECT && (g->percentage < 0 ||
	    g->percentage >= 100)) {
		strbuf_appends(&v, "enforcing: p=reject");
		if (h->blocking > 0) {
			strbuf_appends(&v, "; ");
			append_blockers(&v, h);
		}
		goto done;
	}
	if (g->policy == DMARC_POLICY_REJECT || g->policy ==
	    DMARC_POLICY_QUARANTINE)
		next = "reject";
	if (errors > 0 || h->blocking > 0) {
		if (g->policy == DMARC_POLICY_NONE)
			strbuf_appends(&v, "monitoring: p=none");
		else if (g->policy == DMARC_POLICY_QUARANTINE)
			strbuf_appends(&v, "enforcing: p=quarantine");
		else
			strbuf_appendf(&v, "enforcing: p=reject on %d%% of "
			    "the mail", g->percentage);
		if (errors > 0)
			strbuf_appendf(&v, "; fix the %zu error%s first",
			    errors, errors == 1 ? "" : "s");
		if (h->blocking > 0) {
			strbuf_appends(&v, "; ");
			append_blockers(&v, h);
		}
		strbuf_appendf(&v, "; then p=%s%s", next, g->policy ==
		    DMARC_POLICY_REJECT ? " for all mail" : "");
		goto done;
	}
	strbuf_appendf(&v, "ready for %s: ", next);
	if (g->policy == DMARC_POLICY_REJECT)
		strbuf_appendf(&v, "drop pct=%d so that p=reject covers all "
		    "mail; ", g->percentage);
	if (h->database != NULL && h->sum.reports > 0)
		strbuf_appendf(&v, "%llu aggregate report%s, %llu messages, "
		    "%llu legitimate source%s, none failing",
		    (unsigned long long)h->sum.reports,
		    h->sum.reports == 1 ? "" : "s",
		    (unsigned long long)h->sum.messages,
		    (unsigned long long)h->legitimate,
		    h->legitimate == 1 ? "" : "s");
	else
		strbuf_appendf(&v, "no aggregate reports read (%s); move once "
		    "they show no legitimate source failing",
		    h->database != NULL ? "none imported for this domain" :
		    "give --database");
done:
	if (strbuf_failed(&v))
		nomem();
	return strbuf_steal(&v);
}

static int
check_score(const struct check_report *rep)
{
	int s = rep->grade->score;
	size_t i;

	for (i = 0; i < rep->nissues; i++)
		s -= rep->issues[i].info->weight;
	return s < 0 ? 0 : s;
}

static int
check_exit(const struct check_report *rep)
{
	if (rep->dns_failed)
		return EX_TEMPFAIL;
	if (count_issues(rep, GRADE_SEV_HIGH, false) > 0)
		return 2;
	return count_issues(rep, GRADE_SEV_LOW, false) > 0 ? 1 : EX_OK;
}

static void
json_issue(struct json *j, const struct check_issue *is)
{
	json_object_begin(j);
	json_kv_string(j, "severity", grade_severity_name(is->info->severity));
	json_kv_string(j, "category", is->info->category);
	json_kv_string(j, "code", is->info->code);
	json_kv_string(j, "message", is->message);
	json_kv_string(j, "remediation", is->info->remedy);
	json_key(j, "dns_snippet");
	if (is->snippet_name != NULL) {
		json_object_begin(j);
		json_kv_string(j, "name", is->snippet_name);
		json_kv_string(j, "type", "TXT");
		json_kv_string(j, "value", is->snippet_value);
		json_object_end(j);
	} else
		json_null(j);
	json_key(j, "position");
	json_null(j);
	json_object_end(j);
}

static void
json_time(struct json *j, const char *key, time_t t)
{
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	json_kv_string(j, key, buf);
}

/* The imported reports behind the verdict; null without --database. */
static void
write_json_history(const struct check_history *h, struct json *j)
{
	const struct check_blocker *b;
	size_t i;

	if (h->database == NULL) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_kv_int(j, "reports", (int64_t)h->sum.reports);
	json_kv_int(j, "messages", (int64_t)h->sum.messages);
	json_kv_int(j, "dmarc_pass", (int64_t)h->sum.passed);
	json_kv_int(j, "sources", (int64_t)h->sum.sources);
	json_kv_int(j, "legitimate_sources", (int64_t)h->legitimate);
	json_kv_int(j, "window_days", h->days);
	if (h->sum.reports > 0) {
		json_time(j, "begin", h->sum.begin);
		json_time(j, "end", h->sum.end);
	}
	json_kv_int(j, "failing_legitimate_sources", (int64_t)h->blocking);
	json_key(j, "failing");
	json_array_begin(j);
	for (i = 0; i < h->nblockers; i++) {
		b = &h->blockers[i];
		json_object_begin(j);
		json_kv_string(j, "source_ip", b->source_ip);
		json_kv_int(j, "messages", (int64_t)b->messages);
		json_kv_int(j, "dmarc_pass", (int64_t)b->passed);
		json_kv_int(j, "dmarc_fail", (int64_t)(b->messages -
		    b->passed));
		json_kv_int(j, "authenticated_unaligned",
		    (int64_t)b->auth_passed);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void
write_json(const struct check_report *rep, struct json *j)
{
	const struct check_dkim_key *k;
	size_t i;

	json_object_begin(j);
	json_kv_string(j, "domain", rep->domain);
	json_key(j, "dmarc");
	grade_write_json_dmarc(rep->grade, j);
	json_key(j, "spf");
	json_object_begin(j);
	json_kv_bool(j, "present", rep->spf.present);
	json_kv_bool(j, "valid", rep->spf.valid);
	json_kv_string(j, "record", rep->spf.record);
	json_kv_int(j, "records", (int64_t)rep->spf.nrecords);
	json_kv_int(j, "lookups", rep->spf.lookups);
	json_kv_int(j, "void_lookups", rep->spf.void_lookups);
	json_kv_string(j, "all", rep->spf.all[0] != '\0' ? rep->spf.all :
	    NULL);
	json_object_end(j);
	json_key(j, "dkim");
	json_object_begin(j);
	json_key(j, "selectors");
	json_array_begin(j);
	for (i = 0; i < rep->ndkim; i++) {
		k = &rep->dkim[i];
		json_object_begin(j);
		json_kv_string(j, "selector", k->selector);
		json_kv_bool(j, "present", k->present);
		json_kv_bool(j, "valid", k->valid);
		json_kv_string(j, "algorithm", k->algorithm);
		json_key(j, "key_bits");
		if (k->key_bits > 0)
			json_int(j, k->key_bits);
		else
			json_null(j);
		json_kv_bool(j, "testing", k->testing);
		json_kv_bool(j, "revoked", k->revoked);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_kv_string(j, "readiness", rep->verdict);
	/* The verdict alone: the line up to its colon. */
	json_key(j, "readiness_verdict");
	json_stringn(j, rep->verdict, strcspn(rep->verdict, ":"));
	json_key(j, "reports");
	write_json_history(&rep->hist, j);
	json_kv_int(j, "score", rep->score);
	json_key(j, "issues");
	json_array_begin(j);
	for (i = 0; i < rep->grade->nissues; i++)
		grade_write_json_issue(&rep->grade->issues[i], j);
	for (i = 0; i < rep->nissues; i++)
		json_issue(j, &rep->issues[i]);
	json_array_end(j);
	json_object_end(j);
}

static const char *
sev_colour(enum grade_severity s, bool tty)
{
	if (!tty)
		return "";
	if (s <= GRADE_SEV_HIGH)
		return "\033[1;31m";
	return s <= GRADE_SEV_LOW ? "\033[33m" : "\033[36m";
}

static void
print_issue(bool tty, enum grade_severity sev, const char *code,
    const char *msg, const char *fix, const char *sname, const char *svalue)
{
	printf("  %s[%s]%s %s: %s\n", sev_colour(sev, tty),
	    grade_severity_name(sev), tty ? "\033[0m" : "", code, msg);
	if (fix != NULL)
		printf("      fix: %s\n", fix);
	if (sname != NULL)
		printf("      publish: %s. IN TXT \"%s\"\n", sname, svalue);
}

static void
write_text(const struct check_report *rep)
{
	const struct grade_result *g = rep->grade;
	const struct check_dkim_key *k;
	bool tty = cli_stdout_is_tty();
	size_t i;

	printf("%s: score %d/100\n", rep->domain, rep->score);
	if (!g->present)
		printf("  DMARC: none\n");
	else
		printf("  DMARC: %s%s at _dmarc.%s \"%s\"\n", g->valid ?
		    "valid" : "invalid", g->inherited ? " (inherited)" : "",
		    g->policy_domain, g->record != NULL ? g->record : "");
	if (!rep->spf.present)
		printf("  SPF: none\n");
	else
		printf("  SPF: %s \"%s\", %d look-ups, %d void\n",
		    rep->spf.valid ? "valid" : "invalid", rep->spf.record,
		    rep->spf.lookups, rep->spf.void_lookups);
	for (i = 0; i < rep->ndkim; i++) {
		k = &rep->dkim[i];
		if (!k->present)
			printf("  DKIM %s: none\n", k->selector);
		else if (k->revoked)
			printf("  DKIM %s: revoked\n", k->selector);
		else
			printf("  DKIM %s: %s %s %d bits%s\n", k->selector,
			    k->valid ? "valid" : "invalid",
			    k->algorithm != NULL ? k->algorithm : "?",
			    k->key_bits, k->testing ? ", testing" : "");
	}
	if (rep->hist.database != NULL)
		printf("  reports: %llu imported, %llu messages, %llu passing "
		    "DMARC, %llu sources (%llu legitimate)\n",
		    (unsigned long long)rep->hist.sum.reports,
		    (unsigned long long)rep->hist.sum.messages,
		    (unsigned long long)rep->hist.sum.passed,
		    (unsigned long long)rep->hist.sum.sources,
		    (unsigned long long)rep->hist.legitimate);
	printf("  readiness: %s\n", rep->verdict);
	for (i = 0; i < g->nissues; i++)
		print_issue(tty, g->issues[i].severity, g->issues[i].code,
		    g->issues[i].message, g->issues[i].remediation,
		    g->issues[i].snippet.name, g->issues[i].snippet.value);
	for (i = 0; i < rep->nissues; i++)
		print_issue(tty, rep->issues[i].info->severity,
		    rep->issues[i].info->code, rep->issues[i].message,
		    rep->issues[i].info->remedy, rep->issues[i].snippet_name,
		    rep->issues[i].snippet_value);
}

static void
report_clear(struct check_report *rep)
{
	size_t i;

	mem_free(rep->domain);
	mem_free(rep->org_domain);
	mem_free(rep->verdict);
	mem_free(rep->dns_error);
	grade_result_free(rep->grade);
	check_spf_clear(&rep->spf);
	for (i = 0; i < rep->ndkim; i++)
		check_dkim_clear(&rep->dkim[i]);
	for (i = 0; i < rep->nissues; i++) {
		mem_free(rep->issues[i].message);
		mem_free(rep->issues[i].snippet_name);
		mem_free(rep->issues[i].snippet_value);
	}
}

/*
 * Check one domain; print it (sink NULL) or write its JSON into sink;
 * return its exit status.  With a sink, a failure that leaves no JSON
 * writes its reason into sink instead.
 */
static int
check_one(const struct cli_discovery *d, const char *domain, bool json,
    const char *const *sels, size_t nsels, const char *database,
    unsigned days, struct strbuf *sink)
{
	struct check_report *rep;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	int rc;

	if ((rep = mem_calloc(1, sizeof(*rep))) == NULL)
		nomem();
	rep->domain = check_strdup(domain);
	if (check_dmarc(rep, d) != 0) {
		if (sink != NULL)
			strbuf_appendf(sink, "%s: not a domain that can be "
			    "checked", domain);
		rc = EX_DATAERR;
		goto done;
	}
	if (rep->grade == NULL) {
		if (sink != NULL)
			strbuf_appendf(sink, "%s: DNS failure: %s", domain,
			    rep->dns_error);
		else
			cli_error("check", "%s: DNS failure: %s", domain,
			    rep->dns_error);
		rc = EX_TEMPFAIL;
		goto done;
	}
	mem_free(rep->domain);
	rep->domain = check_strdup(rep->grade->domain);
	check_spf_run(rep, d->res);
	check_dkim_run(rep, d->res, sels, nsels);
	rep->score = check_score(rep);
	if (check_history_read(rep, database, days) != 0) {
		if (sink != NULL)
			strbuf_appendf(sink, "%s: cannot read the report "
			    "history", domain);
		rc = EX_IOERR;
		goto done;
	}
	rep->verdict = check_verdict(rep);
	if (sink != NULL) {
		json_init(&j, sink, true);
		write_json(rep, &j);
	} else if (json) {
		json_init(&j, &out, true);
		write_json(rep, &j);
		printf("%s\n", strbuf_cstr(&out));
	} else
		write_text(rep);
	rc = check_exit(rep);
	if (rep->dns_failed && sink == NULL)
		cli_error("check", "%s: DNS failure: %s (results are "
		    "incomplete)", domain, rep->dns_error);
done:
	strbuf_release(&out);
	report_clear(rep);
	mem_free(rep);
	return rc;
}

int
check_online_json(const struct cli_discovery *d, const char *domain,
    const char *database, unsigned days, struct strbuf *out)
{
	return check_one(d, domain, true, NULL, 0, database, days, out);
}

int
check_online(struct cli_ctx *ctx, struct cli_discovery *d, bool json,
    const char *selectors, const char *database, unsigned days,
    char **domains, int ndomains)
{
	char *list = NULL, *p, *save = NULL;
	const char *sels[CHECK_MAX_SELECTORS];
	size_t nsels = 0;
	int i, rc, worst = EX_OK;

	if (selectors != NULL) {
		list = check_strdup(selectors);
		for (p = strtok_r(list, ", ", &save); p != NULL &&
		    nsels < CHECK_MAX_SELECTORS; p = strtok_r(NULL, ", ", &save))
			sels[nsels++] = p;
	}
	if ((rc = cli_discovery_open(d, ctx, "check", true)) != EX_OK)
		goto done;
	for (i = 0; i < ndomains; i++) {
		rc = check_one(d, domains[i], json, selectors != NULL ? sels :
		    NULL, nsels, database, days, NULL);
		/* The worst status wins; DNS and usage failures over all. */
		if (rc > 2 || (worst <= 2 && rc > worst))
			worst = rc;
	}
	rc = worst;
done:
	cli_discovery_close(d);
	mem_free(list);
	return rc;
}
