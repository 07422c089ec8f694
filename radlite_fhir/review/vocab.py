"""The review's vocabularies, defined once: what a reviewer may decide, the kinds of result a
page shows, and the codes a decision writes (AI Transparency on FHIR, provenance roles)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What a reviewer decides about one result."""

    ACCEPT = "accept"
    CORRECT = "correct"
    REJECT = "reject"


class Group(StrEnum):
    """Where a result sits on the page (and in the order of review after the flagged ones)."""

    RADS = "rads"
    DISCORDANCE = "rads-discordance"
    TNM = "tnm"
    IMPRESSION = "impression"
    ENTITY = "entity"
    UNPARSEABLE = "unparseable"


# Entity kinds of mappings/observations.yaml (entity:<kind>), in display order.
ENTITY_KINDS = ("anatomy", "observation_present", "observation_absent", "observation_uncertain")

PAST = {Action.ACCEPT: "accepted", Action.CORRECT: "corrected", Action.REJECT: "rejected"}

# FHIR Observation.status after a decision.
STATUS_AFTER = {
    Action.ACCEPT: "final",
    Action.CORRECT: "final",  # "corrected" means after a final; this was preliminary
    Action.REJECT: "entered-in-error",
}

# AI Transparency on FHIR (HL7, STU1 ballot): the security label of content a clinician
# asserted after an AI reported it; the AI-asserted label it replaces.
AI_TRANSPARENCY_SYSTEM = "http://hl7.org/fhir/uv/aitransparency/CodeSystem/AddedProvenanceCS"
CLINICIAN_ASSERTED = {
    "system": AI_TRANSPARENCY_SYSTEM,
    "code": "CLINAST_AIRPT",
    "display": "Clinician Asserted from AI Reported",
}
AI_ASSERTED_CODE = "AIAST"
PARTICIPANT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
