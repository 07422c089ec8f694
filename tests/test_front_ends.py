"""One settings object, one core, four front ends (issue 13 item 4).

`radlite convert`, `radlite watch`, `radlite serve` and `radlite bulk` build the settings that
decide the results (radlite_fhir.settings.ResultSettings) from their own options (and, for
watch, TOML and environment) and run the same core on the input's bytes. So: the same options
give the same settings in each; --max-input-mb refuses the same input in each; the same
inputs under the same settings (rules-first and a confidence floor included) give the same
coded results in each, and those differ from the defaults' (so no front end can be ignoring
an option and still pass); serve writes no temporary file.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from radlite_fhir.bulk.actor import ShardConverter
from radlite_fhir.bulk.command import bulk_settings
from radlite_fhir.bulk.shards import plan_shards
from radlite_fhir.cli import _watch_settings, build_parser, main, serve_settings
from radlite_fhir.convert import convert_bytes, convert_file
from radlite_fhir.engine.registry import Registry
from radlite_fhir.errors import NotEnrichable
from radlite_fhir.pipeline import Pipeline
from radlite_fhir.readers import read_bytes
from radlite_fhir.report import Findings, Origin, Report, Status, TaskResult
from radlite_fhir.service.settings import load_settings
from radlite_fhir.service.worker import Service
from radlite_fhir.settings import ResultSettings, results_from_args
from radlite_fhir.writers.table import CHOICES, WRITERS, OutputFormat, Per, resolve
from tests.conftest import SAMPLES
from tests.sr_files import make_sr
from tests.test_service_api import FHIR, _serving

INPUTS = ("ct-staging-tnm.json", "cxr-normal-html.json")  # stated TNM; a model-only label
# The settings under test, as every front end spells them on its command line.
OPTIONS = ["--model", "smollm2-135m", "--tasks", "rads,staging", "--threads", "1"]
DECIDING = ["--rules-first", "--min-confidence", "1.0", "--max-input-mb", "5"]
RESULT_EXTENSION = "result-origin"


def _parse(*argv: str | Path) -> Any:
    return build_parser().parse_args([str(a) for a in argv])


def _watch_args(root: Path, *extra: str) -> Any:
    return _parse(
        "watch",
        "--inbox", root / "inbox", "--outbox", root / "outbox", "--state-dir", root / "state",
        "--min-age-ms", "0", "--metrics-port", "0",
        *extra,
    )  # fmt: skip


def _service(args: Any) -> Service:
    """What `radlite watch` runs for these options (service/run.py builds it so)."""
    settings = _watch_settings(args)
    return Service(settings, Pipeline(Registry.load(), settings.results.pipeline_settings()))


def _drain(service: Service) -> None:
    for _ in range(50):
        if not service.step() and not service.step():  # two scans: the size-stable check
            return


def test_every_front_end_builds_the_same_settings_from_the_same_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "in.ndjson"
    inputs.write_text("{}\n")
    convert = _parse("convert", inputs, "--out", tmp_path / "o", *OPTIONS, *DECIDING)
    wanted = results_from_args(convert, "bundle")
    assert wanted != ResultSettings()  # the options changed something
    assert (wanted.rules_first, wanted.min_confidence, wanted.max_input_mb) == (True, 1.0, 5.0)

    serve = serve_settings(_parse("serve", *OPTIONS, *DECIDING)).results
    watch = _watch_settings(_watch_args(tmp_path, *OPTIONS, *DECIDING)).results
    bulk = bulk_settings(
        _parse("bulk", inputs, "--out", tmp_path / "b", "--format", "bundle", *OPTIONS, *DECIDING)
    ).results
    assert serve == replace(wanted, output_format="enriched")
    assert watch == wanted and bulk == wanted

    # watch's TOML keys (the old ones and the two new) and its environment give the same
    config = tmp_path / "watch.toml"
    config.write_text(
        '[watch]\nmodel = "smollm2-135m"\ntasks = "staging,rads"\nthreads = 1\n'
        "rules_first = true\nmin_confidence = 1.0\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RADLITE_WATCH_MAX_INPUT_MB", "5")
    assert load_settings(config, {}).results == wanted
    # the command line still wins over both
    assert _watch_settings(
        _parse("watch", "--config", config, "--min-confidence", "0.25")
    ).results == replace(wanted, min_confidence=0.25)
    again = _parse("watch", "--config", config, "--no-rules-first")
    assert _watch_settings(again).results == replace(wanted, rules_first=False)


def test_max_input_mb_refuses_the_same_input_in_every_front_end(
    home_with_models: Path, tmp_path: Path
) -> None:
    """An input of 2,270 bytes against a 0.001 MB limit, before any model work."""
    source = SAMPLES / INPUTS[0]
    limit = ["--max-input-mb", "0.001"]
    assert main(["convert", str(source), "--out", str(tmp_path / "c"), *OPTIONS, *limit]) == 1
    (record,) = [json.loads(x) for x in (tmp_path / "c" / "errors.jsonl").read_text().splitlines()]
    assert "over the input limit of 0.0 MB (setting max_input_mb)" in record["error"]

    service = _service(_watch_args(tmp_path / "w", *OPTIONS, *limit))
    (service.settings.inbox / source.name).write_bytes(source.read_bytes())
    _drain(service)
    reason = json.loads(
        (service.settings.state / "error" / f"{source.name}.error.json").read_text("utf-8")
    )
    assert "setting max_input_mb" in json.dumps(reason)
    assert not list(service.settings.outbox.iterdir())

    settings = serve_settings(_parse("serve", *OPTIONS, *limit))
    with _serving(settings, Pipeline(Registry.load(), settings.results.pipeline_settings())) as up:
        status, _, body = up.post("/fhir/DiagnosticReport/$enrich", source.read_bytes(), FHIR)
    assert status == 413
    assert "(--max-input-mb)" in json.loads(body)["issue"][0]["diagnostics"]

    bulk = bulk_settings(_parse("bulk", source, "--out", tmp_path / "b", *OPTIONS, *limit))
    plan = plan_shards(bulk.inputs, bulk.max_bytes)
    assert not plan.shards
    assert "setting max_input_mb" in plan.refused[0].problem


def _coded(resources: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each Observation's identity and result: identifier, code, value, origin; and which
    resource types came with them (a Device only when a model asserted something)."""
    found = []
    for resource in resources:
        kind = resource["resourceType"]
        if kind == "Observation":
            origin = [
                x.get("valueCode")
                for x in resource.get("extension", [])
                if x["url"].endswith(RESULT_EXTENSION)
            ]
            value = resource.get("valueCodeableConcept", {}).get("text") or resource.get(
                "valueString"
            )
            found.append(
                (
                    kind,
                    resource["identifier"][0]["value"],
                    resource["code"].get("text"),
                    value,
                    tuple(origin),
                )
            )
        elif kind in ("Device", "DiagnosticReport"):
            found.append((kind,))
    return sorted(found, key=repr)


