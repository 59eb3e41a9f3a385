#!/bin/sh
# test_alerts_pgsql.sh - test_alerts.sh's checks with the history on
# PostgreSQL (a private cluster, tests/store/pgsql-fixture.sh): the
# detection queries, the dedup and the delivered_* updates.  TAP output.
: "${top_srcdir:=.}"
ALERTS_DB=pgsql
export ALERTS_DB
exec sh "$top_srcdir/tests/ingest/test_alerts.sh"
