/*
 * transport.c - send one query and wait for its reply, UDP or TCP.
 *
 * We do the socket work ourselves rather than through ldns_resolver's
 * send path: that path takes one port for all nameservers, accepts a UDP
 * reply from any address, and applies its timeout per read, so a slow TCP
 * peer can hold a query past any deadline.  Here every wait is a poll()
 * against one absolute time, UDP sockets are connected (the kernel drops
 * datagrams from other addresses) and replies must carry our random ID.
 * ldns still builds the query packet.
 *
 * Implements RFC 1035 section 4.2 (UDP and TCP transport, two-byte length
 * prefix), RFC 5452 section 9.1 (random ID, fresh source port per query,
 * match the reply's source), RFC 6891 section 6 (EDNS0 payload size).
 * Leaves out: TCP connection reuse (RFC 7766 pipelining), DNS cookies.
 */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/mem.h"
#include "transport.h"

uint64_t
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint8_t *
dns_query_wire_new(const char *name, uint16_t type, uint16_t edns_size,
    size_t *len)
{
	ldns_rdf *dn;
	ldns_pkt *q;
	uint8_t *wire = NULL, *copy;
	size_t wlen = 0;

	if ((dn = dns_name_rdf(name)) == NULL)
		return NULL;
	/* ldns_pkt_query_new takes ownership of dn. */
	if ((q = ldns_pkt_query_new(dn, (ldns_rr_type)type, LDNS_RR_CLASS_IN,
	    LDNS_RD)) == NULL) {
		ldns_rdf_deep_free(dn);
		return NULL;
	}
	ldns_pkt_set_id(q, 0);
	if (edns_size > 0)
		ldns_pkt_set_edns_udp_size(q, edns_size);
	if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK || wire == NULL) {
		ldns_pkt_free(q);
		return NULL;
	}
	ldns_pkt_free(q);
	/* Hand back memory from our allocator, as the header promises. */
	if ((copy = mem_alloc(wlen)) != NULL) {
		memcpy(copy, wire, wlen);
		*len = wlen;
	}
	free(wire);
	return copy;
}

bool
dns_wire_is_truncated(const uint8_t *reply, size_t len)
{
	/* RFC 1035 section 4.1.1: TC is bit 1 of the third header byte. */
	return len >= 12 && (reply[2] & 0x02) != 0;
}

/* Wait for events on fd until until_ms; 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, uint64_t until_ms)
{
	struct pollfd pfd;
	uint64_t now;
	int n;

	for (;;) {
		now = dns_now_ms();
		if (now >= until_ms)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(until_ms - now > 60000 ? 60000 :
		    until_ms - now));
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static bool
reply_matches(const uint8_t *buf, size_t len, uint16_t id)
{
	/* Our ID, and QR set: a reply, not a reflected query. */
	return len >= 12 && buf[0] == (uint8_t)(id >> 8) &&
	    buf[1] == (uint8_t)id && (buf[2] & 0x80) != 0;
}

static enum dns_status
exchange_udp(int fd, const uint8_t *query, size_t qlen, uint16_t id,
    uint64_t until_ms, uint8_t *buf, size_t bufsz, size_t *replylen)
{
	ssize_t n;
	int w;

	if (send(fd, query, qlen, MSG_NOSIGNAL) != (ssize_t)qlen)
		return DNS_ERR_NETWORK;
	for (;;) {
		if ((w = wait_fd(fd, POLLIN, until_ms)) == 0)
			return DNS_ERR_TIMEOUT;
		if (w < 0)
			return DNS_ERR_NETWORK;
		n = recv(fd, buf, bufsz, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			/* ECONNREFUSED: ICMP port unreachable. */
			return DNS_ERR_NETWORK;
		}
		/* Anything else on the socket is noise: keep waiting. */
		if (reply_matches(buf, (size_t)n, id)) {
			*replylen = (size_t)n;
			return DNS_OK;
		}
	}
}

