"""`radlite bench --scale`: throughput with 1, 2, … workers, side by side in one run.

The same reports (the samples' DiagnosticReports in turn, with new ids, in NDJSON shards) go
through each way the product scales, every round a fresh set of processes, as a user runs it:
- `convert`: one process (the baseline, and the reference for Ray's overhead);
- `watch`: `radlite watch --workers N`, each worker its own in-process model;
- `watch+server`: `radlite watch --workers N` sharing one llama-server with N slots;
- `bulk`: `radlite bulk --workers N` on a local Ray instance.
Each worker (or server slot) gets `threads` llama.cpp threads, so N workers use N×threads
cores and linear scaling means N times the one-worker rate. Two rates per round: end to end
(process start and model loads included) and steady (reports of the output files after the
first, over the time from the first output to the last: the part that grows with a
backlog). The per-report Observation identifiers of every round are compared with convert's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from radlite_fhir.engine.llama_server import free_port
from radlite_fhir.engine.registry import Registry, radlite_home

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
CLI = [sys.executable, "-m", "radlite_fhir.cli"]


class ScaleMode(StrEnum):
    CONVERT = "convert"
    WATCH = "watch"
    WATCH_SERVER = "watch+server"
    BULK = "bulk"


@dataclass(frozen=True)
class ScaleRound:
    mode: str
    workers: int
    reports: int
    seconds: float
    end_to_end_per_min: float
    steady_per_min: float
    same_identifiers: bool
    # What this round coded otherwise than convert: "missing|extra: <code>: <value>" per
    # Observation (the samples are public, and these are codes, not report text).
    parted: tuple[str, ...] = ()


def sample_reports() -> list[dict[str, Any]]:
    """Every DiagnosticReport in samples/ (the single reports and the bulk export)."""
    reports = [
        json.loads(line)
        for line in (SAMPLES / "bulk-export.ndjson").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for path in sorted(SAMPLES.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource.get("resourceType") == "DiagnosticReport":
            reports.append(resource)
    return reports


def write_shards(folder: Path, total: int, per_shard: int) -> None:
    """`total` reports, the samples in turn with new ids, `per_shard` to an NDJSON shard."""
    samples = sample_reports()
    lines = []
    for number in range(total):
        report = dict(samples[number % len(samples)])
        report["id"] = f"bench-{number:04d}"
        lines.append(json.dumps(report, ensure_ascii=False))
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, total, per_shard):
        shard = folder / f"DiagnosticReport_{start // per_shard:03d}.ndjson"
        shard.write_text("\n".join(lines[start : start + per_shard]) + "\n", encoding="utf-8")


def _observations(out: Path) -> dict[str, str]:
    """Every Observation in the NDJSON outputs under `out`, by identifier (system|value), with
    what it codes: identical across modes when every front end codes every report alike."""
    found: dict[str, str] = {}
    for path in sorted(out.rglob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            resource = json.loads(line) if line.strip() else {}
            if resource.get("resourceType") == "Observation":
                for i in resource["identifier"]:
                    found[f"{i['system']}|{i['value']}"] = _coded(resource)
    return found


def _coded(observation: dict[str, Any]) -> str:
    code = observation.get("code", {}).get("text", "?")
    concept = observation.get("valueCodeableConcept", {})
    value = concept.get("text") or next(
        (c.get("code") for c in concept.get("coding", [])), observation.get("valueString", "-")
    )
    return f"{code}: {value}"


def _parted(reference: dict[str, str], observations: dict[str, str]) -> tuple[str, ...]:
    missing = [f"missing: {reference[k]}" for k in sorted(reference.keys() - observations)]
    extra = [f"extra: {observations[k]}" for k in sorted(observations.keys() - reference)]
    return tuple(missing + extra)


def _rates(out: Path, reports: int, seconds: float) -> tuple[float, float]:
    """(end to end, steady) reports per minute, the steady rate from output times."""
    outputs = sorted((p.stat().st_mtime, p) for p in out.rglob("*.ndjson"))
    lines = [sum(1 for _ in p.open(encoding="utf-8")) for _, p in outputs]
    total_lines = sum(lines) or 1
    per_line = reports / total_lines  # outputs hold several resources per report
    window = outputs[-1][0] - outputs[0][0] if len(outputs) > 1 else 0.0
    steady = sum(lines[1:]) * per_line
    return 60 * reports / seconds, (60 * steady / window if window > 0 else float("nan"))


def _run(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def _watch(
    inbox: Path, out: Path, state: Path, workers: int, base: list[str], env: dict[str, str]
) -> float:
    """Start `radlite watch --workers N`, wait until every input is done, stop it."""
    from radlite_fhir.service.ledger import Ledger

    expected = len(list(inbox.iterdir()))
    command = [*CLI, "watch", "--workers", str(workers), "--inbox", str(inbox), "--outbox",
               str(out), "--state-dir", str(state), "--format", "ndjson", "--min-age-ms", "0",
               "--metrics-port", "0", *base]  # fmt: skip
    began = time.perf_counter()
    service = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        ledger: Ledger | None = None
        while service.poll() is None:
            if ledger is None and (state / "ledger.sqlite3").exists():
                ledger = Ledger(state / "ledger.sqlite3")
            counts = ledger.counts() if ledger is not None else {}
            if counts.get("done", 0) + counts.get("failed", 0) >= expected:
                break
            time.sleep(0.2)
        if ledger is not None:
            ledger.close()
        seconds = time.perf_counter() - began
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=600)
    return seconds


def _server_home(home: Path, model: str, url: str) -> Path:
    """A RADLITE_HOME beside the user's that routes `model` to the server at `url` (the
    user's registry is not touched)."""
    real = radlite_home()
    home.mkdir(parents=True)
    (home / "models").symlink_to(real / "models")
    if (real / "registry.toml").exists():
        shutil.copy(real / "registry.toml", home / "registry.toml")
    previous = os.environ.get("RADLITE_HOME")
    os.environ["RADLITE_HOME"] = str(home)
    try:
        from radlite_fhir.engine.registry import RuntimeKind

        Registry.load().set_runtime(model, RuntimeKind.SERVER, url=url)
    finally:
        if previous is None:
            os.environ.pop("RADLITE_HOME")
        else:
            os.environ["RADLITE_HOME"] = previous
    return home


