/*
 * cmd_report.c - dmarcctl report: build the DMARC aggregate reports of a
 * period from the verdict history (report/aggregate.h), gzip them and
 * write them with their RFC 9990 filenames.
 *
 *   dmarcctl report [--period yesterday|YYYY-MM-DD|FROM..TO]
 *       [--domain D] [--format rfc9990|rfc7489] [--json]
 *       --dry-run --out DIR
 *
 * One report per policy domain and UTC day.  Without --dry-run each
 * report is sent to the mailto: URIs of the domain's rua tag through
 * ReportSendmail (report/send.h), after the external destination check
 * of RFC 9990 section 4; one line per destination says what happened.
 * Exactly once: each report is claimed in the history's reports_sent
 * table first (store_report_claim(): racing runs on other nodes skip
 * it) and marked sent once every destination was sent or skipped for
 * good; after a failed send it stays claimed and the next run sends it
 * again, to every destination (there is one state per report, not per
 * destination), with the same (deterministic) report ID, by which the
 * destinations that already had it recognise the copy.  A period that
 * reaches into a UTC day not over yet is only built with --dry-run: sent,
 * its report would be partial and the rest of the day never reported.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "dns/resolver.h"
#include "report/aggregate.h"
#include "report/send.h"
#include "store/store.h"

#define DAY		86400
#define MAX_DAYS	366	/* one run covers a year at most */

static const char cmd[] = "report";

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcctl report [--period yesterday|"
	    "YYYY-MM-DD|FROM..TO] [--domain D]\n"
	    "                       [--format rfc9990|rfc7489] [--json] "
	    "[--dry-run --out DIR]\n"
	    "                       [--method treewalk|psl] [--psl-file F] "
	    "[--nameserver IP[:PORT]]\n");
}

/* YYYY-MM-DD -> the UTC midnight starting that day; -1 if malformed. */
static time_t
parse_day(const char *s, size_t n)
{
	char buf[16];
	struct tm tm;
	char *end;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(buf, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return timegm(&tm);
}

/* The period as [*from, *to) on day boundaries; FROM..TO includes both
 * days.  0, or -1 when malformed. */
static int
parse_period(const char *s, time_t now, time_t *from, time_t *to)
{
	const char *dots;

	if (strcmp(s, "yesterday") == 0) {
		*to = now - now % DAY;
		*from = *to - DAY;
		return 0;
	}
	if ((dots = strstr(s, "..")) != NULL) {
		*from = parse_day(s, (size_t)(dots - s));
		*to = parse_day(dots + 2, strlen(dots + 2));
		if (*from < 0 || *to < *from)
			return -1;
		*to += DAY;
	} else {
		if ((*from = parse_day(s, strlen(s))) < 0)
			return -1;
		*to = *from + DAY;
	}
	return (*to - *from) / DAY <= MAX_DAYS ? 0 : -1;
}

/* Write data to DIR/name through a temporary file and rename(2), so a
 * reader never sees half a report.  0, or -1 with errno. */
static int
write_file(const char *path, const char *data, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t off = 0;
	ssize_t w;
	int fd, saved;

	strbuf_appendf(&tmp, "%s.tmp", path);
	if ((fd = open(strbuf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC,
	    0644)) < 0)
		goto fail;
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(strbuf_cstr(&tmp), path) != 0)
		goto fail;
	strbuf_release(&tmp);
	return 0;
fail:
	saved = errno;
	unlink(strbuf_cstr(&tmp));
	strbuf_release(&tmp);
	errno = saved;
	return -1;
}

struct run {
	struct aggregate_meta meta;
	enum aggregate_format fmt;
	const char *outdir;
	bool	 json;
	bool	 dry;
	struct json j;
	struct strbuf jout;
	unsigned reports;
	const char *sendmail;		/* ReportSendmail */
	struct cli_discovery disc;	/* org domains, resolver */
	unsigned sent, skipped, failed;	/* destinations */
	const char *node;		/* NodeName: who claims reports */
	unsigned stale_s;		/* ReportClaimTimeout, seconds */
};

/* True when host's organizational domain is policy_domain's: no
 * external destination check is needed (RFC 9990 section 4). */
