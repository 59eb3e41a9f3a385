/*
 * dkimverify.c - run one message through auth/dkim.c, for the tests.
 *
 *   dkimverify [-Bl] [-k KEYTABLE] [-n MAXSIGS] [-b CHUNK] [-m MAXFIELDS]
 *              [-L MAXFIELDLEN] [-r REPEAT] FILE|-
 *
 * KEYTABLE stands in for DNS (format in keytable.h, the same as
 * Mail::DKIM's FAKE_DNS.dat).  Header fields are fed one at a time as a
 * milter would, the body in CHUNK-byte pieces (default 4096; -b 1 feeds
 * byte by byte).  -l passes every line end as bare LF instead (header
 * folding as some MTAs hand it to milters, and the body as read from a
 * Unix file).  -r verifies the message REPEAT times in one process (the
 * parsed-key cache, auth/dkim_keycache.c) and adds a "keycache hits=H
 * misses=M" line.  -B has libopendkim hash the body, as before
 * auth/dkim_body.c (dkimv_config.lib_body_hash), for the tests that
 * compare the two.  Output, for the last run, one line per signature,
 * then a summary:
 *
 *   d=example.com s=sel a=rsa-sha256 bits=2048 b=AbCdEfGhIjKl testing=n result=pass reason=ok
 *   summary=pass queries=1 status=ok
 *
 * A tag the signature lacks prints as "-".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth/dkim.h"
#include "keytable.h"
#include "msgfile.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dkimverify [-Bl] [-k keytable] [-n maxsigs] "
	    "[-b chunk] [-m maxfields] [-L maxfieldlen] [-r repeat] file\n");
	exit(EX_USAGE);
}

/* Turn CRLF into LF in place; returns the new length. */
static size_t
crlf_to_lf(char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
			s[n++] = s[i];
	return n;
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

int
main(int argc, char **argv)
{
	struct dkimv_config conf;
	struct dkimv_lib *vl;
	struct dkimv *v;
	struct keytable *kt;
	struct msgfile m;
	const struct dkimv_sig *sigs;
	const char *table = NULL;
	enum dkimv_status st;
	size_t nsigs, i, chunk = 4096, lineno = 0;
	unsigned long hits, misses, repeat = 1, r;
	int ch, lf = 0;

	dkimv_config_init(&conf);
	while ((ch = getopt(argc, argv, "Bb:k:lL:m:n:r:")) != -1) {
		switch (ch) {
		case 'B': conf.lib_body_hash = true; break;
		case 'l': lf = 1; break;
		case 'b': chunk = strtoul(optarg, NULL, 10); break;
		case 'k': table = optarg; break;
		case 'L': conf.max_header_len = strtoul(optarg, NULL, 10); break;
		case 'm': conf.max_headers = strtoul(optarg, NULL, 10); break;
		case 'r': repeat = strtoul(optarg, NULL, 10); break;
		case 'n': conf.max_sigs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || chunk == 0 || repeat == 0)
		usage();
	if ((kt = keytable_new()) == NULL)
		return EX_OSERR;
	if (table != NULL && keytable_load(kt, table, &lineno) < 0) {
		fprintf(stderr, "dkimverify: %s:%zu: %s\n", table, lineno,
		    strerror(errno));
		return EX_DATAERR;
	}
	if (msgfile_read(argv[0], &m) < 0) {
		fprintf(stderr, "dkimverify: %s: %s\n", argv[0],
		    strerror(errno));
		return EX_NOINPUT;
	}
	if ((st = dkimv_lib_new(&conf, &vl)) != DKIMV_OK) {
		fprintf(stderr, "dkimverify: %s\n", dkimv_strerror(st));
		return EX_SOFTWARE;
	}
	for (i = 0; lf && i < m.nfields; i++)
		m.fields[i].valuelen = crlf_to_lf(m.fields[i].value,
		    m.fields[i].valuelen);
	if (lf)	/* m.body points into m.data, which is ours to change */
		m.bodylen = crlf_to_lf(m.data + (m.body - m.data), m.bodylen);
	/* -r: the same message again in one process; the last run is shown. */
	for (r = 0, v = NULL; r < repeat; r++) {
		dkimv_free(v);
		if ((st = dkimv_new(vl, argv[0], keytable_lookup, kt, &v)) !=
		    DKIMV_OK) {
			fprintf(stderr, "dkimverify: %s\n", dkimv_strerror(st));
			return EX_SOFTWARE;
		}
		for (i = 0; i < m.nfields; i++)
			(void)dkimv_header(v, m.fields[i].name,
			    m.fields[i].value, m.fields[i].valuelen);
		(void)dkimv_eoh(v);
		for (i = 0; i < m.bodylen; i += chunk)
			(void)dkimv_body(v, (const unsigned char *)m.body + i,
			    m.bodylen - i < chunk ? m.bodylen - i : chunk);
		st = dkimv_finish(v, &sigs, &nsigs);
	}
	for (i = 0; i < nsigs; i++)
		printf("d=%s s=%s a=%s bits=%u b=%s testing=%s result=%s "
		    "reason=%s\n", or_dash(sigs[i].domain),
		    or_dash(sigs[i].selector), or_dash(sigs[i].algorithm),
		    sigs[i].keybits, or_dash(sigs[i].b_prefix),
		    sigs[i].testing ? "y" : "n",
		    dkimv_result_name(sigs[i].result), sigs[i].reason);
	printf("summary=%s queries=%zu status=%s\n",
	    dkimv_result_name(dkimv_summary(sigs, nsigs)), keytable_queries(kt),
	    st == DKIMV_OK ? "ok" : dkimv_strerror(st));
	if (repeat > 1) {
		dkimv_keycache_counts(&hits, &misses);
		printf("keycache hits=%lu misses=%lu\n", hits, misses);
	}
	dkimv_free(v);
	dkimv_lib_free(vl);
	keytable_free(kt);
	msgfile_free(&m);
	return ferror(stdout) ? EX_IOERR : 0;
}
