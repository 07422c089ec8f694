"""Feature-question samples: the question the product asks when its lexicon leaves a feature of
a lesion missing, answered with the generator's value and the report's own words.

The prompt is exactly what radlite_fhir.tasks.rads_features sends (the structured profile's
shared prefix, then `FeatureQuestion.label`), and the completion is what its grammar admits and
`grounded_answer` parses: ` <value> | "<quotation>"`. The value is the one in the lesion's
feature record; the quotation is the span the writer recorded as it wrote the feature, so it is
an exact substring of the report. A negated feature is asked too: its honest answer is the
negative term, quoting the negation ("none", "no calcifications").

The product asks a model only what its lexicon leaves missing, so the questions are drawn as it
asks them: first those `rads_features.questions` would ask of the report's own reading (the
lexicon's gaps on this text), then, up to the cap, the others. Drawn at random, nine in ten
would be features the lexicon reads already (it reads about 92% of the generator's features),
and a reader trained on them learns mostly what the product never asks it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from radlite_fhir.features.reader import read_features
from radlite_fhir.guidelines import GUIDELINES, FieldKind, FieldSpec, RadsSystem
from radlite_fhir.sections import split_sections
from radlite_fhir.tasks.rads_features import (
    MAX_QUOTE_CHARS,
    NO,
    QUOTE_SEPARATOR,
    YES,
    FeatureQuestion,
    question_call,
    questions,
)
from training.records import RADS_FEATURES, Record

# The number the question grammar admits: 1-999 with at most one decimal.
_NUMBER = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9])?")


@dataclass(frozen=True)
class FeatureSample:
    """One question about one feature of one lesion, and the answer the model should write."""

    system: RadsSystem
    lesion: int
    field: str
    value: str  # as the grammar writes it
    quote: str
    prompt: str

    @property
    def completion(self) -> str:
        return f' {self.value}{QUOTE_SEPARATOR}{self.quote}"'


def answer_word(spec: FieldSpec, value: Any) -> str | None:
    """The value as the question's grammar writes it, None when the grammar cannot."""
    if spec.kind is FieldKind.FLAG:
        return YES if value is True else NO if value is False else None
    if spec.kind is FieldKind.SCORE:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return str(value) if ok and spec.low <= value <= spec.high else None
    if spec.kind is FieldKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        word = f"{float(value):.1f}".removesuffix(".0")
        return word if _NUMBER.fullmatch(word) and float(word) == float(value) else None
    term = value[0] if isinstance(value, list | tuple) and len(value) == 1 else value
    return term if isinstance(term, str) and term in spec.terms else None


def _order(record_id: str, lesion: int, field: str) -> str:
    return hashlib.sha256(f"{record_id}:{lesion}:{field}".encode()).hexdigest()


def asked_by_product(record: Record, system: RadsSystem, lesions: int) -> set[tuple[int, str]]:
    """(lesion, field) pairs the product would ask a model about on this report: those its
    lexicon leaves missing. Only where the reading finds the generator's system and lesion
    count, so that its lesion numbers are the generator's (both count in the text's order)."""
    reading = read_features(record.text, split_sections(record.text))
    if reading.system is not system or len(reading.lesions) != lesions:
        return set()
    return {(q.lesion, q.spec.name) for q in questions(reading)}


def feature_questions(record: Record, cap: int) -> list[FeatureSample]:
    """Up to `cap` questions for the record: the lexicon's gaps first, then a seeded choice
    among its other stated features; one per lesion and field (of several terms of one field,
    the table's last, highest-scoring)."""
    target = record.targets.get(RADS_FEATURES)
    if not target or cap <= 0:
        return []
    system = RadsSystem(target["system"])
    specs = {spec.name: spec for spec in GUIDELINES[system].fields()}
    chosen: dict[tuple[int, str], tuple[str, str]] = {}
    for answer in target["answers"]:
        spec = specs.get(answer["field"])
        if spec is None:
            continue  # written for realism, not a feature of this table (a breast mass's size)
        word = answer_word(spec, answer["value"])
        quote = answer["quote"]
        start = answer["start"]
        if record.text[start : start + len(quote)] != quote:
            raise ValueError(f"{record.record_id}: a feature quotation is not where it was written")
        if word is None or len(quote) > MAX_QUOTE_CHARS or '"' in quote or "\n" in quote:
            continue
        key = (answer["lesion"], answer["field"])
        held = chosen.get(key)
        if held is None or (
            spec.kind is FieldKind.TERMS and spec.terms.index(word) > spec.terms.index(held[0])
        ):
            chosen[key] = (word, quote)
    # Which to ask first matters only when the cap leaves some out.
    gaps = asked_by_product(record, system, len(target["lesions"])) if len(chosen) > cap else set()
    picked = sorted(chosen, key=lambda k: (k not in gaps, _order(record.record_id, *k)))[:cap]
    out = []
    for lesion, field in sorted(picked):
        word, quote = chosen[(lesion, field)]
        call = question_call(record.text, system, FeatureQuestion(lesion, specs[field]))
        out.append(FeatureSample(system, lesion, field, word, quote, call.prompt))
    return out
