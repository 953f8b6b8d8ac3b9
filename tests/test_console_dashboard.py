"""The supervisors' dashboard: pure SVG charts, the figures on a real database, the page and the CSV."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from tepsa.assignment.models import Assignment, Worker
from tepsa.audit.models import AuditEvent
from tepsa.auth.service import create_user
from tepsa.console import charts
from tepsa.console.dashboard import Period, compute_figures, csv_rows, parse_period, percentile, to_csv
from tepsa.intake.models import Intake

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.find(SVG + "title") is not None and root.find(SVG + "desc") is not None
    return root


def _texts(svg: str) -> str:
    return " ".join("".join(el.itertext()) for el in _parse(svg).iter(SVG + "text"))


# --- pure charts ------------------------------------------------------------------------------

def test_hbar_chart_prints_the_numbers_and_escapes_labels():
    svg = charts.hbar_chart([charts.Bar('<script>alert("x")</script> & Co', 12),
                             charts.Bar("Riau", 3, note="kapasitas 10")], "Per provinsi <b>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg
    words = _texts(svg)
    assert "12" in words and "3" in words and "kapasitas 10" in words and "Riau" in words
    assert _parse(svg).find(SVG + "title").text == "Per provinsi <b>"


def test_stacked_month_chart_has_totals_segments_and_a_legend():
    svg = charts.stacked_month_chart(
        ["Jun 2025", "Jul 2025", "Agu 2025"],
        [charts.Series("abh", "Anak berhadapan dengan hukum", [3555, 4000, 5364]),
         charts.Series("lainnya", "Lainnya", [100, 0, 45])],
        "Laporan per kategori per bulan")
    words = _texts(svg)
    for number in ("3\u202f555", "5\u202f364", "3\u202f655", "5\u202f409", "Agu 2025", "Lainnya"):
        assert number in words
    # The month with nothing in "lainnya" draws no empty segment; every segment has a tooltip.
    assert len(_parse(svg).findall(f".//{SVG}rect/{SVG}title")) == 5
    assert charts.OTHER_COLOUR in svg


def test_timing_chart_draws_the_target_and_marks_late_times():
    rows = [charts.TimingRow("Darurat", 2, 3600, 5040, 3600, "1 j", "1 j 24 mnt", "1 j", "2 dari 3 diterima"),
            charts.TimingRow("Sedang", 0, None, None, 259200, target_label="3 h"),
            charts.TimingRow("Rendah", 1, 60, 60, None, "1 mnt", "1 mnt")]
    svg = charts.timing_chart(rows, "Waktu sampai diterima", texts=charts.TimingTexts())
    words = _texts(svg)
    assert "1 j 24 mnt" in words and "Target 1 j" in words and "Target 3 h" in words
    assert "belum ada yang diterima" in words and "tanpa target penugasan" in words
    assert 'stroke-dasharray="4 3"' in svg
    assert re.search(r'fill="#b3261e" font-weight="700">1 j 24 mnt<', svg)  # p90 past the target shows red


@pytest.mark.parametrize("svg", [
    charts.hbar_chart([], "Per kanal"),
    charts.hbar_chart([charts.Bar("WhatsApp", 0)], "Per kanal"),
    charts.stacked_month_chart(["Jan 2025"], [], "Per bulan"),
    charts.stacked_month_chart(["Jan 2025"], [charts.Series("abh", "ABH", [0])], "Per bulan"),
    charts.timing_chart([charts.TimingRow("Darurat", 0, None, None, 3600)], "Waktu"),
])
def test_empty_data_gives_a_chart_that_says_so(svg):
    assert "Belum ada data" in _texts(svg)


def test_empty_chart_text_is_escaped_too():
    svg = charts.empty_chart("A & B", "No <data> yet")
    assert "No &lt;data&gt; yet" in svg and _parse(svg) is not None


def test_percentile_and_the_period():
    assert percentile([], 50) is None
    assert percentile([1800, 5400], 50) == 3600 and percentile([1800, 5400], 90) == pytest.approx(5040)
    assert percentile([7], 90) == 7
    now = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # already 1 July in Jakarta
    period, problems = parse_period(None, None, now)
    assert (period.dari, period.sampai, problems) == ("2025-02", "2025-07", [])
    assert period.months == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    assert period.start == datetime(2025, 1, 31, 17, 0, tzinfo=UTC)
    assert parse_period("2025-06", "2025-04", now)[0].months == ["2025-04", "2025-05", "2025-06"]
    assert parse_period("2025-13", "x", now)[1] == ["bad_month"]
    long, problems = parse_period("2001-01", "2025-06", now)
    assert len(long.months) == 36 and problems == ["too_long"]


# --- figures on a real database ---------------------------------------------------------------

def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (reference, created UTC, category, channel, kabkota, urgency, status)
INTAKES = [
    ("X0", "2025-03-31T16:00", "abh", "whatsapp", "14.71", "tinggi", "closed"),  # 23:00 WIB 31 March: outside
    ("A1", "2025-03-31T18:00", "abh", "whatsapp", "14.71", "tinggi", "closed"),  # 01:00 WIB 1 April
    ("A2", "2025-04-10T03:00", "abh", "voice", "14.71", "sedang", "open"),
    ("A3", "2025-04-20T03:00", "kekerasan_fisik_psikis", "whatsapp", "31.75", "darurat", "open"),
    ("M1", "2025-05-05T03:00", "abh", "whatsapp", "14.71", "darurat", "closed"),
    ("J1", "2025-06-01T03:00", "abh", "whatsapp", "14.71", "darurat", "open"),
    ("J2", "2025-06-02T03:00", "abh", "voice", None, "rendah", "open"),
    ("J3", "2025-06-03T03:00", "abh", "whatsapp", "31.75", None, "open"),
    ("J4", "2025-06-04T03:00", None, "whatsapp", None, None, "open"),
    ("X1", "2025-06-30T17:30", "abh", "whatsapp", "14.71", "darurat", "open"),  # 00:30 WIB 1 July: outside
]
PERIOD = Period(datetime(2025, 4, 1).date(), datetime(2025, 6, 1).date())


@pytest.fixture
def cases(engine):
    with Session(engine) as s:
        ids = {}
        for ref, created, category, channel, kabkota, urgency, status in INTAKES:
            intake = Intake(reference=ref, created_at=at(created), category=category, channel=channel,
                            categories=[category] if category else [], kabkota_kode=kabkota, urgency=urgency,
                            status=status)
            s.add(intake)
            s.flush()
            ids[ref] = intake.id
        w1 = Worker(kode="PKU-1", nama="Petugas Satu", jenis="sakti_peksos", kabkota_kode="14.71", kapasitas=10)
        w2 = Worker(kode="PKU-2", nama="Petugas Dua", jenis="sakti_peksos", kabkota_kode="14.71", kapasitas=5)
        s.add(w1)
        s.add(w2)
        s.flush()

        def offer(ref, worker, status, after_min=None, sent_min=1):
            created = at(dict((r[0], r[1]) for r in INTAKES)[ref])
            s.add(Assignment(intake_id=ids[ref], worker_id=worker.id, status=status, tier="field",
                             created_at=created + timedelta(minutes=sent_min),
                             responded_at=None if after_min is None else created + timedelta(minutes=after_min)))
            s.flush()

        offer("A1", w1, "completed", 120)
        offer("A2", w1, "offered")
        offer("A3", w2, "accepted", 30)
        offer("M1", w2, "completed", 90)
        offer("J1", w1, "declined", 5)
        offer("J1", w2, "offered", sent_min=6)
        offer("X1", w1, "accepted", 10)
        s.commit()
    return ids


def test_figures_count_months_in_wib_places_channels_and_times(engine, cases):
    with Session(engine) as s:
        fig = compute_figures(s, PERIOD, "id")
    assert fig.total == 8 and fig.months == ["2025-04", "2025-05", "2025-06"]
    assert fig.by_month_category == {"2025-04": {"abh": 2, "kekerasan_fisik_psikis": 1}, "2025-05": {"abh": 1},
                                     "2025-06": {"abh": 3, "-": 1}}
    assert fig.top_categories == ["abh", "-", "kekerasan_fisik_psikis"]
    assert [(i.label, i.value) for i in fig.per_province] == [("Riau", 4), ("DKI Jakarta", 2),
                                                             ("Lokasi belum diketahui", 2)]
    assert [(i.key, i.value) for i in fig.per_channel] == [("whatsapp", 6), ("voice", 2)]

    timing = {r.urgency: r for r in fig.time_to_accept}
    darurat = timing["darurat"]
    assert (darurat.total, darurat.accepted, darurat.within_target) == (3, 2, 1)  # J1: declined, then only offered
    assert darurat.median_s == 3600 and darurat.p90_s == pytest.approx(5040) and darurat.target_s == 3600
    assert (timing["tinggi"].accepted, timing["tinggi"].median_s, timing["tinggi"].target_s) == (1, 7200, 86400)
    assert (timing["sedang"].total, timing["sedang"].accepted, timing["sedang"].median_s) == (1, 0, None)
    assert (timing["rendah"].total, timing["rendah"].target_s, timing["rendah"].within_target) == (1, None, None)

    # Open now, whatever the period: A2 A3 J1 J2 J3 J4 X1.
    assert fig.open_total == 7 and fig.open_unassigned == 3
    assert [(i.key, i.value) for i in fig.open_per_unit] == [("rumbai", 3), ("handayani", 2), ("-", 2)]
    assert [(i.key, i.value, i.extra) for i in fig.open_per_worker] == [
        ("PKU-1", 2, {"offered": 1, "accepted": 1, "kapasitas": 10}),
        ("PKU-2", 2, {"offered": 1, "accepted": 1, "kapasitas": 5})]


def test_csv_rows_carry_the_same_figures(engine, cases):
    with Session(engine) as s:
        fig = compute_figures(s, PERIOD, "en")
    rows = list(csv.DictReader(io.StringIO(to_csv(csv_rows(fig)))))
    assert {r["figure"] for r in rows} == {"per_month_category", "per_province", "per_channel", "time_to_accept",
                                           "open_per_unit", "open_per_worker"}
    assert all(r["period_from"] == "2025-04" and r["period_to"] == "2025-06" for r in rows)
    june_abh = [r for r in rows if r["figure"] == "per_month_category" and r["month"] == "2025-06" and r["key"] == "abh"]
    assert [(r["label"], r["value"]) for r in june_abh] == [("Child in conflict with the law", "3")]
    darurat = {r["measure"]: r["value"] for r in rows if r["figure"] == "time_to_accept" and r["key"] == "darurat"}
    assert darurat == {"intakes": "3", "accepted": "2", "median_hours": "1.00", "p90_hours": "1.40",
                       "target_hours": "1.00", "within_target": "1"}
    assert csv_rows(fig, "per_channel") == [("per_channel", "2025-04", "2025-06", "", "whatsapp", "WhatsApp", "intakes", 6),
                                            ("per_channel", "2025-04", "2025-06", "", "voice", "Phone 1500-771", "intakes", 2)]


def test_no_data_gives_empty_figures_not_errors(engine):
    with Session(engine) as s:
        fig = compute_figures(s, PERIOD, "id")
    assert fig.total == 0 and fig.open_total == 0 and fig.per_province == [] and fig.open_per_worker == []
    assert all(r.accepted == 0 and r.median_s is None for r in fig.time_to_accept)


# --- routes -----------------------------------------------------------------------------------

def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _sign_in(client, engine, name: str, role: str) -> None:
    with Session(engine) as s:
        create_user(s, name, role, "kata-sandi-dasbor")
        s.commit()
    page = client.get("/masuk")
    r = client.post("/masuk", data={"username": name, "password": "kata-sandi-dasbor", "csrf": _csrf(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303


def test_operators_may_not_see_the_dashboard(client, engine):
    assert client.get("/dasbor", follow_redirects=False).headers["location"] == "/masuk"
    _sign_in(client, engine, "op-dasbor", "operator")
    assert client.get("/dasbor").status_code == 403
    assert client.get("/dasbor.csv").status_code == 403


def test_supervisors_get_the_charts_and_the_read_is_audited(client, engine, cases):
    _sign_in(client, engine, "spv-dasbor", "supervisor")
    r = client.get("/dasbor", params={"dari": "2025-04", "sampai": "2025-06"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    assert page.count("<svg") == 6 and "<script>" not in page.split("</head>")[1]
    assert "Dasbor supervisor" in page and "Riau" in page and "PKU-1" in page
    assert "Petugas Satu" not in page  # worker codes, not names
    assert "BRSAMPK &quot;Rumbai&quot;" in page  # unit names escaped inside the SVG
    assert "Anak berhadapan dengan hukum: 2 pada Apr 2025 → 3 pada Jun 2025 (naik 50%)" in page
    assert "Panduan Triase" in page and 'value="2025-04"' in page
    assert "/dasbor.csv?dari=2025-04&amp;sampai=2025-06&amp;figure=per_channel" in page
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "read_dashboard")).one()
    assert event.actor == "spv-dasbor" and event.detail["dari"] == "2025-04" and event.detail["format"] == "html"

    client.cookies.set("tepsa_bahasa", "en")
    english = client.get("/dasbor", params={"dari": "2025-04", "sampai": "2025-06"}).text
    assert "Supervisors&#39; dashboard" in english and "Child in conflict with the law" in english


def test_bad_months_fall_back_to_the_default_period(client, engine):
    _sign_in(client, engine, "spv-bulan", "supervisor")
    r = client.get("/dasbor", params={"dari": "<x-probe>", "sampai": "2025-99"})
    assert r.status_code == 200 and "Bulan tidak dikenali" in r.text and "<x-probe>" not in r.text
    assert "Belum ada data" in r.text


def test_the_csv_export(client, engine, cases):
    _sign_in(client, engine, "admin-dasbor", "admin")
    r = client.get("/dasbor.csv", params={"dari": "2025-04", "sampai": "2025-06", "figure": "per_channel"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="tepsa-dasbor-2025-04_2025-06-per_channel.csv"'
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["figure", "period_from", "period_to", "month", "key", "label", "measure", "value"],
                    ["per_channel", "2025-04", "2025-06", "", "whatsapp", "WhatsApp", "intakes", "6"],
                    ["per_channel", "2025-04", "2025-06", "", "voice", "Telepon 1500-771", "intakes", "2"]]
    everything = client.get("/dasbor.csv", params={"dari": "2025-04", "sampai": "2025-06"}).content.decode("utf-8")
    assert "per_month_category,2025-04,2025-06,2025-06,abh,Anak berhadapan dengan hukum,intakes,3" in everything
    assert "open_per_worker,2025-04,2025-06,,PKU-2,PKU-2,capacity,5" in everything
    assert "Petugas" not in everything
    assert client.get("/dasbor.csv", params={"figure": "nope"}).status_code == 400
