"""The console's queue, intake page, operator decisions and new intake from a call (over HTTP, real database)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from tepsa.assignment.models import Assignment
from tepsa.auth.service import create_user
from tepsa.console.minimap import MapPoint, render_map
from tepsa.intake.models import Intake, TimelineEvent
from tepsa.intake.queue import due, search_terms, sort_key
from tests.conftest import post_twilio, whatsapp_params

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
BEATEN_NOW = "tolong anak tetangga saya dipukuli ayahnya sampai berdarah sekarang di kec tenayan raya pekanbaru"
HUNGRY = "anak di rumah sebelah kelihatan tidak terurus, jarang sekolah, di kecamatan rumbai pekanbaru"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


# --- pure parts -------------------------------------------------------------------------------------------

def test_an_unopened_darurat_is_due_for_operator_contact_in_15_minutes():
    assert due("darurat", T0, None, None, None) == (T0 + timedelta(minutes=15), "operator_contact")
    assert due("darurat", T0, T0, None, None) == (T0 + timedelta(hours=1), "worker_response")


def test_an_offer_deadline_counts_when_it_is_sooner_than_the_target():
    assert due("tinggi", T0, T0, "offered", T0 + timedelta(hours=1)) == (T0 + timedelta(hours=1), "offer_answer")
    assert due("darurat", T0, T0, "offered", T0 + timedelta(hours=5)) == (T0 + timedelta(hours=1), "worker_response")
    assert due("tinggi", T0, T0, "accepted", None) == (None, None)
    assert due("rendah", T0, T0, None, None) == (None, None)


def test_queue_order_is_urgency_then_closest_deadline_then_oldest():
    rows = [
        ("sedang", T0 + timedelta(hours=1), T0),
        ("darurat", T0 + timedelta(hours=2), T0),
        ("darurat", T0 + timedelta(minutes=5), T0 + timedelta(minutes=1)),
        ("tinggi", None, T0 - timedelta(days=1)),
        ("tinggi", T0, T0),
        (None, None, T0),
    ]
    ordered = sorted(rows, key=lambda r: sort_key(*r))
    assert ordered == [rows[2], rows[1], rows[4], rows[3], rows[0], rows[5]]


def test_search_takes_a_reference_or_hashes_a_number():
    assert search_terms("k7m4qx") == ("K7M-4QX", None)
    assert search_terms(" K7M-4QX ") == ("K7M-4QX", None)
    ref, hashed = search_terms("0812-0000-0777")
    assert ref is None and hashed and "0777" not in hashed
    assert search_terms("+62 812 0000 0777")[1] == hashed


def test_minimap_fits_points_and_marks_the_child():
    svg = render_map([MapPoint(0.5, 101.4, "area"), MapPoint(0.6, 101.5, "area"),
                      MapPoint(0.53, 101.53, "child", "Lokasi anak"), MapPoint(0.52, 101.52, "worker", "PKU-<1>")])
    assert svg.startswith("<svg") and svg.count("<circle") == 5  # 2 areas, worker, child + halo
    assert "PKU-&lt;1&gt;" in svg and " km</text>" in svg
    assert render_map([]) == ""


# --- over HTTP ------------------------------------------------------------------------------------------

@pytest.fixture
def console(client, engine, roster_file):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    with Session(engine) as s:
        create_user(s, "op-antrian", "operator", "kata-sandi-antrian")
        s.commit()
    page = client.get("/masuk")
    r = client.post("/masuk", data={"username": "op-antrian", "password": "kata-sandi-antrian",
                                    "csrf": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    return client


def _report(client, body, sid, phone="+6281200000777"):
    r = post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params(body, sid, phone=phone))
    assert r.status_code == 200


def _rows(client, **filters):
    page = client.get("/")
    r = client.post("/antrian/baris", data={"csrf": _csrf(page.text), "status": "open", **filters})
    assert r.status_code == 200
    return r.text


def _intakes(engine):
    with Session(engine) as s:
        return list(s.exec(select(Intake).order_by(Intake.id)))


def test_the_queue_needs_a_session_and_lists_darurat_first(client, console, engine):
    _report(console, HUNGRY, "SM-q-1", phone="+6281200000701")
    _report(console, BEATEN_NOW, "SM-q-2", phone="+6281200000702")
    first, second = _intakes(engine)
    assert second.urgency == "darurat" and first.urgency != "darurat"
    html = _rows(console)
    assert html.index(second.reference) < html.index(first.reference)
    assert 'data-unseen="1"' in html  # the darurat one alarms until someone opens it
    assert console.get("/", follow_redirects=False).status_code == 200
    console.cookies.clear()
    assert client.get("/", follow_redirects=False).headers["location"] == "/masuk"


def test_filters_and_search_by_number_never_put_the_number_in_a_url(console, engine):
    _report(console, HUNGRY, "SM-q-3", phone="+6281200000703")
    _report(console, BEATEN_NOW, "SM-q-4", phone="+6281200000704")
    a, b = _intakes(engine)
    assert b.reference in _rows(console, urgency="darurat") and a.reference not in _rows(console, urgency="darurat")
    assert a.reference in _rows(console, q="0812-0000-0703") and b.reference not in _rows(console, q="0812-0000-0703")
    assert b.reference in _rows(console, q=b.reference.replace("-", "").lower())
    assert b.reference in _rows(console, provinsi="14") and b.reference not in _rows(console, provinsi="31")
    assert b.reference in _rows(console, channel="whatsapp") and b.reference not in _rows(console, channel="voice")
    assert "Tidak ada laporan" in _rows(console, q="ZZZ-ZZZ")
    assert console.post("/antrian/baris", data={"csrf": "salah", "q": "0812"}).status_code == 403


def test_opening_an_intake_stops_its_alarm_and_shows_the_explanation(console, engine):
    _report(console, BEATEN_NOW, "SM-q-5")
    (intake,) = _intakes(engine)
    page = console.get(f"/laporan/{intake.reference}")
    assert page.status_code == 200
    assert "kekerasan.fisik" in page.text and "<mark>dipukul</mark>" in page.text  # rules and matched words
    assert "Tenayan Raya" in page.text and "Kota Pekanbaru" in page.text and "<svg" in page.text
    assert "PKU-1" in page.text  # assignment history / candidates
    assert 'data-unseen="1"' not in _rows(console)
    with Session(engine) as s:
        assert s.get(Intake, intake.id).opened_by == "op-antrian"
    assert console.get("/laporan/ZZZ-ZZZ").status_code == 404


def test_changing_the_category_needs_a_reason_and_survives_the_next_message(console, engine):
    _report(console, BEATEN_NOW, "SM-q-6")
    (intake,) = _intakes(engine)
    page = console.get(f"/laporan/{intake.reference}")
    no_reason = console.post(f"/laporan/{intake.reference}/ubah", data={"csrf": _csrf(page.text),
                                                                        "category": "penelantaran", "reason": ""})
    assert no_reason.status_code == 400 and "alasan" in no_reason.text.lower()
    r = console.post(f"/laporan/{intake.reference}/ubah",
                     data={"csrf": _csrf(page.text), "category": "penelantaran",
                           "reason": "anak juga ditinggal tanpa makan"})
    assert r.status_code == 200 and "anak juga ditinggal tanpa makan" in r.text  # in the timeline
    _report(console, "tadi dia dipukul lagi pakai kayu", "SM-q-7")  # re-triaged: the decision stays
    with Session(engine) as s:
        fresh = s.get(Intake, intake.id)
        assert fresh.category == "penelantaran" and fresh.overrides["category"] == "penelantaran"
        event = s.exec(select(TimelineEvent).where(TimelineEvent.kind == "reclassified")).one()
        assert event.actor == "op-antrian" and event.data["reason"] == "anak juga ditinggal tanpa makan"


def test_changing_the_place_moves_the_case_and_offers_it(console, engine):
    body = "anak umur 9 tahun dipukul terus oleh ibunya, sering menangis"  # no place: not assigned
    _report(console, body, "SM-q-8")
    (intake,) = _intakes(engine)
    assert intake.kabkota_kode is None
    page = console.get(f"/laporan/{intake.reference}")
    bad = console.post(f"/laporan/{intake.reference}/ubah", data={"csrf": _csrf(page.text), "place": "qwertyuiop",
                                                                  "reason": "pelapor menelepon lagi"})
    assert bad.status_code == 400
    r = console.post(f"/laporan/{intake.reference}/ubah", data={"csrf": _csrf(page.text),
                                                                "place": "Kec. Tenayan Raya, Pekanbaru",
                                                                "reason": "pelapor menyebut tempat lewat telepon"})
    assert r.status_code == 200
    with Session(engine) as s:
        fresh = s.get(Intake, intake.id)
        assert (fresh.kabkota_kode, fresh.kecamatan_kode) == ("14.71", "14.71.10")
        assert s.exec(select(Assignment).where(Assignment.intake_id == intake.id)).one().status == "offered"


def test_reassigning_withdraws_the_live_offer_and_tells_the_worker(console, engine, fake_telegram):
    _report(console, BEATEN_NOW, "SM-q-9")
    (intake,) = _intakes(engine)
    page = console.get(f"/laporan/{intake.reference}")
    r = console.post(f"/laporan/{intake.reference}/tugaskan", data={"csrf": _csrf(page.text), "worker_kode": "PKU-2",
                                                                    "reason": "PKU-1 sedang di luar kota"})
    assert r.status_code == 200 and "PKU-1 sedang di luar kota" in r.text
    with Session(engine) as s:
        states = [(a.status, a.worker_id) for a in s.exec(select(Assignment).order_by(Assignment.id))]
    assert [st for st, _ in states] == ["reassigned", "offered"]
    again = console.post(f"/laporan/{intake.reference}/tugaskan", data={"csrf": _csrf(page.text),
                                                                        "worker_kode": "NOBODY", "reason": "coba"})
    assert again.status_code == 400


def test_note_duplicate_and_close(console, engine):
    _report(console, BEATEN_NOW, "SM-q-10", phone="+6281200000710")
    _report(console, BEATEN_NOW + " tolong cepat", "SM-q-11", phone="+6281200000711")
    first, second = _intakes(engine)
    page = console.get(f"/laporan/{second.reference}")
    assert first.reference in page.text  # suggested as a likely duplicate (same area, same words, recent)
    csrf = _csrf(page.text)
    assert console.post(f"/laporan/{second.reference}/catatan", data={"csrf": csrf, "note": "penelepon panik"}).status_code == 200
    r = console.post(f"/laporan/{second.reference}/duplikat", data={"csrf": csrf, "of": first.reference, "reason": "sama"})
    assert r.status_code == 200
    assert console.post(f"/laporan/{second.reference}/tutup", data={"csrf": csrf, "outcome": "ditangani"}).status_code == 400
    r = console.post(f"/laporan/{first.reference}/tutup", data={"csrf": csrf, "outcome": "dirujuk", "note": "ke UPTD PPA"})
    assert r.status_code == 200
    with Session(engine) as s:
        a, b = s.get(Intake, first.id), s.get(Intake, second.id)
        assert (a.status, a.outcome) == ("closed", "dirujuk")
        assert (b.status, b.duplicate_of) == ("duplicate", first.id)
        live = s.exec(select(Assignment).where(Assignment.status.in_(("offered", "accepted")))).all()
        assert live == []
        kinds = [e.kind for e in s.exec(select(TimelineEvent).where(TimelineEvent.intake_id == second.id))]
        assert "note" in kinds and "marked_duplicate" in kinds
    assert first.reference not in _rows(console)  # closed intakes leave the open queue
    assert first.reference in _rows(console, status="closed")


def test_a_new_intake_from_a_call_is_triaged_as_typed_and_saved_once(console, engine):
    page = console.get("/laporan/baru")
    csrf, token = _csrf(page.text), re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    preview = console.post("/laporan/baru/pratinjau", data={"csrf": csrf, "body": BEATEN_NOW})
    assert preview.status_code == 200 and "Darurat" in preview.text and "Tenayan Raya" in preview.text
    assert _intakes(engine) == []  # a preview stores nothing
    form = {"csrf": csrf, "body": BEATEN_NOW, "phone": "0812-0000-0799", "form_token": token, "contact_safe": "ya"}
    r = console.post("/laporan/baru", data=form, follow_redirects=False)
    assert r.status_code == 303
    again = console.post("/laporan/baru", data=form, follow_redirects=False)  # double click
    assert again.headers["location"] == r.headers["location"]
    (intake,) = _intakes(engine)
    assert (intake.channel, intake.urgency, intake.contact_safe) == ("operator", "darurat", True)
    assert intake.opened_by == "op-antrian"
    with Session(engine) as s:
        assert s.exec(select(Assignment).where(Assignment.intake_id == intake.id)).one().status == "offered"
    assert console.post("/laporan/baru", data={**form, "form_token": "x" * 20, "body": ""}).status_code == 400


def test_the_console_speaks_english_when_asked(console):
    r = console.get("/bahasa/en?ke=/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "Report queue" in console.get("/").text
    console.get("/bahasa/id?ke=https://evil.example/")
    assert "Antrian laporan" in console.get("/").text
    assert console.get("/bahasa/id?ke=//evil.example", follow_redirects=False).headers["location"] == "/"


def test_static_files_are_served_and_nothing_else(client):
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert "immutable" in client.get("/static/vendor/htmx-ext-sse-2.2.4.min.js").headers["cache-control"]
    assert client.get("/static/console.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/../session.py").status_code == 404
    assert client.get("/static/vendor/README.md").status_code == 404
