/*
 * main.c - dmarcd: start-up, privileges, signals and shutdown.
 *
 *   dmarcd [-c FILE] [-f] [-n] [-V]
 *
 * Start-up order, after Postfix and OpenSMTPD: load and check the whole
 * configuration, bind the milter socket, drop to UserID, then open the
 * history and start serving.  fatal() is allowed here and nowhere else.
 * SIGUSR1 reloads the configuration (a bad file is logged and the old one
 * kept); SIGTERM (handled by libmilter) stops, and the history is flushed
 * before exit.  libmilter treats SIGHUP as stop, so it is not a reload.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/confkeys.h"
#include "common/log.h"
#include "common/mem.h"
#include "dns/resolver.h"
#include "history.h"
#include "milter.h"

static const char *config_file = DMARCD_CONF_DEFAULT;
static struct milter_fixed fixed;	/* points into boot's strings */
static struct milter_settings *boot;

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcd [-c FILE] [-f] [-n] [-V]\n");
	exit(EX_USAGE);
}

/*
 * Refuse a file or directory others may write (STYLE.md: least privilege;
 * a writable configuration or history is a way into the daemon and, for
 * the configuration, to root): writable by everyone, or writable by a
 * group other than root's and the one dmarcd runs as.  A world-writable
 * directory with the sticky bit (/tmp) is allowed: others cannot replace
 * what is in it.  what names the key, or "configuration file".
 */
static void
check_not_writable(const char *what, const char *path, bool missing_ok)
{
	struct stat st;
	struct group *gr;

	if (stat(path, &st) != 0) {
		if (missing_ok && errno == ENOENT)
			return;
		fatal(EX_NOINPUT, "%s %s: %s", what, path, strerror(errno));
	}
	if ((st.st_mode & S_IWOTH) &&
	    !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)))
		fatal(EX_CONFIG, "%s %s: writable by everyone; refusing to "
		    "use it (chmod o-w %s)", what, path, path);
	if ((st.st_mode & S_IWGRP) && st.st_gid != 0 &&
	    st.st_gid != getegid()) {
		gr = getgrgid(st.st_gid);
		fatal(EX_CONFIG, "%s %s: writable by group %s; refusing to use "
		    "it (chmod g-w %s)", what, path, gr != NULL ? gr->gr_name :
		    "(unknown)", path);
	}
}

static void
check_conf_file(const char *path)
{
	check_not_writable("configuration file", path, false);
}

/*
 * Once running as UserID: the history's file and its directory - the
 * SQLite database, or with PostgreSQL the spool.  Missing ones are left
 * to the store, which says why it cannot create them.
 */
static void
check_state_paths(void)
{
	const char *key = "HistoryDatabase", *p = fixed.history;
	char *dir, *slash;

	if (strncmp(p, "sqlite://", 9) == 0)
		p += 9;
	else if (strncmp(p, "sqlite:", 7) == 0)
		p += 7;
	else if (strstr(p, "://") != NULL) {
		key = "HistorySpool";
		if ((p = fixed.spool) == NULL)
			return;
	}
	check_not_writable(key, p, true);
	if ((dir = mem_strdup(p)) == NULL)
		fatal(EX_OSERR, "out of memory");
	if ((slash = strrchr(dir, '/')) == NULL)
		check_not_writable(key, ".", true);
	else {
		if (slash == dir)
			slash[1] = '\0';	/* "/file": the root */
		else
			*slash = '\0';
		check_not_writable(key, dir, true);
	}
	mem_free(dir);
}

static void
log_warnings(const struct milter_settings *s)
{
	const char *w = conf_warnings(s->conf), *nl;

	while (*w != '\0' && (nl = strchr(w, '\n')) != NULL) {
		log_msg(LOG_WARNING, "%.*s", (int)(nl - w), w);
		w = nl + 1;
	}
}

