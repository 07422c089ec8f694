"""The reader as the pipeline runs it, for the reader's tests: a report's text split into its
sections and read under the examination's name. One place, so every mechanism test reads a
report the same way the product does."""

from __future__ import annotations

from typing import Any

from radlite_fhir.features.reader import FeatureReading, read_features
from radlite_fhir.sections import split_sections


def read(text: str, exam: str | None = None) -> FeatureReading:
    return read_features(text, split_sections(text), exam)


def only_lesion(text: str, exam: str | None = None) -> dict[str, Any]:
    """The values of the one lesion the text describes (fails when it reads another number)."""
    lesions = [lesion.values() for lesion in read(text, exam).lesions]
    assert len(lesions) == 1, lesions
    return lesions[0]
