"""Everything we write passes two independent FHIR R4 validators.

The outputs: every input of `samples/` and the repository's test inputs (FHIR JSON and NDJSON
under `tests/`, outside the training fixtures, and DICOM SR files of every flavour built by
`tests/sr_files.py`), converted to bundle, ndjson and enriched output, once with the results
the tasks code from the text alone (no model call) and once with model answers written by
hand (agreeing, disagreeing, unparseable: the model-result Observations). No model runs.

The validators:
- the official R4 JSON schema (`radlite_fhir/fhir_schema.py`, which the writer also applies);
- `tools/fhir-validate`: Medplum's `validateResource` on the R4 StructureDefinitions
  (cardinality, types, invariants) and a reference-target check against the R4
  `profiles-resources.json` (the JSON schema cannot see reference targets). Installed by
  `scripts/install.sh --dev` (`npm ci --prefix tools/fhir-validate`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from radlite_fhir.errors import InputError, NotEnrichable
from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.pipeline import confidence_floor
from radlite_fhir.readers import read_path
from radlite_fhir.report import Findings, Report
from radlite_fhir.tasks import Answer, all_tasks
from radlite_fhir.tasks.profiles import PROMPT_VERSIONS, STRUCTURED
from radlite_fhir.writers.fhir import render
from tests.helpers import MODEL, answers
from tests.sr_files import FLAVOURS, make_sr

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
VALIDATOR = REPO / "tools" / "fhir-validate"
FHIR_SUFFIXES = {".json", ".ndjson", ".jsonl"}
RECORDED = "2026-11-23T00:00:00+00:00"
FORMATS = ("bundle", "ndjson", "enriched")
SR_SECTIONS = {
    "findings": "Spiculated 2.1 cm mass in the right upper lobe with hilar adenopathy.",
    "impression": "Suspicious for primary lung cancer, cT1c N1 M0. Lung-RADS 4B.",
}


# --- the outputs ------------------------------------------------------------------------
def test_inputs(sr_folder: Path) -> list[Path]:
    """Every input file: samples, the FHIR files under tests/ (training fixtures aside), and
    one SR per flavour."""
    fhir = [
        path
        for path in sorted(REPO.joinpath("tests").rglob("*"))
        if path.suffix.lower() in FHIR_SUFFIXES
        and "training" not in path.relative_to(REPO / "tests").parts
    ]
    srs = [
        make_sr(sr_folder / f"{flavour}.dcm", SR_SECTIONS, flavour=flavour) for flavour in FLAVOURS
    ]
    return [*sorted(SAMPLES.glob("*.json")), *sorted(SAMPLES.glob("*.ndjson")), *fhir, *srs]


test_inputs.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def _interpret(report: Report, given: dict[str, Answer]) -> Findings:
    """What `Pipeline.enrich` concludes once the answers are in: every task interprets them
    (none given: the text's explicit statements alone) under the default confidence floor."""
    results = []
    for task in all_tasks().values():
        results.extend(confidence_floor(task.interpret(report, given), 0.5))
    return Findings(report=report, results=tuple(results))


def model_answer_sets(report: Report) -> dict[str, dict[str, Answer]]:
    """Hand-written model answers: a coded set (RADS, TNM, entities grounded in the text and
    one invented, an impression) and a set that does not parse."""
    words = [w.strip(".,:;()") for w in report.text.split() if len(w.strip(".,:;()")) > 4]
    grounded, present = (words[0].lower(), words[-1]) if words else ("lung", "mass")
    # The coded set comes from a model with the prompt version this code sends (its prompt
    # template is written in full), the unparseable one from an older version (no text).
    current = replace(MODEL, prompt_version=PROMPT_VERSIONS[STRUCTURED])
    return {
        "model": {
            key: Answer(answer.text, current)
            for key, answer in answers(
                rads_assignment="RADS: BI-RADS 4",
                tnm_staging="T2 N1 M0",
                radiology_ner=(
                    f"Anatomy: {grounded}; spleen tip\nObservation (Present): {present}\n"
                    "Observation (Absent): pleural effusion"
                ),
                impression_generation="No acute cardiopulmonary abnormality.",
            ).items()
        },
        "unparseable": answers(
            rads_assignment="Category: maybe four?",
            tnm_staging="maybe",
            radiology_ner="The lungs are fine.",
            impression_generation="<think></think>",
        ),
    }


@dataclass(frozen=True)
class Output:
    name: str  # input file, answer set and format: names the failing case, never a value
    text: str
    output_format: str


def outputs(inputs: list[Path]) -> Iterator[Output]:
    """Every output the inputs give, per answer set and format (a report that cannot be
    enriched, e.g. a DICOM source in FHIR 'enriched' form, is skipped as the converter does)."""
    for path in inputs:
        try:
            reports = read_path(path, 10_000_000).reports
        except InputError:
            continue  # an input made to be refused writes nothing
        if not reports:
            continue
        sets: dict[str, list[Findings]] = {"text-only": []}
        for report in reports:
            sets["text-only"].append(_interpret(report, {}))
            for label, given in model_answer_sets(report).items():
                sets.setdefault(label, []).append(_interpret(report, given))
        for label, all_findings in sets.items():
            for output_format in FORMATS:
                if output_format == "enriched" and reports[0].dicom is not None:
                    continue  # an SR source is enriched as a new SR, not as FHIR
                try:
                    text = render(all_findings, output_format, recorded=RECORDED)
                except NotEnrichable:
                    continue
                yield Output(f"{path.name}:{label}:{output_format}", text, output_format)


def resources_of(output: Output) -> list[dict]:
    if output.output_format == "ndjson":
        return [json.loads(line) for line in output.text.splitlines() if line.strip()]
    return [json.loads(output.text)]


# --- the Medplum validator --------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    source: str
    resource: str
    path: str
    severity: str
    rule: str


def structure_issues(files: list[Path]) -> list[Issue]:
    """Run tools/fhir-validate on `files`; its issues (element paths and rules only)."""
    node = shutil.which("node")
    if node is None or not (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir():
        pytest.fail(
            "the R4 StructureDefinition validator is not installed: run scripts/install.sh "
            "--dev (node >= 20 and `npm ci --prefix tools/fhir-validate`)"
        )
    done = subprocess.run(
        [node, str(VALIDATOR / "validate.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return [Issue(**issue) for issue in json.loads(done.stdout)]


@pytest.fixture(scope="module")
def all_outputs(tmp_path_factory: pytest.TempPathFactory) -> list[Output]:
    produced = list(outputs(test_inputs(tmp_path_factory.mktemp("sr-inputs"))))
    assert produced, "no output produced"
    return produced


@pytest.fixture(scope="module")
def output_files(all_outputs: list[Output], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("outputs")
    files = []
    for number, output in enumerate(all_outputs):
        suffix = ".ndjson" if output.output_format == "ndjson" else ".json"
        path = folder / f"{number:04d}{suffix}"
        path.write_text(output.text, encoding="utf-8")
        files.append(path)
    return files


# --- the tests --------------------------------------------------------------------------
def test_the_outputs_cover_every_format_and_the_model_result_kinds(
    all_outputs: list[Output],
) -> None:
    assert {o.output_format for o in all_outputs} == set(FORMATS)
    codes: set[str] = set()
    types: set[str] = set()
    for output in all_outputs:
        for resource in resources_of(output):
            for item in [e["resource"] for e in resource.get("entry", [])] or [resource]:
                types.add(item["resourceType"])
                codes.update(c["code"] for c in (item.get("code") or {}).get("coding", []))
    assert {"Device", "Observation", "Provenance", "DiagnosticReport", "DocumentReference"} <= types
    # RADS from the text and from the model, TNM, entities, impression, discordance, absent
    assert {"19005-8", "anatomy", "observation-absent", "rads-assessment"} <= codes
    assert {"21905-5", "21906-3", "21907-1", "21908-9"} <= codes  # TNM and a stated stage group


def test_every_output_passes_the_r4_json_schema(all_outputs: list[Output]) -> None:
    failures = [
        f"{output.name}: {problem}"
        for output in all_outputs
        for resource in resources_of(output)
        for problem in schema_errors(resource)
    ]
    assert failures == []


def test_every_output_passes_the_r4_structure_definitions(
    all_outputs: list[Output], output_files: list[Path]
) -> None:
    issues = structure_issues(output_files)
    named = [
        f"{all_outputs[int(Path(i.source).stem)].name} {i.resource} {i.path}: {i.rule}"
        for i in issues
        if i.severity in ("error", "fatal") or i.rule.startswith("reference-target")
    ]
    assert named == []


def test_the_validator_sees_a_reference_target_r4_forbids(tmp_path: Path) -> None:
    """The check is alive: derivedFrom -> DiagnosticReport (what we wrote before) is an error,
    in a Bundle by fullUrl and in NDJSON by Type/id; a legal target is not."""
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "derivedFrom": [{"reference": "urn:uuid:2f0f4bc4-49f8-4c5d-9b6d-3c3a4e0f3e10"}],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:2f0f4bc4-49f8-4c5d-9b6d-3c3a4e0f3e10",
                "resource": {"resourceType": "DiagnosticReport", "status": "final", "code": {}},
            },
            {"fullUrl": "urn:uuid:0b9e8b5c-3c55-4f2b-8d2c-0e0d7b1a4c21", "resource": observation},
        ],
    }
    bundle["entry"][0]["resource"]["code"] = {"text": "CT"}
    lines = [
        {**observation, "derivedFrom": [{"reference": "DiagnosticReport/r1"}]},
        {**observation, "derivedFrom": [{"reference": "ImagingStudy/s1"}]},
        {
            **observation,
            "derivedFrom": [{"type": "DocumentReference", "identifier": {"value": "1"}}],
        },
    ]
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    (tmp_path / "o.ndjson").write_text("".join(json.dumps(line) + "\n" for line in lines))
    issues = structure_issues([tmp_path / "b.json", tmp_path / "o.ndjson"])
    targets = [
        (Path(i.source).name, i.path) for i in issues if i.rule.startswith("reference-target")
    ]
    assert targets == [
        ("b.json", "Bundle.entry[1].resource.derivedFrom[0]"),
        ("o.ndjson", "Observation.derivedFrom[0]"),
    ]


def test_the_validator_names_element_and_rule_never_the_value(tmp_path: Path) -> None:
    secret = "Jane Q. Patient has a 3 cm mass"
    bad = {
        "resourceType": "Observation",
        "status": "not-a-status " + secret,
        "code": {"text": secret},
        "valueInteger": secret,
        "issued": secret,
    }
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    issues = structure_issues([tmp_path / "bad.json"])
    assert {i.path for i in issues if i.severity == "error"} >= {
        "Observation.value[x]",
        "Observation.issued",
    }
    assert "Jane" not in json.dumps([i.__dict__ for i in issues])
