"""Reliability: the real service process killed, doubled and cut off from its database.

Each test runs ``tepsa serve`` as separate processes (tests/fakes/service_process.py)
against the local fake Telegram Bot API and fake Twilio REST API, and talks to
them only through signed Twilio webhooks, as Twilio would. The databases are
this file's own (SQLite files, and PostgreSQL databases ``reliab_*`` next to
the suite's ``test``, which other runs may be using at the same time).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, func, select

from tepsa.assignment.models import Assignment, Deadline, Worker
from tepsa.bootstrap import prepare_database
from tepsa.db import make_engine, utcnow
from tepsa.intake.models import Inbox, InboundMessage, Intake, TimelineEvent
from tepsa.notify.models import Outbox
from tepsa.notify.service import LEASE
from tests.conftest import (PG_URL, PUBLIC_URL, ROSTER_HEADER, TEST_KEYS, TWILIO_TOKEN, _pg_unreachable_reason, sign,
                            whatsapp_params)
from tests.fakes.service_process import ServiceProcess
from tests.fakes.tcp_proxy import TcpProxy

PATH = "/webhooks/twilio/whatsapp"
DARURAT = "TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"
SUPERVISOR_CHAT = "7777"

# The conftest roster's places, with room for every report of a test (capacity 100).
ROSTER = ROSTER_HEADER + (
    "PKU-1,Petugas Satu,sakti_peksos,,1001,14.71,0.5000,101.5200,1,kekerasan_fisik_psikis,100\n"
    "PKU-2,Petugas Dua,sakti_peksos,,1002,14.71,0.5300,101.3900,1,,100\n"
    "SIAK-1,Petugas Tiga,sakti_peksos,,1003,14.08,0.8000,102.0500,1,,100\n"
    "BALAI-RUMBAI,Meja Piket Rumbai,balai,,1009,14.71,0.5900,101.4300,1,,100\n"
)


@pytest.fixture(autouse=True)
def _quiet_http_client_log():
    """One log line per request from the test's own HTTP client would bury a failure's output."""
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


# -- databases ---------------------------------------------------------------------------

def fresh_pg_database(name: str) -> str:
    """``name`` on the suite's PostgreSQL server, created when missing and emptied; never ``test``."""
    reason = _pg_unreachable_reason()
    if reason:
        pytest.skip(reason)
    assert name != make_url(PG_URL).database
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


def prepared_engine(url: str, tmp_path: Path, supervisor: bool = False):
    """Migrated, reference data loaded, the roster imported (workers linked to Telegram)."""
    from tepsa.cli import import_roster_file

    engine = make_engine(url)
    prepare_database(engine)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    import_roster_file(engine, roster)
    if supervisor:
        from tepsa.auth.service import create_user

        with Session(engine) as s:
            create_user(s, "spv-reliab", "supervisor", "kata-sandi-spv-reliab").telegram_chat_id = SUPERVISOR_CHAT
            s.commit()
    return engine


# -- the service process and its callers -----------------------------------------------------

def service_env(database_url: str, fake_telegram, fake_twilio, **overrides) -> dict[str, str]:
    env = {
        "TEPSA_DATABASE_URL": database_url,
        "TEPSA_PUBLIC_URL": PUBLIC_URL,
        "TEPSA_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TEPSA_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TEPSA_TWILIO_API_URL": fake_twilio.url,
        "TEPSA_TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN",
        "TEPSA_TELEGRAM_API_URL": fake_telegram.url,
        "TEPSA_TELEGRAM_WEBHOOK_SECRET": "test-webhook-secret",
        "TEPSA_SECRET_KEY": "test-secret-key-for-signing-tokens-0123456789",
        "TEPSA_DATA_KEYS": TEST_KEYS.to_json(),
        "TEPSA_DISPATCHER_POLL_SECONDS": "0.2",
        "TEPSA_SCHEDULER_POLL_SECONDS": "0.2",
        "TEPSA_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
        "TEPSA_ACCEPT_TIMEOUT_SECONDS": "3600",
        "TEPSA_RETENTION_EVERY_HOURS": "1000",
    }
    env.update({f"TEPSA_{k.upper()}": str(v) for k, v in overrides.items()})
    return env


