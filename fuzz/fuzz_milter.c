/*
 * fuzz_milter.c - libFuzzer target for dmarcd end to end: a byte stream
 * of milter protocol commands, decoded here as libmilter would and fed to
 * dmarcd's own callbacks (milter_desc in milter/milter.c), with the whole
 * verify pipeline behind a resolver answering from a fixed table.
 *
 * The input is what an MTA writes on the milter socket (protocol v6):
 * packets of a 4-byte big-endian length, a command byte and its data.
 *   O  negotiate: version, actions, protocol (3 x 4 bytes)
 *   D  macros: the command they are for, then name NUL value NUL ...
 *   C  connect: host NUL, family ('4', '6', 'U'), port (2), address NUL
 *   H  HELO: name NUL      M  MAIL: args NUL ...     R  RCPT (ignored)
 *   L  header: name NUL value NUL      N  end of headers
 *   B  body chunk          E  end of message         A  abort
 *   Q  quit                K  quit, new connection follows
 * A packet that does not fit or is malformed ends the connection, as
 * libmilter does.  A header or end-of-headers after the end of headers
 * aborts the message and is ignored, as libmilter's state machine does
 * (the MTA cannot send them then); a HELO inside a message is passed on
 * without libmilter's abort, which is harsher on the callbacks.  The libmilter calls the callbacks make (smfi_getpriv,
 * smfi_setreply, smfi_insheader...) are link-time replacements below: this
 * program does not link libmilter.
 *
 * The seeds in fuzz/corpus/milter are whole conversations (pass by DKIM
 * or SPF, reject, quarantine, p=none, several From fields or addresses,
 * no From, odd From syntax, forged A-R, DNS timeout and SERVFAIL, trusted
 * and authenticated clients); pass_dkim carries an ed25519 signature by
 * the key whose public half is sel._domainkey.example.test below.
 * FUZZ_MILTER_LOG=info shows dmarcd's log line for each message.
 *
 * Beyond "no crash, no leak", it checks one property: a judged message
 * with no From field or several (MultipleFromPolicy reject) is never
 * accepted - the multiple-From bypass other DMARC milters shipped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/log.h"
#include "common/mem.h"
#include "dns/resolver.h"
#include "milter/milter.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

/*
 * For tests/unit/test_milter_stream.c, which replays the seeds: one letter
 * per end of message of the last input - a(ccept), r(eject), t(empfail),
 * d(iscard), c(ontinue) - upper case when an Authentication-Results field
 * was added (the message was judged).
 */
extern char fuzz_milter_outcomes[64];
char	 fuzz_milter_outcomes[64];

#define FZ_MAX_PACKET	65535	/* libmilter's default maximum data size */
#define FZ_MAX_MACROS	32

/* The context libmilter would keep for one connection. */
struct smfi_str {
	void	*priv;
	char	*macro_name[FZ_MAX_MACROS];
	char	*macro_value[FZ_MAX_MACROS];
	size_t	 nmacros;
	unsigned ninserted_ar;		/* A-R fields we were asked to add */
};

/* --- link-time replacements for libmilter ------------------------------ */

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

int
smfi_setpriv(SMFICTX *ctx, void *p)
{
	ctx->priv = p;
	return MI_SUCCESS;
}

/* "i" and "{i}" name the same macro, as in libmilter. */
static bool
macro_match(const char *stored, const char *asked)
{
	size_t n;

	if (strcmp(stored, asked) == 0)
		return true;
	n = strlen(stored);
	if (n >= 2 && stored[0] == '{' && stored[n - 1] == '}')
		return strlen(asked) == n - 2 &&
		    strncmp(stored + 1, asked, n - 2) == 0;
	n = strlen(asked);
	if (n >= 2 && asked[0] == '{' && asked[n - 1] == '}')
		return strlen(stored) == n - 2 &&
		    strncmp(asked + 1, stored, n - 2) == 0;
	return false;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	size_t i;

	for (i = ctx->nmacros; i > 0; i--)
		if (macro_match(ctx->macro_name[i - 1], name))
			return ctx->macro_value[i - 1];
	return NULL;
}

/* The strings a callback hands over must be readable C strings. */
static void
touch(const char *s)
{
	if (s != NULL)
		(void)strlen(s);
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
	(void)ctx;
	touch(rcode);
	touch(xcode);
	touch(text);
	return MI_SUCCESS;
}

int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	touch(name);
	touch(value);
	return MI_SUCCESS;
}

