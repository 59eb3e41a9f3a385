/*
 * noop_milter.c - a libmilter milter that does nothing and accepts every
 * message at end of message: its CPU per message is the protocol floor
 * against which bench/milter-bench.sh measures dmarcd.
 *
 *   noop_milter -p inet:PORT@HOST|unix:PATH
 *
 * It negotiates as milter/milter.c does (the same actions, skipped
 * steps, no-reply steps, leading header spaces and macro lists), so the
 * MTA side of the conversation is the same: on an inet socket it
 * answers every command, on a unix socket it skips RCPT and DATA and
 * answers no header, as dmarcd does (milter/milter.c says why).  Runs in the foreground;
 * SIGTERM stops it (libmilter's signal thread).
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static char syms_envfrom[] = "i {auth_authen}";
static char syms_eom[] = "i";
static bool reply_all;		/* an inet socket */

static unsigned long
pflags_of(SMFICTX *ctx)
{
	unsigned long *p = smfi_getpriv(ctx);

	return p != NULL ? *p : 0;
}

static sfsistat
reply(SMFICTX *ctx, unsigned long nr_flag)
{
	return (pflags_of(ctx) & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
	const unsigned long nr = SMFIP_NR_CONN | SMFIP_NR_HELO |
	    SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
	const unsigned long skip = SMFIP_NORCPT | SMFIP_NOUNKNOWN |
	    SMFIP_NODATA;
	const unsigned long proto = SMFIP_HDR_LEADSPC |
	    (reply_all ? 0 : nr | skip);
	unsigned long *p = smfi_getpriv(ctx);

	(void)f2;
	(void)f3;
	if (p == NULL) {
		if ((p = malloc(sizeof(*p))) == NULL)
			return SMFIS_TEMPFAIL;
		smfi_setpriv(ctx, p);
	}
	*pf0 = f0 & want;
	*pf1 = f1 & proto;
	*pf2 = 0;
	*pf3 = 0;
	*p = *pf1;
	if (*pf0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_ENVFROM, syms_envfrom);
		smfi_setsymlist(ctx, SMFIM_EOM, syms_eom);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return reply(ctx, SMFIP_NR_CONN);
}

static sfsistat
noop_helo(SMFICTX *ctx, char *name)
{
	(void)name;
	return reply(ctx, SMFIP_NR_HELO);
}

static sfsistat
noop_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return reply(ctx, SMFIP_NR_HDR);
}

static sfsistat
noop_eoh(SMFICTX *ctx)
{
	return reply(ctx, SMFIP_NR_EOH);
}

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)chunk;
	(void)len;
	return reply(ctx, SMFIP_NR_BODY);
}

static sfsistat
noop_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat
noop_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc noop_desc = {
	.xxfi_name = (char *)"noop_milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = noop_connect,
	.xxfi_helo = noop_helo,
	.xxfi_envfrom = noop_envfrom,
	.xxfi_header = noop_header,
	.xxfi_eoh = noop_eoh,
	.xxfi_body = noop_body,
	.xxfi_eom = noop_eom,
	.xxfi_close = noop_close,
	.xxfi_negotiate = noop_negotiate,
};

int
main(int argc, char **argv)
{
	char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p') {
			fprintf(stderr, "usage: noop_milter -p SOCKET\n");
			return EX_USAGE;
		}
		sock = optarg;
	}
	if (sock == NULL || optind != argc) {
		fprintf(stderr, "usage: noop_milter -p SOCKET\n");
		return EX_USAGE;
	}
	reply_all = strncmp(sock, "unix:", 5) != 0 &&
	    strncmp(sock, "local:", 6) != 0;
	if (strncmp(sock, "unix:", 5) == 0)
		unlink(sock + 5);
	if (smfi_register(noop_desc) != MI_SUCCESS ||
	    smfi_setconn(sock) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: %s: cannot listen\n", sock);
		return EX_UNAVAILABLE;
	}
	fprintf(stderr, "noop_milter: listening on %s\n", sock);
	return smfi_main() == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
