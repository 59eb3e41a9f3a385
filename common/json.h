/*
 * json.h - a streaming JSON writer on top of strbuf.
 *
 * Callers emit objects and arrays in order; the writer inserts commas and
 * escapes strings (control characters, quotes, invalid UTF-8 replaced by
 * U+FFFD), so every --json output and API response is valid JSON whatever
 * bytes came in from outside.  Nesting is capped at JSON_MAX_DEPTH.
 */
#ifndef DM_JSON_H
#define DM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define JSON_MAX_DEPTH	32

struct json {
	struct strbuf *out;
	int	 depth;
	bool	 need_comma[JSON_MAX_DEPTH + 1];
	bool	 after_key;
	bool	 pretty;
	bool	 failed;	/* misuse (depth) or output failure */
};

/* Start writing into out (not owned).  pretty: indent with two spaces. */
void	json_init(struct json *, struct strbuf *out, bool pretty);
void	json_object_begin(struct json *);
void	json_object_end(struct json *);
void	json_array_begin(struct json *);
void	json_array_end(struct json *);
/* An object key; the next value call supplies its value. */
void	json_key(struct json *, const char *);
void	json_string(struct json *, const char *);	/* NULL -> null */
void	json_stringn(struct json *, const char *, size_t);
void	json_int(struct json *, int64_t);
void	json_uint(struct json *, uint64_t);
void	json_double(struct json *, double);
void	json_bool(struct json *, bool);
void	json_null(struct json *);
/* A value already serialized as JSON (the caller vouches for it, e.g.
 * after validating it), inserted as is. */
void	json_raw(struct json *, const char *);
/* Shorthands for key + value. */
void	json_kv_string(struct json *, const char *, const char *);
void	json_kv_int(struct json *, const char *, int64_t);
void	json_kv_bool(struct json *, const char *, bool);
/* True if the writer or its buffer failed, or the document is unfinished. */
bool	json_failed(const struct json *);

#endif
