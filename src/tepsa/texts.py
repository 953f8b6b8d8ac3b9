"""Message texts as data: the YAML files in the top-level ``channels/`` folder.

The hotline changes wording there without a release; every text has an
Indonesian (``id``) and an English (``en``) version.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from tepsa.resources import data_dir


class MissingText(KeyError):
    pass


@lru_cache
def _load(name: str) -> dict[str, dict[str, str]]:
    path: Path = data_dir("channels") / f"{name}.yaml"
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of text keys")
    return data


def text(book: str, key: str, lang: str = "id", **values: object) -> str:
    """The text ``key`` from ``channels/<book>.yaml`` in ``lang``, filled with ``values``."""
    entry = _load(book).get(key)
    if not entry:
        raise MissingText(f"{book}.{key}")
    template = entry.get(lang) or entry["id"]
    return template.format(**values)


def reload() -> None:
    _load.cache_clear()
