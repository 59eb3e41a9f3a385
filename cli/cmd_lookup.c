/*
 * cmd_lookup.c - dmarcctl lookup: DMARC policy discovery for an author
 * domain against live DNS, showing every query of the walk, the record
 * used, the organizational domain and the policy that would apply.
 *
 *   dmarcctl lookup [--method treewalk|psl] [--psl-file FILE]
 *       [--nameserver IP[:PORT]] [--json] DOMAIN
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/confkeys.h"
#include "common/json.h"
#include "dns/lookup_adapter.h"
#include "dns/resolver.h"
#include "policy/discover.h"

static const char cmd[] = "lookup";

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcctl lookup [--method treewalk|psl] "
	    "[--psl-file FILE]\n"
	    "                       [--nameserver IP[:PORT]] [--json] "
	    "DOMAIN\n");
}

int
cmd_lookup(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "psl-file", required_argument, NULL, 'p' },
		{ "nameserver", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct orgdomain_config oc = { ORGDOMAIN_TREEWALK, NULL, NULL, NULL };
	struct discover_result *dr = NULL;
	struct dns_lookup_ctx lctx;
	struct dns_resolver *res = NULL;
	orgdomain_psl *psl = NULL;
	const char *pslfile = conf_str(ctx->conf, "PublicSuffixList");
	const char *ns = NULL;
	struct strbuf out = STRBUF_INIT;
	enum discover_status st;
	struct json j;
	bool json = false;
	int ch, rc = EX_OK;

	if (conf_enum(ctx->conf, "PolicyDiscovery") == CONFKEYS_DISCOVERY_PSL)
		oc.method = ORGDOMAIN_PSL;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (orgdomain_method_parse(optarg, &oc.method) != 0) {
				cli_error(cmd, "--method %s: expected treewalk "
				    "or psl", optarg);
				return EX_USAGE;
			}
			break;
		case 'p':
			pslfile = optarg;
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
	if (optind + 1 != argc) {
		usage();
		return EX_USAGE;
	}
	if (oc.method == ORGDOMAIN_PSL) {
		enum orgdomain_status err;

		if ((psl = orgdomain_psl_new(pslfile, &err)) == NULL) {
			cli_error(cmd, "%s: %s", pslfile,
			    orgdomain_strerror(err));
			return EX_NOINPUT;
		}
		oc.psl = psl;
	}
	if ((res = cli_resolver_new(ctx, cmd, ns)) == NULL) {
		orgdomain_psl_free(psl);
		return EX_CONFIG;
	}
	dns_lookup_ctx_init(&lctx, res, NULL);
	oc.lookup = dns_lookup;
	oc.lookup_ctx = &lctx;

	st = discover_policy(&oc, argv[optind], &dr);
	if (dr == NULL) {
		cli_error(cmd, "%s: %s", argv[optind], discover_strerror(st));
		rc = st == DISCOVER_ERR_NOMEM ? EX_OSERR : EX_DATAERR;
		goto done;
	}
	if (json) {
		json_init(&j, &out, true);
		discover_write_json(dr, &j);
		strbuf_appendc(&out, '\n');
	} else
		discover_write_text(dr, &out);
	fputs(strbuf_cstr(&out), stdout);
	if (st == DISCOVER_TEMPERROR)
		rc = EX_TEMPFAIL;
	else if (st != DISCOVER_FOUND)
		rc = LOOKUP_EXIT_NO_POLICY;
done:
	strbuf_release(&out);
	discover_result_free(dr);
	orgdomain_psl_free(psl);
	dns_resolver_free(res);
	return rc;
}
