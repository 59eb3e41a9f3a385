/*
 * smtpload.c - an SMTP load driver at a steady rate, for bench/soak.sh:
 * one message per SMTP session, the kind of each message (its sender
 * domain) drawn in turn from a weighted mix, and one line per message
 * with its latency and the server's final reply.
 *
 *   smtpload -s HOST:PORT -k DOMAIN:WEIGHT[,DOMAIN:WEIGHT...]
 *       [-r RATE] [-t SECONDS] [-n MESSAGES] [-c CONNS] [-i RUNID]
 *       [-o FILE]
 *
 * RATE messages per second are scheduled at fixed times (t0 + i/RATE)
 * and CONNS threads send them; a message's latency runs from its
 * scheduled time to the reply to its final "." (so a backlog shows in
 * the latency instead of hiding in a slower rate).  RATE 0 (default):
 * each thread sends as fast as it can, and the latency runs from its
 * connect.  Each message is "From: <load@DOMAIN>" with MAIL FROM the
 * same and Message-ID <soak-RUNID-N@DOMAIN>.  Output, flushed per line:
 *   DONE_MS LATENCY_MS CODE DOMAIN QUEUEID N
 * DONE_MS is wall-clock milliseconds since the epoch, CODE the 3-digit
 * final reply (0: connection or protocol error, the message was not
 * sent), QUEUEID Postfix's "queued as" id or "-".  At the end a summary
 * goes to standard error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS	16
#define IO_TIMEOUT_S	120

struct kind {
	char	 domain[128];
	unsigned weight;
};

static struct sockaddr_in server;
static struct kind kinds[MAX_KINDS];
static size_t nkinds;
static unsigned weight_total;
static double rate;
static double duration = 60;
static long max_messages = -1;
static const char *runid = "0";
static FILE *out;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long next_index;
static atomic_long count_by_class[6];	/* 0 error, 2xx .. 5xx */
static double t0;

static void
usage(void)
{
	fprintf(stderr, "usage: smtpload -s HOST:PORT -k DOMAIN:WEIGHT[,...] "
	    "[-r RATE] [-t SECONDS] [-n MESSAGES] [-c CONNS] [-i RUNID] "
	    "[-o FILE]\n");
	exit(EX_USAGE);
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long
now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_until(double t)
{
	double d;
	struct timespec ts;

	while ((d = t - now_mono()) > 0) {
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* "d1:w1,d2:w2" into kinds[]. */
static void
parse_kinds(const char *spec)
{
	char *copy = strdup(spec), *item, *save = NULL, *colon;

	if (copy == NULL)
		exit(EX_OSERR);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if (nkinds == MAX_KINDS || (colon = strchr(item, ':')) == NULL ||
		    (size_t)(colon - item) >= sizeof(kinds[0].domain)) {
			fprintf(stderr, "smtpload: -k %s: expected "
			    "DOMAIN:WEIGHT,... (at most %d)\n", spec, MAX_KINDS);
			exit(EX_USAGE);
		}
		*colon = '\0';
		snprintf(kinds[nkinds].domain, sizeof(kinds[0].domain), "%s",
		    item);
		kinds[nkinds].weight = (unsigned)strtoul(colon + 1, NULL, 10);
		weight_total += kinds[nkinds].weight;
		nkinds++;
	}
	free(copy);
	if (weight_total == 0) {
		fprintf(stderr, "smtpload: -k %s: no weight\n", spec);
		exit(EX_USAGE);
	}
}

/* Message n's kind: the weights interleaved evenly over the sequence. */
static const char *
kind_of(long n)
{
	unsigned slot = (unsigned)(((unsigned long)n * 7919UL) % weight_total);
	size_t i;

	for (i = 0; i < nkinds; i++) {
		if (slot < kinds[i].weight)
			return kinds[i].domain;
		slot -= kinds[i].weight;
	}
	return kinds[0].domain;
}

struct conn {
	int	 fd;
	char	 buf[8192];
	size_t	 len;
	char	 line[1024];	/* the last reply line */
};

/* Read one reply (all its lines); its code, or 0 on error. */
static int
reply(struct conn *c)
{
	char *nl;
	ssize_t r;
	size_t n;

	for (;;) {
		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			n = (size_t)(nl - c->buf) + 1;
			snprintf(c->line, sizeof(c->line), "%.*s", (int)n,
			    c->buf);
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (n >= 4 && c->line[3] == ' ')
				return atoi(c->line);
			if (n < 4 || c->line[3] != '-')
				return 0;
		}
		if (c->len == sizeof(c->buf))
			return 0;
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r <= 0)
			return 0;
		c->len += (size_t)r;
	}
}

