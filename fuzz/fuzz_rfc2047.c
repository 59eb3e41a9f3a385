/*
 * fuzz_rfc2047.c - libFuzzer target: any bytes as header text through
 * the RFC 2047 decoder (rfc2047.c).  The result must be valid UTF-8
 * without control characters, within the bound.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ingest/rfc2047.h"

#define MAX_OUT	1024

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Abort unless s[0..n) is UTF-8 with no C0, DEL or C1 control. */
static void
check_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, l, k;
	uint32_t v;

	while (i < n) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				abort();
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			l = 2, v = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			l = 3, v = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			l = 4, v = s[i] & 0x07;
		else
			abort();
		if (i + l > n)
			abort();
		for (k = 1; k < l; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				abort();
			v = v << 6 | (s[i + k] & 0x3f);
		}
		if ((l == 3 && v < 0x800) || (l == 4 && v < 0x10000) ||
		    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ||
		    (v >= 0x80 && v < 0xa0))
			abort();
		i += l;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;

	rfc2047_decode(&out, (const char *)data, size, MAX_OUT);
	if (strbuf_failed(&out) || strbuf_len(&out) > MAX_OUT)
		abort();
	check_utf8((const unsigned char *)strbuf_cstr(&out),
	    strbuf_len(&out));
	/* a small bound: cuts inside characters and words */
	rfc2047_decode(&out, (const char *)data, size, 7);
	if (strbuf_len(&out) > 7)
		abort();
	check_utf8((const unsigned char *)strbuf_cstr(&out),
	    strbuf_len(&out));
	strbuf_release(&out);
	return 0;
}
