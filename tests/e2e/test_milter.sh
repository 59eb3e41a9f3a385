#!/bin/sh
# test_milter.sh - dmarcd behind a real Postfix: the acceptance scenarios
# of issue 4.
#
# A private NSD serves the test zones (tests/dns/nsd-fixture.sh), a
# private Postfix relays to smtp-sink (tests/e2e/postfix-fixture.sh) with
# smtpd_milters pointing at a dmarcd this script starts, stops, reloads
# (SIGUSR1) and restarts.  Messages go in over SMTP with XCLIENT, so each
# presents a documentation address (192.0.2.x, 198.51.100.x,
# 2001:db8::x); DKIM signatures are made here with tests/helpers/dkimsign
# and keys openssl makes here.  Each scenario asserts what can be seen
# from outside: the SMTP reply, what the sink received (header fields in
# order), Postfix's hold queue, dmarcd's log line, and its history rows.
#
# Scenario 10 (dead nameserver) runs after 14: it restarts dmarcd.
# Without dmarcd built: "SKIP dmarcd not built" (a failure when CI=true).
# PF_KEEP=1 keeps the Postfix directory (and dmarcd's files in it).
# TAP output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/dns/tap.sh"
. "$top_srcdir/tests/dns/nsd-fixture.sh"
. "$top_srcdir/tests/e2e/postfix-fixture.sh"
. "$top_srcdir/tests/e2e/dmarcd-fixture.sh"

DKIMSIGN=$top_builddir/tests/helpers/dkimsign
dm_fixture_require
[ -x "$DKIMSIGN" ] || dm_need "tests/helpers/dkimsign not built (make check builds it)"
command -v openssl >/dev/null 2>&1 || dm_need "openssl not installed" openssl
nsd_fixture_require
postfix_fixture_require

# --- keys and zones -------------------------------------------------------
_nsd_mkdir
K=$NSD_DIR/keys
mkdir -p "$K"
genrsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
pub_rsa() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 | tr -d '\n'; }
txt() { printf '%s' "$1" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' '; }
genrsa "$K/example.pem"; genrsa "$K/list.pem"; genrsa "$K/unlisted.pem"

zone_add test </dev/null
zone_add example.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"
@                 300 IN A 192.0.2.10
_dmarc            300 IN TXT "v=DMARC1; p=reject; rua=mailto:agg@example.test"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$K/example.pem")")
ZONE
zone_add quarantine.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=quarantine"
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
zone_add none.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=none"
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
zone_add pct.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject; pct=0"
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
zone_add testing.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject; t=y"
@                 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
ZONE
zone_add strict.test <<'ZONE'
_dmarc            300 IN TXT "v=DMARC1; p=reject"
sub               300 IN A 192.0.2.12
ZONE
zone_add forwarder.test <<'ZONE'
@                 300 IN TXT "v=spf1 ip4:198.51.100.30 -all"
ZONE
zone_add list.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:198.51.100.20 -all"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$K/list.pem")")
ZONE
zone_add unlisted.test <<ZONE
@                 300 IN TXT "v=spf1 ip4:198.51.100.21 -all"
sel._domainkey    300 IN TXT $(txt "v=DKIM1; k=rsa; p=$(pub_rsa "$K/unlisted.pem")")
ZONE
# The load test comes from 127.0.0.1 (smtp-source cannot XCLIENT).
zone_add bulk.test <<'ZONE'
@                 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc            300 IN TXT "v=DMARC1; p=reject"
ZONE
zone_add spoof.test <<'ZONE'
@                 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
ZONE
nsd_fixture_start

# --- Postfix and dmarcd ---------------------------------------------------
DM_PORT=$(pf_free_port)
PF_CLEANUP_HOOK='dm_cleanup $_pf_rc'
postfix_fixture_start "inet:127.0.0.1:$DM_PORT"
dm_fixture_init "$PF_DIR/dmarcd" "$DM_PORT"
DM_NAMESERVERS=$NSD_SERVER
T=$DM_DIR

