/*
 * test_common.c - strbuf, json, log key=value helpers, addresses, mem.
 */
#include "config.h"

#include <string.h>

#include "common/addr.h"
#include "common/chars.h"
#include "common/json.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "tap.h"

static void
test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	int i;

	tap_str(strbuf_cstr(&sb), "", "strbuf: empty buffer is \"\"");
	strbuf_appends(&sb, "abc");
	strbuf_appendf(&sb, "-%d-%s", 42, "x");
	strbuf_appendc(&sb, '!');
	tap_str(strbuf_cstr(&sb), "abc-42-x!", "strbuf: appends, appendf, appendc");
	tap_int(strbuf_len(&sb), 9, "strbuf: length");
	for (i = 0; i < 1000; i++)
		strbuf_appends(&sb, "0123456789");
	tap_int(strbuf_len(&sb), 10009, "strbuf: grows past many doublings");
	strbuf_truncate(&sb, 3);
	tap_str(strbuf_cstr(&sb), "abc", "strbuf: truncate");
	s = strbuf_steal(&sb);
	tap_str(s, "abc", "strbuf: steal returns contents");
	tap_str(strbuf_cstr(&sb), "", "strbuf: steal leaves buffer empty");
	mem_free(s);

	strbuf_set_limit(&sb, 5);
	strbuf_appends(&sb, "12345");
	tap_ok(!strbuf_failed(&sb), "strbuf: limit allows exactly limit bytes");
	strbuf_appends(&sb, "6");
	tap_ok(strbuf_failed(&sb), "strbuf: limit exceeded sets failure");
	tap_str(strbuf_cstr(&sb), "12345", "strbuf: failed append changes nothing");
	tap_ok(strbuf_steal(&sb) == NULL, "strbuf: steal of failed buffer is NULL");
	strbuf_release(&sb);

	strbuf_append_escaped(&sb, "a\"b\\c\n\x01\xff", 8, 100);
	tap_str(strbuf_cstr(&sb), "a\\\"b\\\\c\\x0a\\x01\\xff",
	    "strbuf: escaped append escapes quotes, controls, non-ASCII");
	strbuf_reset(&sb);
	strbuf_append_escaped(&sb, "abcdef", 6, 3);
	tap_str(strbuf_cstr(&sb), "abc...", "strbuf: escaped append truncates");
	strbuf_release(&sb);

	mem_fail_after(0);
	strbuf_appends(&sb, "x");
	mem_fail_after(-1);
	tap_ok(strbuf_failed(&sb), "strbuf: allocation failure is sticky");
	strbuf_appends(&sb, "y");
	tap_ok(strbuf_failed(&sb), "strbuf: appends after failure stay failed");
	strbuf_release(&sb);
}

static void
test_json(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb, false);
	json_object_begin(&j);
	json_kv_string(&j, "a", "x\"y\n");
	json_kv_int(&j, "n", -5);
	json_key(&j, "list");
	json_array_begin(&j);
	json_bool(&j, true);
	json_null(&j);
	json_string(&j, NULL);
	json_double(&j, 0.5);
	json_array_end(&j);
	json_key(&j, "empty");
	json_object_begin(&j);
	json_object_end(&j);
	json_object_end(&j);
	tap_ok(!json_failed(&j), "json: complete document is not failed");
	tap_str(strbuf_cstr(&sb),
	    "{\"a\":\"x\\\"y\\n\",\"n\":-5,\"list\":[true,null,null,0.5],"
	    "\"empty\":{}}", "json: compact output");

	strbuf_reset(&sb);
	json_init(&j, &sb, false);
	json_stringn(&j, "ok\xc3\xa9\xff\xc0\xaf\x01", 8);
	tap_str(strbuf_cstr(&sb), "\"ok\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\\u0001\"",
	    "json: invalid UTF-8 and overlong forms become U+FFFD");

	strbuf_reset(&sb);
	json_init(&j, &sb, true);
	json_object_begin(&j);
	json_kv_bool(&j, "k", false);
	json_object_end(&j);
	tap_str(strbuf_cstr(&sb), "{\n  \"k\": false\n}", "json: pretty output");

	strbuf_reset(&sb);
	json_init(&j, &sb, false);
	json_object_begin(&j);
	tap_ok(json_failed(&j), "json: unfinished document reports failure");
	strbuf_release(&sb);
}

