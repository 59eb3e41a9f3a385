-- failure.lua - messages for tests/report/test_failure_reports.sh: count
-- spoofed messages (queue ids FAILnnnn) from fail.test, then msg (a file
-- in msgdir) once more under queue id LOOP0001.
local t = dofile(lib)
local D = msgdir .. "/"

local conn = t.connect()
t.ok(mt.conninfo(conn, "spoof.example", "198.51.100.66"), "conninfo")
t.ok(mt.helo(conn, "spoof.example"), "helo")
for i = 1, tonumber(count) do
	local r = t.message(conn, { "i", string.format("FAIL%04d", i) },
	    "<bounce@fail.test>", D .. msg)
	t.check(r ~= nil, "message " .. i .. ": no reply")
end
if loop ~= nil and loop ~= "" then
	t.message(conn, { "i", "LOOP0001" }, "<bounce@fail.test>", D .. loop)
end
mt.disconnect(conn)
