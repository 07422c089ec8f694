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


# The `Item.system` of a stated stage group (the TNM group's other items use their axis,
# T, N or M): its corrections come from the stage groups of mappings/tnm.yaml.
STAGE_GROUP = "stage"

# Entity kinds of mappings/observations.yaml (entity:<kind>), in display order.
ENTITY_KINDS = ("anatomy", "observation_present", "observation_absent", "observation_uncertain")

PAST = {Action.ACCEPT: "accepted", Action.CORRECT: "corrected", Action.REJECT: "rejected"}

# FHIR Observation.status after a decision.
STATUS_AFTER = {
    Action.ACCEPT: "final",
    Action.CORRECT: "final",  # "corrected" means after a final; this was preliminary
    Action.REJECT: "entered-in-error",
}

# AI Transparency on FHIR (HL7/aitransparency-ig, 1.0.0-current source): the IG no longer
# defines a review-state label. Its change log removes AIRPT (FHIR-54801) and the experimental
# provenance codes (FHIR-57918): AddedProvenanceCS, with CLINAST_AIRPT, is gone from the FSH
# source (input/fsh/Labeling.fsh, which replaced Tagging.fsh, defines no CodeSystem). A
# clinician-confirmed AI result is shown as the IG's own example shows it (EX_Provenance.fsh:
# Observation f206 "created by an AI system and verified by a human", Provenance
# AI-Contributed): status final and a Provenance whose human agent is the `verifier`. So a
# review never changes `meta.security`: AIAST stays on what a model or a decision table
# asserted, and a statement copied from the report (no AIAST) gets none (docs/review.md).
AI_ASSERTED_CODE = "AIAST"
PARTICIPANT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
