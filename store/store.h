/*
 * store.h - the verdict history and, later, received reports.
 *
 * One interface, several back-ends: SQLite (default, one MTA) now,
 * PostgreSQL (many MTAs) later, chosen by the HistoryDatabase URI.  The
 * milter submits one record per evaluated author domain of each message
 * (a message with no usable author domain gives one record with an empty
 * header_from); aggregate reports are a GROUP BY over these rows per
 * policy domain and UTC day (DESIGN.md "Data").
 *
 * Writes go through one writer thread that commits in batches, so the
 * message threads never wait on fsync one by one.  Durability:
 *   STORE_DURABILITY_FULL     store_submit(..., wait=true) returns only
 *                             after the record's batch is committed with
 *                             a synchronous fsync (group commit): once
 *                             the MTA has been told "accepted", the row
 *                             survives a crash.
 *   STORE_DURABILITY_RELAXED  store_submit() returns at once; batches are
 *                             committed within STORE_FLUSH_MS (or sooner
 *                             when STORE_BATCH_MIN records are waiting).
 *                             The commit does not fsync (SQLite
 *                             synchronous=NORMAL in WAL mode): a crash of
 *                             the process loses nothing committed, a power
 *                             cut may lose the last commits.
 * wait=true is honoured in both modes; it is what makes FULL mode safe.
 *
 * When a commit fails (disk full, database locked past the busy timeout,
 * I/O error): the records whose submitter waits are dropped and every
 * one of those submitters gets STORE_ERR_WRITE (the milter then applies
 * its fail mode: a tempfail makes the MTA retry, which loses nothing);
 * the records nobody waits for stay queued, in order, and are retried
 * with a growing pause (at most STORE_RETRY_MAX_MS), so a full disk
 * fills the queue, and then store_submit() says STORE_ERR_FULL, instead
 * of losing rows silently.  Replays are idempotent: a record whose key
 * (node, message_key, author_index) is already stored is ignored and
 * counted in store_stats.duplicates.
 *
 * The library never logs: errors come back as statuses and through
 * store_last_error().
 */
#ifndef DM_STORE_STORE_H
#define DM_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"

#define STORE_MAX_DKIM		16	/* signatures kept per record */
#define STORE_FLUSH_MS		200	/* relaxed mode: longest wait to commit */
#define STORE_QUEUE_MAX		2048	/* records waiting for the writer (each
					   ~9 KB: bounds memory when the disk stalls) */
#define STORE_BATCH_MAX		1000	/* records per transaction, at most */
#define STORE_BATCH_MIN		256	/* relaxed: commit at once from here */
#define STORE_BUSY_MS		5000	/* SQLite busy timeout */
#define STORE_RETRY_MAX_MS	2000	/* longest pause between retries */
#define STORE_CLOSE_TRIES	3	/* commit attempts in store_close() */

enum store_durability {
	STORE_DURABILITY_FULL = 0,
	STORE_DURABILITY_RELAXED
};

enum store_status {
	STORE_OK,
	STORE_ERR_NOMEM,
	STORE_ERR_CONFIG,	/* bad URI, unknown back-end */
	STORE_ERR_OPEN,		/* cannot open or create the database */
	STORE_ERR_SCHEMA,	/* migration failed, or a newer schema */
	STORE_ERR_WRITE,	/* the batch could not be committed (disk
				   full, locked past the timeout, I/O) */
	STORE_ERR_FULL,		/* the queue is full (writer stuck) */
	STORE_ERR_CLOSED,	/* store_close() has begun */
	STORE_ERR_INVALID,	/* a record without its key (message_key) */
	STORE_ERR_READ		/* a query failed, or a row did not decode */
};

/* One DKIM signature as the report needs it (RFC 9990 auth_results). */
struct store_dkim {
	char	 domain[254];
	char	 selector[64];
	char	 result[16];		/* RFC 8601 name: pass, fail, ... */
	bool	 aligned;
};

