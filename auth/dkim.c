/*
 * dkim.c - DKIM verification (RFC 6376) on libopendkim, with key records
 * fetched through dmarcd's lookup callback.
 *
 * What it does: feeds header fields to libopendkim as they arrive, lets
 * it canonicalise and hash the header and check the cryptography, hashes
 * the body itself (dkim_body.c, see below), and then judges every
 * signature itself: DKIM_SIG_CHECK alone is not a verdict
 * (a tampered body keeps DKIM_SIGFLAG_PASSED; the body hash state and the
 * signature error have to be read too).  On top of libopendkim it
 * applies RFC 8301 (rsa-sha1 and RSA keys under 1024 bits fail), RFC 6376
 * section 5.4 (a signature whose h= lacks From is not valid), a cap on
 * the number of signatures verified, and bounds on header fields.
 *
 * Key lookups: libopendkim calls dkimv_key_lookup() for each signature;
 * it builds "<s>._domainkey.<d>", asks the caller's lookup_fn and picks
 * the record (RFC 6376 section 3.6.2.2: several TXT records at a
 * selector are undefined, so the first record that parses as a key
 * record, v=DKIM1 if v= is given and with a p= tag, is used; if none
 * does, the first record is handed over and libopendkim reports the
 * syntax error).  A temporary DNS failure is not returned to libopendkim
 * as TRYAGAIN, which would abort verification of every signature in
 * dkim_eoh(); it is recorded here and reported as "not found", and the
 * judgement below turns it into temperror for that signature alone.
 * Signature processing is delayed to dkim_eom() (DKIM_LIBFLAGS_DELAYSIGPROC)
 * for the same reason: there, one signature's error never stops the others.
 *
 * Results (RFC 8601 section 2.7.1 names): pass needs DKIM_SIG_CHECK, no
 * signature error and, for RSA, at least min_rsa_bits.  fail: the
 * signature or body hash does not verify, rsa-sha1, a small RSA key, a
 * revoked key (empty p=), an expired x=, l= beyond the body.  neutral:
 * the signature itself is malformed or uses what we do not support
 * (version, algorithm, canonicalization, q=).  permerror: no key, a bad
 * key record, From not in h=, no From field at all.  temperror: the key
 * lookup failed temporarily.  policy: not evaluated, over the cap.
 *
 * The body hash is ours, not libopendkim's: its body canonicaliser goes
 * byte by byte through dynamic strings, and under callgrind
 * (bench/milter-bench.sh --callgrind, an RSA-2048 signed 4 KB message)
 * it cost 379 K of the 1.04 M instructions dmarcd spent per message,
 * SHA-256 itself only 121 K of them.  dkim_body.c canonicalises in
 * spans found with memchr() and hashes them with OpenSSL's EVP: the
 * body hash now costs 141 K (SHA-256 still 121 K), the message 808 K;
 * for a 100 KB body 10.2 M became 4.2 M (bench/README.md, Profile).
 * libopendkim still does everything else: signature parsing, the header
 * canonicalisation and hash, the key (through our lookup), RSA and
 * ed25519.  It is given no body; body_verdict() replaces its verdict on
 * the empty body with ours, so results and reasons are those it gave when
 * it hashed the body.  A message with an l= signature still goes the old
 * way (bodies_setup() says why), as do the tests' comparisons
 * (dkimv_config.lib_body_hash).
 *
 * Left out: signing, ARC, DomainKeys (RFC 4870) signatures, which are
 * not DKIM and are ignored, and the g= key tag, which RFC 6376 removed.
 *
 * Thread safety: struct dkimv_lib is configured once in dkimv_lib_new()
 * and only read afterwards; its callbacks find their per-message state
 * through dkim_get_user_context().
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>
#include <openssl/evp.h>

#include "common/chars.h"
#include "common/mem.h"
#include "common/strbuf.h"
#include "policy/domain.h"
#include "dkim.h"
#include "dkim_body.h"
#include "dkimtag.h"

#define DKIMV_MAX_SIGS_LIMIT	64
#define DKIMV_ALG_MAX		32	/* a= longer than this is not an algorithm */
#define DKIMV_IDENTITY_MAX	256	/* i= kept for reporting, RFC 5321 size */
#define DKIMV_SELECTOR_MAX	DOMAIN_MAX_LEN
#define DKIMV_BH_MAX		88	/* bh= kept; base64 SHA-256 is 44 */
#define DKIMV_MAX_BODIES	2	/* simple and relaxed, SHA-256 */

/* What the key lookup callback learnt about one signature's key. */
enum dkimv_keynote {
	KEYNOTE_NONE,		/* not looked up, or a record was handed over */
	KEYNOTE_MISSING,	/* NXDOMAIN or NODATA */
	KEYNOTE_TEMPFAIL,
	KEYNOTE_PERMFAIL,	/* the lookup layer refused the answer */
	KEYNOTE_TOO_LARGE,	/* record larger than libopendkim's buffer */
	KEYNOTE_BADNAME		/* "<s>._domainkey.<d>" is not a valid name */
};

/* Private per-signature state, parallel to the public results array. */
struct dkimv_note {
	bool	 judged;	/* result decided before libopendkim ran */
	bool	 to_lib;	/* the field was handed to libopendkim */
	bool	 is_rsa;
	bool	 is_ed25519;
	DKIM_SIGINFO *lsig;	/* libopendkim's handle, after dkim_eoh() */
	enum dkimv_keynote key;
	/* The body hash (dkim_body.c), read from the signature's tags: */
	bool	 has_l;		/* an l= tag: libopendkim hashes the body */
	bool	 canon_known;	/* c= names simple or relaxed for the body */
	bool	 bh_match;	/* our body hash equals bh= (at the end) */
	enum dkimb_canon bcanon;
	unsigned char body;	/* 1 + index in dkimv.bodies; 0: none */
	char	 bh[DKIMV_BH_MAX + 1]; /* bh= without FWS, "" if too long */
};

struct dkimv_lib {
	DKIM_LIB *lib;
	struct dkimv_config conf;
};

enum dkimv_state { ST_HEADERS, ST_BODY, ST_DONE };

struct dkimv {
	struct dkimv_lib *vl;
	DKIM	*dkim;
	char	*id;			/* libopendkim keeps the pointer */
	lookup_fn lookup;
	void	*lookup_ctx;
	enum dkimv_state state;
	enum dkimv_status status;	/* sticky message-level error */
	bool	 lib_failed;		/* libopendkim cannot go on */
	bool	 lib_nosig;		/* dkim_eoh() found nothing to verify */
	bool	 saw_from;
	size_t	 nheaders;
	size_t	 nlib;			/* signature fields given to libopendkim */
	struct strbuf field;		/* "name:value" for dkim_header() */
	struct strbuf body_fix;		/* a body chunk with line ends fixed */
	bool	 body_cr;		/* a CR ended the last chunk: held */
	bool	 body_seen;		/* some body given to libopendkim */
	unsigned char body_last;	/* and its last byte */
	bool	 own_body;		/* bodies[] hash it, not libopendkim */
	struct dkimb *bodies[DKIMV_MAX_BODIES];
	enum dkimb_canon body_canon[DKIMV_MAX_BODIES];
	size_t	 nbodies;
	struct dkimv_sig *sigs;
	struct dkimv_note *notes;
	size_t	 nsigs, capsigs;
};

