"""A second opinion on urgency and category, learnt from the labelled report sets.

Why: the rules recognise what their phrases name; each new set of reports written
by someone else showed emergencies told in words no rule had (a regional verb, a
situation described without a harm word).  A small logistic regression over the
report's words, trained on every labelled report in ``tests/data``, recognises many
of them.  It is a *second* opinion, bounded by the guide's "when unsure, the
higher level":

* it can only raise urgency to ``darurat``, never lower anything, and a report it
  raised is marked ``needs_review`` so an operator reads it (a second head for
  "at least tinggi" was tried and left out: on the development set it raised seven
  reports the rules had right, see docs/benchmarks.md);
* it only names the category when no rule recognised the situation (the rules'
  fallback ``informasi`` with review);
* it says why: the words that pushed it, as any rule does.

The model is data (``triage/second_opinion.json``), rebuilt from the labelled sets
with ``tepsa triage --train FILES``; its thresholds live in ``rules.yaml``
(``second_opinion:``) where supervisors tune the rules.  Pure functions: words in,
probabilities out; training is deterministic (fixed order, fixed seed).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

ROOT = "r:"                           # feature prefix: a rule word the report's word matches (its root, a typo fix)
EPOCHS = {"darurat": 30, "category": 15}
L2 = 1e-3
LEARNING_RATE = 0.2
MIN_DF = 3                            # a feature must occur in this many reports to be learnt
MAX_DF = 0.25                         # ... and in at most this share of them
PRUNE = 0.005                         # weights smaller than this are dropped from the file


@dataclass(frozen=True)
class Head:
    """One yes/no question ("is this darurat?", "is the category penelantaran?")."""

    bias: float
    weights: dict[str, float]

    def score(self, feats: Iterable[str]) -> float:
        w = self.weights
        return self.bias + sum(w.get(f, 0.0) for f in feats)

    def prob(self, feats: Iterable[str]) -> float:
        return _sigmoid(self.score(feats))

    def reasons(self, feats: Iterable[str], limit: int = 6) -> list[str]:
        """The report's words that pushed towards "yes", strongest first, as a person reads them."""
        w = self.weights
        pushed = sorted(((w[f], f) for f in feats if w.get(f, 0.0) > 0.05), reverse=True)
        out: list[str] = []
        for _, f in pushed:
            word = f[len(ROOT):] if f.startswith(ROOT) else f
            if word not in out:
                out.append(word)
            if len(out) == limit:
                break
        return out


@dataclass(frozen=True)
class SecondOpinion:
    heads: dict[str, Head]            # "darurat", "category:<code>"
    trained_on: dict[str, str] = field(default_factory=dict)   # file name -> sha256 of its content
    reports: int = 0

    def categories(self) -> list[str]:
        return [code for code, _ in self._category_heads]

    @cached_property
    def _category_heads(self) -> list[tuple[str, Head]]:
        """(code, head) of every category head, in code order (built once, read per report)."""
        return [(k.split(":", 1)[1], h) for k, h in sorted(self.heads.items()) if k.startswith("category:")]

    def best_category(self, feats: frozenset[str]) -> tuple[str, float] | None:
        best: tuple[str, float] | None = None
        for code, head in self._category_heads:
            p = head.prob(feats)
            if best is None or p > best[1]:
                best = (code, p)
        return best


def _sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


# Words that say nothing about a child's danger, however often they happen to stand in emergencies
# of the training sets: function words, pronouns, greetings, address prefixes.  Place names are left
# out too (``ignore`` below): "kupang" or "kec" must never make a report urgent.
STOPWORDS = frozenset("""
    ini itu ada yang dan di ke dari dengan untuk pada dalam atau juga sudah belum masih akan bisa dapat
    saya aku kami kita kamu dia mereka beliau sy gw gue sa beta ambo kulo tiang ulun lon awak
    ya iya tidak bukan jangan kok sih dong deh nih tuh kan lah pun saja aja cuma hanya lebih kurang sangat
    apa siapa kenapa mengapa bagaimana gimana kapan mana berapa kalau kalo jika karena krn sebab biar supaya
    pas waktu saat ketika lalu terus kemudian sama seperti kayak kaya begitu gitu begini gini
    kak kakak bu ibu pak bapak mas mbak bang abang min admin om tante dik halo hallo hai assalamualaikum
    selamat pagi siang sore malam slmt permisi maaf mohon terima kasih makasih
    kec kecamatan kel kelurahan kab kabupaten kota desa dusun rt rw jl jalan gang gg prov provinsi
    the a an of to in on at is are was and or i we you he she it they this that
""".split())


