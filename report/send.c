/*
 * send.c - the e-mail transport of aggregate reports: rua mailto:
 * parsing with RFC 7489's "!size", the external destination name and
 * TXT test (RFC 9990 section 4), the MIME message (RFC 9990 section 3.2
 * "Email", RFC 2045/2046), and the pipe to sendmail.
 *
 * The SMTP relay is cli/relay.c (libcurl; dmarcctl only).
 *
 * Left out: other URI schemes, the rua override of step 9
 * of RFC 9990 section 4 (the authorizing record's rua is not read), and
 * all DNS and bookkeeping (the caller's).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/chars.h"
#include "send.h"

/* RFC 5321 atext plus '.', for the local part (no quoted strings). */
static bool
is_local_char(int c)
{
	return isalnum(c) || (c != 0 && strchr(".!#$%&'*+/=?^_`{|}~-", c) !=
	    NULL);
}

int
send_uri_parse(const char *uri, size_t len, struct send_dest *d,
    const char **why)
{
	const char *p = uri, *end = uri + len, *bang, *at = NULL;
	size_t n = 0, i;
	uint64_t v = 0;
	int hi, lo;

	memset(d, 0, sizeof(*d));
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if ((size_t)(end - p) < 7 || strncasecmp(p, "mailto:", 7) != 0) {
		*why = "not a mailto: URI";
		return -1;
	}
	p += 7;
	/* RFC 7489 section 6.2: size = 1*DIGIT [ "k" / "m" / "g" / "t" ]. */
	if ((bang = memchr(p, '!', (size_t)(end - p))) != NULL) {
		const char *s = bang + 1;
		unsigned shift = 0;

		if (s == end || !isdigit((unsigned char)*s))
			goto badsize;
		for (; s < end && isdigit((unsigned char)*s); s++) {
			if (v > UINT64_MAX / 10 / ((uint64_t)1 << 40))
				goto badsize;
			v = v * 10 + (uint64_t)(*s - '0');
		}
		if (s < end) {
			switch (tolower((unsigned char)*s++)) {
			case 'k': shift = 10; break;
			case 'm': shift = 20; break;
			case 'g': shift = 30; break;
			case 't': shift = 40; break;
			default: goto badsize;
			}
		}
		if (s != end)
			goto badsize;
		d->max_size = v << shift;
		end = bang;
	}
	/* Percent-decode, and stop at a "?" (headers in the URI: ignored). */
	for (; p < end && *p != '?'; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			if (end - p < 3 || (hi = char_hex_value(p[1])) < 0 ||
			    (lo = char_hex_value(p[2])) < 0)
				goto badaddr;
			c = hi * 16 + lo;
			p += 2;
		}
		if (n + 1 >= sizeof(d->addr))
			goto badaddr;
		d->addr[n++] = (char)c;
	}
	d->addr[n] = '\0';
	at = strrchr(d->addr, '@');
	if (at == NULL || at == d->addr || at[1] == '\0' ||
	    strlen(at + 1) >= sizeof(d->host))
		goto badaddr;
	for (i = 0; d->addr + i < at; i++)
		if (!is_local_char((unsigned char)d->addr[i]))
			goto badaddr;
	for (i = 0; at[1 + i] != '\0'; i++) {
		int c = (unsigned char)at[1 + i];

		if (!isalnum(c) && c != '-' && c != '.')
			goto badaddr;
		d->host[i] = (char)tolower(c);
	}
	d->host[i] = '\0';
	if (d->host[0] == '.' || d->host[i - 1] == '.' ||
	    strstr(d->host, "..") != NULL)
		goto badaddr;
	return 0;
badsize:
	*why = "bad !size suffix";
	return -1;
badaddr:
	*why = "bad address";
	return -1;
}

int
send_verify_name(const char *policy_domain, const char *host,
    struct strbuf *out)
{
	size_t n = strlen(policy_domain) + strlen("._report._dmarc.") +
	    strlen(host);

	/* RFC 9990 section 4 step 4: over DNS limits, no authorization. */
	if (n > 253)
		return -1;
	strbuf_appendf(out, "%s._report._dmarc.%s", policy_domain, host);
	return 0;
}

bool
send_txt_authorizes(const char *txt, size_t len)
{
	const char *p = txt, *end = txt + len;

	/* The v tag first: "v" *WSP "=" *WSP "DMARC1" then ";" or end. */
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p++ != 'v')
		return false;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p++ != '=')
		return false;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < 6 || memcmp(p, "DMARC1", 6) != 0)
		return false;
	p += 6;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p == end || *p == ';';
}

static bool
header_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

static void
base64_lines(struct strbuf *out, const unsigned char *in, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t i, col = 0;
	uint32_t v;

	/* RFC 2045 section 6.8: lines of at most 76 characters. */
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		line[col++] = tab[(v >> 18) & 63];
		line[col++] = tab[(v >> 12) & 63];
		line[col++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		line[col++] = i + 2 < len ? tab[v & 63] : '=';
		if (col == 76) {
			line[col++] = '\n';
			strbuf_append(out, line, col);
			col = 0;
		}
	}
	if (col > 0) {
		line[col++] = '\n';
		strbuf_append(out, line, col);
	}
}

