"""Open-i / Indiana University chest radiographs (../shared/data/openi_reports.csv).

Gives impression targets (findings in, the radiologist's impression out) and the RADS answer
"No applicable RADS": no RADS system covers chest radiographs; reports NIH's gold labels call
normal also get the TNM answer "Not applicable". Split by uid (one per study).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from radlite_fhir.coding import load_code_tables
from training.records import IMPRESSION, RADS, TNM, Record
from training.sources.tabular import layout, rows

COLUMNS = ("uid", "indication", "comparison", "findings", "impression", "normal")


def load(path: Path) -> Iterator[Record]:
    no_rads = load_code_tables().no_applicable_label
    for row in rows(path, COLUMNS):
        head = [
            ("INDICATION", row["indication"]),
            ("COMPARISON", row["comparison"]),
            ("FINDINGS", row["findings"]),
        ]
        text = layout([*head, ("IMPRESSION", row["impression"])])
        if not text:
            continue
        targets: dict[str, object] = {RADS: no_rads}
        if row["normal"] == "1":
            targets[TNM] = {}
        if row["findings"] and row["impression"]:
            targets[IMPRESSION] = row["impression"]
        yield Record("openi", row["uid"], row["uid"], text, targets, findings=layout(head))
