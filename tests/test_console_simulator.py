"""The console's sign-in and its training simulator (same signed webhooks, same code path)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from tepsa.auth.service import create_user
from tepsa.intake.models import Intake


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def signed_in(client, engine):
    with Session(engine) as s:
        create_user(s, "op-sim", "operator", "kata-sandi-simulasi")
        s.commit()
    page = client.get("/masuk")
    r = client.post("/masuk", data={"username": "op-sim", "password": "kata-sandi-simulasi", "csrf": _csrf(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    return client


def test_console_pages_need_a_session_and_a_csrf_token(client, engine):
    assert client.get("/simulator", follow_redirects=False).headers["location"] == "/masuk"
    page = client.get("/masuk")
    assert client.post("/masuk", data={"username": "x", "password": "y", "csrf": "wrong"}).status_code == 403
    bad = client.post("/masuk", data={"username": "nobody", "password": "salah", "csrf": _csrf(page.text)})
    assert bad.status_code == 401 and "salah" in bad.text


def test_whatsapp_in_the_simulator_makes_a_real_intake(signed_in, engine, roster_file):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    page = signed_in.get("/simulator")
    r = signed_in.post("/simulator", data={"csrf": _csrf(page.text), "mode": "whatsapp", "phone": "+6281200000777",
                                           "body": "tolong anak tetangga dipukulin bapaknya skrg", "log": "[]"})
    assert r.status_code == 200 and "Di mana anak berada" in r.text
    log = re.search(r'name="log" value="([^"]*)"', r.text).group(1)
    r = signed_in.post("/simulator", data={"csrf": _csrf(r.text), "mode": "whatsapp", "phone": "+6281200000777",
                                           "lat": "0.5337", "lon": "101.5351", "log": log.replace("&#34;", '"')})
    with Session(engine) as s:
        intake = s.exec(select(Intake)).one()
    assert intake.kabkota_kode == "14.71" and intake.reference in r.text
    assert signed_in.post("/simulator", data={"csrf": "salah", "mode": "whatsapp", "body": "x"}).status_code == 403


def test_the_ivr_in_the_simulator(signed_in, engine):
    page = signed_in.get("/simulator")
    r = signed_in.post("/simulator", data={"csrf": _csrf(page.text), "mode": "voice", "step": "call"})
    assert r.status_code == 200 and "Mulai panggilan" not in r.text
    fields = dict(re.findall(r'name="(call_sid|action)" value="([^"]*)"', r.text))
    r = signed_in.post("/simulator", data={"csrf": _csrf(r.text), "mode": "voice", "step": "answer", "digits": "1",
                                           **{k: v.replace("&amp;", "&") for k, v in fields.items()}})
    assert r.status_code == 200 and "antrean" in r.text
    with Session(engine) as s:
        assert s.exec(select(Intake)).one().urgency == "darurat"


def test_the_audit_page_is_for_supervisors(client, engine):
    with Session(engine) as s:
        create_user(s, "spv-audit", "supervisor", "kata-sandi-audit")
        create_user(s, "op-audit", "operator", "kata-sandi-audit")
        s.commit()

    def sign_in(name):
        page = client.get("/masuk")
        client.post("/masuk", data={"username": name, "password": "kata-sandi-audit", "csrf": _csrf(page.text)},
                    follow_redirects=False)

    sign_in("op-audit")
    assert client.get("/audit").status_code == 403
    sign_in("spv-audit")
    page = client.get("/audit")
    assert page.status_code == 200 and "op-audit" in page.text and "sign_in" in page.text
