"""Pipeline rules that sit between tasks and writers."""

from __future__ import annotations

import pytest

from radlite_fhir.errors import ConfigError
from radlite_fhir.pipeline import confidence_floor, parse_task_list
from radlite_fhir.report import Origin, Status, TaskResult
from tests.helpers import MODEL


def _result(origin: Origin, confidence: float | None) -> TaskResult:
    return TaskResult(
        task="staging",
        kind="M",
        value="cM1",
        status=Status.CODED,
        origin=origin,
        model=MODEL,
        confidence=confidence,
    )


def test_unsure_model_only_labels_are_not_coded() -> None:
    results = [
        _result(Origin.MODEL, 0.11),
        _result(Origin.MODEL, 0.9),
        _result(Origin.MODEL, None),
        _result(Origin.MODEL_AND_TEXT, 0.11),
    ]
    assert [r.status for r in confidence_floor(results, 0.5)] == [
        Status.LOW_CONFIDENCE,
        Status.CODED,
        Status.CODED,
        Status.CODED,
    ]
    assert [r.status for r in confidence_floor(results, 0.0)] == [Status.CODED] * 4


def test_task_list_is_checked_and_ordered() -> None:
    assert parse_task_list("impression, rads") == ("rads", "impression")
    with pytest.raises(ConfigError, match="unknown tasks"):
        parse_task_list("rads,tea")
