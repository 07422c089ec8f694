"""The output formats and their writers, as one table: format -> suffix, one output per input
file or per report, render function, media type.

Every front end (convert, watch, serve, bulk, the CLI's choices) and the output names
(`radlite_fhir.naming`) read this table, so a format is added or renamed in one place. The
render functions import their writer only when called: the CLI builds its choices from this
module on every start, and the writers pull in pydicom and the FHIR schema.

`enriched-sr` is not chosen by a user: `enriched` asked of a DICOM SR source becomes a new
version of that SR (`resolve`), one per report, built from the source's own bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from radlite_fhir.report import Findings


class OutputFormat(StrEnum):
    """What an output holds. The first four are the choices users have (`CHOICES`)."""

    BUNDLE = "bundle"  # transaction Bundle, conditional PUT
    ENRICHED = "enriched"  # the same, the source DiagnosticReport pointing at its results
    NDJSON = "ndjson"  # one resource a line, literal ids
    SR = "sr"  # a DICOM Comprehensive 3D SR (TID 1500) per report
    ENRICHED_SR = "enriched-sr"  # `enriched` of an SR source: a new version of that SR


class Per(StrEnum):
    """How many outputs an input gives: one for the whole file, or one per report."""

    FILE = "file"
    REPORT = "report"


# findings (one item for a per-report writer), the input's bytes -> the output's bytes
Render = Callable[[Sequence["Findings"], bytes], bytes]


@dataclass(frozen=True)
class Writer:
    """One row of the table."""

    format: OutputFormat
    suffix: str  # appended to the input's name (docs/drop-folder-names.md)
    per: Per
    render: Render
    media_type: str


def _fhir(output_format: OutputFormat) -> Render:
    def render_fhir(findings: Sequence[Findings], _source: bytes) -> bytes:
        from radlite_fhir.writers.fhir import render

        return render(list(findings), output_format.value).encode("utf-8")

    return render_fhir


def _sr(findings: Sequence[Findings], _source: bytes) -> bytes:
    from radlite_fhir.writers.dicom_sr import sr_bytes

    (one,) = findings
    return sr_bytes(one)


def _enriched_sr(findings: Sequence[Findings], source: bytes) -> bytes:
    from radlite_fhir.writers.dicom_sr import enriched_sr_bytes

    (one,) = findings
    return enriched_sr_bytes(one, source=source)


FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
DICOM = "application/dicom"
_F, _B, _E, _N = OutputFormat, OutputFormat.BUNDLE, OutputFormat.ENRICHED, OutputFormat.NDJSON
WRITERS: Mapping[OutputFormat, Writer] = MappingProxyType(
    {
        row.format: row
        for row in (
            Writer(_B, ".bundle.json", Per.FILE, _fhir(_B), FHIR_JSON),
            Writer(_E, ".enriched.json", Per.FILE, _fhir(_E), FHIR_JSON),
            Writer(_N, ".ndjson", Per.FILE, _fhir(_N), FHIR_NDJSON),
            Writer(_F.SR, ".sr.dcm", Per.REPORT, _sr, DICOM),
            Writer(_F.ENRICHED_SR, ".enriched.dcm", Per.REPORT, _enriched_sr, DICOM),
        )
    }
)
CHOICES: tuple[OutputFormat, ...] = (
    OutputFormat.BUNDLE,
    OutputFormat.ENRICHED,
    OutputFormat.NDJSON,
    OutputFormat.SR,
)
CHOICE_NAMES: tuple[str, ...] = tuple(f.value for f in CHOICES)  # for argparse and messages


def output_format(value: str | OutputFormat) -> OutputFormat:
    """`value` as a format; ValueError naming the choices for anything else."""
    try:
        return OutputFormat(value)
    except ValueError:
        raise ValueError(
            f"format must be one of {', '.join(CHOICE_NAMES)}, not {value!r}"
        ) from None


def resolve(chosen: str | OutputFormat, dicom_source: bool) -> Writer:
    """The writer for an input: `enriched` of a DICOM SR source is the enriched SR."""
    chosen = OutputFormat(chosen)
    if chosen is OutputFormat.ENRICHED and dicom_source:
        return WRITERS[OutputFormat.ENRICHED_SR]
    return WRITERS[chosen]


def formats_for(chosen: str | OutputFormat) -> tuple[OutputFormat, ...]:
    """The formats an input's outputs can take when `chosen` is asked for (`enriched`: the
    FHIR Bundle, or the enriched SR of an SR source)."""
    chosen = OutputFormat(chosen)
    if chosen is OutputFormat.ENRICHED:
        return (OutputFormat.ENRICHED, OutputFormat.ENRICHED_SR)
    return (chosen,)
