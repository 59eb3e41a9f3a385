/*
 * alerts_run.c - after dmarcctl import: look for alerts (store/alerts.c)
 * and deliver the pending ones to the webhook (AlertWebhookURL).
 *
 * The webhook gets one HTTP POST per alert, Content-Type
 * application/json, body {"id", "domain", "kind", "subject",
 * "created_at", "detail": {...}}.  A 2xx answer marks the alert
 * delivered (delivered_webhook); anything else (refused, timeout, 5xx)
 * leaves it NULL, stops the delivery (the hook is down: the others would
 * only wait for their timeouts) and the next import run tries again.
 * Neither detection nor delivery changes the exit status of the import:
 * the reports are stored either way.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/import.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "store/alerts.h"

#define WEBHOOK_TIMEOUT_S	15

void
alerts_config_from(const struct cli_ctx *ctx, struct alerts_config *c)
{
	c->new_source_min = conf_int(ctx->conf, "AlertNewSourceMinMessages");
	c->drop_points = conf_int(ctx->conf, "AlertPassRateDrop");
	c->rate_min = conf_int(ctx->conf, "AlertPassRateMinMessages");
	c->dkim_fail_min = conf_int(ctx->conf, "AlertDkimFailMinMessages");
}

struct hook {
	CURL	*curl;
	const char *url;
	struct store_alerts *a;
	unsigned failed, sent;
	char	 errbuf[CURL_ERROR_SIZE];
};

static size_t
discard(char *d, size_t size, size_t n, void *ctx)
{
	(void)d;
	(void)ctx;
	return size * n;
}

static int
post_one(const struct alert *al, void *ctx)
{
	struct hook *h = ctx;
	struct strbuf body = STRBUF_INIT, err = STRBUF_INIT;
	struct json j;
	long code = 0;
	CURLcode rc;

	json_init(&j, &body, false);
	json_object_begin(&j);
	json_kv_int(&j, "id", al->id);
	json_kv_string(&j, "domain", al->domain);
	json_kv_string(&j, "kind", al->kind);
	json_kv_string(&j, "subject", al->subject);
	json_kv_int(&j, "created_at", (int64_t)al->created_at);
	/* detail is a JSON object we wrote (store/alerts.c) */
	strbuf_appends(&body, ",\"detail\":");
	strbuf_appends(&body, al->detail ? al->detail : "{}");
	strbuf_appendc(&body, '}');
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, strbuf_cstr(&body));
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE,
	    (long)strbuf_len(&body));
	rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code < 200 || code > 299) {
		if (h->failed == 0) {
			if (rc != CURLE_OK)
				cli_error("alerts", "AlertWebhookURL %s: %s",
				    h->url, h->errbuf[0] ? h->errbuf :
				    curl_easy_strerror(rc));
			else
				cli_error("alerts", "AlertWebhookURL %s: HTTP "
				    "status %ld", h->url, code);
		}
		h->failed++;
		/* The hook is down: the rest would only wait for their
		 * timeouts; they all go at the next run. */
		strbuf_release(&body);
		strbuf_release(&err);
		return 1;
	} else if (store_alerts_mark(h->a, al->id, ALERTS_WEBHOOK, time(NULL),
	    &err) != STORE_OK) {
		cli_error("alerts", "%s", strbuf_cstr(&err));
		h->failed++;
	} else
		h->sent++;
	strbuf_release(&body);
	strbuf_release(&err);
	return 0;
}

unsigned
alerts_webhook_deliver(struct cli_ctx *ctx, struct store_alerts *a)
{
	struct curl_slist *hdr = NULL;
	struct strbuf err = STRBUF_INIT;
	struct hook h;

	memset(&h, 0, sizeof(h));
	h.url = conf_str(ctx->conf, "AlertWebhookURL");
	if (h.url == NULL || *h.url == '\0')
		return 0;
	h.a = a;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h.curl = curl_easy_init()) == NULL) {
		cli_error("alerts", "AlertWebhookURL %s: cannot start libcurl",
		    h.url);
		return 1;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h.curl, CURLOPT_URL, h.url);
	curl_easy_setopt(h.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h.curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h.curl, CURLOPT_USERAGENT, "dmarcd/" PACKAGE_VERSION);
	curl_easy_setopt(h.curl, CURLOPT_TIMEOUT, (long)WEBHOOK_TIMEOUT_S);
	curl_easy_setopt(h.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h.curl, CURLOPT_ERRORBUFFER, h.errbuf);
	curl_easy_setopt(h.curl, CURLOPT_WRITEFUNCTION, discard);
	if (store_alerts_list(a, ALERTS_WEBHOOK_PENDING, NULL, post_one, &h,
	    &err) != STORE_OK) {
		cli_error("alerts", "%s", strbuf_cstr(&err));
		h.failed++;
	}
	if (h.failed > 0)
		cli_error("alerts", "AlertWebhookURL %s: delivery stopped "
		    "after %u alert(s); the others wait for the next run", h.url,
		    h.sent);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h.curl);
	strbuf_release(&err);
	return h.failed;
}

static int
show_new(const struct alert *al, void *ctx)
{
	time_t since = *(const time_t *)ctx;

	if (al->created_at >= since)
		fprintf(stderr, "dmarcctl: alert: %s %s %s\n", al->domain,
		    al->kind, al->subject);
	return 0;
}

void
alerts_after_import(struct cli_ctx *ctx, const char *uri, time_t since)
{
	struct strbuf err = STRBUF_INIT;
	struct alerts_config c;
	struct store_alerts *a;
	enum store_status st;
	unsigned nnew = 0;

	if ((a = store_alerts_open(uri, &st, &err)) == NULL) {
		cli_error("alerts", "%s", strbuf_cstr(&err));
		strbuf_release(&err);
		return;
	}
	alerts_config_from(ctx, &c);
	if (store_alerts_detect(a, &c, since, &nnew, &err) != STORE_OK)
		cli_error("alerts", "%s", strbuf_cstr(&err));
	else if (nnew > 0 && isatty(STDERR_FILENO))
		store_alerts_list(a, ALERTS_ALL, NULL, show_new, &since, &err);
	alerts_webhook_deliver(ctx, a);
	store_alerts_close(a);
	strbuf_release(&err);
}
