"""Shared pieces of the on-demand benchmarks (not imported by the service or tests).

- fictional roster and Indonesian report texts built from the shipped reference data;
- signed Twilio WhatsApp webhook requests, pre-built before the clock starts;
- a small asyncio HTTP/1.1 keep-alive load generator (N connections, each sends
  its next request when the previous answer is read);
- starting a server subprocess pinned to a core, waiting for /readyz, RSS from /proc.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = str(ROOT / ".venv" / "bin" / "python")
TEPSA = str(ROOT / ".venv" / "bin" / "tepsa")
GEO = ROOT / "src" / "tepsa" / "geo" / "data"
DEV_SET = ROOT / "tests" / "data" / "reports-dev.jsonl"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
TOKEN = "bench-twilio-auth-token"
WEBHOOK_PATH = "/webhooks/twilio/whatsapp"
SERVER_CPU = 0
LOADGEN_CPU = 1


# ---------------------------------------------------------------- reference data

@dataclass(frozen=True)
class Region:
    kode: str
    level: str
    nama: str
    induk: str | None
    lat: float | None
    lon: float | None


def regions() -> list[Region]:
    out = []
    with open(GEO / "wilayah.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.append(Region(r["kode"], r["level"], r["nama"], r["induk"] or None,
                              float(r["lat"]) if r["lat"] else None, float(r["lon"]) if r["lon"] else None))
    return out


def units() -> list[dict]:
    with open(GEO / "units.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


ROSTER_HEADER = "kode,nama,jenis,telepon,telegram_chat_id,kabkota_kode,lat,lon,aktif,keahlian,kapasitas\n"
SKILLS = ["kekerasan_fisik_psikis", "kejahatan_seksual", "penelantaran", "eksploitasi", "abh", "pengasuhan"]


def write_roster(path: Path, per_kabkota: int = 2, seed: int = 7) -> int:
    """A fictional roster: ``per_kabkota`` Sakti Peksos around every kab/kota centre, plus each unit's duty desk.

    Nobody has a Telegram chat id, so offers wait in the outbox (held).
    """
    rnd = random.Random(seed)
    lines, n = [ROSTER_HEADER], 0
    for r in regions():
        if r.level not in ("kabupaten", "kota") or r.lat is None:
            continue
        for i in range(per_kabkota):
            n += 1
            skill = rnd.choice(SKILLS) if rnd.random() < 0.5 else ""
            lines.append(f"BENCH-{r.kode.replace('.', '')}-{i + 1},Petugas Fiktif {n},sakti_peksos,,,{r.kode},"
                         f"{r.lat + rnd.uniform(-0.2, 0.2):.5f},{r.lon + rnd.uniform(-0.2, 0.2):.5f},1,{skill},10\n")
    by_kode = {r.kode: r for r in regions()}
    for u in units():
        k = by_kode.get(u["kabkota_kode"])
        n += 1
        lines.append(f"BENCH-BALAI-{u['kode'].upper()},Meja Piket {u['kode']},balai,,,{u['kabkota_kode']},"
                     f"{k.lat if k else ''},{k.lon if k else ''},1,,50\n")
    path.write_text("".join(lines), encoding="utf-8")
    return n


# ---------------------------------------------------------------- report texts

_LOCATED = [
    "tolong kak, anak tetangga sy umur {age} th sering dipukuli bapaknya, skrg nangis2 di luar rumah. di kec. {kec} {kab}",
    "sy mau lapor, ada anak perempuan {age} thn gak sekolah disuruh ngemis tiap hari sama ortunya di kec. {kec}, {kab}",
    "assalamualaikum, anak sy {age} th dilecehkan guru ngajinya. kami tinggal di kecamatan {kec} {kab}. tolong dibantu bu",
    "ada balita ditinggal sendirian di rumah kontrakan udh 2 hari, nangis terus, ortunya gak pulang2. kec {kec} {kab}",
    "TOLONG anak sy {age} th dibawa kabur pacarnya yg udah dewasa, katanya mau dinikahin. kami di kec. {kec} {kab}",
    "lapor kak, anak laki2 umur {age} th kerja di bengkel sampai malam, sering dipukul bosnya. lokasinya kec. {kec}, {kab}",
]
_UNLOCATED = [
    "kak aku takut pulang ke rumah, ayah tiri aku suka marah2 dan mukul aku pake ikat pinggang",
    "mau tanya cara lapor kasus anak gimana ya kak",
    "ada anak kecil di sebelah rumah sering dikurung di kamar mandi sama ibunya",
    "aku 15 thn, foto aku disebar di grup, aku malu bgt gk mau sekolah lagi",
]


def report_texts(seed: int = 11) -> list[str]:
    """Realistic texts: WhatsApp reports of the dev set (joined), and 300 templated ones (80% name a real kecamatan)."""
    rnd = random.Random(seed)
    regs = regions()
    by_kode = {r.kode: r for r in regs}
    kecs = [r for r in regs if r.level == "kecamatan" and r.induk in by_kode]
    texts = []
    for line in open(DEV_SET, encoding="utf-8"):
        if line.strip():
            rep = json.loads(line)
            if rep.get("channel") == "whatsapp":
                texts.append(" ".join(rep["messages"])[:1500])
    for _ in range(300):
        if rnd.random() < 0.8:
            k = rnd.choice(kecs)
            kab = by_kode[k.induk].nama
            texts.append(rnd.choice(_LOCATED).format(age=rnd.randint(2, 17), kec=k.nama, kab=kab))
        else:
            texts.append(rnd.choice(_UNLOCATED))
    rnd.shuffle(texts)
    return texts


# ---------------------------------------------------------------- signed requests

def signed_requests(n: int, public_url: str, run_tag: str, seed: int = 3) -> list[bytes]:
    """``n`` complete HTTP/1.1 POSTs, each a new reporter with a unique MessageSid, signed like Twilio does."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    url = public_url.rstrip("/") + WEBHOOK_PATH
    host = public_url.split("://", 1)[1].rstrip("/")
    texts = report_texts()
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        sid = f"SM{run_tag}{i:010d}".ljust(34, "0")[:34]
        phone = f"+628{rnd.randint(11, 59)}{rnd.randint(10_000_000, 99_999_999)}"
        params = {
            "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32,
            "From": f"whatsapp:{phone}", "To": "whatsapp:+6281238888002", "Body": texts[i % len(texts)],
            "NumMedia": "0", "NumSegments": "1", "ProfileName": "Pelapor", "WaId": phone.lstrip("+"),
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        body = urlencode(params).encode()
        sig = validator.compute_signature(url, params)
        head = (f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {sig}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        out.append(head + body)
    return out


# ---------------------------------------------------------------- load generator

@dataclass
class LoadResult:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return sum(v for k, v in self.statuses.items() if 200 <= k < 300)

    @property
    def non_2xx(self) -> int:
        return self.sent - self.ok

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, max(0, int(round(q * len(lat))) - 1))] * 1000 if lat else float("nan")

    def summary(self) -> dict:
        return {"requests": self.sent, "ok_2xx": self.ok, "non_2xx": self.non_2xx, "conn_errors": self.errors,
                "statuses": dict(sorted(self.statuses.items())), "seconds": round(self.elapsed, 2),
                "req_per_s": round(self.sent / self.elapsed, 1) if self.elapsed else 0,
                "p50_ms": round(self.pct(0.50), 2), "p99_ms": round(self.pct(0.99), 2),
                "max_ms": round(max(self.latencies) * 1000, 2) if self.latencies else None}


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked = 0, False
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _run_load(port: int, requests: list[bytes], concurrency: int, timeout: float) -> LoadResult:
    res = LoadResult()
    it = iter(requests)

    async def worker():
        reader = writer = None
        for req in it:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                s = time.perf_counter()
                writer.write(req)
                status = await asyncio.wait_for(_read_response(reader), timeout)
                res.latencies.append(time.perf_counter() - s)
                res.statuses[status] = res.statuses.get(status, 0) + 1
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                res.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
            res.sent += 1
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    res.elapsed = time.perf_counter() - t0
    return res


