/*
 * transport.h - one DNS exchange over UDP or TCP, bounded by a time limit.
 *
 * Internal to dns/ (and its test driver): the resolver calls it once per
 * try.  No retries, no parsing beyond the reply's ID and QR bit.
 */
#ifndef DM_DNS_TRANSPORT_H
#define DM_DNS_TRANSPORT_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"

struct dns_server {
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
};

/* Milliseconds on the monotonic clock. */
uint64_t dns_now_ms(void);

/*
 * Build a query for (name, type) with the RD bit, and an EDNS0 OPT record
 * advertising edns_size when it is not 0.  name must be normalised
 * (dns_name_normalize).  Returns a mem_alloc'd packet the caller frees, or
 * NULL (bad name or no memory).  The ID is 0: dns_exchange() sets it.
 */
uint8_t	*dns_query_wire_new(const char *name, uint16_t type,
	    uint16_t edns_size, size_t *len);

/*
 * Send query (whose first two bytes are overwritten with id) to srv and
 * wait until the monotonic time until_ms for a reply carrying that ID.
 * UDP uses a connected socket, so only the server's own address is heard;
 * replies with another ID are ignored.  TCP frames the query with its
 * length (RFC 1035 section 4.2.2).  The reply goes into buf (bufsz bytes;
 * 65535 holds any).  Returns DNS_OK with *replylen set, DNS_ERR_TIMEOUT
 * when until_ms passes, DNS_ERR_NETWORK on a socket error (including a
 * refused port) or a bad TCP frame.
 */
enum dns_status dns_exchange(const struct dns_server *srv, bool tcp,
	    uint8_t *query, size_t qlen, uint16_t id, uint64_t until_ms,
	    uint8_t *buf, size_t bufsz, size_t *replylen);

/* True when the reply header has the TC (truncated) bit. */
bool	 dns_wire_is_truncated(const uint8_t *reply, size_t len);

#endif
