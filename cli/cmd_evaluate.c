/*
 * cmd_evaluate.c - dmarcctl evaluate: "would this message pass DMARC?",
 * offline.  The DMARC records are given on the command line and served to
 * the policy engine from an in-memory table, so the answer is exactly
 * what dmarcd would decide with those records in DNS.
 *
 *   dmarcctl evaluate --from DOMAIN|ADDRESS --record TEXT
 *       [--record-at DOMAIN:TEXT]... [--nxdomain]
 *       [--spf RESULT:DOMAIN] [--dkim RESULT:DOMAIN[:SELECTOR]]...
 *       [--method treewalk|psl] [--psl-file FILE]
 *       [--pct-mode sample|testing|ignore] [--sample N] [--json]
 *
 * Exit status: 0 pass, 1 fail, 2 none (no policy), 3 temperror,
 * 4 permerror; 64 and up (sysexits) for usage and input errors.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/confkeys.h"
#include "common/mem.h"
#include "policy/domain.h"
#include "policy/evaluate.h"
#include "policy/from.h"
#include "policy/lookup_table.h"

static const char cmd[] = "evaluate";

#define EVAL_MAX_ARGS_DKIM	32

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dmarcctl evaluate --from DOMAIN|ADDRESS --record TEXT\n"
	    "           [--record-at DOMAIN:TEXT]... [--nxdomain]\n"
	    "           [--spf RESULT:DOMAIN] "
	    "[--dkim RESULT:DOMAIN[:SELECTOR]]...\n"
	    "           [--method treewalk|psl] [--psl-file FILE]\n"
	    "           [--pct-mode sample|testing|ignore] [--sample N] "
	    "[--json]\n");
}

/* --sample N: the random draw (0..99) the pct sampling sees. */
static unsigned
fixed_draw(void *ctx)
{
	return *(const unsigned *)ctx;
}

/* Split "RESULT:DOMAIN[:SELECTOR]" in place; -1 if malformed. */
static int
split_auth(char *arg, enum eval_auth_result *res, char **domain,
    char **selector)
{
	char *c1 = strchr(arg, ':'), *c2;

	if (c1 == NULL)
		return -1;
	*c1 = '\0';
	if (eval_auth_result_parse(arg, res) != 0)
		return -1;
	*domain = c1 + 1;
	if ((c2 = strchr(*domain, ':')) != NULL) {
		*c2 = '\0';
		*selector = c2 + 1;
	}
	return **domain == '\0' ? -1 : 0;
}

/* Author domain from a domain or an address (anything with an '@'). */
static char *
author_of(const char *arg)
{
	enum from_status fs;
	enum domain_status ds;
	char *d = NULL;

	if (strchr(arg, '@') != NULL) {
		if ((fs = from_domain_of_address(arg, strlen(arg), &d)) !=
		    FROM_OK)
			cli_error(cmd, "--from %s: %s", arg, from_strerror(fs));
	} else if ((ds = domain_normalize_dup(arg, strlen(arg), &d)) !=
	    DOMAIN_OK)
		cli_error(cmd, "--from %s: %s", arg, domain_strerror(ds));
	return d;
}

static int
table_add(struct lookup_table *t, const char *domain, const char *txt)
{
	struct strbuf q = STRBUF_INIT;
	enum lookup_table_status st;

	strbuf_appendf(&q, "_dmarc.%s", domain);
	st = lookup_table_add_txt(t, strbuf_cstr(&q), txt, strlen(txt));
	if (st != LOOKUP_TABLE_OK)
		cli_error(cmd, "record at %s: %s", domain,
		    lookup_table_strerror(st));
	strbuf_release(&q);
	return st == LOOKUP_TABLE_OK ? 0 : -1;
}

