"""The model reads a feature the lexicon could not, and quotes where the report says it.

The feature reader (radlite_fhir.features) finds what the report states in the words of the
ACR lexicons. A lesion it leaves indeterminate lacks one or more features its table needs:
the report may word them in a way no lexicon lists. For those features only (at most
`MAX_QUESTIONS` per report, so the cost stays bounded; a report whose every lesion the tables
decide costs no question, and beside a decided lesion only one whose answers could outrank it is
asked about), the model is asked one constrained question each, after the report it has already
read (the structured profile's shared prefix, so the report is not evaluated again):

    Feature: TI-RADS echogenic foci of lesion 1: none | "no calcifications"

A GBNF grammar built from the feature record's schema (guidelines.base.record_fields) admits
exactly the table's terms (a number for sizes, yes/no for flags, the score range for scores),
then a quotation. A value is kept only when the quotation is found in the lesion's own text
(for a report-level feature such as cirrhosis or menopause: anywhere in the report), a size's
quotation writes that size (in mm or cm), and the model gave the value at least
`FEATURE_FLOOR` probability; the table then decides, as for any other feature. An answer that
fails any of these is dropped, never guessed around.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from radlite_fhir.engine.calls import ModelCall
from radlite_fhir.features.lexicon import load_lexicon
from radlite_fhir.features.reader import FeatureReading, Grounded
from radlite_fhir.guidelines import GUIDELINES, RadsSystem
from radlite_fhir.guidelines.base import FieldKind, FieldSpec
from radlite_fhir.tasks import Answer
from radlite_fhir.tasks.evidence import label_confidence
from radlite_fhir.tasks.profiles import gbnf_literal, structured_feature_call

KEY_PREFIX = "rads_feature"
MAX_QUESTIONS = 4
FEATURE_FLOOR = 0.5
MAX_QUOTE_CHARS = 120
QUOTE_SEPARATOR = ' | "'
YES, NO = "yes", "no"
UNIT = re.compile(r"\b(?:cm|mm|centimet(?:re|er)s?|millimet(?:re|er)s?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FeatureQuestion:
    """One missing feature of one lesion, and the call key its answer comes back under."""

    lesion: int
    spec: FieldSpec

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}:{self.lesion}:{self.spec.name}"

    def label(self, system: RadsSystem) -> str:
        """The answer's opening words, written by us: they name the feature and the lesion."""
        words = self.spec.name.replace("_mm", " in mm").replace("_", " ")
        return f"Feature: {system.value} {words} of lesion {self.lesion + 1}:"


def _missing_names(missing: tuple[str, ...]) -> list[str]:
    """Field names from an assessment's `missing` ('size_mm', 'dwi_score or dwi_finding'):
    of alternatives, the first is asked."""
    return [entry.split(" or ")[0].strip() for entry in missing]


def questions(reading: FeatureReading) -> list[FeatureQuestion]:
    """The features to ask for: those each indeterminate lesion lacks, in lesion order. When
    another lesion is decided, only a lesion that could still outrank it is asked about (one
    that cannot, whatever the answers, would not change the report's category: the question
    would cost a call and risk nothing but a wrong span)."""
    if reading.system is None:
        return []
    guideline = GUIDELINES[reading.system]
    specs = {spec.name: spec for spec in guideline.fields()}
    assessments = reading.assessments()
    decided = [a.category for a in assessments if a.category is not None]
    top = max(decided, key=guideline.order.index) if decided else None
    asked: list[FeatureQuestion] = []
    for index, assessment in enumerate(assessments):
        if assessment.category is not None:
            continue
        if top is not None and not any(
            guideline.order.index(c) > guideline.order.index(top)
            for c in guideline.reachable(reading.lesions[index].values())
        ):
            continue
        for name in _missing_names(assessment.missing):
            if name in specs and len(asked) < MAX_QUESTIONS:
                asked.append(FeatureQuestion(index, specs[name]))
    return asked


def value_grammar(spec: FieldSpec) -> str:
    """GBNF for one value of `spec`, then the quotation the value rests on."""
    if spec.kind in (FieldKind.TERM, FieldKind.TERMS):
        value = " | ".join(gbnf_literal(term) for term in spec.terms)
    elif spec.kind is FieldKind.FLAG:
        value = f"{gbnf_literal(YES)} | {gbnf_literal(NO)}"
    elif spec.kind is FieldKind.SCORE:
        value = " | ".join(gbnf_literal(str(n)) for n in range(spec.low, spec.high + 1))
    else:
        value = '[1-9] [0-9]? [0-9]? ("." [0-9])?'
    quote = f'[^"\\n]{{1,{MAX_QUOTE_CHARS}}}'
    return (
        f'root ::= " " value {gbnf_literal(QUOTE_SEPARATOR)} quote "\\""\n'
        f"value ::= {value}\nquote ::= {quote}"
    )


def question_call(report_text: str, system: RadsSystem, question: FeatureQuestion) -> ModelCall:
    """The constrained call that asks `question` of the report: one definition for the product,
    the training samples and the feature-by-feature evaluation, so all three ask alike."""
    return structured_feature_call(
        question.key,
        report_text,
        question.label(system),
        max_tokens=48,
        grammar=value_grammar(question.spec),
    )


def feature_calls(report_text: str, reading: FeatureReading) -> list[ModelCall]:
    """One constrained call per missing feature (none when every lesion is decided)."""
    if reading.system is None:
        return []
    return [question_call(report_text, reading.system, q) for q in questions(reading)]