void
dkimv_config_init(struct dkimv_config *c)
{
	c->max_sigs = DKIMV_DEFAULT_MAX_SIGS;
	c->min_rsa_bits = DKIMV_DEFAULT_MIN_RSA_BITS;
	c->max_header_len = DKIMV_DEFAULT_MAX_HEADER_LEN;
	c->max_headers = DKIMV_DEFAULT_MAX_HEADERS;
	c->clock_drift = DKIMV_DEFAULT_CLOCK_DRIFT;
	c->lib_body_hash = false;
}

static void
set_result(struct dkimv_sig *s, enum dkimv_result r, const char *reason)
{
	s->result = r;
	s->reason = reason;
}

/* ---- the key lookup and prescreen callbacks -------------------------- */

static struct dkimv_note *
note_for(struct dkimv *v, DKIM_SIGINFO *lsig, size_t *idx)
{
	size_t i;

	for (i = 0; i < v->nsigs; i++)
		if (v->notes[i].lsig == lsig) {
			*idx = i;
			return &v->notes[i];
		}
	return NULL;
}

/* Is this TXT record usable as a DKIM key record (section 3.6.1)? */
static bool
key_record_plausible(const char *txt, size_t len)
{
	struct dkimtag_list kl;
	const struct dkimtag_value *ver;

	if (memchr(txt, '\0', len) != NULL)
		return false;
	if (dkimtag_parse(txt, len, &kl) != DKIMTAG_OK ||
	    !dkimtag_has(&kl, DKIMTAG_P))
		return false;
	ver = &kl.tag[DKIMTAG_V];
	return !dkimtag_has(&kl, DKIMTAG_V) ||
	    (ver->len == 5 && memcmp(ver->p, "DKIM1", 5) == 0);
}

/*
 * libopendkim's key lookup hook.  Fills buf with the key record and
 * returns CONTINUE, or notes why there is none and returns NOTFOUND (see
 * the file comment for why a temporary failure is not TRYAGAIN).
 */
static DKIM_CBSTAT
dkimv_key_lookup(DKIM *dkim, DKIM_SIGINFO *lsig, u_char *buf, size_t buflen)
{
	struct dkimv *v = dkim_get_user_context(dkim);
	struct dkimv_note *note;
	struct dkimv_sig *sig;
	struct lookup_answer ans;
	struct strbuf qname = STRBUF_INIT;
	enum lookup_status st;
	enum domain_status dst;
	char *name = NULL;
	size_t i, idx, pick;

	if (v == NULL || (note = note_for(v, lsig, &idx)) == NULL)
		return DKIM_CBSTAT_ERROR;
	sig = &v->sigs[idx];
	if (sig->domain == NULL || sig->selector == NULL) {
		note->key = KEYNOTE_BADNAME;
		return DKIM_CBSTAT_NOTFOUND;
	}
	/* RFC 6376 section 3.6.2.1: <selector>._domainkey.<domain>. */
	strbuf_appendf(&qname, "%s._domainkey.%s", sig->selector, sig->domain);
	if (strbuf_failed(&qname)) {
		note->key = KEYNOTE_TEMPFAIL;
		return DKIM_CBSTAT_NOTFOUND;
	}
	dst = domain_normalize_dup(strbuf_cstr(&qname), strbuf_len(&qname),
	    &name);
	strbuf_release(&qname);
	if (dst != DOMAIN_OK) {
		/* Over 253 octets, a label over 63, or no memory. */
		note->key = dst == DOMAIN_ERR_NOMEM ? KEYNOTE_TEMPFAIL :
		    KEYNOTE_BADNAME;
		return DKIM_CBSTAT_NOTFOUND;
	}

	lookup_answer_init(&ans);
	st = v->lookup(v->lookup_ctx, name, LOOKUP_TXT, &ans);
	mem_free(name);
	if (st == LOOKUP_OK && ans.ntxt == 0)
		st = LOOKUP_NODATA;
	switch (st) {
	case LOOKUP_OK:
		break;
	case LOOKUP_NXDOMAIN:
	case LOOKUP_NODATA:
		note->key = KEYNOTE_MISSING;
		lookup_answer_clear(&ans);
		return DKIM_CBSTAT_NOTFOUND;
	case LOOKUP_TEMPFAIL:
		note->key = KEYNOTE_TEMPFAIL;
		lookup_answer_clear(&ans);
		return DKIM_CBSTAT_NOTFOUND;
	case LOOKUP_PERMFAIL:
	default:
		note->key = KEYNOTE_PERMFAIL;
		lookup_answer_clear(&ans);
		return DKIM_CBSTAT_NOTFOUND;
	}

	/* RFC 6376 section 3.6.2.2: take the first plausible key record. */
	pick = 0;
	for (i = 0; i < ans.ntxt; i++)
		if (key_record_plausible(ans.txts[i], ans.txtlens[i])) {
			pick = i;
			break;
		}
	if (ans.txtlens[pick] >= buflen ||
	    memchr(ans.txts[pick], '\0', ans.txtlens[pick]) != NULL) {
		note->key = ans.txtlens[pick] >= buflen ? KEYNOTE_TOO_LARGE :
		    KEYNOTE_PERMFAIL;
		lookup_answer_clear(&ans);
		return DKIM_CBSTAT_NOTFOUND;
	}
	memcpy(buf, ans.txts[pick], ans.txtlens[pick]);
	buf[ans.txtlens[pick]] = '\0';
	lookup_answer_clear(&ans);
	note->key = KEYNOTE_NONE;
	return DKIM_CBSTAT_CONTINUE;
}

/*
 * libopendkim's prescreen hook, run at the end of dkim_eoh(): bind each
 * libopendkim signature to our record, and tell it to ignore the ones we
 * have already judged or that are over the cap, so that no DNS query or
 * RSA operation is spent on them.
 */
