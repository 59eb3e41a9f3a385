/*
 * server.h - dmarcctl serve: the HTTP server (libmicrohttpd).
 *
 * A pool of ServeThreads threads, each with its own poll loop and its
 * own read-only database connection (store/dbq.h: SQLite or PostgreSQL); caps on connections (total and per
 * client address), on the time a connection may stay idle (slowloris)
 * and on the size of a request (headers and URI: 431/414 by
 * libmicrohttpd; body: 413).  /api/ needs a bearer token (tokens.h);
 * / and /static/ serve the dashboard's files from the web root.
 */
#ifndef DM_WEB_SERVER_H
#define DM_WEB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

#define SERVER_MAX_BODY		4096	/* request body bytes (none used) */
#define SERVER_DROP_BODY	(1u << 20)	/* past it: drop the connection */
#define SERVER_QUERY_MAX_MS	10000	/* SQL work per request */
#define SERVER_CHECK_CACHE	256	/* cached /api/v1/check answers */
#define SERVER_RATE_SLOTS	1024	/* tokens tracked by the limiter */
#define SERVER_MAX_FILE		(16u << 20)	/* largest static file */

/*
 * The domain checker, supplied by the caller (cli/cmd_serve.c): write
 * the check's JSON (or an error message) into out and return the HTTP
 * status (200, 400, 502, 503).  history: the readiness verdict may use
 * the stored aggregate reports (only for tokens that see every domain,
 * as they name source IPs).  Called one at a time.
 */
typedef int (*server_check_fn)(void *ctx, const char *domain, bool history,
	    struct strbuf *out);

struct server_config {
	int	 listen_fd;		/* bound and listening */
	unsigned threads;
	unsigned max_connections;
	unsigned per_ip_connections;
	unsigned timeout_s;		/* idle connection timeout */
	size_t	 header_limit;		/* bytes of memory per connection */
	const char *db_uri;		/* HistoryDatabase: SQLite or
					   PostgreSQL */
	const char *web_root;
	const char *chartjs_dir;	/* Debian's libjs-chart.js */
	const char *tls_cert_pem;	/* contents, or NULL: plain HTTP */
	const char *tls_key_pem;
	bool	 metrics_need_token;
	unsigned check_per_minute;	/* per token */
	unsigned check_ttl_s;
	server_check_fn check;
	void	*check_ctx;
};

struct server;

/*
 * Check the database (readable, schema with api_tokens), then start
 * serving on cfg->listen_fd.  NULL with a message in err on failure.
 * The strings of cfg must outlive the server.
 */
struct server *server_start(const struct server_config *cfg,
	    struct strbuf *err);
/* Stop accepting, finish the requests in flight, free.  NULL no-op. */
void	 server_stop(struct server *);

/*
 * The SQLite path of a HistoryDatabase URI ("PATH", "sqlite:PATH",
 * "sqlite://PATH") into out; -1 with a message for other schemes
 * (a PostgreSQL URI included: the caller checks dbq_uri_is_pgsql()
 * first where PostgreSQL is served).
 */
int	 server_sqlite_path(const char *uri, struct strbuf *out,
	    struct strbuf *err);

#endif
