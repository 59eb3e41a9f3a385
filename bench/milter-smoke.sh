#!/bin/sh
# milter-smoke.sh - a quick TAP check of bench/milterload, bench/noop_milter
# and dmarcd together: 50 messages per case, no figures; only that every
# reply is the expected accept or reject.  For CI:
#   top_srcdir=SRC sh SRC/bench/milter-smoke.sh    (from a build dir)
exec sh "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/bench/milter-bench.sh" --smoke
