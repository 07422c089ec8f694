"""The AI SR a verified SR cites: found where the product writes AI SRs (the queue folder, the
outbox of `radlite watch` with format sr, the --out of `radlite convert --format sr`, named as
radlite_fhir.naming names them), and among the SRs of the report's study, the one with the
results the reviewer saw; an SR of another run is never verified in its place."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pydicom import dcmread

from radlite_fhir.naming import output_name
from radlite_fhir.report import Findings
from radlite_fhir.review.auth import add_reviewer
from radlite_fhir.review.service import ReviewService
from radlite_fhir.review.settings import ReviewSettings
from radlite_fhir.review.vocab import Action
from radlite_fhir.writers.dicom_sr import sr_bytes
from tests.helpers import MODEL
from tests.test_review_data import RECORDED, build_queue, thyroid_findings

SR_NAME = output_name("us-thyroid-tirads.json", "sr")  # what watch/convert --format sr write


def _other_run(findings: Findings) -> Findings:
    """The same report through another model that answered cT2 (the SR's UIDs derive from
    the source and the models, so this SR is another instance in the same study)."""
    other = dataclasses.replace(MODEL, name="other-model", sha256="cd" * 32)
    results = tuple(
        dataclasses.replace(r, value="cT2", model=other) if r.kind == "T" else r
        for r in findings.results
    )
    return Findings(findings.report, results)


def _service(tmp_path: Path, sr_folders: tuple[Path, ...] = ()) -> ReviewService:
    add_reviewer(tmp_path / "reviewers.toml", "jdoe", "Jane Doe", "s3cret")
    settings = ReviewSettings(
        tmp_path / "queue", tmp_path / "state", tmp_path / "reviewers.toml",
        sr_folders=sr_folders,
    )  # fmt: skip
    return ReviewService(settings)


def _sign_off_thyroid(service: ReviewService):
    report = next(r for r, _ in service.queue() if r.path.name.startswith("us-thyroid"))
    outcome = service.decide(report.key, [i.key for i in report.items], Action.ACCEPT, None,
                             service.reviewers["jdoe"])  # fmt: skip
    assert outcome.signoff is not None
    return outcome.signoff


def _cited(path: Path) -> str:
    sr = dcmread(path)
    series = sr.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
    return str(series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)


def test_the_ai_sr_is_found_in_the_sr_outbox_and_cited(tmp_path: Path) -> None:
    build_queue(tmp_path / "queue")
    (tmp_path / "queue" / "us-thyroid-tirads.sr.dcm").unlink()  # not beside the Bundle
    outbox = tmp_path / "sr-outbox"
    outbox.mkdir()
    (outbox / SR_NAME).write_bytes(sr_bytes(thyroid_findings(), RECORDED))
    signoff = _sign_off_thyroid(_service(tmp_path, (outbox,)))
    assert signoff.sr is not None
    assert _cited(signoff.sr) == dcmread(outbox / SR_NAME).SOPInstanceUID
    assert dcmread(signoff.sr).VerificationFlag == "VERIFIED"


def test_of_two_srs_in_the_study_the_one_with_the_reviewed_results_is_cited(
    tmp_path: Path,
) -> None:
    """The queue folder holds an SR of the same study from another run (cT2 where the
    reviewed Bundle says cT1b), named as the Bundle's would be; the SR outbox holds the SR of
    the reviewed run. The verified SR cites the latter and carries cT1b."""
    build_queue(tmp_path / "queue")
    decoy = tmp_path / "queue" / "us-thyroid-tirads.sr.dcm"
    decoy.write_bytes(sr_bytes(_other_run(thyroid_findings()), RECORDED))
    outbox = tmp_path / "sr-outbox"
    outbox.mkdir()
    (outbox / SR_NAME).write_bytes(sr_bytes(thyroid_findings(), RECORDED))
    decoy_sr, right_sr = dcmread(decoy), dcmread(outbox / SR_NAME)
    assert decoy_sr.StudyInstanceUID == right_sr.StudyInstanceUID
    assert decoy_sr.SOPInstanceUID != right_sr.SOPInstanceUID
    signoff = _sign_off_thyroid(_service(tmp_path, (outbox,)))
    assert signoff.sr is not None
    assert _cited(signoff.sr) == right_sr.SOPInstanceUID
    content = str(dcmread(signoff.sr).ContentSequence)
    assert "cT1b" in content and "cT2" not in content


def test_an_sr_of_another_run_alone_is_not_verified(tmp_path: Path) -> None:
    """Copying it would mark results VERIFIED that the reviewer never saw: the FHIR
    write-back is made, no verified SR."""
    build_queue(tmp_path / "queue")
    (tmp_path / "queue" / "us-thyroid-tirads.sr.dcm").write_bytes(
        sr_bytes(_other_run(thyroid_findings()), RECORDED)
    )
    service = _service(tmp_path)
    signoff = _sign_off_thyroid(service)
    assert signoff.bundle.is_file()
    assert signoff.sr is None
    assert list(service.settings.outbox.glob("*.sr.dcm")) == []


def test_only_the_ai_result_series_counts(tmp_path: Path) -> None:
    """An SR in the enriched series (7002: a new version of a source SR with AI findings
    added) or one already VERIFIED is no predecessor, even with the same content."""
    for keyword, value in (("SeriesNumber", 7002), ("VerificationFlag", "VERIFIED")):
        root = tmp_path / keyword
        build_queue(root / "queue")
        path = root / "queue" / "us-thyroid-tirads.sr.dcm"
        sr = dcmread(path)
        setattr(sr, keyword, value)
        sr.save_as(path)
        assert _sign_off_thyroid(_service(root)).sr is None
