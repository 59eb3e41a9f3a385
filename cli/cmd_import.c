/*
 * cmd_import.c - dmarcctl import: store received aggregate reports.
 *
 * Each FILE (a .xml, .xml.gz, .gz, .zip or .eml report; the container
 * is told by content), each regular file under a DIR (recursively), or
 * "-" (stdin, e.g. a Postfix pipe transport) is parsed by ingest/ and
 * stored in the HistoryDatabase (or --database) through store/import.h,
 * one transaction per report.  One line per input:
 *   FILE: stored report ORG ID DOMAIN (N records)
 *   FILE: duplicate report ORG ID DOMAIN
 *   FILE: rejected: REASON
 * or with --json one JSON object per line.  Exit: EX_OK, EX_DATAERR if
 * any input was rejected, EX_USAGE, EX_NOINPUT / EX_CANTCREAT / EX_CONFIG
 * for the database.
 * --imap URL reads a mailbox instead (import_imap.c).  After the run,
 * alerts are looked for (alerts_run.c).
 * Not yet: ownership filtering (OwnedDomains), failure (AFRF) reports,
 * mbox, Maildir, a progress bar.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/import.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "ingest/ingest.h"
#include "store/import.h"

#define MAX_DIR_DEPTH	16

struct imp {
	struct store_importer *im;
	bool	 json;
	const char *source;
	bool	 duplicate, begun;
	enum store_status sst;
	struct strbuf serr;
	unsigned long stored, duplicates, rejected;
	bool	 fatal;
};

static int
on_report(const struct ingest_report *r, void *ctx)
{
	struct imp *m = ctx;
	struct store_agg_report a = {
		.org_name = r->org_name, .email = r->email,
		.extra_contact = r->extra_contact_info,
		.report_id = r->report_id, .domain = r->domain,
		.begin = r->begin, .end = r->end, .version = r->version,
		.adkim = r->adkim, .aspf = r->aspf, .p = r->p, .sp = r->sp,
		.np = r->np, .fo = r->fo, .testing = r->testing,
		.discovery_method = r->discovery_method, .pct = r->pct,
		.source = m->source,
	};

	m->sst = store_import_begin(m->im, &a, &m->duplicate, &m->serr);
	if (m->sst != STORE_OK)
		return -1;
	m->begun = !m->duplicate;
	return m->duplicate ? 1 : 0;	/* a duplicate: stop parsing */
}

static int
on_record(const struct ingest_report *r, const struct ingest_record *c,
    void *ctx)
{
	struct imp *m = ctx;
	struct store_agg_record a = {
		.source_ip = c->source_ip, .count = c->count,
		.disposition = c->disposition, .eval_dkim = c->dkim,
		.eval_spf = c->spf, .reasons = c->reasons,
		.header_from = c->header_from,
		.envelope_from = c->envelope_from,
		.envelope_to = c->envelope_to,
		.spf_results = c->spf_results,
		.dkim_results = c->dkim_results,
	};

	(void)r;
	m->sst = store_import_record(m->im, &a, &m->serr);
	return m->sst == STORE_OK ? 0 : -1;
}

/* Report id and org for the output: remembered by a wrapper. */
struct seen {
	struct imp *m;
	struct ingest_report rep;
	bool	 have;
};

static int
seen_report(const struct ingest_report *r, void *ctx)
{
	struct seen *s = ctx;

	s->rep = *r;
	s->have = true;
	return on_report(r, s->m);
}

static int
seen_record(const struct ingest_report *r, const struct ingest_record *c,
    void *ctx)
{
	struct seen *s = ctx;

	s->rep.nrecords = r->nrecords;
	return on_record(r, c, s->m);
}

