"""RXL-RADSet (the RadLite authors' 1,600 synthetic multi-RADS reports, CC BY-NC-SA 4.0).

Its public metadata.csv has Report_Number, Modality, Profile, RADS_score; the report text is
given on request, one file per report named by Report_Number (.txt, found anywhere under the
folder). The RADS system is coded in the report number (R001_B_MG: BI-RADS); the codes are
data in rxl_radset.yaml. Split by report number (the reports are synthetic, one per patient).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import yaml

from radlite_fhir.coding import load_code_tables
from training.records import RADS, Record, SourceError
from training.sources.tabular import rows

COLUMNS = ("Report_Number", "RADS_score")


@cache
def system_codes() -> dict[str, str]:
    return yaml.safe_load((Path(__file__).with_name("rxl_radset.yaml")).read_text("utf-8"))


def label(report_number: str, score: str) -> str:
    """'R005_B_MG', '4A' -> 'BI-RADS 4A'; LI-RADS TR 'Nonviable' -> 'LI-RADS TR Nonviable'."""
    parts = [p for p in re.split(r"_", report_number) if p]
    codes = {k.lower(): v for k, v in system_codes().items()}
    system = next((codes[p.lower()] for p in parts[1:] if p.lower() in codes), None)
    if system is None:
        raise ValueError(f"no RADS system code in report number {report_number!r}")
    text = f"{system} {score}"
    if load_code_tables().rads_category(text) is None:
        raise ValueError(f"{text!r} is not a category of mappings/rads.yaml")
    return load_code_tables().rads_category(text).label


def load(path: Path) -> Iterator[Record]:
    folder = path if path.is_dir() else path.parent
    metadata = folder / "metadata.csv" if path.is_dir() else path
    texts = {p.stem.lower(): p for p in folder.rglob("*.txt")}
    for number, row in enumerate(rows(metadata, COLUMNS), start=2):
        report_id = row["Report_Number"]
        report_file = texts.get(report_id.lower())
        if report_file is None:
            continue  # text not supplied for this report: metadata alone trains nothing
        try:
            gold = label(report_id, row["RADS_score"])
        except ValueError as exc:
            raise SourceError(f"{metadata}:{number}", str(exc)) from None
        text = report_file.read_text("utf-8").strip()
        if text:
            yield Record("rxl-radset", report_id, report_id, text, {RADS: gold})
