"""Reporters' rights and abuse of the line: HAPUS, blocked numbers, retention."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from tepsa.audit.models import AuditEvent
from tepsa.auth.service import create_user
from tepsa.conversation.models import Conversation
from tepsa.db import utcnow
from tepsa.intake.models import InboundMessage, Intake
from tepsa.privacy.models import ErasureRequest
from tests.conftest import post_twilio, whatsapp_params

PATH = "/webhooks/twilio/whatsapp"
PHONE = "+6281355566677"
REPORT = "anak tetangga sy dipukuli bapaknya di kec. tenayan raya pekanbaru"


def send(client, body, sid, phone=PHONE):
    r = post_twilio(client, PATH, whatsapp_params(body, sid, phone=phone))
    assert r.status_code == 200
    return r.text


def wait(predicate, timeout=10.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_hapus_erases_the_number_within_the_deadline_and_keeps_the_report(client, engine):
    send(client, REPORT, "SM" + "a1" * 16)
    reply = send(client, "HAPUS", "SM" + "a2" * 16)
    assert "3x24 jam" in reply

    def erased():
        with Session(engine) as s:
            req = s.exec(select(ErasureRequest)).one()
            return req.done_at is not None
    assert wait(erased)  # the scheduler carries it out at once
    with Session(engine) as s:
        req = s.exec(select(ErasureRequest)).one()
        assert req.done_at - req.requested_at < timedelta(hours=72)
        intake = s.exec(select(Intake)).one()
        assert intake.reporter_phone is None and intake.reporter_phone_hash is None and intake.contact_safe is False
        messages = list(s.exec(select(InboundMessage)))
        assert messages and all(m.from_phone is None and "From" not in m.payload for m in messages)
        assert messages[0].body == REPORT  # the report about the child stays
        assert s.exec(select(Conversation)).first() is None
        assert "number_erased" in {a.action for a in s.exec(select(AuditEvent))}
    # The next message from that number is a new intake: the old one no longer knows it.
    send(client, "halo", "SM" + "a3" * 16)
    with Session(engine) as s:
        assert len(list(s.exec(select(Intake)))) == 2


def test_a_blocked_number_is_stored_marked_and_never_answered(client, engine):
    with Session(engine) as s:
        create_user(s, "spv2", "supervisor", "kata-sandi-spv2")
        create_user(s, "op2", "operator", "kata-sandi-op2")
        s.commit()
    spv = client.post("/api/v1/auth/token", data={"username": "spv2", "password": "kata-sandi-spv2"}).json()
    op = client.post("/api/v1/auth/token", data={"username": "op2", "password": "kata-sandi-op2"}).json()
    body = {"number": "0813-5556-6677", "reason": "pesan cabul berulang"}
    assert client.post("/api/v1/blocked-numbers", json=body,
                       headers={"Authorization": f"Bearer {op['access_token']}"}).status_code == 403
    assert client.post("/api/v1/blocked-numbers", json=body,
                       headers={"Authorization": f"Bearer {spv['access_token']}"}).status_code == 204
    reply = send(client, "pesan kasar", "SM" + "b1" * 16)
    assert "<Message>" not in reply
    assert "<Message>" not in send(client, "pesan kasar", "SM" + "b1" * 16)  # Twilio's retry: still no answer
    with Session(engine) as s:
        message = s.exec(select(InboundMessage)).one()
        assert message.kind == "blocked" and message.body == "pesan kasar"
        assert s.exec(select(Intake)).one().status == "blocked"
    assert client.post("/api/v1/blocked-numbers/unblock", json=body,
                       headers={"Authorization": f"Bearer {spv['access_token']}"}).status_code == 204
    assert "<Message>" in send(client, "maaf, mau lapor", "SM" + "b2" * 16)


def test_retention_anonymises_old_closed_intakes_only(client, engine, tmp_path):
    from tepsa.privacy.service import run_retention

    send(client, REPORT, "SM" + "c1" * 16)
    send(client, "anak lain dipukul di pekanbaru", "SM" + "c2" * 16, phone="+6281355566600")
    with Session(engine) as s:
        old, recent = s.exec(select(Intake).order_by(Intake.id)).all()
        old.status, recent.status = "closed", "closed"
        old.updated_at = utcnow() - timedelta(days=800)
        s.add(old), s.add(recent)
        s.commit()
        counts = run_retention(s, 730)
        s.commit()
        assert counts["intakes"] == 1
        old, recent = s.exec(select(Intake).order_by(Intake.id)).all()
        assert old.anonymised_at and old.reporter_phone is None and old.triage_reasons == []
        assert (old.urgency, old.category, old.kabkota_kode) != (None, None, None)  # statistics stay
        assert s.exec(select(InboundMessage).where(InboundMessage.intake_id == old.id)).first() is None
        assert recent.anonymised_at is None and recent.reporter_phone is not None
        assert run_retention(s, 730)["intakes"] == 0  # idempotent
