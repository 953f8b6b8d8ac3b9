"""Text normalisation for informal Indonesian reports.

Why hand-written: the reports are WhatsApp chat, voice transcripts and regional
languages; general-purpose "correctors" turn abuse words into other words
(see stack-notes section 6).  This module only does reversible, explainable
steps: lower case, strip emoji and punctuation, collapse stretched letters,
expand reduplication ("dipukul2"), map slang and regional words from the
editable lexicon, turn spelled-out numbers into digits, and offer a small
affix stripper (``stems``) so that one rule word ("pukul") covers
"dipukul", "dipukulin", "mukulin", "pukulan".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

# Sentence breaks: message boundaries are added by the caller.
_SENT_SPLIT = re.compile(r"[.!?;\n\r|]+(?:\s|$)|[!?;\n\r|]+")
_CLAUSE_SPLIT = re.compile(r",")
_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?|[±~]")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_REDUP = re.compile(r"\b([a-z]{2,})(?:2|-\1)\b")
_REDUP_SUFFIX = re.compile(r"\b([a-z]{2,})2(an|nya|in|kan)\b")   # "sakit2an", "anak2nya"
_REDUP_HYPHEN = re.compile(r"\b([a-z]{2,})-([a-z]{2,})\b")
_ABBREV_DOT = re.compile(
    r"\b(kec|kel|kab|kot|ds|dsn|jl|jln|no|dr|drs|yth|sd|smp|sma|smk|th|thn|bpk|kp|kmp|ny|tn|adm|rt|rw|"
    r"prov|st|hj|pkl|tgl|ybs|dgn|kpd|utk|sbg|tsb|wr|wb|bu|pak|p|l|s|d|a|m|rp|kab|kota)\.")
# zero-width: a space goes between the two sides (faster than capturing and re-emitting them)
_DIGIT_ALPHA = re.compile(r"(?<=\d)(?=[a-z])")
_ALPHA_DIGIT = re.compile(r"(?<=[a-z][a-z][a-z])(?=\d)")
_ALPHA_2 = re.compile(r"[a-z]2").search   # "anak2": only then can a "2" be a reduplication
# a short word with a dot: one cheap pattern, the word looked up in the abbreviation set
_SHORT_DOT = re.compile(r"\b([a-z]{1,4})\.")
_HAS_DIGIT = re.compile(r"\d").search


_ASCII_DROP = re.compile(r"[^a-z0-9\n.!?;,|\-~]+")


def _clean_unicode(text: str) -> str:
    """Drop emoji, symbols and control characters; fold accented letters to ASCII."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch if (ch.isalnum() or ch in "\n.!?;,|-~") else " ")
            continue
        if ch == "±":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            dec = unicodedata.normalize("NFKD", ch)
            out.append("".join(c for c in dec if c.isascii() and c.isalnum()) or " ")
        else:
            out.append(" ")
    return "".join(out)


@dataclass(slots=True)
class Tokens:
    """Normalised tokens with sentence and clause ids (for scope checks)."""

    words: list[str] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    clause: list[int] = field(default_factory=list)
    msg: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.words)


_ABBREVIATIONS = frozenset(
    "kec kel kab kot ds dsn jl jln no dr drs yth sd smp sma smk th thn bpk kp kmp ny tn adm rt rw prov st hj pkl tgl "
    "ybs dgn kpd utk sbg tsb wr wb bu pak p l s d a m rp kota".split())


def _abbrev(m: re.Match) -> str:
    return m.group(1) + " " if m.group(1) in _ABBREVIATIONS else m.group(0)


