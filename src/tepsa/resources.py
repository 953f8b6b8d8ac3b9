"""Where the data folders (triage rules, channel texts, migrations) are found.

In a checkout they sit at the top of the repository so that the people who
edit them find them; an installed wheel carries copies under ``tepsa/_data``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (``triage``, ``channels`` or ``alembic``)."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"data folder {name!r} not found (looked in {packaged} and {checkout})")


def geo_data_path(filename: str) -> Path:
    """Return a shipped reference-data file (regions, villages, units)."""
    return _PACKAGE / "geo" / "data" / filename
