"""Reading the shipped reference files (plain or gzipped CSV): one reader for the gazetteer and the loader."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path


def read_csv(path: Path | str) -> list[dict[str, str]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def to_float(text: str | None) -> float | None:
    """A coordinate cell; empty or malformed means unknown (about 7% of villages have no point)."""
    try:
        return float(text) if text and text.strip() else None
    except ValueError:
        return None
