#!/bin/sh
# tests/ingest/test_imap.sh - dmarcctl import --imap against a real
# Dovecot (Debian's dovecot-imapd) on 127.0.0.1 at a free high port, in a
# private configuration: its own base_dir, a passwd-file, Maildirs in
# tests/tmp, TLS with a certificate made by openssl now.  Nothing of the
# system's Dovecot configuration is read or touched.
#
# Report e-mails (corpus .eml files, and MIME wrappers built here around
# corpus XML) and a message that is no report go into INBOX; then:
# stored rows, messages moved to the done / rejected folders, a second
# run finds nothing, a duplicate is filed as done, a database that fails
# leaves the message in INBOX and unread, a wrong password and a password
# file readable by others are refused with a clear error and exit code,
# a server without MOVE gets COPY + EXPUNGE, and --watch picks up a
# message delivered while it runs and exits 0 on SIGTERM.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
corpus=${DMARCD_CORPUS:-$top_srcdir/../shared/corpus}/aggregate
[ -d "$corpus" ] || corpus=/work/shared/corpus/aggregate
. "$top_srcdir/tests/e2e/postfix-fixture.sh"	# pf_free_port only
ctl=$(cd "$top_builddir" && pwd)/dmarcctl
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }
missing() {
	if [ "${CI:-}" = "true" ]; then
		echo "1..1"
		echo "not ok 1 - $1: required when CI=true"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
[ -x "$DOVECOT" ] || missing "no Dovecot (apt-get install dovecot-imapd)"
[ -x /usr/lib/dovecot/imap ] || missing "no Dovecot IMAP (apt-get install dovecot-imapd)"
[ "$(id -u)" = 0 ] || missing "Dovecot's private instance runs as root here"
command -v openssl >/dev/null || missing "no openssl"
[ -d "$corpus" ] || missing "no corpus at $corpus"
id nobody >/dev/null 2>&1 || missing "no user nobody for the mailbox"

mkdir -p "$top_builddir/tests/tmp"
tmp=$(cd "$top_builddir/tests/tmp" && pwd)/imap
conf=$tmp/dovecot.conf
dovecot_pid=
watch_pid=
cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	if [ -n "$dovecot_pid" ]; then
		kill "$dovecot_pid" 2>/dev/null
		wait "$dovecot_pid" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
rm -rf "$tmp"
mkdir -p "$tmp/run" "$tmp/state" "$tmp/mail/reports" "$tmp/msg"
chmod 755 "$tmp"
box=$tmp/mail/reports
for d in cur new tmp; do mkdir -p "$box/$d"; done
chown -R nobody:nogroup "$tmp/mail"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null ||
    missing "openssl could not make a certificate"
printf 'reports:{PLAIN}s3cret-imap-pw::::::\n' > "$tmp/passwd"
port=$(pf_free_port)
write_conf() {
	cat > "$conf" <<EOF
base_dir = $tmp/run
state_dir = $tmp/state
log_path = $tmp/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
auth_mechanisms = plain login
auth_verbose = yes
mail_location = maildir:$tmp/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $tmp/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$tmp/mail/%u
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $port
    ssl = yes
  }
}
$1
EOF
}
write_conf ""
"$DOVECOT" -F -c "$conf" > "$tmp/dovecot.out" 2>&1 &
dovecot_pid=$!
# Ready when the port answers (a readiness wait, not an assertion).
i=0
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$dovecot_pid" 2>/dev/null; then
		echo "1..1"
		echo "not ok 1 - Dovecot did not start: $(cat "$tmp/dovecot.out" "$tmp/dovecot.log" 2>/dev/null | tail -n 5)"
		exit 1
	fi
	sleep 0.1
done

# A report e-mail around a corpus XML file: multipart/mixed, the report
# gzipped and base64 encoded, as Google and Yahoo send them.
wrap() {	# wrap XMLFILE NAME > eml
	cat <<EOF
From: noreply-dmarc@reporter.test
To: reports@example.test
Subject: Report Domain: example.test Submitter: reporter.test Report-ID: $2
Date: Mon, 02 Nov 2026 10:00:00 +0000
Message-ID: <$2@reporter.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b-$2"

--b-$2
Content-Type: text/plain; charset=us-ascii

This is an aggregate report.

--b-$2
Content-Type: application/gzip; name="$2.xml.gz"
Content-Disposition: attachment; filename="$2.xml.gz"
Content-Transfer-Encoding: base64

$(gzip -c < "$1" | base64 -w 76)
--b-$2--
EOF
}
seq=0
deliver() {	# deliver FILE: into INBOX's new/
	seq=$((seq + 1))
	cp "$1" "$box/tmp/m$seq"
	chown nobody:nogroup "$box/tmp/m$seq"
	mv "$box/tmp/m$seq" "$box/new/1700000000.M${seq}P1.test"
}
count() { find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l; }
inbox() { count "$box"; }
done_n() { count "$box/.dmarc-processed"; }
rej_n() { count "$box/.dmarc-rejected"; }

