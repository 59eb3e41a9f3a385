/*
 * server.c - the HTTP side of dmarcctl serve, on libmicrohttpd.
 *
 * libmicrohttpd runs a pool of threads, each with its own poll loop; a
 * request is answered on the thread that read it.  Each thread opens its
 * own read-only connection (store/dbq.h: SQLite or PostgreSQL) on first
 * use, and again after a PostgreSQL connection was lost; the only write
 * is the token's last-use time, through one separate connection, at
 * most once a minute per token, and skipped (with one log line) when
 * the database is not writable to this user.
 *
 * Bounds: connections in all and per client address, an idle timeout
 * per connection (a slow client cannot hold a thread: libmicrohttpd
 * polls), the memory of one connection (request line and headers:
 * libmicrohttpd answers 414/431 past it), the request body (413), the
 * query string (query.h), and the SQL work of one request (store/dbq.h
 * stops it after SERVER_QUERY_MAX_MS; a PostgreSQL server that does not
 * answer at all is a 503 after that plus PG_CLIENT_GRACE_MS).  RFC 6750
 * for bearer tokens (401 with WWW-Authenticate), RFC 9110 for
 * 404/405/413/429.
 * Left out: HTTP/2, keep-alive tuning, compression.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "store/store.h"
#include "web/api.h"
#include "web/query.h"
#include "web/server.h"
#include "web/tokens.h"

#define NCODES		600
#define NROUTES		(WEBQ_ROUTE_DOMAINS + 1)
#define TOUCH_EVERY	60		/* seconds between last-use writes */

static const double buckets[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

struct metrics {
	pthread_mutex_t lock;
	uint64_t by_code[NCODES];
	uint64_t by_route[NROUTES];
	uint64_t bucket[NBUCKETS];
	uint64_t count;
	double	 sum;
	uint64_t rate_limited;
	uint64_t check_cache_hits;
	uint64_t check_runs;
};

struct check_entry {
	char	 domain[WEBQ_MAX_DOMAIN + 1];
	bool	 history;
	time_t	 expires;
	int	 status;
	char	*body;
};

struct rate_slot {
	int64_t	 token_id;
	double	 tokens;
	double	 last;			/* monotonic seconds */
};

struct server {
	struct server_config cfg;
	char	 root[PATH_MAX];	/* realpath of the web root */
	bool	 have_root;
	struct MHD_Daemon *mhd;
	pthread_key_t dbkey;
	struct metrics m;
	time_t	 started;

	char	*label;			/* the database, password hidden */
	pthread_mutex_t touch_lock;	/* the one read-write connection */
	struct dbq *touch_db;
	bool	 touch_disabled;

	pthread_mutex_t check_lock;	/* cache, limiter, the checker */
	struct check_entry cache[SERVER_CHECK_CACHE];
	struct rate_slot rate[SERVER_RATE_SLOTS];
	size_t	 nrate;
};

/* One request's state across libmicrohttpd's calls. */
struct req {
	struct timespec start;
	enum webq_route route;
	int	 status;
	size_t	 body;
};

/* Per-thread database connection. */
struct tdb {
	struct dbq *db;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
server_sqlite_path(const char *uri, struct strbuf *out, struct strbuf *err)
{
	const char *p = uri;

	if (strncmp(p, "sqlite://", 9) == 0)
		p += 9;
	else if (strncmp(p, "sqlite:", 7) == 0)
		p += 7;
	else if (strncmp(p, "postgres", 8) == 0) {
		strbuf_appends(err, "HistoryDatabase (a PostgreSQL URI): a "
		    "SQLite file is expected here");
		return -1;
	} else if (strchr(p, ':') != NULL && strchr(p, '/') != NULL &&
	    strchr(p, ':') < strchr(p, '/')) {
		strbuf_appendf(err, "HistoryDatabase %s: unknown scheme", uri);
		return -1;
	}
	if (*p == '\0') {
		strbuf_appendf(err, "HistoryDatabase %s: no file name", uri);
		return -1;
	}
	strbuf_appends(out, p);
	return 0;
}

/* The bound of one statement: SQLite's wait for a lock (the request's
 * work has its own deadline), PostgreSQL's statement_timeout. */
static unsigned
db_timeout(const char *uri, bool writable)
{
	if (dbq_uri_is_pgsql(uri))
		return writable ? 2000 : SERVER_QUERY_MAX_MS;
	return writable ? 500 : 2000;
}

static void
tdb_free(void *arg)
{
	struct tdb *t = arg;

	if (t == NULL)
		return;
	dbq_close(t->db);
	mem_free(t);
}

/* This thread's connection, its work deadline reset; NULL if it cannot
 * be opened (logged).  A lost PostgreSQL connection is opened again. */
static struct dbq *
thread_db(struct server *s)
{
	struct tdb *t = pthread_getspecific(s->dbkey);
	struct strbuf err = STRBUF_INIT;

	if (t == NULL) {
		if ((t = mem_calloc(1, sizeof(*t))) == NULL)
			return NULL;
		pthread_setspecific(s->dbkey, t);
	}
	if (t->db != NULL && dbq_is_broken(t->db)) {
		dbq_close(t->db);
		t->db = NULL;
	}
	if (t->db == NULL && (t->db = dbq_open(s->cfg.db_uri, false,
	    db_timeout(s->cfg.db_uri, false), &err)) == NULL) {
		log_msg(LOG_ERR, "%s", strbuf_cstr(&err));
		strbuf_release(&err);
		return NULL;
	}
	dbq_deadline(t->db, SERVER_QUERY_MAX_MS);
	return t->db;
}

static void
add_common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct req *rq, int status,
    struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (resp == NULL) {
		rq->status = 500;
		return MHD_NO;
	}
	add_common_headers(resp);
	rq->status = status;
	r = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static struct MHD_Response *
buffer_response(const struct strbuf *body, const char *ctype,
    const char *cache)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strbuf_len(body),
	    (void *)(uintptr_t)strbuf_cstr(body), MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	return resp;
}

/* A JSON answer (body, or an error body written by api_error()). */
static enum MHD_Result
reply_json(struct MHD_Connection *c, struct req *rq, int status,
    struct strbuf *body)
{
	struct MHD_Response *resp;

	if (strbuf_failed(body))
		status = api_error(body, 500, "response too large or out of "
		    "memory");
	strbuf_appendc(body, '\n');
	resp = buffer_response(body, "application/json; charset=utf-8",
	    "no-store");
	if (resp != NULL && status == 401)
		MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"dmarcd\"");
	if (resp != NULL && status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    "GET, HEAD");
	return queue(c, rq, status, resp);
}

