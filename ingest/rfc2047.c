/*
 * rfc2047.c - decode RFC 2047 encoded-words in unstructured header
 * text to UTF-8, for the Subject shown of a failure report.
 *
 * RFC 2047 section 2 (syntax), 4.1 and 4.2 (the B and Q encodings),
 * 6.2 (white space between adjacent encoded-words is not displayed)
 * and RFC 2231 section 5 (a "*language" suffix of the charset, which
 * is ignored).  The raw bytes of adjacent words in the same charset
 * are joined before they are converted, so that a character split
 * over two words (as some mailers do) comes out whole.
 *
 * Tolerated, as mail readers do: an encoded-word that touches other
 * text ("re:=?utf-8?q?x?="), lower-case hex in Q, missing base64
 * padding, words longer than 75 characters.  Not decoded but kept as
 * they were: malformed words (bad base64, a Q "=" without two hex
 * digits, no closing "?="), charsets iconv(3) does not know.
 * ISO-8859-1 is read as windows-1252 (the WHATWG Encoding Standard's
 * choice: mailers label cp1252 text latin1); US-ASCII is strict.
 *
 * Bounds: the output is capped by the caller's max; the work is linear
 * in the input (a candidate word ends at its first "?" past the
 * encoding, so no byte is scanned by more than two candidates).
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/chars.h"
#include "ingest/rfc2047.h"

enum cs_kind { CS_NONE, CS_UTF8, CS_ASCII, CS_CP1252, CS_ICONV };

struct dec {
	struct strbuf *out;
	size_t	 max;
	bool	 cut;
	/* the charset of the current run of adjacent encoded words */
	char	 cs[RFC2047_MAX_CHARSET + 1];
	enum cs_kind kind;
	iconv_t	 cd;			/* when kind is CS_ICONV */
	struct strbuf run;		/* its raw bytes, not yet converted */
	struct strbuf word;		/* one word's bytes, while decoded */
};

/* windows-1252 0x80-0x9f; 0 where the code page has no character */
static const uint16_t cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Append code point cp as UTF-8, if it fits: a control character made
 * harmless, so that the text stays one line. */
static void
put_cp(struct dec *d, uint32_t cp)
{
	char b[4];
	size_t n;

	if (d->cut)
		return;
	if (cp == '\t' || cp == '\r' || cp == '\n')
		cp = ' ';
	else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		cp = 0xfffd;
	if (cp < 0x80)
		b[0] = (char)cp, n = 1;
	else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (strbuf_len(d->out) + n > d->max) {
		d->cut = true;
		return;
	}
	strbuf_append(d->out, b, n);
}

/* The length of the well-formed UTF-8 character at s[0..n) (RFC 3629
 * section 4: no overlong form, no surrogate, at most U+10FFFF), its
 * code point in *cp; 0 when it is not one. */
static size_t
utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t l, k;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		l = 2, v = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		l = 3, v = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		l = 4, v = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < l)
		return 0;
	for (k = 1; k < l; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return l;
}

/* UTF-8 (or what claims to be): each invalid byte becomes U+FFFD. */
static void
put_utf8(struct dec *d, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	uint32_t cp;
	size_t i = 0, l;

	while (i < n && !d->cut) {
		if ((l = utf8_char(s + i, n - i, &cp)) == 0)
			cp = 0xfffd, l = 1;
		put_cp(d, cp);
		i += l;
	}
}

static void
put_iconv(struct dec *d, const char *s, size_t n)
{
	char buf[256], *ip = (char *)(uintptr_t)s, *op;
	size_t il = n, ol, r;

	iconv(d->cd, NULL, NULL, NULL, NULL);	/* initial shift state */
	while (il > 0 && !d->cut) {
		op = buf, ol = sizeof(buf);
		r = iconv(d->cd, &ip, &il, &op, &ol);
		put_utf8(d, buf, (size_t)(op - buf));
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG && op > buf)
			continue;
		/* EILSEQ, or EINVAL (a character cut at the end): one
		 * byte is lost */
		put_cp(d, 0xfffd);
		ip++, il--;
	}
	op = buf, ol = sizeof(buf);
	if (iconv(d->cd, NULL, NULL, &op, &ol) != (size_t)-1)
		put_utf8(d, buf, (size_t)(op - buf));
}

