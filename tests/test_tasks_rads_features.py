"""The model fills a feature the lexicon could not read, only where it quotes the report.

Answers are written by hand here (the model's words are measured in training.evaluate, not
asserted): what is tested is which questions are asked, that their grammars are valid GBNF for
llama.cpp's own parser, and which answers are kept.
"""

from __future__ import annotations

import pytest
from llama_cpp import LlamaGrammar

from radlite_fhir.features.reader import FeatureReading, LesionReading
from radlite_fhir.guidelines import GUIDELINES, RadsSystem
from radlite_fhir.report import Origin, Status
from radlite_fhir.tasks import Answer
from radlite_fhir.tasks.profiles import STRUCTURED
from radlite_fhir.tasks.rads import RadsTask
from radlite_fhir.tasks.rads_features import (
    MAX_QUESTIONS,
    Dropped,
    FeatureQuestion,
    completed,
    feature_calls,
    ground,
    grounded_answer,
    questions,
    value_grammar,
)
from radlite_fhir.tasks.rads_policy import reading_of
from tests.helpers import MODEL, feature_answer, report

# Echogenicity worded as no TI-RADS lexicon words it: the table cannot score the nodule.
UNWORDED = (
    "FINDINGS: Right lobe nodule 18 mm, solid, wider than tall, smooth margins, darker than "
    "the surrounding gland. No calcification."
)
EXAM = "US thyroid"


def test_only_the_missing_feature_is_asked() -> None:
    reading = reading_of(report(UNWORDED, EXAM))
    (question,) = questions(reading)
    assert (question.lesion, question.spec.name) == (0, "echogenicity")
    decided = report(UNWORDED.replace("darker than", "hypoechoic to"), EXAM)
    assert questions(reading_of(decided)) == []


def test_a_report_the_table_decides_costs_no_model_call() -> None:
    decided = report(UNWORDED.replace("darker than", "hypoechoic to"), EXAM)
    assert len(RadsTask().calls(decided, STRUCTURED)) == 1  # the one-label cross-check only
    calls = RadsTask().calls(report(UNWORDED, EXAM), STRUCTURED)
    assert [c.key for c in calls] == ["rads_assignment", "rads_feature:0:echogenicity"]
    assert calls[1].prompt.startswith(calls[0].prompt.removesuffix("RADS:"))  # same prefix


def test_questions_are_capped_per_report() -> None:
    many = "\n".join(f"{n}. Nodule {n}: 1{n} mm." for n in range(1, 9))
    reading = reading_of(report(f"FINDINGS:\n{many}", EXAM))
    assert len(reading.lesions) == 8
    assert len(feature_calls(report(f"FINDINGS:\n{many}", EXAM).text, reading)) == MAX_QUESTIONS


@pytest.mark.parametrize("system", list(GUIDELINES))
def test_every_feature_grammar_is_valid_gbnf(system: object) -> None:
    for spec in GUIDELINES[system].fields():
        assert LlamaGrammar.from_string(value_grammar(spec), verbose=False) is not None


def test_a_quoted_value_is_kept_with_its_span() -> None:
    rep = report(UNWORDED, EXAM)
    reading = reading_of(rep)
    (question,) = questions(reading)
    found = grounded_answer(
        question,
        rep.text,
        reading,
        feature_answer(question, ' hypoechoic | "darker than the surrounding"'),
    )
    assert found is not None and found.value == "hypoechoic"
    assert rep.text[found.start : found.end] == "darker than the surrounding"


@pytest.mark.parametrize(
    ("words", "probability", "why"),
    [
        (' hypoechoic | "markedly dark nodule"', 0.9, Dropped.UNGROUNDED),
        (' hypoechoic | "   "', 0.9, Dropped.UNGROUNDED),
        (' hypoechoic | "darker than the surrounding"', 0.2, Dropped.UNSURE),
        (" hypoechoic", 0.9, Dropped.UNWRITTEN),
    ],
)
def test_an_answer_that_is_not_grounded_is_dropped(
    words: str, probability: float, why: Dropped
) -> None:
    rep = report(UNWORDED, EXAM)
    reading = reading_of(rep)
    (question,) = questions(reading)
    answer = feature_answer(question, words, probability)
    assert ground(question, rep.text, reading, answer) is why
    assert grounded_answer(question, rep.text, reading, answer) is None


