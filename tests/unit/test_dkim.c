/*
 * test_dkim.c - auth/dkim.c without cryptography: everything decided
 * before or instead of an RSA/ed25519 operation (tag parsing, RFC 8301
 * and h= rules, key lookup outcomes, the signature cap, bounds, order of
 * calls, allocation failure).  Signing and verifying real signatures is
 * tests/dkim/test_dkim.sh, with keys made at test time.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/dkim.h"
#include "auth/dkimtag.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "tests/helpers/keytable.h"
#include "tap.h"

#define MAXF	40

/* A syntactically valid signature for d=example.com s=SEL, with tags
 * overridable by appending (duplicates are the test's business). */
#define SIG(extra) " v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;" \
	" s=sel; h=from:to:subject; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;" \
	extra " b=AAAABBBBCCCCDDDD"

struct run {
	enum dkimv_status st;
	struct dkimv_sig *sigs;
	size_t n;
	size_t queries;
};

static const char *base_fields[] = {
	"From", " a@example.com",
	"To", " b@example.net",
	"Subject", " hello",
	NULL
};

/* Feed fields (name, value pairs, NULL-terminated) after the base
 * fields (unless nobase), a one-line body, and finish. */
static void
run_msg(const char *const *fields, bool nobase, const char *table,
    const struct dkimv_config *conf, struct run *r)
{
	struct dkimv_lib *vl = NULL;
	struct dkimv *v = NULL;
	struct keytable *kt = keytable_new();
	const struct dkimv_sig *sigs;
	const char *p, *nl;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	if (kt == NULL) {
		r->st = DKIMV_ERR_NOMEM;
		return;
	}
	for (p = table; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		(void)keytable_add_line(kt, p, (size_t)(nl - p));
		if (*nl == '\0')
			break;
	}
	if ((r->st = dkimv_lib_new(conf, &vl)) != DKIMV_OK)
		goto out;
	if ((r->st = dkimv_new(vl, "test", keytable_lookup, kt, &v)) !=
	    DKIMV_OK)
		goto out;
	for (i = 0; fields != NULL && fields[i] != NULL; i += 2)
		(void)dkimv_header(v, fields[i], fields[i + 1],
		    strlen(fields[i + 1]));
	for (i = 0; !nobase && base_fields[i] != NULL; i += 2)
		(void)dkimv_header(v, base_fields[i], base_fields[i + 1],
		    strlen(base_fields[i + 1]));
	(void)dkimv_eoh(v);
	(void)dkimv_body(v, (const unsigned char *)"body\r\n", 6);
	r->st = dkimv_finish(v, &sigs, &n);
	r->sigs = dkimv_take_results(v, &r->n);
out:
	r->queries = keytable_queries(kt);
	dkimv_free(v);
	dkimv_lib_free(vl);
	keytable_free(kt);
}

static void
run_free(struct run *r)
{
	dkimv_sigs_free(r->sigs, r->n);
	memset(r, 0, sizeof(*r));
}

struct one {
	const char *name;
	const char *sig;	/* DKIM-Signature value */
	const char *table;	/* key table lines */
	enum dkimv_result want;
	const char *reason;	/* prefix of the reason */
	size_t queries;
};

