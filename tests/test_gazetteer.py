"""Gazetteer: code lookups, names and reverse geocoding (speed is measured in bench/, not here)."""

from __future__ import annotations


import pytest

from tepsa.geo.gazetteer import Gazetteer, compact, get_gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return get_gazetteer()


def test_region_and_parents(gaz):
    r = gaz.region("14.71.10")
    assert r is not None and r.nama == "Tenayan Raya" and r.level == "kecamatan"
    assert gaz.kabkota_of("14.71.10").kode == "14.71"
    assert gaz.provinsi_of("14.71.10").kode == "14"
    assert gaz.region("99.99") is None and gaz.region(None) is None


def test_village_parents(gaz):
    d = gaz.region("14.08.04.1001")  # Kel. Perawang, Tualang, Siak
    assert d is not None and d.level == "kelurahan"
    assert gaz.kabkota_of(d.kode).kode == "14.08"
    assert gaz.kecamatan_of(d.kode).kode == "14.08.04"


def test_kecamatan_without_point_uses_kabkota_point(gaz):
    missing = [r for r in gaz.regions("kecamatan") if r.lat is None]
    assert not missing  # filled from the kab/kota at build time
    assert gaz.point_of("14.71.10") == (0.53373, 101.5351)


def test_names_are_compact_and_without_level_word(gaz):
    assert compact("Pare-Pare") == "parepare"
    assert [r.kode for r in gaz.lookup_name("pekanbaru") if r.level == "kota"] == ["14.71"]
    assert {r.kode for r in gaz.lookup_name("jakartaselatan")} == {"31.74"}  # "Kota Adm. Jakarta Selatan"
    assert {r.kode for r in gaz.lookup_name("timortengahselatan")} == {"53.02"}  # "Kab Timor Tengah Selatan"
    assert {r.level for r in gaz.lookup_name("bogor")} >= {"kabupaten", "kota"}


def test_first_word_index(gaz):
    kabs = {r.induk for r in gaz.lookup_first_word("tambun") if r.level == "kecamatan"}
    assert kabs == {"32.16"}


@pytest.mark.parametrize("lat,lon,kab", [
    (0.53, 101.45, "14.71"),        # Pekanbaru
    (-6.2, 106.8, None),            # Jakarta: some kota of DKI
    (-8.65, 115.22, "51.71"),       # Denpasar
    (-2.53, 140.70, None),          # Jayapura area (Papua points)
])
def test_reverse_geocode(gaz, lat, lon, kab):
    pm = gaz.reverse_geocode(lat, lon)
    assert pm.kabkota is not None
    if kab:
        assert pm.kabkota.kode == kab
    if lat == -6.2:
        assert pm.kabkota.kode.startswith("31.")
    assert pm.distance_km is not None and pm.distance_km < 20


@pytest.mark.parametrize("lat,lon", [(float("nan"), 0.0), (200.0, 10.0), ("x", None), (-60.0, 20.0)])
def test_reverse_geocode_bad_or_far_input(gaz, lat, lon):
    pm = gaz.reverse_geocode(lat, lon)
    assert pm.kabkota is None or pm.distance_km > 300


def test_a_fresh_build_from_the_shipped_files_is_complete():
    """Build time is measured by bench/triage_bench.py (gazetteer_ready_s), not asserted here."""
    from tepsa.geo import gazetteer as g

    gz = Gazetteer(g._read_csv(g.geo_data_path("wilayah.csv")), g._read_csv(g.geo_data_path("desa.csv.gz")))
    assert gz.region("14.71").nama == "Kota Pekanbaru"
    assert gz.region("14.71.10").nama == "Tenayan Raya"


def test_singleton(gaz):
    assert get_gazetteer() is gaz


def test_town_kecamatan_found_by_town_name(gaz):
    # "Kota Masohi", "Kota Atambua", "Kota Ternate Selatan" are kecamatan; people write the town alone
    assert "81.01.17" in {r.kode for r in gaz.lookup_name("masohi")}
    assert "53.04.12" in {r.kode for r in gaz.lookup_name("atambua")}
    assert "82.71.02" in {r.kode for r in gaz.lookup_name(compact("Ternate Selatan"))}
    # ordinary words ("Kota Baru", "Kota Tengah") and names a kab/kota already has are not re-indexed
    assert all(r.level != "kecamatan" or not r.nama.lower().startswith("kota ") for r in gaz.lookup_name("baru"))
    assert all(r.level != "kecamatan" for r in gaz.lookup_name("kudus"))