/*
 * One verdict row.  Strings are fixed-size and NUL-terminated (callers
 * truncate; store_submit() terminates every field at its last byte and
 * caps ndkim at STORE_MAX_DKIM), so a record is one flat struct that the
 * queue copies whole.  Empty string = absent.
 */
struct store_record {
	/* identity and idempotency: (node, message_key, author_index) */
	char	 node[64];		/* NodeName: which MTA */
	char	 message_key[33];	/* 128-bit random hex per message;
					   required (STORE_ERR_INVALID) */
	unsigned author_index;		/* 0.. for several author domains */
	time_t	 received;		/* UTC seconds */
	char	 queue_id[32];
	char	 message_id[256];	/* Message-ID field, truncated */

	/* connection */
	char	 client_ip[46];
	char	 helo[254];
	char	 mail_from_domain[254];	/* RFC 9990 envelope_from */

	/* identifiers and discovery */
	char	 header_from[254];	/* author domain ("" if none) */
	char	 policy_domain[254];	/* where the record was found */
	char	 org_domain[254];
	char	 discovery_method[16];	/* "treewalk" or "psl" */

	/* policy_published; empty p means no record applied */
	char	 p[12], sp[12], np[12];	/* none | quarantine | reject */
	int	 pct;			/* -1 when absent */
	bool	 testing;		/* t=y */
	char	 adkim[2], aspf[2];	/* r | s */
	char	 fo[8];			/* e.g. "0", "1:d" */
	char	 rua[512], ruf[512];	/* comma-joined URIs */

	/* auth_results */
	char	 spf_result[16];
	char	 spf_domain[254];
	char	 spf_scope[8];		/* mfrom | helo */
	bool	 spf_aligned;
	struct store_dkim dkim[STORE_MAX_DKIM];
	unsigned ndkim;

	/* policy_evaluated */
	char	 dmarc_result[16];	/* pass fail none temperror permerror */
	char	 policy[12];		/* the policy that applied */
	char	 disposition[12];	/* none | pass | quarantine | reject */
	char	 reasons[128];		/* override types, comma-joined, e.g.
					   "sampled_out" or "mailing_list" */
	char	 reason_comment[256];

	/* what the milter did */
	char	 action[16];		/* accept | reject | quarantine |
					   tempfail | skip */
	char	 skip_reason[32];	/* trusted | authenticated | "" */
};

struct store;

/* Tunables; zero in any field means its default. */
struct store_options {
	enum store_durability durability;
	unsigned busy_timeout_ms;	/* STORE_BUSY_MS */
	unsigned flush_ms;		/* STORE_FLUSH_MS (relaxed mode) */
	size_t	 queue_max;		/* STORE_QUEUE_MAX */
	uint64_t max_bytes;		/* cap on the database size; a write
					   past it fails as a full disk
					   (SQLite max_page_count); 0 none */
	const char *spool_path;		/* PostgreSQL: the durable spool
					   file (HistorySpool); NULL: none,
					   a failed commit fails its waiters
					   as with SQLite.  Ignored for
					   SQLite (same disk: no gain). */
};

/*
 * Open the history at uri and start the writer thread:
 *   "PATH" or "sqlite:PATH"   SQLite, WAL mode; the file is created
 *                             (mode 0640) with its schema if missing and
 *                             migrated if older ("sqlite://PATH" is read
 *                             as "sqlite:PATH" too);
 *   "postgresql://..." or "postgres://..."
 *                             PostgreSQL (libpq connection URI); the
 *                             schema is created or migrated the same
 *                             way; the server must be reachable now
 *                             (STORE_ERR_OPEN otherwise), unless
 *                             opt->spool_path is set and no server
 *                             answers at all: the store then opens,
 *                             spools, and store_last_error() says why
 *                             (the schema is created at the first
 *                             commit that gets through).  With
 *                             opt->spool_path, a batch the database
 *                             cannot commit (down, or slower than
 *                             busy_timeout_ms) is appended to the spool
 *                             and fsync'd instead, and its waiters get
 *                             STORE_OK; the writer replays the spool in
 *                             order when the database is back (also at
 *                             the next open), and empties it once every
 *                             replayed row is committed.  Only a failed
 *                             append (disk full) gives STORE_ERR_WRITE.
 * Messages show a URI with its password hidden.
 * Any other "scheme:" prefix is STORE_ERR_CONFIG; write a relative path
 * that holds a colon as "./a:b".  A database whose schema is newer than
 * this build knows is STORE_ERR_SCHEMA, and is left untouched.
 * Returns NULL with *st and a message naming the uri in err (if not
 * NULL) on failure.
 */
