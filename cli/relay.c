/*
 * relay.c - report e-mails through an SMTP relay, with libcurl (RFC 5321
 * client; STARTTLS, RFC 3207; SMTP AUTH, RFC 4954; implicit TLS on
 * smtps://, RFC 8314).
 *
 * One message per recipient, as dmarcctl report sends them: MAIL FROM
 * the envelope sender, RCPT TO the one address, DATA.  libcurl keeps the
 * connection open between messages and dot-stuffs the data; we turn the
 * message's LF line ends into CRLF.  TLS: smtps:// always; smtp:// with
 * STARTTLS required unless ReportSMTPStartTLS is no, or it is auto (the
 * default) and the relay is a loopback address.  The server certificate
 * is verified, host name included, against ReportSMTPCAFile or the
 * system's CAs.  The password comes from a file
 * of mode 0600 or stricter (common/secret.h), never from the URL.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/relay.h"
#include "common/conf.h"
#include "common/secret.h"

#define RELAY_REPLY_MAX	400	/* bytes of the server's reply we keep */

enum { STARTTLS_AUTO, STARTTLS_YES, STARTTLS_NO };

struct relay {
	CURL	*curl;
	char	*password;
	struct strbuf display;		/* scheme://host[:port] */
	struct strbuf url;		/* what libcurl connects to */
	char	 errbuf[CURL_ERROR_SIZE];
	char	 reply[RELAY_REPLY_MAX + 1];	/* first 4xx/5xx reply */
	const char *data;		/* the upload */
	size_t	 left;
};

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct relay *r = arg;
	size_t len = size * n;

	if (len > r->left)
		len = r->left;
	memcpy(buf, r->data, len);
	r->data += len;
	r->left -= len;
	return len;
}

/* Keep the server's first 4xx or 5xx reply line of a message, for the
 * error message (libcurl's own says "RCPT failed: 554"). */
static int
on_debug(CURL *c, curl_infotype type, char *data, size_t len, void *arg)
{
	struct relay *r = arg;
	size_t i, n = 0;

	(void)c;
	if (type != CURLINFO_HEADER_IN || r->reply[0] != '\0' || len == 0 ||
	    (data[0] != '4' && data[0] != '5'))
		return 0;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	for (i = 0; i < len && n < RELAY_REPLY_MAX; i++)
		r->reply[n++] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] :
		    ' ';
	r->reply[n] = '\0';
	return 0;
}

static bool
is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0;
}

/* An SMTP path we can put between < and >: printable ASCII, no blanks,
 * no angle brackets. */
static bool
path_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SEND_ADDR_MAX || strchr(s, '@') == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '<' || s[i] == '>')
			return false;
	return true;
}

/* Split the URL, refuse what we do not take, and fill r->display and
 * r->url.  *loopback says the host is a loopback one.  0, or -1 after
 * printing why. */
