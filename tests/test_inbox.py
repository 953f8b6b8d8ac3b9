"""The inbox: a WhatsApp message is stored before any 200, then worked off inline (idle) or by the worker (burst)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from tepsa.db import utcnow
from tepsa.intake import inbox
from tepsa.intake.models import Inbox, InboundMessage, Intake
from tepsa.intake.service import IncomingMessage
from tests.conftest import post_twilio, whatsapp_params

REPORT = "tolong anak tetangga saya dipukuli ayahnya sampai berdarah sekarang di kec tenayan raya pekanbaru"


@pytest.fixture
def burst_client(settings, roster_file, engine):
    """The service as it behaves in a burst: every webhook only stores, the worker replies."""
    from fastapi.testclient import TestClient

    from tepsa.app import create_app
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    app = create_app(settings.model_copy(update={"inbox_inline": False, "inbox_poll_seconds": 0.05}))
    with TestClient(app, base_url="https://tepsa.test") as c:
        yield c


def _wait(predicate, seconds=10.0):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_in_a_burst_the_webhook_stores_answers_received_and_the_worker_replies(burst_client, engine, fake_twilio):
    r = post_twilio(burst_client, "/webhooks/twilio/whatsapp", whatsapp_params(REPORT, "SM" + "a1" * 16))
    assert r.status_code == 200 and "sudah kami terima" in r.text and "112" in r.text
    assert _wait(lambda: _count(engine, Intake) == 1)
    sent = fake_twilio.wait_for(1)  # the conversation's real reply, through the outbox
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
        row = s.exec(select(Inbox)).one()
    assert intake.urgency == "darurat" and intake.reference in sent[0]["Body"]
    assert sent[0]["To"] == "whatsapp:+6281200000001"
    assert row.status == "done" and row.message == {}  # the stored copy is dropped once worked off
    # Twilio's retry of the same message: answered as the worker answered, nothing new.
    again = post_twilio(burst_client, "/webhooks/twilio/whatsapp", whatsapp_params(REPORT, "SM" + "a1" * 16))
    assert intake.reference in again.text
    assert _count(engine, InboundMessage) == 1 and len(fake_twilio.messages) == 1


def test_a_reporters_messages_are_worked_off_in_order(engine):
    first = IncomingMessage(channel="whatsapp", provider_sid="SM-order-1", from_phone="+6281200000011", body="halo")
    second = IncomingMessage(channel="whatsapp", provider_sid="SM-order-2", from_phone="+6281200000011", body=REPORT)
    assert inbox.store(engine, first, want_inline=False).inline is False
    # The service is idle again, but an older message still waits: this one must not overtake it.
    assert inbox.store(engine, second, want_inline=True).inline is False
    claimed = inbox.claim(engine)
    assert [m.provider_sid for m in claimed] == ["SM-order-1", "SM-order-2"]
    assert claimed[1].body == REPORT and claimed[1].from_phone == "+6281200000011"
    assert inbox.claim(engine) == []  # leased


def test_a_message_left_by_a_crash_is_worked_off_once(engine, roster_file):
    from tepsa.cli import import_roster_file
    from tepsa.conversation.whatsapp import handle_and_commit

    import_roster_file(engine, roster_file)
    msg = IncomingMessage(channel="whatsapp", provider_sid="SM-crash-1", from_phone="+6281200000012", body=REPORT)
    assert inbox.store(engine, msg, want_inline=True).inline is True
    # The process holding it died: once its lease ends a worker takes it.
    assert inbox.claim(engine) == []
    with Session(engine) as s:
        s.execute(update(Inbox).values(locked_until=utcnow() - timedelta(seconds=1)))
        s.commit()
    (again,) = inbox.claim(engine)
    handle_and_commit(engine, again, deliver=True)
    handle_and_commit(engine, again, deliver=True)  # a second worker after a lost lease: nothing new
    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == 1
        assert s.exec(select(Inbox)).one().status == "done"
        from tepsa.notify.models import Outbox

        replies = [o for o in s.exec(select(Outbox)) if o.dedupe_key.startswith("reply:")]
        assert len(replies) == 1


def test_a_blocked_number_gets_no_received_answer_in_a_burst(burst_client, engine):
    from tepsa.privacy.service import block_number

    with Session(engine) as s:
        block_number(s, "+6281200000013", "spv", "supervisor", "pesan cabul berulang")
        s.commit()
    r = post_twilio(burst_client, "/webhooks/twilio/whatsapp",
                    whatsapp_params("pesan kasar", "SM" + "b3" * 16, phone="+6281200000013"))
    assert r.status_code == 200 and "<Message>" not in r.text
    assert _wait(lambda: _count(engine, InboundMessage) == 1)


def _count(engine, model) -> int:
    with Session(engine) as s:
        return len(s.exec(select(model)).all())


def test_a_message_that_keeps_failing_is_set_aside_and_holds_nothing_back(engine):
    poison = IncomingMessage(channel="whatsapp", provider_sid="SM-poison", from_phone="+6281200000014", body="x")
    later = IncomingMessage(channel="whatsapp", provider_sid="SM-after", from_phone="+6281200000015", body="halo")
    inbox.store(engine, poison, want_inline=False)
    with Session(engine) as s:
        s.execute(update(Inbox).values(attempts=inbox.MAX_ATTEMPTS))
        s.commit()
    assert inbox.claim(engine) == []  # the worker's next look sets the poison aside
    assert inbox.store(engine, later, want_inline=True).inline is True  # nothing waits before this one now
    with Session(engine) as s:
        assert s.exec(select(Inbox.status).where(Inbox.provider_sid == "SM-poison")).one() == "failed"
