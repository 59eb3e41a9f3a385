/*
 * codec.h - the verdicts table as data (internal to store/).
 *
 * One table of columns, in schema order, maps struct store_record to
 * database values and back, so every back-end binds and reads rows the
 * same way and no column list is written twice.  A test checks it
 * against the columns the migrations create.
 */
#ifndef DM_STORE_CODEC_H
#define DM_STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum store_coltype {
	STORE_COL_TEXT,		/* a char array of the record */
	STORE_COL_INT,		/* int */
	STORE_COL_UINT,		/* unsigned */
	STORE_COL_BOOL,		/* bool, stored 0 or 1 */
	STORE_COL_TIME,		/* time_t, UTC seconds */
	/* derived when writing; only dkim is read back (it sets ndkim) */
	STORE_COL_DAY,		/* store_day(received) */
	STORE_COL_NDKIM,	/* ndkim */
	STORE_COL_DKIM,		/* store_dkim_encode(dkim, ndkim) */
	STORE_COL_EVAL_DKIM,	/* "pass" if an aligned signature passed */
	STORE_COL_EVAL_SPF	/* "pass" if SPF passed and is aligned */
};

struct store_column {
	const char	*name;
	enum store_coltype type;
	size_t		 off;		/* in struct store_record */
	size_t		 size;		/* of the char array, for TEXT */
};

extern const struct store_column store_columns[];
extern const size_t store_ncolumns;

/* A column's value: text (not NUL-terminated) or an integer. */
struct store_value {
	bool		 is_text;
	const char	*text;
	size_t		 len;
	int64_t		 i;
};

/*
 * The value of column c for rec.  Text points into rec, into a constant,
 * or (DKIM) into scratch, which is reset first; false when scratch ran
 * out of memory.
 */
bool	 store_column_get(const struct store_column *c,
	    const struct store_record *rec, struct strbuf *scratch,
	    struct store_value *v);

/*
 * Set column c of rec from a database value (text of len bytes, or i).
 * Derived columns other than dkim are ignored.  Returns -1 when text is
 * longer than the field or the DKIM text does not decode.
 */
int	 store_column_set(const struct store_column *c,
	    struct store_record *rec, const char *text, size_t len, int64_t i);

/* NUL-terminate every string of rec at its last byte; cap ndkim. */
void	 store_record_terminate(struct store_record *rec);

#endif
