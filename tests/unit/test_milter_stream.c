/*
 * test_milter_stream.c - replay fuzz/corpus/milter through the milter
 * fuzz target's driver (fuzz/fuzz_milter.c, linked here without
 * libFuzzer): dmarcd's callbacks fed whole milter conversations, with
 * the resolver answering from the target's fixed table.
 *
 * The seed conversations must end as dmarcd decides them (accept with an
 * Authentication-Results field, reject, tempfail on a DNS timeout, skip a
 * trusted client); every other file there is a regression input from the
 * fuzzing campaign (regress_*) and must replay without a sanitizer report.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);
extern char fuzz_milter_outcomes[64];

/* Upper case: judged (our A-R added).  See fuzz_milter.c. */
static const struct {
	const char *seed, *want;
} expect[] = {
	{ "pass_dkim", "A" },		/* aligned DKIM pass (ed25519) */
	{ "noleadspc", "A" },		/* the same without SMFIP_HDR_LEADSPC */
	{ "pass_spf", "A" },		/* aligned SPF pass */
	{ "fail_reject", "r" },		/* p=reject, nothing aligned */
	{ "quarantine", "A" },		/* QuarantineAction header */
	{ "none_ruf", "A" },		/* p=none */
	{ "forged_ar", "A" },		/* our authserv-id forged */
	{ "multi_from", "r" },		/* two From fields */
	{ "multi_addr", "r" },		/* two authors, one p=reject */
	{ "no_from", "r" },
	{ "odd_from", "r" },		/* address literal */
	{ "timeout", "t" },		/* TempfailOnDNSError */
	{ "servfail_alias", "tr" },	/* SERVFAIL; then a CNAMEd policy */
	{ "trusted_auth", "aa" },	/* trusted client: skipped */
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) !=
	    NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct dirent **ents;
	char dir[4096], path[4096 + 260];
	size_t i, len, nseen = 0, nregress = 0;
	int n, k;
	char *buf;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/milter",
	    top != NULL ? top : ".");
	if ((n = scandir(dir, &ents, NULL, by_name)) < 0) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return 1;
	}
	LLVMFuzzerInitialize(NULL, NULL);
	for (k = 0; k < n; k++) {
		const char *name = ents[k]->d_name;
		const char *want = NULL;

		if (name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((buf = slurp(path, &len)) == NULL) {
			tap_ok(0, "%s: readable", path);
			continue;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
		for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
			if (strcmp(expect[i].seed, name) == 0)
				want = expect[i].want;
		if (want != NULL) {
			tap_str(fuzz_milter_outcomes, want, "%s: outcome", name);
			nseen++;
		} else {
			tap_ok(strncmp(name, "regress_", 8) == 0, "%s: "
			    "replayed (a seed without an expected outcome "
			    "must be named regress_*)", name);
			nregress++;
		}
	}
	for (k = 0; k < n; k++)
		free(ents[k]);
	free(ents);
	tap_int(nseen, sizeof(expect) / sizeof(expect[0]),
	    "every expected seed is in %s", dir);
	tap_diag("%zu regression inputs replayed", nregress);
	return tap_done();
}
