"""Source SR files of every flavour a PACS or RIS sends, built with pydicom for the tests.

A TID 2000-like tree: an observer (PNAME), section containers coded by LOINC or by the older
DCM codes, TEXT items, and, where the flavour allows them, CODE, NUM and DATE items and a
by-reference item.
"""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

BASIC_TEXT = "1.2.840.10008.5.1.4.1.1.88.11"
ENHANCED = "1.2.840.10008.5.1.4.1.1.88.22"
COMPREHENSIVE = "1.2.840.10008.5.1.4.1.1.88.33"
COMPREHENSIVE_3D = "1.2.840.10008.5.1.4.1.1.88.34"
FLAVOURS = {
    "basic-text": BASIC_TEXT,
    "enhanced": ENHANCED,
    "comprehensive": COMPREHENSIVE,
    "comprehensive-3d": COMPREHENSIVE_3D,
}
SECTION_CODES = {
    "LN": {"findings": ("59776-5", "Findings"), "impression": ("19005-8", "Impressions")},
    "DCM": {"findings": ("121070", "Findings"), "impression": ("121072", "Impressions")},
}
ITEM_CODES = {"findings": ("121071", "Finding"), "impression": ("121073", "Impression")}


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
    return code


def _item(value_type: str, relationship: str, name: tuple[str, str, str]) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = relationship, value_type
    item.ConceptNameCodeSequence = [_code(*name)]
    return item


def _text(text: str, key: str) -> Dataset:
    code, meaning = ITEM_CODES[key]
    item = _item("TEXT", "CONTAINS", (code, "DCM", meaning))
    item.TextValue = text
    return item


def make_sr(
    path: Path,
    sections: dict[str, str],
    flavour: str = "basic-text",
    scheme: str = "LN",
    study_uid: str | None = None,
    extras: bool = True,
) -> Path:
    """Write an SR carrying `sections` (findings/impression -> text, one TEXT item per line)."""
    sop_class = FLAVOURS[flavour]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(
        entropy_srcs=[str(path.name), flavour, scheme, *sections.values()]
    )
    ds.StudyInstanceUID = study_uid or generate_uid(entropy_srcs=["study", *sections.values()])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["series", ds.SOPInstanceUID])
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "SR", 1, 1
    ds.PatientID, ds.PatientName = "MRN-00042", "Synthetic^Jane"
    ds.PatientBirthDate, ds.PatientSex = "19700101", "F"
    ds.AccessionNumber, ds.StudyID = "ACC-77", "S1"
    ds.StudyDate, ds.StudyTime = "20261120", "101500"
    ds.ContentDate, ds.ContentTime = "20261120", "103000"
    ds.ReferringPhysicianName = "Referrer^Rita"
    ds.Manufacturer = "Synthetic RIS"
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = [_code("18748-4", "LN", "Diagnostic Imaging Report")]
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.PerformedProcedureCodeSequence = []
    ds.ReferencedPerformedProcedureStepSequence = []
    observer = _item("PNAME", "HAS OBS CONTEXT", ("121008", "DCM", "Person Observer Name"))
    observer.PersonName = "Reader^Rob"
    content = [observer]
    for key, text in sections.items():
        code, meaning = SECTION_CODES[scheme][key]
        container = _item("CONTAINER", "CONTAINS", (code, scheme, meaning))
        container.ContinuityOfContent = "SEPARATE"
        container.ContentSequence = [_text(line, key) for line in text.splitlines() if line]
        content.append(container)
    if extras and flavour != "basic-text":  # CODE, NUM, DATE and by-reference items
        findings = content[1]
        site = _item("CODE", "CONTAINS", ("363698007", "SCT", "Finding Site"))
        site.ConceptCodeSequence = [_code("76752008", "SCT", "Breast")]
        size = _item("NUM", "CONTAINS", ("410668003", "SCT", "Length"))
        measured = Dataset()
        measured.NumericValue = "14"
        measured.MeasurementUnitsCodeSequence = [_code("mm", "UCUM", "millimeter")]
        size.MeasuredValueSequence = [measured]
        date = _item("DATE", "CONTAINS", ("111060", "DCM", "Study Date"))
        date.Date = "20250912"
        findings.ContentSequence.extend([site, size, date])
        if flavour in ("comprehensive", "comprehensive-3d"):
            by_reference = Dataset()
            by_reference.RelationshipType = "INFERRED FROM"
            by_reference.ReferencedContentItemIdentifier = [1, 2, 1]
            content[-1].ContentSequence.append(by_reference)
    ds.ContentSequence = content
    path.parent.mkdir(parents=True, exist_ok=True)
    dcmwrite(path, ds, enforce_file_format=True)
    return path
