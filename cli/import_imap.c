/*
 * import_imap.c - dmarcctl import --imap: the reports of a mailbox.
 *
 * libcurl speaks IMAP (RFC 9051, RFC 3501) over TLS, verifies the server
 * certificate (ImportImapCAFile or the system's CAs), logs in (SASL or
 * LOGIN, what the server offers), and keeps the connection across the
 * commands of a pass.  Per pass:
 *   CAPABILITY                 is MOVE (RFC 6851) there?
 *   UID SEARCH UNDELETED       every message still in the mailbox
 *   UID FETCH n (FLAGS)        was it \Seen before we read it?
 *   UID FETCH n BODY[]         (libcurl's ";UID=n" fetch)
 * then the message goes through the same pipeline as an .eml file
 * (import_fd()), and only once its outcome is definitive it leaves:
 *   stored, duplicate  -> ImportImapDoneFolder
 *   rejected           -> ImportImapRejectedFolder
 * with UID MOVE, or without MOVE: UID COPY, UID STORE +FLAGS (\Deleted),
 * UID EXPUNGE (RFC 4315; only that message is expunged).  A database
 * error leaves the message where it was, its \Seen flag as it was, and
 * the next run tries again.  Nothing is ever deleted before the report
 * is committed.
 *
 * libcurl fetches with BODY[], not BODY.PEEK[], so the server sets \Seen;
 * a message left in place gets its flag back.  libcurl has no IDLE
 * (RFC 2177), so --watch polls every ImportImapPollInterval.  The
 * password comes from a file of mode 0600 or stricter, never from the
 * command line or the URL.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#include "cli/import.h"
#include "common/strbuf.h"
#include "ingest/decompress.h"
#include "ingest/imap_resp.h"

#define IMAP_MAX_PASSWORD	1024		/* bytes in the password file */
#define IMAP_MAX_RESPONSE	(4u << 20)	/* untagged lines of a command */
#define IMAP_MAX_MESSAGE	(INGEST_MAX_INPUT + 1u) /* kept; ingest says
							   "too large" */
#define IMAP_MAX_FOLDER		200		/* bytes of a folder name */