@dataclass
class Outcome:
    sid: str
    phone: str
    status: int | None  # None: no answer (connection refused or cut)
    error: str | None
    body: str
    started: float
    ended: float
    retry_after: str | None = None


def report_set(n: int) -> list[tuple[str, str]]:
    """``n`` reports, each with its own MessageSid and reporter (so its own intake)."""
    base = uuid.uuid4().int % 10**6
    return [("SM" + uuid.uuid4().hex, f"+62813{(base * 100 + i) % 10**8:08d}") for i in range(n)]


def post_report(base_url: str, sid: str, phone: str, timeout: float = 30.0) -> Outcome:
    params = whatsapp_params(DARURAT, sid, phone=phone)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(PATH, params)}
    started = time.monotonic()
    try:
        r = httpx.post(base_url + PATH, content=urlencode(params), headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return Outcome(sid, phone, None, type(exc).__name__, "", started, time.monotonic())
    return Outcome(sid, phone, r.status_code, None, r.text, started, time.monotonic(), r.headers.get("retry-after"))


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def offers_by_assignment(fake) -> Counter:
    """How many times the fake Telegram received each assignment's offer (its Terima button names it)."""
    counts: Counter = Counter()
    for call in fake.sent("sendMessage"):
        markup = call.params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        for row in rows:
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith("acc:"):
                    counts[int(data[4:])] += 1
    return counts


def messages_by_sid(engine) -> dict[str, list[tuple[int, int]]]:
    """provider_sid -> [(inbound_message.id, intake_id)], every row (duplicates would show)."""
    with Session(engine) as s:
        rows = s.exec(select(InboundMessage.provider_sid, InboundMessage.id, InboundMessage.intake_id)).all()
    out: dict[str, list[tuple[int, int]]] = {}
    for sid, mid, intake_id in rows:
        out.setdefault(sid, []).append((mid, intake_id))
    return out


RECEIVED = "sudah kami terima"  # the busy webhook's answer (channels/whatsapp.yaml received_later)


def inbox_sids(engine, status: str) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(Inbox.provider_sid).where(Inbox.status == status)).all())


def rows_per_intake(engine) -> dict[int, tuple[int, int, int, int]]:
    """intake id -> (messages, assignments, Telegram outbox rows, timeline events)."""
    with Session(engine) as s:
        def counts(model, *where):
            return dict(s.exec(select(model.intake_id, func.count()).where(*where).group_by(model.intake_id)).all())

        messages, assignments = counts(InboundMessage), counts(Assignment)
        outbox, timeline = counts(Outbox, Outbox.channel == "telegram"), counts(TimelineEvent)
        ids = s.exec(select(Intake.id)).all()
    return {i: (messages.get(i, 0), assignments.get(i, 0), outbox.get(i, 0), timeline.get(i, 0)) for i in ids}


def assignment_ids(engine) -> list[int]:
    with Session(engine) as s:
        return list(s.exec(select(Assignment.id).order_by(Assignment.id)).all())


def stream(base_url: str, reports, concurrency: int = 3, into: list[Outcome] | None = None) -> list[Outcome]:
    """Send every report, ``concurrency`` at a time; each outcome is appended to ``into`` as it comes."""
    into = [] if into is None else into
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(post_report, base_url, *r) for r in reports]:
            future.add_done_callback(lambda f: into.append(f.result()))
    return sorted(into, key=lambda o: o.started)


