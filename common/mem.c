/*
 * mem.c - checked allocation with failure injection for tests.
 *
 * The wrappers never abort: callers see NULL and report their own
 * "out of memory" status.  The failure counter is a plain global because
 * it is used only by single-threaded unit tests and fuzzers.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static long fail_countdown = -1;
static long failed;

static int
mem_should_fail(void)
{
	if (fail_countdown < 0)
		return 0;
	if (fail_countdown == 0) {
		failed++;
		return 1;
	}
	fail_countdown--;
	return 0;
}

long
mem_fail_after(long n)
{
	long f = failed;

	fail_countdown = n;
	failed = 0;
	return f;
}

void *
mem_alloc(size_t n)
{
	if (mem_should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *
mem_calloc(size_t nmemb, size_t size)
{
	if (mem_should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return calloc(nmemb, size);
}

void *
mem_realloc(void *p, size_t n)
{
	if (mem_should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

void *
mem_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	return mem_realloc(p, nmemb * size);
}

char *
mem_strndup(const char *s, size_t n)
{
	char *d;

	if ((d = mem_alloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

void
mem_free(void *p)
{
	free(p);
}
