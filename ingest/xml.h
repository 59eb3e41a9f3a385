/*
 * xml.h - a tolerant, streaming parser of DMARC aggregate reports.
 *
 * Reads RFC 7489 appendix C and RFC 9990 reports, with or without a
 * namespace (element local names are matched, prefixes ignored), and
 * the real-world breakage listed in xml.c.  Input arrives in chunks
 * (ingest_xml_feed) and each <record> is handed to a callback as soon
 * as it closes, so a report of any number of rows runs in fixed memory.
 */
#ifndef DM_INGEST_XML_H
#define DM_INGEST_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"

#define INGEST_XML_MAX_BYTES	(64u << 20)	/* one report document */
#define INGEST_XML_MAX_DEPTH	32
#define INGEST_XML_MAX_RECORDS	500000u
#define INGEST_XML_MAX_TEXT	4096		/* bytes kept per element */
#define INGEST_XML_MAX_AUTH	32		/* spf / dkim results per row */

enum ingest_status {
	INGEST_OK,
	INGEST_ERR_NOMEM,
	INGEST_ERR_EMPTY,	/* no bytes at all */
	INGEST_ERR_SYNTAX,	/* malformed XML */
	INGEST_ERR_FORBIDDEN,	/* DOCTYPE, entity declaration */
	INGEST_ERR_LIMIT,	/* a hard cap was hit */
	INGEST_ERR_CONTENT,	/* well-formed, but not a usable report */
	INGEST_ERR_FORMAT,	/* unknown or broken container */
	INGEST_ERR_IO,
	INGEST_ERR_CALLBACK	/* a callback asked to stop with an error */
};
const char *ingest_strerror(enum ingest_status);

/* The report, filled before the first record callback. */
struct ingest_report {
	char	 version[16];
	char	 org_name[256];
	char	 email[256];
	char	 extra_contact_info[256];
	char	 report_id[256];
	time_t	 begin, end;
	char	 domain[254];		/* policy_published */
	char	 adkim[8], aspf[8];
	char	 p[16], sp[16], np[16];
	int	 pct;			/* -1 absent */
	char	 fo[16];
	char	 testing[8];
	char	 discovery_method[16];
	uint64_t nrecords;		/* seen so far; final at the end */
};

/* One <record>.  The results text lists each <spf> / <dkim> element as
 * "domain=D;scope=S;result=R" / "domain=D;selector=S;result=R", joined
 * by "|"; reasons as "type" or "type:comment", joined by "|". */
struct ingest_record {
	char	 source_ip[46];
	uint64_t count;
	char	 disposition[16];
	char	 dkim[16], spf[16];	/* policy_evaluated */
	char	 reasons[512];
	char	 header_from[254];
	char	 envelope_from[254];
	char	 envelope_to[254];
	char	 spf_results[1024];
	char	 dkim_results[2048];
	unsigned nspf, ndkim;
};

/* Return 0 to go on, anything else to stop with INGEST_ERR_CALLBACK. */
typedef int (*ingest_report_cb)(const struct ingest_report *, void *ctx);
typedef int (*ingest_record_cb)(const struct ingest_report *,
	    const struct ingest_record *, void *ctx);

struct ingest_xml;

/* A new parser; report_cb runs once, when the metadata is complete (at
 * the first <record> or at </feedback>); record_cb once per record.
 * NULL when out of memory.  Free with ingest_xml_free(). */
struct ingest_xml *ingest_xml_new(ingest_report_cb report_cb,
	    ingest_record_cb record_cb, void *ctx);
void	 ingest_xml_free(struct ingest_xml *);

/* Feed the next len bytes; last=true with the final chunk (len may be
 * 0).  After an error every later call returns it again; err gets a
 * sentence with the line number once. */
enum ingest_status ingest_xml_feed(struct ingest_xml *, const void *buf,
	    size_t len, bool last, struct strbuf *err);

/* Whether invalid UTF-8 was replaced by U+FFFD. */
bool	 ingest_xml_repaired(const struct ingest_xml *);

/* The whole document in one call. */
enum ingest_status ingest_xml_parse(const void *buf, size_t len,
	    ingest_report_cb, ingest_record_cb, void *ctx, struct strbuf *err);

#endif
