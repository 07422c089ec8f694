"""DICOM SR output: a Comprehensive 3D SR with a TID 1500 Measurement Report root (IHE AIR).

One measurement group (TID 1501) per coded result, its value a QualitativeEvaluation (RADS
assessment, cT/cN/cM category), with the algorithm (TID 4019: model name, version, sha256,
prompt profile and version) and a tracking identifier (UID and the result's key). The device
observer is the model. The generated impression is a TEXT item in the report's Qualitative
Evaluations container, the one place TID 1500 allows free text about the whole report.
Entities are not written: they have no coded value.

The SR joins the source's study in a new series marked as AI output, UNVERIFIED and
PRELIMINARY. An SR source is listed as evidence; a FHIR source has no DICOM instance to cite,
so the SR carries its patient, study UID and accession only (and a study UID derived from the
report when it has none). UIDs derive from the source, the models and the prompt versions, so
re-processing gives the same UIDs; with `recorded` the content dates are fixed too and the
bytes repeat.

Text is written as the standard allows it (dicom_text): an SR with any non-ASCII text declares
Specific Character Set "ISO_IR 192" and reads back equal; control characters a VR forbids
(NUL, ESC, ...) are dropped rather than written into an invalid file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from radlite_fhir import __version__
from radlite_fhir.coding import CodeTables, DicomCode, load_code_tables
from radlite_fhir.errors import NotEnrichable
from radlite_fhir.report import (
    DicomSource,
    Findings,
    ModelInfo,
    Origin,
    Report,
    Status,
    TaskResult,
    digest,
)
from radlite_fhir.writers.dicom_text import declare_character_set, fit

CODED_KINDS = ("rads", "T", "N", "M")
COMPREHENSIVE = "1.2.840.10008.5.1.4.1.1.88.33"
COMPREHENSIVE_3D = "1.2.840.10008.5.1.4.1.1.88.34"
IMAGING_MEASUREMENTS = ("126010", "DCM")


class NothingToWrite(ValueError):
    """The findings hold nothing an SR can carry (no coded result, no impression)."""


RULES_ALGORITHM = "radlite-fhir explicit-statement rules"
GUIDELINE_ALGORITHM = "radlite-fhir RADS decision tables"


def sr_bytes(findings: Findings, recorded: str | None = None) -> bytes:
    """The Part 10 file of the result SR for one report."""
    from pydicom import dcmwrite

    buffer = io.BytesIO()
    dcmwrite(buffer, build_sr(findings, recorded), enforce_file_format=True)
    return buffer.getvalue()


def build_sr(findings: Findings, recorded: str | None = None) -> Any:
    """The highdicom Comprehensive3DSR of one report's findings."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    tables = load_code_tables()
    config = tables.dicom_sr
    report = findings.report
    models = _models(findings)
    source = _source(report)
    sop_uid = generate_uid(
        entropy_srcs=[
            "radlite-fhir sr",
            report.source_digest,
            *(m.sha256 for m in models),
            *(m.adapter_sha256 or "" for m in models),
            *(m.prompt_version for m in models),
        ]
    )
    observer = models[0] if models else None
    device = hd.sr.DeviceObserverIdentifyingAttributes(
        uid=generate_uid(entropy_srcs=["radlite-fhir device", observer.sha256 if observer else ""]),
        name=observer.name if observer else RULES_ALGORITHM,
        manufacturer_name=config["manufacturer"],
        model_name=f"{observer.name} {observer.version}"[:64] if observer else __version__,
    )
    groups = [_group(tables, result, sop_uid) for result in _coded_results(findings)]
    impression = _impression(findings)
    if not groups and not impression:
        raise NothingToWrite("no coded result and no impression: no SR written")
    content = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_device_context=hd.sr.ObserverContext(
                observer_type=hd.sr.CodedConcept("121007", "DCM", "Device"),
                observer_identifying_attributes=device,
            )
        ),
        procedure_reported=_concept(config["procedure_reported"]),
        # highdicom insists on one group (TID 1500 asks for row 8, 10 or 12): an
        # impression-only report gets a placeholder, removed below.
        imaging_measurements=groups or [_placeholder_group()],
    )
    if not groups:
        root = content[0].ContentSequence
        root.pop(next(i for i, item in enumerate(root) if _is_imaging_measurements(item)))
    if impression:
        _add_impression(content, config, impression)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[_evidence(report, source)],
        content=content,
        series_instance_uid=generate_uid(
            entropy_srcs=["radlite-fhir series", source["StudyInstanceUID"], *_shas(models)]
        ),
        series_number=int(config["series_number"]),
        sop_instance_uid=sop_uid,
        instance_number=1,
        manufacturer=config["manufacturer"],
        is_complete=True,
        is_final=False,
        is_verified=False,
        series_description=config["series_description"],
    )
    if report.dicom is None:
        # No DICOM instance stands behind a FHIR report: cite none.
        del sr.CurrentRequestedProcedureEvidenceSequence
    sr.SoftwareVersions = __version__
    sr.CodingSchemeIdentificationSequence = [_private_scheme(config)]
    if recorded:
        _fix_dates(sr, datetime.fromisoformat(recorded))
    declare_character_set(sr)
    return sr