/* Convert the run of adjacent words and empty it. */
static void
flush_run(struct dec *d)
{
	const unsigned char *s = (const unsigned char *)strbuf_cstr(&d->run);
	size_t i, n = strbuf_len(&d->run);

	switch (d->kind) {
	case CS_UTF8:
		put_utf8(d, (const char *)s, n);
		break;
	case CS_ASCII:
		for (i = 0; i < n; i++)
			put_cp(d, s[i] < 0x80 ? s[i] : 0xfffd);
		break;
	case CS_CP1252:
		for (i = 0; i < n; i++)
			put_cp(d, s[i] < 0x80 || s[i] >= 0xa0 ? s[i] :
			    cp1252[s[i] - 0x80] != 0 ? cp1252[s[i] - 0x80] :
			    0xfffd);
		break;
	case CS_ICONV:
		put_iconv(d, (const char *)s, n);
		break;
	case CS_NONE:
		break;
	}
	strbuf_reset(&d->run);
}

/* Make cs the charset of the run (flushing the previous one); false,
 * with nothing changed, when it is not one we can convert. */
static bool
set_charset(struct dec *d, const char *cs)
{
	static const struct {
		const char *name;
		enum cs_kind kind;
	} builtin[] = {
		{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 },
		{ "us-ascii", CS_ASCII }, { "ascii", CS_ASCII },
		{ "iso-8859-1", CS_CP1252 }, { "iso8859-1", CS_CP1252 },
		{ "iso_8859-1", CS_CP1252 }, { "latin1", CS_CP1252 },
		{ "windows-1252", CS_CP1252 }, { "cp1252", CS_CP1252 },
	};
	enum cs_kind kind = CS_NONE;
	iconv_t cd = (iconv_t)-1;
	size_t i;

	if (d->kind != CS_NONE && strcasecmp(cs, d->cs) == 0)
		return true;
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcasecmp(cs, builtin[i].name) == 0)
			kind = builtin[i].kind;
	if (kind == CS_NONE) {
		/* a token cannot hold "/", so no "//TRANSLIT" suffix */
		if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
			return false;
		kind = CS_ICONV;
	}
	flush_run(d);
	if (d->kind == CS_ICONV)
		iconv_close(d->cd);
	d->kind = kind;
	d->cd = cd;
	strcpy(d->cs, cs);		/* length checked by the caller */
	return true;
}

/* RFC 2047 section 4.2: "_" is a space, "=XX" a byte. */
static bool
decode_q(struct strbuf *w, const char *s, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '_')
			strbuf_appendc(w, ' ');
		else if (s[i] != '=')
			strbuf_appendc(w, s[i]);
		else if (i + 2 < n && (hi = char_hex_value(s[i + 1])) >= 0 &&
		    (lo = char_hex_value(s[i + 2])) >= 0) {
			strbuf_appendc(w, hi << 4 | lo);
			i += 2;
		} else
			return false;
	}
	return true;
}

/* RFC 2047 section 4.1 (RFC 4648 base64); padding may be missing. */
static bool
decode_b(struct strbuf *w, const char *s, size_t n)
{
	uint32_t acc = 0;
	size_t i, nd = 0, pad = 0;
	int v;

	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = char_base64_value(s[i])) < 0)
			return false;	/* data after "=", or not base64 */
		acc = acc << 6 | (uint32_t)v;
		if (++nd % 4 == 0) {
			strbuf_appendc(w, (int)(acc >> 16 & 0xff));
			strbuf_appendc(w, (int)(acc >> 8 & 0xff));
			strbuf_appendc(w, (int)(acc & 0xff));
			acc = 0;
		}
	}
	if (nd % 4 == 1 || pad > 2 || (pad > 0 && (nd + pad) % 4 != 0))
		return false;
	if (nd % 4 == 2)
		strbuf_appendc(w, (int)(acc >> 4 & 0xff));
	else if (nd % 4 == 3) {
		strbuf_appendc(w, (int)(acc >> 10 & 0xff));
		strbuf_appendc(w, (int)(acc >> 2 & 0xff));
	}
	return true;
}

