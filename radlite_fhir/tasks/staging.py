"""Clinical TNM staging from radiology text (mCODE cT, cN, cM).

Profiles differ: RadLite publishes prompts for N (few-shot, answered 'Positive'/'Negative',
the category only after 'N staging:') and M, none for T; under the radlite profile T comes
from explicit statements only. The structured profile asks for all three in one
grammar-constrained answer. An explicit TNM string in the text wins per axis; a pathologic
string (pT3N0M1 quoted from pathology) is coded with the pathologic concept it states.
A model 'X' (cannot be assessed) or 'Not applicable' is not coded, nor is a model's category on
a report that names no malignancy (`names_malignancy`): TNM stages a cancer, and a thyroid
nodule's ultrasound or a clear chest film has none to stage, whatever a small model answers.

A stage group is written only where the report states one ("Stage IIIA", "clinical stage IIB",
"pathologic stage group IV"): never computed from T, N and M (that needs the cancer's site and
the AJCC tables), never asked of a model. A "stage II" of another staging system (FIGO, Ann
Arbor, ...) or of a condition TNM does not stage (CKD, pressure ulcer, lymphoma) is not one
(mappings/tnm.yaml lists both); nor is a negated, historical, post-therapy (y) or ranged one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from radlite_fhir.coding import load_code_tables
from radlite_fhir.features.lexicon import load_lexicon
from radlite_fhir.features.text import negated
from radlite_fhir.report import Evidence, Origin, Report, Status, TaskResult
from radlite_fhir.rules import TnmStatement, _negated_or_historical, find_tnm
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
STAGE_GROUP = "stage-group"  # the result kind (and item key) of a stated stage group


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


@dataclass(frozen=True)
class StageGroupStatement:
    """One stated AJCC stage group: `group` as the tables spell it ('IIIA', '0is')."""

    pathologic: bool
    group: str
    start: int
    end: int
    text: str


def _words(words: list[str]) -> str:
    return "|".join(r"[\s\-]?".join(map(re.escape, w.split())) for w in words)


@cache
def _stage_group_pattern() -> re.Pattern[str]:
    table = load_code_tables().tnm["stage_group"]
    return re.compile(
        r"(?<![A-Za-z0-9])(?:(?P<axis>(?-i:[TNM])\.?)\s+)?"
        r"(?:(?P<qual>clinical|clinically|radiologic(?:al)?|pathologic(?:al)?|"
        r"yc|yp|[cp]|AJCC|TNM|overall)[\s\-]*)?"
        r"(?:(?P<qual2>clinical|pathologic(?:al)?|AJCC|TNM|anatomic|prognostic)\s+)?"
        r"stage(?:\s+group(?:ing)?)?\s*[:=]?\s*"
        r"(?P<group>IV|III|II|I|0)(?P<sub>[A-Da-d][12]?|is|a|\s(?-i:[A-D]))?(?![A-Za-z0-9])"
        r"(?P<range>\s*(?:[-\u2013/]|to\b|or\b)\s*(?:IV|I{1,3}|[A-Da-d]\b))?"
        r"(?P<after>[\s,]+(?:" + _words(table["not_tnm"]) + r"))?",
        re.IGNORECASE,
    )


@cache
def _other_system() -> re.Pattern[str]:
    words = _words(load_code_tables().tnm["stage_group"]["other_systems"])
    return re.compile(rf"(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])", re.IGNORECASE)


@cache
def _malignancy() -> re.Pattern[str]:
    words = "|".join(load_code_tables().tnm["malignancy"])
    return re.compile(rf"(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])", re.IGNORECASE)


def names_malignancy(text: str) -> bool:
    """Whether the report speaks of a cancer TNM could stage: a malignancy word that is not
    negated ("known carcinoma", "staging CT"; not "no evidence of malignancy")."""
    lexicon = load_lexicon()
    return any(not negated(lexicon, text, m.start(), m.end()) for m in _malignancy().finditer(text))


def _clause_around(text: str, match: re.Match[str], width: int = 60) -> tuple[str, str]:
    """The words of the match's sentence just before and just after it."""
    before = re.split(r"[.;\n]", text[max(0, match.start() - width) : match.start()])[-1]
    after = re.split(r"[.;\n]", text[match.end() : match.end() + width])[0]
    return before, after


def _pathologic_context(before: str, after: str) -> bool:
    """'Pathologic stage (AJCC 8): Stage IIA', 'pT3N0M1, stage IV', 'Stage IIB (pT2 N1 M0)':
    an unqualified stage group in a pathologic clause, or beside a pathologic TNM string, is
    pathologic."""
    if re.search(r"\bpatholog", before, re.IGNORECASE):
        return True
    return any(s.pathologic for s in [*find_tnm(before), *find_tnm(after)])


def find_stage_groups(text: str) -> list[StageGroupStatement]:
    """Every stated AJCC stage group in the text, in order (see the module docstring for what
    is not one)."""
    groups = {g.lower(): g for g in load_code_tables().stage_groups()}
    out: list[StageGroupStatement] = []
    previous_end = 0
    for match in _stage_group_pattern().finditer(text):
        qualifiers = [(match.group(q) or "").lower() for q in ("qual", "qual2")]
        roman, sub = match.group("group").upper(), (match.group("sub") or "").strip()
        group = groups.get((roman + sub).lower())
        before, after = _clause_around(text, match)
        skip = (
            group is None
            or match.group("axis") is not None  # 'T Stage: 2 N Stage: 0 M Stage: 0'
            or _other_system().search(before) is not None  # 'FIGO (2009) stage IB2
            or match.group("range") is not None
            or match.group("after") is not None
            or qualifiers[0].startswith("y")
            or match.group("group").islower()  # 'stage i' is not how a stage is written
            or _negated_or_historical(text, match.start(), match.end(), previous_end)
        )
        previous_end = match.end()
        if skip or group is None:
            continue
        clinical = any(q.startswith(("c", "radiologic")) for q in qualifiers if q)
        pathologic = any(q == "p" or q.startswith("pathologic") for q in qualifiers) or (
            not clinical and _pathologic_context(before, after)
        )
        out.append(
            StageGroupStatement(
                pathologic=pathologic,
                group=group,
                start=match.start(),
                end=match.end(),
                text=match.group(0),
            )
        )
    return out


def choose_stage_group(report: Report) -> StageGroupStatement | None:
    """The report's stage group: the impression's first, clinical before pathologic, the
    latest in a section (as for TNM strings)."""
    statements = find_stage_groups(report.text)
    if not statements:
        return None
    return min(statements, key=lambda s: (section_rank(report, s.start), s.pathologic, -s.start))


def stage_group_result(report: Report) -> TaskResult | None:
    """The stated stage group as a result (origin: the text; no model is asked)."""
    statement = choose_stage_group(report)
    if statement is None:
        return None
    prefix = "p" if statement.pathologic else "c"
    return TaskResult(
        task=StagingTask.name,
        kind=STAGE_GROUP,
        value=prefix + statement.group,
        status=Status.CODED,
        origin=Origin.TEXT,
        evidence=Evidence(statement.start, statement.end, statement.text),
        item_key=STAGE_GROUP,
    )


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
        stageable = names_malignancy(report.text)
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
            elif said is not None and not said.endswith("X") and stageable:
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
        stage_group = stage_group_result(report)
        if stage_group is not None:
            results.append(stage_group)
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
