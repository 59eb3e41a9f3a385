/*
 * msgfile.h - read an RFC 5322 message file for the DKIM test helpers.
 *
 * The whole file is read (test messages are small) and line ends are
 * made CRLF, as an MTA hands them to a milter.  Header fields are split
 * the way libmilter presents them: a name, and the raw bytes after the
 * colon with folding kept.  A leading mbox "From " line is skipped.
 */
#ifndef DM_TESTS_MSGFILE_H
#define DM_TESTS_MSGFILE_H

#include <stddef.h>

struct msgfile_field {
	char	*name;		/* NUL-terminated */
	char	*value;		/* after the colon, CRLF folding, no final CRLF */
	size_t	 valuelen;
};

struct msgfile {
	char	*data;		/* the CRLF text; fields point into copies */
	size_t	 len;
	struct msgfile_field *fields;
	size_t	 nfields;
	const char *body;	/* into data, after the blank line */
	size_t	 bodylen;
};

/* Read path ("-" for standard input).  0 on success, -1 with errno. */
int	 msgfile_read(const char *path, struct msgfile *);
void	 msgfile_free(struct msgfile *);

#endif