static const struct one ones[] = {
	{ "key NXDOMAIN -> permerror", SIG(""),
	    "sel._domainkey.example.com NXDOMAIN", DKIMV_PERMERROR,
	    "no key", 1 },
	{ "key NODATA -> permerror", SIG(""),
	    "sel._domainkey.example.com NODATA", DKIMV_PERMERROR, "no key", 1 },
	{ "unlisted key name -> permerror", SIG(""), "", DKIMV_PERMERROR,
	    "no key", 1 },
	{ "DNS tempfail -> temperror", SIG(""),
	    "sel._domainkey.example.com TEMPFAIL", DKIMV_TEMPERROR,
	    "key lookup failed temporarily", 1 },
	{ "DNS permfail -> permerror", SIG(""),
	    "sel._domainkey.example.com PERMFAIL", DKIMV_PERMERROR,
	    "key lookup failed", 1 },
	{ "revoked key (empty p=) -> fail", SIG(""),
	    "sel._domainkey.example.com v=DKIM1; k=rsa; p=", DKIMV_FAIL,
	    "key revoked", 1 },
	{ "first plausible record of several is used", SIG(""),
	    "sel._domainkey.example.com hello world\n"
	    "sel._domainkey.example.com v=DKIM1; p=", DKIMV_FAIL,
	    "key revoked", 1 },
	{ "empty key record -> permerror", SIG(""),
	    "sel._domainkey.example.com \"\"", DKIMV_PERMERROR,
	    "key record syntax error", 1 },
	{ "key version v=DKIM2 -> permerror", SIG(""),
	    "sel._domainkey.example.com v=DKIM2; p=AAAA", DKIMV_PERMERROR,
	    "unsupported key version", 1 },
	{ "key k=foo -> permerror", SIG(""),
	    "sel._domainkey.example.com v=DKIM1; k=foo; p=AAAA",
	    DKIMV_PERMERROR, "unsupported key type", 1 },
	{ "key s=chat -> permerror", SIG(""),
	    "sel._domainkey.example.com v=DKIM1; s=chat; p=AAAA",
	    DKIMV_PERMERROR, "key not for email", 1 },
	{ "undecodable key -> permerror", SIG(""),
	    "sel._domainkey.example.com v=DKIM1; p=AAAA", DKIMV_PERMERROR,
	    "key cannot be decoded", 1 },
	{ "rsa-sha1 fails without a lookup (RFC 8301)",
	    " v=1; a=rsa-sha1; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA",
	    "", DKIMV_FAIL, "rsa-sha1 not accepted", 0 },
	{ "duplicate h= -> neutral", SIG("")
	    "; h=to:subject", "", DKIMV_NEUTRAL, "signature has a duplicate",
	    0 },
	{ "h= lacking From", " v=1; a=rsa-sha256; d=example.com; s=sel;"
	    " h=to : subject; bh=AAAA; b=AAAA", "", DKIMV_PERMERROR,
	    "From not signed", 0 },
	{ "h= with From in odd case and spacing", " v=1; a=rsa-sha256;"
	    " d=example.com; s=sel; h=to :\r\n\tFROM ; bh=AAAA; b=AAAA",
	    "sel._domainkey.example.com NXDOMAIN", DKIMV_PERMERROR, "no key",
	    1 },
	{ "unsupported a=rsa-md5 -> neutral", " v=1; a=rsa-md5;"
	    " d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", "",
	    DKIMV_NEUTRAL, "unsupported algorithm", 0 },
	{ "missing bh= -> neutral", " v=1; a=rsa-sha256; d=example.com;"
	    " s=sel; h=from; b=AAAA", "", DKIMV_NEUTRAL,
	    "signature lacks bh=", 0 },
	{ "v=2 -> neutral", " v=2; a=rsa-sha256; d=example.com; s=sel;"
	    " h=from; bh=AAAA; b=AAAA", "", DKIMV_NEUTRAL,
	    "unsupported signature version", 0 },
	{ "q=http -> neutral", SIG(" q=http/get;"), "", DKIMV_NEUTRAL,
	    "unsupported query method", 0 },
	{ "q=dns/txt accepted", SIG(" q=dns/txt;"),
	    "sel._domainkey.example.com NXDOMAIN", DKIMV_PERMERROR, "no key",
	    1 },
	{ "empty signature field -> neutral", "", "", DKIMV_NEUTRAL,
	    "signature lacks v=", 0 },
	{ "key name over 253 octets -> permerror", " v=1; a=rsa-sha256;"
	    " d=example.com; h=from; bh=AAAA; b=AAAA; s="
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "", DKIMV_PERMERROR, "invalid key name", 0 },
	{ "tag-list syntax error -> neutral", " v=1; a rsa-sha256", "",
	    DKIMV_NEUTRAL, "signature syntax error", 0 },
	{ "non-ASCII byte -> neutral", SIG(" z=\xc3\xa9;"), "",
	    DKIMV_NEUTRAL, "signature syntax error", 0 },
	{ "invalid d= -> neutral", " v=1; a=rsa-sha256; d=exa mple.com;"
	    " s=sel; h=from; bh=AAAA; b=AAAA", "", DKIMV_NEUTRAL,
	    "invalid d=", 0 },
	{ "expired x= -> fail", SIG(" t=1000; x=2000;"), "", DKIMV_FAIL,
	    "signature expired", 0 },
	{ "i= outside d= -> neutral", SIG(" i=@other.example;"), "",
	    DKIMV_NEUTRAL, "i= not within d=", 0 },
	{ "corrupt b= -> neutral", " v=1; a=rsa-sha256; d=example.com;"
	    " s=sel; h=from; bh=AAAA; b=!!!!", "", DKIMV_NEUTRAL,
	    "signature syntax error", 0 },
};

