/*
 * test_action.c - the milter's decision (milter/action.c), its history
 * rows and its log line (milter/record.c), from hand-made verdicts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "milter/action.h"
#include "milter/record.h"
#include "milter/settings.h"
#include "tap.h"

static struct milter_settings *
load(const char *text)
{
	char path[] = "/tmp/dmarcd-test-action-XXXXXX";
	struct strbuf err = STRBUF_INIT;
	struct milter_settings *s;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "AuthservID mx.test\nNodeName node1\n%s", text);
	fclose(f);
	s = settings_load(path, &err);
	if (s == NULL)
		tap_diag("settings: %s", strbuf_cstr(&err));
	unlink(path);
	strbuf_release(&err);
	return s;
}

static const struct {
	const char *name, *conf;
	enum dmarc_result result;
	enum eval_disposition disp;
	size_t nauthors;
	const char *sig_domain;		/* a DKIM signature, or NULL */
	enum dkimv_result sig_result;
	const char *ip;
	enum action_kind kind;
	enum eval_disposition applied;
	const char *override;		/* expected override, or NULL */
	const char *text;		/* substring of the text, or NULL */
	bool hold;
} cases[] = {
	{ "pass is accepted", "", DMARC_RESULT_PASS, EVAL_DISP_PASS, 1, NULL,
	    0, "192.0.2.1", ACTION_ACCEPT, EVAL_DISP_PASS, NULL, NULL, false },
	{ "p=reject fail is rejected with the domain", "", DMARC_RESULT_FAIL,
	    EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.1", ACTION_REJECT,
	    EVAL_DISP_REJECT, NULL,
	    "DMARC policy of example.test (p=reject) rejects this message",
	    false },
	{ "p=quarantine fail is held", "", DMARC_RESULT_FAIL,
	    EVAL_DISP_QUARANTINE, 1, NULL, 0, "192.0.2.1", ACTION_QUARANTINE,
	    EVAL_DISP_QUARANTINE, NULL, "quarantines", true },
	{ "QuarantineAction header", "QuarantineAction header\n",
	    DMARC_RESULT_FAIL, EVAL_DISP_QUARANTINE, 1, NULL, 0, "192.0.2.1",
	    ACTION_QUARANTINE, EVAL_DISP_QUARANTINE, NULL, NULL, false },
	{ "HoldQuarantinedMessages no (OpenDMARC) means header",
	    "HoldQuarantinedMessages no\n", DMARC_RESULT_FAIL,
	    EVAL_DISP_QUARANTINE, 1, NULL, 0, "192.0.2.1", ACTION_QUARANTINE,
	    EVAL_DISP_QUARANTINE, NULL, NULL, false },
	{ "quarantine-only turns reject into quarantine",
	    "EnforcementMode quarantine-only\n", DMARC_RESULT_FAIL,
	    EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.1", ACTION_QUARANTINE,
	    EVAL_DISP_QUARANTINE, "local_policy", NULL, true },
	{ "monitor delivers a reject", "EnforcementMode monitor\n",
	    DMARC_RESULT_FAIL, EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.1",
	    ACTION_ACCEPT, EVAL_DISP_NONE, "local_policy", NULL, false },
	{ "RejectFailures no (OpenDMARC) is monitor", "RejectFailures no\n",
	    DMARC_RESULT_FAIL, EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.1",
	    ACTION_ACCEPT, EVAL_DISP_NONE, "local_policy", NULL, false },
	{ "forwarder on the allow list", "AllowForwarders 192.0.2.0/28\n",
	    DMARC_RESULT_FAIL, EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.5",
	    ACTION_ACCEPT, EVAL_DISP_NONE, "trusted_forwarder", NULL, false },
	{ "forwarder not on the allow list", "AllowForwarders 192.0.2.0/28\n",
	    DMARC_RESULT_FAIL, EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.77",
	    ACTION_REJECT, EVAL_DISP_REJECT, NULL, NULL, false },
	{ "mailing list with a verified signature",
	    "AllowListDomains lists.test\n", DMARC_RESULT_FAIL,
	    EVAL_DISP_REJECT, 1, "sub.lists.test", DKIMV_PASS, "192.0.2.1",
	    ACTION_ACCEPT, EVAL_DISP_NONE, "mailing_list", NULL, false },
	{ "mailing list whose signature failed",
	    "AllowListDomains lists.test\n", DMARC_RESULT_FAIL,
	    EVAL_DISP_REJECT, 1, "lists.test", DKIMV_FAIL, "192.0.2.1",
	    ACTION_REJECT, EVAL_DISP_REJECT, NULL, NULL, false },
	{ "look-alike list domain does not count",
	    "AllowListDomains lists.test\n", DMARC_RESULT_FAIL,
	    EVAL_DISP_REJECT, 1, "evillists.test", DKIMV_PASS, "192.0.2.1",
	    ACTION_REJECT, EVAL_DISP_REJECT, NULL, NULL, false },
	{ "DNS trouble: 451 by default", "", DMARC_RESULT_TEMPERROR,
	    EVAL_DISP_NONE, 1, NULL, 0, "192.0.2.1", ACTION_TEMPFAIL,
	    EVAL_DISP_NONE, NULL, "temporary DNS failure", false },
	{ "DNS trouble accepted when TempfailOnDNSError no",
	    "TempfailOnDNSError no\n", DMARC_RESULT_TEMPERROR, EVAL_DISP_NONE,
	    1, NULL, 0, "192.0.2.1", ACTION_ACCEPT, EVAL_DISP_NONE, NULL, NULL,
	    false },
	{ "no usable From is rejected", "", DMARC_RESULT_PERMERROR,
	    EVAL_DISP_REJECT, 0, NULL, 0, "192.0.2.1", ACTION_REJECT,
	    EVAL_DISP_REJECT, NULL, "no usable From field", false },
	{ "no usable From under monitor", "EnforcementMode monitor\n",
	    DMARC_RESULT_PERMERROR, EVAL_DISP_REJECT, 0, NULL, 0, "192.0.2.1",
	    ACTION_ACCEPT, EVAL_DISP_NONE, "local_policy", NULL, false },
	{ "RejectText expansions, % doubled for libmilter",
	    "RejectText Go away %d (%p), 100%% sure\n", DMARC_RESULT_FAIL,
	    EVAL_DISP_REJECT, 1, NULL, 0, "192.0.2.1", ACTION_REJECT,
	    EVAL_DISP_REJECT, NULL, "Go away example.test (reject), 100%% sure",
	    false },
	{ "p=none fail is delivered", "", DMARC_RESULT_FAIL, EVAL_DISP_NONE,
	    1, NULL, 0, "192.0.2.1", ACTION_ACCEPT, EVAL_DISP_NONE, NULL, NULL,
	    false },
};