static DKIM_CBSTAT
dkimv_prescreen(DKIM *dkim, DKIM_SIGINFO **lsigs, int nlsigs)
{
	struct dkimv *v = dkim_get_user_context(dkim);
	unsigned int verified = 0;
	size_t i;

	if (v == NULL)
		return DKIM_CBSTAT_ERROR;
	if (nlsigs < 0 || (size_t)nlsigs != v->nlib) {
		/* Our count of signature fields and libopendkim's disagree:
		 * nothing can be attributed, so verify nothing. */
		for (i = 0; nlsigs > 0 && i < (size_t)nlsigs; i++)
			dkim_sig_ignore(lsigs[i]);
		v->lib_failed = true;
		if (v->status == DKIMV_OK)
			v->status = DKIMV_ERR_LIBRARY;
		return DKIM_CBSTAT_CONTINUE;
	}
	for (i = 0; i < v->nlib; i++) {
		struct dkimv_note *note = &v->notes[i];
		struct dkimv_sig *sig = &v->sigs[i];

		note->lsig = lsigs[i];
		if (!note->judged && !v->saw_from) {
			/* RFC 6376 section 5.4: From MUST be signed. */
			set_result(sig, DKIMV_PERMERROR,
			    "message has no From field");
			note->judged = true;
		}
		if (note->judged) {
			dkim_sig_ignore(lsigs[i]);
			continue;
		}
		/* libopendkim already found an error: nothing to spend. */
		if (dkim_sig_geterror(lsigs[i]) != DKIM_SIGERROR_UNKNOWN)
			continue;
		if (verified >= v->vl->conf.max_sigs) {
			set_result(sig, DKIMV_POLICY,
			    "not evaluated: signature limit reached");
			note->judged = true;
			dkim_sig_ignore(lsigs[i]);
			continue;
		}
		verified++;
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- library handle --------------------------------------------------- */

static enum dkimv_status
check_config(const struct dkimv_config *c)
{
	if (c->max_sigs < 1 || c->max_sigs > DKIMV_MAX_SIGS_LIMIT ||
	    c->min_rsa_bits < DKIMV_DEFAULT_MIN_RSA_BITS ||
	    c->min_rsa_bits > 16384 || c->max_header_len < 1024 ||
	    c->max_headers < 1 || c->clock_drift > 86400)
		return DKIMV_ERR_CONFIG;
	return DKIMV_OK;
}

enum dkimv_status
dkimv_lib_new(const struct dkimv_config *conf, struct dkimv_lib **out)
{
	struct dkimv_lib *vl = NULL;
	uint32_t flags;
	u_int bits;
	uint64_t drift;
	enum dkimv_status st;

	*out = NULL;
	if ((vl = mem_calloc(1, sizeof(*vl))) == NULL)
		return DKIMV_ERR_NOMEM;
	if (conf != NULL)
		vl->conf = *conf;
	else
		dkimv_config_init(&vl->conf);
	if ((st = check_config(&vl->conf)) != DKIMV_OK)
		goto fail;
	st = DKIMV_ERR_LIBRARY;
	if (!dkimv_keycache_init() ||
	    (vl->lib = dkim_init(NULL, NULL)) == NULL)
		goto fail;
	/* RFC 8463 ed25519-sha256 must be available, as must SHA-256. */
	if (!dkim_libfeature(vl->lib, DKIM_FEATURE_SHA256) ||
	    !dkim_libfeature(vl->lib, DKIM_FEATURE_ED25519))
		goto fail;
	/*
	 * No FIXCRLF: it copies the body byte by byte through a dynamic
	 * string, once per signature, and that was a quarter of dmarcd's
	 * instructions for a 4 KB message (bench/milter-bench.sh
	 * --callgrind); dkimv_body() fixes line ends itself, and header
	 * fields are made CRLF by append_crlf().  (The body now goes to
	 * dkim_body.c in most cases: see the file comment.)  BADSIGHANDLES:
	 * every DKIM-Signature field gets a handle, so handles and fields
	 * pair up one to one.  DELAYSIGPROC: all key lookups happen in
	 * dkim_eom(), where one signature's error does not stop the others.
	 */
	flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_DELAYSIGPROC;
	bits = vl->conf.min_rsa_bits;
	drift = vl->conf.clock_drift;
	if (dkim_options(vl->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(vl->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
	    sizeof(bits)) != DKIM_STAT_OK ||
	    dkim_options(vl->lib, DKIM_OP_SETOPT, DKIM_OPTS_CLOCKDRIFT, &drift,
	    sizeof(drift)) != DKIM_STAT_OK ||
	    dkim_set_key_lookup(vl->lib, dkimv_key_lookup) != DKIM_STAT_OK ||
	    dkim_set_prescreen(vl->lib, dkimv_prescreen) != DKIM_STAT_OK)
		goto fail;
	*out = vl;
	return DKIMV_OK;
fail:
	dkimv_lib_free(vl);
	return st;
}

void
dkimv_lib_free(struct dkimv_lib *vl)
{
	if (vl == NULL)
		return;
	if (vl->lib != NULL)
		dkim_close(vl->lib);
	mem_free(vl);
}

/* ---- per message ------------------------------------------------------ */

enum dkimv_status
dkimv_new(struct dkimv_lib *vl, const char *id, lookup_fn lookup,
    void *lookup_ctx, struct dkimv **out)
{
	struct dkimv *v;
	DKIM_STAT dst;

	*out = NULL;
	if (lookup == NULL)
		return DKIMV_ERR_CONFIG;
	if ((v = mem_calloc(1, sizeof(*v))) == NULL)
		return DKIMV_ERR_NOMEM;
	v->vl = vl;
	v->lookup = lookup;
	v->lookup_ctx = lookup_ctx;
	strbuf_init(&v->field);
	strbuf_init(&v->body_fix);
	/* Room for every line end to become CRLF (append_crlf()). */
	strbuf_set_limit(&v->field, 2 * vl->conf.max_header_len + 2);
	if ((v->id = mem_strdup(id != NULL ? id : "-")) == NULL) {
		dkimv_free(v);
		return DKIMV_ERR_NOMEM;
	}
	v->dkim = dkim_verify(vl->lib, (const u_char *)v->id, NULL, &dst);
	if (v->dkim == NULL) {
		dkimv_free(v);
		return dst == DKIM_STAT_NORESOURCE ? DKIMV_ERR_NOMEM :
		    DKIMV_ERR_LIBRARY;
	}
	dkim_set_user_context(v->dkim, v);
	*out = v;
	return DKIMV_OK;
}

static void
sig_clear(struct dkimv_sig *s)
{
	mem_free(s->domain);
	mem_free(s->selector);
	mem_free(s->algorithm);
	mem_free(s->identity);
	mem_free(s->b_prefix);
}

void
dkimv_sigs_free(struct dkimv_sig *sigs, size_t n)
{
	size_t i;

	for (i = 0; sigs != NULL && i < n; i++)
		sig_clear(&sigs[i]);
	mem_free(sigs);
}

static void
bodies_free(struct dkimv *v)
{
	size_t i;

	for (i = 0; i < v->nbodies; i++)
		dkimb_free(v->bodies[i]);
	v->nbodies = 0;
}

void
dkimv_free(struct dkimv *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	dkimv_sigs_free(v->sigs, v->nsigs);
	mem_free(v->notes);
	bodies_free(v);
	strbuf_release(&v->field);
	strbuf_release(&v->body_fix);
	mem_free(v->id);
	mem_free(v);
}

/*
 * A lowercased copy of val, if it is 1..max bytes that all pass ok();
 * else NULL.  *nomem is set when the copy could not be allocated.
 */
static char *
dup_checked(const struct dkimtag_value *val, size_t max, int (*ok)(int),
    bool *nomem)
{
	char *s;
	size_t i;

	if (val->p == NULL || val->len == 0 || val->len > max)
		return NULL;
	for (i = 0; i < val->len; i++)
		if (!ok((unsigned char)val->p[i]))
			return NULL;
	if ((s = mem_strndup(val->p, val->len)) == NULL) {
		*nomem = true;
		return NULL;
	}
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	return s;
}

static int
ok_alg(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static int
ok_selector(int c)
{
	return ok_alg(c) || c == '.' || c == '_';
}

/* Characters that may stand unquoted in a header.i / log value. */
static int
ok_identity(int c)
{
	return ok_alg(c) || (c != '"' && c != '\\' && c != '(' &&
	    c != ')' && c != ',' && c != ';' && c > 0x20 && c < 0x7f);
}

static int
ok_base64(int c)
{
	return ok_alg(c) || c == '+' || c == '/' || c == '=';
}

/*
 * i= is dkim-quoted-printable (RFC 6376 section 2.11): decode "=XX" and
 * drop FWS.  *out is left NULL when the result is empty, too long or has
 * a character unsafe in a header or log.  Returns false on no memory.
 */
static bool
decode_identity(const struct dkimtag_value *val, char **out)
{
	char buf[DKIMV_IDENTITY_MAX + 1];
	size_t i, n = 0;
	int c, hi, lo;

	for (i = 0; i < val->len; i++) {
		c = (unsigned char)val->p[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (i + 2 >= val->len)
				return true;
			hi = char_hex_value((unsigned char)val->p[i + 1]);
			lo = char_hex_value((unsigned char)val->p[i + 2]);
			if (hi < 0 || lo < 0)
				return true;
			c = hi * 16 + lo;
			i += 2;
		}
		if (!ok_identity(c) || n >= DKIMV_IDENTITY_MAX)
			return true;
		buf[n++] = (char)c;
	}
	if (n == 0)
		return true;
	buf[n] = '\0';
	return (*out = mem_strdup(buf)) != NULL;
}

/* RFC 6376 section 2.4 base64string: base64 characters and FWS only. */
static bool
is_base64string(const struct dkimtag_value *val)
{
	size_t i;

	for (i = 0; i < val->len; i++)
		if (!ok_base64((unsigned char)val->p[i]) && val->p[i] != ' ' &&
		    val->p[i] != '\t' && val->p[i] != '\r' && val->p[i] != '\n')
			return false;
	return true;
}

/*
 * The body canonicalization of c= (RFC 6376 section 3.5: "header/body",
 * the body part simple when absent, and simple/simple without c=).
 * False when it is neither simple nor relaxed; libopendkim then reports
 * the signature's error itself, or hashes the body (dkimv_eoh()).
 */
static bool
body_canon(const struct dkimtag_list *tl, enum dkimb_canon *out)
{
	char c[32];
	const char *slash, *body;

	*out = DKIMB_SIMPLE;
	if (!dkimtag_has(tl, DKIMTAG_C))
		return true;
	if (dkimtag_copy_nofws(&tl->tag[DKIMTAG_C], c, sizeof(c)) >= sizeof(c))
		return false;
	slash = strchr(c, '/');
	body = slash != NULL ? slash + 1 : "simple";
	if (strcasecmp(body, "relaxed") == 0)
		*out = DKIMB_RELAXED;
	else if (strcasecmp(body, "simple") != 0)
		return false;
	return true;
}

/*
 * Record one DKIM-Signature field: parse its tag-list (RFC 6376 section
 * 3.5) and judge what can be judged without a key.  Returns false only
 * on allocation failure.
 */
static bool
sig_record(const char *value, size_t len, struct dkimv_sig *sig,
    struct dkimv_note *note)
{
	struct dkimtag_list tl;
	enum dkimtag_status tst;
	enum domain_status dst;
	char b[DKIMV_BPREFIX_LEN + 1];
	const char *why = NULL;
	enum dkimv_result res = DKIMV_NEUTRAL;
	/* RFC 6376 section 3.5: the tags a signature MUST carry. */
	static const struct {
		enum dkimtag_id id;
		const char *why;
	} required[] = {
		{ DKIMTAG_V, "signature lacks v= (pre-RFC draft?)" },
		{ DKIMTAG_A, "signature lacks a=" },
		{ DKIMTAG_B, "signature lacks b=" },
		{ DKIMTAG_BH, "signature lacks bh=" },
		{ DKIMTAG_D, "signature lacks d=" },
		{ DKIMTAG_H, "signature lacks h=" },
		{ DKIMTAG_S, "signature lacks s=" },
	};
	bool nomem = false;
	size_t i;

	tst = dkimtag_parse(value, len, &tl);
	/* Report what could be read, even from a broken signature. */
	if (dkimtag_has(&tl, DKIMTAG_D)) {
		dst = domain_normalize_dup(tl.tag[DKIMTAG_D].p,
		    tl.tag[DKIMTAG_D].len, &sig->domain);
		if (dst == DOMAIN_ERR_NOMEM)
			return false;
		if (dst != DOMAIN_OK)
			sig->domain = NULL;
	}
	sig->selector = dup_checked(&tl.tag[DKIMTAG_S], DKIMV_SELECTOR_MAX,
	    ok_selector, &nomem);
	sig->algorithm = dup_checked(&tl.tag[DKIMTAG_A], DKIMV_ALG_MAX, ok_alg,
	    &nomem);
	if (dkimtag_has(&tl, DKIMTAG_I) &&
	    !decode_identity(&tl.tag[DKIMTAG_I], &sig->identity))
		nomem = true;
	if (dkimtag_has(&tl, DKIMTAG_B)) {
		dkimtag_copy_nofws(&tl.tag[DKIMTAG_B], b, sizeof(b));
		for (i = 0; b[i] != '\0' && ok_base64((unsigned char)b[i]); i++)
			;
		if (i > 0 && b[i] == '\0' &&
		    (sig->b_prefix = mem_strdup(b)) == NULL)
			nomem = true;
	}
	if (nomem)
		return false;
	note->has_l = dkimtag_has(&tl, DKIMTAG_L);
	note->canon_known = body_canon(&tl, &note->bcanon);
	if (dkimtag_copy_nofws(&tl.tag[DKIMTAG_BH], note->bh,
	    sizeof(note->bh)) >= sizeof(note->bh))
		note->bh[0] = '\0';	/* too long to be a digest: no match */

	if (tst == DKIMTAG_ERR_DUPLICATE)
		why = "signature has a duplicate tag";
	else if (tst != DKIMTAG_OK)
		why = "signature syntax error";
	for (i = 0; why == NULL && i < sizeof(required) / sizeof(required[0]);
	    i++)
		if (!dkimtag_has(&tl, required[i].id) ||
		    tl.tag[required[i].id].len == 0)
			why = required[i].why;
	if (why == NULL && (!is_base64string(&tl.tag[DKIMTAG_B]) ||
	    !is_base64string(&tl.tag[DKIMTAG_BH])))
		why = "signature syntax error (b= or bh=)";
	if (why == NULL && (tl.tag[DKIMTAG_V].len != 1 ||
	    tl.tag[DKIMTAG_V].p[0] != '1'))
		why = "unsupported signature version";
	if (why == NULL && sig->domain == NULL)
		why = "invalid d= domain";
	if (why == NULL && sig->selector == NULL)
		why = "invalid s= selector";
	if (why == NULL && sig->algorithm == NULL)
		why = "unsupported algorithm";
	if (why == NULL) {
		note->is_rsa = strcmp(sig->algorithm, "rsa-sha256") == 0;
		note->is_ed25519 = strcmp(sig->algorithm, "ed25519-sha256") == 0;
		if (strcmp(sig->algorithm, "rsa-sha1") == 0) {
			/* RFC 8301 section 3.1: rsa-sha1 MUST NOT be valid. */
			why = "rsa-sha1 not accepted (RFC 8301)";
			res = DKIMV_FAIL;
		} else if (!note->is_rsa && !note->is_ed25519)
			why = "unsupported algorithm";
	}
	if (why == NULL && !dkimtag_list_contains(&tl.tag[DKIMTAG_H], "from")) {
		/* RFC 6376 section 5.4: the From field MUST be signed. */
		why = "From not signed (h=)";
		res = DKIMV_PERMERROR;
	}
	if (why == NULL && dkimtag_has(&tl, DKIMTAG_Q) &&
	    !dkimtag_list_contains(&tl.tag[DKIMTAG_Q], "dns/txt"))
		/* Section 3.5 q=: dns/txt is the only method defined. */
		why = "unsupported query method (q=)";
	if (why != NULL) {
		set_result(sig, res, why);
		note->judged = true;
	}
	return true;
}

/* How many DKIM-Signature fields libopendkim is given at most. */
static size_t
sig_field_cap(const struct dkimv_config *c)
{
	size_t cap = (size_t)c->max_sigs * DKIMV_SIG_FIELD_FACTOR;

	return cap < DKIMV_MIN_SIG_FIELDS ? DKIMV_MIN_SIG_FIELDS : cap;
}

static bool
sigs_grow(struct dkimv *v)
{
	struct dkimv_sig *ns;
	struct dkimv_note *nn;
	size_t cap;

	if (v->nsigs < v->capsigs)
		return true;
	cap = v->capsigs == 0 ? 4 : v->capsigs * 2;
	if ((ns = mem_reallocarray(v->sigs, cap, sizeof(*ns))) == NULL)
		return false;
	v->sigs = ns;
	if ((nn = mem_reallocarray(v->notes, cap, sizeof(*nn))) == NULL)
		return false;
	v->notes = nn;
	v->capsigs = cap;
	return true;
}

static enum dkimv_status
set_sticky(struct dkimv *v, enum dkimv_status st)
{
	if (v->status == DKIMV_OK)
		v->status = st;
	return v->status;
}

/*
 * Append a field value with every line end made CRLF.  Milters may get
 * folding as bare LF; libopendkim's DKIM_LIBFLAGS_FIXCRLF converts it but
 * keeps the unconverted length for the field (2.11), which truncates the
 * canonical form, so header fields are fixed here and FIXCRLF is left
 * to the body.
 */
static void
append_crlf(struct strbuf *sb, const char *s, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
			strbuf_append(sb, s + start, i - start);
			strbuf_append(sb, "\r\n", 2);
			start = i + 1;
		} else if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')) {
			strbuf_append(sb, s + start, i - start);
			strbuf_append(sb, "\r\n", 2);
			start = i + 1;
		}
	}
	strbuf_append(sb, s + start, len - start);
}

static bool
name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	/* RFC 5322 section 3.6.8: ftext is printable ASCII except ':'. */
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 33 ||
		    (unsigned char)name[i] > 126 || name[i] == ':')
			return false;
	return true;
}

