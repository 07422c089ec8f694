"""The two internal records every reader and writer agree on: `Report` in, `Findings` out.

Readers know formats, writers know formats, tasks know models; only these types pass between
them, so a new input or output format never touches the pipeline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Section:
    """A headed part of the report text; `start`/`end` are offsets into `Report.text`."""

    key: str
    heading: str
    start: int
    end: int


@dataclass(frozen=True)
class DicomSource:
    """The DICOM identity of an SR input: what a result SR needs to join the same study and to
    list the source as evidence. Empty strings where the source leaves a type 2 element
    empty."""

    sop_class_uid: str
    sop_instance_uid: str
    series_uid: str
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_time: str = ""
    study_id: str = ""
    referring_physician: str = ""


@dataclass(frozen=True)
class Report:
    """One radiology report as text plus the identity needed to write results back.

    `source_reference` and `subject` are FHIR Reference objects (JSON) that resolve outside the
    output Bundle (a literal `Type/id` or a logical reference by identifier); `source_digest`
    is the sha256 of the source resource's canonical JSON (of the file's bytes for DICOM), the
    input part of every identifier. `dicom` is set for DICOM SR inputs; `source_resource` is
    the DiagnosticReport as read, for writing it back enriched.
    """

    text: str
    source_path: str
    source_reference: dict[str, Any] | None = None
    source_format: str = "fhir"
    subject: dict[str, Any] | None = None
    study_uid: str | None = None
    accession: str | None = None
    code_text: str | None = None
    sections: tuple[Section, ...] = ()
    source_digest: str = ""
    dicom: DicomSource | None = None
    source_resource: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def section_text(self, *keys: str) -> str | None:
        """Text of the first present section among `keys`, or None."""
        for key in keys:
            for section in self.sections:
                if section.key == key:
                    return self.text[section.start : section.end].strip()
        return None

    def section_span(self, key: str) -> tuple[int, int] | None:
        for section in self.sections:
            if section.key == key:
                return section.start, section.end
        return None


def digest(data: bytes | str) -> str:
    """sha256 hex of bytes or UTF-8 text: the identity of inputs in identifiers."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class Origin(StrEnum):
    """Where a result's value came from."""

    MODEL = "model"
    TEXT = "explicit-statement"
    MODEL_AND_TEXT = "model-confirmed-by-text"
    GUIDELINE = "guideline-computed"  # a decision table applied to features the text states


class Status(StrEnum):
    """Whether a result is codable."""

    CODED = "coded"
    UNPARSEABLE = "unparseable"
    NOT_APPLICABLE = "not-applicable"
    UNGROUNDED = "ungrounded"
    SKIPPED = "skipped"
    LOW_CONFIDENCE = "low-confidence"


# The result kind of the QA flag raised when a stated RADS category differs from the category
# the findings support (tasks/rads_policy.py writes it, the writers code it).
RADS_DISCORDANCE = "rads-discordance"


@dataclass(frozen=True)
class Evidence:
    """The text span a result rests on: offsets into `Report.text`, and that text.

    `kind` is "statement" (an explicit statement the rules found), "mention" (an entity the
    model named, found in the text), "findings" (the description of the lesion whose features
    decided a guideline-computed category) or "model-input" (the span the model read: the
    answer rests on the whole of it, so writers give offsets only, not a copy of the report).
    """

    start: int
    end: int
    text: str
    kind: str = "statement"


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced an answer: enough to reproduce it and to audit it."""

    name: str
    sha256: str
    version: str
    profile: str
    prompt_version: str
    adapter_sha256: str | None = None


@dataclass(frozen=True)
class TaskResult:
    """One result of one task on one report.

    `kind` names what it is (rads, T, N, M, impression, entity:<type>); `value` is the
    normalised label ("BI-RADS 4B", "cN1", an impression text, an entity text); `status` says
    whether it may be coded. `raw_answer` keeps the model's text for review.
    """

    task: str
    kind: str
    value: str | None
    status: Status
    origin: Origin
    evidence: Evidence | None = None
    raw_answer: str | None = None
    model: ModelInfo | None = None
    confidence: float | None = None
    conflict: str | None = None
    item_key: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskTiming:
    """Cost of one model call: prompt tokens read (after KV reuse) and time reading them,
    tokens generated and time writing them."""

    task: str
    model: str
    prompt_tokens: int
    evaluated_prompt_tokens: int
    completion_tokens: int
    prompt_seconds: float
    decode_seconds: float

    @property
    def seconds(self) -> float:
        return self.prompt_seconds + self.decode_seconds


@dataclass(frozen=True)
class Findings:
    """Everything the pipeline concluded about one report."""

    report: Report
    results: tuple[TaskResult, ...]
    timings: tuple[TaskTiming, ...] = ()
