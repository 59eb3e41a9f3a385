/*
 * strbuf.h - growable string buffer (after Postfix's VSTRING).
 *
 * All text that dmarcd builds (headers, XML, JSON, log lines, messages)
 * is built here, never with sprintf into a fixed array.  The buffer is
 * always NUL-terminated.  An allocation failure is sticky: later appends
 * do nothing and strbuf_failed() reports it, so callers check once at the
 * end instead of after every append.  A buffer can carry a size cap; an
 * append past the cap also sets the failure flag.
 */
#ifndef DM_STRBUF_H
#define DM_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char	*data;		/* NUL-terminated; "" when empty */
	size_t	 len;
	size_t	 cap;		/* allocated bytes, 0 when data is static "" */
	size_t	 limit;		/* 0: unlimited, else maximum len */
	bool	 failed;	/* allocation failure or limit reached */
};

#define STRBUF_INIT { (char *)"", 0, 0, 0, false }

void	 strbuf_init(struct strbuf *);
/* Release the storage and return the buffer to the initial state
 * (empty, no limit, not failed). */
void	 strbuf_release(struct strbuf *);
/* Empty the buffer, keep its storage and clear the failure flag. */
void	 strbuf_reset(struct strbuf *);
void	 strbuf_set_limit(struct strbuf *, size_t);
void	 strbuf_truncate(struct strbuf *, size_t);

void	 strbuf_append(struct strbuf *, const char *, size_t);
void	 strbuf_appends(struct strbuf *, const char *);
void	 strbuf_appendc(struct strbuf *, int);
void	 strbuf_appendf(struct strbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 strbuf_vappendf(struct strbuf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

/*
 * Append s (length n) with control characters and non-ASCII bytes escaped
 * as \xHH, backslash and double quote escaped, and cut to at most max input
 * bytes (then "..." is appended).  For untrusted text in logs and messages.
 */
void	 strbuf_append_escaped(struct strbuf *, const char *, size_t n,
	    size_t max);

bool	 strbuf_failed(const struct strbuf *);
const char *strbuf_cstr(const struct strbuf *);
size_t	 strbuf_len(const struct strbuf *);
/*
 * Take the contents as a malloc'd string the caller must free; the buffer
 * is left empty.  Returns NULL if the buffer had failed.
 */
char	*strbuf_steal(struct strbuf *);

#endif
