"""DICOM write-back of a signed-off review: a new version of the AI result SR, VERIFIED.

The AI SR (writers/dicom_sr.py: TID 1500, UNVERIFIED, PRELIMINARY) found beside the enriched
Bundle stays as it is; the new instance copies it, applies the decisions (a corrected value
replaces the group's coded value, a rejected result's measurement group or impression is left
out), names the clinician as Verifying Observer, sets VerificationFlag VERIFIED and
PreliminaryFlag FINAL, and cites the AI SR in the Predecessor Documents Sequence. Its UIDs
derive from the predecessor and the sign-off number, so they never collide with the model's.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from radlite_fhir.coding import CodeTables
from radlite_fhir.review.auth import Reviewer
from radlite_fhir.review.store import Decision
from radlite_fhir.review.vocab import Action, Group
from radlite_fhir.review.worklist import Item, ReviewReport
from radlite_fhir.writers.dicom_sr import predecessor_reference

MEASUREMENT_GROUP = ("DCM", "125007")
IMAGING_MEASUREMENTS = ("DCM", "126010")
QUALITATIVE_EVALUATIONS = ("UMLS", "C0034375")
VERIFIED_SERIES_NUMBER = 7003
VERIFIED_SERIES_DESCRIPTION = "AI results (radlite-fhir), verified by a clinician"


@dataclass(frozen=True)
class AiSr:
    """An AI result SR of the queue folder and what identifies its report."""

    path: Path
    study_uid: str
    accession: str
    patient_id: str


def index_ai_srs(folder: Path) -> list[AiSr]:
    """The AI result SRs (our series) among the folder's DICOM files."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    out = []
    for path in sorted(folder.glob("*.dcm")):
        try:
            head = dcmread(path, stop_before_pixels=True, specific_tags=None)
        except (InvalidDicomError, OSError, ValueError):
            continue
        if head.get("Manufacturer") != "radlite-fhir" or head.get("VerificationFlag") != (
            "UNVERIFIED"
        ):
            continue
        out.append(
            AiSr(
                path,
                str(head.StudyInstanceUID),
                str(head.get("AccessionNumber") or ""),
                str(head.get("PatientID") or ""),
            )
        )
    return out


def find_predecessor(report: ReviewReport, srs: list[AiSr]) -> AiSr | None:
    """The AI SR of `report`: the same study UID (the report's, or the one writers/dicom_sr.py
    derives from the source digest when the report names none), else the same accession
    number and patient."""
    from pydicom.uid import generate_uid

    study = report.study_uid or generate_uid(
        entropy_srcs=["radlite-fhir study", report.source_digest]
    )
    match = [s for s in srs if s.study_uid == study]
    if match:
        return match[-1]
    subject = report.subject or {}
    patient = (subject.get("identifier") or {}).get("value") or (
        subject.get("reference") or ""
    ).rsplit("/", 1)[-1]
    if report.accession:
        match = [
            s for s in srs if s.accession == report.accession[:16] and s.patient_id == patient[:64]
        ]
        if match:
            return match[-1]
    return None


def verified_sr_bytes(
    tables: CodeTables,
    report: ReviewReport,
    predecessor: Path,
    decisions: dict[str, Decision],
    reviewer: Reviewer,
    sequence: int,
    when: datetime | None = None,
) -> bytes:
    from pydicom import dcmwrite

    buffer = io.BytesIO()
    dataset = build_verified_sr(tables, report, predecessor, decisions, reviewer, sequence, when)
    dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()


