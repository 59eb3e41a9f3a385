/*
 * milterload.c - a load driver that speaks the milter protocol (version
 * 6) directly to one milter, or to a chain of them in order as Postfix
 * does, and reports throughput, latency and the reply distribution.
 *
 *   milterload [-c CONNS] [-n MESSAGES | -t SECONDS] -m MSGFILE
 *       [--client-ip IP] [--helo NAME] [--mail-from ADDR] [--rcpt ADDR]
 *       [--per-connection K] [--expect REPLY] -s SOCKET [-s SOCKET]
 *
 * SOCKET is inet:PORT@HOST or unix:PATH.  Each of CONNS threads plays
 * SMTP sessions of K messages (default 1): it opens one connection per
 * milter, negotiates (SMFIC_OPTNEG), sends CONNECT and HELO, then per
 * message MAIL, RCPT, DATA, the header fields, EOH, the body in chunks of at
 * most 64 KB and EOB, reads the modifications and the final reply, and
 * at the end of the session QUIT.  With several milters each one gets
 * the whole message and its end-of-message before the next, and the
 * next sees the header fields the earlier ones added or inserted, as
 * Postfix's cleanup server does (OpenDMARC reads OpenDKIM's
 * Authentication-Results that way).  It honours what each milter
 * negotiated: skipped steps, no-reply steps, leading spaces of header
 * values, SMFIR_SKIP during the body and the macro lists it asked for.
 * A reject, tempfail or discard from one milter ends the message for the
 * milters after it; an accept ends it for that milter only.
 *
 * The latency of a message runs from the connect (first message of a
 * session) or the MAIL command to the last milter's final reply at EOM.
 * With --expect, the exit status is 1 unless every message got that
 * final reply without error.  "%q" in --mail-from is replaced by each
 * message's queue id (a sender domain per message).  Left out: unknown
 * commands (never sent), QUIT_NC connection reuse, and header changes and deletions,
 * body and recipient changes (they are counted as modifications, not
 * applied); inserted fields go above the message's, whatever the index.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* Commands (MTA to milter), from libmilter's mfdef.h. */
#define CMD_ABORT	'A'
#define CMD_BODY	'B'
#define CMD_CONNECT	'C'
#define CMD_MACRO	'D'
#define CMD_BODYEOB	'E'
#define CMD_HELO	'H'
#define CMD_HEADER	'L'
#define CMD_MAIL	'M'
#define CMD_EOH		'N'
#define CMD_OPTNEG	'O'
#define CMD_QUIT	'Q'
#define CMD_RCPT	'R'
#define CMD_DATA	'T'

/* Replies (milter to MTA). */
#define RPL_ACCEPT	'a'
#define RPL_CONTINUE	'c'
#define RPL_DISCARD	'd'
#define RPL_PROGRESS	'p'
#define RPL_QUARANTINE	'q'
#define RPL_REJECT	'r'
#define RPL_SKIP	's'
#define RPL_TEMPFAIL	't'
#define RPL_REPLYCODE	'y'

/* Protocol flags. */
#define P_NOCONNECT	0x000001UL
#define P_NOHELO	0x000002UL
#define P_NOMAIL	0x000004UL
#define P_NORCPT	0x000008UL
#define P_NOBODY	0x000010UL
#define P_NOHDRS	0x000020UL
#define P_NOEOH		0x000040UL
#define P_NR_HDR	0x000080UL
#define P_NODATA	0x000200UL
#define P_SKIP		0x000400UL
#define P_NR_CONN	0x001000UL
#define P_NR_HELO	0x002000UL
#define P_NR_MAIL	0x004000UL
#define P_NR_RCPT	0x008000UL
#define P_NR_DATA	0x010000UL
#define P_NR_EOH	0x040000UL
#define P_NR_BODY	0x080000UL
#define P_HDR_LEADSPC	0x100000UL
#define P_ALL		0x1fffffUL	/* what Postfix 3.x offers */
#define A_ALL		0x1ffUL		/* every action, SETSYMLIST too */

/* Macro list stages (SMFIM_*), as the milter may name them. */
enum stage { ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_EOM, ST_EOH,
	ST_MAX };