# --- messages -------------------------------------------------------------
M=$T/msg
mkdir "$M"
chmod 755 "$M"
# msg NAME FROM-LINE [extra header lines...]: $M/NAME, Message-ID
# <NAME.PID@e2e.test> (unique, so history and sink can find it).
msg() {
	_f=$M/$1 _from=$2 _id=$1.$$@e2e.test
	shift 2
	{
		[ -n "$_from" ] && printf '%s\n' "$_from"
		for _h in "$@"; do printf '%s\n' "$_h"; done
		printf 'To: rcpt@receiver.test\nSubject: figures\n'
		printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\n'
		printf 'Message-ID: <%s>\n\n' "$_id"
		printf 'Hello,\n\nthe figures are attached.\n'
	} >"$_f"
}
mid() { echo "$1.$$@e2e.test"; }
# row NAME COLUMNS: the history rows of message NAME.
row() { hist "$(mid "$1")" "$2"; }
sign() {	# sign IN OUT KEY DOMAIN
	"$DKIMSIGN" -k "$3" -d "$4" -s sel "$M/$1" >"$M/$2"
}
# send NAME IP MAILFROM [HELO] [swaks options]: one message over SMTP
# from XCLIENT address IP (IPV6:... for IPv6).
send() {
	_n=$1 _ip=$2 _mf=$3 _helo=${4:-mail.example.test}
	shift 3
	[ $# -gt 0 ] && shift
	pf_send "$_n" --xclient-addr "$_ip" --helo "$_helo" --from "$_mf" \
	    --to rcpt@receiver.test --data "@$M/$_n" "$@"
}
# The queue id Postfix gave a message (also a rejected one), by its name.
qid_of() {
	grep "message-id=<$(mid "$1")>" "$PF_MAILLOG" | tail -n 1 |
	    sed -n 's/.*: \([0-9A-Za-z]*\): message-id=.*/\1/p'
}
# dmarcd's log line for a message, by its name.
logline_of() {
	_q=$(qid_of "$1")
	[ -n "$_q" ] && grep "$_q: dmarc " "$DM_LOG" | tail -n 1
}
in_sink() { grep -l -F "$(mid "$1")" "$PF_SINK_DIR"/msg.* >/dev/null 2>&1; }
# Our Authentication-Results fields in a delivered message.
ours() { pf_headers "$1" | grep -i '^Authentication-Results: *mx\.receiver\.test *;'; }
has() {	# has NAME TEXT SUBSTRING...: each substring in TEXT
	_n=$1 _t=$2
	shift 2
	for _s in "$@"; do
		case $_t in
		*"$_s"*) tap_ok true "$_n: has $_s" ;;
		*) tap_ok false "$_n: has $_s"
		   printf '%s\n' "$_t" | sed 's/^/#   /' ;;
		esac
	done
}
# delivered NAME: 250, then in the sink; PF_MSG is its file.
delivered() {
	tap_is "$PF_STATUS/$(echo "$PF_REPLY" | sed 's/as [0-9A-Za-z]*$/as ID/')" \
	    "0/250 2.0.0 Ok: queued as ID" "$1: accepted (250)"
	if pf_wait_delivered "$PF_QUEUEID"; then
		tap_ok true "$1: delivered to the sink"
	else
		tap_ok false "$1: delivered to the sink"
		sed 's/^/#   /' "$PF_LOG" | tail -n 8
	fi
}
# first_is_ours NAME: our A-R is the first field of the delivered header.
first_is_ours() {
	tap_ok '[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | head -n 1 | grep -qi "^Authentication-Results: *mx\.receiver\.test *;"' \
	    "$1: our Authentication-Results is the first field"
}
rejected() {	# rejected NAME DOMAIN POLICY
	tap_is "$PF_STATUS/$PF_REPLY" \
	    "26/550 5.7.1 DMARC policy of $2 (p=$3) rejects this message" \
	    "$1: 550 5.7.1 naming the author domain and its policy"
	tap_ok '! in_sink "$1"' "$1: nothing delivered"
}
held() {	# held NAME
	tap_ok '[ -n "$PF_QUEUEID" ] && pf_hold_ids | grep -qx "$PF_QUEUEID"' \
	    "$1: in Postfix's hold queue"
	tap_ok '! in_sink "$1"' "$1: not delivered"
}

good_ip=192.0.2.10
bad_ip=198.51.100.66
dm_start
echo "# dmarcd $DM_PID on 127.0.0.1:$DM_PORT, nsd on $NSD_SERVER"

# --- 1. aligned SPF and DKIM pass -----------------------------------------
msg s01 "From: Alice <alice@example.test>"
sign s01 s01s "$K/example.pem" example.test
mv "$M/s01s" "$M/s01"
send s01 $good_ip bounce@example.test
delivered "1 aligned pass"
first_is_ours "1 aligned pass"
tap_ok '[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | head -n 1 | grep -q "^Authentication-Results: mx\.receiver\.test; "' \
    "1 aligned pass: written 'Authentication-Results: mx.receiver.test; ...' (a space after the colon)"
