"""The ``tepsa`` command as a deployer uses it (real processes, a temporary SQLite database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROSTER_HEADER

DEV_SET = Path(__file__).parent / "data" / "reports-dev.jsonl"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "cli.db"
    e = {k: v for k, v in os.environ.items() if not k.startswith("TEPSA_")}
    e["TEPSA_DATABASE_URL"] = f"sqlite:///{db}"
    e["TEPSA_DATA_KEY_FILE"] = str(db.parent / "data.key")
    return e


def tepsa(env, *args, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tepsa.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_migrate_is_idempotent(env):
    first = tepsa(env, "migrate")
    assert first.returncode == 0, first.stderr
    again = tepsa(env, "migrate")
    assert again.returncode == 0 and "0 regions" in again.stdout


def test_workers_import_is_atomic_and_repeatable(env, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(ROSTER_HEADER + "CLI-1,Satu,sakti_peksos,081200000001,,14.71,,,1,,\n"
                                    "CLI-2,Dua,balai,,,14.71,,,1,,\n", encoding="utf-8")
    r = tepsa(env, "workers", "import", str(good))
    assert r.returncode == 0, r.stderr
    assert "2 created" in r.stdout
    again = tepsa(env, "workers", "import", str(good))
    assert "0 created, 0 updated, 2 unchanged" in again.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text(ROSTER_HEADER + "CLI-3,Tiga,sakti_peksos,,,14.71,,,1,,\n"
                                   "CLI-4,Empat,sakti_peksos,,,14.71,,,1,,\n"
                                   "CLI-5,Lima,sakti_peksos,,,99.99,,,1,,\n", encoding="utf-8")
    r = tepsa(env, "workers", "import", str(bad))
    assert r.returncode != 0
    assert "line 4" in r.stderr and "99.99" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    # Nothing of the bad file was imported: CLI-3 is still unknown, so the good file reports it unchanged.
    again = tepsa(env, "workers", "import", str(good))
    assert "2 unchanged" in again.stdout
    check = tmp_path / "check.csv"
    check.write_text(ROSTER_HEADER + "CLI-3,Tiga,sakti_peksos,,,14.71,,,1,,\n", encoding="utf-8")
    assert "1 created" in tepsa(env, "workers", "import", str(check)).stdout

    missing = tepsa(env, "workers", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode != 0 and "cannot read" in missing.stderr


def test_users_add(env):
    ok = tepsa(env, "users", "add", "supervisor1", "--role", "supervisor", "--password-stdin",
               stdin="kata-sandi-panjang\n")
    assert ok.returncode == 0, ok.stderr
    dup = tepsa(env, "users", "add", "supervisor1", "--role", "supervisor", "--password-stdin", stdin="xxxxxxxxxx\n")
    assert dup.returncode != 0 and "already exists" in dup.stderr
    role = tepsa(env, "users", "add", "x", "--role", "kepala", "--password-stdin", stdin="xxxxxxxxxx\n")
    assert role.returncode != 0 and "unknown role" in role.stderr


def test_triage_report_set(env, tmp_path):
    out = tmp_path / "pred.jsonl"
    r = tepsa(env, "triage", str(DEV_SET), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ids = [json.loads(line)["id"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [row["id"] for row in rows] == ids
    for key in ("urgency", "category", "categories", "kabkota_kode", "age", "reasons"):
        assert key in rows[0]

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x", "messages": ["a"]}\nnot json\n', encoding="utf-8")
    bad = tepsa(env, "triage", str(broken))
    assert bad.returncode != 0 and ":2:" in bad.stderr


def test_triage_explain(env):
    text = "TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"
    r = tepsa(env, "triage", "--explain", text, "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["urgency"] == "darurat" and result["kabkota_kode"] == "14.71"
    readable = tepsa(env, "triage", "--explain", text)
    assert readable.returncode == 0, readable.stderr
    assert "Darurat (darurat)" in readable.stdout
    assert "Kota Pekanbaru (14.71)" in readable.stdout and "Tenayan Raya (14.71.10)" in readable.stdout
    for reason in result["reasons"]:
        assert reason["rule"] in readable.stdout


def test_demo_loads_roster_and_reports_idempotently(env):
    first = tepsa(env, "demo")
    assert first.returncode == 0, first.stderr
    assert "example reports: 5 new intake(s)" in first.stdout
    again = tepsa(env, "demo")
    assert again.returncode == 0 and "0 created" in again.stdout and "0 new intake(s)" in again.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prepares_a_new_database_and_its_log_holds_no_personal_data(tmp_path):
    """`tepsa serve` on an empty SQLite file: migrates, loads, answers a signed report."""
    import time
    import urllib.request
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    e = {k: v for k, v in os.environ.items() if not k.startswith("TEPSA_")}
    e.update(TEPSA_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", TEPSA_PUBLIC_URL=base,
             TEPSA_DATA_KEY_FILE=str(tmp_path / "data.key"),
             TEPSA_TWILIO_AUTH_TOKEN="serve-test-token")
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tepsa.cli", "serve", "--port", str(port)], env=e,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "service did not become ready"
            time.sleep(0.2)
        phone, text = "+6285711122233", "anak di sebelah rumah dipukuli ayahnya sekarang di kec. Tenayan Raya pekanbaru"
        params = {"MessageSid": "SM" + "7" * 32, "From": f"whatsapp:{phone}", "To": "whatsapp:+6281238888002",
                  "Body": text, "NumMedia": "0"}
        url = base + "/webhooks/twilio/whatsapp"
        req = urllib.request.Request(url, data=urlencode(params).encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator("serve-test-token").compute_signature(url, params)})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
            assert "<Message>" in r.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    log = log_path.read_text()
    assert '"service ready"' in log and "/webhooks/twilio/whatsapp" in log
    for secret in ("85711122233", "dipukuli", "sebelah rumah"):
        assert secret not in log
