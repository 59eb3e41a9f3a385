/*
 * test_ingest_xml.c - the tolerant aggregate report parser, table-driven.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"
#include "tests/unit/tap.h"

struct got {
	struct ingest_report rep;
	struct ingest_record first;
	unsigned reports, records;
};

static int
rcb(const struct ingest_report *r, void *ctx)
{
	struct got *g = ctx;

	g->rep = *r;
	g->reports++;
	return 0;
}

static int
ccb(const struct ingest_report *r, const struct ingest_record *c, void *ctx)
{
	struct got *g = ctx;

	(void)r;
	if (g->records++ == 0)
		g->first = *c;
	return 0;
}

#define META "<report_metadata><org_name>Org</org_name><email>a@b</email>" \
	"<report_id>R1</report_id><date_range><begin>1337270400</begin>" \
	"<end>1337356799</end></date_range></report_metadata>"
#define POL "<policy_published><domain>Example.COM</domain><p>reject</p>" \
	"</policy_published>"
#define REC "<record><row><source_ip>192.0.2.1</source_ip><count>3</count>" \
	"<policy_evaluated><disposition>None</disposition><dkim>Pass</dkim>" \
	"<spf>fail</spf></policy_evaluated></row><identifiers>" \
	"<header_from>example.com</header_from></identifiers><auth_results>" \
	"<dkim><domain>example.com</domain><selector>s1</selector>" \
	"<result>pass</result></dkim><spf><domain>x.net</domain>" \
	"<result>softfail</result></spf></auth_results></record>"

struct tcase {
	const char *name;
	const char *xml;
	enum ingest_status want;
	unsigned records;
	const char *reason;		/* substring of err, or NULL */
	const char *check;		/* "disp=none" etc., or NULL */
};

static const struct tcase cases[] = {
	{ "rfc7489 plain", "<?xml version=\"1.0\"?><feedback><version>1.0"
	    "</version>" META POL REC "</feedback>", INGEST_OK, 1, NULL,
	    "dkim=pass" },
	{ "no version", "<feedback>" META POL REC REC "</feedback>",
	    INGEST_OK, 2, NULL, NULL },
	{ "rfc9990 namespace", "<feedback xmlns=\"urn:ietf:params:xml:ns:"
	    "dmarc-2.0\">" META POL REC "</feedback>", INGEST_OK, 1, NULL,
	    NULL },
	{ "prefixed namespace", "<d:feedback xmlns:d=\"urn:x\"><d:report_"
	    "metadata><d:org_name>Org</d:org_name><d:report_id>R1</d:report_"
	    "id></d:report_metadata>" POL "</d:feedback>", INGEST_OK, 0,
	    NULL, NULL },
	{ "float timestamp", "<feedback><report_metadata><org_name>O"
	    "</org_name><report_id>1</report_id><date_range><begin>"
	    "1337270400.0</begin><end>1337356799.5</end></date_range>"
	    "</report_metadata>" POL "</feedback>", INGEST_OK, 0, NULL,
	    "begin=1337270400" },
	{ "upper Pass", "<feedback>" META POL REC "</feedback>", INGEST_OK,
	    1, NULL, "disp=none" },
	{ "empty enums", "<feedback>" META POL "<record><row><source_ip>"
	    "192.0.2.1</source_ip><count>1</count><policy_evaluated>"
	    "<disposition></disposition><reason><type></type><comment>"
	    "</comment></reason></policy_evaluated></row></record>"
	    "</feedback>", INGEST_OK, 1, NULL, NULL },
	{ "stray leading unclosed tag", "<?xml version=\"1.0\"?> <xs:schema "
	    "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<feedback>" META
	    POL REC "</feedback>\n", INGEST_OK, 1, NULL, NULL },
	{ "invalid utf-8 repaired", "<feedback><report_metadata><org_name>"
	    "Org\xff\xfe</org_name><report_id>R</report_id>"
	    "</report_metadata>" POL "</feedback>", INGEST_OK, 0, NULL,
	    "org=Org\xef\xbf\xbd\xef\xbf\xbd" },
	{ "declared latin-1 read as utf-8", "<?xml version=\"1.0\" encoding="
	    "\"ISO-8859-1\"?><feedback><report_metadata><org_name>Caf\xe9"
	    "</org_name><report_id>R</report_id></report_metadata>" POL
	    "</feedback>", INGEST_OK, 0, NULL, NULL },
	{ "empty", "", INGEST_ERR_EMPTY, 0, "empty", NULL },
	{ "malformed", "<feedback><email><bad-xml@bad.net></email>"
	    "</feedback>", INGEST_ERR_SYNTAX, 0, "line 1", NULL },
	{ "not a report", "<html></html>", INGEST_ERR_CONTENT, 0,
	    "no <feedback>", NULL },
	{ "unclosed feedback", "<feedback>" META POL REC, INGEST_ERR_SYNTAX,
	    1, NULL, NULL },
	{ "no domain", "<feedback>" META "</feedback>", INGEST_ERR_CONTENT,
	    0, "policy_published domain", NULL },
	{ "no report id", "<feedback>" POL "</feedback>", INGEST_ERR_CONTENT,
	    0, "report_id", NULL },
	{ "billion laughs", "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY "
	    "lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><feedback>&lol2;"
	    "</feedback>", INGEST_ERR_FORBIDDEN, 0, "DOCTYPE", NULL },
	{ "xxe", "<?xml version=\"1.0\"?><!DOCTYPE f [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><feedback>&x;</feedback>",
	    INGEST_ERR_FORBIDDEN, 0, "DOCTYPE", NULL },
	{ "undeclared entity", "<feedback>&x;</feedback>", INGEST_ERR_SYNTAX,
	    0, "entity", NULL },
	{ "too deep", "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>"
	    "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>",
	    INGEST_ERR_LIMIT, 0, "deeper", NULL },
};

