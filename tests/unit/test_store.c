/*
 * test_store.c - the verdict history: store.c's queue and writer thread,
 * the SQLite back-end, its migrations, and the row codec.
 *
 * Every case works in its own file under one temporary directory, and
 * looks at the database through a second, plain SQLite connection where
 * the point is what is on disk (durability, schema, WAL).  A full disk is
 * simulated with the store's max_bytes option (SQLite max_page_count), a
 * locked database with a second connection holding BEGIN IMMEDIATE.
 */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "store/codec.h"
#include "store/schema.h"
#include "store/store.h"
#include "tap.h"

static char tmpdir[4096];

/* A path in the temporary directory (static storage, 8 in rotation). */
static const char *
tpath(const char *name)
{
	static char bufs[8][4200];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static int
unlock_dir(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D)
		chmod(path, (sb->st_mode & 0777) | 0700);
	return 0;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Directories first made writable (tests leave some read-only), then
 * everything removed, depth first. */
static void
cleanup(void)
{
	if (tmpdir[0] == '\0')
		return;
	nftw(tmpdir, unlock_dir, 16, FTW_PHYS);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A second connection, as another process would see the file. */
static long
db_long(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static long
db_count(const char *path)
{
	return db_long(path, "SELECT COUNT(*) FROM verdicts");
}

static int
db_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	if ((rc = sqlite3_open(path, &db)) == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

#define SETF(f, fmt, seed) snprintf((f), sizeof(f), fmt, (seed))
/* Replace a field, zeroing its tail, so records compare byte for byte. */
#define SETS(f, str) do {						\
	memset((f), 0, sizeof(f));					\
	strcpy((f), (str));						\
} while (0)

/* A record with every field set, distinct per seed. */
static void
fill_record(struct store_record *r, unsigned seed, unsigned ndkim)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	SETF(r->node, "mx%u.example.net", seed % 3);
	SETF(r->message_key, "%032x", seed);
	r->author_index = seed % 2;
	r->received = (time_t)1767225600 + (time_t)seed * 37;
	SETF(r->queue_id, "4F2C%uA", seed);
	SETF(r->message_id, "<%u.x\"y'z@example.org>", seed);
	SETF(r->client_ip, "2001:db8::%x", seed & 0xffff);
	SETF(r->helo, "helo%u.example.org", seed);
	SETF(r->mail_from_domain, "bounce%u.example.org", seed);
	SETF(r->header_from, "from%u.example.org", seed);
	SETF(r->policy_domain, "example%u.org", seed % 4);
	SETF(r->org_domain, "org%u.example", seed);
	strcpy(r->discovery_method, seed % 2 ? "treewalk" : "psl");
	strcpy(r->p, "reject");
	strcpy(r->sp, "quarantine");
	strcpy(r->np, "none");
	r->pct = (int)(seed % 101);
	r->testing = seed % 2 == 1;
	strcpy(r->adkim, "s");
	strcpy(r->aspf, "r");
	strcpy(r->fo, "1:d");
	SETF(r->rua, "mailto:rua%u@example.org,mailto:b@example.net", seed);
	SETF(r->ruf, "mailto:ruf%u@example.org", seed);
	strcpy(r->spf_result, "softfail");
	SETF(r->spf_domain, "spf%u.example.org", seed);
	strcpy(r->spf_scope, "mfrom");
	r->spf_aligned = true;
	r->ndkim = ndkim;
	for (i = 0; i < ndkim && i < STORE_MAX_DKIM; i++) {
		snprintf(r->dkim[i].domain, sizeof(r->dkim[i].domain),
		    "d%u.example.org", i);
		snprintf(r->dkim[i].selector, sizeof(r->dkim[i].selector),
		    "s%u;a=b|c%%d e\t\x01\xc3\xa9", i);
		strcpy(r->dkim[i].result, i % 2 ? "fail" : "pass");
		r->dkim[i].aligned = i % 3 == 0;
	}
	strcpy(r->dmarc_result, "fail");
	strcpy(r->policy, "reject");
	strcpy(r->disposition, "quarantine");
	strcpy(r->reasons, "sampled_out,local_policy");
	SETF(r->reason_comment, "comment %u: \"quoted\" \\ back", seed);
	strcpy(r->action, "quarantine");
	strcpy(r->skip_reason, "");
}

/* Field by field, with the name of the first that differs. */
static const char *
record_diff(const struct store_record *a, const struct store_record *b)
{
	struct store_value va, vb;
	struct strbuf sa = STRBUF_INIT, sb = STRBUF_INIT;
	const char *bad = NULL;
	size_t i;

	for (i = 0; i < store_ncolumns && bad == NULL; i++) {
		store_column_get(&store_columns[i], a, &sa, &va);
		store_column_get(&store_columns[i], b, &sb, &vb);
		if (va.is_text != vb.is_text || va.i != vb.i ||
		    va.len != vb.len ||
		    (va.is_text && memcmp(va.text, vb.text, va.len) != 0))
			bad = store_columns[i].name;
	}
	if (bad == NULL && a->ndkim != b->ndkim)
		bad = "ndkim";
	for (i = 0; bad == NULL && i < a->ndkim; i++)
		if (strcmp(a->dkim[i].domain, b->dkim[i].domain) != 0 ||
		    strcmp(a->dkim[i].selector, b->dkim[i].selector) != 0 ||
		    strcmp(a->dkim[i].result, b->dkim[i].result) != 0 ||
		    a->dkim[i].aligned != b->dkim[i].aligned)
			bad = "dkim[]";
	strbuf_release(&sa);
	strbuf_release(&sb);
	return bad;
}

struct collect {
	struct store_record *recs;
	size_t n, max;
	int stop_after;
};

static int
collect_cb(const struct store_record *r, void *arg)
{
	struct collect *c = arg;

	if (c->n < c->max)
		c->recs[c->n] = *r;
	c->n++;
	return c->stop_after > 0 && c->n >= (size_t)c->stop_after;
}

static struct store *
open_ok(const char *path, enum store_durability d)
{
	struct strbuf err = STRBUF_INIT;
	enum store_status st;
	struct store *s = store_open(path, d, &st, &err);

	if (s == NULL)
		tap_diag("open %s: %s: %s", path, store_strerror(st),
		    strbuf_cstr(&err));
	strbuf_release(&err);
	return s;
}

/* ---- codec ---- */

static void
test_day(void)
{
	static const struct { time_t t; int64_t day; } cases[] = {
		{ 0, 0 }, { 86399, 0 }, { 86400, 1 }, { 1767225600, 20454 },
		{ -1, -1 }, { -86400, -1 }, { -86401, -2 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_int(store_day(cases[i].t), cases[i].day, "day of %lld",
		    (long long)cases[i].t);
}

static void
test_dkim_codec(void)
{
	static const struct {
		const char *name, *domain, *selector, *result;
		bool aligned;
		const char *want;
	} enc[] = {
		{ "plain", "example.com", "sel", "pass", true,
		    "d=example.com;s=sel;r=pass;a=1" },
		{ "separators escaped", "a;b", "x=y|z%", "fail", false,
		    "d=a%3Bb;s=x%3Dy%7Cz%25;r=fail;a=0" },
		{ "space, control, utf-8", "d", " \t\x7f\xc3\xa9", "none", false,
		    "d=d;s=%20%09%7F%C3%A9;r=none;a=0" },
		{ "empty values", "", "", "", false, "d=;s=;r=;a=0" },
		{ "printable kept", "x", "a-b_c.d+e/f:g!~", "pass", true,
		    "d=x;s=a-b_c.d+e/f:g!~;r=pass;a=1" },
	};
	static const struct {
		const char *name, *text;
		int rc;
		unsigned n;
	} dec[] = {
		{ "empty list", "", 0, 0 },
		{ "two", "d=a;s=b;r=pass;a=1|d=c;s=d;r=fail;a=0", 0, 2 },
		{ "keys in any order", "a=1;r=pass;s=b;d=a", 0, 1 },
		{ "unknown key skipped", "d=a;s=b;r=pass;a=1;h=x%20y", 0, 1 },
		{ "lowercase hex", "d=%3b;s=b;r=pass;a=1", 0, 1 },
		{ "trailing semicolon", "d=a;", 0, 1 },
		{ "bad escape", "d=%G1;s=b", -1, 0 },
		{ "short escape", "d=%4", -1, 0 },
		{ "NUL escape", "d=%00", -1, 0 },
		{ "no equals", "d=a;sb", -1, 0 },
		{ "long key", "dd=a", -1, 0 },
		{ "bad aligned", "d=a;a=2", -1, 0 },
		{ "empty signature", "d=a||d=b", -1, 0 },
		{ "trailing bar", "d=a|", -1, 0 },
		{ "selector too long", "s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaa", -1, 0 },
		{ "17 signatures", "d=1|d=2|d=3|d=4|d=5|d=6|d=7|d=8|d=9|d=10|"
		    "d=11|d=12|d=13|d=14|d=15|d=16|d=17", -1, 0 },
		{ "16 signatures", "d=1|d=2|d=3|d=4|d=5|d=6|d=7|d=8|d=9|d=10|"
		    "d=11|d=12|d=13|d=14|d=15|d=16", 0, 16 },
	};
	struct store_dkim d[STORE_MAX_DKIM], back[STORE_MAX_DKIM];
	struct strbuf sb = STRBUF_INIT;
	unsigned n;
	size_t i;

	for (i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		memset(d, 0, sizeof(d));
		strcpy(d[0].domain, enc[i].domain);
		strcpy(d[0].selector, enc[i].selector);
		strcpy(d[0].result, enc[i].result);
		d[0].aligned = enc[i].aligned;
		strbuf_reset(&sb);
		store_dkim_encode(d, 1, &sb);
		tap_str(strbuf_cstr(&sb), enc[i].want, "dkim encode: %s",
		    enc[i].name);
		memset(back, 0xff, sizeof(back));
		tap_ok(store_dkim_decode(strbuf_cstr(&sb), back, &n) == 0 &&
		    n == 1 && strcmp(back[0].domain, d[0].domain) == 0 &&
		    strcmp(back[0].selector, d[0].selector) == 0 &&
		    strcmp(back[0].result, d[0].result) == 0 &&
		    back[0].aligned == d[0].aligned,
		    "dkim decode(encode): %s", enc[i].name);
	}
	for (i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		int rc = store_dkim_decode(dec[i].text, d, &n);

		tap_ok(rc == dec[i].rc && (rc != 0 || n == dec[i].n),
		    "dkim decode: %s (rc %d, n %u)", dec[i].name, rc, n);
	}
	/* All 16 with every kind of byte, and the cap at 16. */
	{
		struct store_record r;

		fill_record(&r, 7, STORE_MAX_DKIM);
		strbuf_reset(&sb);
		store_dkim_encode(r.dkim, 99, &sb);
		tap_ok(store_dkim_decode(strbuf_cstr(&sb), back, &n) == 0 &&
		    n == STORE_MAX_DKIM && memcmp(strbuf_cstr(&sb), "d=d0.", 5)
		    == 0 && strchr(strbuf_cstr(&sb), '\t') == NULL,
		    "dkim: 16 odd signatures encode, cap at 16, decode");
		tap_str(back[15].selector, r.dkim[15].selector,
		    "dkim: 16th selector round-trips");
	}
	strbuf_release(&sb);
}

/* ---- opening ---- */

static void
test_uris(void)
{
	static const struct {
		const char *name, *uri;	/* "@" stands for the temporary dir */
		enum store_status st;
		const char *err, *not_in_err;
	} cases[] = {
		{ "plain path", "@/u1.db", STORE_OK, NULL, NULL },
		{ "sqlite:PATH", "sqlite:@/u2.db", STORE_OK, NULL, NULL },
		{ "sqlite://PATH", "sqlite://@/u3.db", STORE_OK, NULL, NULL },
		{ "empty", "", STORE_ERR_CONFIG, "empty", NULL },
		{ "sqlite: empty", "sqlite:", STORE_ERR_CONFIG, "empty", NULL },
		/* Port 1 on loopback: refused at once, no server needed. */
		{ "postgresql unreachable",
		    "postgresql://dm:s3cret@127.0.0.1:1/dmarc", STORE_ERR_OPEN,
		    "postgresql://dm:*****@127.0.0.1:1/dmarc: cannot connect",
		    "s3cret" },
		{ "postgres password parameter",
		    "postgres://127.0.0.1:1/dmarc?password=s3cret",
		    STORE_ERR_OPEN, "?password=*****: cannot connect",
		    "s3cret" },
		{ "unknown scheme", "mysql://x/y", STORE_ERR_CONFIG,
		    "unknown database type \"mysql\"", NULL },
		{ "missing directory", "@/no/such/dir/x.db", STORE_ERR_OPEN,
		    "/no/such/dir/x.db: cannot open or create the database: "
		    "No such file or directory", NULL },
		{ "file as directory", "@/u1.db/x.db", STORE_ERR_OPEN,
		    "/u1.db/x.db: cannot open or create the database: Not a "
		    "directory", NULL },
		{ "a directory", "@", STORE_ERR_OPEN, "Is a directory", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		enum store_status st = STORE_OK;
		struct store *s;
		const char *at = strchr(cases[i].uri, '@');
		char uri[4300];

		/* "@" is the temporary directory, unless in a URI's userinfo. */
		if (at != NULL && strncmp(cases[i].uri, "postgres", 8) != 0)
			snprintf(uri, sizeof(uri), "%.*s%s%s",
			    (int)(at - cases[i].uri), cases[i].uri, tmpdir,
			    at + 1);
		else
			snprintf(uri, sizeof(uri), "%s", cases[i].uri);
		s = store_open(uri, STORE_DURABILITY_FULL, &st, &err);
		tap_ok(st == cases[i].st && (s != NULL) == (st == STORE_OK),
		    "open %s: %s", cases[i].name, store_strerror(st));
		if (cases[i].err != NULL) {
			tap_ok(strstr(strbuf_cstr(&err), cases[i].err) != NULL,
			    "open %s: message", cases[i].name);
			if (strstr(strbuf_cstr(&err), cases[i].err) == NULL)
				tap_diag("got: %s", strbuf_cstr(&err));
		}
		if (cases[i].not_in_err != NULL)
			tap_ok(strstr(strbuf_cstr(&err), cases[i].not_in_err) ==
			    NULL, "open %s: the password is not shown",
			    cases[i].name);
		store_close(s);
		strbuf_release(&err);
	}
}

/* File modes: three checks, run by an unprivileged user (see below). */
#define UNWRITABLE_CHECKS 3
static void
unwritable_checks(const char *base)
{
	struct strbuf err = STRBUF_INIT;
	enum store_status st;
	struct store *s;
	char dir[4300], db[4300];

	snprintf(dir, sizeof(dir), "%s/ro", base);
	snprintf(db, sizeof(db), "%s/ro/h.db", base);
	mkdir(dir, 0555);
	s = store_open(db, STORE_DURABILITY_FULL, &st, &err);
	tap_ok(s == NULL && st == STORE_ERR_OPEN &&
	    strstr(strbuf_cstr(&err), db) != NULL,
	    "unwritable directory: STORE_ERR_OPEN naming the path (%s)",
	    strbuf_cstr(&err));
	store_close(s);

	strbuf_reset(&err);
	snprintf(db, sizeof(db), "%s/rofile.db", base);
	store_close(open_ok(db, STORE_DURABILITY_FULL));
	chmod(db, 0440);
	s = store_open(db, STORE_DURABILITY_FULL, &st, &err);
	tap_ok(s == NULL && st == STORE_ERR_OPEN &&
	    strstr(strbuf_cstr(&err), db) != NULL,
	    "read-only database file: STORE_ERR_OPEN naming the path (%s)",
	    strbuf_cstr(&err));
	store_close(s);

	/* A writable file in a read-only directory: no room for the WAL. */
	strbuf_reset(&err);
	snprintf(dir, sizeof(dir), "%s/rodir", base);
	snprintf(db, sizeof(db), "%s/rodir/h.db", base);
	mkdir(dir, 0755);
	store_close(open_ok(db, STORE_DURABILITY_FULL));
	chmod(dir, 0555);
	s = store_open(db, STORE_DURABILITY_FULL, &st, &err);
	tap_ok(s == NULL && st == STORE_ERR_OPEN &&
	    strstr(strbuf_cstr(&err), "directory must be writable") != NULL,
	    "read-only directory: STORE_ERR_OPEN says why (%s)",
	    strbuf_cstr(&err));
	store_close(s);
	strbuf_release(&err);
}

/*
 * Root ignores file modes, so as root the checks run in a child that
 * has become nobody (65534), in a directory it may write; the child
 * prints its own TAP lines and returns its failures as exit status.
 */
static void
test_unwritable(void)
{
	const char *base = tpath("unpriv");
	int status = 0;
	pid_t pid;

	if (geteuid() != 0) {
		unwritable_checks(tmpdir);
		return;
	}
	mkdir(base, 0777);
	chmod(base, 0777);
	chmod(tmpdir, 0711);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(100);
		unwritable_checks(base);
		fflush(stdout);
		_exit(tap_failed);
	}
	if (pid == -1 || waitpid(pid, &status, 0) == -1 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) == 100) {
		tap_ok(0, "file modes: could not run the checks as nobody");
		return;
	}
	tap_n += UNWRITABLE_CHECKS;
	tap_failed += WEXITSTATUS(status);
}

static void
test_create_and_schema(void)
{
	const char *path = tpath("schema.db");
	struct store *s;
	struct stat sb;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t i = 0;
	int ok = 1;

	s = open_ok(path, STORE_DURABILITY_FULL);
	tap_ok(s != NULL, "create: opened");
	tap_int(db_long(path, "SELECT MAX(version) FROM schema_version"),
	    store_schema_latest(), "create: schema version is the latest");
	tap_int(db_long(path, "SELECT COUNT(*) FROM schema_version"),
	    store_sqlite_nmigrations, "create: one row per migration");
	memset(&sb, 0, sizeof(sb));
	stat(path, &sb);
	tap_ok((sb.st_mode & 0777) == 0640, "create: file mode 0640 (%o)",
	    (unsigned)(sb.st_mode & 0777));
	tap_ok(access(tpath("schema.db-wal"), F_OK) == 0,
	    "create: WAL mode (a -wal file)");

	/* codec.c's column table is the table the migrations create. */
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db, "PRAGMA table_info(verdicts)", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (i == 0)
			ok &= strcmp(name, "id") == 0;
		else if (i > store_ncolumns ||
		    strcmp(name, store_columns[i - 1].name) != 0) {
			tap_diag("column %zu: %s", i, name);
			ok = 0;
		}
		i++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	tap_ok(ok && i == store_ncolumns + 1,
	    "schema: verdicts columns match the codec (%zu)", i);
	tap_int(db_long(path, "SELECT COUNT(*) FROM sqlite_master WHERE "
	    "type = 'index' AND name IN ('verdicts_domain_received', "
	    "'verdicts_day_domain')"), 2, "schema: report and day indexes");

	store_close(s);
	s = open_ok(path, STORE_DURABILITY_RELAXED);
	tap_ok(s != NULL, "reopen: opened");
	tap_int(db_long(path, "SELECT COUNT(*) FROM schema_version"),
	    store_sqlite_nmigrations, "reopen: no migration again");
	store_close(s);
}

static void
test_newer_schema(void)
{
	const char *path = tpath("newer.db");
	struct strbuf err = STRBUF_INIT;
	enum store_status st;
	struct store *s;

	store_close(open_ok(path, STORE_DURABILITY_FULL));
	db_exec(path, "INSERT INTO schema_version VALUES (99, 0, 'future')");
	s = store_open(path, STORE_DURABILITY_FULL, &st, &err);
	tap_ok(s == NULL && st == STORE_ERR_SCHEMA,
	    "newer schema: STORE_ERR_SCHEMA");
	tap_ok(strstr(strbuf_cstr(&err), "schema version 99 is newer") !=
	    NULL && strstr(strbuf_cstr(&err), path) != NULL,
	    "newer schema: message names the file and versions (%s)",
	    strbuf_cstr(&err));
	tap_int(db_long(path, "SELECT MAX(version) FROM schema_version"), 99,
	    "newer schema: database left untouched");
	store_close(s);
	strbuf_release(&err);
}

static void
test_migrations(void)
{
	static const struct store_migration v1[] = {
		{ 1, "t1", "CREATE TABLE t1 (a INTEGER)" },
	};
	static const struct store_migration v3_bad[] = {
		{ 1, "t1", "CREATE TABLE t1 (a INTEGER)" },
		{ 2, "t2", "CREATE TABLE t2 (b); INSERT INTO t1 VALUES (1)" },
		{ 3, "broken", "CREATE TABLE oops (" },
	};
	static const struct store_migration v2[] = {
		{ 1, "t1", "CREATE TABLE t1 (a INTEGER)" },
		{ 2, "t2", "CREATE TABLE t2 (b); INSERT INTO t1 VALUES (1)" },
	};
	const char *path = tpath("migrate.db");
	struct strbuf err = STRBUF_INIT;
	enum store_status st;
	sqlite3 *db = NULL;
	int found = -1;

	sqlite3_open(path, &db);
	st = store_sqlite_migrate(db, "m.db", v1, 1, &found, &err);
	tap_ok(st == STORE_OK && found == 0, "migrate: new file to version 1");
	st = store_sqlite_migrate(db, "m.db", v3_bad, 3, &found, &err);
	tap_ok(st == STORE_ERR_SCHEMA && found == 1,
	    "migrate: a failing migration is STORE_ERR_SCHEMA");
	tap_ok(strstr(strbuf_cstr(&err), "m.db: migration to schema version 3 "
	    "(broken) failed") != NULL, "migrate: message names the step (%s)",
	    strbuf_cstr(&err));
	sqlite3_close(db);
	tap_int(db_long(path, "SELECT MAX(version) FROM schema_version"), 1,
	    "migrate: failure rolled back the version");
	tap_int(db_long(path, "SELECT COUNT(*) FROM sqlite_master WHERE "
	    "name = 't2'"), 0, "migrate: failure rolled back step 2 too");
	sqlite3_open(path, &db);
	strbuf_reset(&err);
	st = store_sqlite_migrate(db, "m.db", v2, 2, &found, &err);
	tap_ok(st == STORE_OK && found == 1, "migrate: older (1) to 2");
	sqlite3_close(db);
	tap_int(db_long(path, "SELECT COUNT(*) FROM t1"), 1,
	    "migrate: step 2 ran once");

	/* A history file with an empty schema_version is migrated too. */
	path = tpath("old.db");
	db_exec(path, "CREATE TABLE schema_version (version INTEGER PRIMARY "
	    "KEY, applied INTEGER NOT NULL, description TEXT NOT NULL)");
	store_close(open_ok(path, STORE_DURABILITY_FULL));
	tap_int(db_long(path, "SELECT MAX(version) FROM schema_version"),
	    store_schema_latest(), "migrate: store_open() upgrades version 0");
	strbuf_release(&err);
}

static void
test_not_a_database(void)
{
	const char *path = tpath("garbage.db");
	struct strbuf err = STRBUF_INIT;
	enum store_status st;
	struct store *s;
	FILE *f = fopen(path, "w");

	fputs("this is not an SQLite database, not even close; ", f);
	for (int i = 0; i < 100; i++)
		fputs("garbage garbage garbage garbage ", f);
	fclose(f);
	s = store_open(path, STORE_DURABILITY_FULL, &st, &err);
	tap_ok(s == NULL && st == STORE_ERR_OPEN &&
	    strstr(strbuf_cstr(&err), path) != NULL,
	    "not a database: STORE_ERR_OPEN (%s)", strbuf_cstr(&err));
	store_close(s);
	strbuf_release(&err);
}

/* ---- writing and reading ---- */

static void
test_round_trip(void)
{
	const char *path = tpath("rt.db");
	struct store_record *in, *out;
	struct collect c = { NULL, 0, 8, 0 };
	struct strbuf err = STRBUF_INIT;
	struct store_stats stats;
	struct store *s;
	const char *bad;
	uint64_t n = 0;
	enum store_status st;
	unsigned i;

	in = calloc(4, sizeof(*in));
	out = calloc(8, sizeof(*out));
	c.recs = out;
	s = open_ok(path, STORE_DURABILITY_FULL);
	fill_record(&in[0], 1, STORE_MAX_DKIM);
	fill_record(&in[1], 2, 0);
	fill_record(&in[2], 3, 1);
	/* Control characters, quotes and UTF-8 in every text field. */
	fill_record(&in[3], 4, 2);
	SETS(in[3].message_id, "<a\tb\r\n\"c'\\d\xc3\xa9\x7f@x>");
	SETS(in[3].header_from, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5"
	    "\xd1\x80.test");
	SETS(in[3].reason_comment, "'; DROP TABLE verdicts; --");
	SETS(in[3].skip_reason, "authenticated");
	in[3].pct = -1;
	in[3].testing = false;
	in[3].spf_aligned = false;
	SETS(in[3].spf_result, "pass");	/* not aligned: eval_spf fail */
	SETS(in[2].spf_result, "pass");	/* aligned: eval_spf pass */
	for (i = 0; i < 4; i++)
		tap_int(store_submit(s, &in[i], true), STORE_OK,
		    "round trip: submit %u", i);
	tap_ok(store_count(s, &n, &err) == STORE_OK && n == 4,
	    "round trip: count 4");
	tap_int(store_query_verdicts(s, NULL, 0, (time_t)1 << 40, collect_cb,
	    &c, &err), STORE_OK, "round trip: query all");
	tap_int(c.n, 4, "round trip: 4 rows");
	for (i = 0; i < 4 && i < c.n; i++) {
		bad = record_diff(&in[i], &out[i]);
		tap_ok(bad == NULL, "round trip: record %u equal (%s)", i,
		    bad != NULL ? bad : "all fields");
		tap_ok(memcmp(&in[i], &out[i], sizeof(in[i])) == 0,
		    "round trip: record %u byte for byte", i);
	}
	tap_int(db_long(path, "SELECT ndkim FROM verdicts WHERE message_key = "
	    "'00000000000000000000000000000001'"), 16,
	    "round trip: ndkim column");
	tap_int(db_long(path, "SELECT day FROM verdicts LIMIT 1"),
	    store_day(in[0].received), "round trip: day column");
	/* eval_dkim: an aligned passing signature (dkim[0] in fill_record);
	 * eval_spf: SPF pass and aligned. */
	tap_int(db_long(path, "SELECT COUNT(*) FROM verdicts WHERE "
	    "eval_dkim = 'pass' AND eval_spf = 'fail'"), 2,
	    "round trip: derived policy_evaluated columns (pass/fail)");
	tap_int(db_long(path, "SELECT COUNT(*) FROM verdicts WHERE "
	    "eval_dkim = 'pass' AND eval_spf = 'pass' AND received = (SELECT "
	    "MIN(received) FROM verdicts) + 74"), 1,
	    "round trip: derived policy_evaluated columns (pass/pass)");
	tap_int(db_long(path, "SELECT COUNT(*) FROM verdicts WHERE "
	    "eval_dkim = 'fail' AND ndkim = 0"), 1,
	    "round trip: derived policy_evaluated columns (no DKIM: fail)");

	/* Time bounds are [from, to), the domain filter is exact. */
	c.n = 0;
	store_query_verdicts(s, NULL, in[1].received, in[3].received,
	    collect_cb, &c, &err);
	tap_ok(c.n == 2 && out[0].received == in[1].received,
	    "query: from inclusive, to exclusive (%zu)", c.n);
	c.n = 0;
	store_query_verdicts(s, in[2].policy_domain, 0, (time_t)1 << 40,
	    collect_cb, &c, &err);
	tap_ok(c.n == 1 && strcmp(out[0].message_key, in[2].message_key) == 0,
	    "query: by policy domain");
	c.n = 0;
	store_query_verdicts(s, "EXAMPLE3.org", 0, (time_t)1 << 40,
	    collect_cb, &c, &err);
	tap_int(c.n, 0, "query: the domain match is exact");
	c.n = 0;
	c.stop_after = 1;
	tap_int(store_query_verdicts(s, NULL, 0, (time_t)1 << 40, collect_cb,
	    &c, &err), STORE_OK, "query: a callback may stop it");
	tap_int(c.n, 1, "query: stopped after one");
	c.stop_after = 0;

	/* Replays of a key are ignored and counted. */
	tap_int(store_submit(s, &in[0], true), STORE_OK, "replay: submit");
	in[0].author_index = 5;
	tap_int(store_submit(s, &in[0], true), STORE_OK,
	    "replay: another author index");
	store_get_stats(s, &stats);
	tap_ok(stats.duplicates == 1 && stats.committed == 5 &&
	    stats.submitted == 6, "replay: 1 duplicate, 5 rows, 6 submitted");
	tap_int(db_count(path), 5, "replay: one row per key");

	/* Bad input. */
	in[1].message_key[0] = '\0';
	tap_int(store_submit(s, &in[1], true), STORE_ERR_INVALID,
	    "submit: empty message_key is STORE_ERR_INVALID");
	tap_int(store_submit(s, NULL, false), STORE_ERR_INVALID,
	    "submit: NULL record");
	memset(&in[2], 'x', sizeof(in[2]));
	in[2].testing = in[2].spf_aligned = true;
	for (i = 0; i < STORE_MAX_DKIM; i++)
		in[2].dkim[i].aligned = false;
	in[2].ndkim = 99;
	in[2].received = 1000;
	tap_int(store_submit(s, &in[2], true), STORE_OK,
	    "submit: unterminated strings, ndkim 99");
	c.n = 0;
	store_query_verdicts(s, NULL, 0, 2000, collect_cb, &c, &err);
	tap_ok(c.n == 1 && strlen(out[0].node) == sizeof(out[0].node) - 1 &&
	    out[0].ndkim == STORE_MAX_DKIM &&
	    strlen(out[0].dkim[15].selector) == 63,
	    "submit: strings cut at their last byte, ndkim capped");
	store_close(s);

	s = open_ok(path, STORE_DURABILITY_FULL);
	st = store_count(s, &n, NULL);
	tap_ok(st == STORE_OK && n == 6, "reopen: rows kept (%llu)",
	    (unsigned long long)n);
	store_close(s);
	free(in);
	free(out);
	strbuf_release(&err);
}

static void
test_full_durability(void)
{
	const char *path = tpath("full.db");
	struct store_record r;
	struct store *s = open_ok(path, STORE_DURABILITY_FULL);
	int i, ok = 1;

	for (i = 0; i < 20; i++) {
		fill_record(&r, 100 + (unsigned)i, 2);
		if (store_submit(s, &r, true) != STORE_OK ||
		    db_count(path) != i + 1)
			ok = 0;
	}
	tap_ok(ok, "full: each row is on disk when store_submit() returns");
	store_close(s);
}

static void
test_relaxed(void)
{
	const char *path = tpath("relaxed.db");
	struct store_record r;
	struct store_stats stats;
	struct store_options opt = { STORE_DURABILITY_RELAXED, 0, 100, 0, 0, NULL };
	struct store *s = store_open_opts(path, &opt, NULL, NULL);
	int i;
	long n = 0;

	for (i = 0; i < 10; i++) {
		fill_record(&r, 200 + (unsigned)i, 1);
		store_submit(s, &r, false);
	}
	for (i = 0; i < 500 && (n = db_count(path)) != 10; i++)
		usleep(10000);
	tap_int(n, 10, "relaxed: committed without a flush (%d ms)", i * 10);
	store_get_stats(s, &stats);
	tap_ok(stats.batches >= 1 && stats.queued == 0,
	    "relaxed: in %llu batch(es)", (unsigned long long)stats.batches);
	store_close(s);

	/* A long timer: store_flush() and store_close() do not wait for it. */
	opt.flush_ms = 60000;
	s = store_open_opts(path, &opt, NULL, NULL);
	fill_record(&r, 300, 1);
	store_submit(s, &r, false);
	tap_int(store_flush(s), STORE_OK, "relaxed: flush");
	tap_int(db_count(path), 11, "relaxed: flushed row on disk");
	fill_record(&r, 301, 1);
	store_submit(s, &r, false);
	tap_int(store_close(s), STORE_OK, "relaxed: close");
	tap_int(db_count(path), 12, "relaxed: close flushed the queue");
}

static void
test_queue_full(void)
{
	const char *path = tpath("qfull.db");
	struct store_options opt = { STORE_DURABILITY_RELAXED, 0, 60000, 3, 0, NULL };
	struct store *s = store_open_opts(path, &opt, NULL, NULL);
	struct store_stats stats;
	struct store_record r;
	unsigned i;
	int ok = 1;

	for (i = 0; i < 3; i++) {
		fill_record(&r, 400 + i, 0);
		ok &= store_submit(s, &r, false) == STORE_OK;
	}
	fill_record(&r, 403, 0);
	tap_ok(ok, "queue: 3 queued");
	tap_int(store_submit(s, &r, false), STORE_ERR_FULL,
	    "queue: the 4th is STORE_ERR_FULL");
	store_get_stats(s, &stats);
	tap_ok(stats.rejected == 1 && stats.queued == 3,
	    "queue: stats say 1 rejected, 3 queued");
	store_close(s);
	tap_int(db_count(path), 3, "queue: close stored the 3");
}

static void
test_disk_full(void)
{
	const char *path = tpath("diskfull.db");
	struct store_options opt = { STORE_DURABILITY_FULL, 0, 0, 0, 192 * 1024, NULL };
	struct strbuf err = STRBUF_INIT;
	struct store_stats stats;
	struct store_record r;
	enum store_status st = STORE_OK;
	struct store *s = store_open_opts(path, &opt, &st, &err);
	unsigned i;
	long before;

	tap_ok(s != NULL, "disk full: opened with a 192 KiB cap (%s)",
	    strbuf_cstr(&err));
	for (i = 0; i < 1000 && st == STORE_OK; i++) {
		fill_record(&r, 1000 + i, STORE_MAX_DKIM);
		st = store_submit(s, &r, true);
	}
	tap_int(st, STORE_ERR_WRITE, "disk full: STORE_ERR_WRITE after %u", i);
	strbuf_reset(&err);
	store_last_error(s, &err);
	tap_ok(strstr(strbuf_cstr(&err), path) != NULL &&
	    strstr(strbuf_cstr(&err), "full") != NULL,
	    "disk full: last error says so (%s)", strbuf_cstr(&err));
	store_get_stats(s, &stats);
	tap_ok(stats.write_errors >= 1 && stats.failed == 1,
	    "disk full: counted (errors %llu, failed %llu)",
	    (unsigned long long)stats.write_errors,
	    (unsigned long long)stats.failed);
	before = db_count(path);
	tap_int(before, (long)i - 1, "disk full: the failed row is absent");
	/* Still alive: another attempt fails the same way, no crash. */
	tap_int(store_submit(s, &r, true), STORE_ERR_WRITE,
	    "disk full: the store keeps answering");
	tap_int(store_close(s), STORE_OK, "disk full: close with nothing queued");
	strbuf_release(&err);
}

static void
test_locked(void)
{
	const char *path = tpath("locked.db");
	struct store_options opt = { STORE_DURABILITY_RELAXED, 50, 0, 0, 0, NULL };
	struct strbuf err = STRBUF_INIT;
	struct store_stats stats;
	struct store_record r;
	struct store *s;
	sqlite3 *lock = NULL;
	unsigned i;

	s = store_open_opts(path, &opt, NULL, NULL);
	sqlite3_open(path, &lock);
	sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (i = 0; i < 5; i++) {
		fill_record(&r, 500 + i, 1);
		store_submit(s, &r, false);
	}
	tap_int(store_flush(s), STORE_ERR_WRITE,
	    "locked: flush says STORE_ERR_WRITE");
	store_last_error(s, &err);
	tap_ok(strstr(strbuf_cstr(&err), "locked") != NULL &&
	    strstr(strbuf_cstr(&err), path) != NULL,
	    "locked: last error says so (%s)", strbuf_cstr(&err));
	store_get_stats(s, &stats);
	tap_ok(stats.queued == 5 && stats.failed == 0,
	    "relaxed: the failed batch stays queued (%zu)", stats.queued);
	fill_record(&r, 510, 1);
	tap_int(store_submit(s, &r, true), STORE_ERR_WRITE,
	    "locked: a waiter gets STORE_ERR_WRITE");
	sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(lock);
	tap_int(store_flush(s), STORE_OK, "locked: flush after the lock ends");
	tap_int(db_count(path), 5,
	    "locked: the 5 kept records are stored, the waiter's is not");
	store_get_stats(s, &stats);
	tap_ok(stats.committed == 5 && stats.failed == 1 && stats.queued == 0,
	    "locked: stats (committed 5, failed 1)");

	/* Close gives up after STORE_CLOSE_TRIES, and says so. */
	sqlite3_open(path, &lock);
	sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	fill_record(&r, 520, 1);
	store_submit(s, &r, false);
	tap_int(store_close(s), STORE_ERR_WRITE,
	    "locked: close gives up with STORE_ERR_WRITE");
	sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(lock);
	tap_int(db_count(path), 5, "locked: nothing half-written");
	strbuf_release(&err);
}

struct worker {
	struct store	*s;
	unsigned	 id, n, errors;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct store_record r;
	unsigned i;

	for (i = 0; i < w->n; i++) {
		fill_record(&r, w->id * 100000 + i, 3);
		snprintf(r.node, sizeof(r.node), "worker%u", w->id);
		r.author_index = 0;
		if (store_submit(w->s, &r, true) != STORE_OK)
			w->errors++;
	}
	return NULL;
}

static void
test_group_commit(void)
{
	enum { THREADS = 8, EACH = 500 };
	const char *path = tpath("group.db");
	struct store *s = open_ok(path, STORE_DURABILITY_FULL);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct store_stats stats;
	unsigned i, errors = 0;
	struct timespec t0, t1;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < THREADS; i++) {
		w[i].s = s;
		w[i].id = i;
		w[i].n = EACH;
		w[i].errors = 0;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	store_get_stats(s, &stats);
	tap_int(errors, 0, "group commit: %u x %u submits succeed", THREADS,
	    EACH);
	tap_int(db_count(path), THREADS * EACH, "group commit: all stored");
	tap_int(db_long(path, "SELECT COUNT(DISTINCT node || message_key) "
	    "FROM verdicts"), THREADS * EACH, "group commit: each exactly once");
	tap_diag("group commit: %u records in %llu batches (%.1f per fsync), "
	    "%.0f records/s", THREADS * EACH,
	    (unsigned long long)stats.batches,
	    (double)stats.committed / (double)stats.batches,
	    (double)(THREADS * EACH) / secs);
	tap_ok(stats.batches * 2 < THREADS * EACH,
	    "group commit: far fewer batches than records");
	store_close(s);
}

struct opener {
	const char	*path;
	enum store_status st;
};

static void *
opener_main(void *arg)
{
	struct opener *o = arg;

	store_close(store_open(o->path, STORE_DURABILITY_FULL, &o->st, NULL));
	return NULL;
}

static void
test_concurrent_open(void)
{
	enum { N = 4 };
	struct opener o[N];
	pthread_t t[N];
	int i, ok = 1;

	for (i = 0; i < N; i++) {
		o[i].path = tpath("race.db");
		o[i].st = STORE_ERR_OPEN;
		pthread_create(&t[i], NULL, opener_main, &o[i]);
	}
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		ok &= o[i].st == STORE_OK;
	}
	tap_ok(ok, "concurrent open of a new file: all succeed");
	tap_int(db_long(tpath("race.db"), "SELECT COUNT(*) FROM "
	    "schema_version"), store_sqlite_nmigrations,
	    "concurrent open of a new file: migrated once");
}

/*
 * kill -9 in FULL mode: every record whose store_submit() returned
 * STORE_OK before the kill is in the file afterwards.  (A process kill
 * leaves the page cache; what it proves is that OK means committed.)
 */
static void
test_kill9(void)
{
	const char *path = tpath("kill9.db");
	struct store_record r;
	unsigned acked = 0, got;
	int fds[2];
	pid_t pid;

	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		tap_ok(0, "kill -9: pipe and fork");
		return;
	}
	if (pid == 0) {
		struct store *s = store_open(path, STORE_DURABILITY_FULL,
		    NULL, NULL);
		unsigned i;

		close(fds[0]);
		for (i = 0; s != NULL; i++) {
			fill_record(&r, i, 2);
			if (store_submit(s, &r, true) != STORE_OK ||
			    write(fds[1], &i, sizeof(i)) != sizeof(i))
				break;
		}
		_exit(1);
	}
	close(fds[1]);
	while (acked < 300 && read(fds[0], &got, sizeof(got)) ==
	    sizeof(got))
		acked = got + 1;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (read(fds[0], &got, sizeof(got)) == sizeof(got))
		acked = got + 1;
	close(fds[0]);
	fill_record(&r, acked, 0);
	tap_ok(acked >= 300, "kill -9: child acknowledged %u records", acked);
	{
		char sql[200];

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM verdicts WHERE "
		    "received < %lld", (long long)r.received);
		tap_int(db_long(path, sql), acked,
		    "kill -9: every acknowledged record survived");
	}
	store_close(open_ok(path, STORE_DURABILITY_FULL));
	tap_ok(db_count(path) >= (long)acked,
	    "kill -9: the file opens again (WAL recovery)");
}

