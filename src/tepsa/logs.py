"""Logging without personal data.

Every record is rendered as one JSON line holding only the logger, level,
the literal message the code wrote and an allow-list of extra fields
(identifiers, enums, counts). Exception messages are dropped (database
errors can quote parameter values); only the exception type and the stack's
file:line:function are kept. Uvicorn's own loggers go through the same
formatter, and its access log is replaced by one that logs the path without
the query string.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime

ALLOWED_FIELDS = frozenset({
    "intake_id", "assignment_id", "worker_id", "outbox_id", "channel", "status", "urgency", "category",
    "kabkota_kode", "tier", "attempts", "delay_s", "new_intake", "inserted", "seconds", "count",
    "method", "path", "status_code", "duration_ms", "error_type", "host", "port", "database",
})

_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class SafeJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            # The format string only, never its arguments: arguments may hold user data.
            "msg": str(record.msg),
        }
        for key, value in record.__dict__.items():
            if key in ALLOWED_FIELDS and key not in _RESERVED:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            out["error_type"] = exc_type.__name__
            out["stack"] = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_tb(tb)][-8:]
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeJsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "httpx", "telegram", "twilio"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("httpx", "httpcore", "telegram", "twilio", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


access_log = logging.getLogger("tepsa.access")


class AccessLogMiddleware:
    """Method, path (no query string: it could carry a number), status and duration."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status_holder = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access_log.info("request", extra={
                "method": scope["method"], "path": scope["path"], "status_code": status_holder["code"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            })