static enum MHD_Result reply_error(struct MHD_Connection *, struct req *,
	    int, const char *, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
reply_error(struct MHD_Connection *c, struct req *rq, int status,
    const char *fmt, ...)
{
	struct strbuf body = STRBUF_INIT, msg = STRBUF_INIT;
	enum MHD_Result r;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(&msg, fmt, ap);
	va_end(ap);
	api_error(&body, status, "%s", strbuf_cstr(&msg));
	strbuf_release(&msg);
	r = reply_json(c, rq, status, &body);
	strbuf_release(&body);
	return r;
}

static const struct {
	const char *ext;
	const char *type;
} ctypes[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot != NULL && strchr(dot, '/') == NULL)
		for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++)
			if (strcasecmp(dot, ctypes[i].ext) == 0)
				return ctypes[i].type;
	return "application/octet-stream";
}

/* Open path if it is a regular file whose real path is under root
 * (root NULL: any); -1 otherwise. */
static int
open_under(const char *root, const char *path, struct stat *sb)
{
	char real[PATH_MAX];
	size_t n;
	int fd;

	if (realpath(path, real) == NULL)
		return -1;
	if (root != NULL) {
		n = strlen(root);
		/* Symbolic links may not lead out of the web root. */
		if (strncmp(real, root, n) != 0 || real[n] != '/')
			return -1;
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) ||
	    (uint64_t)sb->st_size > SERVER_MAX_FILE) {
		close(fd);
		return -1;
	}
	return fd;
}

static const char *const chartjs_names[] = { "chart.umd.js",
	"chart.umd.min.js", "chart.min.js", "chart.js" };

