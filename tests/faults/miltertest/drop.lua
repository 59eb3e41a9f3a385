-- drop.lua - the MTA misbehaving (tests/faults/test_mta_faults.sh): a
-- connection dropped in the middle of the body, one dropped right after
-- the header, an abort after the header with the connection reused;
-- dmarcd must forget each message and keep serving.
local t = dofile(lib)
local D = msgdir .. "/"
local headers, body = t.read_message(D .. "plain")

local function start(id)
	local conn = t.connect()
	t.ok(mt.conninfo(conn, "mail.good.test", "192.0.2.10"), "conninfo")
	t.ok(mt.helo(conn, "mail.good.test"), "helo")
	t.ok(mt.macro(conn, SMFIC_MAIL, "i", id), "macros")
	t.ok(mt.mailfrom(conn, "<alice@good.test>"), "MAIL FROM")
	return conn
end

-- A: half the body, then the connection is gone (no abort, no quit).
local conn = start("DROPBODY01")
t.send_headers(conn, headers)
t.ok(mt.bodystring(conn, body:sub(1, 20)), "body")
mt.disconnect(conn, false)

-- B: the header, then the connection is gone.
conn = start("DROPEOH001")
t.send_headers(conn, headers)
mt.disconnect(conn, false)

-- C: abort after the header, and the same connection goes on.
conn = start("ABORTEOH01")
t.send_headers(conn, headers)
t.ok(mt.abort(conn), "abort")
local r = t.message(conn, { "i", "AFTERABT01" }, "<alice@good.test>",
    D .. "plain")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "after the abort: reply " ..
    t.reply_name(r))
t.has(t.authres(conn), "after the abort: A-R", "dmarc=pass")
mt.disconnect(conn)

-- D: a fresh connection is served.
conn = t.connect()
t.ok(mt.conninfo(conn, "mail.good.test", "192.0.2.10"), "conninfo")
t.ok(mt.helo(conn, "mail.good.test"), "helo")
r = t.message(conn, { "i", "AFTERDROP1" }, "<alice@good.test>", D .. "plain")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "new connection: reply " ..
    t.reply_name(r))
t.has(t.authres(conn), "new connection: A-R", "dmarc=pass")
mt.disconnect(conn)
