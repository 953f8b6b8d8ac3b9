"""In-memory gazetteer of Indonesian regions built from the shipped CSV files.

Why in memory: triage runs thousands of reports a second and must not touch a
database; the full table (provinces down to villages, ~91k rows) fits in plain
dicts and builds in well under two seconds (~0.7 s including reading the files).

It offers code lookups (``region``, ``kabkota_of``, ``provinsi_of``), a fast
nearest-village ``reverse_geocode`` over a 0.1-degree grid, and a name index
(``lookup_name``) that the triage location matcher uses.  Names are keyed in
a *compact* form (lower case, letters and digits only, no spaces) so that the
data's blemishes ("Bencahlesung" for "Bencah Lesung") and reporters' spellings
("pare pare", "parepare") meet.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Iterable

from tepsa.geo.files import read_csv, to_float
from tepsa.resources import geo_data_path

KABKOTA_LEVELS = ("kabupaten", "kota")
DESA_LEVELS = ("desa", "kelurahan")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_LEVEL_WORD = re.compile(r"^(kabupaten|kab\.?|kota)\s+(adm\.?\s+|administrasi\s+)?", re.I)


def compact(name: str) -> str:
    """Lower-case ``name`` and keep letters and digits only ("Pare-Pare" -> "parepare")."""
    return _NON_ALNUM.sub("", name.lower())


def words(name: str) -> list[str]:
    """Lower-case word list of a region name."""
    return [w for w in _NON_ALNUM.split(name.lower()) if w]


@dataclass(frozen=True, slots=True)
class Region:
    kode: str
    level: str
    nama: str
    induk: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """Result of a reverse geocode: the nearest village and its parents."""

    desa: Region | None
    kecamatan: Region | None
    kabkota: Region | None
    provinsi: Region | None
    distance_km: float | None

    @property
    def kabkota_kode(self) -> str | None:
        return self.kabkota.kode if self.kabkota else None


_float = to_float


# town names of "Kota ..." kecamatan that are ordinary words or directions: never indexed alone
_TOWN_STOP = {"baru", "baharu", "lama", "raja", "besi", "bangun", "barat", "selatan", "utara", "timur", "tengah",
              "bahagia", "juang", "gajah", "agung", "komba", "padang"}


def _strip_level_word(level: str, nama: str) -> str:
    """'Kabupaten Aceh Selatan' -> 'Aceh Selatan'; 'Kota Pekanbaru' -> 'Pekanbaru'."""
    nama = nama.strip()
    if level in KABKOTA_LEVELS:
        return _LEVEL_WORD.sub("", nama)
    return nama


class Gazetteer:
    """Regions by code, by compact name, and by grid cell for reverse geocoding."""

    GRID = 0.1  # degrees per cell (~11 km)

    def __init__(self, wilayah_rows: Iterable[dict], desa_rows: Iterable[dict] | None = None) -> None:
        self._regions: dict[str, Region] = {}
        self._by_name: dict[str, list[Region]] = {}
        self._by_first_word: dict[str, list[Region]] = {}
        self._grid: dict[tuple[int, int], list[Region]] = {}
        t0 = time.perf_counter()
        for row in wilayah_rows:
            self._add(row)
        # kecamatan without a point borrow their kabupaten/kota's point
        for kode, r in list(self._regions.items()):
            if r.level == "kecamatan" and r.lat is None and r.induk in self._regions:
                p = self._regions[r.induk]
                self._regions[kode] = Region(r.kode, r.level, r.nama, r.induk, p.lat, p.lon)
        if desa_rows is not None:
            for row in desa_rows:
                self._add(row)
        self._index_names()
        self._merge_town_aliases()
        self._index_grid()
        self.build_seconds = time.perf_counter() - t0

    # -- building -----------------------------------------------------------
    def _add(self, row: dict) -> None:
        kode = row["kode"].strip()
        if not kode:
            return
        self._regions[kode] = Region(
            kode=kode,
            level=row["level"].strip(),
            nama=row["nama"].strip(),
            induk=(row.get("induk") or "").strip() or None,
            lat=_float(row.get("lat", "")),
            lon=_float(row.get("lon", "")),
        )

    def _index_names(self) -> None:
        by_name = self._by_name
        by_first = self._by_first_word
        self._town_alias: dict[str, list[Region]] = {}
        for r in self._regions.values():
            base = _strip_level_word(r.level, r.nama)
            key = compact(base)
            if key:
                by_name.setdefault(key, []).append(r)
            if r.level == "kecamatan" and r.nama.lower().startswith("kota "):
                # kecamatan named after their town ("Kota Masohi", "Kota Ternate Selatan", "Kota Atambua"):
                # people write the town name alone.  Not when that name is taken or an ordinary word.
                town = r.nama[5:].strip()
                tkey = compact(town)
                if tkey and tkey not in _TOWN_STOP:
                    self._town_alias.setdefault(tkey, []).append(r)
            if r.level in ("kecamatan", "desa", "kelurahan"):
                ws = words(base)
                if len(ws) >= 2 and len(ws[0]) >= 4:
                    by_first.setdefault(ws[0], []).append(r)

    def _merge_town_aliases(self) -> None:
        for k, regs in self._town_alias.items():
            existing = self._by_name.get(k, [])
            # only where no kabupaten/kota/kecamatan already has the name (villages may: a kecamatan outranks them)
            if all(x.level in ("desa", "kelurahan") for x in existing):
                self._by_name[k] = existing + list(regs)

    def _index_grid(self) -> None:
        g = self.GRID
        for r in self._regions.values():
            if r.level in DESA_LEVELS or r.level == "kecamatan":
                lat, lon = r.lat, r.lon
                if lat is None or lon is None:
                    continue
                self._grid.setdefault((math.floor(lat / g), math.floor(lon / g)), []).append(r)

    # -- lookups --------------------------------------------------------------
    def region(self, kode: str | None) -> Region | None:
        return self._regions.get(kode) if kode else None

    def ancestor(self, kode: str | None, levels: tuple[str, ...]) -> Region | None:
        r = self.region(kode)
        while r is not None and r.level not in levels:
            r = self.region(r.induk)
        return r

    def kabkota_of(self, kode: str | None) -> Region | None:
        return self.ancestor(kode, KABKOTA_LEVELS)

    def provinsi_of(self, kode: str | None) -> Region | None:
        return self.ancestor(kode, ("provinsi",))

    def kecamatan_of(self, kode: str | None) -> Region | None:
        return self.ancestor(kode, ("kecamatan",))

    def point_of(self, kode: str | None) -> tuple[float, float] | None:
        """The region's point, else the nearest ancestor's point."""
        r = self.region(kode)
        while r is not None:
            if r.lat is not None and r.lon is not None:
                return (r.lat, r.lon)
            r = self.region(r.induk)
        return None

    def lookup_name(self, key: str) -> list[Region]:
        """Regions whose name (without 'Kabupaten'/'Kota') compacts to ``key``."""
        return self._by_name.get(key, [])

    def lookup_first_word(self, word: str) -> list[Region]:
        """Kecamatan/villages whose multi-word name starts with ``word`` ("Tambun" -> Tambun Utara, ...)."""
        return self._by_first_word.get(word, [])

    def name_keys(self):
        """All compact names in the index."""
        return self._by_name.keys()

    def has_name(self, key: str) -> bool:
        return key in self._by_name

    def regions(self, level: str | None = None) -> Iterable[Region]:
        return (r for r in self._regions.values() if level is None or r.level == level)

    def reverse_geocode(self, lat: float, lon: float) -> PlaceMatch:
        """Nearest village (or kecamatan point) to (lat, lon) and its parents."""
        try:
            lat = float(lat)
            lon = float(lon)
        except (TypeError, ValueError):
            return PlaceMatch(None, None, None, None, None)
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
            return PlaceMatch(None, None, None, None, None)
        g = self.GRID
        ci, cj = math.floor(lat / g), math.floor(lon / g)
        best: Region | None = None
        best_d = float("inf")
        coslat = math.cos(math.radians(lat))
        for ring in range(0, 31):  # up to ~3 degrees away
            for i in range(ci - ring, ci + ring + 1):
                for j in range(cj - ring, cj + ring + 1):
                    if ring and abs(i - ci) != ring and abs(j - cj) != ring:
                        continue
                    for r in self._grid.get((i, j), ()):
                        d = (r.lat - lat) ** 2 + ((r.lon - lon) * coslat) ** 2
                        if d < best_d or (d == best_d and r.level in DESA_LEVELS):
                            best, best_d = r, d
            # a point found in ring k may still be beaten by one in ring k+1
            if best is not None and math.sqrt(best_d) < ring * g:
                break
        if best is None:
            return PlaceMatch(None, None, None, None, None)
        desa = best if best.level in DESA_LEVELS else None
        kec = self.kecamatan_of(best.kode)
        return PlaceMatch(
            desa=desa,
            kecamatan=kec,
            kabkota=self.kabkota_of(best.kode),
            provinsi=self.provinsi_of(best.kode),
            distance_km=math.sqrt(best_d) * 111.2,
        )


_read_csv = read_csv


_LOCK = threading.Lock()
_INSTANCE: Gazetteer | None = None


def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, built on first use (~1 s)."""
    global _INSTANCE
    if _INSTANCE is None:
        with _LOCK:
            if _INSTANCE is None:
                wil = _read_csv(geo_data_path("wilayah.csv"))
                desa = _read_csv(geo_data_path("desa.csv.gz"))
                _INSTANCE = Gazetteer(wil, desa)
    return _INSTANCE
