"""Every rule's own examples (triage/rules.yaml) stay true.

A positive example must make the rule fire; a negative one must not.  The
examples are evaluated through the full engine, so they also check the
normaliser, negation handling and the rule's conditions.
"""

from __future__ import annotations

import pytest

from tepsa.triage.engine import fired_rules
from tepsa.triage.rules import get_ruleset

RULES = get_ruleset().rules


def _fired(text: str) -> set[str]:
    return fired_rules([text])


CASES = [
    pytest.param(rule.id, kind, text, id=f"{rule.id}-{kind}-{i}")
    for rule in RULES
    for kind in ("positive", "negative")
    for i, text in enumerate(rule.examples[kind])
]


def test_every_rule_has_examples():
    missing = [r.id for r in RULES if not r.examples["positive"] or not r.examples["negative"]]
    assert not missing, f"rules without positive and negative examples: {missing}"


def test_rule_ids_are_unique_and_version_set():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert get_ruleset().version


@pytest.mark.parametrize("rule_id,kind,text", CASES)
def test_rule_example(rule_id: str, kind: str, text: str):
    fired = _fired(text)
    if kind == "positive":
        assert rule_id in fired, f"{rule_id} should fire on {text!r}; fired: {sorted(fired)}"
    else:
        assert rule_id not in fired, f"{rule_id} should not fire on {text!r}"


def test_lexicons_load_and_are_lower_case():
    from pathlib import Path

    import yaml

    from tepsa.resources import data_dir

    lex = Path(data_dir("triage")) / "lexicon"
    for name in ("slang.yaml", "regional.yaml"):
        words = yaml.safe_load((lex / name).read_text(encoding="utf-8"))["words"]
        assert words and all(str(k) == str(k).lower() for k in words), name
    places = yaml.safe_load((lex / "places.yaml").read_text(encoding="utf-8"))
    from tepsa.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    bad = {k: v for k, v in places["aliases"].items()
           if gaz.region(str(v)) is None or gaz.region(str(v)).level not in ("kabupaten", "kota")}
    assert not bad, f"aliases pointing to no kab/kota: {bad}"


def test_every_category_rule_uses_a_guide_code():
    rs = get_ruleset()
    codes = set(rs.precedence)
    assert len(codes) == 20
    for rule in RULES:
        assert set(rule.categories) <= codes, rule.id
        for r in rule.requires_any:
            assert r in codes or r in {x.id for x in RULES}, f"{rule.id}: unknown requires_any {r}"