def _from_bundle(data: bytes) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in json.loads(data)["entry"]]


def _results_of(folder: Path, suffix: str) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: _coded(_from_bundle((folder / f"{name}{suffix}").read_bytes())) for name in INPUTS
    }


@pytest.mark.model
def test_the_front_ends_give_the_same_results_for_the_same_settings(
    home_with_models: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in INPUTS:
        (folder / name).write_bytes((SAMPLES / name).read_bytes())

    # convert, with the defaults (no rules first, every parseable label coded) and the settings
    argv = ["convert", str(folder), "--format", "enriched", *OPTIONS]
    assert main([*argv, "--out", str(tmp_path / "default"), "--min-confidence", "0"]) == 0
    assert main([*argv, "--out", str(tmp_path / "convert"), *DECIDING]) == 0
    converted = _results_of(tmp_path / "convert", ".enriched.json")
    default = _results_of(tmp_path / "default", ".enriched.json")
    for name in INPUTS:  # each setting changes the results, so no front end may ignore it
        assert converted[name] != default[name], name
    staged = [r for r in converted[INPUTS[0]] if r[0] == "Observation"]
    assert staged and all(r[4] == ("explicit-statement",) for r in staged)  # rules first
    assert len(converted[INPUTS[1]]) < len(default[INPUTS[1]])  # the floor held a label back

    service = _service(_watch_args(tmp_path / "w", "--format", "enriched", *OPTIONS, *DECIDING))
    for name in INPUTS:
        (service.settings.inbox / name).write_bytes((folder / name).read_bytes())
    _drain(service)
    assert _results_of(service.settings.outbox, ".enriched.json") == converted

    settings = serve_settings(_parse("serve", *OPTIONS, *DECIDING))
    with _serving(settings, Pipeline(Registry.load(), settings.results.pipeline_settings())) as up:
        for name in INPUTS:
            status, _, body = up.post(
                "/fhir/DiagnosticReport/$enrich", (folder / name).read_bytes(), FHIR
            )
            assert status == 200
            assert _coded(_from_bundle(body)) == converted[name], name

    bulk = bulk_settings(
        _parse("bulk", folder, "--out", tmp_path / "b", "--format", "bundle", *OPTIONS, *DECIDING)
    )
    actor = ShardConverter(bulk)  # what each Ray actor runs, here without a cluster
    paths = [folder / name for name in INPUTS]
    answer = actor({"path": [str(p) for p in paths], "bytes": [p.read_bytes() for p in paths]})
    for name, result in zip(INPUTS, answer["result"], strict=True):
        shard = json.loads(result)
        assert shard["status"] == "done" and not shard["errors"]
        bundle = _coded(_from_bundle(shard["outputs"][f"{name}.bundle.json"].encode()))
        # the enriched format also carries the updated source DiagnosticReport
        assert bundle == [r for r in converted[name] if r != ("DiagnosticReport",)], name


class _Seen(FileSystemEventHandler):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        with self.lock:
            self.events.append(f"{event.event_type} {event.src_path}")


@pytest.fixture
def watched_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, _Seen]]:
    """The temporary folder of this process (TMPDIR and tempfile's cached choice) is an
    empty folder watched by inotify, so a file made and removed again is still seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # chosen again, from TMPDIR
    assert tempfile.gettempdir() == str(folder)
    seen = _Seen()
    observer = Observer()
    observer.schedule(seen, str(folder), recursive=True)
    observer.start()
    try:
        yield folder, seen
    finally:
        observer.stop()
        observer.join(timeout=10)


def test_serve_writes_no_temporary_file(
    home_with_models: Path, watched_tmp: tuple[Path, _Seen], tmp_path: Path
) -> None:
    """A FHIR report and a DICOM SR enriched over HTTP (stated TNM, rules first: the answers
    come without model calls), while inotify watches the temporary folder."""
    folder, seen = watched_tmp
    sr = make_sr(
        tmp_path / "sr.dcm",
        {"findings": "Right upper lobe mass.", "impression": "Stage cT2b cN1 cM0."},
    ).read_bytes()
    settings = serve_settings(_parse("serve", "--model", "smollm2-135m", "--tasks", "staging",
                                     "--rules-first"))  # fmt: skip
    pipeline = Pipeline(Registry.load(), settings.results.pipeline_settings())
    pipeline.warm_up()
    with _serving(settings, pipeline) as up:
        fhir = up.post("/fhir/DiagnosticReport/$enrich", (SAMPLES / INPUTS[0]).read_bytes(), FHIR)
        dicom = up.post("/dicom/enrich", sr, "application/dicom")
        misfiled = up.post("/fhir/DiagnosticReport/$enrich", sr, FHIR)  # an SR, by its preamble
    assert fhir[0] == 200 and dicom[0] == 200, (fhir[2][:300], dicom[2][:300])
    assert fhir[1]["content-type"] == WRITERS[OutputFormat.ENRICHED].media_type
    assert dicom[2][128:132] == b"DICM"
    # the answer's media type is the writer's, not the route's
    assert misfiled[0] == 200 and misfiled[1]["content-type"] == "application/dicom"
    assert misfiled[2][128:132] == b"DICM"
    assert list(folder.iterdir()) == []
    # inotify keeps order: once the barrier's event is in, every earlier one is too
    (folder / "barrier").write_bytes(b"")
    deadline = time.monotonic() + 30
    while not any("barrier" in event for event in seen.events):
        assert time.monotonic() < deadline, "inotify saw nothing"
        time.sleep(0.05)
    with seen.lock:
        before = seen.events[: next(i for i, e in enumerate(seen.events) if "barrier" in e)]
    assert before == []


def _impression_findings(report: Report) -> Findings:
    from tests.helpers import MODEL

    result = TaskResult(
        "impression", "impression", "Stable right upper lobe mass.", Status.CODED,
        Origin.MODEL, model=MODEL,
    )  # fmt: skip
    return Findings(report=report, results=(result,))


def test_the_enriched_sr_is_built_from_the_bytes_it_was_given(tmp_path: Path) -> None:
    """The input is named by a path that does not exist: the writer has only the bytes.
    Other bytes than the report was read from are refused, not cited as its predecessor."""
    data = make_sr(tmp_path / "sr.dcm", {"findings": "Mass.", "impression": "Mass."}).read_bytes()
    other = make_sr(tmp_path / "other.dcm", {"findings": "Clear.", "impression": "Clear."})
    (report,) = read_bytes(Path("nowhere/request.dcm"), data).reports
    writer = resolve(OutputFormat.ENRICHED, dicom_source=True)
    assert (writer.format, writer.per, writer.suffix) == (OutputFormat.ENRICHED_SR, Per.REPORT,
                                                          ".enriched.dcm")  # fmt: skip
    enriched = dcmread(BytesIO(writer.render([_impression_findings(report)], data)))
    original = dcmread(BytesIO(data))
    cited = enriched.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
    assert cited.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == original.SOPInstanceUID
    kept = len(original.ContentSequence)
    assert list(enriched.ContentSequence)[:kept] == list(original.ContentSequence)
    with pytest.raises(NotEnrichable, match="not the ones the report was read from"):
        writer.render([_impression_findings(report)], other.read_bytes())


def test_convert_bytes_touches_no_file_and_names_outputs_by_the_table(tmp_path: Path) -> None:
    """The core on a request's bytes: outputs in memory, named by the writers table; the
    same bytes through convert_file write exactly those bytes under those names."""
    data = (SAMPLES / "bulk-export.ndjson").read_bytes()
    pipeline = Pipeline(Registry.load(), ResultSettings(tasks=()).pipeline_settings())
    converted = convert_bytes(pipeline, Path("nowhere/export.ndjson"), data, "bundle")
    assert converted.reports == 2 and not converted.errors
    (rendered,) = converted.outputs
    assert rendered.name("export.ndjson") == "export.ndjson" + WRITERS[OutputFormat.BUNDLE].suffix
    source = tmp_path / "export.ndjson"
    source.write_bytes(data)
    outcome = convert_file(pipeline, source, tmp_path / "out", "bundle", len(data))
    assert [p.name for p in outcome.outputs] == [rendered.name("export.ndjson")]
    written = json.loads(outcome.outputs[0].read_bytes())
    assert [e["request"]["url"] for e in written["entry"]] == [
        e["request"]["url"] for e in json.loads(rendered.data)["entry"]
    ]
    over = convert_bytes(pipeline, Path("big.ndjson"), data, "bundle", max_bytes=len(data) - 1)
    assert not over.outputs and "setting max_input_mb" in over.errors[0].problem


def test_every_user_choice_has_one_writer_and_the_cli_offers_exactly_those() -> None:
    from radlite_fhir.cli import OUTPUT_FORMATS
    from radlite_fhir.naming import OUTPUT_SUFFIX

    assert tuple(f.value for f in CHOICES) == OUTPUT_FORMATS
    assert {f.value: WRITERS[f].suffix for f in CHOICES} == OUTPUT_SUFFIX
    assert set(WRITERS) == set(OutputFormat)
    suffixes = [w.suffix for w in WRITERS.values()]
    assert len(set(suffixes)) == len(suffixes)  # no two formats can share an output name
    choices = build_parser()._subparsers._group_actions[0].choices
    for command in ("convert", "watch"):
        (option,) = [a for a in choices[command]._actions if "--format" in a.option_strings]
        assert tuple(option.choices) == OUTPUT_FORMATS
    (bulk,) = [a for a in choices["bulk"]._actions if "--format" in a.option_strings]
    assert all(WRITERS[OutputFormat(f)].per is Per.FILE for f in bulk.choices)
