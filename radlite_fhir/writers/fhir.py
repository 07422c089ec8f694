"""FHIR R4 output: Observations (one per coded result), a Device per model, a Provenance.

Identity is deterministic: an Observation's identifier hashes the source report (canonical
JSON), the model's sha256, the prompt version and the result's key, so re-delivering the same
input updates the same resources (conditional PUT by identifier) instead of duplicating them.
Every resource is validated against the official R4 JSON schema before it is written; a
failure there is a bug of ours and stops the write.

Choices where the standards are silent (see README): evidence spans, result origin, the prompt
profile and raw model answers travel as extensions in the project's namespace; answers that did
not parse are written with dataAbsentReason 'error' and the raw answer in a note, never coded;
'not applicable' and ungrounded results are not written.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from radlite_fhir import __version__
from radlite_fhir.coding import CodeTables, load_code_tables
from radlite_fhir.errors import NotEnrichable
from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.report import (
    RADS_DISCORDANCE,
    Findings,
    ModelInfo,
    Origin,
    Report,
    Status,
    TaskResult,
    digest,
)
from radlite_fhir.tasks.staging import STAGE_GROUP
from radlite_fhir.writers.fhir_input_prompt import input_prompt_document, prompt_template
from radlite_fhir.writers.fhir_model_card import model_card_document

FHIR_JSON = "application/fhir+json"
AIAST = {"code": "AIAST", "display": "Artificial Intelligence asserted"}
_NAMESPACE = uuid.UUID("6f1c9d52-4a5e-5b0e-9a43-2d7c1e8b9f10")
RULES_VERSION = "rules-v1"
# FHIR 4.0.1 Observation.derivedFrom: the only resource types it may reference (a
# DiagnosticReport is not among them; R5 does not add it either).
DERIVED_FROM_TARGETS = frozenset(
    {
        "DocumentReference",
        "ImagingStudy",
        "Media",
        "QuestionnaireResponse",
        "Observation",
        "MolecularSequence",
    }
)


class SchemaViolation(RuntimeError):
    """A resource we built fails the official schema: a bug, never the user's input."""


@dataclass(frozen=True)
class Entry:
    """One output resource with its deterministic uuid and its conditional-update URL
    (`if_match`: the version an update must find, for version-aware updates)."""

    uuid: str
    resource: dict[str, Any]
    request_url: str
    if_match: str | None = None


def reference_type(reference: dict[str, Any]) -> str | None:
    """The resource type a Reference points at: its `type`, else the type segment of a
    literal `Type/id` or `[base]/Type/id[/_history/v]` reference; None when neither says."""
    if isinstance(reference.get("type"), str):
        return reference["type"]
    literal = reference.get("reference")
    if not isinstance(literal, str) or literal.startswith(("urn:", "#")):
        return None
    parts = literal.split("?")[0].split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-2] if len(parts) >= 2 and parts[-2][:1].isupper() else None


def ai_asserted(result: TaskResult) -> bool:
    """Whether an Observation carries the AIAST label ("Artificial Intelligence asserted").

    Yes when a model took part in the result (its answer coded, confirmed or overruled in a
    note; the Observation names the model Device), and when our ACR decision tables computed a
    category the report does not state (an algorithm's inference: the AI Transparency IG counts
    any logic that changes how data is understood). No for a value the radiologist wrote and
    the rules only copied (origin explicit-statement, no model): the assertion is the signed
    report's, and the IG leaves this line to the implementer (docs/standards.md)."""
    return result.model is not None or result.origin is not Origin.TEXT


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


