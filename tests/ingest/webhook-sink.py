#!/usr/bin/env python3
# webhook-sink.py - a tiny HTTP listener for tests/ingest/test_alerts.sh:
# appends each POST body (one line) to OUTFILE and answers STATUS
# (default 200).  Listens on 127.0.0.1:PORT; writes READYFILE once bound.
# Python standard library only.
import http.server
import sys

port, outfile, readyfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
status = int(sys.argv[4]) if len(sys.argv) > 4 else 200


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 1 << 20))
        with open(outfile, "ab") as f:
            f.write(self.path.encode() + b" " +
                    self.headers.get("Content-Type", "").encode() + b" " +
                    body.replace(b"\n", b" ") + b"\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", port), Handler)
open(readyfile, "w").close()
srv.serve_forever()
