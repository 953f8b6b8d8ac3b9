"""A fictional demo: a roster covering every kab/kota and a few example reports.

Names are drawn from generic given names; no phone numbers and no Telegram
chats are set, so the demo can never reach a real person.
"""

from __future__ import annotations

import random

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tepsa.assignment.roster import RosterRow, import_roster
from tepsa.bootstrap import prepare_database
from tepsa.geo.models import Region, Unit
from tepsa.intake.service import IncomingMessage, receive_message

_GIVEN = ["Ayu", "Budi", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hadi", "Indah", "Joko", "Kartika", "Lestari",
          "Made", "Nur", "Putri", "Rahmat", "Sari", "Tri", "Wahyu", "Yusuf", "Rina", "Agus", "Maya", "Dimas"]
_FAMILY = ["Pratama", "Wijaya", "Saputra", "Lestari", "Hidayat", "Nasution", "Siregar", "Manurung", "Utami",
           "Rahayu", "Kusuma", "Setiawan", "Purba", "Tanjung", "Halim", "Simanjuntak", "Putra", "Sembiring"]

DEMO_REPORTS = [
    ("DEMO-0001", ["TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"]),
    ("DEMO-0002", ["selamat siang, saya guru SD di Kota Padang",
                   "murid saya kelas 3 sering datang dengan memar di lengan, katanya dipukul ibunya tiap malam"]),
    ("DEMO-0003", ["min mau tanya cara daftar jadi orang tua asuh di jakarta timur gimana ya"]),
    ("DEMO-0004", ["ada anak umur 4 tahun ditinggal sendirian di rumah kontrakan sejak kemarin, "
                   "ibunya pergi gak balik, di kel. Kebon Kosong Kemayoran jakpus"]),
    ("DEMO-0005", ["adik sy 15 th ditawari kerja di malaysia sama agen, katanya gaji besar, "
                   "besok mau dibawa ke batam, kami dari kab. lombok timur"]),
]


def demo_roster(session: Session) -> list[RosterRow]:
    rng = random.Random(1500771)
    kabkota = list(session.exec(select(Region).where(col(Region.level).in_(["kabupaten", "kota"]))
                                .order_by(Region.kode)))
    rows: list[RosterRow] = []
    line = 1
    for region in kabkota:
        for n in range(2 if region.level == "kota" else 1):
            line += 1
            lat = lon = None
            if region.lat is not None and region.lon is not None:
                lat = round(region.lat + rng.uniform(-0.05, 0.05), 5)
                lon = round(region.lon + rng.uniform(-0.05, 0.05), 5)
            keahlian = tuple(rng.sample(["kekerasan_fisik_psikis", "kejahatan_seksual", "penelantaran", "abh",
                                         "eksploitasi", "perdagangan", "napza"], k=rng.randint(0, 2)))
            rows.append(RosterRow(
                line=line, kode=f"DEMO-{region.kode.replace('.', '')}-{n + 1}",
                nama=f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)} (demo)", jenis="sakti_peksos", telepon=None,
                telegram_chat_id=None, kabkota_kode=region.kode, lat=lat, lon=lon, aktif=True,
                keahlian=keahlian, kapasitas=10,
            ))
    for unit in session.exec(select(Unit).order_by(Unit.kode)):
        line += 1
        rows.append(RosterRow(
            line=line, kode=f"DEMO-BALAI-{unit.kode.upper()}", nama=f"Meja piket {unit.kode} (demo)",
            jenis="balai", telepon=None, telegram_chat_id=None, kabkota_kode=unit.kabkota_kode,
            lat=None, lon=None, aktif=True, keahlian=(), kapasitas=50,
        ))
    return rows


def load_demo(engine: Engine) -> str:
    """Idempotent: running it again leaves the same roster and reports."""
    prepare_database(engine)
    with Session(engine) as session:
        result = import_roster(session, demo_roster(session))
        session.commit()
    created = 0
    for sid, messages in DEMO_REPORTS:
        for i, body in enumerate(messages):
            with Session(engine) as session:
                received = receive_message(session, IncomingMessage(
                    channel="whatsapp", provider_sid=f"{sid}-{i}", from_phone=f"demo:{sid}",
                    body=body, payload={"demo": True}))
                session.commit()
                created += int(received.new_intake and not received.duplicate)
    return (f"demo roster: {result.created} created, {result.updated} updated, {result.unchanged} unchanged; "
            f"example reports: {created} new intake(s)")
