#!/bin/sh
# corpus.sh - Mail::DKIM's t/corpus (79 messages, their FAKE_DNS.dat keys
# and EXPECTED.tsv results) through auth/dkim.c.  TAP output.
#
# Mail::DKIM answers pass, fail or invalid per message; ours is the
# summary of all signatures: pass and fail map to themselves, every other
# result (none, neutral, permerror, temperror, policy) to invalid.  Each
# disagreement must be listed, with its reason, in
# corpus-known-differences.txt ("file<TAB>expected<TAB>ours<TAB>why");
# an unlisted one fails.  The corpus is looked for in $DMARCD_CORPUS,
# else ../shared/corpus beside the source tree (or two levels up, for
# make distcheck); without it the test skips, except under CI=true.
#
# Each message is also verified with libopendkim hashing the body, as
# before auth/dkim_body.c (dkimverify -B), and in 7-byte body chunks;
# every output must be the same as the plain run's.
set -u

. "${top_srcdir:-.}/tests/dkim/lib.sh"

known=$top_srcdir/tests/dkim/corpus-known-differences.txt
tarball=
for c in ${DMARCD_CORPUS:-} "$top_srcdir/../shared/corpus" \
    "$top_srcdir/../../shared/corpus"; do
	if [ -f "$c/dkim/mail-dkim-t-corpus.tar.gz" ]; then
		tarball=$c/dkim/mail-dkim-t-corpus.tar.gz
		break
	fi
done
[ -n "$tarball" ] ||
	skip_all "DKIM corpus not found (../shared/corpus/dkim/mail-dkim-t-corpus.tar.gz)"
[ -x "$DKIMVERIFY" ] || skip_all "dkimverify not built"
[ -f "$known" ] || skip_all "$known missing"
make_tmpdir
tar -xzf "$tarball" -C "$tmp" || skip_all "cannot unpack $tarball"
base=$tmp/mail-dkim
dns=$base/t/FAKE_DNS.dat
tab=$(printf '\t')

agree=0
bdiff=0
knowndiff=0
unknown=0
total=0
while IFS=$tab read -r file expected note; do
	case $file in ''|'#'*) continue ;; esac
	total=$((total + 1))
	out=$("$DKIMVERIFY" -k "$dns" "$base/t/corpus/$file" 2>&1)
	for opt in -B '-b 7'; do
		# shellcheck disable=SC2086 # opt is one or two words
		alt=$("$DKIMVERIFY" $opt -k "$dns" "$base/t/corpus/$file" 2>&1)
		[ "$alt" = "$out" ] && continue
		bdiff=$((bdiff + 1))
		diag "$file: output with $opt differs" "$out" "$opt:" "$alt"
	done
	summary=$(printf '%s\n' "$out" | sed -n 's/^summary=\([a-z]*\) .*/\1/p')
	case $summary in
	pass|fail) ours=$summary ;;
	'') ours=error ;;
	*) ours=invalid ;;
	esac
	if [ "$ours" = "$expected" ]; then
		agree=$((agree + 1))
		ok 0 "$file: $expected"
		continue
	fi
	why=$(awk -F '\t' -v f="$file" -v e="$expected" -v o="$ours" \
	    '$1 == f && $2 == e && $3 == o { print $4; exit }' "$known")
	if [ -n "$why" ]; then
		knowndiff=$((knowndiff + 1))
		ok 0 "$file: expected $expected, ours $ours (known: $why)"
	else
		unknown=$((unknown + 1))
		ok 1 "$file: expected $expected, ours $ours ($summary) - not in corpus-known-differences.txt"
		diag "$out" "note: $note"
	fi
done < "$base/EXPECTED.tsv"

# Listed differences that no longer occur are reported, not failed:
# results of expiring signatures may change with the clock.
while IFS=$tab read -r file expected ours why; do
	case $file in ''|'#'*) continue ;; esac
	out=$("$DKIMVERIFY" -k "$dns" "$base/t/corpus/$file" 2>&1)
	summary=$(printf '%s\n' "$out" | sed -n 's/^summary=\([a-z]*\) .*/\1/p')
	case $summary in pass|fail) now=$summary ;; *) now=invalid ;; esac
	[ "$now" = "$ours" ] ||
		diag "stale entry in corpus-known-differences.txt: $file now $now"
done < "$known"

ok $([ "$total" -eq 79 ]; echo $?) "corpus has 79 messages ($total)"
ok $([ "$bdiff" -eq 0 ]; echo $?) \
    "same results with libopendkim's body hash (-B) and in 7-byte chunks"
echo "# DKIM corpus: $agree of $total agree with Mail::DKIM;" \
    "$knowndiff known differences; $unknown unknown"
done_testing