static void
test_ones(void)
{
	size_t i;
	struct run r;

	for (i = 0; i < sizeof(ones) / sizeof(ones[0]); i++) {
		const char *fields[] = { "DKIM-Signature", ones[i].sig, NULL };

		run_msg(fields, false, ones[i].table, NULL, &r);
		tap_int(r.st, DKIMV_OK, "%s: status", ones[i].name);
		tap_int(r.n, 1, "%s: one signature", ones[i].name);
		if (r.n == 1) {
			tap_str(dkimv_result_name(r.sigs[0].result),
			    dkimv_result_name(ones[i].want), "%s: result",
			    ones[i].name);
			tap_ok(strncmp(r.sigs[0].reason, ones[i].reason,
			    strlen(ones[i].reason)) == 0, "%s: reason '%s'",
			    ones[i].name, r.sigs[0].reason);
		}
		tap_int(r.queries, ones[i].queries, "%s: DNS queries",
		    ones[i].name);
		run_free(&r);
	}
}

static void
test_unsigned(void)
{
	struct run r;

	run_msg(NULL, false, "", NULL, &r);
	tap_int(r.st, DKIMV_OK, "unsigned: status ok");
	tap_int(r.n, 0, "unsigned: no signatures");
	tap_str(dkimv_result_name(dkimv_summary(r.sigs, r.n)), "none",
	    "unsigned: summary none");
	tap_int(r.queries, 0, "unsigned: no DNS");
	run_free(&r);
}

static void
test_fields_reported(void)
{
	const char *fields[] = { "DKIM-Signature", " v=1; a=RSA-SHA256;"
	    " d=EXAMPLE.Com.; s=SeL; i=Joe@Mail.Example.COM; h=from;"
	    " bh=AAAA; b=abcd\r\n\tEFGH ijkl\r\n MNOPqrst", NULL };
	struct run r;

	run_msg(fields, false, "sel._domainkey.example.com NXDOMAIN", NULL,
	    &r);
	tap_int(r.n, 1, "reported: one signature");
	if (r.n == 1) {
		tap_str(r.sigs[0].domain, "example.com", "reported: d= normalised");
		tap_str(r.sigs[0].selector, "sel", "reported: s= lowercased");
		tap_str(r.sigs[0].algorithm, "rsa-sha256",
		    "reported: a= lowercased");
		tap_str(r.sigs[0].identity, "Joe@Mail.Example.COM",
		    "reported: i= kept as written");
		tap_str(r.sigs[0].b_prefix, "abcdEFGHijkl",
		    "reported: b= prefix without folding");
		tap_int(r.sigs[0].keybits, 0, "reported: no key, no bits");
	}
	run_free(&r);

	fields[1] = SIG(" i=al=69ce=40mail.\r\n example.com;");
	run_msg(fields, false, "", NULL, &r);
	if (r.n == 1)
		tap_str(r.sigs[0].identity, "alice@mail.example.com",
		    "reported: i= quoted-printable decoded, FWS dropped");
	run_free(&r);
	fields[1] = SIG(" i=a=22b@example.com;");
	run_msg(fields, false, "", NULL, &r);
	if (r.n == 1)
		tap_ok(r.sigs[0].identity == NULL,
		    "reported: i= with a quote character not reported");
	run_free(&r);
}

