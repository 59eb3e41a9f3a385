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
		CLI_DISCOVERY_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_discovery d;
	struct discover_result *dr = NULL;
	struct strbuf out = STRBUF_INIT;
	enum discover_status st;
	struct json j;
	bool json = false;
	int ch, rc = EX_OK;

	cli_discovery_init(&d, ctx);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((rc = cli_discovery_option(&d, cmd, ch, optarg)) <= 0) {
			if (rc < 0)
				return EX_USAGE;
			continue;
		}
		rc = EX_OK;
		switch (ch) {
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
	if ((rc = cli_discovery_open(&d, ctx, cmd, true)) != EX_OK)
		goto done;
	st = discover_policy(&d.oc, argv[optind], &dr);
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
	cli_discovery_close(&d);
	return rc;
}
