/*
 * fuzz_from.c - libFuzzer target for the From header parser.
 *
 * The input is parsed three ways: as one From field value, as a bare
 * address (from_domain_of_address), and, split at blank lines (which no
 * valid field contains), as several From fields of one message.  After
 * each parse the invariants that callers rely on are checked and any
 * violation traps: an OK address always has a domain, domains are
 * distinct, normalised (normalising again changes nothing) and come from
 * the addresses, and the verdict follows the documented precedence.
 * ASan and UBSan catch memory errors and leaks; -timeout catches
 * anything worse than linear.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/mem.h"
#include "policy/domain.h"
#include "policy/from.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void
check_list(const struct from_list *fl)
{
	const struct from_address *a;
	const char *d;
	char *again;
	size_t i, j, n = from_list_naddresses(fl);
	enum from_status st = from_list_status(fl);

	CHECK(n <= FROM_MAX_ADDRESSES);
	CHECK(from_list_ndomains(fl) <= n);
	CHECK(from_list_address(fl, n) == NULL);
	CHECK(from_list_domain(fl, from_list_ndomains(fl)) == NULL);
	for (i = 0; i < n; i++) {
		a = from_list_address(fl, i);
		CHECK(a != NULL && a->local_part != NULL &&
		    a->domain_raw != NULL);
		CHECK((a->status == FROM_OK) == (a->domain != NULL));
		CHECK(a->status == FROM_OK ||
		    a->status == FROM_ERR_BAD_DOMAIN ||
		    a->status == FROM_ERR_DOMAIN_LITERAL);
		CHECK(a->display_name == NULL || *a->display_name != '\0');
	}
	for (i = 0; i < from_list_ndomains(fl); i++) {
		d = from_list_domain(fl, i);
		CHECK(d != NULL && *d != '\0');
		for (j = 0; j < i; j++)
			CHECK(strcmp(d, from_list_domain(fl, j)) != 0);
		for (j = 0; j < n; j++) {
			a = from_list_address(fl, j);
			if (a->domain != NULL && strcmp(a->domain, d) == 0)
				break;
		}
		CHECK(j < n);
		switch (domain_normalize_dup(d, strlen(d), &again)) {
		case DOMAIN_OK:
			CHECK(strcmp(again, d) == 0);
			mem_free(again);
			break;
		case DOMAIN_ERR_NOMEM:
			break;
		default:
			CHECK(0);
		}
	}
	if (st == FROM_OK)
		CHECK(from_list_nfields(fl) == 1 && n > 0 &&
		    from_list_ndomains(fl) > 0);
	if (from_list_nfields(fl) == 0)
		CHECK(st == FROM_ERR_NONE);
	if (from_list_nfields(fl) > 1)
		CHECK(st == FROM_ERR_MULTIPLE_FIELDS || st == FROM_ERR_NOMEM);
	CHECK(from_strerror(st) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct from_list *fl;
	enum from_status st;
	char *dom;

	/* One field. */
	if ((fl = from_list_new()) != NULL) {
		st = from_list_add_field(fl, s, size);
		CHECK(st == from_list_status(fl));
		if (size > FROM_MAX_FIELD_LEN)
			CHECK(st == FROM_ERR_TOO_LONG);
		if (memchr(s, '\0', size) != NULL &&
		    size <= FROM_MAX_FIELD_LEN)
			CHECK(st == FROM_ERR_SYNTAX);
		check_list(fl);
		from_list_free(fl);
	}

	/* A bare address. */
	dom = NULL;
	st = from_domain_of_address(s, size, &dom);
	CHECK((st == FROM_OK) == (dom != NULL));
	if (dom != NULL)
		CHECK(*dom != '\0');
	mem_free(dom);

	/* Several fields, split at blank lines. */
	if ((fl = from_list_new()) != NULL) {
		size_t start = 0, i;

		for (;;) {
			for (i = start; i + 1 < size; i++)
				if (s[i] == '\n' && s[i + 1] == '\n')
					break;
			if (i + 1 >= size)
				i = size;
			from_list_add_field(fl, s + start, i - start);
			if (i == size)
				break;
			start = i + 2;
		}
		check_list(fl);
		from_list_free(fl);
	}
	return 0;
}
