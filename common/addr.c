/*
 * addr.c - address and CIDR parsing and matching.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int
addr_parse(const char *s, struct addr *out)
{
	char tmp[ADDR_STRLEN + 2];
	size_t len = strlen(s);
	struct in_addr in4;

	memset(out, 0, sizeof(*out));
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(tmp))
			return -1;
		memcpy(tmp, s + 1, len - 2);
		tmp[len - 2] = '\0';
		return inet_pton(AF_INET6, tmp, out->a) == 1 ? 0 : -1;
	}
	if (inet_pton(AF_INET, s, &in4) == 1) {
		out->a[10] = 0xff;
		out->a[11] = 0xff;
		memcpy(out->a + 12, &in4, 4);
		out->v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) != 1)
		return -1;
	/* A mapped address given in IPv6 form is still IPv4. */
	out->v4 = memcmp(out->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	return 0;
}

const char *
addr_format(const struct addr *a, char *buf, size_t len)
{
	if (a->v4)
		return inet_ntop(AF_INET, a->a + 12, buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char tmp[ADDR_STRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned long prefix;
	char *end;
	unsigned i, max;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	if (slash != NULL)
		tmp[slash - s] = '\0';
	if (addr_parse(tmp, &out->net) != 0)
		return -1;
	max = out->net.v4 ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > max)
			return -1;
	}
	out->prefix = (unsigned)prefix + (out->net.v4 ? 96 : 0);
	for (i = out->prefix; i < 128; i++)
		if (out->net.a[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

bool
cidr_contains(const struct cidr *c, const struct addr *a)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (c->net.v4 != a->v4)
		return false;
	if (memcmp(c->net.a, a->a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((c->net.a[full] ^ a->a[full]) & (0xff << (8 - rest)) & 0xff)
	    == 0;
}

const char *
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	addr_format(&c->net, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->net.v4 ? c->prefix - 96 : c->prefix);
	return buf;
}