/* "user[:group]" to ids; fatal on an unknown name. */
static void
lookup_user(const char *spec, uid_t *uid, gid_t *gid, char **name)
{
	char *user = mem_strdup(spec), *grp;
	struct passwd *pw;
	struct group *gr;

	if (user == NULL)
		fatal(EX_OSERR, "out of memory");
	if ((grp = strchr(user, ':')) != NULL)
		*grp++ = '\0';
	if ((pw = getpwnam(user)) == NULL)
		fatal(EX_CONFIG, "%s: UserID %s: no such user", config_file,
		    user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (grp != NULL) {
		if ((gr = getgrnam(grp)) == NULL)
			fatal(EX_CONFIG, "%s: UserID %s: no such group",
			    config_file, grp);
		*gid = gr->gr_gid;
	}
	*name = user;
}

static void
drop_privileges(void)
{
	uid_t uid;
	gid_t gid;
	char *name;

	if (fixed.user == NULL) {
		if (geteuid() == 0 && !fixed.run_as_root)
			fatal(EX_CONFIG, "%s: refusing to run as root: set "
			    "UserID (e.g. UserID dmarcd) or RunAsRoot yes",
			    config_file);
		return;
	}
	lookup_user(fixed.user, &uid, &gid, &name);
	if (geteuid() != 0) {
		if (geteuid() != uid)
			fatal(EX_NOPERM, "%s: UserID %s: not root, cannot "
			    "switch user", config_file, fixed.user);
		mem_free(name);
		return;
	}
	if (initgroups(name, gid) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0)
		fatal(EX_OSERR, "cannot switch to UserID %s: %s", fixed.user,
		    strerror(errno));
	if (setuid(0) == 0)
		fatal(EX_SOFTWARE, "privileges could be regained after "
		    "switching to %s", fixed.user);
	mem_free(name);
}

/*
 * TCP_NODELAY on the milter listener.  libmilter writes a header change
 * and the final reply as separate small packets; with Nagle on, the
 * second waits for the MTA's delayed ACK (~40 ms a message - the stall
 * issue 8 measured in OpenDKIM and OpenDMARC).  libmilter does not expose
 * its sockets, but on Linux an accepted socket inherits TCP_NODELAY from
 * the listener, and right after smfi_opensocket() the listener is the
 * only listening socket we have, so it is found by SO_ACCEPTCONN.
 */
static void
socket_nodelay(void)
{
	int fd, on = 1, listening, family;
	socklen_t len;

	for (fd = 3; fd < 1024; fd++) {
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		    &len) != 0 || !listening)
			continue;
		len = sizeof(family);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0 ||
		    (family != AF_INET && family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) != 0)
			log_msg(LOG_WARNING, "Socket %s: cannot set "
			    "TCP_NODELAY: %s", fixed.socket, strerror(errno));
	}
}

/* The path of a unix socket, or NULL for inet. */
static const char *
socket_path(void)
{
	if (strncmp(fixed.socket, "unix:", 5) == 0)
		return fixed.socket + 5;
	if (strncmp(fixed.socket, "local:", 6) == 0)
		return fixed.socket + 6;
	return NULL;
}

static mode_t
socket_mode(void)
{
	unsigned long mode;
	char *end;

	mode = strtoul(fixed.socket_mode, &end, 8);
	if (*fixed.socket_mode == '\0' || *end != '\0' || mode > 0777)
		fatal(EX_CONFIG, "%s: SocketMode %s: expected octal, e.g. 0660",
		    config_file, fixed.socket_mode);
	if (mode & S_IWOTH)
		log_msg(LOG_WARNING, "%s: SocketMode %s: every local user may "
		    "talk to the milter", config_file, fixed.socket_mode);
	return (mode_t)mode;
}

/*
 * Bind the listener.  A unix socket is created under a umask that leaves
 * at most SocketMode, so it is never open wider, not even for a moment;
 * then it gets exactly SocketMode and SocketOwner.
 */
static void
socket_open(void)
{
	const char *path = socket_path();
	mode_t mode = 0, old = 0;
	char *owner;
	uid_t uid;
	gid_t gid;

	if (path != NULL) {
		mode = socket_mode();
		old = umask(~mode & 0777);
	}
	if (smfi_opensocket(true) != MI_SUCCESS)
		fatal(EX_UNAVAILABLE, "%s: Socket %s: cannot listen (in use, "
		    "or no permission)", config_file, fixed.socket);
	if (path == NULL)
		return;
	umask(old);
	if (chmod(path, mode) != 0)
		fatal(EX_OSERR, "%s: chmod: %s", path, strerror(errno));
	if (fixed.socket_owner != NULL) {
		lookup_user(fixed.socket_owner, &uid, &gid, &owner);
		if (chown(path, uid, gid) != 0)
			fatal(EX_OSERR, "%s: chown %s: %s", path,
			    fixed.socket_owner, strerror(errno));
		mem_free(owner);
	}
}