enum dkimv_status
dkimv_header(struct dkimv *v, const char *name, const char *value,
    size_t valuelen)
{
	size_t nlen;
	bool is_sig;
	DKIM_STAT dst;

	if (v->state != ST_HEADERS)
		return set_sticky(v, DKIMV_ERR_STATE);
	if (v->status != DKIMV_OK)
		return v->status;
	if (++v->nheaders > v->vl->conf.max_headers)
		return set_sticky(v, DKIMV_ERR_TOO_MANY_HEADERS);
	nlen = name != NULL ? strlen(name) : 0;
	if (valuelen > v->vl->conf.max_header_len ||
	    nlen + 1 + valuelen > v->vl->conf.max_header_len)
		return set_sticky(v, DKIMV_ERR_HEADER_TOO_LONG);
	if (value == NULL && valuelen == 0)
		value = "";
	if (!name_ok(name, nlen) || value == NULL ||
	    memchr(value, '\0', valuelen) != NULL)
		return DKIMV_OK;	/* not a header field: skipped */

	if (nlen == 4 && strncasecmp(name, "From", 4) == 0)
		v->saw_from = true;
	is_sig = nlen == 14 && strncasecmp(name, "DKIM-Signature", 14) == 0;
	if (is_sig) {
		struct dkimv_sig *sig;
		struct dkimv_note *note;

		if (!sigs_grow(v))
			return set_sticky(v, DKIMV_ERR_NOMEM);
		sig = &v->sigs[v->nsigs];
		note = &v->notes[v->nsigs];
		memset(sig, 0, sizeof(*sig));
		memset(note, 0, sizeof(*note));
		v->nsigs++;
		if (!sig_record(value, valuelen, sig, note))
			return set_sticky(v, DKIMV_ERR_NOMEM);
		/* Bound libopendkim's work: fields past the cap are reported
		 * but never handed over (nor are they hashed as headers). */
		if (v->nlib >= sig_field_cap(&v->vl->conf)) {
			if (!note->judged) {
				set_result(sig, DKIMV_POLICY,
				    "not evaluated: signature limit reached");
				note->judged = true;
			}
			return DKIMV_OK;
		}
		note->to_lib = true;
		v->nlib++;
	}
	if (v->lib_failed)
		return DKIMV_OK;

	strbuf_reset(&v->field);
	strbuf_append(&v->field, name, nlen);
	strbuf_appendc(&v->field, ':');
	append_crlf(&v->field, value, valuelen);
	if (strbuf_failed(&v->field))
		return set_sticky(v, DKIMV_ERR_NOMEM);
	dst = dkim_header(v->dkim, (u_char *)v->field.data, strbuf_len(&v->field));
	switch (dst) {
	case DKIM_STAT_OK:
		break;
	case DKIM_STAT_SYNTAX:
		/*
		 * A DKIM-Signature that does not parse is still recorded by
		 * libopendkim (BADSIGHANDLES); any other field it refuses
		 * was not stored, and cannot be covered by a signature.
		 */
		break;
	case DKIM_STAT_NORESOURCE:
		v->lib_failed = true;
		return set_sticky(v, DKIMV_ERR_NOMEM);
	default:
		v->lib_failed = true;
		return set_sticky(v, DKIMV_ERR_LIBRARY);
	}
	return DKIMV_OK;
}