static void
test_two_domains(void)
{
	const char *fields[] = {
		"DKIM-Signature", SIG(""),
		"DKIM-Signature", " v=1; a=rsa-sha256; d=example.net; s=k2;"
		    " h=from; bh=AAAA; b=ZZZZYYYY",
		NULL };
	struct run r;

	run_msg(fields, false, "sel._domainkey.example.com TEMPFAIL\n"
	    "k2._domainkey.example.net v=DKIM1; p=", NULL, &r);
	tap_int(r.n, 2, "two signatures: both reported");
	if (r.n == 2) {
		tap_str(r.sigs[0].domain, "example.com", "two: first d=");
		tap_str(dkimv_result_name(r.sigs[0].result), "temperror",
		    "two: first temperror");
		tap_str(r.sigs[1].domain, "example.net", "two: second d=");
		tap_str(dkimv_result_name(r.sigs[1].result), "fail",
		    "two: second fail (revoked), not stopped by the first");
		tap_str(dkimv_result_name(dkimv_summary(r.sigs, r.n)),
		    "temperror", "two: summary prefers temperror over fail");
	}
	tap_int(r.queries, 2, "two: one query each");
	run_free(&r);
}

static void
test_cap(void)
{
	const char *fields[2 * 40 + 1];
	char vals[40][200];
	struct dkimv_config conf;
	struct run r;
	size_t i, policy = 0;

	for (i = 0; i < 40; i++) {
		snprintf(vals[i], sizeof(vals[i]), " v=1; a=rsa-sha256;"
		    " d=example.com; s=s%zu; h=from; bh=AAAA; b=AAAA", i);
		fields[2 * i] = "DKIM-Signature";
		fields[2 * i + 1] = vals[i];
	}
	fields[80] = NULL;
	dkimv_config_init(&conf);
	conf.max_sigs = 3;
	run_msg(fields, false, "", &conf, &r);
	tap_int(r.n, 40, "cap: all 40 signatures reported");
	tap_int(r.queries, 3, "cap: only 3 verified (3 key lookups)");
	for (i = 0; i < r.n; i++)
		if (r.sigs[i].result == DKIMV_POLICY)
			policy++;
	tap_int(policy, 37, "cap: 37 reported as policy");
	if (r.n == 40) {
		tap_str(dkimv_result_name(r.sigs[39].result), "policy",
		    "cap: field past libopendkim's bound is policy too");
		tap_str(r.sigs[39].selector, "s39", "cap: and still named");
	}
	run_free(&r);

	/* Signatures judged without a key do not use up the cap. */
	for (i = 0; i < 5; i++) {
		snprintf(vals[i], sizeof(vals[i]), " v=1; a=rsa-sha1;"
		    " d=example.com; s=j%zu; h=from; bh=AAAA; b=AAAA", i);
		fields[2 * i] = "DKIM-Signature";
		fields[2 * i + 1] = vals[i];
	}
	fields[10] = "DKIM-Signature";
	fields[11] = SIG("");
	fields[12] = NULL;
	conf.max_sigs = 1;
	run_msg(fields, false, "sel._domainkey.example.com NXDOMAIN", &conf,
	    &r);
	tap_int(r.n, 6, "cap: junk + real reported");
	tap_int(r.queries, 1, "cap: junk rsa-sha1 does not use up the cap");
	if (r.n == 6)
		tap_str(dkimv_result_name(r.sigs[5].result), "permerror",
		    "cap: the real signature was evaluated");
	run_free(&r);
}

