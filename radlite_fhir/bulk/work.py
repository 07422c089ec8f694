"""One shard's bytes in, its output texts and error records out: `convert_bytes` for the
per-shard formats (ndjson, bundle), with nothing written and no Ray.

The actor runs this and hands the texts back to the driver, which alone writes the output
folder (atomically) and the manifest, so a shard is never half-written by a dying actor and
the cluster needs no shared output folder. The conversion is `radlite convert`'s own core
(`radlite_fhir.convert.convert_bytes`), so the outputs are the ones convert writes; the tests
convert the same shards both ways and compare.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radlite_fhir.convert import convert_bytes
from radlite_fhir.errors import InputError
from radlite_fhir.pipeline import Pipeline
from radlite_fhir.writers.table import OutputFormat


@dataclass
class ShardResult:
    """`outputs`: output name -> text. `errors`: {"line", "error"} records, as
    `convert.error_record` writes them less the file (the driver adds the shard's label)."""

    sha256: str
    outputs: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    reports: int = 0


def error_fields(error: InputError) -> dict[str, Any]:
    return {"line": error.line, "error": error.problem}


def convert_shard(
    pipeline: Pipeline, path: Path, data: bytes, output_format: str | OutputFormat
) -> ShardResult:
    """Enrich every report in `data` (the content of `path`, whose suffix picks NDJSON) and
    render the shard's one output, through `convert_bytes`, the core `radlite convert` runs.
    Input problems are returned, not raised."""
    converted = convert_bytes(pipeline, path, data, output_format)
    return ShardResult(
        sha256=hashlib.sha256(data).hexdigest(),
        outputs={
            rendered.name(path.name): rendered.data.decode("utf-8")
            for rendered in converted.outputs
        },
        errors=[error_fields(error) for error in converted.errors],
        reports=converted.reports,
    )
