-- chunks.lua - the body in many chunks: tiny ones of odd sizes (CR and LF
-- of one line end in different chunks), then 65535-byte ones (the MTA's
-- largest) over a body of about 200 KB.  The signature (relaxed/relaxed,
-- from an address SPF does not allow) verifies only if every byte is fed
-- to the verifier once and in order.
local t = dofile(lib)
local D = msgdir .. "/"

local conn = t.connect()
t.ok(mt.conninfo(conn, "relay.forwarder.test", "198.51.100.66"), "conninfo")
t.ok(mt.helo(conn, "relay.forwarder.test"), "helo")
local r = t.message(conn, { "i", "CHUNKS0001" }, "<bounce@forwarder.test>",
    D .. "big", { 1, 2, 3, 5, 7, 11, 13, 1, 1, 64, 1000, 65535 })
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "reply " .. t.reply_name(r))
t.has(t.authres(conn), "A-R", "dkim=pass header.d=example.test", "dmarc=pass")

-- The same message in one chunk per line.
local headers, body = t.read_message(D .. "big")
t.ok(mt.macro(conn, SMFIC_MAIL, "i", "CHUNKS0002"), "macros")
t.ok(mt.mailfrom(conn, "<bounce@forwarder.test>"), "MAIL FROM")
t.send_headers(conn, headers)
for line in body:gmatch("[^\n]*\n") do
	t.ok(mt.bodystring(conn, line), "body line")
end
t.ok(mt.eom(conn), "eom")
t.has(t.authres(conn), "per-line chunks: A-R", "dkim=pass header.d=example.test",
    "dmarc=pass")
mt.disconnect(conn)
