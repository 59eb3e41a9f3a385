#!/bin/sh
# tests/ingest/test_inputs.sh - the input shapes of `dmarcctl import`:
# an mbox (mboxrd quoting, one outcome per message), a Maildir (cur/ and
# new/, never tmp/), a directory tree, stdin as a Postfix pipe transport
# (with the From_ line Postfix's flags=F adds) and its exit codes, --json,
# and the progress bar on a terminal.  Built from corpus e-mails.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}
[ -d "$corpus" ] || corpus=/work/shared/corpus
ctl=$top_builddir/dmarcctl
tmp=$top_builddir/tests/tmp/ingest_inputs
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }
if [ ! -d "$corpus/aggregate" ]; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - no corpus at $corpus"; echo "1..1"; exit 1
	fi
	echo "1..0 # SKIP no corpus at $corpus"
	exit 0
fi
rm -rf "$tmp"
mkdir -p "$tmp"
agg=$corpus/aggregate/parsedmarc
fail_=$corpus/failure/parsedmarc
twilight=$agg/twilight.eml
google="$agg/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml"
mimecast=$agg/mimecast-weird-gzip.eml
netease="$fail_/[Netease DMARC Failure Report] Rent Reminder.eml"
conf=$tmp/dmarcd.conf
printf 'OwnedDomains twlnet.com, borschow.com, ab.id.au, cardinal.com\nImportReverseDNS no\n' > "$conf"
imp() { "$ctl" -c "$conf" import "$@"; }
q() { sqlite3 "$1" "$2"; }

# mboxrd: From_ lines, and ">From " quoting of body lines (a line that
# reads "From " is added to the text part of the first message)
mboxrd() {	# file: append as one mboxrd message
	echo "From MAILER-DAEMON Thu Nov 26 00:00:00 2026"
	sed -e 's/^\(>*From \)/>\1/' "$1"
	printf "\n"
	echo
}
{
	{ sed '/^Content-Type: text\/plain/,/^$/!b;/^$/a\
From here on, a body line that mbox writers quote' "$twilight"; } > "$tmp/tw.eml"
	mboxrd "$tmp/tw.eml"
	mboxrd "$google"
	mboxrd "$mimecast"
	mboxrd "$netease"
	echo "From MAILER-DAEMON Thu Nov 26 00:00:00 2026"
	printf 'Subject: not a report\n\nhello\n\n'
} > "$tmp/reports.mbox"
db=$tmp/mbox.db
imp --database "$db" "$tmp/reports.mbox" > "$tmp/mbox.txt" 2>&1
rc=$?
sed 's/^/# /' "$tmp/mbox.txt"
check "mbox: one line per message" "$(wc -l < "$tmp/mbox.txt")" 5
check "mbox: 3 aggregate reports stored" "$(grep -c '#[1-3]: stored report' "$tmp/mbox.txt")" 3
check "mbox: the failure report stored" "$(grep -c '#4: stored failure report cardinal.com' "$tmp/mbox.txt")" 1
check "mbox: the last message rejected with a reason" \
    "$(grep -c '#5: rejected: no report in the message' "$tmp/mbox.txt")" 1
check "mbox: exit 65 (one rejected)" "$rc" 65
check "mbox: rows" "$(q "$db" "SELECT COUNT(*) FROM agg_reports")/$(q "$db" "SELECT COUNT(*) FROM failure_reports")" "3/1"
imp --database "$db" "$tmp/reports.mbox" > "$tmp/mbox2.txt" 2>&1
check "mbox again: all duplicates" "$(grep -c ': duplicate' "$tmp/mbox2.txt")" 4

# Maildir: cur/ and new/ read, tmp/ (being delivered) left alone
md=$tmp/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
cp "$twilight" "$md/cur/1700000000.1.host:2,S"
cp "$netease" "$md/new/1700000001.2.host"
cp "$google" "$md/tmp/1700000002.3.host"
db=$tmp/maildir.db
imp --database "$db" "$md" > "$tmp/md.txt" 2>&1
check "Maildir: exit 0" "$?" 0
check "Maildir: cur and new, not tmp" "$(sed 's/: .*//' "$tmp/md.txt" | sed 's,.*/Maildir/,,' | tr '\n' ' ')" \
    "cur/1700000000.1.host:2,S new/1700000001.2.host "
check "Maildir: rows" "$(q "$db" "SELECT COUNT(*) FROM agg_reports")/$(q "$db" "SELECT COUNT(*) FROM failure_reports")" "1/1"

# a tree: recursive, name order, hidden files skipped
mkdir -p "$tmp/tree/a/b" "$tmp/tree/.hidden"
cp "$twilight" "$tmp/tree/a/b/x.eml"
cp "$mimecast" "$tmp/tree/a/y.eml"
cp "$google" "$tmp/tree/.hidden/z.eml"
db=$tmp/tree.db
imp --database "$db" "$tmp/tree" > "$tmp/tree.txt" 2>&1
check "tree: exit 0" "$?" 0
check "tree: recursive, in order" "$(sed 's/: .*//;s,.*/tree/,,' "$tmp/tree.txt" | tr '\n' ' ')" "a/b/x.eml a/y.eml "

# stdin, as Postfix's pipe(8) runs it: flags=F adds a From_ line
db=$tmp/stdin.db
{ echo "From dmarc@google.com  Thu Nov 26 00:00:00 2026"; cat "$google"; } |
    imp --database "$db" - > "$tmp/in.txt" 2>&1
