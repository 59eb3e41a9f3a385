/*
 * test_domain.c - domain normalisation and label helpers.
 */
#include "config.h"

#include <string.h>

#include "common/mem.h"
#include "policy/domain.h"
#include "tap.h"

static const struct {
	const char *name, *in, *out;
	enum domain_status st;
} norm[] = {
	{ "plain", "example.com", "example.com", DOMAIN_OK },
	{ "uppercase lowered (OpenDMARC regression)", "SUB.EXAMPLE.COM",
	    "sub.example.com", DOMAIN_OK },
	{ "trailing dot removed", "example.com.", "example.com", DOMAIN_OK },
	{ "U-label to A-label", "b\xc3\xbc" "cher.example",
	    "xn--bcher-kva.example", DOMAIN_OK },
	{ "uppercase U-label", "B\xc3\x9c" "CHER.example",
	    "xn--bcher-kva.example", DOMAIN_OK },
	{ "A-label kept", "XN--BCHER-KVA.example", "xn--bcher-kva.example",
	    DOMAIN_OK },
	{ "underscore allowed", "_dmarc.example.com", "_dmarc.example.com",
	    DOMAIN_OK },
	{ "empty", "", NULL, DOMAIN_ERR_EMPTY },
	{ "only a dot", ".", NULL, DOMAIN_ERR_EMPTY },
	{ "empty label", "a..b", NULL, DOMAIN_ERR_SYNTAX },
	{ "leading dot", ".a.b", NULL, DOMAIN_ERR_SYNTAX },
	{ "space", "a b.c", NULL, DOMAIN_ERR_SYNTAX },
	{ "at sign", "a@b.c", NULL, DOMAIN_ERR_SYNTAX },
	{ "label of 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.c",
	    NULL, DOMAIN_ERR_TOO_LONG },
	{ "invalid UTF-8", "\xff\xfe.example", NULL, DOMAIN_ERR_IDN },
};

int
main(void)
{
	size_t i;
	char *out, name[300];
	long n;

	for (i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
		enum domain_status st = domain_normalize_dup(norm[i].in,
		    strlen(norm[i].in), &out);

		tap_int(st, norm[i].st, "normalize status: %s", norm[i].name);
		tap_str(out, norm[i].out, "normalize result: %s", norm[i].name);
		mem_free(out);
	}
	memset(name, 'a', sizeof(name));
	for (i = 1; i < sizeof(name); i += 2)
		name[i] = '.';
	tap_int(domain_normalize_dup(name, sizeof(name), &out),
	    DOMAIN_ERR_TOO_LONG, "normalize: name over 253 octets refused");
	tap_int(domain_normalize_dup("a\0b", 3, &out), DOMAIN_ERR_SYNTAX,
	    "normalize: embedded NUL refused");

	tap_int(domain_label_count("a.b.c"), 3, "label count");
	tap_int(domain_label_count(""), 0, "label count of empty name");
	tap_str(domain_strip_labels("a.b.c", 2), "c", "strip two labels");
	tap_ok(domain_strip_labels("a.b.c", 3) == NULL, "strip all labels");
	tap_str(domain_parent("mail.example.com"), "example.com", "parent");
	tap_ok(domain_parent("com") == NULL, "parent of a TLD");
	tap_ok(domain_is_within("a.example.com", "example.com"),
	    "within: subdomain");
	tap_ok(domain_is_within("example.com", "example.com"), "within: equal");
	tap_ok(!domain_is_within("badexample.com", "example.com"),
	    "within: suffix without a dot boundary is not within");
	tap_ok(!domain_is_within("com", "example.com"), "within: parent");

	for (n = 0; n < 10; n++) {
		enum domain_status st;

		mem_fail_after(n);
		st = domain_normalize_dup("b\xc3\xbc" "cher.example", 13, &out);
		mem_fail_after(-1);
		mem_free(out);
		if (st == DOMAIN_OK)
			break;
		if (st != DOMAIN_ERR_NOMEM)
			break;
	}
	tap_ok(n < 10, "normalize: allocation failures give NOMEM, then OK");
	return tap_done();
}