#define MILTER_VERSION	6
#define MAX_PACKET	(1024 * 1024)	/* cap on a reply from the milter */
#define BODY_CHUNK	65535
#define MAX_MILTERS	4
#define MAX_HEADERS	16384	/* tests/faults sends 10,000 */
#define MAX_ADDED	16		/* fields earlier milters added */
#define IO_TIMEOUT	30		/* seconds */

enum outcome { OUT_ACCEPT, OUT_CONTINUE, OUT_REJECT, OUT_TEMPFAIL,
	OUT_QUARANTINE, OUT_DISCARD, OUT_ERROR, OUT_MAX };
static const char *const outcome_name[OUT_MAX] = { "accept", "continue",
	"reject", "tempfail", "quarantine", "discard", "error" };

struct header {
	char	*name;
	char	*value;		/* with its leading space, folded with \n */
};

/* One packet being built: 4-byte length, command, payload. */
struct pkt {
	char	*buf;
	size_t	 len, cap;
};

/* One milter connection of one session. */
struct mconn {
	int	 fd;
	unsigned long pflags;
	char	*symlist[ST_MAX];	/* NULL: send every macro */
	bool	 done;			/* accepted: no more for this message */
};

struct worker {
	struct header added[MAX_ADDED];	/* this message, by earlier milters */
	bool	 added_top[MAX_ADDED];	/* inserted (above) or added (below) */
	size_t	 nadded;
	pthread_t tid;
	unsigned id;
	double	*lat;			/* milliseconds */
	size_t	 nlat, caplat;
	unsigned long count[OUT_MAX];
	unsigned long mods;
	char	 err[256];
};

static const char *milter_sock[MAX_MILTERS];
static size_t nmilters;
static struct header headers[MAX_HEADERS];
static size_t nheaders;
static char *body;		/* CRLF line ends */
static size_t body_len;
static const char *client_ip = "192.0.2.10";
static const char *helo_name = "mx.bench.test";
static const char *mail_from = "bounce@bench.test";
static const char *rcpt_to = "postmaster@receiver.test";
static long per_conn = 1;
static long total_msgs = 1000;
static double run_seconds;
static long next_msg;		/* claimed under counter_lock */
static double deadline;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
oom(void)
{
	fprintf(stderr, "milterload: out of memory\n");
	exit(EX_OSERR);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		oom();
	return p;
}

/* Claim the next message; false when the run is over. */
static bool
claim(void)
{
	bool ok;

	pthread_mutex_lock(&counter_lock);
	if (run_seconds > 0)
		ok = now() < deadline;
	else
		ok = next_msg < total_msgs;
	if (ok)
		next_msg++;
	pthread_mutex_unlock(&counter_lock);
	return ok;
}

static void
pkt_start(struct pkt *p, char cmd)
{
	p->len = 0;
	if (p->cap < 5) {
		p->cap = 4096;
		p->buf = xrealloc(p->buf, p->cap);
	}
	p->len = 5;
	p->buf[4] = cmd;
}

static void
pkt_add(struct pkt *p, const void *data, size_t n)
{
	if (p->len + n > p->cap) {
		while (p->len + n > p->cap)
			p->cap *= 2;
		p->buf = xrealloc(p->buf, p->cap);
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
}

/* A NUL-terminated string, NUL included. */
static void
pkt_str(struct pkt *p, const char *s)
{
	pkt_add(p, s, strlen(s) + 1);
}

static void
pkt_u32(struct pkt *p, uint32_t v)
{
	v = htonl(v);
	pkt_add(p, &v, 4);
}

static bool
write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

static bool
read_all(int fd, char *buf, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		buf += r;
		n -= (size_t)r;
	}
	return true;
}

static bool
pkt_send(int fd, struct pkt *p)
{
	uint32_t n = htonl((uint32_t)(p->len - 4));

	memcpy(p->buf, &n, 4);
	return write_all(fd, p->buf, p->len);
}