class Normalizer:
    """Turns raw messages into :class:`Tokens` using the lexicon maps."""

    def __init__(self, word_map: dict[str, str], units: dict[str, int], teens: dict[str, int],
                 belas: list[str], puluh: list[str]) -> None:
        self.word_map = {k.lower(): str(v).lower() for k, v in word_map.items()}
        self.units = units
        self.teens = teens
        self.belas = set(belas)
        self.puluh = set(puluh)
        self.number_words = frozenset(units) | frozenset(teens)  # only these start a spelled-out number
        # roots whose "di-" passive the rules know ("pukul" for dipukul): "d suruh", "di pukulin" are joined
        self.di_roots: frozenset[str] = frozenset()

    # -- raw text -> clean string ---------------------------------------------
    @staticmethod
    @lru_cache(maxsize=4096)
    def clean(text: str) -> str:
        """Lower-cased text with only letters, digits and break marks (cached: location reuses it)."""
        if text.isascii():
            text = _ASCII_DROP.sub(" ", text.lower())
        else:
            text = _clean_unicode(text)
        text = _STRETCH.sub(r"\1", text)
        if "." in text:
            text = _SHORT_DOT.sub(_abbrev, text)        # "kec. tenayan" is not a sentence end
        two = "2" in text and _ALPHA_2(text) is not None
        hyphen = "-" in text
        if two:
            text = _REDUP_SUFFIX.sub(r"\1 \1\2", text)    # "sakit2an" -> "sakit sakitan", "anak2nya" -> "anak anaknya"
        if two or hyphen:
            text = _REDUP.sub(r"\1 \1", text)              # "anak2", "anak-anak" -> "anak anak"
        if hyphen:
            text = _REDUP_HYPHEN.sub(r"\1 \2", text)       # "dipukul-pukul" -> "dipukul pukul"
        if _HAS_DIGIT(text):
            text = _DIGIT_ALPHA.sub(" ", text)    # "10th" -> "10 th"
            text = _ALPHA_DIGIT.sub(" ", text)    # "umur10" -> "umur 10"
        return text

    def _numbers(self, words: list[str]) -> list[str]:
        """Replace spelled-out numbers by digits ("dua belas" -> "12")."""
        out: list[str] = []
        i = 0
        n = len(words)
        while i < n:
            w = words[i]
            if w in self.teens:
                out.append(str(self.teens[w]))
                i += 1
                continue
            if w in self.units and w != "se":
                val = self.units[w]
                nxt = words[i + 1] if i + 1 < n else ""
                if nxt in self.belas:
                    out.append(str(10 + val))
                    i += 2
                    continue
                if nxt in self.puluh:
                    val *= 10
                    i += 2
                    if i < n and words[i] in self.units and words[i] != "se":
                        val += self.units[words[i]]
                        i += 1
                    out.append(str(val))
                    continue
                out.append(str(val))
                i += 1
                continue
            out.append(w)
            i += 1
        return out

    def _join_di(self, words: list[str]) -> list[str]:
        """ "d suruh jualan", "di pukulin" -> "disuruh", "dipukulin": the passive prefix typed apart.
        Only before a verb the rules know in its di- form, so "di rumah" stays a place."""
        out: list[str] = []
        i = 0
        n = len(words)
        while i < n:
            w = words[i]
            if (w == "di" or w == "d") and i + 1 < n:
                nxt = words[i + 1]
                # the word itself or with a verb suffix ("pukulin", "suruhin"): never a noun in pe-/-an
                if nxt.isalpha() and (nxt in self.di_roots or any(
                        nxt.endswith(suf) and nxt[: -len(suf)] in self.di_roots for suf in _DI_SUFFIXES)):
                    out.append("di" + nxt)
                    i += 2
                    continue
            out.append(w)
            i += 1
        return out

    def tokens(self, messages: list[str]) -> Tokens:
        toks = Tokens()
        sent = 0
        clause = 0
        word_map = self.word_map
        number_words = self.number_words
        for mi, message in enumerate(messages):
            text = self.clean(message)
            for sentence in _SENT_SPLIT.split(text):
                for part in _CLAUSE_SPLIT.split(sentence):
                    mapped: list[str] = []
                    for w in _TOKEN.findall(part):
                        m = word_map.get(w)
                        if m is None:
                            mapped.append(w)
                        else:
                            mapped.extend(m.split())
                    nums = mapped if number_words.isdisjoint(mapped) else self._numbers(mapped)
                    if "pukul" in nums:
                        for k in range(len(nums) - 1):
                            if nums[k] == "pukul" and nums[k + 1][:1].isdigit():
                                nums[k] = "jam"  # "pukul 19.40" is a time, not a blow
                    if self.di_roots and ("di" in nums or "d" in nums):
                        nums = self._join_di(nums)
                    k = len(nums)
                    toks.words.extend(nums)
                    toks.sent.extend([sent] * k)
                    toks.clause.extend([clause] * k)
                    toks.msg.extend([mi] * k)
                    clause += 1
                sent += 1
        return toks


_DI_SUFFIXES = ("in", "kan", "i", "nya", "inya", "kannya", "innya")

# -- affix stripping ------------------------------------------------------------
_PARTICLES = ("nya", "lah", "kah", "ku", "mu", "na", "e", "ne")
_SUFFIXES = ("kan", "in", "an", "i", "ni")
# prefix -> list of replacements for the first letter of the root
_PREFIXES = (
    ("meng", ("", "k")), ("meny", ("s",)), ("mem", ("", "p")), ("men", ("", "t")), ("me", ("",)),
    ("peng", ("", "k")), ("peny", ("s",)), ("pem", ("", "p")), ("pen", ("", "t")), ("pe", ("",)),
    ("nge", ("",)), ("ng", ("", "k")), ("ny", ("s",)),
    ("di", ("",)), ("ter", ("",)), ("ber", ("",)), ("be", ("",)), ("ke", ("",)), ("se", ("",)),
    ("per", ("",)), ("ka", ("",)), ("ta", ("",)), ("m", ("p",)), ("n", ("t",)),
)
_VOWELS = set("aeiou")


@lru_cache(maxsize=200_000)
def stems(word: str) -> frozenset[str]:
    """Possible roots and intermediate forms of ``word`` (over-generates on purpose).

    Rule words are compared against this set, so "pukul" matches "dipukulin",
    and "dipukul" matches "dipukulnya" but not "memukul".
    """
    out = {word}
    if len(word) < 4 or not word.isalpha():
        return frozenset(out)
    bases = {word}
    for p in _PARTICLES:
        if word.endswith(p) and len(word) - len(p) >= 3:
            bases.add(word[: -len(p)])
    level2 = set(bases)
    for b in bases:
        for s in _SUFFIXES:
            if b.endswith(s) and len(b) - len(s) >= 3:
                level2.add(b[: -len(s)])
    out |= level2
    for b in list(level2):
        for pre, repl in _PREFIXES:
            if b.startswith(pre) and len(b) - len(pre) >= 3:
                rest = b[len(pre):]
                for r in repl:
                    if r and rest[0] not in _VOWELS:
                        continue
                    cand = r + rest
                    out.add(cand)
                    # a second prefix layer: "diper-", "memper-", "ke-...-an"
                    for pre2 in ("per", "pe", "ber", "ter"):
                        if cand.startswith(pre2) and len(cand) - len(pre2) >= 3:
                            out.add(cand[len(pre2):])
    return frozenset(out)
