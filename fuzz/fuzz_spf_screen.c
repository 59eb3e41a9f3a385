/*
 * fuzz_spf_screen.c - libFuzzer target for auth/spf_screen.c, the RFC 7208
 * screen that stands between DNS text and libspf2's compiler.
 *
 * Input: the first byte picks the mode (even: SPF record, odd:
 * explanation string), the rest is the TXT text, NULs included.
 * Checked on every input:
 *  - the screen never crashes, leaks or reads out of bounds (ASan);
 *  - an accepted record's normalised form is accepted again, unchanged
 *    (the screen is idempotent, so what libspf2 compiles is screened);
 *  - whatever the screen accepts, libspf2 1.2.10 compiles without
 *    crashing: SPF_record_compile() or SPF_record_compile_macro() runs
 *    on the accepted text (libspf2 is not instrumented, but its stack
 *    protector aborts on the CVE-2023-42118 overflow, and ASan sees its
 *    allocations), which is the property the screen exists for.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_record.h>

#include "auth/spf_screen.h"
#include "common/strbuf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static SPF_server_t *server;

static void
compile_record(const char *text)
{
	SPF_response_t *resp;
	SPF_record_t *rec;

	resp = SPF_response_new(NULL);
	if (resp == NULL)
		return;
	rec = NULL;
	(void)SPF_record_compile(server, resp, &rec, text);
	if (rec != NULL)
		SPF_record_free(rec);
	SPF_response_free(resp);
}

static void
compile_macro(const char *text)
{
	SPF_response_t *resp;
	SPF_macro_t *mac;

	resp = SPF_response_new(NULL);
	if (resp == NULL)
		return;
	mac = NULL;
	(void)SPF_record_compile_macro(server, resp, &mac, text);
	if (mac != NULL)
		SPF_macro_free(mac);
	SPF_response_free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT;
	enum spf_screen_status st;
	const char *text;
	size_t len, off;

	if (server == NULL) {
		server = SPF_server_new(SPF_DNS_ZONE, 0);
		if (server == NULL)
			abort();
	}
	if (size == 0)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	(void)spf_screen_is_spf_record(text, len);
	if ((data[0] & 1) == 0) {
		st = spf_screen_record(text, len, &out, &off);
		if (st != SPF_SCREEN_OK) {
			if (off > len || strbuf_len(&out) != 0)
				abort();
			goto done;
		}
		if (spf_screen_record(strbuf_cstr(&out), strbuf_len(&out),
		    &again, NULL) != SPF_SCREEN_OK ||
		    strcmp(strbuf_cstr(&out), strbuf_cstr(&again)) != 0)
			abort();
		compile_record(strbuf_cstr(&out));
	} else {
		st = spf_screen_explanation(text, len, &out, &off);
		if (st != SPF_SCREEN_OK) {
			if (off > len || strbuf_len(&out) != 0)
				abort();
			goto done;
		}
		compile_macro(strbuf_cstr(&out));
	}
done:
	strbuf_release(&out);
	strbuf_release(&again);
	return 0;
}