/* Read one packet into *p (payload from p->buf + 5); its command. */
static int
pkt_recv(int fd, struct pkt *p)
{
	uint32_t n;

	if (!read_all(fd, (char *)&n, 4))
		return -1;
	n = ntohl(n);
	if (n < 1 || n > MAX_PACKET)
		return -1;
	if (p->cap < n + 5) {
		p->cap = n + 5;
		p->buf = xrealloc(p->buf, p->cap);
	}
	if (!read_all(fd, p->buf + 4, n))
		return -1;
	p->len = n + 4;
	return (unsigned char)p->buf[4];
}

static int
sock_open(const char *spec)
{
	int fd = -1, one = 1;
	struct timeval tv = { IO_TIMEOUT, 0 };

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un sun;
		const char *path = strchr(spec, ':') + 1;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			goto fail;
	} else if (strncmp(spec, "inet:", 5) == 0 ||
	    strncmp(spec, "inet6:", 6) == 0) {
		char port[16], *host;
		const char *at = strchr(spec, '@'), *p = strchr(spec, ':') + 1;
		struct addrinfo hints, *res;

		if (at == NULL || (size_t)(at - p) >= sizeof(port))
			return -1;
		memcpy(port, p, (size_t)(at - p));
		port[at - p] = '\0';
		host = strdup(at + 1);
		if (host == NULL)
			return -1;
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, port, &hints, &res) != 0) {
			free(host);
			return -1;
		}
		free(host);
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
			freeaddrinfo(res);
			goto fail;
		}
		freeaddrinfo(res);
		/* The driver must not add Nagle stalls of its own. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	} else
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * OPTNEG: offer version 6, every action and every protocol flag; keep
 * what the milter answers, and the macro lists it appends.
 */
static bool
negotiate(struct mconn *m, struct pkt *p)
{
	size_t off;
	uint32_t v[3];

	pkt_start(p, CMD_OPTNEG);
	pkt_u32(p, MILTER_VERSION);
	pkt_u32(p, A_ALL);
	pkt_u32(p, P_ALL);
	if (!pkt_send(m->fd, p) || pkt_recv(m->fd, p) != CMD_OPTNEG ||
	    p->len < 5 + 12)
		return false;
	memcpy(v, p->buf + 5, 12);
	if (ntohl(v[0]) < 2)
		return false;
	m->pflags = ntohl(v[2]);
	for (off = 5 + 12; off + 4 < p->len; ) {
		uint32_t st;
		const char *s;
		size_t n;

		memcpy(&st, p->buf + off, 4);
		st = ntohl(st);
		s = p->buf + off + 4;
		n = strnlen(s, p->len - off - 4);
		if (off + 4 + n >= p->len)
			break;
		if (st < ST_MAX) {
			free(m->symlist[st]);
			m->symlist[st] = strndup(s, n);
		}
		off += 4 + n + 1;
	}
	return true;
}

/* Is macro NAME in the milter's list for STAGE (or is there none)? */
static bool
macro_wanted(const struct mconn *m, enum stage st, const char *name)
{
	const char *l = m->symlist[st], *s;
	size_t n = strlen(name);

	if (l == NULL)
		return true;
	for (s = l; (s = strstr(s, name)) != NULL; s += n)
		if ((s == l || s[-1] == ' ' || s[-1] == ',') &&
		    (s[n] == '\0' || s[n] == ' ' || s[n] == ','))
			return true;
	return false;
}

/* SMFIC_MACRO for command CMD: NULL-terminated name, value pairs. */
static bool
send_macros(struct mconn *m, struct pkt *p, char cmd, enum stage st,
    const char *const *kv)
{
	bool any = false;

	pkt_start(p, CMD_MACRO);
	pkt_add(p, &cmd, 1);
	for (; kv[0] != NULL; kv += 2) {
		/* Postfix leaves out a macro it has no value for (no SASL
		 * login: no {auth_authen}); rspamd takes one present but
		 * empty as an authenticated sender and skips its checks. */
		if (*kv[1] == '\0' || !macro_wanted(m, st, kv[0]))
			continue;
		pkt_str(p, kv[0]);
		pkt_str(p, kv[1]);
		any = true;
	}
	return !any || pkt_send(m->fd, p);
}

