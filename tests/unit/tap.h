/*
 * tap.h - a tiny Test Anything Protocol emitter for the unit tests.
 *
 * Each check names its case, so a failure in `make check` says which
 * table row broke.  Automake's tap-driver.sh reads the output.
 */
#ifndef DM_TAP_H
#define DM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_UNUSED __attribute__((unused))

static void
tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
TAP_UNUSED static void
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
}

/* String equality with both values shown on failure (NULL-safe). */
#define tap_str(got, want, ...) do {					\
	const char *tap_g_ = (got), *tap_w_ = (want);			\
	int tap_c_ = (tap_g_ == NULL && tap_w_ == NULL) ||		\
	    (tap_g_ != NULL && tap_w_ != NULL && strcmp(tap_g_, tap_w_) == 0); \
	tap_ok(tap_c_, __VA_ARGS__);					\
	if (!tap_c_)							\
		printf("#   got: \"%s\"\n#  want: \"%s\"\n",		\
		    tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
} while (0)

#define tap_int(got, want, ...) do {					\
	long tap_g_ = (long)(got), tap_w_ = (long)(want);		\
	tap_ok(tap_g_ == tap_w_, __VA_ARGS__);				\
	if (tap_g_ != tap_w_)						\
		printf("#   got: %ld\n#  want: %ld\n", tap_g_, tap_w_);	\
} while (0)

static void
tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
TAP_UNUSED static void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

TAP_UNUSED static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed == 0 ? 0 : 1;
}

/* Skip a whole test program (e.g. when the corpus is absent). */
TAP_UNUSED static int
tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	return 0;
}

#endif
