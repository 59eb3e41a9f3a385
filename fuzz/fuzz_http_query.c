/*
 * fuzz_http_query.c - libFuzzer target for web/query.c: the input is a
 * request target "PATH?QUERY"; the path is routed and the query string
 * parsed, then each well-known parameter is read as the API reads it.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "web/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[8192], arg[WEBQ_MAX_PATH + 1];
	const char *q, *v;
	enum webq_route route;
	struct webq wq;
	int64_t day;
	uint64_t u;
	size_t plen;

	if (size >= sizeof(path))
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (strlen(path) != size)
		return 0;
	q = strchr(path, '?');
	plen = q != NULL ? (size_t)(q - path) : size;
	path[plen] = '\0';
	(void)webq_route(path, &route, arg, sizeof(arg));
	webq_init(&wq);
	if (q != NULL)
		(void)webq_parse(&wq, q + 1, size - plen - 1);
	if ((v = webq_get(&wq, "from")) != NULL &&
	    webq_day(v, &day) == WEBQ_OK) {
		webq_day_format(day, arg, sizeof(arg));
		if (webq_day(arg, &day) != WEBQ_OK)
			__builtin_trap();	/* must round-trip */
	}
	if ((v = webq_get(&wq, "page")) != NULL)
		(void)webq_uint(v, 1, 1000000, &u);
	if ((v = webq_get(&wq, "domain")) != NULL && strlen(v) < sizeof(arg)) {
		memcpy(arg, v, strlen(v) + 1);
		(void)webq_domain_is_valid(arg);
	}
	return 0;
}