/* Remember a field a milter added, for the milters after it. */
static void
header_added(struct worker *w, const struct pkt *p, bool top)
{
	const char *a = p->buf + 5, *end = p->buf + p->len;
	size_t nl, vl;
	char *v;

	if (top)
		a += 4;
	if (w->nadded == MAX_ADDED || a >= end ||
	    (nl = strnlen(a, (size_t)(end - a))) + 1 >= (size_t)(end - a))
		return;
	vl = strnlen(a + nl + 1, (size_t)(end - a) - nl - 1);
	/* Stored like the message's own: with a leading space. */
	v = xrealloc(NULL, vl + 2);
	v[0] = ' ';
	memcpy(v + 1, a + nl + 1, vl);
	v[vl + 1] = '\0';
	w->added[w->nadded].name = strndup(a, nl);
	w->added[w->nadded].value = v;
	if (w->added[w->nadded].name == NULL)
		oom();
	w->added_top[w->nadded++] = top;
}

static void
header_added_clear(struct worker *w)
{
	while (w->nadded > 0) {
		w->nadded--;
		free(w->added[w->nadded].name);
		free(w->added[w->nadded].value);
	}
}

/*
 * Send one step and, unless the milter asked for no reply, read its
 * answer.  At EOM, modifications and progress notes come before the
 * final reply.  Returns the reply command (RPL_CONTINUE for a no-reply
 * step), or -1 on an I/O or protocol error.
 */
static int
step(struct mconn *m, struct pkt *p, bool noreply, struct worker *w,
    bool *quarantined)
{
	int c;

	if (!pkt_send(m->fd, p))
		return -1;
	if (noreply)
		return RPL_CONTINUE;
	for (;;) {
		c = pkt_recv(m->fd, p);
		switch (c) {
		case RPL_ACCEPT: case RPL_CONTINUE: case RPL_REJECT:
		case RPL_TEMPFAIL: case RPL_DISCARD: case RPL_REPLYCODE:
		case RPL_SKIP: case -1:
			return c;
		case RPL_PROGRESS:
			continue;
		case RPL_QUARANTINE:
			*quarantined = true;
			/* FALLTHROUGH */
		case 'h':	/* SMFIR_ADDHEADER */
		case 'i':	/* SMFIR_INSHEADER: the index first */
			w->mods++;
			header_added(w, p, c == 'i');
			continue;
		default:	/* a modification: m e + - 2 b ... */
			w->mods++;
			continue;
		}
	}
}

/* Fold one milter's step reply into the message outcome. */
static bool
settle(struct mconn *m, int c, const struct pkt *p, enum outcome *out)
{
	switch (c) {
	case RPL_ACCEPT:
		m->done = true;
		return true;
	case RPL_CONTINUE:
	case RPL_SKIP:
		return true;
	case RPL_REJECT:
		*out = OUT_REJECT;
		return false;
	case RPL_TEMPFAIL:
		*out = OUT_TEMPFAIL;
		return false;
	case RPL_DISCARD:
		*out = OUT_DISCARD;
		return false;
	case RPL_REPLYCODE:
		*out = p->len > 5 && p->buf[5] == '4' ? OUT_TEMPFAIL :
		    OUT_REJECT;
		return false;
	default:
		*out = OUT_ERROR;
		return false;
	}
}

