"""RADS assessment: which reporting system applies and which category the report supports.

Label set: every category of the 11 systems in mappings/rads.yaml plus "No applicable RADS".
Explicit statements in the text win over the model (see rules.py); disagreement is recorded.
Where the text states several categories of a system (e.g. per breast), the statement of the
most authoritative section wins, and within it the most severe category.
"""

from __future__ import annotations

from functools import cache

from radlite_fhir.coding import RadsCategory, load_code_tables
from radlite_fhir.report import Evidence, Origin, Report, Status, TaskResult
from radlite_fhir.rules import RadsStatement, find_rads
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

KEY = "rads_assignment"


@cache
def rads_grammar() -> str:
    """GBNF admitting exactly the label set (after the 'RADS:' the answer starts with)."""
    labels = load_code_tables().rads_labels()
    return 'root ::= " " label\nlabel ::= ' + " | ".join(gbnf_literal(x) for x in labels)


def parse_rads_answer(answer: str) -> tuple[RadsCategory | None, bool]:
    """(category, not_applicable) from a model answer; (None, False) when it does not parse."""
    text = without_label(strip_think(answer), KEY)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    tables = load_code_tables()
    if first.lower().rstrip(".").startswith(tables.no_applicable_label.lower()):
        return None, True
    statements = find_rads(first)
    if statements:
        return statements[0].category, False
    return None, False


def choose_statement(report: Report, statements: list[RadsStatement]) -> RadsStatement | None:
    if not statements:
        return None
    best_section = min(section_rank(report, s.start) for s in statements)
    candidates = [s for s in statements if section_rank(report, s.start) == best_section]
    return max(
        candidates, key=lambda s: (s.category.rank if s.category.rank is not None else -1, s.start)
    )


class RadsTask:
    name = "rads"

    def answered_by_text(self, report: Report) -> bool:
        return bool(find_rads(report.text))

    def calls(self, report: Report, profile: str) -> list[ModelCall]:
        if profile == RADLITE:
            return [radlite_call(KEY, report.text)]
        return [
            structured_call(
                KEY, report.text, max_tokens=16, grammar=rads_grammar(), confidence=True
            )
        ]

    def interpret(self, report: Report, answers: dict[str, Answer]) -> list[TaskResult]:
        answer = answers.get(KEY)
        model = answer.model if answer else None
        raw = answer.text if answer else None
        category, not_applicable = parse_rads_answer(raw) if raw is not None else (None, False)
        confidence = label_confidence(answer.token_logprobs) if answer and category else None
        statement = choose_statement(report, find_rads(report.text))
        if statement is not None:
            stated = statement.category
            evidence = Evidence(statement.start, statement.end, statement.text)
            conflict = None
            if raw is not None and category != stated:
                said = (
                    category.label
                    if category
                    else (
                        load_code_tables().no_applicable_label if not_applicable else "unparseable"
                    )
                )
                conflict = f"model answered '{said}'; the report states '{stated.label}'"
            origin = Origin.MODEL_AND_TEXT if category == stated else Origin.TEXT
            detail = {"composite": statement.composite} if statement.composite else {}
            return [
                TaskResult(
                    task=self.name,
                    kind="rads",
                    value=stated.label,
                    status=Status.CODED,
                    origin=origin,
                    evidence=evidence,
                    raw_answer=raw,
                    model=model,
                    conflict=conflict,
                    confidence=confidence if category == stated else None,
                    detail=detail,
                )
            ]
        if category is not None:
            return [
                TaskResult(
                    task=self.name,
                    kind="rads",
                    value=category.label,
                    status=Status.CODED,
                    origin=Origin.MODEL,
                    evidence=model_input_evidence(report),
                    raw_answer=raw,
                    model=model,
                    confidence=confidence,
                )
            ]
        if raw is None:
            return []
        status = Status.NOT_APPLICABLE if not_applicable else Status.UNPARSEABLE
        return [uncoded(self.name, "rads", raw, model, status)]