# -- 1. crash ------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "pg"])
def test_sigkill_mid_stream_loses_no_answered_report_and_retries_create_nothing(backend, tmp_path, fake_telegram,
                                                                               fake_twilio):
    """SIGKILL while reports stream in, restart on the same database, Twilio retries every report.

    Every report answered 200 before the kill is in the database (it was committed before the
    answer); the retries of those create nothing new; the others are stored exactly once; every
    assignment's offer reaches Telegram after the restart, at most once more than needed. Offers
    the killed process had claimed stay leased to it for 60 seconds; the test ends that lease
    instead of waiting (``end_leases``).
    """
    url = (f"sqlite:///{tmp_path / 'crash.db'}" if backend == "sqlite" else fresh_pg_database("reliab_crash"))
    engine = prepared_engine(url, tmp_path)
    service = ServiceProcess(service_env(url, fake_telegram, fake_twilio), tmp_path / "svc", "crash")
    reports = report_set(60)
    try:
        service.start()
        first_url = service.url
        outcomes: list[Outcome] = []
        streamer = threading.Thread(target=stream, args=(first_url, reports), kwargs={"into": outcomes}, daemon=True)
        streamer.start()
        # Kill once part of the stream was answered, while the rest is still coming in.
        answered_early = wait_until(lambda: sum(o.status == 200 for o in list(outcomes)) >= 10, timeout=40,
                                    interval=0.01)
        assert answered_early, "the service answered too little before the kill:\n" + service.tail()
        service.kill()
        streamer.join(timeout=60)
        assert not streamer.is_alive()

        answered = {o.sid for o in outcomes if o.status == 200}
        assert all(o.status in (200, None) for o in outcomes), [(o.status, o.error) for o in outcomes]
        assert answered and len(answered) < len(reports), "the kill did not land mid-stream"

        # Before any restart: every report answered 200 is in the database, once: handled, or
        # waiting in the inbox (a busy webhook answers "received" once the message is stored).
        stored = messages_by_sid(engine)
        waiting = inbox_sids(engine, "pending")
        lost = sorted(answered - set(stored) - waiting)
        assert not lost, f"answered 200 but not stored: {lost}"
        assert all(len(rows) == 1 for rows in stored.values())
        before = rows_per_intake(engine)
        end_leases(engine)  # offers and inbox rows the dead process held: their lease is over
        answered_intakes = {stored[sid][0][1] for sid in answered if sid in stored}

        service.start()  # same database, new process
        retries = stream(service.url, reports)
        assert [o.status for o in retries] == [200] * len(reports), [(o.status, o.error) for o in retries]
        for o in outcomes:
            if o.status == 200 and RECEIVED not in o.body:  # a handled report's retry gets the same answer
                assert next(r.body for r in retries if r.sid == o.sid) == o.body
        assert wait_until(lambda: not inbox_sids(engine, "pending"), timeout=60), "the inbox was not worked off"

        stored_after = messages_by_sid(engine)
        assert set(stored_after) == {sid for sid, _ in reports}
        assert all(len(rows) == 1 for rows in stored_after.values()), "a retry stored a message twice"
        handled = {sid for sid in answered if sid in stored}  # handled before the kill: untouched since
        assert {sid: stored_after[sid] for sid in handled} == {sid: stored[sid] for sid in handled}
        after = rows_per_intake(engine)
        assert len(after) == len(reports)  # one intake per reporter
        assert {i: after[i] for i in answered_intakes} == {i: before[i] for i in answered_intakes}
        assert all(counts[:3] == (1, 1, 1) for counts in after.values()), "one message, offer and outbox row each"

        # Every assignment's offer reaches the worker after the restart; at most one duplicate.
        ids = assignment_ids(engine)
        assert len(ids) == len(reports)
        delivered = wait_until(lambda: all(offers_by_assignment(fake_telegram)[i] >= 1 for i in ids), timeout=30)
        assert delivered, f"offers never delivered: {[i for i in ids if not offers_by_assignment(fake_telegram)[i]]}"
        wait_until(lambda: _outbox_settled(engine), timeout=15)
        time.sleep(0.5)
        counts = offers_by_assignment(fake_telegram)
        assert set(counts) == set(ids)
        assert all(1 <= counts[i] <= 2 for i in ids), {i: counts[i] for i in ids if counts[i] > 2}
        with Session(engine) as s:
            assert set(s.exec(select(Outbox.status)).all()) == {"sent"}
        assert service.alive()
    finally:
        service.stop()
        engine.dispose()