static void
check(const struct tcase *t, const struct got *g, const char *err,
    enum ingest_status s)
{
	char buf[512];
	bool ok = s == t->want && g->records == t->records;

	if (ok && t->reason != NULL)
		ok = strstr(err, t->reason) != NULL;
	if (ok && t->check != NULL) {
		if (strncmp(t->check, "dkim=", 5) == 0)
			ok = strcmp(g->first.dkim, t->check + 5) == 0 &&
			    strcmp(g->first.dkim_results, "domain=example.com;"
			    "selector=s1;result=pass") == 0 &&
			    strcmp(g->first.spf_results, "domain=x.net;"
			    "scope=;result=softfail") == 0 &&
			    g->first.count == 3 &&
			    strcmp(g->rep.domain, "example.com") == 0;
		else if (strncmp(t->check, "disp=", 5) == 0)
			ok = strcmp(g->first.disposition, t->check + 5) == 0;
		else if (strncmp(t->check, "begin=", 6) == 0) {
			snprintf(buf, sizeof(buf), "%lld",
			    (long long)g->rep.begin);
			ok = strcmp(buf, t->check + 6) == 0 &&
			    g->rep.end == 1337356799;
		} else if (strncmp(t->check, "org=", 4) == 0)
			ok = strcmp(g->rep.org_name, t->check + 4) == 0;
	}
	tap_ok(ok, "%s (status %s, records %u, err \"%s\")", t->name,
	    ingest_strerror(s), g->records, err);
}

int
main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct got g;
	size_t i, j, len;
	enum ingest_status s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct ingest_xml *x;

		memset(&g, 0, sizeof(g));
		strbuf_reset(&err);
		s = ingest_buffer(t->xml, strlen(t->xml), rcb, ccb, &g, &err);
		check(t, &g, strbuf_cstr(&err), s);
		/* the same one byte at a time: chunk boundaries anywhere */
		memset(&g, 0, sizeof(g));
		strbuf_reset(&err);
		len = strlen(t->xml);
		if ((x = ingest_xml_new(rcb, ccb, &g)) == NULL)
			return 1;
		s = len == 0 ? ingest_xml_feed(x, "", 0, true, &err) :
		    INGEST_OK;
		if (len == 0)
			strbuf_reset(&err), strbuf_appends(&err, "empty");
		for (j = 0; j < len && s == INGEST_OK; j++)
			s = ingest_xml_feed(x, t->xml + j, 1, j + 1 == len,
			    &err);
		ingest_xml_free(x);
		check(t, &g, strbuf_cstr(&err), s);
	}
	strbuf_release(&err);
	return tap_done();
}