/* CONNECT and HELO to every milter of the session. */
static enum outcome
session_start(struct mconn *ms, struct pkt *p, struct worker *w)
{
	const char *conn_macros[] = { "j", "mx.receiver.test",
	    "{daemon_name}", "mx.receiver.test", "{daemon_addr}", "127.0.0.1",
	    "v", "Postfix 3.7", "_", "unknown [192.0.2.10]",
	    "{client_addr}", client_ip, "{client_name}", "unknown",
	    "{client_ptr}", "unknown", "{client_connections}", "0", NULL };
	const char *helo_macros[] = { "{tls_version}", "", "{cipher}", "",
	    NULL };
	bool q = false, v6 = strchr(client_ip, ':') != NULL;
	enum outcome out = OUT_CONTINUE;
	uint16_t port = htons(40000);
	size_t i;
	int c;

	for (i = 0; i < nmilters; i++) {
		struct mconn *m = &ms[i];

		if ((m->fd = sock_open(milter_sock[i])) < 0 ||
		    !negotiate(m, p)) {
			snprintf(w->err, sizeof(w->err), "%s: cannot connect "
			    "or negotiate", milter_sock[i]);
			return OUT_ERROR;
		}
	}
	for (i = 0; i < nmilters; i++) {
		struct mconn *m = &ms[i];

		if (m->done || (m->pflags & P_NOCONNECT))
			continue;
		if (!send_macros(m, p, CMD_CONNECT, ST_CONNECT, conn_macros))
			return OUT_ERROR;
		pkt_start(p, CMD_CONNECT);
		pkt_str(p, "unknown");
		pkt_add(p, v6 ? "6" : "4", 1);
		pkt_add(p, &port, 2);
		pkt_str(p, client_ip);
		c = step(m, p, m->pflags & P_NR_CONN, w, &q);
		if (!settle(m, c, p, &out))
			return out;
	}
	for (i = 0; i < nmilters; i++) {
		struct mconn *m = &ms[i];

		if (m->done || (m->pflags & P_NOHELO))
			continue;
		if (!send_macros(m, p, CMD_HELO, ST_HELO, helo_macros))
			return OUT_ERROR;
		pkt_start(p, CMD_HELO);
		pkt_str(p, helo_name);
		c = step(m, p, m->pflags & P_NR_HELO, w, &q);
		if (!settle(m, c, p, &out))
			return out;
	}
	return OUT_CONTINUE;
}

/* The reverse-path of one message: --mail-from with "%q" replaced by
 * the message's queue id, so that each message can come from a domain
 * of its own (a cold SPF chain every time). */
static void
sender_of(const char *qid, char *dst, size_t n)
{
	const char *q = strstr(mail_from, "%q");

	if (q == NULL)
		snprintf(dst, n, "%s", mail_from);
	else
		snprintf(dst, n, "%.*s%s%s", (int)(q - mail_from), mail_from,
		    qid, q + 2);
}

