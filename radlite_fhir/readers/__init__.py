"""Readers turn input files into `Report`s; one entry point picks the reader by content."""

from __future__ import annotations

from radlite_fhir.readers.fhir import ReadOutcome, read_fhir_file

__all__ = ["ReadOutcome", "read_path"]


def read_path(path, max_bytes: int) -> ReadOutcome:
    """Read one input file of any supported format."""
    return read_fhir_file(path, max_bytes=max_bytes)
