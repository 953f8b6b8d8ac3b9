"""Property tests: the parsers and the triage engine never fail on arbitrary input."""

from __future__ import annotations

import math

import pytest
from fastapi import HTTPException
from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.datastructures import FormData

from tepsa.assignment.roster import RosterError, parse_roster
from tepsa.channels.whatsapp import parse_whatsapp
from tepsa.intake.reference import normalise_reference
from tepsa.phone import InvalidPhone, to_e164
from tepsa.triage.engine import triage
from tepsa.vocab import CATEGORIES, URGENCIES

# Everything a reporter's phone can send: any code point, control characters, emoji, RTL marks.
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)), max_size=300)
report_words = st.sampled_from([
    "tolong", "anak", "dipukulin", "skrg", "kec.", "Tenayan", "Raya", "pekanbaru", "umur", "7", "th", "tidak",
    "bukan", "sekarang", "diperkosa", "bayi", "sendirian", "banjir", "😭", "🙏", "2", "kel.", "ds.", "\u200b",
    "\x00", "'; DROP TABLE intake; --", "ANAK2", "tolonggggg", "dipukul2", "tujuh", "tahun",
])
messy_report = st.lists(report_words, max_size=40).map(" ".join)
pins = st.one_of(st.none(), st.fixed_dictionaries({
    "lat": st.floats(allow_nan=True, allow_infinity=True), "lon": st.floats(allow_nan=True, allow_infinity=True)}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(st.one_of(any_text, messy_report), max_size=6), pin=pins)
def test_triage_always_answers_with_valid_labels(messages, pin):
    result = triage(messages, pin)
    assert result.urgency in URGENCIES
    assert result.category in CATEGORIES
    assert result.categories and result.categories[0] == result.category
    assert set(result.categories) <= set(CATEGORIES)
    if result.kabkota_kode is not None:
        assert result.kabkota_kode.count(".") == 1
    if result.age is not None:
        assert 0 <= result.age <= 25
    for value in (result.lat, result.lon):
        assert value is None or math.isfinite(value)
    result.to_dict()  # JSON-able shape


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(
    st.sampled_from(["MessageSid", "SmsMessageSid", "From", "Body", "Latitude", "Longitude", "NumMedia", "To",
                     "MediaUrl0", "ProfileName"]),
    any_text, max_size=10))
def test_whatsapp_form_parses_or_is_refused_with_400(fields):
    try:
        message = parse_whatsapp(FormData(list(fields.items())))
    except HTTPException as exc:
        assert exc.status_code == 400
        return
    assert message.provider_sid and message.from_phone.startswith("+")
    assert message.body == fields.get("Body", "")


@settings(max_examples=200, deadline=None)
@given(raw=any_text)
def test_phone_normalisation_gives_e164_or_a_clear_error(raw):
    try:
        assert to_e164(raw).startswith("+")
    except InvalidPhone:
        pass


@settings(max_examples=150, deadline=None)
@given(body=st.lists(st.lists(any_text, min_size=0, max_size=12).map(lambda cells: ",".join(cells)), max_size=5))
def test_roster_parses_or_reports_problems_with_line_numbers(body):
    header = "kode,nama,jenis,telepon,telegram_chat_id,kabkota_kode,lat,lon,aktif,keahlian,kapasitas\n"
    try:
        parse_roster(header + "\n".join(body), {"14.71"})
    except RosterError as exc:
        assert exc.problems and all(p.startswith("line ") for p in exc.problems)


@given(raw=any_text)
def test_reference_normalisation_never_fails(raw):
    assert isinstance(normalise_reference(raw), str)


@pytest.mark.parametrize("text", ["", " ", "\x00\x01\x02", "🙏" * 500, "a" * 20000, "ا" * 50, "\u202e" * 10])
def test_triage_edge_texts(text):
    assert triage([text]).urgency in URGENCIES