def test_a_size_must_quote_its_number() -> None:
    text = (
        "HISTORY: Cirrhosis.\nFINDINGS: Segment 7 observation with nonrim arterial phase "
        "hyperenhancement and nonperipheral washout, no enhancing capsule. It spans most of the "
        "segment, about the size of the gallbladder fundus."
    )
    rep = report(text, "MRI liver")
    reading = reading_of(rep)
    (question,) = questions(reading)
    assert question.spec.name == "size_mm"
    label = question.label(reading.system)
    estimated = Answer(label + ' 25 | "about the size of the gallbladder fundus"', MODEL)
    assert grounded_answer(question, rep.text, reading, estimated) is None
    quoted = Answer(label + ' 7 | "Segment 7 observation"', MODEL)
    assert grounded_answer(question, rep.text, reading, quoted) is not None  # the check is
    # that the number stands in the quotation; whether it is a size is the model's reading


def test_the_table_decides_with_the_model_read_feature() -> None:
    rep = report(UNWORDED, EXAM)
    reading = reading_of(rep)
    (question,) = questions(reading)
    answers = {
        question.key: feature_answer(question, ' hypoechoic | "darker than the surrounding gland"')
    }
    filled, read_by_model = completed(rep.text, reading, answers)
    assessment = filled.assessment()
    assert assessment is not None and assessment.category == "4"  # 2 + 2 + 0 + 0 + 0 points
    assert read_by_model == ("lesion 1: echogenicity",)
    (result,) = RadsTask().interpret(rep, answers)
    assert (result.value, result.origin, result.status) == (
        "TI-RADS 4",
        Origin.GUIDELINE,
        Status.CODED,
    )
    assert result.detail["read_by_model"] == ["lesion 1: echogenicity"]
    echogenicity = next(f for f in result.detail["features"] if f["name"] == "echogenicity")
    assert echogenicity["text"] == "darker than the surrounding gland"


@pytest.mark.parametrize(
    ("quoted", "millimetres", "written"),
    [
        ("measures 14 mm", 14.0, True),
        ("1.4 cm nodule", 14.0, True),
        ("2.4 x 2.1 x 1.5 cm", 24.0, True),
        ("3.5 x 2.9 centimetres", 35.0, True),
        ("1.4 cm nodule", 1.4, False),  # the quotation says 14 mm, not 1.4 mm
        ("Segment 4 observation", 40.0, False),
    ],
)
def test_a_size_is_quoted_in_mm_or_in_cm(quoted: str, millimetres: float, written: bool) -> None:
    from radlite_fhir.tasks.rads_features import _quotes_size

    assert _quotes_size(quoted, millimetres) is written


def test_a_report_level_feature_may_quote_the_history() -> None:
    """LI-RADS applies to a patient at risk: the history says so, outside the lesion's text."""
    text = (
        "HISTORY: Long-standing hepatitis C with nodular liver.\nFINDINGS: Segment 7 "
        "observation, 24 mm, with nonrim arterial phase hyperenhancement and washout."
    )
    rep = report(text, "MRI liver")
    lesion = LesionReading(text.index("Segment 7"), len(text))  # the findings' one lesion
    reading = FeatureReading(RadsSystem.LI_RADS, lesions=(lesion,))
    spec = next(s for s in GUIDELINES[RadsSystem.LI_RADS].fields() if s.name == "at_risk")
    question = FeatureQuestion(0, spec)
    label = question.label(RadsSystem.LI_RADS)
    found = grounded_answer(
        question,
        rep.text,
        reading,
        Answer(label + ' yes | "hepatitis C with nodular liver"', MODEL),
    )
    assert found is not None and found.value is True
    assert rep.text[found.start : found.end] == "hepatitis C with nodular liver"
    lesion_only = FeatureQuestion(
        0, next(s for s in GUIDELINES[RadsSystem.LI_RADS].fields() if s.name == "capsule")
    )
    capsule = Answer(lesion_only.label(RadsSystem.LI_RADS) + ' yes | "nodular liver"', MODEL)
    assert grounded_answer(lesion_only, rep.text, reading, capsule) is None
