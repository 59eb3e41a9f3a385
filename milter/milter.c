/*
 * milter.c - the libmilter callbacks: gather the facts of a connection
 * and a message, stream the message into the verify pipeline, and at the
 * end carry out the action and record it.
 *
 * Debian's libmilter runs a worker pool and may move a connection between
 * threads, so all state hangs off smfi_setpriv().  We negotiate leading
 * spaces of header values (DKIM's simple canonicalization needs them)
 * and no unknown commands.  On a unix socket we also skip the steps we
 * do not use (RCPT, DATA) and ask for no replies to the steps that
 * cannot change the outcome (connect, HELO, each header, end of header,
 * body): fewer round trips.  On an inet socket every command is sent and
 * answered, because a packet the milter does not answer (a skipped
 * step's macros, a no-reply command) leaves the MTA's next packet
 * waiting for the milter's delayed ACK under Nagle: Postfix over TCP
 * took 45 ms a message in one session that way, against 3 ms when every
 * command is answered (bench/README.md, "Through Postfix").
 * Deliberately left out: body changes and recipient handling.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "action.h"
#include "common/log.h"
#include "common/mem.h"
#include "failure_sender.h"
#include "history.h"
#include "milter.h"
#include "record.h"
#include "report/failure.h"

struct milter_daemon milter_daemon;

/* libmilter takes char * where it means const char *. */
static char macro_queue_id[] = "i";
static char macro_auth[] = "{auth_authen}";
static char syms_envfrom[] = "i {auth_authen}";
static char syms_eom[] = "i";
static char hdr_authres[] = "Authentication-Results";
static char hdr_quarantine[] = "X-DMARC-Quarantine";

static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_settings *settings_current;

struct milter_settings *
milter_settings_get(void)
{
	struct milter_settings *s;

	pthread_mutex_lock(&settings_lock);
	s = settings_current;
	settings_ref(s);
	pthread_mutex_unlock(&settings_lock);
	return s;
}

void
milter_settings_set(struct milter_settings *s)
{
	struct milter_settings *old;

	pthread_mutex_lock(&settings_lock);
	old = settings_current;
	settings_current = s;
	pthread_mutex_unlock(&settings_lock);
	settings_unref(old);
}

struct msg {
	struct milter_settings *s;	/* as the message started */
	struct verify *v;		/* NULL for a skipped message */
	const char *skip_reason;	/* "trusted", "authenticated" */
	char	*message_id;		/* skipped messages: for the row */
	struct verify_facts facts;	/* strings point into conn and here */
	char	*mail_from;
	char	*helo;			/* a copy: HELO may come again */
	char	 key[33];
	time_t	 received;
	struct strbuf *fr_headers;	/* FailureReports: original fields */
};

struct conn {
	unsigned long pflags;		/* negotiated protocol flags */
	bool	 have_ip;
	struct addr ip;
	char	*helo;
	struct msg *msg;
};

static sfsistat
reply(const struct conn *c, unsigned long nr_flag)
{
	return (c->pflags & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	verify_free(m->v);
	settings_unref(m->s);
	mem_free(m->mail_from);
	mem_free(m->helo);
	mem_free(m->message_id);
	if (m->fr_headers != NULL)
		strbuf_release(m->fr_headers);
	mem_free(m->fr_headers);
	mem_free(m);
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	msg_free(c->msg);
	mem_free(c->helo);
	mem_free(c);
}

static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = mem_calloc(1, sizeof(*c))) != NULL)
		smfi_setpriv(ctx, c);
	return c;
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	const unsigned long want = need | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
	/* skipped steps and no-reply steps: unix sockets only (above) */
	const unsigned long quiet = SMFIP_NORCPT | SMFIP_NODATA |
	    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH |
	    SMFIP_NR_BODY;
	const unsigned long proto = SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC |
	    (milter_daemon.reply_all ? 0 : quiet);
	struct conn *c;

	(void)f2;
	(void)f3;
	if ((f0 & need) != need) {
		log_msg(LOG_ERR, "the MTA does not allow adding and changing "
		    "headers (milter actions 0x%lx): check its milter set-up",
		    f0);
		return SMFIS_REJECT;
	}
	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	*pf0 = f0 & want;
	*pf1 = f1 & proto;
	*pf2 = 0;
	*pf3 = 0;
	c->pflags = *pf1;
	if (*pf0 & SMFIF_SETSYMLIST) {
		/* Only the macros we read: the queue id and the SASL login. */
		smfi_setsymlist(ctx, SMFIM_ENVFROM, syms_envfrom);
		smfi_setsymlist(ctx, SMFIM_EOM, syms_eom);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct conn *c = conn_get(ctx);

	(void)host;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->have_ip = false;
	memset(&c->ip, 0, sizeof(c->ip));
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		c->ip.a[10] = c->ip.a[11] = 0xff;
		memcpy(c->ip.a + 12, &s4->sin_addr, 4);
		c->ip.v4 = true;
		c->have_ip = true;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		memcpy(c->ip.a, &s6->sin6_addr, 16);
		c->ip.v4 = memcmp(c->ip.a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)
		    == 0;
		c->have_ip = true;
	}
	return reply(c, SMFIP_NR_CONN);
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	mem_free(c->helo);
	c->helo = mem_strndup(helo, strnlen(helo, 255));
	return reply(c, SMFIP_NR_HELO);
}

