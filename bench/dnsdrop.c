/*
 * dnsdrop.c - a UDP DNS relay that never answers some names, for
 * bench/soak.sh: a share of the load meets DNS timeouts while the rest
 * is answered by the real server behind it (NSD).
 *
 *   dnsdrop -l 127.0.0.1:PORT -u 127.0.0.1:PORT -d SUFFIX[,SUFFIX...]
 *
 * Queries arriving on -l whose name is a SUFFIX or ends in ".SUFFIX"
 * are dropped (counted); the others go to -u and the replies come back
 * to whoever asked, matched by the DNS ID.  UDP only: the answers of the
 * soak's zones fit.  SIGTERM prints the counts to standard error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#define MAX_SUFFIXES	8

static char *suffixes[MAX_SUFFIXES];
static size_t nsuffixes;
static struct sockaddr_in clients[65536];	/* by DNS ID */
static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dnsdrop -l ADDR:PORT -u ADDR:PORT "
	    "-d SUFFIX[,SUFFIX...]\n");
	exit(EX_USAGE);
}

static void
parse_addr(const char *spec, struct sockaddr_in *sin)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", spec);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if ((colon = strrchr(buf, ':')) == NULL)
		usage();
	*colon = '\0';
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1) {
		fprintf(stderr, "dnsdrop: %s: expected IPv4:PORT\n", spec);
		exit(EX_USAGE);
	}
}

/* The query name, lower case and dotted, from a packet; false if bad. */
static bool
qname(const uint8_t *p, size_t len, char *name, size_t size)
{
	size_t off = 12, o = 0;
	unsigned l;

	while (off < len && (l = p[off]) != 0) {
		if (l > 63 || off + 1 + l > len || o + l + 2 > size)
			return false;
		if (o > 0)
			name[o++] = '.';
		for (off++; l > 0; l--, off++)
			name[o++] = (char)tolower(p[off]);
	}
	name[o] = '\0';
	return off < len;
}

static bool
dropped(const char *name)
{
	size_t i, n = strlen(name), s;

	for (i = 0; i < nsuffixes; i++) {
		s = strlen(suffixes[i]);
		if (n == s && strcmp(name, suffixes[i]) == 0)
			return true;
		if (n > s && name[n - s - 1] == '.' &&
		    strcmp(name + n - s, suffixes[i]) == 0)
			return true;
	}
	return false;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in laddr, uaddr, from;
	struct pollfd pfd[2];
	socklen_t flen;
	uint8_t pkt[65536];
	char name[300], *list = NULL, *item, *save = NULL;
	unsigned long relayed = 0, answered = 0, drops = 0;
	bool have_l = false, have_u = false;
	ssize_t n;
	uint16_t id;
	int lfd, ufd, ch;

	while ((ch = getopt(argc, argv, "l:u:d:")) != -1) {
		switch (ch) {
		case 'l':
			parse_addr(optarg, &laddr);
			have_l = true;
			break;
		case 'u':
			parse_addr(optarg, &uaddr);
			have_u = true;
			break;
		case 'd':
			list = optarg;
			break;
		default:
			usage();
		}
	}
	if (!have_l || !have_u || list == NULL)
		usage();
	for (item = strtok_r(list, ",", &save); item != NULL &&
	    nsuffixes < MAX_SUFFIXES; item = strtok_r(NULL, ",", &save))
		suffixes[nsuffixes++] = item;
	if ((lfd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) != 0) {
		fprintf(stderr, "dnsdrop: bind %s:%u: %s\n",
		    inet_ntoa(laddr.sin_addr), ntohs(laddr.sin_port),
		    strerror(errno));
		return EX_UNAVAILABLE;
	}
	if ((ufd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    connect(ufd, (struct sockaddr *)&uaddr, sizeof(uaddr)) != 0) {
		fprintf(stderr, "dnsdrop: upstream: %s\n", strerror(errno));
		return EX_UNAVAILABLE;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = ufd;
	pfd[1].events = POLLIN;
	while (!stop) {
		if (poll(pfd, 2, 1000) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			flen = sizeof(from);
			n = recvfrom(lfd, pkt, sizeof(pkt), 0,
			    (struct sockaddr *)&from, &flen);
			if (n >= 12 && qname(pkt, (size_t)n, name,
			    sizeof(name))) {
				if (dropped(name))
					drops++;
				else {
					id = (uint16_t)(pkt[0] << 8 | pkt[1]);
					clients[id] = from;
					if (send(ufd, pkt, (size_t)n, 0) == n)
						relayed++;
				}
			}
		}
		if (pfd[1].revents & POLLIN) {
			n = recv(ufd, pkt, sizeof(pkt), 0);
			if (n >= 12) {
				id = (uint16_t)(pkt[0] << 8 | pkt[1]);
				if (clients[id].sin_family == AF_INET &&
				    sendto(lfd, pkt, (size_t)n, 0,
				    (struct sockaddr *)&clients[id],
				    sizeof(clients[id])) == n)
					answered++;
			}
		}
	}
	fprintf(stderr, "dnsdrop: %lu queries relayed, %lu answered, %lu "
	    "dropped\n", relayed, answered, drops);
	return 0;
}
