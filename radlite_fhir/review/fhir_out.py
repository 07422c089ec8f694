"""FHIR write-back of a signed-off review: each Observation in its reviewed version and one
Provenance naming the clinician, in a transaction Bundle.

The reviewed Observation keeps its identifier, so the conditional PUT updates the resource the
model wrote and the server's history keeps that version; the Bundle also carries what the
model said (an `ai-original-value` extension on a corrected result) and the Provenance cites
every revised Observation. Status: final (accepted or corrected) or entered-in-error
(rejected). Security labels are left as the writer set them: AIAST stays on what a model or a
decision table asserted, a statement copied from the report has none. The current AI
Transparency IG defines no review-state label (it removed AddedProvenanceCS and CLINAST_AIRPT);
the confirmation is the final status and the Provenance with the clinician as `verifier`, as
the IG's example of an AI result verified by a human (docs/review.md).
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from radlite_fhir.coding import CodeTables
from radlite_fhir.review.auth import Reviewer
from radlite_fhir.review.store import Decision
from radlite_fhir.review.vocab import (
    DATA_OPERATION_SYSTEM,
    PARTICIPANT_TYPE_SYSTEM,
    PAST,
    STAGE_GROUP,
    STATUS_AFTER,
    Action,
    Group,
)
from radlite_fhir.review.worklist import Item, ReviewReport
from radlite_fhir.writers.fhir import Entry, transaction_bundle

_NAMESPACE = uuid.UUID("0b6b1a4e-93f1-5d2c-8d7e-5d0f2b8f6c31")


def reviewer_reference(tables: CodeTables, reviewer: Reviewer) -> dict[str, Any]:
    """The clinician as a Reference: the Practitioner the list names, else a logical
    reference by the site's reviewer identifier."""
    if reviewer.practitioner:
        return {"reference": reviewer.practitioner, "display": reviewer.name}
    return {
        "identifier": {
            "system": f"{tables.systems['project_base']}/identifier/reviewer",
            "value": reviewer.username,
        },
        "display": reviewer.name,
    }


def corrected_value(tables: CodeTables, item: Item, value: str) -> dict[str, Any]:
    """The elements a correction replaces (value, or code for an entity's kind)."""
    if item.group in (Group.RADS, Group.DISCORDANCE) or (
        item.group is Group.UNPARSEABLE and tables.rads_category(value)
    ):
        category = tables.rads_category(value)
        if category is None:
            raise ValueError("the corrected RADS label is not in the code table")
        out: dict[str, Any] = {
            "valueCodeableConcept": {"coding": tables.rads_value(category), "text": category.label}
        }
        if item.group is Group.UNPARSEABLE:
            system = tables.rads[category.system]
            out["code"] = {"coding": tables.rads_concept(category.system), "text": system.display}
        return out
    if item.group is Group.TNM and item.system == STAGE_GROUP:
        # Same clinical/pathologic prefix: a correction changes the group, not the staging
        # type the report stated (that is the Observation's code).
        if value[:1] != item.label[:1] or value[1:] not in tables.stage_groups():
            raise ValueError("the corrected stage group is not in the code table")
        return {
            "valueCodeableConcept": {
                "coding": tables.stage_group_value(value),
                "text": f"Stage {value[1:]}",
            }
        }
    if item.group in (Group.TNM, Group.UNPARSEABLE):
        axis = value.lstrip("cp")[:1]
        if axis not in ("T", "N", "M") or value.lstrip("cp") not in tables.tnm_categories(axis):
            raise ValueError("the corrected TNM category is not in the code table")
        return {"valueCodeableConcept": {"coding": tables.tnm_value(value), "text": value}}
    if item.group is Group.ENTITY:
        codings = tables.observation_code("entity", value)
        return {"code": {"coding": codings, "text": codings[0]["display"]}}
    if item.group is Group.IMPRESSION:
        if not value.strip():
            raise ValueError("a corrected impression needs text")
        return {"valueString": value.strip()}
    raise ValueError(f"results of kind {item.group.value} cannot be corrected")


def resolve_references(value: Any, references: dict[str, str]) -> Any:
    """`value` with every urn:uuid reference into the enriched Bundle replaced by the URL that
    Bundle wrote its target under (a conditional `Device?identifier=...` or `Type/id`): the
    review Bundle does not carry those entries, and a transaction whose urn:uuid points at no
    entry of its own is refused by the server."""
    if isinstance(value, dict):
        out = {k: resolve_references(v, references) for k, v in value.items()}
        target = out.get("reference")
        if isinstance(target, str) and target.startswith("urn:uuid:") and target in references:
            out["reference"] = references[target]
        return out
    if isinstance(value, list):
        return [resolve_references(v, references) for v in value]
    return value


