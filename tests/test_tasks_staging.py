"""TNM: RadLite's n/m answers, the structured answer, explicit strings winning per axis."""

from __future__ import annotations

import pytest

from radlite_fhir.report import Origin, Status
from radlite_fhir.tasks.staging import (
    StagingTask,
    parse_m_answer,
    parse_n_answer,
    parse_structured,
)
from tests.helpers import answers, report


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (" Negative", ("N0", "negative")),
        (" Positive. N staging: N2", ("N2", "positive")),
        (" Positive", (None, "positive")),
        ("N_staging: N2\n\nThe patient", ("N2", None)),
        ("N1", ("N1", None)),
        ("unsure", (None, None)),
    ],
)
def test_radlite_n_answers(answer: str, expected: tuple) -> None:
    assert parse_n_answer(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"), [(" M0", "M0"), ("M1", "M1"), ("cM1a", "M1a"), ("no metastases", None)]
)
def test_radlite_m_answers(answer: str, expected: str | None) -> None:
    assert parse_m_answer(answer) == expected


def test_structured_answers() -> None:
    assert parse_structured("T2b N1 M0") == {"T": "T2b", "N": "N1", "M": "M0"}
    assert parse_structured("Not applicable") == {}
    assert parse_structured("T9 N1 M0") is None


def test_radlite_positive_without_category_is_not_coded() -> None:
    results = StagingTask().interpret(
        report("FINDINGS:\nBulky nodes."), answers(n_staging=" Positive", m_staging=" M0")
    )
    by_axis = {r.kind: r for r in results}
    assert by_axis["N"].status is Status.UNPARSEABLE
    assert "category not stated" in by_axis["N"].detail["reason"]
    assert (by_axis["M"].status, by_axis["M"].value) == (Status.CODED, "cM0")
    assert "T" not in by_axis  # RadLite has no T prompt; no statement in the text


def test_explicit_string_wins_per_axis() -> None:
    text = "IMPRESSION:\nRadiologic stage cT2b N1 M0."
    results = StagingTask().interpret(report(text), answers(tnm_staging="T3 N1 M1"))
    by_axis = {r.kind: r for r in results}
    assert {a: (r.value, r.origin) for a, r in by_axis.items()} == {
        "T": ("cT2b", Origin.TEXT),
        "N": ("cN1", Origin.MODEL_AND_TEXT),
        "M": ("cM0", Origin.TEXT),
    }
    assert by_axis["M"].conflict == "model answered 'M1'; the report states 'cM0'"


def test_pathologic_string_keeps_its_prefix_and_x_is_not_coded() -> None:
    results = StagingTask().interpret(
        report("Pathology: pT3N0M1."), answers(tnm_staging="TX NX MX")
    )
    assert [r.value for r in results] == ["pT3", "pN0", "pM1"]
    results = StagingTask().interpret(
        report("FINDINGS:\nNo tumour."), answers(tnm_staging="TX NX MX")
    )
    assert results == []
