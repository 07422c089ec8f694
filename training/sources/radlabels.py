"""radlabels 0.2.0 samples (PyPI, MIT): 1,000 synthetic MIMIC-style chest radiograph reports
(synthetic_reports/*.txt) with certainty labels per finding (synthetic_labels.json).

Gives abnormality targets over the 14 CheXpert findings RadLite's prompt lists, mapped by
name; support devices from the tube/line labels; unmentioned findings count as negative.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from training.records import ABNORMALITY, Record, SourceError
from training.sources.mimic_cxr import FINDINGS

CERTAINTY = {
    "definitely present": "positive",
    "definitely absent": "negative",
    "uncertain": "uncertain",
}
DEVICES = ("tube", "line", "catheter", "drain", "pacemaker", "device", "wire", "port")
# radlabels finding names whose CheXpert name differs
SYNONYMS = {
    "pulmonary_edema": "edema",
    "pleural_effusion": "pleural effusion",
    "enlarged_cardiomediastinum": "enlarged cardiomediastinum",
    "lung_lesion": "lung lesion",
    "lung_opacity": "lung opacity",
}
RANK = {"negative": 0, "uncertain": 1, "positive": 2}


def _finding(name: str) -> str | None:
    names = {f.lower() for f in FINDINGS}
    mapped = SYNONYMS.get(name, name.replace("_", " "))
    if mapped in names:
        return mapped
    if any(word in name for word in DEVICES):
        return "support devices"
    return None


def load(path: Path) -> Iterator[Record]:
    folder = path / "samples" if (path / "samples").is_dir() else path
    label_file = folder / "synthetic_labels.json"
    if not label_file.is_file():
        raise SourceError(folder, "no synthetic_labels.json")
    labels = json.loads(label_file.read_text("utf-8"))
    for report_id in sorted(labels):
        report = folder / "synthetic_reports" / f"{report_id}.txt"
        if not report.is_file():
            raise SourceError(report, "labelled report has no text file")
        found = {f.lower(): "negative" for f in FINDINGS}
        for name, certainty in labels[report_id].items():
            finding = _finding(name)
            status = CERTAINTY.get(certainty)
            if finding is None or status is None:
                continue
            if RANK[status] > RANK[found[finding]]:
                found[finding] = status
        if all(v == "negative" for k, v in found.items() if k != "no finding"):
            found["no finding"] = "positive"
        text = report.read_text("utf-8").strip()
        yield Record("radlabels", report_id, report_id, text, {ABNORMALITY: found})
