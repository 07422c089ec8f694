"""The command line through the real pipeline and real GGUF models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from radlite_fhir.cli import build_parser, main
from radlite_fhir.engine.registry import Registry
from radlite_fhir.fhir_schema import schema_errors
from tests.conftest import SAMPLES


def _resources(path: Path, kind: str) -> list[dict]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    assert schema_errors(bundle) == []
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.model
def test_end_to_end_on_the_default_model(
    home_with_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "convert",
            str(SAMPLES / "mammo-birads4b.json"),
            str(SAMPLES / "ct-staging-tnm.json"),
            "--out",
            str(out),
            "--threads",
            "2",
        ]
    )
    assert code == 0, capsys.readouterr().err
    mammo = _resources(out / "mammo-birads4b.json.bundle.json", "Observation")
    rads = [o for o in mammo if o["code"]["coding"][0]["code"] == "111005"]
    assert [o["valueCodeableConcept"]["text"] for o in rads] == ["BI-RADS 4B"]
    impressions = [o for o in mammo if o["code"]["coding"][0]["code"] == "19005-8"]
    assert len(impressions) == 1 and len(impressions[0]["valueString"]) > 10
    staging = _resources(out / "ct-staging-tnm.json.bundle.json", "Observation")
    tnm = {
        o["code"]["text"]: o["valueCodeableConcept"]["text"]
        for o in staging
        if o["code"]["text"] in ("cT category", "cN category", "cM category")
    }
    assert tnm == {"cT category": "cT2b", "cN category": "cN1", "cM category": "cM0"}
    device = _resources(out / "mammo-birads4b.json.bundle.json", "Device")[0]
    assert device["identifier"][0]["value"] == Registry.load().get("default").sha256
    printed = capsys.readouterr().out
    assert "2 of 2 inputs converted" in printed
    assert "Suspicious right breast mass" not in printed  # no report text on the console


def test_failures_are_listed_and_the_rest_converts(
    home_with_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "us-thyroid-tirads.json", inputs / "good.json")
    (inputs / "broken.json").write_text('{"resourceType": ', encoding="utf-8")
    (inputs / "empty.json").write_bytes(b"")
    (inputs / ".hidden.json").write_bytes(b"ignored")
    out = tmp_path / "out"
    code = main(
        ["convert", str(inputs), "--out", str(out), "--model", "smollm2-135m", "--tasks", "rads"]
    )
    assert code == 1
    records = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert sorted((Path(r["file"]).name, r["error"].split(":")[0]) for r in records) == [
        ("broken.json", "not JSON"),
        ("empty.json", "file is empty"),
    ]
    rads = _resources(out / "good.json.bundle.json", "Observation")
    assert [o["valueCodeableConcept"]["text"] for o in rads] == ["TI-RADS 4"]
    assert "1 of 3 inputs converted" in capsys.readouterr().out


def test_same_input_twice_gives_the_same_identifiers(
    home_with_models: Path, tmp_path: Path
) -> None:
    urls = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert (
            main(
                [
                    "convert",
                    str(SAMPLES / "bulk-export.ndjson"),
                    "--out",
                    str(out),
                    "--model",
                    "smollm2-135m",
                    "--tasks",
                    "rads,staging",
                ]
            )
            == 0
        )
        bundle = json.loads((out / "bulk-export.ndjson.bundle.json").read_text())
        urls.append([e["request"]["url"] for e in bundle["entry"]])
    assert urls[0] == urls[1] and len(urls[0]) >= 4


def test_radlite_profile_routes_through_a_real_model(
    home_with_models: Path, smollm_path: Path, tmp_path: Path
) -> None:
    """RadLite's presets drive the radlite prompts end to end (SmolLM2 stands in for the
    RadLite GGUFs, which are not redistributable): results carry the contract's version."""
    assert main(["models", "add", "radlite-q25", str(smollm_path), "--preset", "radlite-q25"]) == 0
    out = tmp_path / "out"
    assert (
        main(
            [
                "convert",
                str(SAMPLES / "ct-staging-tnm.json"),
                "--out",
                str(out),
                "--tasks",
                "rads,staging",
            ]
        )
        == 0
    )
    observations = _resources(out / "ct-staging-tnm.json.bundle.json", "Observation")
    versions = {
        x["valueString"]
        for o in observations
        for x in o.get("extension", [])
        if x["url"].endswith("prompt-version")
    }
    assert versions == {"radlite-2605.00421-v1"}
    tnm = {
        o["code"]["text"]: o["valueCodeableConcept"]["text"]
        for o in observations
        if o["code"]["text"] in ("cT category", "cN category", "cM category")
    }
    assert tnm == {"cT category": "cT2b", "cN category": "cN1", "cM category": "cM0"}


