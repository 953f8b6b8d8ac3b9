"""The field-worker roster CSV (shared/spec/interfaces.md): parse, validate, upsert.

All rows are validated before anything is written, and the upsert is one
transaction: a malformed row is reported with its line number and nothing
is half imported. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlmodel import Session, select

from tepsa.assignment.choice import BALAI, SAKTI_PEKSOS
from tepsa.assignment.models import Worker
from tepsa.db import utcnow
from tepsa.phone import InvalidPhone, to_e164
from tepsa.vocab import CATEGORIES

COLUMNS = ["kode", "nama", "jenis", "telepon", "telegram_chat_id", "kabkota_kode",
           "lat", "lon", "aktif", "keahlian", "kapasitas"]
_TRUE = {"1", "ya", "true", "y", "yes"}
_FALSE = {"0", "tidak", "false", "n", "no", "t"}


class RosterError(ValueError):
    """Every problem found, each with its line number."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class RosterRow:
    line: int
    kode: str
    nama: str
    jenis: str
    telepon: str | None
    telegram_chat_id: str | None
    kabkota_kode: str
    lat: float | None
    lon: float | None
    aktif: bool
    keahlian: tuple[str, ...]
    kapasitas: int


def parse_roster(text: str, kabkota_codes: set[str]) -> list[RosterRow]:
    """Parse and validate the whole file; raise RosterError listing every bad line."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError([f"line 1: missing column(s): {', '.join(missing)}"])
    rows: list[RosterRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        raw = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            problems.append(f"line {line}: more fields than columns")
            continue
        if not any(raw.values()):
            continue
        errs: list[str] = []
        kode = raw["kode"]
        if not kode:
            errs.append("kode is empty")
        elif kode in seen:
            errs.append(f"kode {kode!r} repeats line {seen[kode]}")
        else:
            seen[kode] = line
        if not raw["nama"]:
            errs.append("nama is empty")
        jenis = raw["jenis"].lower()
        if jenis not in (SAKTI_PEKSOS, BALAI):
            errs.append(f"jenis must be {SAKTI_PEKSOS} or {BALAI}, not {raw['jenis']!r}")
        telepon = None
        if raw["telepon"]:
            try:
                telepon = to_e164(raw["telepon"])
            except InvalidPhone:
                errs.append("telepon is not a phone number")
        chat = raw["telegram_chat_id"] or None
        if chat is not None and not chat.lstrip("-").isdigit():
            errs.append("telegram_chat_id must be a number")
        kab = raw["kabkota_kode"]
        if kab not in kabkota_codes:
            errs.append(f"kabkota_kode {kab!r} is not a kabupaten/kota code")
        lat = lon = None
        if raw["lat"] or raw["lon"]:
            try:
                lat, lon = float(raw["lat"]), float(raw["lon"])
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError
            except ValueError:
                errs.append("lat/lon must both be valid coordinates (or both empty)")
        aktif_raw = raw["aktif"].lower()
        if aktif_raw in _TRUE or aktif_raw == "":
            aktif = True
        elif aktif_raw in _FALSE:
            aktif = False
        else:
            errs.append(f"aktif must be 1/0, ya/tidak or true/false, not {raw['aktif']!r}")
            aktif = False
        keahlian = tuple(k.strip() for k in raw["keahlian"].split(";") if k.strip())
        unknown = [k for k in keahlian if k not in CATEGORIES]
        if unknown:
            errs.append(f"unknown keahlian: {', '.join(unknown)}")
        kapasitas = 10
        if raw["kapasitas"]:
            try:
                kapasitas = int(raw["kapasitas"])
                if kapasitas < 1:
                    raise ValueError
            except ValueError:
                errs.append("kapasitas must be a whole number of at least 1")
        if errs:
            problems.extend(f"line {line}: {e}" for e in errs)
            continue
        rows.append(RosterRow(line, kode, raw["nama"], jenis, telepon, chat, kab, lat, lon,
                              aktif, keahlian, kapasitas))
    if problems:
        raise RosterError(problems)
    return rows


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def import_roster(session: Session, rows: list[RosterRow]) -> ImportResult:
    """Create or update workers by ``kode``; the caller commits (one transaction)."""
    existing = {w.kode: w for w in session.exec(select(Worker).where(Worker.kode.in_([r.kode for r in rows])))}
    created = updated = unchanged = 0
    now = utcnow()
    for r in rows:
        values = {
            "nama": r.nama, "jenis": r.jenis, "telepon": r.telepon, "telegram_chat_id": r.telegram_chat_id,
            "kabkota_kode": r.kabkota_kode, "lat": r.lat, "lon": r.lon, "aktif": r.aktif,
            "keahlian": list(r.keahlian), "kapasitas": r.kapasitas,
        }
        worker = existing.get(r.kode)
        if worker is None:
            session.add(Worker(kode=r.kode, **values))
            created += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(worker, k) != v}
        if r.telegram_chat_id is None and worker.telegram_chat_id:
            # An empty cell never unlinks a worker who already linked the bot.
            changed.pop("telegram_chat_id", None)
        if changed:
            for k, v in changed.items():
                setattr(worker, k, v)
            worker.updated_at = now
            session.add(worker)
            updated += 1
        else:
            unchanged += 1
    return ImportResult(created, updated, unchanged)
