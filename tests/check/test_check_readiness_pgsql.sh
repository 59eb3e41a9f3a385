#!/bin/sh
# test_check_readiness_pgsql.sh - test_check_readiness.sh's checks with
# the reports imported into, and read from, PostgreSQL (a private
# cluster, tests/store/pgsql-fixture.sh).  TAP output.
: "${top_srcdir:=.}"
CHECK_DB=pgsql
export CHECK_DB
exec sh "$top_srcdir/tests/check/test_check_readiness.sh"
