#!/bin/sh
# test_kill_faults.sh - the process fault of issue 9: kill -9 at random
# points during load, dmarcd restarted by the test each time, and
# Postfix's view must match the history (HistoryDurability full): every
# message Postfix accepted has its row, exactly once.  This is
# tests/e2e/test_kill9.sh (see there for what it asserts) with five kills
# at random row counts instead of two fixed ones, and 200 messages per
# smtp-source run.  KILL9_SEED=N replays the kill points of a failed run
# (its seed is printed); KILL9_KILLS and KILL9_MESSAGES change the sizes.
: "${top_srcdir:=.}"
KILL9_KILLS=${KILL9_KILLS:-5}
KILL9_MESSAGES=${KILL9_MESSAGES:-200}
KILL9_SEED=${KILL9_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
export KILL9_KILLS KILL9_MESSAGES KILL9_SEED
exec sh "$top_srcdir/tests/e2e/test_kill9.sh" "$@"
