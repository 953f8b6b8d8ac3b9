"""The console's administration pages: users and roles, the worker roster, units and their service areas."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from tepsa.assignment.choice import CaseInfo, choose, covering_unit
from tepsa.assignment.models import Worker
from tepsa.assignment.service import load_candidates
from tepsa.audit.models import AuditEvent
from tepsa.auth.models import User
from tepsa.auth.service import authenticate, create_user
from tepsa.geo.models import Unit, UnitArea
from tepsa.geo.service import check_areas
from tests.conftest import ROSTER_HEADER

PASSWORD = "kata-sandi-admin-panjang"
ROSTER = ROSTER_HEADER + (
    "PKU-1,Petugas Satu,sakti_peksos,0812-0000-0001,1001,14.71,0.5000,101.5200,1,kekerasan_fisik_psikis,10\n"
    "PKU-2,Petugas Dua,sakti_peksos,+6281200000002,1002,14.71,0.5300,101.3900,ya,,10\n"
    "SIAK-1,Petugas Tiga,sakti_peksos,6281200000003,1003,14.08,0.8000,102.0500,true,,\n"
    "BALAI-RUMBAI,Meja Piket Rumbai,balai,,1009,14.71,0.5900,101.4300,1,,50\n"
    "OFF-1,Petugas Libur,sakti_peksos,,1004,14.71,0.5050,101.5150,0,,10\n"
)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _users(engine, *users: tuple[str, str]) -> None:
    with Session(engine) as s:
        for name, role in users:
            create_user(s, name, role, PASSWORD)
        s.commit()


def _sign_in(client, name: str, password: str = PASSWORD):
    client.cookies.clear()
    page = client.get("/masuk")
    return client.post("/masuk", data={"username": name, "password": password, "csrf": _csrf(page.text)},
                       follow_redirects=False)


@pytest.fixture
def admin(client, engine):
    _users(engine, ("admin-satu", "admin"))
    r = _sign_in(client, "admin-satu")
    assert r.status_code == 303
    return client


def _token(client, path: str = "/admin/pengguna") -> str:
    return _csrf(client.get(path).text)


def _actions(engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture
def units_restored(engine):
    """Units are reference data the suite shares: put them back as they were after the test."""
    with Session(engine) as s:
        units = [u.model_dump() for u in s.exec(select(Unit))]
        areas = [a.model_dump() for a in s.exec(select(UnitArea))]
    yield
    with Session(engine) as s:
        for row in s.exec(select(UnitArea)):
            s.delete(row)
        s.flush()
        for data in units:
            unit = s.get(Unit, data["kode"])
            for k, v in data.items():
                setattr(unit, k, v)
            s.add(unit)
        for data in areas:
            s.add(UnitArea(**data))
        s.commit()


ADMIN_GETS = ["/admin/pengguna", "/admin/petugas", "/admin/unit"]


def test_admin_pages_are_for_admins_only(client, engine):
    for path in ADMIN_GETS:
        assert client.get(path, follow_redirects=False).headers["location"] == "/masuk"
    _users(engine, ("op-x", "operator"), ("spv-x", "supervisor"))
    for name in ("op-x", "spv-x"):
        assert _sign_in(client, name).status_code == 303
        for path in ADMIN_GETS:
            assert client.get(path).status_code == 403, (name, path)
        token = _csrf(client.get("/masuk").text)
        r = client.post("/admin/pengguna", data={"csrf": token, "username": "evil", "role": "admin",
                                                "password": "x" * 20})
        assert r.status_code == 403
        r = client.post("/admin/unit/rumbai", data={"csrf": token, "nama": "x", "kota": "x", "kabkota_kode": "14.71"})
        assert r.status_code == 403
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "evil")).first() is None


def test_admin_pages_render_with_sub_navigation_in_both_languages(admin):
    for path in ADMIN_GETS:
        r = admin.get(path)
        assert r.status_code == 200
        assert 'class="admin-tabs"' in r.text and 'aria-current="page"' in r.text
        assert "<script>" not in r.text and "onfocus=" not in r.text  # CSP: no inline script
        assert "Pengguna" in r.text and "Petugas lapangan" in r.text
    admin.get("/bahasa/en?ke=/admin/pengguna")
    r = admin.get("/admin/pengguna")
    assert "Console users" in r.text and "Add a user" in r.text


def test_add_a_user_who_then_signs_in(admin, engine):
    token = _token(admin)
    short = admin.post("/admin/pengguna", data={"csrf": token, "username": "op-baru", "role": "operator",
                                                "password": "pendek123"})
    assert short.status_code == 400 and "minimal 12 karakter" in short.text
    bad_name = admin.post("/admin/pengguna", data={"csrf": token, "username": "op baru", "role": "operator",
                                                   "password": "kata-sandi-baru-1"})
    assert bad_name.status_code == 400
    bad_role = admin.post("/admin/pengguna", data={"csrf": token, "username": "op-baru", "role": "root",
                                                   "password": "kata-sandi-baru-1"})
    assert bad_role.status_code == 400
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "op-baru")).first() is None

    r = admin.post("/admin/pengguna", data={"csrf": token, "username": "op-baru", "role": "operator",
                                            "password": "kata-sandi-baru-1"})
    assert r.status_code == 200 and "Pengguna op-baru ditambahkan" in r.text
    assert "kata-sandi-baru-1" not in r.text
    again = admin.post("/admin/pengguna", data={"csrf": token, "username": "op-baru", "role": "admin",
                                                "password": "kata-sandi-baru-2"})
    assert again.status_code == 409 and "sudah dipakai" in again.text

    created = [e for e in _actions(engine) if e.action == "user_created"]
    assert len(created) == 1 and created[0].actor == "admin-satu" and created[0].role == "admin"
    assert created[0].detail == {"target": "op-baru", "role": "operator"}

    assert _sign_in(admin, "op-baru", "kata-sandi-baru-1").status_code == 303
    assert admin.get("/admin/pengguna").status_code == 403


def test_role_change_status_and_password_reset(admin, engine):
    _users(engine, ("op-y", "operator"))
    token = _token(admin)
    r = admin.post("/admin/pengguna/peran", data={"csrf": token, "username": "op-y", "role": "supervisor"})
    assert r.status_code == 200 and "op-y" in r.text
    r = admin.post("/admin/pengguna/status", data={"csrf": token, "username": "op-y", "aktif": "0"})
    assert r.status_code == 200 and "dinonaktifkan" in r.text
    with Session(engine) as s:
        u = s.exec(select(User).where(User.username == "op-y")).one()
        assert (u.role, u.active) == ("supervisor", False)
        assert authenticate(s, "op-y", PASSWORD) is None  # a deactivated user cannot sign in
    r = admin.post("/admin/pengguna/status", data={"csrf": token, "username": "op-y", "aktif": "1"})
    assert r.status_code == 200
    short = admin.post("/admin/pengguna/sandi", data={"csrf": token, "username": "op-y", "password": "pendek"})
    assert short.status_code == 400
    r = admin.post("/admin/pengguna/sandi", data={"csrf": token, "username": "op-y", "password": "sandi-baru-yang-panjang"})
    assert r.status_code == 200 and "sandi-baru-yang-panjang" not in r.text
    assert admin.post("/admin/pengguna/peran", data={"csrf": token, "username": "tidak-ada",
                                                     "role": "admin"}).status_code == 400

    events = [e for e in _actions(engine) if e.action.startswith("user_")]
    assert [e.action for e in events] == ["user_role_changed", "user_deactivated", "user_reactivated",
                                          "user_password_reset"]
    assert events[0].detail == {"target": "op-y", "before": "operator", "after": "supervisor"}
    assert all("password" not in str(e.detail) and "sandi" not in str(e.detail) for e in events)

    assert _sign_in(admin, "op-y", PASSWORD).status_code == 401
    assert _sign_in(admin, "op-y", "sandi-baru-yang-panjang").status_code == 303


def test_an_admin_cannot_deactivate_or_demote_themselves(admin, engine):
    token = _token(admin)
    r = admin.post("/admin/pengguna/status", data={"csrf": token, "username": "admin-satu", "aktif": "0"})
    assert r.status_code == 400 and "tidak dapat menonaktifkan akun Anda sendiri" in r.text
    r = admin.post("/admin/pengguna/peran", data={"csrf": token, "username": "admin-satu", "role": "operator"})
    assert r.status_code == 400 and "tidak dapat menurunkan peran akun Anda sendiri" in r.text
    with Session(engine) as s:
        u = s.exec(select(User).where(User.username == "admin-satu")).one()
        assert (u.role, u.active) == ("admin", True)
    assert not [e for e in _actions(engine) if e.action.startswith("user_")]


def test_a_demoted_admins_session_loses_the_admin_pages_at_once(admin, engine):
    _users(engine, ("admin-dua", "admin"))
    assert _sign_in(admin, "admin-dua").status_code == 303
    second = dict(admin.cookies)
    assert _sign_in(admin, "admin-satu").status_code == 303
    r = admin.post("/admin/pengguna/peran", data={"csrf": _token(admin), "username": "admin-dua", "role": "operator"})
    assert r.status_code == 200
    admin.cookies.clear()
    for k, v in second.items():
        admin.cookies.set(k, v)
    assert admin.get("/admin/pengguna").status_code == 403  # the old session still says admin


def test_roster_upload_imports_and_masks_phone_numbers(admin, engine):
    token = _token(admin, "/admin/petugas")
    r = admin.post("/admin/petugas/impor", data={"csrf": token},
                   files={"berkas": ("roster.csv", ROSTER.encode(), "text/csv")})
    assert r.status_code == 200 and "5 baru, 0 diperbarui, 0 tidak berubah" in r.text
    with Session(engine) as s:
        assert len(s.exec(select(Worker)).all()) == 5
    page = admin.get("/admin/petugas")
    assert "PKU-2" in page.text and "Petugas Dua" in page.text
    for number in ("+6281200000002", "81200000002", "0812-0000-0001", "6281200000003"):
        assert number not in page.text
    assert "••••••••••002" in page.text and "••••••••••001" in page.text  # only the last three digits
    again = admin.post("/admin/petugas/impor", data={"csrf": token},
                       files={"berkas": ("roster.csv", ROSTER.encode(), "text/csv")})
    assert "0 baru, 0 diperbarui, 5 tidak berubah" in again.text
    events = [e for e in _actions(engine) if e.action == "roster_imported"]
    assert events[0].detail == {"rows": 5, "created": 5, "updated": 0, "unchanged": 0}


def test_a_bad_roster_line_imports_nothing(admin, engine):
    token = _token(admin, "/admin/petugas")
    admin.post("/admin/petugas/impor", data={"csrf": token},
               files={"berkas": ("roster.csv", ROSTER.encode(), "text/csv")})
    bad = ROSTER_HEADER + (
        "PKU-1,Nama Diganti,sakti_peksos,,1001,14.71,,,1,,10\n"
        "NEW-1,Petugas Baru,dokter,,,14.71,,,1,,10\n"
        "NEW-2,Petugas Baru Dua,sakti_peksos,,,99.99,,,1,,10\n"
    )
    r = admin.post("/admin/petugas/impor", data={"csrf": token},
                   files={"berkas": ("roster.csv", bad.encode(), "text/csv")})
    assert r.status_code == 400 and "Tidak ada yang diimpor" in r.text
    assert "line 3: jenis must be" in r.text and "line 4: kabkota_kode" in r.text
    with Session(engine) as s:
        workers = {w.kode: w for w in s.exec(select(Worker))}
    assert set(workers) == {"PKU-1", "PKU-2", "SIAK-1", "BALAI-RUMBAI", "OFF-1"}
    assert workers["PKU-1"].nama == "Petugas Satu"  # the good line was not imported either
    refused = [e for e in _actions(engine) if e.action == "roster_import_refused"]
    assert refused[0].detail == {"problems": 2}
    empty = admin.post("/admin/petugas/impor", data={"csrf": token},
                       files={"berkas": ("kosong.csv", b"", "text/csv")})
    assert empty.status_code == 400
    latin = admin.post("/admin/petugas/impor", data={"csrf": token},
                       files={"berkas": ("x.csv", "kode,nama\nA,Jos\xe9\n".encode("latin-1"), "text/csv")})
    assert latin.status_code == 400 and "UTF-8" in latin.text


def test_a_deactivated_worker_gets_no_offers(admin, engine):
    token = _token(admin, "/admin/petugas")
    admin.post("/admin/petugas/impor", data={"csrf": token},
               files={"berkas": ("roster.csv", ROSTER.encode(), "text/csv")})
    case = CaseInfo(kabkota_kode="14.71", lat=0.5337, lon=101.5351)

    def chosen():
        with Session(engine) as s:
            workers, units = load_candidates(s, "14.71")
        return choose(case, workers, units).chosen.kode, {w.kode for w in workers}

    assert chosen()[0] == "PKU-1"
    r = admin.post("/admin/petugas/status", data={"csrf": token, "kode": "PKU-1", "aktif": "0"})
    assert r.status_code == 200 and "PKU-1 dinonaktifkan" in r.text
    with Session(engine) as s:
        assert s.exec(select(Worker).where(Worker.kode == "PKU-1")).one().aktif is False
    first, candidates = chosen()
    assert first != "PKU-1" and "PKU-1" not in candidates
    admin.post("/admin/petugas/status", data={"csrf": token, "kode": "PKU-1", "aktif": "1"})
    assert chosen()[0] == "PKU-1"
    assert admin.post("/admin/petugas/status", data={"csrf": token, "kode": "NOPE", "aktif": "0"}).status_code == 404
    events = [e for e in _actions(engine) if e.action.startswith("worker_")]
    assert [e.action for e in events] == ["worker_deactivated", "worker_reactivated"]
    assert events[0].detail == {"worker_kode": "PKU-1", "before": True, "after": False, "live_cases": 0}


def test_enrolment_link_still_works(admin, engine):
    token = _token(admin, "/admin/petugas")
    admin.post("/admin/petugas/impor", data={"csrf": token},
               files={"berkas": ("roster.csv", ROSTER.encode(), "text/csv")})
    r = admin.post("/admin/petugas/tautan", data={"csrf": token, "kode": "PKU-2"})
    assert r.status_code == 200 and "https://t.me/" in r.text and "PKU-2" in r.text
    assert any(e.action == "enrolment_link_created" for e in _actions(engine))


def test_unit_areas_are_editable_and_a_province_has_one_unit(admin, engine, units_restored):
    page = admin.get("/admin/unit")
    assert "Provinsi tanpa unit" in page.text and "Jawa Timur (35)" in page.text
    token = _csrf(page.text)
    surabaya = CaseInfo(kabkota_kode="35.78", lat=-7.25, lon=112.75)
    with Session(engine) as s:
        rumbai = s.get(Unit, "rumbai")
        form = {"csrf": token, "nama": rumbai.nama, "kota": rumbai.kota, "kabkota_kode": rumbai.kabkota_kode}
        provinces = sorted(s.exec(select(UnitArea.provinsi_kode).where(UnitArea.unit_kode == "rumbai")).all())
        assert covering_unit(surabaya, load_candidates(s, "35.78")[1])[1] == "nearest"

    r = admin.post("/admin/unit/rumbai", data={**form, "kota": "Pekanbaru (baru)", "provinsi": provinces + ["35"]})
    assert r.status_code == 200 and "Unit rumbai disimpan" in r.text
    with Session(engine) as s:
        assert s.get(Unit, "rumbai").kota == "Pekanbaru (baru)"
        assert sorted(s.exec(select(UnitArea.provinsi_kode).where(UnitArea.unit_kode == "rumbai")).all()) == sorted(provinces + ["35"])
        unit, why = covering_unit(surabaya, load_candidates(s, "35.78")[1])  # the next assignment sees it at once
        assert (unit.kode, why) == ("rumbai", "covers")
    assert "Jawa Timur (35)" not in admin.get("/admin/unit").text

    with Session(engine) as s:
        alyatama = s.get(Unit, "alyatama")
        before = sorted(s.exec(select(UnitArea.provinsi_kode).where(UnitArea.unit_kode == "alyatama")).all())
        other = {"csrf": token, "nama": alyatama.nama, "kota": alyatama.kota, "kabkota_kode": alyatama.kabkota_kode}
    r = admin.post("/admin/unit/alyatama", data={**other, "nama": "Nama baru", "provinsi": before + ["35", "14"]})
    assert r.status_code == 409
    assert "Jawa Timur (35) sudah dilayani unit rumbai" in r.text and "Riau (14) sudah dilayani unit rumbai" in r.text
    with Session(engine) as s:
        assert s.get(Unit, "alyatama").nama == alyatama.nama  # nothing of a refused save is kept
        assert sorted(s.exec(select(UnitArea.provinsi_kode).where(UnitArea.unit_kode == "alyatama")).all()) == before
        assert s.exec(select(UnitArea).where(UnitArea.provinsi_kode == "35")).all()[0].unit_kode == "rumbai"

    bad_seat = admin.post("/admin/unit/alyatama", data={**other, "kabkota_kode": "99.99", "provinsi": before})
    assert bad_seat.status_code == 409 and "99.99" in bad_seat.text
    assert admin.post("/admin/unit/tidak-ada", data={**other, "provinsi": []}).status_code == 404

    changed = [e for e in _actions(engine) if e.action == "unit_changed"]
    assert len(changed) == 1
    assert changed[0].detail == {"unit_kode": "rumbai", "fields": ["kota"], "provinces_added": ["35"],
                                 "provinces_removed": []}


def test_check_areas_is_pure():
    covered = {"14": ["rumbai"], "15": ["alyatama"]}
    assert check_areas("rumbai", ["14", "13"], covered, {"13", "14", "15"}) == []
    assert check_areas("rumbai", ["15", "99"], covered, {"13", "14", "15"}) == [
        ("unit_err_taken", {"kode": "15", "unit": "alyatama"}), ("unit_err_province", {"kode": "99"})]


def test_posts_without_csrf_are_refused(admin, engine, units_restored):
    _users(engine, ("op-z", "operator"))
    posts = [
        ("/admin/pengguna", {"username": "tanpa-csrf", "role": "admin", "password": "x" * 20}),
        ("/admin/pengguna/peran", {"username": "op-z", "role": "admin"}),
        ("/admin/pengguna/status", {"username": "op-z", "aktif": "0"}),
        ("/admin/pengguna/sandi", {"username": "op-z", "password": "y" * 20}),
        ("/admin/petugas/status", {"kode": "PKU-1", "aktif": "0"}),
        ("/admin/petugas/tautan", {"kode": "PKU-1"}),
        ("/admin/unit/rumbai", {"nama": "x", "kota": "x", "kabkota_kode": "14.71", "provinsi": ["35"]}),
    ]
    for path, data in posts:
        assert admin.post(path, data=data).status_code == 403, path
        assert admin.post(path, data={**data, "csrf": "salah"}).status_code == 403, path
    r = admin.post("/admin/petugas/impor", files={"berkas": ("roster.csv", ROSTER.encode(), "text/csv")})
    assert r.status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Worker)).all() == []
        assert s.exec(select(User).where(User.username == "op-z")).one().role == "operator"
        assert s.exec(select(User).where(User.username == "tanpa-csrf")).first() is None
        assert s.exec(select(UnitArea).where(UnitArea.provinsi_kode == "35")).first() is None
