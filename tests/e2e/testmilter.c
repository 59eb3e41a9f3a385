/*
 * testmilter - a scriptable milter for testing the e2e harness itself.
 *
 * It records every callback, with the macros the MTA sent, one line each
 * in a log file, and acts on the message as its "X-Test-Action" header
 * asks: reject (550 5.7.1), tempfail (451 4.7.1), quarantine (the MTA's
 * hold queue), discard, or accept (the default), which inserts
 * "X-Test-Milter: seen" at the top of the header.  This lets
 * tests/e2e/test_postfix_fixture.sh check what Postfix tells a milter
 * (XCLIENT address, {auth_authen}, i, j) and that each milter action is
 * observable through the harness, without dmarcd.
 *
 * It deliberately does no mail checking of any kind and asks for no
 * macros (smfi_setsymlist): it shows what the MTA sends by its own
 * configuration.
 *
 * Usage: testmilter -p SOCKET -l LOGFILE   (SOCKET: inet:PORT@127.0.0.1
 * or unix:/path, as libmilter spells it).  Runs until SIGTERM.
 */

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static FILE *log_fp;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The macros logged at every step, when the MTA sent them. */
static const char *const macros[] = {
	"j", "_", "i", "v", "{daemon_name}", "{daemon_addr}", "{client_addr}",
	"{client_name}", "{client_port}", "{auth_type}", "{auth_authen}",
	"{auth_author}", "{mail_addr}", "{rcpt_addr}", NULL
};

struct priv {
	char	action[32];
};

static void logline(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
logline(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	va_start(ap, fmt);
	vfprintf(log_fp, fmt, ap);
	va_end(ap);
	fputc('\n', log_fp);
	fflush(log_fp);
	pthread_mutex_unlock(&log_lock);
}

/* One line: "STEP name=value name=value ...", control characters escaped. */
static void
log_step(SMFICTX *ctx, const char *step, const char *extra)
{
	char buf[2048];
	size_t n;
	int i;

	n = (size_t)snprintf(buf, sizeof(buf), "%s", step);
	if (extra != NULL && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s", extra);
	for (i = 0; macros[i] != NULL && n < sizeof(buf); i++) {
		const char *v = smfi_getsymval(ctx, (char *)macros[i]);

		if (v != NULL)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    " %s=%s", macros[i], v);
	}
	for (n = 0; buf[n] != '\0'; n++)
		if ((unsigned char)buf[n] < 0x20)
			buf[n] = '?';
	logline("%s", buf);
}

static struct priv *
priv_get(SMFICTX *ctx)
{
	struct priv *p = smfi_getpriv(ctx);

	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return NULL;
		smfi_setpriv(ctx, p);
	}
	return p;
}

static sfsistat
tm_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	char extra[512];

	(void)sa;
	priv_get(ctx);
	snprintf(extra, sizeof(extra), "host=%s", host != NULL ? host : "-");
	log_step(ctx, "connect", extra);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_helo(SMFICTX *ctx, char *helo)
{
	char extra[512];

	snprintf(extra, sizeof(extra), "helo=%s", helo);
	log_step(ctx, "helo", extra);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_envfrom(SMFICTX *ctx, char **argv)
{
	char extra[512];
	struct priv *p = priv_get(ctx);

	if (p != NULL)
		p->action[0] = '\0';
	snprintf(extra, sizeof(extra), "from=%s", argv[0]);
	log_step(ctx, "envfrom", extra);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_envrcpt(SMFICTX *ctx, char **argv)
{
	char extra[512];

	snprintf(extra, sizeof(extra), "rcpt=%s", argv[0]);
	log_step(ctx, "envrcpt", extra);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_header(SMFICTX *ctx, char *name, char *value)
{
	struct priv *p = priv_get(ctx);

	if (p != NULL && strcasecmp(name, "X-Test-Action") == 0) {
		while (*value == ' ' || *value == '\t')
			value++;
		snprintf(p->action, sizeof(p->action), "%s", value);
	}
	logline("header %s:%s", name, value);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_eoh(SMFICTX *ctx)
{
	log_step(ctx, "eoh", NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	char extra[64];

	(void)chunk;
	snprintf(extra, sizeof(extra), "len=%zu", len);
	log_step(ctx, "body", extra);
	return SMFIS_CONTINUE;
}

/* libmilter takes char *, and -Wwrite-strings makes literals const. */
static char c550[] = "550", c451[] = "451", x571[] = "5.7.1", x471[] = "4.7.1";
static char rej_text[] = "testmilter rejects this message";
static char tmp_text[] = "testmilter tempfails this message";
static char q_reason[] = "testmilter quarantine";
static char h_name[] = "X-Test-Milter", h_value[] = "seen";

static sfsistat
tm_eom(SMFICTX *ctx)
{
	struct priv *p = priv_get(ctx);
	const char *a = p != NULL && p->action[0] != '\0' ? p->action : "accept";
	char extra[64];

	snprintf(extra, sizeof(extra), "action=%s", a);
	log_step(ctx, "eom", extra);
	if (strcmp(a, "reject") == 0) {
		smfi_setreply(ctx, c550, x571, rej_text);
		return SMFIS_REJECT;
	}
	if (strcmp(a, "tempfail") == 0) {
		smfi_setreply(ctx, c451, x471, tmp_text);
		return SMFIS_TEMPFAIL;
	}
	if (strcmp(a, "discard") == 0)
		return SMFIS_DISCARD;
	if (strcmp(a, "quarantine") == 0)
		smfi_quarantine(ctx, q_reason);
	smfi_insheader(ctx, 0, h_name, h_value);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_abort(SMFICTX *ctx)
{
	log_step(ctx, "abort", NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	logline("close");
	return SMFIS_CONTINUE;
}

static char name_testmilter[] = "testmilter";

static struct smfiDesc desc = {
	name_testmilter, SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_QUARANTINE,
	tm_connect, tm_helo, tm_envfrom, tm_envrcpt, tm_header, tm_eoh,
	tm_body, tm_eom, tm_abort, tm_close, NULL, NULL, NULL
};

int
main(int argc, char *argv[])
{
	const char *sock = NULL, *logpath = NULL;
	int c;

	while ((c = getopt(argc, argv, "l:p:")) != -1) {
		switch (c) {
		case 'l':
			logpath = optarg;
			break;
		case 'p':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL || logpath == NULL)
		goto usage;
	if ((log_fp = fopen(logpath, "a")) == NULL) {
		fprintf(stderr, "testmilter: %s: %s\n", logpath, strerror(errno));
		return 1;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "testmilter: cannot use socket %s\n", sock);
		return 1;
	}
	if (smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "testmilter: cannot open socket %s\n", sock);
		return 1;
	}
	logline("ready %s", sock);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: testmilter -p SOCKET -l LOGFILE\n");
	return 64;
}
