"""Roster CSV parsing: every bad line reported with its number, nothing half imported."""

from __future__ import annotations

import pytest

from tepsa.assignment.roster import RosterError, parse_roster
from tests.conftest import ROSTER_HEADER

KABKOTA = {"14.71", "14.08", "31.75"}


def test_good_rows_parse_with_defaults_and_normalised_phones():
    rows = parse_roster(ROSTER_HEADER + "A,Nama A,sakti_peksos,0812-3456-7890,,14.71,,,ya,abh;napza,\n"
                                        "B,Nama B,BALAI,62 812 3456 7891,-100123,31.75,-6.2,106.9,0,,50\n", KABKOTA)
    a, b = rows
    assert (a.telepon, a.aktif, a.kapasitas, a.keahlian, a.lat) == ("+6281234567890", True, 10, ("abh", "napza"), None)
    assert (b.jenis, b.telepon, b.aktif, b.kapasitas, b.telegram_chat_id) == ("balai", "+6281234567891", False, 50, "-100123")


@pytest.mark.parametrize("row,problem", [
    (",Nama,sakti_peksos,,,14.71,,,1,,", "kode is empty"),
    ("A,,sakti_peksos,,,14.71,,,1,,", "nama is empty"),
    ("A,Nama,relawan,,,14.71,,,1,,", "jenis must be"),
    ("A,Nama,sakti_peksos,bukan nomor,,14.71,,,1,,", "telepon is not a phone number"),
    ("A,Nama,sakti_peksos,,abc,14.71,,,1,,", "telegram_chat_id must be a number"),
    ("A,Nama,sakti_peksos,,,99.99,,,1,,", "is not a kabupaten/kota code"),
    ("A,Nama,sakti_peksos,,,14.71,0.5,,1,,", "lat/lon"),
    ("A,Nama,sakti_peksos,,,14.71,95,101,1,,", "lat/lon"),
    ("A,Nama,sakti_peksos,,,14.71,,,mungkin,,", "aktif must be"),
    ("A,Nama,sakti_peksos,,,14.71,,,1,pencurian,", "unknown keahlian"),
    ("A,Nama,sakti_peksos,,,14.71,,,1,,nol", "kapasitas"),
    ("A,Nama,sakti_peksos,,,14.71,,,1,,10,extra", "more fields"),
])
def test_each_malformed_row_names_its_line(row, problem):
    good = "G,Baik,sakti_peksos,,,14.71,,,1,,\n"
    with pytest.raises(RosterError) as err:
        parse_roster(ROSTER_HEADER + good + row + "\n", KABKOTA)
    assert any(p.startswith("line 3:") and problem in p for p in err.value.problems), err.value.problems


def test_repeated_kode_and_missing_columns_are_refused():
    with pytest.raises(RosterError, match="repeats line 2"):
        parse_roster(ROSTER_HEADER + "A,X,sakti_peksos,,,14.71,,,1,,\nA,Y,sakti_peksos,,,14.71,,,1,,\n", KABKOTA)
    with pytest.raises(RosterError, match="missing column"):
        parse_roster("kode,nama\nA,B\n", KABKOTA)


def test_byte_order_mark_and_blank_lines_are_tolerated():
    rows = parse_roster("\ufeff" + ROSTER_HEADER + "\nA,X,sakti_peksos,,,14.71,,,1,,\n\n", KABKOTA)
    assert [r.kode for r in rows] == ["A"]
