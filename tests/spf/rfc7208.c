/*
 * rfc7208.c - the openspf RFC 7208 test suite through auth/spf.c.
 *
 * Every test of rfc7208-tests.yml runs spf_check_mailfrom() with the
 * test's host, helo and mailfrom, through our whole SPF path: the DNS
 * layer (status mapping, limits, the screen) and libspf2.  Answers come
 * from the scenario's zonedata, either from a lookup table (default) or
 * from a real NSD through dns_query() (-n; tests/spf/rfc7208-nsd.sh
 * starts one NSD per scenario with the zones that -z prints).  In NSD
 * mode, TIMEOUT entries are served by a hook in front of dns_query()
 * that fails those (name, type) pairs with a timeout, and REFUSED (a name
 * outside the zones NSD serves) is read as NXDOMAIN, as the root would
 * answer.
 *
 * A test passes when our result is one of the expected ones and, for an
 * expected explanation, ours matches: "DEFAULT" means ours is the default
 * explanation; any other text is compared ignoring case (libspf2 writes
 * hex digits of %{i} and URL escapes in lower case).  Tests listed in
 * the known-failures file (name, then the reason) are reported as TAP
 * TODO; a listed test that passes is an unexpected pass, and an unlisted
 * one that fails fails the run.  The last line gives the pass count.
 *
 * Usage: rfc7208 [-k KNOWN] [-v] [SUITE.yml]       all, lookup table
 *        rfc7208 -c SUITE.yml                      number of scenarios
 *        rfc7208 -z N SUITE.yml                    zone lines of scenario N
 *        rfc7208 -s N -n IP:PORT -o FIRST [-k KNOWN] SUITE.yml
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/spf.h"
#include "common/addr.h"
#include "common/mem.h"
#include "suite.h"

struct known {
	char	*name;
	char	*reason;
};

struct run {
	struct known	*known;
	size_t		 nknown;
	int		 n;		/* TAP number of the last test */
	int		 pass, knownfail, xpass, fail;
	bool		 verbose;
};

struct nsd_source {
	struct dns_resolver	*res;
	const struct suite_scenario *sc;
};

static void
load_known(struct run *run, const char *path)
{
	char line[1024], *p, *e;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open\n", path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		e = p + strcspn(p, " \t");
		run->known = mem_reallocarray(run->known, run->nknown + 1,
		    sizeof(*run->known));
		if (run->known == NULL)
			abort();
		run->known[run->nknown].name = mem_strndup(p, (size_t)(e - p));
		e += strspn(e, " \t");
		run->known[run->nknown].reason = mem_strdup(e);
		run->nknown++;
	}
	fclose(f);
}

static const char *
known_reason(const struct run *run, const char *name)
{
	size_t i;

	for (i = 0; i < run->nknown; i++)
		if (strcmp(run->known[i].name, name) == 0)
			return run->known[i].reason;
	return NULL;
}

/* Run one test; true when it passes.  why describes a failure. */
static bool
run_test(struct spf_engine *e, const struct suite_test *t, char *why,
    size_t whylen)
{
	struct spf_outcome out;
	struct dns_deadline dl;
	struct addr ip;
	const char *got;
	bool ok;
	size_t i;

	if (addr_parse(t->host, &ip) != 0) {
		snprintf(why, whylen, "bad host %s", t->host);
		return false;
	}
	spf_outcome_init(&out);
	dns_deadline_in(&dl, 20000);
	spf_check_mailfrom(e, &ip, t->helo, t->mailfrom, &dl, &out);
	got = spf_result_name(out.result);
	ok = false;
	for (i = 0; i < t->nresults; i++)
		if (strcmp(got, t->results[i]) == 0)
			ok = true;
	snprintf(why, whylen, "got %s (%s)", got,
	    out.reason != NULL ? out.reason : "");
	if (ok && t->explanation != NULL && out.result == SPF_FAIL) {
		if (strcmp(t->explanation, "DEFAULT") == 0)
			ok = out.explanation_default;
		else
			ok = out.explanation != NULL &&
			    strcasecmp(out.explanation, t->explanation) == 0;
		if (!ok)
			snprintf(why, whylen, "explanation \"%s\"%s, want "
			    "\"%s\"", out.explanation != NULL ?
			    out.explanation : "(none)",
			    out.explanation_default ? " (default)" : "",
			    t->explanation);
	}
	spf_outcome_clear(&out);
	return ok;
}

static void
report(struct run *run, const struct suite_scenario *sc,
    const struct suite_test *t, bool ok, const char *why)
{
	const char *known;
	char want[128];
	size_t i;

	want[0] = '\0';
	for (i = 0; i < t->nresults; i++) {
		strncat(want, i > 0 ? "|" : "", sizeof(want) - strlen(want) - 1);
		strncat(want, t->results[i], sizeof(want) - strlen(want) - 1);
	}
	known = known_reason(run, t->name);
	run->n++;
	if (ok && known == NULL) {
		run->pass++;
		printf("ok %d - %s: %s (%s)\n", run->n, sc->description,
		    t->name, want);
	} else if (ok) {
		run->xpass++;
		printf("ok %d - %s: %s # TODO listed as a known failure "
		    "but passes: remove it\n", run->n, sc->description, t->name);
	} else if (known != NULL) {
		run->knownfail++;
		printf("not ok %d - %s: %s, want %s, %s # TODO %s\n", run->n,
		    sc->description, t->name, want, why, known);
	} else {
		run->fail++;
		printf("not ok %d - %s: %s, want %s, %s\n", run->n,
		    sc->description, t->name, want, why);
	}
	fflush(stdout);
}

