"""Rules-based triage of a hotline report (urgency, categories, place, age).

Why rules and not a model: every decision must be explainable to an operator
("rule kekerasan.now fired on 'lagi dipukul'") and editable by supervisors in
``triage/rules.yaml`` without a release.  The engine is pure: text and an
optional pin in, a frozen :class:`TriageResult` out; no database, no network.

Combination logic (triage guide section 1):
  * each fired rule adds its categories and raises urgency to its level;
  * escalators (rules with ``requires_any``) only count next to a fitting
    category, so "sekarang" in an advert escalates nothing;
  * de-escalation (past harm, child safe now) lowers one level, never below
    ``sedang`` for abuse, and never when a "now" signal or the 72-hour sexual
    assault rule fired;
  * a follow-up on a handled case with no new risk is ``rendah``;
  * "fallback" categories (a plain question -> ``informasi``) count only when no
    other category fired; a report about a child that no rule recognises is
    ``sedang`` with ``needs_review`` (when unsure, the guide prefers the higher level);
  * the primary category is the first by the guide's precedence.
Location comes from :mod:`tepsa.triage.location`, age/sex/reporter from
:mod:`tepsa.triage.extract`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tepsa.triage.extract import extract_age, extract_reporter, extract_sex, is_young
from tepsa.triage.location import LocationMatcher, LocationResult
from tepsa.triage.rules import LEVELS, RANK, Hit, Rule, RuleSet, get_ruleset

__all__ = ["triage", "TriageResult", "RULESET_VERSION", "ruleset_version"]

NEAR_WINDOW = 20      # "near" phrases: same or neighbouring sentence, at most this many words away
NEAR_NOT_WINDOW = 8   # "near_not" phrases: same clause, at most this many words away

# words that show a report is about a person (so an unrecognised one is reviewed, not dismissed)
CHILD_WORDS = {"anak", "bayi", "balita", "siswa", "siswi", "murid", "ponakan", "keponakan", "cucu", "adik",
               "remaja", "santri", "aku", "putra", "putri", "sepupu", "korban", "umur", "usia", "tahun",
               "perempuan", "lakilaki", "istri", "lapor", "tolong", "cucunya", "adiknya",
               # English reports (volunteers, international schools)
               "child", "children", "kid", "kids", "boy", "girl", "student", "students", "son", "daughter",
               "baby", "teenager", "teen", "minor", "pupil", "parents"}


@dataclass(frozen=True)
class TriageResult:
    urgency: str
    category: str
    categories: list[str]
    kabkota_kode: str | None
    kecamatan_kode: str | None
    desa_kode: str | None
    lat: float | None
    lon: float | None
    age: int | None
    child_sex: str | None
    reporter: str | None
    needs_review: bool
    ruleset_version: str
    reasons: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # built by hand: dataclasses.asdict deep-copies every reason and costs a tenth of a triage
        return {
            "urgency": self.urgency, "category": self.category, "categories": list(self.categories),
            "kabkota_kode": self.kabkota_kode, "kecamatan_kode": self.kecamatan_kode, "desa_kode": self.desa_kode,
            "lat": self.lat, "lon": self.lon, "age": self.age, "child_sex": self.child_sex, "reporter": self.reporter,
            "needs_review": self.needs_review, "ruleset_version": self.ruleset_version,
            "reasons": [{k: (list(v) if isinstance(v, list) else v) for k, v in r.items()} for r in self.reasons],
        }


def ruleset_version() -> str:
    """Version string of the loaded ``triage/rules.yaml``."""
    return get_ruleset().version


RULESET_VERSION: str = ruleset_version()


@lru_cache(maxsize=1)
def _location_matcher() -> LocationMatcher:
    from tepsa.geo.gazetteer import get_gazetteer

    rs = get_ruleset()
    return LocationMatcher(get_gazetteer(), rs.place_aliases, rs.common_words)


def _hits_in_sentences(hits: list[Hit] | None, toks) -> set[int]:
    return {toks.sent[h.start] for h in hits or ()}


SHORT_SENTENCE = 5   # a chat message this short ("tadi malam", "barusan kak") qualifies its neighbour


def _near(toks, a: int, b: int, sent_len: dict[int, int]) -> bool:
    """Tokens ``a`` and ``b`` are within NEAR_WINDOW words in one sentence, or in neighbouring
    sentences of which one is a short fragment."""
    if abs(a - b) > NEAR_WINDOW:
        return False
    sa, sb = toks.sent[a], toks.sent[b]
    if sa == sb:
        return True
    return abs(sa - sb) == 1 and min(sent_len[sa], sent_len[sb]) <= SHORT_SENTENCE


def _evaluate(rs: RuleSet, toks, all_hits, young: bool, age: int | None) -> dict[str, list[Hit]]:
    """Fire rules to a fixpoint (escalators depend on categories)."""
    fired: dict[str, list[Hit]] = {}
    cats: set[str] = set()
    ntok = len(toks)
    sent_len: dict[int, int] = {}
    for sid in toks.sent:
        sent_len[sid] = sent_len.get(sid, 0) + 1
    # only rules whose own phrases matched can fire (in rule order: escalators see earlier categories)
    order, by_id = rs.order, rs.by_id
    matched = [(by_id[rid], all_hits[(rid, "p")])
               for rid in sorted((rid for rid, kind in all_hits if kind == "p"), key=order.__getitem__)]
    changed = True
    passes = 0
    while changed and passes < 4:
        changed = False
        passes += 1
        for rule, phits in matched:
            if rule.id in fired:
                continue
            if rule.max_tokens is not None and ntok > rule.max_tokens:
                continue
            if rule.unless and all_hits.get((rule.id, "unless")):
                continue
            if rule.young and not young:
                continue
            if rule.max_age is not None and (age > rule.max_age if age is not None else not rule.age_unknown):
                continue
            if rule.min_age is not None and (age is None or age < rule.min_age):
                continue
            if rule.requires_any and not any(r in cats or r in fired for r in rule.requires_any):
                continue
            keep = phits
            if rule.near:
                near = all_hits.get((rule.id, "near")) or ()
                # the same sentence, or a short neighbouring one: chat splits "aku diperkosa" // "tadi malam"
                keep = [h for h in keep if any(_near(toks, x.start, h.start, sent_len) for x in near)]
            if rule.near_not:
                # blockers work within the clause (commas split clauses) and a few words around,
                # so "tidak boleh pulang, dipukul kalau salah" is not blocked by the later "kalau"
                # and an unpunctuated voice transcript is not one big clause
                bad = all_hits.get((rule.id, "near_not")) or ()
                keep = [h for h in keep if not any(toks.clause[x.start] == toks.clause[h.start]
                                                   and abs(x.start - h.start) <= NEAR_NOT_WINDOW for x in bad)]
            if not keep:
                continue
            fired[rule.id] = keep
            if not rule.fallback:
                cats.update(rule.categories)
            changed = True
    return fired


def _texts(hits: list[Hit], limit: int = 5) -> list[str]:
    """Matched phrases for a reason, without repeats."""
    out: list[str] = []
    for h in sorted(hits, key=lambda h: (h.start, -h.end)):  # stable order, whatever the index order
        if h.text not in out:
            out.append(h.text)
    return out[:limit]


def _primary(rs: RuleSet, cats: set[str]) -> tuple[str, list[str]]:
    order = [c for c in rs.precedence if c in cats]
    return order[0], order


def _bump(level: str, to: str) -> str:
    return to if RANK[to] > RANK[level] else level


def _triage(messages: list[str], location_pin: dict | None) -> TriageResult:
    rs = get_ruleset()
    msgs = [m if isinstance(m, str) else ("" if m is None else str(m)) for m in (messages or [])]
    toks = rs.normalizer.tokens(msgs)
    all_hits = rs.scan(toks)
    age, age_text, several = extract_age(toks)
    young = is_young(toks, age)
    fired = _evaluate(rs, toks, all_hits, young, age)
    by_id: dict[str, Rule] = {rid: rs.by_id[rid] for rid in sorted(fired, key=rs.order.__getitem__)}
    reasons: list[dict] = []
    needs_review = False

    # categories, with suppression ("diejek" is stigma, not violence, when stigma applies)
    cat_sources: dict[str, list[str]] = {}
    for rid, rule in by_id.items():
        if rule.fallback or rule.effect:
            continue
        for c in rule.categories:
            cat_sources.setdefault(c, []).append(rid)
    suppressed: set[str] = set()
    for rid, rule in by_id.items():
        if rule.suppressed_by and any(c in cat_sources and any(s != rid for s in cat_sources[c])
                                      for c in rule.suppressed_by):
            suppressed.add(rid)
    cats: set[str] = set()
    for c, srcs in cat_sources.items():
        if any(s not in suppressed for s in srcs):
            cats.add(c)
    active = {rid: r for rid, r in by_id.items() if rid not in suppressed}

    override = [rid for rid, r in active.items() if r.effect == "override"]
    if override:
        rid = override[0]
        reasons.append({"rule": rid, "effect": "category:bukan_kasus", "matched": _texts(fired[rid])})
        if cats & rs.risk_categories:
            needs_review = True
        cats = {"bukan_kasus"}
        urgency = "rendah"
    else:
        default_level = "rendah"
        if not cats:
            fb = [rid for rid, r in active.items() if r.fallback]
            for rid in fb:
                cats.update(active[rid].categories)
        # a specific child with harm, fear or danger words that no rule recognises (new wording):
        # an operator must read it soon, so at least tinggi (the guide: when unsure, the higher level)
        unrecognised = [rid for rid, r in active.items() if r.effect == "unrecognised"]
        if unrecognised and not (cats - {"informasi"}):
            cats = {"informasi"}
            needs_review = True
            # such a rule may name a higher level (harm signs next to "barusan", "malam ini"): when unsure,
            # the guide prefers the higher level, and an operator reviews it
            top = max(unrecognised, key=lambda rid: RANK[active[rid].urgency or "tinggi"])
            default_level = _bump("tinggi", active[top].urgency or "tinggi")
            reasons.append({"rule": top, "effect": f"category:informasi;urgency>={default_level};review",
                            "matched": _texts(fired[top])})
        if not cats:
            has_child = any(w in CHILD_WORDS for w in toks.words)
            if has_child and len(toks) >= 6:
                # a child is mentioned but no rule recognises the situation: an operator must
                # read it; when unsure the guide prefers the higher level
                cats = {"informasi"}
                needs_review = True
                default_level = "sedang"
                reasons.append({"rule": "default.unclassified", "effect": "category:informasi;urgency>=sedang;review",
                                "matched": []})
            else:
                cats = {"bukan_kasus"}
                reasons.append({"rule": "default.no_content", "effect": "category:bukan_kasus", "matched": []})
        urgency = default_level
        now = False
        recent_sexual = False
        for rid, rule in active.items():
            if rule.effect in ("deescalate", "followup", "unrecognised"):
                continue
            if rule.fallback and not (set(rule.categories) & cats):
                continue
            level = rule.urgency
            if level is None and rule.categories:
                level = max((rs.category_base.get(c, "rendah") for c in rule.categories), key=RANK.get)
            effects = [f"category:{c}" for c in rule.categories if c in cats]
            if level:
                urgency = _bump(urgency, level)
                effects.append(f"urgency>={level}")
            now |= "now" in rule.flags
            recent_sexual |= "recent_sexual" in rule.flags
            needs_review |= rule.review
            reasons.append({"rule": rid, "effect": ";".join(effects) or "signal",
                            "matched": _texts(fired[rid])})
        if "followup.tanpa_risiko" in active and not now:
            urgency = "rendah"
            reasons.append({"rule": "followup.tanpa_risiko", "effect": "urgency=rendah",
                            "matched": _texts(fired["followup.tanpa_risiko"])})
        elif "deeskalasi.aman" in active and not now and not recent_sexual and RANK[urgency] >= RANK["tinggi"]:
            lowered = LEVELS[RANK[urgency] - 1]
            if cats & rs.abuse_categories and RANK[lowered] < RANK["sedang"]:
                lowered = "sedang"
            reasons.append({"rule": "deeskalasi.aman", "effect": f"urgency {urgency}->{lowered}",
                            "matched": _texts(fired["deeskalasi.aman"])})
            urgency = lowered

    if rs.second_opinion is not None and not override:
        cats, urgency, raised = _second_opinion(rs, toks, cats, urgency, needs_review, reasons)
        needs_review |= raised

    # labelling convention: some categories are not listed next to others (the neglect in a beating or
    # in child labour is part of that case); only the list changes, the urgency they gave stays
    dropped = {c for c in cats if any(o in cats for o in rs.not_secondary_with.get(c, ()))}
    if dropped and cats - dropped:
        cats = cats - dropped
        reasons.append({"rule": "categories.not_secondary", "effect": ";".join(f"-{c}" for c in sorted(dropped)),
                        "matched": []})
    category, ordered = _primary(rs, cats)

    # location: pin first, then the text
    loc: LocationResult | None = None
    matcher = _location_matcher()
    if isinstance(location_pin, dict):
        loc = matcher.from_pin(location_pin)
    if loc is None:
        loc = matcher.resolve(msgs)
    if loc.kabkota_kode:
        reasons.append({"rule": f"location.{loc.source}", "effect": f"kabkota:{loc.kabkota_kode}",
                        "matched": loc.matched[:6]})
    elif loc.ambiguous:
        reasons.append({"rule": "location.ambiguous", "effect": "kabkota:null", "matched": loc.matched[:6]})
    if age is not None:
        reasons.append({"rule": "age", "effect": f"age:{age}", "matched": [age_text or ""]})
    elif several:
        reasons.append({"rule": "age.several", "effect": "age:null", "matched": []})

    return TriageResult(
        urgency=urgency,
        category=category,
        categories=ordered,
        kabkota_kode=loc.kabkota_kode,
        kecamatan_kode=loc.kecamatan_kode,
        desa_kode=loc.desa_kode,
        lat=loc.lat,
        lon=loc.lon,
        age=age,
        child_sex=extract_sex(toks),
        reporter=extract_reporter(toks),
        needs_review=needs_review,
        ruleset_version=rs.version,
        reasons=reasons,
    )


def _second_opinion(rs: RuleSet, toks, cats: set[str], urgency: str, unrecognised: bool,
                    reasons: list[dict]) -> tuple[set[str], str, bool]:
    """Let the learnt second opinion raise urgency to darurat, or name the category the rules could not.

    It never lowers anything; whatever it changes is marked for review and explained by the
    words that pushed it.  Thresholds: ``second_opinion:`` in rules.yaml (above 1 turns one off).
    """
    model = rs.second_opinion
    at = rs.second_opinion_at
    feats = rs.model_features(toks.words)
    review = False
    if unrecognised and cats == {"informasi"}:
        best = model.best_category(feats)
        if best is not None and best[0] != "informasi" and best[1] > at.get("category_at", 1.01):
            code, p = best
            cats = {code}
            review = True
            # the category's usual level, as a rule naming it would set (the guide: when unsure, the higher)
            base = rs.category_base.get(code, "rendah")
            effect = f"category:{code};review"
            if RANK[base] > RANK[urgency]:
                urgency = base
                effect = f"category:{code};urgency>={base};review"
            reasons.append({"rule": "second_opinion.category", "effect": effect,
                            "matched": model.heads[f"category:{code}"].reasons(feats), "p": round(p, 2)})
    head = model.heads.get("darurat")
    if head is not None and urgency != "darurat":
        p = head.prob(feats)
        if p > at.get("darurat_at", 1.01):
            urgency = "darurat"
            review = True
            reasons.append({"rule": "second_opinion.darurat", "effect": "urgency>=darurat;review",
                            "matched": head.reasons(feats), "p": round(p, 2)})
    return cats, urgency, review


def fired_rules(messages: list[str]) -> set[str]:
    """Ids of the rules whose conditions hold for ``messages`` (for rule tests and debugging)."""
    rs = get_ruleset()
    toks = rs.normalizer.tokens(list(messages))
    age, _, _ = extract_age(toks)
    return set(_evaluate(rs, toks, rs.scan(toks), is_young(toks, age), age))


def triage(messages: list[str], location_pin: dict | None = None) -> TriageResult:
    """Triage one report; never raises (on an internal error: darurat-safe review result)."""
    try:
        if isinstance(messages, str):
            messages = [messages]
        return _triage(list(messages or []), location_pin)
    except Exception as exc:  # pragma: no cover - defensive: a report must always get a result
        return TriageResult(
            urgency="tinggi", category="informasi", categories=["informasi"], kabkota_kode=None,
            kecamatan_kode=None, desa_kode=None, lat=None, lon=None, age=None, child_sex=None,
            reporter=None, needs_review=True, ruleset_version=ruleset_version(),
            reasons=[{"rule": "engine.error", "effect": "review", "matched": [type(exc).__name__]}],
        )
