#!/usr/bin/env python3
"""The FLOOR for the webhook benchmark: the least a correct WhatsApp webhook must do.

It checks the Twilio signature (same RequestValidator, against PUBLIC_URL + path),
inserts the message durably with the service's own engine settings
(``tepsa.db.make_engine``: SQLite WAL + synchronous=FULL + BEGIN IMMEDIATE, or
PostgreSQL), and answers TwiML. No triage, no intake, no assignment, no outbox.

    TEPSA_DATABASE_URL=... TEPSA_TWILIO_AUTH_TOKEN=... TEPSA_PUBLIC_URL=http://127.0.0.1:PORT \
        .venv/bin/python bench/floor_app.py --port PORT

Served like ``tepsa serve``: one uvicorn process, no access log.
"""

from __future__ import annotations

import argparse
import os

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from tepsa.db import make_engine, utcnow

metadata = MetaData()
floor_message = Table(
    "floor_message", metadata,
    Column("id", Integer, primary_key=True),
    Column("provider_sid", String(64), unique=True, nullable=False),
    Column("from_phone", String(32)),
    Column("body", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


def create_floor_app(database_url: str, token: str, public_url: str) -> FastAPI:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    validator = RequestValidator(token)
    base = public_url.rstrip("/")
    app = FastAPI()

    def store(form: dict) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(insert(floor_message).values(
                    provider_sid=form["MessageSid"], from_phone=form.get("From"), body=form.get("Body", ""),
                    payload=form, received_at=utcnow()))
        except IntegrityError:
            pass  # a provider retry: already stored

    @app.post("/webhooks/twilio/whatsapp")
    async def webhook(request: Request) -> Response:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            raise HTTPException(403, "missing Twilio signature")
        form = await request.form()
        if not validator.validate(base + request.url.path, form, signature):
            raise HTTPException(403, "invalid Twilio signature")
        if not form.get("MessageSid"):
            raise HTTPException(400, "MessageSid missing")
        await run_in_threadpool(store, {k: str(v) for k, v in form.items()})
        twiml = MessagingResponse()
        twiml.message("Terima kasih, laporan Anda sudah kami terima.")
        return Response(content=str(twiml), media_type="application/xml")

    @app.get("/readyz")
    async def readyz() -> dict:
        return {"status": "ready"}

    return app


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8001)
    a = ap.parse_args()
    app = create_floor_app(os.environ["TEPSA_DATABASE_URL"], os.environ["TEPSA_TWILIO_AUTH_TOKEN"],
                           os.environ.get("TEPSA_PUBLIC_URL", f"http://127.0.0.1:{a.port}"))
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
