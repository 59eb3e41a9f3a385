/*
 * cmd_check.c - dmarcctl check: grade a DMARC record.
 *
 *   dmarcctl check [--json] [--selector S,...] [--nameserver IP[:PORT]]
 *       [--method treewalk|psl] [--psl-file F] [--database URI]
 *       [--days N] DOMAIN...
 *   dmarcctl check --record 'v=DMARC1; ...' [--domain D] [--json]
 *   dmarcctl check --list-codes [--json]
 *
 * With domains, the online checker (check_online.c).  With --record,
 * offline grading of a record string, with the score rubric of the
 * checker (policy/grade.c).  Without --domain the suggested records are
 * written for example.com.  Exit status: 0 when no issue is worse than
 * info, 1 when the worst are warnings (medium, low), 2 when there are
 * errors (critical, high); see dmarcctl(8).
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_online.h"
#include "cli.h"
#include "common/json.h"
#include "policy/grade.h"

static const char cmd[] = "check";

/* Exit codes of check (also used by the online checker later). */
#define CHECK_EXIT_WARNINGS	1
#define CHECK_EXIT_ERRORS	2

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcctl check [--json] [--selector S,...] "
	    "[--nameserver IP[:PORT]]\n"
	    "           [--method treewalk|psl] [--psl-file FILE]\n"
	    "           [--database URI] [--days N] DOMAIN...\n"
	    "       dmarcctl check --record TEXT [--domain DOMAIN] [--json]\n"
	    "       dmarcctl check --list-codes [--json]\n");
}

bool
cli_stdout_is_tty(void)
{
	return isatty(STDOUT_FILENO) == 1;
}

static int
check_exit_code(const struct grade_result *g)
{
	int rc = EX_OK;
	size_t i;

	for (i = 0; i < g->nissues; i++) {
		switch (g->issues[i].severity) {
		case GRADE_SEV_CRITICAL:
		case GRADE_SEV_HIGH:
			return CHECK_EXIT_ERRORS;
		case GRADE_SEV_MEDIUM:
		case GRADE_SEV_LOW:
			rc = CHECK_EXIT_WARNINGS;
			break;
		case GRADE_SEV_INFO:
			break;
		}
	}
	return rc;
}

/* ANSI colour for a severity, or "" when stdout is not a terminal. */
static const char *
sev_colour(enum grade_severity s, bool tty)
{
	if (!tty)
		return "";
	switch (s) {
	case GRADE_SEV_CRITICAL:
	case GRADE_SEV_HIGH:
		return "\033[1;31m";
	case GRADE_SEV_MEDIUM:
	case GRADE_SEV_LOW:
		return "\033[33m";
	case GRADE_SEV_INFO:
		break;
	}
	return "\033[36m";
}

static const char *
policy_text(enum dmarc_policy p)
{
	return p == DMARC_POLICY_UNSPEC ? "-" : dmarc_policy_name(p);
}

static void
print_text(const struct grade_result *g)
{
	bool tty = cli_stdout_is_tty();
	const char *off = tty ? "\033[0m" : "";
	size_t i;

	printf("%s: ", g->domain);
	if (!g->present)
		printf("no DMARC record\n");
	else
		printf("%s DMARC record \"%s\"\n", g->valid ? "valid" :
		    "invalid", g->record != NULL ? g->record : "");
	if (g->valid) {
		printf("  policy %s, subdomains %s, non-existent subdomains "
		    "%s, pct %d, aggregate reports ", policy_text(g->policy),
		    policy_text(g->subdomain_policy),
		    policy_text(g->nxdomain_policy), g->percentage);
		if (g->naggregate_reports == 0)
			printf("none");
		for (i = 0; i < g->naggregate_reports; i++)
			printf("%s%s", i ? ", " : "",
			    g->aggregate_reports[i].uri);
		printf("\n");
	}
	printf("  score %d/100\n", g->score);
	for (i = 0; i < g->nissues; i++) {
		const struct grade_issue *is = &g->issues[i];

		printf("  %s[%s]%s %s: %s\n", sev_colour(is->severity, tty),
		    grade_severity_name(is->severity), off, is->code,
		    is->message);
		if (is->remediation != NULL)
			printf("      fix: %s\n", is->remediation);
		if (is->snippet.name != NULL)
			printf("      publish: %s. IN TXT \"%s\"\n",
			    is->snippet.name, is->snippet.value);
	}
	if (g->issues_dropped > 0)
		printf("  (%zu more issues not shown)\n", g->issues_dropped);
}