/* ---- the body hash ---------------------------------------------------- */

/*
 * Decide, at the end of the header, who hashes the body.  Ours
 * (dkim_body.c) if every signature libopendkim is to verify has a known
 * body canonicalization and no l= tag; one hasher per canonicalization
 * (the signatures left are rsa-sha256 or ed25519-sha256: SHA-256).  An
 * l= keeps the old path for the whole message: dkim_eom() marks a
 * signature whose l= exceeds the body libopendkim saw as TOOLARGE_L
 * before it looks at the key, so with no body it would verify nothing
 * (l= is rare and discouraged, RFC 6376 section 8.2).  Also the old path
 * when a hasher cannot be had.
 */
static bool
bodies_setup(struct dkimv *v)
{
	struct dkimv_note *note;
	size_t i, j;

	for (i = 0; i < v->nsigs; i++) {
		note = &v->notes[i];
		if (note->to_lib && !note->judged &&
		    (note->has_l || !note->canon_known ||
		    !(note->is_rsa || note->is_ed25519)))
			return false;
	}
	for (i = 0; i < v->nsigs; i++) {
		note = &v->notes[i];
		if (!note->to_lib || note->judged)
			continue;
		for (j = 0; j < v->nbodies && v->body_canon[j] != note->bcanon;
		    j++)
			;
		if (j == v->nbodies) {
			if (j == DKIMV_MAX_BODIES || (v->bodies[j] =
			    dkimb_new(note->bcanon, DKIMB_SHA256,
			    DKIMB_NO_LIMIT)) == NULL) {
				bodies_free(v);
				for (i = 0; i < v->nsigs; i++)
					v->notes[i].body = 0;
				return false;
			}
			v->body_canon[j] = note->bcanon;
			v->nbodies++;
		}
		note->body = (unsigned char)(j + 1);
	}
	return true;
}

