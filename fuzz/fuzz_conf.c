/*
 * fuzz_conf.c - libFuzzer target for the configuration parser, using the
 * product's real key table so every value type is exercised.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/confkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct conf *c = conf_new(confkeys_dmarcd);

	if (c == NULL)
		return 0;
	(void)conf_load_buffer(c, "fuzz.conf", (const char *)data, size, &err);
	conf_free(c);
	strbuf_release(&err);
	return 0;
}
