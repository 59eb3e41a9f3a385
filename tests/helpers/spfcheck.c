/*
 * spfcheck.c - run SPF checks through auth/spf.c against a nameserver.
 *
 *   spfcheck --ip IP [--helo NAME] [--mail-from ADDR] [--scope mfrom|helo|both]
 *            --nameserver IP[:PORT] [--timeout MS] [--deadline MS]
 *
 * Prints one line per check, reason last (it may hold spaces):
 *   result=pass domain=example.test scope=mfrom terms=1 void=0 reason=...
 * and, for a fail, "explanation=..." on the next line.  Exit status 0
 * when the checks ran, 64 (EX_USAGE) on bad arguments, 69 when the
 * resolver cannot be built.  The shell tests in tests/spf/ use it.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "auth/spf.h"
#include "common/addr.h"

static void
usage(void)
{
	fprintf(stderr, "usage: spfcheck --ip IP [--helo NAME] "
	    "[--mail-from ADDR] [--scope mfrom|helo|both] "
	    "--nameserver IP[:PORT] [--timeout MS] [--deadline MS]\n");
	exit(EX_USAGE);
}

static void
print_outcome(const struct spf_outcome *o)
{
	printf("result=%s domain=%s scope=%s terms=%u void=%u reason=%s\n",
	    spf_result_name(o->result), o->domain != NULL ? o->domain : "-",
	    spf_scope_name(o->scope), o->dns_terms, o->void_lookups,
	    o->reason != NULL ? o->reason : "-");
	if (o->explanation != NULL)
		printf("explanation=%s%s\n", o->explanation,
		    o->explanation_default ? " (default)" : "");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'h' },
		{ "mail-from", required_argument, NULL, 'm' },
		{ "scope", required_argument, NULL, 's' },
		{ "nameserver", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "deadline", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *ip, *helo, *from, *scope, *ns;
	struct dns_resolver *res;
	struct spf_engine *e;
	struct spf_outcome out;
	struct dns_config cfg;
	struct dns_deadline dl;
	enum dns_status why;
	struct addr addr;
	unsigned timeout, deadline;
	int c;

	ip = helo = from = ns = NULL;
	scope = "mfrom";
	timeout = 1000;
	deadline = 20000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ip = optarg;
			break;
		case 'h':
			helo = optarg;
			break;
		case 'm':
			from = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			deadline = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (ip == NULL || ns == NULL || addr_parse(ip, &addr) != 0 ||
	    (strcmp(scope, "mfrom") != 0 && strcmp(scope, "helo") != 0 &&
	    strcmp(scope, "both") != 0))
		usage();

	dns_config_init(&cfg);
	cfg.timeout_ms = timeout;
	cfg.retries = 0;
	if (dns_config_set_nameservers(&cfg, ns) != DNS_OK)
		usage();
	if ((res = dns_resolver_new(&cfg, &why)) == NULL) {
		fprintf(stderr, "spfcheck: %s\n", dns_strerror(why));
		return EX_UNAVAILABLE;
	}
	if ((e = spf_engine_new(res, NULL)) == NULL) {
		fprintf(stderr, "spfcheck: out of memory\n");
		return EX_UNAVAILABLE;
	}
	spf_outcome_init(&out);
	dns_deadline_in(&dl, deadline);
	if (strcmp(scope, "helo") != 0) {
		spf_check_mailfrom(e, &addr, helo, from, &dl, &out);
		print_outcome(&out);
	}
	if (strcmp(scope, "mfrom") != 0) {
		spf_check_helo(e, &addr, helo, &dl, &out);
		print_outcome(&out);
	}
	spf_outcome_clear(&out);
	spf_engine_free(e);
	dns_resolver_free(res);
	return 0;
}
