/*
 * cmd_import.c - dmarcctl import: store received aggregate and failure
 * reports.
 *
 * Inputs: a FILE (.xml, .xml.gz, .gz, .zip or .eml; the container is
 * told by content), an mbox (a file that starts with a From_ line: one
 * outcome per message, named FILE#N), a DIR (every regular file under
 * it, recursively, in name order; a Maildir's tmp/ is left alone), or
 * "-" (stdin: a Postfix pipe transport, see README.md).  Each is parsed
 * by ingest/ and stored in the HistoryDatabase (or --database) through
 * store/import.h.  Only reports about owned domains (OwnedDomains and
 * the owned_domains table, a domain covering its subdomains) are
 * stored, unless --any-domain.  One line per input:
 *   NAME: stored report ORG ID DOMAIN (N records)
 *   NAME: stored failure report DOMAIN from IP (key K)
 *   NAME: duplicate report ... / duplicate failure report ...
 *   NAME: rejected: REASON
 * or with --json one JSON object per line.  A progress bar on stderr
 * when it is a terminal and there is more than a few inputs' worth of
 * work; it counts an mbox's messages (see input_units()).
 * --imap URL reads a mailbox instead (import_imap.c), through
 * import_fd().  After the run, alerts are looked for (alerts_run.c).
 *
 * Group commit: FILE, DIR and mbox inputs are stored in batches (up to
 * BATCH_INPUTS inputs or BATCH_MS milliseconds, and always at the end)
 * in one transaction, each report in a savepoint of its own
 * (store/import.h), so that a bad report is undone alone.  Their output
 * lines wait for the batch's commit: a line says "stored" only once
 * the report is on disk (HistoryDurability full), and reverse DNS is
 * looked up only then.  --imap and stdin commit each message before
 * its outcome is acted on (the message moved, Postfix answered).
 * Past its first QUEUE_AFTER records, a report's records are stored by
 * a second thread while this one parses on (import_queue.h); the
 * queue is drained before the report's outcome is decided.
 * Exit (sysexits): EX_OK; EX_DATAERR when an input was rejected (but
 * EX_OK when reading stdin, so that Postfix does not bounce a report
 * we cannot use back to its sender); EX_TEMPFAIL when the database
 * failed (Postfix defers and retries); EX_USAGE; EX_CONFIG and
 * EX_CANTCREAT when the database cannot be opened (EX_TEMPFAIL for
 * stdin).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/import.h"
#include "cli/import_queue.h"
#include "cli/import_rdns.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "ingest/ingest.h"
#include "store/import.h"

#define MAX_DIR_DEPTH	16
#define MAX_INPUTS	1000000
#define PROGRESS_MIN	5	/* units (inputs, mbox messages) before a
				 * progress bar is drawn */
#define BATCH_INPUTS	256	/* inputs per group commit, at most */
#define BATCH_MS	250	/* and the longest a batch stays open */
#define QUEUE_AFTER	32	/* records of a report stored in line; the
				 * rest by the queue's thread */

/* An output line held until its batch is committed. */
struct held {
	char	*line, *name;
	bool	 stored;
};

struct imp {
	struct store_importer *im;
	struct import_queue *queue;	/* a large report's records */
	struct ingest_handlers h;	/* the callbacks below, ctx this */
	struct import_rdns *rdns;
	bool	 json, any_domain, progress;
	size_t	 units_done, units_total;	/* of the progress bar */
	char	**owned;		/* lower case, no trailing dot */
	size_t	 nowned;
	const char *source;
	/* the current input */
	bool	 duplicate, begun, failure, not_owned;
	struct ingest_report rep;
	bool	 have_rep;
	char	 fkey[65], fdomain[254], fip[46];
	enum store_status sst;
	struct strbuf serr, reason;
	unsigned long stored, duplicates, rejected;
	bool	 fatal;
	/* group commit (FILE, DIR, mbox inputs) */
	bool	 batch;
	struct held *held;
	size_t	 nheld, capheld;
	struct timespec bstart;
	size_t	 rdns_mark;		/* IPs noted before this input */
};

