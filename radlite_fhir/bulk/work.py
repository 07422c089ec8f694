"""One shard's bytes in, its output texts and error records out: `convert_file`'s steps for
the per-shard formats (ndjson, bundle), with nothing written and no Ray.

The actor runs this and hands the texts back to the driver, which alone writes the output
folder (atomically) and the manifest, so a shard is never half-written by a dying actor and
the cluster needs no shared output folder. It follows `radlite_fhir.convert.convert_file`
step by step (read, enrich each report, a report the model cannot read listed as that
report's error, render) so that the outputs are the ones `radlite convert` writes; the tests
convert the same shards both ways and compare.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radlite_fhir.errors import InputError, NotEnrichable
from radlite_fhir.naming import output_name
from radlite_fhir.pipeline import Pipeline, ReportNotEnriched
from radlite_fhir.readers import read_bytes
from radlite_fhir.report import Findings
from radlite_fhir.writers.fhir import render


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


def convert_shard(pipeline: Pipeline, path: Path, data: bytes, output_format: str) -> ShardResult:
    """Enrich every report in `data` (the content of `path`, whose suffix picks NDJSON) and
    render the shard's one output. Input problems are returned, not raised."""
    result = ShardResult(sha256=hashlib.sha256(data).hexdigest())
    try:
        read = read_bytes(path, data)
    except InputError as exc:
        result.errors.append(error_fields(exc))
        return result
    result.errors.extend(error_fields(error) for error in read.errors)
    total = result.reports = len(read.reports)
    findings: list[Findings] = []
    for number, report in enumerate(read.reports, start=1):
        try:
            findings.append(pipeline.enrich(report))
        except ReportNotEnriched as exc:
            problem = InputError(path, f"report {number} of {total} not enriched: {exc}")
            result.errors.append(error_fields(problem))
    if not findings:
        return result
    try:
        text = render(findings, output_format)
    except NotEnrichable as exc:
        result.errors.append(error_fields(InputError(path, str(exc))))
        return result
    result.outputs[output_name(path.name, output_format)] = text
    return result
