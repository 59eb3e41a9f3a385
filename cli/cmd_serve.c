/*
 * cmd_serve.c - `dmarcctl serve`: the HTTP API and the dashboard
 * (web/server.h), as its own long-running, low-privilege process.
 *
 * Order of start-up (STYLE.md "Shape"): load the configuration, bind
 * the listening socket, read the TLS files, open the public suffix list
 * and the resolver for /api/v1/check, then drop to ServeUserID (or
 * UserID) before the first request is read.  Runs in the foreground
 * until SIGTERM or SIGINT; logs to standard error (the journal, under
 * systemd).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "check_online.h"
#include "cli.h"
#include "common/log.h"
#include "common/mem.h"
#include "store/store.h"
#include "web/server.h"
#include "store/dbq.h"

#define PEM_MAX		(256 * 1024)

static void
usage(FILE *f)
{
	fprintf(f, "usage: dmarcctl serve [--listen ADDR:PORT] [--database "
	    "URI] [--web-root DIR]\n"
	    "                      [--threads N] [--nameserver IP[:PORT]]\n");
}

/* Bind and listen on spec ("ADDR:PORT", "[V6]:PORT"); -1 after printing. */
static int
listen_on(const char *spec, const char *what)
{
	struct addrinfo hints, *ai = NULL;
	char host[128];
	const char *port, *h = spec;
	size_t n;
	int fd = -1, one = 1, e;

	if (*h == '[') {
		const char *close = strchr(h, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		n = (size_t)(close - h - 1);
		h++;
		port = close + 2;
	} else {
		if ((port = strrchr(h, ':')) == NULL)
			goto bad;
		n = (size_t)(port - h);
		port++;
	}
	if (n == 0 || n >= sizeof(host) || *port == '\0')
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0) {
		cli_error("serve", "%s %s: %s", what, spec, gai_strerror(e));
		return -1;
	}
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0) {
		cli_error("serve", "%s %s: %s", what, spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
bad:
	cli_error("serve", "%s %s: expected ADDRESS:PORT or [IPv6]:PORT",
	    what, spec);
	return -1;
}

/* The whole file (a PEM) as a string; NULL after printing why. */
static char *
read_pem(const char *path, const char *key)
{
	struct strbuf b = STRBUF_INIT;
	char buf[4096];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_error("serve", "%s %s: %s", key, path, strerror(errno));
		return NULL;
	}
	strbuf_set_limit(&b, PEM_MAX);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append(&b, buf, (size_t)r);
	close(fd);
	if (r < 0 || strbuf_failed(&b) || strbuf_len(&b) == 0) {
		cli_error("serve", "%s %s: %s", key, path, r < 0 ?
		    strerror(errno) : strbuf_len(&b) == 0 ? "empty file" :
		    "larger than 256 KB");
		strbuf_release(&b);
		return NULL;
	}
	return strbuf_steal(&b);
}

