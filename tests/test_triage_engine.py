"""Triage engine: contract, guide behaviours, robustness and speed."""

from __future__ import annotations

import dataclasses
import json
import random
import time

import pytest

from tepsa.triage.engine import RULESET_VERSION, TriageResult, ruleset_version, triage
from tepsa.triage.report_set import run_report_set

FIELDS = {"urgency", "category", "categories", "kabkota_kode", "kecamatan_kode", "desa_kode", "lat", "lon",
          "age", "child_sex", "reporter", "needs_review", "ruleset_version", "reasons"}
CATEGORIES = {"situasi_darurat", "abh", "minoritas_terisolasi", "eksploitasi", "napza", "pornografi", "hiv_aids",
              "perdagangan", "kekerasan_fisik_psikis", "kejahatan_seksual", "terorisme", "disabilitas",
              "penelantaran", "perilaku_menyimpang", "stigmatisasi", "psikososial", "pengasuhan", "layanan_lain",
              "informasi", "bukan_kasus"}


def test_must_pass_example():
    r = triage(["TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"])
    assert r.urgency == "darurat"
    assert r.category == "kekerasan_fisik_psikis"
    assert r.kabkota_kode == "14.71"
    assert r.kecamatan_kode == "14.71.10"
    assert r.lat is not None and r.lon is not None


def test_contract_shape():
    r = triage(["anak sy 7 th dipukul gurunya di Kota Kediri"])
    assert isinstance(r, TriageResult)
    assert dataclasses.is_dataclass(r) and r.__dataclass_params__.frozen
    d = r.to_dict()
    assert FIELDS <= set(d)
    json.dumps(d)
    assert d["ruleset_version"] == RULESET_VERSION == ruleset_version()
    assert d["category"] == d["categories"][0]
    assert set(d["categories"]) <= CATEGORIES
    assert all({"rule", "effect", "matched"} <= set(x) for x in d["reasons"])
    assert any(x["rule"].startswith("location.") for x in d["reasons"])
    assert any(x["rule"] == "age" for x in d["reasons"])


@pytest.mark.parametrize("messages", [
    [], [""], ["   "], ["😭😭😭"], ["\x00\x01\x02"], ["\u202e\u200b"], ["a" * 20000], ["1 2 3 4 5 6 7 8 9"],
    ["kec."], ["umur 999999999999999999 tahun"], ["…", "—", "🇮🇩"], [None], ["ﷺ ٱلله", "中文 测试"],
    ["...", "|||", ",,,"], ["tolong tolong tolong " * 500],
])
def test_never_raises(messages):
    r = triage(messages)
    assert r.urgency in {"rendah", "sedang", "tinggi", "darurat"}
    assert r.category in CATEGORIES
    json.dumps(r.to_dict())


def test_never_raises_random_unicode():
    rnd = random.Random(7)
    for _ in range(300):
        msgs = ["".join(chr(rnd.randint(0, 0x2FFFF)) for _ in range(rnd.randint(0, 60)))
                for _ in range(rnd.randint(0, 3))]
        pin = rnd.choice([None, {"lat": rnd.uniform(-90, 90), "lon": rnd.uniform(-180, 180)}, {"lat": "x"}, {}])
        r = triage(msgs, pin)
        assert r.urgency in {"rendah", "sedang", "tinggi", "darurat"}


def test_empty_report_is_not_a_case():
    r = triage([])
    assert r.category == "bukan_kasus" and r.urgency == "rendah"
    assert r.kabkota_kode is None and r.age is None


# -- urgency ---------------------------------------------------------------------
@pytest.mark.parametrize("text,urgency", [
    ("anak tetangga sy dipukulin bapaknya hampir tiap malam", "tinggi"),
    ("tolong, tetangga sy lagi mukulin anaknya pake ikat pinggang, anaknya teriak2", "darurat"),
    ("anak sy umur 6 thn td siang dipegang2 sm om tetangga di kamar", "darurat"),
    ("anak sy dicabuli penjaga sekolah 3 tahun lalu, pelaku sudah divonis dan dipenjara, anak baik2 saja", "sedang"),
    ("aku 12 thn, mama sering pukul aku, aku takut pulang nanti malam", "darurat"),
    ("anak tetangga umur 3 thn ditinggal sendirian di rumah dari kemarin", "darurat"),
    ("anak sy 14 thn sering nyakitin diri sendiri, gk pernah ngomong mau mati", "tinggi"),
    ("kak aku pengen mati aja, aku udah beli racun", "darurat"),
    ("anak sy stres mau ujian, susah tidur", "sedang"),
    ("mau tanya cara adopsi anak gimana ya", "rendah"),
    ("ponakan sy 15 thn mau dibawa agen ke malaysia, kapalnya malam ini", "darurat"),
])
def test_urgency(text, urgency):
    assert triage([text]).urgency == urgency