/*
 * End of body: each hasher's digest, base64 (section 2.4, with padding),
 * compared with bh= as libopendkim compares it: the tag value without
 * FWS, as a string.  False if a digest failed.
 */
static bool
bodies_finish(struct dkimv *v)
{
	unsigned char md[DKIMB_DIGEST_MAX];
	char b64[(DKIMB_DIGEST_MAX + 2) / 3 * 4 + 1];
	size_t i, j, mdlen;
	uint64_t canonlen;

	for (j = 0; j < v->nbodies; j++) {
		if (!dkimb_final(v->bodies[j], md, &mdlen, &canonlen))
			return false;
		(void)EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
		for (i = 0; i < v->nsigs; i++)
			if (v->notes[i].body == j + 1)
				v->notes[i].bh_match =
				    strcmp(v->notes[i].bh, b64) == 0;
	}
	return true;
}

enum dkimv_status
dkimv_eoh(struct dkimv *v)
{
	DKIM_STAT dst;

	if (v->state != ST_HEADERS)
		return set_sticky(v, DKIMV_ERR_STATE);
	v->state = ST_BODY;
	if (v->status != DKIMV_OK || v->lib_failed)
		return v->status;
	dst = dkim_eoh(v->dkim);
	switch (dst) {
	case DKIM_STAT_OK:
		break;
	case DKIM_STAT_NOSIG:
		v->lib_nosig = true;
		break;
	case DKIM_STAT_NORESOURCE:
		v->lib_failed = true;
		return set_sticky(v, DKIMV_ERR_NOMEM);
	default:
		v->lib_failed = true;
		return set_sticky(v, DKIMV_ERR_LIBRARY);
	}
	if (!v->lib_nosig && !v->vl->conf.lib_body_hash)
		v->own_body = bodies_setup(v);
	return v->status;
}

/*
 * A body chunk to our hashers, as it came: dkim_body.c reads a bare CR
 * or LF as a line end and ends an unterminated last line, as the fixing
 * below and in dkimv_finish() does for libopendkim.
 */
static enum dkimv_status
bodies_update(struct dkimv *v, const unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < v->nbodies; i++)
		if (!dkimb_update(v->bodies[i], buf, len)) {
			v->lib_failed = true;
			return set_sticky(v, DKIMV_ERR_LIBRARY);
		}
	return DKIMV_OK;
}

/* Hand body bytes, already CRLF, to libopendkim. */
static enum dkimv_status
body_give(struct dkimv *v, const void *buf, size_t len)
{
	DKIM_STAT dst;

	if (len == 0)
		return DKIMV_OK;
	v->body_seen = true;
	v->body_last = ((const unsigned char *)buf)[len - 1];
	/* libopendkim does not modify the chunk; its prototype is not const. */
	dst = dkim_body(v->dkim, (u_char *)(uintptr_t)buf, len);
	if (dst != DKIM_STAT_OK) {
		v->lib_failed = true;
		return set_sticky(v, dst == DKIM_STAT_NORESOURCE ?
		    DKIMV_ERR_NOMEM : DKIMV_ERR_LIBRARY);
	}
	return DKIMV_OK;
}

/* Is every line end in p[0..n) a CRLF (a CR at the very end aside)?
 * Two memchr() passes keep the usual chunk off a byte-by-byte loop. */
static bool
body_is_crlf(const unsigned char *p, size_t n)
{
	const unsigned char *q, *end = p + n;
	size_t lf = 0, cr = 0;

	for (q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) {
		if (q == p || q[-1] != '\r')
			return false;
		lf++;
	}
	for (q = p; (q = memchr(q, '\r', (size_t)(end - q))) != NULL; q++)
		cr++;
	return cr == lf || (cr == lf + 1 && end[-1] == '\r');
}

/*
 * The body goes to our hashers as it comes (bodies_update()).  When
 * libopendkim hashes it (an l= signature, or lib_body_hash): with every
 * line end made CRLF, as libopendkim's FIXCRLF would (a bare LF or a
 * bare CR becomes CRLF), without its cost: a chunk that is already CRLF,
 * what an MTA sends, goes to libopendkim untouched.  A CR that ends a
 * chunk is held until the next byte says what it is.
 */
enum dkimv_status
dkimv_body(struct dkimv *v, const unsigned char *buf, size_t len)
{
	struct strbuf *fix = &v->body_fix;
	size_t i, start = 0, seg;
	bool fixing = false;
	enum dkimv_status st;

	if (v->state != ST_BODY)
		return set_sticky(v, DKIMV_ERR_STATE);
	if (v->status != DKIMV_OK || v->lib_failed || v->lib_nosig ||
	    len == 0)
		return v->status;
	if (v->own_body)
		return bodies_update(v, buf, len);
	if (v->body_cr) {
		/* CR LF split between chunks, or a bare CR: a line end. */
		v->body_cr = false;
		if ((st = body_give(v, "\r\n", 2)) != DKIMV_OK)
			return st;
		if (buf[0] == '\n')
			start = 1;
	}
	if (body_is_crlf(buf + start, len - start)) {
		if (len > start && buf[len - 1] == '\r') {
			v->body_cr = true;
			len--;
		}
		return body_give(v, buf + start, len - start);
	}
	strbuf_reset(fix);
	for (i = seg = start; i < len; i++) {
		if (buf[i] == '\n' && (i == start || buf[i - 1] != '\r')) {
			strbuf_append(fix, (const char *)buf + seg, i - seg);
			strbuf_append(fix, "\r\n", 2);
			seg = i + 1;
			fixing = true;
		} else if (buf[i] == '\r' && i + 1 == len) {
			v->body_cr = true;
			break;
		} else if (buf[i] == '\r' && buf[i + 1] != '\n') {
			strbuf_append(fix, (const char *)buf + seg, i - seg);
			strbuf_append(fix, "\r\n", 2);
			seg = i + 1;
			fixing = true;
		}
	}
	/* i is len, or the held CR's position: both end the chunk here. */
	if (!fixing)
		return body_give(v, buf + start, i - start);
	strbuf_append(fix, (const char *)buf + seg, i - seg);
	if (strbuf_failed(fix))
		return set_sticky(v, DKIMV_ERR_NOMEM);
	return body_give(v, strbuf_cstr(fix), strbuf_len(fix));
}

/* ---- judgement -------------------------------------------------------- */

/* libopendkim's signature errors and what each means for the result. */
struct sigerror_rule {
	int	 err;
	enum dkimv_result result;
	const char *reason;
};