static void
run_scenario(struct run *run, const struct suite_scenario *sc,
    spf_query_fn fn, void *arg)
{
	struct spf_config cfg;
	struct spf_engine *e;
	char why[512];
	size_t i;
	bool ok;

	spf_config_init(&cfg);
	cfg.receiver = "receiver.example.net";
	e = spf_engine_new_query(fn, arg, &cfg);
	if (e == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (i = 0; i < sc->ntests; i++) {
		ok = run_test(e, &sc->tests[i], why, sizeof(why));
		report(run, sc, &sc->tests[i], ok, why);
	}
	spf_engine_free(e);
}

static enum dns_status
nsd_query(void *arg, const char *name, uint16_t type,
    const struct dns_deadline *deadline, struct dns_answer *out)
{
	const struct nsd_source *src = arg;
	enum dns_status st;

	if (suite_times_out(src->sc, name, type)) {
		dns_answer_init(out);
		out->status = DNS_ERR_TIMEOUT;
		return DNS_ERR_TIMEOUT;
	}
	st = dns_query(src->res, name, type, deadline, out);
	if (st == DNS_ERR_REFUSED) {
		/* Outside the zones NSD serves: the root says NXDOMAIN. */
		dns_answer_clear(out);
		out->status = DNS_NXDOMAIN;
		st = DNS_NXDOMAIN;
	}
	return st;
}

static void
emit_zone_line(const char *zone, const char *line, void *arg)
{
	(void)arg;
	printf("%s\t%s\n", zone, line);
}

static const char *
find_suite(const char *arg)
{
	static char buf[4096];
	const char *dirs[3];
	const char *top;
	size_t i;

	if (arg != NULL)
		return arg;
	top = getenv("top_srcdir");
	if (top == NULL)
		top = ".";
	dirs[0] = getenv("DMARCD_CORPUS");
	dirs[1] = "../shared/corpus";
	dirs[2] = "../../shared/corpus";
	for (i = 0; i < 3; i++) {
		if (dirs[i] == NULL)
			continue;
		if (i == 0)
			snprintf(buf, sizeof(buf), "%s/spf/rfc7208-tests.yml",
			    dirs[i]);
		else
			snprintf(buf, sizeof(buf), "%s/%s/spf/rfc7208-tests.yml",
			    top, dirs[i]);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rfc7208 [-c | -z N | -s N -n SERVER -o FIRST] "
	    "[-k KNOWN] [-v] [SUITE.yml]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct run run;
	struct suite suite;
	struct dns_config dcfg;
	struct nsd_source src;
	enum dns_status why;
	const char *path, *server, *known;
	long scn, zone;
	int c, total;
	bool count;
	size_t i;

	memset(&run, 0, sizeof(run));
	server = known = NULL;
	scn = zone = -1;
	count = false;
	while ((c = getopt(argc, argv, "ck:n:o:s:vz:")) != -1) {
		switch (c) {
		case 'c':
			count = true;
			break;
		case 'k':
			known = optarg;
			break;
		case 'n':
			server = optarg;
			break;
		case 'o':
			run.n = atoi(optarg) - 1;
			break;
		case 's':
			scn = atol(optarg);
			break;
		case 'v':
			run.verbose = true;
			break;
		case 'z':
			zone = atol(optarg);
			break;
		default:
			usage();
		}
	}
	path = find_suite(optind < argc ? argv[optind] : NULL);
	if (path == NULL) {
		if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0) {
			printf("1..1\nnot ok 1 - RFC 7208 suite not found "
			    "(../shared/corpus/spf/rfc7208-tests.yml): "
			    "required when CI=true\n");
			return 1;
		}
		printf("1..0 # SKIP RFC 7208 suite not found "
		    "(../shared/corpus/spf/rfc7208-tests.yml)\n");
		return 0;
	}
	if (suite_load(path, &suite, stderr) != 0) {
		printf("Bail out! cannot read %s\n", path);
		return 1;
	}
	if (count) {
		printf("%zu\n", suite.nsc);
		suite_free(&suite);
		return 0;
	}
	if (zone >= 0) {
		if ((size_t)zone >= suite.nsc)
			usage();
		suite_zone_lines(&suite.sc[zone], emit_zone_line, NULL);
		suite_free(&suite);
		return 0;
	}
	if (known != NULL)
		load_known(&run, known);

	if (scn >= 0) {
		/* One scenario through dns_query() and a real server. */
		if ((size_t)scn >= suite.nsc || server == NULL)
			usage();
		dns_config_init(&dcfg);
		dcfg.timeout_ms = 1000;
		dcfg.retries = 0;
		if (dns_config_add_nameserver(&dcfg, server) != DNS_OK)
			usage();
		src.sc = &suite.sc[scn];
		src.res = dns_resolver_new(&dcfg, &why);
		if (src.res == NULL) {
			printf("Bail out! resolver: %s\n", dns_strerror(why));
			return 1;
		}
		run_scenario(&run, &suite.sc[scn], nsd_query, &src);
		dns_resolver_free(src.res);
		printf("# counts %d %d %d %d\n", run.pass, run.knownfail,
		    run.xpass, run.fail);
	} else {
		for (i = 0; i < suite.nsc; i++)
			run_scenario(&run, &suite.sc[i], suite_query,
			    &suite.sc[i]);
		total = run.pass + run.knownfail + run.xpass + run.fail;
		printf("# RFC 7208 suite (lookup table): %d of %d tests pass; "
		    "%d known failures, %d unexpected passes, "
		    "%d unexpected failures\n", run.pass, total, run.knownfail,
		    run.xpass, run.fail);
		printf("1..%d\n", run.n);
	}
	for (i = 0; i < run.nknown; i++) {
		mem_free(run.known[i].name);
		mem_free(run.known[i].reason);
	}
	mem_free(run.known);
	suite_free(&suite);
	return run.fail > 0 || run.xpass > 0 ? 1 : 0;
}
