/*
 * test_conf.c - the typed configuration parser.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/confkeys.h"
#include "common/mem.h"
#include "tap.h"

static const char *const colours[] = { "red", "green", NULL };

static const struct conf_key keys[] = {
	{ "Name", NULL, CONF_STRING, "def", 0, 0, NULL, "a name" },
	{ "Flag", "OldFlag", CONF_BOOL, "no", 0, 0, NULL, "yes or no" },
	{ "Count", NULL, CONF_INT, "5", 1, 10, NULL, "1..10" },
	{ "Colour", NULL, CONF_ENUM, "red", 0, 0, colours, "red or green" },
	{ "Items", NULL, CONF_LIST, NULL, 0, 0, NULL, "a list" },
	{ "Nets", NULL, CONF_CIDRS, "127.0.0.0/8 ::1", 0, 0, NULL, "CIDRs" },
	{ "File", NULL, CONF_PATH, NULL, 0, 0, NULL, "a path" },
	{ "Wait", NULL, CONF_DURATION, "2s", 50, 60000, NULL, "a duration" },
	{ "OldKey", NULL, CONF_IGNORED, NULL, 0, 0, NULL, "it does nothing" },
	{ "GoneKey", NULL, CONF_REFUSED, NULL, 0, 0, NULL, "use File" },
	{ NULL, NULL, CONF_STRING, NULL, 0, 0, NULL, NULL }
};

/* Each case: file text, expected result, and a substring of the error. */
static const struct {
	const char *name, *text;
	int rc;
	const char *err;
} cases[] = {
	{ "empty file", "", 0, NULL },
	{ "comments and blanks", "# hello\n\n   # indented\n", 0, NULL },
	{ "all types", "Name  mail.test\nFlag yes\nCount 10\nColour GREEN\n"
	    "Items a, b c\nNets 10.0.0.0/8, 2001:db8::/32\nFile /x/y\n", 0, NULL },
	{ "alias accepted", "OldFlag true\n", 0, NULL },
	{ "keys case-insensitive", "nAmE x\n", 0, NULL },
	{ "trailing comment", "Name x # note\n", 0, NULL },
	{ "hash inside value kept", "Name a#b\n", 0, NULL },
	{ "CRLF line endings", "Name x\r\nCount 2\r\n", 0, NULL },
	{ "unknown key", "Nmae x\n", -1, "test.conf:1: Nmae: unknown key" },
	{ "bad bool", "Flag maybe\n", -1, "test.conf:1: Flag: expected yes or no" },
	{ "int out of range", "\nCount 11\n",
	    -1, "test.conf:2: Count: 11 is outside 1..10" },
	{ "int not a number", "Count 3x\n", -1, "expected a whole number" },
	{ "int overflow", "Count 99999999999999999999\n", -1,
	    "expected a whole number" },
	{ "bad enum", "Colour blue\n", -1,
	    "Colour: expected one of red, green" },
	{ "bad cidr", "Nets 10.0.0.1/8\n", -1, "bad address or CIDR block" },
	{ "repeated key", "Name a\nName b\n", -1,
	    "test.conf:2: Name: already set at line 1" },
	{ "every error reported", "Bogus 1\nCount 0\n", -1,
	    "test.conf:2: Count" },
	{ "nul byte", "Name a\0b\n", -1, "NUL byte" },
	{ "empty path", "File\n", -1, "File: empty path" },
	{ "duration seconds", "Wait 5\n", 0, NULL },
	{ "duration suffixes", "Wait 250ms\n", 0, NULL },
	{ "duration too short", "Wait 10ms\n", -1,
	    "Wait: 10ms is outside 50ms..60000ms" },
	{ "duration garbage", "Wait 5m\n", -1, "expected seconds" },
	{ "ignored foreign key loads", "OldKey true\n", 0, NULL },
	{ "refused foreign key", "GoneKey /x\n", -1,
	    "GoneKey: not supported (use File)" },
	{ "missing cidr file", "Nets /nonexistent/hosts\n", -1,
	    "cannot read /nonexistent/hosts" },
};

static void
test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		struct conf *c = conf_new(keys);
		size_t len = strlen(cases[i].text);
		int rc;

		if (strcmp(cases[i].name, "nul byte") == 0)
			len = 9;
		rc = conf_load_buffer(c, "test.conf", cases[i].text, len, &err);
		tap_int(rc, cases[i].rc, "conf: %s", cases[i].name);
		if (cases[i].err != NULL)
			tap_ok(strstr(strbuf_cstr(&err), cases[i].err) != NULL,
			    "conf: %s: message names file, line and key",
			    cases[i].name);
		if (cases[i].err != NULL &&
		    strstr(strbuf_cstr(&err), cases[i].err) == NULL)
			tap_diag("got: %s", strbuf_cstr(&err));
		conf_free(c);
		strbuf_release(&err);
	}
}