eml1="$corpus/parsedmarc/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml"
deliver "$eml1"
deliver "$corpus/parsedmarc/twilight.eml"
wrap "$corpus/cry-inc/google.xml" g1 > "$tmp/msg/google.eml"
deliver "$tmp/msg/google.eml"
cat > "$tmp/msg/hello.eml" <<EOF
From: someone@elsewhere.test
To: reports@example.test
Subject: hello
Date: Mon, 02 Nov 2026 10:00:00 +0000
Message-ID: <hello@elsewhere.test>

This is no report.
EOF
deliver "$tmp/msg/hello.eml"
check "4 messages delivered to INBOX" "$(inbox)" 4

pw=$tmp/pw
printf 's3cret-imap-pw\n' > "$pw"
chmod 600 "$pw"
url="imaps://reports@127.0.0.1:$port/INBOX"
db=$tmp/h.db
imp() {	# imp DB [options]: run the import, output in $tmp/out, status in rc
	_db=$1
	shift
	"$ctl" -c /dev/null import --any-domain --no-rdns --database "$_db" --imap "$url" \
	    --imap-cafile "$tmp/cert.pem" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
}

# 1. the first run: 3 stored, 1 rejected (exit 65, EX_DATAERR)
imp "$db" --password-file "$pw"
check "first run: exit 65 (one message rejected)" "$rc" 65
check "first run: 3 stored lines" "$(grep -c ': stored report ' "$tmp/out")" 3
check "first run: 1 rejected line" "$(grep -c ': rejected: ' "$tmp/out")" 1
grep -q "INBOX;UID=[0-9]*: stored report" "$tmp/out" &&
    ok "output names the message by URL and UID" ||
    nok "output names the message: $(head -n 1 "$tmp/out")"
check "3 reports in the database" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM agg_reports')" 3
check "the Google wrapper's report is stored" \
    "$(sqlite3 "$db" "SELECT count(*) FROM agg_reports WHERE source LIKE 'imaps://%'")" 3
check "INBOX is empty" "$(inbox)" 0
check "3 messages in dmarc-processed" "$(done_n)" 3
check "1 message in dmarc-rejected" "$(rej_n)" 1
find "$box/.dmarc-rejected/cur" "$box/.dmarc-rejected/new" -type f \
    -exec cat {} + 2>/dev/null |
    grep -q "This is no report" && ok "the rejected one is the non-report" ||
    nok "the rejected folder holds the wrong message"

# 2. a second run finds nothing new
imp "$db" --password-file "$pw"
check "second run: exit 0" "$rc" 0
check "second run: no output" "$(wc -l < "$tmp/out")" 0
check "second run: still 3 reports" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM agg_reports')" 3

# 3. the same report again: a duplicate, filed as done
deliver "$tmp/msg/google.eml"
imp "$db" --password-file "$pw"
check "duplicate: exit 0" "$rc" 0
check "duplicate: one duplicate line" "$(grep -c ': duplicate report ' "$tmp/out")" 1
check "duplicate: moved to dmarc-processed" "$(done_n)" 4
check "duplicate: INBOX empty" "$(inbox)" 0

# 4. the database fails: the message stays in INBOX, unread
fdb=$tmp/fail.db
"$ctl" -c /dev/null import --any-domain --no-rdns --database "$fdb" "$tmp/msg/hello.eml" >/dev/null 2>&1
sqlite3 "$fdb" "CREATE TRIGGER no_reports BEFORE INSERT ON agg_reports BEGIN SELECT RAISE(ABORT, 'test: the disk says no'); END;"
wrap "$corpus/cry-inc/yahoo.xml" y1 > "$tmp/msg/yahoo.eml"
deliver "$tmp/msg/yahoo.eml"
imp "$fdb" --password-file "$pw"
check "database error: exit 74 (EX_IOERR)" "$rc" 74
grep -q "the disk says no" "$tmp/out" && ok "database error: the reason is printed" ||
    nok "database error: $(cat "$tmp/out" "$tmp/err")"
check "database error: the message stays in INBOX" "$(inbox)" 1
check "database error: dmarc-processed unchanged" "$(done_n)" 4
f=$(find "$box/cur" "$box/new" -type f | head -n 1)
case $f in
*:2,*S*) nok "database error: the message was left \\Seen ($f)";;
*) ok "database error: the message is still unread";;
esac
sqlite3 "$fdb" "DROP TRIGGER no_reports"
imp "$fdb" --password-file "$pw"
check "database back: exit 0" "$rc" 0
check "database back: stored" "$(grep -c ': stored report ' "$tmp/out")" 1
check "database back: INBOX empty" "$(inbox)" 0

