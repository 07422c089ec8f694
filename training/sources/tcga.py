"""TCGA surgical pathology reports with AJCC pathologic T (and N, M where GDC has them).

Gives TNM targets for the axes the metadata knows and "No applicable RADS". The split is by
patient: the TCGA barcode before the first '.' of patient_filename.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from radlite_fhir.coding import load_code_tables
from training.records import RADS, TNM, Record, SourceError
from training.sources.tabular import rows

COLUMNS = ("patient_filename", "T", "ajcc_t", "ajcc_n", "ajcc_m", "text")


def normalise(axis: str, value: str) -> str | None:
    """'T2a' -> 'T2a', 'pT3' -> 'T3', 'N0 (i-)' -> 'N0'; None for blanks and unknown values."""
    match = re.match(rf"^[cp]?({axis}(?:is|[0-4][a-e]?(?:mi)?|x))", value.strip(), re.IGNORECASE)
    if not match:
        return None
    known = {c.lower(): c for c in load_code_tables().tnm_categories(axis)}
    return known.get(match.group(1).lower())


def load(path: Path) -> Iterator[Record]:
    no_rads = load_code_tables().no_applicable_label
    for number, row in enumerate(rows(path, COLUMNS), start=2):
        if not row["text"]:
            continue
        tnm = {}
        for axis, column in (("T", "ajcc_t"), ("N", "ajcc_n"), ("M", "ajcc_m")):
            value = normalise(axis, row[column] or (row["T"] if axis == "T" else ""))
            if value:
                tnm[axis] = value
        if "T" not in tnm:
            raise SourceError(f"{path}:{number}", f"no usable T category in {row['ajcc_t']!r}")
        patient = row["patient_filename"].split(".")[0]
        yield Record(
            "tcga", row["patient_filename"], patient, row["text"], {TNM: tnm, RADS: no_rads}
        )
