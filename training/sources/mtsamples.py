"""MTSamples radiology transcriptions (commas stand for the original line breaks).

Gives impression targets where the product's section splitter finds an impression (the text
before it is the findings), and a RADS target only where the text states a category.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from radlite_fhir.rules import find_rads
from radlite_fhir.sections import split_sections
from training.records import IMPRESSION, RADS, Record
from training.sources.tabular import rows

COLUMNS = ("note_id", "transcription")


def load(path: Path) -> Iterator[Record]:
    for row in rows(path, COLUMNS):
        text = row["transcription"]
        if not text:
            continue
        targets: dict[str, object] = {}
        findings = None
        impression = next((s for s in split_sections(text) if s.key == "impression"), None)
        if impression is not None and impression.start > 40:
            answer = text[impression.start : impression.end].strip(" ,:")
            if len(answer) > 10:
                targets[IMPRESSION] = answer
                heading_at = text.rfind(impression.heading, 0, impression.start)
                findings = text[:heading_at].rstrip(" ,")
        stated = find_rads(text)
        if stated:
            targets[RADS] = stated[0].category.label
        yield Record("mtsamples", row["note_id"], row["note_id"], text, targets, findings)
