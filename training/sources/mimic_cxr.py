"""MIMIC-CXR: the sectioned reports CSV (create_section_files.py: study, impression, findings,
last_paragraph, comparison) with the CheXbert/CheXpert label CSV (subject_id, study_id and the
14 findings: 1.0 positive, 0.0 negative, -1.0 uncertain, blank not mentioned).

Gives impression targets (findings in) and abnormality targets (blank counts as negative, as
the label set has no 'not mentioned'). Split by subject where the label CSV names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from training.records import ABNORMALITY, IMPRESSION, Record, SourceError
from training.sources.tabular import layout, rows

SECTION_COLUMNS = ("study", "impression", "findings")
FINDINGS = (
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Fracture",
    "Lung Lesion",
    "Lung Opacity",
    "Pleural Effusion",
    "Pleural Other",
    "Pneumonia",
    "Pneumothorax",
    "Support Devices",
    "No Finding",
)
VALUES = {
    "1.0": "positive",
    "1": "positive",
    "0.0": "negative",
    "0": "negative",
    "-1.0": "uncertain",
    "-1": "uncertain",
    "": "negative",
}


def _study(value: str) -> str:
    return value if value.startswith("s") else f"s{value}"


def _labels(path: Path) -> dict[str, tuple[str, dict[str, str]]]:
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for number, row in enumerate(rows(path, ("subject_id", "study_id", *FINDINGS)), start=2):
        try:
            labels = {name.lower(): VALUES[row[name]] for name in FINDINGS}
        except KeyError as exc:
            raise SourceError(f"{path}:{number}", f"label value {exc} not 1/0/-1/blank") from None
        found[_study(row["study_id"])] = (f"p{row['subject_id']}", labels)
    return found


def load(path: Path) -> Iterator[Record]:
    folder = path if path.is_dir() else path.parent
    sectioned = next(iter(sorted(folder.glob("*section*.csv"))), None)
    if sectioned is None:
        raise SourceError(folder, "no sectioned reports CSV (*section*.csv)")
    label_file = next(iter(sorted(folder.glob("*che*.csv"))), None)
    labels = _labels(label_file) if label_file else {}
    for row in rows(sectioned, SECTION_COLUMNS):
        study = _study(row["study"])
        subject, found = labels.get(study, (study, None))
        head = [("COMPARISON", row.get("comparison", "")), ("FINDINGS", row["findings"])]
        text = layout([*head, ("IMPRESSION", row["impression"])])
        if not text:
            continue
        targets: dict[str, object] = {}
        if row["findings"] and row["impression"]:
            targets[IMPRESSION] = row["impression"]
        if found is not None:
            targets[ABNORMALITY] = found
        yield Record("mimic-cxr", study, subject, text, targets, findings=layout(head))