static void
test_log_kv(void)
{
	struct strbuf sb = STRBUF_INIT;
	char big[600];

	log_kv(&sb, "from", "example.com");
	log_kv(&sb, "msgid", "<a b=c>");
	log_kv(&sb, "x", NULL);
	log_kv(&sb, "evil", "a\nb: forged");
	tap_str(strbuf_cstr(&sb),
	    " from=example.com msgid=\"<a b=c>\" x=- evil=\"a\\x0ab: forged\"",
	    "log_kv: escapes, quotes and empty values");
	strbuf_reset(&sb);
	memset(big, 'a', sizeof(big));
	log_kvn(&sb, "k", big, sizeof(big));
	tap_int(strbuf_len(&sb), 3 + LOG_VALUE_MAX + 3,
	    "log_kv: untrusted value truncated to LOG_VALUE_MAX");
	strbuf_release(&sb);
	tap_int(log_level_parse("Debug"), LOG_DEBUG, "log: level names parse");
	tap_int(log_level_parse("loud"), -1, "log: unknown level refused");
}

static const struct {
	const char *name, *cidr, *addr;
	int parse_ok, contains;
} cidr_cases[] = {
	{ "v4 /8 inside", "10.0.0.0/8", "10.1.2.3", 0, 1 },
	{ "v4 /8 outside", "10.0.0.0/8", "11.0.0.1", 0, 0 },
	{ "v4 host", "192.0.2.7", "192.0.2.7", 0, 1 },
	{ "v4 host other", "192.0.2.7", "192.0.2.8", 0, 0 },
	{ "v4 /0 matches all v4", "0.0.0.0/0", "203.0.113.9", 0, 1 },
	{ "v4 /0 not v6", "0.0.0.0/0", "2001:db8::1", 0, 0 },
	{ "v6 /32", "2001:db8::/32", "2001:db8:1::5", 0, 1 },
	{ "v6 /32 outside", "2001:db8::/32", "2001:db9::1", 0, 0 },
	{ "v6 loopback", "::1", "::1", 0, 1 },
	{ "v6 /127 odd bits", "2001:db8::/127", "2001:db8::1", 0, 1 },
	{ "v4 /25 boundary", "198.51.100.128/25", "198.51.100.127", 0, 0 },
	{ "v4 /25 inside", "198.51.100.128/25", "198.51.100.200", 0, 1 },
	{ "mapped v6 is v4", "127.0.0.0/8", "::ffff:127.0.0.1", 0, 1 },
	{ "host bits set", "10.0.0.1/8", NULL, -1, 0 },
	{ "prefix too long v4", "10.0.0.0/33", NULL, -1, 0 },
	{ "prefix too long v6", "::/129", NULL, -1, 0 },
	{ "garbage", "ten.0.0.0/8", NULL, -1, 0 },
	{ "empty prefix", "10.0.0.0/", NULL, -1, 0 },
	{ "signed prefix", "10.0.0.0/+8", NULL, -1, 0 },
};

static void
test_addr(void)
{
	size_t i;
	struct cidr c;
	struct addr a;
	char buf[ADDR_STRLEN + 8];

	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		int rc = cidr_parse(cidr_cases[i].cidr, &c);

		tap_int(rc, cidr_cases[i].parse_ok, "cidr parse: %s",
		    cidr_cases[i].name);
		if (rc != 0 || cidr_cases[i].addr == NULL)
			continue;
		tap_int(addr_parse(cidr_cases[i].addr, &a), 0,
		    "addr parse: %s", cidr_cases[i].name);
		tap_int(cidr_contains(&c, &a), cidr_cases[i].contains,
		    "cidr contains: %s", cidr_cases[i].name);
	}
	addr_parse("[2001:db8::1]", &a);
	tap_str(addr_format(&a, buf, sizeof(buf)), "2001:db8::1",
	    "addr: bracketed IPv6 parses and formats");
	cidr_parse("192.0.2.0/24", &c);
	tap_str(cidr_format(&c, buf, sizeof(buf)), "192.0.2.0/24",
	    "cidr: IPv4 formats with its own prefix length");
}

static void
test_chars(void)
{
	const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	int c, bad = 0, i;

	for (i = 0; i < 64; i++)
		if (char_base64_value((unsigned char)b64[i]) != i)
			bad++;
	tap_int(bad, 0, "chars: the 64 base64 digits have their values");
	tap_int(char_base64_value('='), -1, "chars: base64 '=' is no digit");
	tap_int(char_hex_value('0'), 0, "chars: hex 0");
	tap_int(char_hex_value('9'), 9, "chars: hex 9");
	tap_int(char_hex_value('a'), 10, "chars: hex a");
	tap_int(char_hex_value('F'), 15, "chars: hex F");
	/* every other byte, and negative chars, are no digit */
	bad = 0;
	for (c = -128; c < 256; c++) {
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F');
		bool b = c > 0 && strchr(b64, c) != NULL;

		if ((char_hex_value(c) >= 0) != hex ||
		    (char_base64_value(c) >= 0) != b)
			bad++;
	}
	tap_int(bad, 0, "chars: no other value, -128 to 255, is a digit");
}

int
main(void)
{
	test_chars();
	test_strbuf();
	test_json();
	test_log_kv();
	test_addr();
	return tap_done();
}
