"""Requests to one local server over connections kept open, one per thread: the day scenario
makes about a hundred thousand requests to its simulators (the flow's List rows pages and
Update a row calls, the timeline's changes and clock, the counters around each invocation),
and a new connection for each would be much of its real time."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse


class KeepAlive:
    """A client of the server at `base_url`; safe to share between threads."""

    def __init__(self, base_url: str, timeout: float = 120) -> None:
        address = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.timeout = address.hostname or "127.0.0.1", address.port, timeout
        self.local = threading.local()

    def send(self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, bytes]:
        """One request (`url` absolute or a path); the status and the body. A connection the
        server closed meanwhile is opened again once."""
        parts = urllib.parse.urlsplit(url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        for attempt in (1, 2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.local.connection = connection
            try:
                connection.request(method, target, body=body, headers=headers or {})
                answer = connection.getresponse()
                return answer.status, answer.read()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    def json(self, method: str, url: str, headers: dict[str, str] | None = None, body: object = None) -> object:
        """A request with an optional JSON body whose answer must be a 2xx JSON document."""
        data = None if body is None else json.dumps(body).encode()
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if data is not None else {})}
        status, text = self.send(method, url, sent, data)
        if not 200 <= status < 300:
            raise OSError(f"{method} {url} answered {status}: {text[:300]!r}")
        return json.loads(text)