struct imap {
	CURL	*curl;
	const char *display;		/* the URL as given */
	struct strbuf mailbox;		/* the URL, no trailing '/' */
	struct strbuf root;		/* scheme://authority/ */
	struct strbuf resp;		/* what the write callback got */
	size_t	 cap;			/* bytes kept in resp */
	char	 errbuf[CURL_ERROR_SIZE];
	char	*password;
	const char *done, *rejected;	/* folders */
	bool	 has_move, folders_made;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool
stop_requested(void)
{
	sigset_t p;

	if (stop)
		return true;
	if (sigpending(&p) == 0 &&
	    (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1))
		return true;
	return false;
}

static size_t
on_write(char *data, size_t size, size_t n, void *ctx)
{
	struct imap *c = ctx;
	size_t len = size * n, room;

	/* Past the cap: keep reading (the connection stays in step) but
	 * drop the bytes; the importer says the message is too large. */
	room = c->cap > strbuf_len(&c->resp) ? c->cap - strbuf_len(&c->resp)
	    : 0;
	strbuf_append(&c->resp, data, len < room ? len : room);
	return len;
}

/*
 * The password: the whole file minus a final line end.  The file must
 * not be readable or writable by group or others (0600, or 0400).
 */
static char *
password_read(const char *path)
{
	struct stat sb;
	char buf[IMAP_MAX_PASSWORD + 2];
	ssize_t r;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		cli_error("import", "password file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		cli_error("import", "password file %s: not a regular file",
		    path);
		close(fd);
		return NULL;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		cli_error("import", "password file %s: group or others may "
		    "read or write it (mode %04o): run chmod 600 %s", path,
		    (unsigned)(sb.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0) {
		cli_error("import", "password file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	len = (size_t)r;
	if (len > IMAP_MAX_PASSWORD) {
		cli_error("import", "password file %s: longer than %d bytes",
		    path, IMAP_MAX_PASSWORD);
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL ||
	    strlen(buf) != len) {
		cli_error("import", "password file %s: want one line with the "
		    "password", path);
		return NULL;
	}
	return strdup(buf);
}

/* A folder name we can put in a quoted string (RFC 9051 "quoted"),
 * printable ASCII only. */
static bool
folder_is_valid(const char *f)
{
	size_t i, n = strlen(f);

	if (n == 0 || n > IMAP_MAX_FOLDER)
		return false;
	for (i = 0; i < n; i++)
		if (f[i] < 0x20 || f[i] > 0x7e || f[i] == '"' || f[i] == '\\')
			return false;
	return true;
}

/*
 * Split url into the mailbox URL and the root (scheme://authority/).
 * Refuses a password in the URL and a URL without a user or mailbox.
 */
static int
url_split(struct imap *c, const char *url)
{
	const char *auth, *slash, *at, *colon;

	if (strncmp(url, "imaps://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "imap://", 7) == 0)
		auth = url + 7;
	else {
		cli_error("import", "%s: want imaps://USER@HOST[:PORT]/MAILBOX "
		    "(or imap:// with STARTTLS)", url);
		return -1;
	}
	slash = strchr(auth, '/');
	at = memchr(auth, '@', slash ? (size_t)(slash - auth) : strlen(auth));
	if (at == NULL || at == auth) {
		cli_error("import", "%s: no user name (USER@HOST; write an @ "
		    "in it as %%40)", url);
		return -1;
	}
	if ((colon = memchr(auth, ':', (size_t)(at - auth))) != NULL) {
		cli_error("import", "%s: a password in the URL is refused: put "
		    "it in a file of mode 0600 given by --password-file or "
		    "ImportImapPasswordFile", c->display);
		return -1;
	}
	if (slash == NULL || slash[1] == '\0' || strchr(slash, ';') != NULL ||
	    strchr(slash, '?') != NULL) {
		cli_error("import", "%s: want a mailbox after the host, e.g. "
		    "/INBOX (no ;options or ?search)", url);
		return -1;
	}
	strbuf_append(&c->root, url, (size_t)(slash - url) + 1);
	strbuf_appends(&c->mailbox, url);
	while (strbuf_len(&c->mailbox) > 0 &&
	    strbuf_cstr(&c->mailbox)[strbuf_len(&c->mailbox) - 1] == '/')
		strbuf_truncate(&c->mailbox, strbuf_len(&c->mailbox) - 1);
	return 0;
}

/* One request: url with command custom (NULL: libcurl's own, a fetch). */
static CURLcode
imap_do(struct imap *c, const char *url, const char *custom, size_t cap)
{
	strbuf_reset(&c->resp);
	c->cap = cap;
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, custom);
	return curl_easy_perform(c->curl);
}

static const char *
imap_why(const struct imap *c, CURLcode rc)
{
	return c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
}

/* A command on the selected mailbox; prints why it failed. */
static int imap_cmd(struct imap *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
imap_cmd(struct imap *c, const char *fmt, ...)
{
	struct strbuf cmd = STRBUF_INIT;
	CURLcode rc;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(&cmd, fmt, ap);
	va_end(ap);
	rc = imap_do(c, strbuf_cstr(&c->mailbox), strbuf_cstr(&cmd),
	    IMAP_MAX_RESPONSE);
	if (rc != CURLE_OK)
		cli_error("import", "%s: %s: %s", c->display, strbuf_cstr(&cmd),
		    imap_why(c, rc));
	strbuf_release(&cmd);
	return rc == CURLE_OK ? 0 : -1;
}

/* The exit status for a failed connection or login, after saying why. */
static int
imap_fail(struct imap *c, CURLcode rc, const char *what)
{
	cli_error("import", "%s: %s: %s", c->display, what, imap_why(c, rc));
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		cli_error("import", "%s: login refused: check the user name "
		    "and the password file", c->display);
		return EX_NOPERM;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return EX_PROTOCOL;
	default:
		return EX_UNAVAILABLE;
	}
}

/* Move message uid to folder: UID MOVE, or COPY + \Deleted + EXPUNGE. */
static int
imap_move(struct imap *c, unsigned long uid, const char *folder)
{
	if (c->has_move)
		return imap_cmd(c, "UID MOVE %lu \"%s\"", uid, folder);
	if (imap_cmd(c, "UID COPY %lu \"%s\"", uid, folder) != 0 ||
	    imap_cmd(c, "UID STORE %lu +FLAGS.SILENT (\\Deleted)", uid) != 0)
		return -1;
	/* RFC 4315 UID EXPUNGE removes this message only; a plain EXPUNGE
	 * would take every \Deleted message of the mailbox with it. */
	return imap_cmd(c, "UID EXPUNGE %lu", uid);
}

/* Was uid \Seen?  1 yes, 0 no, -1 unknown. */
static int
imap_seen(struct imap *c, unsigned long uid)
{
	if (imap_cmd(c, "UID FETCH %lu (FLAGS)", uid) != 0)
		return -1;
	return strcasestr(strbuf_cstr(&c->resp), "\\Seen") != NULL;
}

/* Fetch, import and file one message.  -1 when a move failed. */
static int
imap_one(struct imap *c, struct imp *m, unsigned long uid)
{
	struct strbuf url = STRBUF_INIT;
	enum import_outcome o;
	const char *to;
	CURLcode rc;
	int seen, fd = -1, ret = 0;

	seen = imap_seen(c, uid);
	strbuf_appendf(&url, "%s;UID=%lu", strbuf_cstr(&c->mailbox), uid);
	if ((rc = imap_do(c, strbuf_cstr(&url), NULL, IMAP_MAX_MESSAGE)) !=
	    CURLE_OK) {
		cli_error("import", "%s: fetch: %s", strbuf_cstr(&url),
		    imap_why(c, rc));
		ret = -1;
		goto out;
	}
	if ((fd = memfd_create("dmarcctl-imap", MFD_CLOEXEC)) < 0 ||
	    write(fd, strbuf_cstr(&c->resp), strbuf_len(&c->resp)) !=
	    (ssize_t)strbuf_len(&c->resp) || lseek(fd, 0, SEEK_SET) != 0) {
		cli_error("import", "%s: %s", strbuf_cstr(&url),
		    strerror(errno));
		ret = -1;
		goto out;
	}
	o = import_fd(m, fd, strbuf_cstr(&url));
	switch (o) {
	case IMPORT_STORED:
	case IMPORT_DUPLICATE:
		to = c->done;
		break;
	case IMPORT_REJECTED:
		to = c->rejected;
		break;
	case IMPORT_FAILED:
	default:
		/* Stays for the next run, as unread as it was. */
		if (seen == 0)
			imap_cmd(c, "UID STORE %lu -FLAGS.SILENT (\\Seen)",
			    uid);
		goto out;
	}
	if (imap_move(c, uid, to) != 0) {
		cli_error("import", "%s: not moved to %s; the next run finds "
		    "it again (a duplicate)", strbuf_cstr(&url), to);
		ret = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&url);
	return ret;
}

/*
 * Create folder unless LIST shows it.  A failed CREATE is not fatal here:
 * the move says why, and the message stays.
 */
static void
folder_ensure(struct imap *c, const char *folder)
{
	struct strbuf cmd = STRBUF_INIT;

	strbuf_appendf(&cmd, "LIST \"\" \"%s\"", folder);
	if (imap_do(c, strbuf_cstr(&c->root), strbuf_cstr(&cmd),
	    IMAP_MAX_RESPONSE) != CURLE_OK ||
	    strstr(strbuf_cstr(&c->resp), "* LIST ") == NULL) {
		strbuf_reset(&cmd);
		strbuf_appendf(&cmd, "CREATE \"%s\"", folder);
		imap_do(c, strbuf_cstr(&c->root), strbuf_cstr(&cmd),
		    IMAP_MAX_RESPONSE);
	}
	strbuf_release(&cmd);
}

/*
 * One pass over the mailbox.  EX_OK, EX_TEMPFAIL when a message could
 * not be fetched or moved, or the status of a failed connection.
 */
static int
imap_pass(struct imap *c, struct imp *m)
{
	unsigned long *uids = NULL;
	size_t n, i;
	CURLcode rc;
	int ret = EX_OK;

	if ((rc = imap_do(c, strbuf_cstr(&c->root), "CAPABILITY",
	    IMAP_MAX_RESPONSE)) != CURLE_OK)
		return imap_fail(c, rc, "connect");
	c->has_move = imap_resp_has_capability(strbuf_cstr(&c->resp),
	    strbuf_len(&c->resp), "MOVE");
	if (!c->folders_made) {
		folder_ensure(c, c->done);
		folder_ensure(c, c->rejected);
		c->folders_made = true;
	}
	if ((rc = imap_do(c, strbuf_cstr(&c->mailbox), "UID SEARCH UNDELETED",
	    IMAP_MAX_RESPONSE)) != CURLE_OK)
		return imap_fail(c, rc, "UID SEARCH");
	n = imap_resp_search(strbuf_cstr(&c->resp), strbuf_len(&c->resp),
	    &uids);
	for (i = 0; i < n && !stop_requested(); i++)
		if (imap_one(c, m, uids[i]) != 0)
			ret = EX_TEMPFAIL;
	free(uids);
	fflush(stdout);
	return ret;
}

static void
imap_close(struct imap *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	strbuf_release(&c->mailbox);
	strbuf_release(&c->root);
	strbuf_release(&c->resp);
}

/* Wait up to sec seconds; true when SIGTERM or SIGINT came. */
static bool
wait_signal(long sec, const sigset_t *unblocked)
{
	struct timespec ts = { .tv_sec = sec, .tv_nsec = 0 };

	if (stop_requested())
		return true;
	ppoll(NULL, 0, &ts, unblocked);
	return stop != 0;
}

int
import_imap(struct cli_ctx *ctx, struct imp *m,
    const struct import_imap_opts *o, const char *db)
{
	struct imap c;
	struct sigaction sa;
	sigset_t block, old;
	const char *pwfile, *cafile;
	long interval;
	int rc;

	memset(&c, 0, sizeof(c));
	strbuf_init(&c.mailbox);
	strbuf_init(&c.root);
	strbuf_init(&c.resp);
	c.display = o->url;
	rc = EX_USAGE;
	if (url_split(&c, o->url) != 0)
		goto out;
	rc = EX_CONFIG;
	c.done = conf_str(ctx->conf, "ImportImapDoneFolder");
	c.rejected = conf_str(ctx->conf, "ImportImapRejectedFolder");
	if (c.done == NULL || !folder_is_valid(c.done) ||
	    c.rejected == NULL || !folder_is_valid(c.rejected)) {
		cli_error("import", "ImportImapDoneFolder and "
		    "ImportImapRejectedFolder: want printable ASCII names "
		    "without \" or \\");
		goto out;
	}
	pwfile = o->password_file ? o->password_file :
	    conf_str(ctx->conf, "ImportImapPasswordFile");
	if (pwfile == NULL || *pwfile == '\0') {
		cli_error("import", "%s: no password: give --password-file "
		    "FILE or set ImportImapPasswordFile", o->url);
		goto out;
	}
	if ((c.password = password_read(pwfile)) == NULL)
		goto out;
	cafile = o->cafile ? o->cafile : conf_str(ctx->conf,
	    "ImportImapCAFile");
	interval = o->interval > 0 ? o->interval :
	    conf_int(ctx->conf, "ImportImapPollInterval") / 1000;

	rc = EX_SOFTWARE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c.curl = curl_easy_init()) == NULL) {
		cli_error("import", "%s: cannot start libcurl", o->url);
		goto out;
	}
	curl_easy_setopt(c.curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(c.curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(c.curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c.curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL && *cafile != '\0')
		curl_easy_setopt(c.curl, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(c.curl, CURLOPT_PASSWORD, c.password);
	curl_easy_setopt(c.curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c.curl, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(c.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c.curl, CURLOPT_ERRORBUFFER, c.errbuf);
	curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c.curl, CURLOPT_WRITEDATA, &c);

	/* SIGTERM, SIGINT: blocked while a pass runs (a message is
	 * finished, never cut), taken while waiting. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		time_t since = time(NULL);

		rc = imap_pass(&c, m);
		alerts_after_import(ctx, db, since);
		if (!o->watch || rc == EX_NOPERM || rc == EX_CONFIG)
			break;
		if (wait_signal(interval, &old)) {
			rc = EX_OK;
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	imap_close(&c);
	return rc;
}
