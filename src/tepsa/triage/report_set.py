"""Run the triage engine over a labelled/unlabelled report set (JSON Lines rows).

Used by the ``tepsa triage FILE.jsonl -o OUT.jsonl`` command; ``labels`` and
``rationale`` in the input are ignored.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from tepsa.triage.engine import triage


def run_report_set(reports: Iterable[dict]) -> Iterator[dict]:
    """Yield ``{"id": ..., **TriageResult.to_dict()}`` for each report."""
    for rep in reports:
        rep = rep if isinstance(rep, dict) else {}
        msgs = rep.get("messages") or []
        if isinstance(msgs, str):
            msgs = [msgs]
        pin = rep.get("location_pin")
        result = triage(list(msgs), pin if isinstance(pin, dict) else None)
        yield {"id": rep.get("id"), **result.to_dict()}