ar=$( [ -n "$PF_MSG" ] && ours "$PF_MSG")
tap_is "$(printf '%s\n' "$ar" | grep -c .)" 1 "1 aligned pass: exactly one A-R of ours"
has "1 aligned pass" "$ar" "spf=pass smtp.mailfrom=bounce@example.test" \
    "dkim=pass header.d=example.test header.s=sel" \
    "dmarc=pass (p=reject dis=none) header.from=example.test"
tap_is "$(row s01 'dmarc_result, disposition, action, policy_domain, client_ip, queue_id')" \
    "pass|pass|accept|example.test|192.0.2.10|$PF_QUEUEID" "1 aligned pass: history row"
has "1 aligned pass: log" "$(logline_of s01)" "$PF_QUEUEID: dmarc result=pass" \
    "from=example.test" "policy=reject" "disposition=pass" "action=accept" \
    "spf=pass" "dkim=pass:example.test" "ip=192.0.2.10"
dm_running "1"

# --- 2. p=reject, DMARC fails: 550 ----------------------------------------
msg s02 "From: Alice <alice@example.test>"
send s02 $bad_ip alice@example.test evil.test
rejected "2 p=reject" example.test reject
tap_is "$(row s02 'dmarc_result, disposition, action, client_ip')" \
    "fail|reject|reject|$bad_ip" "2 p=reject: history row"
has "2 p=reject: log" "$(logline_of s02)" "result=fail" "policy=reject" \
    "disposition=reject" "action=reject" "spf=fail" "ip=$bad_ip"
dm_running "2"

# --- 3. p=quarantine: held; QuarantineAction header: delivered, marked ----
msg s03 "From: q@quarantine.test"
send s03 $bad_ip q@quarantine.test evil.test
held "3 p=quarantine"
tap_ok 'grep -q "$PF_QUEUEID: milter-hold: END-OF-MESSAGE" "$PF_MAILLOG"' \
    "3 p=quarantine: Postfix logged the milter hold"
tap_is "$(row s03 'dmarc_result, disposition, action')" "fail|quarantine|quarantine" \
    "3 p=quarantine: history row"
DM_QACTION=header
dm_reload
tap_is "$DM_RELOAD" ok "3b QuarantineAction header: reloaded"
msg s03b "From: q@quarantine.test"
send s03b $bad_ip q@quarantine.test evil.test
delivered "3b QuarantineAction header"
tap_ok '[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | grep -q "^X-DMARC-Quarantine: *[^ ]"' \
    "3b QuarantineAction header: X-DMARC-Quarantine added"
has "3b QuarantineAction header" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "dmarc=fail (p=quarantine dis=quarantine) header.from=quarantine.test"
DM_QACTION=hold
dm_reload
tap_is "$DM_RELOAD" ok "3c back to QuarantineAction hold: a second reload"
dm_running "3"

# --- 4. p=none: delivered with dmarc=fail ---------------------------------
msg s04 "From: n@none.test"
send s04 $bad_ip n@none.test evil.test
delivered "4 p=none"
first_is_ours "4 p=none"
has "4 p=none" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "dmarc=fail (p=none dis=none) header.from=none.test"
tap_is "$(row s04 'dmarc_result, disposition, action')" "fail|none|accept" \
    "4 p=none: history row"
dm_running "4"

# --- 5. pct=0 and t=y: one level weaker, the reason recorded --------------
msg s05 "From: p@pct.test"
send s05 $bad_ip p@pct.test evil.test
held "5 pct=0 (reject sampled out to quarantine)"
tap_is "$(row s05 'dmarc_result, disposition, action, pct')" "fail|quarantine|quarantine|0" \
    "5 pct=0: history row"
tap_ok 'row s05 reasons | grep -q sampled_out' "5 pct=0: reason sampled_out recorded"
msg s05t "From: t@testing.test"
send s05t $bad_ip t@testing.test evil.test
held "5 t=y (reject tested as quarantine)"
tap_is "$(row s05t 'dmarc_result, disposition, testing')" "fail|quarantine|1" \
    "5 t=y: history row"
tap_ok 'row s05t reasons | grep -q policy_test_mode' "5 t=y: reason policy_test_mode recorded"
dm_running "5"

