"""Batch conversion: input files and folders in, one output per input, failures listed.

`convert_bytes` is the core: an input's bytes in, its rendered outputs (by the writers table,
radlite_fhir.writers.table), findings and errors out, with no file system. `convert_file`
reads a file, calls it and writes atomically (the CLI, the drop-folder service); `radlite
serve` and `radlite bulk` call it on the bytes they were given. Nothing here parses, prompts
or codes on its own.
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
from radlite_fhir.readers import read_bytes
from radlite_fhir.readers.files import read_limited
from radlite_fhir.report import Findings
from radlite_fhir.writers.dicom_sr import NothingToWrite
from radlite_fhir.writers.table import OutputFormat, Per, resolve

__all__ = [
    "ENRICHED_SR_SUFFIX",
    "OUTPUT_SUFFIX",
    "Converted",
    "Rendered",
    "convert_bytes",
    "convert_file",
    "output_name",
    "write_atomic",
]
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


@dataclass(frozen=True)
class Rendered:
    """One output in memory: the format it was written in (`enriched` of an SR source is
    `enriched-sr`), its part number among several per-report outputs, its bytes."""

    format: OutputFormat
    data: bytes
    part: int | None = None

    def name(self, base: str | os.PathLike[str]) -> str:
        return output_name(base, self.format, self.part)


@dataclass
class Converted:
    """What `convert_bytes` made of one input: the outputs to write, the findings, the input
    problems, and how many reports the input held."""

    source: Path
    outputs: list[Rendered] = field(default_factory=list)
    findings: list[Findings] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    reports: int = 0


def convert_bytes(
    pipeline: Pipeline,
    source: Path | str,
    data: bytes,
    output_format: str | OutputFormat,
    *,
    max_bytes: int | None = None,
    budget: TimeBudget | None = None,
    max_reports: int | None = None,
) -> Converted:
    """Read, enrich and render one input's bytes, with no file system: the core every front
    end shares (convert and watch write what it returns, serve answers it, bulk hands it to
    the driver). `source` names the input in errors and its suffix picks NDJSON or DICOM;
    nothing is read from it. Input problems are returned, not raised; a report the model
    cannot read is listed as an error and the others are rendered.

    `max_bytes`: empty or larger content is refused as a file of that size is. `budget`:
    checked after reading and before each report (and by the pipeline before each model
    call); TimeBudgetExceeded is raised. `max_reports`: more reports are refused before any
    model work."""
    source = Path(source)
    converted = Converted(source=source)
    try:
        read = read_bytes(source, data, max_bytes)
    except InputError as exc:
        converted.errors.append(exc)
        return converted
    converted.errors.extend(read.errors)
    total = converted.reports = len(read.reports)
    if max_reports is not None and total > max_reports:
        converted.errors.append(
            InputError(
                source,
                f"{total} reports, over the limit of {max_reports} per file "
                "(max_reports_per_file); split the file",
            )
        )
        return converted
    for number, report in enumerate(read.reports, start=1):
        where = f"report {number} of {total}"
        if budget is not None:
            budget.check(f"before {where}" if number > 1 else "after reading")
        try:
            converted.findings.append(pipeline.enrich(report, budget))
        except ReportNotEnriched as exc:
            converted.errors.append(InputError(source, f"{where} not enriched: {exc}"))
        except TimeBudgetExceeded as exc:
            raise TimeBudgetExceeded(f"{exc} ({where})") from None
    if converted.findings:
        _render(converted, output_format, data)
    return converted


def _render(converted: Converted, output_format: str | OutputFormat, data: bytes) -> None:
    """The outputs of the findings, by the writers table: one for the file, or one per
    report (numbered when there are several; a report with nothing to carry gets none)."""
    writer = resolve(output_format, converted.findings[0].report.dicom is not None)
    if writer.per is Per.FILE:
        try:
            converted.outputs.append(
                Rendered(writer.format, writer.render(converted.findings, data))
            )
        except NotEnrichable as exc:
            converted.errors.append(InputError(converted.source, str(exc)))
        return
    several = len(converted.findings) > 1
    for number, findings in enumerate(converted.findings, start=1):
        try:
            rendered = writer.render([findings], data)
        except NothingToWrite:
            continue  # no coded result and no impression: an empty SR helps no one
        except NotEnrichable as exc:
            converted.errors.append(InputError(converted.source, str(exc)))
            continue
        converted.outputs.append(Rendered(writer.format, rendered, number if several else None))


def convert_file(
    pipeline: Pipeline,
    source: Path,
    out_dir: Path,
    output_format: str | OutputFormat,
    max_bytes: int,
    *,
    base: str | None = None,
    overwrite: bool = True,
    budget: TimeBudget | None = None,
    max_reports: int | None = None,
) -> FileOutcome:
    """Read one input file (refused unread when over `max_bytes`), convert its bytes
    (`convert_bytes`) and write the outputs atomically. Input problems are returned, not
    raised.

    `base`: the name the outputs start with (default: the input's name; the service passes
    a versioned one). `overwrite` False: an existing output is an error, never replaced, and
    every name is checked before the first is written, so a refusal leaves no part of the
    input's results behind. `budget`, `max_reports`: as `convert_bytes` (nothing is written
    when the budget runs out)."""
    outcome = FileOutcome(source=source)
    try:
        data = read_limited(source, max_bytes)
    except InputError as exc:
        outcome.errors.append(exc)
        return outcome
    converted = convert_bytes(
        pipeline, source, data, output_format, budget=budget, max_reports=max_reports
    )
    outcome.findings, outcome.errors = converted.findings, converted.errors
    base = base or source.name
    paths = [out_dir / rendered.name(base) for rendered in converted.outputs]
    try:
        if not overwrite:
            for path in paths:
                if os.path.lexists(path):
                    raise FileExistsError(errno.EEXIST, "output exists", os.fspath(path))
        for path, rendered in zip(paths, converted.outputs, strict=True):
            write_atomic(path, rendered.data, overwrite)
            outcome.outputs.append(path)
    except FileExistsError as exc:
        outcome.errors.append(
            InputError(source, f"output {Path(exc.filename or '').name} exists; not replaced")
        )
    return outcome


def error_record(error: InputError) -> str:
    return json.dumps(
        {"file": error.path, "line": error.line, "error": error.problem}, ensure_ascii=False
    )
