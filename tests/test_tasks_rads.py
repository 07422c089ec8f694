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


# --- the decision policy: statement > guideline-computed > model label > nothing -----------
FINDINGS_LR5 = (
    "History: cirrhosis.\nFINDINGS:\nSegment 7: 24 mm observation with nonrim arterial phase "
    "hyperenhancement, nonperipheral washout and an enhancing capsule.\n"
)


def test_guideline_computed_category_wins_over_the_model_label() -> None:
    task = RadsTask()
    source = report(FINDINGS_LR5, exam="MRI liver")
    assert task.answered_by_text(source)
    [result] = task.interpret(source, answers(rads_assignment="RADS: No applicable RADS"))
    assert (result.value, result.origin, result.status) == (
        "LI-RADS 5",
        Origin.GUIDELINE,
        Status.CODED,
    )
    assert result.conflict and "No applicable RADS" in result.conflict
    assert result.evidence is not None and result.evidence.kind == "findings"
    assert source.text[result.evidence.start : result.evidence.end] == result.evidence.text
    names = {f["name"] for f in result.detail["features"]}
    assert {"size_mm", "aphe", "washout", "capsule", "at_risk"} <= names
    assert result.detail["guideline"].startswith("ACR LI-RADS")


def test_a_stated_category_is_coded_and_a_contradiction_is_flagged() -> None:
    stated = FINDINGS_LR5 + "IMPRESSION:\nLR-3 observation.\n"
    results = RadsTask().interpret(report(stated, exam="MRI liver"), {})
    assert [(r.kind, r.value, r.origin) for r in results] == [
        ("rads", "LI-RADS 3", Origin.TEXT),
        ("rads-discordance", "LI-RADS 5", Origin.GUIDELINE),
    ]
    assert results[1].detail["stated"] == "LI-RADS 3"
    agreeing = FINDINGS_LR5 + "IMPRESSION:\nLR-5 observation.\n"
    assert [r.kind for r in RadsTask().interpret(report(agreeing, exam="MRI liver"), {})] == [
        "rads"
    ]


def test_model_label_only_where_the_table_cannot_decide() -> None:
    undecided = "History: cirrhosis.\nFINDINGS:\nSegment 7: 24 mm observation.\n"  # no APHE
    source = report(undecided, exam="MRI liver")
    assert not RadsTask().answered_by_text(source)
    [result] = RadsTask().interpret(source, answers(rads_assignment="RADS: LI-RADS 4"))
    assert (result.value, result.origin) == ("LI-RADS 4", Origin.MODEL)


def test_no_system_and_no_label_codes_nothing() -> None:
    source = report("FINDINGS:\nLungs are clear. No effusion.", exam="XR chest 2 views")
    [result] = RadsTask().interpret(source, answers(rads_assignment="RADS: No applicable RADS"))
    assert result.status is Status.NOT_APPLICABLE and result.value is None
