/*
 * lookup.c - helpers for the DNS lookup callback's answer structure.
 */
#include "config.h"

#include <string.h>

#include "common/mem.h"
#include "lookup.h"

void
lookup_answer_init(struct lookup_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	ans->status = LOOKUP_TEMPFAIL;
}

void
lookup_answer_clear(struct lookup_answer *ans)
{
	size_t i;

	for (i = 0; i < ans->ntxt; i++)
		mem_free(ans->txts[i]);
	lookup_answer_init(ans);
}

int
lookup_answer_add_txt(struct lookup_answer *ans, const char *s, size_t len)
{
	if (ans->ntxt >= LOOKUP_MAX_TXT || len > LOOKUP_MAX_TXT_LEN) {
		ans->status = LOOKUP_PERMFAIL;
		return -1;
	}
	if ((ans->txts[ans->ntxt] = mem_strndup(s, len)) == NULL)
		return -1;
	ans->txtlens[ans->ntxt++] = len;
	return 0;
}

const char *
lookup_status_name(enum lookup_status st)
{
	switch (st) {
	case LOOKUP_OK:
		return "ok";
	case LOOKUP_NXDOMAIN:
		return "nxdomain";
	case LOOKUP_NODATA:
		return "nodata";
	case LOOKUP_TEMPFAIL:
		return "tempfail";
	case LOOKUP_PERMFAIL:
		return "permfail";
	}
	return "unknown";
}