def test_prank_is_not_a_case():
    r = triage(["min ada anak dipukulin di rumah no 69", "cepetan dateng", "WKWKWK prank bang"])
    assert r.category == "bukan_kasus" and r.urgency == "rendah"


def test_negation_changes_category():
    r = triage(["anak tetangga bukan dicabuli, tapi dipukuli pakai sapu sama ibu tirinya, sudah sering"])
    assert r.category == "kekerasan_fisik_psikis"
    assert "kejahatan_seksual" not in r.categories
    r2 = triage(["tidak ada kekerasan ya, sy cuma mau tanya prosedur hak asuh"])
    assert "kekerasan_fisik_psikis" not in r2.categories


def test_precedence():
    r = triage(["anak sy 14 th ditangkap polsek krn nyuri, ternyata disuruh sm orang dewasa, dikasih upah"])
    assert r.categories[:2] == ["eksploitasi", "abh"]


def test_typo_tolerance():
    r = triage(["anak tetangga sy diperkoas pamannya kemarin malam"])
    assert r.category == "kejahatan_seksual"


def test_regional_language():
    r = triage(["halo mas iki bocah lanang tonggoku lagi dihajar bapake saiki neng delanggu klaten"])
    assert r.urgency == "darurat" and r.kabkota_kode == "33.10"


# -- location --------------------------------------------------------------------
@pytest.mark.parametrize("text,kab", [
    ("anak tetangga dipukul di kel. Rejosari kec. Tenayan Raya pekanbaru", "14.71"),
    ("kami tinggal di Lowokwaru Malang", "35.73"),
    ("alamat di Depok Sleman, deket UPN", "34.04"),
    ("kami di Cikupa Tangerang", "36.03"),
    ("rumah kami di Johar Baru Jakpus", "31.71"),
    ("mantan suami bawa anak ke rumah ortunya di Curup. sy di Palembang", "17.02"),
    ("aku di Jakarta", None),          # province only
    ("anak sy di Bogor", None),        # Kabupaten or Kota Bogor: do not guess
    ("saya mau tanya", None),
])
def test_location_text(text, kab):
    assert triage([text]).kabkota_kode == kab


def test_location_pin_first():
    r = triage(["ada anak dipukulin di sini, di Kota Medan"], {"lat": 0.5, "lon": 101.45})
    assert r.kabkota_kode == "14.71"
    assert (r.lat, r.lon) == (0.5, 101.45)
    assert any(x["rule"] == "location.pin" for x in r.reasons)


# -- age -------------------------------------------------------------------------
@pytest.mark.parametrize("text,age", [
    ("anak sy umur 7 th", 7),
    ("umure sewelas tahun", 11),
    ("anak laki2 kira2 12 taun", 12),
    ("anak2 sy (8 dan 10 thn)", None),
    ("anak usia 6-10 th", None),
    ("bayi laki2 usia 10 bulan", 0),
    ("ada bayi dibuang", 0),
    ("anak sy kls 2 SMP", None),
    ("siswi kami kls 11 (16 th)", 16),
    ("ibu (32 th) menjual video anaknya", None),
    ("BPJS nunggak 1 thn, anak sy 2 thn", 2),
    ("dia umur lima belas tahun", 15),
])
def test_age(text, age):
    assert triage([text]).age == age


def test_run_report_set():
    rows = [{"id": "A1", "messages": ["tes"], "location_pin": None, "labels": {"urgency": "x"}},
            {"id": "A2", "messages": ["anak dipukul"], "location_pin": {"lat": 0.5, "lon": 101.45}}]
    out = list(run_report_set(rows))
    assert [o["id"] for o in out] == ["A1", "A2"]
    assert out[0]["category"] == "bukan_kasus"
    assert out[1]["kabkota_kode"] == "14.71"
    assert FIELDS <= set(out[0])


def test_speed_typical_reports():
    msgs = ["assalamualaikum min", "anak tetangga sy dipukulin bapaknya tiap malem",
            "di kel. Rejosari kec. Tenayan Raya pekanbaru"]
    triage(msgs)
    n = 300
    t = time.perf_counter()
    for i in range(n):
        triage(msgs + [f"no {i}"])
    rate = n / (time.perf_counter() - t)
    assert rate > 500, f"{rate:.0f} reports/s"