/*
 * Without --database, the HistoryDatabase when it is a SQLite file that
 * exists (the checker never creates one, nor connects to a PostgreSQL
 * history unless --database names it).
 */
static const char *
history_database(const struct cli_ctx *ctx)
{
	const char *db = conf_str(ctx->conf, "HistoryDatabase"), *path = db;

	if (db == NULL || *db == '\0' || strncmp(db, "postgres", 8) == 0)
		return NULL;
	if (strncmp(path, "sqlite://", 9) == 0)
		path += 9;
	else if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	return access(path, R_OK) == 0 ? db : NULL;
}

static void
list_row(struct json *j, bool json, const char *code,
    enum grade_severity sev, int weight, const char *source)
{
	if (!json) {
		printf("%-36s %-8s %3d  %s\n", code, grade_severity_name(sev),
		    weight, source);
		return;
	}
	json_object_begin(j);
	json_kv_string(j, "code", code);
	json_kv_string(j, "severity", grade_severity_name(sev));
	json_kv_int(j, "weight", weight);
	json_kv_string(j, "source", source);
	json_object_end(j);
}

static int
list_codes(bool json)
{
	const struct grade_code_info *t;
	const struct check_code_info *o;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	size_t i, n;

	t = grade_code_table(&n);
	json_init(&j, &out, true);
	if (json)
		json_array_begin(&j);
	for (i = 0; i < n; i++)
		list_row(&j, json, t[i].code, t[i].severity, t[i].weight,
		    t[i].source);
	o = check_code_table(&n);
	for (i = 0; i < n; i++)
		list_row(&j, json, o[i].code, o[i].severity, o[i].weight,
		    o[i].source);
	if (json) {
		json_array_end(&j);
		printf("%s\n", strbuf_cstr(&out));
	}
	strbuf_release(&out);
	return EX_OK;
}

int
cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "record", required_argument, NULL, 'r' },
		{ "domain", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "list-codes", no_argument, NULL, 'l' },
		{ "selector", required_argument, NULL, 's' },
		{ "database", required_argument, NULL, 'D' },
		{ "days", required_argument, NULL, 'N' },
		CLI_DISCOVERY_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct grade_input in;
	struct grade_result *g = NULL;
	enum grade_status st;
	const char *record = NULL, *domain = "example.com", *sels = NULL;
	const char *database = NULL;
	unsigned days = CHECK_REPORT_DAYS;
	char *end;
	unsigned long ul;
	struct cli_discovery d;
	bool json = false, codes = false;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	int ch, rc;

	cli_discovery_init(&d, ctx);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((rc = cli_discovery_option(&d, cmd, ch, optarg)) <= 0) {
			if (rc < 0)
				return EX_USAGE;
			continue;
		}
		switch (ch) {
		case 's':
			sels = optarg;
			break;
		case 'D':
			database = optarg;
			break;
		case 'N':
			ul = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    ul > 36500) {
				cli_error(cmd, "--days %s: not a number of "
				    "days (0-36500)", optarg);
				return EX_USAGE;
			}
			days = (unsigned)ul;
			break;
		case 'r':
			record = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			codes = true;
			break;
		case 'h':
			usage();
			return EX_OK;
		default:
			usage();
			return EX_USAGE;
		}
	}
	if (codes)
		return list_codes(json);
	if (record == NULL && optind < argc) {
		if (database == NULL)
			database = history_database(ctx);
		return check_online(ctx, &d, json, sels, database, days,
		    argv + optind, argc - optind);
	}
	if (record == NULL || optind != argc) {
		usage();
		return EX_USAGE;
	}

	memset(&in, 0, sizeof(in));
	in.domain = domain;
	in.txts = &record;
	in.ntxt = 1;
	if ((st = grade_check(&in, &g)) != GRADE_OK) {
		cli_error(cmd, "--domain %s: %s", domain, grade_strerror(st));
		return st == GRADE_ERR_NOMEM ? EX_OSERR : EX_DATAERR;
	}
	if (json) {
		json_init(&j, &out, true);
		grade_write_json(g, &j);
		printf("%s\n", strbuf_cstr(&out));
		strbuf_release(&out);
	} else
		print_text(g);
	rc = check_exit_code(g);
	grade_result_free(g);
	return rc;
}