struct store *store_open(const char *uri, enum store_durability,
	    enum store_status *st, struct strbuf *err);
/* The same with tunables; opt NULL means all defaults, FULL durability. */
struct store *store_open_opts(const char *uri, const struct store_options *,
	    enum store_status *st, struct strbuf *err);

/*
 * Queue a copy of rec.  With wait, return only after the batch holding it
 * is committed (STORE_OK, also when the row was already stored), or with
 * the error that stopped the commit (STORE_ERR_WRITE; the record is then
 * dropped).  Without wait, STORE_OK means queued.  STORE_ERR_FULL when
 * the queue holds queue_max records, STORE_ERR_CLOSED once store_close()
 * has begun, STORE_ERR_INVALID for an empty message_key, STORE_ERR_NOMEM.
 * Thread-safe; with wait it blocks for at most the commit in progress
 * and the one holding rec.
 */
enum store_status store_submit(struct store *, const struct store_record *,
	    bool wait);

/*
 * Commit everything queued before the call and wait for it: STORE_OK, or
 * STORE_ERR_WRITE when a commit attempt failed meanwhile (the records
 * stay queued for the next attempt; store_last_error() says why).
 */
enum store_status store_flush(struct store *);

/*
 * Flush, stop the writer and close; the store is freed whatever the
 * result.  If commits keep failing, STORE_CLOSE_TRIES attempts are made,
 * the remaining records are dropped (counted in store_stats.failed) and
 * STORE_ERR_WRITE is returned: a daemon that wants to log why calls
 * store_flush() and store_last_error() first.  NULL is a no-op.
 */
enum store_status store_close(struct store *);

/*
 * The last write error as a sentence naming the database (for the
 * daemon's log), or "" if no commit has failed.  It stays set after later
 * commits succeed; store_stats says whether they do.
 */
void	 store_last_error(struct store *, struct strbuf *out);

/* Counters for metrics. */
struct store_stats {
	uint64_t submitted;	/* records accepted by store_submit() */
	uint64_t committed;	/* rows inserted */
	uint64_t duplicates;	/* records ignored: key already stored */
	uint64_t failed;	/* records given up (waiter told, or close) */
	uint64_t rejected;	/* store_submit() said FULL */
	uint64_t batches;	/* transactions committed */
	uint64_t write_errors;	/* transactions that failed */
	size_t	 queued;	/* waiting or being written now */
	uint64_t spooled;	/* records appended to the spool */
	uint64_t replayed;	/* spooled records committed since */
	uint64_t spool_discarded; /* torn or corrupt spool records */
	size_t	 spool_pending;	/* records in the spool now */
	bool	 failing;	/* the last attempt to write to the
				   database (or the spool) failed */
};
void	 store_get_stats(struct store *, struct store_stats *);

/*
 * Reading.  Each call uses its own short-lived read connection, so it
 * may run in any thread, alongside the writer, and a callback may call
 * the store again.  Only committed rows are seen (call store_flush()
 * first to see your own).  err (may be NULL) gets the reason on failure.
 */

/* The number of verdict rows. */
enum store_status store_count(struct store *, uint64_t *n,
	    struct strbuf *err);

/*
 * A callback gets each row in a record it must not keep (the storage is
 * reused); it returns 0 to go on, anything else to stop the query
 * (store_query_verdicts() then returns STORE_OK).
 */
typedef int (*store_verdict_cb)(const struct store_record *, void *ctx);