def end_leases(engine, claimed_before=None) -> int:
    """End the 60-second lease of outbox rows whose sender died or could not record the outcome.

    The dispatcher takes such rows again once their lease is over (at-least-once delivery);
    moving the end of the lease to now stands for waiting those 60 seconds. With
    ``claimed_before``, only rows claimed before that moment.
    """
    from sqlalchemy import update

    stmt = update(Outbox).where(Outbox.status == "sending")
    if claimed_before is not None:
        stmt = stmt.where(Outbox.locked_until < claimed_before + LEASE)
    with Session(engine) as s:
        result = s.execute(stmt.values(locked_until=utcnow() - timedelta(seconds=1)))
        if claimed_before is None:  # inbox rows the dead process was working off: the same 60 s lease
            s.execute(update(Inbox).where(Inbox.status == "pending").values(locked_until=utcnow() - timedelta(seconds=1)))
        s.commit()
        return result.rowcount or 0


def _outbox_settled(engine) -> bool:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Outbox).where(Outbox.status != "sent")).one() == 0


# -- 2. several instances -----------------------------------------------------------------------

def test_two_instances_on_one_postgresql_share_the_stream_without_duplicates(tmp_path, fake_telegram, fake_twilio):
    """Two service processes on one PostgreSQL database get the same stream and the same retries.

    Each report goes to both instances, alternating which one first: half as a retry after the
    first answer, half as two deliveries at the same moment.
    No report is stored twice, each offer reaches Telegram exactly once, and with a two-second
    accept deadline every deadline fires exactly once as the case moves PKU-1 -> PKU-2 -> SIAK-1
    -> the unit's desk -> supervisors.
    """
    url = fresh_pg_database("reliab_multi")
    engine = prepared_engine(url, tmp_path, supervisor=True)
    env = service_env(url, fake_telegram, fake_twilio, accept_timeout_seconds=2)
    instances = [ServiceProcess(env, tmp_path / "a", "a"), ServiceProcess(env, tmp_path / "b", "b")]
    reports = report_set(12)
    try:
        for instance in instances:
            instance.start()
        def deliver_twice(n: int) -> list[Outcome]:
            sid, phone = reports[n]
            urls = [instances[n % 2].url, instances[(n + 1) % 2].url]
            if n % 4 < 2:  # Twilio's retry after the first answer
                return [post_report(url, sid, phone) for url in urls]
            barrier = threading.Barrier(2)  # the retry while the first delivery is still being handled

            def at_once(url):
                barrier.wait(timeout=30)
                return post_report(url, sid, phone)

            with ThreadPoolExecutor(2) as both:
                return list(both.map(at_once, urls))

        with ThreadPoolExecutor(2) as pool:
            outcomes = [o for pair in pool.map(deliver_twice, range(len(reports))) for o in pair]
        assert [o.status for o in outcomes] == [200] * len(outcomes), [(o.status, o.error) for o in outcomes]
        by_sid: dict[str, set[str]] = {}
        for o in outcomes:
            by_sid.setdefault(o.sid, set()).add(o.body)
        # Both deliveries are answered alike, except that a busy instance may answer "received" first
        # (the reply then comes through the outbox, or in the answer to the retry).
        assert all(len(bodies - {b for b in bodies if RECEIVED in b}) <= 1 for bodies in by_sid.values()), \
            "both instances answer a report the same way"

        # Reports a busy instance answered "received" are worked off by an inbox worker first.
        assert wait_until(lambda: not inbox_sids(engine, "pending"), timeout=60), "the inbox was not worked off"
        stored = messages_by_sid(engine)
        assert set(stored) == {sid for sid, _ in reports}
        assert all(len(rows) == 1 for rows in stored.values()), "a report was stored twice"
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(Intake)).one() == len(reports)

        def chains_done():
            with Session(engine) as s:
                return s.exec(select(func.count()).select_from(Intake)
                              .where(Intake.alert == "desk_no_answer")).one() == len(reports)

        assert wait_until(chains_done, timeout=45), "deadlines did not carry every case to the supervisors"
        expected_offers = 4 * len(reports)
        wait_until(lambda: sum(offers_by_assignment(fake_telegram).values()) >= expected_offers
                   and _supervisor_alerts(fake_telegram) >= len(reports), timeout=15)
        wait_until(lambda: _outbox_settled(engine), timeout=15)
        time.sleep(1.0)  # a second firing or a second send, if any, would show up by now

        with Session(engine) as s:
            chains = {}
            for a, kode in s.exec(select(Assignment, Worker.kode).join(Worker, Worker.id == Assignment.worker_id)
                                  .order_by(Assignment.id)):
                chains.setdefault(a.intake_id, []).append((kode, a.status, a.tier))
            deadlines = list(s.exec(select(Deadline)))
            events = list(s.exec(select(TimelineEvent).where(
                col(TimelineEvent.kind).in_(["offered", "timed_out", "supervisor_alert"]))))
            outbox = list(s.exec(select(Outbox)))
        expected_chain = [("PKU-1", "timed_out", "kabkota"), ("PKU-2", "timed_out", "kabkota"),
                          ("SIAK-1", "timed_out", "provinsi"), ("BALAI-RUMBAI", "timed_out", "unit")]
        assert len(chains) == len(reports)
        assert all(chain == expected_chain for chain in chains.values()), chains
        ids = assignment_ids(engine)
        # Every deadline fired exactly once: one row per offer, fired, one time-out event and one next step each.
        assert sorted(d.assignment_id for d in deadlines) == ids
        assert {d.status for d in deadlines} == {"fired"}
        timed_out = Counter(e.data["assignment_id"] for e in events if e.kind == "timed_out")
        offered = Counter(e.data["assignment_id"] for e in events if e.kind == "offered")
        assert timed_out == Counter(ids) and offered == Counter(ids)
        assert Counter(e.intake_id for e in events if e.kind == "supervisor_alert") == Counter(list(chains))
        # One offer per assignment reached Telegram, and one alert per case reached the supervisor.
        assert offers_by_assignment(fake_telegram) == Counter(ids)
        assert _supervisor_alerts(fake_telegram) == len(reports)
        telegram_rows = [row for row in outbox if row.channel == "telegram"]
        assert len(telegram_rows) == expected_offers + len(reports)
        # WhatsApp replies of reports a busy instance answered with "received": at most one per report.
        replies = Counter(row.dedupe_key for row in outbox if row.channel == "whatsapp")
        assert all(key.startswith("reply:") and n == 1 for key, n in replies.items()), replies
        assert all(row.status == "sent" and row.attempts == 1 for row in outbox), "an outbox row was sent twice"
        assert all(instance.alive() for instance in instances)
    finally:
        for instance in instances:
            instance.stop()
        engine.dispose()