# --- 6. forwarded: SPF fails, DKIM survives: pass -------------------------
msg s06 "From: Alice <alice@example.test>"
sign s06 s06s "$K/example.pem" example.test
mv "$M/s06s" "$M/s06"
send s06 198.51.100.30 fwd-alice@forwarder.test mx.forwarder.test
delivered "6 forwarded"
has "6 forwarded" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "spf=pass smtp.mailfrom=fwd-alice@forwarder.test" "dkim=pass header.d=example.test" \
    "dmarc=pass"
msg s06r "From: Alice <alice@example.test>"
sign s06r s06rs "$K/example.pem" example.test
mv "$M/s06rs" "$M/s06r"
send s06r $bad_ip alice@example.test mx.forwarder.test
delivered "6 forwarded, SPF fail for the author domain"
has "6 forwarded, SPF fail" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "spf=fail" "dkim=pass header.d=example.test" "dmarc=pass"
# simple/simple: the header's whitespace must reach the verifier byte for
# byte (spaces after the colon, a tab, a folded field, trailing spaces).
{
	printf 'From: Alice <alice@example.test>\nTo: rcpt@receiver.test\n'
	printf 'Subject:    four spaces before, two after  \n'
	printf 'X-Tab:\ttab first\nX-Folded: first\n\t  second line\n'
	printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\n'
	printf 'Message-ID: <%s>\n\nbody  with  spaces \n' "$(mid s06c)"
} >"$M/s06c.in"
"$DKIMSIGN" -k "$K/example.pem" -d example.test -s sel -c simple/simple \
    -H from:to:subject:x-tab:x-folded:date:message-id "$M/s06c.in" >"$M/s06c"
send s06c $bad_ip fwd-alice@forwarder.test mx.forwarder.test
delivered "6c forwarded, c=simple/simple, whitespace in header values"
has "6c simple/simple" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "dkim=pass header.d=example.test" "dmarc=pass"
# An allow-listed forwarder that broke the signature: accepted, and why.
msg s06f "From: Alice <alice@example.test>"
sign s06f s06fs "$K/example.pem" example.test
sed 's/the figures are attached/the figures are [forwarded]/' "$M/s06fs" >"$M/s06f"
send s06f 192.0.2.50 alice@example.test mx.forwarder.test
delivered "6b AllowForwarders 192.0.2.50/32"
tap_is "$(row s06f 'dmarc_result, action')" "fail|accept" "6b AllowForwarders: history row"
tap_ok 'row s06f reasons | grep -q trusted_forwarder' \
    "6b AllowForwarders: reason trusted_forwarder recorded"
dm_running "6"

# --- 7. mailing list on the allow list ------------------------------------
# The list tags the subject (breaking the author's signature) and signs.
msg s07 "From: Alice <alice@example.test>"
sign s07 s07a "$K/example.pem" example.test
sed 's/^Subject: figures/Subject: [team] figures/' "$M/s07a" |
    awk '/^To: / { print "List-Id: <team.list.test>" } { print }' >"$M/s07b"
sign s07b s07 "$K/list.pem" list.test
send s07 198.51.100.20 team-bounces@list.test mx.list.test
delivered "7 mailing list (AllowListDomains list.test)"
has "7 mailing list" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "dkim=pass header.d=list.test" "dmarc=fail"
tap_is "$(row s07 'dmarc_result, action')" "fail|accept" "7 mailing list: history row"
tap_ok 'row s07 reasons | grep -q mailing_list' "7 mailing list: reason mailing_list recorded"
# The same from a list that is not on the allow list: rejected.
msg s07u "From: Alice <alice@example.test>"
sign s07u s07ua "$K/example.pem" example.test
sed 's/^Subject: figures/Subject: [other] figures/' "$M/s07ua" >"$M/s07ub"
sign s07ub s07u "$K/unlisted.pem" unlisted.test
send s07u 198.51.100.21 other-bounces@unlisted.test mx.unlisted.test
rejected "7 list not on the allow list" example.test reject
dm_running "7"

# --- 8. several author domains, no From, two From fields ------------------
msg s08 "From: a@none.test, b@example.test"
send s08 $bad_ip a@none.test evil.test
rejected "8 two author domains (strictest wins)" example.test reject
tap_is "$(row s08 'header_from, dmarc_result')" "none.test|fail
example.test|fail" "8 two author domains: one history row per author domain"
msg s08n ""
send s08n $good_ip alice@example.test
tap_is "$PF_STATUS/$(echo "$PF_REPLY" | cut -c1-9)" "26/550 5.7.1" \
    "8 no From, MultipleFromPolicy reject: 550 5.7.1"
