"""RadGraph-style entities: anatomy, and observations present / absent / uncertain.

The model lists entity texts (RadLite's line format: 'Anatomy: a; b', 'Observation (Present):
...'); each is located in the report to give a character span. An entity the text does not
contain is kept as ungrounded (the model invented or rephrased it) and is not coded.
Items are split on ';' (RadLite's separator) and on ',' (small models list with commas); the
structured grammar admits neither inside an item.
"""

from __future__ import annotations

import re

from radlite_fhir.report import Evidence, Origin, Report, Status, TaskResult
from radlite_fhir.tasks import Answer
from radlite_fhir.tasks.evidence import uncoded
from radlite_fhir.tasks.profiles import (
    RADLITE,
    ModelCall,
    radlite_call,
    strip_think,
    structured_call,
)

KEY = "radiology_ner"
KINDS = {
    "anatomy": "anatomy",
    "observation (present)": "observation_present",
    "observation (absent)": "observation_absent",
    "observation (uncertain)": "observation_uncertain",
}
_ITEM = r"[^\n;,<]{1,60}"
NER_GRAMMAR = "\n".join(
    [
        'root ::= " " items "\\nObservation (Present): " items '
        '"\\nObservation (Absent): " items "\\nObservation (Uncertain): " items',
        'items ::= "none" | item ("; " item){0,11}',
        f"item ::= {_ITEM}",
    ]
)
_LINE = re.compile(
    r"^\s*[-*•]?\s*(anatomy|observation\s*\((?:present|absent|uncertain)\))"
    r"\s*:\s*(.*)$",
    re.IGNORECASE,
)


def parse_entities(answer: str) -> list[tuple[str, str]] | None:
    """[(kind, text), ...] from the line format; None when no line has the format."""
    found: list[tuple[str, str]] = []
    matched = False
    for line in strip_think(answer).splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        matched = True
        kind = KINDS[re.sub(r"observation\s*\(", "observation (", match.group(1).lower())]
        for item in re.split(r"[;,]", match.group(2)):  # RadGraph entities are short spans
            item = item.strip().strip(".").strip()
            if item and item.lower() not in {"none", "n/a", "-"}:
                found.append((kind, item))
    return found if matched else None


def locate(text: str, item: str, taken: set[tuple[int, int]]) -> tuple[int, int] | None:
    """First case-insensitive whole-word occurrence of `item` not already used."""
    pattern = re.compile(
        r"(?<!\w)" + r"\s+".join(re.escape(w) for w in item.split()) + r"(?!\w)", re.IGNORECASE
    )
    for match in pattern.finditer(text):
        span = (match.start(), match.end())
        if span not in taken:
            return span
    return None


class NerTask:
    name = "ner"

    def answered_by_text(self, report: Report) -> bool:
        return False  # the model's output is the result; the text cannot state it

    def calls(self, report: Report, profile: str) -> list[ModelCall]:
        if profile == RADLITE:
            return [radlite_call(KEY, report.text)]
        return [structured_call(KEY, report.text, max_tokens=200, grammar=NER_GRAMMAR)]

    def interpret(self, report: Report, answers: dict[str, Answer]) -> list[TaskResult]:
        answer = answers.get(KEY)
        if answer is None:
            return []
        entities = parse_entities(answer.text)
        if entities is None:
            return [
                uncoded(
                    self.name,
                    "entity",
                    answer.text,
                    answer.model,
                    reason="no line in the entity format",
                )
            ]
        results = []
        taken: set[tuple[int, int]] = set()
        seen: set[tuple[str, str]] = set()
        for kind, item in entities:
            if (kind, item.lower()) in seen:
                continue
            seen.add((kind, item.lower()))
            span = locate(report.text, item, taken)
            if span is None:
                results.append(
                    TaskResult(
                        task=self.name,
                        kind=f"entity:{kind}",
                        value=item,
                        status=Status.UNGROUNDED,
                        origin=Origin.MODEL,
                        model=answer.model,
                        item_key=f"{kind}:{item.lower()}",
                    )
                )
                continue
            taken.add(span)
            results.append(
                TaskResult(
                    task=self.name,
                    kind=f"entity:{kind}",
                    value=report.text[span[0] : span[1]],
                    status=Status.CODED,
                    origin=Origin.MODEL,
                    evidence=Evidence(span[0], span[1], report.text[span[0] : span[1]], "mention"),
                    model=answer.model,
                    item_key=f"{kind}:{span[0]}-{span[1]}",
                )
            )
        return results