static void
write_pidfile(void)
{
	FILE *f;

	if (fixed.pidfile == NULL)
		return;
	if ((f = fopen(fixed.pidfile, "w")) == NULL)
		fatal(EX_CANTCREAT, "%s: PidFile: %s", fixed.pidfile,
		    strerror(errno));
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* Lines of err joined with "; " for one log line. */
static void
one_line(struct strbuf *err)
{
	size_t i, n = strbuf_len(err);

	while (n > 0 && err->data[n - 1] == '\n')
		n--;
	strbuf_truncate(err, n);
	for (i = 0; i < n; i++)
		if (err->data[i] == '\n')
			err->data[i] = ';';
}

/* SIGUSR1: reload.  A bad file changes nothing. */
static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	struct milter_settings *s;
	struct milter_fixed nf;
	struct strbuf err = STRBUF_INIT;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0 || sig != SIGUSR1)
			continue;
		strbuf_reset(&err);
		if ((s = settings_load(config_file, &err)) == NULL) {
			one_line(&err);
			log_msg(LOG_ERR, "reload of %s failed; still running "
			    "with the previous configuration: %s", config_file,
			    strbuf_cstr(&err));
			continue;
		}
		log_warnings(s);
		settings_fixed(s, &nf);
		strbuf_reset(&err);
		if (settings_fixed_differ(&fixed, &nf, &err))
			log_msg(LOG_WARNING, "reload of %s: %s changed; "
			    "restart dmarcd to apply", config_file,
			    strbuf_cstr(&err));
		log_set_level(s->log_level);
		milter_settings_set(s);
		log_msg(LOG_NOTICE, "reloaded %s", config_file);
	}
	return NULL;
}

static struct dns_resolver *
resolver_new(void)
{
	struct dns_config cfg;
	struct dns_resolver *res;
	enum dns_status st;
	size_t i;

	dns_config_init(&cfg);
	cfg.timeout_ms = (unsigned)fixed.dns_timeout;
	cfg.retries = (unsigned)fixed.dns_retries;
	for (i = 0; i < fixed.nnameservers; i++)
		if (dns_config_add_nameserver(&cfg, fixed.nameservers[i])
		    != DNS_OK)
			fatal(EX_CONFIG, "%s: Nameservers: bad address %s",
			    config_file, fixed.nameservers[i]);
	if (fixed.nnameservers == 0 &&
	    dns_config_load_resolv_conf(&cfg, NULL) != DNS_OK)
		fatal(EX_CONFIG, "/etc/resolv.conf: cannot read it; set "
		    "Nameservers in %s", config_file);
	if ((res = dns_resolver_new(&cfg, &st)) == NULL)
		fatal(EX_SOFTWARE, "resolver: %s", dns_strerror(st));
	return res;
}

