"""Reference codes told to reporters: short, easy to read aloud and to type.

No 0/O or 1/I, which are confused on the phone and on small keyboards.
Grouped 3-3 ("K7M-4QX"): 32^6 ≈ 10^9 codes, collisions retried by the caller.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_reference() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def normalise_reference(text: str) -> str:
    """What a reporter types back ('k7m4qx', 'K7M 4QX', 'k7m-4qx') -> 'K7M-4QX'."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{cleaned[:3]}-{cleaned[3:]}" if len(cleaned) == 6 else cleaned
