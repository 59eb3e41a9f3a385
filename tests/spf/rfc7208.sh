#!/bin/sh
# rfc7208.sh - the openspf RFC 7208 suite through auth/spf.c, answers from
# each scenario's zonedata in a lookup table (see tests/spf/rfc7208.c).
# libspf2's own failures are listed in tests/spf/known-failures.txt.
# The suite is looked for in $DMARCD_CORPUS/spf, else ../shared/corpus/spf
# beside the source tree; without it the test skips, except under CI=true.
exec "${top_builddir:-.}/tests/spf/rfc7208" \
    -k "${top_srcdir:-.}/tests/spf/known-failures.txt"