def _coded_results(findings: Findings) -> list[TaskResult]:
    """The RADS and TNM results an SR carries as codes."""
    return [
        r
        for r in findings.results
        if r.kind in CODED_KINDS and r.status is Status.CODED and r.value
    ]


def _impression(findings: Findings) -> str | None:
    return next(
        (
            r.value
            for r in findings.results
            if r.kind == "impression" and r.status is Status.CODED and r.value
        ),
        None,
    )


def _models(findings: Findings) -> list[ModelInfo]:
    """The models behind the written results, in order of first use, each once."""
    seen: dict[str, ModelInfo] = {}
    for result in findings.results:
        if result.model is not None and result.status is not Status.SKIPPED:
            seen.setdefault(result.model.sha256, result.model)
    return list(seen.values())


def _shas(models: list[ModelInfo]) -> list[str]:
    return [m.sha256 for m in models]


def _source(report: Report) -> dict[str, str]:
    """Patient and study identity of the source: from the SR, or from the FHIR report."""
    from pydicom.uid import generate_uid

    dicom = report.dicom or DicomSource("", "", "")
    patient_id = dicom.patient_id
    if not patient_id and report.subject:
        identifier = report.subject.get("identifier") or {}
        reference = report.subject.get("reference") or ""
        patient_id = identifier.get("value") or reference.rsplit("/", 1)[-1]
    return {
        "StudyInstanceUID": report.study_uid
        or generate_uid(entropy_srcs=["radlite-fhir study", report.source_digest]),
        "PatientID": fit(patient_id, "LO"),
        "PatientName": dicom.patient_name,
        "PatientBirthDate": dicom.patient_birth_date,
        "PatientSex": dicom.patient_sex,
        "AccessionNumber": fit(report.accession or "", "SH"),
        "StudyID": dicom.study_id,
        "StudyDate": dicom.study_date,
        "StudyTime": dicom.study_time,
        "ReferringPhysicianName": dicom.referring_physician,
    }


def _evidence(report: Report, source: dict[str, str]) -> Any:
    """The dataset highdicom takes patient and study from, and lists as evidence."""
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    evidence = Dataset()
    for keyword, value in source.items():
        setattr(evidence, keyword, value)
    if report.dicom is not None:
        evidence.SOPClassUID = report.dicom.sop_class_uid
        evidence.SOPInstanceUID = report.dicom.sop_instance_uid
        evidence.SeriesInstanceUID = report.dicom.series_uid
    else:  # placeholders for highdicom's bookkeeping; the evidence sequence is removed
        evidence.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
        evidence.SOPInstanceUID = generate_uid(entropy_srcs=[report.source_digest, "fhir"])
        evidence.SeriesInstanceUID = generate_uid(entropy_srcs=[report.source_digest, "series"])
    return evidence


