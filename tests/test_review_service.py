"""The review's core without HTTP: the queue read from enriched Bundles, decisions kept
append-only, the FHIR write-back (schema-valid, the clinician in the Provenance), the verified
SR (dciodvfy, predecessor cited), and the training export that training/ reads."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.review.auth import add_reviewer, hash_password, load_reviewers, verify_password
from radlite_fhir.review.export import export
from radlite_fhir.review.service import ReviewRefused, ReviewService
from radlite_fhir.review.settings import ReviewSettings
from radlite_fhir.review.vocab import Action, Group
from tests.test_fhir_validation import structure_issues
from tests.test_review_data import build_queue
from training.data import read_records

DCIODVFY = shutil.which("dciodvfy") or str(Path(sys.executable).parent / "dciodvfy")


@pytest.fixture
def service(tmp_path: Path) -> ReviewService:
    build_queue(tmp_path / "queue")
    add_reviewer(tmp_path / "reviewers.toml", "jdoe", "Jane Doe", "s3cret", "Practitioner/jd")
    return ReviewService(
        ReviewSettings(tmp_path / "queue", tmp_path / "state", tmp_path / "reviewers.toml")
    )


def _thyroid(service: ReviewService):
    return next(r for r, _ in service.queue() if r.path.name.startswith("us-thyroid"))


def test_the_queue_lists_flagged_reports_first_with_text_and_spans(service: ReviewService) -> None:
    reports = [r for r, _ in service.queue()]
    assert [r.path.name for r in reports] == [
        "mammo-birads4b.enriched.json",  # its cN1 has confidence 0.55: listed first
        "us-thyroid-tirads.enriched.json",
    ]
    mammo, thyroid = reports
    assert mammo.ordered(0.8)[0].label == "cN1"
    for item in (*mammo.items, *thyroid.items):
        if item.span and item.span.kind != "model-input":
            assert item.label.lower() in mammo.text.lower() + thyroid.text.lower() or (
                item.group is Group.RADS
            )
    rads = next(i for i in thyroid.items if i.group is Group.RADS)
    assert rads.label == "TI-RADS 4" and rads.features
    for feature in rads.features:
        assert feature.span is not None and 0 <= feature.span.start < feature.span.end
    entities = {i.system for i in mammo.items if i.group is Group.ENTITY}
    assert entities == {"anatomy", "observation_present", "observation_absent"}


def test_a_correction_must_come_from_the_code_table(service: ReviewService) -> None:
    report = _thyroid(service)
    rads = next(i for i in report.items if i.group is Group.RADS)
    reviewer = service.reviewers["jdoe"]
    with pytest.raises(ReviewRefused):
        service.decide(report.key, [rads.key], Action.CORRECT, "BI-RADS 5", reviewer)
    with pytest.raises(ReviewRefused):
        service.decide(report.key, ["no-such-result"], Action.ACCEPT, None, reviewer)
    assert service.store.current(report.key) == {}


def test_sign_off_writes_fhir_and_a_verified_sr_and_keeps_the_trace(
    service: ReviewService,
) -> None:
    report = _thyroid(service)
    reviewer = service.reviewers["jdoe"]
    by_group = {i.group: i for i in report.items}
    rads, impression = by_group[Group.RADS], by_group[Group.IMPRESSION]
    tnm = [i for i in report.items if i.group is Group.TNM]
    first = service.decide(report.key, [rads.key], Action.ACCEPT, None, reviewer)
    assert first.signoff is None
    # A changed mind is a new row; the first decision stays in the history.
    service.decide(report.key, [rads.key], Action.CORRECT, "TI-RADS 5", reviewer)
    service.decide(report.key, [impression.key], Action.REJECT, None, reviewer)
    outcome = service.decide(report.key, [i.key for i in tnm], Action.ACCEPT, None, reviewer)
    assert outcome.signoff is not None
    history = service.store.history(report.key)
    assert [d.action for d in history][:2] == [Action.ACCEPT, Action.CORRECT]
    assert history[0].original == rads.resource  # the model's Observation, as written

    bundle = json.loads(outcome.signoff.bundle.read_text("utf-8"))
    assert bundle["type"] == "transaction"
    resources = [e["resource"] for e in bundle["entry"]]
    for resource in resources:
        assert schema_errors(resource) == []
    # The second, StructureDefinition-based validator (cardinality, types, reference targets).
    assert structure_issues([outcome.signoff.bundle]) == []
    observations = {r["identifier"][0]["value"]: r for r in resources[:-1]}
    corrected = observations[rads.key]
    assert corrected["status"] == "final"
    assert corrected["valueCodeableConcept"]["text"] == "TI-RADS 5"
    original = next(e for e in corrected["extension"] if e["url"].endswith("/ai-original-value"))
    assert original["valueCodeableConcept"]["text"] == "TI-RADS 4"
    assert [s["code"] for s in corrected["meta"]["security"]] == ["AIAST"]  # left as written
    assert observations[impression.key]["status"] == "entered-in-error"
    assert [s["code"] for s in observations[impression.key]["meta"]["security"]] == ["AIAST"]
    provenance = resources[-1]
    assert provenance["resourceType"] == "Provenance"
    assert {a["type"]["coding"][0]["code"] for a in provenance["agent"]} == {"verifier", "author"}
    assert provenance["agent"][0]["who"] == {"reference": "Practitioner/jd", "display": "Jane Doe"}
    assert "meta" not in provenance  # no review-state label: the IG defines none
    assert len(provenance["target"]) == 4
    # The model's file is untouched.
    assert rads.resource in [
        e["resource"] for e in json.loads(report.path.read_text("utf-8"))["entry"]
    ]

    sr_path = outcome.signoff.sr
    assert sr_path is not None
    done = subprocess.run([DCIODVFY, str(sr_path)], capture_output=True, text=True, timeout=120)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]
    assert errors == []
    sr = dcmread(sr_path)
    ai_sr = dcmread(report.path.with_name("us-thyroid-tirads.sr.dcm"))
    assert (sr.VerificationFlag, sr.PreliminaryFlag) == ("VERIFIED", "FINAL")
    assert sr.VerifyingObserverSequence[0].VerifyingObserverName == "Doe^Jane"
    cited = sr.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence
    assert cited[0].ReferencedSOPInstanceUID == ai_sr.SOPInstanceUID
    assert sr.SOPInstanceUID != ai_sr.SOPInstanceUID
    assert ai_sr.VerificationFlag == "UNVERIFIED"  # the predecessor stays as it was
    dump = str(sr.ContentSequence)
    assert "TR5" in dump and "TR4" not in dump.split("composition")[0]
    assert "FNA advised" not in dump  # the rejected impression is left out
    with pytest.raises(ReviewRefused):
        service.decide(report.key, [rads.key], Action.ACCEPT, None, reviewer)


def test_export_writes_records_training_reads(service: ReviewService, tmp_path: Path) -> None:
    reviewer = service.reviewers["jdoe"]
    for report, _ in service.queue():
        rads = next(i for i in report.items if i.group is Group.RADS)
        service.decide(report.key, [rads.key], Action.CORRECT, rads.label.replace("4", "5")
                       if "TI" in rads.label else "BI-RADS 4C", reviewer)  # fmt: skip
        rest = [i.key for i in report.items if i.key != rads.key]
        service.decide(report.key, rest, Action.ACCEPT, None, reviewer)
    out = tmp_path / "confirmed.jsonl"
    assert export(service.store, out, with_entities=True) == 2
    records = {r.record_id: r for r in read_records(out)}
    thyroid = records[_thyroid(service).key]
    assert thyroid.source == "review"
    assert thyroid.targets["rads"] == "TI-RADS 5"
    assert thyroid.targets["tnm"] == {"T": "T1b", "M": "M0"}
    assert thyroid.text.startswith("EXAM: Ultrasound of the thyroid.")
    mammo = next(r for key, r in records.items() if key != thyroid.record_id)
    assert mammo.targets["rads"] == "BI-RADS 4C"
    assert ["anatomy", "right breast"] in [list(e) for e in mammo.targets["ner"]]


def test_passwords_are_scrypt_hashed_and_checked(tmp_path: Path) -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    add_reviewer(tmp_path / "r.toml", "a", "A B", "pw")
    assert "pw" not in (tmp_path / "r.toml").read_text("utf-8").split("password")[1][:5]
    assert load_reviewers(tmp_path / "r.toml")["a"].name == "A B"


def test_the_cli_adds_a_reviewer_and_exports(
    service: ReviewService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from radlite_fhir.review.cli import add_review_commands

    parser = argparse.ArgumentParser(prog="radlite")
    add_review_commands(parser.add_subparsers(dest="command"))
    monkeypatch.setenv("RADLITE_REVIEW_PASSWORD", "long enough")
    args = parser.parse_args(
        ["review", "add-reviewer", "--reviewers", str(tmp_path / "r.toml"), "amy", "--name", "A Y"]
    )
    assert args.func(args) == 0
    assert verify_password("long enough", load_reviewers(tmp_path / "r.toml")["amy"].password_hash)
    report = _thyroid(service)
    service.decide(report.key, [i.key for i in report.items], Action.ACCEPT, None,
                   service.reviewers["jdoe"])  # fmt: skip
    out = tmp_path / "out.jsonl"
    args = parser.parse_args(
        ["review", "export", "--state", str(service.settings.state), "--out", str(out)]
    )
    assert args.func(args) == 0
    assert [r.targets["rads"] for r in read_records(out)] == ["TI-RADS 4"]


def _mammo(service: ReviewService):
    return next(r for r, _ in service.queue() if r.path.name.startswith("mammo"))


def test_an_entity_is_corrected_to_another_kind_or_rejected_and_travels_back(
    service: ReviewService, tmp_path: Path
) -> None:
    """Entity corrections take the route RADS corrections take: the Observation updated in
    the transaction Bundle (its code now the chosen kind, the model's code kept), the
    clinician in the Provenance, the corrected kind in the exported training record."""
    report = _mammo(service)
    reviewer = service.reviewers["jdoe"]
    entities = {i.label: i for i in report.items if i.group is Group.ENTITY}
    moved, dropped = entities["skin thickening"], entities["axillary lymphadenopathy"]
    assert moved.system == "observation_absent"
    assert service.choices(moved) == [
        "anatomy",
        "observation_present",
        "observation_absent",
        "observation_uncertain",
    ]
    with pytest.raises(ReviewRefused):  # not a kind of the entity vocabulary
        service.decide(report.key, [moved.key], Action.CORRECT, "TI-RADS 4", reviewer)
    service.decide(report.key, [moved.key], Action.CORRECT, "observation_uncertain", reviewer)
    service.decide(report.key, [dropped.key], Action.REJECT, None, reviewer)
    rest = [i.key for i in report.items if i.key not in (moved.key, dropped.key)]
    outcome = service.decide(report.key, rest, Action.ACCEPT, None, reviewer)
    assert outcome.signoff is not None

    resources = [
        e["resource"] for e in json.loads(outcome.signoff.bundle.read_text("utf-8"))["entry"]
    ]
    assert structure_issues([outcome.signoff.bundle]) == []
    by_key = {r["identifier"][0]["value"]: r for r in resources if "identifier" in r}
    corrected = by_key[moved.key]
    uncertain = service.tables.observation_code("entity", "observation_uncertain")
    assert corrected["code"]["coding"] == uncertain
    assert corrected["code"]["coding"] != moved.resource["code"]["coding"]
    assert corrected["valueString"] == "skin thickening"  # the words stay; the kind changed
    assert corrected["status"] == "final"
    urls = {e["url"].rsplit("/", 1)[-1]: e for e in corrected["extension"]}
    assert urls["ai-original-code"]["valueCodeableConcept"] == moved.resource["code"]
    assert "ai-original-value" not in urls
    assert urls["review-decision"]["valueCode"] == "correct"
    assert by_key[dropped.key]["status"] == "entered-in-error"
    provenance = resources[-1]
    assert {a["type"]["coding"][0]["code"] for a in provenance["agent"]} == {"verifier", "author"}
    revised = {e["what"]["identifier"]["value"] for e in provenance["entity"] if "identifier"
               in e["what"]}  # fmt: skip
    assert {moved.key, dropped.key} <= revised

    out = tmp_path / "entities.jsonl"
    assert export(service.store, out, with_entities=True) == 1
    (record,) = read_records(out)
    ner = [tuple(e) for e in record.targets["ner"]]
    assert ("observation_uncertain", "skin thickening") in ner
    assert not any(text == "axillary lymphadenopathy" for _, text in ner)  # rejected
    assert ("anatomy", "right breast") in ner


def test_references_into_the_enriched_bundle_resolve_in_the_review_bundle(
    service: ReviewService,
) -> None:
    """A transaction whose urn:uuid reference names no entry of its own is refused by a FHIR
    server: the model's Device becomes the conditional reference the enriched Bundle wrote
    it under."""
    report = _thyroid(service)
    outcome = service.decide(report.key, [i.key for i in report.items], Action.ACCEPT, None,
                             service.reviewers["jdoe"])  # fmt: skip
    assert outcome.signoff is not None
    bundle = json.loads(outcome.signoff.bundle.read_text("utf-8"))
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    text = json.dumps(bundle)
    dangling = [
        ref
        for ref in set(re.findall(r'"reference": "(urn:uuid:[^"]+)"', text))
        if ref not in full_urls
    ]
    assert dangling == []
    assert structure_issues([outcome.signoff.bundle]) == []
    devices = {
        r["device"]["reference"]
        for r in (e["resource"] for e in bundle["entry"])
        if r["resourceType"] == "Observation" and "device" in r
    }
    assert devices and all(d.startswith("Device?identifier=") for d in devices)
    enriched = json.loads(report.path.read_text("utf-8"))
    written = {e["request"]["url"] for e in enriched["entry"]}
    assert devices <= written  # the very URL the enriched Bundle PUT the Device under


def test_a_review_leaves_the_ai_label_as_written_and_the_provenance_names_the_verifier(
    service: ReviewService,
) -> None:
    """AI Transparency on FHIR, current source (HL7/aitransparency-ig 1.0.0-current): the
    review-state codes are gone (FHIR-54801 removes AIRPT, FHIR-57918 the experimental
    provenance codes; no AddedProvenanceCS, no CLINAST_AIRPT). An AI result a human verified
    is, as in the IG's example (EX_Provenance.fsh, Observation f206 and Provenance
    AI-Contributed), status final with the human as the Provenance's `verifier`. So AIAST is
    neither removed nor replaced; a rejected result is entered-in-error, also with AIAST."""
    report = _thyroid(service)
    reviewer = service.reviewers["jdoe"]
    impression = next(i for i in report.items if i.group is Group.IMPRESSION)
    service.decide(report.key, [impression.key], Action.REJECT, None, reviewer)
    rest = [i.key for i in report.items if i.key != impression.key]
    outcome = service.decide(report.key, rest, Action.ACCEPT, None, reviewer)
    assert outcome.signoff is not None
    resources = [
        e["resource"] for e in json.loads(outcome.signoff.bundle.read_text("utf-8"))["entry"]
    ]
    written = {i.key: i.resource for i in report.items}
    for resource in resources[:-1]:
        key = resource["identifier"][0]["value"]
        assert resource["meta"]["security"] == written[key]["meta"]["security"]
        assert [(s["system"], s["code"]) for s in resource["meta"]["security"]] == [
            ("http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "AIAST")
        ]
        expected = "entered-in-error" if key == impression.key else "final"
        assert resource["status"] == expected
        assert "on review of the AI result" in resource["note"][-1]["text"]
    provenance = resources[-1]
    assert "CLINAST" not in json.dumps(resources) and "AddedProvenanceCS" not in json.dumps(
        resources
    )
    for resource in resources:
        assert schema_errors(resource) == []
    assert structure_issues([outcome.signoff.bundle]) == []
    [verifier] = provenance["agent"]  # nothing corrected: no author
    assert verifier["type"]["coding"][0]["code"] == "verifier"
    assert verifier["who"]["reference"] == "Practitioner/jd"