static void
test_no_from(void)
{
	const char *fields[] = { "DKIM-Signature", SIG(""), "To", " x@y", NULL };
	struct run r;

	run_msg(fields, true, "", NULL, &r);
	tap_int(r.n, 1, "no From: reported");
	if (r.n == 1)
		tap_str(r.sigs[0].reason, "message has no From field",
		    "no From: permerror reason");
	tap_int(r.queries, 0, "no From: no lookup");
	run_free(&r);
}

static void
test_bounds(void)
{
	const char *fields[2 * 8 + 1];
	struct dkimv_config conf;
	struct strbuf big = STRBUF_INIT;
	struct run r;
	size_t i;

	fields[0] = "DKIM-Signature";
	fields[1] = SIG("");
	for (i = 1; i < 8; i++) {
		fields[2 * i] = "Received";
		fields[2 * i + 1] = " from x by y";
	}
	fields[16] = NULL;
	dkimv_config_init(&conf);
	conf.max_headers = 5;
	run_msg(fields, false, "", &conf, &r);
	tap_int(r.st, DKIMV_ERR_TOO_MANY_HEADERS, "bounds: too many fields");
	tap_int(r.n, 1, "bounds: signature still reported");
	if (r.n == 1) {
		tap_str(dkimv_result_name(r.sigs[0].result), "permerror",
		    "bounds: permerror");
		tap_str(r.sigs[0].reason, "message header over limits",
		    "bounds: reason");
	}
	tap_int(r.queries, 0, "bounds: no lookup");
	run_free(&r);

	strbuf_appendc(&big, ' ');
	for (i = 0; i < 3000; i++)
		strbuf_appendc(&big, 'x');
	fields[2] = "X-Big";
	fields[3] = strbuf_cstr(&big);
	fields[4] = NULL;
	dkimv_config_init(&conf);
	conf.max_header_len = 2048;
	run_msg(fields, false, "", &conf, &r);
	tap_int(r.st, DKIMV_ERR_HEADER_TOO_LONG, "bounds: field too long");
	tap_int(r.n, 1, "bounds: long field, signature reported");
	run_free(&r);

	/* A 5000-byte key record is larger than libopendkim's buffer. */
	strbuf_reset(&big);
	strbuf_appends(&big, "sel._domainkey.example.com v=DKIM1; p=");
	for (i = 0; i < 5000; i++)
		strbuf_appendc(&big, 'A');
	fields[2] = NULL;
	run_msg(fields, false, strbuf_cstr(&big), NULL, &r);
	tap_int(r.n, 1, "bounds: huge key, one signature");
	if (r.n == 1)
		tap_str(r.sigs[0].reason, "key record too large",
		    "bounds: huge key record refused");
	run_free(&r);
	strbuf_release(&big);
}

