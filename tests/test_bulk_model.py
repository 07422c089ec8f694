"""`radlite bulk` through a real model: a shard converted by a Ray actor (a local Ray
instance, one worker) gives the resources and identifiers `radlite convert` gives it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from radlite_fhir.cli import main
from tests.conftest import REPO, SAMPLES

pytest.importorskip("ray", reason="the 'ray' extra is not installed")

SETTINGS = ["--model", "smollm2-135m", "--threads", "1", "--tasks", "rads,impression"]


def _resources(path: Path) -> list[dict]:
    """NDJSON resources less Provenance.recorded (the time of the run, by design)."""
    resources = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for resource in resources:
        if resource["resourceType"] == "Provenance":
            resource.pop("recorded")
    return resources


@pytest.mark.model
def test_bulk_on_a_model_writes_what_convert_writes(home_with_models: Path, tmp_path: Path) -> None:
    shard = SAMPLES / "bulk-export.ndjson"
    assert main(["convert", str(shard), "--out", str(tmp_path / "convert"), "--format",
                 "ndjson", *SETTINGS]) == 0  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "radlite_fhir.bulk", str(shard), "--out", str(tmp_path / "bulk"),
         "--ray", "local", "--workers", "1", *SETTINGS],
        cwd=REPO, env={**os.environ, "RADLITE_HOME": str(home_with_models)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "1 shards converted" in run.stdout

    name = "bulk-export.ndjson.ndjson"
    ours, theirs = _resources(tmp_path / "bulk" / name), _resources(tmp_path / "convert" / name)
    assert ours == theirs
    observations = [r for r in ours if r["resourceType"] == "Observation"]
    assert observations and all(r["id"] and r["identifier"] for r in observations)