def _concept(entry: dict[str, str]) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(str(entry["code"]), str(entry["scheme"]), str(entry["meaning"]))


def _coded(code: DicomCode) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(code.value, code.scheme, code.meaning, code.version)


def _name_and_value(tables: CodeTables, result: TaskResult) -> tuple[DicomCode, DicomCode]:
    """The QualitativeEvaluation's concept name and value, from the same code tables as the
    FHIR Observation's code and valueCodeableConcept."""
    value = str(result.value)
    if result.kind == "rads":
        category = tables.rads_category(value)
        if category is None:
            raise ValueError(f"coded RADS result with unknown label {value!r}")
        system = tables.rads[category.system]
        return (
            tables.dicom_code(tables.rads_concept(category.system), system.display),
            tables.dicom_code(tables.rads_value(category), category.display),
        )
    pathologic = value.startswith("p")
    return (
        tables.dicom_code(
            tables.tnm_concept(result.kind, pathologic),
            f"{'p' if pathologic else 'c'}{result.kind} category",
        ),
        tables.dicom_code(tables.tnm_value(value), value),
    )


def _group(tables: CodeTables, result: TaskResult, sop_uid: str) -> Any:
    import highdicom as hd
    from pydicom.uid import generate_uid

    name, value = _name_and_value(tables, result)
    key = result.item_key or result.kind
    model = result.model
    if model is not None:
        parameters = [
            f"sha256={model.sha256}",
            f"profile={model.profile}",
            f"prompt={model.prompt_version}",
            f"origin={result.origin.value}",
        ]
        if model.adapter_sha256:
            parameters.append(f"adapter_sha256={model.adapter_sha256}")
        algorithm = hd.sr.AlgorithmIdentification(
            name=model.name[:64], version=model.version[:64], parameters=parameters
        )
    else:
        parameters = [f"origin={result.origin.value}"]
        if result.detail.get("guideline"):
            parameters.append(f"guideline={result.detail['guideline']}")
        algorithm = hd.sr.AlgorithmIdentification(
            name=RULES_ALGORITHM if result.origin is not Origin.GUIDELINE else GUIDELINE_ALGORITHM,
            version=__version__,
            parameters=parameters,
        )
    evaluations, measurements = _feature_items(tables, result)
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=generate_uid(entropy_srcs=[sop_uid, key]), identifier=key
        ),
        algorithm_id=algorithm,
        measurements=measurements or None,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(name=_coded(name), value=_coded(value)),
            *evaluations,
        ],
    )


YES = DicomCode("373066001", "SCT", "Yes")
NO = DicomCode("373067005", "SCT", "No")
MILLIMETRE = DicomCode("mm", "UCUM", "millimeter")


@dataclass(frozen=True)
class _FeatureEntry:
    """One deciding feature as the SR codes it: its concept, its value (a coded term, yes/no,
    or a size in mm) and the report's words that state it."""

    concept: DicomCode
    value: DicomCode | float
    text: str


def _feature_entries(tables: CodeTables, result: TaskResult) -> list[_FeatureEntry]:
    """The deciding features of a guideline-computed category, one entry per value (a list
    of terms gives one each), coded from the same tables as the FHIR Observation's components."""
    system = result.detail.get("system")
    entries: list[_FeatureEntry] = []
    for feature in result.detail.get("features") or []:
        name, value = feature["name"], feature["value"]
        concept = tables.dicom_code(
            tables.rads_feature_concept(system, name),
            name.removesuffix("_mm").replace("_", " "),
        )
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                coded: DicomCode | float = YES if item else NO
            elif isinstance(item, float):
                coded = item
            else:
                coded = tables.dicom_code(
                    tables.rads_feature_value(system, name, str(item)), str(item).replace("_", " ")
                )
            entries.append(_FeatureEntry(concept, coded, feature["text"]))
    return entries