static int
parse_url(struct relay *r, const char *cmd, const char *url, bool *loopback,
    bool *implicit_tls)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL,
	    *pass = NULL, *path = NULL;
	int rc = -1;

	if ((u = curl_url()) == NULL) {
		cli_error(cmd, "ReportSMTPRelay %s: out of memory", url);
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		cli_error(cmd, "ReportSMTPRelay %s: want smtp://HOST[:PORT] or "
		    "smtps://HOST[:PORT]", url);
		goto out;
	}
	if (strcasecmp(scheme, "smtp") != 0 && strcasecmp(scheme, "smtps") !=
	    0) {
		cli_error(cmd, "ReportSMTPRelay %s: scheme %s: want smtp or "
		    "smtps", url, scheme);
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_USER, &user, 0);
	(void)curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	if (user != NULL || pass != NULL) {
		cli_error(cmd, "ReportSMTPRelay: a user or password in the "
		    "URL is refused: set ReportSMTPUser and "
		    "ReportSMTPPasswordFile (a file of mode 0600)");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (path != NULL && strcmp(path, "/") != 0 && *path != '\0') {
		cli_error(cmd, "ReportSMTPRelay %s: want no path after the "
		    "host and port", url);
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	strbuf_appendf(&r->display, "%s://%s%s%s", scheme, host,
	    port ? ":" : "", port ? port : "");
	strbuf_appendf(&r->url, "%s", strbuf_cstr(&r->display));
	if (strbuf_failed(&r->display) || strbuf_failed(&r->url)) {
		cli_error(cmd, "ReportSMTPRelay %s: out of memory", url);
		goto out;
	}
	*loopback = is_loopback(host);
	*implicit_tls = strcasecmp(scheme, "smtps") == 0;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pass);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

int
relay_new(const struct cli_ctx *ctx, const char *cmd, struct relay **out)
{
	const char *url, *user, *pwfile, *cafile;
	struct strbuf err = STRBUF_INIT;
	struct relay *r;
	bool loopback = false, implicit_tls = false;
	long ssl;
	int tls;

	*out = NULL;
	url = conf_str(ctx->conf, "ReportSMTPRelay");
	if (url == NULL || *url == '\0')
		return EX_OK;
	user = conf_str(ctx->conf, "ReportSMTPUser");
	pwfile = conf_str(ctx->conf, "ReportSMTPPasswordFile");
	cafile = conf_str(ctx->conf, "ReportSMTPCAFile");
	tls = conf_enum(ctx->conf, "ReportSMTPStartTLS");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return EX_OSERR;
	strbuf_init(&r->display);
	strbuf_init(&r->url);
	if (parse_url(r, cmd, url, &loopback, &implicit_tls) != 0)
		goto config;
	if ((user != NULL && *user != '\0') != (pwfile != NULL &&
	    *pwfile != '\0')) {
		cli_error(cmd, "ReportSMTPRelay %s: ReportSMTPUser and "
		    "ReportSMTPPasswordFile go together: set both or neither",
		    strbuf_cstr(&r->display));
		goto config;
	}
	if (implicit_tls)
		ssl = CURLUSESSL_ALL;
	else if (tls == STARTTLS_YES || (tls == STARTTLS_AUTO && !loopback))
		ssl = CURLUSESSL_ALL;
	else
		ssl = CURLUSESSL_NONE;
	if (ssl == CURLUSESSL_NONE && pwfile != NULL && *pwfile != '\0' &&
	    !loopback) {
		cli_error(cmd, "ReportSMTPRelay %s: ReportSMTPStartTLS no would "
		    "send the password of ReportSMTPUser in clear to a host "
		    "that is not loopback: use STARTTLS or smtps://",
		    strbuf_cstr(&r->display));
		goto config;
	}
	if (pwfile != NULL && *pwfile != '\0' &&
	    (r->password = secret_file_read(pwfile, &err)) == NULL) {
		cli_error(cmd, "ReportSMTPPasswordFile: %s",
		    strbuf_cstr(&err));
		goto config;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (r->curl = curl_easy_init()) == NULL) {
		cli_error(cmd, "ReportSMTPRelay %s: cannot start libcurl",
		    strbuf_cstr(&r->display));
		relay_free(r);
		strbuf_release(&err);
		return EX_SOFTWARE;
	}
	curl_easy_setopt(r->curl, CURLOPT_URL, strbuf_cstr(&r->url));
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(r->curl, CURLOPT_USE_SSL, ssl);
	curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL && *cafile != '\0')
		curl_easy_setopt(r->curl, CURLOPT_CAINFO, cafile);
	if (r->password != NULL) {
		curl_easy_setopt(r->curl, CURLOPT_USERNAME, user);
		curl_easy_setopt(r->curl, CURLOPT_PASSWORD, r->password);
	}
	curl_easy_setopt(r->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(r->curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(r->curl, CURLOPT_READDATA, r);
	curl_easy_setopt(r->curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(r->curl, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(r->curl, CURLOPT_DEBUGDATA, r);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->errbuf);
	strbuf_release(&err);
	*out = r;
	return EX_OK;
config:
	relay_free(r);
	strbuf_release(&err);
	return EX_CONFIG;
}

enum send_status
relay_send(struct relay *r, const char *from, const char *to,
    const char *msg, size_t len, struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT, mfrom = STRBUF_INIT,
	    rcpt = STRBUF_INIT;
	struct curl_slist *rcpts = NULL;
	enum send_status st = SEND_ERR_NOMEM;
	CURLcode cc;
	size_t i;

	if (!path_ok(from) || !path_ok(to)) {
		strbuf_appendf(err, "%s: an envelope address holds a blank, "
		    "control character or angle bracket, or no @",
		    strbuf_cstr(&r->display));
		return SEND_ERR_HEADER;
	}
	/* RFC 5321 section 2.3.8: CRLF line ends on the wire. */
	for (i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			strbuf_appendc(&data, '\r');
		strbuf_appendc(&data, msg[i]);
	}
	strbuf_appendf(&mfrom, "<%s>", from);
	strbuf_appendf(&rcpt, "<%s>", to);
	if (strbuf_failed(&data) || strbuf_failed(&mfrom) ||
	    strbuf_failed(&rcpt) ||
	    (rcpts = curl_slist_append(NULL, strbuf_cstr(&rcpt))) == NULL)
		goto out;
	r->data = data.data;
	r->left = data.len;
	r->errbuf[0] = '\0';
	r->reply[0] = '\0';
	curl_easy_setopt(r->curl, CURLOPT_MAIL_FROM, strbuf_cstr(&mfrom));
	curl_easy_setopt(r->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(r->curl, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)data.len);
	cc = curl_easy_perform(r->curl);
	curl_easy_setopt(r->curl, CURLOPT_MAIL_RCPT, NULL);
	if (cc == CURLE_OK) {
		st = SEND_OK;
		goto out;
	}
	strbuf_appendf(err, "%s: %s", strbuf_cstr(&r->display),
	    r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
	if (r->reply[0] != '\0')
		strbuf_appendf(err, "; the server replied: %s", r->reply);
	st = SEND_ERR_SMTP;
out:
	curl_slist_free_all(rcpts);
	strbuf_release(&data);
	strbuf_release(&mfrom);
	strbuf_release(&rcpt);
	return st;
}

const char *
relay_display(const struct relay *r)
{
	return strbuf_cstr(&r->display);
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	secret_free(r->password);
	strbuf_release(&r->display);
	strbuf_release(&r->url);
	free(r);
}
