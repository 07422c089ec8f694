"""Readers turn input files into `Report`s; one entry point picks the reader by content."""

from __future__ import annotations

from pathlib import Path

from radlite_fhir.readers.dicom_sr import is_dicom, read_dicom_sr_bytes
from radlite_fhir.readers.fhir import ReadOutcome, read_fhir_bytes
from radlite_fhir.readers.files import check_size, read_limited

__all__ = ["ReadOutcome", "check_size", "read_bytes", "read_path"]


def read_path(path: Path | str, max_bytes: int) -> ReadOutcome:
    """Read one input file (refused unread when over `max_bytes`): see `read_bytes`."""
    path = Path(path)
    return read_bytes(path, read_limited(path, max_bytes))


def read_bytes(path: Path, data: bytes, max_bytes: int | None = None) -> ReadOutcome:
    """Read `data`, the content of input `path`: a DICOM Part 10 file (by its DICM preamble,
    whatever its name) as an SR, anything else as FHIR JSON or NDJSON. `path` names the input
    in errors, and its suffix picks .dcm and NDJSON; nothing is read from it. `max_bytes`:
    refuse empty or larger content as `read_path` refuses such a file (bytes that arrived
    some other way, a request body, meet the same limit)."""
    if max_bytes is not None:
        check_size(path, len(data), max_bytes)
    if is_dicom(data[:132]) or path.suffix.lower() == ".dcm":
        return ReadOutcome(reports=[read_dicom_sr_bytes(path, data)])
    return read_fhir_bytes(path, data)
