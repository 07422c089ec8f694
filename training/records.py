"""The common shape every loader and the synthetic generator produce.

A `Record` is one report (or one NLI pair) with the gold answers its source provides, keyed
by product task. `group` is what the held-out split is drawn by (the patient where the source
names one, else the report id), so no patient's reports sit on both sides of the split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Gold answer keys. The first four are the product's structured tasks; the others exist only in
# RadLite's published prompt set and train the radlite profile.
RADS = "rads"  # str: a label of mappings/rads.yaml or "No applicable RADS"
TNM = "tnm"  # dict axis -> category ("T2"); axes the source does not know are absent
NER = "ner"  # list[tuple[kind, text]]: kind in anatomy / observation_present|absent|uncertain
IMPRESSION = "impression"  # str: the radiologist's impression
NLI = "nli"  # str: entailment / contradiction / neutral (text holds premise and hypothesis)
ABNORMALITY = "abnormality"  # dict finding -> positive / negative / uncertain
# dict: system (a RadsSystem value), lesions (each lesion's feature record in the table's
# terms: what the report states), answers (one per stated feature: lesion index, field, value,
# quote = the report's words that state it, start = where they stand). Becomes one feature
# question per answer (radlite_fhir.tasks.rads_features), only where a recipe selects it.
RADS_FEATURES = "rads_features"
TARGETS = (RADS, TNM, NER, IMPRESSION, NLI, ABNORMALITY, RADS_FEATURES)


@dataclass(frozen=True)
class Record:
    """One source item: the text a model reads and the gold answers for it."""

    source: str
    record_id: str
    group: str
    text: str
    targets: dict[str, Any] = field(default_factory=dict)
    # The text shown for impression generation when it differs from `text` (the report with
    # its impression removed, so the model cannot copy the answer).
    findings: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.targets) - set(TARGETS)
        if unknown:
            raise ValueError(f"{self.source}:{self.record_id}: unknown targets {sorted(unknown)}")


class SourceError(ValueError):
    """A source file that does not have the shape its loader reads; names file and problem."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
