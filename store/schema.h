/*
 * schema.h - numbered schema migrations for the SQLite back-end
 * (internal to store/).
 */
#ifndef DM_STORE_SCHEMA_H
#define DM_STORE_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

#include "store/store.h"

struct store_migration {
	int		 version;	/* 1, 2, ... without gaps */
	const char	*description;
	const char	*sql;		/* one or more statements */
};

extern const struct store_migration store_sqlite_migrations[];
extern const size_t store_sqlite_nmigrations;

/*
 * Bring db to the last of the n migrations m[] (store_sqlite_migrations
 * in production; tests pass their own lists).  The version check and all
 * the migrations run in one IMMEDIATE transaction, so two processes that
 * open a new file at once migrate it once, and a failed migration leaves
 * the database as it was.  name labels err's messages.  Returns STORE_OK,
 * STORE_ERR_SCHEMA (a newer version, or a migration failed), or
 * STORE_ERR_OPEN (the database cannot be read or locked at all).
 * *version (may be NULL) gets the version found before migrating.
 */
enum store_status store_sqlite_migrate(sqlite3 *db, const char *name,
	    const struct store_migration *m, size_t n, int *version,
	    struct strbuf *err);

#endif
