"""Runs last (file order): the log of the whole HTTP suite holds no reporter's number and no report text."""

from __future__ import annotations

import re

from tests.conftest import SUITE_LOG

# Indonesian mobile numbers in any written form the fixtures use.
PHONE = re.compile(r"(?:\+?62|\b0)8\d{8,11}")
# Words from the fixtures' reports and names: none may reach a log line.
WORDS = ["dipukul", "tetangga", "Tenayan Raya pekanbaru", "bapaknya", "diperkosa", "Siti", "Rahmawati",
         "umurnya", "hp ini juga dipakai", "pesan kasar"]


def test_the_suites_log_holds_no_numbers_or_report_words():
    lines = SUITE_LOG.lines
    assert len(lines) > 50, "the rest of the suite should have logged its requests"
    assert any('"intake: message received"' in line for line in lines)
    text = "\n".join(lines) + "\n" + "\n".join(SUITE_LOG.raw)
    assert not PHONE.search(text), PHONE.search(text).group(0)
    for word in WORDS:
        assert word not in text, word
