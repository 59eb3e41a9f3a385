/*
 * cmd_orgdomain.c - dmarcctl orgdomain: the organizational domain of
 * each NAME, by the public suffix list (offline) or the RFC 9989 tree
 * walk (DNS).
 *
 *   dmarcctl orgdomain [--method treewalk|psl] [--psl-file FILE]
 *       [--nameserver IP[:PORT]] [--json] NAME...
 *
 * Text output is one line per NAME: its organizational domain, or "-"
 * when it has none (a public suffix) or could not be determined, with the
 * reason on stderr.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/confkeys.h"
#include "common/json.h"
#include "common/mem.h"
#include "dns/lookup_adapter.h"
#include "dns/resolver.h"
#include "policy/orgdomain.h"

static const char cmd[] = "orgdomain";

static void
usage(void)
{
	fprintf(stderr, "usage: dmarcctl orgdomain [--method treewalk|psl] "
	    "[--psl-file FILE]\n"
	    "                          [--nameserver IP[:PORT]] [--json] "
	    "NAME...\n");
}

int
cmd_orgdomain(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_DISCOVERY_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_discovery d;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	bool json = false;
	int ch, i, rc = EX_OK;

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
	if (optind >= argc) {
		usage();
		return EX_USAGE;
	}

	/* The public suffix list works offline; the tree walk needs DNS. */
	if ((rc = cli_discovery_open(&d, ctx, cmd,
	    d.oc.method == ORGDOMAIN_TREEWALK)) != EX_OK) {
		cli_discovery_close(&d);
		return rc;
	}

	json_init(&j, &out, true);
	if (json)
		json_array_begin(&j);
	for (i = optind; i < argc; i++) {
		char *org = NULL;
		enum orgdomain_status st = orgdomain_find(&d.oc, argv[i], &org,
		    NULL);

		if (json) {
			json_object_begin(&j);
			json_kv_string(&j, "name", argv[i]);
			json_kv_string(&j, "orgdomain", org);
			json_kv_string(&j, "method",
			    orgdomain_method_name(d.oc.method));
			json_kv_string(&j, "status",
			    orgdomain_status_name(st));
			json_object_end(&j);
		} else {
			printf("%s\n", org != NULL ? org : "-");
		}
		if (st != ORGDOMAIN_OK) {
			cli_error(cmd, "\"%s\": %s", argv[i],
			    orgdomain_strerror(st));
			if (st == ORGDOMAIN_ERR_TEMPFAIL)
				rc = EX_TEMPFAIL;
			else if (rc == EX_OK)
				rc = EX_DATAERR;
		}
		mem_free(org);
	}
	if (json) {
		json_array_end(&j);
		printf("%s\n", strbuf_cstr(&out));
	}
	strbuf_release(&out);
	cli_discovery_close(&d);
	return rc;
}
