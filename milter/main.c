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

/* Refuse a configuration file others may write (STYLE.md: least
 * privilege; a writable config is a way to root the daemon). */
static void
check_conf_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fatal(EX_NOINPUT, "%s: %s", path, strerror(errno));
	if (st.st_mode & S_IWOTH)
		fatal(EX_CONFIG, "%s: writable by everyone; refusing to use "
		    "it (chmod o-w %s)", path, path);
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

/* Permissions and owner of a unix socket, after it is bound. */
static void
socket_perms(void)
{
	const char *path = NULL;
	unsigned long mode;
	char *end, *owner;
	uid_t uid;
	gid_t gid;

	if (strncmp(fixed.socket, "unix:", 5) == 0)
		path = fixed.socket + 5;
	else if (strncmp(fixed.socket, "local:", 6) == 0)
		path = fixed.socket + 6;
	if (path == NULL)
		return;
	mode = strtoul(fixed.socket_mode, &end, 8);
	if (*end != '\0' || mode > 0777)
		fatal(EX_CONFIG, "%s: SocketMode %s: expected octal, e.g. 0660",
		    config_file, fixed.socket_mode);
	if (chmod(path, (mode_t)mode) != 0)
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
	if (smfi_opensocket(true) != MI_SUCCESS)
		fatal(EX_UNAVAILABLE, "%s: Socket %s: cannot listen (in use, "
		    "or no permission)", config_file, fixed.socket);
	socket_perms();
	socket_nodelay();
	if (!foreground && daemon(0, 0) != 0)
		fatal(EX_OSERR, "cannot go to the background: %s",
		    strerror(errno));
	write_pidfile();
	drop_privileges();
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