def features(words: list[str], roots: Callable[[str], Iterable[str]],
             ignore: frozenset[str] = frozenset()) -> frozenset[str]:
    """The report's normalised words, plus the rule words each of them matches (``r:pukul`` for
    "dipukulin", "dipukull"), so that what the rules know about affixes and typos carries over.
    Numbers, :data:`STOPWORDS` and ``ignore`` (place names) are left out."""
    out: set[str] = set()
    for w in words:
        if w in STOPWORDS or w in ignore or not w.isalpha() or len(w) < 3:
            continue
        out.add(w)
        for r in roots(w):
            if r != w and r not in STOPWORDS:
                out.add(ROOT + r)
    return frozenset(out)


def _train_head(docs: list[list[str]], ys: list[int], epochs: int, seed: int = 1) -> Head:
    """Logistic regression by stochastic gradient descent with L2 (deterministic)."""
    w: dict[str, float] = {}
    b = 0.0
    order = list(range(len(docs)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(order)
        for i in order:
            f = docs[i]
            z = b
            for x in f:
                z += w.get(x, 0.0)
            g = _sigmoid(z) - ys[i]
            if -1e-4 < g < 1e-4:
                continue   # already right: nothing to learn (skips most of the work in later epochs)
            b -= LEARNING_RATE * g
            for x in f:
                v = w.get(x, 0.0)
                w[x] = v - LEARNING_RATE * (g + L2 * v)
    kept = {k: round(v, 4) for k, v in sorted(w.items()) if abs(v) >= PRUNE}
    return Head(bias=round(b, 4), weights=kept)


def train(reports: list[dict], feats_of: Callable[[list[str]], frozenset[str]],
          trained_on: dict[str, str] | None = None) -> SecondOpinion:
    """Train every head on labelled reports (``messages`` + ``labels`` as in the report-set format)."""
    docs = [sorted(feats_of(r["messages"])) for r in reports]
    # words in a quarter of all reports or more ("di", "anak", "rumah") say nothing about this report,
    # and a word seen once is one writer's spelling: neither is learnt from
    df: dict[str, int] = {}
    for d in docs:
        for f in d:
            df[f] = df.get(f, 0) + 1
    top = MAX_DF * len(docs)
    docs = [[f for f in d if MIN_DF <= df[f] <= top] for d in docs]
    labels = [r["labels"] for r in reports]
    heads: dict[str, Head] = {
        "darurat": _train_head(docs, [int(lab["urgency"] == "darurat") for lab in labels], EPOCHS["darurat"]),
    }
    for code in sorted({lab["category"] for lab in labels}):
        heads[f"category:{code}"] = _train_head(docs, [int(lab["category"] == code) for lab in labels],
                                                EPOCHS["category"])
    return SecondOpinion(heads=heads, trained_on=dict(trained_on or {}), reports=len(reports))


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def dump(model: SecondOpinion, path: Path) -> None:
    doc = {
        "about": "Second opinion learnt from labelled reports; rebuild with `tepsa triage --train FILES`. "
                 "Generated: do not edit by hand (thresholds are in rules.yaml, second_opinion:).",
        "reports": model.reports,
        "trained_on": model.trained_on,
        "heads": {k: {"bias": h.bias, "weights": h.weights} for k, h in sorted(model.heads.items())},
    }
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                          encoding="utf-8")


def load(path: Path) -> SecondOpinion | None:
    """The model in ``path``, or None when there is none (the rules then decide alone)."""
    p = Path(path)
    if not p.is_file():
        return None
    doc = json.loads(p.read_text(encoding="utf-8"))
    heads = {k: Head(bias=float(v["bias"]), weights={str(f): float(x) for f, x in v["weights"].items()})
             for k, v in doc["heads"].items()}
    return SecondOpinion(heads=heads, trained_on=dict(doc.get("trained_on") or {}), reports=int(doc.get("reports", 0)))
