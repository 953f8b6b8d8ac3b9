"""Regions (province to village), regional units and their service areas."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Region(SQLModel, table=True):
    """One Kemendagri region: provinsi, kabupaten/kota, kecamatan or kelurahan/desa."""

    kode: str = Field(primary_key=True, max_length=16)
    level: str = Field(max_length=12, index=True)
    nama: str = Field(max_length=120)
    induk: str | None = Field(default=None, max_length=16, index=True)
    lat: float | None = None
    lon: float | None = None


class Unit(SQLModel, table=True):
    """A regional child social rehabilitation unit (balai/loka) of the ministry."""

    kode: str = Field(primary_key=True, max_length=32)
    nama: str = Field(max_length=200)
    jenis: str = Field(max_length=12)
    kota: str = Field(max_length=120)
    kabkota_kode: str = Field(max_length=16)
    sumber: str | None = Field(default=None, max_length=500)


class UnitArea(SQLModel, table=True):
    """A province a unit serves; editable without a release."""

    __tablename__ = "unit_area"

    unit_kode: str = Field(primary_key=True, foreign_key="unit.kode", max_length=32)
    provinsi_kode: str = Field(primary_key=True, max_length=4)
