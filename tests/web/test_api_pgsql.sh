#!/bin/sh
# test_api_pgsql.sh - test_api.sh's checks with dmarcctl serve and
# dmarcctl token on PostgreSQL: the corpus imported into a private
# cluster (tests/store/pgsql-fixture.sh), the same numbers asserted,
# and a frozen database (SIGSTOP) answered with 503.  TAP output.
: "${top_srcdir:=.}"
API_DB=pgsql
export API_DB
exec sh "$top_srcdir/tests/web/test_api.sh"