static enum MHD_Result
serve_file(struct server *s, struct MHD_Connection *c, struct req *rq,
    const char *rel)
{
	struct strbuf path = STRBUF_INIT;
	struct MHD_Response *resp;
	struct stat sb;
	size_t i;
	int fd = -1;
	bool index = strcmp(rel, "index.html") == 0;

	if (strcmp(rel, "vendor/chart.umd.js") == 0) {
		/* Debian's libjs-chart.js, outside the web root. */
		for (i = 0; fd < 0 && i < sizeof(chartjs_names) /
		    sizeof(chartjs_names[0]); i++) {
			strbuf_reset(&path);
			strbuf_appendf(&path, "%s/%s", s->cfg.chartjs_dir,
			    chartjs_names[i]);
			if (!strbuf_failed(&path))
				fd = open_under(NULL, strbuf_cstr(&path), &sb);
		}
	} else if (s->have_root) {
		strbuf_appendf(&path, "%s/%s", s->root, rel);
		if (!strbuf_failed(&path))
			fd = open_under(s->root, strbuf_cstr(&path), &sb);
	}
	strbuf_release(&path);
	if (fd < 0)
		return reply_error(c, rq, 404, "not found: /static/%s", rel);
	if ((resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd)) ==
	    NULL) {
		close(fd);
		return reply_error(c, rq, 500, "cannot send %s", rel);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    content_type(rel));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, index ?
	    "no-cache" : "public, max-age=3600");
	return queue(c, rq, 200, resp);
}

/* Bearer token from the Authorization field into out; false if none. */
static bool
bearer(struct MHD_Connection *c, char *out, size_t outsz)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	while (n > 0 && h[n - 1] == ' ')
		n--;
	if (n == 0 || n >= outsz)
		return false;
	memcpy(out, h, n);
	out[n] = '\0';
	return true;
}

static void
touch_token(struct server *s, const struct token_row *t, time_t now)
{
	struct strbuf err = STRBUF_INIT;

	if (t->last_used != 0 && now - t->last_used < TOUCH_EVERY)
		return;
	pthread_mutex_lock(&s->touch_lock);
	if (s->touch_db == NULL && !s->touch_disabled &&
	    (s->touch_db = dbq_open(s->cfg.db_uri, true,
	    db_timeout(s->cfg.db_uri, true), &err)) == NULL) {
		log_msg(LOG_WARNING, "%s (token last-use times are not "
		    "recorded)", strbuf_cstr(&err));
		/* A file we may not write stays so; a server may come
		 * back. */
		s->touch_disabled = !dbq_uri_is_pgsql(s->cfg.db_uri);
	}
	if (s->touch_db != NULL &&
	    token_touch(s->touch_db, t->id, now, &err) != TOKEN_OK) {
		log_msg(LOG_WARNING, "%s: %s (token last-use times are not "
		    "recorded)", s->label, strbuf_cstr(&err));
		s->touch_disabled = dbq_status(s->touch_db) !=
		    DBQ_UNAVAILABLE;
		dbq_close(s->touch_db);
		s->touch_db = NULL;
	}
	pthread_mutex_unlock(&s->touch_lock);
	strbuf_release(&err);
}

/*
 * Authenticate the request: 0 with *row filled, or the status (401,
 * 500) with the error body written into out.
 */
static int
authenticate(struct server *s, struct MHD_Connection *c, struct dbq *db,
    struct token_row *row, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	char tok[257], hex[65];
	enum token_status ts;

	if (!bearer(c, tok, sizeof(tok)))
		return api_error(out, 401, "Authorization: a bearer token is "
		    "required (Authorization: Bearer TOKEN)");
	token_hash_hex(tok, strlen(tok), hex);
	explicit_bzero(tok, sizeof(tok));
	ts = token_find(db, hex, row, &err);
	if (ts == TOKEN_ERR_DB) {
		log_msg(LOG_ERR, "%s: %s", s->label, strbuf_cstr(&err));
		strbuf_release(&err);
		if (dbq_status(db) == DBQ_UNAVAILABLE ||
		    dbq_status(db) == DBQ_STOPPED)
			return api_error(out, 503, "database unavailable: no "
			    "answer in time");
		return api_error(out, 500, "database error");
	}
	strbuf_release(&err);
	if (ts != TOKEN_OK) {
		token_row_clear(row);
		return api_error(out, 401, "Authorization: unknown or revoked "
		    "token");
	}
	touch_token(s, row, time(NULL));
	return 0;
}

