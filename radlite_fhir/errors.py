"""Errors a user can act on: each names the file (and line) and says what is wrong.

Front ends print `str(error)`; they never show a traceback for these.
"""

from __future__ import annotations

from pathlib import Path


class RadliteError(Exception):
    """Base of every error the product reports to a user instead of crashing."""


class InputError(RadliteError):
    """An input file cannot be read as a report; nothing was written for it."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class ModelError(RadliteError):
    """A model cannot be found, fetched, verified or loaded."""


class ConfigError(RadliteError):
    """A code table, registry or setting is invalid."""


class NotEnrichable(RadliteError):
    """The source cannot be given back enriched (a FHIR report with no id and no identifier,
    or a source of the wrong kind for the output)."""