check "stdin (From_ line): exit 0" "$?" 0
check "stdin: stored" "$(grep -c '^-#1: stored report google.com' "$tmp/in.txt")" 1
imp --database "$db" - < "$google" > "$tmp/in.txt" 2>&1
check "stdin, plain message, again: exit 0" "$?" 0
check "stdin: a duplicate" "$(grep -c '^-: duplicate report' "$tmp/in.txt")" 1
printf 'Subject: hello\n\nnot a report\n' | imp --database "$db" - > "$tmp/in.txt" 2>&1
check "stdin: a rejected message exits 0 (no bounce to the reporter)" "$?" 0
check "stdin: the reason is printed" "$(grep -c '^-: rejected: no report in the message' "$tmp/in.txt")" 1
imp --database "$tmp/no/such/dir/x.db" - < "$google" > "$tmp/in.txt" 2>&1
check "stdin: database unusable: EX_TEMPFAIL (Postfix defers)" "$?" 75
imp --database "$tmp/no/such/dir/x.db" "$google" > "$tmp/in.txt" 2>&1
check "file: database unusable: EX_CANTCREAT" "$?" 73

# --json: one object per line, each with file and outcome
imp --json --database "$tmp/json.db" "$tmp/reports.mbox" > "$tmp/json.txt" 2>&1
check "--json: one object per message" "$(grep -c '^{"file":".*","outcome":"[a-z]*"' "$tmp/json.txt")" 5
check "--json: kinds" "$(sed -n 's/.*"kind":"\([a-z]*\)".*/\1/p' "$tmp/json.txt" | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')" \
    "3 aggregate 1 failure "
check "--json: the rejection reason" "$(grep -c '"outcome":"rejected","reason":"no report in the message' "$tmp/json.txt")" 1

# the progress bar: on stderr when it is a terminal, never on stdout
if command -v script >/dev/null 2>&1; then
	mkdir -p "$tmp/many"
	for i in 1 2 3 4 5 6 7; do cp "$twilight" "$tmp/many/$i.eml"; done
	script -qec "$ctl -c $conf import --database $tmp/bar.db $tmp/many 2>$tmp/bar.err >$tmp/bar.out" /dev/null >/dev/null 2>&1
	script -qec "$ctl -c $conf import --database $tmp/bar2.db $tmp/many >$tmp/bar2.out" /dev/null > "$tmp/bar2.tty" 2>&1
	check "progress: not drawn when stderr is a file" "$(grep -c '\[=' "$tmp/bar.err")" 0
	check "progress: stdout has only outcome lines" "$(grep -vc ': \(stored\|duplicate\) report' "$tmp/bar2.out")" 0
	case $(cat "$tmp/bar2.tty") in
	*"7/7"*"1 stored, 6 duplicate, 0 rejected"*) ok "progress: drawn on a terminal";;
	*) nok "progress: $(cat "$tmp/bar2.tty")";;
	esac
	# an mbox counts its messages: one input, 8 units; 3 messages and
	# 3 files, 6 units (over PROGRESS_MIN); 3 messages alone, no bar
	for i in 1 2 3 4 5 6 7 8; do mboxrd "$twilight"; done > "$tmp/eight.mbox"
	for i in 1 2 3; do mboxrd "$twilight"; done > "$tmp/three.mbox"
	script -qec "$ctl -c $conf import --database $tmp/bar3.db $tmp/eight.mbox >$tmp/bar3.out" /dev/null > "$tmp/bar3.tty" 2>&1
	tr '\r' '\n' < "$tmp/bar3.tty" > "$tmp/bar3.lines"
	check "progress, mbox: one line per message on stdout" \
	    "$(grep -c '/eight.mbox#[1-8]: \(stored\|duplicate\) report' "$tmp/bar3.out")" 8
	check "progress, mbox: the bar advances per message (0/8 to 8/8)" \
	    "$(grep -o '\] [0-9]*/8 ' "$tmp/bar3.lines" | sort -u | tr -d '] ' | sort -n | tr '\n' ' ')" \
	    "0/8 1/8 2/8 3/8 4/8 5/8 6/8 7/8 8/8 "
	case $(cat "$tmp/bar3.tty") in
	*"8/8  1 stored, 7 duplicate, 0 rejected"*) ok "progress, mbox: ends at 8/8 with the counts";;
	*) nok "progress, mbox: $(cat "$tmp/bar3.tty")";;
	esac
	mkdir -p "$tmp/mixed"
	cp "$tmp/three.mbox" "$tmp/mixed/a.mbox"
	for i in 1 2 3; do cp "$twilight" "$tmp/mixed/$i.eml"; done
	script -qec "$ctl -c $conf import --database $tmp/bar4.db $tmp/mixed >/dev/null" /dev/null > "$tmp/bar4.tty" 2>&1
	check "progress, mbox and files: 6 units, each shown" \
	    "$(tr '\r' '\n' < "$tmp/bar4.tty" | grep -o '\] [0-9]*/6 ' | sort -u | tr -d '] ' | sort -n | tr '\n' ' ')" \
	    "0/6 1/6 2/6 3/6 4/6 5/6 6/6 "
	script -qec "$ctl -c $conf import --database $tmp/bar5.db $tmp/three.mbox >/dev/null" /dev/null > "$tmp/bar5.tty" 2>&1
	check "progress, 3 messages: no bar" "$(grep -c '\[=\|\[ ' "$tmp/bar5.tty")" 0
	script -qec "$ctl -c $conf import --json --database $tmp/bar6.db $tmp/eight.mbox >$tmp/bar6.out" /dev/null > "$tmp/bar6.tty" 2>&1
	check "progress, --json: no bar" "$(grep -c '/8 ' "$tmp/bar6.tty")" 0
	check "progress, --json: 8 objects" "$(grep -c '"file":".*eight.mbox#[1-8]"' "$tmp/bar6.out")" 8
else
	nok "script(1) (bsdutils) is missing: cannot test the progress bar"
fi
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
