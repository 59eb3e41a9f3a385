/*
 * faultdns.c - a small authoritative DNS server that misbehaves on
 * purpose, for the fault tier (make check-faults).
 *
 *   faultdns -p PORT [-d DELAY_MS] [-k KEYFILE]
 *
 * Listens on 127.0.0.1:PORT over UDP and TCP, prints "faultdns ready" on
 * stdout once bound, and answers every name under .test by the label
 * just before ".test" (the "zone"):
 *
 *   good      _dmarc.* TXT "v=DMARC1; p=reject"; the apex TXT
 *             "v=spf1 ip4:192.0.2.10 -all" and A 192.0.2.10; other
 *             names NXDOMAIN, other types NODATA; with -k, every
 *             *._domainkey name has TXT the first line of KEYFILE (a
 *             DKIM key record, split into strings of 255 bytes)
 *   timeout   no answer at all (UDP dropped; TCP read and never answered)
 *   servfail  RCODE SERVFAIL            refused   RCODE REFUSED
 *   tc        over UDP an empty answer with TC=1; over TCP as "good"
 *   big       TXT: one record of 255 strings of 255 bytes (65,025 bytes
 *             of text; over UDP TC=1, the whole answer over TCP)
 *   many      TXT: 50 records (DMARC records at _dmarc, SPF records at
 *             the apex), more than a UDP answer holds: TC=1, then TCP
 *   loop      a CNAME loop: N is a CNAME for lb.N, lb.N one for N
 *   slow      as "good", each answer sent DELAY_MS (default 1000) late
 *
 * Any other zone is REFUSED.  Single process: UDP in the main loop, one
 * thread per TCP connection and per delayed answer.  Test code only: no
 * compression on input, one question per query, loopback only.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG		65535
#define UDP_MAX		512	/* without EDNS; we honour no EDNS */

enum zone { Z_GOOD, Z_TIMEOUT, Z_SERVFAIL, Z_REFUSED, Z_TC, Z_BIG, Z_MANY,
	Z_LOOP, Z_SLOW, Z_OTHER };

static unsigned delay_ms = 1000;
static char *dkim_key;		/* -k: the key record, or NULL */
static int udp_fd = -1;

struct query {
	uint16_t id;
	uint16_t flags;		/* of the query (RD copied) */
	char	 name[256];	/* dotted, lower case, no trailing dot */
	size_t	 qlen;		/* bytes of the question section */
	uint16_t qtype;
	uint8_t	 question[300];
};

