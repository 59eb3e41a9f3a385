/*
 * test_rfc2047.c - RFC 2047 encoded-word decoding (ingest/rfc2047.c),
 * table-driven: the RFC's section 8 examples, B and Q, mixed plain and
 * encoded text, malformed words kept, invalid UTF-8 repaired, control
 * characters, the output bound.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/rfc2047.h"
#include "tests/unit/tap.h"

#define FFFD "\xef\xbf\xbd"

struct dcase {
	const char *name, *in, *want;
};

static const struct dcase cases[] = {
	/* RFC 2047 section 8, the header examples */
	{ "rfc 8: From", "=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>",
	  "Keith Moore <moore@cs.utk.edu>" },
	{ "rfc 8: To", "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>",
	  "Keld J\xc3\xb8rn Simonsen <keld@dkuug.dk>" },
	{ "rfc 8: CC", "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	  "Andr\xc3\xa9 Pirard <PIRARD@vm1.ulg.ac.be>" },
	{ "rfc 8: Subject, B in two charsets over a fold",
	  "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
	  "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
	  "If you can read this you understand the example." },
	{ "rfc 8: From with a comment",
	  "Nathaniel Borenstein <nsb@thumper.bellcore.com> "
	  "(=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)",
	  "Nathaniel Borenstein <nsb@thumper.bellcore.com> "
	  "(\xd7\x9d\xd7\x95\xd7\x9c\xd7\xa9 \xd7\x9f\xd7\x91 "
	  "\xd7\x99\xd7\x9c\xd7\x98\xd7\xa4\xd7\xa0)" },
	/* RFC 2047 section 8, the display table */
	{ "rfc 8: (a)", "(=?ISO-8859-1?Q?a?=)", "(a)" },
	{ "rfc 8: (a b)", "(=?ISO-8859-1?Q?a?= b)", "(a b)" },
	{ "rfc 8: (ab), one space", "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)",
	  "(ab)" },
	{ "rfc 8: (ab), two spaces",
	  "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "rfc 8: (ab), folded",
	  "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "rfc 8: (a b), encoded space", "(=?ISO-8859-1?Q?a_b?=)", "(a b)" },
	{ "rfc 8: (a b), two charsets",
	  "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)" },
	/* both encodings, the built-in charsets */
	{ "B utf-8", "=?UTF-8?B?w5xiZXJzaWNodA==?=", "\xc3\x9c" "bersicht" },
	{ "b lower case, no padding", "=?utf-8?b?w5xiZXJzaWNodA?=",
	  "\xc3\x9c" "bersicht" },
	{ "Q lower-case hex", "=?utf-8?q?caf=c3=a9?=", "caf\xc3\xa9" },
	{ "Q windows-1252 euro and quotes",
	  "=?windows-1252?Q?=80_=93x=94?=", "\xe2\x82\xac \xe2\x80\x9cx"
	  "\xe2\x80\x9d" },
	{ "iso-8859-1 read as windows-1252", "=?iso-8859-1?Q?=80?=",
	  "\xe2\x82\xac" },
	{ "windows-1252 hole", "=?cp1252?Q?=81?=", FFFD },
	{ "us-ascii with an 8-bit byte", "=?us-ascii?Q?a=E9b?=", "a" FFFD "b" },
	{ "iconv: koi8-r", "=?koi8-r?B?8NLJ18XU?=",
	  "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "iconv: iso-2022-jp",
	  "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=",
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ "rfc 2231 language suffix", "=?US-ASCII*EN?Q?Keith_Moore?=",
	  "Keith Moore" },
	/* mixed plain and encoded text */
	{ "plain text untouched", "Rent Reminder", "Rent Reminder" },
	{ "prefix and suffix", "Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Bonn",
	  "Re: Gr\xc3\xbc\xc3\x9f" "e aus Bonn" },
	{ "word touching text", "Re:=?utf-8?q?x?=y", "Re:xy" },
	{ "space kept between a word and text", "=?utf-8?q?a?=  b", "a  b" },
	{ "plain space between words kept when text between",
	  "=?utf-8?q?a?= - =?utf-8?q?b?=", "a - b" },
	{ "a character split over two words",
	  "=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xe2\x82\xac" },
	{ "split character, different charsets not joined",
	  "=?UTF-8?B?4oI=?= =?utf-16be?B?AKw=?=", FFFD FFFD "\xc2\xac" },
	{ "8-bit plain text, valid UTF-8 kept", "Gr\xc3\xbc\xc3\x9f" "e",
	  "Gr\xc3\xbc\xc3\x9f" "e" },
	{ "8-bit plain text, latin1 repaired", "Gr\xfc\xdf" "e",
	  "Gr" FFFD FFFD "e" },
	{ "empty", "", "" },
	{ "empty encoded text", "a =?utf-8?q?\?= b", "a  b" },
	/* malformed words are kept as they were */
	{ "bad base64 character", "=?utf-8?B?w5!i?=", "=?utf-8?B?w5!i?=" },
	{ "base64, one char too many", "=?utf-8?B?QUJDRA?= =?utf-8?B?QUJDR?=",
	  "ABCD =?utf-8?B?QUJDR?=" },
	{ "base64, data after padding", "=?utf-8?B?QQ==QQ==?=",
	  "=?utf-8?B?QQ==QQ==?=" },
	{ "base64, too much padding", "=?utf-8?B?QUI===?=",
	  "=?utf-8?B?QUI===?=" },
	{ "Q, = without hex", "=?utf-8?Q?a=ZZ?=", "=?utf-8?Q?a=ZZ?=" },
	{ "Q, = at the end", "=?utf-8?Q?a=?=", "=?utf-8?Q?a=?=" },
	{ "unknown charset", "=?x-no-such-charset?Q?abc?= ok",
	  "=?x-no-such-charset?Q?abc?= ok" },
	{ "unknown encoding", "=?utf-8?X?abc?=", "=?utf-8?X?abc?=" },
	{ "charset with a slash", "=?utf-8//TRANSLIT?Q?a?=",
	  "=?utf-8//TRANSLIT?Q?a?=" },
	{ "empty charset", "=??Q?a?=", "=??Q?a?=" },
	{ "charset too long",
	  "=?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "?Q?a?=",
	  "=?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "?Q?a?=" },
	{ "space inside encoded text", "=?utf-8?Q?a b?=", "=?utf-8?Q?a b?=" },
	{ "truncated: no ?=", "Hello =?utf-8?B?w5xi", "Hello =?utf-8?B?w5xi" },
	{ "truncated: only ?", "=?utf-8?Q?abc?", "=?utf-8?Q?abc?" },
	{ "truncated: after the charset", "x =?utf-8", "x =?utf-8" },
	{ "truncated: =? alone", "=?", "=?" },
	{ "a bad word before a good one", "=?=?utf-8?q?ok?=", "=?ok" },
	{ "== before a word", "==?utf-8?q?ok?=", "=ok" },
	{ "unknown charset between two words",
	  "=?utf-8?q?a?= =?nope?q?b?= =?utf-8?q?c?=",
	  "a =?nope?q?b?= c" },
	/* invalid UTF-8 after decoding, and control characters */
	{ "invalid utf-8: lone continuation", "=?utf-8?Q?a=80b?=",
	  "a" FFFD "b" },
	{ "invalid utf-8: overlong", "=?utf-8?Q?=C0=AF?=", FFFD FFFD },
	{ "invalid utf-8: surrogate", "=?utf-8?Q?=ED=A0=80?=",
	  FFFD FFFD FFFD },
	{ "invalid utf-8: cut at the end", "=?utf-8?B?4oI=?= end",
	  FFFD FFFD " end" },
	{ "invalid utf-8: past U+10FFFF", "=?utf-8?Q?=F4=90=80=80?=",
	  FFFD FFFD FFFD FFFD },
	{ "decoded CR LF become spaces", "=?utf-8?Q?a=0D=0Ab?=", "a  b" },
	{ "decoded NUL", "=?utf-8?B?YQBi?=", "a" FFFD "b" },
	{ "decoded ESC and DEL", "=?utf-8?Q?=1B[31m=7F?=", FFFD "[31m" FFFD },
	{ "C1 control (U+0085)", "=?utf-8?Q?=C2=85?=", FFFD },
	{ "plain TAB", "a\tb", "a b" },
};

static void
test_cases(void)
{
	struct strbuf out = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool cut = rfc2047_decode(&out, cases[i].in,
		    strlen(cases[i].in), 1024);

		tap_str(strbuf_cstr(&out), cases[i].want, "%s", cases[i].name);
		if (cut)
			tap_ok(0, "%s: not cut", cases[i].name);
	}
	strbuf_release(&out);
}

/* A long subject: the output stops at max, on a character boundary. */
static void
test_bounds(void)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;
	bool cut;

	/* 600 words of "é" (2 bytes each), 1200 bytes decoded */
	for (i = 0; i < 600; i++)
		strbuf_appends(&in, "=?utf-8?Q?=C3=A9?= ");
	cut = rfc2047_decode(&out, strbuf_cstr(&in), strbuf_len(&in), 1024);
	tap_ok(cut, "long subject: cut");
	tap_int(strbuf_len(&out), 1024, "long subject: 1024 bytes kept");
	strbuf_reset(&in);
	strbuf_appendc(&in, 'x');
	for (i = 0; i < 600; i++)
		strbuf_appends(&in, "=?utf-8?Q?=C3=A9?= ");
	cut = rfc2047_decode(&out, strbuf_cstr(&in), strbuf_len(&in), 1024);
	tap_ok(cut && strbuf_len(&out) == 1023 &&
	    memcmp(strbuf_cstr(&out) + 1021, "\xc3\xa9", 2) == 0,
	    "long subject: cut before a character that does not fit");
	/* a 100 KB subject of plain text and broken words */
	strbuf_reset(&in);
	for (i = 0; i < 5000; i++)
		strbuf_appends(&in, "=?utf-8?B?!! plain ");
	cut = rfc2047_decode(&out, strbuf_cstr(&in), strbuf_len(&in), 1024);
	tap_ok(cut && strbuf_len(&out) <= 1024 &&
	    strncmp(strbuf_cstr(&out), "=?utf-8?B?!! plain =?", 21) == 0,
	    "100 KB of broken words: cut at 1024 (%zu)", strbuf_len(&out));
	/* one huge word */
	strbuf_reset(&in);
	strbuf_appends(&in, "=?utf-8?B?");
	for (i = 0; i < 20000; i++)
		strbuf_appends(&in, "QUJD");
	strbuf_appends(&in, "?=");
	cut = rfc2047_decode(&out, strbuf_cstr(&in), strbuf_len(&in), 100);
	tap_ok(cut && strbuf_len(&out) == 100 &&
	    strncmp(strbuf_cstr(&out), "ABCABC", 6) == 0,
	    "one 80 KB word: cut at max");
	cut = rfc2047_decode(&out, "abc", 3, 3);
	tap_ok(!cut && strcmp(strbuf_cstr(&out), "abc") == 0,
	    "exactly max: not cut");
	cut = rfc2047_decode(&out, "=?utf-8?q?=E2=82=AC?=", 21, 2);
	tap_ok(cut && strbuf_len(&out) == 0, "max 2: a 3-byte character left out");
	/* not NUL-terminated input: only len bytes are read */
	cut = rfc2047_decode(&out, "=?utf-8?q?ab?=XYZ", 14, 1024);
	tap_str(strbuf_cstr(&out), "ab", "length respected");
	strbuf_release(&in);
	strbuf_release(&out);
}

int
main(void)
{
	test_cases();
	test_bounds();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
