/*
 * cli.h - shared pieces of the dmarcctl subcommands.
 *
 * Each subcommand is a thin layer over the modules: it parses its flags,
 * calls the library, and prints text or --json.  Exit codes come from
 * sysexits.h and are listed in dmarcctl(8).
 */
#ifndef DM_CLI_H
#define DM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sysexits.h>

#include "common/conf.h"
#include "dns/lookup_adapter.h"
#include "policy/orgdomain.h"

/* Options every subcommand shares. */
struct cli_ctx {
	const char *conf_path;		/* -c FILE, or the default */
	bool	 conf_explicit;		/* -c given: a missing file is an error */
	struct conf *conf;		/* loaded configuration */
};

/* Print "dmarcctl: <subcommand>: message" to stderr. */
void	cli_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

struct dns_resolver;
/*
 * A new resolver from the configuration, or from override (the
 * --nameserver value) when not NULL.  Prints an error naming cmd and
 * returns NULL on failure.  Free with dns_resolver_free().
 */
struct dns_resolver *cli_resolver_new(const struct cli_ctx *,
	    const char *cmd, const char *override);
/*
 * The options --method, --psl-file and --nameserver, shared by the
 * commands that discover policies.  Their getopt_long values are the
 * CLI_OPT_* below; use CLI_DISCOVERY_OPTIONS in the option table.
 */
enum { CLI_OPT_METHOD = 1000, CLI_OPT_PSL_FILE, CLI_OPT_NAMESERVER };
#define CLI_DISCOVERY_OPTIONS \
	{ "method", required_argument, NULL, CLI_OPT_METHOD }, \
	{ "psl-file", required_argument, NULL, CLI_OPT_PSL_FILE }, \
	{ "nameserver", required_argument, NULL, CLI_OPT_NAMESERVER }

struct cli_discovery {
	struct orgdomain_config oc;	/* ready after cli_discovery_open() */
	const char *pslfile;
	const char *nameserver;
	orgdomain_psl *psl;
	struct dns_resolver *res;
	struct dns_lookup_ctx lctx;
};

/* Defaults from the configuration (PolicyDiscovery, PublicSuffixList). */
void	cli_discovery_init(struct cli_discovery *, const struct cli_ctx *);
/* Take option ch if it is one of ours: 0 taken, -1 bad value (printed),
 * 1 not ours. */
int	cli_discovery_option(struct cli_discovery *, const char *cmd, int ch,
	    const char *arg);
/* Load the list (psl) and, when dns, the resolver.  EX_OK or an exit
 * status after printing why. */
int	cli_discovery_open(struct cli_discovery *, const struct cli_ctx *,
	    const char *cmd, bool dns);
void	cli_discovery_close(struct cli_discovery *);

/* True when stdout is a terminal (colour and progress output). */
bool	cli_stdout_is_tty(void);

struct verify;
struct verify_config;
typedef struct orgdomain_psl orgdomain_psl;
/*
 * Feed a message read from f (named src in errors) to the pipeline:
 * header fields, end of header, body.  0, or -1 after printing why.
 */
int	msgfile_feed(struct verify *, FILE *f, const char *src);
/* The pipeline's configuration from dmarcd.conf (host: AuthservID
 * fallback buffer).  *psl is loaded for PolicyDiscovery psl. */
int	cli_verify_config(const struct cli_ctx *, const char *cmd,
	    struct verify_config *, orgdomain_psl **psl, char *host,
	    size_t hostlen);
/* Exit status for a DMARC result: 0 pass, 1 fail, 2 none, 3 temperror,
 * 4 permerror (dmarcctl(8)). */
int	cli_exit_for_result(int result);

/* dmarcctl lookup: exit status when no usable DMARC policy applies. */
#define LOOKUP_EXIT_NO_POLICY	2

int	cmd_verify(struct cli_ctx *, int, char **);
int	cmd_lookup(struct cli_ctx *, int, char **);
int	cmd_orgdomain(struct cli_ctx *, int, char **);
int	cmd_check(struct cli_ctx *, int, char **);
int	cmd_evaluate(struct cli_ctx *, int, char **);
int	cmd_report(struct cli_ctx *, int, char **);
int	cmd_import(struct cli_ctx *, int, char **);
int	cmd_domain(struct cli_ctx *, int, char **);
int	cmd_expire(struct cli_ctx *, int, char **);
int	cmd_serve(struct cli_ctx *, int, char **);
int	cmd_token(struct cli_ctx *, int, char **);

#endif
