/*
 * test_store_claim.c - sent reports and retention in the SQLite
 * back-end: store_report_claim() (new, own, busy, stale, sent),
 * store_report_mark_sent(), 8 threads racing for one report (exactly one
 * wins), store_expire() by whole UTC days, and store_report_lock()
 * (the per-node run lock file).  The PostgreSQL side is
 * in tests/store/test_pgsql.sh.
 */
#include "config.h"

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tap.h"

#define BEGIN	1711497600	/* 2024-03-27T00:00:00Z */
#define NRACE	8

static char tmpdir[4096];
static char dbpath[4200];

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
cleanup(void)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static long
db_long(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
db_exec(const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(dbpath, &db) == SQLITE_OK)
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static struct store *st;
static int race_ok, race_busy, race_other;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *
racer(void *arg)
{
	char node[16];
	enum store_claim c;

	snprintf(node, sizeof(node), "n%d", (int)(intptr_t)arg);
	c = store_report_claim(st, "race.test", BEGIN, "ID", node, 3600, NULL);
	pthread_mutex_lock(&mu);
	if (c == STORE_CLAIM_OK)
		race_ok++;
	else if (c == STORE_CLAIM_BUSY)
		race_busy++;
	else
		race_other++;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void
test_claims(void)
{
	struct strbuf err = STRBUF_INIT;
	enum store_status ss;
	static const struct {
		const char *name, *node;
		unsigned stale;
		enum store_claim want;
	} steps[] = {
		{ "new row", "a", 3600, STORE_CLAIM_OK },
		{ "own fresh claim again", "a", 3600, STORE_CLAIM_OK },
		{ "another node, fresh claim", "b", 3600, STORE_CLAIM_BUSY },
	};
	pthread_t th[NRACE];
	size_t i;

	if ((st = store_open(dbpath, STORE_DURABILITY_FULL, &ss, &err)) ==
	    NULL) {
		tap_ok(0, "open %s: %s", dbpath, strbuf_cstr(&err));
		return;
	}
	tap_int(db_long("SELECT COUNT(*) FROM schema_version WHERE "
	    "version = 2 AND description = 'reports_sent'"), 1,
	    "schema: migration 2 is reports_sent");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		tap_str(store_claim_strerror(store_report_claim(st,
		    "example.com", BEGIN, "2024032700000001", steps[i].node,
		    steps[i].stale, &err)), store_claim_strerror(steps[i].want),
		    "claim: %s", steps[i].name);
	tap_int(db_long("SELECT attempts FROM reports_sent"), 2,
	    "claim: own re-claim counts an attempt");

	/* Stale: claimed two hours ago by a, b takes it over. */
	db_exec("UPDATE reports_sent SET claimed_at = claimed_at - 7200");
	tap_int(store_report_claim(st, "example.com", BEGIN, "ID2", "b", 3600,
	    &err), STORE_CLAIM_OK, "claim: stale claim taken over");
	tap_int(db_long("SELECT COUNT(*) FROM reports_sent WHERE node = 'b' "
	    "AND report_id = 'ID2' AND attempts = 3 AND state = 'claimed'"), 1,
	    "claim: row now b's, third attempt");
	tap_int(store_report_claim(st, "example.com", BEGIN, "ID", "a", 3600,
	    &err), STORE_CLAIM_BUSY, "claim: a is now busy-out");

	/* Another day and another domain are other reports. */
	tap_int(store_report_claim(st, "example.com", BEGIN + 86400, "ID",
	    "a", 3600, &err), STORE_CLAIM_OK, "claim: next day is free");
	tap_int(store_report_claim(st, "example.org", BEGIN, "ID", "a", 3600,
	    &err), STORE_CLAIM_OK, "claim: other domain is free");

	tap_int(store_report_mark_sent(st, "example.com", BEGIN, &err),
	    STORE_OK, "mark sent");
	tap_int(db_long("SELECT COUNT(*) FROM reports_sent WHERE state = "
	    "'sent' AND sent_at IS NOT NULL"), 1, "mark sent: state and time");
	tap_int(store_report_claim(st, "example.com", BEGIN, "ID", "b", 0,
	    &err), STORE_CLAIM_SENT, "claim: sent report, same node");
	tap_int(store_report_claim(st, "example.com", BEGIN, "ID", "c", 0,
	    &err), STORE_CLAIM_SENT, "claim: sent report, other node");
	strbuf_reset(&err);
	tap_int(store_report_mark_sent(st, "nothing.test", BEGIN, &err),
	    STORE_ERR_WRITE, "mark sent without a claim: error");
	tap_ok(strstr(strbuf_cstr(&err), "not claimed") != NULL,
	    "mark sent without a claim: says why (%s)", strbuf_cstr(&err));
	tap_str(store_claim_strerror(STORE_CLAIM_BUSY),
	    "claimed by another node", "store_claim_strerror");

	for (i = 0; i < NRACE; i++)
		pthread_create(&th[i], NULL, racer, (void *)(intptr_t)i);
	for (i = 0; i < NRACE; i++)
		pthread_join(th[i], NULL);
	tap_int(race_ok, 1, "race: %d threads, exactly one claims", NRACE);
	tap_int(race_busy, NRACE - 1, "race: the others are busy");
	tap_int(race_other, 0, "race: no errors");
	store_close(st);
	strbuf_release(&err);
}

static void
test_expire(void)
{
	struct strbuf err = STRBUF_INIT;
	struct store_record rec;
	enum store_status ss;
	uint64_t v = 99, r = 99;
	int d;

	if ((st = store_open(dbpath, STORE_DURABILITY_FULL, &ss, &err)) ==
	    NULL) {
		tap_ok(0, "open %s: %s", dbpath, strbuf_cstr(&err));
		return;
	}
	/* One row per day for 2024-03-25 .. 2024-03-29. */
	for (d = -2; d <= 2; d++) {
		memset(&rec, 0, sizeof(rec));
		snprintf(rec.node, sizeof(rec.node), "a");
		snprintf(rec.message_key, sizeof(rec.message_key), "k%d", d);
		rec.received = BEGIN + d * 86400 + 3600;
		snprintf(rec.policy_domain, sizeof(rec.policy_domain),
		    "example.com");
		rec.pct = -1;
		store_submit(st, &rec, true);
	}
	/* reports_sent holds BEGIN, BEGIN + 1 day (test_claims). */
	tap_int(store_expire(st, store_day(BEGIN), true, &v, &r, &err),
	    STORE_OK, "expire dry run");
	tap_ok(v == 2 && r == 0, "expire dry run: counts 2 verdicts, 0 "
	    "reports (%llu, %llu)", (unsigned long long)v,
	    (unsigned long long)r);
	tap_int(db_long("SELECT COUNT(*) FROM verdicts"), 5,
	    "expire dry run: nothing deleted");
	tap_int(store_expire(st, store_day(BEGIN) + 1, false, &v, &r, &err),
	    STORE_OK, "expire");
	tap_ok(v == 3 && r == 3, "expire: 3 verdicts, 3 reports_sent rows "
	    "(%llu, %llu)", (unsigned long long)v, (unsigned long long)r);
	tap_int(db_long("SELECT MIN(day) FROM verdicts"),
	    store_day(BEGIN) + 1, "expire: first day left is the cutoff");
	tap_int(db_long("SELECT COUNT(*) FROM reports_sent"), 1,
	    "expire: later report rows kept");
	store_close(st);
	strbuf_release(&err);
}

/* The per-node run lock: a second store on the same file is refused
 * while the first holds it, and gets it once the first is closed. */
static void
test_lock(void)
{
	struct strbuf what = STRBUF_INIT, err = STRBUF_INIT, want =
	    STRBUF_INIT;
	struct store *a, *b;
	enum store_status ss;
	struct stat sb;

	a = store_open(dbpath, STORE_DURABILITY_RELAXED, &ss, NULL);
	b = store_open(dbpath, STORE_DURABILITY_RELAXED, &ss, NULL);
	tap_ok(a != NULL && b != NULL, "lock: two stores on one file");
	tap_int(store_report_lock(a, "n", &what, &err), STORE_CLAIM_OK,
	    "lock: the first takes it");
	strbuf_appendf(&want, "%s.report-lock", dbpath);
	tap_str(strbuf_cstr(&what), strbuf_cstr(&want),
	    "lock: named <database>.report-lock");
	tap_ok(stat(strbuf_cstr(&want), &sb) == 0 &&
	    (sb.st_mode & 07777) == 0600, "lock: the file is mode 0600");
	tap_int(store_report_lock(a, "n", NULL, NULL), STORE_CLAIM_OK,
	    "lock: taken again by its holder");
	strbuf_reset(&what);
	tap_int(store_report_lock(b, "n", &what, &err), STORE_CLAIM_BUSY,
	    "lock: the second is refused while the first holds it");
	store_close(a);
	tap_int(store_report_lock(b, "n", &what, &err), STORE_CLAIM_OK,
	    "lock: the second takes it once the first is closed");
	store_close(b);
	strbuf_release(&what);
	strbuf_release(&err);
	strbuf_release(&want);
}

int
main(void)
{
	const char *dir = getenv("TMPDIR");

	if (dir == NULL || *dir == '\0' || strlen(dir) > 4000)
		dir = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/dm-claim-XXXXXX", dir);
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		return 1;
	}
	atexit(cleanup);
	snprintf(dbpath, sizeof(dbpath), "%s/history.db", tmpdir);
	test_claims();
	test_expire();
	test_lock();
	return tap_done();
}
