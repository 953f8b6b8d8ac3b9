"""Field workers on Telegram: enrolment, offers, accept/decline, deadlines, escalation, progress, delivery.

The real python-telegram-bot runs inside the service against a local fake Bot API;
updates reach the service's webhook as Telegram would send them.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tepsa.assignment.models import Assignment, Deadline, EnrolmentToken, Worker
from tepsa.db import utcnow
from tepsa.intake.models import Intake, TimelineEvent
from tepsa.notify.models import Outbox
from tests.conftest import PUBLIC_URL, post_twilio, whatsapp_params

DARURAT = "TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret"}
_ids = count(1000)
_sids = count(1)


def message_update(chat_id: int, text: str = "", **extra) -> dict:
    msg = {"message_id": next(_ids), "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
           "from": {"id": chat_id, "is_bot": False, "first_name": "Petugas"}}
    if text:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    msg.update(extra)
    return {"update_id": next(_ids), "message": msg}


def button_update(chat_id: int, data: str) -> dict:
    return {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "from": {"id": chat_id, "is_bot": False, "first_name": "Petugas"},
        "chat_instance": "ci", "data": data,
        "message": {"message_id": next(_ids), "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                    "text": "offer"}}}


def tg(client, update: dict, headers=SECRET):
    return client.post("/webhooks/telegram", json=update, headers=headers)


def report(client, text=DARURAT, phone="+6281200000001"):
    r = post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params(text, f"SM{next(_sids):032d}", phone=phone))
    assert r.status_code == 200


def wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def assignments(engine) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(Assignment, Worker.kode).join(Worker, Worker.id == Assignment.worker_id)
                      .order_by(Assignment.id)).all()
        return [(kode, a.status, a.tier) for a, kode in rows]


def offers_sent(fake, chat_id: str) -> list:
    return [c for c in fake.sent("sendMessage") if str(c.params.get("chat_id")) == chat_id
            and "Kasus baru" in c.params.get("text", "")]


@pytest.fixture
def roster(client, engine, roster_file):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)


def _client(settings, **changes):
    return TestClient(__import__("tepsa.app", fromlist=["create_app"]).create_app(settings.model_copy(update=changes)),
                      base_url=PUBLIC_URL)


# -- enrolment ------------------------------------------------------------------------

def test_enrolment_link_binds_once_and_refuses_used_expired_and_unknown_tokens(client, engine, roster, fake_telegram):
    from tepsa.assignment.enrolment import create_link

    with Session(engine) as s:
        url = create_link(s, "PKU-2", "TepsaBot", 72)
        expired_url = create_link(s, "PKU-2", "TepsaBot", 72)
        s.commit()
    token = url.rsplit("=", 1)[1]
    assert url.startswith("https://t.me/TepsaBot?start=") and re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    with Session(engine) as s:
        assert all(token not in t.token_hash for t in s.exec(select(EnrolmentToken)))  # stored hashed
        tok = s.exec(select(EnrolmentToken).order_by(EnrolmentToken.id.desc())).first()
        tok.expires_at = utcnow() - timedelta(minutes=1)
        s.add(tok)
        s.commit()

    assert tg(client, message_update(5550001, f"/start {token}")).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(Worker).where(Worker.kode == "PKU-2")).one().telegram_chat_id == "5550001"
    welcome = fake_telegram.sent("sendMessage")[-1].params
    assert str(welcome["chat_id"]) == "5550001" and "terhubung" in welcome["text"]

    tg(client, message_update(5550002, f"/start {token}"))  # reused by someone else
    tg(client, message_update(5550003, f"/start {expired_url.rsplit('=', 1)[1]}"))  # expired
    tg(client, message_update(5550004, "/start bukan-token-yang-benar"))  # unknown
    refusals = [c.params for c in fake_telegram.sent("sendMessage") if str(c.params["chat_id"]) in
                ("5550002", "5550003", "5550004")]
    assert len(refusals) == 3 and all("tidak berlaku" in r["text"] for r in refusals)
    with Session(engine) as s:
        assert s.exec(select(Worker).where(Worker.kode == "PKU-2")).one().telegram_chat_id == "5550001"


def test_cli_prints_an_enrolment_link(engine, roster_file, monkeypatch, capsys):
    from tepsa import cli

    cli.import_roster_file(engine, roster_file)
    monkeypatch.setenv("TEPSA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    cli.get_settings.cache_clear()
    try:
        assert cli.main(["workers", "link", "PKU-1"]) == 0
        assert cli.main(["workers", "link", "NOBODY"]) == 2
    finally:
        cli.get_settings.cache_clear()
    assert "https://t.me/" in capsys.readouterr().out


# -- offers ---------------------------------------------------------------------------

def test_offer_has_buttons_a_deadline_and_no_personal_data(client, engine, roster, fake_telegram):
    report(client)
    sent = wait(lambda: offers_sent(fake_telegram, "1001"))
    offer = sent[0].params
    keyboard = offer["reply_markup"]["inline_keyboard"]
    labels = [b["text"] for row in keyboard for b in row]
    assert any("Terima" in t for t in labels) and any("Tolak" in t for t in labels) and any("Detail" in t for t in labels)
    assert all(len(b["callback_data"].encode()) <= 64 for row in keyboard for b in row)
    assert "Jawab sebelum" in offer["text"] and "WIB" in offer["text"]
    for private in ("dipukulin", "tetangga", "6281200000001", "bapaknya"):
        assert private not in offer["text"]


def test_accept_by_the_offered_worker_and_a_stranger_is_refused(client, engine, roster, fake_telegram):
    report(client)
    wait(lambda: offers_sent(fake_telegram, "1001"))
    with Session(engine) as s:
        assignment_id = s.exec(select(Assignment)).one().id
    tg(client, button_update(9999, f"acc:{assignment_id}"))  # not the worker
    assert assignments(engine)[0][1] == "offered"
    answers = fake_telegram.sent("answerCallbackQuery")
    assert answers and "bukan untuk akun Anda" in answers[-1].params.get("text", "")

    tg(client, button_update(1001, f"acc:{assignment_id}"))
    assert assignments(engine)[0][1] == "accepted"
    with Session(engine) as s:
        from tepsa.audit.models import AuditEvent

        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "offer_accepted")).one()
        assert audit.actor.startswith("worker:") and audit.detail["before"] == {"status": "offered"}
        assert audit.detail["after"] == {"status": "accepted"}
    tg(client, button_update(1001, f"acc:{assignment_id}"))  # pressed twice
    assert "sudah" in fake_telegram.sent("answerCallbackQuery")[-1].params.get("text", "")
    assert len(fake_telegram.sent("answerCallbackQuery")) == 3  # every press answered
    with Session(engine) as s:
        assert s.exec(select(Deadline)).one().status == "cancelled"
        kinds = [e.kind for e in s.exec(select(TimelineEvent))]
        assert kinds.count("accepted") == 1


def test_decline_with_a_reason_moves_the_offer_to_the_next_nearest(client, engine, roster, fake_telegram):
    report(client)
    wait(lambda: offers_sent(fake_telegram, "1001"))
    with Session(engine) as s:
        assignment_id = s.exec(select(Assignment)).one().id
    tg(client, button_update(1001, f"dec:{assignment_id}"))
    assert any("Mengapa" in c.params["text"] for c in fake_telegram.sent("sendMessage"))
    tg(client, button_update(1001, f"rsn:{assignment_id}:jauh"))
    assert assignments(engine) == [("PKU-1", "declined", "kabkota"), ("PKU-2", "offered", "kabkota")]
    assert wait(lambda: offers_sent(fake_telegram, "1002"))
    with Session(engine) as s:
        assert s.exec(select(Assignment).where(Assignment.id == assignment_id)).one().decline_reason == "jauh"


def test_time_outs_go_through_three_workers_then_the_desk_then_supervisors(settings, engine, roster_file,
                                                                         fake_telegram):
    from tepsa.auth.service import create_user
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    with Session(engine) as s:
        create_user(s, "spv", "supervisor", "kata-sandi-spv").telegram_chat_id = "7777"
        s.commit()
    with _client(settings, accept_timeout_seconds=1, scheduler_poll_seconds=0.05) as c:
        report(c)
        done = wait(lambda: [m for m in fake_telegram.sent("sendMessage") if str(m.params["chat_id"]) == "7777"],
                    timeout=20)
    assert done and "supervisor" in done[0].params["text"].lower()
    assert assignments(engine) == [("PKU-1", "timed_out", "kabkota"), ("PKU-2", "timed_out", "kabkota"),
                                   ("SIAK-1", "timed_out", "provinsi"), ("BALAI-RUMBAI", "timed_out", "unit")]
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
        assert intake.alert == "desk_no_answer"
        assert all(d.status == "fired" for d in s.exec(select(Deadline)))


def test_a_deadline_survives_a_restart_and_fires_once(settings, engine, roster_file, fake_telegram):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    with _client(settings, accept_timeout_seconds=2, scheduler_poll_seconds=0.05) as c:
        report(c)
        wait(lambda: offers_sent(fake_telegram, "1001"))
    assert assignments(engine) == [("PKU-1", "offered", "kabkota")]  # stopped before the deadline
    time.sleep(2.2)
    with _client(settings, accept_timeout_seconds=2, scheduler_poll_seconds=0.05):
        assert wait(lambda: offers_sent(fake_telegram, "1002"))
        time.sleep(0.5)
    with _client(settings, accept_timeout_seconds=600, scheduler_poll_seconds=0.05):
        time.sleep(0.3)  # a second start finds nothing left to fire
    assert assignments(engine)[:2] == [("PKU-1", "timed_out", "kabkota"), ("PKU-2", "offered", "kabkota")]
    assert len(offers_sent(fake_telegram, "1002")) == 1
    with Session(engine) as s:
        assert [d.status for d in s.exec(select(Deadline).order_by(Deadline.id))] == ["fired", "pending"]


# -- progress, availability, location ----------------------------------------------------

def test_progress_becomes_timeline_events_and_updates_a_reporter_who_is_safe_to_contact(
        client, engine, roster, fake_telegram, fake_twilio):
    report(client)
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
        intake.contact_safe = True
        s.add(intake)
        assignment_id = s.exec(select(Assignment)).one().id
        s.commit()
    tg(client, button_update(1001, f"acc:{assignment_id}"))
    tg(client, button_update(1001, f"prg:{assignment_id}:on_the_way"))
    prompt = next(c.params for c in fake_telegram.sent("sendMessage") if "Perkembangan" in c.params["text"])
    tg(client, message_update(1001, "sudah koordinasi dgn RT", reply_to_message={
        "message_id": 1, "date": int(time.time()), "chat": {"id": 1001, "type": "private"}, "text": prompt["text"]}))
    tg(client, button_update(1001, f"prg:{assignment_id}:closed"))
    with Session(engine) as s:
        events = [(e.kind, e.data.get("step") or e.data.get("note")) for e in s.exec(
            select(TimelineEvent).where(TimelineEvent.kind.in_(["progress", "worker_note"])).order_by(TimelineEvent.id))]
        assert events == [("progress", "on_the_way"), ("worker_note", "sudah koordinasi dgn RT"), ("progress", "closed")]
        assert s.exec(select(Intake)).one().status == "closed"
    bodies = [m["Body"] for m in fake_twilio.wait_for(3)]
    assert any("diteruskan kepada petugas" in b for b in bodies) and any("menuju" in b for b in bodies)


def test_off_duty_workers_get_no_offers_and_kasus_lists_open_cases(client, engine, roster, fake_telegram):
    tg(client, message_update(1001, "/libur"))
    assert any("LIBUR" in c.params["text"] for c in fake_telegram.sent("sendMessage"))
    report(client)
    assert assignments(engine)[0][0] == "PKU-2"
    tg(client, message_update(1001, "/tugas"))
    tg(client, message_update(1002, "/kasus"))
    listing = next(c.params["text"] for c in fake_telegram.sent("sendMessage") if "Kasus terbuka" in c.params["text"])
    with Session(engine) as s:
        reference = s.exec(select(Intake)).one().reference
    assert reference in listing and "Pekanbaru" in listing and "dipukul" not in listing
    with Session(engine) as s:
        assert s.exec(select(Worker).where(Worker.kode == "PKU-1")).one().bertugas is True


def test_sharing_a_location_moves_the_workers_base(client, engine, roster, fake_telegram):
    tg(client, message_update(1002, location={"latitude": 0.51, "longitude": 101.45}))
    with Session(engine) as s:
        w = s.exec(select(Worker).where(Worker.kode == "PKU-2")).one()
        assert (w.lat, w.lon) == (0.51, 101.45)


def test_detail_link_shows_the_case_to_its_worker_only_for_a_while(client, engine, roster, fake_telegram):
    report(client)
    with Session(engine) as s:
        assignment_id = s.exec(select(Assignment)).one().id
    tg(client, button_update(1001, f"det:{assignment_id}"))
    text = next(c.params["text"] for c in fake_telegram.sent("sendMessage") if "/w/kasus/" in c.params["text"])
    url = re.search(r"https?://\S+", text).group(0)
    page = client.get(url.replace(PUBLIC_URL, ""))
    assert page.status_code == 200 and "dipukulin" in page.text
    assert "6281200000001" not in page.text  # contact not said to be safe
    assert client.get("/w/kasus/not-a-token").status_code == 404
    tg(client, button_update(1001, f"acc:{assignment_id}"))
    tg(client, button_update(1001, f"prg:{assignment_id}:closed"))
    assert client.get(url.replace(PUBLIC_URL, "")).status_code == 404  # the case moved on


# -- delivery ---------------------------------------------------------------------------

def test_a_blocked_bot_marks_the_worker_unreachable_sends_sms_and_moves_on(settings, engine, roster_file,
                                                                         fake_telegram, fake_twilio):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    fake_telegram.fail_next(1, status=403, description="Forbidden: bot was blocked by the user")
    with _client(settings, sms_from="TEPSA") as c:
        report(c)
        assert wait(lambda: offers_sent(fake_telegram, "1002"))
        sms = fake_twilio.wait_for(1)
    assert sms[0]["To"] == "+6281200000001" and sms[0]["From"] == "TEPSA"
    assert "dipukul" not in sms[0]["Body"]
    with Session(engine) as s:
        assert s.exec(select(Worker).where(Worker.kode == "PKU-1")).one().reachable is False
    assert assignments(engine)[:2] == [("PKU-1", "undeliverable", "kabkota"), ("PKU-2", "offered", "kabkota")]


def test_rate_limit_waits_retry_after_then_delivers_once(client, engine, roster, fake_telegram):
    fake_telegram.fail_next(1, status=429, description="Too Many Requests: retry after 1", retry_after=1)
    report(client)

    def sent_row():
        with Session(engine) as s:
            row = s.exec(select(Outbox)).one()
            return row if row.status == "sent" else None

    row = wait(sent_row)
    assert row is not None and row.attempts == 2
    first, second = offers_sent(fake_telegram, "1001")  # the refused attempt, then one delivery
    assert second.at - first.at >= 0.9  # Telegram's retry_after was honoured
    time.sleep(0.3)
    assert len(offers_sent(fake_telegram, "1001")) == 2


def test_two_dispatchers_on_postgresql_never_send_twice(engine, fake_telegram):
    import asyncio

    if engine.dialect.name != "postgresql":
        pytest.skip("two dispatchers share rows through FOR UPDATE SKIP LOCKED, a PostgreSQL feature")

    from tepsa.notify.dispatcher import Dispatcher
    from tepsa.notify.service import enqueue
    from tepsa.notify.telegram_sender import TelegramSender

    with Session(engine) as s:
        for n in range(60):
            enqueue(s, channel="telegram", dedupe_key=f"t:{n}", payload={"chat_id": str(8000 + n), "text": f"m{n}"})
        s.commit()

    async def run():
        d1 = Dispatcher(engine, [TelegramSender("1:A", fake_telegram.url)], 0.01)
        d2 = Dispatcher(engine, [TelegramSender("1:A", fake_telegram.url)], 0.01)
        await d1.start(), await d2.start()
        await asyncio.sleep(0)
        for _ in range(200):
            if len(fake_telegram.sent("sendMessage")) >= 60:
                break
            await asyncio.sleep(0.05)
        await d1.stop(), await d2.stop()

    asyncio.run(run())
    chats = [c.params["chat_id"] for c in fake_telegram.sent("sendMessage")]
    assert len(chats) == 60 and len(set(chats)) == 60


# -- the webhook itself ------------------------------------------------------------------

def test_webhook_checks_the_secret_and_handles_each_update_once(client, engine, roster, fake_telegram):
    update = message_update(1001, "/libur")
    assert tg(client, update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
    assert tg(client, update, headers={}).status_code == 403
    assert tg(client, update).status_code == 200
    assert tg(client, update).status_code == 200  # Telegram redelivers
    assert len([c for c in fake_telegram.sent("sendMessage") if "LIBUR" in c.params["text"]]) == 1
    assert client.post("/webhooks/telegram", content=b"{not json", headers=SECRET).status_code == 400
    assert client.post("/webhooks/telegram", json={"hello": 1}, headers=SECRET).status_code == 400


def test_an_admin_creates_an_enrolment_link_in_the_console(client, engine, roster, fake_telegram):
    from tepsa.auth.service import create_user

    with Session(engine) as s:
        create_user(s, "admin-link", "admin", "kata-sandi-admin")
        create_user(s, "op-link", "operator", "kata-sandi-admin")
        s.commit()

    def sign_in(name):
        page = client.get("/masuk")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/masuk", data={"username": name, "password": "kata-sandi-admin", "csrf": csrf},
                    follow_redirects=False)
        return csrf

    sign_in("op-link")
    assert client.get("/admin/petugas").status_code == 403
    csrf = sign_in("admin-link")
    page = client.get("/admin/petugas", params={"q": "PKU"})
    assert "PKU-1" in page.text and "SIAK-1" not in page.text
    r = client.post("/admin/petugas/tautan", data={"csrf": csrf, "kode": "PKU-2"})
    link = re.search(r'value="(https://t\.me/[^"]+)"', r.text).group(1)
    tg(client, message_update(5551234, f"/start {link.rsplit('=', 1)[1]}"))
    with Session(engine) as s:
        assert s.exec(select(Worker).where(Worker.kode == "PKU-2")).one().telegram_chat_id == "5551234"
