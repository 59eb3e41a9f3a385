/*
 * grade_json.c - the checker's JSON (seed 003's response shape) and the
 * grade name functions; the grading itself is in grade.c.
 *
 * {"dmarc": {present, valid, record, policy, subdomain_policy,
 *  percentage, aggregate_reports, ...}, "score": N, "issues": [{severity,
 *  category, code, message, remediation, position, dns_snippet}]}
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "common/json.h"
#include "grade.h"

const char *
grade_strerror(enum grade_status st)
{
	switch (st) {
	case GRADE_OK:
		return "ok";
	case GRADE_ERR_DOMAIN:
		return "not a valid domain name";
	case GRADE_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown grade status";
}

const char *
grade_severity_name(enum grade_severity sev)
{
	switch (sev) {
	case GRADE_SEV_CRITICAL:
		return "critical";
	case GRADE_SEV_HIGH:
		return "high";
	case GRADE_SEV_MEDIUM:
		return "medium";
	case GRADE_SEV_LOW:
		return "low";
	case GRADE_SEV_INFO:
		return "info";
	}
	return "";
}

static void
json_policy(struct json *j, const char *key, enum dmarc_policy p)
{
	json_key(j, key);
	if (p == DMARC_POLICY_UNSPEC)
		json_null(j);
	else
		json_string(j, dmarc_policy_name(p));
}

static void
json_uris(struct json *j, const char *key, const struct dmarc_uri *u,
    size_t n)
{
	size_t i;

	json_key(j, key);
	json_array_begin(j);
	for (i = 0; i < n; i++)
		if (u[i].valid)
			json_string(j, u[i].uri);
	json_array_end(j);
}

void
grade_write_json_dmarc(const struct grade_result *g, struct json *j)
{
	const struct dmarc_record *r = g->valid ? g->parsed : NULL;
	size_t i;

	json_object_begin(j);
	json_kv_bool(j, "present", g->present);
	json_kv_bool(j, "valid", g->valid);
	json_key(j, "record");
	if (g->record != NULL)
		json_stringn(j, g->record, g->parsed != NULL ?
		    g->parsed->raw_len : strlen(g->record));
	else
		json_null(j);
	json_policy(j, "policy", g->policy);
	json_policy(j, "subdomain_policy", g->subdomain_policy);
	json_key(j, "percentage");
	if (r != NULL)
		json_int(j, g->percentage);
	else
		json_null(j);
	json_uris(j, "aggregate_reports", r != NULL ? r->rua : NULL,
	    r != NULL ? r->nrua : 0);
	/* Extras beyond the seed's shape. */
	json_uris(j, "failure_reports", r != NULL ? r->ruf : NULL,
	    r != NULL ? r->nruf : 0);
	json_policy(j, "np", g->nxdomain_policy);
	json_policy(j, "effective_policy", g->effective_policy);
	if (r != NULL) {
		char fo[8];
		size_t n = 0;

		json_kv_string(j, "adkim",
		    r->adkim == DMARC_ALIGN_STRICT ? "s" : "r");
		json_kv_string(j, "aspf",
		    r->aspf == DMARC_ALIGN_STRICT ? "s" : "r");
		/* At most "0:d:s" plus NUL: fits. */
		if (r->fo & DMARC_FO_0)
			fo[n++] = '0';
		if (r->fo & DMARC_FO_1)
			fo[n++] = '1';
		if (r->fo & DMARC_FO_D) {
			if (n > 0)
				fo[n++] = ':';
			fo[n++] = 'd';
		}
		if (r->fo & DMARC_FO_S) {
			if (n > 0)
				fo[n++] = ':';
			fo[n++] = 's';
		}
		fo[n] = '\0';
		json_kv_string(j, "fo", fo);
		json_kv_bool(j, "testing", r->testing);
		json_kv_string(j, "psd", r->psd == DMARC_PSD_Y ? "y" :
		    r->psd == DMARC_PSD_N ? "n" : "u");
	} else {
		static const char *const nulls[] = { "adkim", "aspf", "fo",
		    "testing", "psd" };

		for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
			json_key(j, nulls[i]);
			json_null(j);
		}
	}
	json_kv_string(j, "domain", g->domain);
	json_kv_string(j, "policy_domain", g->policy_domain);
	json_kv_bool(j, "inherited", g->inherited);
	json_key(j, "records");
	json_array_begin(j);
	for (i = 0; i < g->ndmarc_records; i++)
		json_string(j, g->dmarc_records[i]);
	json_array_end(j);
	json_object_end(j);
}

void
grade_write_json_issue(const struct grade_issue *is, struct json *j)
{
	json_object_begin(j);
	json_kv_string(j, "severity", grade_severity_name(is->severity));
	json_kv_string(j, "category", "dmarc");
	json_kv_string(j, "code", is->code);
	json_kv_string(j, "message", is->message);
	json_kv_string(j, "remediation", is->remediation);
	json_key(j, "dns_snippet");
	if (is->snippet.name != NULL) {
		json_object_begin(j);
		json_kv_string(j, "name", is->snippet.name);
		json_kv_string(j, "type", "TXT");
		json_kv_string(j, "value", is->snippet.value);
		json_object_end(j);
	} else
		json_null(j);
	json_key(j, "position");
	if (is->has_pos)
		json_uint(j, is->pos);
	else
		json_null(j);
	json_object_end(j);
}

void
grade_write_json_members(const struct grade_result *g, struct json *j)
{
	size_t i;

	json_key(j, "dmarc");
	grade_write_json_dmarc(g, j);
	json_kv_int(j, "score", g->score);
	json_key(j, "issues");
	json_array_begin(j);
	for (i = 0; i < g->nissues; i++)
		grade_write_json_issue(&g->issues[i], j);
	json_array_end(j);
}

void
grade_write_json(const struct grade_result *g, struct json *j)
{
	json_object_begin(j);
	grade_write_json_members(g, j);
	json_object_end(j);
}
