/*
 * cmd_verify.c - dmarcctl verify: run a message from disk through the
 * same pipeline the milter runs (SPF, DKIM, DMARC against live DNS) and
 * print the verdict and the Authentication-Results field dmarcd would
 * add.
 *
 *   dmarcctl verify [--client-ip IP] [--helo NAME] [--mail-from ADDR]
 *       [--nameserver IP[:PORT]] [--json] [FILE.eml|-]
 *
 * Without --client-ip, SPF is not evaluated (as for a message whose
 * sender is unknown).  Exit status as for evaluate: 0 pass, 1 fail,
 * 2 none, 3 temperror, 4 permerror; sysexits above 63.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/verify.h"
#include "cli.h"
#include "common/confkeys.h"
#include "common/json.h"
#include "dns/resolver.h"

static const char cmd[] = "verify";

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcctl verify [--client-ip IP] [--helo NAME]"
	    " [--mail-from ADDR]\n"
	    "                       [--nameserver IP[:PORT]] [--json] "
	    "[FILE.eml|-]\n");
}

/* The engine configuration from dmarcd.conf. */
int
cli_verify_config(const struct cli_ctx *ctx, const char *cmdname,
    struct verify_config *vc, orgdomain_psl **psl, char *host, size_t hostlen)
{
	const char *id = conf_str(ctx->conf, "AuthservID");
	enum orgdomain_status ost;

	verify_config_init(vc);
	*psl = NULL;
	if (id == NULL) {
		if (gethostname(host, hostlen) != 0 || host[0] == '\0')
			snprintf(host, hostlen, "localhost");
		host[hostlen - 1] = '\0';
		id = host;
	}
	vc->policy.authserv_id = id;
	vc->policy.pct_mode = (enum eval_pct_mode)conf_enum(ctx->conf, "PctMode");
	vc->policy.badfrom = (enum verify_badfrom)conf_enum(ctx->conf,
	    "MultipleFromPolicy");
	if (conf_enum(ctx->conf, "PolicyDiscovery") == CONFKEYS_DISCOVERY_PSL) {
		vc->policy.method = ORGDOMAIN_PSL;
		if ((*psl = orgdomain_psl_new(conf_str(ctx->conf,
		    "PublicSuffixList"), &ost)) == NULL) {
			cli_error(cmdname, "%s: %s", conf_str(ctx->conf,
			    "PublicSuffixList"), orgdomain_strerror(ost));
			return EX_NOINPUT;
		}
		vc->policy.psl = *psl;
	}
	return EX_OK;
}

int
cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'm' },
		{ "nameserver", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct verify_facts facts;
	struct verify_config vc;
	struct verify_engine *eng = NULL;
	struct verify *v = NULL;
	struct dns_resolver *res = NULL;
	const struct verdict *vd;
	orgdomain_psl *psl = NULL;
	enum verify_status vs;
	const char *ns = NULL, *src = "-";
	char host[256];
	struct strbuf out = STRBUF_INIT;
	struct json j;
	bool json = false;
	FILE *f = stdin;
	int ch, rc = EX_USAGE;

	memset(&facts, 0, sizeof(facts));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (addr_parse(optarg, &facts.client_ip) != 0) {
				cli_error(cmd, "--client-ip %s: not an IPv4 or "
				    "IPv6 address", optarg);
				return EX_USAGE;
			}
			facts.have_ip = true;
			break;
		case 'H':
			facts.helo = optarg;
			break;
		case 'm':
			facts.mail_from = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage();
			return EX_OK;
		default:
			usage();
			return EX_USAGE;
		}
	}
	if (optind + 1 < argc) {
		usage();
		return EX_USAGE;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		src = argv[optind];
		if ((f = fopen(src, "r")) == NULL) {
			cli_error(cmd, "%s: %s", src, strerror(errno));
			return EX_NOINPUT;
		}
	}
	if ((rc = cli_verify_config(ctx, cmd, &vc, &psl, host, sizeof(host)))
	    != EX_OK)
		goto done;
	rc = EX_CONFIG;
	if ((res = cli_resolver_new(ctx, cmd, ns)) == NULL)
		goto done;
	if ((eng = verify_engine_new(res, &vc, &vs)) == NULL) {
		cli_error(cmd, "cannot start: %s", verify_strerror(vs));
		goto done;
	}
	rc = EX_OSERR;
	facts.queue_id = "dmarcctl";
	if ((v = verify_new(eng, &facts)) == NULL)
		goto done;
	rc = EX_DATAERR;
	if (msgfile_feed(v, f, src) != 0)
		goto done;
	if ((vs = verify_eom(v, &vd)) != VERIFY_OK) {
		cli_error(cmd, "%s: %s", src, verify_strerror(vs));
		rc = EX_SOFTWARE;
		goto done;
	}
	if (json) {
		json_init(&j, &out, true);
		verify_write_json(vd, &j);
		strbuf_appendc(&out, '\n');
	} else
		verify_write_text(vd, &out);
	fputs(strbuf_cstr(&out), stdout);
	rc = cli_exit_for_result(vd->result);
done:
	strbuf_release(&out);
	verify_free(v);
	verify_engine_free(eng);
	dns_resolver_free(res);
	orgdomain_psl_free(psl);
	if (f != stdin)
		fclose(f);
	return rc;
}
