"""Errors a user can act on: each names the file (and line) and says what is wrong.

Front ends print `str(error)`; they never show a traceback for these.
"""

from __future__ import annotations

import os
from pathlib import Path


def printable(text: str | os.PathLike[str]) -> str:
    """`text` (a file name or a message that holds one) as a string that encodes to UTF-8
    everywhere: SQLite, JSON files, log lines. POSIX file names are bytes; a byte that is not
    UTF-8 reaches Python as a lone surrogate (surrogateescape) and is shown here as \\xNN."""
    value = os.fspath(text)
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no file name made (say, from JSON)
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


class RadliteError(Exception):
    """Base of every error the product reports to a user instead of crashing."""


class InputError(RadliteError):
    """An input file cannot be read as a report; nothing was written for it."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None) -> None:
        self.path = printable(path)
        self.problem = printable(problem)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {self.problem}")


class ModelError(RadliteError):
    """A model cannot be found, fetched, verified or loaded."""


class RuntimeUnavailable(ModelError):
    """The model's engine cannot be reached just now (a llama.cpp server down, restarting or
    overloaded): the report is not at fault, and the front ends retry it later."""


class ConfigError(RadliteError):
    """A code table, registry or setting is invalid."""


class NotEnrichable(RadliteError):
    """The source cannot be given back enriched (a FHIR report with no id and no identifier,
    or a source of the wrong kind for the output)."""
