#!/usr/bin/env python3
"""What the second opinion adds, measured on reports it was not trained on.

    .venv/bin/python bench/second_opinion_cv.py [LABELLED.jsonl ...] [--at darurat=0.5,tinggi=0.7,category=0.3]

Leave one set out: for each labelled set, the second opinion is trained on all the
*other* sets, then that set is triaged twice, by the rules alone and by the rules
with the second opinion, and both are scored (the figures of
shared/tools/score_triage.py that the issue sets bars for).  The rules themselves
were written after studying most of these sets, so "rules alone" is flattering on
them; what the comparison shows is what the learnt part adds on text it never saw.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def score(reports: list[dict], preds: list[dict]) -> dict[str, float]:
    from tepsa.triage.rules import RANK

    n = len(reports)
    acc = under = over = dar = ndar = cat = 0
    tp = fp = fn = 0
    for r, p in zip(reports, preds):
        lab = r["labels"]
        d = RANK[p["urgency"]] - RANK[lab["urgency"]]
        acc += d == 0
        under += d < 0
        over += d > 0
        if lab["urgency"] == "darurat":
            ndar += 1
            dar += p["urgency"] == "darurat"
        cat += p["category"] == lab["category"]
        gold, got = set(lab.get("categories") or [lab["category"]]), set(p["categories"])
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
    return {
        "urgency": acc / n, "darurat_recall": dar / ndar if ndar else 1.0, "under": under / n, "over": over / n,
        "category": cat / n, "micro_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="*", default=sorted(glob.glob(str(HERE.parent / "tests" / "data" / "reports-*.jsonl"))))
    ap.add_argument("--at", default="", help="thresholds to try instead of rules.yaml's, e.g. darurat=0.5,tinggi=0.7")
    a = ap.parse_args()

    from tepsa.triage import second_opinion
    from tepsa.triage.engine import triage
    from tepsa.triage.rules import get_ruleset

    rs = get_ruleset()
    if a.at:
        for part in a.at.split(","):
            k, v = part.split("=")
            rs.second_opinion_at[f"{k.strip()}_at"] = float(v)
    sets = {Path(s).stem.replace("reports-", ""): [json.loads(x) for x in open(s, encoding="utf-8") if x.strip()]
            for s in a.sets}

    def feats_of(msgs):
        return rs.model_features(rs.normalizer.tokens(msgs).words)

    shipped = rs.second_opinion
    cols = ("urgency", "darurat_recall", "under", "over", "category", "micro_f1")
    print(f"thresholds: {rs.second_opinion_at}")
    print(f"{'held-out set':14s} {'':6s} " + " ".join(f"{c:>14s}" for c in cols))
    totals: dict[str, list] = {"rules": [], "with": []}
    try:
        for name, reports in sets.items():
            others = [r for other, rows in sets.items() if other != name for r in rows]
            model = second_opinion.train(others, feats_of)
            for label, m in (("rules", None), ("with", model)):
                rs.second_opinion = m
                preds = [triage(r["messages"], r.get("location_pin")).to_dict() for r in reports]
                s = score(reports, preds)
                totals[label].append((len(reports), s))
                print(f"{name:14s} {label:6s} " + " ".join(f"{s[c]:14.3f}" for c in cols))
    finally:
        rs.second_opinion = shipped
    for label, rows in totals.items():
        n = sum(k for k, _ in rows)
        avg = {c: sum(k * s[c] for k, s in rows) / n for c in cols}
        print(f"{'all (weighted)':14s} {label:6s} " + " ".join(f"{avg[c]:14.3f}" for c in cols))
    print(f"command: {sys.executable} bench/second_opinion_cv.py" + (f" --at {a.at}" if a.at else ""))


if __name__ == "__main__":
    main()
