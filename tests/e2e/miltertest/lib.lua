-- lib.lua - helpers for dmarcd's miltertest scripts (tests/e2e).
--
-- The scripts are run by tests/e2e/test_miltertest.sh as
--   miltertest -D sock=inet:PORT@127.0.0.1 -D lib=.../lib.lua \
--       -D msgdir=DIR -s SCRIPT.lua
-- and load this file with `local t = dofile(lib)`.  A script fails with
-- t.fail(): it prints "FAIL: why" (miltertest itself swallows the text of
-- a Lua error) and raises the error, so miltertest exits non-zero.
-- Messages come from files the shell test wrote (LF line ends): header
-- values are sent as Postfix sends them to a milter: folded lines joined
-- with "\n" (not CRLF); the body goes with CRLF line ends.

local t = {}

local names = {
	[SMFIR_ACCEPT] = "accept", [SMFIR_CONTINUE] = "continue",
	[SMFIR_DISCARD] = "discard", [SMFIR_REJECT] = "reject",
	[SMFIR_REPLYCODE] = "replycode", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_SKIP] = "skip",
}

function t.reply_name(r)
	return names[r] or tostring(r)
end

-- Fail the script with a message naming the step.
function t.fail(why)
	mt.echo("FAIL: " .. why)
	error(why, 2)
end

function t.check(cond, what)
	if not cond then
		t.fail(what)
	end
end

-- A miltertest call returns nil on success, else an error string.
function t.ok(r, what)
	if r ~= nil then
		t.fail(what .. ": " .. tostring(r))
	end
end

function t.connect()
	local conn = mt.connect(sock, 50, 0.1)
	t.check(conn ~= nil, "cannot connect to the filter at " .. sock)
	return conn
end

-- The filter's last reply must be one of the given SMFIR_* values.
function t.expect(conn, what, ...)
	local r = mt.getreply(conn)
	for _, want in ipairs({...}) do
		if r == want then
			return
		end
	end
	t.fail(what .. ": unexpected reply " .. t.reply_name(r))
end

-- Read a message file: a list of {name, value} (value as after the
-- colon, folded lines joined with "\n") and the body with CRLF ends.
function t.read_message(path)
	local f = assert(io.open(path, "rb"))
	local data = f:read("a")
	f:close()
	local head, body = data:match("^(.-)\n\n(.*)$")
	t.check(head ~= nil, path .. ": no empty line after the header")
	local headers = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #headers > 0 then
			local h = headers[#headers]
			h.value = h.value .. "\n" .. line
		else
			local name, value = line:match("^([^:]+):(.*)$")
			t.check(name ~= nil, path .. ": bad header line: " .. line)
			table.insert(headers, { name = name, value = value })
		end
	end
	body = body:gsub("\r?\n", "\r\n")
	return headers, body
end

-- Send the header fields as the MTA would, then end-of-header.
-- miltertest takes a value without the space after the colon and, when
-- the filter asked for SMFIP_HDR_LEADSPC, always puts one space back: a
-- value that does not start with a space cannot be sent faithfully then.
function t.send_headers(conn, headers)
	local leadspc = mt.test_option(conn, SMFIP_HDR_LEADSPC)
	for _, h in ipairs(headers) do
		local v, n = h.value:gsub("^ ", "", 1)
		t.check(n == 1 or not leadspc, "header " .. h.name ..
		    ": miltertest can only send values that start with a space")
		t.ok(mt.header(conn, h.name, v), "header " .. h.name)
	end
	t.ok(mt.eoh(conn), "eoh")
end

-- Send the body in chunks of the given sizes (the last size repeats).
function t.send_body(conn, body, sizes)
	local pos, i = 1, 1
	sizes = sizes or { 65535 }
	while pos <= #body do
		local n = sizes[i] or sizes[#sizes]
		t.ok(mt.bodystring(conn, body:sub(pos, pos + n - 1)), "body chunk")
		pos = pos + n
		i = i + 1
	end
end

-- One whole message on an open connection: MAIL macros, MAIL FROM,
-- header, body, end of message.  Returns the filter's final reply.
-- Send HELO first: miltertest's implicit HELO discards MAIL macros.
function t.message(conn, macros, mailfrom, path, sizes)
	t.ok(mt.macro(conn, SMFIC_MAIL, table.unpack(macros)), "MAIL macros")
	t.ok(mt.mailfrom(conn, mailfrom), "MAIL FROM")
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then
		return r
	end
	local headers, body = t.read_message(path)
	t.send_headers(conn, headers)
	t.send_body(conn, body, sizes)
	t.ok(mt.eom(conn), "eom")
	return mt.getreply(conn)
end

-- The first Authentication-Results field the filter inserted.
function t.authres(conn)
	local v = mt.getheader(conn, "Authentication-Results", 0)
	t.check(v ~= nil, "no Authentication-Results field was added")
	return v
end

-- Each plain-text needle must occur in haystack.
function t.has(haystack, what, ...)
	for _, needle in ipairs({...}) do
		if not haystack:find(needle, 1, true) then
			t.fail(what .. ": '" .. needle .. "' not in: " .. haystack)
		end
	end
end

return t