/* Whether domain d is owned: equal to or under an owned domain. */
static bool
is_owned(const struct imp *m, const char *d)
{
	size_t i, dl = strlen(d), ol;

	while (dl > 0 && d[dl - 1] == '.')
		dl--;
	for (i = 0; i < m->nowned; i++) {
		ol = strlen(m->owned[i]);
		if (ol == 0 || ol > dl)
			continue;
		if (strncasecmp(d + dl - ol, m->owned[i], ol) == 0 &&
		    (dl == ol || d[dl - ol - 1] == '.'))
			return true;
	}
	return false;
}

/* The reason an unowned domain is refused (the brief's wording). */
static int
refuse(struct imp *m, const char *d)
{
	m->not_owned = true;
	strbuf_reset(&m->reason);
	strbuf_appends(&m->reason, "not an owned domain: ");
	strbuf_append_escaped(&m->reason, d, strlen(d), 253);
	return -1;
}

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

	m->rep = *r;
	m->have_rep = true;
	if (!m->any_domain && !is_owned(m, r->domain))
		return refuse(m, r->domain);
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

	m->rep.nrecords = r->nrecords;
	/* past the first few records, parsing and storing overlap */
	if (r->nrecords > QUEUE_AFTER && m->queue != NULL)
		m->sst = import_queue_put(m->queue, c, &m->serr);
	else
		m->sst = import_record_store(m->im, c, &m->serr);
	if (m->sst == STORE_OK && m->rdns != NULL)
		import_rdns_note(m->rdns, c->source_ip);
	return m->sst == STORE_OK ? 0 : -1;
}

static int
on_failure(const struct ingest_failure *f, void *ctx)
{
	struct imp *m = ctx;
	struct store_failure_report s = {
		.report_key = f->report_key, .reporter = f->reporter,
		.reported_domain = f->reported_domain,
		.arrival = f->arrival, .source_ip = f->source_ip,
		.feedback_type = f->feedback_type,
		.auth_failure = f->auth_failure,
		.identity_alignment = f->identity_alignment,
		.delivery_result = f->delivery_result,
		.dkim_domain = f->dkim_domain,
		.dkim_selector = f->dkim_selector,
		.dkim_identity = f->dkim_identity, .spf_dns = f->spf_dns,
		.original_mail_from = f->original_mail_from,
		.original_rcpt_to = f->original_rcpt_to,
		.original_envelope_id = f->original_envelope_id,
		.header_from = f->header_from, .subject = f->subject,
		.message_id = f->message_id, .user_agent = f->user_agent,
		.headers = f->headers, .source = m->source,
	};

	m->failure = true;
	snprintf(m->fkey, sizeof(m->fkey), "%s", f->report_key);
	snprintf(m->fdomain, sizeof(m->fdomain), "%s", f->reported_domain);
	snprintf(m->fip, sizeof(m->fip), "%s", f->source_ip);
	if (!m->any_domain && !is_owned(m, f->reported_domain))
		return refuse(m, f->reported_domain);
	m->sst = store_import_failure(m->im, &s, &m->duplicate, &m->serr);
	if (m->sst != STORE_OK)
		return -1;
	if (!m->duplicate && m->rdns != NULL)
		import_rdns_note(m->rdns, f->source_ip);
	return 0;
}

static bool hold(struct imp *, const char *, const char *, bool);
static bool batch_commit(struct imp *);
static void print_lost(struct imp *, const char *, const char *);
static void progress(const struct imp *);

