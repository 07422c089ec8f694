"""The driver of a bulk run: plan the shards, skip the finished ones, read the rest with Ray
Data into an actor pool, and write each shard's outputs and manifest line as it comes back.

Ray Data fits the shape of the work: the dataset is the shards' locations, and `map_batches`
with an `ActorPoolStrategy` runs a fixed pool of actors that each load the model once, read
each shard's bytes where they run (a backlog of shards is never in memory, and no bytes pass
through the driver), and restarts one that dies. One shard per batch, and at most one in
flight per actor, so a slow shard does not hold a queue behind it. The locations are the
dataset rather than `read_binary_files`' bytes because that reader runs as tasks of their
own: on a small machine their worker processes cost seconds before the first shard starts
(measured: 6.8 s vs 4.4 s to the first result of a trivial actor on 2 cores).

Only the driver writes the output folder: an output is written to a temporary file,
fsynced and renamed (`convert.write_atomic`), the folder fsynced, and then the shard's
manifest line appended and fsynced. `errors.jsonl` is rewritten (atomically) from the
manifest's finished shards plus this run's refused and failed ones, so a resumed run lists
no error twice. Inputs must be readable at the same path on every node (one machine, or a
shared file system).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radlite_fhir.bulk.actor import HOLD_ENV, ShardConverter
from radlite_fhir.bulk.manifest import ERRORS_NAME, Manifest, ShardRecord, fsync_dir
from radlite_fhir.bulk.settings import RAY_AUTO, RAY_LOCAL, BulkSettings, fingerprint
from radlite_fhir.bulk.shards import Shard, plan_shards
from radlite_fhir.convert import write_atomic
from radlite_fhir.errors import RadliteError

RAY_EXTRA_HINT = "pip install 'radlite-fhir[ray]'  (or ./scripts/install.sh --dev)"


class RayMissing(RadliteError):
    """Ray is not installed: `radlite bulk` needs the `ray` extra."""


class ClusterUnreachable(RadliteError):
    """--ray names an address where no Ray head answers."""


class ClusterTooSmall(RadliteError):
    """The cluster has fewer CPUs than --workers x --threads asks for."""


@dataclass
class BulkSummary:
    """What a run did; `errors` is the number of records in errors.jsonl."""

    shards: int = 0
    skipped: int = 0  # finished by an earlier run
    converted: int = 0
    failed: int = 0  # refused before the cluster, or failed in a worker (not finished)
    errors: int = 0
    converted_names: list[str] = field(default_factory=list)


def import_ray() -> Any:
    """The `ray` module with Ray Data, or RayMissing saying how to install it."""
    try:
        import ray
        import ray.data  # the [data] part of the extra
    except ImportError:
        raise RayMissing(
            f"radlite bulk needs Ray (the optional 'ray' extra): {RAY_EXTRA_HINT}"
        ) from None
    return ray


def run_bulk(settings: BulkSettings, echo: Callable[[str], None] = print) -> BulkSummary:
    """Convert every unfinished shard of `settings.inputs` into `settings.out`."""
    from radlite_fhir.coding import load_code_tables
    from radlite_fhir.engine.registry import Registry
    from radlite_fhir.pipeline import Pipeline

    ray = import_ray()
    load_code_tables()  # a broken code table stops the run before the cluster is asked
    pipeline = Pipeline(Registry.load(), settings.pipeline_settings())  # routing only
    manifest = Manifest.open(settings.out, fingerprint(settings, pipeline))
    plan = plan_shards(settings.inputs, settings.max_bytes)
    pending = [s for s in plan.shards if not manifest.finished(s.name, s.sha256)]
    summary = BulkSummary(
        shards=len(plan.shards) + len(plan.refused),
        skipped=len(plan.shards) - len(pending),
        failed=len(plan.refused),
    )
    run_errors: list[dict[str, Any]] = [
        {"file": error.path, "line": error.line, "error": error.problem} for error in plan.refused
    ]
    for error in plan.refused:
        echo(f"error: {error}")
    rewrite_errors(settings.out, manifest, run_errors)
    if summary.skipped:
        echo(f"{summary.skipped} shards already finished in {settings.out}; not redone")
    if pending:
        by_location = {os.path.normpath(shard.location): shard for shard in pending}
        for location, result in _convert_on_ray(ray, settings, list(by_location)):
            shard = by_location.pop(os.path.normpath(location))
            if result["status"] != "done":
                summary.failed += 1
                run_errors.append({"file": shard.label, "line": None, "error": result["error"]})
                echo(f"error: {shard.label}: {result['error']}")
                rewrite_errors(settings.out, manifest, run_errors)
                continue
            record = finish_shard(settings.out, manifest, shard, result)
            summary.converted += 1
            summary.converted_names.append(shard.name)
            if record.errors:
                rewrite_errors(settings.out, manifest, run_errors)
            written = ", ".join(record.outputs) or "nothing to write"
            problems = f"; {len(record.errors)} errors" if record.errors else ""
            echo(f"{shard.label} -> {written}: {record.reports} reports{problems}")
    summary.errors = rewrite_errors(settings.out, manifest, run_errors)
    return summary


def finish_shard(
    out_dir: Path, manifest: Manifest, shard: Shard, result: dict[str, Any]
) -> ShardRecord:
    """Write the shard's outputs atomically, make them durable, then record it finished."""
    for name, text in result["outputs"].items():
        write_atomic(out_dir / name, text)
    fsync_dir(out_dir)
    record = ShardRecord(
        name=shard.name,
        label=shard.label,
        sha256=result["sha256"],  # what the worker converted, should the file have changed
        outputs=tuple(result["outputs"]),
        errors=tuple(result["errors"]),
        reports=int(result["reports"]),
    )
    manifest.record(record)
    return record


