/*
 * record.h - the DMARC policy record (RFC 9989 section 4.7, plus the
 * RFC 7489 tags pct, rf and ri that old records still carry).
 *
 * record_parse() never fails silently: every error and warning is kept
 * as a struct record_issue with its byte position in the raw text and a
 * human sentence, because the checker (grade.c) shows them to users.
 */
#ifndef DM_POLICY_RECORD_H
#define DM_POLICY_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_MAX_LEN		8192	/* bytes of record text accepted */
#define RECORD_MAX_URIS		16	/* per rua= or ruf= list */
#define RECORD_MAX_ISSUES	64	/* further issues are counted, not kept */

enum dmarc_policy {
	DMARC_POLICY_UNSPEC = 0,	/* tag absent */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT
};

enum dmarc_alignment {
	DMARC_ALIGN_RELAXED = 0,
	DMARC_ALIGN_STRICT
};

enum dmarc_psd {
	DMARC_PSD_U = 0,	/* absent or "u": let the tree walk decide */
	DMARC_PSD_Y,
	DMARC_PSD_N
};

/* fo= flags (RFC 9991 section 3 / RFC 9989 section 4.7). */
#define DMARC_FO_0	0x01
#define DMARC_FO_1	0x02
#define DMARC_FO_D	0x04
#define DMARC_FO_S	0x08

/* rf= formats (RFC 7489). */
#define DMARC_RF_AFRF	0x01
#define DMARC_RF_IODEF	0x02

/* Bits of struct dmarc_record.tags_seen. */
enum record_tag {
	RECORD_TAG_V = 0, RECORD_TAG_P, RECORD_TAG_SP, RECORD_TAG_NP,
	RECORD_TAG_PSD, RECORD_TAG_T, RECORD_TAG_ADKIM, RECORD_TAG_ASPF,
	RECORD_TAG_FO, RECORD_TAG_RUA, RECORD_TAG_RUF, RECORD_TAG_PCT,
	RECORD_TAG_RF, RECORD_TAG_RI, RECORD_TAG_COUNT
};

struct dmarc_uri {
	char	*uri;		/* as written, without the !size suffix */
	uint64_t max_size;	/* bytes from the !size suffix; 0 = none */
	size_t	 pos;		/* byte offset of the URI in the record */
	bool	 valid;		/* syntactically valid URI */
};

enum record_severity {
	RECORD_SEV_ERROR,	/* the tag or record is wrong */
	RECORD_SEV_WARNING,	/* legal but probably not what was meant */
	RECORD_SEV_INFO
};

struct record_issue {
	enum record_severity severity;
	const char *code;	/* stable identifier, e.g. "p_invalid" */
	size_t	 pos;		/* byte offset into the raw record */
	char	*message;	/* a sentence for humans (allocated) */
};

struct dmarc_record {
	char	*raw;			/* the record text as parsed */
	unsigned tags_seen;		/* 1u << enum record_tag */
	enum dmarc_policy p, sp, np;	/* as published; UNSPEC if absent */
	bool	 p_invalid, sp_invalid, np_invalid; /* present, bad value */
	/*
	 * RFC 9989 section 4.10.1: a record whose p (or sp/np) is invalid
	 * but that has a valid rua is treated as p=none; this flag says so.
	 */
	bool	 treated_as_none;
	enum dmarc_psd psd;
	bool	 testing;		/* t=y */
	enum dmarc_alignment adkim, aspf;
	unsigned fo;			/* DMARC_FO_*; default DMARC_FO_0 */
	int	 pct;			/* 0..100; 100 when absent */
	unsigned rf;			/* DMARC_RF_*; default AFRF */
	uint32_t ri;			/* seconds; 86400 when absent */
	struct dmarc_uri *rua, *ruf;
	size_t	 nrua, nruf;
	struct record_issue *issues;
	size_t	 nissues;
	size_t	 issues_dropped;	/* beyond RECORD_MAX_ISSUES */

	/* Added by record.c; the fields above keep their meaning. */
	size_t	 raw_len;		/* bytes in raw (raw may hold NULs) */
	unsigned tags_valid;		/* 1u << tag: present, value valid */
	struct record_span {
		size_t	 pos, len;	/* first value of the tag, in raw */
	} value_span[RECORD_TAG_COUNT];
};

enum record_status {
	RECORD_OK,		/* usable record (possibly with warnings) */
	RECORD_ERR_NOT_DMARC,	/* does not start with v=DMARC1: not ours */
	RECORD_ERR_INVALID,	/* DMARC, but no usable policy (see issues) */
	RECORD_ERR_TOO_LONG,	/* over RECORD_MAX_LEN */
	RECORD_ERR_NOMEM
};

/*
 * Parse txt (len bytes, not necessarily NUL-terminated).  On every status
 * except RECORD_ERR_NOMEM, *out is set to a new record the caller frees
 * with record_free(), so the issues can be shown even for a broken record.
 * Issues are sorted by position.  With RECORD_ERR_NOT_DMARC the other
 * tags are still parsed, for diagnostics only: never apply such a record.
 * Tag names and keyword values match in any case (RFC 5234 section 2.3:
 * "P=Reject" is valid); only the v value is case-sensitive (RFC 7405).
 */
enum record_status record_parse(const char *txt, size_t len,
    struct dmarc_record **out);
void	 record_free(struct dmarc_record *);
const char *record_strerror(enum record_status);

/*
 * True if txt starts with "v=DMARC1" followed by ';', space or end.
 * Precisely (RFC 9989 section 4.8): optional leading spaces, the tag name
 * v in either case, optional spaces, '=', optional spaces, DMARC1 (case
 * sensitive), then optional spaces and ';' or the end.  So "v=DMARC1
 * p=reject" (no ';') is not DMARC.  For every len <= RECORD_MAX_LEN,
 * record_is_dmarc() is true exactly when record_parse() does not return
 * RECORD_ERR_NOT_DMARC.
 */
bool	 record_is_dmarc(const char *txt, size_t len);

const char *dmarc_policy_name(enum dmarc_policy);	/* "" for UNSPEC */
const char *record_severity_name(enum record_severity);

/* The tag's name as written in records ("p", "rua"), "" if out of range. */
const char *record_tag_name(enum record_tag);

/*
 * The policies a receiver applies, from a record record_parse() returned
 * RECORD_OK for (never DMARC_POLICY_UNSPEC):
 * record_policy: p; none if p is absent (RFC 9989 section 4.7) or the
 *   record is treated_as_none (section 4.10.1).
 * record_subdomain_policy: sp if present, else record_policy().
 * record_nxdomain_policy: np if present, else record_subdomain_policy().
 */
enum dmarc_policy record_policy(const struct dmarc_record *);
enum dmarc_policy record_subdomain_policy(const struct dmarc_record *);
enum dmarc_policy record_nxdomain_policy(const struct dmarc_record *);

/* True if rua holds at least one syntactically valid URI. */
bool	 record_has_valid_rua(const struct dmarc_record *);

/*
 * The host of a reporting URI: the domain after the last '@' of a mailto:
 * address (RFC 6068), or the authority's host of a hierarchical URI
 * (RFC 3986 section 3.2.2).  Points into uri; false if there is none.
 */
bool	 record_uri_host(const char *uri, const char **host, size_t *hostlen);

/* The first issue with this code, or NULL. */
const struct record_issue *record_find_issue(const struct dmarc_record *,
    const char *code);

/*
 * Every issue code record_parse() can produce, NULL-terminated, so that
 * the checker and the documentation can map each one.
 */
extern const char *const record_issue_codes[];

#endif
