/*
 * test_aggregate.c - aggregate reports from a crafted SQLite history:
 * grouping counts, exclusions, the report ID and filename, XML escaping,
 * and the XML byte for byte against the .ref files under tests/data/aggregate/.
 *
 *   test_aggregate               run the tests (TAP)
 *   test_aggregate --fill DB     write the crafted rows into DB and exit
 *                                (tests/report/test_report.sh uses it)
 * DMARCD_REGEN_REF=1 rewrites the .ref files instead of comparing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "report/aggregate.h"
#include "report/xml.h"
#include "store/store.h"

#define D1	1711497600	/* 2024-03-27T00:00:00Z */
#define D2	(D1 + 86400)

struct row {
	const char *domain, *ip, *from, *mfrom, *spf, *spf_scope;
	bool	 spf_aligned;
	const char *dkim;	/* store encoding, "" none */
	const char *disposition, *reasons, *comment, *action;
	const char *p;		/* "" = no policy */
	bool	 testing;
	long	 t;		/* received */
	int	 times;
};

static const struct row rows[] = {
	/* example.com, day 1: aligned passes from one IP, two groups */
	{ "example.com", "192.0.2.1", "example.com", "example.com", "pass",
	  "mfrom", true, "d=example.com;s=sel1;r=pass;a=1", "pass", "", "",
	  "accept", "reject", false, D1 + 100, 3 },
	{ "example.com", "192.0.2.1", "example.com", "example.com", "pass",
	  "mfrom", true,
	  "d=example.com;s=sel1;r=pass;a=1|d=esp.example;s=s2024;r=pass;a=0",
	  "pass", "", "", "accept", "reject", false, D1 + 200, 2 },
	/* the same signatures in another order are another set */
	{ "example.com", "192.0.2.1", "example.com", "example.com", "pass",
	  "mfrom", true,
	  "d=esp.example;s=s2024;r=pass;a=0|d=example.com;s=sel1;r=pass;a=1",
	  "pass", "", "", "accept", "reject", false, D1 + 250, 1 },
	/* forgeries */
	{ "example.com", "198.51.100.7", "example.com", "evil.example",
	  "fail", "mfrom", false, "", "reject", "", "", "reject", "reject",
	  false, D1 + 300, 2 },
	{ "example.com", "2001:db8::5", "sub.example.com", "sub.example.com",
	  "softfail", "mfrom", false, "d=example.com;s=sel1;r=fail;a=1",
	  "none", "sampled_out", "pct=50", "accept", "reject", false,
	  D1 + 400, 1 },
	{ "example.com", "203.0.113.9", "example.com", "lists.example",
	  "pass", "mfrom", false, "d=lists.example;s=list;r=pass;a=0",
	  "none", "mailing_list,local_policy", "list <a&b> \"x\"", "accept",
	  "reject", false, D1 + 500, 1 },
	/* null reverse-path: SPF of the HELO name */
	{ "example.com", "203.0.113.10", "example.com", "", "pass", "helo",
	  false, "", "reject", "", "", "reject", "reject", false, D1 + 600,
	  1 },
	/* not DMARC-evaluated: skipped client, no policy */
	{ "example.com", "127.0.0.1", "example.com", "example.com", "", "",
	  false, "", "", "", "", "skip", "reject", false, D1 + 700, 1 },
	{ "", "192.0.2.99", "nodmarc.example", "nodmarc.example", "pass",
	  "mfrom", true, "", "none", "", "", "accept", "", false, D1 + 800,
	  1 },
	{ "example.net", "192.0.2.98", "example.net", "example.net", "", "",
	  false, "", "", "", "", "skip", "none", false, D1 + 900, 1 },
	/* example.org: testing mode, then the record changes */
	{ "example.org", "192.0.2.50", "example.org", "example.org", "fail",
	  "mfrom", false, "d=example.org;s=k1;r=fail;a=1", "none",
	  "policy_test_mode", "caf\xc3\xa9 \x01 bad\xff", "accept",
	  "quarantine", true, D1 + 1000, 2 },
	{ "example.org", "192.0.2.50", "example.org", "example.org", "fail",
	  "mfrom", false, "d=example.org;s=k1;r=fail;a=1", "reject", "", "",
	  "reject", "reject", false, D1 + 2000, 1 },
	/* day 2 */
	{ "example.com", "192.0.2.1", "example.com", "example.com", "pass",
	  "mfrom", true, "d=example.com;s=sel1;r=pass;a=1", "pass", "", "",
	  "accept", "reject", false, D2 + 10, 4 },
};

static char tmpdir[256];
static char dbpath[300];

