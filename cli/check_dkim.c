/*
 * check_dkim.c - the DKIM part of `dmarcctl check DOMAIN`.
 *
 * For each selector, the key record at <selector>._domainkey.<domain>
 * (RFC 6376 section 3.6.1): present, a tag list (auth/dkimtag.c), the
 * algorithm (k=, RFC 8463 for ed25519), the RSA key size read from the
 * DER public key by hand (SubjectPublicKeyInfo, or a bare RSAPublicKey),
 * RFC 8301 section 3.2 (under 1024 bits: unusable; 2048 advised), a
 * revoked key (empty p=) and the testing flag t=y.  Without --selector a
 * short list of common selectors is tried and only "none found" is an
 * issue.  No signature is verified here.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/chars.h"
#include "auth/dkimtag.h"
#include "check_online.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "dns/resolver.h"

#define DKIM_MAX_KEY	4096	/* bytes of a decoded public key */

static const char *const builtin_selectors[] = {
	"default", "selector1", "selector2", "google", "k1", "s1", "s2",
	"dkim", "mail"
};

/* Decode base64 (whitespace skipped); -1 on a bad byte or overflow. */
static long
b64decode(const char *s, size_t len, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0, v, pad = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = char_base64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return pad > 2 ? -1 : (long)n;
}

/* Read one DER tag and length at *p; the contents follow.  -1 on error. */
static int
der_next(const uint8_t **p, const uint8_t *end, int tag, size_t *len)
{
	const uint8_t *q = *p;
	size_t l = 0, k;

	if (end - q < 2 || *q++ != tag)
		return -1;
	if (*q < 0x80)
		l = *q++;
	else {
		k = *q++ & 0x7f;
		if (k == 0 || k > 3 || (size_t)(end - q) < k)
			return -1;
		while (k-- > 0)
			l = (l << 8) | *q++;
	}
	if ((size_t)(end - q) < l)
		return -1;
	*p = q;
	*len = l;
	return 0;
}

/* Bits of the modulus of an RSAPublicKey at p, or -1. */
static int
rsa_pkcs1_bits(const uint8_t *p, const uint8_t *end)
{
	size_t l;

	if (der_next(&p, end, 0x30, &l) != 0 ||
	    der_next(&p, end, 0x02, &l) != 0 || l == 0)
		return -1;
	while (l > 0 && *p == 0) {	/* sign byte */
		p++;
		l--;
	}
	if (l == 0)
		return -1;
	{
		int bits = (int)(l - 1) * 8;
		uint8_t top = *p;

		while (top != 0) {
			bits++;
			top >>= 1;
		}
		return bits;
	}
}

/* RSA key size of a SubjectPublicKeyInfo or RSAPublicKey, or -1. */
static int
rsa_key_bits(const uint8_t *der, size_t n)
{
	const uint8_t *p = der, *end = der + n, *q;
	size_t l;

	if (der_next(&p, end, 0x30, &l) != 0)
		return -1;
	if (p < end && *p == 0x02)	/* PKCS#1: INTEGER n first */
		return rsa_pkcs1_bits(der, end);
	/* AlgorithmIdentifier, skipped; the OID is not checked. */
	q = p;
	if (der_next(&q, end, 0x30, &l) != 0)
		return -1;
	p = q + l;
	if (der_next(&p, end, 0x03, &l) != 0 || l < 1 || *p != 0)
		return -1;
	return rsa_pkcs1_bits(p + 1, p + l);
}