int
cmd_evaluate(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "record", required_argument, NULL, 'r' },
		{ "record-at", required_argument, NULL, 'R' },
		{ "nxdomain", no_argument, NULL, 'x' },
		{ "spf", required_argument, NULL, 's' },
		{ "dkim", required_argument, NULL, 'k' },
		{ "method", required_argument, NULL, 'm' },
		{ "psl-file", required_argument, NULL, 'p' },
		{ "pct-mode", required_argument, NULL, 'P' },
		{ "sample", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct evaluate_dkim_input dkim[EVAL_MAX_ARGS_DKIM];
	struct evaluate_options eo;
	struct evaluate_input in;
	struct evaluate_result *er = NULL;
	struct discover_result *dr = NULL;
	struct lookup_table *table = NULL;
	orgdomain_psl *psl = NULL;
	const char *from = NULL, *pslfile;
	char *author = NULL;
	bool json = false, nxdomain = false;
	unsigned draw = 0;
	struct strbuf out = STRBUF_INIT;
	struct json j;
	char *end, *colon;
	int ch, rc = EX_USAGE;
	long v;

	memset(&in, 0, sizeof(in));
	memset(&eo, 0, sizeof(eo));
	eo.pct_mode = (enum eval_pct_mode)conf_enum(ctx->conf, "PctMode");
	if (conf_enum(ctx->conf, "PolicyDiscovery") == CONFKEYS_DISCOVERY_PSL)
		eo.org.method = ORGDOMAIN_PSL;
	pslfile = conf_str(ctx->conf, "PublicSuffixList");
	if ((table = lookup_table_new()) == NULL)
		return EX_OSERR;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			from = optarg;
			break;
		case 'r':
			/* Added once the author domain is known. */
			if (in.author != NULL) {
				cli_error(cmd, "--record given twice; use "
				    "--record-at DOMAIN:TEXT for more");
				goto done;
			}
			in.author = optarg;
			break;
		case 'R':
			if ((colon = strchr(optarg, ':')) == NULL) {
				cli_error(cmd, "--record-at %s: expected "
				    "DOMAIN:TEXT", optarg);
				goto done;
			}
			*colon = '\0';
			if (table_add(table, optarg, colon + 1) != 0)
				goto done;
			break;
		case 'x':
			nxdomain = true;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			colon = NULL;
			if (split_auth(optarg, &in.spf_result,
			    (char **)&in.spf_domain, &colon) != 0 ||
			    colon != NULL) {
				cli_error(cmd, "--spf: expected RESULT:DOMAIN, "
				    "e.g. pass:example.com");
				goto done;
			}
			in.spf_present = true;
			break;
		case 'k':
			if (in.ndkim >= EVAL_MAX_ARGS_DKIM) {
				cli_error(cmd, "more than %d --dkim options",
				    EVAL_MAX_ARGS_DKIM);
				goto done;
			}
			dkim[in.ndkim].selector = NULL;
			if (split_auth(optarg, &dkim[in.ndkim].result,
			    (char **)&dkim[in.ndkim].domain,
			    (char **)&dkim[in.ndkim].selector) != 0) {
				cli_error(cmd, "--dkim: expected "
				    "RESULT:DOMAIN[:SELECTOR], e.g. "
				    "pass:example.com:s1");
				goto done;
			}
			in.ndkim++;
			break;
		case 'm':
			if (orgdomain_method_parse(optarg, &eo.org.method)
			    != 0) {
				cli_error(cmd, "--method %s: expected treewalk "
				    "or psl", optarg);
				goto done;
			}
			break;
		case 'p':
			pslfile = optarg;
			break;
		case 'P':
			if (eval_pct_mode_parse(optarg, &eo.pct_mode) != 0) {
				cli_error(cmd, "--pct-mode %s: expected sample,"
				    " testing or ignore", optarg);
				goto done;
			}
			break;
		case 'S':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 0 ||
			    v > 99) {
				cli_error(cmd, "--sample %s: expected 0..99",
				    optarg);
				goto done;
			}
			draw = (unsigned)v;
			eo.random = fixed_draw;
			eo.random_ctx = &draw;
			break;
		case 'h':
			usage();
			rc = EX_OK;
			goto done;
		default:
			usage();
			goto done;
		}
	}
	if (from == NULL || optind != argc) {
		usage();
		goto done;
	}
	rc = EX_DATAERR;
	if ((author = author_of(from)) == NULL)
		goto done;
	/* in.author held the --record text until now. */
	if (in.author != NULL && table_add(table, author, in.author) != 0)
		goto done;
	in.author = author;
	in.dkim = dkim;
	/* The author domain exists unless --nxdomain says otherwise (np). */
	lookup_table_set_status(table, author, LOOKUP_EXISTS,
	    nxdomain ? LOOKUP_NXDOMAIN : LOOKUP_OK);

	if (eo.org.method == ORGDOMAIN_PSL) {
		enum orgdomain_status ost;

		if ((psl = orgdomain_psl_new(pslfile, &ost)) == NULL) {
			cli_error(cmd, "%s: %s", pslfile,
			    orgdomain_strerror(ost));
			rc = EX_NOINPUT;
			goto done;
		}
		eo.org.psl = psl;
	}
	eo.org.lookup = lookup_table_lookup;
	eo.org.lookup_ctx = table;

	if (discover_policy(&eo.org, author, &dr) == DISCOVER_ERR_NOMEM ||
	    dr == NULL) {
		cli_error(cmd, "%s: policy discovery failed", author);
		rc = EX_SOFTWARE;
		goto done;
	}
	in.discovery = dr;
	if (evaluate_message(&eo, &in, &er) != EVALUATE_OK) {
		cli_error(cmd, "%s: evaluation failed", author);
		rc = EX_SOFTWARE;
		goto done;
	}
	if (json) {
		json_init(&j, &out, true);
		evaluate_write_json(er, &j);
	} else
		evaluate_write_text(er, &out);
	if (strbuf_len(&out) > 0 && strbuf_cstr(&out)[strbuf_len(&out) - 1]
	    != '\n')
		strbuf_appendc(&out, '\n');
	fputs(strbuf_cstr(&out), stdout);
	rc = cli_exit_for_result(er->result);
done:
	strbuf_release(&out);
	evaluate_result_free(er);
	discover_result_free(dr);
	orgdomain_psl_free(psl);
	lookup_table_free(table);
	mem_free(author);
	return rc;
}