int
smfi_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
	(void)idx;
	touch(value);
	if (strcasecmp(name, "Authentication-Results") == 0)
		ctx->ninserted_ar++;
	return MI_SUCCESS;
}

int
smfi_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	(void)ctx;
	touch(name);
	touch(value);
	if (idx < 1)
		abort();	/* libmilter indexes from 1 */
	return MI_SUCCESS;
}

int
smfi_quarantine(SMFICTX *ctx, char *reason)
{
	(void)ctx;
	if (reason == NULL || *reason == '\0')
		abort();	/* libmilter refuses an empty reason */
	return MI_SUCCESS;
}

int
smfi_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
	(void)ctx;
	(void)stage;
	touch(macros);
	return MI_SUCCESS;
}

/* --- the fixed DNS ----------------------------------------------------- */

enum fz_mode { FZ_ANSWER, FZ_TIMEOUT, FZ_SERVFAIL };

struct fz_rr {
	const char *name;
	uint16_t type;
	enum fz_mode mode;
	const char *rr;		/* presentation format, for FZ_ANSWER */
};

/* The seed conversations' key: fuzz/corpus/milter/README says how they
 * were signed.  Names not here are NXDOMAIN. */
static const struct fz_rr fz_zone[] = {
	{ "example.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "example.test. 300 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"" },
	{ "example.test", DNS_TYPE_A, FZ_ANSWER,
	    "example.test. 300 IN A 192.0.2.10" },
	{ "example.test", DNS_TYPE_MX, FZ_ANSWER,
	    "example.test. 300 IN MX 10 example.test." },
	{ "_dmarc.example.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "_dmarc.example.test. 300 IN TXT \"v=DMARC1; p=reject; "
	    "sp=quarantine; rua=mailto:agg@example.test\"" },
	{ "sel._domainkey.example.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "sel._domainkey.example.test. 300 IN TXT \"v=DKIM1; k=ed25519; "
	    "p=GENaKsfSj03xJqnG2HZRulGbYp5ygRRVapzm9KW25v4=\"" },
	{ "quar.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "quar.test. 300 IN TXT \"v=spf1 ip4:192.0.2.0/28 "
	    "include:inc.quar.test a mx ~all\"" },
	{ "inc.quar.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "inc.quar.test. 300 IN TXT \"v=spf1 exists:%{i}.x.quar.test "
	    "-all\"" },
	{ "quar.test", DNS_TYPE_MX, FZ_ANSWER,
	    "quar.test. 300 IN MX 10 mx.quar.test." },
	{ "mx.quar.test", DNS_TYPE_A, FZ_ANSWER,
	    "mx.quar.test. 300 IN A 192.0.2.30" },
	{ "_dmarc.quar.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "_dmarc.quar.test. 300 IN TXT \"v=DMARC1; p=quarantine; "
	    "adkim=s; aspf=s; pct=50\"" },
	{ "none.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "none.test. 300 IN TXT \"v=spf1 redirect=example.test\"" },
	{ "_dmarc.none.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "_dmarc.none.test. 300 IN TXT \"v=DMARC1; p=none; "
	    "ruf=mailto:f@none.test; fo=1\"" },
	{ "_dmarc.alias.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "_dmarc.alias.test. 300 IN CNAME _dmarc.example.test." },
	{ "_dmarc.slow.test", DNS_TYPE_TXT, FZ_TIMEOUT, NULL },
	{ "slow.test", DNS_TYPE_TXT, FZ_TIMEOUT, NULL },
	{ "_dmarc.broken.test", DNS_TYPE_TXT, FZ_SERVFAIL, NULL },
	{ "_dmarc.two.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "_dmarc.two.test. 300 IN TXT \"v=DMARC1; p=reject\"" },
	{ "_dmarc.two.test", DNS_TYPE_TXT, FZ_ANSWER,
	    "_dmarc.two.test. 300 IN TXT \"v=DMARC1; p=none\"" },
};

static enum dns_status
fz_exchange(const struct dns_server *srv, bool tcp, uint8_t *query,
    size_t qlen, uint16_t id, uint64_t until_ms, uint8_t *buf, size_t bufsz,
    size_t *replylen)
{
	ldns_pkt *q = NULL, *r;
	ldns_rr *qrr, *rr;
	uint8_t *wire = NULL;
	char *qname;
	size_t i, wlen, len;
	uint16_t qtype;
	bool found = false;

	(void)srv;
	(void)tcp;
	(void)until_ms;
	if (ldns_wire2pkt(&q, query, qlen) != LDNS_STATUS_OK)
		return DNS_ERR_NETWORK;
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	qname = ldns_rdf2str(ldns_rr_owner(qrr));
	len = strlen(qname);
	if (len > 1 && qname[len - 1] == '.')
		qname[len - 1] = '\0';
	qtype = (uint16_t)ldns_rr_get_type(qrr);
	r = ldns_pkt_new();
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	ldns_pkt_set_id(r, id);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, true);
	for (i = 0; i < sizeof(fz_zone) / sizeof(fz_zone[0]); i++) {
		const struct fz_rr *z = &fz_zone[i];

		if (strcasecmp(z->name, qname) != 0 || (z->type != qtype &&
		    !(z->rr != NULL && strstr(z->rr, " CNAME ") != NULL)))
			continue;
		if (z->mode == FZ_TIMEOUT) {
			free(qname);
			ldns_pkt_free(r);
			ldns_pkt_free(q);
			return DNS_ERR_TIMEOUT;
		}
		if (z->mode == FZ_SERVFAIL) {
			ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
			found = true;
			break;
		}
		if (ldns_rr_new_frm_str(&rr, z->rr, 0, NULL, NULL) ==
		    LDNS_STATUS_OK)
			ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
		found = true;
	}
	free(qname);
	if (!found) {
		ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		if (ldns_rr_new_frm_str(&rr, "test. 300 IN SOA ns.test. "
		    "h.test. 1 3600 600 86400 300", 0, NULL, NULL) ==
		    LDNS_STATUS_OK)
			ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, rr);
	}
	ldns_pkt2wire(&wire, r, &wlen);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	if (wire == NULL || wlen > bufsz) {
		free(wire);
		return DNS_ERR_NETWORK;
	}
	memcpy(buf, wire, wlen);
	free(wire);
	*replylen = wlen;
	return DNS_OK;
}

