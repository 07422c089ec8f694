"""CSV reading shared by the tabular loaders: required columns checked, cells stripped."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from training.records import SourceError

csv.field_size_limit(1 << 26)  # TCGA pathology reports run to hundreds of kB in one cell


def rows(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceError(path, f"missing columns {missing} (has {reader.fieldnames})")
        for row in reader:
            yield {k: (v or "").strip() for k, v in row.items() if k is not None}


def layout(parts: list[tuple[str, str]]) -> str:
    """'HEADING: text' paragraphs for the non-empty parts, the way the product reads them."""
    return "\n\n".join(f"{heading}: {text}" for heading, text in parts if text)
