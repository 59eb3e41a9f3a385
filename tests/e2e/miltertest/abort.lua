-- abort.lua - a transaction aborted mid-message leaves nothing behind:
-- the next message on the same connection is judged on its own, and a
-- connection dropped in the middle of a header does not hurt the daemon.
local t = dofile(lib)
local D = msgdir .. "/"

local conn = t.connect()
t.ok(mt.conninfo(conn, "mail.example.test", "192.0.2.10"), "conninfo")
t.ok(mt.helo(conn, "mail.example.test"), "helo")

-- A: header and part of the body, then RSET (abort).
t.ok(mt.macro(conn, SMFIC_MAIL, "i", "ABORT00001"), "macros")
t.ok(mt.mailfrom(conn, "<n@none.test>"), "MAIL FROM")
local headers, body = t.read_message(D .. "other")
t.send_headers(conn, headers)
t.ok(mt.bodystring(conn, body:sub(1, 10)), "body")
t.ok(mt.abort(conn), "abort")

-- B: a whole message on the same connection.
local r = t.message(conn, { "i", "ABORT00002" }, "<alice@example.test>",
    D .. "plain")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "after abort: reply " ..
    t.reply_name(r))
local ar = t.authres(conn)
t.has(ar, "after abort: A-R", "header.from=example.test", "dmarc=pass")
t.check(not ar:find("none.test", 1, true),
    "after abort: the aborted message's author leaked into: " .. ar)

-- C: abort in the middle of the header, then drop the connection.
t.ok(mt.macro(conn, SMFIC_MAIL, "i", "ABORT00003"), "macros")
t.ok(mt.mailfrom(conn, "<alice@example.test>"), "MAIL FROM")
t.ok(mt.header(conn, "From", " alice@example.test"), "header")
t.ok(mt.abort(conn), "abort")
mt.disconnect(conn, false)

-- D: the daemon still serves.
conn = t.connect()
t.ok(mt.conninfo(conn, "mail.example.test", "192.0.2.10"), "conninfo")
t.ok(mt.helo(conn, "mail.example.test"), "helo")
r = t.message(conn, { "i", "ABORT00004" }, "<alice@example.test>", D .. "plain")
t.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "new connection: reply " ..
    t.reply_name(r))
t.has(t.authres(conn), "new connection: A-R", "dmarc=pass")
mt.disconnect(conn)