/* The reverse-path without angle brackets ("" for the null sender). */
static char *
strip_path(const char *arg)
{
	size_t n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>')
		return mem_strndup(arg + 1, n - 2 > 320 ? 320 : n - 2);
	return mem_strndup(arg, n > 320 ? 320 : n);
}

static bool
is_trusted(const struct milter_settings *s, const struct conn *c)
{
	size_t i;

	for (i = 0; c->have_ip && i < s->ntrusted; i++)
		if (cidr_contains(&s->trusted[i], &c->ip))
			return true;
	return false;
}

/* Record and log a message we do not judge, then let it through. */
static void
msg_skip(SMFICTX *ctx, struct msg *m, const char *reason)
{
	struct record_facts rf = { &m->facts, m->s->node, m->key,
	    smfi_getsymval(ctx, macro_queue_id), m->received };
	struct store_record r;
	struct strbuf line = STRBUF_INIT;
	char ip[ADDR_STRLEN] = "-";
	enum store_status st;

	record_fill_skip(&rf, reason, &r);
	if (m->message_id != NULL)
		snprintf(r.message_id, sizeof(r.message_id), "%s",
		    m->message_id);
	/* A skipped message has no verdict to lose: never wait. */
	if ((st = store_submit(milter_daemon.store, &r, false)) != STORE_OK)
		log_msg(LOG_ERR, "history: %s", store_strerror(st));
	if (m->facts.have_ip)
		addr_format(&m->facts.client_ip, ip, sizeof(ip));
	strbuf_appendf(&line, "%s: dmarc skipped", rf.queue_id != NULL ?
	    rf.queue_id : "NOQUEUE");
	log_kv(&line, "reason", reason);
	log_kv(&line, "ip", ip);
	log_msg(LOG_INFO, "%s", strbuf_cstr(&line));
	strbuf_release(&line);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	const char *auth;
	struct msg *m;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	msg_free(c->msg);
	if ((c->msg = m = mem_calloc(1, sizeof(*m))) == NULL)
		return SMFIS_TEMPFAIL;
	m->s = milter_settings_get();
	m->received = time(NULL);
	record_new_key(m->key);
	if ((m->mail_from = strip_path(argv[0] != NULL ? argv[0] : ""))
	    == NULL)
		goto fail;
	m->facts.have_ip = c->have_ip;
	m->facts.client_ip = c->ip;
	/* The facts outlive a second HELO in the same connection. */
	if (c->helo != NULL && (m->helo = mem_strdup(c->helo)) == NULL)
		goto fail;
	m->facts.helo = m->helo;
	m->facts.mail_from = m->mail_from;
	m->facts.trusted = is_trusted(m->s, c);
	auth = smfi_getsymval(ctx, macro_auth);
	m->facts.authenticated = auth != NULL && *auth != '\0';
	if (m->facts.trusted || (m->facts.authenticated &&
	    m->s->ignore_auth)) {
		/*
		 * Not judged, but recorded at end of message: Postfix gives
		 * the queue id only after the first RCPT, and the row should
		 * carry it and the Message-ID.  Nothing is verified on the way.
		 */
		m->skip_reason = m->facts.trusted ? "trusted" :
		    "authenticated";
		return SMFIS_CONTINUE;
	}
	m->facts.authenticated = false;	/* judged like anyone else */
	if ((m->v = verify_new_policy(milter_daemon.engine, &m->s->policy,
	    &m->facts)) == NULL)
		goto fail;
	/* Failure reports carry the original header fields (bounded). */
	if (m->s->fr_enabled && (m->fr_headers = mem_calloc(1,
	    sizeof(*m->fr_headers))) != NULL)
		strbuf_init(m->fr_headers);
	return SMFIS_CONTINUE;
fail:
	log_msg(LOG_ERR, "out of memory starting a message");
	msg_free(m);
	c->msg = NULL;
	return SMFIS_TEMPFAIL;
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	struct strbuf sb = STRBUF_INIT;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (c->msg->v == NULL) {
		if (c->msg->message_id == NULL &&
		    strcasecmp(name, "Message-ID") == 0)
			c->msg->message_id = mem_strndup(value +
			    strspn(value, " \t"), strnlen(value +
			    strspn(value, " \t"), 255));
		return reply(c, SMFIP_NR_HDR);
	}
	if (c->msg->fr_headers != NULL)
		failure_headers_add(c->msg->fr_headers, name, value);
	if (c->pflags & SMFIP_HDR_LEADSPC)
		verify_header(c->msg->v, name, value, strlen(value));
	else {
		/* The MTA stripped the space after the colon: restore the
		 * usual one so simple canonicalization still matches. */
		strbuf_appendc(&sb, ' ');
		strbuf_appends(&sb, value);
		verify_header(c->msg->v, name, strbuf_cstr(&sb),
		    strbuf_len(&sb));
		strbuf_release(&sb);
	}
	return reply(c, SMFIP_NR_HDR);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (c->msg->v != NULL)
		verify_eoh(c->msg->v);
	return reply(c, SMFIP_NR_EOH);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (c->msg->v != NULL)
		verify_body(c->msg->v, chunk, len);
	return reply(c, SMFIP_NR_BODY);
}

