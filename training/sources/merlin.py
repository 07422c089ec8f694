"""Merlin abdominal CT reports (Stanford, an .xlsx of study id, findings, impression).

Columns are found by name (case-insensitive: one holding 'id', one 'finding', one 'impression')
since releases spell them differently. Gives impression targets; split by study id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from training.records import IMPRESSION, Record, SourceError
from training.sources.tabular import layout


def _column(header: list[str], word: str, path: Path) -> int:
    for index, name in enumerate(header):
        if word in name.lower():
            return index
    raise SourceError(path, f"no column containing '{word}' in {header}")


def load(path: Path) -> Iterator[Record]:
    from openpyxl import load_workbook

    files = sorted(path.glob("*.xlsx")) if path.is_dir() else [path]
    for file in files:
        try:
            sheet = load_workbook(file, read_only=True).active
        except Exception as exc:  # openpyxl raises several types for a non-workbook
            raise SourceError(file, f"not an xlsx workbook: {exc}") from None
        table = sheet.iter_rows(values_only=True)
        header = [str(c or "") for c in next(table, ())]
        id_col = _column(header, "id", file)
        findings_col = _column(header, "finding", file)
        impression_col = _column(header, "impression", file)
        for row in table:
            study = str(row[id_col] or "").strip()
            findings = str(row[findings_col] or "").strip()
            impression = str(row[impression_col] or "").strip()
            if not (study and findings and impression):
                continue
            head = [("FINDINGS", findings)]
            text = layout([*head, ("IMPRESSION", impression)])
            yield Record("merlin", study, study, text, {IMPRESSION: impression}, layout(head))