static void
make_record(struct store_record *r, const struct row *w, unsigned seq)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "mx1");
	snprintf(r->message_key, sizeof(r->message_key), "%032x", seq);
	r->received = w->t + seq % 7;
	snprintf(r->client_ip, sizeof(r->client_ip), "%s", w->ip);
	snprintf(r->helo, sizeof(r->helo), "mail.%s", w->from);
	snprintf(r->mail_from_domain, sizeof(r->mail_from_domain), "%s",
	    w->mfrom);
	snprintf(r->header_from, sizeof(r->header_from), "%s", w->from);
	snprintf(r->policy_domain, sizeof(r->policy_domain), "%s",
	    w->domain);
	snprintf(r->org_domain, sizeof(r->org_domain), "%s", w->domain);
	snprintf(r->discovery_method, sizeof(r->discovery_method),
	    "treewalk");
	snprintf(r->p, sizeof(r->p), "%s", w->p);
	if (strcmp(w->domain, "example.com") == 0) {
		snprintf(r->sp, sizeof(r->sp), "quarantine");
		snprintf(r->np, sizeof(r->np), "reject");
		snprintf(r->adkim, sizeof(r->adkim), "s");
		snprintf(r->fo, sizeof(r->fo), "1:d");
		r->pct = -1;
	} else
		r->pct = 50;
	r->testing = w->testing;
	snprintf(r->spf_result, sizeof(r->spf_result), "%s", w->spf);
	snprintf(r->spf_domain, sizeof(r->spf_domain), "%s",
	    strcmp(w->spf_scope, "helo") == 0 ? r->helo : w->mfrom);
	snprintf(r->spf_scope, sizeof(r->spf_scope), "%s", w->spf_scope);
	r->spf_aligned = w->spf_aligned;
	if (store_dkim_decode(w->dkim, r->dkim, &r->ndkim) != 0)
		abort();
	snprintf(r->dmarc_result, sizeof(r->dmarc_result), "%s",
	    strcmp(w->disposition, "pass") == 0 ? "pass" : "fail");
	snprintf(r->policy, sizeof(r->policy), "%s", w->p);
	snprintf(r->disposition, sizeof(r->disposition), "%s",
	    w->disposition);
	snprintf(r->reasons, sizeof(r->reasons), "%s", w->reasons);
	snprintf(r->reason_comment, sizeof(r->reason_comment), "%s",
	    w->comment);
	snprintf(r->action, sizeof(r->action), "%s", w->action);
}

static int
fill(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct store_record r;
	enum store_status st;
	struct store *s;
	unsigned seq = 0;
	size_t i;
	int k;

	if ((s = store_open(path, STORE_DURABILITY_RELAXED, &st, &err)) ==
	    NULL) {
		fprintf(stderr, "%s\n", strbuf_cstr(&err));
		strbuf_release(&err);
		return -1;
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (k = 0; k < rows[i].times; k++) {
			make_record(&r, &rows[i], ++seq);
			if ((st = store_submit(s, &r, true)) != STORE_OK) {
				fprintf(stderr, "store_submit: %s\n",
				    store_strerror(st));
				store_close(s);
				return -1;
			}
		}
	strbuf_release(&err);
	return store_close(s) == STORE_OK ? 0 : -1;
}

static const struct aggregate_meta meta = {
	"Receiver & Co", "noreply-dmarc@mx.receiver.example",
	"https://receiver.example/dmarc", "dmarcd 0.1.0",
	"mx.receiver.example"
};

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return buf;
}

static void
check_ref(const struct aggregate_report *rep, enum aggregate_format fmt,
    const char *day)
{
	struct strbuf xml = STRBUF_INIT;
	char path[1024];
	const char *srcdir = getenv("top_srcdir");
	char *want;
	size_t wlen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/aggregate/%s-%s-%s.ref",
	    srcdir ? srcdir : ".", aggregate_report_domain(rep), day,
	    aggregate_format_name(fmt));
	tap_int(aggregate_write_xml(rep, &meta, fmt, &xml), AGGREGATE_OK,
	    "%s %s %s: written", aggregate_report_domain(rep), day,
	    aggregate_format_name(fmt));
	if (getenv("DMARCD_REGEN_REF") != NULL &&
	    (f = fopen(path, "wb")) != NULL) {
		fwrite(xml.data, 1, xml.len, f);
		fclose(f);
		tap_diag("wrote %s", path);
	}
	want = read_file(path, &wlen);
	tap_ok(want != NULL && wlen == xml.len &&
	    memcmp(want, xml.data, wlen) == 0, "%s matches byte for byte",
	    path);
	if (want == NULL)
		tap_diag("cannot read %s", path);
	else if (wlen != xml.len || memcmp(want, xml.data, wlen) != 0)
		printf("# got:\n%s", strbuf_cstr(&xml));
	free(want);
	strbuf_release(&xml);
}

static const struct aggregate_report *
find(const struct aggregate_set *set, const char *domain)
{
	size_t i;

	for (i = 0; i < aggregate_set_count(set); i++)
		if (strcmp(aggregate_report_domain(aggregate_set_get(set, i)),
		    domain) == 0)
			return aggregate_set_get(set, i);
	return NULL;
}