static void
print(struct imp *m, const char *name, const char *outcome,
    const char *reason)
{
	struct strbuf out = STRBUF_INIT;
	bool stored = strcmp(outcome, "stored") == 0;
	struct json j;

	if (m->json) {
		json_init(&j, &out, false);
		json_object_begin(&j);
		json_kv_string(&j, "file", name);
		json_kv_string(&j, "outcome", outcome);
		if (m->failure) {
			json_kv_string(&j, "kind", "failure");
			json_kv_string(&j, "domain", m->fdomain);
			json_kv_string(&j, "source_ip", m->fip);
			json_kv_string(&j, "report_key", m->fkey);
		} else if (m->have_rep) {
			json_kv_string(&j, "kind", "aggregate");
			json_kv_string(&j, "org_name", m->rep.org_name);
			json_kv_string(&j, "report_id", m->rep.report_id);
			json_kv_string(&j, "domain", m->rep.domain);
			json_kv_int(&j, "begin", (int64_t)m->rep.begin);
			json_kv_int(&j, "end", (int64_t)m->rep.end);
			if (stored)
				json_kv_int(&j, "records",
				    (int64_t)m->rep.nrecords);
		}
		if (reason != NULL)
			json_kv_string(&j, "reason", reason);
		json_object_end(&j);
		strbuf_appendc(&out, '\n');
	} else if (reason != NULL)
		strbuf_appendf(&out, "%s: %s: %s\n", name, outcome, reason);
	else if (m->failure)
		strbuf_appendf(&out, "%s: %s failure report %s from %s "
		    "(key %.16s)\n", name, outcome, m->fdomain,
		    m->fip[0] ? m->fip : "\"\"", m->fkey);
	else if (stored)
		strbuf_appendf(&out, "%s: stored report %s %s %s "
		    "(%llu records)\n", name,
		    m->rep.org_name[0] ? m->rep.org_name : "\"\"",
		    m->rep.report_id, m->rep.domain,
		    (unsigned long long)m->rep.nrecords);
	else
		strbuf_appendf(&out, "%s: duplicate report %s %s %s\n", name,
		    m->rep.org_name[0] ? m->rep.org_name : "\"\"",
		    m->rep.report_id, m->rep.domain);
	if (m->batch) {
		if (hold(m, name, strbuf_cstr(&out), stored)) {
			strbuf_release(&out);
			return;
		}
		/* out of memory: commit what is held before printing */
		if (!batch_commit(m) && stored) {
			m->stored--;
			print_lost(m, name, "the batch was not committed");
			strbuf_release(&out);
			return;
		}
	}
	if (m->progress)
		fputs("\r\033[K", stderr);
	fputs(strbuf_cstr(&out), stdout);
	strbuf_release(&out);
}

/* The line of an input whose batch could not be committed. */
static void
print_lost(struct imp *m, const char *name, const char *reason)
{
	struct strbuf out = STRBUF_INIT;
	struct json j;

	if (m->progress)
		fputs("\r\033[K", stderr);
	if (m->json) {
		json_init(&j, &out, false);
		json_object_begin(&j);
		json_kv_string(&j, "file", name);
		json_kv_string(&j, "outcome", "error");
		json_kv_string(&j, "reason", reason);
		json_object_end(&j);
		printf("%s\n", strbuf_cstr(&out));
	} else
		printf("%s: error: %s\n", name, reason);
	strbuf_release(&out);
}

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Commit the batch, then print its lines: a report whose commit failed
 * is an error, not stored.  PTR lookups for the stored reports.  False
 * when the commit failed. */
static bool
batch_commit(struct imp *m)
{
	struct strbuf err = STRBUF_INIT;
	bool ok;
	size_t i;

	ok = store_import_flush(m->im, &err) == STORE_OK;
	if (!ok)
		m->fatal = true;
	for (i = 0; i < m->nheld; i++) {
		if (ok || !m->held[i].stored) {
			if (m->progress)
				fputs("\r\033[K", stderr);
			fputs(m->held[i].line, stdout);
		} else {
			m->stored--;
			print_lost(m, m->held[i].name, strbuf_cstr(&err));
		}
		free(m->held[i].line);
		free(m->held[i].name);
	}
	m->nheld = 0;
	fflush(stdout);
	if (ok)
		import_rdns_flush(m->rdns);
	else
		import_rdns_discard(m->rdns);
	clock_gettime(CLOCK_MONOTONIC, &m->bstart);
	strbuf_release(&err);
	return ok;
}

/* Hold an output line until the batch commits; false when out of
 * memory (the batch is then committed and the line printed). */
static bool
hold(struct imp *m, const char *name, const char *line, bool stored)
{
	struct held *nh;
	size_t nc;

	if (m->nheld == m->capheld) {
		nc = m->capheld ? m->capheld * 2 : 64;
		if ((nh = realloc(m->held, nc * sizeof(*nh))) == NULL)
			return false;
		m->held = nh;
		m->capheld = nc;
	}
	nh = &m->held[m->nheld];
	if ((nh->line = strdup(line)) == NULL ||
	    (nh->name = strdup(name)) == NULL) {
		free(nh->line);
		return false;
	}
	nh->stored = stored;
	m->nheld++;
	return true;
}

