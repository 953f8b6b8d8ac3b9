"""Load the shipped reference data (regions, villages, units) into the database.

Runs on first start; idempotent (a table that already has rows is left alone, so
an administrator's edits of units' service areas survive restarts).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from tepsa.geo.files import read_csv, to_float
from tepsa.geo.models import Region, Unit, UnitArea
from tepsa.resources import geo_data_path


def iter_region_rows() -> Iterator[dict]:
    """Every region row from wilayah.csv then desa.csv.gz, as plain dicts."""
    for filename in ("wilayah.csv", "desa.csv.gz"):
        for row in read_csv(geo_data_path(filename)):
            yield {"kode": row["kode"], "level": row["level"], "nama": row["nama"], "induk": row["induk"] or None,
                   "lat": to_float(row["lat"]), "lon": to_float(row["lon"])}


def iter_unit_rows() -> Iterator[dict]:
    return iter(read_csv(geo_data_path("units.csv")))


def load_reference_data(conn: Connection) -> dict[str, int]:
    """Insert regions and units when their tables are empty; return rows inserted.

    Runs inside the caller's transaction, so a crash never leaves half a load.
    """
    inserted = {"region": 0, "unit": 0}
    if conn.execute(select(func.count()).select_from(Region)).scalar_one() == 0:
        batch: list[dict] = []
        for row in iter_region_rows():
            batch.append(row)
            if len(batch) >= 5000:
                conn.execute(insert(Region), batch)
                inserted["region"] += len(batch)
                batch = []
        if batch:
            conn.execute(insert(Region), batch)
            inserted["region"] += len(batch)
    if conn.execute(select(func.count()).select_from(Unit)).scalar_one() == 0:
        units, areas = [], []
        for row in iter_unit_rows():
            units.append({
                "kode": row["kode"], "nama": row["nama"], "jenis": row["jenis"],
                "kota": row["kota"], "kabkota_kode": row["kabkota_kode"], "sumber": row["sumber"] or None,
            })
            for prov in filter(None, (p.strip() for p in row["provinsi_jangkauan"].split(";"))):
                areas.append({"unit_kode": row["kode"], "provinsi_kode": prov})
        conn.execute(insert(Unit), units)
        if areas:
            conn.execute(insert(UnitArea), areas)
        inserted["unit"] = len(units)
    return inserted
