/*
 * answer.h - DNS answers as plain data, and the pure packet parser.
 *
 * Everything a query returns lives in struct dns_answer: the status, the
 * records of the asked type at the end of any CNAME chain (already decoded:
 * addresses, host names, joined TXT strings) and the TTL that governs
 * caching.  dns_answer_parse() turns one wire-format reply into that
 * struct with no I/O, so the fuzzer and the unit tests drive it directly.
 */
#ifndef DM_DNS_ANSWER_H
#define DM_DNS_ANSWER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RR types we decode (IANA numbers, the same as LDNS_RR_TYPE_*). */
#define DNS_TYPE_A	1
#define DNS_TYPE_NS	2
#define DNS_TYPE_CNAME	5
#define DNS_TYPE_SOA	6
#define DNS_TYPE_PTR	12
#define DNS_TYPE_MX	15
#define DNS_TYPE_TXT	16
#define DNS_TYPE_AAAA	28

enum dns_status {
	DNS_OK = 0,		/* one or more records of the asked type */
	DNS_NXDOMAIN,		/* the name does not exist (RFC 8020) */
	DNS_NODATA,		/* the name exists, no record of the type */
	/* temporary: worth retrying later (DMARC/SPF temperror) */
	DNS_ERR_TIMEOUT,	/* no reply within the tries */
	DNS_ERR_DEADLINE,	/* the per-message deadline ran out */
	DNS_ERR_SERVFAIL,	/* SERVFAIL from every server asked */
	DNS_ERR_NETWORK,	/* socket error, connection refused */
	DNS_ERR_NOMEM,		/* allocation failed */
	DNS_ERR_NO_SERVERS,	/* no nameserver configured */
	/* permanent: the data itself is bad or over a bound */
	DNS_ERR_REFUSED,	/* REFUSED, NOTIMP, FORMERR or other rcode
				   (temporary: RFC 7208 section 5) */
	DNS_ERR_MALFORMED,	/* the reply does not parse or match */
	DNS_ERR_TRUNCATED,	/* TC set and TCP fallback disabled */
	DNS_ERR_BADNAME,	/* the query name is not a valid domain */
	DNS_ERR_QTYPE,		/* a query type we do not decode */
	DNS_ERR_TOO_MANY,	/* more records than the limit */
	DNS_ERR_TXT_TOO_LONG,	/* one TXT record longer than the limit */
	DNS_ERR_TOO_BIG,	/* TXT data of the answer over the limit */
	DNS_ERR_CNAME_CHAIN,	/* CNAME chain longer than the limit */
	DNS_ERR_CNAME_LOOP,	/* CNAME chain that returns to itself */
	DNS_ERR_CONFIG		/* bad resolver configuration */
};

/* Human-readable reason, never NULL. */
const char *dns_strerror(enum dns_status);
/* Short stable token ("nxdomain", "timeout", ...) for logs and tests. */
const char *dns_status_name(enum dns_status);
/* True for statuses that may go away by asking again later. */
bool	 dns_status_is_temporary(enum dns_status);

/* Limits that every answer is checked against. */
struct dns_limits {
	size_t	 max_records;	/* records of the asked type */
	size_t	 max_txt_len;	/* bytes of one joined TXT record */
	size_t	 max_txt_total;	/* bytes of all TXT data in one answer */
	unsigned max_cname;	/* CNAME hops followed per query */
};

/* Fills the defaults: 64 records, LOOKUP_MAX_TXT_LEN, 64 KiB, 8 hops. */
void	 dns_limits_default(struct dns_limits *);

/* One decoded record; which member is set depends on type. */
struct dns_rr {
	uint16_t type;
	uint32_t ttl;
	union {
		struct in_addr	 a;
		struct in6_addr	 aaaa;
		struct {
			uint16_t pref;
			char	*host;		/* no trailing dot */
		} mx;
		char	*name;			/* PTR, NS, CNAME target */
		struct {
			char	*data;		/* strings joined, NUL added */
			size_t	 len;		/* may hold embedded NULs */
			size_t	 nstrings;	/* character-strings joined */
		} txt;
	} u;
};

struct dns_answer {
	enum dns_status	 status;
	uint16_t	 qtype;
	uint32_t	 ttl;		/* min TTL over records and CNAMEs, or
					 * the negative TTL (RFC 2308) */
	bool		 has_ttl;	/* false: do not cache (no SOA) */
	unsigned	 cname_hops;	/* CNAMEs followed to get here */
	char		*cname_target;	/* set when a chain must continue
					 * with another query (internal) */
	bool		 from_cache;
	size_t		 nrr;
	struct dns_rr	*rr;
};

void	 dns_answer_init(struct dns_answer *);
/* Release everything the answer owns; leaves it initialised. */
void	 dns_answer_clear(struct dns_answer *);
/* Deep copy into dst (initialised by the call); DNS_ERR_NOMEM on failure. */
enum dns_status dns_answer_copy(struct dns_answer *dst,
	    const struct dns_answer *src);
/* Approximate heap bytes owned by the answer (for the cache's bound). */
size_t	 dns_answer_size(const struct dns_answer *);

/*
 * Parse one reply.  qname/qtype are what was asked: a reply whose question
 * differs is DNS_ERR_MALFORMED.  CNAMEs in the answer section are followed
 * from qname (loops and chains longer than lim->max_cname are errors).
 * When the chain leaves the packet (an authoritative server does not chase
 * out-of-zone targets), the status is DNS_OK with nrr == 0 and
 * cname_target set to the next name to ask.  out is initialised by the
 * call and must be released with dns_answer_clear() whatever the status.
 * Pure: no I/O, no globals; the reply may be arbitrary bytes.
 */
enum dns_status dns_answer_parse(const uint8_t *wire, size_t len,
	    const char *qname, uint16_t qtype, const struct dns_limits *lim,
	    struct dns_answer *out);

/*
 * Check and normalise a query name: lowercase, no trailing dot, at most
 * 253 bytes, labels 1..63 bytes, printable ASCII without '\\' or spaces.
 * Writes into buf (at least 256 bytes).  DNS_OK or DNS_ERR_BADNAME.
 */
enum dns_status dns_name_normalize(const char *name, char *buf, size_t bufsz);

/* Longest presentation form of a normalised name (every octet escaped). */
#define DNS_NAME_TEXT_MAX	(253 * 4 + 2)

/*
 * The ldns rdf of a name normalised by dns_name_normalize(), escaping
 * what ldns would misread (a space).  NULL on failure.  Declared here for
 * dns/ only: callers outside dns/ never see ldns types.
 */
struct ldns_struct_rdf;
struct ldns_struct_rdf *dns_name_rdf(const char *norm);

#endif
