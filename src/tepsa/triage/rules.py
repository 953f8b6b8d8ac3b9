"""Loading and matching the YAML rules (``triage/rules.yaml`` + lexicons).

Why a tiny pattern language instead of regular expressions: supervisors edit
the rules.  A phrase is a list of words; a word matches its affixed forms via
:func:`tepsa.triage.normalize.stems`, ``a|b`` gives alternatives, ``pre*`` a
prefix, ``...`` a short gap, ``<num>`` a number.  Phrases are indexed by their
first word so a report is matched in one pass over its tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from tepsa.resources import data_dir
from tepsa.triage import second_opinion
from tepsa.triage.normalize import Normalizer, Tokens, stems
from tepsa.triage.second_opinion import features

LEVELS = ("rendah", "sedang", "tinggi", "darurat")
RANK = {u: i for i, u in enumerate(LEVELS)}
GAP = 4          # words allowed by "..."
NEG_WINDOW = 2   # words before a phrase searched for a negation
# words that may stand between a negation and the negated phrase
NEG_FILLERS = {"pernah", "ada", "sampai", "sempat", "lagi", "juga", "jadi", "mau", "boleh", "usah", "perlu", "akan",
               "sedang", "benar", "terlalu", "begitu", "dong", "sih", "kok", "ya", "yang", "dia", "di", "anak",
               "terus", "sama", "sekali", "cuma", "pula", "kena", "dapat", "bisa", "sudah",
               # "tidak ada niat bunuh diri", "tidak ingin menyakiti diri", "nda dapa pukul" (mdo passive),
               # "tidak memakai narkoba", "tidak ada tanda tanda kekerasan"
               "ingin", "niat", "keinginan", "pernyataan", "tanda", "dapa", "memakai", "pakai", "pake",
               "menggunakan", "mengonsumsi", "terlihat", "tampak", "ditemukan", "kelihatan", "untuk", "any", "mention", "of",
               # "tidak kepikiran nyakitin diri", "tidak terpikir bunuh diri"
               "kepikiran", "terpikir", "kepikir", "berpikir", "berpikiran",
               # "biar tidak ketemu konten dewasa": a parent preventing exposure, not exposure
               "ketemu", "bertemu", "lihat", "liat", "melihat", "ngeliat", "terpapar", "akses", "mengakses",
               # "dak pernah aku liat dipukul": the one who saw
               "aku", "saya", "kami"}
NEG_MAX_FILLERS = 3  # "tidak ada pernyataan ingin menyakiti diri": negation + up to three fillers
# habit or condition words: "biasanya sudah pulang" says nothing about tonight
# "kalau tidak mau, fotonya disebar": a refusal in a condition, not a negation of the threat after it
CONDITION_WORDS = {"kalau", "jika", "kalo", "klo", "kl", "bila", "apabila"}
HABIT_WORDS = {"biasanya", "biasa", "kadang", "kadangkadang", "kalau", "jika", "seharusnya", "harusnya", "semoga"}
# "di bawah", "di atas": a preposition before a place, never the passive prefix typed apart
DI_PLACES = {"bawah", "atas", "dalam", "luar", "depan", "belakang", "samping", "sebelah", "sini", "situ", "sana",
             "mana", "antara", "sekitar", "tengah", "pinggir", "ujung", "seberang", "dekat", "rumah", "sekolah"}
FUZZY_MIN = 7    # only words this long are matched with one typo


@dataclass(slots=True)
class Elem:
    words: frozenset[str]
    prefixes: tuple[str, ...]
    num: bool
    gap: bool = False
    keys: frozenset[str] = frozenset()  # words + "pre*" + "<num>": compared with a token's keys


@dataclass(slots=True)
class Pattern:
    text: str
    elems: list[Elem]
    starts_negated: bool
    # keys of the later fixed elements: a report lacking any of them cannot match (checked before matching)
    tail: tuple[frozenset[str], ...] = ()
    mode: int = 3  # 1: one word, 2: two fixed words (checked with the word pair), 3: anything longer


@dataclass(slots=True)
class Rule:
    id: str
    categories: list[str]
    urgency: str | None
    patterns: list[Pattern]
    near: list[Pattern]
    near_not: list[Pattern]
    unless: list[Pattern]
    requires_any: list[str]
    suppressed_by: list[str]
    max_age: int | None
    min_age: int | None
    young: bool
    age_unknown: bool  # max_age also holds when no age is stated (when unsure, the higher level)
    max_tokens: int | None
    fallback: bool
    effect: str | None
    flags: list[str]
    review: bool
    extra_negators: frozenset[str]
    examples: dict[str, list[str]]


@dataclass(slots=True)
class Hit:
    start: int
    end: int  # exclusive
    text: str


@dataclass
class RuleSet:
    version: str
    rules: list[Rule]
    precedence: list[str]
    category_base: dict[str, str]
    abuse_categories: set[str]
    risk_categories: set[str]
    negators: set[str]
    breakers: set[str]
    normalizer: Normalizer
    place_aliases: dict[str, str]
    common_words: set[str] = field(default_factory=set)
    no_fuzzy: set[str] = field(default_factory=set)
    _index: dict[str, list[tuple[Pattern, str, str]]] = field(default_factory=dict)
    _vocab: list[str] = field(default_factory=list)
    _fuzzy_cache: dict[str, str | None] = field(default_factory=dict)
    _extra_neg: dict[str, frozenset[str]] = field(default_factory=dict)
    _prefixes: set[str] = field(default_factory=set)
    _aux_index: dict[str, list[tuple[Pattern, str, str]]] = field(default_factory=dict)
    _aux_cache: dict[str, tuple] = field(default_factory=dict)
    _keys_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    _cands_cache: dict[str, tuple] = field(default_factory=dict)
    _pair_cache: dict[tuple, tuple] = field(default_factory=dict)
    _aux_first: dict[str, set[str]] = field(default_factory=dict)  # rule id -> first words of its aux phrases
    by_id: dict[str, Rule] = field(default_factory=dict)
    rule_words: frozenset[str] = frozenset()  # every plain word of every phrase (the second opinion's roots)
    _roots_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    _feat_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    # the learnt second opinion (triage/second_opinion.json) and its thresholds (rules.yaml second_opinion:)
    second_opinion: Any = None
    place_words: frozenset[str] = frozenset()
    not_secondary_with: dict[str, list[str]] = field(default_factory=dict)
    second_opinion_at: dict[str, float] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # rule id -> position in rules.yaml

    # -- indexing -------------------------------------------------------------
    def build_index(self) -> None:
        vocab: set[str] = set()
        self.by_id = {r.id: r for r in self.rules}
        self.rule_words = frozenset(w for r in self.rules for pat in r.patterns + r.near + r.near_not + r.unless
                                    for e in pat.elems for w in e.words if w.isalpha())
        self.order = {r.id: i for i, r in enumerate(self.rules)}
        self._extra_neg = {r.id: r.extra_negators for r in self.rules if r.extra_negators}
        for rule in self.rules:
            for kind, pats in (("p", rule.patterns), ("near", rule.near), ("near_not", rule.near_not),
                               ("unless", rule.unless)):
                for pat in pats:
                    first = pat.elems[0]
                    entry = (pat, rule.id, kind)
                    idx = self._index if kind == "p" else self._aux_index
                    for k in first.keys:
                        idx.setdefault(k, []).append(entry)
                    if kind != "p":
                        self._aux_first.setdefault(rule.id, set()).update(first.keys)
                    self._prefixes.update(first.prefixes)
                    for e in pat.elems:
                        self._prefixes.update(e.prefixes)
                    if kind == "p" and rule.categories and len(pat.elems) == 1:
                        vocab.update(w for w in pat.elems[0].words if len(w) >= FUZZY_MIN)
        self._vocab = sorted(vocab)

    def roots(self, word: str) -> frozenset[str]:
        """The rule words ``word`` matches: its roots and a one-letter typo fix ("dipukull" -> pukul)."""
        r = self._roots_cache.get(word)
        if r is None:
            r = self.word_keys(word) & self.rule_words
            if len(self._roots_cache) < 300_000:
                self._roots_cache[word] = r
        return r

    def model_features(self, words: list[str]) -> frozenset[str]:
        """What the second opinion reads of a report's normalised words (its learning and its judging).
        The same as ``second_opinion.features(words, self.roots, self.place_words)``, per word cached."""
        cache = self._feat_cache
        out: set[str] = set()
        for w in words:
            f = cache.get(w)
            if f is None:
                f = features([w], self.roots, self.place_words)
                if len(cache) < 300_000:
                    cache[w] = f
            out |= f
        return frozenset(out)

    def fuzzy(self, word: str) -> str | None:
        """Rule word within one edit of ``word`` (only for long, unknown words)."""
        if len(word) < FUZZY_MIN or not word.isalpha() or word in self.no_fuzzy:
            return None
        cache = self._fuzzy_cache
        if word in cache:
            return cache[word]
        res = process.extractOne(word, self._vocab, scorer=OSA.distance, score_cutoff=1)
        out = res[0] if res else None
        if len(cache) < 200_000:
            cache[word] = out
        return out

    # -- matching -------------------------------------------------------------
    def word_keys(self, word: str) -> frozenset[str]:
        """Everything a rule element can match this word by: stems, typo fix, "pre*", "<num>"."""
        cache = self._keys_cache
        k = cache.get(word)
        if k is not None:
            return k
        keys = set(stems(word))
        keys.add("=" + word)
        if word.isdigit():
            keys.add("<num>")
        f = self.fuzzy(word) if word not in self._index and word not in self._aux_index else None
        if f:
            keys.add(f)
        for p in self._prefixes:
            if word.startswith(p):
                keys.add(p + "*")
        k = frozenset(keys)
        if len(cache) < 300_000:
            cache[word] = k
        return k

    def candidates(self, word: str, aux: bool = False) -> tuple:
        """Phrases whose first element matches ``word`` (rule phrases, or with ``aux`` the
        near/near_not/unless phrases)."""
        cache = self._aux_cache if aux else self._cands_cache
        c = cache.get(word)
        if c is not None:
            return c
        seen: dict[int, tuple] = {}
        index = self._aux_index if aux else self._index
        for k in self.word_keys(word):
            for entry in index.get(k, ()):
                seen.setdefault(id(entry), entry)
        c = tuple(seen.values())
        if len(cache) < 300_000:
            cache[word] = c
        return c

    def elem_matches(self, e: Elem, word: str) -> bool:
        return not e.keys.isdisjoint(self.word_keys(word))

    def match_at(self, pat: Pattern, toks: Tokens, i: int, keys: list[frozenset[str]] | None = None) -> int | None:
        """End index (exclusive) if ``pat`` matches starting at token ``i``."""
        words, sent = toks.words, toks.sent
        n = len(words)
        if keys is None:
            keys = [self.word_keys(w) for w in words]
        s0 = sent[i]
        elems = pat.elems

        def rec(ei: int, ti: int) -> int | None:
            while ei < len(elems):
                e = elems[ei]
                if e.gap:
                    for skip in range(0, GAP + 1):
                        t = ti + skip
                        if t >= n or sent[t] != s0:
                            break
                        r = rec(ei + 1, t)
                        if r is not None:
                            return r
                    return None
                if ti >= n or sent[ti] != s0 or e.keys.isdisjoint(keys[ti]):
                    return None
                ei += 1
                ti += 1
            return ti

        return rec(1, i + 1)

    def negated(self, toks: Tokens, start: int, extra: frozenset[str] = frozenset()) -> bool:
        """A negation right before the phrase, or two words before across a filler
        ("tidak pernah disentuh", "tidak ada kekerasan", "bukan dicabuli")."""
        words, clause = toks.words, toks.clause
        j = start - 1
        if j < 0 or clause[j] != clause[start]:
            return False
        for _ in range(NEG_MAX_FILLERS + 1):
            w = words[j]
            if w in self.negators or w in extra:
                # "kalau tidak mau ... disebar": the negation belongs to the condition ("mau"), not the phrase
                if j + 1 < start and words[j + 1] == "mau" and j >= 1 and words[j - 1] in CONDITION_WORDS:
                    return False
                return True
            if w not in NEG_FILLERS or j < 1 or clause[j - 1] != clause[start]:
                return False
            j -= 1
        return False

    def habitual(self, toks: Tokens, start: int) -> bool:
        """A habit/condition word up to three words before ``start`` in the same clause."""
        words, clause = toks.words, toks.clause
        for j in range(max(0, start - 3), start):
            if clause[j] == clause[start] and words[j] in HABIT_WORDS:
                return True
        return False

    def scan(self, toks: Tokens) -> dict[tuple[str, str], list[Hit]]:
        """All phrase hits in the report, keyed by (rule id, kind)."""
        hits: dict[tuple[str, str], list[Hit]] = {}
        words = toks.words
        keys = [self.word_keys(w) for w in words]
        present = frozenset().union(*keys)
        self._scan_pass(toks, keys, present, hits, None)
        # near/near_not/unless phrases only matter for rules whose own phrases matched
        fired = {rid for rid, _ in hits}
        aux_first: set[str] = set()
        for rid in fired:
            aux_first.update(self._aux_first.get(rid, ()))
        if aux_first and not present.isdisjoint(aux_first):
            self._scan_pass(toks, keys, present, hits, fired, aux_first)
        return hits

    def _scan_pass(self, toks: Tokens, keys: list, present: frozenset[str], hits: dict,
                   rules: set[str] | None, first: set[str] | None = None) -> None:
        words = toks.words
        n = len(words)
        sent = toks.sent
        extra_neg = self._extra_neg
        aux = rules is not None
        pair_cache = self._pair_cache
        tail_ok: dict[int, bool] = {}  # per report: are all of a phrase's later words present at all?
        for i, w in enumerate(words):
            if first is not None and keys[i].isdisjoint(first):
                continue  # no phrase of the rules that matched starts with this word
            nxt = words[i + 1] if i + 1 < n and sent[i + 1] == sent[i] else ""
            pk = (w, nxt, aux)
            cands = pair_cache.get(pk)
            if cands is None:
                cands = self._pair_candidates(w, nxt, aux)
                if len(pair_cache) < 400_000:
                    pair_cache[pk] = cands
            for pat, rid, kind, length in cands:
                if aux and rid not in rules:
                    continue
                if length:
                    end = i + length  # one word, or two fixed words already checked with the pair
                else:
                    ok = tail_ok.get(id(pat))
                    if ok is None:
                        ok = tail_ok[id(pat)] = all(not k.isdisjoint(present) for k in pat.tail)
                    if not ok:
                        continue
                    end = self.match_at(pat, toks, i, keys)
                    if end is None:
                        continue
                if kind == "unless":
                    if self.habitual(toks, i):
                        continue
                elif not pat.starts_negated and \
                        self.negated(toks, i, extra_neg.get(rid, frozenset()) if kind == "p" else frozenset()):
                    continue
                hits.setdefault((rid, kind), []).append(Hit(i, end, " ".join(words[i:end])))

    def _pair_candidates(self, w: str, nxt: str, aux: bool) -> tuple:
        """Phrases whose first word matches ``w`` and whose second word (if fixed) matches ``nxt``,
        each with the number of words it covers when that is already known (0: match it)."""
        nk = self.word_keys(nxt) if nxt else frozenset()
        out = []
        for pat, rid, kind in self.candidates(w, aux):
            elems = pat.elems
            if len(elems) > 1 and not elems[1].gap and elems[1].keys.isdisjoint(nk):
                continue
            out.append((pat, rid, kind, pat.mode if pat.mode < 3 else 0))
        return tuple(out)


def _compile(text: str, negators: set[str]) -> Pattern:
    elems: list[Elem] = []
    for part in str(text).lower().split():
        if part == "...":
            elems.append(Elem(frozenset(), (), False, gap=True))
            continue
        words: set[str] = set()
        prefixes: list[str] = []
        num = False
        for alt in part.split("|"):
            if alt == "<num>":
                num = True
            elif alt.endswith("*") and len(alt) > 1:
                prefixes.append(alt[:-1])
            elif alt.startswith("=") and len(alt) > 1:
                words.add(alt)  # exact word only, no affixed forms
            elif alt:
                words.add(alt)
        keys = set(words) | {p + "*" for p in prefixes} | ({"<num>"} if num else set())
        elems.append(Elem(frozenset(words), tuple(prefixes), num, keys=frozenset(keys)))
    if not elems or elems[0].gap:
        raise ValueError(f"bad pattern: {text!r}")
    return Pattern(text=str(text), elems=elems, starts_negated=bool(elems[0].words & negators),
                   tail=tuple(e.keys for e in elems[2:] if not e.gap),
                   mode=1 if len(elems) == 1 else 2 if len(elems) == 2 and not elems[1].gap else 3)


def _as_list(v: Any) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def load_ruleset(folder: Path | None = None) -> RuleSet:
    folder = Path(folder) if folder else data_dir("triage")
    doc = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    lex = folder / "lexicon"
    word_map: dict[str, str] = {}
    for name in ("slang.yaml", "regional.yaml"):
        p = lex / name
        if p.exists():
            word_map.update({str(k): str(v) for k, v in (yaml.safe_load(p.read_text(encoding="utf-8")) or {})
                             .get("words", {}).items()})
    nums = yaml.safe_load((lex / "numbers.yaml").read_text(encoding="utf-8"))
    places = yaml.safe_load((lex / "places.yaml").read_text(encoding="utf-8")) or {}
    normalizer = Normalizer(word_map, nums.get("units", {}), nums.get("teens", {}),
                            nums.get("belas_words", []), nums.get("puluh_words", []))
    negators = {normalizer.word_map.get(w, w) for w in doc.get("negators", [])}
    breakers = {normalizer.word_map.get(w, w) for w in doc.get("negation_breakers", [])}

    def norm_phrase(p: str) -> str:
        # rule phrases go through the same slang map as the reports
        out = []
        for w in str(p).lower().split():
            if w in ("...", "<num>") or "|" in w or w.endswith("*") or w.startswith("="):
                out.append(w)
            else:
                out.extend(normalizer.word_map.get(w, w).split())
        return " ".join(out)

    def comp(lst: Any) -> list[Pattern]:
        return [_compile(norm_phrase(p), negators) for p in _as_list(lst)]

    rules: list[Rule] = []
    seen: set[str] = set()
    di_roots: set[str] = set()
    for r in doc["rules"]:
        rid = r["id"]
        if rid in seen:
            raise ValueError(f"duplicate rule id {rid}")
        seen.add(rid)
        urg = r.get("urgency")
        if urg is not None and urg not in RANK:
            raise ValueError(f"rule {rid}: bad urgency {urg}")
        rules.append(Rule(
            id=rid,
            categories=_as_list(r.get("category")),
            urgency=urg,
            patterns=comp(r.get("patterns")),
            near=comp(r.get("near")),
            near_not=comp(r.get("near_not")),
            unless=comp(r.get("unless")),
            requires_any=_as_list(r.get("requires_any")),
            suppressed_by=_as_list(r.get("suppressed_by")),
            max_age=r.get("max_age"),
            min_age=r.get("min_age"),
            young=bool(r.get("young", False)),
            age_unknown=bool(r.get("age_unknown", False)),
            max_tokens=r.get("max_tokens"),
            fallback=bool(r.get("fallback", False)),
            effect=r.get("effect"),
            flags=_as_list(r.get("flags")),
            review=bool(r.get("review", False)),
            extra_negators=frozenset(normalizer.word_map.get(w, w) for w in _as_list(r.get("extra_negators"))),
            examples={"positive": _as_list((r.get("examples") or {}).get("positive")),
                      "negative": _as_list((r.get("examples") or {}).get("negative"))},
        ))
    # the roots of every "di-" passive a rule names ("dipukul" -> pukul): the normaliser joins "d pukul"
    for rule in rules:
        for pat in rule.patterns + rule.near:
            for e in pat.elems:
                for w in e.words:
                    if w.startswith("di") and len(w) >= 6 and w.isalpha():
                        di_roots.add(w[2:])
    normalizer.di_roots = frozenset(di_roots - DI_PLACES)
    rs = RuleSet(
        version=str(doc.get("version", "0")),
        rules=rules,
        precedence=list(doc["precedence"]),
        category_base=dict(doc.get("category_base", {})),
        abuse_categories=set(doc.get("abuse_categories", [])),
        risk_categories=set(doc.get("risk_categories", [])),
        negators=negators,
        breakers=breakers,
        normalizer=normalizer,
        place_aliases={str(k).lower(): str(v) for k, v in (places.get("aliases") or {}).items()},
    )
    common = {str(w).lower() for w in (places.get("common_words") or [])}
    common |= set(word_map) | {v for v in word_map.values() if " " not in v}
    for rule in rules:
        for pat in rule.patterns + rule.near + rule.near_not:
            for e in pat.elems:
                common |= {w for w in e.words if w.isalpha()}
    rs.common_words = common - set(rs.place_aliases)
    places = _place_words()
    rs.no_fuzzy = set(common) | places
    # place names are never evidence of danger for the second opinion (rule words stay: "pasar", "laut")
    rs.place_words = frozenset((places | {a for a in rs.place_aliases if " " not in a}) - rs.common_words)
    rs.build_index()
    model_path = folder / "second_opinion.json"
    rs.second_opinion = second_opinion.load(model_path)
    if rs.second_opinion is not None:
        # the version stored on every intake names the learnt part too: "2026.11.25-4+so.1a2b3c4d"
        rs.version = f"{rs.version}+so.{second_opinion.file_digest(model_path)[:8]}"
    at = doc.get("second_opinion") or {}
    for key in ("darurat_at", "category_at"):
        if key in at and not 0.0 <= float(at[key]) <= 1.01:
            raise ValueError(f"second_opinion.{key} must be a probability (0 to 1; above 1 turns it off)")
    rs.second_opinion_at = {k: float(v) for k, v in at.items()}
    nsw = doc.get("not_secondary_with") or {}
    for c, others in nsw.items():
        unknown = {c, *others} - set(rs.precedence)
        if unknown:
            raise ValueError(f"not_secondary_with: unknown categories {sorted(unknown)}")
    rs.not_secondary_with = {str(c): [str(o) for o in others] for c, others in nsw.items()}
    return rs


def _place_words() -> set[str]:
    """Single words of kab/kota/kecamatan names: never "corrected" into rule words."""
    import csv

    from tepsa.resources import geo_data_path

    out: set[str] = set()
    with open(geo_data_path("wilayah.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for w in row["nama"].lower().replace(".", " ").split():
                if w.isalpha():
                    out.add(w)
    return out


@lru_cache(maxsize=1)
def get_ruleset() -> RuleSet:
    """The process-wide rule set (reload by calling ``get_ruleset.cache_clear()``)."""
    return load_ruleset()
