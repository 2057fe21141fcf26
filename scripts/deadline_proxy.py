#!/usr/bin/env python3
"""The deadline proxy between cargo lambda's Runtime API emulator and the function.

Used by scripts/local_run.py (make demo, make invoke) and by the emulator tests, which start it
as `deadline_proxy.py UPSTREAM TIMEOUT_SECONDS`: it prints its own runtime API address on the
first line and serves until it is stopped. Needs only the standard library.
"""

from __future__ import annotations

import http.client
import http.server
import sys
import threading
import time
from urllib.parse import urlsplit


class DeadlineProxy:
    """Sits between the function and the emulator and gives each invocation a real deadline.

    cargo lambda's emulator (1.9.2) sends `Lambda-Runtime-Deadline-Ms: 600000`, a constant,
    where Lambda sends the deadline as milliseconds since the epoch; read as Lambda means it,
    that deadline passed in 1970 and a function that watches its deadline would stop before
    doing anything. The proxy replaces it with now + the template's Timeout, so the local run
    budgets time exactly as the deployed function does. Everything else passes unchanged."""

    def __init__(self, upstream: str, timeout_seconds: int) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                # No timeout: /invocation/next is a long poll that waits for the next invoke.
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                except (OSError, http.client.HTTPException):
                    # The emulator stopped at the end of the run; the function's pending poll
                    # ends here, and the function itself is stopped next.
                    upstream.close()
                    self.close_connection = True
                    return
                try:
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        lowered = name.lower()
                        if lowered in ("connection", "transfer-encoding", "content-length", "date", "server"):
                            continue
                        if lowered == "lambda-runtime-deadline-ms":
                            value = str(int((time.time() + timeout_seconds) * 1000))
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream.close()

            do_GET = do_POST = forward

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A function that hangs up mid-request at shutdown is expected, not worth a traceback.
        self.server.handle_error = lambda *_: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def runtime_api(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str]) -> int:
    """Serves for UPSTREAM with deadlines TIMEOUT_SECONDS ahead until the process is stopped."""
    if len(argv) != 2:
        print("usage: deadline_proxy.py UPSTREAM_RUNTIME_API TIMEOUT_SECONDS", file=sys.stderr)
        return 2
    proxy = DeadlineProxy(argv[0], int(argv[1]))
    proxy.start()
    print(proxy.runtime_api, flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