static void
print(struct imp *m, const char *name, const char *outcome,
    const struct seen *s, const char *reason)
{
	struct strbuf out = STRBUF_INIT;
	struct json j;

	if (m->json) {
		json_init(&j, &out, false);
		json_object_begin(&j);
		json_kv_string(&j, "file", name);
		json_kv_string(&j, "outcome", outcome);
		if (s->have && reason == NULL) {
			json_kv_string(&j, "org_name", s->rep.org_name);
			json_kv_string(&j, "report_id", s->rep.report_id);
			json_kv_string(&j, "domain", s->rep.domain);
			json_kv_int(&j, "begin", (int64_t)s->rep.begin);
			json_kv_int(&j, "end", (int64_t)s->rep.end);
			if (strcmp(outcome, "stored") == 0)
				json_kv_int(&j, "records",
				    (int64_t)s->rep.nrecords);
		}
		if (reason != NULL)
			json_kv_string(&j, "reason", reason);
		json_object_end(&j);
		printf("%s\n", strbuf_cstr(&out));
	} else if (reason != NULL)
		printf("%s: rejected: %s\n", name, reason);
	else if (strcmp(outcome, "stored") == 0)
		printf("%s: stored report %s %s %s (%llu records)\n", name,
		    s->rep.org_name[0] ? s->rep.org_name : "\"\"",
		    s->rep.report_id, s->rep.domain,
		    (unsigned long long)s->rep.nrecords);
	else
		printf("%s: duplicate report %s %s %s\n", name,
		    s->rep.org_name[0] ? s->rep.org_name : "\"\"",
		    s->rep.report_id, s->rep.domain);
	strbuf_release(&out);
}

enum import_outcome
import_fd(struct imp *m, int fd, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	struct seen s;
	enum ingest_status is;
	enum import_outcome o;

	memset(&s, 0, sizeof(s));
	s.m = m;
	m->source = name;
	m->duplicate = m->begun = false;
	m->sst = STORE_OK;
	strbuf_reset(&m->serr);
	is = ingest_fd(fd, seen_report, seen_record, &s, &err);
	if (is == INGEST_ERR_CALLBACK && m->duplicate && m->sst == STORE_OK) {
		m->duplicates++;
		o = IMPORT_DUPLICATE;
		print(m, name, "duplicate", &s, NULL);
	} else if (is == INGEST_OK && m->begun) {
		if (store_import_end(m->im, true, s.rep.nrecords, &m->serr) ==
		    STORE_OK) {
			m->stored++;
			o = IMPORT_STORED;
			print(m, name, "stored", &s, NULL);
		} else {
			m->fatal = true;
			o = IMPORT_FAILED;
			print(m, name, "error", &s, strbuf_cstr(&m->serr));
		}
	} else {
		if (m->begun)
			store_import_end(m->im, false, 0, NULL);
		if (m->sst != STORE_OK) {
			m->fatal = true;
			o = IMPORT_FAILED;
			print(m, name, "error", &s, strbuf_cstr(&m->serr));
		} else {
			m->rejected++;
			o = IMPORT_REJECTED;
			print(m, name, "rejected", &s, strbuf_len(&err) ?
			    strbuf_cstr(&err) : ingest_strerror(is));
		}
	}
	strbuf_release(&err);
	return o;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void import_path(struct imp *, const char *, unsigned);

static void
import_dir(struct imp *m, const char *path, unsigned depth)
{
	struct strbuf sub = STRBUF_INIT;
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, i;
	DIR *d;

	if (depth > MAX_DIR_DEPTH || (d = opendir(path)) == NULL) {
		struct seen s = { 0 };
		m->rejected++;
		print(m, path, "rejected", &s, depth > MAX_DIR_DEPTH ?
		    "directories nested too deep" : strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL)
			break;
		names = nn;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		strbuf_reset(&sub);
		strbuf_appendf(&sub, "%s/%s", path, names[i]);
		import_path(m, strbuf_cstr(&sub), depth + 1);
		free(names[i]);
	}
	free(names);
	strbuf_release(&sub);
}

static void
import_path(struct imp *m, const char *path, unsigned depth)
{
	struct stat sb;
	int fd;

	if (strcmp(path, "-") == 0) {
		import_fd(m, STDIN_FILENO, "-");
		return;
	}
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		import_dir(m, path, depth);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		struct seen s = { 0 };
		m->rejected++;
		print(m, path, "rejected", &s, strerror(errno));
		return;
	}
	import_fd(m, fd, path);
	close(fd);
}