static void
test_order_and_config(void)
{
	struct dkimv_config conf;
	struct dkimv_lib *vl;
	struct dkimv *v;
	struct keytable *kt = keytable_new();
	const struct dkimv_sig *sigs;
	size_t n;

	dkimv_config_init(&conf);
	conf.max_sigs = 0;
	tap_int(dkimv_lib_new(&conf, &vl), DKIMV_ERR_CONFIG,
	    "config: max_sigs 0 refused");
	dkimv_config_init(&conf);
	conf.min_rsa_bits = 512;
	tap_int(dkimv_lib_new(&conf, &vl), DKIMV_ERR_CONFIG,
	    "config: RSA floor below 1024 refused (RFC 8301)");
	tap_int(dkimv_lib_new(NULL, &vl), DKIMV_OK, "config: defaults");
	tap_int(dkimv_new(vl, NULL, NULL, NULL, &v), DKIMV_ERR_CONFIG,
	    "config: a lookup callback is required");
	tap_int(dkimv_new(vl, NULL, keytable_lookup, kt, &v), DKIMV_OK,
	    "order: new");
	tap_int(dkimv_body(v, (const unsigned char *)"x", 1), DKIMV_ERR_STATE,
	    "order: body before eoh refused");
	tap_int(dkimv_finish(v, &sigs, &n), DKIMV_ERR_STATE,
	    "order: error is sticky");
	tap_int(dkimv_finish(v, &sigs, &n), DKIMV_ERR_STATE,
	    "order: finish twice is harmless");
	tap_int(n, 0, "order: no signatures");
	dkimv_free(v);
	tap_int(dkimv_new(vl, "q", keytable_lookup, kt, &v), DKIMV_OK,
	    "order: second verifier from one library");
	tap_int(dkimv_header(v, "Bad Name", " x", 2), DKIMV_OK,
	    "order: field with a bad name skipped");
	tap_int(dkimv_header(v, "X-Nul", " a\0b", 4), DKIMV_OK,
	    "order: field with NUL skipped");
	tap_int(dkimv_header(v, "X-Empty", NULL, 0), DKIMV_OK,
	    "order: empty field (NULL value) accepted");
	tap_int(dkimv_header(v, NULL, " x", 2), DKIMV_OK,
	    "order: NULL name skipped");
	tap_int(dkimv_eoh(v), DKIMV_OK, "order: eoh");
	tap_int(dkimv_header(v, "From", " x@y", 4), DKIMV_ERR_STATE,
	    "order: header after eoh refused");
	dkimv_free(v);
	dkimv_free(NULL);
	dkimv_lib_free(vl);
	dkimv_lib_free(NULL);
	dkimv_sigs_free(NULL, 0);
	keytable_free(kt);
}

static void
test_names(void)
{
	int i;

	for (i = DKIMV_OK; i <= DKIMV_ERR_TOO_MANY_HEADERS; i++)
		tap_ok(strcmp(dkimv_strerror((enum dkimv_status)i),
		    "unknown DKIM verifier error") != 0, "strerror %d named", i);
	tap_str(dkimv_result_name(DKIMV_POLICY), "policy", "name: policy");
	tap_str(dkimv_result_name(DKIMV_TEMPERROR), "temperror",
	    "name: temperror");
	tap_str(dkimv_result_name(DKIMV_NONE), "none", "name: none");
}

static void
test_tags(void)
{
	struct dkimtag_list tl;
	struct dkimtag_value v;
	char buf[8];

	tap_int(dkimtag_parse("a=1; b = 2 ;", 12, &tl), DKIMTAG_OK,
	    "tags: trailing ';'");
	tap_int(tl.tag[DKIMTAG_B].len, 1, "tags: value trimmed");
	tap_int(dkimtag_parse("a=1;;b=2", 8, &tl), DKIMTAG_ERR_SYNTAX,
	    "tags: empty tag-spec inside");
	tap_int(dkimtag_parse("a=1; a=2", 8, &tl), DKIMTAG_ERR_DUPLICATE,
	    "tags: duplicate");
	tap_int(dkimtag_parse("xx=1; xx=2", 10, &tl), DKIMTAG_OK,
	    "tags: unknown duplicates ignored");
	tap_int(dkimtag_parse("1a=2", 4, &tl), DKIMTAG_ERR_SYNTAX,
	    "tags: name starts with a digit");
	tap_int(dkimtag_parse("a=b;c", 5, &tl), DKIMTAG_ERR_SYNTAX,
	    "tags: no '='");
	tap_int(dkimtag_parse("", 0, &tl), DKIMTAG_OK, "tags: empty list");
	v.p = "From : to";
	v.len = 9;
	tap_ok(dkimtag_list_contains(&v, "from"), "tags: list contains");
	tap_ok(!dkimtag_list_contains(&v, "fro"), "tags: no prefix match");
	v.p = "ab c\r\n d";
	v.len = 8;
	tap_int(dkimtag_copy_nofws(&v, buf, 3), 4, "tags: nofws length");
	tap_str(buf, "ab", "tags: nofws truncated");
}