/* MAIL, RCPT, headers, EOH and the body for milter M. */
static bool
message_to(struct mconn *m, struct pkt *p, struct worker *w,
    const char *qid, enum outcome *out, bool *q)
{
	char from[512], to[512], sender[400];
	const char *mail_macros[] = { "i", qid, "{auth_type}", "",
	    "{auth_authen}", "", "{auth_author}", "", "{mail_addr}",
	    sender, "{mail_host}", "", "{mail_mailer}", "smtp", NULL };
	const char *rcpt_macros[] = { "{rcpt_addr}", rcpt_to, "{rcpt_host}",
	    "", "{rcpt_mailer}", "smtp", NULL };
	const char *data_macros[] = { "i", qid, NULL };
	const char *eoh_macros[] = { "i", qid, NULL };
	size_t i, off;
	int c;

	sender_of(qid, sender, sizeof(sender));
	if (!(m->pflags & P_NOMAIL)) {
		if (!send_macros(m, p, CMD_MAIL, ST_MAIL, mail_macros))
			return false;
		snprintf(from, sizeof(from), "<%s>", sender);
		pkt_start(p, CMD_MAIL);
		pkt_str(p, from);
		c = step(m, p, m->pflags & P_NR_MAIL, w, q);
		if (!settle(m, c, p, out) || m->done)
			return *out != OUT_ERROR;
	}
	if (!(m->pflags & P_NORCPT)) {
		if (!send_macros(m, p, CMD_RCPT, ST_RCPT, rcpt_macros))
			return false;
		snprintf(to, sizeof(to), "<%s>", rcpt_to);
		pkt_start(p, CMD_RCPT);
		pkt_str(p, to);
		c = step(m, p, m->pflags & P_NR_RCPT, w, q);
		if (!settle(m, c, p, out) || m->done)
			return *out != OUT_ERROR;
	}
	if (!(m->pflags & P_NODATA)) {
		if (!send_macros(m, p, CMD_DATA, ST_DATA, data_macros))
			return false;
		pkt_start(p, CMD_DATA);
		c = step(m, p, m->pflags & P_NR_DATA, w, q);
		if (!settle(m, c, p, out) || m->done)
			return *out != OUT_ERROR;
	}
	/* Inserted fields (newest first), the message's, added ones. */
	for (i = 0; i < w->nadded + nheaders + w->nadded &&
	    !(m->pflags & P_NOHDRS); i++) {
		const struct header *h;
		const char *v;

		if (i < w->nadded) {
			if (!w->added_top[w->nadded - 1 - i])
				continue;
			h = &w->added[w->nadded - 1 - i];
		} else if (i < w->nadded + nheaders)
			h = &headers[i - w->nadded];
		else if (w->added_top[i - w->nadded - nheaders])
			continue;
		else
			h = &w->added[i - w->nadded - nheaders];
		v = h->value;
		/* Without HDR_LEADSPC, Postfix drops the leading space. */
		if (!(m->pflags & P_HDR_LEADSPC))
			while (*v == ' ' || *v == '\t')
				v++;
		pkt_start(p, CMD_HEADER);
		pkt_str(p, h->name);
		pkt_str(p, v);
		c = step(m, p, m->pflags & P_NR_HDR, w, q);
		if (!settle(m, c, p, out) || m->done)
			return *out != OUT_ERROR;
	}
	if (!(m->pflags & P_NOEOH)) {
		if (!send_macros(m, p, CMD_EOH, ST_EOH, eoh_macros))
			return false;
		pkt_start(p, CMD_EOH);
		c = step(m, p, m->pflags & P_NR_EOH, w, q);
		if (!settle(m, c, p, out) || m->done)
			return *out != OUT_ERROR;
	}
	for (off = 0; off < body_len && !(m->pflags & P_NOBODY); ) {
		size_t n = body_len - off > BODY_CHUNK ? BODY_CHUNK :
		    body_len - off;

		pkt_start(p, CMD_BODY);
		pkt_add(p, body + off, n);
		off += n;
		c = step(m, p, m->pflags & P_NR_BODY, w, q);
		if (c == RPL_SKIP)
			break;
		if (!settle(m, c, p, out) || m->done)
			return *out != OUT_ERROR;
	}
	return true;
}

/* One message through the chain; its outcome. */
static enum outcome
message_run(struct mconn *ms, struct pkt *p, struct worker *w,
    unsigned long seq)
{
	char qid[32];
	const char *eom_macros[] = { "i", qid, NULL };
	enum outcome out = OUT_CONTINUE;
	bool q = false, any_accept = false;
	size_t i;
	int c;

	snprintf(qid, sizeof(qid), "%02X%08lX", w->id & 0xff, seq);
	header_added_clear(w);
	for (i = 0; i < nmilters; i++) {
		struct mconn *m = &ms[i];

		if (!m->done && !message_to(m, p, w, qid, &out, &q))
			return OUT_ERROR;
		else if (out != OUT_CONTINUE)
			return out;
		if (m->done) {
			any_accept = true;
			continue;
		}
		if (!send_macros(m, p, CMD_BODYEOB, ST_EOM, eom_macros))
			return OUT_ERROR;
		pkt_start(p, CMD_BODYEOB);
		c = step(m, p, false, w, &q);
		if (!settle(m, c, p, &out))
			return out;
		if (c == RPL_ACCEPT)
			any_accept = true;
	}
	if (q)
		return OUT_QUARANTINE;
	return any_accept ? OUT_ACCEPT : OUT_CONTINUE;
}

static void
session_end(struct mconn *ms, struct pkt *p)
{
	size_t i;

	for (i = 0; i < nmilters; i++) {
		if (ms[i].fd >= 0) {
			pkt_start(p, CMD_QUIT);
			(void)pkt_send(ms[i].fd, p);
			close(ms[i].fd);
		}
		ms[i].fd = -1;
		ms[i].done = false;
		ms[i].pflags = 0;
		for (int s = 0; s < ST_MAX; s++) {
			free(ms[i].symlist[s]);
			ms[i].symlist[s] = NULL;
		}
	}
}

