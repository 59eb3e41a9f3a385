/*
 * dkimsign.c - sign a message with libopendkim, for the DKIM tests.
 *
 *   dkimsign -k KEY.pem -d DOMAIN -s SELECTOR [-a ALG] [-c HDR/BODY]
 *            [-H from:to:subject] [-i AUID] [-L LEN] [-t TIME] [-x TTL]
 *            [FILE|-]
 *
 * ALG is rsa-sha256 (default), rsa-sha1 or ed25519-sha256.  -H names the
 * fields to sign; without "from" in it the signature omits From from h=
 * (libopendkim always adds From unless the required-fields list is
 * replaced, which this tool does for that case only).  -t fixes t=, -x
 * adds x= = t= + TTL, so a test can make an expired signature.  -L signs
 * only the first LEN canonical bytes of the body and adds l=.
 * The signed message goes to standard output with LF line ends and the
 * new DKIM-Signature field first.  Keys come from the test, made with
 * openssl at test time; nothing here is a fixture.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#include "common/mem.h"
#include "common/strbuf.h"
#include "msgfile.h"

#define MAX_SIGN_FIELDS 64

/*
 * libopendkim 2.11's signing path leaks the private key it loads
 * (dkim_privkey_load); this helper signs one message and exits, so the
 * leak checker of a sanitizer build is told to look away here only.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

static void
usage(void)
{
	fprintf(stderr, "usage: dkimsign -k key.pem -d domain -s selector "
	    "[-a alg] [-c canon] [-H fields] [-i auid] [-L len] [-t time] "
	    "[-x ttl] [file]\n");
	exit(EX_USAGE);
}

static char *
read_key(const char *path)
{
	FILE *fp;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(fp);
	return strbuf_steal(&sb);
}

static int
parse_canon(const char *s, dkim_canon_t *hc, dkim_canon_t *bc)
{
	const char *slash = strchr(s, '/');
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	const char *b = slash != NULL ? slash + 1 : "simple";

	if (hl == 7 && strncmp(s, "relaxed", 7) == 0)
		*hc = DKIM_CANON_RELAXED;
	else if (hl == 6 && strncmp(s, "simple", 6) == 0)
		*hc = DKIM_CANON_SIMPLE;
	else
		return -1;
	if (strcmp(b, "relaxed") == 0)
		*bc = DKIM_CANON_RELAXED;
	else if (strcmp(b, "simple") == 0)
		*bc = DKIM_CANON_SIMPLE;
	else
		return -1;
	return 0;
}

/* Split "a:b:c" into a NULL-terminated array pointing into s (modified). */
static size_t
split_fields(char *s, const char **out, size_t max)
{
	size_t n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ":", &save); tok != NULL && n < max - 1;
	    tok = strtok_r(NULL, ":", &save))
		out[n++] = tok;
	out[n] = NULL;
	return n;
}

static void
put_lf(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
			putchar(s[i]);
}