struct argctx {
	struct webq *q;
	enum webq_status st;
};

static enum MHD_Result
arg_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct argctx *a = cls;

	(void)kind;
	if ((a->st = webq_add(a->q, key, value)) != WEBQ_OK)
		return MHD_NO;
	return MHD_YES;
}

/* The token-scoped rate limit of /api/v1/check: a bucket of
 * check_per_minute requests refilled continuously.  0, or the seconds
 * to wait. */
static unsigned
rate_take(struct server *s, int64_t token_id)
{
	double now = mono(), per_s = s->cfg.check_per_minute / 60.0;
	double cap = s->cfg.check_per_minute;
	struct rate_slot *r = NULL;
	size_t i, oldest = 0;

	for (i = 0; i < s->nrate; i++) {
		if (s->rate[i].token_id == token_id) {
			r = &s->rate[i];
			break;
		}
		if (s->rate[i].last < s->rate[oldest].last)
			oldest = i;
	}
	if (r == NULL) {
		r = s->nrate < SERVER_RATE_SLOTS ? &s->rate[s->nrate++] :
		    &s->rate[oldest];
		r->token_id = token_id;
		r->tokens = cap;
		r->last = now;
	}
	r->tokens += (now - r->last) * per_s;
	if (r->tokens > cap)
		r->tokens = cap;
	r->last = now;
	if (r->tokens >= 1.0) {
		r->tokens -= 1.0;
		return 0;
	}
	return (unsigned)((1.0 - r->tokens) / per_s) + 1;
}

static enum MHD_Result
handle_check(struct server *s, struct MHD_Connection *c, struct req *rq,
    const struct webq *q, const struct token_row *tok)
{
	struct strbuf body = STRBUF_INIT;
	struct check_entry *e = NULL, *victim = NULL;
	struct MHD_Response *resp;
	char dom[WEBQ_MAX_DOMAIN + 1], after[16];
	const char *v = webq_get(q, "domain");
	time_t now = time(NULL);
	/* The stored reports name source IPs: only a token that sees every
	 * domain gets a verdict that uses them. */
	bool history = strcmp(tok->scope, "*") == 0;
	unsigned wait;
	enum MHD_Result r;
	int status;
	size_t i;

	if (v == NULL || *v == '\0')
		return reply_error(c, rq, 400, "domain: required (%s)",
		    "/api/v1/check?domain=example.com");
	if (strlen(v) > WEBQ_MAX_DOMAIN)
		return reply_error(c, rq, 400, "domain: longer than %d bytes",
		    WEBQ_MAX_DOMAIN);
	memcpy(dom, v, strlen(v) + 1);
	if (!webq_domain_is_valid(dom))
		return reply_error(c, rq, 400, "domain: not a domain name: "
		    "%.80s", v);
	if (s->cfg.check == NULL)
		return reply_error(c, rq, 503, "%s: the checker is not "
		    "available", "/api/v1/check");
	pthread_mutex_lock(&s->check_lock);
	if ((wait = rate_take(s, tok->id)) > 0) {
		s->m.rate_limited++;
		pthread_mutex_unlock(&s->check_lock);
		api_error(&body, 429, "rate limit of %u checks a minute for "
		    "token %s reached: retry in %u s",
		    s->cfg.check_per_minute, tok->name, wait);
		strbuf_appendc(&body, '\n');
		resp = buffer_response(&body, "application/json; "
		    "charset=utf-8", "no-store");
		snprintf(after, sizeof(after), "%u", wait);
		if (resp != NULL)
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_RETRY_AFTER, after);
		strbuf_release(&body);
		return queue(c, rq, 429, resp);
	}
	for (i = 0; i < SERVER_CHECK_CACHE; i++) {
		struct check_entry *x = &s->cache[i];

		if (x->body != NULL && x->expires > now &&
		    x->history == history && strcmp(x->domain, dom) == 0) {
			e = x;
			break;
		}
		/* The slot to fill on a miss: an empty one, or the one
		 * that expires first. */
		if (victim == NULL || (victim->body != NULL &&
		    (x->body == NULL || x->expires < victim->expires)))
			victim = x;
	}
	if (e != NULL) {
		s->m.check_cache_hits++;
		strbuf_appends(&body, e->body);
		status = e->status;
	} else {
		/* One check at a time: the resolver is not shared between
		 * threads, and the limiter keeps the rate low. */
		s->m.check_runs++;
		status = s->cfg.check(s->cfg.check_ctx, dom, history, &body);
		if (status != 200) {
			struct strbuf msg = STRBUF_INIT;

			strbuf_appends(&msg, strbuf_cstr(&body));
			strbuf_reset(&body);
			api_error(&body, status, "%s", strbuf_cstr(&msg));
			strbuf_release(&msg);
		}
		/* A DNS failure (502) is not kept: the next try may work. */
		if (!strbuf_failed(&body) && (status == 200 ||
		    status == 400)) {
			mem_free(victim->body);
			memcpy(victim->domain, dom, strlen(dom) + 1);
			victim->history = history;
			victim->body = mem_strdup(strbuf_cstr(&body));
			victim->status = status;
			victim->expires = now + (time_t)s->cfg.check_ttl_s;
		}
	}
	pthread_mutex_unlock(&s->check_lock);
	r = reply_json(c, rq, status, &body);
	strbuf_release(&body);
	return r;
}