def _supervisor_alerts(fake) -> int:
    return sum(1 for c in fake.sent("sendMessage") if str(c.params.get("chat_id")) == SUPERVISOR_CHAT)


# -- 3. database outage --------------------------------------------------------------------------

OUTAGE_SECONDS = 10.0


def test_postgresql_outage_answers_503_and_recovers_without_a_restart(tmp_path, fake_telegram, fake_twilio):
    """PostgreSQL goes away for ten seconds while reports stream in.

    The outage is simulated at the network level: the service reaches PostgreSQL through a TCP
    proxy (tests/fakes/tcp_proxy.py) that breaks every open connection and refuses new ones for
    ten seconds. The machine's PostgreSQL server is shared with other test runs, so stopping it
    is not an option; to the service the two look the same (connections reset, then refused).

    During the outage every webhook answers 503 with Retry-After (Twilio retries), never 200
    without a write and never 500; every report answered 200 is stored; afterwards the same
    process answers 200 again, and the refused reports, retried, are stored exactly once.
    """
    url = fresh_pg_database("reliab_outage")
    engine = prepared_engine(url, tmp_path)
    pg = make_url(url)
    proxy = TcpProxy(pg.host or "127.0.0.1", pg.port or 5432).start()
    proxied_url = pg.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    service = ServiceProcess(service_env(proxied_url, fake_telegram, fake_twilio), tmp_path / "svc", "outage")
    outcomes: list[Outcome] = []
    stop = threading.Event()
    reports = iter(report_set(400))

    def streamer():
        while not stop.is_set():
            outcomes.append(post_report(service.url, *next(reports), timeout=30))
            time.sleep(0.3)

    threads = [threading.Thread(target=streamer, daemon=True) for _ in range(2)]
    try:
        service.start()
        pid = service.pid
        for t in threads:
            t.start()
        assert wait_until(lambda: sum(o.status == 200 for o in list(outcomes)) >= 6, timeout=30), service.tail()

        cut_at = time.monotonic()
        proxy.cut()
        readyz_down = wait_until(lambda: _readyz(service.url) == 503, timeout=OUTAGE_SECONDS / 2)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
        restored_at, restored_utc = time.monotonic(), utcnow()
        proxy.restore()
        recovered = wait_until(lambda: sum(o.status == 200 and o.started > restored_at for o in list(outcomes)) >= 6,
                               timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=40)
        assert readyz_down, "readiness did not report the database down"
        assert recovered, "the service did not answer 200 again after the database came back:\n" + service.tail()
        assert service.alive() and service.pid == pid, "recovered without a restart"
        assert _readyz(service.url) == 200

        assert all(o.status in (200, 503) for o in outcomes), Counter((o.status, o.error) for o in outcomes)
        during = [o for o in outcomes if o.started > cut_at + 0.5 and o.ended < restored_at]
        assert len(during) >= 5, "too few reports arrived during the outage"
        assert all(o.status == 503 for o in during), Counter(o.status for o in during)
        assert all(o.retry_after for o in outcomes if o.status == 503)
        refused = [o for o in outcomes if o.status == 503]

        stored = messages_by_sid(engine)
        lost = [o.sid for o in outcomes if o.status == 200 and o.sid not in stored]
        assert not lost, f"answered 200 but not stored: {lost}"

        # Twilio retries the refused reports: each is stored exactly once.
        retries = [post_report(service.url, o.sid, o.phone) for o in refused]
        assert [r.status for r in retries] == [200] * len(refused)
        stored = messages_by_sid(engine)
        assert set(stored) == {o.sid for o in outcomes}
        assert all(len(rows) == 1 for rows in stored.values()), "a report was stored twice"
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(Intake)).one() == len(outcomes)

        # The dispatcher came back too: every offer reaches Telegram, at most once more than needed.
        end_leases(engine, claimed_before=restored_utc)  # sent during the cut, outcome not recorded
        ids = assignment_ids(engine)
        assert len(ids) == len(outcomes)
        assert wait_until(lambda: all(offers_by_assignment(fake_telegram)[i] >= 1 for i in ids), timeout=30)
        wait_until(lambda: _outbox_settled(engine), timeout=15)
        counts = offers_by_assignment(fake_telegram)
        assert all(1 <= counts[i] <= 2 for i in ids), {i: counts[i] for i in ids if counts[i] > 2}
    finally:
        stop.set()
        service.stop()
        proxy.stop()
        engine.dispose()


def _readyz(base_url: str) -> int | None:
    try:
        return httpx.get(base_url + "/readyz", timeout=10).status_code
    except httpx.HTTPError:
        return None