static void
test_escape(void)
{
	static const struct {
		const char *name, *in, *want;
	} cases[] = {
		{ "entities", "a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f" },
		{ "control", "a\x01" "b\tc", "a\xef\xbf\xbd" "b\tc" },
		{ "utf8 kept", "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "bad byte", "x\xffy", "x\xef\xbf\xbdy" },
		{ "overlong", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "truncated", "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "surrogate", "\xed\xa0\x80",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};
	struct strbuf b = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&b);
		xml_escape(&b, cases[i].in);
		tap_str(strbuf_cstr(&b), cases[i].want, "escape: %s",
		    cases[i].name);
	}
	strbuf_release(&b);
}

int
main(int argc, char **argv)
{
	struct aggregate_set *set = NULL, *set2 = NULL;
	const struct aggregate_report *com, *org, *net;
	struct aggregate_stats st;
	struct strbuf err = STRBUF_INIT, b = STRBUF_INIT, b2 = STRBUF_INIT;
	struct store *s;
	enum store_status ss;
	char cmd[600];

	if (argc == 3 && strcmp(argv[1], "--fill") == 0)
		return fill(argv[2]) == 0 ? 0 : 1;

	test_escape();

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_aggregate.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/history.db", tmpdir);
	tap_int(fill(dbpath), 0, "fill the history");
	s = store_open(dbpath, STORE_DURABILITY_FULL, &ss, &err);
	tap_ok(s != NULL, "reopen: %s", strbuf_cstr(&err));
	if (s == NULL)
		goto out;

	tap_int(aggregate_collect(s, NULL, D1 + 1, D2, &set, &err),
	    AGGREGATE_ERR_PERIOD, "period off a day boundary refused");
	tap_int(aggregate_collect(s, NULL, D1, D2, &set, &err), AGGREGATE_OK,
	    "collect day 1");
	tap_int(aggregate_set_count(set), 3, "day 1: three policy domains");
	tap_str(aggregate_report_domain(aggregate_set_get(set, 0)),
	    "example.com", "sorted by domain");

	com = find(set, "example.com");
	aggregate_report_stats(com, &st);
	tap_int(st.rows, 12, "example.com: rows read");
	tap_int(st.skipped, 1, "example.com: skipped row not reported");
	tap_int(st.messages, 11, "example.com: messages reported");
	tap_int(st.records, 7, "example.com: records (groups)");
	tap_int(st.policies, 1, "example.com: one policy");
	check_ref(com, AGGREGATE_RFC9990, "20240327");
	check_ref(com, AGGREGATE_RFC7489, "20240327");

	org = find(set, "example.org");
	aggregate_report_stats(org, &st);
	tap_int(st.records, 2, "example.org: records");
	tap_int(st.messages, 3, "example.org: messages");
	tap_int(st.policies, 2, "example.org: the record changed");
	check_ref(org, AGGREGATE_RFC9990, "20240327");
	check_ref(org, AGGREGATE_RFC7489, "20240327");

	net = find(set, "example.net");
	aggregate_report_stats(net, &st);
	tap_int(st.messages, 0, "example.net: only skipped rows");
	strbuf_reset(&b);
	tap_ok(aggregate_write_xml(net, &meta, AGGREGATE_RFC9990, &b) !=
	    AGGREGATE_OK, "example.net: no report without records");

	/* Same rows, same ID and name; the ID is 1*(ALPHA / DIGIT). */
	strbuf_reset(&b);
	aggregate_filename(com, &meta, &b);
	tap_ok(strncmp(strbuf_cstr(&b),
	    "mx.receiver.example!example.com!1711497600!1711583999!"
	    "20240327", 62) == 0 && strlen(strbuf_cstr(&b)) == 62 + 16 + 7 &&
	    strcmp(strbuf_cstr(&b) + 78, ".xml.gz") == 0,
	    "filename: %s", strbuf_cstr(&b));
	tap_int(aggregate_collect(s, "example.com", D1, D2, &set2, &err),
	    AGGREGATE_OK, "collect one domain");
	tap_int(aggregate_set_count(set2), 1, "one domain only");
	aggregate_filename(aggregate_set_get(set2, 0), &meta, &b2);
	tap_str(strbuf_cstr(&b2), strbuf_cstr(&b), "report ID is stable");
	aggregate_set_free(set2);
	set2 = NULL;

	tap_int(aggregate_collect(s, NULL, D2, D2 + 86400, &set2, &err),
	    AGGREGATE_OK, "collect day 2");
	tap_int(aggregate_set_count(set2), 1, "day 2: one domain");
	aggregate_report_stats(aggregate_set_get(set2, 0), &st);
	tap_int(st.messages, 4, "day 2: messages");
	tap_int(st.records, 1, "day 2: records");
	strbuf_reset(&b2);
	aggregate_filename(aggregate_set_get(set2, 0), &meta, &b2);
	tap_ok(strcmp(strbuf_cstr(&b), strbuf_cstr(&b2)) != 0,
	    "another day, another ID");
	check_ref(aggregate_set_get(set2, 0), AGGREGATE_RFC9990, "20240328");

	strbuf_reset(&b);
	tap_int(aggregate_gzip("hello", 5, &b), AGGREGATE_OK, "gzip");
	tap_ok(b.len > 10 && (unsigned char)b.data[0] == 0x1f &&
	    (unsigned char)b.data[1] == 0x8b, "gzip magic");
out:
	aggregate_set_free(set);
	aggregate_set_free(set2);
	store_close(s);
	strbuf_release(&err);
	strbuf_release(&b);
	strbuf_release(&b2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", tmpdir);
	return tap_done();
}
