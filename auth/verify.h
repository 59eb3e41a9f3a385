/*
 * verify.h - the whole authentication pipeline for one message:
 * SPF + DKIM + DMARC, from connection facts and a header/body stream to a
 * verdict.  The milter (dmarcd) and `dmarcctl verify` both drive it, so
 * what dmarcctl prints for a message on disk is what the milter decides.
 *
 * Use:
 *	v = verify_new(engine, &facts);
 *	for each header field: verify_header(v, name, value, len);
 *	verify_eoh(v);
 *	for each body chunk: verify_body(v, chunk, len);
 *	verify_eom(v, &verdict);	  (verdict points into v)
 *	verify_free(v);
 *
 * Headers and body are fed incrementally; nothing here keeps the body.
 * The engine is shared by all threads; a struct verify belongs to one
 * message and one thread at a time.  No logging: the caller logs the
 * verdict.
 */
#ifndef DM_AUTH_VERIFY_H
#define DM_AUTH_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/dkim.h"
#include "auth/spf.h"
#include "common/addr.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "dns/resolver.h"
#include "policy/evaluate.h"
#include "policy/from.h"

#define VERIFY_MAX_FORGED	32	/* forged A-R fields we remove */
#define VERIFY_MAX_AUTHORS	8	/* author domains evaluated */

/*
 * What happens to a message whose From cannot give an Author Domain: no
 * From field, several From fields, or one that does not parse
 * (MultipleFromPolicy).  Several author domains in one valid field are
 * always each evaluated, and the strictest disposition applies.
 */
enum verify_badfrom {
	VERIFY_BADFROM_REJECT = 0,	/* default: never a silent pass */
	VERIFY_BADFROM_QUARANTINE,
	VERIFY_BADFROM_NONE		/* dmarc=permerror, delivered */
};

/*
 * The settings that decide a verdict.  The daemon may replace them on a
 * configuration reload, so each message carries the ones it started with
 * (verify_new_policy()); the engine keeps a default set.
 */
struct verify_policy {
	const char *authserv_id;	/* required */
	enum orgdomain_method method;
	const orgdomain_psl *psl;	/* required for psl */
	enum eval_pct_mode pct_mode;
	enum verify_badfrom badfrom;
	unsigned deadline_ms;		/* DNS work per message; 0: none */
	/* Tests: draw for pct sampling (NULL: random). */
	evaluate_random_fn random;
	void	*random_ctx;
};

struct verify_config {
	struct verify_policy policy;	/* the default; strings copied */
	struct dkimv_config dkim;	/* fixed for the engine's life */
	struct spf_config spf;
	unsigned lookup_threads;	/* verify_pool.h: SPF and DMARC
					 * discovery beside DKIM (4); 0: one
					 * step after the other */
};

/* Connection facts gathered before the message (strings borrowed). */
struct verify_facts {
	const char *queue_id;		/* for diagnostics; may be NULL */
	bool	 have_ip;
	struct addr client_ip;
	const char *helo;		/* may be NULL */
	const char *mail_from;		/* reverse-path; "" is the null sender */
	bool	 trusted;		/* client in TrustedNetworks */
	bool	 authenticated;		/* SMTP AUTH succeeded */
};

enum verify_status {
	VERIFY_OK,
	VERIFY_ERR_NOMEM,
	VERIFY_ERR_CONFIG,
	VERIFY_ERR_STATE,	/* calls out of order */
	VERIFY_ERR_INTERNAL	/* a library failed; see the verdict */
};

/* One author domain's evaluation. */
struct verify_author {
	struct discover_result *discovery;
	struct evaluate_result *eval;
};

struct verdict {
	bool	 skipped;		/* trusted or authenticated client */
	const char *skip_reason;	/* "trusted network", "authenticated" */

	enum from_status from_status;
	size_t	 nauthors;
	struct verify_author authors[VERIFY_MAX_AUTHORS];
	size_t	 authors_dropped;	/* beyond VERIFY_MAX_AUTHORS */