/* The signature's own errors (tag syntax and semantics, section 6.1.1). */
static const struct sigerror_rule sig_rules[] = {
	{ DKIM_SIGERROR_EXPIRED, DKIMV_FAIL, "signature expired (x=)" },
	{ DKIM_SIGERROR_FUTURE, DKIMV_PERMERROR,
	    "signature time in the future" },
	{ DKIM_SIGERROR_TIMESTAMPS, DKIMV_NEUTRAL, "x= earlier than t=" },
	{ DKIM_SIGERROR_DOMAIN, DKIMV_NEUTRAL, "i= not within d=" },
	{ DKIM_SIGERROR_INVALID_H, DKIMV_PERMERROR, "From not signed (h=)" },
	{ DKIM_SIGERROR_EMPTY_H, DKIMV_PERMERROR, "From not signed (h=)" },
	{ DKIM_SIGERROR_MISSING_H, DKIMV_PERMERROR, "From not signed (h=)" },
	{ DKIM_SIGERROR_TOOLARGE_L, DKIMV_FAIL, "l= longer than the body" },
	{ DKIM_SIGERROR_VERSION, DKIMV_NEUTRAL,
	    "unsupported signature version" },
	{ DKIM_SIGERROR_MISSING_V, DKIMV_NEUTRAL,
	    "unsupported signature version" },
	{ DKIM_SIGERROR_EMPTY_V, DKIMV_NEUTRAL,
	    "unsupported signature version" },
	{ DKIM_SIGERROR_INVALID_A, DKIMV_NEUTRAL, "unsupported algorithm" },
	{ DKIM_SIGERROR_MISSING_A, DKIMV_NEUTRAL, "unsupported algorithm" },
	{ DKIM_SIGERROR_INVALID_HC, DKIMV_NEUTRAL,
	    "unsupported canonicalization" },
	{ DKIM_SIGERROR_INVALID_BC, DKIMV_NEUTRAL,
	    "unsupported canonicalization" },
	{ DKIM_SIGERROR_INVALID_Q, DKIMV_NEUTRAL,
	    "unsupported query method (q=)" },
	{ DKIM_SIGERROR_INVALID_QO, DKIMV_NEUTRAL,
	    "unsupported query method (q=)" },
	{ DKIM_SIGERROR_INVALID_L, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_MISSING_D, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_EMPTY_D, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_MISSING_S, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_EMPTY_S, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_MISSING_B, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_EMPTY_B, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_CORRUPT_B, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_MISSING_BH, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_EMPTY_BH, DKIMV_NEUTRAL, "signature syntax error" },
	{ DKIM_SIGERROR_CORRUPT_BH, DKIMV_NEUTRAL, "signature syntax error" },
};

/* Errors found with the key (section 6.1.2) and in verifying (6.1.3). */
static const struct sigerror_rule key_rules[] = {
	{ DKIM_SIGERROR_KEYFAIL, DKIMV_TEMPERROR,
	    "key lookup failed temporarily" },
	/* Section 3.6.1: an empty p= means the key was revoked. */
	{ DKIM_SIGERROR_KEYREVOKED, DKIMV_FAIL, "key revoked" },
	/* RFC 8301 section 3.2. */
	{ DKIM_SIGERROR_KEYTOOSMALL, DKIMV_FAIL, "key too small (RFC 8301)" },
	{ DKIM_SIGERROR_KEYHASHMISMATCH, DKIMV_PERMERROR,
	    "key h= does not allow the hash" },
	{ DKIM_SIGERROR_KEYUNKNOWNHASH, DKIMV_PERMERROR,
	    "key h= does not allow the hash" },
	{ DKIM_SIGERROR_NOTEMAILKEY, DKIMV_PERMERROR,
	    "key not for email (s=)" },
	{ DKIM_SIGERROR_KEYTYPEUNKNOWN, DKIMV_PERMERROR,
	    "unsupported key type (k=)" },
	{ DKIM_SIGERROR_KEYTYPEMISSING, DKIMV_PERMERROR,
	    "unsupported key type (k=)" },
	{ DKIM_SIGERROR_KEYVERSION, DKIMV_PERMERROR,
	    "unsupported key version" },
	{ DKIM_SIGERROR_KEYDECODE, DKIMV_PERMERROR, "key cannot be decoded" },
	{ DKIM_SIGERROR_DNSSYNTAX, DKIMV_PERMERROR, "key record syntax error" },
	{ DKIM_SIGERROR_MULTIREPLY, DKIMV_PERMERROR, "several key records" },
	{ DKIM_SIGERROR_SUBDOMAIN, DKIMV_PERMERROR,
	    "key refuses subdomain i= (t=s)" },
};

/* Apply the rule for err from rules; false if there is none. */
static bool
judge_by_rule(const struct sigerror_rule *rules, size_t n, int err,
    struct dkimv_sig *sig)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i].err == err) {
			set_result(sig, rules[i].result, rules[i].reason);
			return true;
		}
	return false;
}

static bool
judge_sigerror(int err, struct dkimv_sig *sig)
{
	return judge_by_rule(sig_rules, sizeof(sig_rules) /
	    sizeof(sig_rules[0]), err, sig);
}

static void
judge_keyerror(int err, const struct dkimv_note *note, struct dkimv_sig *sig)
{
	if (err == DKIM_SIGERROR_NOKEY) {
		/* "No key" covers every lookup outcome; our note says which. */
		switch (note->key) {
		case KEYNOTE_TEMPFAIL:
			set_result(sig, DKIMV_TEMPERROR,
			    "key lookup failed temporarily");
			break;
		case KEYNOTE_PERMFAIL:
			set_result(sig, DKIMV_PERMERROR, "key lookup failed");
			break;
		case KEYNOTE_TOO_LARGE:
			set_result(sig, DKIMV_PERMERROR, "key record too large");
			break;
		case KEYNOTE_BADNAME:
			set_result(sig, DKIMV_PERMERROR, "invalid key name");
			break;
		default:
			set_result(sig, DKIMV_PERMERROR, "no key for signature");
			break;
		}
		return;
	}
	if (!judge_by_rule(key_rules, sizeof(key_rules) / sizeof(key_rules[0]),
	    err, sig))
		set_result(sig, DKIMV_PERMERROR, "verification error");
}

/*
 * libopendkim was given no body (own_body).  When the header signature
 * verified, dkim_sig_process() compared bh= with the hash of the empty
 * body: DKIM_SIGBH_MATCH or MISMATCH, and DKIM_SIGERROR_BADSIG on a
 * mismatch; on a match dkim_eom() then sets KEYTOOSMALL (clearing
 * PASSED) for an RSA key under DKIM_OPTS_MINKEYBITS.  Put our body hash
 * in their place; an error set regardless of the body (SUBDOMAIN, the
 * t=s check) stays.  judge() then reads the same values as when
 * libopendkim hashed the body itself (its own KEYTOOSMALL check below
 * gives the same verdict and reason).
 */
static void
body_verdict(const struct dkimv_note *note, unsigned int *flags, int *err,
    int *bh)
{
	*bh = note->bh_match ? DKIM_SIGBH_MATCH : DKIM_SIGBH_MISMATCH;
	if (*err == DKIM_SIGERROR_OK || *err == DKIM_SIGERROR_BADSIG ||
	    *err == DKIM_SIGERROR_KEYTOOSMALL) {
		*flags |= DKIM_SIGFLAG_PASSED;
		*err = note->bh_match ? DKIM_SIGERROR_OK : DKIM_SIGERROR_BADSIG;
	}
}

/* Judge one signature that libopendkim processed. */
static void
judge(const struct dkimv *v, const struct dkimv_note *note,
    struct dkimv_sig *sig)
{
	DKIM_SIGINFO *ls = note->lsig;
	unsigned int flags, bits = 0;
	int err, bh;