# 5. a wrong password: a clear error, EX_NOPERM, nothing moved
deliver "$tmp/msg/google.eml"
printf 'not-the-password\n' > "$tmp/badpw"
chmod 600 "$tmp/badpw"
imp "$db" --password-file "$tmp/badpw"
check "wrong password: exit 77 (EX_NOPERM)" "$rc" 77
grep -q "imaps://reports@127.0.0.1:$port/INBOX: login refused" "$tmp/err" &&
    ok "wrong password: the error names the URL" ||
    nok "wrong password: $(cat "$tmp/err")"
check "wrong password: the message stays" "$(inbox)" 1

# 6. a password file others may read is refused before connecting
chmod 644 "$pw"
imp "$db" --password-file "$pw"
check "password file mode 0644: exit 78 (EX_CONFIG)" "$rc" 78
grep -q "password file $pw: group or others may read" "$tmp/err" &&
    ok "password file mode: the error names the file" ||
    nok "password file mode: $(cat "$tmp/err")"
chmod 600 "$pw"
# ... and a password in the URL
"$ctl" -c /dev/null import --any-domain --no-rdns --database "$db" \
    --imap "imaps://reports:pw@127.0.0.1:$port/INBOX" > "$tmp/out" 2> "$tmp/err"
check "password in the URL: exit 64" "$?" 64
grep -q "a password in the URL is refused" "$tmp/err" &&
    ok "password in the URL: refused with a reason" ||
    nok "password in the URL: $(cat "$tmp/err")"

# 7. the configuration instead of options; no CA: verification fails
cat > "$tmp/dmarcd.conf" <<EOF
HistoryDatabase $db
ImportImapURL $url
ImportImapPasswordFile $pw
EOF
"$ctl" -c "$tmp/dmarcd.conf" import --any-domain --no-rdns > "$tmp/out" 2> "$tmp/err"
check "unknown CA: exit 76 (EX_PROTOCOL)" "$?" 76
check "unknown CA: the message stays" "$(inbox)" 1
echo "ImportImapCAFile $tmp/cert.pem" >> "$tmp/dmarcd.conf"
"$ctl" -c "$tmp/dmarcd.conf" import --any-domain --no-rdns > "$tmp/out" 2> "$tmp/err"
check "from dmarcd.conf: exit 0" "$?" 0
check "from dmarcd.conf: a duplicate filed" "$(grep -c ': duplicate report ' "$tmp/out")" 1
check "from dmarcd.conf: INBOX empty" "$(inbox)" 0

# 8. a server without MOVE: UID COPY, \Deleted, UID EXPUNGE
write_conf "protocol imap {
  imap_capability = IMAP4rev1 SASL-IR LITERAL+ ENABLE IDLE UIDPLUS NAMESPACE
}"
"$DOVECOT" -c "$conf" reload
wrap "$corpus/cry-inc/webde.xml" w1 > "$tmp/msg/webde.eml"
deliver "$tmp/msg/webde.eml"
before=$(done_n)
imp "$db" --password-file "$pw"
check "no MOVE: exit 0" "$rc" 0
check "no MOVE: stored" "$(grep -c ': stored report ' "$tmp/out")" 1
check "no MOVE: copied to dmarc-processed" "$(done_n)" $((before + 1))
check "no MOVE: expunged from INBOX" "$(inbox)" 0
write_conf ""
"$DOVECOT" -c "$conf" reload

# 9. --watch: a message delivered while it runs; SIGTERM ends it, exit 0
wrap "$corpus/cry-inc/aol.xml" a1 > "$tmp/msg/aol.eml"
wrap "$corpus/cry-inc/gmxnet.xml" x1 > "$tmp/msg/gmx.eml"
deliver "$tmp/msg/aol.eml"
: > "$tmp/watch.out"
"$ctl" -c /dev/null import --any-domain --no-rdns --database "$db" --imap "$url" \
    --imap-cafile "$tmp/cert.pem" --password-file "$pw" --watch \
    --interval 1 >> "$tmp/watch.out" 2> "$tmp/watch.err" &
watch_pid=$!
waitfor() {	# waitfor N: until the watcher printed N lines (readiness)
	i=0
	while [ "$(wc -l < "$tmp/watch.out")" -lt "$1" ] && [ $i -lt 600 ] &&
	    kill -0 "$watch_pid" 2>/dev/null; do
		i=$((i + 1))
		sleep 0.1
	done
}
waitfor 1
check "--watch: the first message imported" "$(grep -c ': stored report ' "$tmp/watch.out")" 1
deliver "$tmp/msg/gmx.eml"
waitfor 2
check "--watch: the message delivered later imported" "$(grep -c ': stored report ' "$tmp/watch.out")" 2
kill -TERM "$watch_pid"
wait "$watch_pid"
check "--watch: exit 0 on SIGTERM" "$?" 0
watch_pid=
# after the exit: a pass always finishes its message, move included
check "--watch: INBOX empty" "$(inbox)" 0
check "--watch: reports stored" \
    "$(sqlite3 "$db" "SELECT count(*) FROM agg_reports")" 6

echo "1..$n"
exit $fail