/* Switch to user[:group] when root; as dmarcd does (milter/main.c). */
static int
drop_privileges(const struct cli_ctx *ctx)
{
	const char *spec = conf_str(ctx->conf, "ServeUserID"), *key =
	    "ServeUserID";
	char *user = NULL, *grp;
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;
	int rc = EX_OK;

	if (spec == NULL) {
		spec = conf_str(ctx->conf, "UserID");
		key = "UserID";
	}
	if (spec == NULL) {
		if (geteuid() == 0 && !conf_bool(ctx->conf, "RunAsRoot")) {
			cli_error("serve", "%s: refusing to run as root: set "
			    "ServeUserID (e.g. ServeUserID dmarcd) or "
			    "RunAsRoot yes", ctx->conf_path);
			return EX_CONFIG;
		}
		return EX_OK;
	}
	if ((user = mem_strdup(spec)) == NULL)
		return EX_OSERR;
	if ((grp = strchr(user, ':')) != NULL)
		*grp++ = '\0';
	if ((pw = getpwnam(user)) == NULL) {
		cli_error("serve", "%s: %s %s: no such user", ctx->conf_path,
		    key, user);
		rc = EX_CONFIG;
		goto done;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (grp != NULL) {
		if ((gr = getgrnam(grp)) == NULL) {
			cli_error("serve", "%s: %s %s: no such group",
			    ctx->conf_path, key, grp);
			rc = EX_CONFIG;
			goto done;
		}
		gid = gr->gr_gid;
	}
	if (geteuid() != 0) {
		if (geteuid() != uid) {
			cli_error("serve", "%s: %s %s: not root, cannot switch "
			    "user", ctx->conf_path, key, spec);
			rc = EX_NOPERM;
		}
		goto done;
	}
	if (initgroups(user, gid) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0) {
		cli_error("serve", "cannot switch to %s %s: %s", key, spec,
		    strerror(errno));
		rc = EX_OSERR;
		goto done;
	}
	if (setuid(0) == 0) {
		cli_error("serve", "privileges could be regained after "
		    "switching to %s", spec);
		rc = EX_SOFTWARE;
	}
done:
	mem_free(user);
	return rc;
}

struct serve_checker {
	struct cli_discovery *d;
	const char *database;		/* HistoryDatabase URI */
};

/* /api/v1/check: the JSON of `dmarcctl check --json` (cli/check_online.c),
 * with the report history of the served database when history. */
static int
serve_check(void *ctx, const char *domain, bool history, struct strbuf *out)
{
	struct serve_checker *sc = ctx;
	int rc = check_online_json(sc->d, domain, history ? sc->database :
	    NULL, CHECK_REPORT_DAYS, out);

	if (rc == EX_DATAERR)
		return 400;
	if (strbuf_len(out) == 0 || strbuf_cstr(out)[0] != '{')
		return rc == EX_TEMPFAIL ? 502 : 503;
	return 200;
}

int
cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "database", required_argument, NULL, 'd' },
		{ "web-root", required_argument, NULL, 'w' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		CLI_DISCOVERY_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct strbuf err = STRBUF_INIT, dbpath = STRBUF_INIT;
	struct strbuf label = STRBUF_INIT;
	struct server_config cfg;
	struct cli_discovery d;
	struct serve_checker sc;
	struct server *srv = NULL;
	const char *listen_spec, *uri = NULL, *cert, *key;
	char *cert_pem = NULL, *key_pem = NULL, *end;
	bool disc_open = false;
	sigset_t set;
	long threads;
	int ch, rc = EX_OK, sig, r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = -1;
	cli_discovery_init(&d, ctx);
	listen_spec = conf_str(ctx->conf, "ServeListen");
	cfg.web_root = conf_str(ctx->conf, "WebRoot");
	threads = conf_int(ctx->conf, "ServeThreads");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((r = cli_discovery_option(&d, "serve", ch, optarg)) == 0)
			continue;
		if (r < 0)
			return EX_USAGE;
		switch (ch) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'd':
			uri = optarg;
			break;
		case 'w':
			cfg.web_root = optarg;
			break;
		case 't':
			threads = strtol(optarg, &end, 10);
			if (*end != '\0' || threads < 1 || threads > 64) {
				cli_error("serve", "--threads %s: expected 1 "
				    "to 64", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (uri == NULL)
		uri = conf_str(ctx->conf, "HistoryDatabase");
	/* SQLite or PostgreSQL (store/dbq.h). */
	if (uri == NULL || (!dbq_uri_is_pgsql(uri) &&
	    server_sqlite_path(uri, &dbpath, &err) != 0)) {
		cli_error("serve", "%s", uri == NULL ? "no HistoryDatabase in "
		    "the configuration and no --database" : strbuf_cstr(&err));
		rc = EX_CONFIG;
		goto done;
	}
	cert = conf_str(ctx->conf, "ServeTLSCert");
	key = conf_str(ctx->conf, "ServeTLSKey");
	if ((cert == NULL) != (key == NULL)) {
		cli_error("serve", "%s: ServeTLSCert and ServeTLSKey go "
		    "together", ctx->conf_path);
		rc = EX_CONFIG;
		goto done;
	}
	if (cert != NULL && ((cert_pem = read_pem(cert, "ServeTLSCert")) ==
	    NULL || (key_pem = read_pem(key, "ServeTLSKey")) == NULL)) {
		rc = EX_NOINPUT;
		goto done;
	}
	if ((cfg.listen_fd = listen_on(listen_spec, "ServeListen")) < 0) {
		rc = EX_UNAVAILABLE;
		goto done;
	}
	disc_open = true;
	if ((rc = cli_discovery_open(&d, ctx, "serve", true)) != EX_OK)
		goto done;
	if ((rc = drop_privileges(ctx)) != EX_OK)
		goto done;

	cfg.threads = (unsigned)threads;
	cfg.max_connections = (unsigned)conf_int(ctx->conf,
	    "ServeMaxConnections");
	cfg.per_ip_connections = (unsigned)conf_int(ctx->conf,
	    "ServeMaxConnectionsPerIP");
	cfg.timeout_s = (unsigned)((conf_int(ctx->conf, "ServeTimeout") + 999)
	    / 1000);
	cfg.header_limit = (size_t)conf_int(ctx->conf, "ServeMaxHeaderSize");
	cfg.db_uri = uri;
	store_uri_redact(&label, uri);
	cfg.chartjs_dir = conf_str(ctx->conf, "ChartJSDir");
	cfg.tls_cert_pem = cert_pem;
	cfg.tls_key_pem = key_pem;
	cfg.metrics_need_token = conf_bool(ctx->conf, "ServeMetricsToken");
	cfg.check_per_minute = (unsigned)conf_int(ctx->conf, "ServeCheckRate");
	cfg.check_ttl_s = (unsigned)(conf_int(ctx->conf,
	    "ServeCheckCacheTTL") / 1000);
	sc.d = &d;
	sc.database = uri;
	cfg.check = serve_check;
	cfg.check_ctx = &sc;

	/* The server's threads inherit this mask: the signals wait for
	 * sigwait() below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((srv = server_start(&cfg, &err)) == NULL) {
		cli_error("serve", "%s", strbuf_cstr(&err));
		rc = EX_UNAVAILABLE;
		goto done;
	}
	log_msg(LOG_NOTICE, "serve: listening on %s%s (database %s, web root "
	    "%s, %ld threads)", listen_spec, cert_pem != NULL ? " (TLS)" : "",
	    strbuf_cstr(&label), cfg.web_root != NULL ? cfg.web_root : "-", threads);
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig == SIGHUP);
	log_msg(LOG_NOTICE, "serve: stopping (signal %d)", sig);
	server_stop(srv);
	cfg.listen_fd = -1;		/* closed by libmicrohttpd */
done:
	if (cfg.listen_fd >= 0)
		close(cfg.listen_fd);
	if (disc_open)
		cli_discovery_close(&d);
	if (key_pem != NULL)
		explicit_bzero(key_pem, strlen(key_pem));
	free(cert_pem);
	free(key_pem);
	strbuf_release(&err);
	strbuf_release(&dbpath);
	strbuf_release(&label);
	return rc;
}
