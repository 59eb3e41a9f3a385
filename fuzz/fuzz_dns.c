/*
 * fuzz_dns.c - arbitrary bytes as a DNS reply, through the pure parser.
 *
 * The first byte picks the query type and a limit profile; the rest is
 * the reply.  The name asked is the one in the reply's own question when
 * that parses (so CNAME following and record extraction are reached), or
 * a fixed name otherwise.  Checks the parser's promises: records only
 * with DNS_OK, every record within the limits, copies equal in size.
 *
 * Seeds (fuzz/corpus/dns): replies NSD gave in tests/dns/test_resolver.sh
 * and replies built by tests/unit/test_dns_answer.c, each written with
 * DM_DNS_SEED_DIR set; "-tight" copies select the tight limits.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/mem.h"
#include "dns/answer.h"
#include "dns/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint16_t types[] = {
	DNS_TYPE_TXT, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_MX, DNS_TYPE_PTR,
	DNS_TYPE_CNAME, DNS_TYPE_NS, DNS_TYPE_SOA,
};

/* The reply's own question name, if any; written into buf. */
static const char *
question_name(const uint8_t *data, size_t size, char *buf, size_t bufsz)
{
	ldns_pkt *pkt = NULL;
	const ldns_rr_list *q;
	char *s;
	const char *ret = "a.test";

	if (ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK)
		return ret;
	q = ldns_pkt_question(pkt);
	if (ldns_rr_list_rr_count(q) >= 1 &&
	    (s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(q, 0)))) != NULL) {
		if (strlen(s) < bufsz) {
			memcpy(buf, s, strlen(s) + 1);
			ret = buf;
		}
		free(s);
	}
	ldns_pkt_free(pkt);
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_limits lim;
	struct dns_answer a, b;
	struct dns_cache_config ccfg;
	char name[512];
	const char *qname;
	uint16_t qtype;
	size_t i, total = 0;

	if (size < 1)
		return 0;
	qtype = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	dns_limits_default(&lim);
	if (data[0] & 0x80) {
		/* Tight limits, so that every bound is reached. */
		lim.max_records = 3;
		lim.max_txt_len = 40;
		lim.max_txt_total = 100;
		lim.max_cname = 2;
	}
	data++;
	size--;
	qname = question_name(data, size, name, sizeof(name));

	dns_answer_parse(data, size, qname, qtype, &lim, &a);
	if (a.status != DNS_OK && a.nrr != 0)
		abort();
	if (a.nrr > lim.max_records || a.cname_hops > lim.max_cname)
		abort();
	for (i = 0; i < a.nrr; i++) {
		if (a.rr[i].type != qtype)
			abort();
		if (qtype == DNS_TYPE_TXT) {
			if (a.rr[i].u.txt.len > lim.max_txt_len ||
			    a.rr[i].u.txt.data[a.rr[i].u.txt.len] != '\0')
				abort();
			total += a.rr[i].u.txt.len;
		}
	}
	if (total > lim.max_txt_total)
		abort();
	if (dns_answer_copy(&b, &a) == DNS_OK &&
	    dns_answer_size(&b) != dns_answer_size(&a))
		abort();
	dns_cache_config_default(&ccfg);
	(void)dns_cache_ttl(&ccfg, &a);
	dns_answer_clear(&b);
	dns_answer_clear(&a);
	return 0;
}