static void
test_values(void)
{
	struct strbuf err = STRBUF_INIT;
	static const char text[] = "Items a,b  c\nFlag on\nColour Green\n"
	    "File rel/path\nCount 7\n";
	struct conf *c = conf_new(keys);
	char *const *items;
	const struct cidr *nets;
	struct addr a;
	size_t n;

	tap_str(conf_str(c, "Name"), "def", "conf: default string");
	tap_int(conf_int(c, "Count"), 5, "conf: default int");
	tap_int(conf_is_set(c, "Count"), 0, "conf: default is not 'set'");
	n = conf_cidrs(c, "Nets", &nets);
	tap_int(n, 2, "conf: default CIDR list parsed");
	conf_load_buffer(c, "/etc/x/test.conf", text, strlen(text), &err);
	tap_str(strbuf_cstr(&err), "", "conf: values load without error");
	n = conf_list(c, "Items", &items);
	tap_int(n, 3, "conf: list split on commas and spaces");
	tap_str(n == 3 ? items[2] : NULL, "c", "conf: list item");
	tap_ok(conf_bool(c, "Flag"), "conf: bool on");
	tap_int(conf_enum(c, "Colour"), 1, "conf: enum index");
	tap_str(conf_str(c, "Colour"), "green", "conf: enum canonical name");
	tap_str(conf_str(c, "File"), "/etc/x/rel/path",
	    "conf: relative path resolved against the file's directory");
	tap_int(conf_int(c, "Count"), 7, "conf: int");
	tap_int(conf_int(c, "Wait"), 2000, "conf: duration default in ms");
	tap_int(conf_set(c, "Count", "9", &err), 0,
	    "conf: command-line override replaces a file value");
	tap_int(conf_int(c, "Count"), 9, "conf: override value");
	conf_free(c);

	c = conf_new(keys);
	conf_load_buffer(c, "t", "Nets 192.0.2.0/24\n", 18, &err); /* 18 bytes */
	n = conf_cidrs(c, "Nets", &nets);
	addr_parse("192.0.2.99", &a);
	tap_ok(n == 1 && cidr_contains(&nets[0], &a),
	    "conf: file value replaces the default list");
	conf_free(c);
	strbuf_release(&err);
}

static void
test_foreign_and_files(void)
{
	struct strbuf err = STRBUF_INIT;
	struct conf *c = conf_new(keys);
	const struct cidr *nets;
	char path[] = "/tmp/dmarcd-test-conf-XXXXXX";
	struct strbuf text = STRBUF_INIT;
	struct addr a;
	FILE *f;
	int fd;

	conf_load_buffer(c, "t.conf", "OldKey yes\n", 11, &err);
	tap_str(conf_warnings(c), "t.conf:1: OldKey: ignored: it does nothing\n",
	    "conf: an ignored key leaves a warning naming file, line, key");
	conf_free(c);

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("# OpenDMARC IgnoreHosts style\n192.0.2.0/24\n\n"
	    "2001:db8::/32 # docs\n", f);
	fclose(f);
	c = conf_new(keys);
	strbuf_appendf(&text, "Nets %s\n", path);
	tap_int(conf_load_buffer(c, "t.conf", strbuf_cstr(&text),
	    strbuf_len(&text), &err), 0, "conf: CIDR list read from a file");
	tap_int(conf_cidrs(c, "Nets", &nets), 2, "conf: file's two entries");
	addr_parse("2001:db8::5", &a);
	tap_ok(cidr_contains(&nets[1], &a), "conf: file entry matches");
	unlink(path);
	conf_free(c);
	strbuf_release(&text);
	strbuf_release(&err);
}

static void
test_alloc_failures(void)
{
	static const char text[] = "Name x\nItems a b c d\nNets ::1 10.0.0.0/8\n"
	    "File f\n";
	long n;
	int ok = 1;

	for (n = 0; n < 200; n++) {
		struct strbuf err = STRBUF_INIT;
		struct conf *c;
		int rc = -1;

		mem_fail_after(n);
		if ((c = conf_new(keys)) != NULL)
			rc = conf_load_buffer(c, "t", text, sizeof(text) - 1,
			    &err);
		mem_fail_after(-1);
		conf_free(c);
		strbuf_release(&err);
		if (rc == 0)
			break;
	}
	tap_ok(ok && n < 200, "conf: every allocation failure handled "
	    "(succeeded after %ld injected failures)", n);
}

static void
test_product_keys(void)
{
	struct strbuf err = STRBUF_INIT;
	struct conf *c = conf_new(confkeys_dmarcd);

	tap_ok(c != NULL, "confkeys: product defaults are valid");
	tap_str(conf_str(c, "PolicyDiscovery"), "treewalk",
	    "confkeys: PolicyDiscovery defaults to treewalk");
	tap_str(conf_str(c, "PctMode"), "sample",
	    "confkeys: PctMode defaults to sample");
	conf_free(c);
	strbuf_release(&err);
}

static void
test_sample_file(void)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct conf *c = conf_new(confkeys_dmarcd);
	const char *srcdir = getenv("top_srcdir");

	strbuf_appendf(&path, "%s/conf/dmarcd.conf", srcdir ? srcdir : ".");
	tap_int(conf_load_file(c, strbuf_cstr(&path), &err), 0,
	    "confkeys: the shipped conf/dmarcd.conf loads");
	if (strbuf_len(&err) > 0)
		tap_diag("%s", strbuf_cstr(&err));
	conf_free(c);
	strbuf_release(&err);
	strbuf_release(&path);
}

int
main(void)
{
	test_cases();
	test_values();
	test_foreign_and_files();
	test_alloc_failures();
	test_product_keys();
	test_sample_file();
	return tap_done();
}
