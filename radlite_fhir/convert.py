"""Batch conversion: input files and folders in, one output per input, failures listed.

The front ends (CLI today, the drop-folder service and HTTP later) call `convert_file`; it
reads, enriches through the pipeline and writes atomically. Nothing here parses, prompts or
codes on its own.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from radlite_fhir.errors import InputError, NotEnrichable
from radlite_fhir.pipeline import Pipeline
from radlite_fhir.readers import read_path
from radlite_fhir.report import Findings
from radlite_fhir.writers.dicom_sr import NothingToWrite, enriched_sr_bytes, sr_bytes
from radlite_fhir.writers.fhir import render

INPUT_SUFFIXES = {".json", ".ndjson", ".jsonl", ".dcm"}
OUTPUT_SUFFIX = {
    "bundle": ".bundle.json",
    "enriched": ".enriched.json",
    "ndjson": ".ndjson",
    "sr": ".sr.dcm",
}
ENRICHED_SR_SUFFIX = ".enriched.dcm"  # `enriched` from an SR source: a new SR version


@dataclass
class FileOutcome:
    source: Path
    outputs: list[Path] = field(default_factory=list)
    findings: list[Findings] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def expand_inputs(paths: list[Path]) -> Iterator[Path]:
    """Files as given; folders walked (sorted) for FHIR JSON/NDJSON and DICOM, skipping
    dot-files."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix.lower() in INPUT_SUFFIXES
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                ):
                    yield child
        else:
            yield path


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write via a temporary file in the same folder, fsync, rename: never a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def output_name(source: Path, output_format: str, part: int | None = None) -> str:
    """`<stem><suffix>`; `part` numbers the SRs of an input that holds several reports."""
    stem = source.name
    for suffix in (".ndjson", ".jsonl", ".json", ".dcm"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem + (f".{part}" if part is not None else "") + OUTPUT_SUFFIX[output_format]


def convert_file(
    pipeline: Pipeline, source: Path, out_dir: Path, output_format: str, max_bytes: int
) -> FileOutcome:
    """Read, enrich and write one input. Input problems are returned, not raised."""
    outcome = FileOutcome(source=source)
    try:
        read = read_path(source, max_bytes=max_bytes)
    except InputError as exc:
        outcome.errors.append(exc)
        return outcome
    outcome.errors.extend(read.errors)
    outcome.findings = [pipeline.enrich(report) for report in read.reports]
    if not outcome.findings:
        return outcome
    dicom_source = outcome.findings[0].report.dicom is not None
    if output_format == "sr" or (output_format == "enriched" and dicom_source):
        _write_srs(outcome, out_dir, output_format)
        return outcome
    try:
        text = render(outcome.findings, output_format)
    except NotEnrichable as exc:
        outcome.errors.append(InputError(source, str(exc)))
        return outcome
    outcome.outputs.append(out_dir / output_name(source, output_format))
    write_atomic(outcome.outputs[0], text)
    return outcome


def _write_srs(outcome: FileOutcome, out_dir: Path, output_format: str) -> None:
    """One SR per report: the results SR, or (enriched) a new version of the source SR."""
    several = len(outcome.findings) > 1
    for number, findings in enumerate(outcome.findings, start=1):
        try:
            data = (
                enriched_sr_bytes(findings) if output_format == "enriched" else sr_bytes(findings)
            )
        except NothingToWrite:
            continue  # no coded result and no impression: an empty SR helps no one
        name = output_name(outcome.source, "sr", number if several else None)
        if output_format == "enriched":
            name = name.removesuffix(OUTPUT_SUFFIX["sr"]) + ENRICHED_SR_SUFFIX
        path = out_dir / name
        write_atomic(path, data)
        outcome.outputs.append(path)


def error_record(error: InputError) -> str:
    return json.dumps(
        {"file": error.path, "line": error.line, "error": error.problem}, ensure_ascii=False
    )