static void
test_alloc_failure(void)
{
	const char *fields[] = { "DKIM-Signature", SIG(""), NULL };
	struct run r;
	long n, failed = 1;

	/* Fail the n-th allocation for growing n until a run needs no
	 * failure: every path must come back cleanly. */
	for (n = 0; n < 200 && failed > 0; n++) {
		mem_fail_after(n);
		run_msg(fields, false, "sel._domainkey.example.com NXDOMAIN",
		    NULL, &r);
		failed = mem_fail_after(-1);
		run_free(&r);
	}
	tap_ok(failed == 0, "alloc: a run completes after %ld failures", n);
}

/* One shared library handle, several threads verifying at once. */
#define NTHREADS	4
#define NPERTHREAD	40

struct worker {
	struct dkimv_lib *vl;
	int	 ok;		/* messages judged as expected */
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct keytable *kt = keytable_new();
	const struct dkimv_sig *sigs;
	const char *sig1 = SIG(""), *sig2 = " v=1; a=rsa-sha256;"
	    " d=example.net; s=k2; h=from; bh=AAAA; b=ZZZZYYYY";
	struct dkimv *v;
	size_t n, i;
	int k;

	if (kt == NULL)
		return NULL;
	(void)keytable_add_line(kt, "sel._domainkey.example.com TEMPFAIL", 35);
	(void)keytable_add_line(kt, "k2._domainkey.example.net v=DKIM1; p=",
	    37);
	for (k = 0; k < NPERTHREAD; k++) {
		if (dkimv_new(w->vl, "t", keytable_lookup, kt, &v) != DKIMV_OK)
			continue;
		(void)dkimv_header(v, "DKIM-Signature", sig1, strlen(sig1));
		(void)dkimv_header(v, "DKIM-Signature", sig2, strlen(sig2));
		for (i = 0; base_fields[i] != NULL; i += 2)
			(void)dkimv_header(v, base_fields[i], base_fields[i + 1],
			    strlen(base_fields[i + 1]));
		(void)dkimv_eoh(v);
		(void)dkimv_body(v, (const unsigned char *)"hi\r\n", 4);
		if (dkimv_finish(v, &sigs, &n) == DKIMV_OK && n == 2 &&
		    sigs[0].result == DKIMV_TEMPERROR &&
		    sigs[1].result == DKIMV_FAIL)
			w->ok++;
		dkimv_free(v);
	}
	keytable_free(kt);
	return NULL;
}

static void
test_threads(void)
{
	struct dkimv_lib *vl;
	struct worker w[NTHREADS];
	pthread_t tid[NTHREADS];
	int i, total = 0;

	if (dkimv_lib_new(NULL, &vl) != DKIMV_OK) {
		tap_ok(0, "threads: library");
		return;
	}
	for (i = 0; i < NTHREADS; i++) {
		w[i].vl = vl;
		w[i].ok = 0;
		if (pthread_create(&tid[i], NULL, worker_run, &w[i]) != 0)
			w[i].vl = NULL;
	}
	for (i = 0; i < NTHREADS; i++)
		if (w[i].vl != NULL)
			(void)pthread_join(tid[i], NULL);
	for (i = 0; i < NTHREADS; i++)
		total += w[i].ok;
	tap_int(total, NTHREADS * NPERTHREAD,
	    "threads: %d threads share one library, every message judged",
	    NTHREADS);
	dkimv_lib_free(vl);
}

int
main(void)
{
	test_unsigned();
	test_ones();
	test_fields_reported();
	test_two_domains();
	test_cap();
	test_no_from();
	test_bounds();
	test_order_and_config();
	test_names();
	test_tags();
	test_threads();
	test_alloc_failure();
	return tap_done();
}
