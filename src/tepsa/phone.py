"""Phone numbers in any common Indonesian form, normalised to E.164."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str) -> str:
    """'0812-3456-7890', '+62 812...', '62812...', 'whatsapp:+62...' -> '+62812...'."""
    text = (raw or "").strip().removeprefix("whatsapp:").strip()
    if not text:
        raise InvalidPhone("empty phone number")
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and digits.startswith("62"):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