/* Internal trouble: the configured fail mode (FailMode). */
static sfsistat
fail_mode(SMFICTX *ctx, const struct msg *m, const char *what)
{
	const char *q = smfi_getsymval(ctx, macro_queue_id);

	log_msg(LOG_ERR, "%s: %s; FailMode %s", q != NULL ? q : "NOQUEUE",
	    what, m->s->fail_tempfail ? "tempfail" : "accept");
	if (!m->s->fail_tempfail)
		return SMFIS_ACCEPT;
	static char code[] = "451", xcode[] = "4.3.0",
	    text[] = "temporary local problem; try again later";

	smfi_setreply(ctx, code, xcode, text);
	return SMFIS_TEMPFAIL;
}

/* Write the history rows; in full durability wait for the commit of an
 * accepted message (the MTA is about to say 250). */
static enum store_status
msg_record(const struct verdict *vd,
    const struct milter_action *a, const struct record_facts *rf)
{
	struct store_record *rows;
	enum store_status st = STORE_OK;
	bool wait;
	size_t i, n;

	/* One row per author domain, at least one: sized to the message.
	 * Not zeroed here: record_fill() clears each row it fills (10 KB). */
	n = vd->nauthors > 0 ? vd->nauthors : 1;
	if ((rows = mem_reallocarray(NULL, n, sizeof(*rows))) == NULL)
		return STORE_ERR_NOMEM;
	n = record_fill(vd, a, rf, rows, n);
	wait = milter_daemon.store_wait && (a->kind == ACTION_ACCEPT ||
	    a->kind == ACTION_QUARANTINE);
	for (i = 0; i < n && st == STORE_OK; i++)
		st = store_submit(milter_daemon.store, &rows[i],
		    wait && i + 1 == n);
	mem_free(rows);
	return st;
}

/*
 * Insert a header field at the top.  With SMFIP_HDR_LEADSPC the MTA
 * stores values verbatim, so the space after the colon is ours to add.
 */
static void
insert_header(SMFICTX *ctx, const struct conn *c, char *name,
    const char *value)
{
	struct strbuf sb = STRBUF_INIT;

	if (c->pflags & SMFIP_HDR_LEADSPC)
		strbuf_appendc(&sb, ' ');
	strbuf_appends(&sb, value);
	if (!strbuf_failed(&sb))
		smfi_insheader(ctx, 0, name, (char *)strbuf_cstr(&sb));
	strbuf_release(&sb);
}

