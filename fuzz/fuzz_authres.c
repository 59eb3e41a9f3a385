/*
 * fuzz_authres.c - libFuzzer target for the Authentication-Results
 * parser and the forged-header check.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "auth/authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authres *ar = NULL;

	(void)authres_parse((const char *)data, size, &ar);
	authres_free(ar);
	(void)authres_is_from((const char *)data, size, "mx.example.net");
	return 0;
}
