/*
 * conf.h - the typed "Key value" configuration parser.
 *
 * The file format is the one OpenDKIM and OpenDMARC users know: one
 * "Key value" per line, keys case-insensitive, '#' starting a comment at
 * the start of a line or after white space.  The caller describes every
 * key in a table (type, default, range, choices, alias); the parser checks
 * each line against it.  Unknown keys, bad values and repeated keys are
 * errors that name the file, the line and the key.
 */
#ifndef DM_CONF_H
#define DM_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "strbuf.h"

#define CONF_MAX_FILE		(1024 * 1024)	/* bytes */
#define CONF_MAX_LINE		8192		/* bytes per line */
#define CONF_MAX_LIST		1024		/* items per list value */

enum conf_type {
	CONF_STRING,
	CONF_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CONF_INT,	/* decimal, within [min, max] */
	CONF_ENUM,	/* one of choices (case-insensitive) */
	CONF_LIST,	/* items separated by commas and/or white space */
	CONF_CIDRS,	/* list of IP addresses or CIDR blocks; a value
			   starting with '/' names a file of them, one per
			   line, '#' comments (OpenDMARC's IgnoreHosts) */
	CONF_PATH,	/* relative paths resolve against the file's dir */
	CONF_DURATION,	/* "5" or "5s" seconds, "250ms"; conf_int() gives
			   milliseconds within [min, max] */
	CONF_IGNORED,	/* a foreign key (OpenDMARC's) that has no effect
			   here: accepted, and help is kept as a warning */
	CONF_REFUSED	/* a foreign key we cannot honour: an error whose
			   text is help */
};

struct conf_key {
	const char *name;
	const char *alias;		/* another accepted name, or NULL */
	enum conf_type type;
	const char *def;		/* default, in file syntax; NULL: unset */
	long	 min, max;		/* CONF_INT */
	const char *const *choices;	/* CONF_ENUM, NULL-terminated */
	const char *help;		/* one line for error messages */
};

struct conf;

/* A new configuration holding the defaults of keys (NULL-terminated by
 * a key with name NULL).  The table is not copied.  NULL on no memory. */
struct conf *conf_new(const struct conf_key *keys);
void	 conf_free(struct conf *);

/*
 * Load a file (or a buffer, with name used in messages).  Returns 0, or
 * -1 with one line per problem appended to err ("FILE:LINE: key: ...").
 * All problems in the file are reported, not just the first.
 */
int	 conf_load_file(struct conf *, const char *path, struct strbuf *err);
int	 conf_load_buffer(struct conf *, const char *name, const char *buf,
	    size_t len, struct strbuf *err);
/* Set one key as if from a file line (command-line overrides). */
int	 conf_set(struct conf *, const char *key, const char *value,
	    struct strbuf *err);

/* Accessors; key must be in the table (a typo is a programming error and
 * aborts).  Strings are owned by the config. */
const char *conf_str(const struct conf *, const char *key);
long	 conf_int(const struct conf *, const char *key);
bool	 conf_bool(const struct conf *, const char *key);
/* Index of the chosen value in the key's choices. */
int	 conf_enum(const struct conf *, const char *key);
size_t	 conf_list(const struct conf *, const char *key,
	    char *const **items);
size_t	 conf_cidrs(const struct conf *, const char *key,
	    const struct cidr **cidrs);
/*
 * Warnings gathered while loading (CONF_IGNORED keys), one line each,
 * "FILE:LINE: Key: help"; "" when none.  For the daemon to log.
 */
const char *conf_warnings(const struct conf *);
/* True if the key was set by a file or conf_set(), not by default. */
bool	 conf_is_set(const struct conf *, const char *key);
/* The path of the last file loaded, or NULL. */
const char *conf_path(const struct conf *);

#endif