/* Carry out the action: header changes, quarantine, reply. */
static sfsistat
msg_apply(SMFICTX *ctx, const struct conn *c, const struct verdict *vd,
    const struct milter_action *a)
{
	size_t i;

	switch (a->kind) {
	case ACTION_REJECT:
	case ACTION_TEMPFAIL:
		smfi_setreply(ctx, (char *)a->rcode, (char *)a->xcode,
		    (char *)a->text);
		return a->kind == ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	case ACTION_QUARANTINE:
		if (a->hold)
			smfi_quarantine(ctx, (char *)a->text);
		else
			insert_header(ctx, c, hdr_quarantine, a->text);
		break;
	case ACTION_ACCEPT:
		break;
	}
	/* RFC 8601 section 5: remove fields forged with our authserv-id,
	 * highest index first so the others keep their numbers.  Past the
	 * bound on remembered indexes, remove them all: none may survive. */
	if (vd->forged_overflow)
		for (i = vd->ar_total; i > 0; i--)
			smfi_chgheader(ctx, hdr_authres, (int)i, NULL);
	else
		for (i = vd->nforged; i > 0; i--)
			smfi_chgheader(ctx, hdr_authres,
			    (int)vd->forged[i - 1], NULL);
	if (vd->authres != NULL)
		insert_header(ctx, c, hdr_authres, vd->authres);
	return SMFIS_ACCEPT;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	struct strbuf line = STRBUF_INIT;
	const struct verdict *vd;
	struct milter_action a;
	struct record_facts rf;
	enum store_status st;
	enum verify_status vs;
	struct msg *m;
	sfsistat rc;

	if (c == NULL || (m = c->msg) == NULL)
		return SMFIS_TEMPFAIL;
	if (m->v == NULL) {
		msg_skip(ctx, m, m->skip_reason);
		rc = SMFIS_ACCEPT;
		goto done;
	}
	if ((vs = verify_eom(m->v, &vd)) != VERIFY_OK) {
		rc = fail_mode(ctx, m, verify_strerror(vs));
		goto done;
	}
	action_decide(m->s, vd, &m->facts, &a);
	rf.facts = &m->facts;
	rf.node = m->s->node;
	rf.message_key = m->key;
	rf.queue_id = smfi_getsymval(ctx, macro_queue_id);
	rf.received = m->received;
	if ((st = msg_record(vd, &a, &rf)) != STORE_OK) {
		struct strbuf why = STRBUF_INIT;

		store_last_error(milter_daemon.store, &why);
		strbuf_appendf(&line, "history database not written (%s%s%s)",
		    store_strerror(st), strbuf_len(&why) ? ": " : "",
		    strbuf_cstr(&why));
		strbuf_release(&why);
		/* Nothing acknowledged may be lost: a message we cannot
		 * record is not accepted unless FailMode says so. */
		if (a.kind == ACTION_ACCEPT || a.kind == ACTION_QUARANTINE) {
			rc = fail_mode(ctx, m, strbuf_cstr(&line));
			strbuf_reset(&line);
			if (rc != SMFIS_ACCEPT)
				goto done;
		} else {
			log_msg(LOG_ERR, "%s: %s", rf.queue_id != NULL ?
			    rf.queue_id : "NOQUEUE", strbuf_cstr(&line));
			strbuf_reset(&line);
		}
	}
	/* The decision line is a notice-level-off cost otherwise: about 2%
	 * of a message's instructions (bench/milter-bench.sh --callgrind). */
	if (log_get_level() >= LOG_INFO) {
		record_logline(vd, &a, &rf, &line);
		log_msg(LOG_INFO, "%s", strbuf_cstr(&line));
	}
	if (m->fr_headers != NULL) {
		struct failure_origin fo = { &m->facts, rf.queue_id,
		    m->received, strbuf_cstr(m->fr_headers) };

		failure_sender_submit(m->s, milter_daemon.resolver, vd, &a,
		    &fo);
	}
	rc = msg_apply(ctx, c, vd, &a);
done:
	history_watch(milter_daemon.store);
	strbuf_release(&line);
	msg_free(m);
	c->msg = NULL;
	return rc;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_free(c->msg);
		c->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	conn_free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = (char *)"dmarcd",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = mlfi_connect,
	.xxfi_helo = mlfi_helo,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_negotiate = mlfi_negotiate,
};
