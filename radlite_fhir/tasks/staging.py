"""Clinical TNM staging from radiology text (mCODE cT, cN, cM).

Profiles differ: RadLite publishes prompts for N (few-shot, answered 'Positive'/'Negative',
the category only after 'N staging:') and M, none for T; under the radlite profile T comes
from explicit statements only. The structured profile asks for all three in one
grammar-constrained answer. An explicit TNM string in the text wins per axis; a pathologic
string (pT3N0M1 quoted from pathology) is coded with the pathologic concept it states.
A model 'X' (cannot be assessed) or 'Not applicable' is not coded.
"""

from __future__ import annotations

import re
from functools import cache

from radlite_fhir.coding import load_code_tables
from radlite_fhir.report import Evidence, Origin, Report, Status, TaskResult
from radlite_fhir.rules import TnmStatement, find_tnm
from radlite_fhir.tasks import Answer
from radlite_fhir.tasks.evidence import (
    label_confidence,
    model_input_evidence,
    section_rank,
    uncoded,
)
from radlite_fhir.tasks.profiles import (
    RADLITE,
    ModelCall,
    gbnf_literal,
    radlite_call,
    strip_think,
    structured_call,
    without_label,
)

STRUCTURED_KEY = "tnm_staging"
NOT_APPLICABLE = "Not applicable"
AXES = ("T", "N", "M")


@cache
def staging_grammar() -> str:
    tables = load_code_tables()
    rules = [f'root ::= " " ({gbnf_literal(NOT_APPLICABLE)} | t " " n " " m)']
    for axis in AXES:
        options = " | ".join(gbnf_literal(c) for c in tables.tnm_categories(axis))
        rules.append(f"{axis.lower()} ::= {options}")
    return "\n".join(rules)


def _category(axis: str, token: str) -> str | None:
    categories = {c.lower(): c for c in load_code_tables().tnm_categories(axis)}
    return categories.get(token.lower())


def parse_structured(answer: str) -> dict[str, str] | None:
    """{'T': 'T2', ...} or {} for 'Not applicable'; None when it does not parse."""
    text = without_label(strip_think(answer), STRUCTURED_KEY)
    if text.lower().startswith(NOT_APPLICABLE.lower()):
        return {}
    values = {}
    for axis in AXES:
        match = re.search(
            rf"(?<![A-Za-z])[cp]?({axis}(?:is|[0-4][a-e]?(?:mi)?|x))\b", text, re.IGNORECASE
        )
        category = _category(axis, match.group(1)) if match else None
        if category is None:
            return None
        values[axis] = category
    return values


def parse_n_answer(answer: str) -> tuple[str | None, str | None]:
    """(category, involvement) from RadLite's n_staging answer ('Negative', 'Positive. N
    staging: N2', ...). involvement is 'positive'/'negative' or None."""
    text = strip_think(answer)
    match = re.search(r"N[\s_]*stag\w*\s*:\s*(N[0-3X][a-c]?)", text, re.IGNORECASE)
    category = _category("N", match.group(1)) if match else None
    lowered = text.lower()
    involvement = (
        "positive"
        if lowered.startswith("positive")
        else "negative"
        if lowered.startswith("negative")
        else None
    )
    if category is None and involvement == "negative":
        category = "N0"
    if category is None:
        bare = re.match(r"\s*(N[0-3X][a-c]?)\b", text, re.IGNORECASE)
        category = _category("N", bare.group(1)) if bare else None
    return category, involvement


def parse_m_answer(answer: str) -> str | None:
    match = re.search(r"(?<![A-Za-z])c?(M[01X][a-d]?)\b", strip_think(answer), re.IGNORECASE)
    return _category("M", match.group(1)) if match else None


def choose_statement(report: Report) -> TnmStatement | None:
    statements = find_tnm(report.text)
    if not statements:
        return None
    return min(statements, key=lambda s: (section_rank(report, s.start), s.pathologic, -s.start))