class FhirBuilder:
    """Builds the resources of one or more `Findings`.

    `literal_ids` gives each resource its deterministic id and `Type/id` references (NDJSON);
    otherwise references are the transaction's `urn:uuid` fullUrls (Bundle).
    """

    def __init__(
        self,
        tables: CodeTables | None = None,
        *,
        literal_ids: bool = False,
        recorded: str | None = None,
    ) -> None:
        self.tables = tables or load_code_tables()
        self.literal_ids = literal_ids
        self.recorded = recorded or datetime.now(UTC).isoformat(timespec="seconds")
        self.base = self.tables.systems["project_base"]

    # --- references ---------------------------------------------------------------------
    def ref(self, resource_type: str, entry_uuid: str) -> str:
        return f"{resource_type}/{entry_uuid}" if self.literal_ids else f"urn:uuid:{entry_uuid}"

    def _finish(self, entry_uuid: str, resource: dict[str, Any]) -> dict[str, Any]:
        if self.literal_ids:
            resource = {
                "resourceType": resource["resourceType"],
                "id": entry_uuid,
                **{k: v for k, v in resource.items() if k != "resourceType"},
            }
        problems = schema_errors(resource)
        if problems:
            raise SchemaViolation(
                f"{resource['resourceType']} fails the FHIR R4 schema: {'; '.join(problems[:5])}"
            )
        return resource

    # --- resources ----------------------------------------------------------------------
    def model_card(self, model: ModelInfo) -> Entry:
        """The model's AI-ModelCard DocumentReference (one per model file and adapter)."""
        system = f"{self.base}/identifier/model-card"
        value = f"{model.sha256}+{model.adapter_sha256}" if model.adapter_sha256 else model.sha256
        entry_uuid = _uid("model-card", model.sha256, model.adapter_sha256 or "")
        resource = model_card_document(model, self.tables, {"system": system, "value": value})
        return Entry(
            entry_uuid,
            self._finish(entry_uuid, resource),
            f"DocumentReference?identifier={system}|{value}",
        )

    def input_prompt(self, model: ModelInfo) -> Entry:
        """The AI-InputPrompt DocumentReference of the model's prompt profile and version: the
        template only, the same for every report (never a report's text)."""
        system = f"{self.base}/identifier/prompt-version"
        template = prompt_template(model.profile, model.prompt_version)
        entry_uuid = _uid("input-prompt", model.profile, model.prompt_version, template.sha256)
        resource = input_prompt_document(
            template, self.tables, {"system": system, "value": model.prompt_version}
        )
        return Entry(
            entry_uuid,
            self._finish(entry_uuid, resource),
            f"DocumentReference?identifier={system}|{model.prompt_version}",
        )

    def device(self, model: ModelInfo, model_card_ref: str | None = None) -> Entry:
        """The model as an AI-Device; `model_card_ref` its AI-ModelCard (extension
        modelCardDescription, as the IG's AI-Device lists it)."""
        system = f"{self.base}/identifier/model-sha256"
        entry_uuid = _uid("device", model.sha256, model.adapter_sha256 or "")
        identifiers = [{"system": system, "value": model.sha256}]
        if model.adapter_sha256:
            identifiers.append(
                {"system": f"{self.base}/identifier/adapter-sha256", "value": model.adapter_sha256}
            )
        systems = self.tables.systems
        resource = {
            "resourceType": "Device",
            "meta": {"profile": [systems["ai_device_profile"]]},
            "extension": [
                {
                    "url": systems["ai_kind"],
                    "valueCodeableConcept": {
                        "coding": self.tables.observation_code("ai_transparency", "ai_kind")
                    },
                },
                *(
                    [
                        {
                            "url": systems["ai_model_card_description"],
                            "valueReference": {"reference": model_card_ref},
                        }
                    ]
                    if model_card_ref
                    else []
                ),
            ],
            "identifier": identifiers,
            "status": "active",
            "deviceName": [{"name": model.name, "type": "model-name"}],
            "type": {
                "coding": self.tables.observation_code("ai_transparency", "device_type"),
                "text": "Language model (GGUF, llama.cpp) run by radlite-fhir",
            },
            "version": [
                {"value": model.version},
                {"type": {"text": "radlite-fhir"}, "value": __version__},
            ],
        }
        return Entry(
            entry_uuid,
            self._finish(entry_uuid, resource),
            f"Device?identifier={system}|{model.sha256}",
        )

    def observation(
        self,
        findings: Findings,
        result: TaskResult,
        device_ref: str | None,
        members: list[str] | None = None,
    ) -> Entry | None:
        """One coded result as an Observation (None for what is not written); `members` the
        Observations it groups (`hasMember`: a stage group's stated T, N and M)."""
        if result.status in (
            Status.NOT_APPLICABLE,
            Status.UNGROUNDED,
            Status.SKIPPED,
            Status.LOW_CONFIDENCE,
        ):
            return None
        report = findings.report
        model = result.model
        key = "|".join(
            [
                report.source_digest,
                model.sha256 if model else RULES_VERSION,
                model.prompt_version if model else RULES_VERSION,
                result.task,
                result.kind,
                result.item_key,
            ]
        )
        value = digest(key)[:40]
        id_system = f"{self.base}/identifier/observation"
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "meta": {
                "security": [{"system": self.tables.systems["v3_observation_value"], **AIAST}]
            },
            "extension": self._extensions(result),
            "identifier": [{"system": id_system, "value": value}],
            "status": "preliminary",
            "category": [
                {
                    "coding": [
                        {
                            "system": self.tables.systems["observation_category"],
                            "code": "imaging",
                            "display": "Imaging",
                        }
                    ]
                }
            ],
        }
        resource.update(self._code_and_value(result))
        components = self._components(result)
        if components:
            resource["component"] = [*resource.get("component", []), *components]
        if report.subject:
            resource["subject"] = report.subject
        if device_ref:
            resource["device"] = {"reference": device_ref}
        if members:
            resource["hasMember"] = [{"reference": ref} for ref in members]
        derived_from = self._derived_from(report)
        if derived_from:
            resource["derivedFrom"] = derived_from
        notes = []
        if result.conflict:
            coded = (
                "The category computed from the findings is coded."
                if result.origin is Origin.GUIDELINE
                else "The report's explicit statement is coded."
            )
            notes.append({"text": f"Model disagreed: {result.conflict}. {coded}"})
        if result.origin is Origin.GUIDELINE and result.detail.get("reasons"):
            notes.append(
                {
                    "text": f"Computed by {result.detail['guideline']} from the features the "
                    f"report states: {'; '.join(result.detail['reasons'])}."
                }
            )
        if result.status is Status.UNPARSEABLE:
            reason = result.detail.get("reason", "the answer is not in the label set")
            notes.append(
                {"text": f"Model answer not coded ({reason}). Raw answer: {result.raw_answer!r}"}
            )
        if notes:
            resource["note"] = notes
        if not resource["extension"]:
            del resource["extension"]
        if not ai_asserted(result):
            del resource["meta"]
        entry_uuid = _uid("observation", value)
        return Entry(
            entry_uuid,
            self._finish(entry_uuid, resource),
            f"Observation?identifier={id_system}|{value}",
        )

    def provenance(
        self,
        findings: Findings,
        targets: list[str],
        devices: dict[str, str],
        inputs: list[str] | None = None,
    ) -> Entry:
        """The Provenance of one report's Observations. With a model among its agents it
        follows the AI Transparency IG's AI-Provenance profile: reason AIAST, each model
        Device an agent with the fixed AI role, the models' cards and prompt templates
        (`inputs`: DocumentReference references) as the entity slices modelCard and
        inputPrompt (role derivation, fixed by the profile) beside the source report; without
        a model (the text's explicit statements alone) it is plain R4 and claims no AI
        profile."""
        report = findings.report
        tables = self.tables
        entry_uuid = _uid("provenance", report.source_digest, *sorted(targets))
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "target": [{"reference": target} for target in targets],
            "recorded": self.recorded,
            "activity": {"text": "AI enrichment of a radiology report (radlite-fhir)"},
            "agent": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": tables.systems["provenance_participant_type"],
                                "code": "assembler",
                                "display": "Assembler",
                            }
                        ]
                    },
                    "role": [{"coding": tables.observation_code("ai_transparency", "device_type")}],
                    "who": {"reference": ref},
                }
                for ref in devices.values()
            ]
            or [{"who": {"display": self._rules_agent(findings)}}],
        }
        if devices:
            resource = {
                "resourceType": "Provenance",
                "meta": {"profile": [tables.systems["ai_provenance_profile"]]},
                **{k: v for k, v in resource.items() if k != "resourceType"},
                "reason": [{"coding": tables.observation_code("ai_transparency", "reason")}],
            }
        entities = [{"role": "source", "what": report.source_reference}]
        entities = entities if report.source_reference else []
        entities += [{"role": "derivation", "what": {"reference": ref}} for ref in inputs or []]
        if entities:
            resource["entity"] = entities
        return Entry(entry_uuid, self._finish(entry_uuid, resource), f"Provenance/{entry_uuid}")

    def _with_stage_group_members(
        self,
        findings: Findings,
        written: list[tuple[TaskResult, str | None, Entry]],
        observations: list[Entry],
    ) -> list[Entry]:
        """The stage group Observation with `hasMember` naming the T, N and M Observations the
        report states beside it (same clinical/pathologic prefix, from the text): mCODE's
        hasMember slices. A model's T, N or M is not a member of a stage the report states."""
        group = next((w for w in written if w[0].kind == STAGE_GROUP and w[0].value), None)
        if group is None:
            return observations
        prefix = str(group[0].value)[0]
        members = [
            self.ref("Observation", entry.uuid)
            for result, _, entry in written
            if result.kind in ("T", "N", "M")
            and result.status is Status.CODED
            and result.origin in (Origin.TEXT, Origin.MODEL_AND_TEXT)
            and str(result.value).startswith(prefix)
        ]
        if not members:
            return observations
        rebuilt = self.observation(findings, group[0], group[1], members)
        return [rebuilt if e is group[2] and rebuilt else e for e in observations]

    # --- pieces -------------------------------------------------------------------------
    @staticmethod
    def _rules_agent(findings: Findings) -> str:
        """The agent of a Provenance without a model: the rules, named by what they did."""
        computed = any(r.origin is Origin.GUIDELINE for r in findings.results)
        what = "explicit statements and ACR decision tables" if computed else "explicit statements"
        return f"radlite-fhir {__version__} rules ({what}, no model)"

    def _derived_from(self, report: Report) -> list[dict[str, Any]]:
        """`Observation.derivedFrom`, only to targets R4 allows there: the source when it is a
        DocumentReference (a DICOM SR input) and the imaging study when it is known (the
        source report's own ImagingStudy references that resolve outside its Bundle, else a
        logical reference by Study Instance UID). A DiagnosticReport source is not allowed
        there: it is the Provenance's source entity and, enriched, lists the Observations
        in `result`."""
        out: list[dict[str, Any]] = []
        source = report.source_reference
        if source and reference_type(source) in DERIVED_FROM_TARGETS:
            out.append(source)
        original = report.source_resource or {}
        studies = [
            {"reference": study["reference"]}
            for study in original.get("imagingStudy", [])
            if isinstance(study.get("reference"), str)
            and not study["reference"].startswith(("urn:", "#"))
            and reference_type(study) == "ImagingStudy"
        ]
        if not studies and report.study_uid:
            studies = [
                {
                    "type": "ImagingStudy",
                    "identifier": {
                        "system": self.tables.systems["dicom_uid"],
                        "value": f"urn:oid:{report.study_uid}",
                    },
                }
            ]
        return [*out, *studies]

    def _code_and_value(self, result: TaskResult) -> dict[str, Any]:
        tables = self.tables
        absent = {
            "dataAbsentReason": {
                "coding": [
                    {
                        "system": tables.systems["data_absent_reason"],
                        "code": "error",
                        "display": "Error",
                    }
                ],
                "text": "model answer did not parse",
            }
        }
        if result.kind == "rads":
            category = tables.rads_category(result.value) if result.value else None
            if category is None:
                return {
                    "code": {
                        "coding": tables.observation_code("rads_unknown_system"),
                        "text": "RADS assessment",
                    },
                    **absent,
                }
            return {
                "code": {
                    "coding": tables.rads_concept(category.system),
                    "text": tables.rads[category.system].display,
                },
                "valueCodeableConcept": {
                    "coding": tables.rads_value(category),
                    "text": category.label,
                },
            }
        if result.kind == RADS_DISCORDANCE:
            supported = tables.rads_category(str(result.value))
            stated = tables.rads_category(str(result.detail["stated"]))
            if supported is None or stated is None:
                raise ValueError(f"discordance between unknown labels {result.value!r}")
            return {
                "code": {
                    "coding": tables.observation_code("rads_discordance"),
                    "text": "Stated RADS category differs from the findings",
                },
                "valueCodeableConcept": {
                    "coding": tables.rads_value(supported),
                    "text": f"Findings support {supported.label}; the report states {stated.label}",
                },
                "component": [
                    {
                        "code": {
                            "coding": tables.rads_concept(stated.system),
                            "text": "Stated category",
                        },
                        "valueCodeableConcept": {
                            "coding": tables.rads_value(stated),
                            "text": stated.label,
                        },
                    }
                ],
            }
        if result.kind in ("T", "N", "M"):
            pathologic = bool(result.value and result.value.startswith("p"))
            out: dict[str, Any] = {
                "code": {
                    "coding": tables.tnm_concept(result.kind, pathologic),
                    "text": f"{'p' if pathologic else 'c'}{result.kind} category",
                },
                "method": {"coding": [tables.tnm_method()]},
            }
            if result.value is None:
                return {**out, **absent}
            return {
                **out,
                "valueCodeableConcept": {
                    "coding": tables.tnm_value(result.value),
                    "text": result.value,
                },
            }
        if result.kind == STAGE_GROUP and result.value:
            # Stated by the report (tasks/staging.py), never computed: mCODE's stage group
            # codes and method, no mCODE profile claimed (docs/standards.md).
            pathologic = result.value.startswith("p")
            return {
                "code": {
                    "coding": tables.stage_group_concept(pathologic),
                    "text": f"{'Pathologic' if pathologic else 'Clinical'} stage group",
                },
                "method": {"coding": [tables.tnm_method()]},
                "valueCodeableConcept": {
                    "coding": tables.stage_group_value(result.value),
                    "text": f"Stage {result.value[1:]}",
                },
            }
        if result.kind == "impression":
            out = {
                "code": {
                    "coding": tables.observation_code("impression"),
                    "text": "Generated impression",
                }
            }
            return {**out, "valueString": result.value} if result.value else {**out, **absent}
        if result.kind.startswith("entity:"):
            kind = result.kind.split(":", 1)[1]
            codings = tables.observation_code("entity", kind)
            return {
                "code": {"coding": codings, "text": codings[0]["display"]},
                "valueString": result.value,
            }
        if result.kind == "entity":
            return {
                "code": {
                    "coding": tables.observation_code("entities"),
                    "text": "Entities mentioned in report",
                },
                **absent,
            }
        raise ValueError(f"no FHIR shape for result kind {result.kind!r}")

    def _components(self, result: TaskResult) -> list[dict[str, Any]]:
        """The deciding features of a guideline-computed category, one component each (a list
        of terms: one per term), with the span of the report that states it."""
        features = result.detail.get("features") or []
        system = result.detail.get("system")
        out: list[dict[str, Any]] = []
        for feature in features:
            name, value = feature["name"], feature["value"]
            code = {
                "coding": self.tables.rads_feature_concept(system, name),
                "text": f"{system} {name.replace('_', ' ')}",
            }
            span = self._span_extension(
                feature["start"], feature["end"], "feature", feature["text"]
            )
            for item in value if isinstance(value, list) else [value]:
                component: dict[str, Any] = {"extension": [span], "code": code}
                if isinstance(item, bool):
                    component["valueBoolean"] = item
                elif isinstance(item, int):
                    component["valueInteger"] = item
                elif isinstance(item, float):
                    component["valueQuantity"] = {
                        "value": item,
                        "unit": "mm",
                        "system": "http://unitsofmeasure.org",
                        "code": "mm",
                    }
                else:
                    component["valueCodeableConcept"] = {
                        "coding": self.tables.rads_feature_value(system, name, str(item)),
                        "text": str(item).replace("_", " "),
                    }
                out.append(component)
        return out

    def _span_extension(self, start: int, end: int, kind: str, text: str | None) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [
            {"url": "start", "valueInteger": start},
            {"url": "end", "valueInteger": end},
            {"url": "kind", "valueCode": kind},
        ]
        if text is not None:
            parts.append({"url": "text", "valueString": text})
        return {"url": f"{self.base}/StructureDefinition/evidence-span", "extension": parts}

    def _extensions(self, result: TaskResult) -> list[dict[str, Any]]:
        base = f"{self.base}/StructureDefinition"
        out: list[dict[str, Any]] = [
            {"url": f"{base}/result-origin", "valueCode": result.origin.value}
        ]
        if result.evidence is not None:
            evidence = result.evidence
            text = evidence.text if evidence.kind != "model-input" else None
            out.append(self._span_extension(evidence.start, evidence.end, evidence.kind, text))
        if result.confidence is not None:
            confidence = round(result.confidence, 4)
            # The AI Transparency IG's AIconfidence (a probability, 0-1).
            out.append({"url": self.tables.systems["ai_confidence"], "valueDecimal": confidence})
        if result.model is not None:
            out.append(
                {"url": f"{base}/prompt-version", "valueString": result.model.prompt_version}
            )
        return out

    def enriched_report(self, findings: Findings, observation_refs: list[str]) -> Entry:
        """The source DiagnosticReport with every element as it came, `result` references to
        the new Observations appended and a meta tag marking AI enrichment. It is updated by
        id, with If-Match on meta.versionId when it has one (a report edited meanwhile is not
        overwritten), else conditionally by its first identifier."""
        original = findings.report.source_resource
        if original is None or original.get("resourceType") != "DiagnosticReport":
            raise NotEnrichable("enriched output needs a FHIR DiagnosticReport as the source")
        enriched = copy.deepcopy(original)
        enriched["result"] = [
            *original.get("result", []),
            *({"reference": ref} for ref in observation_refs),
        ]
        tag = {
            "system": f"{self.base}/CodeSystem/enrichment",
            "code": "ai-enriched",
            "display": "Results added by AI (radlite-fhir)",
        }
        meta = enriched.setdefault("meta", {})
        if tag not in meta.get("tag", []):
            meta["tag"] = [*meta.get("tag", []), tag]
        if original.get("id"):
            url = f"DiagnosticReport/{original['id']}"
            version = (original.get("meta") or {}).get("versionId")
            if_match = f'W/"{version}"' if version else None
        else:
            identifier = next((i for i in original.get("identifier", []) if i.get("value")), None)
            if identifier is None:
                raise NotEnrichable(
                    "the DiagnosticReport has no id and no identifier: it cannot be updated"
                )
            system = f"{identifier['system']}|" if identifier.get("system") else ""
            url, if_match = f"DiagnosticReport?identifier={system}{identifier['value']}", None
        entry_uuid = _uid("enriched-report", findings.report.source_digest)
        return Entry(entry_uuid, self._finish(entry_uuid, enriched), url, if_match)

    # --- documents ----------------------------------------------------------------------
    def entries(self, all_findings: Iterable[Findings], enrich: bool = False) -> list[Entry]:
        """Model cards and prompt templates first, then Devices, then each report's
        Observations and its Provenance; with `enrich`, the report itself with its new results
        after them."""
        devices: dict[str, Entry] = {}
        documents: dict[str, Entry] = {}  # model cards and prompt templates, by uuid
        cards: dict[str, str] = {}  # model sha256 -> its card's reference
        body: list[Entry] = []
        for findings in all_findings:
            used: dict[str, str] = {}
            inputs: dict[str, None] = {}  # the used models' card and prompt references
            observations: list[Entry] = []
            written: list[tuple[TaskResult, str | None, Entry]] = []
            for result in findings.results:
                device_ref = None
                model = result.model
                if model is not None:
                    if model.sha256 not in devices:
                        card = self.model_card(model)
                        documents[card.uuid] = card
                        cards[model.sha256] = self.ref("DocumentReference", card.uuid)
                        devices[model.sha256] = self.device(model, cards[model.sha256])
                    device_ref = self.ref("Device", devices[model.sha256].uuid)
                    if result.status is not Status.SKIPPED:
                        used[model.sha256] = device_ref
                        prompt = self.input_prompt(model)
                        documents.setdefault(prompt.uuid, prompt)
                        inputs[cards[model.sha256]] = None
                        inputs[self.ref("DocumentReference", prompt.uuid)] = None
                entry = self.observation(findings, result, device_ref)
                if entry is not None:
                    observations.append(entry)
                    written.append((result, device_ref, entry))
            observations = self._with_stage_group_members(findings, written, observations)
            body.extend(observations)
            if observations:
                targets = [self.ref("Observation", e.uuid) for e in observations]
                body.append(self.provenance(findings, targets, used, list(inputs) if used else []))
                if enrich:
                    body.append(self.enriched_report(findings, targets))
        return [*documents.values(), *devices.values(), *body]


