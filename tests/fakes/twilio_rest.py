"""A local fake of Twilio's REST API (Messages), so the real twilio client is exercised.

Answers ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form, Basic
auth) with 201 and a message resource, records every call, and can fail the
next calls with a status of the test's choosing.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class FakeTwilioRest:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._failures: list[int] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self)

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FakeTwilioRest":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self._failures.clear()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self._lock:
            return list(self.messages)

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = req.path.split("?", 1)[0].strip("/").split("/")
        length = int(req.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(req.rfile.read(length).decode(), keep_blank_values=True).items()}
        auth = req.headers.get("Authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":", 1)[0] if auth else ""
        if len(parts) != 4 or parts[0] != "2010-04-01" or parts[3] != "Messages.json" or user != parts[2]:
            return self._reply(req, 404, {"code": 20404, "message": "not found", "status": 404})
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            if failure is None:
                self.messages.append(form)
        if failure is not None:
            return self._reply(req, failure, {"code": 20500, "message": "fake failure", "status": failure})
        sid = "SM" + secrets.token_hex(16)
        return self._reply(req, 201, {"sid": sid, "account_sid": parts[2], "status": "queued",
                                      "to": form.get("To"), "from": form.get("From"), "body": form.get("Body")})

    @staticmethod
    def _reply(req, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)
