"""RADS assessment: which reporting system applies and which category the report supports.

The decision policy is in rads_policy.py: statement > guideline-computed > model label > none.
Label set of the model's one-label answer: every category of the 11 systems in
mappings/rads.yaml plus "No applicable RADS". Where the text states several categories of a
system (e.g. per breast), the statement of the most authoritative section wins, and within it
the most severe category.
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
from radlite_fhir.tasks.rads_features import completed, feature_calls
from radlite_fhir.tasks.rads_policy import computed, discordance, guideline_result, reading_of

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


def stated(report: Report) -> RadsStatement | None:
    """The report's own statement of a category; a bare "Category 4A" counts under the system
    the examination and findings make applicable."""
    system = reading_of(report).system
    return choose_statement(
        report, find_rads(report.text, default_system=system.value if system else None)
    )


class RadsTask:
    name = "rads"

    def answered_by_text(self, report: Report) -> bool:
        return stated(report) is not None or computed(report)[1] is not None

    def calls(self, report: Report, profile: str) -> list[ModelCall]:
        if profile == RADLITE:
            return [radlite_call(KEY, report.text)]
        label = structured_call(
            KEY, report.text, max_tokens=16, grammar=rads_grammar(), confidence=True
        )
        if stated(report) is not None:
            return [label]
        # The features the lexicon left missing on the lesions whose answers could change the
        # category: every undecided lesion when none is decided, else only those that could
        # outrank the decided maximum (none at all when every lesion is decided).
        return [label, *feature_calls(report.text, reading_of(report))]

    def interpret(self, report: Report, answers: dict[str, Answer]) -> list[TaskResult]:
        answer = answers.get(KEY)
        model = answer.model if answer else None
        raw = answer.text if answer else None
        category, not_applicable = parse_rads_answer(raw) if raw is not None else (None, False)
        confidence = label_confidence(answer.token_logprobs) if answer and category else None
        tables = load_code_tables()
        said = (
            category.label if category else (tables.no_applicable_label if not_applicable else None)
        )
        reading, assessment = computed(report)
        statement = stated(report)
        if statement is not None:
            stated_category = statement.category
            conflict = None
            if raw is not None and category != stated_category:
                conflict = (
                    f"model answered '{said or 'unparseable'}'; "
                    f"the report states '{stated_category.label}'"
                )
            origin = Origin.MODEL_AND_TEXT if category == stated_category else Origin.TEXT
            detail = {"composite": statement.composite} if statement.composite else {}
            results = [
                TaskResult(
                    task=self.name,
                    kind="rads",
                    value=stated_category.label,
                    status=Status.CODED,
                    origin=origin,
                    evidence=Evidence(statement.start, statement.end, statement.text),
                    raw_answer=raw,
                    model=model,
                    conflict=conflict,
                    confidence=confidence if category == stated_category else None,
                    detail=detail,
                )
            ]
            flag = discordance(self.name, report, stated_category, reading, assessment, None)
            return results + ([flag] if flag else [])
        reading, read_by_model = completed(report.text, reading, answers)
        if read_by_model:  # a grounded answer may decide a lesion, or outrank the decided one
            assessment = reading.assessment()
        if assessment is not None and assessment.category is not None:
            result = guideline_result(self.name, report, reading, assessment, said, raw, model)
            if read_by_model:
                result.detail["read_by_model"] = list(read_by_model)
            return [result]
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