tap_ok '! in_sink s08n' "8 no From: nothing delivered"
tap_is "$(row s08n 'dmarc_result, action')" "permerror|reject" "8 no From: history row"
msg s08t "From: a@example.test" "From: b@none.test"
send s08t $good_ip a@example.test
tap_is "$PF_STATUS/$(echo "$PF_REPLY" | cut -c1-9)" "26/550 5.7.1" \
    "8 two From fields, MultipleFromPolicy reject: 550 5.7.1"
DM_MULTIFROM=quarantine
dm_reload
msg s08q ""
send s08q $good_ip alice@example.test
held "8 no From, MultipleFromPolicy quarantine"
DM_MULTIFROM=none
dm_reload
msg s08d ""
send s08d $good_ip alice@example.test
delivered "8 no From, MultipleFromPolicy none"
has "8 no From, MultipleFromPolicy none: never a silent pass" \
    "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" "dmarc=permerror"
tap_is "$(row s08d 'dmarc_result, action')" "permerror|accept" \
    "8 no From, MultipleFromPolicy none: history row"
DM_MULTIFROM=reject
dm_reload
dm_running "8"

# --- 9. uppercase author domain under a parent's p=reject -----------------
msg s09 "From: u@SUB.STRICT.TEST"
send s09 $bad_ip u@sub.strict.test evil.test
tap_is "$PF_STATUS/$(echo "$PF_REPLY" | tr 'A-Z' 'a-z')" \
    "26/550 5.7.1 dmarc policy of sub.strict.test (p=reject) rejects this message" \
    "9 uppercase From subdomain: rejected"
tap_is "$(row s09 'header_from, policy_domain, disposition')" \
    "sub.strict.test|strict.test|reject" "9 uppercase From: history row"
dm_running "9"

# --- 11. forged Authentication-Results with our authserv-id ---------------
msg s11 "From: Alice <alice@example.test>" \
    "Authentication-Results: mx.receiver.test; dmarc=pass (forged-1) header.from=example.test" \
    "Authentication-Results: other.test; spf=pass (kept) smtp.mailfrom=example.test" \
    "Authentication-Results:  MX.Receiver.TEST ;" \
    "	dkim=pass (forged-2) header.d=example.test"
send s11 $good_ip alice@example.test
delivered "11 forged A-R"
first_is_ours "11 forged A-R"
ar=$( [ -n "$PF_MSG" ] && ours "$PF_MSG")
tap_is "$(printf '%s\n' "$ar" | grep -c .)" 1 "11 forged A-R: exactly one A-R with our id"
tap_ok '! printf "%s" "$ar" | grep -q forged' "11 forged A-R: both forged fields removed"
tap_ok '[ -n "$PF_MSG" ] && pf_headers "$PF_MSG" | grep -q "^Authentication-Results: other.test; spf=pass (kept)"' \
    "11 forged A-R: another host's A-R kept"
# More forged fields than dmarcd remembers by index: none may survive.
set --
_i=0
while [ $_i -lt 40 ]; do
	set -- "$@" "Authentication-Results: mx.receiver.test; dmarc=pass (flood-$_i) header.from=example.test"
	_i=$((_i + 1))
done
msg s11b "From: Alice <alice@example.test>" "$@"
set --
send s11b $good_ip alice@example.test
delivered "11b 40 forged A-R"
ar=$( [ -n "$PF_MSG" ] && ours "$PF_MSG")
tap_is "$(printf '%s\n' "$ar" | grep -c .)" 1 "11b 40 forged A-R: exactly one A-R with our id"
tap_ok '! printf "%s" "$ar" | grep -q flood' "11b 40 forged A-R: all forged fields removed"
dm_running "11"

# --- 12. authenticated and trusted clients: skipped -----------------------
msg s12 "From: Alice <alice@example.test>"
send s12 198.51.100.12 alice@example.test laptop.test --xclient-login alice
delivered "12 authenticated client"
tap_ok '[ -n "$PF_MSG" ] && [ -z "$(ours "$PF_MSG")" ]' \
    "12 authenticated client: no verdict, so no A-R of ours"