def _feature_items(tables: CodeTables, result: TaskResult) -> tuple[list[Any], list[Any]]:
    """The deciding features of a guideline-computed category: a qualitative evaluation per
    term (yes/no for flags), a measurement in mm per size, each INFERRED FROM the report text
    that states it (the same features as the FHIR Observation's components)."""
    import highdicom as hd
    from highdicom.sr import CodedConcept, RelationshipTypeValues, TextContentItem

    evidence = _concept(tables.dicom_sr["evidence"])
    evaluations: list[Any] = []
    measurements: list[Any] = []
    for entry in _feature_entries(tables, result):
        concept = _coded(entry.concept)
        if isinstance(entry.value, float):
            measurements.append(
                hd.sr.Measurement(
                    name=concept,
                    value=entry.value,
                    unit=CodedConcept("mm", "UCUM", "millimeter"),
                )
            )
            continue
        source = TextContentItem(
            name=evidence,
            value=entry.text,
            relationship_type=RelationshipTypeValues.INFERRED_FROM,
        )
        evaluation = hd.sr.QualitativeEvaluation(name=concept, value=_coded(entry.value))
        evaluation[0].ContentSequence = [source]
        evaluations.append(evaluation)
    return evaluations, measurements


def _enriched_features(tables: CodeTables, result: TaskResult) -> list[Any]:
    """The deciding features under a coded result of the enriched SR's AI findings: a CODE
    item per term and a NUM item in mm per size, each HAS PROPERTIES of the result and INFERRED
    FROM the report's words (the enriched tree is Comprehensive SR, which allows both)."""
    evidence = _code_entry(tables.dicom_sr["evidence"])
    items = []
    for entry in _feature_entries(tables, result):
        if isinstance(entry.value, float):
            item = _content("NUM", "HAS PROPERTIES", entry.concept, millimetres=entry.value)
        else:
            item = _content("CODE", "HAS PROPERTIES", entry.concept, code=entry.value)
        item.ContentSequence = [_content("TEXT", "INFERRED FROM", evidence, text=entry.text)]
        items.append(item)
    return items


def _placeholder_group() -> Any:
    import highdicom as hd

    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="placeholder")
    )


def _is_imaging_measurements(item: Any) -> bool:
    name = item.ConceptNameCodeSequence[0]
    return (name.CodeValue, name.CodingSchemeDesignator) == IMAGING_MEASUREMENTS


def _add_impression(content: Any, config: dict[str, Any], text: str) -> None:
    from highdicom.sr import ContainerContentItem, RelationshipTypeValues, TextContentItem

    container = ContainerContentItem(
        name=_concept(config["qualitative_evaluations"]),
        relationship_type=RelationshipTypeValues.CONTAINS,
    )
    container.ContentSequence = [
        TextContentItem(
            name=_concept(config["impression"]),
            value=text,
            relationship_type=RelationshipTypeValues.CONTAINS,
        )
    ]
    content[0].ContentSequence.append(container)


def _private_scheme(config: dict[str, Any]) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodingSchemeDesignator = config["private_designator"]
    item.CodingSchemeName = config["private_scheme_name"]
    item.CodingSchemeResponsibleOrganization = config["manufacturer"]
    return item


def _fix_dates(sr: Any, when: datetime) -> None:
    """Content, creation and series dates from the processing record, so the bytes repeat."""
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    for prefix in ("Content", "InstanceCreation", "Series"):
        setattr(sr, f"{prefix}Date", date)
        setattr(sr, f"{prefix}Time", time)
    for equipment in sr.get("ContributingEquipmentSequence", []):
        equipment.ContributionDateTime = date + time