/* ---- misuse, names, allocation failures ---- */

static void
test_misc(void)
{
	static const enum store_status all[] = {
		STORE_OK, STORE_ERR_NOMEM, STORE_ERR_CONFIG, STORE_ERR_OPEN,
		STORE_ERR_SCHEMA, STORE_ERR_WRITE, STORE_ERR_FULL,
		STORE_ERR_CLOSED, STORE_ERR_INVALID, STORE_ERR_READ,
	};
	struct store_record r;
	struct store_stats stats;
	struct strbuf sb = STRBUF_INIT;
	uint64_t n;
	size_t i, j;
	int distinct = 1;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		for (j = 0; j < i; j++)
			if (strcmp(store_strerror(all[i]),
			    store_strerror(all[j])) == 0)
				distinct = 0;
	tap_ok(distinct, "strerror: one text per status");
	tap_str(store_durability_name(STORE_DURABILITY_FULL), "full",
	    "durability name full");
	tap_str(store_durability_name(STORE_DURABILITY_RELAXED), "relaxed",
	    "durability name relaxed");
	fill_record(&r, 1, 0);
	tap_int(store_close(NULL), STORE_OK, "close(NULL)");
	tap_int(store_submit(NULL, &r, true), STORE_ERR_CLOSED,
	    "submit(NULL)");
	tap_int(store_flush(NULL), STORE_ERR_CLOSED, "flush(NULL)");
	tap_int(store_count(NULL, &n, NULL), STORE_ERR_CLOSED, "count(NULL)");
	store_get_stats(NULL, &stats);
	store_last_error(NULL, &sb);
	tap_ok(stats.submitted == 0 && strbuf_len(&sb) == 0,
	    "stats and last error of NULL");
	strbuf_release(&sb);
}