static void
dkim_check_key(struct check_report *rep, struct check_dkim_key *k,
    const char *name, const char *txt, size_t len)
{
	struct dkimtag_list tl;
	const struct dkimtag_value *v;
	uint8_t der[DKIM_MAX_KEY];
	long n;
	int bits;

	if (dkimtag_parse(txt, len, &tl) != DKIMTAG_OK ||
	    (dkimtag_has(&tl, DKIMTAG_V) && (tl.tag[DKIMTAG_V].len != 5 ||
	    strncmp(tl.tag[DKIMTAG_V].p, "DKIM1", 5) != 0)) ||
	    !dkimtag_has(&tl, DKIMTAG_P)) {
		check_issue_add(rep, "dkim_key_invalid", NULL, NULL,
		    "%s: not a DKIM key record (RFC 6376 3.6.1)", name);
		return;
	}
	v = &tl.tag[DKIMTAG_K];
	k->algorithm = dkimtag_has(&tl, DKIMTAG_K) ?
	    check_strndup(v->p, v->len) : check_strdup("rsa");
	if (dkimtag_has(&tl, DKIMTAG_T) &&
	    dkimtag_list_contains(&tl.tag[DKIMTAG_T], "y")) {
		k->testing = true;
		check_issue_add(rep, "dkim_testing", NULL, NULL,
		    "%s: t=y, the key is in testing mode", name);
	}
	if (dkimtag_has(&tl, DKIMTAG_H) &&
	    !dkimtag_list_contains(&tl.tag[DKIMTAG_H], "sha256"))
		check_issue_add(rep, "dkim_sha1_only", NULL, NULL,
		    "%s: h= allows no sha256", name);
	v = &tl.tag[DKIMTAG_P];
	if (v->len == 0) {
		k->revoked = true;
		k->valid = true;
		check_issue_add(rep, "dkim_key_revoked", NULL, NULL,
		    "%s: the key is revoked (empty p=)", name);
		return;
	}
	if ((n = b64decode(v->p, v->len, der, sizeof(der))) <= 0) {
		check_issue_add(rep, "dkim_key_invalid", NULL, NULL,
		    "%s: p= is not base64", name);
		return;
	}
	if (strcasecmp(k->algorithm, "ed25519") == 0) {
		if (n != 32) {
			check_issue_add(rep, "dkim_key_invalid", NULL, NULL,
			    "%s: an ed25519 key has 32 bytes, not %ld",
			    name, n);
			return;
		}
		k->key_bits = 256;
		k->valid = true;
		return;
	}
	if (strcasecmp(k->algorithm, "rsa") != 0) {
		check_issue_add(rep, "dkim_unknown_algorithm", NULL, NULL,
		    "%s: k=%s is not rsa or ed25519", name, k->algorithm);
		return;
	}
	if ((bits = rsa_key_bits(der, (size_t)n)) <= 0) {
		check_issue_add(rep, "dkim_key_invalid", NULL, NULL,
		    "%s: p= is not an RSA public key", name);
		return;
	}
	k->key_bits = bits;
	k->valid = true;
	/* RFC 8301 section 3.2: verifiers MUST NOT accept under 1024. */
	if (bits < 1024) {
		k->valid = false;
		check_issue_add(rep, "dkim_key_too_weak", NULL, NULL,
		    "%s: %d-bit RSA key; verifiers reject keys under 1024 "
		    "bits", name, bits);
	} else if (bits < 2048)
		check_issue_add(rep, "dkim_key_short", NULL, NULL,
		    "%s: %d-bit RSA key; 2048 bits are advised", name, bits);
}

void
check_dkim_run(struct check_report *rep, struct dns_resolver *res,
    const char *const *selectors, size_t nselectors)
{
	struct strbuf name = STRBUF_INIT;
	struct dns_answer a;
	enum dns_status st;
	bool given = selectors != NULL;
	size_t i, j, found = 0;

	if (!given) {
		selectors = builtin_selectors;
		nselectors = sizeof(builtin_selectors) /
		    sizeof(builtin_selectors[0]);
	}
	for (i = 0; i < nselectors && rep->ndkim < CHECK_MAX_SELECTORS; i++) {
		struct check_dkim_key *k = &rep->dkim[rep->ndkim];
		const char *txt = NULL;
		size_t len = 0;

		strbuf_reset(&name);
		strbuf_appendf(&name, "%s._domainkey.%s", selectors[i],
		    rep->domain);
		st = dns_query_txt(res, strbuf_cstr(&name), NULL, &a);
		if (st != DNS_OK && dns_status_is_temporary(st)) {
			check_dns_failed(rep, strbuf_cstr(&name),
			    dns_strerror(st));
			dns_answer_clear(&a);
			continue;
		}
		/* The first record that looks like a key. */
		for (j = 0; st == DNS_OK && j < a.nrr; j++)
			if (txt == NULL || strstr(a.rr[j].u.txt.data,
			    "p=") != NULL) {
				txt = a.rr[j].u.txt.data;
				len = a.rr[j].u.txt.len;
			}
		if (txt == NULL && !given) {
			dns_answer_clear(&a);
			continue;
		}
		memset(k, 0, sizeof(*k));
		k->selector = check_strdup(selectors[i]);
		rep->ndkim++;
		if (txt == NULL) {
			check_issue_add(rep, "dkim_selector_missing", NULL, NULL,
			    "no DKIM key at %s (%s)", strbuf_cstr(&name),
			    dns_strerror(st));
		} else {
			k->present = true;
			found++;
			dkim_check_key(rep, k, strbuf_cstr(&name), txt, len);
		}
		dns_answer_clear(&a);
	}
	if (!given && found == 0)
		check_issue_add(rep, "dkim_not_found", NULL, NULL,
		    "no DKIM key under the common selectors of %s; name "
		    "yours with --selector", rep->domain);
	strbuf_release(&name);
}

void
check_dkim_clear(struct check_dkim_key *k)
{
	mem_free(k->selector);
	mem_free(k->algorithm);
	memset(k, 0, sizeof(*k));
}
