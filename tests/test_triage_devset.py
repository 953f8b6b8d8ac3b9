"""Regression floors on the labelled development set (tests/data/reports-dev.jsonl).

The floors sit a little below the figures measured when the rules were last
tuned, so that a rule edit that loses ground on the dev set fails here.  The
dev set is not the measure of quality (unseen reports are): do not raise the
floors by adding rules that only fit one dev report.
The small scorer below mirrors shared/tools/score_triage.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tepsa.triage.report_set import run_report_set

DEV = Path(__file__).parent / "data" / "reports-dev.jsonl"
LEVELS = ["rendah", "sedang", "tinggi", "darurat"]
RANK = {u: i for i, u in enumerate(LEVELS)}

FLOORS = {
    "darurat_recall": 0.97,
    "urgency_accuracy": 0.93,
    "category_accuracy": 0.93,
    "categories_micro_f1": 0.93,
    "location_accuracy": 0.93,
    "age_accuracy": 0.93,
}
CEILINGS = {
    "under_triage_rate": 0.03,
    "wrong_location_rate": 0.03,
}


def score(gold: list[dict], pred: dict[str, dict]) -> dict[str, float]:
    n = len(gold)
    urg_ok = cat_ok = under = dar_total = dar_hit = 0
    tp = fp = fn = 0
    loc_total = loc_ok = wrong = 0
    age_total = age_ok = 0
    for g in gold:
        lab, p = g["labels"], pred.get(str(g["id"]), {})
        tu, pu = lab["urgency"], p.get("urgency")
        urg_ok += tu == pu
        under += pu not in RANK or RANK[pu] < RANK[tu]
        if tu == "darurat":
            dar_total += 1
            dar_hit += pu == "darurat"
        cat_ok += lab["category"] == p.get("category")
        t, q = set(lab["categories"]), set(p.get("categories") or [])
        tp, fp, fn = tp + len(t & q), fp + len(q - t), fn + len(t - q)
        tk, pk = lab.get("kabkota_kode"), p.get("kabkota_kode")
        if tk is not None:
            loc_total += 1
            loc_ok += tk == pk
        wrong += pk is not None and pk != tk
        if lab.get("age") is not None:
            age_total += 1
            age_ok += lab["age"] == p.get("age")
    return {
        "darurat_recall": dar_hit / dar_total if dar_total else 1.0,
        "under_triage_rate": under / n,
        "urgency_accuracy": urg_ok / n,
        "category_accuracy": cat_ok / n,
        "categories_micro_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "location_accuracy": loc_ok / loc_total if loc_total else 1.0,
        "wrong_location_rate": wrong / n,
        "age_accuracy": age_ok / age_total if age_total else 1.0,
    }


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    gold = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(gold) >= 100
    pred = {str(o["id"]): o for o in run_report_set(gold)}
    assert len(pred) == len(gold)
    return score(gold, pred)


@pytest.mark.parametrize("name,floor", sorted(FLOORS.items()))
def test_floor(figures, name, floor):
    assert figures[name] >= floor, f"{name}={figures[name]:.3f} below floor {floor}"


@pytest.mark.parametrize("name,ceiling", sorted(CEILINGS.items()))
def test_ceiling(figures, name, ceiling):
    assert figures[name] <= ceiling, f"{name}={figures[name]:.3f} above ceiling {ceiling}"


# -- engineer-written cases ------------------------------------------------------
# tests/data/reports-extra.jsonl holds 244 short reports written from the guide
# (different phrasing, regional words, voice transcripts) to watch how the rules
# generalise beyond the dev set.  Labels are the engineer's reading of the guide.
EXTRA = Path(__file__).parent / "data" / "reports-extra.jsonl"


@pytest.fixture(scope="module")
def extra_figures() -> dict[str, float]:
    rows = [json.loads(line) for line in EXTRA.read_text(encoding="utf-8").splitlines() if line.strip()]
    pred = {str(o["id"]): o for o in run_report_set(rows)}
    n = len(rows)
    urg = sum(pred[r["id"]]["urgency"] == r["labels"]["urgency"] for r in rows) / n
    cat = sum(pred[r["id"]]["category"] == r["labels"]["category"] for r in rows) / n
    under = sum(RANK[pred[r["id"]]["urgency"]] < RANK[r["labels"]["urgency"]] for r in rows) / n
    wrong = sum(pred[r["id"]]["kabkota_kode"] not in (None, r["labels"]["kabkota_kode"]) for r in rows) / n
    dar = [r for r in rows if r["labels"]["urgency"] == "darurat"]
    dar_recall = sum(pred[r["id"]]["urgency"] == "darurat" for r in dar) / len(dar)
    return {"urgency_accuracy": urg, "category_accuracy": cat, "under_triage_rate": under,
            "wrong_location_rate": wrong, "darurat_recall": dar_recall}


@pytest.mark.parametrize("name,bound", [
    ("urgency_accuracy", 0.85), ("category_accuracy", 0.85), ("darurat_recall", 0.9),
])
def test_extra_floor(extra_figures, name, bound):
    assert extra_figures[name] >= bound, f"{name}={extra_figures[name]:.3f}"


@pytest.mark.parametrize("name,bound", [("under_triage_rate", 0.08), ("wrong_location_rate", 0.03)])
def test_extra_ceiling(extra_figures, name, bound):
    assert extra_figures[name] <= bound, f"{name}={extra_figures[name]:.3f}"


# -- held-out sets, now regression sets (see tests/data/README.md) ---------------
HELDOUT_FLOORS = {
    # set: (darurat_recall, urgency_accuracy, category_accuracy, max under_triage, max wrong_location)
    "a": (0.97, 0.92, 0.92, 0.03, 0.03),
    "b": (0.97, 0.92, 0.92, 0.03, 0.07),
    "c": (0.97, 0.90, 0.88, 0.04, 0.04),  # studied in 2026.11.24-4
    "d": (0.97, 0.88, 0.91, 0.02, 0.06),  # studied in 2026.11.25-1 (unseen: 0.786, 0.740, 0.720, 0.110, 0.040)
    # studied in 2026.11.25-2 (unseen at 2026.11.25-1: 0.690, 0.720, 0.720, 0.170, 0.020)
    "e": (0.97, 0.86, 0.88, 0.05, 0.03),
    # Scored unseen at 2026.11.25-1 and 2026.11.25-2, not studied: these floors only stop losses.
    "f": (0.97, 0.80, 0.80, 0.08, 0.05),  # since 2026.11.25-4 also learnt from by the second opinion
    # Scored unseen at 2026.11.25-2 (0.792, 0.838, 0.825, 0.125, 0.000); a few misses studied in -3.
    "g": (0.97, 0.86, 0.85, 0.08, 0.01),  # since 2026.11.25-4 also learnt from
    # Scored unseen at 2026.11.25-3 (0.885, 0.830, 0.840, 0.060, 0.030) and with the second opinion
    # (0.962, 0.830, 0.850, 0.020, 0.030), then studied in 2026.11.25-4 and learnt from.
    "h": (0.97, 0.88, 0.95, 0.03, 0.04),
    # Scored unseen at 2026.11.25-3 (0.885, 0.850, 0.780, 0.060, 0.010) and at 2026.11.25-5 with the
    # second opinion (0.962, 0.880, 0.800, 0.040, 0.020), then studied in 2026.11.25-6 and learnt from.
    "i": (0.97, 0.92, 0.88, 0.02, 0.03),
    # Scored unseen at 2026.11.25-6 with the second opinion (J: 0.846, 0.840, 0.830, 0.070, 0.020;
    # K: 0.846, 0.780, 0.820, 0.120, 0.020), then studied in 2026.11.25-7 and learnt from.
    "j": (0.97, 0.88, 0.85, 0.02, 0.03),
    "k": (0.97, 0.88, 0.86, 0.02, 0.03),
    # Scored unseen at 2026.11.25-7 with the second opinion (L: 0.962, 0.870, 0.870, 0.040, 0.020;
    # M: 0.962, 0.890, 0.860, 0.050, 0.030), then studied in 2026.11.25-8 and learnt from.
    "l": (0.97, 0.90, 0.87, 0.02, 0.03),
    "m": (0.97, 0.92, 0.88, 0.02, 0.04),
    # Scored unseen at 2026.11.25-8 with the second opinion (N: 1.000, 0.880, 0.840, 0.030, 0.010;
    # O: 0.889, 0.840, 0.880, 0.040, 0.020), then studied in 2026.11.25-9 and learnt from.
    "n": (0.97, 0.88, 0.86, 0.02, 0.02),
    "o": (0.97, 0.87, 0.87, 0.02, 0.03),
    # Scored unseen at 2026.11.25-9 with the second opinion (P: 1.000, 0.920, 0.920, 0.010, 0.020;
    # Q: 0.923, 0.800, 0.860, 0.060, 0.040), then studied in 2026.11.25-10 and learnt from.
    "p": (0.97, 0.91, 0.90, 0.01, 0.03),
    "q": (0.97, 0.83, 0.86, 0.02, 0.05),
}


@pytest.mark.parametrize("name", sorted(HELDOUT_FLOORS))
def test_heldout_sets_keep_their_figures(name):
    path = Path(__file__).parent / "data" / f"reports-heldout-{name}.jsonl"
    gold = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    figures = score(gold, {str(o["id"]): o for o in run_report_set(gold)})
    dar, urg, cat, under, wrong = HELDOUT_FLOORS[name]
    assert figures["darurat_recall"] >= dar, figures
    assert figures["urgency_accuracy"] >= urg, figures
    assert figures["category_accuracy"] >= cat, figures
    assert figures["under_triage_rate"] <= under, figures
    assert figures["wrong_location_rate"] <= wrong, figures
