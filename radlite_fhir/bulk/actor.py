"""The Ray Data callable that converts shards: one per actor, the model loaded once.

Ray Data builds one `ShardConverter` per actor of the pool; its constructor loads the code
tables and every routed model (`Pipeline.warm_up`), and each call reads and converts the shards
of one batch (one shard per batch) with `work.convert_shard`. The result goes back to the driver as
one JSON text per shard, so empty lists and absent values need no Arrow schema. A shard that
fails in a way `convert` would not survive either (a bug, not an input problem) comes back
as `failed` with the exception's type only (its message could quote report text), and is
not finished: a rerun tries it again.

Ray restarts an actor whose process or node died and retries the shard it held (Ray Data's
actor pools default to unlimited restarts and retries), so a killed worker costs that
shard's work, not the run.

`RADLITE_BULK_TEST_HOLD` (a folder; the tests' seam for killing a worker mid-shard, read by
the driver and passed here): before each shard the actor writes `<folder>/<name>.started`
holding its process id, then waits until `<folder>/<name>.go` or `<folder>/all.go` exists.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from radlite_fhir.bulk.settings import BulkSettings
from radlite_fhir.bulk.work import convert_shard

HOLD_ENV = "RADLITE_BULK_TEST_HOLD"
HOLD_CEILING_S = 600.0  # a test that never releases a shard does not hang the worker forever


class ShardConverter:
    """Ray Data actor: `__call__` takes a batch with a `path` column and gives `path` and
    `result` columns; it reads each shard where it runs."""

    def __init__(self, settings: BulkSettings, hold: str | None = None) -> None:
        from radlite_fhir.coding import load_code_tables
        from radlite_fhir.engine.registry import Registry
        from radlite_fhir.pipeline import Pipeline

        load_code_tables()
        self.settings = settings
        self.hold = Path(hold) if hold else None
        self.pipeline = Pipeline(Registry.load(), settings.pipeline_settings())
        self.pipeline.warm_up()  # the model loads here, once per actor

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        paths: list[str] = []
        results: list[str] = []
        for location in batch["path"]:
            paths.append(str(location))
            results.append(json.dumps(self._one(Path(str(location)))))
        return {"path": paths, "result": results}

    def _one(self, path: Path) -> dict[str, Any]:
        if self.hold is not None:
            _wait_for_release(self.hold, path.name)
        try:
            data = path.read_bytes()
        except OSError as exc:  # moved or unreadable since it was planned: not finished
            return {"status": "failed", "error": f"cannot read the shard: {exc.strerror}"}
        try:
            result = convert_shard(self.pipeline, path, data, self.settings.output_format)
        except Exception as exc:  # a bug, not the input: the shard stays unfinished
            return {"status": "failed", "error": f"internal error: {type(exc).__name__}"}
        return {
            "status": "done",
            "sha256": result.sha256,
            "outputs": result.outputs,
            "errors": result.errors,
            "reports": result.reports,
        }


def _wait_for_release(folder: Path, name: str) -> None:
    """The test seam described in the module docstring."""
    (folder / f"{name}.started").write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + HOLD_CEILING_S
    while time.monotonic() < deadline:
        if (folder / f"{name}.go").exists() or (folder / "all.go").exists():
            return
        time.sleep(0.05)