static void
reset_input(struct imp *m, const char *name)
{
	m->source = name;
	m->duplicate = m->begun = m->failure = m->not_owned = false;
	m->have_rep = false;
	m->fkey[0] = m->fdomain[0] = m->fip[0] = '\0';
	m->sst = STORE_OK;
	m->rdns_mark = import_rdns_mark(m->rdns);
	strbuf_reset(&m->serr);
	strbuf_reset(&m->reason);
}

/* The outcome of one input, from the ingest status and what the
 * callbacks saw. */
static enum import_outcome
conclude(struct imp *m, const char *name, enum ingest_status is,
    struct strbuf *err)
{
	unsigned long stored_before = m->stored;
	enum import_outcome o;
	enum store_status qs;

	/* the queue's records first: the importer is ours again after */
	if (m->queue != NULL && (qs = import_queue_drain(m->queue,
	    m->sst == STORE_OK ? &m->serr : NULL)) != STORE_OK) {
		if (m->sst == STORE_OK)
			m->sst = qs;
		if (is == INGEST_OK)
			is = INGEST_ERR_CALLBACK;
	}

	if (is == INGEST_ERR_CALLBACK && m->duplicate && m->sst == STORE_OK) {
		m->duplicates++;
		o = IMPORT_DUPLICATE;
		print(m, name, "duplicate", NULL);
	} else if (is == INGEST_OK && m->failure) {
		if (m->duplicate)
			m->duplicates++;
		else
			m->stored++;
		o = m->duplicate ? IMPORT_DUPLICATE : IMPORT_STORED;
		print(m, name, m->duplicate ? "duplicate" : "stored", NULL);
	} else if (is == INGEST_OK && m->begun) {
		if (store_import_end(m->im, true, m->rep.nrecords, &m->serr) ==
		    STORE_OK) {
			m->stored++;
			o = IMPORT_STORED;
			print(m, name, "stored", NULL);
		} else {
			m->fatal = true;
			o = IMPORT_FAILED;
			print(m, name, "error", strbuf_cstr(&m->serr));
		}
	} else {
		if (m->begun)
			store_import_end(m->im, false, 0, NULL);
		if (m->sst != STORE_OK) {
			m->fatal = true;
			o = IMPORT_FAILED;
			print(m, name, "error", strbuf_cstr(&m->serr));
		} else {
			m->rejected++;
			o = IMPORT_REJECTED;
			print(m, name, "rejected", m->not_owned ?
			    strbuf_cstr(&m->reason) : strbuf_len(err) ?
			    strbuf_cstr(err) : ingest_strerror(is));
		}
	}
	/* PTR lookups for stored reports only, after their commit */
	if (m->batch) {
		if (m->stored == stored_before)
			import_rdns_discard_from(m->rdns, m->rdns_mark);
		if (m->nheld >= BATCH_INPUTS || m->fatal ||
		    ms_since(&m->bstart) >= BATCH_MS)
			batch_commit(m);
	} else if (m->rdns != NULL && m->stored > stored_before)
		import_rdns_flush(m->rdns);
	else if (m->rdns != NULL)
		import_rdns_discard(m->rdns);
	return o;
}

static void
import_buffer(struct imp *m, const void *b, size_t len, const char *name)
{
	struct strbuf err = STRBUF_INIT;

	reset_input(m, name);
	conclude(m, name, ingest_buffer_with(b, len, &m->h, &err), &err);
	strbuf_release(&err);
}

/* An mbox: one outcome per message, named NAME#N. */
static void
import_mbox(struct imp *m, const char *b, size_t len, const char *name)
{
	struct strbuf msg = STRBUF_INIT, sub = STRBUF_INIT;
	size_t off = 0;
	unsigned n = 0;

	strbuf_set_limit(&msg, INGEST_XML_MAX_BYTES);
	while (ingest_mbox_next(b, len, &off, &msg)) {
		strbuf_reset(&sub);
		strbuf_appendf(&sub, "%s#%u", name, ++n);
		if (strbuf_failed(&msg)) {
			reset_input(m, strbuf_cstr(&sub));
			m->rejected++;
			print(m, strbuf_cstr(&sub), "rejected",
			    "message larger than 64 MiB");
			m->units_done++;
			continue;
		}
		import_buffer(m, strbuf_cstr(&msg), strbuf_len(&msg),
		    strbuf_cstr(&sub));
		m->units_done++;
		if (m->progress)
			progress(m);
	}
	if (n == 0) {
		reset_input(m, name);
		m->rejected++;
		print(m, name, "rejected", "an mbox without a message");
	}
	strbuf_release(&msg);
	strbuf_release(&sub);
}