def run_scale(
    reports: int, per_shard: int, workers: list[int], threads: int, model: str | None,
    tasks: str, modes: list[ScaleMode],
) -> dict[str, Any]:  # fmt: skip
    """Every mode at every worker count; convert once (one worker)."""
    from radlite_fhir.engine.llama_server import ServerProcess

    spec = Registry.load().get(model or "default")
    base = ["--tasks", tasks, "--threads", str(threads), "--model", spec.name]
    rounds: list[ScaleRound] = []
    with tempfile.TemporaryDirectory(prefix="radlite-scale-") as tmp:
        root = Path(tmp)
        shards = root / "shards"
        write_shards(shards, reports, per_shard)
        env = {**os.environ}
        reference: dict[str, str] | None = None

        def record(mode: ScaleMode, count: int, out: Path, seconds: float) -> None:
            nonlocal reference
            observations = _observations(out)
            reference = observations if reference is None else reference
            parted = _parted(reference, observations)
            end_to_end, steady = _rates(out, reports, seconds)
            rounds.append(
                ScaleRound(
                    mode.value,
                    count,
                    reports,
                    round(seconds, 1),
                    round(end_to_end, 2),
                    round(steady, 2),
                    not parted,
                    parted,
                )
            )

        out = root / "convert"
        seconds = _run(
            [*CLI, "convert", str(shards), "--out", str(out), "--format", "ndjson", *base], env
        )
        record(ScaleMode.CONVERT, 1, out, seconds)
        for count in workers:
            for mode in modes:
                if mode is ScaleMode.CONVERT:
                    continue
                out, inbox = root / f"{mode}-{count}", root / f"{mode}-{count}-inbox"
                shutil.copytree(shards, inbox)
                if mode is ScaleMode.WATCH:
                    seconds = _watch(inbox, out, root / f"{mode}-{count}-state", count, base, env)
                elif mode is ScaleMode.WATCH_SERVER:
                    server = ServerProcess(spec, "127.0.0.1", free_port(), count, threads * count)
                    server.start()
                    home = _server_home(root / f"home-{count}", spec.name, server.url)
                    try:
                        seconds = _watch(inbox, out, root / f"{mode}-{count}-state", count,
                                         base, {**env, "RADLITE_HOME": str(home)})  # fmt: skip
                    finally:
                        server.stop()
                else:
                    seconds = _run(
                        [*CLI, "bulk", str(inbox), "--out", str(out), "--format", "ndjson",
                         "--ray", "local", "--workers", str(count), *base],
                        env,
                    )  # fmt: skip
                record(mode, count, out, seconds)
    by_mode: dict[str, float] = {}
    document_rounds = []
    for item in rounds:
        one = by_mode.setdefault(item.mode, item.steady_per_min / item.workers)
        document_rounds.append(
            {**asdict(item), "x_linear": round(item.steady_per_min / (one * item.workers), 2)}
        )
    convert = next(r for r in rounds if r.mode == ScaleMode.CONVERT)
    bulk_one = next((r for r in rounds if r.mode == ScaleMode.BULK and r.workers == 1), None)
    return {
        "model": spec.name,
        "reports": reports,
        "threads_per_worker": threads,
        "cpus": os.cpu_count(),
        "load_average_end": round(os.getloadavg()[0], 2),
        "rounds": document_rounds,
        "ray_overhead": round(bulk_one.seconds / convert.seconds - 1, 3) if bulk_one else None,
    }


def format_scale(document: dict[str, Any]) -> str:
    lines = [
        f"radlite bench --scale: {document['reports']} reports, model {document['model']}, "
        f"{document['threads_per_worker']} thread(s) per worker, {document['cpus']} CPUs, "
        f"load average {document['load_average_end']} at the end",
        f"{'mode':>13} {'workers':>8} {'seconds':>8} {'end-to-end/min':>15} {'steady/min':>11} "
        f"{'x linear':>9} {'same ids':>9}",
    ]
    for r in document["rounds"]:
        lines.append(
            f"{r['mode']:>13} {r['workers']:>8} {r['seconds']:>8.1f} "
            f"{r['end_to_end_per_min']:>15.2f} {r['steady_per_min']:>11.2f} "
            f"{r['x_linear']:>9.2f} {'yes' if r['same_identifiers'] else 'NO':>9}"
        )
    for r in document["rounds"]:
        for item in r.get("parted", ()):
            lines.append(f"  {r['mode']} x{r['workers']} coded otherwise than convert: {item}")
    if document["ray_overhead"] is not None:
        lines.append(f"Ray overhead (bulk, 1 worker, vs convert, end to end): "
                     f"{100 * document['ray_overhead']:+.1f}%")  # fmt: skip
    return "\n".join(lines)
