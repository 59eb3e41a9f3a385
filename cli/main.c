/*
 * main.c - dmarcctl: the administration tool of dmarcd.
 *
 * Global options come before the subcommand:
 *   dmarcctl [-c FILE] SUBCOMMAND [options] [args]
 * The configuration is the daemon's (dmarcd.conf); when -c is not given
 * and the default file does not exist, built-in defaults apply, so the
 * offline subcommands work on a machine where dmarcd is not installed.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli/import.h"
#include "common/confkeys.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "policy/evaluate.h"

static const struct {
	const char *name;
	int (*run)(struct cli_ctx *, int, char **);
	const char *summary;
} commands[] = {
	{ "orgdomain", cmd_orgdomain,
	    "print the organizational domain of each NAME" },
	{ "verify", cmd_verify,
	    "run a message through SPF, DKIM and DMARC (DNS)" },
	{ "lookup", cmd_lookup,
	    "show DMARC policy discovery for a domain (DNS)" },
	{ "check", cmd_check, "grade a DMARC record" },
	{ "evaluate", cmd_evaluate,
	    "evaluate DMARC for given authentication results" },
	{ "report", cmd_report,
	    "build aggregate reports from the history (--dry-run)" },
	{ "import", cmd_import,
	    "store received aggregate and failure reports" },
	{ "domain", cmd_domain,
	    "add, remove or list the owned domains of import" },
	{ "serve", cmd_serve,
	    "serve the HTTP API and the dashboard" },
	{ "token", cmd_token,
	    "add, list or revoke API tokens" },
	{ "expire", cmd_expire,
	    "delete history rows older than --days N" },
	{ "alerts", cmd_alerts,
	    "list alerts found by import; mail a digest (digest)" },
};

int
cli_exit_for_result(int r)
{
	switch ((enum dmarc_result)r) {
	case DMARC_RESULT_PASS:
		return 0;
	case DMARC_RESULT_FAIL:
		return 1;
	case DMARC_RESULT_NONE:
		return 2;
	case DMARC_RESULT_TEMPERROR:
		return 3;
	case DMARC_RESULT_PERMERROR:
		return 4;
	}
	return EX_SOFTWARE;
}

void
cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dmarcctl: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: dmarcctl [-c FILE] COMMAND [options] [args]\n"
	    "       dmarcctl -V\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\nSee dmarcctl(8) for each command's options.\n");
}

static int
load_conf(struct cli_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;

	if ((ctx->conf = conf_new(confkeys_dmarcd)) == NULL) {
		fprintf(stderr, "dmarcctl: out of memory\n");
		return EX_OSERR;
	}
	if (!ctx->conf_explicit && access(ctx->conf_path, F_OK) != 0 &&
	    errno == ENOENT)
		return EX_OK;
	if (conf_load_file(ctx->conf, ctx->conf_path, &err) != 0) {
		fprintf(stderr, "dmarcctl: configuration errors:\n%s",
		    strbuf_cstr(&err));
		strbuf_release(&err);
		return EX_CONFIG;
	}
	strbuf_release(&err);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct cli_ctx ctx = { DMARCD_CONF_DEFAULT, false, NULL };
	int ch, rc;
	size_t i;

	log_open("dmarcctl", false, 0);
	while ((ch = getopt(argc, argv, "+c:hV")) != -1) {
		switch (ch) {
		case 'c':
			ctx.conf_path = optarg;
			ctx.conf_explicit = true;
			break;
		case 'V':
			printf("dmarcctl %s\n", PACKAGE_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return EX_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if ((rc = load_conf(&ctx)) != EX_OK) {
			conf_free(ctx.conf);
			return rc;
		}
		/* Subcommands parse their own options from argv[0]. */
		optind = 1;
		rc = commands[i].run(&ctx, argc, argv);
		conf_free(ctx.conf);
		return rc;
	}
	fprintf(stderr, "dmarcctl: unknown command \"%s\"\n", argv[0]);
	usage(stderr);
	return EX_USAGE;
}