static void
reject_input(struct imp *m, const char *name, const char *why)
{
	reset_input(m, name);
	m->rejected++;
	print(m, name, "rejected", why);
}

/* stdin: read whole (a pipe cannot be looked at twice), capped. */
static void
import_stdin(struct imp *m)
{
	struct strbuf in = STRBUF_INIT;
	char buf[65536];
	ssize_t r;

	strbuf_set_limit(&in, INGEST_XML_MAX_BYTES);
	while ((r = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			reject_input(m, "-", strerror(errno));
			goto done;
		}
		strbuf_append(&in, buf, (size_t)r);
		if (strbuf_failed(&in)) {
			reject_input(m, "-", "input larger than 64 MiB");
			goto done;
		}
	}
	if (ingest_is_mbox(strbuf_cstr(&in), strbuf_len(&in)))
		import_mbox(m, strbuf_cstr(&in), strbuf_len(&in), "-");
	else
		import_buffer(m, strbuf_cstr(&in), strbuf_len(&in), "-");
done:
	strbuf_release(&in);
}

enum import_outcome
import_fd(struct imp *m, int fd, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	enum import_outcome o;

	reset_input(m, name);
	o = conclude(m, name, ingest_fd_with(fd, &m->h, &err), &err);
	strbuf_release(&err);
	return o;
}

static void
import_file(struct imp *m, const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct stat sb;
	char head[5];
	void *map;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		reject_input(m, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size >= 5 &&
	    pread(fd, head, 5, 0) == 5 && ingest_is_mbox(head, 5)) {
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (map == MAP_FAILED)
			reject_input(m, path, strerror(errno));
		else {
			import_mbox(m, map, (size_t)sb.st_size, path);
			munmap(map, (size_t)sb.st_size);
		}
		close(fd);
		return;
	}
	strbuf_release(&err);
	import_fd(m, fd, path);
	close(fd);
}

/* The list of inputs, directories expanded. */
struct inputs {
	char	**v;
	size_t	 n;
};

static bool
inputs_add(struct inputs *in, const char *s)
{
	char **nv;

	if (in->n >= MAX_INPUTS)
		return false;
	if ((nv = realloc(in->v, (in->n + 1) * sizeof(*nv))) == NULL)
		return false;
	in->v = nv;
	return (in->v[in->n++] = strdup(s)) != NULL;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_dir(const char *dir, const char *sub)
{
	struct strbuf p = STRBUF_INIT;
	struct stat sb;
	bool r;

	strbuf_appendf(&p, "%s/%s", dir, sub);
	r = stat(strbuf_cstr(&p), &sb) == 0 && S_ISDIR(sb.st_mode);
	strbuf_release(&p);
	return r;
}

static void expand(struct imp *, struct inputs *, const char *, unsigned);

static void
expand_dir(struct imp *m, struct inputs *in, const char *path,
    unsigned depth)
{
	struct strbuf sub = STRBUF_INIT;
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, i;
	bool maildir;
	DIR *d;

	if (depth > MAX_DIR_DEPTH) {
		reject_input(m, path, "directories nested more than 16 deep");
		return;
	}
	if ((d = opendir(path)) == NULL) {
		reject_input(m, path, strerror(errno));
		return;
	}
	/* a Maildir: messages are in cur/ and new/; tmp/ holds messages
	 * still being written */
	maildir = is_dir(path, "cur") && is_dir(path, "new");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (maildir && strcmp(de->d_name, "tmp") == 0))
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
		expand(m, in, strbuf_cstr(&sub), depth + 1);
		free(names[i]);
	}
	free(names);
	strbuf_release(&sub);
}

static void
expand(struct imp *m, struct inputs *in, const char *path, unsigned depth)
{
	struct stat sb;

	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
	    S_ISDIR(sb.st_mode))
		expand_dir(m, in, path, depth);
	else if (!inputs_add(in, path))
		reject_input(m, path, "too many inputs (or out of memory)");
}

