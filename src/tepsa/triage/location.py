"""Where is the child?  Location from a WhatsApp pin or from place names.

Order (triage guide section 3): a shared pin; else place names in the text,
where every name votes for the kabupaten/kota it can lie in.  Votes are
weighted by how specific and how explicit the name is (a "kec."/"desa"/"kab."
prefix counts more than a bare word) and by context: a place introduced by
"dari", "asal", "ke", "merantau" or "sy di" is more likely the origin, the
destination or the reporter's own place than the child's.  Village names repeat
a lot and many are ordinary words, so a bare village name only supports a
kab/kota that something else named; when the votes do not single out one
kab/kota the answer is None, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tepsa.geo.gazetteer import Gazetteer, Region, compact
from tepsa.triage.normalize import Normalizer

_TOKEN = re.compile(r"[a-z]+|\d+")
_SENT = re.compile(r"[.!?;\n\r|]+")

KEC_PREFIX = {"kec", "kecamatan", "kac"}
DESA_PREFIX = {"kel", "kelurahan", "desa", "ds", "dusun", "dsn", "gampong", "nagari", "lurah"}
KAB_PREFIX = {"kab", "kabupaten"}
KOTA_PREFIX = {"kota", "kodya"}
PROV_PREFIX = {"prov", "provinsi", "propinsi"}
ALL_PREFIX = KEC_PREFIX | DESA_PREFIX | KAB_PREFIX | KOTA_PREFIX | PROV_PREFIX
NAME_PREFIX = KEC_PREFIX | DESA_PREFIX | KAB_PREFIX | KOTA_PREFIX  # before a common word, it is a place
# a place right after these words is an origin or a destination ("dari Brebes", "ke Malaysia")
AWAY_BEFORE = {"dari", "dr", "asal", "asalnya", "ke", "ka", "merantau"}
# "<word> di X": somebody else's place ("bapaknya di Jakarta", "kerja di Batam", "lapas di ...")
AWAY_BEFORE_DI = {"lapas", "merantau", "kerja", "kerjo", "kerje", "bekerja", "dipenjara"}
REPORTER_CONTEXT = {("sy", "di"), ("saya", "di"), ("aku", "di"), ("sa", "di"), ("beta", "di"), ("gw", "di")}
# "sy ibu dr Balikpapan Utara", "kami dari ...": after a self-introduction, "dari" names where the caller lives
SELF_WORDS = {"sy", "saya", "aku", "kami", "sa", "beta", "gw", "gue", "ulun", "ambo", "kulo", "tiang", "lon", "i", "we"}
# "ke Kupang atau Denpasar": a place joined to the one before shares its context
JOINERS = {"atau", "dan", "maupun", "sama", "&", "or", "and"}
# "Kupang city", "Malang regency"
AFTER_PREFIX = {"city": "kota", "regency": "kab"}
HOME_CONTEXT = {"tinggal", "rumah", "rumahnya", "alamat", "lokasi", "kampung", "kampuang", "omah", "griya"}
MAX_NGRAM = 4


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    text: str
    prefix: str | None            # "kec", "desa", "kab", "kota", "prov" or None
    regions: list[Region]
    alias_kode: str | None
    weight: float = 1.0


@dataclass(slots=True)
class LocationResult:
    kabkota_kode: str | None = None
    kecamatan_kode: str | None = None
    desa_kode: str | None = None
    lat: float | None = None
    lon: float | None = None
    source: str | None = None
    matched: list[str] = field(default_factory=list)
    ambiguous: bool = False


class LocationMatcher:
    """Finds place-name mentions and resolves them to one kabupaten/kota."""

    def __init__(self, gaz: Gazetteer, aliases: dict[str, str], common_words: set[str]) -> None:
        self.gaz = gaz
        self.aliases = {compact(k): v for k, v in aliases.items()}
        self.common = common_words
        # first words of multi-word names: only these start an n-gram longer than one word
        self.first_words: set[str] = set()
        from tepsa.geo.gazetteer import words as name_words

        # how many words the longest name starting with a word has: n-grams longer than that are not tried
        self.span: dict[str, int] = {}

        # and which words follow it in some name: "anak mau" starts no name, so no n-gram is tried
        self.second: dict[str, set[str]] = {}

        def starts(ws: list[str]) -> None:
            word = ws[0]
            self.first_words.add(word)
            if len(ws) > self.span.get(word, 1):
                self.span[word] = len(ws)
            self.second.setdefault(word, set()).add(ws[1])

        for r in gaz.regions():
            ws = name_words(r.nama)
            if len(ws) > 1:
                starts(ws)
                if ws[0] in ("kabupaten", "kota", "kab") and len(ws) > 2:
                    starts(ws[1:])
                if len(ws) > 2 and ws[0] == "kota" and ws[1] == "adm":
                    starts(ws[2:])
            # names written together in the data ("Bencahlesung") are found by joining words
        for k in aliases:
            if " " in k:
                starts(k.split())
            else:
                self.first_words.add(k)
        self.max_join = MAX_NGRAM
        # every compact name or alias: one set test before any lookup
        self.known_keys: set[str] = set(gaz.name_keys()) | set(self.aliases)

    # -- mentions -------------------------------------------------------------
    def _tokens(self, messages: list[str]) -> tuple[list[str], list[int]]:
        words: list[str] = []
        sents: list[int] = []
        s = 0
        for m in messages:
            text = Normalizer.clean(m)
            for sentence in _SENT.split(text):
                for w in _TOKEN.findall(sentence):
                    words.append(w)
                    sents.append(s)
                s += 1
        return words, sents

    def mentions(self, messages: list[str]) -> list[Mention]:
        words, sents = self._tokens(messages)
        n = len(words)
        known = self.known_keys
        lookup = self.gaz.lookup_name
        aliases = self.aliases
        out: list[Mention] = []
        covered_until = -1
        first_words = self.first_words
        i = 0
        while i < n:
            w = words[i]
            if w not in first_words and w not in known and w not in ALL_PREFIX:
                # fast path for most words: no name starts here unless it is written apart ("bencah lesung")
                j = i + 1
                if j >= n or sents[j] != sents[i] or (w + words[j]) not in known:
                    i += 1
                    continue
            found = None
            if w in ALL_PREFIX and i + 1 < n and self._starts_admin_name(words, sents, i + 1):
                i += 1  # "kota medan": read the prefix as a prefix, not as part of a village name
                continue
            # names written apart ("bencah lesung") need two words even when the data has one
            top = min(MAX_NGRAM, max(2, self.span.get(w, 1)), n - i)
            if top > 1:
                nxt = words[i + 1]
                if sents[i + 1] != sents[i] or (nxt not in self.second.get(w, ()) and (w + nxt) not in known):
                    top = 1  # no name goes on with the next word
            
            prev_word = words[i - 1] if i else ""
            for L in range(top, 0, -1):
                if sents[i + L - 1] != sents[i]:
                    continue
                if L == 1 and w in self.common and prev_word not in NAME_PREFIX:
                    continue  # an ordinary word alone is never a place (see below)
                key = words[i] if L == 1 else "".join(words[i:i + L])
                if key not in known:
                    continue
                regions = lookup(key)
                alias = aliases.get(key)
                if L == 1 and key in self.common:
                    prev = words[i - 1] if i else ""
                    if prev not in NAME_PREFIX:
                        regions, alias = [], None
                if L == 1 and len(key) < 4 and not alias:
                    regions = []
                if L > 1 and not alias and regions and all(w in self.common for w in words[i:i + L]) \
                        and (i == 0 or words[i - 1] not in ALL_PREFIX) \
                        and all(r.level in ("desa", "kelurahan") for r in regions):
                    regions = []  # "air panas", "pasar baru": ordinary words that also name villages
                if regions or alias:
                    found = (L, regions, alias)
                    break
            if found is None:
                # "tambun" -> Tambun Utara/Selatan: leading word of several kecamatan in one kab/kota
                w = words[i]
                if len(w) >= 5 and w in self.first_words and w not in self.common:
                    lead = [r for r in self.gaz.lookup_first_word(w) if r.level == "kecamatan"]
                    kabs = {r.induk for r in lead}
                    if len(lead) >= 2 and len(kabs) == 1:
                        found = (1, [], next(iter(kabs)))
            if found is None:
                i += 1
                continue
            L, regions, alias = found
            if i + L - 1 <= covered_until:
                i += 1
                continue
            prev = words[i - 1] if i else ""
            prefix = None
            if prev in KEC_PREFIX:
                prefix = "kec"
            elif prev in DESA_PREFIX:
                prefix = "desa"
            elif prev in KAB_PREFIX:
                prefix = "kab"
            elif prev in KOTA_PREFIX:
                prefix = "kota"
            elif prev in PROV_PREFIX:
                prefix = "prov"
            elif i + L < n and words[i + L] in AFTER_PREFIX and sents[i + L] == sents[i]:
                prefix = AFTER_PREFIX[words[i + L]]
            ctx = words[max(0, i - 4):i]
            if prefix and prev in ALL_PREFIX:
                ctx = words[max(0, i - 5):i - 1]
            weight = 1.0
            last = ctx[-1] if ctx else ""
            last2 = ctx[-2] if len(ctx) > 1 else ""
            if any(c in HOME_CONTEXT for c in ctx):
                weight = 1.3
            elif last in ("dari", "dr") and any(c in SELF_WORDS for c in ctx[:-1]):
                weight = 0.7
            elif last in AWAY_BEFORE or (last == "di" and last2 in AWAY_BEFORE_DI):
                weight = 0.35
            elif any((a, b) in REPORTER_CONTEXT for a, b in zip(ctx[-3:], ctx[-2:])):
                weight = 0.7
            if out and (out[-1].end == (i - 1 if prefix and prev in ALL_PREFIX else i)
                        or (out[-1].end == i - 1 and prev in JOINERS)):
                # "di Menganti Gresik", "ke Kupang atau Denpasar": a place right after another shares its context
                weight = out[-1].weight
            out.append(Mention(i, i + L, " ".join(words[i:i + L]), prefix, regions, alias, weight))
            covered_until = i + L - 1
            i += L
        return out

    def _starts_admin_name(self, words: list[str], sents: list[int], i: int) -> bool:
        """Does a kab/kota/kecamatan name (or alias) start at token ``i``?"""
        for L in range(min(MAX_NGRAM, len(words) - i), 0, -1):
            if sents[i + L - 1] != sents[i]:
                continue
            key = "".join(words[i:i + L])
            if key in self.aliases:
                return True
            if any(r.level in ("kabupaten", "kota", "kecamatan") for r in self.gaz.lookup_name(key)):
                return True
        return False

    # -- resolution -----------------------------------------------------------
    def resolve(self, messages: list[str]) -> LocationResult:
        ms = self.mentions(messages)
        if not ms:
            return LocationResult()
        gaz = self.gaz
        score: dict[str, float] = {}
        provinces: set[str] = set()
        best_kec: dict[str, tuple[float, str]] = {}
        best_desa: dict[str, tuple[float, str]] = {}
        direct: set[str] = set()  # kab/kota named outright
        strong_direct: set[str] = set()  # ... and not as an origin, destination or the reporter's place

        def add(k: str, w: float) -> None:
            score[k] = score.get(k, 0.0) + w

        desa_votes: list[tuple[str, float, str, int]] = []
        for mi, m in enumerate(ms):
            regs = m.regions
            if m.prefix == "kec":
                regs = [r for r in regs if r.level == "kecamatan"] or regs
            elif m.prefix == "desa":
                regs = [r for r in regs if r.level in ("desa", "kelurahan")] or \
                       [r for r in regs if r.level == "kecamatan"] or regs
            elif m.prefix == "kab":
                regs = [r for r in regs if r.level == "kabupaten"] or regs
            elif m.prefix == "kota":
                regs = [r for r in regs if r.level == "kota"] or regs
            elif m.prefix == "prov":
                regs = [r for r in regs if r.level == "provinsi"] or regs
            if m.alias_kode:
                add(m.alias_kode, 6.0 * m.weight)
                direct.add(m.alias_kode)
                if m.weight >= 1.0:
                    strong_direct.add(m.alias_kode)
                continue
            by_level: dict[str, list[Region]] = {}
            for r in regs:
                by_level.setdefault(r.level, []).append(r)
            if by_level.get("provinsi"):
                # a province name is only context ("Jakarta", "Jambi" alone give no kab/kota)
                for r in by_level["provinsi"]:
                    provinces.add(r.kode)
                if m.prefix == "prov":
                    continue
            kabkota = by_level.get("kabupaten", []) + by_level.get("kota", [])
            kab_named: dict[str, float] = {}
            if kabkota:
                w = (10.0 if m.prefix in ("kab", "kota") else 6.0) / len(kabkota)
                for r in kabkota:
                    kab_named[r.kode] = w * m.weight
                    direct.add(r.kode)
                    if m.weight >= 1.0:
                        strong_direct.add(r.kode)
                if m.prefix in ("kab", "kota"):
                    for k, w in kab_named.items():
                        add(k, w)
                    continue
            kecs = by_level.get("kecamatan", [])
            if kabkota:
                # mostly the kab/kota; a same-named kecamatan ("Depok" in Sleman) only as a weak reading
                for r in kecs:
                    if r.induk not in kab_named:
                        kab_named[r.induk] = 2.0 * m.weight
                for k, w in kab_named.items():
                    add(k, w)
                continue
            if kecs:
                ks = {r.induk for r in kecs}
                base = 8.0 if m.prefix == "kec" else 4.0
                if m.prefix is None and len(m.text) < 4:
                    base = 1.5
                elif m.prefix is None and len(m.text) == 4:
                    base = 3.0
                w = base / len(ks) if len(ks) == 1 else base * 0.5 / len(ks) ** 0.5
                for r in kecs:
                    add(r.induk, w * m.weight)
                    prev = best_kec.get(r.induk)
                    if prev is None or prev[0] < w * m.weight:
                        best_kec[r.induk] = (w * m.weight, r.kode)
                if m.prefix == "kec":
                    continue
            desas = by_level.get("desa", []) + by_level.get("kelurahan", [])
            if desas:
                ks = {k.kode for k in (gaz.kabkota_of(r.kode) for r in desas) if k}
                if m.prefix == "desa" and len(ks) > 1:
                    # "Kel. Kebon Jeruk": a kelurahan often shares its kecamatan's name; a
                    # same-named kecamatan whose kab/kota has such a village settles it
                    same = [r for r in m.regions if r.level == "kecamatan" and r.induk in ks]
                    if len({r.induk for r in same}) == 1:
                        add(same[0].induk, 4.0 * m.weight)
                        best_kec.setdefault(same[0].induk, (4.0 * m.weight, same[0].kode))
                base = 5.0 if m.prefix == "desa" else 1.5
                if m.prefix == "desa" and len(ks) > 1:
                    base = 2.0
                w = base / len(ks) if len(ks) == 1 else base * 0.6 / len(ks) ** 0.5
                for r in desas:
                    k = gaz.kabkota_of(r.kode)
                    if k is not None:
                        desa_votes.append((k.kode, w * m.weight, r.kode, mi))
        # villages: with a prefix they count on their own; bare, they only support
        # a kab/kota that a kab/kota or kecamatan name already points to.  A village that
        # lies in a kecamatan also named in the report ("Kel. Kampung Melayu, Jatinegara")
        # is strong evidence for both.
        kec_by_mention = [{r.kode for r in m.regions if r.level == "kecamatan"} for m in ms]
        supported = set(score)
        for idx, (k, w, kode, mi) in enumerate(desa_votes):
            kec = kode.rsplit(".", 1)[0]
            if any(kec in kecs for j, kecs in enumerate(kec_by_mention) if j != mi):
                w += 4.0
                desa_votes[idx] = (k, w, kode, mi)
                prev = best_kec.get(k)
                if prev is None or prev[0] < w:
                    best_kec[k] = (w, kec)
        for k, w, kode, _ in desa_votes:
            if k in supported or w >= 2.5:
                add(k, w)
                prev = best_desa.get(k)
                if prev is None or prev[0] < w:
                    best_desa[k] = (w, kode)
        if provinces:
            for k in list(score):
                p = gaz.provinsi_of(k)
                if p and p.kode in provinces:
                    score[k] += 1.5
        if not score:
            return LocationResult(matched=[m.text for m in ms])
        ranked = sorted(score.items(), key=lambda kv: -kv[1])
        if strong_direct:
            # a kab/kota named in the text for the child bounds the answer: kecamatan and
            # village names only choose among those ("kel. Sukajadi kec. Sukajadi Bandung")
            ranked = [kv for kv in ranked if kv[0] in strong_direct] or ranked
        best, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        threshold = 2.5
        if top < threshold or top - second < 0.75:
            return LocationResult(matched=[m.text for m in ms], ambiguous=top >= threshold)
        res = LocationResult(kabkota_kode=best, source="text", matched=[m.text for m in ms])
        if best in best_kec:
            res.kecamatan_kode = best_kec[best][1]
        if best in best_desa:
            d = best_desa[best][1]
            kec = gaz.kecamatan_of(d)
            if res.kecamatan_kode is None or (kec and kec.kode == res.kecamatan_kode):
                res.desa_kode = d
                if kec:
                    res.kecamatan_kode = kec.kode
        spot = res.desa_kode or res.kecamatan_kode or best
        pt = gaz.point_of(spot)
        if pt:
            res.lat, res.lon = pt
        return res

    def from_pin(self, pin: dict) -> LocationResult | None:
        try:
            lat = float(pin.get("lat"))
            lon = float(pin.get("lon", pin.get("lng")))
        except (TypeError, ValueError, AttributeError):
            return None
        pm = self.gaz.reverse_geocode(lat, lon)
        if pm.kabkota is None or (pm.distance_km is not None and pm.distance_km > 60):
            return None
        return LocationResult(
            kabkota_kode=pm.kabkota.kode,
            kecamatan_kode=pm.kecamatan.kode if pm.kecamatan else None,
            desa_kode=pm.desa.kode if pm.desa else None,
            lat=lat, lon=lon, source="pin",
            matched=[f"pin {lat:.5f},{lon:.5f}"],
        )
