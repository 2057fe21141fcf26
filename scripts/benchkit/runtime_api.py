"""The part of the Lambda Runtime API a function uses, served on a free local port."""

from __future__ import annotations

import http.server
import sys
import threading
import time
import uuid

from localstack import REGION

INVOKE_SECONDS = 900  # the Lambda maximum


class RuntimeApi:
    """The part of the Lambda Runtime API a function uses: it hands out one event, takes the
    response (or error), and keeps any later /next waiting until shutdown.

    A stub rather than cargo lambda's emulator (which `make demo` uses) because the function's
    first GET /next is the moment it is ready for an event, and only the server answering that
    request sees it exactly; it also marks when the event left and when the answer came back,
    with nothing else in between."""

    PREFIX = "/2018-06-01/runtime"

    def __init__(self, event: bytes) -> None:
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.first_next: float | None = None  # time.monotonic() of the first GET /next
        self.served: float | None = None  # the event was handed over
        self.answered: float | None = None  # the response (or error) arrived
        self.response: bytes | None = None
        self.error: bytes | None = None
        self.done = threading.Event()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._nexts = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self) -> None:  # noqa: N802
                if self.path != f"{api.PREFIX}/invocation/next":
                    self._send(404, b'{"errorMessage":"not found"}')
                    return
                now = time.monotonic()
                with api._lock:
                    first = api._nexts == 0
                    api._nexts += 1
                    if api.first_next is None:
                        api.first_next = now
                if not first:
                    api.closing.wait()  # one event per process: wait here until shutdown
                    self.close_connection = True
                    return
                deadline_ms = int(time.time() * 1000) + INVOKE_SECONDS * 1000
                api.served = time.monotonic()
                self._send(
                    200,
                    api.event,
                    {
                        "Lambda-Runtime-Aws-Request-Id": api.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:123456789012:function:session-sweeper-bench",
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                    },
                )

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                now = time.monotonic()
                if self.path == f"{api.PREFIX}/invocation/{api.request_id}/response":
                    api.response = body
                elif self.path.endswith("/error"):  # invocation or init error
                    api.error = body or b"(empty error body)"
                else:
                    self._send(404, b'{"errorMessage":"not found"}')
                    return
                api.answered = now
                self._send(202, b'{"status":"OK"}')
                api.done.set()

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="runtime-api", daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    """The function's second GET /next is cut off when the process is stopped; that reset is
    the expected end of the run, not an error worth a traceback."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]