def enriched_sr_bytes(findings: Findings, recorded: str | None = None, *, source: bytes) -> bytes:
    """The Part 10 file of a new version of a source SR that carries its whole original
    content plus a container of the AI findings. `source`: the SR's bytes as read (see
    `build_enriched_sr`)."""
    from pydicom import dcmwrite

    buffer = io.BytesIO()
    dcmwrite(buffer, build_enriched_sr(findings, recorded, source=source), enforce_file_format=True)
    return buffer.getvalue()


def _original(report: Report, source: bytes) -> Any:
    """The source SR's dataset, parsed from the bytes the report was read from (the core
    hands them over: a request body has no path, and a file may have changed or moved since
    it was read). They must be the bytes the report was read from (its sha256), or the new
    version would cite one SR and carry another's content."""
    from pydicom import dcmread

    if digest(source) != report.source_digest:
        raise NotEnrichable(
            f"{report.source_path}: the SR bytes given are not the ones the report was read "
            "from (sha256 differs)"
        )
    return dcmread(io.BytesIO(source))


def predecessor_reference(original: Any) -> Any:
    """The Predecessor Documents Sequence item that cites `original` (study, series, instance):
    a new SR version names the one it supersedes."""
    from pydicom.dataset import Dataset

    cited = Dataset()
    cited.StudyInstanceUID = original.StudyInstanceUID
    series = Dataset()
    series.SeriesInstanceUID = original.SeriesInstanceUID
    instance = Dataset()
    instance.ReferencedSOPClassUID = original.SOPClassUID
    instance.ReferencedSOPInstanceUID = original.SOPInstanceUID
    series.ReferencedSOPSequence = [instance]
    cited.ReferencedSeriesSequence = [series]
    return cited


def build_enriched_sr(findings: Findings, recorded: str | None = None, *, source: bytes) -> Any:
    """A new SR instance in the source's study: the original content tree unchanged, then a
    container of AI findings (each coded result as a CODE item with its algorithm and the text
    it rests on, the impression as TEXT, the model as device observer), the original cited in
    the Predecessor Documents Sequence. The original instance is not touched. Basic Text and
    Enhanced sources become Comprehensive SR, the least class whose content rules hold both
    the original tree and the findings."""
    import copy

    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    report = findings.report
    if report.dicom is None:
        raise NotEnrichable("an enriched SR needs a DICOM SR as the source")
    tables = load_code_tables()
    config = tables.dicom_sr
    original = _original(report, source)
    models = _models(findings)
    sr = copy.deepcopy(original)
    sop_class = original.SOPClassUID if original.SOPClassUID == COMPREHENSIVE_3D else COMPREHENSIVE
    sop_uid = generate_uid(
        entropy_srcs=[
            "radlite-fhir enriched sr",
            report.source_digest,
            *_shas(models),
            *(m.prompt_version for m in models),
        ]
    )
    sr.SOPClassUID = sr.file_meta.MediaStorageSOPClassUID = sop_class
    sr.SOPInstanceUID = sr.file_meta.MediaStorageSOPInstanceUID = sop_uid
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr.SeriesInstanceUID = generate_uid(
        entropy_srcs=["radlite-fhir enriched series", original.StudyInstanceUID, *_shas(models)]
    )
    sr.SeriesNumber = int(config["enriched_series_number"])
    sr.SeriesDescription = config["enriched_series_description"]
    sr.InstanceNumber = 1
    sr.Manufacturer = config["manufacturer"]
    sr.SoftwareVersions = __version__
    sr.VerificationFlag, sr.PreliminaryFlag = "UNVERIFIED", "PRELIMINARY"
    for keyword in ("VerifyingObserverSequence", "IdenticalDocumentsSequence"):
        if keyword in sr:
            delattr(sr, keyword)
    for keyword in ("PerformedProcedureCodeSequence", "ReferencedPerformedProcedureStepSequence"):
        if keyword not in sr:  # type 2: what a source left out, the new instance carries empty
            setattr(sr, keyword, [])
    sr.PredecessorDocumentsSequence = [predecessor_reference(original)]
    sr.ContentSequence.append(_ai_findings(tables, findings, models))
    sr.CodingSchemeIdentificationSequence = [
        *original.get("CodingSchemeIdentificationSequence", []),
        _private_scheme(config),
    ]
    when = datetime.fromisoformat(recorded) if recorded else datetime.now()
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    sr.ContentDate, sr.ContentTime = date, time
    sr.InstanceCreationDate, sr.InstanceCreationTime = date, time
    sr.SeriesDate, sr.SeriesTime = date, time
    declare_character_set(sr)
    return sr


