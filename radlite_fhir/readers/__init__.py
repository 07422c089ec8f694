"""Readers turn input files into `Report`s; one entry point picks the reader by content."""

from __future__ import annotations

from pathlib import Path

from radlite_fhir.errors import InputError
from radlite_fhir.readers.dicom_sr import is_dicom, read_dicom_sr
from radlite_fhir.readers.fhir import ReadOutcome, read_fhir_file

__all__ = ["ReadOutcome", "read_path"]


def read_path(path: Path | str, max_bytes: int) -> ReadOutcome:
    """Read one input file: a DICOM Part 10 file (by its DICM preamble, whatever its name) as
    an SR, anything else as FHIR JSON or NDJSON."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from None
    if is_dicom(head) or path.suffix.lower() == ".dcm":
        return ReadOutcome(reports=[read_dicom_sr(path, max_bytes)])
    return read_fhir_file(path, max_bytes=max_bytes)