/*
 * Every row with from <= received < to, and policy_domain equal to the
 * given one (exactly; NULL for all domains), in order of received time,
 * then of insertion.  STORE_ERR_READ on a database error or a row that
 * does not decode.
 */
enum store_status store_query_verdicts(struct store *,
	    const char *policy_domain, time_t from, time_t to,
	    store_verdict_cb cb, void *ctx, struct strbuf *err);

/*
 * The DKIM column: the signatures of one record in one stable, parseable
 * text, in their order, so that a GROUP BY on it groups by the whole
 * DKIM result set.  Signatures are joined by "|"; each is
 *     d=DOMAIN;s=SELECTOR;r=RESULT;a=0|1
 * with the keys always present and in this order.  In the values, bytes
 * outside printable ASCII (0x21-0x7e) and the four bytes % ; = | are
 * written %HH with uppercase hex, and nothing else is escaped, so the
 * same signatures always give the same text.  No signatures: "".
 */
/* Append the encoding of dkim[0..n-1] (n capped at STORE_MAX_DKIM). */
void	 store_dkim_encode(const struct store_dkim *, unsigned n,
	    struct strbuf *out);
/*
 * Decode text into dkim[STORE_MAX_DKIM] and *n.  Tolerant of key order
 * and of lowercase hex; unknown keys are skipped (room for later keys).
 * Returns -1 on a bad escape, a missing "=", more than STORE_MAX_DKIM
 * signatures or a value longer than its field.
 */
int	 store_dkim_decode(const char *text, struct store_dkim *dkim,
	    unsigned *n);

/*
 * Sent aggregate reports (schema version 2, table reports_sent): exactly
 * once across racing `dmarcctl report` runs on one or many nodes.  A run
 * claims (policy domain, period begin) before it sends and marks it sent
 * after; a claim left by a run that failed or died is taken over once it
 * is stale_after_s seconds old (at once by the node that holds it).  Each
 * call is one atomic statement or transaction on its own connection, so
 * it may run in any thread.
 */
enum store_claim {
	STORE_CLAIM_OK,		/* the caller owns the report now: send it */
	STORE_CLAIM_SENT,	/* already sent: skip */
	STORE_CLAIM_BUSY,	/* another node holds a fresh claim: skip */
	STORE_CLAIM_ERROR	/* database error, in err */
};

/*
 * Claim the report of domain for the period starting at begin, under
 * report_id (recorded, for the operator) and node.  STORE_CLAIM_OK when
 * the row was new, or was 'claimed' by node itself or claimed more than
 * stale_after_s seconds ago (attempts is then counted up).  PostgreSQL
 * uses the server's clock, SQLite the local one.  err may be NULL.
 */
enum store_claim store_report_claim(struct store *, const char *domain,
	    time_t begin, const char *report_id, const char *node,
	    unsigned stale_after_s, struct strbuf *err);

/*
 * Mark the claimed report sent.  STORE_ERR_WRITE when there is no such
 * row (never claimed, or expired meanwhile) or on a database error.
 */
enum store_status store_report_mark_sent(struct store *, const char *domain,
	    time_t begin, struct strbuf *err);

/*
 * Retention: delete the verdict rows of the UTC days before before_day
 * (a store_day() number) and the reports_sent rows of periods that begin
 * before it, in one transaction; with dry_run count them only.  The
 * numbers go to *verdicts and *reports (either may be NULL).
 */
enum store_status store_expire(struct store *, int64_t before_day,
	    bool dry_run, uint64_t *verdicts, uint64_t *reports,
	    struct strbuf *err);

const char *store_claim_strerror(enum store_claim);

/* The UTC day number of t (days since 1970-01-01), the "day" column. */
int64_t	 store_day(time_t t);

/* The latest schema version this build knows. */
int	 store_schema_latest(void);

/* Append uri to out with the password of its authority or of a
 * password= parameter, if any, hidden ("postgresql://user:*****@host/db"),
 * for messages and logs. */
void	 store_uri_redact(struct strbuf *out, const char *uri);

const char *store_strerror(enum store_status);
const char *store_durability_name(enum store_durability);

#endif