static void
prom_label(struct strbuf *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_appendc(o, '\\');
		if (*v == '\n') {
			strbuf_appends(o, "\\n");
			continue;
		}
		strbuf_appendc(o, *v);
	}
}

static void
prom_head(struct strbuf *o, const char *name, const char *type,
    const char *help)
{
	strbuf_appendf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Gauges from the database; false if a query failed. */
static bool
metrics_db(struct dbq *db, struct strbuf *o)
{
	static const struct {
		const char *name, *help, *sql;
	} g[] = {
		{ "dmarcd_aggregate_reports", "Aggregate reports stored.",
		  "SELECT COUNT(*) FROM agg_reports" },
		{ "dmarcd_aggregate_records", "Aggregate report rows stored.",
		  "SELECT COUNT(*) FROM agg_records" },
		{ "dmarcd_aggregate_messages", "Messages described by the "
		  "stored aggregate reports.",
		  "SELECT COALESCE(SUM(count), 0) FROM agg_records" },
		{ "dmarcd_failure_reports", "Failure reports stored.",
		  "SELECT COUNT(*) FROM failure_reports" },
		{ "dmarcd_alerts", "Alerts stored.",
		  "SELECT COUNT(*) FROM alerts" },
		{ "dmarcd_api_tokens_active", "API tokens not revoked.",
		  "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL" },
	};
	struct dbq_rows *st;
	size_t i;
	bool first = true, failed;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		if ((st = dbq_query(db, g[i].sql, NULL, 0)) == NULL)
			return false;
		if (!dbq_next(st)) {
			dbq_rows_free(st);
			return false;
		}
		prom_head(o, g[i].name, "gauge", g[i].help);
		strbuf_appendf(o, "%s %lld\n", g[i].name,
		    (long long)dbq_int(st, 0));
		dbq_rows_free(st);
	}
	/* The milter's own verdicts, when it shares the database. */
	if ((st = dbq_query(db, "SELECT dmarc_result, disposition, "
	    "COUNT(*) FROM verdicts GROUP BY 1, 2 ORDER BY 1, 2", NULL, 0)) ==
	    NULL)
		return false;
	while (dbq_next(st)) {
		if (first)
			prom_head(o, "dmarcd_inbound_verdicts_total",
			    "counter", "Verdicts dmarcd recorded (one per "
			    "message and author domain), by DMARC result and "
			    "disposition.");
		first = false;
		strbuf_appends(o, "dmarcd_inbound_verdicts_total{dmarc_result=\"");
		prom_label(o, dbq_text(st, 0));
		strbuf_appends(o, "\",disposition=\"");
		prom_label(o, dbq_text(st, 1));
		strbuf_appendf(o, "\"} %lld\n", (long long)dbq_int(st, 2));
	}
	failed = dbq_rows_failed(st);
	dbq_rows_free(st);
	return !failed;
}

