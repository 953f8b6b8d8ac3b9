"""Reference codes and phone numbers."""

from __future__ import annotations

import re

import pytest

from tepsa.intake.reference import ALPHABET, new_reference, normalise_reference
from tepsa.phone import InvalidPhone, to_e164


def test_reference_codes_avoid_lookalikes_and_have_the_spoken_shape():
    codes = {new_reference() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}", code), code
    assert not set("01OI") & set(ALPHABET)


@pytest.mark.parametrize("typed", ["k7m4qx", "K7M 4QX", "k7m-4qx", " K7M-4QX "])
def test_typed_back_references_are_normalised(typed):
    assert normalise_reference(typed) == "K7M-4QX"


@pytest.mark.parametrize("raw", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "whatsapp:+6281234567890",
                                 "(0812) 3456 7890"])
def test_common_indonesian_forms_normalise_to_e164(raw):
    assert to_e164(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["", "abc", "12", "whatsapp:"])
def test_non_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        to_e164(raw)