def test_rules_first_skips_the_model_for_stated_categories(
    home_with_models: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert (
        main(
            [
                "convert",
                str(SAMPLES / "ct-staging-tnm.json"),
                "--out",
                str(out),
                "--model",
                "smollm2-135m",
                "--tasks",
                "staging",
                "--rules-first",
            ]
        )
        == 0
    )
    bundle = json.loads((out / "ct-staging-tnm.json.bundle.json").read_text())
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Observation", "Observation", "Observation", "Provenance"]  # no Device
    origins = {
        x["valueCode"]
        for e in bundle["entry"][:3]
        for x in e["resource"]["extension"]
        if x["url"].endswith("result-origin")
    }
    assert origins == {"explicit-statement"}
    agent = bundle["entry"][3]["resource"]["agent"][0]["who"]
    assert "explicit statements" in agent["display"]


def test_outputs_never_collide_and_existing_ones_are_refused_unless_told(
    home_with_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rep.json and rep.ndjson keep two results; a second run into the same folder refuses
    (exit 1, listed), versions or overwrites, as --name-collision says. --rules-first: the
    report states its TNM, so no model call is needed."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    source = json.loads((SAMPLES / "ct-staging-tnm.json").read_text(encoding="utf-8"))
    (inputs / "rep.json").write_text(json.dumps(source), encoding="utf-8")
    (inputs / "rep.ndjson").write_text(json.dumps({**source, "id": "other"}) + "\n")
    out = tmp_path / "out"

    def convert(*extra: str) -> int:
        argv = ["convert", str(inputs), "--out", str(out), "--model", "smollm2-135m"]
        return main([*argv, "--tasks", "staging", "--rules-first", *extra])

    assert convert() == 0
    first = {p.name: p.read_bytes() for p in out.glob("rep.*")}
    assert sorted(first) == ["rep.json.bundle.json", "rep.ndjson.bundle.json"]
    assert first["rep.json.bundle.json"] != first["rep.ndjson.bundle.json"]
    capsys.readouterr()

    assert convert() == 1  # refuse (the default): nothing replaced, both listed
    assert {p.name: p.read_bytes() for p in out.glob("rep.*")} == first
    records = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert sorted(Path(r["file"]).name for r in records) == ["rep.json", "rep.ndjson"]
    assert all("already holds the result of an earlier input" in r["error"] for r in records)
    assert "0 of 2 inputs converted" in capsys.readouterr().out

    assert convert("--name-collision", "version") == 0
    assert sorted(p.name for p in out.glob("rep.*")) == [
        "rep.json.bundle.json",
        "rep.json.v2.bundle.json",
        "rep.ndjson.bundle.json",
        "rep.ndjson.v2.bundle.json",
    ]
    assert _urls(out / "rep.json.v2.bundle.json") == _urls(out / "rep.json.bundle.json")

    (out / "rep.json.bundle.json").write_text("{}")
    assert convert("--name-collision", "overwrite") == 0
    assert _urls(out / "rep.json.bundle.json") == _urls(out / "rep.json.v2.bundle.json")
    assert len(list(out.glob("rep.*"))) == 4


def _urls(path: Path) -> list[str]:
    return [e["request"]["url"] for e in json.loads(path.read_text())["entry"]]


def test_ndjson_output(home_with_models: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(
            [
                "convert",
                str(SAMPLES / "mri-liver-lirads.json"),
                "--out",
                str(out),
                "--format",
                "ndjson",
                "--model",
                "smollm2-135m",
                "--tasks",
                "rads",
            ]
        )
        == 0
    )
    lines = [json.loads(x) for x in (out / "mri-liver-lirads.json.ndjson").read_text().splitlines()]
    # the model's card and prompt template (AI transparency) come before the model's Device
    assert [r["resourceType"] for r in lines] == [
        "DocumentReference",
        "DocumentReference",
        "Device",
        "Observation",
        "Provenance",
    ]
    assert lines[3]["valueCodeableConcept"]["text"] == "LI-RADS 5"
    assert all("id" in r for r in lines)  # NDJSON: literal ids, no conditional PUTs


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["convert", "/no/such/file.json", "--out", "x"], "no such input"),
        (["convert", str(SAMPLES), "--out", "x", "--tasks", "rads,tea"], "unknown tasks"),
        (["convert", str(SAMPLES), "--out", "x", "--model", "nope"], "no model named 'nope'"),
    ],
)
def test_usage_errors_exit_2(
    home: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_model_is_a_clear_error(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(SAMPLES / "mammo-birads4b.json"), "--out", str(tmp_path)]) == 2
    assert "radlite models pull" in capsys.readouterr().err