static enum MHD_Result
handle_metrics(struct server *s, struct MHD_Connection *c, struct req *rq,
    struct dbq *db)
{
	struct strbuf o = STRBUF_INIT;
	struct MHD_Response *resp;
	struct metrics m;
	uint64_t cum = 0;
	size_t i;
	bool dbok;

	pthread_mutex_lock(&s->m.lock);
	m = s->m;
	pthread_mutex_unlock(&s->m.lock);
	pthread_mutex_lock(&s->check_lock);
	m.rate_limited = s->m.rate_limited;
	m.check_cache_hits = s->m.check_cache_hits;
	m.check_runs = s->m.check_runs;
	pthread_mutex_unlock(&s->check_lock);

	prom_head(&o, "dmarcd_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	for (i = 0; i < NCODES; i++)
		if (m.by_code[i] > 0)
			strbuf_appendf(&o, "dmarcd_http_requests_total"
			    "{code=\"%zu\"} %llu\n", i,
			    (unsigned long long)m.by_code[i]);
	prom_head(&o, "dmarcd_http_endpoint_requests_total", "counter",
	    "HTTP requests answered, by endpoint.");
	for (i = 0; i < NROUTES; i++)
		strbuf_appendf(&o, "dmarcd_http_endpoint_requests_total"
		    "{endpoint=\"%s\"} %llu\n",
		    webq_route_name((enum webq_route)i),
		    (unsigned long long)m.by_route[i]);
	prom_head(&o, "dmarcd_http_request_duration_seconds", "histogram",
	    "Time from the request's arrival to its answer.");
	for (i = 0; i < NBUCKETS; i++) {
		cum += m.bucket[i];
		strbuf_appendf(&o, "dmarcd_http_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", buckets[i], (unsigned long long)cum);
	}
	strbuf_appendf(&o, "dmarcd_http_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)m.count);
	strbuf_appendf(&o, "dmarcd_http_request_duration_seconds_sum %.6f\n",
	    m.sum);
	strbuf_appendf(&o, "dmarcd_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)m.count);
	prom_head(&o, "dmarcd_check_rate_limited_total", "counter",
	    "Domain checks refused by the per-token rate limit (429).");
	strbuf_appendf(&o, "dmarcd_check_rate_limited_total %llu\n",
	    (unsigned long long)m.rate_limited);
	prom_head(&o, "dmarcd_check_cache_hits_total", "counter",
	    "Domain checks answered from the cache.");
	strbuf_appendf(&o, "dmarcd_check_cache_hits_total %llu\n",
	    (unsigned long long)m.check_cache_hits);
	prom_head(&o, "dmarcd_check_runs_total", "counter",
	    "Domain checks run (DNS look-ups made).");
	strbuf_appendf(&o, "dmarcd_check_runs_total %llu\n",
	    (unsigned long long)m.check_runs);
	prom_head(&o, "dmarcd_serve_start_time_seconds", "gauge",
	    "When this server started (UNIX time).");
	strbuf_appendf(&o, "dmarcd_serve_start_time_seconds %lld\n",
	    (long long)s->started);
	dbok = db != NULL && metrics_db(db, &o);
	prom_head(&o, "dmarcd_database_up", "gauge",
	    "1 when the database answered the queries above.");
	strbuf_appendf(&o, "dmarcd_database_up %d\n", dbok ? 1 : 0);
	if (strbuf_failed(&o)) {
		strbuf_release(&o);
		return reply_error(c, rq, 500, "%s: out of memory", "/metrics");
	}
	resp = buffer_response(&o, "text/plain; version=0.0.4; "
	    "charset=utf-8", "no-store");
	strbuf_release(&o);
	return queue(c, rq, 200, resp);
}

static enum MHD_Result
dispatch(struct server *s, struct MHD_Connection *c, struct req *rq,
    const char *url, const char *method)
{
	struct strbuf body = STRBUF_INIT;
	struct token_row tok;
	struct api_req ar;
	struct argctx a;
	struct webq q;
	char arg[WEBQ_MAX_PATH + 1];
	enum webq_status st;
	enum MHD_Result r;
	struct dbq *db = NULL;
	int status;

	memset(&tok, 0, sizeof(tok));
	st = webq_route(url, &rq->route, arg, sizeof(arg));
	if (st == WEBQ_ERR_ENCODING)
		return reply_error(c, rq, 400, "path: %s",
		    webq_strerror(st));
	if (st != WEBQ_OK || rq->route == WEBQ_ROUTE_NONE) {
		rq->route = WEBQ_ROUTE_NONE;
		return reply_error(c, rq, 404, "not found: %s",
		    "no such path");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(c, rq, 405, "method %s not allowed: use "
		    "GET", strlen(method) < 16 ? method : "(long)");
	if (rq->body > SERVER_MAX_BODY)
		return reply_error(c, rq, 413, "request body: larger than %d "
		    "bytes", SERVER_MAX_BODY);
	if (rq->route == WEBQ_ROUTE_INDEX)
		return serve_file(s, c, rq, "index.html");
	if (rq->route == WEBQ_ROUTE_STATIC)
		return serve_file(s, c, rq, arg);

	webq_init(&q);
	a.q = &q;
	a.st = WEBQ_OK;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, arg_cb, &a);
	if (a.st != WEBQ_OK)
		return reply_error(c, rq, 400, "%s", a.st ==
		    WEBQ_ERR_TOO_MANY ? "query: too many parameters" :
		    a.st == WEBQ_ERR_DUPLICATE ? "query: a parameter is given "
		    "twice" : a.st == WEBQ_ERR_TOO_LONG ? "query: a parameter "
		    "is too long" : "query: bad percent-encoding or invalid "
		    "UTF-8");

	if ((db = thread_db(s)) == NULL)
		return reply_error(c, rq, 503, "%s: database unavailable",
		    s->label);
	if (rq->route == WEBQ_ROUTE_METRICS && !s->cfg.metrics_need_token)
		return handle_metrics(s, c, rq, db);
	if ((status = authenticate(s, c, db, &tok, &body)) != 0) {
		r = reply_json(c, rq, status, &body);
		strbuf_release(&body);
		return r;
	}
	switch (rq->route) {
	case WEBQ_ROUTE_METRICS:
		r = handle_metrics(s, c, rq, db);
		goto done;
	case WEBQ_ROUTE_CHECK:
		r = handle_check(s, c, rq, &q, &tok);
		goto done;
	default:
		break;
	}
	ar.db = db;
	ar.scope = tok.scope;
	ar.domain = arg;
	ar.q = &q;
	ar.now = time(NULL);
	ar.out = &body;
	switch (rq->route) {
	case WEBQ_ROUTE_REPORTS:
		status = api_reports(&ar);
		break;
	case WEBQ_ROUTE_SUMMARY:
		status = api_summary(&ar);
		break;
	case WEBQ_ROUTE_SOURCES:
		status = api_sources(&ar);
		break;
	case WEBQ_ROUTE_FAILURES:
		status = api_failures(&ar);
		break;
	case WEBQ_ROUTE_ALERTS:
		status = api_alerts(&ar);
		break;
	case WEBQ_ROUTE_DOMAINS:
		status = api_domains(&ar);
		break;
	default:
		status = api_error(&body, 404, "not found");
		break;
	}
	if (status >= 500)
		log_msg(LOG_ERR, "%s: %s", url, strbuf_cstr(&body));
	r = reply_json(c, rq, status, &body);
done:
	strbuf_release(&body);
	token_row_clear(&tok);
	return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;

	(void)version;
	(void)upload_data;
	if (rq == NULL) {
		if ((rq = mem_calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* No endpoint takes a body: count it and keep none of it.
		 * The 413 goes out once the body is read (a client still
		 * sending would not see an early answer); past
		 * SERVER_DROP_BODY the connection is dropped instead. */
		rq->body += *upload_size;
		*upload_size = 0;
		return rq->body > SERVER_DROP_BODY ? MHD_NO : MHD_YES;
	}
	return dispatch(s, c, rq, url, method);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct req *rq = *con_cls;
	struct timespec now;
	double d;
	size_t i;

	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (double)(now.tv_sec - rq->start.tv_sec) +
	    (double)(now.tv_nsec - rq->start.tv_nsec) / 1e9;
	pthread_mutex_lock(&s->m.lock);
	if (rq->status > 0 && rq->status < NCODES)
		s->m.by_code[rq->status]++;
	if ((size_t)rq->route < NROUTES)
		s->m.by_route[rq->route]++;
	for (i = 0; i < NBUCKETS; i++)
		if (d <= buckets[i]) {
			s->m.bucket[i]++;
			break;
		}
	s->m.count++;
	s->m.sum += d;
	pthread_mutex_unlock(&s->m.lock);
	mem_free(rq);
	*con_cls = NULL;
}

/* The path arrives still percent-encoded: query.c decodes it, with its
 * caps and checks. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void mhd_log(void *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct strbuf b = STRBUF_INIT;

	(void)cls;
	strbuf_vappendf(&b, fmt, ap);
	while (strbuf_len(&b) > 0 && b.data[strbuf_len(&b) - 1] == '\n')
		strbuf_truncate(&b, strbuf_len(&b) - 1);
	log_msg(LOG_NOTICE, "http: %s", strbuf_cstr(&b));
	strbuf_release(&b);
}

static bool
db_check(const char *uri, struct strbuf *err)
{
	struct dbq *db;
	struct dbq_rows *st;
	int64_t v = 0;

	if ((db = dbq_open(uri, false, db_timeout(uri, false), err)) ==
	    NULL)
		return false;
	dbq_deadline(db, SERVER_QUERY_MAX_MS);
	if ((st = dbq_query(db, "SELECT COALESCE(MAX(version), 0) FROM "
	    "schema_version", NULL, 0)) != NULL && dbq_next(st))
		v = dbq_int(st, 0);
	dbq_rows_free(st);
	if (v < 6)
		strbuf_appendf(err, "%s: schema version %lld: serve needs 6 "
		    "or later (run dmarcctl import or dmarcctl token once to "
		    "migrate it)", dbq_label(db), (long long)v);
	dbq_close(db);
	return v >= 6;
}

struct server *
server_start(const struct server_config *cfg, struct strbuf *err)
{
	struct server *s;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG;

	struct strbuf label = STRBUF_INIT;

	if (!db_check(cfg->db_uri, err))
		return NULL;
	store_uri_redact(&label, cfg->db_uri);
	if ((s = mem_calloc(1, sizeof(*s))) == NULL ||
	    (s->label = strbuf_steal(&label)) == NULL) {
		strbuf_release(&label);
		mem_free(s);
		strbuf_appends(err, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->started = time(NULL);
	if (cfg->web_root != NULL && realpath(cfg->web_root, s->root) != NULL)
		s->have_root = true;
	else
		log_msg(LOG_WARNING, "WebRoot %s: %s (the dashboard is not "
		    "served)", cfg->web_root != NULL ? cfg->web_root : "",
		    strerror(errno));
	pthread_mutex_init(&s->m.lock, NULL);
	pthread_mutex_init(&s->touch_lock, NULL);
	pthread_mutex_init(&s->check_lock, NULL);
	if (pthread_key_create(&s->dbkey, tdb_free) != 0) {
		strbuf_appends(err, "cannot create a thread key");
		mem_free(s->label);
		mem_free(s);
		return NULL;
	}
	if (cfg->tls_cert_pem != NULL)
		flags |= MHD_USE_TLS;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)cfg->per_ip_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->header_limit,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s,
	    cfg->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT :
	    MHD_OPTION_END, cfg->tls_cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		strbuf_appends(err, "cannot start the HTTP server (see the "
		    "messages above; TLS needs a readable certificate and "
		    "key)");
		pthread_key_delete(s->dbkey);
		mem_free(s->label);
		mem_free(s);
		return NULL;
	}
	return s;
}

void
server_stop(struct server *s)
{
	size_t i;

	if (s == NULL)
		return;
	MHD_stop_daemon(s->mhd);
	for (i = 0; i < SERVER_CHECK_CACHE; i++)
		mem_free(s->cache[i].body);
	dbq_close(s->touch_db);
	pthread_key_delete(s->dbkey);
	mem_free(s->label);
	mem_free(s);
}