def _parse_value(spec: FieldSpec, word: str) -> Any:
    if spec.kind is FieldKind.FLAG:
        return word == YES
    if spec.kind is FieldKind.SCORE:
        return int(word)
    if spec.kind is FieldKind.NUMBER:
        return float(word)
    if spec.kind is FieldKind.TERMS:
        return (word,)
    return word


def _find_quote(text: str, start: int, end: int, quote: str) -> tuple[int, int] | None:
    """Where `quote` stands in text[start:end] (case and runs of space ignored)."""
    words = quote.split()
    if not words or not re.search(r"\w", quote):
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    match = pattern.search(text, start, end)
    return (match.start(), match.end()) if match else None


@cache
def _report_level(system: RadsSystem) -> frozenset[str]:
    """Fields the lexicon reads over the whole report (cirrhosis in the history, menopause):
    their quotation may stand anywhere in the report, not only in the lesion's text."""
    words = next(w for w in load_lexicon().systems if w.system is system)
    return frozenset(fw.name for fw in words.report_fields)


def _quotes_size(quoted: str, millimetres: float) -> bool:
    """The quotation writes this size, in mm or in cm: each number takes the first unit written
    after it ("14 mm", "1.4 cm", "2.4 x 2.1 x 1.5 cm"); a number with none is in mm."""
    for number in re.finditer(r"(?<![\d.])\d+(?:\.\d+)?", quoted):
        unit = UNIT.search(quoted, number.end())
        scale = 10 if unit and unit.group().lower().startswith("c") else 1
        if abs(float(number.group()) * scale - millimetres) < 0.05:
            return True
    return False


def _value_and_quote(body: str) -> tuple[str, str] | None:
    """The value word and the quotation of an answer's body (after our label)."""
    value_word, separator, rest = body.strip().partition(QUOTE_SEPARATOR.strip())
    if not separator:
        return None
    return value_word, rest.strip().removeprefix('"').removesuffix('"')


def written_value(question: FeatureQuestion, system: RadsSystem, answer: Answer) -> Any | None:
    """The value the answer writes, before the confidence floor and the grounding: for the
    evaluation, which asks whether a model knows a value even where the product drops it."""
    written = _value_and_quote(answer.text.removeprefix(question.label(system)))
    return None if written is None else _parse_value(question.spec, written[0].strip())


class Dropped(StrEnum):
    """Why an answer's value is not kept (the evaluation counts them; the product drops)."""

    UNWRITTEN = "no value and quotation"
    UNSURE = "below the confidence floor"
    UNGROUNDED = "quotation not in the lesion's text"
    SIZE_UNQUOTED = "the quotation does not write the size"


def ground(
    question: FeatureQuestion, text: str, reading: FeatureReading, answer: Answer
) -> Grounded | Dropped:
    """The answer's value with the span it quotes, or why it is dropped."""
    assert reading.system is not None
    body = answer.text.removeprefix(question.label(reading.system))
    written = _value_and_quote(body)
    if written is None:
        return Dropped.UNWRITTEN
    value_word, quote = written
    # Offsets into the answer's text, which begins with our label (answer_from gives the label
    # its own piece): the value's tokens begin after the label, with the space before it.
    value_start = len(answer.text) - len(body)
    value_end = value_start + body.find(value_word) + len(value_word.rstrip())
    confidence = label_confidence(answer.token_logprobs, value_start, value_end)
    if confidence is not None and confidence < FEATURE_FLOOR:
        return Dropped.UNSURE
    lesion = reading.lesions[question.lesion]
    start, end = (
        (0, len(text))
        if question.spec.name in _report_level(reading.system)
        else (lesion.start, lesion.end)
    )
    span = _find_quote(text, start, end, quote)
    if span is None:
        return Dropped.UNGROUNDED
    value = _parse_value(question.spec, value_word.strip())
    if question.spec.kind is FieldKind.NUMBER and not _quotes_size(text[span[0] : span[1]], value):
        return Dropped.SIZE_UNQUOTED  # a size is read, not estimated: the quotation must write it
    return Grounded(value, span[0], span[1], text[span[0] : span[1]])


def grounded_answer(
    question: FeatureQuestion, text: str, reading: FeatureReading, answer: Answer
) -> Grounded | None:
    """The answer's value with the span it quotes, or None when it is not grounded or the
    model was not sure enough of it."""
    found = ground(question, text, reading, answer)
    return found if isinstance(found, Grounded) else None


def completed(
    text: str, reading: FeatureReading, answers: dict[str, Answer]
) -> tuple[FeatureReading, tuple[str, ...]]:
    """The reading with the model's grounded features added, and their names ('lesion 1:
    margin') so the result can say which features the model read."""
    lesions = list(reading.lesions)
    read_by_model: list[str] = []
    for question in questions(reading):
        answer = answers.get(question.key)
        if answer is None:
            continue
        found = grounded_answer(question, text, reading, answer)
        if found is None:
            continue
        lesion = lesions[question.lesion]
        lesions[question.lesion] = dataclasses.replace(
            lesion, features={**lesion.features, question.spec.name: found}
        )
        read_by_model.append(f"lesion {question.lesion + 1}: {question.spec.name}")
    return dataclasses.replace(reading, lesions=tuple(lesions)), tuple(read_by_model)