/* --- set-up ------------------------------------------------------------ */

static char fz_dir[] = "/tmp/fuzz_milter.XXXXXX";

static void
fz_cleanup(void)
{
	char path[128];

	if (milter_daemon.store != NULL)
		store_close(milter_daemon.store);
	snprintf(path, sizeof(path), "%s/history.sqlite", fz_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/history.sqlite-wal", fz_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/history.sqlite-shm", fz_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dmarcd.conf", fz_dir);
	unlink(path);
	rmdir(fz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct milter_settings *s;
	struct verify_config vc;
	struct dns_config dc;
	struct store_options so;
	struct strbuf err = STRBUF_INIT;
	enum verify_status vs;
	enum store_status ss;
	enum dns_status ds;
	char path[128], db[128];
	FILE *f;

	(void)argc;
	(void)argv;
	if (mkdtemp(fz_dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/dmarcd.conf", fz_dir);
	snprintf(db, sizeof(db), "%s/history.sqlite", fz_dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fprintf(f, "AuthservID mx.fuzz.test\n"
	    "HistoryDatabase %s\n"
	    "HistoryDurability relaxed\n"
	    "TrustedNetworks 192.0.2.200/32\n"
	    "IgnoreAuthenticatedClients yes\n"
	    "EnforcementMode enforce\n"
	    "QuarantineAction header\n"
	    "TempfailOnDNSError yes\n"
	    "FailMode tempfail\n"
	    "MultipleFromPolicy reject\n"
	    "PolicyDiscovery treewalk\n"
	    "AllowListDomains none.test\n"
	    "AllowForwarders 192.0.2.50/32\n"
	    "DNSDeadline 5s\n"
	    "Syslog no\n"
	    "LogLevel %s\n", db, getenv("FUZZ_MILTER_LOG") != NULL ?
	    getenv("FUZZ_MILTER_LOG") : "error");
	fclose(f);
	log_open("fuzz_milter", false, 0);
	if ((s = settings_load(path, &err)) == NULL) {
		fprintf(stderr, "fuzz_milter: %s", strbuf_cstr(&err));
		abort();
	}
	log_set_level(s->log_level);
	memset(&so, 0, sizeof(so));
	so.durability = STORE_DURABILITY_RELAXED;
	if ((milter_daemon.store = store_open_opts(db, &so, &ss, &err)) ==
	    NULL) {
		fprintf(stderr, "fuzz_milter: %s\n", strbuf_cstr(&err));
		abort();
	}
	dns_config_init(&dc);
	dc.cache.max_entries = 0;	/* each input starts from nothing */
	dns_config_add_nameserver(&dc, "127.0.0.1:9");
	if ((milter_daemon.resolver = dns_resolver_new(&dc, &ds)) == NULL)
		abort();
	dns_resolver_set_exchange(milter_daemon.resolver, fz_exchange);
	verify_config_init(&vc);
	vc.policy = s->policy;
	if ((milter_daemon.engine = verify_engine_new(milter_daemon.resolver,
	    &vc, &vs)) == NULL)
		abort();
	milter_settings_set(s);
	strbuf_release(&err);
	atexit(fz_cleanup);
	return 0;
}

/* --- the protocol ------------------------------------------------------ */

struct fz_conn {
	SMFICTX	 ctx;
	bool	 open;		/* xxfi_close is due */
	bool	 in_msg;	/* MAIL seen, no end yet */
	bool	 eoh;		/* end of headers seen */
	unsigned nfrom;		/* From fields of the message */
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
macros_clear(SMFICTX *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nmacros; i++) {
		free(ctx->macro_name[i]);
		free(ctx->macro_value[i]);
	}
	ctx->nmacros = 0;
}

/* "D": name NUL value NUL pairs after the command letter. */
static void
macros_define(SMFICTX *ctx, const char *d, size_t n)
{
	const char *end = d + n, *name, *value;

	if (n < 1)
		return;
	d++;
	while (d < end) {
		name = d;
		d += strlen(d) + 1;
		if (d >= end)
			break;
		value = d;
		d += strlen(d) + 1;
		if (ctx->nmacros == FZ_MAX_MACROS)
			break;
		ctx->macro_name[ctx->nmacros] = strdup(name);
		ctx->macro_value[ctx->nmacros] = strdup(value);
		ctx->nmacros++;
	}
}

/* The connection is over: what libmilter does at its end. */
static void
conn_end(struct fz_conn *fc)
{
	if (fc->open) {
		if (fc->in_msg)
			(void)milter_desc.xxfi_abort(&fc->ctx);
		(void)milter_desc.xxfi_close(&fc->ctx);
	}
	if (fc->ctx.priv != NULL)
		abort();	/* the callbacks leaked their state */
	macros_clear(&fc->ctx);
	memset(fc, 0, sizeof(*fc));
}

static void
outcome(sfsistat rc, bool judged)
{
	size_t n = strlen(fuzz_milter_outcomes);
	char c = rc == SMFIS_ACCEPT ? 'a' : rc == SMFIS_REJECT ? 'r' :
	    rc == SMFIS_TEMPFAIL ? 't' : rc == SMFIS_DISCARD ? 'd' : 'c';

	if (n + 1 < sizeof(fuzz_milter_outcomes)) {
		fuzz_milter_outcomes[n] = judged ? (char)(c - 'a' + 'A') : c;
		fuzz_milter_outcomes[n + 1] = '\0';
	}
}

/* A message-level reply ends the message (libmilter goes back to wait
 * for the next MAIL). */
static void
msg_reply(struct fz_conn *fc, sfsistat rc)
{
	if (rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL ||
	    rc == SMFIS_ACCEPT || rc == SMFIS_DISCARD) {
		if (fc->in_msg && rc != SMFIS_ACCEPT)
			(void)milter_desc.xxfi_abort(&fc->ctx);
		fc->in_msg = false;
	}
}

static void
do_connect(struct fz_conn *fc, char *d, size_t n)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr *sa = NULL;
	char *host = d, *fam, *addr;
	size_t hl = strlen(d);

	memset(&ss, 0, sizeof(ss));
	if (hl + 2 > n)
		return;
	fam = d + hl + 1;
	if (*fam == '4' || *fam == '6') {
		if (hl + 4 >= n)
			return;
		addr = fam + 3;
		if (*fam == '4' && inet_pton(AF_INET, addr,
		    &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			sa = (struct sockaddr *)s4;
		} else if (*fam == '6' && inet_pton(AF_INET6, addr,
		    &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			sa = (struct sockaddr *)s6;
		}
	}
	fc->open = true;
	(void)milter_desc.xxfi_connect(&fc->ctx, host, sa);
}

static void
do_mail(struct fz_conn *fc, char *d, size_t n)
{
	char *argv[16];
	char *p = d, *end = d + n;
	size_t argc = 0;
	sfsistat rc;

	while (p < end && argc < 15) {
		argv[argc++] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return;		/* libmilter: "no argument" */
	if (fc->in_msg)
		(void)milter_desc.xxfi_abort(&fc->ctx);
	fc->in_msg = true;
	fc->eoh = false;
	fc->nfrom = 0;
	fc->ctx.ninserted_ar = 0;
	rc = milter_desc.xxfi_envfrom(&fc->ctx, argv);
	msg_reply(fc, rc);
}

static void
do_header(struct fz_conn *fc, char *d, size_t n)
{
	size_t nl = strlen(d);

	if (nl + 1 >= n || !fc->in_msg)
		return;
	if (fc->eoh) {
		(void)milter_desc.xxfi_abort(&fc->ctx);
		fc->in_msg = false;
		return;
	}
	if (strcasecmp(d, "From") == 0)
		fc->nfrom++;
	msg_reply(fc, milter_desc.xxfi_header(&fc->ctx, d, d + nl + 1));
}

static void
do_eom(struct fz_conn *fc, uint8_t *d, size_t n)
{
	sfsistat rc;
	bool judged;

	if (!fc->in_msg)
		return;
	/* Data on "E" is a last body chunk. */
	if (n > 0 && ((rc = milter_desc.xxfi_body(&fc->ctx, d, n)) ==
	    SMFIS_REJECT || rc == SMFIS_TEMPFAIL || rc == SMFIS_ACCEPT)) {
		outcome(rc, false);
		msg_reply(fc, rc);
		return;
	}
	fc->ctx.ninserted_ar = 0;
	rc = milter_desc.xxfi_eom(&fc->ctx);
	judged = fc->ctx.ninserted_ar > 0;
	outcome(rc, judged);
	/* A judged message without exactly one From is never accepted. */
	if (judged && rc == SMFIS_ACCEPT && fc->nfrom != 1) {
		fprintf(stderr, "fuzz_milter: message with %u From fields "
		    "accepted\n", fc->nfrom);
		abort();
	}
	fc->in_msg = false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_conn fc;
	uint8_t *pkt;
	uint32_t len;
	uint8_t cmd;
	size_t n;

	memset(&fc, 0, sizeof(fc));
	fuzz_milter_outcomes[0] = '\0';
	while (size >= 5) {
		len = be32(data);
		if (len < 1 || len > FZ_MAX_PACKET || len > size - 4)
			break;
		cmd = data[4];
		n = len - 1;
		/* A copy with a NUL after it, as libmilter's buffer has. */
		if ((pkt = malloc(n + 1)) == NULL)
			break;
		memcpy(pkt, data + 5, n);
		pkt[n] = '\0';
		data += 4 + len;
		size -= 4 + len;

		switch (cmd) {
		case 'O':
			if (n >= 12) {
				unsigned long f0 = be32(pkt + 4),
				    f1 = be32(pkt + 8), p0, p1, p2, p3;

				fc.open = true;
				(void)milter_desc.xxfi_negotiate(&fc.ctx, f0,
				    f1, 0, 0, &p0, &p1, &p2, &p3);
			}
			break;
		case 'D':
			macros_define(&fc.ctx, (char *)pkt, n);
			break;
		case 'C':
			do_connect(&fc, (char *)pkt, n);
			break;
		case 'H':
			fc.open = true;
			(void)milter_desc.xxfi_helo(&fc.ctx, (char *)pkt);
			break;
		case 'M':
			do_mail(&fc, (char *)pkt, n);
			break;
		case 'L':
			do_header(&fc, (char *)pkt, n);
			break;
		case 'N':
			if (fc.in_msg && fc.eoh) {
				(void)milter_desc.xxfi_abort(&fc.ctx);
				fc.in_msg = false;
			} else if (fc.in_msg) {
				fc.eoh = true;
				msg_reply(&fc, milter_desc.xxfi_eoh(&fc.ctx));
			}
			break;
		case 'B':
			if (fc.in_msg)
				msg_reply(&fc, milter_desc.xxfi_body(&fc.ctx,
				    pkt, n));
			break;
		case 'E':
			do_eom(&fc, pkt, n);
			break;
		case 'A':
			if (fc.in_msg)
				(void)milter_desc.xxfi_abort(&fc.ctx);
			fc.in_msg = false;
			macros_clear(&fc.ctx);
			break;
		case 'Q':
		case 'K':
			conn_end(&fc);
			break;
		default:	/* R, T, U and the rest: not negotiated */
			break;
		}
		free(pkt);
	}
	conn_end(&fc);
	return 0;
}
