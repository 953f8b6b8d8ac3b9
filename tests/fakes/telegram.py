"""A local fake of the Telegram Bot API, so the real python-telegram-bot client is exercised.

It answers ``POST /bot<token>/<method>`` (form-encoded or JSON, as PTB sends)
with Telegram's ``{"ok": ..., "result": ...}`` envelope, records every call,
and can be told to fail the next calls (5xx, 429 with ``retry_after``, 403).
Run it by hand for a demo: ``python tests/fakes/telegram.py --port 8081``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Call:
    token: str
    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeTelegram:
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    verbose: bool = False

    def __post_init__(self):
        self._lock = threading.Lock()
        self._failures: list[tuple[int, dict]] = []
        self._next_message_id = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FakeTelegram":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- test controls -----------------------------------------------------
    def fail_next(self, count: int, status: int = 500, description: str = "Internal Server Error",
                  retry_after: int | None = None) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        with self._lock:
            self._failures.extend([(status, body)] * count)

    def sent(self, method: str = "sendMessage") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str = "sendMessage", count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sent(method)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        return self.sent(method)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    # -- protocol ------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0].strip("/")
        parts = path.split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return self._reply(req, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = parts[0][3:], parts[1]
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        ctype = req.headers.get("Content-Type", "")
        params: dict = {}
        if raw and "json" in ctype:
            params = json.loads(raw)
        elif raw:
            params = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            for k, v in list(params.items()):
                if isinstance(v, str) and v[:1] in "{[":
                    try:
                        params[k] = json.loads(v)
                    except json.JSONDecodeError:
                        pass
        with self._lock:
            failure = self._failures.pop(0) if self._failures and method != "getMe" else None
            self.calls.append(Call(token, method, params))
        if self.verbose:
            print(f"[fake telegram] {method} {json.dumps(params, ensure_ascii=False)}", flush=True)
        if failure is not None:
            return self._reply(req, failure[0], failure[1])
        return self._reply(req, 200, {"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict):
        now = int(time.time())
        if method == "getMe":
            return {"id": 424242, "is_bot": True, "first_name": "TepSA", "username": "tepsa_test_bot",
                    "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            with self._lock:
                self._next_message_id += 1
                mid = self._next_message_id
            chat_id = int(params.get("chat_id", 0) or 0)
            return {"message_id": mid, "date": now, "chat": {"id": chat_id, "type": "private"},
                    "text": params.get("text", "")}
        return True

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Local fake of the Telegram Bot API (prints what it receives)")
    ap.add_argument("--port", type=int, default=8081)
    a = ap.parse_args()
    fake = FakeTelegram(port=a.port, verbose=True).start()
    print(f"fake Telegram Bot API on {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
