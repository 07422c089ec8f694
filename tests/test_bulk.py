"""`radlite bulk` without a cluster: the manifest that makes a rerun skip finished shards,
the shard plan (the checks `convert` makes before reading), the per-shard conversion against
`convert_file`, and the message when Ray is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from radlite_fhir.bulk.manifest import MANIFEST_NAME, Manifest, ManifestMismatch, ShardRecord
from radlite_fhir.bulk.shards import plan_shards
from radlite_fhir.bulk.work import convert_shard
from radlite_fhir.convert import convert_file, error_record
from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from tests.conftest import REPO, SAMPLES

SETTINGS = {"format": "ndjson", "tasks": []}
MARKER = "ZZBULKMARKERZZ"


def _record(name: str, sha256: str = "a" * 64, outputs: tuple[str, ...] = ()) -> ShardRecord:
    return ShardRecord(
        name=name, label=f"in/{name}", sha256=sha256, outputs=outputs, errors=(), reports=1
    )


def test_a_finished_shard_is_skipped_only_with_its_content_and_outputs(tmp_path: Path) -> None:
    manifest = Manifest.open(tmp_path, SETTINGS)
    (tmp_path / "s1.ndjson.ndjson").write_text("{}\n")
    manifest.record(_record("s1.ndjson", outputs=("s1.ndjson.ndjson",)))
    manifest.record(_record("s2.ndjson", outputs=("s2.ndjson.ndjson",)))  # output gone

    again = Manifest.open(tmp_path, SETTINGS)
    assert again.finished("s1.ndjson", "a" * 64)
    assert not again.finished("s1.ndjson", "b" * 64)  # the shard's content changed
    assert not again.finished("s2.ndjson", "a" * 64)  # its output was removed
    assert not again.finished("s3.ndjson", "a" * 64)


def test_a_line_torn_by_a_crash_is_cut_and_its_shard_done_again(tmp_path: Path) -> None:
    manifest = Manifest.open(tmp_path, SETTINGS)
    manifest.record(_record("s1.ndjson"))
    with (tmp_path / MANIFEST_NAME).open("a", encoding="utf-8") as handle:
        handle.write(_record("s2.ndjson").to_line()[:40])  # no newline: the append was cut

    again = Manifest.open(tmp_path, SETTINGS)
    assert set(again.records) == {"s1.ndjson"}
    again.record(_record("s3.ndjson"))
    lines = (tmp_path / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line).get("name") for line in lines] == [None, "s1.ndjson", "s3.ndjson"]


def test_other_settings_or_a_folder_of_other_files_are_refused(tmp_path: Path) -> None:
    Manifest.open(tmp_path / "run", SETTINGS)
    with pytest.raises(ManifestMismatch, match=r"other settings \(format\)"):
        Manifest.open(tmp_path / "run", {**SETTINGS, "format": "bundle"})
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "rep.json.bundle.json").write_text("{}")
    with pytest.raises(ManifestMismatch, match=r"holds files but no bulk-manifest\.jsonl"):
        Manifest.open(tmp_path / "foreign", SETTINGS)


def test_the_plan_refuses_what_convert_refuses_and_a_second_file_of_one_name(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "s.ndjson").write_bytes((SAMPLES / "bulk-export.ndjson").read_bytes())
    (tmp_path / "b" / "s.ndjson").write_bytes((SAMPLES / "bulk-export.ndjson").read_bytes())
    (tmp_path / "a" / "empty.ndjson").write_bytes(b"")
    limit = len((SAMPLES / "bulk-export.ndjson").read_bytes())
    (tmp_path / "a" / "big.ndjson").write_bytes(b"x" * (limit + 1))

    plan = plan_shards([tmp_path / "a", tmp_path / "b"], max_bytes=limit)
    assert [s.name for s in plan.shards] == ["s.ndjson"]
    problems = sorted(
        f"{Path(e.path).parent.name}/{Path(e.path).name}: {e.problem}" for e in plan.refused
    )
    assert problems[0].startswith("a/big.ndjson: file is 0.0 MB, over the input limit")
    assert problems[1] == "a/empty.ndjson: file is empty"
    assert problems[2].startswith("b/s.ndjson: another input of this run has the file name")


def test_a_shard_converts_as_convert_file_converts_it(tmp_path: Path) -> None:
    """Without a model (no tasks): the same output text and the same error records."""
    shard = tmp_path / "mixed.ndjson"
    good = (SAMPLES / "bulk-export.ndjson").read_text(encoding="utf-8")
    bad = json.dumps({"resourceType": "DiagnosticReport", "status": MARKER, "code": {}})
    shard.write_text(good + bad + "\n{not json\n", encoding="utf-8")
    pipeline = Pipeline(Registry.load(), PipelineSettings(tasks=()))

    result = convert_shard(pipeline, shard, shard.read_bytes(), "bundle")
    outcome = convert_file(pipeline, shard, tmp_path / "convert", "bundle", 10_000_000)

    assert [p.name for p in outcome.outputs] == list(result.outputs)
    written = json.loads(outcome.outputs[0].read_text(encoding="utf-8"))
    assert json.loads(result.outputs["mixed.ndjson.bundle.json"]) == written
    assert [json.loads(error_record(e)) for e in outcome.errors] == [
        {"file": str(shard), **fields} for fields in result.errors
    ]
    assert len(result.errors) == 2 and result.reports == 2
    assert MARKER not in json.dumps(result.errors)


def test_without_ray_bulk_says_how_to_install_the_extra(tmp_path: Path) -> None:
    """Ray hidden from the import system, as on an install without the extra."""
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from radlite_fhir.bulk.command import main\n"
        f"raise SystemExit(main([{str(SAMPLES / 'bulk-export.ndjson')!r}, "
        f"'--out', {str(tmp_path / 'out')!r}]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2, run.stderr
    assert "radlite bulk needs Ray" in run.stderr
    assert "pip install 'radlite-fhir[ray]'" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()  # nothing written before the check