int
main(int argc, char **argv)
{
	struct milter_settings *s;
	struct verify_config vc;
	struct dns_resolver *res;
	struct strbuf err = STRBUF_INIT, label = STRBUF_INIT;
	enum verify_status vs;
	enum store_status ss;
	struct store_options so;
	static sigset_t set;
	sigset_t stop;
	pthread_t th;
	uint64_t in_line, pooled;
	bool foreground = false, check = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
		switch (ch) {
		case 'c':
			config_file = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'V':
			printf("dmarcd %s\n", PACKAGE_VERSION);
			return EX_OK;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_open("dmarcd", false, 0);
	check_conf_file(config_file);
	if ((s = settings_load(config_file, &err)) == NULL) {
		fprintf(stderr, "dmarcd: configuration errors:\n%s",
		    strbuf_cstr(&err));
		return EX_CONFIG;
	}
	/* fixed points into s: keep s alive for the life of the process,
	 * whatever reloads replace it as the current settings. */
	settings_ref(s);
	boot = s;
	settings_fixed(s, &fixed);
	if (check) {
		fputs(conf_warnings(s->conf), stderr);
		printf("dmarcd: %s: configuration OK\n", config_file);
		settings_unref(s);
		settings_unref(boot);
		return EX_OK;
	}
	log_warnings(s);
	log_set_level(s->log_level);

	/*
	 * Block the signals before any thread starts (the history writer
	 * starts before smfi_main()), so every thread inherits the mask:
	 * SIGUSR1 then reaches only our signal thread, and SIGTERM, SIGHUP
	 * and SIGINT only libmilter's, which stops smfi_main() cleanly.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);

	if (smfi_register(milter_desc) != MI_SUCCESS)
		fatal(EX_SOFTWARE, "smfi_register failed");
	if (smfi_setconn((char *)fixed.socket) != MI_SUCCESS)
		fatal(EX_CONFIG, "%s: Socket %s: not a valid milter socket",
		    config_file, fixed.socket);
	socket_open();
	socket_nodelay();
	if (!foreground && daemon(0, 0) != 0)
		fatal(EX_OSERR, "cannot go to the background: %s",
		    strerror(errno));
	write_pidfile();
	drop_privileges();
	check_state_paths();
	if (fixed.use_syslog) {
		log_close();
		log_open("dmarcd", true, settings_facility(fixed.facility));
	}

	memset(&so, 0, sizeof(so));
	so.durability = fixed.history_full ? STORE_DURABILITY_FULL :
	    STORE_DURABILITY_RELAXED;
	so.spool_path = fixed.spool;
	milter_daemon.store = store_open_opts(fixed.history, &so, &ss, &err);
	/* A PostgreSQL URI may hold a password: never logged. */
	store_uri_redact(&label, fixed.history);
	if (milter_daemon.store == NULL)
		fatal(EX_CANTCREAT, "HistoryDatabase %s: %s",
		    strbuf_cstr(&label), strbuf_cstr(&err));
	strbuf_reset(&err);
	store_last_error(milter_daemon.store, &err);
	if (strbuf_len(&err) > 0)
		/* PostgreSQL down: the MTA keeps its milter; rows wait in
		 * the spool.  err names the database by its redacted label. */
		log_msg(LOG_WARNING, "HistoryDatabase %s; starting "
		    "anyway, records go to HistorySpool %s until it is back",
		    strbuf_cstr(&err), fixed.spool);
	milter_daemon.store_wait = fixed.history_full;
	milter_daemon.reply_all = socket_path() == NULL;
	res = resolver_new();
	milter_daemon.resolver = res;
	verify_config_init(&vc);
	vc.policy = s->policy;
	if ((milter_daemon.engine = verify_engine_new(res, &vc, &vs)) == NULL)
		fatal(EX_SOFTWARE, "cannot start the verifier: %s",
		    verify_strerror(vs));
	milter_settings_set(s);
	if (pthread_create(&th, NULL, signal_thread, &set) != 0)
		fatal(EX_OSERR, "cannot start the signal thread");
	pthread_detach(th);

	log_msg(LOG_NOTICE, "dmarcd %s listening on %s, history %s (%s)",
	    PACKAGE_VERSION, fixed.socket, strbuf_cstr(&label),
	    fixed.history_full ? "full" : "relaxed");
	rc = smfi_main();

	/* Stopped (SIGTERM): every verdict in the queue reaches the disk. */
	(void)store_flush(milter_daemon.store);
	history_log_stats(milter_daemon.store, "at stop");
	verify_engine_counts(milter_daemon.engine, &in_line, &pooled);
	log_msg(LOG_NOTICE, "lookups at stop: %" PRIu64 " SPF and policy "
	    "checks answered from the DNS cache in line, %" PRIu64 " on the "
	    "lookup pool", in_line, pooled);
	if ((ss = store_close(milter_daemon.store)) != STORE_OK)
		log_msg(LOG_ERR, "history: closing: %s", store_strerror(ss));
	log_msg(LOG_NOTICE, "dmarcd stopped; history flushed");
	if (fixed.pidfile != NULL)
		unlink(fixed.pidfile);
	settings_unref(boot);
	strbuf_release(&label);
	strbuf_release(&err);
	return rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}