class StagingTask:
    name = "staging"

    def answered_by_text(self, report: Report) -> bool:
        statement = choose_statement(report)
        return statement is not None and all(axis in statement.values for axis in AXES)

    def calls(self, report: Report, profile: str) -> list[ModelCall]:
        if profile == RADLITE:
            return [radlite_call("n_staging", report.text), radlite_call("m_staging", report.text)]
        return [
            structured_call(
                STRUCTURED_KEY,
                report.text,
                max_tokens=16,
                grammar=staging_grammar(),
                confidence=True,
            )
        ]

    def interpret(self, report: Report, answers: dict[str, Answer]) -> list[TaskResult]:
        model_values, raw, model, problems, confidence = self._model_values(answers)
        statement = choose_statement(report)
        results = []
        for axis in AXES:
            stated = statement.values.get(axis) if statement else None
            said = model_values.get(axis)
            if stated is not None:
                assert statement is not None
                prefix = "p" if statement.pathologic else "c"
                agrees = said is not None and said == stated
                conflict = (
                    f"model answered '{said}'; the report states '{prefix}{stated}'"
                    if raw.get(axis) is not None and not agrees
                    else None
                )
                results.append(
                    TaskResult(
                        task=self.name,
                        kind=axis,
                        value=prefix + stated,
                        status=Status.CODED,
                        origin=Origin.MODEL_AND_TEXT if agrees else Origin.TEXT,
                        evidence=Evidence(statement.start, statement.end, statement.text),
                        raw_answer=raw.get(axis),
                        model=model.get(axis),
                        conflict=conflict,
                        confidence=confidence.get(axis) if agrees else None,
                        item_key=axis,
                    )
                )
            elif said is not None and not said.endswith("X"):
                results.append(
                    TaskResult(
                        task=self.name,
                        kind=axis,
                        value="c" + said,
                        status=Status.CODED,
                        origin=Origin.MODEL,
                        confidence=confidence.get(axis),
                        evidence=model_input_evidence(report),
                        raw_answer=raw.get(axis),
                        model=model.get(axis),
                        item_key=axis,
                    )
                )
            elif axis in problems:
                results.append(
                    uncoded(
                        self.name,
                        axis,
                        raw.get(axis),
                        model.get(axis),
                        reason=problems[axis],
                        item_key=axis,
                    )
                )
        return results

    def _model_values(self, answers: dict[str, Answer]):
        values: dict[str, str] = {}
        raw: dict[str, str] = {}
        model = {}
        problems: dict[str, str] = {}
        confidence: dict[str, float | None] = {}
        if STRUCTURED_KEY in answers:
            answer = answers[STRUCTURED_KEY]
            parsed = parse_structured(answer.text)
            for axis in AXES:
                raw[axis], model[axis] = answer.text, answer.model
                if parsed is None:
                    problems[axis] = "answer is not 'T? N? M?' nor 'Not applicable'"
                elif axis in parsed:
                    values[axis] = parsed[axis]
                    start = answer.text.find(parsed[axis])
                    if start >= 0:
                        confidence[axis] = label_confidence(
                            answer.token_logprobs, start, start + len(parsed[axis])
                        )
        if "n_staging" in answers:
            answer = answers["n_staging"]
            raw["N"], model["N"] = answer.text, answer.model
            category, involvement = parse_n_answer(answer.text)
            if category:
                values["N"] = category
            elif involvement == "positive":
                problems["N"] = "lymph node involvement positive; N category not stated"
            else:
                problems["N"] = "answer names neither involvement nor an N category"
        if "m_staging" in answers:
            answer = answers["m_staging"]
            raw["M"], model["M"] = answer.text, answer.model
            category = parse_m_answer(answer.text)
            if category:
                values["M"] = category
            else:
                problems["M"] = "answer names no M category"
        return values, raw, model, problems, confidence
