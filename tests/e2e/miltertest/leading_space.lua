-- leading_space.lua - header values whose whitespace matters: a message
-- signed with c=simple/simple, with several spaces (and a space and a
-- tab) after the colon, a folded field and trailing spaces, from an address SPF does not allow, so
-- DMARC passes only if the DKIM signature verifies, that is only if the
-- value reaches the verifier byte for byte (SMFIP_HDR_LEADSPC).
local t = dofile(lib)
local D = msgdir .. "/"

local conn = t.connect()
t.ok(mt.conninfo(conn, "relay.forwarder.test", "198.51.100.66"), "conninfo")
t.ok(mt.helo(conn, "relay.forwarder.test"), "helo")
t.check(mt.test_option(conn, SMFIP_HDR_LEADSPC),
    "dmarcd did not ask for SMFIP_HDR_LEADSPC (leading spaces of header values)")
local r = t.message(conn, { "i", "LEADSPC001" }, "<bounce@forwarder.test>",
    D .. "simple")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "reply " .. t.reply_name(r))
t.has(t.authres(conn), "A-R", "dkim=pass header.d=example.test", "dmarc=pass")
mt.disconnect(conn)
