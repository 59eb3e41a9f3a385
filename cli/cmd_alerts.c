/*
 * cmd_alerts.c - dmarcctl alerts: what the imports found (alerts.h).
 *
 *   dmarcctl alerts list [--domain D] [--json] [--database URI]
 *       one line per alert, oldest first (or one JSON object per line)
 *   dmarcctl alerts digest [--dry-run] [--database URI]
 *       one mail to AlertDigestTo with the alerts not yet in a digest,
 *       piped to ReportSendmail; they are marked only once the command
 *       exited 0.  Nothing new: no mail.  --dry-run prints the message.
 *   dmarcctl alerts deliver [--database URI]
 *       retry the webhook now (import does it after each run)
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/import.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "report/send.h"
#include "store/alerts.h"

#define DIGEST_MAX_ALERTS	1000	/* per mail; the rest go next time */

struct listing {
	bool	 json;
	unsigned n;
};

static void
fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (t == 0) {
		snprintf(buf, n, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
print_one(const struct alert *al, void *ctx)
{
	struct listing *l = ctx;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	char when[32];

	l->n++;
	if (l->json) {
		json_init(&j, &out, false);
		json_object_begin(&j);
		json_kv_int(&j, "id", al->id);
		json_kv_string(&j, "domain", al->domain);
		json_kv_string(&j, "kind", al->kind);
		json_kv_string(&j, "subject", al->subject);
		json_kv_int(&j, "created_at", (int64_t)al->created_at);
		json_kv_bool(&j, "webhook_delivered",
		    al->delivered_webhook != 0);
		json_kv_bool(&j, "digest_delivered", al->delivered_digest != 0);
		strbuf_appends(&out, ",\"detail\":");
		strbuf_appends(&out, al->detail ? al->detail : "{}");
		strbuf_appendc(&out, '}');
	} else {
		fmt_time(al->created_at, when, sizeof(when));
		strbuf_appendf(&out, "%s %s %s ", when, al->domain, al->kind);
		strbuf_append_escaped(&out, al->subject, strlen(al->subject),
		    256);
		strbuf_appendf(&out, " %s webhook=%s digest=", al->detail,
		    al->delivered_webhook ? "yes" : "no");
		strbuf_appends(&out, al->delivered_digest ? "yes" : "no");
	}
	printf("%s\n", strbuf_cstr(&out));
	strbuf_release(&out);
	return 0;
}

struct digest {
	struct strbuf body;
	int64_t	*ids;
	size_t	 n;
};

static int
digest_one(const struct alert *al, void *ctx)
{
	struct digest *d = ctx;
	char when[32];

	if (d->n >= DIGEST_MAX_ALERTS)
		return 1;
	d->ids[d->n++] = al->id;
	fmt_time(al->created_at, when, sizeof(when));
	strbuf_appendf(&d->body, "%s  %s  %s  ", when, al->domain, al->kind);
	strbuf_append_escaped(&d->body, al->subject, strlen(al->subject), 256);
	strbuf_appends(&d->body, "\n    ");
	strbuf_append_escaped(&d->body, al->detail, strlen(al->detail), 1024);
	strbuf_appends(&d->body, "\n");
	return 0;
}

static bool
header_ok(const char *v)
{
	return v != NULL && *v != '\0' && strpbrk(v, "\r\n") == NULL;
}

static int
digest(struct cli_ctx *ctx, struct store_alerts *a, bool dry_run)
{
	struct strbuf msg = STRBUF_INIT, err = STRBUF_INIT;
	struct digest d;
	char host[256], date[64], from[320];
	const char *to, *email, *cmd;
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int rc = EX_OK;

	to = conf_str(ctx->conf, "AlertDigestTo");
	if (!header_ok(to)) {
		cli_error("alerts", "digest: set AlertDigestTo to the address "
		    "that gets the alert digest");
		return EX_CONFIG;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	email = conf_str(ctx->conf, "ReportEmail");
	if (email != NULL && *email != '\0')
		snprintf(from, sizeof(from), "%s", email);
	else
		snprintf(from, sizeof(from), "noreply-dmarc@%s", host);
	if (!header_ok(from)) {
		cli_error("alerts", "digest: ReportEmail: a header value "
		    "cannot hold a line break");
		return EX_CONFIG;
	}
	memset(&d, 0, sizeof(d));
	strbuf_init(&d.body);
	if ((d.ids = calloc(DIGEST_MAX_ALERTS, sizeof(*d.ids))) == NULL)
		return EX_OSERR;
	if (store_alerts_list(a, ALERTS_DIGEST_PENDING, NULL, digest_one, &d,
	    &err) != STORE_OK) {
		cli_error("alerts", "digest: %s", strbuf_cstr(&err));
		rc = EX_IOERR;
		goto out;
	}
	if (d.n == 0) {
		printf("no new alerts: no digest sent\n");
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strbuf_appendf(&msg, "From: %s\nTo: %s\nSubject: DMARC alerts: %zu "
	    "new\nDate: %s\nMessage-ID: <dmarcd-alerts.%lld.%ld@%s>\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
	    "Auto-Submitted: auto-generated\n\n"
	    "dmarcd found these alerts in the aggregate reports it imported "
	    "(dmarcctl alerts list shows them all):\n\n%s", from, to, d.n,
	    date, (long long)now, (long)getpid(), host, strbuf_cstr(&d.body));
	if (strbuf_failed(&msg)) {
		rc = EX_OSERR;
		goto out;
	}
	if (dry_run) {
		fputs(strbuf_cstr(&msg), stdout);
		goto out;
	}
	cmd = conf_str(ctx->conf, "ReportSendmail");
	if (send_pipe(cmd ? cmd : SEND_DEFAULT_COMMAND, strbuf_cstr(&msg),
	    strbuf_len(&msg), NULL, &err) != SEND_OK) {
		cli_error("alerts", "digest to %s: ReportSendmail %s: %s; the "
		    "alerts stay for the next digest", to, cmd ? cmd :
		    SEND_DEFAULT_COMMAND, strbuf_cstr(&err));
		rc = EX_TEMPFAIL;
		goto out;
	}
	for (i = 0; i < d.n; i++)
		if (store_alerts_mark(a, d.ids[i], ALERTS_DIGEST, now, &err) !=
		    STORE_OK) {
			cli_error("alerts", "digest: %s", strbuf_cstr(&err));
			rc = EX_IOERR;
			break;
		}
	printf("digest of %zu alert(s) sent to %s\n", d.n, to);
out:
	free(d.ids);
	strbuf_release(&d.body);
	strbuf_release(&msg);
	strbuf_release(&err);
	return rc;
}

int
cmd_alerts(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "domain", required_argument, NULL, 'D' },
		{ "database", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf err = STRBUF_INIT;
	struct listing l = { 0 };
	struct store_alerts *a;
	enum store_status st;
	const char *db = NULL, *domain = NULL, *verb;
	bool dry_run = false;
	int ch, rc = EX_OK;

	/* The verb first, then its options: dmarcctl alerts list --json */
	if (argc >= 2 && argv[1][0] != '-') {
		verb = argv[1];
		argc--;
		argv++;
	} else
		verb = NULL;
	while ((ch = getopt_long(argc, argv, "jD:d:nh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			l.json = true;
			break;
		case 'D':
			domain = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'h':
			printf("usage: dmarcctl alerts list [--domain D] "
			    "[--json] [--database URI]\n"
			    "       dmarcctl alerts digest [--dry-run] "
			    "[--database URI]\n"
			    "       dmarcctl alerts deliver [--database URI]\n");
			return EX_OK;
		default:
			return EX_USAGE;
		}
	}
	if (verb == NULL || optind != argc) {
		cli_error("alerts", "want one of list, digest, deliver, then "
		    "its options");
		return EX_USAGE;
	}
	if (strcmp(verb, "list") != 0 && strcmp(verb, "digest") != 0 &&
	    strcmp(verb, "deliver") != 0) {
		cli_error("alerts", "%s: unknown; want list, digest or deliver",
		    verb);
		return EX_USAGE;
	}
	if (db == NULL)
		db = conf_str(ctx->conf, "HistoryDatabase");
	if (db == NULL || *db == '\0') {
		cli_error("alerts", "no HistoryDatabase in the configuration "
		    "and no --database");
		return EX_CONFIG;
	}
	if ((a = store_alerts_open(db, &st, &err)) == NULL) {
		cli_error("alerts", "%s", strbuf_cstr(&err));
		strbuf_release(&err);
		return st == STORE_ERR_CONFIG ? EX_CONFIG : st ==
		    STORE_ERR_OPEN ? EX_NOINPUT : EX_SOFTWARE;
	}
	if (strcmp(verb, "list") == 0) {
		if (store_alerts_list(a, ALERTS_ALL, domain, print_one, &l,
		    &err) != STORE_OK) {
			cli_error("alerts", "%s", strbuf_cstr(&err));
			rc = EX_IOERR;
		}
	} else if (strcmp(verb, "digest") == 0)
		rc = digest(ctx, a, dry_run);
	else if (alerts_webhook_deliver(ctx, a) > 0)
		rc = EX_TEMPFAIL;
	store_alerts_close(a);
	strbuf_release(&err);
	return rc;
}
