"""DICOM write-back of a signed-off review: a new version of the AI result SR, VERIFIED.

The AI SR (writers/dicom_sr.py: TID 1500, UNVERIFIED, PRELIMINARY) is looked for where the
product writes it: beside the enriched Bundle, in the outbox of `radlite watch` with format
sr, in the --out of `radlite convert --format sr` (`SrIndex`); of the SRs in the report's
study, the one with the results the reviewer saw is the predecessor. It stays as it is; the
new instance copies it, applies the decisions (a corrected value replaces the group's coded
value, a rejected result's measurement group or impression is left out), names the clinician
as Verifying Observer, sets VerificationFlag VERIFIED and PreliminaryFlag FINAL, and cites the
AI SR in the Predecessor Documents Sequence. Its UIDs derive from the predecessor and the
sign-off number, so they never collide with the model's.
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
from radlite_fhir.review.vocab import STAGE_GROUP, Action, Group
from radlite_fhir.review.worklist import Item, ReviewReport
from radlite_fhir.writers.dicom_sr import predecessor_reference

MEASUREMENT_GROUP = ("DCM", "125007")
ALGORITHM_PARAMETERS = ("DCM", "111002")
IMAGING_MEASUREMENTS = ("DCM", "126010")
QUALITATIVE_EVALUATIONS = ("UMLS", "C0034375")
VERIFIED_SERIES_NUMBER = 7003
VERIFIED_SERIES_DESCRIPTION = "AI results (radlite-fhir), verified by a clinician"


@dataclass(frozen=True)
class AiSr:
    """An AI result SR (ours, UNVERIFIED) and what identifies its report."""

    path: Path
    sop_uid: str
    study_uid: str
    accession: str
    patient_id: str


@dataclass(frozen=True)
class Fingerprint:
    """What a reviewer saw of a report, as an SR carries it: the coded result labels (RADS,
    TNM), the models that gave them, the impression. An SR from another run (another model,
    other answers) differs, and copying it would verify results nobody reviewed."""

    labels: tuple[str, ...]
    models: frozenset[str]
    impression: str | None


class SrIndex:
    """The AI SRs of some folders (the queue folder, the outbox of `radlite watch --format
    sr`, the --out of `radlite convert --format sr`), read once per (size, mtime): the header
    of every .dcm, the content tree only of those in a reviewed report's study."""

    def __init__(self, folders: tuple[Path, ...], tables: CodeTables) -> None:
        self.folders = folders
        self.tables = tables
        self._heads: dict[Path, tuple[tuple[int, int], AiSr | None]] = {}
        self._prints: dict[Path, tuple[tuple[int, int], Fingerprint | None]] = {}

    def srs(self) -> list[AiSr]:
        out = []
        for folder in self.folders:
            for path in sorted(folder.glob("*.dcm")):
                found = self._head(path)
                if found is not None:
                    out.append(found)
        return out

    def fingerprint(self, sr: AiSr) -> Fingerprint | None:
        stamp = _stamp(sr.path)
        cached = self._prints.get(sr.path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            from pydicom import dcmread

            found: Fingerprint | None = sr_fingerprint(self.tables, dcmread(sr.path))
        except (OSError, ValueError, AttributeError, KeyError, IndexError):
            found = None  # unreadable or not the shape our writer makes: not a predecessor
        self._prints[sr.path] = (stamp, found)
        return found

    def _head(self, path: Path) -> AiSr | None:
        from pydicom import dcmread
        from pydicom.errors import InvalidDicomError

        stamp = _stamp(path)
        cached = self._heads.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        found = None
        try:
            head = dcmread(path, stop_before_pixels=True, specific_tags=HEAD_TAGS)
            config = self.tables.dicom_sr
            if (
                head.get("Manufacturer") == config["manufacturer"]
                and head.get("VerificationFlag") == "UNVERIFIED"
                and head.get("SeriesNumber") == int(config["series_number"])
            ):  # the AI result SR's series; not an enriched SR (`.enriched.dcm`, 7002)
                found = AiSr(
                    path,
                    str(head.SOPInstanceUID),
                    str(head.StudyInstanceUID),
                    str(head.get("AccessionNumber") or ""),
                    str(head.get("PatientID") or ""),
                )
        except (InvalidDicomError, OSError, ValueError, AttributeError):
            found = None
        self._heads[path] = (stamp, found)
        return found


HEAD_TAGS = [
    "Manufacturer",
    "SeriesNumber",
    "VerificationFlag",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "AccessionNumber",
    "PatientID",
]


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


def index_ai_srs(folder: Path, tables: CodeTables | None = None) -> list[AiSr]:
    """The AI result SRs (our series) among one folder's DICOM files."""
    from radlite_fhir.coding import load_code_tables

    return SrIndex((folder,), tables or load_code_tables()).srs()


def sr_fingerprint(tables: CodeTables, sr: Any) -> Fingerprint:
    """The fingerprint of an AI SR's content tree (TID 1500 as writers/dicom_sr.py writes)."""
    labels, models, impression = [], set(), None
    for container in sr.ContentSequence:
        concept = _concept(container)
        if concept == IMAGING_MEASUREMENTS:
            for group in container.get("ContentSequence", []):
                if _concept(group) != MEASUREMENT_GROUP:
                    continue
                value = next(c for c in group.ContentSequence if c.ValueType == "CODE")
                labels.append(_label(tables, value.ConceptCodeSequence[0]))
                for child in group.ContentSequence:
                    if _concept(child) == ALGORITHM_PARAMETERS:
                        key, _, text = str(child.TextValue).partition("=")
                        if key == "sha256":
                            models.add(text)
        elif concept == QUALITATIVE_EVALUATIONS:
            texts = [c for c in container.get("ContentSequence", []) if c.ValueType == "TEXT"]
            impression = str(texts[0].TextValue) if texts else None
    return Fingerprint(tuple(sorted(labels)), frozenset(models), impression)


def report_fingerprint(report: ReviewReport) -> Fingerprint:
    """The fingerprint the AI SR of `report` has when the same run wrote both."""
    coded = [i for i in report.items if _in_sr(i)]
    impression = next((i.label for i in report.items if i.group is Group.IMPRESSION), None)
    return Fingerprint(
        tuple(sorted(i.label for i in coded)),
        frozenset(i.model_sha256 for i in coded if i.model_sha256),
        impression,
    )


def _in_sr(item: Item) -> bool:
    """Whether the AI SR codes the result: RADS and T/N/M, not the stage group
    (writers/dicom_sr.py does not write it), so a stage group neither enters the fingerprint
    nor changes the verified SR's content."""
    return item.group is Group.RADS or (item.group is Group.TNM and item.system != STAGE_GROUP)


def _label(tables: CodeTables, code: Any) -> str:
    from radlite_fhir.coding import DicomCode

    value = str(code.get("CodeValue") or code.get("LongCodeValue") or "")
    found = tables.label_of_dicom_value(
        DicomCode(value, str(code.CodingSchemeDesignator), str(code.CodeMeaning), None)
    )
    return found or f"{code.CodingSchemeDesignator}:{value}"


def find_predecessor(report: ReviewReport, index: SrIndex) -> AiSr | None:
    """The AI SR of `report`: in its study (the report's study UID, or the one
    writers/dicom_sr.py derives from the source digest when the report names none; else the
    same accession number and patient), with the fingerprint of what the reviewer saw. Of
    several (the same SR in two folders, equal answers of two runs), the one named after the
    enriched Bundle (`<base>.sr.dcm`, `<base>.<n>.sr.dcm`), then the newest."""
    from pydicom.uid import generate_uid

    srs = index.srs()
    study = report.study_uid or generate_uid(
        entropy_srcs=["radlite-fhir study", report.source_digest]
    )
    candidates = [s for s in srs if s.study_uid == study]
    if not candidates and report.accession:
        subject = report.subject or {}
        patient = (subject.get("identifier") or {}).get("value") or (
            subject.get("reference") or ""
        ).rsplit("/", 1)[-1]
        candidates = [
            s for s in srs if s.accession == report.accession[:16] and s.patient_id == patient[:64]
        ]
    wanted = report_fingerprint(report)
    if not wanted.labels and wanted.impression is None:
        return None  # the SR writer writes no SR without a coded result or an impression
    matching = [s for s in candidates if index.fingerprint(s) == wanted]
    if not matching:
        return None
    base = report.path.name.removesuffix(".enriched.json")
    names = {f"{base}.sr.dcm", f"{base}.{report.index + 1}.sr.dcm"}
    return max(matching, key=lambda s: (s.path.name in names, _stamp(s.path)[1]))


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
        elif _in_sr(item):
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