tap_is "$(hist_wait "SELECT action, skip_reason FROM verdicts WHERE client_ip = '198.51.100.12';")" \
    "skip|authenticated" "12 authenticated client: history row action=skip, skip_reason=authenticated"
tap_ok 'grep -q "dmarc skipped reason=authenticated ip=198.51.100.12" "$DM_LOG"' \
    "12 authenticated client: log line"
msg s12t "From: Alice <alice@example.test>"
send s12t 203.0.113.5 alice@example.test
delivered "12 trusted network (203.0.113.0/24)"
tap_is "$(hist_wait "SELECT action, skip_reason FROM verdicts WHERE client_ip = '203.0.113.5';")" \
    "skip|trusted" "12 trusted network: history row"
DM_IGNORE_AUTH=no
dm_reload
msg s12j "From: Alice <alice@example.test>"
send s12j 198.51.100.13 alice@example.test laptop.test --xclient-login alice
rejected "12 IgnoreAuthenticatedClients no: judged" example.test reject
DM_IGNORE_AUTH=yes
dm_reload
dm_running "12"

# --- 13. IPv6 -------------------------------------------------------------
if [ "$PF_HAVE_IPV6" = yes ]; then
	msg s13 "From: Alice <alice@example.test>"
	pf_send6 s13 --xclient-addr IPV6:2001:db8::10 --helo mail.example.test \
	    --from alice@example.test --to rcpt@receiver.test --data "@$M/s13"
	delivered "13 IPv6 client (ip6: mechanism), over [::1]"
	has "13 IPv6" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
	    "spf=pass smtp.mailfrom=alice@example.test" "dmarc=pass"
	tap_is "$(row s13 'client_ip, dmarc_result')" "2001:db8::10|pass" \
	    "13 IPv6: history row"
	msg s13f "From: Alice <alice@example.test>"
	pf_send6 s13f --xclient-addr IPV6:2001:db8::66 --helo evil.test \
	    --from alice@example.test --to rcpt@receiver.test --data "@$M/s13f"
	rejected "13 IPv6 spoof" example.test reject
else
	for _i in 1 2 3 4 5 6 7; do tap_ok true "# SKIP no IPv6 loopback"; done
fi
dm_running "13"

# --- 14. SIGUSR1 with a broken configuration keeps serving ----------------
DM_EXTRA="NoSuchKey yes"
dm_reload
DM_EXTRA=
tap_is "$DM_RELOAD" failed "14 broken config: reload refused"
tap_ok 'dm_log_since | grep "reload of .* failed" | grep -q "NoSuchKey"' \
    "14 broken config: the log names the bad key"
tap_ok 'kill -0 "$DM_PID"' "14 broken config: still running"
msg s14 "From: Alice <alice@example.test>"
send s14 $good_ip alice@example.test
delivered "14 after a broken reload"
tap_ok '[ -n "$(logline_of s14)" ]' "14 after a broken reload: the message was judged (log line)"
dm_reload
tap_is "$DM_RELOAD" ok "14 good config again: reloaded"
dm_running "14"

# --- 10. nameserver dead: 451, or temperror -------------------------------
# The resolver is built at start-up: a restart with a dead nameserver.
DM_NAMESERVERS=127.0.0.1:1
dm_restart
msg s10 "From: Alice <alice@example.test>"
send s10 $good_ip alice@example.test
tap_is "$PF_STATUS/$(echo "$PF_REPLY" | cut -c1-7)" "26/451 4.7" \
    "10 dead nameserver, TempfailOnDNSError yes: 451 4.7.x"
tap_ok '! in_sink s10' "10 dead nameserver: nothing delivered"
DM_TEMPFAIL_DNS=no
dm_reload
msg s10b "From: Alice <alice@example.test>"
send s10b $good_ip alice@example.test
delivered "10 dead nameserver, TempfailOnDNSError no"
has "10 dead nameserver, TempfailOnDNSError no" "$( [ -n "$PF_MSG" ] && ours "$PF_MSG")" \
    "dmarc=temperror"
tap_is "$(row s10b 'dmarc_result, action')" "temperror|accept" \
    "10 TempfailOnDNSError no: history row"
DM_NAMESERVERS=$NSD_SERVER DM_TEMPFAIL_DNS=yes
dm_running "10"

# --- 14b. SIGTERM flushes the history (relaxed durability) ----------------
DM_DURABILITY=relaxed
dm_restart
for _i in 1 2 3 4 5 6 7 8; do
	msg "s14f$_i" "From: Alice <alice@example.test>"
	send "s14f$_i" $good_ip alice@example.test
