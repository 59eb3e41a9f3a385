/*
 * addr.h - IP addresses and CIDR blocks.
 *
 * IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d) so one
 * comparison serves both families; an IPv4 CIDR /n becomes /(96+n).
 */
#ifndef DM_ADDR_H
#define DM_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_STRLEN	46	/* INET6_ADDRSTRLEN */

struct addr {
	uint8_t	 a[16];		/* network order, IPv4 mapped */
	bool	 v4;
};

struct cidr {
	struct addr net;	/* host bits cleared */
	unsigned prefix;	/* 0..128, on the mapped form */
};

/* Parse an IPv4 or IPv6 literal (IPv6 may be in brackets).  0 or -1. */
int	addr_parse(const char *, struct addr *);
/* Format into buf (ADDR_STRLEN bytes), IPv4 in dotted form. */
const char *addr_format(const struct addr *, char *buf, size_t len);
/*
 * Parse "addr" or "addr/prefix".  A prefix longer than the family allows
 * is an error, and so are host bits set beyond the prefix (so a typo like
 * 10.0.0.1/8 is caught rather than silently widened).  0 or -1.
 */
int	cidr_parse(const char *, struct cidr *);
bool	cidr_contains(const struct cidr *, const struct addr *);
const char *cidr_format(const struct cidr *, char *buf, size_t len);

#endif