def run_load(port: int, requests: list[bytes], concurrency: int = 16, timeout: float = 30.0) -> LoadResult:
    return asyncio.run(_run_load(port, requests, concurrency, timeout))


# ---------------------------------------------------------------- processes

def pin_self(pin: bool) -> None:
    if pin and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {LOADGEN_CPU})


def start_server(argv: list[str], env: dict, cwd: Path, log: Path, pin: bool) -> subprocess.Popen:
    def pre():
        os.setsid()
        if pin and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {SERVER_CPU})

    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            preexec_fn=pre)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 300.0, path: str = "/readyz") -> float:
    """Seconds until ``path`` answers 200 (polling every 20 ms)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"not ready after {timeout} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> dict:
    out = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("VmRSS:", "VmHWM:")):
            k, v = line.split(":")
            out[k] = round(int(v.split()[0]) / 1024, 1)
    return out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(database_url: str, port: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPSA_")}
    env.update(TEPSA_DATABASE_URL=database_url, TEPSA_PUBLIC_URL=f"http://127.0.0.1:{port}",
               TEPSA_TWILIO_AUTH_TOKEN=TOKEN, TEPSA_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop")
    env.update(extra)
    return env


def reset_pg() -> None:
    """Drop and recreate the public schema of the ``bench`` database (creating the database if needed)."""
    psql = shutil.which("psql") or "psql"
    exists = subprocess.run([psql, "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                             "SELECT 1 FROM pg_database WHERE datname='bench'"], capture_output=True, text=True)
    if exists.stdout.strip() != "1":
        subprocess.run([psql, "-h", "127.0.0.1", "-U", "postgres", "-qc", "CREATE DATABASE bench"], check=True)
    subprocess.run([psql, "-h", "127.0.0.1", "-U", "postgres", "-d", "bench", "-qc",
                    "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"], check=True,
                   capture_output=True)


def count_rows(database_url: str, table: str, where: str = "") -> int:
    from sqlalchemy import create_engine, text

    eng = create_engine(database_url)
    try:
        with eng.connect() as c:
            return c.execute(text(f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else ""))).scalar_one()
    finally:
        eng.dispose()


def machine_load() -> str:
    """Load average and the busiest other processes: other work on the machine skews every figure."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def command_line() -> str:
    return " ".join([sys.executable.replace(str(ROOT) + "/", ""), *[a if " " not in a else repr(a) for a in sys.argv]])