done
dm_mark
dm_stop
tap_is "$DM_STOP" 0 "14 SIGTERM: dmarcd exits 0"
tap_ok 'dm_log_since | grep -q "history flushed"' "14 SIGTERM: logs the flush"
tap_is "$(hist_sql "SELECT count(*) FROM verdicts WHERE message_id LIKE '%s14f_.$$@%';")" 8 \
    "14 SIGTERM: all 8 relaxed-durability verdicts are in the history"
DM_DURABILITY=full
dm_start
dm_running "14b"

# --- 15. 500 messages over 20 concurrent sessions -------------------------
SMTP_SOURCE=$(_pf_find smtp-source)
if [ -n "$SMTP_SOURCE" ]; then
	printf 'From: <load@bulk.test>\nTo: <rcpt@receiver.test>\nSubject: load\n\nload test\n' \
	    >"$M/load-pass"
	printf 'From: <load@example.test>\nTo: <rcpt@receiver.test>\nSubject: load\n\nload test\n' \
	    >"$M/load-spoof"
	rows0=$(hist_sql "SELECT count(*) FROM verdicts WHERE helo LIKE 'load%.test';")
	sink0=$(pf_sink_count)
	rej0=$(grep -c 'milter-reject: END-OF-MESSAGE .*helo=<loadspoof.test>' "$PF_MAILLOG")
	start=$(date +%s)
	# 10 + 10 sessions at once, 25 messages each (-d: several per
	# connection); from 127.0.0.1, which is not a trusted network here.
	"$SMTP_SOURCE" -s 10 -m 250 -d -M loadpass.test -f load@bulk.test \
	    -t rcpt@receiver.test -F "$M/load-pass" "$PF_SERVER" \
	    >"$T/load-pass.out" 2>&1 &
	lp=$!
	"$SMTP_SOURCE" -s 10 -m 250 -d -A -M loadspoof.test -f load@spoof.test \
	    -t rcpt@receiver.test -F "$M/load-spoof" "$PF_SERVER" \
	    >"$T/load-spoof.out" 2>&1 &
	ls=$!
	wait $lp
	lprc=$?
	wait $ls
	pf_wait_queue_empty 60
	took=$(( $(date +%s) - start ))
	echo "# 500 messages in ${took}s"
	tap_is "$lprc" 0 "15 load: smtp-source (pass batch) saw no error"
	sink=$(( $(pf_sink_count) - sink0 ))
	rej=$(( $(grep -c 'milter-reject: END-OF-MESSAGE .*helo=<loadspoof.test>' "$PF_MAILLOG") - rej0 ))
	tap_is "$sink/$rej" "250/250" "15 load: 250 delivered, 250 rejected"
	tap_is "$(( sink + rej ))" 500 "15 load: all 500 accounted for (sink + rejected)"
	# Rejected messages' rows are not waited for: give them a moment.
	_i=0
	while [ $_i -lt 50 ] && [ "$(hist_sql "SELECT count(*) FROM verdicts WHERE helo LIKE 'load%.test';")" -lt $((rows0 + 500)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	tap_is "$(hist_sql "SELECT count(*) FROM verdicts WHERE helo LIKE 'load%.test';")" "$((rows0 + 500))" \
	    "15 load: one history row per message"
	tap_is "$(hist_sql "SELECT helo, dmarc_result, action, count(*) FROM verdicts WHERE helo LIKE 'load%.test' GROUP BY 1, 2, 3 ORDER BY 1;")" \
	    "loadpass.test|pass|accept|250
loadspoof.test|fail|reject|250" "15 load: the verdicts"
	tap_is "$(hist_sql "SELECT count(DISTINCT queue_id) FROM verdicts WHERE helo LIKE 'load%.test' AND queue_id != '';")" 500 \
	    "15 load: 500 distinct queue ids in the history"
else
	for _i in 1 2 3 4 5 6; do tap_ok true "# SKIP smtp-source not found"; done
fi
dm_running "15"

# --- the end: a clean stop, and no sanitizer report -----------------------
dm_mark
dm_stop
tap_is "$DM_STOP" 0 "SIGTERM: dmarcd exits 0"
tap_ok '! grep -q "Sanitizer\|runtime error:" "$DM_LOG"' \
    "no AddressSanitizer/LeakSanitizer/UBSan report in dmarcd's log"
tap_done
