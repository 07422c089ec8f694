"""Batch conversion: input files and folders in, one output per input, failures listed.

The front ends (CLI, the drop-folder service, HTTP) call `convert_file`; it reads, enriches
through the pipeline and writes atomically. Nothing here parses, prompts or codes on its own.
Output names follow `radlite_fhir.naming` (the whole input name, a version where a name came
again); a report the model cannot read is that report's error, listed with the others; a
time budget, when given, is checked after reading and before each report.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from radlite_fhir.budget import TimeBudget, TimeBudgetExceeded
from radlite_fhir.errors import InputError, NotEnrichable
from radlite_fhir.naming import ENRICHED_SR_SUFFIX, OUTPUT_SUFFIX, output_name
from radlite_fhir.pipeline import Pipeline, ReportNotEnriched
from radlite_fhir.readers import read_path
from radlite_fhir.report import Findings
from radlite_fhir.writers.dicom_sr import NothingToWrite, enriched_sr_bytes, sr_bytes
from radlite_fhir.writers.fhir import render

__all__ = ["ENRICHED_SR_SUFFIX", "OUTPUT_SUFFIX", "convert_file", "output_name", "write_atomic"]
INPUT_SUFFIXES = {".json", ".ndjson", ".jsonl", ".dcm"}
# link() is how a file is put in place without replacing one; where a filesystem has no
# hard links, a check before the rename stands in (a race only with another writer).
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV}


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


def write_atomic(path: Path, content: str | bytes, overwrite: bool = True) -> None:
    """Write via a temporary file in the same folder, fsync, rename: never a partial file.
    With `overwrite` False an existing `path` is left alone and FileExistsError raised (the
    temporary file is linked into place, which fails instead of replacing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _place_new(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _place_new(tmp: Path, path: Path) -> None:
    """Move `tmp` to `path` unless `path` exists (FileExistsError)."""
    try:
        os.link(tmp, path, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "output exists", os.fspath(path)) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def convert_file(
    pipeline: Pipeline,
    source: Path,
    out_dir: Path,
    output_format: str,
    max_bytes: int,
    *,
    base: str | None = None,
    overwrite: bool = True,
    budget: TimeBudget | None = None,
    max_reports: int | None = None,
) -> FileOutcome:
    """Read, enrich and write one input. Input problems are returned, not raised; a report
    the model cannot read is listed as an error and the others are written.

    `base`: the name the outputs start with (default: the input's name; the service passes
    a versioned one). `overwrite` False: an existing output is an error, never replaced.
    `budget`: checked after reading and before each report (and by the pipeline before each
    model call); TimeBudgetExceeded is raised, with nothing written. `max_reports`: a file
    holding more reports is refused before any model work."""
    outcome = FileOutcome(source=source)
    try:
        read = read_path(source, max_bytes=max_bytes)
    except InputError as exc:
        outcome.errors.append(exc)
        return outcome
    outcome.errors.extend(read.errors)
    total = len(read.reports)
    if max_reports is not None and total > max_reports:
        outcome.errors.append(
            InputError(
                source,
                f"{total} reports, over the limit of {max_reports} per file "
                "(max_reports_per_file); split the file",
            )
        )
        return outcome
    for number, report in enumerate(read.reports, start=1):
        where = f"report {number} of {total}"
        if budget is not None:
            budget.check(f"before {where}" if number > 1 else "after reading")
        try:
            outcome.findings.append(pipeline.enrich(report, budget))
        except ReportNotEnriched as exc:
            outcome.errors.append(InputError(source, f"{where} not enriched: {exc}"))
        except TimeBudgetExceeded as exc:
            raise TimeBudgetExceeded(f"{exc} ({where})") from None
    if not outcome.findings:
        return outcome
    base = base or source.name
    dicom_source = outcome.findings[0].report.dicom is not None
    try:
        if output_format == "sr" or (output_format == "enriched" and dicom_source):
            _write_srs(outcome, out_dir, output_format, base, overwrite)
            return outcome
        try:
            text = render(outcome.findings, output_format)
        except NotEnrichable as exc:
            outcome.errors.append(InputError(source, str(exc)))
            return outcome
        path = out_dir / output_name(base, output_format)
        write_atomic(path, text, overwrite)
        outcome.outputs.append(path)
    except FileExistsError as exc:
        outcome.errors.append(
            InputError(source, f"output {Path(exc.filename or '').name} exists; not replaced")
        )
    return outcome


def _write_srs(
    outcome: FileOutcome, out_dir: Path, output_format: str, base: str, overwrite: bool
) -> None:
    """One SR per report: the results SR, or (enriched) a new version of the source SR.
    Without `overwrite`, every name is checked before the first is written, so a refusal
    leaves no part of the input's results behind."""
    several = len(outcome.findings) > 1
    kind = "enriched-sr" if output_format == "enriched" else "sr"
    paths = [
        out_dir / output_name(base, kind, number if several else None)
        for number in range(1, len(outcome.findings) + 1)
    ]
    if not overwrite:
        for path in paths:
            if os.path.lexists(path):
                raise FileExistsError(errno.EEXIST, "output exists", os.fspath(path))
    for path, findings in zip(paths, outcome.findings, strict=True):
        try:
            data = enriched_sr_bytes(findings) if kind == "enriched-sr" else sr_bytes(findings)
        except NothingToWrite:
            continue  # no coded result and no impression: an empty SR helps no one
        write_atomic(path, data, overwrite)
        outcome.outputs.append(path)


def error_record(error: InputError) -> str:
    return json.dumps(
        {"file": error.path, "line": error.line, "error": error.problem}, ensure_ascii=False
    )
