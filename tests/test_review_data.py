"""Review queue fixtures: real sample reports through the real readers, the real guideline
table (rads_policy) and the real writers (enriched FHIR Bundle, TID 1500 SR); only the model's
answers are given, as a model would give them, so the tests run in seconds without one.

`build_queue(folder)` writes two reports: the thyroid ultrasound with exactly 4 results (the
guideline-computed TI-RADS category with its deciding features, cT, cM, the generated
impression) and its AI SR; the mammogram with a RADS category, entities of several kinds and
a low-confidence stage (listed first).
"""

from __future__ import annotations

from pathlib import Path

from radlite_fhir.readers import read_path
from radlite_fhir.report import Evidence, Findings, Origin, Report, Status, TaskResult
from radlite_fhir.tasks import rads_policy
from radlite_fhir.writers.dicom_sr import sr_bytes
from radlite_fhir.writers.fhir import render
from tests.conftest import SAMPLES
from tests.helpers import MODEL

RECORDED = "2026-11-23T08:00:00+00:00"


def _span(report: Report, phrase: str, kind: str = "mention") -> Evidence:
    start = report.text.index(phrase)
    return Evidence(start, start + len(phrase), phrase, kind)


def _whole(report: Report) -> Evidence:
    return Evidence(0, len(report.text), "", "model-input")


def thyroid_findings() -> Findings:
    report = read_path(SAMPLES / "us-thyroid-tirads.json", 10_000_000).reports[0]
    reading, assessment = rads_policy.computed(report)
    assert assessment is not None, "the sample's features decide a TI-RADS level"
    rads = rads_policy.guideline_result("rads", report, reading, assessment, None, None, None)
    impression = report.section_span("impression") or (0, len(report.text))
    results = (
        rads,
        TaskResult("staging", "T", "cT1b", Status.CODED, Origin.MODEL, _whole(report),
                   model=MODEL, confidence=0.93, item_key="T"),
        TaskResult("staging", "M", "cM0", Status.CODED, Origin.MODEL, _whole(report),
                   model=MODEL, confidence=0.97, item_key="M"),
        TaskResult("impression", "impression", "Right lower pole nodule, TR4; FNA advised.",
                   Status.CODED, Origin.MODEL,
                   Evidence(impression[0], impression[1], "", "model-input"), model=MODEL),
    )  # fmt: skip
    return Findings(report, results)


def mammo_findings() -> Findings:
    report = read_path(SAMPLES / "mammo-birads4b.json", 10_000_000).reports[0]
    entity = [
        ("anatomy", "right breast"),
        ("observation_present", "irregular 14 mm mass"),
        ("observation_absent", "skin thickening"),
        ("observation_absent", "axillary lymphadenopathy"),
    ]
    results = [
        TaskResult("rads", "rads", "BI-RADS 4B", Status.CODED, Origin.MODEL_AND_TEXT,
                   _span(report, "BI-RADS 4B", "statement"), model=MODEL, confidence=0.99),
        TaskResult("staging", "N", "cN1", Status.CODED, Origin.MODEL, _whole(report),
                   model=MODEL, confidence=0.55, item_key="N"),
        *(
            TaskResult("ner", f"entity:{kind}", text, Status.CODED, Origin.MODEL,
                       _span(report, text), model=MODEL, item_key=f"{kind}:{text}")
            for kind, text in entity
        ),
    ]  # fmt: skip
    return Findings(report, tuple(results))


def build_queue(folder: Path) -> dict[str, Findings]:
    """The queue folder the review reads: enriched Bundles and the thyroid's AI SR."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {"thyroid": thyroid_findings(), "mammo": mammo_findings()}
    (folder / "us-thyroid-tirads.enriched.json").write_text(
        render([found["thyroid"]], "enriched", RECORDED), "utf-8"
    )
    (folder / "us-thyroid-tirads.sr.dcm").write_bytes(sr_bytes(found["thyroid"], RECORDED))
    (folder / "mammo-birads4b.enriched.json").write_text(
        render([found["mammo"]], "enriched", RECORDED), "utf-8"
    )
    return found


def test_the_fixture_queue_has_the_shapes_the_review_tests_rely_on(tmp_path: Path) -> None:
    found = build_queue(tmp_path)
    thyroid = found["thyroid"].results
    assert len(thyroid) == 4
    assert thyroid[0].origin is Origin.GUIDELINE and thyroid[0].detail["features"]
    assert {p.name for p in tmp_path.iterdir()} == {
        "us-thyroid-tirads.enriched.json",
        "us-thyroid-tirads.sr.dcm",
        "mammo-birads4b.enriched.json",
    }
