# compare-rspamd.sh - sourced by bench/compare.sh: rspamd (Debian) as a
# DMARC-only milter.  A private configuration: the proxy worker speaks
# the milter protocol and scans itself (self_scan), the only modules are
# dkim (C), spf, dmarc and arc (Lua), DNS goes to the bench NSD, and a
# DMARC reject under p=reject is a reject.  Sets have_rspamd, RS_SOCK and
# RS_PIDS (the main process and its workers, whose CPU is counted).
RS_PORT=$(free_port)
RS_SOCK=inet:$RS_PORT@127.0.0.1
mkdir -p "$T/rspamd/db" "$T/rspamd/plugins"
# rspamd loads every Lua plugin of a directory: a private one with ours.
for _m in spf dmarc arc; do
	ln -sf "/usr/share/rspamd/plugins/$_m.lua" "$T/rspamd/plugins/$_m.lua"
done
cat >"$T/rspamd/rspamd.conf" <<CONF
options {
	pidfile = "$T/rspamd/rspamd.pid";
	dns { nameserver = ["127.0.0.1:53"]; timeout = 2s; retransmits = 2; }
	filters = "dkim";
	local_addrs = [];
	hs_cache_dir = "$T/rspamd/db";
}
logging { type = "file"; filename = "${RSPAMD_LOG:-$T/rspamd/rspamd.log}"; level = "${RSPAMD_LOG_LEVEL:-error}"; }
modules { path = "$T/rspamd/plugins"; }
worker "rspamd_proxy" {
	bind_socket = "127.0.0.1:$RS_PORT";
	milter = yes;
	timeout = 120s;
	count = 1;
	upstream "local" { default = yes; self_scan = yes; }
}
dkim { }
spf { }
arc { }
dmarc {
	reporting { enabled = false; }
	actions { reject = "reject"; quarantine = "add_header"; }
}
actions { reject = 1000; add_header = 500; }
CONF
chown -R _rspamd "$T/rspamd"
rspamd -f -u _rspamd -g _rspamd -c "$T/rspamd/rspamd.conf" \
    --var=DBDIR="$T/rspamd/db" --var=RUNDIR="$T/rspamd" \
    >"$T/rspamd/out" 2>&1 &
RS_PID=$!
PIDS="$PIDS $RS_PID"
wait_milter rspamd "$RS_PID" "$RS_SOCK" "$T/rspamd/rspamd.log"
# The main process forks its workers: count them all.
RS_PIDS="$RS_PID $(pgrep -P "$RS_PID" | tr '\n' ' ')"
have_rspamd=yes
