/*
 * domain.c - domain name normalisation (lowercase A-labels, no trailing
 * dot) and label arithmetic.
 *
 * IDNA: U-labels are converted with libidn2 using IDNA2008 non-
 * transitional processing with NFC input (RFC 5891, as RFC 8616 asks for
 * email authentication).  Names are limited to 253 octets and labels to
 * 63 (RFC 1035 section 2.3.4).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "common/mem.h"
#include "domain.h"

static bool
domain_is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Check LDH (plus '_') syntax and label lengths of a lowercase name. */
static enum domain_status
domain_check_syntax(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len > DOMAIN_MAX_LEN)
		return DOMAIN_ERR_TOO_LONG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return DOMAIN_ERR_SYNTAX;
			label = 0;
			continue;
		}
		if (++label > DOMAIN_MAX_LABEL)
			return DOMAIN_ERR_TOO_LONG;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return DOMAIN_ERR_SYNTAX;
	}
	return label == 0 ? DOMAIN_ERR_SYNTAX : DOMAIN_OK;
}

enum domain_status
domain_normalize_dup(const char *name, size_t len, char **out)
{
	enum domain_status st;
	char *tmp = NULL, *ace = NULL, *res;
	size_t i;

	*out = NULL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return DOMAIN_ERR_EMPTY;
	/* Bound the work before handing anything to libidn2. */
	if (len > 4 * DOMAIN_MAX_LEN)
		return DOMAIN_ERR_TOO_LONG;
	if (memchr(name, '\0', len) != NULL)
		return DOMAIN_ERR_SYNTAX;

	if (domain_is_ascii(name, len)) {
		if ((res = mem_strndup(name, len)) == NULL)
			return DOMAIN_ERR_NOMEM;
	} else {
		if ((tmp = mem_strndup(name, len)) == NULL)
			return DOMAIN_ERR_NOMEM;
		if (idn2_to_ascii_8z(tmp, &ace,
		    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) {
			mem_free(tmp);
			return DOMAIN_ERR_IDN;
		}
		mem_free(tmp);
		/* libidn2 allocates with malloc: copy into our allocator. */
		res = mem_strdup(ace);
		idn2_free(ace);
		if (res == NULL)
			return DOMAIN_ERR_NOMEM;
		len = strlen(res);
	}
	for (i = 0; i < len; i++)
		if (res[i] >= 'A' && res[i] <= 'Z')
			res[i] = (char)(res[i] - 'A' + 'a');
	if ((st = domain_check_syntax(res, len)) != DOMAIN_OK) {
		mem_free(res);
		return st;
	}
	*out = res;
	return DOMAIN_OK;
}

const char *
domain_strerror(enum domain_status st)
{
	switch (st) {
	case DOMAIN_OK:
		return "ok";
	case DOMAIN_ERR_EMPTY:
		return "empty domain name";
	case DOMAIN_ERR_TOO_LONG:
		return "domain name or label too long";
	case DOMAIN_ERR_SYNTAX:
		return "invalid character or empty label in domain name";
	case DOMAIN_ERR_IDN:
		return "internationalized domain name rejected by IDNA2008";
	case DOMAIN_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown domain error";
}

size_t
domain_label_count(const char *s)
{
	size_t n;

	if (*s == '\0')
		return 0;
	for (n = 1; *s != '\0'; s++)
		if (*s == '.')
			n++;
	return n;
}

const char *
domain_strip_labels(const char *s, size_t n)
{
	while (n-- > 0) {
		if ((s = strchr(s, '.')) == NULL)
			return NULL;
		s++;
	}
	return s;
}

const char *
domain_parent(const char *s)
{
	return domain_strip_labels(s, 1);
}

bool
domain_is_within(const char *sub, const char *parent)
{
	size_t ls = strlen(sub), lp = strlen(parent);

	if (ls == lp)
		return strcmp(sub, parent) == 0;
	return ls > lp && sub[ls - lp - 1] == '.' &&
	    strcmp(sub + ls - lp, parent) == 0;
}