/* RFC 2047 section 2: token = 1*<any CHAR except SPACE, CTLs and
 * especials>. */
static bool
is_token(char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\"/[]?.=", c) == NULL;
}

/*
 * The encoded-word at in[i] ("=?" there), decoded and added to the
 * run; its end in *end.  False when it is malformed or its charset
 * unknown (the caller keeps it as text).
 */
static bool
take_word(struct dec *d, const char *in, size_t len, size_t i, size_t *end)
{
	char cs[RFC2047_MAX_CHARSET + 1];
	size_t j = i + 2, cl = 0, t;
	char enc;
	bool ok;

	while (j < len && is_token(in[j]))
		j++;
	/* RFC 2231 section 5: charset "*" language */
	while (i + 2 + cl < j && in[i + 2 + cl] != '*')
		cl++;
	if (cl == 0 || cl > RFC2047_MAX_CHARSET || j + 2 >= len ||
	    in[j] != '?' || in[j + 2] != '?')
		return false;
	enc = in[j + 1];
	if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q')
		return false;
	/* encoded-text: printable ASCII but "?" and space */
	for (t = j + 3; t < len && in[t] > 0x20 && in[t] < 0x7f &&
	    in[t] != '?'; t++)
		;
	if (t + 1 >= len || in[t] != '?' || in[t + 1] != '=')
		return false;
	memcpy(cs, in + i + 2, cl);
	cs[cl] = '\0';
	strbuf_reset(&d->word);
	ok = enc == 'B' || enc == 'b' ?
	    decode_b(&d->word, in + j + 3, t - j - 3) :
	    decode_q(&d->word, in + j + 3, t - j - 3);
	if (!ok || !set_charset(d, cs))
		return false;
	strbuf_append(&d->run, strbuf_cstr(&d->word), strbuf_len(&d->word));
	*end = t + 2;
	return true;
}

bool
rfc2047_decode(struct strbuf *out, const char *in, size_t len, size_t max)
{
	struct dec d;
	size_t i = 0, j, ws = 0, end;
	bool after_word = false;	/* only white space since a word */

	memset(&d, 0, sizeof(d));
	d.out = out;
	d.max = max;
	d.cd = (iconv_t)-1;
	strbuf_init(&d.run);
	strbuf_init(&d.word);
	strbuf_reset(out);
	while (i < len && !d.cut) {
		if (is_ws(in[i])) {
			for (j = i; j < len && is_ws(in[j]); j++)
				;
			/* after a word, held from ws: dropped if a word
			 * follows */
			if (!after_word)
				put_utf8(&d, in + i, j - i);
			i = j;
			continue;
		}
		if (in[i] == '=' && i + 1 < len && in[i + 1] == '?' &&
		    take_word(&d, in, len, i, &end)) {
			/* RFC 2047 section 6.2: the white space between two
			 * encoded-words is not shown */
			after_word = true;
			ws = i = end;
			continue;
		}
		/* plain text, up to white space or a possible word */
		flush_run(&d);
		if (after_word)
			put_utf8(&d, in + ws, i - ws);
		after_word = false;
		j = in[i] == '=' && i + 1 < len && in[i + 1] == '?' ?
		    i + 2 : i + 1;
		while (j < len && !is_ws(in[j]) && in[j] != '=')
			j++;
		put_utf8(&d, in + i, j - i);
		i = j;
	}
	flush_run(&d);
	if (after_word && ws < i)
		put_utf8(&d, in + ws, i - ws);	/* trailing white space */
	if (d.kind == CS_ICONV)
		iconv_close(d.cd);
	strbuf_release(&d.run);
	strbuf_release(&d.word);
	return d.cut;
}
