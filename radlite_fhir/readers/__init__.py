"""Readers turn input files into `Report`s; one entry point picks the reader by content."""

from __future__ import annotations

from pathlib import Path

from radlite_fhir.readers.dicom_sr import is_dicom, read_dicom_sr_bytes
from radlite_fhir.readers.fhir import ReadOutcome, read_fhir_bytes
from radlite_fhir.readers.files import read_limited

__all__ = ["ReadOutcome", "read_bytes", "read_path"]


def read_path(path: Path | str, max_bytes: int) -> ReadOutcome:
    """Read one input file (refused unread when over `max_bytes`): see `read_bytes`."""
    path = Path(path)
    return read_bytes(path, read_limited(path, max_bytes))


def read_bytes(path: Path, data: bytes) -> ReadOutcome:
    """Read `data`, the content of input `path`: a DICOM Part 10 file (by its DICM preamble,
    whatever its name) as an SR, anything else as FHIR JSON or NDJSON. `path` names the input
    in errors, and its suffix picks .dcm and NDJSON."""
    if is_dicom(data[:132]) or path.suffix.lower() == ".dcm":
        return ReadOutcome(reports=[read_dicom_sr_bytes(path, data)])
    return read_fhir_bytes(path, data)