/*
 * The units of work of input path for the progress bar: its messages
 * for an mbox, else 1.  An operator reads the bar against the output
 * lines, one per input and one per mbox message (NAME#N), so it counts
 * those, not bytes (which would need no look inside, but match nothing
 * printed).  Counting an mbox's messages is one extra pass over its
 * separators (ingest_mbox_count, on a mapping), so it is done only when
 * the bar may be drawn: stderr a terminal and no --json.
 */
static size_t
input_units(const char *path)
{
	struct stat sb;
	char head[5];
	size_t n = 1;
	void *map;
	int fd;

	if (strcmp(path, "-") == 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size >= 5 && pread(fd, head, 5, 0) == 5 &&
	    ingest_is_mbox(head, 5)) {
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (map != MAP_FAILED) {
			n = ingest_mbox_count(map, (size_t)sb.st_size);
			munmap(map, (size_t)sb.st_size);
		}
	}
	close(fd);
	return n > 0 ? n : 1;
}

static void
progress(const struct imp *m)
{
	size_t done = m->units_done, total = m->units_total;
	int width = 30, fill;

	/* an input changed since it was counted, or an mbox on stdin */
	if (total < done)
		total = done;
	fill = total > 0 ? (int)(done * (size_t)width / total) : width;

	fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %lu stored, %lu duplicate, "
	    "%lu rejected", fill, "==============================",
	    width - fill, "", done, total, m->stored, m->duplicates,
	    m->rejected);
	fflush(stderr);
}

/* OwnedDomains and the owned_domains rows, lower case. */
static void
owned_add(struct imp *m, const char *d)
{
	char **nv, *c;
	size_t l;

	if ((nv = realloc(m->owned, (m->nowned + 1) * sizeof(*nv))) == NULL)
		return;
	m->owned = nv;
	if ((c = strdup(d)) == NULL)
		return;
	for (l = 0; c[l] != '\0'; l++)
		c[l] = (char)tolower((unsigned char)c[l]);
	while (l > 0 && c[l - 1] == '.')
		c[--l] = '\0';
	m->owned[m->nowned++] = c;
}

static void
owned_row(const char *d, time_t added, const char *note, void *ctx)
{
	(void)added, (void)note;
	owned_add(ctx, d);
}