def build_verified_sr(
    tables: CodeTables,
    report: ReviewReport,
    predecessor: Path,
    decisions: dict[str, Decision],
    reviewer: Reviewer,
    sequence: int,
    when: datetime | None = None,
) -> Any:
    from pydicom import dcmread
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    original = dcmread(predecessor)
    sr = copy.deepcopy(original)
    when = when or datetime.now().astimezone()
    sop_uid = generate_uid(
        entropy_srcs=["radlite-fhir verified sr", original.SOPInstanceUID, str(sequence)]
    )
    sr.SOPInstanceUID = sr.file_meta.MediaStorageSOPInstanceUID = sop_uid
    sr.SeriesInstanceUID = generate_uid(
        entropy_srcs=["radlite-fhir verified series", original.SeriesInstanceUID]
    )
    sr.SeriesNumber = VERIFIED_SERIES_NUMBER
    sr.SeriesDescription = VERIFIED_SERIES_DESCRIPTION
    sr.InstanceNumber = sequence
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    for prefix in ("Content", "InstanceCreation", "Series"):
        setattr(sr, f"{prefix}Date", date)
        setattr(sr, f"{prefix}Time", time)
    sr.VerificationFlag, sr.PreliminaryFlag, sr.CompletionFlag = "VERIFIED", "FINAL", "COMPLETE"
    observer = Dataset()
    observer.VerifyingObserverName = _person_name(reviewer.name)
    observer.VerifyingOrganization = tables.dicom_sr["manufacturer"] + " review"
    observer.VerificationDateTime = date + time
    identification = Dataset()
    identification.CodeValue = reviewer.username[:16]
    identification.CodingSchemeDesignator = tables.dicom_sr["private_designator"]
    identification.CodeMeaning = reviewer.name[:64]
    observer.VerifyingObserverIdentificationCodeSequence = [identification]
    sr.VerifyingObserverSequence = [observer]
    sr.PredecessorDocumentsSequence = [predecessor_reference(original)]
    _apply(tables, sr, report, decisions)
    return sr


def _person_name(name: str) -> str:
    """'Jane Doe' -> 'Doe^Jane' (DICOM PN: family^given)."""
    parts = name.split()
    if len(parts) < 2:
        return name[:64]
    return f"{parts[-1]}^{' '.join(parts[:-1])}"[:64]


def _concept(item: Any) -> tuple[str, str] | None:
    sequence = item.get("ConceptNameCodeSequence")
    if not sequence:
        return None
    code = sequence[0]
    value = code.get("CodeValue") or code.get("LongCodeValue") or ""
    return (str(code.CodingSchemeDesignator), str(value))


def _apply(
    tables: CodeTables, sr: Any, report: ReviewReport, decisions: dict[str, Decision]
) -> None:
    """Apply the decisions to the copied content tree: coded results are matched to their
    Observation by concept name (the same code tables name both)."""
    by_concept: dict[tuple[str, str], tuple[Item, Decision]] = {}
    impression: tuple[Item, Decision] | None = None
    for item in report.items:
        decision = decisions.get(item.key)
        if decision is None:
            continue
        if item.group is Group.IMPRESSION:
            impression = (item, decision)
        elif item.group in (Group.RADS, Group.TNM):
            code = tables.dicom_code(item.resource["code"]["coding"], item.heading)
            by_concept[(code.scheme, code.value)] = (item, decision)
    for container in sr.ContentSequence:
        concept = _concept(container)
        if concept == IMAGING_MEASUREMENTS:
            kept = []
            for group in container.get("ContentSequence", []):
                if _concept(group) != MEASUREMENT_GROUP:
                    kept.append(group)
                    continue
                value = next(c for c in group.ContentSequence if c.ValueType == "CODE")
                match = by_concept.get(_concept(value) or ("", ""))
                if match and match[1].action is Action.REJECT:
                    continue
                if match and match[1].action is Action.CORRECT and match[1].value:
                    value.ConceptCodeSequence = [_value_code(tables, match[0], match[1].value)]
                kept.append(group)
            container.ContentSequence = kept
        elif concept == QUALITATIVE_EVALUATIONS and impression is not None:
            _, decision = impression
            items = list(container.get("ContentSequence", []))
            text_items = [c for c in items if c.ValueType == "TEXT"]
            if decision.action is Action.REJECT:
                container.ContentSequence = [c for c in items if c.ValueType != "TEXT"]
            elif decision.action is Action.CORRECT and decision.value and text_items:
                text_items[0].TextValue = decision.value.strip()
    sr.ContentSequence = [
        c
        for c in sr.ContentSequence
        if not (_concept(c) == QUALITATIVE_EVALUATIONS and not c.get("ContentSequence"))
    ]


def _value_code(tables: CodeTables, item: Item, label: str) -> Any:
    from highdicom.sr import CodedConcept

    if item.group is Group.RADS:
        category = tables.rads_category(label)
        if category is None:
            raise ValueError("the corrected RADS label is not in the code table")
        code = tables.dicom_code(tables.rads_value(category), category.display)
    else:
        code = tables.dicom_code(tables.tnm_value(label), label)
    return CodedConcept(code.value, code.scheme, code.meaning, code.version)