def test_help_lists_every_convert_option() -> None:
    text = build_parser()._subparsers._group_actions[0].choices["convert"].format_help()
    for option in (
        "--out",
        "--format",
        "--tasks",
        "--model",
        "--threads",
        "--rules-first",
        "--max-input-mb",
        "--name-collision",
    ):
        assert option in text


def test_cli_vocabularies_match_the_modules_that_define_them() -> None:
    from radlite_fhir.cli import NAME_COLLISIONS, OUTPUT_FORMATS
    from radlite_fhir.naming import OUTPUT_SUFFIX, NameCollision

    assert tuple(OUTPUT_SUFFIX) == OUTPUT_FORMATS
    assert tuple(c.value for c in NameCollision) == NAME_COLLISIONS


def test_models_commands(
    home: Path, smollm_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "q25.gguf"
    shutil.copyfile(smollm_path, copy)
    assert main(["models", "add", "radlite-q25", str(copy), "--preset", "radlite-q25"]) == 0
    assert main(["models", "list"]) == 0
    assert "radlite-q25" in capsys.readouterr().out
    assert main(["models", "verify", "radlite-q25"]) == 0
    with copy.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01")
    assert main(["models", "verify", "radlite-q25"]) == 1
    assert "changed or damaged" in capsys.readouterr().err


@pytest.mark.model
def test_convert_format_sr_from_fhir_and_from_sr(
    home_with_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pydicom import dcmread

    from radlite_fhir.readers.dicom_sr import read_result_sr
    from tests.sr_files import make_sr

    source_sr = make_sr(
        tmp_path / "in" / "report.dcm",
        {"findings": "Clear lungs.", "impression": "No acute disease."},
        study_uid="1.2.3.4.99",
    )
    out = tmp_path / "out"
    code = main(
        [
            "convert",
            str(SAMPLES / "bundle-ct-head.json"),
            str(source_sr.parent),
            "--out",
            str(out),
            "--format",
            "sr",
            "--model",
            "smollm2-135m",
            "--tasks",
            "rads,impression",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "bundle-ct-head.json.sr.dcm",
        "report.dcm.sr.dcm",
    ]
    from_fhir = dcmread(out / "bundle-ct-head.json.sr.dcm")
    assert from_fhir.StudyInstanceUID == "1.2.826.0.1.3680043.10.1340.8.1"
    assert from_fhir.AccessionNumber == "SYN-CT-0008"
    assert read_result_sr(out / "report.dcm.sr.dcm").study_uid == "1.2.3.4.99"
    assert "2 of 2 inputs converted" in capsys.readouterr().out
    enriched = tmp_path / "enriched"
    assert (
        main(
            [
                "convert",
                str(source_sr),
                "--out",
                str(enriched),
                "--format",
                "enriched",
                "--model",
                "smollm2-135m",
                "--tasks",
                "rads,impression",
            ]
        )
        == 0
    )
    assert "PredecessorDocumentsSequence" in dcmread(enriched / "report.dcm.enriched.dcm")
    # Our own result SR dropped back in is refused, not enriched again.
    assert main(["convert", str(out / "report.dcm.sr.dcm"), "--out", str(tmp_path / "again")]) == 1
    assert "an AI result SR written by radlite-fhir" in capsys.readouterr().err


@pytest.mark.model
def test_llama_cpp_log_is_silent_unless_verbose(home_with_models: Path, tmp_path: Path) -> None:
    """llama.cpp's load-time lines (one per adapter tensor on this CPU) reach stderr only with
    `radlite -v`, through the logging formatter."""
    import os
    import subprocess
    import sys

    def run(*flags: str) -> str:
        out = tmp_path / f"out{len(flags)}"
        command = [sys.executable, "-m", "radlite_fhir", *flags, "convert",
                   str(SAMPLES / "us-thyroid-tirads.json"), "--out", str(out),
                   "--tasks", "rads", "--threads", "2"]  # fmt: skip
        env = {**os.environ, "RADLITE_HOME": str(home_with_models)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        return done.stderr

    quiet, verbose = run(), run("-v")
    assert "llama" not in quiet and "ggml" not in quiet, quiet[-500:]
    assert "INFO llama.cpp:" in verbose