int
cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_ANY = 1, OPT_NO_RDNS };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "database", required_argument, NULL, 'd' },
		{ "any-domain", no_argument, NULL, OPT_ANY },
		{ "no-rdns", no_argument, NULL, OPT_NO_RDNS },
		{ "imap", required_argument, NULL, 'I' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "imap-cafile", required_argument, NULL, 'C' },
		{ "watch", no_argument, NULL, 'W' },
		{ "interval", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf err = STRBUF_INIT;
	struct inputs in = { NULL, 0 };
	struct import_imap_opts io = { 0 };
	time_t since = time(NULL);
	struct imp m;
	const char *db = NULL;
	char *const *list;
	enum store_status st;
	bool stdin_only, rdns = conf_bool(ctx->conf, "ImportReverseDNS");
	size_t i, n;
	int ch, rc;

	memset(&m, 0, sizeof(m));
	m.h.report = on_report;
	m.h.record = on_record;
	m.h.failure = on_failure;
	m.h.ctx = &m;
	strbuf_init(&m.serr);
	strbuf_init(&m.reason);
	while ((ch = getopt_long(argc, argv, "jd:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			m.json = true;
			break;
		case 'd':
			db = optarg;
			break;
		case OPT_ANY:
			m.any_domain = true;
			break;
		case OPT_NO_RDNS:
			rdns = false;
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
			printf("usage: dmarcctl import [--json] [--any-domain] "
			    "[--no-rdns] [--database URI] FILE|DIR|- ...\n"
			    "       dmarcctl import [--json] [--any-domain] "
			    "[--no-rdns] [--database URI]\n"
			    "           --imap imaps://USER@HOST[:PORT]/MAILBOX "
			    "[--password-file FILE]\n"
			    "           [--imap-cafile FILE] "
			    "[--watch [--interval S]]\n");
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
	stdin_only = argc - optind == 1 && strcmp(argv[optind], "-") == 0;
	if (db == NULL)
		db = conf_str(ctx->conf, "HistoryDatabase");
	if (db == NULL || *db == '\0') {
		cli_error("import", "no HistoryDatabase in the configuration "
		    "and no --database");
		return stdin_only ? EX_TEMPFAIL : EX_CONFIG;
	}
	if ((m.im = store_importer_open(db, &st, &err)) == NULL) {
		cli_error("import", "%s", strbuf_cstr(&err));
		strbuf_release(&err);
		return stdin_only ? EX_TEMPFAIL : st == STORE_ERR_CONFIG ?
		    EX_CONFIG : st == STORE_ERR_OPEN ? EX_CANTCREAT :
		    EX_SOFTWARE;
	}
	/* HistoryDurability: 0 full, 1 relaxed (confkeys.c) */
	store_importer_set_durability(m.im, conf_enum(ctx->conf,
	    "HistoryDurability") == 1 ? STORE_DURABILITY_RELAXED :
	    STORE_DURABILITY_FULL, &err);
	strbuf_reset(&err);
	n = conf_list(ctx->conf, "OwnedDomains", &list);
	for (i = 0; i < n; i++)
		owned_add(&m, list[i]);
	if (store_owned_list(m.im, owned_row, &m, &err) != STORE_OK) {
		cli_error("import", "%s", strbuf_cstr(&err));
		store_importer_close(m.im);
		strbuf_release(&err);
		return EX_TEMPFAIL;
	}
	if (rdns)
		m.rdns = import_rdns_new(ctx, m.im);
	m.queue = import_queue_new(m.im);	/* NULL: records in line */
	if (io.url != NULL) {
		rc = import_imap(ctx, &m, &io, db);
		import_queue_free(m.queue);
		import_rdns_free(m.rdns);
		store_importer_close(m.im);
		for (i = 0; i < m.nowned; i++)
			free(m.owned[i]);
		free(m.owned);
		strbuf_release(&m.serr);
		strbuf_release(&m.reason);
		strbuf_release(&err);
		if (rc != EX_OK)
			return rc;
		return m.fatal ? EX_IOERR : m.rejected > 0 ? EX_DATAERR :
		    EX_OK;
	}
	/* group commit, but not for stdin (one message, and Postfix is
	 * answered by the exit code) */
	m.batch = true;
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (strcmp(argv[i], "-") == 0)
			m.batch = false;
	store_importer_set_batch(m.im, m.batch);
	clock_gettime(CLOCK_MONOTONIC, &m.bstart);
	for (i = (size_t)optind; i < (size_t)argc; i++)
		expand(&m, &in, argv[i], 0);
	if (!m.json && isatty(STDERR_FILENO)) {
		for (i = 0; i < in.n && m.units_total <= PROGRESS_MIN; i++)
			m.units_total += input_units(in.v[i]);
		m.progress = m.units_total > PROGRESS_MIN;
		/* the bar is drawn: count the rest too */
		for (; m.progress && i < in.n; i++)
			m.units_total += input_units(in.v[i]);
	}
	for (i = 0; i < in.n; i++) {
		size_t before = m.units_done;

		if (m.progress)
			progress(&m);
		if (strcmp(in.v[i], "-") == 0)
			import_stdin(&m);
		else
			import_file(&m, in.v[i]);
		/* an mbox advanced once per message, anything else once */
		if (m.units_done == before)
			m.units_done++;
		fflush(stdout);
		free(in.v[i]);
		if (m.fatal) {
			i++;		/* the database is gone: stop */
			break;
		}
	}
	for (; i < in.n; i++)
		free(in.v[i]);
	free(in.v);
	if (m.batch)
		batch_commit(&m);
	free(m.held);
	if (m.progress) {
		progress(&m);
		fputc('\n', stderr);
	}
	fflush(stdout);
	import_queue_free(m.queue);
	import_rdns_free(m.rdns);
	store_importer_close(m.im);
	alerts_after_import(ctx, db, since);
	for (i = 0; i < m.nowned; i++)
		free(m.owned[i]);
	free(m.owned);
	strbuf_release(&m.serr);
	strbuf_release(&m.reason);
	strbuf_release(&err);
	rc = m.fatal ? EX_TEMPFAIL : m.rejected > 0 && !stdin_only ?
	    EX_DATAERR : EX_OK;
	if (!m.json && isatty(STDERR_FILENO))
		fprintf(stderr, "dmarcctl: import: %lu stored, %lu duplicate, "
		    "%lu rejected\n", m.stored, m.duplicates, m.rejected);
	return rc;
}