/* A message ended early: reset every milter for the next (no reply). */
static void
message_abort(struct mconn *ms, struct pkt *p)
{
	size_t i;

	for (i = 0; i < nmilters; i++) {
		pkt_start(p, CMD_ABORT);
		(void)pkt_send(ms[i].fd, p);
	}
}

static void
record(struct worker *w, double t0, enum outcome out)
{
	w->count[out]++;
	if (out == OUT_ERROR)
		return;
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 1024;
		w->lat = xrealloc(w->lat, w->caplat * sizeof(*w->lat));
	}
	w->lat[w->nlat++] = (now() - t0) * 1000.0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct mconn ms[MAX_MILTERS];
	struct pkt p = { NULL, 0, 0 };
	unsigned long seq = 0;
	size_t i;

	memset(ms, 0, sizeof(ms));
	for (i = 0; i < MAX_MILTERS; i++)
		ms[i].fd = -1;
	while (claim()) {
		double t0 = now();
		enum outcome out = session_start(ms, &p, w);
		long k = 0;

		if (out != OUT_CONTINUE) {
			record(w, t0, out);
			session_end(ms, &p);
			continue;
		}
		for (;;) {
			bool was_done[MAX_MILTERS];

			for (i = 0; i < nmilters; i++)
				was_done[i] = ms[i].done;
			out = message_run(ms, &p, w, seq++);
			record(w, t0, out);
			if (out == OUT_REJECT || out == OUT_TEMPFAIL ||
			    out == OUT_DISCARD)
				message_abort(ms, &p);
			/* An accept at EOM ends that milter's message only. */
			for (i = 0; i < nmilters; i++)
				ms[i].done = was_done[i];
			if (out == OUT_ERROR || ++k >= per_conn || !claim())
				break;
			t0 = now();
		}
		session_end(ms, &p);
	}
	header_added_clear(w);
	free(p.buf);
	return NULL;
}