static void
test_alloc_failures(void)
{
	const char *path = tpath("alloc.db");
	struct strbuf err = STRBUF_INIT;
	enum store_status st;
	struct store_record r;
	struct store *s = NULL;
	long n, bad = 0;

	for (n = 0; n < 100; n++) {
		strbuf_release(&err);
		mem_fail_after(n);
		s = store_open(path, STORE_DURABILITY_FULL, &st, &err);
		mem_fail_after(-1);
		if (s != NULL)
			break;
		if (st != STORE_ERR_NOMEM) {
			tap_diag("alloc %ld: %s: %s", n, store_strerror(st),
			    strbuf_cstr(&err));
			bad++;
		}
	}
	tap_ok(s != NULL && bad == 0,
	    "alloc failure loop on open: NOMEM at each of %ld points", n);
	fill_record(&r, 1, 0);
	mem_fail_after(0);
	st = store_submit(s, &r, true);
	mem_fail_after(-1);
	tap_int(st, STORE_ERR_NOMEM, "alloc failure on submit: NOMEM");
	tap_int(store_submit(s, &r, true), STORE_OK, "then submit works");
	store_close(s);
	strbuf_release(&err);
}

int
main(void)
{
	const char *dir = getenv("TMPDIR");

	if (dir == NULL || *dir == '\0' || strlen(dir) > 4000)
		dir = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/dm-store-XXXXXX", dir);
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		return 1;
	}
	atexit(cleanup);

	test_day();
	test_dkim_codec();
	test_uris();
	test_unwritable();
	test_create_and_schema();
	test_newer_schema();
	test_migrations();
	test_not_a_database();
	test_round_trip();
	test_full_durability();
	test_relaxed();
	test_queue_full();
	test_disk_full();
	test_locked();
	test_group_commit();
	test_concurrent_open();
	test_kill9();
	test_misc();
	test_alloc_failures();
	return tap_done();
}
