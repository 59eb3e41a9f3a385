/*
 * fuzz_record.c - libFuzzer target for the DMARC record parser and the
 * grader.
 *
 * The whole input goes to record_parse(); then, skipping a first byte of
 * flags (inherited record, organizational domain known), the rest is split
 * at '\n' into TXT strings for grade_check(), whose JSON is written.
 * Besides memory errors (ASan/UBSan), the target aborts when an invariant
 * breaks: record_is_dmarc() agrees with record_parse(), positions are in
 * range, bounds hold, every code is known, weights add up to the score,
 * and every dns_snippet parses as a valid record.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "policy/grade.h"
#include "policy/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static bool
code_known(const char *code)
{
	size_t i;

	for (i = 0; record_issue_codes[i] != NULL; i++)
		if (strcmp(record_issue_codes[i], code) == 0)
			return true;
	return false;
}

static void
fuzz_parse(const char *s, size_t n)
{
	struct dmarc_record *r = NULL;
	enum record_status st;
	size_t i;

	st = record_parse(s, n, &r);
	CHECK(st != RECORD_ERR_NOMEM && r != NULL);
	if (n <= RECORD_MAX_LEN)
		CHECK(record_is_dmarc(s, n) == (st != RECORD_ERR_NOT_DMARC));
	else
		CHECK(st == RECORD_ERR_TOO_LONG);
	CHECK(r->raw_len <= RECORD_MAX_LEN && r->raw[r->raw_len] == '\0');
	CHECK(r->nissues <= RECORD_MAX_ISSUES);
	CHECK(r->nrua <= RECORD_MAX_URIS && r->nruf <= RECORD_MAX_URIS);
	CHECK(r->pct >= 0 && r->pct <= 100);
	for (i = 0; i < r->nissues; i++) {
		CHECK(r->issues[i].pos <= r->raw_len);
		CHECK(r->issues[i].message != NULL);
		CHECK(code_known(r->issues[i].code));
		if (i > 0)
			CHECK(r->issues[i - 1].pos <= r->issues[i].pos);
	}
	for (i = 0; i < r->nrua; i++)
		CHECK(r->rua[i].uri != NULL && r->rua[i].pos < r->raw_len);
	if (st == RECORD_OK) {
		CHECK(record_policy(r) != DMARC_POLICY_UNSPEC);
		CHECK(record_subdomain_policy(r) != DMARC_POLICY_UNSPEC);
		CHECK(record_nxdomain_policy(r) != DMARC_POLICY_UNSPEC);
		CHECK(!(r->p_invalid || r->sp_invalid || r->np_invalid) ||
		    (r->treated_as_none && record_has_valid_rua(r)));
	}
	if (st == RECORD_ERR_INVALID)
		CHECK(!record_has_valid_rua(r));
	record_free(r);
}

static void
fuzz_grade(const char *s, size_t n, unsigned flags)
{
	const char *txts[GRADE_MAX_TXT + 2];
	size_t lens[GRADE_MAX_TXT + 2], ntxt = 0, i, start = 0;
	struct grade_input in;
	struct grade_result *g = NULL;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	int sum = 0;

	for (i = 0; i <= n && ntxt < GRADE_MAX_TXT + 2; i++)
		if (i == n || s[i] == '\n') {
			txts[ntxt] = s + start;
			lens[ntxt++] = i - start;
			start = i + 1;
		}
	memset(&in, 0, sizeof(in));
	in.domain = (flags & 1) ? "mail.example.com" : "example.com";
	in.found_at = (flags & 1) ? "example.com" : NULL;
	in.org_domain = (flags & 2) ? "example.com" : NULL;
	in.txts = txts;
	in.txtlens = lens;
	in.ntxt = n == 0 ? 0 : ntxt;
	CHECK(grade_check(&in, &g) == GRADE_OK && g != NULL);
	CHECK(g->score >= 0 && g->score <= 100);
	CHECK(!g->valid || (g->parsed != NULL && g->status == RECORD_OK));
	for (i = 0; i < g->nissues; i++) {
		const struct grade_issue *is = &g->issues[i];

		CHECK(grade_code_lookup(is->code) != NULL);
		CHECK(is->message != NULL && is->remediation != NULL);
		CHECK(is->weight >= 0);
		sum += is->weight;
		if (is->snippet.name != NULL) {
			struct dmarc_record *r = NULL;

			CHECK(record_parse(is->snippet.value,
			    strlen(is->snippet.value), &r) == RECORD_OK);
			record_free(r);
		}
		/* The headline issues always come with a record to publish. */
		if (strcmp(is->code, "dmarc_missing") == 0 ||
		    ((strcmp(is->code, "dmarc_invalid") == 0 ||
		    strcmp(is->code, "dmarc_duplicate") == 0 ||
		    strcmp(is->code, "dmarc_policy_none") == 0) &&
		    g->parsed != NULL &&
		    g->parsed->raw_len < RECORD_MAX_LEN - 1024))
			CHECK(is->snippet.name != NULL);
	}
	CHECK(sum == 100 - g->score);
	json_init(&j, &out, (flags & 4) != 0);
	grade_write_json(g, &j);
	CHECK(!json_failed(&j));
	strbuf_release(&out);
	grade_result_free(g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	fuzz_parse(s, size);
	if (size > 0)
		fuzz_grade(s + 1, size - 1, data[0]);
	return 0;
}