def _ai_findings(tables: CodeTables, findings: Findings, models: list[ModelInfo]) -> Any:
    """The container of AI findings appended to the original tree."""
    from pydicom.uid import generate_uid

    config = tables.dicom_sr
    container = _content("CONTAINER", "CONTAINS", _code_entry(config["ai_findings"]))
    container.ContinuityOfContent = "SEPARATE"
    items = [
        _content(
            "CODE",
            "HAS OBS CONTEXT",
            DicomCode("121005", "DCM", "Observer Type"),
            code=DicomCode("121007", "DCM", "Device"),
        ),
    ]
    if models:
        device_uid = generate_uid(entropy_srcs=["radlite-fhir device", models[0].sha256])
        items.append(
            _content(
                "UIDREF",
                "HAS OBS CONTEXT",
                DicomCode("121012", "DCM", "Device Observer UID"),
                uid=device_uid,
            )
        )
        items.append(
            _content(
                "TEXT",
                "HAS OBS CONTEXT",
                DicomCode("121013", "DCM", "Device Observer Name"),
                text=models[0].name[:64],
            )
        )
    for result in _coded_results(findings):
        name, value = _name_and_value(tables, result)
        item = _content("CODE", "CONTAINS", name, code=value)
        algorithm = result.model.name if result.model else RULES_ALGORITHM
        version = result.model.version if result.model else __version__
        children = [
            _content(
                "TEXT",
                "HAS CONCEPT MOD",
                DicomCode("111001", "DCM", "Algorithm Name"),
                text=algorithm[:64],
            ),
            _content(
                "TEXT",
                "HAS CONCEPT MOD",
                DicomCode("111003", "DCM", "Algorithm Version"),
                text=version[:64],
            ),
        ]
        if result.evidence is not None and result.evidence.kind != "model-input":
            children.append(
                _content(
                    "TEXT",
                    "INFERRED FROM",
                    _code_entry(config["evidence"]),
                    text=result.evidence.text,
                )
            )
        children.extend(_enriched_features(tables, result))
        item.ContentSequence = children
        items.append(item)
    impression = _impression(findings)
    if impression:
        items.append(
            _content("TEXT", "CONTAINS", _code_entry(config["impression"]), text=impression)
        )
    container.ContentSequence = items
    return container


def _code_entry(entry: dict[str, str]) -> DicomCode:
    return DicomCode(str(entry["code"]), str(entry["scheme"]), str(entry["meaning"]))


def _content(
    value_type: str,
    relationship: str,
    name: DicomCode,
    *,
    code: DicomCode | None = None,
    text: str | None = None,
    uid: str | None = None,
    millimetres: float | None = None,
) -> Any:
    """One SR content item built with pydicom (the enriched SR extends a tree highdicom did
    not build)."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.RelationshipType, item.ValueType = relationship, value_type
    item.ConceptNameCodeSequence = [_coded(name)]
    if code is not None:
        item.ConceptCodeSequence = [_coded(code)]
    if text is not None:
        item.TextValue = text
    if uid is not None:
        item.UID = uid
    if millimetres is not None:
        measured = Dataset()
        measured.NumericValue = f"{millimetres:g}"
        measured.MeasurementUnitsCodeSequence = [_coded(MILLIMETRE)]
        item.MeasuredValueSequence = [measured]
    return item
