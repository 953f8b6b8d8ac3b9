"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable),
the service over HTTP, signed Twilio requests and a fake Telegram Bot API."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

from tepsa.bootstrap import prepare_database
from tepsa.config import Settings
from tepsa.db import make_engine
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio_rest import FakeTwilioRest

# Every log line the whole suite produces, as the service would write it (tests/test_zz_logs.py
# searches it for the fixtures' numbers and words once every other test has run).
import logging  # noqa: E402

from tepsa.logs import SafeJsonFormatter  # noqa: E402


class _SuiteLog(logging.Handler):
    lines: list[str] = []
    raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _SuiteLog.lines.append(self.format(record))
            _SuiteLog.raw.append(record.getMessage())
        except Exception:  # a broken record must not break the suite
            pass


SUITE_LOG = _SuiteLog(level=logging.DEBUG)
SUITE_LOG.setFormatter(SafeJsonFormatter())
logging.getLogger().addHandler(SUITE_LOG)
logging.getLogger().setLevel(logging.INFO)

# Personal data is encrypted at rest; the tests use a throwaway key.
from tepsa import crypto  # noqa: E402

TEST_KEYS = crypto.DataKeys.generate()
crypto.configure(TEST_KEYS)

PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TWILIO_TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://tepsa.test"
MUTABLE_TABLES = ["inbox", "erasure_request", "blocked_number", "audit_event", "login_failure", "outbox", "deadline", "enrolment_token", "assignment", "attachment", "conversation", "voice_call", "provider_event",
                  "timeline_event", "inbound_message", "intake", "worker", "app_user"]

_pg_status: dict[str, str | None] = {}


def _pg_unreachable_reason() -> str | None:
    if "reason" not in _pg_status:
        engine = make_engine(PG_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _pg_status["reason"] = None
        except OperationalError as exc:
            _pg_status["reason"] = f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); PostgreSQL run skipped"
        finally:
            engine.dispose()
    return _pg_status["reason"]


@pytest.fixture(scope="session", params=["sqlite", "pg"])
def database_url(request, tmp_path_factory) -> str:
    """A migrated database with reference data, once per test session and backend."""
    if request.param == "pg":
        reason = _pg_unreachable_reason()
        if reason:
            pytest.skip(reason)
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tepsa-test.db'}"
        engine = make_engine(url)
    prepare_database(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url):
    """The session's database with every mutable table emptied before the test."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for table in MUTABLE_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def telegram_server():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_telegram(telegram_server):
    telegram_server.reset()
    return telegram_server


@pytest.fixture(scope="session")
def twilio_rest_server():
    fake = FakeTwilioRest().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_twilio(twilio_rest_server):
    twilio_rest_server.reset()
    return twilio_rest_server


@pytest.fixture
def settings(engine, fake_telegram, fake_twilio) -> Settings:
    return Settings(
        _env_file=None,
        database_url=str(engine.url.render_as_string(hide_password=False)),
        public_url=PUBLIC_URL,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_account_sid="AC" + "0" * 32,
        twilio_api_url=fake_twilio.url,
        telegram_bot_token="123456:TEST-TOKEN",
        telegram_api_url=fake_telegram.url,
        telegram_webhook_secret="test-webhook-secret",
        secret_key="test-secret-key-for-signing-tokens-0123456789",
        data_keys=TEST_KEYS.to_json(),
        dispatcher_poll_seconds=0.05,
        outbox_backoff_base_seconds=0.05,
    )


@pytest.fixture
def client(settings):
    from fastapi.testclient import TestClient

    from tepsa.app import create_app

    with TestClient(create_app(settings), base_url=PUBLIC_URL) as c:
        yield c


def sign(path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, params)


def post_twilio(client, path: str, params: dict[str, str], signature: str | None = "auto"):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "auto":
        headers["X-Twilio-Signature"] = sign(path, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, content=urlencode(params), headers=headers)


def whatsapp_params(body: str, sid: str, phone: str = "+6281200000001", **extra) -> dict[str, str]:
    params = {
        "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:{phone}", "To": "whatsapp:+6281238888002", "Body": body,
        "NumMedia": "0", "NumSegments": "1", "ProfileName": "Pelapor", "WaId": phone.lstrip("+"),
        "SmsStatus": "received", "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


ROSTER_HEADER = "kode,nama,jenis,telepon,telegram_chat_id,kabkota_kode,lat,lon,aktif,keahlian,kapasitas\n"


@pytest.fixture
def roster_file(tmp_path) -> Path:
    """A small fictional roster around Pekanbaru (Riau) plus the Rumbai unit's desk."""
    content = ROSTER_HEADER + (
        # Tenayan Raya (14.71.10) lies east of the city centre; PKU-1 is nearest to it.
        "PKU-1,Petugas Satu,sakti_peksos,0812-0000-0001,1001,14.71,0.5000,101.5200,1,kekerasan_fisik_psikis,10\n"
        "PKU-2,Petugas Dua,sakti_peksos,+6281200000002,1002,14.71,0.5300,101.3900,ya,,10\n"
        "SIAK-1,Petugas Tiga,sakti_peksos,6281200000003,1003,14.08,0.8000,102.0500,true,,\n"
        "BALAI-RUMBAI,Meja Piket Rumbai,balai,,1009,14.71,0.5900,101.4300,1,,50\n"
        "OFF-1,Petugas Libur,sakti_peksos,,1004,14.71,0.5050,101.5150,0,,10\n"
    )
    path = tmp_path / "roster.csv"
    path.write_text(content, encoding="utf-8")
    return path
