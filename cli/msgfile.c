/*
 * msgfile.c - read an RFC 5322 message from a stream and feed it to the
 * verify pipeline field by field, then the body in chunks.
 *
 * Header fields are unfolded only in the sense of being collected: the
 * value handed on is every byte after the colon, folding kept, with no
 * trailing line break, as libmilter hands it to a milter.  The body is
 * passed with CRLF line ends.  Bounds: a field over MSG_MAX_FIELD bytes or
 * more than MSG_MAX_FIELDS fields end the header with an error.  The
 * leading "From " line of an mbox message is skipped.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "auth/verify.h"
#include "cli.h"
#include "common/strbuf.h"

#define MSG_MAX_FIELD	65536
#define MSG_MAX_FIELDS	2000

/* Strip one trailing LF or CRLF from a line in sb. */
static void
chomp(struct strbuf *sb)
{
	size_t n = strbuf_len(sb);

	if (n > 0 && strbuf_cstr(sb)[n - 1] == '\n')
		n--;
	if (n > 0 && strbuf_cstr(sb)[n - 1] == '\r')
		n--;
	strbuf_truncate(sb, n);
}

/* Read one line (with its LF) into sb; false at end of file. */
static bool
read_line(FILE *f, struct strbuf *sb)
{
	int c;

	strbuf_reset(sb);
	while ((c = getc(f)) != EOF) {
		strbuf_appendc(sb, c);
		if (c == '\n')
			break;
	}
	return strbuf_len(sb) > 0;
}

static int
emit_field(struct verify *v, struct strbuf *field, const char *src)
{
	const char *s = strbuf_cstr(field), *colon = strchr(s, ':');
	struct strbuf name = STRBUF_INIT;
	int rc = 0;

	if (colon == NULL || colon == s) {
		cli_error("verify", "%s: header line without a field name: "
		    "\"%.40s\"", src, s);
		return -1;
	}
	strbuf_append(&name, s, (size_t)(colon - s));
	/* A name followed by spaces before the colon (obs-optional). */
	while (strbuf_len(&name) > 0 &&
	    (strbuf_cstr(&name)[strbuf_len(&name) - 1] == ' ' ||
	    strbuf_cstr(&name)[strbuf_len(&name) - 1] == '\t'))
		strbuf_truncate(&name, strbuf_len(&name) - 1);
	if (verify_header(v, strbuf_cstr(&name), colon + 1,
	    strbuf_len(field) - (size_t)(colon + 1 - s)) != VERIFY_OK)
		rc = -1;
	strbuf_release(&name);
	return rc;
}

int
msgfile_feed(struct verify *v, FILE *f, const char *src)
{
	struct strbuf line = STRBUF_INIT, field = STRBUF_INIT, crlf =
	    STRBUF_INIT;
	size_t nfields = 0;
	bool first = true;
	int rc = -1;

	strbuf_set_limit(&field, MSG_MAX_FIELD);
	while (read_line(f, &line)) {
		bool cont = strbuf_cstr(&line)[0] == ' ' ||
		    strbuf_cstr(&line)[0] == '\t';

		if (first && strncmp(strbuf_cstr(&line), "From ", 5) == 0) {
			first = false;
			continue;
		}
		first = false;
		if (cont && strbuf_len(&field) > 0) {
			/* Keep the fold as CRLF + the white space. */
			strbuf_appends(&field, "\r\n");
			chomp(&line);
			strbuf_append(&field, strbuf_cstr(&line),
			    strbuf_len(&line));
			if (strbuf_failed(&field)) {
				cli_error("verify", "%s: a header field is "
				    "longer than %d bytes", src, MSG_MAX_FIELD);
				goto done;
			}
			continue;
		}
		if (strbuf_len(&field) > 0) {
			if (++nfields > MSG_MAX_FIELDS) {
				cli_error("verify", "%s: more than %d header "
				    "fields", src, MSG_MAX_FIELDS);
				goto done;
			}
			if (emit_field(v, &field, src) != 0)
				goto done;
			strbuf_reset(&field);
		}
		chomp(&line);
		if (strbuf_len(&line) == 0)
			goto body;
		strbuf_append(&field, strbuf_cstr(&line), strbuf_len(&line));
	}
	/* A message that is all header. */
	if (strbuf_len(&field) > 0 && emit_field(v, &field, src) != 0)
		goto done;
body:
	if (verify_eoh(v) != VERIFY_OK)
		goto done;
	while (read_line(f, &line)) {
		strbuf_reset(&crlf);
		chomp(&line);
		strbuf_append(&crlf, strbuf_cstr(&line), strbuf_len(&line));
		strbuf_appends(&crlf, "\r\n");
		if (verify_body(v, (const unsigned char *)strbuf_cstr(&crlf),
		    strbuf_len(&crlf)) != VERIFY_OK)
			goto done;
	}
	rc = ferror(f) ? -1 : 0;
	if (rc != 0)
		cli_error("verify", "%s: read error", src);
done:
	strbuf_release(&line);
	strbuf_release(&field);
	strbuf_release(&crlf);
	return rc;
}