def transaction_bundle(entries: list[Entry]) -> dict[str, Any]:
    """A transaction Bundle: conditional PUT by identifier (model cards, prompt templates,
    Devices, Observations), PUT by id (Provenance, an enriched DiagnosticReport)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{e.uuid}",
                "resource": e.resource,
                "request": {
                    "method": "PUT",
                    "url": e.request_url,
                    **({"ifMatch": e.if_match} if e.if_match else {}),
                },
            }
            for e in entries
        ],
    }
    problems = schema_errors(
        {
            **bundle,
            "entry": [
                {k: v for k, v in entry.items() if k != "resource"} for entry in bundle["entry"]
            ],
        }
    )
    if problems:
        raise SchemaViolation(f"Bundle fails the FHIR R4 schema: {'; '.join(problems[:5])}")
    return bundle


def render(all_findings: list[Findings], output_format: str, recorded: str | None = None) -> str:
    """The text of one output file: 'bundle' (transaction Bundle JSON), 'enriched' (the same
    with each source DiagnosticReport updated to point at its results) or 'ndjson'."""
    if output_format in ("bundle", "enriched"):
        entries = FhirBuilder(recorded=recorded).entries(
            all_findings, enrich=output_format == "enriched"
        )
        return json.dumps(transaction_bundle(entries), indent=2, ensure_ascii=False) + "\n"
    if output_format == "ndjson":
        entries = FhirBuilder(literal_ids=True, recorded=recorded).entries(all_findings)
        return "".join(
            json.dumps(e.resource, ensure_ascii=False, separators=(",", ":")) + "\n"
            for e in entries
        )
    raise ValueError(f"unknown FHIR output format {output_format!r}")