enum send_status
send_message_build(const struct send_message *m, struct strbuf *out)
{
	char date[64];
	struct tm tm;

	if (!header_ok(m->from) || !header_ok(m->to) ||
	    !header_ok(m->policy_domain) || !header_ok(m->submitter) ||
	    !header_ok(m->report_id) || !header_ok(m->filename) ||
	    strpbrk(m->filename, "\"\\") != NULL)
		return SEND_ERR_HEADER;
	gmtime_r(&m->date, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strbuf_appendf(out, "From: %s\n", m->from);
	strbuf_appendf(out, "To: %s\n", m->to);
	/* RFC 9990 section 3.2 dmarc-subject. */
	strbuf_appendf(out, "Subject: Report Domain: %s Submitter: %s "
	    "Report-ID: %s\n", m->policy_domain, m->submitter, m->report_id);
	strbuf_appendf(out, "Date: %s\n", date);
	/* The same ridtxt in the Message-ID: a resend is seen as one. */
	strbuf_appendf(out, "Message-ID: <%s.%s@%s>\n", m->report_id,
	    m->policy_domain, m->submitter);
	strbuf_appends(out, "Auto-Submitted: auto-generated\n");
	strbuf_appends(out, "MIME-Version: 1.0\n");
	strbuf_appendf(out, "Content-Type: multipart/mixed;\n"
	    " boundary=\"=_dmarcd_%s\"\n\n", m->report_id);
	strbuf_appends(out, "This is a multi-part message in MIME format.\n");
	strbuf_appendf(out, "\n--=_dmarcd_%s\n", m->report_id);
	strbuf_appends(out, "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\n");
	strbuf_appendf(out, "This is a DMARC aggregate report (RFC 9990) for "
	    "%s\nfrom %s, Report-ID %s.\n", m->policy_domain, m->submitter,
	    m->report_id);
	strbuf_appendf(out, "\n--=_dmarcd_%s\n", m->report_id);
	strbuf_appendf(out, "Content-Type: application/gzip;\n"
	    " name=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment;\n"
	    " filename=\"%s\"\n\n", m->filename, m->filename);
	base64_lines(out, (const unsigned char *)m->gz, m->gzlen);
	strbuf_appendf(out, "\n--=_dmarcd_%s--\n", m->report_id);
	return strbuf_failed(out) ? SEND_ERR_NOMEM : SEND_OK;
}

/* Split command into argv[] (pointers into buf). -1 if empty or too
 * many words. */
static int
split_words(char *buf, char *argv[SEND_ARGV_MAX + 1])
{
	char *p = buf;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == SEND_ARGV_MAX)
			return -1;
		argv[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	argv[n] = NULL;
	return n > 0 ? 0 : -1;
}

enum send_status
send_pipe(const char *command, const char *msg, size_t len, int *code,
    struct strbuf *err)
{
	struct strbuf cmdbuf = STRBUF_INIT;
	char *argv[SEND_ARGV_MAX + 1];
	struct sigaction ign, old;
	enum send_status rc = SEND_OK;
	int fds[2] = { -1, -1 }, status, dummy;
	size_t off = 0;
	ssize_t w;
	pid_t pid;

	if (code == NULL)
		code = &dummy;
	*code = 0;
	strbuf_appends(&cmdbuf, command != NULL ? command : "");
	if (strbuf_failed(&cmdbuf)) {
		strbuf_release(&cmdbuf);
		return SEND_ERR_NOMEM;
	}
	if (split_words(cmdbuf.data, argv) != 0 || argv[0][0] != '/') {
		if (err != NULL)
			strbuf_appendf(err, "ReportSendmail \"%s\": expected an "
			    "absolute path and at most %d words", command ?
			    command : "", SEND_ARGV_MAX);
		strbuf_release(&cmdbuf);
		return SEND_ERR_COMMAND;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		if (err != NULL)
			strbuf_appendf(err, "pipe: %s", strerror(errno));
		strbuf_release(&cmdbuf);
		return SEND_ERR_EXEC;
	}
	if ((pid = fork()) < 0) {
		if (err != NULL)
			strbuf_appendf(err, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		strbuf_release(&cmdbuf);
		return SEND_ERR_EXEC;
	}
	if (pid == 0) {
		/* Child: the message on stdin; no shell. */
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[0]);
	/* A command that exits early must not kill us with SIGPIPE. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	while (off < len) {
		if ((w = write(fds[1], msg + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			rc = SEND_ERR_WRITE;
			if (err != NULL)
				strbuf_appendf(err, "%s: writing the message: "
				    "%s", argv[0], strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	close(fds[1]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 127 << 8;
			break;
		}
	if (WIFSIGNALED(status)) {
		*code = WTERMSIG(status);
		if (err != NULL && rc == SEND_OK)
			strbuf_appendf(err, "%s: killed by signal %d",
			    argv[0], *code);
		rc = SEND_ERR_SIGNAL;
	} else if (WEXITSTATUS(status) != 0) {
		*code = WEXITSTATUS(status);
		if (err != NULL) {
			if (rc != SEND_OK)
				strbuf_appends(err, "; ");
			strbuf_appendf(err, "%s: exit status %d%s", argv[0],
			    *code, *code == 127 ? " (cannot run it?)" : "");
		}
		rc = SEND_ERR_EXIT;
	}
	strbuf_release(&cmdbuf);
	return rc;
}

const char *
send_strerror(enum send_status s)
{
	switch (s) {
	case SEND_OK:		return "sent";
	case SEND_ERR_NOMEM:	return "out of memory";
	case SEND_ERR_HEADER:	return "a header value holds a line break";
	case SEND_ERR_COMMAND:	return "bad sendmail command";
	case SEND_ERR_EXEC:	return "cannot run the sendmail command";
	case SEND_ERR_WRITE:	return "the sendmail command stopped reading";
	case SEND_ERR_EXIT:	return "the sendmail command failed";
	case SEND_ERR_SIGNAL:	return "the sendmail command was killed";
	case SEND_ERR_SMTP:	return "the SMTP relay failed";
	}
	return "unknown error";
}