def reviewed_observation(
    tables: CodeTables,
    item: Item,
    decision: Decision,
    reviewer: Reviewer,
    when: str,
    references: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Observation as the review leaves it (the model's version is untouched in
    `item.resource`)."""
    base = f"{tables.systems['project_base']}/StructureDefinition"
    resource = resolve_references(copy.deepcopy(item.resource), references or {})
    resource["status"] = STATUS_AFTER[decision.action]
    resource.pop("dataAbsentReason", None) if decision.action is Action.CORRECT else None
    extension = [e for e in resource.get("extension", [])]
    if decision.action is Action.CORRECT and decision.value is not None:
        original = {
            k: item.resource[k]
            for k in ("code", "valueCodeableConcept", "valueString")
            if k in item.resource
        }
        resource.update(corrected_value(tables, item, decision.value))
        if item.group is Group.ENTITY:
            # An entity's correction changes its kind (Observation.code); its text stays.
            extension.append(
                {"url": f"{base}/ai-original-code", "valueCodeableConcept": original["code"]}
            )
        else:
            extension.append(
                {
                    "url": f"{base}/ai-original-value",
                    **(
                        {"valueCodeableConcept": original["valueCodeableConcept"]}
                        if "valueCodeableConcept" in original
                        else {"valueString": original.get("valueString") or item.label or "(none)"}
                    ),
                }
            )
    extension.append({"url": f"{base}/review-decision", "valueCode": decision.action.value})
    resource["extension"] = extension
    verb = PAST[decision.action].capitalize()
    resource["note"] = [
        *resource.get("note", []),
        {
            "authorReference": reviewer_reference(tables, reviewer),
            "time": when,
            "text": f"{verb} by {reviewer.name} on review of {_what(item)} (radlite-fhir).",
        },
    ]
    return resource


def review_entries(
    tables: CodeTables,
    report: ReviewReport,
    decisions: dict[str, Decision],
    reviewer: Reviewer,
    sequence: int,
    recorded: str | None = None,
) -> list[Entry]:
    """The reviewed Observations and their Provenance, in Bundle order."""
    when = recorded or datetime.now(UTC).isoformat(timespec="seconds")
    observations: list[Entry] = []
    for item in report.items:
        decision = decisions[item.key]
        resource = reviewed_observation(tables, item, decision, reviewer, when, report.references)
        entry_uuid = str(uuid.uuid5(_NAMESPACE, f"{item.key}|review|{sequence}"))
        system = item.resource["identifier"][0].get("system", "")
        observations.append(
            Entry(entry_uuid, _checked(resource), f"Observation?identifier={system}|{item.key}")
        )
    corrected = any(d.action is Action.CORRECT for d in decisions.values())
    who = reviewer_reference(tables, reviewer)
    agents = [_agent("verifier", "Verifier", who)]
    if corrected:
        agents.append(_agent("author", "Author", who))
    provenance: dict[str, Any] = {
        "resourceType": "Provenance",
        "target": [{"reference": f"urn:uuid:{e.uuid}"} for e in observations],
        "recorded": when,
        "activity": {
            "coding": [{"system": DATA_OPERATION_SYSTEM, "code": "UPDATE", "display": "revise"}],
            "text": "Clinician review of radlite-fhir results: "
            + ", ".join(
                f"{sum(1 for d in decisions.values() if d.action is a)} {PAST[a]}" for a in Action
            ),
        },
        "agent": agents,
        "entity": [
            {
                "role": "revision",
                "what": {
                    "type": "Observation",
                    "identifier": {
                        "system": item.resource["identifier"][0].get("system", ""),
                        "value": item.key,
                    },
                },
            }
            for item in report.items
        ],
    }
    if report.report_reference:
        source = resolve_references(report.report_reference, report.references)
        provenance["entity"].append({"role": "source", "what": source})
    provenance_uuid = str(uuid.uuid5(_NAMESPACE, f"{report.key}|provenance|{sequence}"))
    return [
        *observations,
        Entry(provenance_uuid, _checked(provenance), f"Provenance/{provenance_uuid}"),
    ]


def _what(item: Item) -> str:
    """What the reviewer looked at, in the note: a statement the rules copied from the signed
    report is not an AI result, and the note must not say it is."""
    return "the AI result" if item.ai_asserted else "the result copied from the report's statement"


def review_bundle(entries: list[Entry]) -> dict[str, Any]:
    return transaction_bundle(entries)


def _agent(code: str, display: str, who: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": PARTICIPANT_TYPE_SYSTEM, "code": code, "display": display}]},
        "who": who,
    }


def _checked(resource: dict[str, Any]) -> dict[str, Any]:
    from radlite_fhir.fhir_schema import schema_errors
    from radlite_fhir.writers.fhir import SchemaViolation

    problems = schema_errors(resource)
    if problems:
        raise SchemaViolation(
            f"reviewed {resource['resourceType']} fails the FHIR R4 schema: "
            f"{'; '.join(problems[:5])}"
        )
    return resource
