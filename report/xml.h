/*
 * xml.h - a tiny XML writer into a strbuf, for the reports dmarcd
 * generates (aggregate reports now).  Elements are written one per line,
 * indented by depth, so generated files are stable and diffable.
 */
#ifndef DM_REPORT_XML_H
#define DM_REPORT_XML_H

#include <stddef.h>

#include "common/strbuf.h"

#define XML_MAX_DEPTH	16

struct xml {
	struct strbuf *out;
	int	 depth;
	const char *stack[XML_MAX_DEPTH];	/* open element names */
};

/* Start a document: the XML declaration. */
void	 xml_init(struct xml *, struct strbuf *out);
/* <name attrs>: attrs is raw (trusted, already escaped) or NULL. */
void	 xml_open(struct xml *, const char *name, const char *attrs);
/* </name> of the innermost open element. */
void	 xml_close(struct xml *);
/* <name>text</name>, text escaped; NULL text writes nothing. */
void	 xml_elem(struct xml *, const char *name, const char *text);
void	 xml_elem_int(struct xml *, const char *name, long long v);
/* <!-- text -->: "--" in text is broken up. */
void	 xml_comment(struct xml *, const char *text);
/*
 * Append text escaped for character data or attribute values: & < > " '
 * become entities; control characters other than TAB, LF and CR (not
 * allowed in XML 1.0) and invalid or overlong UTF-8 sequences become
 * U+FFFD, so the output is always well-formed UTF-8.
 */
void	 xml_escape(struct strbuf *, const char *text);

#endif
