"""The WhatsApp conversation over signed webhooks: questions, answers, commands, follow-ups, updates."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tepsa.assignment.models import Assignment
from tepsa.conversation.models import Conversation
from tepsa.db import utcnow
from tepsa.intake.models import Attachment, InboundMessage, Intake, TimelineEvent
from tepsa.notify.models import Outbox
from tests.conftest import post_twilio, whatsapp_params

PATH = "/webhooks/twilio/whatsapp"
PHONE = "+6281200000123"
_sid = iter(range(10_000, 99_999))


def send(client, body="", phone=PHONE, sid=None, **extra):
    sid = sid or f"SM{next(_sid):032d}"
    r = post_twilio(client, PATH, whatsapp_params(body, sid, phone=phone, **extra))
    assert r.status_code == 200, r.text
    return r.text, sid


@pytest.fixture
def roster(client, engine, roster_file):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)


def one_intake(engine) -> Intake:
    with Session(engine) as s:
        return s.exec(select(Intake)).one()


def test_report_without_place_asks_where_then_a_pin_places_and_assigns_it_and_status_answers(client, engine, roster):
    reply, _ = send(client, "tolong min anak tetangga sy dipukulin bapaknya tiap hari sampai memar")
    intake = one_intake(engine)
    assert intake.reference in reply and "Di mana anak berada" in reply
    assert intake.kabkota_kode is None
    with Session(engine) as s:
        assert s.exec(select(Assignment)).first() is None

    reply, _ = send(client, "", Latitude="0.5337", Longitude="101.5351")  # shared location in Tenayan Raya
    intake = one_intake(engine)
    assert intake.kabkota_kode == "14.71" and intake.kecamatan_kode == "14.71.10"
    with Session(engine) as s:
        assert s.exec(select(Assignment)).one().status == "offered"
    assert "umur" in reply  # the next missing fact

    reply, _ = send(client, "status")
    assert intake.reference in reply and "Petugas sosial sudah ditugaskan" in reply
    with Session(engine) as s:
        assert len(list(s.exec(select(Intake)))) == 1
        assert len(list(s.exec(select(InboundMessage)))) == 3


def test_answers_fill_the_intake_and_yes_to_danger_raises_it_to_darurat(client, engine, roster, fake_twilio):
    send(client, "anak tetangga sy sering dipukuli ibunya di kec. tenayan raya pekanbaru")
    assert one_intake(engine).urgency == "tinggi"
    reply, _ = send(client, "umurnya 7 th")
    assert one_intake(engine).age == 7 and "bahaya saat ini" in reply
    reply, _ = send(client, "iyaaa")
    intake = one_intake(engine)
    assert intake.danger_now is True and intake.urgency == "darurat"
    assert any(r["rule"] == "reporter.floor" for r in intake.triage_reasons)
    assert "aman" in reply and "menghubungi Anda" in reply
    reply, _ = send(client, "ya aman")
    assert "Kapan waktu" in reply
    reply, _ = send(client, "siang hari")
    assert "setuju" in reply
    reply, _ = send(client, "setuju")
    intake = one_intake(engine)
    assert (intake.contact_safe, intake.contact_time, intake.consent) == (True, "siang hari", True)
    assert intake.reference in reply and "sudah lengkap" in reply
    # Contact is safe and a worker was offered the case: one update goes out through Twilio.
    sent = fake_twilio.wait_for(1)
    assert len(sent) == 1
    assert sent[0]["To"] == f"whatsapp:{PHONE}" and intake.reference in sent[0]["Body"]
    assert "dipukuli" not in sent[0]["Body"]
    with Session(engine) as s:
        # The short answers are stored but never triaged as report text.
        kinds = [m.kind for m in s.exec(select(InboundMessage).order_by(InboundMessage.id))]
        assert kinds == ["report", "answer", "answer", "answer", "answer", "answer"]


def test_unsafe_contact_means_no_message_to_the_reporter(client, engine, roster, fake_twilio):
    reply, _ = send(client, "anak sy sering dipukuli suami sy di kec. tenayan raya pekanbaru umur 9 th")
    assert "bahaya saat ini" in reply
    reply, _ = send(client, "tidak")
    assert "menghubungi Anda" in reply
    reply, _ = send(client, "tidak, hp ini juga dipakai suami")
    intake = one_intake(engine)
    assert intake.contact_safe is False
    assert "Kapan waktu" not in reply
    time.sleep(0.3)
    assert fake_twilio.messages == []
    with Session(engine) as s:
        assert s.exec(select(Outbox).where(Outbox.channel == "whatsapp")).first() is None


def test_unclear_yes_no_is_asked_again_once(client, engine, roster):
    send(client, "anak tetangga sy sering dipukuli ibunya di kec. tenayan raya pekanbaru umur 8 th")
    reply, _ = send(client, "hmm gimana ya")
    assert "Mohon balas YA atau TIDAK" in reply
    reply, _ = send(client, "tidak")
    assert one_intake(engine).danger_now is False


@pytest.mark.parametrize("typed", ["STATUS", "status", "Statsu", "  status  "])
def test_status_with_typos_and_for_this_number_only(client, engine, roster, typed):
    send(client, "anak tetangga sy dipukuli bapaknya di pekanbaru")
    reference = one_intake(engine).reference
    reply, _ = send(client, typed)
    assert reference in reply
    other, _ = send(client, typed, phone="+6281200000999")
    assert reference not in other and "Belum ada laporan" in other
    with Session(engine) as s:
        assert len(list(s.exec(select(Intake)))) == 1  # STATUS from a stranger opens nothing


def test_batal_stops_the_questions_but_keeps_the_report(client, engine, roster):
    send(client, "anak tetangga sy dipukuli bapaknya")
    reply, _ = send(client, "BATAL")
    intake = one_intake(engine)
    assert intake.reference in reply and "tidak akan bertanya lagi" in reply
    reply, _ = send(client, "oh iya anaknya perempuan")
    message = reply.split("<Message>", 1)[1].split("</Message>", 1)[0]
    assert "?" not in message and "informasi tambahan" in message  # no further questions
    with Session(engine) as s:
        assert s.exec(select(Conversation)).one().state == "stopped"
        assert intake.status == "open"


def test_darurat_command_takes_the_emergency_path(client, engine, roster):
    reply, _ = send(client, "darurat")
    intake = one_intake(engine)
    assert intake.urgency == "darurat" and intake.urgency_floor == "darurat"
    assert "DARURAT" in reply and "112" in reply and "Di mana anak" in reply
    send(client, "di kec. tenayan raya pekanbaru, anak dipukuli")
    with Session(engine) as s:
        assert s.exec(select(Assignment)).one().status == "offered"


def test_media_are_kept_as_attachments(client, engine, roster):
    send(client, "ini fotonya min", NumMedia="2",
         MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
         MediaContentType0="image/jpeg",
         MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME2",
         MediaContentType1="audio/ogg")
    with Session(engine) as s:
        kinds = sorted(a.kind for a in s.exec(select(Attachment)))
        assert kinds == ["audio", "image"]


def test_a_retried_message_gets_the_same_answer_and_changes_nothing(client, engine, roster):
    send(client, "anak tetangga sy dipukuli bapaknya di pekanbaru")
    first, sid = send(client, "9 tahun")
    again, _ = send(client, "9 tahun", sid=sid)
    assert again == first
    with Session(engine) as s:
        assert len(list(s.exec(select(InboundMessage)))) == 2


def test_the_conversation_survives_a_restart(settings, engine, roster_file):
    from fastapi.testclient import TestClient

    from tepsa.app import create_app
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    with TestClient(create_app(settings), base_url="https://tepsa.test") as c1:
        reply, _ = send(c1, "anak tetangga sy dipukuli bapaknya di kec. tenayan raya pekanbaru")
        assert "umur" in reply
    with TestClient(create_app(settings), base_url="https://tepsa.test") as c2:  # a new process, same database
        reply, _ = send(c2, "sebelas tahun")
    assert one_intake(engine).age == 11 and "bahaya saat ini" in reply


def test_after_a_day_of_silence_a_message_is_a_follow_up_on_the_same_intake(client, engine, roster):
    send(client, "anak tetangga sy dipukuli bapaknya di kec. tenayan raya pekanbaru")
    with Session(engine) as s:
        conv = s.exec(select(Conversation)).one()
        conv.last_inbound_at = utcnow() - timedelta(hours=25)
        s.add(conv)
        s.commit()
    reply, _ = send(client, "min anak itu dipukul lagi tadi malam")
    intake = one_intake(engine)
    assert "tindak lanjut" in reply and intake.reference in reply
    with Session(engine) as s:
        states = sorted(c.state for c in s.exec(select(Conversation)))
        assert states == ["active", "closed"]
        kinds = [e.kind for e in s.exec(select(TimelineEvent).where(TimelineEvent.intake_id == intake.id))]
        assert "follow_up" in kinds


def test_outside_the_24_hour_window_a_template_is_used():
    from tepsa.notify.senders import PermanentSendError
    from tepsa.notify.service import Claimed
    from tepsa.notify.whatsapp_sender import WhatsAppSender

    past = (utcnow() - timedelta(hours=1)).isoformat()
    future = (utcnow() + timedelta(hours=1)).isoformat()
    msg = lambda window: Claimed(1, "whatsapp", {"to": PHONE, "text": "t", "reference": "K7M-4QX",  # noqa: E731
                                                 "window_until": window}, 1, None)
    inside = WhatsAppSender("AC" + "0" * 32, "tok", "whatsapp:+6281238888002")._params(msg(future))
    assert inside["body"] == "t" and "content_sid" not in inside
    templated = WhatsAppSender("AC" + "0" * 32, "tok", "whatsapp:+6281238888002", template_sid="HX123")._params(msg(past))
    assert templated["content_sid"] == "HX123" and "body" not in templated and "K7M-4QX" in templated["content_variables"]
    with pytest.raises(PermanentSendError):
        WhatsAppSender("AC" + "0" * 32, "tok", "whatsapp:+6281238888002")._params(msg(past))
