/*
 * secret.h - reading a password from a file that only its owner may
 * read (dmarcctl import --imap, the report SMTP relay).
 */
#ifndef DM_COMMON_SECRET_H
#define DM_COMMON_SECRET_H

#include <stddef.h>

#include "common/strbuf.h"

#define SECRET_MAX	1024	/* bytes of a password file */

/*
 * The password in path: the whole file minus a final line end, one line,
 * no NUL, 1..SECRET_MAX bytes.  The file must be a regular file that
 * group and others may not read or write (0600 or 0400).  Returns a
 * malloc'd string (free it with secret_free()), or NULL with a sentence
 * in err naming the file ("password file F: ...").
 */
char	*secret_file_read(const char *path, struct strbuf *err);

/* Wipe and free a string from secret_file_read(); NULL is fine. */
void	 secret_free(char *);

#endif