int
main(int argc, char **argv)
{
	const char *keyfile = NULL, *domain = NULL, *selector = NULL;
	const char *alg = "rsa-sha256", *canon = "relaxed/relaxed";
	const char *auid = NULL, *fields = NULL;
	const char *signhdrs[MAX_SIGN_FIELDS], *required[2];
	char *fieldcopy = NULL, *key;
	unsigned long long when = 0, ttl = 0;
	ssize_t bodylen = -1;
	u_int minbits = 512;
	dkim_canon_t hc, bc;
	dkim_alg_t sa;
	DKIM_LIB *lib;
	DKIM *dkim;
	DKIM_STAT st;
	struct msgfile m;
	struct strbuf f = STRBUF_INIT;
	u_char *sighdr;
	size_t siglen, i, nsign;
	int ch;
	bool has_from = false;

	while ((ch = getopt(argc, argv, "a:c:d:H:i:k:L:s:t:x:")) != -1) {
		switch (ch) {
		case 'a': alg = optarg; break;
		case 'c': canon = optarg; break;
		case 'd': domain = optarg; break;
		case 'H': fields = optarg; break;
		case 'i': auid = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'L': bodylen = (ssize_t)strtoul(optarg, NULL, 10); break;
		case 's': selector = optarg; break;
		case 't': when = strtoull(optarg, NULL, 10); break;
		case 'x': ttl = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (keyfile == NULL || domain == NULL || selector == NULL || argc > 1)
		usage();
	if (strcmp(alg, "rsa-sha256") == 0)
		sa = DKIM_SIGN_RSASHA256;
	else if (strcmp(alg, "rsa-sha1") == 0)
		sa = DKIM_SIGN_RSASHA1;
	else if (strcmp(alg, "ed25519-sha256") == 0)
		sa = DKIM_SIGN_ED25519SHA256;
	else
		usage();
	if (parse_canon(canon, &hc, &bc) < 0)
		usage();
	if ((key = read_key(keyfile)) == NULL) {
		fprintf(stderr, "dkimsign: %s: %s\n", keyfile, strerror(errno));
		return EX_NOINPUT;
	}
	if (msgfile_read(argc == 1 ? argv[0] : "-", &m) < 0) {
		fprintf(stderr, "dkimsign: %s: %s\n", argc == 1 ? argv[0] : "-",
		    strerror(errno));
		return EX_NOINPUT;
	}
	if ((lib = dkim_init(NULL, NULL)) == NULL) {
		fprintf(stderr, "dkimsign: dkim_init failed\n");
		return EX_SOFTWARE;
	}
	/* Tests sign with 512-bit keys on purpose (RFC 8301 cases). */
	(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits,
	    sizeof(minbits));
	if (fields != NULL) {
		fieldcopy = mem_strdup(fields);
		nsign = split_fields(fieldcopy, signhdrs, MAX_SIGN_FIELDS);
		for (i = 0; i < nsign; i++)
			if (strcasecmp(signhdrs[i], "from") == 0)
				has_from = true;
		if (!has_from && nsign > 0) {
			/* Only way to get h= without From out of libopendkim:
			 * replace its required list (which defaults to From). */
			required[0] = signhdrs[0];
			required[1] = NULL;
			(void)dkim_options(lib, DKIM_OP_SETOPT,
			    DKIM_OPTS_REQUIREDHDRS, required, sizeof(char **));
		}
		(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
		    signhdrs, sizeof(char **));
	} else
		(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
		    dkim_should_signhdrs, sizeof(char **));
	if (when != 0) {
		uint64_t t = when;

		(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &t,
		    sizeof(t));
	}
	if (ttl != 0) {
		uint64_t t = ttl;

		(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL,
		    &t, sizeof(t));
	}
	dkim = dkim_sign(lib, (const u_char *)"dkimsign", NULL,
	    (dkim_sigkey_t)key, (const u_char *)selector,
	    (const u_char *)domain, hc, bc, sa, bodylen, &st);
	if (dkim == NULL) {
		fprintf(stderr, "dkimsign: dkim_sign: %s\n",
		    dkim_getresultstr(st));
		return EX_SOFTWARE;
	}
	if (auid != NULL)
		(void)dkim_set_signer(dkim, (const u_char *)auid);
	for (i = 0; i < m.nfields; i++) {
		strbuf_reset(&f);
		strbuf_appendf(&f, "%s:", m.fields[i].name);
		strbuf_append(&f, m.fields[i].value, m.fields[i].valuelen);
		st = dkim_header(dkim, (u_char *)f.data, f.len);
		if (st != DKIM_STAT_OK) {
			fprintf(stderr, "dkimsign: dkim_header(%s): %s\n",
			    m.fields[i].name, dkim_getresultstr(st));
			return EX_DATAERR;
		}
	}
	if ((st = dkim_eoh(dkim)) != DKIM_STAT_OK ||
	    (m.bodylen > 0 && (st = dkim_body(dkim, (u_char *)(uintptr_t)m.body,
	    m.bodylen)) != DKIM_STAT_OK) ||
	    (st = dkim_eom(dkim, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(dkim, strlen(DKIM_SIGNHEADER) + 2, &sighdr,
	    &siglen)) != DKIM_STAT_OK) {
		const char *e = dkim_geterror(dkim);

		fprintf(stderr, "dkimsign: %s%s%s\n", dkim_getresultstr(st),
		    e != NULL ? ": " : "", e != NULL ? e : "");
		return EX_SOFTWARE;
	}
	printf("%s: ", DKIM_SIGNHEADER);
	put_lf((const char *)sighdr, siglen);
	putchar('\n');
	put_lf(m.data, m.len);
	dkim_free(dkim);
	dkim_close(lib);
	msgfile_free(&m);
	strbuf_release(&f);
	mem_free(key);
	mem_free(fieldcopy);
	return ferror(stdout) ? EX_IOERR : 0;
}
