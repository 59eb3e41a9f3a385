/*
 * secret.c - a password read from a file of mode 0600 or stricter.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

char *
secret_file_read(const char *path, struct strbuf *err)
{
	struct stat sb;
	char buf[SECRET_MAX + 2], *s = NULL;
	ssize_t r;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		strbuf_appendf(err, "password file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		strbuf_appendf(err, "password file %s: not a regular file",
		    path);
		close(fd);
		return NULL;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		strbuf_appendf(err, "password file %s: group or others may "
		    "read or write it (mode %04o): run chmod 600 %s", path,
		    (unsigned)(sb.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0) {
		strbuf_appendf(err, "password file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	len = (size_t)r;
	if (len > SECRET_MAX) {
		strbuf_appendf(err, "password file %s: longer than %d bytes",
		    path, SECRET_MAX);
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL ||
	    strlen(buf) != len) {
		strbuf_appendf(err, "password file %s: want one line with the "
		    "password", path);
		goto out;
	}
	if ((s = strdup(buf)) == NULL)
		strbuf_appendf(err, "password file %s: out of memory", path);
out:
	explicit_bzero(buf, sizeof(buf));
	return s;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
