"""Operators' API: token, intakes list and detail, triage; health and readiness."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tepsa.auth.service import create_user
from tests.conftest import post_twilio, whatsapp_params

DARURAT = "TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"


@pytest.fixture
def token(client, engine):
    with Session(engine) as s:
        create_user(s, "op1", "operator", "kata-sandi-rahasia")
        s.commit()
    r = client.post("/api/v1/auth/token", data={"username": "op1", "password": "kata-sandi-rahasia"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    return body["access_token"]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_wrong_password_and_missing_token_are_refused(client, token):
    assert client.post("/api/v1/auth/token", data={"username": "op1", "password": "salah"}).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"}).status_code == 401
    assert client.get("/api/v1/intakes").status_code == 401
    assert client.get("/api/v1/intakes", headers=auth("garbage")).status_code == 401


def test_intakes_list_and_detail(client, engine, token, roster_file, fake_telegram):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params("halo min", "SM" + "1" * 32,
                                                                      phone="+6281200000011"))
    post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params(DARURAT, "SM" + "2" * 32))
    r = client.get("/api/v1/intakes", params={"limit": 10}, headers=auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2
    newest, older = body["items"]
    assert newest["id"] > older["id"]  # newest first
    for key in ("id", "reference", "channel", "status", "urgency", "category", "categories", "kabkota_kode",
                "assignment"):
        assert key in newest
    assert newest["channel"] == "whatsapp" and newest["status"] == "open"
    assert newest["assignment"] == {"worker_kode": "PKU-1", "status": "offered"}
    assert older["assignment"] is None

    page = client.get("/api/v1/intakes", params={"limit": 1, "offset": 1}, headers=auth(token)).json()
    assert [i["id"] for i in page["items"]] == [older["id"]] and page["total"] == 2

    d = client.get(f"/api/v1/intakes/{newest['id']}", headers=auth(token)).json()
    assert d["messages"][0]["body"] == DARURAT
    assert d["triage"]["reasons"] and d["triage"]["ruleset_version"]
    assert d["assignments"][0]["candidates"][0]["kode"] == "PKU-1"
    assert [e["kind"] for e in d["timeline"]][:1] == ["opened"]
    assert "offered" in [e["kind"] for e in d["timeline"]]
    assert client.get("/api/v1/intakes/999999", headers=auth(token)).status_code == 404


def test_triage_endpoint(client, token):
    r = client.post("/api/v1/triage", json={"messages": [DARURAT], "location_pin": None}, headers=auth(token))
    assert r.status_code == 200
    body = r.json()
    assert (body["urgency"], body["category"], body["kabkota_kode"]) == ("darurat", "kekerasan_fisik_psikis", "14.71")
    assert body["reasons"]
    pinned = client.post("/api/v1/triage", json={"messages": ["anak dipukuli"], "location_pin": {"lat": 0.5337, "lon": 101.5351}},
                         headers=auth(token)).json()
    assert pinned["kabkota_kode"] == "14.71"
    assert client.post("/api/v1/triage", json={"messages": "not a list"}, headers=auth(token)).status_code == 422
    assert client.post("/api/v1/triage", json={"messages": []}).status_code == 401


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "tepsa_inbound_messages_total" in metrics.text


def test_reads_are_audited_and_the_trail_is_for_supervisors(client, engine, token, roster_file, fake_telegram):
    from tepsa.cli import import_roster_file

    import_roster_file(engine, roster_file)
    post_twilio(client, "/webhooks/twilio/whatsapp", whatsapp_params(DARURAT, "SM" + "3" * 32))
    intake_id = client.get("/api/v1/intakes", headers=auth(token)).json()["items"][0]["id"]
    client.get(f"/api/v1/intakes/{intake_id}", headers=auth(token))
    assert client.get("/api/v1/audit", headers=auth(token)).status_code == 403  # operators may not
    with Session(engine) as s:
        create_user(s, "spv1", "supervisor", "kata-sandi-supervisor")
        s.commit()
    spv = client.post("/api/v1/auth/token", data={"username": "spv1", "password": "kata-sandi-supervisor"}).json()
    trail = client.get("/api/v1/audit", params={"intake_id": intake_id}, headers=auth(spv["access_token"])).json()
    actions = [(e["actor"], e["role"], e["action"]) for e in trail["items"]]
    assert ("op1", "operator", "read_intake") in actions
    assert all(e["at"] and e["address"] for e in trail["items"])
    everything = client.get("/api/v1/audit", headers=auth(spv["access_token"])).json()["items"]
    assert {"sign_in", "list_intakes", "read_intake"} <= {e["action"] for e in everything}
    # The trail has no route that changes it.
    for method in ("put", "patch", "delete", "post"):
        assert getattr(client, method)("/api/v1/audit", headers=auth(spv["access_token"])).status_code == 405


def test_ten_failed_sign_ins_in_a_minute_answer_429(client, engine, token):
    for _ in range(10):
        assert client.post("/api/v1/auth/token", data={"username": "op1", "password": "salah"}).status_code == 401
    blocked = client.post("/api/v1/auth/token", data={"username": "op1", "password": "kata-sandi-rahasia"})
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
