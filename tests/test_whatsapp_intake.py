"""The foundation path over HTTP: a signed WhatsApp webhook to a worker's Telegram, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import logging
import time

import pytest
from sqlmodel import Session, select

from tepsa.assignment.models import Assignment
from tepsa.intake.models import InboundMessage, Intake
from tepsa.notify.models import Outbox
from tepsa.triage.engine import ruleset_version
from tests.conftest import post_twilio, whatsapp_params

DARURAT = "TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"
PATH = "/webhooks/twilio/whatsapp"


@pytest.fixture
def roster(client, engine, roster_file):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    return roster_file


def _wait_outbox_sent(engine, count: int, timeout: float = 10.0) -> list[Outbox]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as s:
            rows = list(s.exec(select(Outbox).where(Outbox.status == "sent")))
        if len(rows) >= count:
            return rows
        time.sleep(0.05)
    return rows


def test_darurat_report_becomes_one_intake_offered_once_even_when_twilio_retries(client, engine, roster,
                                                                                fake_telegram):
    params = whatsapp_params(DARURAT, "SM" + "a" * 32)
    first = post_twilio(client, PATH, params)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/xml")
    assert "<Response><Message>" in first.text
    # Twilio retries the same MessageSid: same answer, nothing new.
    second = post_twilio(client, PATH, params)
    assert second.status_code == 200
    assert second.text == first.text

    with Session(engine) as s:
        intakes = list(s.exec(select(Intake)))
        assert len(intakes) == 1
        intake = intakes[0]
        assert (intake.urgency, intake.category, intake.kabkota_kode) == ("darurat", "kekerasan_fisik_psikis", "14.71")
        assert intake.ruleset_version == ruleset_version()  # every intake records the rules that judged it
        assert intake.triage_reasons and intake.reference in first.text
        assert len(list(s.exec(select(InboundMessage)))) == 1
        assignments = list(s.exec(select(Assignment)))
        assert len(assignments) == 1 and assignments[0].status == "offered"
        assert assignments[0].candidates[0]["kode"] == "PKU-1"  # nearest active Pekanbaru worker
        assert [c["kode"] for c in assignments[0].candidates][:2] == ["PKU-1", "PKU-2"]

    sent = fake_telegram.wait_for("sendMessage", 1)
    time.sleep(0.3)  # a second send, if any, would show up here
    sent = fake_telegram.sent("sendMessage")
    assert len(sent) == 1
    offer = sent[0].params
    assert str(offer["chat_id"]) == "1001"
    assert intake.reference in offer["text"] and "DARURAT" in offer["text"]
    assert "Tenayan Raya" in offer["text"] and "Pekanbaru" in offer["text"]
    # No report text, no reporter number in the worker's message.
    for private in ("dipukulin", "tetangga", "6281200000001", "081200000001"):
        assert private not in offer["text"]
    assert len(_wait_outbox_sent(engine, 1)) == 1


def test_messages_from_the_same_number_join_the_open_intake(client, engine, roster, fake_telegram):
    r1 = post_twilio(client, PATH, whatsapp_params("assalamualaikum min, mau lapor", "SM" + "b" * 32))
    r2 = post_twilio(client, PATH, whatsapp_params("anak tetangga sy dipukulin bapaknya tiap malem",
                                                   "SM" + "c" * 32))
    r3 = post_twilio(client, PATH, whatsapp_params("di kel. Rejosari kec. Tenayan Raya pekanbaru", "SM" + "d" * 32))
    other = post_twilio(client, PATH, whatsapp_params("halo", "SM" + "e" * 32, phone="+6281200000099"))
    assert all(r.status_code == 200 for r in (r1, r2, r3, other))
    with Session(engine) as s:
        intakes = list(s.exec(select(Intake).order_by(Intake.id)))
        assert len(intakes) == 2
        joined = intakes[0]
        assert len(list(s.exec(select(InboundMessage).where(InboundMessage.intake_id == joined.id)))) == 3
        assert joined.kabkota_kode == "14.71"
        # Located and serious once the place is known: offered.
        assert len(list(s.exec(select(Assignment).where(Assignment.intake_id == joined.id)))) == 1
    # The first answer gives the reference; the next ones ask only what is still missing.
    assert joined.reference in r1.text
    assert "Di mana anak berada" in r2.text
    assert "Di mana anak berada" not in r3.text and "umur" in r3.text


def test_report_without_place_is_kept_unassigned(client, engine, roster, fake_telegram):
    r = post_twilio(client, PATH, whatsapp_params("TOLONG anak tetangga sy lg dipukulin bapaknya skrg", "SM" + "f" * 32))
    assert r.status_code == 200
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
        assert intake.kabkota_kode is None and intake.urgency == "darurat"
        assert s.exec(select(Assignment)).first() is None


def test_location_pin_places_the_child(client, engine, roster, fake_telegram):
    params = whatsapp_params("", "SM" + "g" * 32, Latitude="0.5337", Longitude="101.5351")
    r0 = post_twilio(client, PATH, whatsapp_params("anak tetangga dipukuli bapaknya sekarang, tolong", "SM" + "h" * 32))
    r1 = post_twilio(client, PATH, params)
    assert r0.status_code == r1.status_code == 200
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
        assert intake.kabkota_kode == "14.71"
        assert s.exec(select(Assignment)).one().status == "offered"


@pytest.mark.parametrize("signature", [None, "not-a-signature"])
def test_unsigned_or_wrongly_signed_webhooks_are_refused(client, engine, signature):
    r = post_twilio(client, PATH, whatsapp_params(DARURAT, "SM" + "i" * 32), signature=signature)
    assert r.status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Intake)).first() is None


def test_tampered_body_is_refused(client, engine):
    from tests.conftest import sign

    params = whatsapp_params(DARURAT, "SM" + "j" * 32)
    signature = sign(PATH, params)
    params["Body"] = "something else"
    assert post_twilio(client, PATH, params, signature=signature).status_code == 403


def test_without_auth_token_the_channel_is_closed(settings):
    from fastapi.testclient import TestClient

    from tepsa.app import create_app

    closed = settings.model_copy(update={"twilio_auth_token": None})
    with TestClient(create_app(closed), base_url="https://tepsa.test") as c:
        r = post_twilio(c, PATH, whatsapp_params(DARURAT, "SM" + "k" * 32))
        assert r.status_code == 503
        assert "not configured" in r.text


@pytest.mark.parametrize("drop,extra", [
    ("MessageSid", {}), ("From", {}), (None, {"From": "whatsapp:bukan-nomor"}),
    (None, {"Latitude": "utara", "Longitude": "101"}), (None, {"NumMedia": "banyak"}),
])
def test_signed_webhooks_with_missing_or_odd_fields_get_400(client, engine, drop, extra):
    params = whatsapp_params(DARURAT, "SM" + "m" * 32, **extra)
    if drop:
        params.pop(drop)
        params.pop("SmsMessageSid", None) if drop == "MessageSid" else None
    r = post_twilio(client, PATH, params)
    assert r.status_code == 400
    with Session(engine) as s:
        assert s.exec(select(Intake)).first() is None


def test_logs_never_hold_the_reporters_number_or_text(client, engine, roster, fake_telegram):
    from tepsa.logs import SafeJsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeJsonFormatter())
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    root = logging.getLogger()
    keep = Keep()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    root.addHandler(keep)
    try:
        phone = "+6281377788899"
        post_twilio(client, PATH, whatsapp_params(DARURAT, "SM" + "n" * 32, phone=phone))
        post_twilio(client, PATH, whatsapp_params(DARURAT, "SM" + "n" * 32, phone=phone))  # retry
        post_twilio(client, PATH, whatsapp_params("namanya Siti Rahmawati umur 7", "SM" + "o" * 32, phone=phone))
        fake_telegram.wait_for("sendMessage", 1)
    finally:
        root.removeHandler(handler)
        root.removeHandler(keep)
        root.setLevel(old_level)
    output = stream.getvalue() + "\n".join(str(r.__dict__) for r in records)
    assert "intake: message received" in output  # the log was captured
    for secret in ("81377788899", "0813777", "dipukulin", "Tenayan Raya pekanbaru", "Siti", "Rahmawati"):
        assert secret not in output


def test_telegram_outage_is_retried_and_delivered_exactly_once(client, engine, roster, fake_telegram):
    fake_telegram.fail_next(3, status=502, description="Bad Gateway")
    r = post_twilio(client, PATH, whatsapp_params(DARURAT, "SM" + "p" * 32))
    assert r.status_code == 200
    rows = _wait_outbox_sent(engine, 1)
    assert len(rows) == 1 and rows[0].attempts == 4
    time.sleep(0.3)
    assert len(fake_telegram.sent("sendMessage")) == 4  # three failures, then one delivery


def test_worker_without_telegram_holds_the_offer_until_linked(client, engine, tmp_path, fake_telegram):
    from tepsa.cli import import_roster_file
    from tests.conftest import ROSTER_HEADER

    roster = tmp_path / "r.csv"
    roster.write_text(ROSTER_HEADER + "PKU-9,Belum Terhubung,sakti_peksos,,,14.71,,,1,,\n", encoding="utf-8")
    import_roster_file(engine, roster)
    post_twilio(client, PATH, whatsapp_params(DARURAT, "SM" + "q" * 32))
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline and status != "held":
        with Session(engine) as s:
            status = s.exec(select(Outbox)).one().status
        time.sleep(0.05)
    assert status == "held"
    roster.write_text(ROSTER_HEADER + "PKU-9,Belum Terhubung,sakti_peksos,,7009,14.71,,,1,,\n", encoding="utf-8")
    import_roster_file(engine, roster)
    client.app.state.dispatcher_wake()
    sent = fake_telegram.wait_for("sendMessage", 1)
    assert [str(c.params["chat_id"]) for c in sent] == ["7009"]


@pytest.mark.parametrize("body", [
    "'; DROP TABLE intake; -- anak dipukul",
    "anak\x00\x01\x07 dipukul\u202e\u200b 😭🙏 ز",
    "Robert'); DELETE FROM inbound_message WHERE ('1'='1",
])
def test_hostile_text_is_stored_as_text(client, engine, body):
    r = post_twilio(client, PATH, whatsapp_params(body, "SM" + str(abs(hash(body)))[:32].rjust(32, "0")))
    assert r.status_code == 200
    with Session(engine) as s:
        stored = s.exec(select(InboundMessage)).one()
        assert stored.body == body
        assert len(list(s.exec(select(Intake)))) == 1
