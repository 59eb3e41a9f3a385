/*
 * dnsdelay.c - a DNS forwarder that adds a fixed delay to every query,
 * to measure a milter with a cold cache against a slow Internet
 * (bench/compare.sh --cold).  UDP and TCP.
 *
 *   dnsdelay -l ADDR:PORT -u ADDR:PORT [-d MILLISECONDS]   (default 50)
 *
 * Each query waits the delay, then goes to the upstream server over the
 * same transport, and the answer goes back unchanged.  Every query has
 * its own thread, so the delays of concurrent queries overlap, as they
 * would on a network: what the delay measures is how many lookups a
 * message makes one after the other.  Left out: anything a resolver
 * does (it is a pipe), IPv6, and bounds beyond one DNS message of 64 KB
 * per query: it is a benchmark tool, for loopback only.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define DNS_MAX		65535
#define UPSTREAM_WAIT_MS 3000

static struct sockaddr_in listen_addr, upstream_addr;
static long delay_ms = 50;
static int udp_fd;

struct udp_query {
	struct sockaddr_in from;
	size_t	 len;
	unsigned char buf[DNS_MAX];
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void *
udp_forward(void *arg)
{
	struct udp_query *q = arg;
	struct pollfd pfd;
	ssize_t n;
	int fd;

	sleep_ms(delay_ms);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (sendto(fd, q->buf, q->len, 0, (struct sockaddr *)&upstream_addr,
	    sizeof(upstream_addr)) < 0 ||
	    poll(&pfd, 1, UPSTREAM_WAIT_MS) != 1 ||
	    (n = recv(fd, q->buf, sizeof(q->buf), 0)) <= 0)
		goto out;
	(void)sendto(udp_fd, q->buf, (size_t)n, 0, (struct sockaddr *)&q->from,
	    sizeof(q->from));
out:
	if (fd >= 0)
		close(fd);
	free(q);
	return NULL;
}

static void *
udp_loop(void *arg)
{
	(void)arg;
	for (;;) {
		struct udp_query *q = malloc(sizeof(*q));
		socklen_t sl = sizeof(q->from);
		pthread_t t;
		ssize_t n;

		if (q == NULL) {
			sleep_ms(10);
			continue;
		}
		n = recvfrom(udp_fd, q->buf, sizeof(q->buf), 0,
		    (struct sockaddr *)&q->from, &sl);
		if (n <= 0) {
			free(q);
			continue;
		}
		q->len = (size_t)n;
		if (pthread_create(&t, NULL, udp_forward, q) != 0)
			free(q);
		else
			pthread_detach(t);
	}
	return NULL;
}

static int
read_all(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, p, n)) <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One TCP client: each length-prefixed message, delayed, over a new
 * upstream connection. */
static void *
tcp_client(void *arg)
{
	int cfd = (int)(long)arg, ufd = -1;
	unsigned char *buf = malloc(DNS_MAX + 2);
	uint16_t len;

	while (buf != NULL && read_all(cfd, buf, 2) == 0) {
		memcpy(&len, buf, 2);
		len = ntohs(len);
		if (read_all(cfd, buf + 2, len) != 0)
			break;
		sleep_ms(delay_ms);
		if ((ufd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(ufd, (struct sockaddr *)&upstream_addr,
		    sizeof(upstream_addr)) != 0 ||
		    write_all(ufd, buf, (size_t)len + 2) != 0 ||
		    read_all(ufd, buf, 2) != 0)
			break;
		memcpy(&len, buf, 2);
		if (read_all(ufd, buf + 2, ntohs(len)) != 0 ||
		    write_all(cfd, buf, (size_t)ntohs(len) + 2) != 0)
			break;
		close(ufd);
		ufd = -1;
	}
	if (ufd >= 0)
		close(ufd);
	close(cfd);
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *l = NULL, *u = NULL;
	pthread_t t;
	int ch, tfd, one = 1;

	while ((ch = getopt(argc, argv, "d:l:u:")) != -1) {
		switch (ch) {
		case 'd': delay_ms = atol(optarg); break;
		case 'l': l = optarg; break;
		case 'u': u = optarg; break;
		default: l = NULL; u = NULL; argc = 0; break;
		}
	}
	if (l == NULL || u == NULL || delay_ms < 0 ||
	    parse_addr(l, &listen_addr) != 0 ||
	    parse_addr(u, &upstream_addr) != 0) {
		fprintf(stderr, "usage: dnsdelay -l ADDR:PORT -u ADDR:PORT "
		    "[-d MILLISECONDS]\n");
		return EX_USAGE;
	}
	if ((udp_fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(udp_fd, (struct sockaddr *)&listen_addr,
	    sizeof(listen_addr)) != 0 ||
	    (tfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(tfd, (struct sockaddr *)&listen_addr,
	    sizeof(listen_addr)) != 0 || listen(tfd, 64) != 0) {
		fprintf(stderr, "dnsdelay: %s: %s\n", l, strerror(errno));
		return EX_OSERR;
	}
	if (pthread_create(&t, NULL, udp_loop, NULL) != 0) {
		fprintf(stderr, "dnsdelay: no thread: %s\n", strerror(errno));
		return EX_OSERR;
	}
	printf("dnsdelay: listening on %s, upstream %s, delay %ld ms\n", l, u,
	    delay_ms);
	fflush(stdout);
	for (;;) {
		int cfd = accept(tfd, NULL, NULL);

		if (cfd < 0)
			continue;
		if (pthread_create(&t, NULL, tcp_client, (void *)(long)cfd) != 0)
			close(cfd);
		else
			pthread_detach(t);
	}
}
