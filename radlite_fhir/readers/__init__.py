"""Readers turn input files into `Report`s; one entry point picks the reader by content."""

from __future__ import annotations

from pathlib import Path

from radlite_fhir.readers.fhir import ReadOutcome, read_fhir_file

__all__ = ["ReadOutcome", "read_path"]


def read_path(path: Path | str, max_bytes: int) -> ReadOutcome:
    """Read one input file of any supported format (FHIR JSON and NDJSON today; DICOM SR is
    the next reader to be dispatched from here)."""
    return read_fhir_file(path, max_bytes=max_bytes)