int
cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "database", required_argument, NULL, 'd' },
		{ "imap", required_argument, NULL, 'I' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "imap-cafile", required_argument, NULL, 'C' },
		{ "watch", no_argument, NULL, 'W' },
		{ "interval", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf err = STRBUF_INIT;
	struct import_imap_opts io = { 0 };
	time_t since = time(NULL);
	struct imp m;
	const char *db = NULL;
	enum store_status st;
	int ch, i, rc;

	memset(&m, 0, sizeof(m));
	strbuf_init(&m.serr);
	while ((ch = getopt_long(argc, argv, "jd:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			m.json = true;
			break;
		case 'd':
			db = optarg;
			break;
		case 'I':
			io.url = optarg;
			break;
		case 'P':
			io.password_file = optarg;
			break;
		case 'C':
			io.cafile = optarg;
			break;
		case 'W':
			io.watch = true;
			break;
		case 'N':
			io.interval = strtol(optarg, NULL, 10);
			if (io.interval < 1 || io.interval > 86400) {
				cli_error("import", "--interval %s: want 1 to "
				    "86400 seconds", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			printf("usage: dmarcctl import [--json] "
			    "[--database URI] FILE|DIR|- ...\n"
			    "       dmarcctl import [--json] [--database URI] "
			    "--imap imaps://USER@HOST[:PORT]/MAILBOX\n"
			    "           [--password-file FILE] "
			    "[--imap-cafile FILE] [--watch [--interval S]]\n");
			return EX_OK;
		default:
			return EX_USAGE;
		}
	}
	/* No input at all: the configured mailbox, if there is one. */
	if (io.url == NULL && optind >= argc &&
	    conf_str(ctx->conf, "ImportImapURL") != NULL &&
	    *conf_str(ctx->conf, "ImportImapURL") != '\0')
		io.url = conf_str(ctx->conf, "ImportImapURL");
	if (io.url == NULL && (io.watch || io.password_file != NULL ||
	    io.cafile != NULL)) {
		cli_error("import", "--watch, --password-file and "
		    "--imap-cafile go with --imap");
		return EX_USAGE;
	}
	if (io.url != NULL && optind < argc) {
		cli_error("import", "--imap takes no FILE arguments");
		return EX_USAGE;
	}
	if (io.url == NULL && optind >= argc) {
		cli_error("import", "no input: give FILE, DIR or - (stdin)");
		return EX_USAGE;
	}
	if (db == NULL)
		db = conf_str(ctx->conf, "HistoryDatabase");
	if (db == NULL || *db == '\0') {
		cli_error("import", "no HistoryDatabase in the configuration "
		    "and no --database");
		return EX_CONFIG;
	}
	if ((m.im = store_importer_open(db, &st, &err)) == NULL) {
		cli_error("import", "%s", strbuf_cstr(&err));
		strbuf_release(&err);
		return st == STORE_ERR_CONFIG ? EX_CONFIG : st ==
		    STORE_ERR_OPEN ? EX_CANTCREAT : EX_SOFTWARE;
	}
	if (io.url != NULL) {
		if ((rc = import_imap(ctx, &m, &io, db)) != EX_OK) {
			store_importer_close(m.im);
			strbuf_release(&m.serr);
			strbuf_release(&err);
			return rc;
		}
	} else {
		for (i = optind; i < argc; i++)
			import_path(&m, argv[i], 0);
		fflush(stdout);
		alerts_after_import(ctx, db, since);
	}
	fflush(stdout);
	store_importer_close(m.im);
	strbuf_release(&m.serr);
	strbuf_release(&err);
	rc = m.fatal ? EX_IOERR : m.rejected > 0 ? EX_DATAERR : EX_OK;
	if (!m.json && isatty(STDERR_FILENO))
		fprintf(stderr, "dmarcctl: import: %lu stored, %lu duplicate, "
		    "%lu rejected\n", m.stored, m.duplicates, m.rejected);
	return rc;
}
