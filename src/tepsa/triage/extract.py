"""Age, sex and reporter of a report, from normalised tokens.

Why conservative: the guide asks for an age only when the text allows one
value.  Several children ("8 dan 10 thn"), ranges ("6-10 th") and durations
("sudah 3 tahun", "3 tahun lalu") give no age; adults' ages ("ibu (32 th)")
are skipped.
"""

from __future__ import annotations

import re

from tepsa.triage.normalize import Tokens

AGE_WORDS = {"umur", "usia", "berumur", "berusia", "umuran"}
YEAR_WORDS = {"tahun", "thn", "th", "tahunan", "taun", "taon", "years", "year", "yo", "yrs"}
APPROX = {"kira", "kiro", "sekitar", "kurang", "lebih", "lbh", "plus", "minus", "katanya", "baru", "masih",
          "sudah", "2", "~", "±"}
LIST_JOINERS = {"dan", "sampai", "sd", "hingga", "jo", "&", "atau", "-", "s", "sama", "ama"}
DURATION_BEFORE = {"sudah", "selama", "sejak", "tiap", "setiap", "nunggak", "dari", "lalu"}
DURATION_AFTER = {"lalu", "lalunya", "terakhir", "menikah", "nikah", "kepungkur", "silam", "kemudian",
                  "lagi", "belakangan", "penjara", "hukuman"}
ADULT_WORDS = {"ibu", "bapak", "ayah", "mama", "papa", "pacar", "pacarnya", "suami", "istri", "pelaku", "pemuda",
               "om", "paman", "guru", "sopir", "nenek", "kakek", "majikan"}
PAST_WORDS = {"waktu", "dulu", "pas", "ketika", "saat"}
GRADE_WORDS = {"kelas", "kls", "klas", "kelasnya", "smp", "sd", "sma", "smk"}
INFANT_WORDS = {"bayi", "orok", "newborn"}
INFANT_UNITS = {"hari", "minggu", "bulan", "bln"}
YOUNG_WORDS = {"bayi", "balita", "batita", "orok", "newborn", "baby", "babies", "toddler", "infant", "jabang"}
_YOUNG_PREFIXES = tuple(sorted(YOUNG_WORDS))


def _num(w: str) -> int | None:
    return int(w) if w.isdigit() and len(w) <= 3 else None


def extract_age(toks: Tokens) -> tuple[int | None, str | None, bool]:
    """(age, matched text, several-children flag)."""
    words = toks.words
    n = len(words)
    cands: list[tuple[int, int, str]] = []   # (position, age, text)
    several = False
    numbers = [i for i, w in enumerate(words) if w.isdigit() and len(w) <= 3]
    grade_pos = {i for i in numbers if i and words[i - 1] in GRADE_WORDS}
    grade_pos |= {i + 2 for i in grade_pos}  # "kls 5-6"

    def num_at(j: int) -> int | None:
        return None if j in grade_pos or j < 0 or j >= n else _num(words[j])

    for i in numbers:
        if i in grade_pos:
            continue
        w = words[i]
        v = int(w)
        prev = words[i - 1] if i else ""
        prev2 = words[i - 2] if i > 1 else ""
        nxt = words[i + 1] if i + 1 < n else ""
        nxt2 = words[i + 2] if i + 2 < n else ""
        # infants: "usia 10 bulan", "lahir 5 hari lalu", "bayi ... 9 hari"
        if nxt in INFANT_UNITS and (prev in AGE_WORDS or prev2 in AGE_WORDS or prev in {"lahir"}
                                    or any(x in INFANT_WORDS for x in words[max(0, i - 4):i])):
            if nxt != "bulan" or v < 12:
                cands.append((i, 0, f"{w} {nxt}"))
            continue
        is_year = nxt in YEAR_WORDS
        by_age_word = prev in AGE_WORDS or (prev in APPROX and prev2 in AGE_WORDS) or \
            (prev in APPROX and i > 2 and words[i - 3] in AGE_WORDS)
        if not (is_year or by_age_word):
            continue
        if v > 17 or v == 0:
            continue
        # durations and adults
        if is_year and (nxt2 in DURATION_AFTER or prev in DURATION_BEFORE and not by_age_word
                        or (nxt2 == "yang" and i + 3 < n and words[i + 3] == "lalu")):
            continue
        if any(x in ADULT_WORDS for x in words[max(0, i - 2):i]) and not by_age_word:
            continue
        # several children or a range: "8 dan 10", "6-10", "5 sampai 10", "4, 7, 11"
        joined = (nxt in LIST_JOINERS and num_at(i + 2) is not None) or \
                 (prev in LIST_JOINERS and num_at(i - 2) is not None) or \
                 (num_at(i + 1) is not None) or (num_at(i - 1) is not None)
        if not joined and is_year and nxt2 in LIST_JOINERS and num_at(i + 3) is not None:
            joined = True
        if not joined and prev in LIST_JOINERS and prev2 in YEAR_WORDS and num_at(i - 3) is not None:
            joined = True
        if joined:
            several = True
            continue
        cands.append((i, v, " ".join(words[max(0, i - 1):i + 2])))
    if several and not cands:
        return None, None, True
    if several:
        # a clear single age stated first ("17 thn ... ada yg masih 15") still counts
        first_several = min((i for i in range(n) if num_at(i) is not None), default=0)
        if cands[0][0] > first_several:
            return None, None, True
    if cands:
        ages = {a for _, a, _ in cands}
        pos, age, text = cands[0]
        # "dulu waktu umur 8 tahun ... sudah 3 tahun lalu" -> 11 now
        if any(x in PAST_WORDS for x in words[max(0, pos - 4):pos]):
            for j in range(n - 2):
                if _num(words[j]) is not None and words[j + 1] in YEAR_WORDS and words[j + 2] in ("lalu", "yang"):
                    age = age + int(words[j])
                    text = f"{text} + {words[j]} tahun lalu"
                    break
        return age, text, len(ages) > 1
    for w in words:
        if w in INFANT_WORDS:
            return 0, w, False
        if w == "lahir" and "baru" in words:
            return 0, "baru lahir", False
    return None, None, False


