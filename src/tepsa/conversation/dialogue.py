"""The WhatsApp dialogue's decisions, as pure functions over plain data.

What to ask next (one question at a time, only what is still missing), how to
read a reporter's short answers (ya/tidak with typos), and which commands a
message is (STATUS, DARURAT, BATAL/STOP), tolerant of case and typos.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

QUESTION_ORDER = ("what", "where", "age", "danger", "contact_safe", "contact_time", "consent")
YES_NO_QUESTIONS = frozenset({"danger", "contact_safe", "consent"})
MAX_ASKS = {"where": 2}  # a place matters enough to ask twice; everything else once

COMMANDS = {"STATUS": "status", "DARURAT": "darurat", "BATAL": "stop", "STOP": "stop", "BERHENTI": "stop",
            "HAPUS": "erase"}

_YES = {"ya", "iya", "iyaa", "y", "yes", "yup", "betul", "benar", "bener", "aman", "boleh", "setuju", "ok", "oke",
        "okay", "mau", "bisa", "ho oh", "nggih", "enggih", "muhun", "iyo", "yo", "he eh"}
_NO = {"tidak", "tdk", "gak", "ga", "gk", "nggak", "ngga", "enggak", "engga", "no", "nope", "jangan", "bukan",
       "tak", "ndak", "nda", "teu", "henteu", "indak", "ora", "belum", "blm", "tidak aman", "gak aman", "ga aman"}
_WORD = re.compile(r"[a-z]+")
_DIGITS = re.compile(r"\b(\d{1,2})\b")
_NUMBER_WORDS = {"nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
                 "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11}


@dataclass(frozen=True)
class Facts:
    """What the intake already knows, as the dialogue needs it."""

    has_story: bool
    located: bool
    age_known: bool
    danger_known: bool
    contact_safe: bool | None
    contact_time_known: bool
    consent_known: bool
    needs_questions: bool = True
    """False for a non-case or an information request: no child to ask about."""
    emergency: bool = False
    """On the emergency path the place comes first: nobody can be sent without it."""


def command_of(text: str) -> str | None:
    """'status', 'darurat' or 'stop' when the whole message is that command (typos allowed)."""
    words = _WORD.findall(text.lower())
    if not words or len(words) > 2:
        return None
    word = "".join(words).upper()
    for command, meaning in COMMANDS.items():
        if word == command or (len(word) >= 4 and fuzz.ratio(word, command) >= 80):
            return meaning
    return None


def yes_no(text: str) -> bool | None:
    """Read 'ya'/'tidak' and their common forms; None when the answer is neither."""
    cleaned = " ".join(_WORD.findall(re.sub(r"(.)\1{2,}", r"\1", text.lower())))
    if not cleaned:
        return None
    if cleaned in _YES or cleaned.split()[0] in _YES and not any(w in _NO for w in cleaned.split()):
        return True
    if cleaned in _NO or cleaned.split()[0] in _NO:
        return False
    return None


def age_of(text: str) -> int | None:
    """A single age in a short answer ('7', '7 th', 'tujuh tahun', 'bayi')."""
    lower = text.lower()
    if re.search(r"\bbayi\b", lower):
        return 0
    found = {int(n) for n in _DIGITS.findall(lower)}
    found |= {v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lower)}
    if re.search(r"\bbelas\b", lower):
        found = {n + 10 for n in found if n < 10}
    return found.pop() if len(found) == 1 and 0 <= next(iter(found)) <= 18 else None


def next_question(facts: Facts, asked: list[str]) -> str | None:
    """The first missing fact not asked too often already, or None when the report is complete."""
    if not facts.needs_questions:
        return None
    missing = {
        "what": not facts.has_story,
        "where": not facts.located,
        "age": not facts.age_known,
        "danger": not facts.danger_known,
        "contact_safe": facts.contact_safe is None,
        "contact_time": facts.contact_safe is True and not facts.contact_time_known,
        "consent": facts.contact_safe is True and not facts.consent_known,
    }
    order = ("where", "what", *QUESTION_ORDER[2:]) if facts.emergency else QUESTION_ORDER
    for key in order:
        if missing[key] and asked.count(key) < MAX_ASKS.get(key, 1):
            return key
    return None
