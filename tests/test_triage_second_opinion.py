"""The learnt second opinion: it may only raise urgency or name a category the rules could not,
it explains itself, it is rebuilt from the labelled sets, and the engine works without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tepsa.resources import data_dir
from tepsa.triage import second_opinion
from tepsa.triage.engine import triage
from tepsa.triage.rules import RANK, get_ruleset, load_ruleset

DATA = Path(__file__).parent / "data"
SETS = sorted(DATA.glob("reports-*.jsonl"))


def _reports(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _feats_of(rs):
    return lambda msgs: rs.model_features(rs.normalizer.tokens(msgs).words)


@pytest.fixture
def rules_alone():
    """The shipped rule set with its second opinion switched off for the test."""
    rs = get_ruleset()
    shipped = rs.second_opinion
    rs.second_opinion = None
    try:
        yield rs
    finally:
        rs.second_opinion = shipped


def test_shipped_model_was_learnt_from_the_current_labelled_sets():
    model = get_ruleset().second_opinion
    assert model is not None, "triage/second_opinion.json is missing: run `make model`"
    current = {p.name: second_opinion.file_digest(p) for p in SETS}
    assert model.trained_on == current, "a labelled set changed since the second opinion was learnt: run `make model`"
    assert model.reports == sum(len(_reports(p)) for p in SETS)
    assert "darurat" in model.heads
    # every category the guide knows that occurs in the sets has a head
    assert {"kejahatan_seksual", "kekerasan_fisik_psikis", "penelantaran", "informasi"} <= set(model.categories())


def test_training_is_deterministic_and_learns_the_labels():
    rs = get_ruleset()
    reports = _reports(DATA / "reports-dev.jsonl")
    a = second_opinion.train(reports, _feats_of(rs))
    b = second_opinion.train(reports, _feats_of(rs))
    assert a.heads["darurat"] == b.heads["darurat"]
    assert a.heads["category:penelantaran"] == b.heads["category:penelantaran"]
    # on what it learnt from, the darurat head separates the two classes well
    fo = _feats_of(rs)
    dar = [a.heads["darurat"].prob(fo(r["messages"])) for r in reports if r["labels"]["urgency"] == "darurat"]
    low = [a.heads["darurat"].prob(fo(r["messages"])) for r in reports if r["labels"]["urgency"] == "rendah"]
    assert sum(dar) / len(dar) > 0.8 > 0.2 > sum(low) / len(low)


def test_it_never_lowers_urgency_nor_replaces_a_category_the_rules_found(rules_alone):
    rs = rules_alone
    model = second_opinion.load(data_dir("triage") / "second_opinion.json")
    for path in (DATA / "reports-heldout-f.jsonl", DATA / "reports-heldout-g.jsonl", DATA / "reports-dev.jsonl"):
        for r in _reports(path):
            rs.second_opinion = None
            alone = triage(r["messages"], r.get("location_pin"))
            rs.second_opinion = model
            both = triage(r["messages"], r.get("location_pin"))
            assert RANK[both.urgency] >= RANK[alone.urgency], r["id"]
            learnt = [x for x in both.reasons if x["rule"].startswith("second_opinion.")]
            if both.urgency != alone.urgency:
                # raised to darurat, or to the usual level of the category it named
                assert both.needs_review, r["id"]
                if both.urgency == "darurat" and any(x["rule"] == "second_opinion.darurat" for x in learnt):
                    assert all(x["matched"] for x in learnt), r["id"]
                else:
                    assert both.category != alone.category, r["id"]
                    assert both.urgency == rs.category_base[both.category], r["id"]
            if both.category != alone.category:
                assert alone.categories == ["informasi"] and alone.needs_review, r["id"]
                assert both.needs_review and any(x["rule"] == "second_opinion.category" for x in learnt), r["id"]
            if not learnt:
                assert both == alone, r["id"]
    rs.second_opinion = None


def test_a_raise_is_explained_by_the_reports_own_words():
    rs = get_ruleset()
    model = rs.second_opinion
    head = model.heads["darurat"]
    feats = rs.model_features(rs.normalizer.tokens(["tolong kak, adikku lemas, dikunci dari kemarin"]).words)
    words = head.reasons(feats)
    assert words, "a raise must name the words behind it"
    for w in words:
        assert w in feats or second_opinion.ROOT + w in feats
        assert head.weights[w if w in feats else second_opinion.ROOT + w] > 0


def test_a_report_the_rules_miss_is_raised_for_review():
    """Over the studied sets, the reports the second opinion raises are mostly real emergencies."""
    rs = get_ruleset()
    shipped = rs.second_opinion
    raised = right = 0
    try:
        for r in _reports(DATA / "reports-heldout-f.jsonl"):
            rs.second_opinion = None
            alone = triage(r["messages"], r.get("location_pin")).urgency
            rs.second_opinion = shipped
            res = triage(r["messages"], r.get("location_pin"))
            if res.urgency == "darurat" and alone != "darurat":
                raised += 1
                right += r["labels"]["urgency"] == "darurat"
                assert res.needs_review
    finally:
        rs.second_opinion = shipped
    assert raised >= 3 and right / raised >= 0.7, (raised, right)


def test_the_engine_runs_on_rules_alone_when_there_is_no_model(tmp_path):
    folder = tmp_path / "triage"
    import shutil

    shutil.copytree(data_dir("triage"), folder)
    (folder / "second_opinion.json").unlink()
    rs = load_ruleset(folder)
    assert rs.second_opinion is None
    # the engine reads the process-wide rule set; the same report on rules alone gets no learnt reason
    shipped = get_ruleset().second_opinion
    get_ruleset().second_opinion = rs.second_opinion
    try:
        res = triage(["kak tolong adikku 4 thn ditinggal sendirian di rumah dari kemarin, belum makan"])
    finally:
        get_ruleset().second_opinion = shipped
    assert res.urgency == "darurat"
    assert not any(x["rule"].startswith("second_opinion.") for x in res.reasons)


@pytest.mark.parametrize("value", ["-0.1", "1.5", "banyak"])
def test_thresholds_must_be_probabilities(tmp_path, value):
    import shutil

    folder = tmp_path / "triage"
    shutil.copytree(data_dir("triage"), folder)
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8").replace("darurat_at: 0.9", f"darurat_at: {value}")
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        load_ruleset(folder)


def test_cli_learns_from_labelled_sets_and_refuses_unlabelled_ones(tmp_path):
    out = tmp_path / "so.json"
    tepsa = [sys.executable, "-m", "tepsa.cli"]
    ok = subprocess.run(tepsa + ["triage", "--train", str(DATA / "reports-heldout-g.jsonl"), "-o", str(out)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    model = second_opinion.load(out)
    assert model is not None and model.reports == 80
    assert model.trained_on == {"reports-heldout-g.jsonl": second_opinion.file_digest(DATA / "reports-heldout-g.jsonl")}

    unlabelled = tmp_path / "plain.jsonl"
    unlabelled.write_text(json.dumps({"id": "x", "messages": ["halo"]}) + "\n", encoding="utf-8")
    bad = subprocess.run(tepsa + ["triage", "--train", str(unlabelled), "-o", str(tmp_path / "x.json")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0
    assert "labels" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.json").exists()