/* Read the message: header fields, then the body with CRLF line ends. */
static int
load_message(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, bcap = 0;
	ssize_t n;
	bool in_body = false;

	if (f == NULL) {
		fprintf(stderr, "milterload: %s: %s\n", path, strerror(errno));
		return EX_NOINPUT;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (in_body) {
			if (body_len + (size_t)n + 2 > bcap) {
				bcap = (body_len + (size_t)n + 2) * 2;
				body = xrealloc(body, bcap);
			}
			memcpy(body + body_len, line, (size_t)n);
			memcpy(body + body_len + n, "\r\n", 2);
			body_len += (size_t)n + 2;
		} else if (n == 0) {
			in_body = true;
		} else if ((line[0] == ' ' || line[0] == '\t') && nheaders > 0) {
			struct header *h = &headers[nheaders - 1];
			size_t old = strlen(h->value);

			h->value = xrealloc(h->value, old + (size_t)n + 2);
			h->value[old] = '\n';
			memcpy(h->value + old + 1, line, (size_t)n + 1);
		} else {
			char *colon = strchr(line, ':');

			if (colon == NULL || nheaders == MAX_HEADERS) {
				fprintf(stderr, "milterload: %s: bad header "
				    "line or more than %d fields\n", path,
				    MAX_HEADERS);
				free(line);
				fclose(f);
				return EX_DATAERR;
			}
			*colon = '\0';
			headers[nheaders].name = strdup(line);
			headers[nheaders].value = strdup(colon + 1);
			if (headers[nheaders].name == NULL ||
			    headers[nheaders].value == NULL)
				oom();
			nheaders++;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i];
}

static void
usage(void)
{
	fprintf(stderr, "usage: milterload [-c CONNS] [-n MESSAGES | -t "
	    "SECONDS] -m MSGFILE [--client-ip IP]\n"
	    "    [--helo NAME] [--mail-from ADDR] [--rcpt ADDR] "
	    "[--per-connection K]\n"
	    "    [--expect accept|continue|reject|tempfail|quarantine|"
	    "discard]\n"
	    "    -s inet:PORT@HOST|unix:PATH [-s SOCKET]\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	enum { O_IP = 256, O_HELO, O_FROM, O_RCPT, O_PERCONN, O_EXPECT };
	static const struct option longopts[] = {
		{ "client-ip", required_argument, NULL, O_IP },
		{ "helo", required_argument, NULL, O_HELO },
		{ "mail-from", required_argument, NULL, O_FROM },
		{ "rcpt", required_argument, NULL, O_RCPT },
		{ "per-connection", required_argument, NULL, O_PERCONN },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ NULL, 0, NULL, 0 }
	};
	struct worker *ws;
	unsigned long count[OUT_MAX] = { 0 }, mods = 0;
	const char *msgfile = NULL, *expect = NULL;
	double *all, t0, secs;
	size_t nall = 0, i;
	long conns = 1;
	int ch, rc, o, status = 0;

	/* A milter that closes the connection is an error, not our death. */
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "c:n:t:m:s:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': conns = atol(optarg); break;
		case 'n': total_msgs = atol(optarg); break;
		case 't': run_seconds = atof(optarg); break;
		case 'm': msgfile = optarg; break;
		case 's':
			if (nmilters == MAX_MILTERS)
				usage();
			milter_sock[nmilters++] = optarg;
			break;
		case O_IP: client_ip = optarg; break;
		case O_HELO: helo_name = optarg; break;
		case O_FROM: mail_from = optarg; break;
		case O_RCPT: rcpt_to = optarg; break;
		case O_PERCONN: per_conn = atol(optarg); break;
		case O_EXPECT: expect = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || msgfile == NULL || nmilters == 0 ||
	    conns < 1 || conns > 4096 || per_conn < 1 || total_msgs < 1)
		usage();
	if ((rc = load_message(msgfile)) != 0)
		return rc;
	ws = calloc((size_t)conns, sizeof(*ws));
	if (ws == NULL)
		return EX_OSERR;
	t0 = now();
	deadline = t0 + run_seconds;
	for (i = 0; i < (size_t)conns; i++) {
		ws[i].id = (unsigned)i;
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "milterload: pthread_create failed\n");
			return EX_OSERR;
		}
	}
	for (i = 0; i < (size_t)conns; i++)
		pthread_join(ws[i].tid, NULL);
	secs = now() - t0;
	for (i = 0; i < (size_t)conns; i++)
		nall += ws[i].nlat;
	all = xrealloc(NULL, (nall ? nall : 1) * sizeof(*all));
	nall = 0;
	for (i = 0; i < (size_t)conns; i++) {
		if (ws[i].nlat > 0)
			memcpy(all + nall, ws[i].lat,
			    ws[i].nlat * sizeof(*all));
		nall += ws[i].nlat;
		for (o = 0; o < OUT_MAX; o++)
			count[o] += ws[i].count[o];
		mods += ws[i].mods;
		if (ws[i].err[0] != '\0' && status == 0) {
			fprintf(stderr, "milterload: %s\n", ws[i].err);
			status = 1;
		}
		free(ws[i].lat);
	}
	qsort(all, nall, sizeof(*all), cmp_double);
	printf("messages %zu errors %lu seconds %.3f msgs/s %.1f\n", nall,
	    count[OUT_ERROR], secs, secs > 0 ? (double)nall / secs : 0.0);
	printf("latency_ms p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
	    pct(all, nall, 0.50), pct(all, nall, 0.90), pct(all, nall, 0.99),
	    nall ? all[nall - 1] : 0.0);
	printf("replies");
	for (o = 0; o < OUT_ERROR; o++)
		printf(" %s %lu", outcome_name[o], count[o]);
	printf(" modifications %lu\n", mods);
	status = count[OUT_ERROR] > 0;
	if (expect != NULL) {
		for (o = 0; o < OUT_ERROR; o++)
			if (strcmp(expect, outcome_name[o]) != 0 && count[o])
				status = 1;
		if (nall == 0)
			status = 1;
	}
	free(all);
	free(ws);
	return status;
}
