/*
 * cmd_expire.c - dmarcctl expire: retention of the verdict history.
 *
 *   dmarcctl expire --days N [--dry-run] [--json]
 *
 * Deletes the verdict rows of the UTC days that began more than N days
 * before today (the "day" column), and the reports_sent rows of periods
 * that began before the same day, in one transaction, then prints the
 * numbers.  Whole days go, so a report is never built from half a day.
 * With --dry-run the rows are only counted.  Leaves out: VACUUM (SQLite
 * reuses the freed pages) and received reports.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "store/store.h"

#define MAX_EXPIRE_DAYS	36500

static const char cmd[] = "expire";

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcctl expire --days N [--dry-run] "
	    "[--json]\n");
}

int
cmd_expire(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct store *st = NULL;
	enum store_status ss;
	struct json j;
	uint64_t nv = 0, nr = 0;
	bool dry = false, json = false;
	long days = -1;
	char *end;
	int ch, rc = EX_OK;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			days = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || days < 1 ||
			    days > MAX_EXPIRE_DAYS) {
				cli_error(cmd, "--days %s: expected a number "
				    "of days from 1 to %d", optarg,
				    MAX_EXPIRE_DAYS);
				return EX_USAGE;
			}
			break;
		case 'n':
			dry = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage();
			return EX_OK;
		default:
			usage();
			return EX_USAGE;
		}
	}
	if (optind != argc || days < 0) {
		if (days < 0)
			cli_error(cmd, "--days N is required");
		usage();
		return EX_USAGE;
	}
	if ((st = store_open(conf_str(ctx->conf, "HistoryDatabase"),
	    STORE_DURABILITY_RELAXED, &ss, &err)) == NULL) {
		cli_error(cmd, "%s", strbuf_cstr(&err));
		rc = EX_NOINPUT;
		goto done;
	}
	/* Today's UTC day is kept whole, with the N days before it. */
	if ((ss = store_expire(st, store_day(time(NULL)) - days, dry, &nv, &nr,
	    &err)) != STORE_OK) {
		cli_error(cmd, "%s", strbuf_cstr(&err));
		rc = ss == STORE_ERR_NOMEM ? EX_OSERR : EX_IOERR;
		goto done;
	}
	if (json) {
		json_init(&j, &out, true);
		json_object_begin(&j);
		json_kv_int(&j, "days", (int64_t)days);
		json_kv_bool(&j, "dry_run", dry);
		json_kv_int(&j, "verdicts", (int64_t)nv);
		json_kv_int(&j, "reports_sent", (int64_t)nr);
		json_object_end(&j);
		strbuf_appendc(&out, '\n');
		fputs(strbuf_cstr(&out), stdout);
	} else
		printf("%s verdicts=%llu reports_sent=%llu (older than %ld "
		    "days)\n", dry ? "would delete" : "deleted",
		    (unsigned long long)nv, (unsigned long long)nr, days);
done:
	if (store_close(st) != STORE_OK && rc == EX_OK)
		rc = EX_IOERR;
	strbuf_release(&err);
	strbuf_release(&out);
	return rc;
}