static bool
say(struct conn *c, const char *s)
{
	size_t n = strlen(s), off = 0;
	ssize_t w;

	while (off < n) {
		if ((w = write(c->fd, s + off, n - off)) <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* One SMTP session for message n; the final code, *qid filled. */
static int
session(long n, const char *domain, char *qid, size_t qidsz)
{
	struct conn c = { .fd = -1 };
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	char cmd[2048];
	const char *p;
	int code = 0, on = 1;

	snprintf(qid, qidsz, "-");
	if ((c.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c.fd, (struct sockaddr *)&server, sizeof(server)) != 0)
		goto done;
	if (reply(&c) != 220 || !say(&c, "EHLO load.soak.test\r\n") ||
	    reply(&c) != 250)
		goto done;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<load@%s>\r\n", domain);
	if (!say(&c, cmd) || (code = reply(&c)) != 250)
		goto done;
	if (!say(&c, "RCPT TO:<rcpt@receiver.test>\r\n") ||
	    (code = reply(&c)) != 250)
		goto done;
	if (!say(&c, "DATA\r\n") || (code = reply(&c)) != 354) {
		code = code == 354 ? 0 : code;
		goto done;
	}
	snprintf(cmd, sizeof(cmd),
	    "From: <load@%s>\r\nTo: <rcpt@receiver.test>\r\n"
	    "Subject: soak %ld\r\nMessage-ID: <soak-%s-%ld@%s>\r\n\r\n"
	    "Steady load for bench/soak.sh, message %ld.\r\n.\r\n",
	    domain, n, runid, n, domain, n);
	if (!say(&c, cmd)) {
		code = 0;
		goto done;
	}
	code = reply(&c);
	if (code == 250 && (p = strstr(c.line, "queued as ")) != NULL)
		snprintf(qid, qidsz, "%.*s", (int)strcspn(p + 10, " \r\n"),
		    p + 10);
	(void)say(&c, "QUIT\r\n");
	(void)reply(&c);
done:
	close(c.fd);
	return code;
}

static void *
worker(void *arg)
{
	const char *domain;
	char qid[64];
	double start, end;
	long n;
	int code;

	(void)arg;
	for (;;) {
		n = atomic_fetch_add(&next_index, 1);
		if (max_messages >= 0 && n >= max_messages)
			break;
		if (rate > 0) {
			start = t0 + (double)n / rate;
			if (start - t0 >= duration)
				break;
			sleep_until(start);
		} else {
			start = now_mono();
			if (start - t0 >= duration)
				break;
		}
		domain = kind_of(n);
		code = session(n, domain, qid, sizeof(qid));
		end = now_mono();
		atomic_fetch_add(&count_by_class[code >= 200 && code < 600 ?
		    code / 100 : 0], 1);
		pthread_mutex_lock(&out_lock);
		fprintf(out, "%lld %.1f %d %s %s %ld\n", now_wall_ms(),
		    (end - start) * 1000, code, domain, qid, n);
		fflush(out);
		pthread_mutex_unlock(&out_lock);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[512];
	const char *host = NULL;
	char *colon, hostbuf[256];
	long conns = 16, i, total;
	double elapsed;
	int ch;

	out = stdout;
	while ((ch = getopt(argc, argv, "s:k:r:t:n:c:i:o:")) != -1) {
		switch (ch) {
		case 's':
			snprintf(hostbuf, sizeof(hostbuf), "%s", optarg);
			if ((colon = strrchr(hostbuf, ':')) == NULL)
				usage();
			*colon = '\0';
			host = hostbuf;
			server.sin_family = AF_INET;
			server.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
				fprintf(stderr, "smtpload: -s %s: expected an "
				    "IPv4 address and port\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'k':
			parse_kinds(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 't':
			duration = atof(optarg);
			break;
		case 'n':
			max_messages = atol(optarg);
			break;
		case 'c':
			conns = atol(optarg);
			break;
		case 'i':
			runid = optarg;
			break;
		case 'o':
			if ((out = fopen(optarg, "a")) == NULL) {
				fprintf(stderr, "smtpload: %s: %s\n", optarg,
				    strerror(errno));
				return EX_CANTCREAT;
			}
			break;
		default:
			usage();
		}
	}
	if (host == NULL || nkinds == 0 || conns < 1 ||
	    conns > (long)(sizeof(th) / sizeof(th[0])) || rate < 0)
		usage();
	t0 = now_mono();
	for (i = 0; i < conns; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "smtpload: cannot start thread %ld\n",
			    i);
			return EX_OSERR;
		}
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	elapsed = now_mono() - t0;
	total = 0;
	for (i = 0; i < 6; i++)
		total += count_by_class[i];
	fprintf(stderr, "smtpload: %ld messages in %.1f s (%.1f/s): %ld 2xx, "
	    "%ld 4xx, %ld 5xx, %ld errors\n", total, elapsed,
	    elapsed > 0 ? (double)total / elapsed : 0.0,
	    (long)count_by_class[2], (long)count_by_class[4],
	    (long)count_by_class[5], (long)count_by_class[0]);
	if (out != stdout)
		fclose(out);
	return count_by_class[0] > 0 ? 1 : 0;
}