def rewrite_errors(out_dir: Path, manifest: Manifest, run_errors: Iterable[dict[str, Any]]) -> int:
    """errors.jsonl: every finished shard's error records (file, line, error: the same
    fields `convert` writes), then this run's; written atomically. Returns the count."""
    lines = [
        json.dumps({"file": record.label, **error}, ensure_ascii=False)
        for record in manifest.records.values()
        for error in record.errors
    ]
    lines.extend(json.dumps(error, ensure_ascii=False) for error in run_errors)
    path = out_dir / ERRORS_NAME
    if lines:
        write_atomic(path, "".join(line + "\n" for line in lines))
    else:
        path.unlink(missing_ok=True)
    return len(lines)


def _convert_on_ray(
    ray: Any, settings: BulkSettings, locations: list[str]
) -> Iterable[tuple[str, dict[str, Any]]]:
    """(location, result) for each shard, in the order they finish."""
    _connect(ray, settings)
    try:
        total_cpus = int(ray.cluster_resources().get("CPU", 0))
        workers = settings.workers or max(1, total_cpus // settings.threads)
        if workers * settings.threads > total_cpus:
            raise ClusterTooSmall(
                f"the Ray cluster has {total_cpus} CPUs; --workers {workers} x --threads "
                f"{settings.threads} needs {workers * settings.threads}"
            )
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        if not logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("ray.data").setLevel(logging.WARNING)
        dataset = ray.data.from_items(
            [{"path": location} for location in locations],
            override_num_blocks=len(locations),
        ).map_batches(
            ShardConverter,
            fn_constructor_kwargs={"settings": settings, "hold": os.environ.get(HOLD_ENV)},
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
            num_cpus=settings.threads,
        )
        # One batch per output block, none fetched ahead: iter_rows() holds a finished
        # shard back until the next one is out, so a stalled shard would stall the writes.
        for batch in dataset.iter_batches(batch_size=None, prefetch_batches=0):
            for location, result in zip(batch["path"], batch["result"], strict=True):
                yield str(location), json.loads(str(result))
    finally:
        ray.shutdown()


def _connect(ray: Any, settings: BulkSettings) -> None:
    """--ray auto: the cluster RAY_ADDRESS or this machine's `ray start` names, else a new
    local one; local: always a new local one; anything else: that cluster's address."""
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    # Ray reports usage statistics to its vendor unless told not to; a hospital's cluster
    # tells nobody anything. A site that wants it sets the variable itself.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if settings.ray == RAY_LOCAL:
        cpus = settings.workers * settings.threads if settings.workers else os.cpu_count()
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    elif settings.ray == RAY_AUTO:
        ray.init(**quiet)
    else:
        try:
            ray.init(address=settings.ray, **quiet)
        except ConnectionError as exc:  # no head at that address: a usage error, not a crash
            raise ClusterUnreachable(f"no Ray cluster at {settings.ray}: {exc}") from None