int
main(void)
{
	static struct evaluate_result er;
	struct dkimv_sig sig;
	struct strbuf line = STRBUF_INIT;
	struct store_record rows[2];
	struct milter_settings *s;
	struct milter_action a;
	struct verify_facts f;
	struct record_facts rf;
	struct verdict v;
	size_t i, n;

	er.header_from = (char *)"example.test";
	er.policy_domain = (char *)"example.test";
	er.have_policy = true;
	er.p = DMARC_POLICY_REJECT;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((s = load(cases[i].conf)) == NULL) {
			tap_ok(0, "%s: settings load", cases[i].name);
			continue;
		}
		memset(&v, 0, sizeof(v));
		memset(&f, 0, sizeof(f));
		v.result = cases[i].result;
		v.disposition = cases[i].disp;
		v.nauthors = cases[i].nauthors;
		v.authors[0].eval = &er;
		v.policy = DMARC_POLICY_REJECT;
		v.reason = cases[i].nauthors == 0 ? "no From field" : NULL;
		if (cases[i].sig_domain != NULL) {
			memset(&sig, 0, sizeof(sig));
			sig.domain = (char *)cases[i].sig_domain;
			sig.result = cases[i].sig_result;
			v.sigs = &sig;
			v.nsigs = 1;
		}
		f.have_ip = addr_parse(cases[i].ip, &f.client_ip) == 0;
		action_decide(s, &v, &f, &a);
		tap_str(action_kind_name(a.kind), action_kind_name(
		    cases[i].kind), "%s: action", cases[i].name);
		tap_str(eval_disposition_name(a.applied),
		    eval_disposition_name(cases[i].applied),
		    "%s: disposition applied", cases[i].name);
		tap_str(a.overridden ? eval_override_name(a.override) : NULL,
		    cases[i].override, "%s: override reason", cases[i].name);
		if (cases[i].text != NULL)
			tap_ok(strstr(a.text, cases[i].text) != NULL,
			    "%s: text \"%s\"", cases[i].name, a.text);
		if (cases[i].kind == ACTION_QUARANTINE)
			tap_int(a.hold, cases[i].hold, "%s: hold vs header",
			    cases[i].name);
		settings_unref(s);
	}

	/* Conflicting OpenDMARC and dmarcd keys are refused. */
	tap_ok(load("RejectFailures yes\nEnforcementMode monitor\n") == NULL,
	    "settings: RejectFailures with EnforcementMode is an error");
	tap_ok(load("PolicyDiscovery psl\nPublicSuffixList /nonexistent\n")
	    == NULL, "settings: psl without a readable list is an error");

	/* History rows and the log line for a mailing-list override. */
	s = load("AllowListDomains lists.test\n");
	memset(&v, 0, sizeof(v));
	memset(&f, 0, sizeof(f));
	memset(&sig, 0, sizeof(sig));
	sig.domain = (char *)"lists.test";
	sig.result = DKIMV_PASS;
	v.sigs = &sig;
	v.nsigs = 1;
	v.result = DMARC_RESULT_FAIL;
	v.disposition = EVAL_DISP_REJECT;
	v.nauthors = 1;
	v.authors[0].eval = &er;
	v.policy = DMARC_POLICY_REJECT;
	v.message_id = "<1@example.test>";
	er.result = DMARC_RESULT_FAIL;
	addr_parse("2001:db8::10", &f.client_ip);
	f.have_ip = true;
	f.helo = "mail.lists.test";
	f.mail_from = "Bounce@Lists.TEST";
	action_decide(s, &v, &f, &a);
	rf.facts = &f;
	rf.node = s->node;
	rf.message_key = "0123456789abcdef0123456789abcdef";
	rf.queue_id = "4F2C81A";
	rf.received = 1700000000;
	n = record_fill(&v, &a, &rf, rows, 2);
	tap_int(n, 1, "record: one row per author domain");
	tap_str(rows[0].header_from, "example.test", "record: header_from");
	tap_str(rows[0].client_ip, "2001:db8::10", "record: IPv6 client");
	tap_str(rows[0].mail_from_domain, "lists.test",
	    "record: envelope domain lowercased");
	tap_str(rows[0].reasons, "mailing_list", "record: override reason");
	tap_str(rows[0].disposition, "none", "record: disposition applied");
	tap_str(rows[0].action, "accept", "record: action");
	tap_str(rows[0].node, "node1", "record: node name");
	tap_str(rows[0].message_id, "<1@example.test>", "record: message id");
	record_logline(&v, &a, &rf, &line);
	tap_str(strbuf_cstr(&line), "4F2C81A: dmarc result=fail "
	    "from=example.test policy=reject disposition=none action=accept "
	    "override=mailing_list spf=- dkim=pass:lists.test ip=2001:db8::10 "
	    "helo=mail.lists.test mailfrom=Bounce@Lists.TEST "
	    "msgid=<1@example.test>", "log line: queue id first, key=value");
	record_fill_skip(&rf, "authenticated", &rows[1]);
	tap_str(rows[1].action, "skip", "record: skipped message row");
	tap_str(rows[1].skip_reason, "authenticated", "record: skip reason");
	settings_unref(s);
	strbuf_release(&line);
	return tap_done();
}