	struct spf_outcome spf_mfrom;	/* MAIL FROM (or postmaster@HELO) */
	struct spf_outcome spf_helo;	/* HELO identity, for smtp.helo */
	bool	 spf_done;

	const struct dkimv_sig *sigs;	/* owned by the verify object */
	size_t	 nsigs;
	enum dkimv_status dkim_status;

	enum dmarc_result result;	/* the message's DMARC result */
	enum eval_disposition disposition; /* after t=, pct, bad From */
	enum dmarc_policy policy;	/* of the decisive author domain */
	size_t	 decisive;		/* index into authors, if any */
	bool	 dns_temporary;		/* a temporary DNS error decided */
	const char *reason;		/* why, for bad From and errors */

	/* 1-based occurrence numbers of Authentication-Results fields that
	 * carry our authserv-id: forged, to be removed (RFC 8601 5). */
	unsigned forged[VERIFY_MAX_FORGED];
	size_t	 nforged;
	/* More forged fields than forged[] holds: remove every A-R field
	 * (1..ar_total), so none of the forged ones can survive. */
	bool	 forged_overflow;
	unsigned ar_total;		/* A-R fields in the message */

	char	*authres;		/* the A-R value to add (folded) */
	const char *message_id;		/* the Message-ID field, or NULL */
};

struct verify_engine;
struct verify;

/* Defaults: treewalk, PctMode sample, bad From rejected, 10 s deadline. */
void	 verify_config_init(struct verify_config *);

/*
 * New engine on a resolver (borrowed; it must outlive the engine).
 * Returns NULL with *why set.  Free with verify_engine_free() after all
 * messages are done and the threads that ran them have exited.
 */
struct verify_engine *verify_engine_new(struct dns_resolver *,
	    const struct verify_config *, enum verify_status *why);
void	 verify_engine_free(struct verify_engine *);
/* SPF and policy-discovery checks so far: answered from the DNS cache in
 * the message's own thread, and handed to the lookup pool. */
void	 verify_engine_counts(const struct verify_engine *,
	    uint64_t *in_line, uint64_t *pooled);

/* A new message.  NULL on no memory.  facts are copied. */
struct verify *verify_new(struct verify_engine *,
	    const struct verify_facts *);
/* The same with other settings; pol is borrowed until verify_free(). */
struct verify *verify_new_policy(struct verify_engine *,
	    const struct verify_policy *pol, const struct verify_facts *);
/* True if pol can drive a verification (authserv-id set, psl loaded
 * for the psl method). */
bool	 verify_policy_is_valid(const struct verify_policy *);
void	 verify_free(struct verify *);

/* One header field: name without colon; value as after the colon. */
enum verify_status verify_header(struct verify *, const char *name,
	    const char *value, size_t len);
enum verify_status verify_eoh(struct verify *);
enum verify_status verify_body(struct verify *, const unsigned char *,
	    size_t);
/*
 * Finish: SPF, DKIM, policy discovery, alignment and the verdict.
 * *out points into v until verify_free().  Never fails for a message's
 * content: a problem with the message is a verdict (permerror, reject,
 * ...); VERIFY_ERR_NOMEM means no verdict could be made.
 */
enum verify_status verify_eom(struct verify *, const struct verdict **out);

/* The verdict as JSON (`dmarcctl verify --json`) and as text. */
void	 verify_write_json(const struct verdict *, struct json *);
void	 verify_write_text(const struct verdict *, struct strbuf *);

const char *verify_strerror(enum verify_status);
const char *verify_badfrom_name(enum verify_badfrom);
int	 verify_badfrom_parse(const char *, enum verify_badfrom *);
/* DKIM's result in the policy core's terms. */
enum eval_auth_result verify_dkim_result(enum dkimv_result);
enum eval_auth_result verify_spf_result(enum spf_result);

#endif
