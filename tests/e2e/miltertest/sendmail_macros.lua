-- sendmail_macros.lua - dmarcd as Sendmail drives it: Sendmail's macro
-- set (j, _, {daemon_name}, {if_name}, {if_addr}, {client_addr} at
-- connect; i, {auth_type}, {auth_authen}, {mail_*} at MAIL, where
-- Sendmail already knows the queue id), several messages on one
-- connection, IPv4 and IPv6 ("IPv6:" in {client_addr}, as Sendmail and
-- Postfix write it).  The queue ids are checked in dmarcd's log by
-- test_miltertest.sh.
local t = dofile(lib)
local D = msgdir .. "/"

local function sendmail_connect(host, ip, client_addr)
	local conn = t.connect()
	t.ok(mt.macro(conn, SMFIC_CONNECT,
	    "j", "mx.receiver.test",
	    "_", host .. " [" .. ip .. "]",
	    "{daemon_name}", "MTA",
	    "{if_name}", "mx.receiver.test",
	    "{if_addr}", "127.0.0.1",
	    "{client_addr}", client_addr,
	    "{client_name}", host,
	    "{client_port}", "40123",
	    "{client_ptr}", host), "connect macros")
	t.ok(mt.conninfo(conn, host, ip), "conninfo")
	t.ok(mt.helo(conn, host), "helo")
	return conn
end

local function mail_macros(qid, from, auth)
	local m = { "i", qid, "{mail_mailer}", "esmtp",
	    "{mail_host}", from:match("@(.*)$"), "{mail_addr}", from }
	if auth then
		for _, v in ipairs({ "{auth_type}", "PLAIN", "{auth_authen}",
		    auth, "{auth_ssf}", "0", "{auth_author}", from }) do
			table.insert(m, v)
		end
	end
	return m
end

-- 1. A signed message from an authorized address: pass, A-R added, the
-- forged A-R field with our authserv-id deleted.
local conn = sendmail_connect("mail.example.test", "192.0.2.10", "192.0.2.10")
local r = t.message(conn, mail_macros("5AQ1sM7p012301", "alice@example.test"),
    "<alice@example.test>", D .. "signed-forged")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "pass: reply " .. t.reply_name(r))
local ar = t.authres(conn)
t.has(ar, "pass: A-R", "mx.receiver.test;", "spf=pass",
    "dkim=pass header.d=example.test", "dmarc=pass", "header.from=example.test")
-- Under SMFIP_HDR_LEADSPC the MTA writes an added value as given, so it
-- must bring its own space; the shell checks this line.
mt.echo("LEADSPC " .. tostring(mt.test_option(conn, SMFIP_HDR_LEADSPC)) ..
    " A-R value [" .. ar .. "]")
t.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") or
    mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results"),
    "pass: the forged Authentication-Results field was not removed")

-- 2. Same connection, an authenticated sender ({auth_authen}): skipped,
-- accepted at MAIL FROM without a verdict.
r = t.message(conn, mail_macros("5AQ1sM7p012302", "alice@example.test", "alice"),
    "<alice@example.test>", D .. "plain")
t.check(r == SMFIR_ACCEPT, "authenticated: reply " .. t.reply_name(r) ..
    ", want accept at MAIL FROM")

-- 3. Same connection again, no AUTH: judged again (state was reset).
r = t.message(conn, mail_macros("5AQ1sM7p012303", "alice@example.test"),
    "<alice@example.test>", D .. "plain")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "third: reply " .. t.reply_name(r))
t.has(t.authres(conn), "third: A-R", "spf=pass", "dmarc=pass")
mt.disconnect(conn)

-- 4. A spoofing client: 550 5.7.1 with the domain and policy.
conn = sendmail_connect("evil.test", "198.51.100.66", "198.51.100.66")
r = t.message(conn, mail_macros("5AQ1sM7p012304", "alice@example.test"),
    "<alice@example.test>", D .. "plain")
t.check(r == SMFIR_REPLYCODE or r == SMFIR_REJECT, "spoof: reply " .. t.reply_name(r))
t.check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
    "DMARC policy of example.test (p=reject) rejects this message"),
    "spoof: no 550 5.7.1 reply naming example.test and p=reject")
mt.disconnect(conn)

-- 5. IPv6: SPF's ip6: mechanism passes.
conn = sendmail_connect("mail.example.test", "2001:db8::10", "IPv6:2001:db8::10")
r = t.message(conn, mail_macros("5AQ1sM7p012305", "alice@example.test"),
    "<alice@example.test>", D .. "plain")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "IPv6: reply " .. t.reply_name(r))
t.has(t.authres(conn), "IPv6: A-R", "spf=pass", "dmarc=pass")
mt.disconnect(conn)
