"""`radlite bulk` on a real two-node Ray cluster that the test starts on this machine: the
outputs are `radlite convert`'s, a driver killed mid-run is resumed without redoing finished
shards, and a worker node killed mid-shard (its raylet SIGKILLed) costs nothing: the run
completes with every shard converted once.

No model (`--tasks none`): the cluster, the manifest and the writes are what is tested; the
model path is tests/test_bulk_model.py. A shard is held mid-conversion by the actor's test
seam (RADLITE_BULK_TEST_HOLD, radlite_fhir/bulk/actor.py): the actor writes
`<hold>/<shard>.started` with its process id and waits for `<shard>.go` or `all.go`, so the
kills happen while a shard is in a worker, without timing. Every wait is on a condition with a
generous ceiling. `ray stop` runs in the fixture's finalizer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from radlite_fhir.bulk.actor import HOLD_ENV
from radlite_fhir.bulk.manifest import ERRORS_NAME, MANIFEST_NAME
from radlite_fhir.convert import convert_file, error_record, expand_inputs
from radlite_fhir.engine.registry import Registry
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from tests.conftest import REPO, SAMPLES

pytest.importorskip("ray", reason="the 'ray' extra is not installed")

RAY = Path(sys.executable).with_name("ray")
CEILING_S = 240.0
MARKER = "ZZBULKCLUSTERZZ"


def _wait(condition: Callable[[], object], what: str, ceiling: float = CEILING_S) -> object:
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {ceiling:.0f} s: {what}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raylets() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "raylet":
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@dataclass
class Cluster:
    address: str
    worker_raylet: int


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A head and one worker node, one CPU each, on this machine. Ray turns 127.0.0.1 into
    the machine's own address for a multi-node cluster (ray/_private/services.py
    resolve_ip_for_localhost); nothing leaves the machine."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="rl-ray-", dir="/tmp")  # short: Unix socket paths
    common = ["--num-cpus=1", "--disable-usage-stats", "--dashboard-agent-listen-port=0"]
    try:
        before = _raylets()
        subprocess.run(
            [RAY, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
             "--include-dashboard=false", f"--temp-dir={temp}", *common],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        head = _raylets() - before
        subprocess.run(
            [RAY, "start", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1",
             *common],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        (worker,) = _raylets() - before - head
        yield Cluster(address=f"127.0.0.1:{port}", worker_raylet=worker)
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def _shards(folder: Path) -> Path:
    """Three NDJSON shards (one with a bad line and a line that is not JSON, whose errors must
    not quote it) and a Bundle."""
    folder.mkdir()
    export = (SAMPLES / "bulk-export.ndjson").read_text(encoding="utf-8")
    bad = json.dumps({"resourceType": "DiagnosticReport", "status": MARKER, "code": {}})
    (folder / "DiagnosticReport_1.ndjson").write_text(export, encoding="utf-8")
    (folder / "DiagnosticReport_2.ndjson").write_text(
        export + bad + "\n" + MARKER + "\n", encoding="utf-8"
    )
    (folder / "DiagnosticReport_3.ndjson").write_text(export, encoding="utf-8")
    shutil.copy(SAMPLES / "bundle-ct-head.json", folder / "bundle-ct-head.json")
    return folder


@dataclass
class Run:
    """A `python -m radlite_fhir.bulk` process; its output goes to files (a pipe nobody
    reads while the test waits would fill up and stop it)."""

    process: subprocess.Popen[bytes]
    log: Path

    def finish(self) -> tuple[int, str, str]:
        code = self.process.wait(timeout=CEILING_S)
        stdout = self.log.with_suffix(".out").read_text(encoding="utf-8")
        return code, stdout, self.log.with_suffix(".err").read_text(encoding="utf-8")


def _bulk(inputs: Path, out: Path, address: str, hold: Path, *extra: str) -> Run:
    hold.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "radlite_fhir.bulk", str(inputs), "--out", str(out),
               "--tasks", "none", "--ray", address, *extra]  # fmt: skip
    log = hold.with_name(f"{hold.name}-driver.log")
    with log.with_suffix(".out").open("wb") as stdout, log.with_suffix(".err").open("wb") as err:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, HOLD_ENV: str(hold)}, stdout=stdout, stderr=err
        )
    return Run(process, log)


def _started(hold: Path) -> dict[str, int]:
    return {
        p.name.removesuffix(".started"): int(p.read_text() or 0)
        for p in hold.glob("*.started")
        if p.read_text()
    }


def _manifest_names(out: Path) -> list[str]:
    path = out / MANIFEST_NAME
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [line["name"] for line in lines if line.get("kind") == "shard"]


def _without_timestamps(text: str, output_format: str) -> list[dict]:
    """Parsed resources less Provenance.recorded, the one timestamp the writer puts in."""
    if output_format == "bundle":
        resources = [e["resource"] for e in json.loads(text)["entry"]]
    else:
        resources = [json.loads(line) for line in text.splitlines()]
    for resource in resources:
        if resource.get("resourceType") == "Provenance":
            resource.pop("recorded")
    return resources


def _convert(inputs: Path, out: Path, output_format: str) -> None:
    """What `radlite convert` does per input (cli.cmd_convert), with no tasks."""
    pipeline = Pipeline(Registry.load(), PipelineSettings(tasks=()))
    lines = []
    for source in expand_inputs([inputs]):
        outcome = convert_file(pipeline, source, out, output_format, 20_000_000)
        lines.extend(error_record(error) + "\n" for error in outcome.errors)
    (out / ERRORS_NAME).write_text("".join(lines), encoding="utf-8")


def _assert_same_as_convert(inputs: Path, out: Path, tmp_path: Path, output_format: str) -> None:
    converted = tmp_path / f"convert-{output_format}"
    converted.mkdir()
    _convert(inputs, converted, output_format)
    suffix = ".bundle.json" if output_format == "bundle" else ".ndjson.ndjson"
    names = sorted(p.name for p in converted.iterdir() if p.name != ERRORS_NAME)
    assert sorted(p.name for p in out.glob(f"*{suffix.split('.', 2)[-1]}")) == names
    for name in names:
        assert _without_timestamps(
            (out / name).read_text(encoding="utf-8"), output_format
        ) == _without_timestamps((converted / name).read_text(encoding="utf-8"), output_format)
    ours = (out / ERRORS_NAME).read_text(encoding="utf-8").splitlines()
    theirs = (converted / ERRORS_NAME).read_text(encoding="utf-8").splitlines()
    assert Counter(ours) == Counter(theirs) and len(ours) == 2
    assert MARKER not in "".join(ours)


def test_a_killed_driver_is_resumed_without_redoing_finished_shards(
    cluster: Cluster, tmp_path: Path
) -> None:
    inputs = _shards(tmp_path / "in")
    out, hold = tmp_path / "out", tmp_path / "hold-1"
    first = _bulk(inputs, out, cluster.address, hold, "--workers", "1")
    (done,) = _wait(lambda: list(_started(hold)), "the first shard reaches the actor")
    (hold / f"{done}.go").touch()
    _wait(lambda: _manifest_names(out) == [done], "the first shard is finished")
    _wait(lambda: len(_started(hold)) == 2, "the second shard is in the actor")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=CEILING_S)
    held = (set(_started(hold)) - {done}).pop()
    assert not (out / f"{held}.ndjson").exists()

    hold = tmp_path / "hold-2"
    hold.mkdir()
    (hold / "all.go").touch()
    code, stdout, stderr = _bulk(inputs, out, cluster.address, hold, "--workers", "1").finish()
    assert code == 1, stderr  # 1: the shard with bad lines has errors
    shards = {p.name for p in inputs.iterdir()}
    assert set(_started(hold)) == shards - {done}  # the finished shard was not redone
    assert "1 shards already finished" in stdout and "3 shards converted" in stdout
    assert Counter(_manifest_names(out)) == Counter(shards)  # each shard once
    _assert_same_as_convert(inputs, out, tmp_path, "ndjson")

    code, stdout, _ = _bulk(inputs, out, cluster.address, tmp_path / "hold-3").finish()
    assert code == 1 and "0 shards converted, 4 already finished" in stdout
    assert not _started(tmp_path / "hold-3")  # a finished run asks the cluster nothing


def test_a_worker_node_killed_mid_shard_loses_nothing_and_repeats_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Runs last in this module: the worker node does not come back."""
    inputs = _shards(tmp_path / "in")
    out, hold = tmp_path / "out", tmp_path / "hold"
    run = _bulk(inputs, out, cluster.address, hold, "--workers", "2", "--format", "bundle")
    started = _wait(lambda: len(_started(hold)) == 2 and _started(hold), "both actors hold one")
    assert isinstance(started, dict)
    on_worker = [n for n, pid in started.items() if _parent(pid) == cluster.worker_raylet]
    assert len(on_worker) == 1, started  # one actor per node: one CPU each
    os.kill(cluster.worker_raylet, signal.SIGKILL)
    (hold / "all.go").touch()
    code, stdout, stderr = run.finish()

    assert code == 1, stderr
    shards = {p.name for p in inputs.iterdir()}
    assert "4 shards converted" in stdout
    assert Counter(_manifest_names(out)) == Counter(shards)  # nothing lost, nothing twice
    assert on_worker[0] in _started(hold)
    _assert_same_as_convert(inputs, out, tmp_path, "bundle")