static bool
same_org(struct run *run, const char *policy_domain, const char *host)
{
	char *a = NULL, *b = NULL;
	bool same;

	if (strcasecmp(policy_domain, host) == 0)
		return true;
	if (orgdomain_find(&run->disc.oc, policy_domain, &a, NULL) !=
	    ORGDOMAIN_OK || orgdomain_find(&run->disc.oc, host, &b, NULL) !=
	    ORGDOMAIN_OK) {
		free(a);
		free(b);
		return false;	/* unknown: verify */
	}
	same = strcasecmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

/* RFC 9990 section 4: NULL when host authorized reports for domain, else
 * the reason to skip; *temporary says a DNS failure left it unknown (the
 * report should be tried again, not skipped for good). */
static const char *
verify_external(struct run *run, const char *domain, const char *host,
    bool *temporary)
{
	struct strbuf name = STRBUF_INIT;
	struct dns_answer ans;
	struct dns_deadline dl;
	enum dns_status ds;
	const char *why = "unverified external destination";
	size_t i;

	*temporary = false;
	if (send_verify_name(domain, host, &name) != 0) {
		strbuf_release(&name);
		return "unverified external destination (name too long)";
	}
	dns_deadline_in(&dl, 10000);
	ds = dns_query_txt(run->disc.res, strbuf_cstr(&name), &dl, &ans);
	if (ds == DNS_OK)
		for (i = 0; i < ans.nrr; i++)
			if (send_txt_authorizes(ans.rr[i].u.txt.data,
			    ans.rr[i].u.txt.len)) {
				why = NULL;
				break;
			}
	*temporary = why != NULL && dns_status_is_temporary(ds);
	if (*temporary)
		why = "unverified external destination (temporary DNS error)";
	dns_answer_clear(&ans);
	strbuf_release(&name);
	return why;
}

/* Send one report to every mailto: URI of its rua, printing one line per
 * URI. */
static void
send_report(struct run *run, const struct aggregate_report *rep,
    const char *date, const char *id, const char *filename,
    const struct strbuf *gz)
{
	const char *domain = aggregate_report_domain(rep);
	const char *rua = aggregate_report_rua(rep), *p, *comma, *why;
	struct strbuf msg = STRBUF_INIT, err = STRBUF_INIT;
	struct send_message m;
	struct send_dest d;
	enum send_status ss;
	size_t len;
	bool tmp = false;
	int code;

	if (*rua == '\0') {
		printf("%s %s - skipped (no rua)\n", domain, date);
		return;
	}
	for (p = rua; *p != '\0'; p = *comma ? comma + 1 : comma) {
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		len = (size_t)(comma - p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len == 0)
			continue;
		if (send_uri_parse(p, len, &d, &why) != 0) {
			printf("%s %s %.*s skipped (%s)\n", domain, date,
			    (int)(len > 200 ? 200 : len), p, why);
			run->skipped++;
			continue;
		}
		/* RFC 7489 section 6.2 "!size"; RFC 9990 drops it. */
		if (run->fmt == AGGREGATE_RFC7489 && d.max_size > 0 &&
		    gz->len > d.max_size) {
			printf("%s %s mailto:%s skipped (report of %zu bytes "
			    "over the !size limit of %llu)\n", domain, date,
			    d.addr, gz->len, (unsigned long long)d.max_size);
			run->skipped++;
			continue;
		}
		if (!same_org(run, domain, d.host) &&
		    (why = verify_external(run, domain, d.host, &tmp)) !=
		    NULL) {
			printf("%s %s mailto:%s %s (%s)\n", domain, date,
			    d.addr, tmp ? "failed" : "skipped", why);
			if (tmp)
				run->failed++;
			else
				run->skipped++;
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.from = run->meta.email;
		m.to = d.addr;
		m.policy_domain = domain;
		m.submitter = run->meta.receiver;
		m.report_id = id;
		m.filename = filename;
		m.date = time(NULL);
		m.gz = gz->data;
		m.gzlen = gz->len;
		strbuf_reset(&msg);
		strbuf_reset(&err);
		if ((ss = send_message_build(&m, &msg)) == SEND_OK)
			ss = send_pipe(run->sendmail, msg.data, msg.len, &code,
			    &err);
		if (ss == SEND_OK) {
			printf("%s %s mailto:%s sent report-id=%s\n", domain,
			    date, d.addr, id);
			run->sent++;
		} else {
			printf("%s %s mailto:%s failed (%s%s%s)\n", domain,
			    date, d.addr, send_strerror(ss), err.len ? ": " :
			    "", strbuf_cstr(&err));
			run->failed++;
		}
	}
	strbuf_release(&msg);
	strbuf_release(&err);
}

/* Claim the report, send it, and mark it sent unless a destination
 * failed for now (it stays claimed: the next run retries it). */
static void
send_claimed(struct run *run, struct store *st,
    const struct aggregate_report *rep, time_t day, const char *date,
    const char *id, const char *filename, const struct strbuf *gz)
{
	const char *domain = aggregate_report_domain(rep);
	struct strbuf err = STRBUF_INIT;
	enum store_claim c;
	unsigned failed = run->failed;

	c = store_report_claim(st, domain, day, id, run->node, run->stale_s,
	    &err);
	switch (c) {
	case STORE_CLAIM_OK:
		break;
	case STORE_CLAIM_SENT:
	case STORE_CLAIM_BUSY:
		printf("%s %s - skipped (%s)\n", domain, date,
		    store_claim_strerror(c));
		goto done;
	case STORE_CLAIM_ERROR:
		printf("%s %s - failed (%s)\n", domain, date,
		    strbuf_cstr(&err));
		run->failed++;
		goto done;
	}
	send_report(run, rep, date, id, filename, gz);
	if (run->failed == failed &&
	    store_report_mark_sent(st, domain, day, &err) != STORE_OK) {
		/* Sent but not recorded: the next run sends it again. */
		printf("%s %s - failed (%s)\n", domain, date,
		    strbuf_cstr(&err));
		run->failed++;
	}
done:
	strbuf_release(&err);
}

/* Build and write the reports of one day.  An exit status. */
static int
run_day(struct run *run, struct store *st, const char *domain, time_t day)
{
	struct strbuf err = STRBUF_INIT, xml = STRBUF_INIT, gz = STRBUF_INIT,
	    path = STRBUF_INIT, name = STRBUF_INIT, id = STRBUF_INIT;
	const struct aggregate_report *rep;
	struct aggregate_set *set = NULL;
	struct aggregate_stats s;
	enum aggregate_status as;
	char date[16];
	struct tm tm;
	size_t i;
	int rc = EX_OK;

	gmtime_r(&day, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if ((as = aggregate_collect(st, domain, day, day + DAY, &set,
	    &err)) != AGGREGATE_OK) {
		cli_error(cmd, "%s: %s%s%s", date, aggregate_strerror(as),
		    err.len ? ": " : "", strbuf_cstr(&err));
		rc = as == AGGREGATE_ERR_NOMEM ? EX_OSERR : EX_IOERR;
		goto done;
	}
	for (i = 0; i < aggregate_set_count(set); i++) {
		rep = aggregate_set_get(set, i);
		aggregate_report_stats(rep, &s);
		strbuf_reset(&name);
		strbuf_reset(&path);
		strbuf_reset(&xml);
		strbuf_reset(&gz);
		if (s.messages > 0) {
			aggregate_filename(rep, &run->meta, &name);
			strbuf_appendf(&path, "%s/%s", run->outdir,
			    strbuf_cstr(&name));
			if ((as = aggregate_write_xml(rep, &run->meta,
			    run->fmt, &xml)) != AGGREGATE_OK ||
			    (as = aggregate_gzip(xml.data, xml.len, &gz)) !=
			    AGGREGATE_OK) {
				cli_error(cmd, "%s %s: %s",
				    aggregate_report_domain(rep), date,
				    aggregate_strerror(as));
				rc = EX_SOFTWARE;
				goto done;
			}
			if (!run->dry) {
				strbuf_reset(&id);
				aggregate_report_id(rep, &run->meta, &id);
				send_claimed(run, st, rep, day, date,
				    strbuf_cstr(&id), strbuf_cstr(&name), &gz);
				run->reports++;
				continue;
			}
			if (write_file(strbuf_cstr(&path), gz.data, gz.len) !=
			    0) {
				cli_error(cmd, "%s: %s", strbuf_cstr(&path),
				    strerror(errno));
				rc = EX_CANTCREAT;
				goto done;
			}
			run->reports++;
		}
		if (run->json) {
			json_object_begin(&run->j);
			json_kv_string(&run->j, "domain",
			    aggregate_report_domain(rep));
			json_kv_string(&run->j, "day", date);
			json_kv_int(&run->j, "rows", (int64_t)s.rows);
			json_kv_int(&run->j, "records", (int64_t)s.records);
			json_kv_int(&run->j, "messages", (int64_t)s.messages);
			json_kv_int(&run->j, "skipped", (int64_t)s.skipped);
			json_kv_bool(&run->j, "policy_changed",
			    s.policies > 1);
			json_key(&run->j, "file");
			json_string(&run->j, s.messages > 0 ?
			    strbuf_cstr(&path) : NULL);
			json_object_end(&run->j);
		} else
			printf("%s %s rows=%llu records=%zu messages=%llu "
			    "file=%s\n", aggregate_report_domain(rep), date,
			    (unsigned long long)s.rows, s.records,
			    (unsigned long long)s.messages, s.messages > 0 ?
			    strbuf_cstr(&path) : "- (no DMARC-evaluated rows)");
	}
done:
	aggregate_set_free(set);
	strbuf_release(&err);
	strbuf_release(&xml);
	strbuf_release(&gz);
	strbuf_release(&path);
	strbuf_release(&name);
	strbuf_release(&id);
	return rc;
}

int
cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		CLI_DISCOVERY_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const char *period = "yesterday", *domain = NULL, *at;
	struct strbuf err = STRBUF_INIT, email = STRBUF_INIT;
	struct run run;
	struct store *st = NULL;
	enum store_status ss;
	char host[256];
	bool dry = false;
	time_t from, to, day, now;
	struct stat sb;
	int ch, rc = EX_OK;

	memset(&run, 0, sizeof(run));
	strbuf_init(&run.jout);
	cli_discovery_init(&run.disc, ctx);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (cli_discovery_option(&run.disc, cmd, ch, optarg)) {
		case 0:
			continue;
		case -1:
			return EX_USAGE;
		}
		switch (ch) {
		case 'p':
			period = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'f':
			if (aggregate_format_parse(optarg, &run.fmt) != 0) {
				cli_error(cmd, "--format %s: expected rfc9990 "
				    "or rfc7489", optarg);
				return EX_USAGE;
			}
			break;
		case 'o':
			run.outdir = optarg;
			break;
		case 'n':
			dry = true;
			break;
		case 'j':
			run.json = true;
			break;
		case 'h':
			usage();
			return EX_OK;
		default:
			usage();
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EX_USAGE;
	}
	run.dry = dry;
	if (!dry && run.json) {
		cli_error(cmd, "--json goes with --dry-run only");
		return EX_USAGE;
	}
	if (dry && run.outdir == NULL) {
		cli_error(cmd, "--dry-run needs --out DIR");
		usage();
		return EX_USAGE;
	}
	if (!dry && run.outdir != NULL) {
		cli_error(cmd, "--out goes with --dry-run");
		return EX_USAGE;
	}
	if (dry && (stat(run.outdir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		cli_error(cmd, "--out %s: not a directory", run.outdir);
		return EX_CANTCREAT;
	}
	now = time(NULL);
	if (parse_period(period, now, &from, &to) != 0) {
		cli_error(cmd, "--period %s: expected yesterday, YYYY-MM-DD "
		    "or FROM..TO (at most %d days)", period, MAX_DAYS);
		return EX_USAGE;
	}
	/* A day not over yet would be reported in part, and once marked
	 * sent the rest of it would never be. */
	if (!dry && to > now) {
		cli_error(cmd, "--period %s: a UTC day in it has not ended "
		    "yet; its report would be partial (--dry-run builds it "
		    "without sending)", period);
		return EX_USAGE;
	}

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	run.meta.org_name = conf_str(ctx->conf, "ReportOrgName");
	if (run.meta.org_name == NULL)
		run.meta.org_name = host;
	run.meta.email = conf_str(ctx->conf, "ReportEmail");
	if (run.meta.email == NULL) {
		strbuf_appendf(&email, "noreply-dmarc@%s", host);
		run.meta.email = strbuf_cstr(&email);
	}
	run.meta.extra_contact_info = conf_str(ctx->conf,
	    "ReportContactInfo");
	run.meta.generator = PACKAGE_NAME " " PACKAGE_VERSION;
	/* The filename's receiver is a domain: the one of ReportEmail. */
	at = strrchr(run.meta.email, '@');
	run.meta.receiver = at != NULL && at[1] != '\0' ? at + 1 : host;

	run.node = conf_str(ctx->conf, "NodeName");
	if (run.node == NULL)
		run.node = host;
	run.stale_s = (unsigned)(conf_int(ctx->conf, "ReportClaimTimeout") /
	    1000);
	run.sendmail = conf_str(ctx->conf, "ReportSendmail");
	if (run.sendmail == NULL)
		run.sendmail = SEND_DEFAULT_COMMAND;
	if (!dry && (rc = cli_discovery_open(&run.disc, ctx, cmd, true)) !=
	    EX_OK)
		goto done;

	if ((st = store_open(conf_str(ctx->conf, "HistoryDatabase"),
	    STORE_DURABILITY_RELAXED, &ss, &err)) == NULL) {
		cli_error(cmd, "%s", strbuf_cstr(&err));
		rc = EX_NOINPUT;
		goto done;
	}
	if (run.json) {
		json_init(&run.j, &run.jout, true);
		json_array_begin(&run.j);
	}
	for (day = from; day < to && rc == EX_OK; day += DAY)
		rc = run_day(&run, st, domain, day);
	if (run.json) {
		json_array_end(&run.j);
		strbuf_appendc(&run.jout, '\n');
		fputs(strbuf_cstr(&run.jout), stdout);
	}
	if (!dry && rc == EX_OK) {
		printf("sent=%u skipped=%u failed=%u\n", run.sent,
		    run.skipped, run.failed);
		if (run.failed > 0)
			rc = EX_TEMPFAIL;
	}
done:
	cli_discovery_close(&run.disc);
	if (store_close(st) != STORE_OK && rc == EX_OK)
		rc = EX_IOERR;
	strbuf_release(&err);
	strbuf_release(&email);
	strbuf_release(&run.jout);
	return rc;
}
