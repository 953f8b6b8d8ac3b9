"""Regional units and their service areas, as administrators edit them (no release needed).

Assignment reads units and areas from the database for every case
(``tepsa.assignment.service.load_candidates``), so a saved change applies to the
next assignment. A province is served by at most one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, col, select

from tepsa.geo.models import Region, Unit, UnitArea

KABKOTA_LEVELS = ("kabupaten", "kota")
MAX_NAME = 200
MAX_KOTA = 120


class UnitChangeRefused(ValueError):
    """Every reason a unit change was refused, each as (text key, values) for the console to word."""

    def __init__(self, problems: list[tuple[str, dict]]):
        self.problems = problems
        super().__init__("; ".join(code for code, _ in problems))


@dataclass(frozen=True)
class UnitChange:
    unit_kode: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    fields: tuple[str, ...] = field(default=())
    """Names of the changed unit fields (nama, kota, kabkota_kode)."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.fields)


def provinces(session: Session) -> list[Region]:
    return list(session.exec(select(Region).where(Region.level == "provinsi").order_by(Region.kode)))


def kabkota(session: Session) -> list[tuple[str, str]]:
    """(kode, nama) of every kabupaten/kota, for the unit seat picker."""
    return list(session.exec(select(Region.kode, Region.nama).where(col(Region.level).in_(KABKOTA_LEVELS))
                             .order_by(Region.kode)).all())


def coverage(session: Session) -> dict[str, list[str]]:
    """Province code -> the units that serve it (normally one)."""
    out: dict[str, list[str]] = {}
    for unit_kode, prov in session.exec(select(UnitArea.unit_kode, UnitArea.provinsi_kode)
                                        .order_by(UnitArea.unit_kode)).all():
        out.setdefault(prov, []).append(unit_kode)
    return out


def check_areas(unit_kode: str, chosen: Iterable[str], covered_by: Mapping[str, Iterable[str]],
                province_codes: set[str]) -> list[tuple[str, dict]]:
    """Pure check of a unit's new service area: known provinces, none already served by another unit."""
    problems: list[tuple[str, dict]] = []
    for prov in sorted(set(chosen)):
        if prov not in province_codes:
            problems.append(("unit_err_province", {"kode": prov}))
            continue
        others = sorted(u for u in covered_by.get(prov, ()) if u != unit_kode)
        if others:
            problems.append(("unit_err_taken", {"kode": prov, "unit": ", ".join(others)}))
    return problems


def check_fields(nama: str, kota: str, kabkota_kode: str, kabkota_codes: set[str]) -> list[tuple[str, dict]]:
    problems: list[tuple[str, dict]] = []
    if not nama or len(nama) > MAX_NAME:
        problems.append(("unit_err_name", {"n": MAX_NAME}))
    if not kota or len(kota) > MAX_KOTA:
        problems.append(("unit_err_kota", {"n": MAX_KOTA}))
    if kabkota_kode not in kabkota_codes:
        problems.append(("unit_err_kabkota", {"kode": kabkota_kode}))
    return problems


def update_unit(session: Session, unit_kode: str, *, nama: str, kota: str, kabkota_kode: str,
                provinsi: Iterable[str]) -> UnitChange:
    """Save a unit's name, seat and service area, or raise UnitChangeRefused; the caller commits.

    The units are locked before their areas are read, so two administrators saving at
    once cannot give one province two units.
    """
    nama, kota, kabkota_kode = nama.strip(), kota.strip(), kabkota_kode.strip()
    chosen = {p.strip() for p in provinsi if p.strip()}
    # Every unit save first locks all unit rows in one order (PostgreSQL), so concurrent saves queue up
    # instead of each approving the same province; on SQLite the no-op write takes the database lock.
    units = {u.kode: u for u in session.exec(select(Unit).order_by(Unit.kode).with_for_update())}
    unit = units.get(unit_kode)
    if unit is None:
        raise UnitChangeRefused([("unit_err_no_unit", {"kode": unit_kode})])
    session.execute(update(Unit).where(Unit.kode == unit_kode).values(nama=Unit.nama))
    kab_codes = set(session.exec(select(Region.kode).where(Region.kode == kabkota_kode,
                                                           col(Region.level).in_(KABKOTA_LEVELS))).all())
    prov_codes = {r.kode for r in provinces(session)}
    problems = check_fields(nama, kota, kabkota_kode, kab_codes)
    fields = tuple(name for name, value in (("nama", nama), ("kota", kota), ("kabkota_kode", kabkota_kode))
                   if getattr(unit, name) != value)
    if not problems and fields:
        unit.nama, unit.kota, unit.kabkota_kode = nama, kota, kabkota_kode
        session.add(unit)
    problems += check_areas(unit_kode, chosen, coverage(session), prov_codes)
    if problems:
        raise UnitChangeRefused(problems)
    current = set(session.exec(select(UnitArea.provinsi_kode).where(UnitArea.unit_kode == unit_kode)).all())
    added, removed = sorted(chosen - current), sorted(current - chosen)
    for prov in removed:
        row = session.get(UnitArea, (unit_kode, prov))
        if row is not None:
            session.delete(row)
    for prov in added:
        session.add(UnitArea(unit_kode=unit_kode, provinsi_kode=prov))
    session.flush()
    return UnitChange(unit_kode, tuple(added), tuple(removed), fields)