/* Parse the single question of msg; -1 when it is not one. */
static int
parse_query(const uint8_t *msg, size_t len, struct query *q)
{
	size_t off = 12, n = 0;
	unsigned l;

	if (len < 12 || (msg[2] & 0x80) != 0 || msg[4] != 0 || msg[5] != 1)
		return -1;
	q->id = (uint16_t)(msg[0] << 8 | msg[1]);
	q->flags = (uint16_t)(msg[2] << 8 | msg[3]);
	for (;;) {
		if (off >= len)
			return -1;
		l = msg[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len || n + l + 1 >= sizeof(q->name))
			return -1;
		if (n > 0)
			q->name[n++] = '.';
		while (l-- > 0) {
			char c = (char)msg[off++];

			q->name[n++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		}
	}
	q->name[n] = '\0';
	if (off + 4 > len || off - 12 + 4 > sizeof(q->question))
		return -1;
	q->qtype = (uint16_t)(msg[off] << 8 | msg[off + 1]);
	q->qlen = off + 4 - 12;
	memcpy(q->question, msg + 12, q->qlen);
	return 0;
}

static enum zone
zone_of(const char *name, const char **apex)
{
	static const char *const names[] = { "good", "timeout", "servfail",
	    "refused", "tc", "big", "many", "loop", "slow" };
	size_t n = strlen(name), i;
	const char *end, *z;

	if (n < 6 || strcmp(name + n - 5, ".test") != 0)
		return Z_OTHER;
	end = name + n - 5;
	for (z = end; z > name && z[-1] != '.'; z--)
		;
	*apex = z;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((size_t)(end - z) == strlen(names[i]) &&
		    strncmp(z, names[i], (size_t)(end - z)) == 0)
			return (enum zone)i;
	return Z_OTHER;
}

struct out {
	uint8_t	 b[MAXMSG];
	size_t	 n;
	int	 ancount;
	bool	 overflow;
};

static void
put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > sizeof(o->b)) {
		o->overflow = true;
		return;
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void
put16(struct out *o, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(o, b, 2);
}

/* An answer RR owned by the question's name (pointer to offset 12). */
static void
rr_begin(struct out *o, uint16_t type, size_t rdlen)
{
	put16(o, 0xc00c);
	put16(o, type);
	put16(o, 1);
	put16(o, 0);
	put16(o, 300);
	put16(o, (unsigned)rdlen);
	o->ancount++;
}

static void
rr_txt(struct out *o, const char *s)
{
	size_t n = strlen(s);
	uint8_t l = (uint8_t)n;

	rr_begin(o, 16, n + 1);
	put(o, &l, 1);
	put(o, s, n);
}

static void
put_name(struct out *o, const char *name)
{
	const char *p = name, *dot;
	uint8_t l;

	while (*p != '\0') {
		dot = strchr(p, '.');
		l = (uint8_t)(dot != NULL ? (size_t)(dot - p) : strlen(p));
		put(o, &l, 1);
		put(o, p, l);
		p += l;
		if (*p == '.')
			p++;
	}
	l = 0;
	put(o, &l, 1);
}

/* Build the answer to q over tcp or UDP; rcode in *rc. */
static void
answer(const struct query *q, bool tcp, struct out *o)
{
	const char *apex = NULL;
	enum zone z = zone_of(q->name, &apex);
	bool is_apex = apex == q->name, dmarc = strncmp(q->name, "_dmarc.",
	    7) == 0;
	int rcode = 0, i;
	bool tc = false, exists = is_apex || dmarc || (dkim_key != NULL &&
	    strstr(q->name, "._domainkey.") != NULL);
	char buf[300];

	o->n = 12;
	o->ancount = 0;
	o->overflow = false;
	put(o, q->question, q->qlen);
	switch (z) {
	case Z_OTHER:
	case Z_REFUSED:
		rcode = 5;
		break;
	case Z_SERVFAIL:
		rcode = 2;
		break;
	case Z_TC:
		if (!tcp) {
			tc = true;
			break;
		}
		/* FALLTHROUGH */
	case Z_GOOD:
	case Z_SLOW:
		if (q->qtype == 16 && dmarc)
			rr_txt(o, "v=DMARC1; p=reject");
		else if (q->qtype == 16 && is_apex)
			rr_txt(o, "v=spf1 ip4:192.0.2.10 -all");
		else if (q->qtype == 16 && dkim_key != NULL &&
		    strstr(q->name, "._domainkey.") != NULL) {
			size_t kl = strlen(dkim_key), off, n;

			rr_begin(o, 16, kl + (kl + 254) / 255);
			for (off = 0; off < kl; off += n) {
				uint8_t l;

				n = kl - off > 255 ? 255 : kl - off;
				l = (uint8_t)n;
				put(o, &l, 1);
				put(o, dkim_key + off, n);
			}
		} else if (q->qtype == 1 && is_apex) {
			static const uint8_t a[4] = { 192, 0, 2, 10 };

			rr_begin(o, 1, 4);
			put(o, a, 4);
		} else if (!exists)
			rcode = 3;
		break;
	case Z_BIG:
		if (q->qtype != 16)
			break;
		rr_begin(o, 16, 255 * 256);
		for (i = 0; i < 255; i++) {
			uint8_t l = 255;

			memset(buf, 'x', 255);
			if (i == 0)
				memcpy(buf, dmarc ? "v=DMARC1; p=reject; " :
				    "v=spf1 ", dmarc ? 20 : 7);
			put(o, &l, 1);
			put(o, buf, 255);
		}
		break;
	case Z_MANY:
		if (q->qtype != 16)
			break;
		for (i = 0; i < 50; i++) {
			if (dmarc)
				snprintf(buf, sizeof(buf), "v=DMARC1; p=reject; "
				    "rua=mailto:r%d@many.test", i);
			else
				snprintf(buf, sizeof(buf), "v=spf1 "
				    "ip4:192.0.2.%d -all", i + 1);
			rr_txt(o, buf);
		}
		break;
	case Z_LOOP:
		if (strncmp(q->name, "lb.", 3) == 0)
			snprintf(buf, sizeof(buf), "%s", q->name + 3);
		else
			snprintf(buf, sizeof(buf), "lb.%s", q->name);
		rr_begin(o, 5, strlen(buf) + 2);
		put_name(o, buf);
		break;
	case Z_TIMEOUT:
		break;
	}
	if (!tcp && o->n > UDP_MAX) {
		tc = true;
		o->n = 12 + q->qlen;
		o->ancount = 0;
	}
	if (tc) {
		o->n = 12 + q->qlen;
		o->ancount = 0;
	}
	o->b[0] = (uint8_t)(q->id >> 8);
	o->b[1] = (uint8_t)q->id;
	/* QR, AA, TC, RD copied; RCODE */
	o->b[2] = (uint8_t)(0x80 | 0x04 | (tc ? 0x02 : 0) |
	    ((q->flags >> 8) & 0x01));
	o->b[3] = (uint8_t)rcode;
	o->b[4] = 0;
	o->b[5] = 1;
	o->b[6] = (uint8_t)(o->ancount >> 8);
	o->b[7] = (uint8_t)o->ancount;
	memset(o->b + 8, 0, 4);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct delayed {
	struct sockaddr_storage to;
	socklen_t tolen;
	struct out o;
};

static void *
delayed_send(void *arg)
{
	struct delayed *d = arg;

	sleep_ms(delay_ms);
	(void)sendto(udp_fd, d->o.b, d->o.n, 0, (struct sockaddr *)&d->to,
	    d->tolen);
	free(d);
	return NULL;
}

static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *
tcp_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t len[2], *msg = malloc(MAXMSG);
	struct out *o = malloc(sizeof(*o));
	struct query q;
	const char *apex;
	size_t n;

	while (msg != NULL && o != NULL && read_full(fd, len, 2) == 0) {
		n = (size_t)(len[0] << 8 | len[1]);
		if (read_full(fd, msg, n) != 0)
			break;
		if (parse_query(msg, n, &q) != 0)
			break;
		switch (zone_of(q.name, &apex)) {
		case Z_TIMEOUT:
			continue;	/* read on, never answer */
		case Z_SLOW:
			sleep_ms(delay_ms);
			break;
		default:
			break;
		}
		answer(&q, true, o);
		len[0] = (uint8_t)(o->n >> 8);
		len[1] = (uint8_t)o->n;
		if (write(fd, len, 2) != 2 ||
		    write(fd, o->b, o->n) != (ssize_t)o->n)
			break;
	}
	free(msg);
	free(o);
	close(fd);
	return NULL;
}

static void
spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t a;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, fn, arg) != 0)
		fprintf(stderr, "faultdns: pthread_create failed\n");
	pthread_attr_destroy(&a);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct pollfd pfd[2];
	uint8_t msg[MAXMSG];
	static struct out o;
	struct query q;
	const char *apex;
	int ch, port = 0, tcp_fd, one = 1;

	while ((ch = getopt(argc, argv, "p:d:k:")) != -1) {
		switch (ch) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			delay_ms = (unsigned)atoi(optarg);
			break;
		case 'k': {
			FILE *f = fopen(optarg, "r");
			static char line[8192];

			if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
				fprintf(stderr, "faultdns: %s: cannot read\n",
				    optarg);
				return 66;
			}
			fclose(f);
			line[strcspn(line, "\r\n")] = '\0';
			dkim_key = line;
			break;
		}
		default:
			goto usage;
		}
	}
	if (port <= 0 || port > 65535)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((udp_fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    (tcp_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 ||
	    bind(udp_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    bind(tcp_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(tcp_fd, 64) != 0) {
		fprintf(stderr, "faultdns: cannot listen on 127.0.0.1:%d: "
		    "%s\n", port, strerror(errno));
		return 1;
	}
	printf("faultdns ready on 127.0.0.1:%d\n", port);
	fflush(stdout);
	pfd[0].fd = udp_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = tcp_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept(tcp_fd, NULL, NULL);

			if (c >= 0)
				spawn(tcp_conn, (void *)(intptr_t)c);
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		n = recvfrom(udp_fd, msg, sizeof(msg), 0,
		    (struct sockaddr *)&from, &fl);
		if (n <= 0 || parse_query(msg, (size_t)n, &q) != 0)
			continue;
		switch (zone_of(q.name, &apex)) {
		case Z_TIMEOUT:
			continue;
		case Z_SLOW: {
			struct delayed *d = malloc(sizeof(*d));

			if (d == NULL)
				continue;
			memcpy(&d->to, &from, fl);
			d->tolen = fl;
			answer(&q, false, &d->o);
			spawn(delayed_send, d);
			continue;
		}
		default:
			break;
		}
		answer(&q, false, &o);
		(void)sendto(udp_fd, o.b, o.n, 0, (struct sockaddr *)&from, fl);
	}
usage:
	fprintf(stderr, "usage: faultdns -p PORT [-d DELAY_MS] [-k KEYFILE]\n");
	return 64;
}
