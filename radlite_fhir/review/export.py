"""Confirmed labels as training records: `radlite review export` writes one JSON line per
signed-off report in the shape of `training.records.Record` (`training.data.read_records`
reads the file as it is), so a site can retrain on its own confirmed data.

Only what a clinician confirmed or corrected becomes a target: a rejected RADS category says
what the answer is not, not what it is, so it gives no RADS target; TNM axes drop the c/p
prefix as the training sources do ("T2"). Entities are left out unless asked for: a review
confirms the entities the model found, not that it found all of them, and a record that omits
a missed entity would teach the model to miss it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from radlite_fhir.review.store import Decision, ReviewStore
from radlite_fhir.review.vocab import Action, Group
from radlite_fhir.review.worklist import ReviewReport

SOURCE = "review"
# training.records target keys (product code may not import training/).
RADS, TNM, NER = "rads", "tnm", "ner"


def training_record(report: ReviewReport, decisions: dict[str, Decision]) -> dict[str, Any]:
    """The confirmed labels of one report as a Record's fields (with the entities kept in
    `entities` for an export that asks for them)."""
    targets: dict[str, Any] = {}
    tnm: dict[str, str] = {}
    entities: list[list[str]] = []
    for item in report.items:
        decision = decisions.get(item.key)
        if decision is None or decision.action is Action.REJECT:
            continue
        value = decision.value if decision.action is Action.CORRECT else None
        if item.group is Group.RADS:
            targets[RADS] = value or item.label
        elif item.group is Group.TNM and item.system in ("T", "N", "M"):
            # A stage group is not a training target: no model is ever asked for one.
            tnm[item.system] = (value or item.label).lstrip("cp")
        elif item.group is Group.ENTITY:
            entities.append([value or item.system or "", item.label])
    if tnm:
        targets[TNM] = tnm
    subject = report.subject or {}
    group = (subject.get("identifier") or {}).get("value") or subject.get("reference") or report.key
    return {
        "source": SOURCE,
        "record_id": report.key,
        "group": group,
        "text": report.text,
        "targets": targets,
        "findings": None,
        "entities": entities,
    }


def export(store: ReviewStore, out: Path, with_entities: bool = False) -> int:
    """Write the latest sign-off of every report as a JSONL line; return how many."""
    count = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for record in store.records():
            entities = record.pop("entities", [])
            if with_entities and entities:
                record["targets"][NER] = entities
            if not record["targets"]:
                continue
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
