/*
 * milter.h - dmarcd's libmilter callbacks and the state they share.
 */
#ifndef DM_MILTER_MILTER_H
#define DM_MILTER_MILTER_H

#include <libmilter/mfapi.h>

#include "auth/verify.h"
#include "settings.h"
#include "store/store.h"

/* What the callbacks need, set up by main.c before smfi_main(). */
struct milter_daemon {
	struct verify_engine *engine;
	struct store *store;
	bool	 store_wait;		/* HistoryDurability full */
	bool	 reply_all;		/* an inet Socket: see milter.c */
	struct dns_resolver *resolver;	/* failure report destinations */
};

extern struct milter_daemon milter_daemon;
extern struct smfiDesc milter_desc;

/* The current settings, with a reference the caller drops. */
struct milter_settings *milter_settings_get(void);
/* Install new settings (takes over the caller's reference). */
void	 milter_settings_set(struct milter_settings *);

#endif