/* Read exactly len bytes before until_ms. */
static enum dns_status
read_full(int fd, uint8_t *p, size_t len, uint64_t until_ms)
{
	ssize_t n;
	int w;

	while (len > 0) {
		if ((w = wait_fd(fd, POLLIN, until_ms)) == 0)
			return DNS_ERR_TIMEOUT;
		if (w < 0)
			return DNS_ERR_NETWORK;
		n = recv(fd, p, len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			continue;
		if (n <= 0)
			return DNS_ERR_NETWORK;
		p += n;
		len -= (size_t)n;
	}
	return DNS_OK;
}

static enum dns_status
exchange_tcp(int fd, const uint8_t *query, size_t qlen, uint16_t id,
    uint64_t until_ms, uint8_t *buf, size_t bufsz, size_t *replylen)
{
	uint8_t out[2 + 512], lenbuf[2];
	size_t off, rlen;
	ssize_t n;
	enum dns_status st;
	int w;

	/* Our queries are one name and an OPT record: far below 512. */
	if (qlen > sizeof(out) - 2)
		return DNS_ERR_NETWORK;
	out[0] = (uint8_t)(qlen >> 8);
	out[1] = (uint8_t)qlen;
	memcpy(out + 2, query, qlen);
	for (off = 0; off < qlen + 2;) {
		if ((w = wait_fd(fd, POLLOUT, until_ms)) == 0)
			return DNS_ERR_TIMEOUT;
		if (w < 0)
			return DNS_ERR_NETWORK;
		n = send(fd, out + off, qlen + 2 - off, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			continue;
		if (n <= 0)
			return DNS_ERR_NETWORK;
		off += (size_t)n;
	}
	if ((st = read_full(fd, lenbuf, 2, until_ms)) != DNS_OK)
		return st;
	rlen = ((size_t)lenbuf[0] << 8) | lenbuf[1];
	if (rlen < 12 || rlen > bufsz)
		return DNS_ERR_NETWORK;
	if ((st = read_full(fd, buf, rlen, until_ms)) != DNS_OK)
		return st;
	/* One query per connection: a wrong ID is a broken peer. */
	if (!reply_matches(buf, rlen, id))
		return DNS_ERR_NETWORK;
	*replylen = rlen;
	return DNS_OK;
}

/* Non-blocking connect to srv, bounded by until_ms. */
static enum dns_status
connect_bounded(int fd, const struct dns_server *srv, uint64_t until_ms)
{
	socklen_t elen;
	int err, w;

	if (connect(fd, (const struct sockaddr *)&srv->addr,
	    srv->addrlen) == 0)
		return DNS_OK;
	if (errno != EINPROGRESS && errno != EINTR)
		return DNS_ERR_NETWORK;
	if ((w = wait_fd(fd, POLLOUT, until_ms)) == 0)
		return DNS_ERR_TIMEOUT;
	if (w < 0)
		return DNS_ERR_NETWORK;
	err = 0;
	elen = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
	    err != 0)
		return DNS_ERR_NETWORK;
	return DNS_OK;
}

enum dns_status
dns_exchange(const struct dns_server *srv, bool tcp, uint8_t *query,
    size_t qlen, uint16_t id, uint64_t until_ms, uint8_t *buf, size_t bufsz,
    size_t *replylen)
{
	enum dns_status st;
	int fd;

	if (qlen < 12)
		return DNS_ERR_NETWORK;
	query[0] = (uint8_t)(id >> 8);
	query[1] = (uint8_t)id;
	/* A fresh socket per try: a fresh random source port (RFC 5452). */
	fd = socket(srv->addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return DNS_ERR_NETWORK;
	st = connect_bounded(fd, srv, until_ms);
	if (st == DNS_OK) {
		if (tcp)
			st = exchange_tcp(fd, query, qlen, id, until_ms, buf,
			    bufsz, replylen);
		else
			st = exchange_udp(fd, query, qlen, id, until_ms, buf,
			    bufsz, replylen);
	}
	close(fd);
	return st;
}
