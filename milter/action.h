/*
 * action.h - from a verdict to what the milter does with the message.
 *
 * A pure function of the verdict, the connection facts and the settings,
 * so every rule (enforcement mode, allow lists, DNS trouble, the reply
 * text) is unit-tested without an MTA.  milter.c then only carries it
 * out.
 */
#ifndef DM_MILTER_ACTION_H
#define DM_MILTER_ACTION_H

#include <stdbool.h>

#include "auth/verify.h"
#include "settings.h"

#define ACTION_TEXT_MAX		480	/* SMTP reply text we build */

enum action_kind {
	ACTION_ACCEPT,		/* deliver (with Authentication-Results) */
	ACTION_QUARANTINE,	/* hold, or deliver with a header */
	ACTION_REJECT,		/* 550 5.7.1 */
	ACTION_TEMPFAIL		/* 451: try again later */
};

struct milter_action {
	enum action_kind kind;
	bool	 hold;			/* QUARANTINE by smfi_quarantine */
	bool	 quarantine_header;	/* QUARANTINE by X-DMARC-Quarantine */
	const char *rcode, *xcode;	/* "550", "5.7.1" (REJECT, TEMPFAIL) */
	char	 text[ACTION_TEXT_MAX];	/* reply text or quarantine reason;
					   no CR/LF, '%' doubled for libmilter */
	enum eval_disposition applied;	/* after local rules */
	/* Override applied here (allow lists, mode), if any: */
	bool	 overridden;
	enum eval_override override;
	char	 override_comment[128];
};

/*
 * Decide.  facts give the client address (AllowForwarders); the verdict
 * holds the disposition the policy asks for and the DKIM signatures
 * (AllowListDomains).  Never fails.
 */
void	action_decide(const struct milter_settings *, const struct verdict *,
	    const struct verify_facts *, struct milter_action *);

const char *action_kind_name(enum action_kind);	/* "reject" */

#endif
