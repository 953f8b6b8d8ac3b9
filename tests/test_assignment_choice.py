"""The assignment choice: a pure function, tested over its whole decision table."""

from __future__ import annotations

import itertools

import pytest

from tepsa.assignment.choice import (
    BALAI, SAKTI_PEKSOS, TIER_KABKOTA, TIER_PROVINSI, TIER_UNIT, CaseInfo, UnitInfo, WorkerInfo, choose,
    covering_unit,
)

PKU = (0.53373, 101.5351)  # Tenayan Raya, Pekanbaru
UNITS = [
    UnitInfo("rumbai", "14.71", 0.55, 101.46, frozenset({"13", "14", "18", "21"})),
    UnitInfo("handayani", "31.75", -6.25, 106.9, frozenset({"31", "32", "36"})),
    UnitInfo("antasena", "33.08", -7.5, 110.2, frozenset({"33"})),
]


def worker(id, kode, kab="14.71", lat=None, lon=None, jenis=SAKTI_PEKSOS, **kw) -> WorkerInfo:
    return WorkerInfo(id=id, kode=kode, jenis=jenis, kabkota_kode=kab, lat=lat, lon=lon, **kw)


def case(kab="14.71", point=PKU, categories=("kekerasan_fisik_psikis",)) -> CaseInfo:
    return CaseInfo(kabkota_kode=kab, lat=point[0] if point else None, lon=point[1] if point else None,
                    categories=categories)


def test_nearest_worker_in_the_childs_kabkota_wins():
    ws = [worker(1, "far", lat=0.53, lon=101.39), worker(2, "near", lat=0.50, lon=101.52)]
    choice = choose(case(), ws, UNITS)
    assert choice.chosen.kode == "near"
    assert choice.chosen.tier == TIER_KABKOTA
    assert [c.kode for c in choice.runners_up][:1] == ["far"]
    assert choice.chosen.distance_km == pytest.approx(4.1, abs=0.5)


def test_kabkota_worker_beats_a_nearer_worker_in_another_kabkota():
    ws = [worker(1, "other-kab-but-near", kab="14.08", lat=0.534, lon=101.536),
          worker(2, "own-kab-far", lat=0.60, lon=101.30)]
    choice = choose(case(), ws, UNITS)
    assert choice.chosen.kode == "own-kab-far"
    assert choice.ranked[1].tier == TIER_PROVINSI


def test_province_then_unit_desk_when_no_kabkota_worker():
    ws = [worker(1, "siak", kab="14.08", lat=0.8, lon=102.0),
          worker(2, "desk-rumbai", kab="14.71", jenis=BALAI, lat=0.59, lon=101.43),
          worker(3, "desk-handayani", kab="31.75", jenis=BALAI)]
    choice = choose(case(kab="14.06", point=(0.4, 101.0)), ws, UNITS)
    assert [c.kode for c in choice.ranked] == ["siak", "desk-rumbai"]
    assert choice.ranked[-1].tier == TIER_UNIT and choice.ranked[-1].unit_kode == "rumbai"


def test_unit_desk_of_the_covering_unit_when_province_has_nobody():
    ws = [worker(1, "jakarta", kab="31.71"), worker(2, "desk-rumbai", kab="14.71", jenis=BALAI),
          worker(3, "desk-handayani", kab="31.75", jenis=BALAI)]
    choice = choose(case(kab="21.71", point=(0.96, 104.06)), ws, UNITS)  # Batam, Kepri (21) -> Rumbai
    assert choice.chosen.kode == "desk-rumbai"
    assert choice.chosen.tier == TIER_UNIT


def test_province_without_a_unit_falls_to_the_nearest_unit():
    unit, why = covering_unit(case(kab="34.71", point=(-7.8, 110.37)), UNITS)  # Yogyakarta (34)
    assert (unit.kode, why) == ("antasena", "nearest")


def test_inactive_excluded_full_and_unreachable_workers_are_skipped():
    ws = [worker(1, "inactive", lat=PKU[0], lon=PKU[1], aktif=False),
          worker(2, "declined", lat=PKU[0], lon=PKU[1]),
          worker(3, "full", lat=PKU[0], lon=PKU[1], kapasitas=2, open_cases=2),
          worker(4, "unreachable", lat=PKU[0], lon=PKU[1], reachable=False),
          worker(5, "ok", lat=0.6, lon=101.3)]
    choice = choose(case(), ws, UNITS, exclude=frozenset({"declined"}))
    assert [c.kode for c in choice.ranked] == ["ok"]
    assert any("inactive 1" in r and "excluded 1" in r and "full 1" in r for r in choice.reasons)


def test_ties_broken_by_training_then_caseload():
    same = dict(lat=0.55, lon=101.46)
    ws = [worker(1, "busy-trained", keahlian=frozenset({"kekerasan_fisik_psikis"}), open_cases=5, **same),
          worker(2, "idle-untrained", open_cases=0, **same),
          worker(3, "idle-trained", keahlian=frozenset({"kekerasan_fisik_psikis"}), open_cases=1, **same)]
    choice = choose(case(), ws, UNITS)
    assert [c.kode for c in choice.ranked] == ["idle-trained", "busy-trained", "idle-untrained"]


def test_nobody_at_all_gives_no_choice_with_a_reason():
    choice = choose(case(), [], [])
    assert choice.chosen is None
    assert "no candidate" in choice.reasons[-1]


def test_unknown_child_point_still_prefers_the_kabkota():
    ws = [worker(1, "prov", kab="14.08", lat=0.8, lon=102.0), worker(2, "kab", lat=0.5, lon=101.5)]
    choice = choose(case(point=None), ws, UNITS)
    assert choice.chosen.kode == "kab" and choice.chosen.distance_km is None


@pytest.mark.parametrize("aktif,excluded,full,reachable,on_duty", list(itertools.product([True, False], repeat=5)))
def test_a_worker_is_offered_exactly_when_every_condition_holds(aktif, excluded, full, reachable, on_duty):
    w = worker(1, "w", lat=0.5, lon=101.5, aktif=aktif, kapasitas=1, open_cases=1 if full else 0,
               reachable=reachable, on_duty=on_duty)
    choice = choose(case(), [w], UNITS, exclude=frozenset({"w"}) if excluded else frozenset())
    eligible = aktif and not excluded and not full and reachable and on_duty
    assert (choice.chosen is not None) == eligible


def test_a_full_desk_is_still_the_last_resort():
    desk = worker(9, "desk", jenis=BALAI, kapasitas=1, open_cases=30)
    choice = choose(case(), [desk], UNITS)
    assert choice.chosen.kode == "desk"


def test_ranking_is_deterministic_for_equal_workers():
    ws = [worker(i, f"w{i}", lat=0.55, lon=101.46) for i in (3, 1, 2)]
    assert [c.kode for c in choose(case(), ws, UNITS).ranked] == ["w1", "w2", "w3"]
