"""The console in a real browser (Debian's Chromium driven by Playwright), against the real service.

An operator signs in, sees a report arrive in the queue without reloading
(server-sent events), opens it, reads the explanation, changes its category
with a reason, reassigns it, and a supervisor opens the dashboard. Screenshots
of the queue and the intake page are written to docs/screenshots/ by `make screenshots`.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import Session
from twilio.request_validator import RequestValidator

from tepsa.auth.service import create_user
from tests.conftest import TWILIO_TOKEN, whatsapp_params

CHROMIUM = os.environ.get("TEPSA_TEST_CHROMIUM", "/usr/bin/chromium")
# `make screenshots` sets this to docs/screenshots; otherwise they go to a temporary folder.
SHOTS = Path(os.environ.get("TEPSA_SCREENSHOT_DIR") or Path(os.environ.get("TMPDIR", "/tmp")) / "tepsa-screenshots")
BEATEN_NOW = "tolong anak tetangga saya dipukuli ayahnya sampai berdarah sekarang di kec tenayan raya pekanbaru"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)),
    reason=f"Chromium not found at {CHROMIUM} (.ci/run installs Debian's chromium); browser tests skipped",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_console(settings, engine, roster_file):
    """The service on a real port (uvicorn in a thread) with a roster and two console users."""
    import uvicorn

    from tepsa.app import create_app
    from tepsa.cli import import_roster_file

    if engine.dialect.name != "sqlite":
        pytest.skip("the browser flow runs once, on SQLite; tests/test_console_queue.py covers the same routes on PostgreSQL")
    import_roster_file(engine, roster_file)
    with Session(engine) as s:
        create_user(s, "op-browser", "operator", "kata-sandi-browser")
        create_user(s, "spv-browser", "supervisor", "kata-sandi-browser")
        s.commit()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"public_url": base}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    else:
        raise RuntimeError("service did not start")
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def _send_whatsapp(base: str, body: str, sid: str, phone: str) -> None:
    path = "/webhooks/twilio/whatsapp"
    params = whatsapp_params(body, sid, phone=phone)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(base + path, params)
    r = httpx.post(base + path, content=urlencode(params), timeout=10,
                   headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert r.status_code == 200


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/masuk")
    page.fill("#u", username)
    page.fill("#p", "kata-sandi-browser")
    page.click("button:has-text('Masuk')")
    page.wait_for_url(base + "/")


def test_an_operator_works_a_case_in_the_browser(live_console, browser, engine):
    from playwright.sync_api import expect

    base = live_console
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _sign_in(page, base, "op-browser")
    expect(page.locator("#live-state")).to_have_class("shrink live", timeout=15000)  # SSE connected
    expect(page.locator("#queue-body")).to_contain_text("Tidak ada laporan")

    # A report arrives over the real webhook; the open page shows it without a reload, with the alarm.
    _send_whatsapp(base, "anak di rumah sebelah kelihatan tidak terurus di kecamatan rumbai pekanbaru",
                   "SM-browser-0", "+6281200000880")
    _send_whatsapp(base, "anak kelas 2 smp di kota pekanbaru disuruh pamannya mengemis tiap hari di lampu merah",
                   "SM-browser-2", "+6281200000883")
    _send_whatsapp(base, "bagaimana cara melapor kalau ada perundungan di sekolah? saya guru di kota padang",
                   "SM-browser-3", "+6281200000884")
    _send_whatsapp(base, BEATEN_NOW, "SM-browser-1", "+6281200000881")
    row = page.locator("#queue-body tr.darurat")
    expect(row).to_have_count(1, timeout=20000)
    expect(page.locator("#alarm")).to_have_class("alarm on")
    expect(page.locator("#queue-body tr")).to_have_count(4)
    assert page.locator("#queue-body tr").first.get_attribute("class").startswith("darurat")  # sent last, first
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    reference = row.get_attribute("data-reference")

    # Open it: the explanation names the rules and the words they matched.
    row.locator("td.ref a").click()
    page.wait_for_url(f"{base}/laporan/{reference}")
    expect(page.locator("#reasons")).to_contain_text("kekerasan.fisik")
    expect(page.locator("#reasons mark").first).to_be_visible()
    expect(page.locator("#region-path")).to_contain_text("Tenayan Raya")
    page.screenshot(path=str(SHOTS / "intake.png"), full_page=True)

    # Change the category with a reason: the reason is in the timeline.
    page.click("#act-change summary")
    page.select_option("#ch-cat", "penelantaran")
    page.fill("#ch-reason", "anak juga dibiarkan tanpa makan")
    page.click("#act-change button")
    expect(page.locator("#category")).to_have_text("Penelantaran")
    expect(page.locator("#timeline")).to_contain_text("anak juga dibiarkan tanpa makan")

    # Reassign to the second candidate.
    page.click("#act-assign summary")
    page.check("#act-assign input[value='PKU-2']")
    page.fill("#assign-reason", "PKU-1 sedang menangani kasus lain")
    page.click("#act-assign button")
    expect(page.locator("#assignments")).to_contain_text("Dialihkan")
    expect(page.locator("#timeline")).to_contain_text("PKU-1 sedang menangani kasus lain")

    # Back in the queue the alarm has stopped: the report was opened.
    page.goto(base + "/")
    expect(page.locator("#queue-body tr.darurat")).to_have_count(1, timeout=10000)
    expect(page.locator("#alarm")).to_have_class("alarm")

    # A supervisor opens the dashboard and sees charts.
    sup = browser.new_page(viewport={"width": 1366, "height": 768})
    _sign_in(sup, base, "spv-browser")
    sup.click("nav >> text=Dasbor")
    sup.wait_for_url(base + "/dasbor")
    expect(sup.locator("main svg").first).to_be_visible()
    assert sup.locator("main svg").count() >= 4
    sup.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)


def test_a_new_report_from_a_call_is_triaged_while_typing(live_console, browser):
    from playwright.sync_api import expect

    base = live_console
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _sign_in(page, base, "op-browser")
    page.click("nav >> text=Laporan baru")
    page.wait_for_url(base + "/laporan/baru")
    page.locator("#body").press_sequentially(BEATEN_NOW, delay=5)
    expect(page.locator("#live-urgency")).to_have_text("Darurat", timeout=15000)
    expect(page.locator("#live-place")).to_contain_text("Tenayan Raya")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "new-report.png"), full_page=True)
    page.click("#save-intake")
    page.wait_for_url(f"{base}/laporan/*")
    expect(page.locator("#urgency")).to_have_text("Darurat")
    expect(page.locator(".flash")).to_contain_text("tersimpan")


def test_the_console_fits_a_phone(live_console, browser):
    from playwright.sync_api import expect

    base = live_console
    _send_whatsapp(base, BEATEN_NOW, "SM-browser-phone", "+6281200000882")
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _sign_in(page, base, "op-browser")
    expect(page.locator("#queue-body tr.darurat")).to_have_count(1, timeout=15000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the queue scrolls sideways on a phone ({width}px)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "queue-phone.png"), full_page=True)
