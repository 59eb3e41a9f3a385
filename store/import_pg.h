/*
 * import_pg.h - the PostgreSQL side of import.h (internal to store/).
 * Each function has the contract of its store_* twin in import.h.
 */
#ifndef DM_STORE_IMPORT_PG_H
#define DM_STORE_IMPORT_PG_H

#include "store/import.h"

struct import_pg;

struct import_pg *import_pg_open(const char *uri, enum store_status *st,
	    struct strbuf *err);
void	 import_pg_close(struct import_pg *);
enum store_status import_pg_set_durability(struct import_pg *, bool relaxed,
	    struct strbuf *err);
void	 import_pg_set_batch(struct import_pg *, bool on);
bool	 import_pg_pending(const struct import_pg *);
enum store_status import_pg_flush(struct import_pg *, struct strbuf *);
enum store_status import_pg_begin(struct import_pg *,
	    const struct store_agg_report *, bool *duplicate,
	    struct strbuf *err);
enum store_status import_pg_record(struct import_pg *,
	    const struct store_agg_record *, struct strbuf *err);
enum store_status import_pg_end(struct import_pg *, bool commit,
	    uint64_t nrecords, struct strbuf *err);
enum store_status import_pg_failure(struct import_pg *,
	    const struct store_failure_report *, bool *duplicate,
	    struct strbuf *err);
enum store_status import_pg_owned_add(struct import_pg *, const char *,
	    const char *, bool *, struct strbuf *);
enum store_status import_pg_owned_remove(struct import_pg *, const char *,
	    bool *, struct strbuf *);
enum store_status import_pg_owned_list(struct import_pg *,
	    void (*)(const char *, time_t, const char *, void *), void *,
	    struct strbuf *);
enum store_status import_pg_rdns_get(struct import_pg *, const char *,
	    bool *, time_t *, struct strbuf *);
enum store_status import_pg_rdns_put(struct import_pg *, const char *,
	    const char *, const char *, const char *, time_t,
	    struct strbuf *);

#endif