	flags = dkim_sig_getflags(ls);
	err = dkim_sig_geterror(ls);
	bh = dkim_sig_getbh(ls);
	/* UNTESTED: the header signature failed, the body does not count. */
	if (v->own_body && bh != DKIM_SIGBH_UNTESTED) {
		if (note->body == 0) {
			/* Not reached: bodies_setup() served every one. */
			set_result(sig, DKIMV_TEMPERROR,
			    "signature not verified");
			return;
		}
		body_verdict(note, &flags, &err, &bh);
	}
	sig->testing = (flags & DKIM_SIGFLAG_TESTKEY) != 0;
	/* libopendkim records no size for ed25519 keys (and may say OK). */
	if (dkim_sig_getkeysize(ls, &bits) == DKIM_STAT_OK && bits > 0)
		sig->keybits = bits;
	else if (note->is_ed25519 && (flags & DKIM_SIGFLAG_PROCESSED) &&
	    err != DKIM_SIGERROR_KEYDECODE && err != DKIM_SIGERROR_NOKEY &&
	    err != DKIM_SIGERROR_KEYREVOKED && err != DKIM_SIGERROR_DNSSYNTAX)
		sig->keybits = 256;	/* RFC 8463: 32-byte public keys */

	if (judge_sigerror(err, sig))
		return;
	if (err == DKIM_SIGERROR_UNKNOWN) {
		/* Never processed: libopendkim stopped early. */
		set_result(sig, DKIMV_TEMPERROR, "signature not verified");
		return;
	}
	if (err == DKIM_SIGERROR_BADSIG) {
		/* PASSED only covers the header hash: read the body hash. */
		set_result(sig, DKIMV_FAIL, bh == DKIM_SIGBH_MISMATCH ?
		    "body hash mismatch" : "signature did not verify");
		return;
	}
	if (err != DKIM_SIGERROR_OK) {
		judge_keyerror(err, note, sig);
		return;
	}
	if ((flags & DKIM_SIGFLAG_PASSED) == 0 || bh != DKIM_SIGBH_MATCH) {
		set_result(sig, DKIMV_FAIL, bh == DKIM_SIGBH_MISMATCH ?
		    "body hash mismatch" : "signature did not verify");
		return;
	}
	/* RFC 8301 section 3.2, checked here too, not only by libopendkim. */
	if (note->is_rsa && sig->keybits < v->vl->conf.min_rsa_bits) {
		set_result(sig, DKIMV_FAIL, "key too small (RFC 8301)");
		return;
	}
	set_result(sig, DKIMV_PASS, sig->testing ? "ok, testing key (t=y)" :
	    "ok");
}

enum dkimv_status
dkimv_finish(struct dkimv *v, const struct dkimv_sig **sigs, size_t *nsigs)
{
	DKIM_STAT dst;
	size_t i;

	if (v->state == ST_DONE)
		goto out;
	if (v->state == ST_HEADERS)
		(void)dkimv_eoh(v);
	v->state = ST_DONE;
	/* RFC 6376 sections 3.4.3 and 3.4.4: a non-empty body that does not
	 * end in CRLF gets one (a held CR is that line end). */
	if (v->status == DKIMV_OK && !v->lib_failed && !v->lib_nosig &&
	    !v->own_body &&
	    (v->body_cr || (v->body_seen && v->body_last != '\n'))) {
		v->body_cr = false;
		(void)body_give(v, "\r\n", 2);
	}
	if (v->status == DKIMV_OK && !v->lib_failed && !v->lib_nosig &&
	    v->own_body && !bodies_finish(v)) {
		v->lib_failed = true;
		set_sticky(v, DKIMV_ERR_LIBRARY);
	}
	if (v->status == DKIMV_OK && !v->lib_failed && !v->lib_nosig) {
		dst = dkim_eom(v->dkim, NULL);
		switch (dst) {
		case DKIM_STAT_NORESOURCE:
			set_sticky(v, DKIMV_ERR_NOMEM);
			break;
		case DKIM_STAT_INTERNAL:
		case DKIM_STAT_INVALID:
		case DKIM_STAT_CBREJECT:
		case DKIM_STAT_CBINVALID:
		case DKIM_STAT_CBTRYAGAIN:
		case DKIM_STAT_CBERROR:
			set_sticky(v, DKIMV_ERR_LIBRARY);
			break;
		default:
			/* OK, BADSIG, NOKEY, CANTVRFY, ...: per signature. */
			break;
		}
	}
	for (i = 0; i < v->nsigs; i++) {
		struct dkimv_note *note = &v->notes[i];
		struct dkimv_sig *sig = &v->sigs[i];

		if (note->judged)
			continue;
		if (v->status == DKIMV_ERR_HEADER_TOO_LONG ||
		    v->status == DKIMV_ERR_TOO_MANY_HEADERS)
			set_result(sig, DKIMV_PERMERROR,
			    "message header over limits");
		else if (!note->to_lib || note->lsig == NULL)
			set_result(sig, DKIMV_TEMPERROR,
			    "verification could not run");
		else
			judge(v, note, sig);
	}
out:
	*sigs = v->sigs;
	*nsigs = v->nsigs;
	return v->status;
}

struct dkimv_sig *
dkimv_take_results(struct dkimv *v, size_t *nsigs)
{
	const struct dkimv_sig *done;
	struct dkimv_sig *s;

	if (v->state != ST_DONE)
		(void)dkimv_finish(v, &done, nsigs);
	s = v->sigs;

	*nsigs = v->nsigs;
	v->sigs = NULL;
	v->nsigs = 0;
	v->capsigs = 0;
	mem_free(v->notes);
	v->notes = NULL;
	if (*nsigs == 0) {
		mem_free(s);
		s = NULL;
	}
	return s;
}

enum dkimv_result
dkimv_summary(const struct dkimv_sig *sigs, size_t n)
{
	/* Best first: a pass anywhere wins; a temporary error beats a
	 * definite failure because a retry may pass. */
	static const enum dkimv_result order[] = { DKIMV_PASS,
	    DKIMV_TEMPERROR, DKIMV_FAIL, DKIMV_PERMERROR, DKIMV_NEUTRAL,
	    DKIMV_POLICY };
	size_t i, j;

	for (j = 0; j < sizeof(order) / sizeof(order[0]); j++)
		for (i = 0; i < n; i++)
			if (sigs[i].result == order[j])
				return order[j];
	return DKIMV_NONE;
}

const char *
dkimv_result_name(enum dkimv_result r)
{
	switch (r) {
	case DKIMV_NONE:
		return "none";
	case DKIMV_PASS:
		return "pass";
	case DKIMV_FAIL:
		return "fail";
	case DKIMV_NEUTRAL:
		return "neutral";
	case DKIMV_POLICY:
		return "policy";
	case DKIMV_TEMPERROR:
		return "temperror";
	case DKIMV_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

const char *
dkimv_strerror(enum dkimv_status st)
{
	switch (st) {
	case DKIMV_OK:
		return "ok";
	case DKIMV_ERR_NOMEM:
		return "out of memory";
	case DKIMV_ERR_LIBRARY:
		return "libopendkim failed";
	case DKIMV_ERR_CONFIG:
		return "DKIM configuration value out of range";
	case DKIMV_ERR_STATE:
		return "DKIM verifier called out of order";
	case DKIMV_ERR_HEADER_TOO_LONG:
		return "header field longer than the limit";
	case DKIMV_ERR_TOO_MANY_HEADERS:
		return "more header fields than the limit";
	}
	return "unknown DKIM verifier error";
}