def _listed_ages(words: list[str]) -> list[int]:
    """Every age in a list of children ("umur 3 sm 5 thn", "4, 6 dan 7 tahun"), durations left out."""
    out: list[int] = []
    n = len(words)
    for i, w in enumerate(words):
        if not (w.isdigit() and len(w) <= 2):
            continue
        j = i + 1
        while j + 1 < n and words[j] in LIST_JOINERS and words[j + 1].isdigit():
            j += 2
        if j < n and words[j] in YEAR_WORDS and (j + 1 >= n or words[j + 1] not in DURATION_AFTER):
            out.append(int(w))
    return out


def is_young(toks: Tokens, age: int | None) -> bool:
    """Under 6 (every child named, when several are), or an infant/toddler word without a stated older age."""
    if age is not None:
        return age < 6
    if any(w.startswith(_YOUNG_PREFIXES) for w in toks.words):
        return True
    listed = _listed_ages(toks.words)
    return bool(listed) and max(listed) < 6


MALE = {"lakilaki", "laki", "cowok", "putra", "lanang", "santri", "abang"}
FEMALE = {"perempuan", "cewek", "putri", "siswi", "wedok", "santriwati", "gadis", "hamil", "ibu_hamil"}


def extract_sex(toks: Tokens) -> str | None:
    words = toks.words
    for i, w in enumerate(words):
        if w in MALE:
            return "L"
        if w in FEMALE:
            return "P"
        if w in ("l", "p") and i + 2 < len(words) and _num(words[i + 1]) is not None:
            return w.upper()
    return None


REPORTER_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("aparat", ("polisi", "polri", "penyidik", "kepala desa", "kades", "keuchik", "pembakal", "ketua rt",
                "pak rt", "rt", "rw", "lurah", "babinsa", "bhabinkamtibmas", "kepala kampung", "wali nagari")),
    ("lembaga", ("lsm", "yayasan", "lpa", "lksa", "puskesmas", "rsud", "rumah sakit", "pekerja sosial", "peksos",
                 "pendamping", "relawan", "fasilitator", "paralegal", "lbh", "kepala sekolah", "kepala sd",
                 "bidan", "tagana", "koordinator")),
    ("guru", ("guru", "wali kelas", "guru bk")),
    ("tetangga", ("tetangga saya", "anak tetangga", "tetangga", "tonggoku")),
    ("keluarga", ("ponakan", "keponakan", "cucu", "adik saya", "kakak saya", "sepupu", "tante", "tantenya",
                  "bibinya", "saya neneknya", "saya nenek", "neneknya", "saya kakek", "kakeknya", "adik ipar", "incu",
                  "cucu saya", "niniak", "saya kakaknya", "saya tantenya", "saya bibinya", "saya adiknya")),
    ("orang_tua", ("anak saya", "anak aku", "anakku", "anak ambo", "anak kulo", "anak ulun", "saya punya anak",
                   "saya pu anak", "kita pe anak", "beta pung anak", "anak kami", "ibu dari", "ayah dari",
                   "anak abdi", "putri saya", "putra saya", "anak perempuan saya", "anak lakilaki saya")),
    ("anak", ("aku", "saya siswa", "saya perempuan", "saya lakilaki", "aku siswa", "saya anaknya")),
]


def _reporter_regex() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation of every phrase, in rule order: at the leftmost position the first listed
    phrase wins, as a scan of each phrase in turn would decide (one regex pass instead of ~90 finds)."""
    code_of: dict[str, str] = {}
    for code, phrases in REPORTER_RULES:
        for ph in phrases:
            code_of.setdefault(ph, code)
    alternation = "|".join(re.escape(ph) for ph in code_of)
    return re.compile(rf" ({alternation})(?= )"), code_of


_REPORTER_RE, _REPORTER_CODE = _reporter_regex()


def extract_reporter(toks: Tokens) -> str | None:
    head = " " + " ".join(toks.words[:40]) + " "
    m = _REPORTER_RE.search(head)
    if m is None:
        return "lainnya" if len(toks.words) > 3 else None
    code = _REPORTER_CODE[m.group(1)]
    if code == "anak":
        text = head if len(toks.words) <= 40 else " " + " ".join(toks.words) + " "
        if " anak saya " in text or " anakku " in text:
            return "orang_tua"
    return code
