"""RADS answers: RadLite's published formats, label-set validation, cross-check with text."""

from __future__ import annotations

import pytest

from radlite_fhir.report import Origin, Status
from radlite_fhir.tasks.rads import RadsTask, parse_rads_answer, rads_grammar
from tests.helpers import answers, report


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("BI-RADS 4", "BI-RADS 4"),
        ("PI-RADS 5", "PI-RADS 5"),
        ("LI-RADS 5", "LI-RADS 5"),
        ("BI-RADS 4B", "BI-RADS 4B"),
        ("<think>\n\n</think>\n\nTI-RADS 3", "TI-RADS 3"),
        ("  Lung-RADS 4X\n", "Lung-RADS 4X"),
        ("LI-RADS TR Equivocal", "LI-RADS TR Equivocal"),
    ],
)
def test_published_answer_formats_parse(answer: str, label: str) -> None:
    category, not_applicable = parse_rads_answer(answer)
    assert category is not None and category.label == label and not not_applicable


def test_no_applicable_rads() -> None:
    assert parse_rads_answer("No applicable RADS") == (None, True)


@pytest.mark.parametrize("answer", ["BI-RADS 7", "The category is unclear.", "", "4B"])
def test_answers_outside_the_label_set_do_not_parse(answer: str) -> None:
    assert parse_rads_answer(answer) == (None, False)


def test_unparseable_answer_is_kept_raw_and_not_coded() -> None:
    results = RadsTask().interpret(
        report("FINDINGS:\nNormal lungs."), answers(rads_assignment="Category: maybe four?")
    )
    assert [(r.status, r.value, r.raw_answer) for r in results] == [
        (Status.UNPARSEABLE, None, "Category: maybe four?")
    ]


def test_model_only_answer_is_coded_with_model_origin() -> None:
    results = RadsTask().interpret(
        report("FINDINGS:\nIrregular mass."), answers(rads_assignment="BI-RADS 4")
    )
    assert [(r.status, r.value, r.origin) for r in results] == [
        (Status.CODED, "BI-RADS 4", Origin.MODEL)
    ]


def test_explicit_statement_wins_and_conflict_is_recorded() -> None:
    text = "FINDINGS:\nMass.\nIMPRESSION:\nBIRADS Classification 5 - highly suggestive."
    result = RadsTask().interpret(report(text), answers(rads_assignment="BI-RADS 3"))[0]
    assert (result.value, result.origin) == ("BI-RADS 5", Origin.TEXT)
    assert result.conflict == "model answered 'BI-RADS 3'; the report states 'BI-RADS 5'"
    assert text[result.evidence.start : result.evidence.end] == "BIRADS Classification 5"


def test_agreement_is_marked_confirmed() -> None:
    result = RadsTask().interpret(
        report("IMPRESSION: LR-5."), answers(rads_assignment="LI-RADS 5")
    )[0]
    assert (result.origin, result.conflict) == (Origin.MODEL_AND_TEXT, None)


def test_impression_statement_beats_comparison_statement() -> None:
    text = (
        "COMPARISON: Prior study, Lung-RADS 2.\nFINDINGS:\nNew 9 mm nodule.\n"
        "IMPRESSION:\nLung-RADS 4A."
    )
    assert RadsTask().interpret(report(text), {})[0].value == "Lung-RADS 4A"


def test_grammar_lists_every_label() -> None:
    grammar = rads_grammar()
    assert '"BI-RADS 4B"' in grammar and '"No applicable RADS"' in grammar
    assert grammar.count(" | ") == 75 - 1
