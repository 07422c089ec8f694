"""The review queue: the enriched Bundles of a folder (the outbox `radlite convert --format
enriched` or `radlite watch` writes), read into reports with their results.

The report text comes from the enriched DiagnosticReport through the product's own reader
(`readers.read_path`): the enriched report keeps presentedForm, conclusion and narrative as
they came, so the reader yields the very text the writers computed the evidence offsets on.
A file is parsed once per (size, mtime): reloading the queue costs a `stat` per file.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radlite_fhir.coding import CodeTables, load_code_tables
from radlite_fhir.errors import InputError
from radlite_fhir.readers import read_path
from radlite_fhir.report import digest
from radlite_fhir.review.vocab import AI_ASSERTED_CODE, ENTITY_KINDS, STAGE_GROUP, Group

log = logging.getLogger("radlite.review")
ENRICHED_SUFFIX = ".enriched.json"
MAX_BYTES = 50_000_000
ENRICHMENT_TAG = "ai-enriched"


@dataclass(frozen=True)
class Span:
    """Character offsets into the report text; `kind` as the evidence-span extension says."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Feature:
    """A deciding feature of a guideline-computed category (an Observation component)."""

    name: str
    value: str
    span: Span | None


@dataclass(frozen=True)
class Item:
    """One AI result of a report: the Observation as written, and what the page shows."""

    key: str  # the Observation's identifier value (deterministic, survives re-delivery)
    full_url: str
    group: Group
    label: str  # the value as a reviewer reads it ("TI-RADS 4", "cT2", an entity, a text)
    heading: str
    system: str | None  # RADS system key, TNM axis or entity kind: what `choices` come from
    span: Span | None
    confidence: float | None
    origin: str | None
    notes: tuple[str, ...]
    features: tuple[Feature, ...]
    resource: dict[str, Any] = field(compare=False, repr=False)
    model_sha256: str | None = None  # of the model Device the Observation names, if any

    @property
    def ai_asserted(self) -> bool:
        """Whether the writer labelled the result AIAST (a model or a decision table asserted
        it); a statement the rules copied from the signed report carries no AI label."""
        security = (self.resource.get("meta") or {}).get("security", [])
        return any(s.get("code") == AI_ASSERTED_CODE for s in security)

    @property
    def conflict(self) -> bool:
        return self.group in (Group.DISCORDANCE, Group.UNPARSEABLE) or any(
            n.startswith("Model disagreed") for n in self.notes
        )


@dataclass(frozen=True)
class ReviewReport:
    """One enriched report waiting for review."""

    key: str
    path: Path
    index: int  # which DiagnosticReport of the file
    title: str
    text: str
    items: tuple[Item, ...]
    report_reference: dict[str, Any] | None
    subject: dict[str, Any] | None
    study_uid: str | None
    accession: str | None
    source_digest: str  # of the DiagnosticReport as it came, before enrichment
    # fullUrl -> the URL its entry was written under (`Device?identifier=...`,
    # `DiagnosticReport/1`): what a urn:uuid reference of the enriched Bundle becomes outside it
    references: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def flagged(self, floor: float) -> list[Item]:
        return [i for i in self.items if i.conflict or _low(i, floor)]

    def priority(self, floor: float) -> tuple[int, float, str]:
        """Conflicts first, then the least confident, then by name."""
        conflicts = sum(1 for i in self.items if i.conflict)
        lowest = min((i.confidence for i in self.items if i.confidence is not None), default=1.0)
        return (-conflicts, lowest if lowest < floor else 1.0, self.path.name)

    def ordered(self, floor: float) -> list[Item]:
        """The order of review: flagged results first, then RADS, TNM, impression, entities."""
        rank = {
            Group.DISCORDANCE: 0,
            Group.UNPARSEABLE: 0,
            Group.RADS: 1,
            Group.TNM: 2,
            Group.IMPRESSION: 3,
            Group.ENTITY: 4,
        }
        return sorted(
            self.items,
            key=lambda i: (0 if i.conflict or _low(i, floor) else 1, rank[i.group]),
        )


def _low(item: Item, floor: float) -> bool:
    return item.confidence is not None and item.confidence < floor


class _Codes:
    """(system, code) of each Observation.code the writers use -> (group, system key)."""

    def __init__(self, tables: CodeTables) -> None:
        self.by_code: dict[tuple[str, str], tuple[Group, str | None]] = {}
        for key in tables.rads:
            for coding in tables.rads_concept(key)[-1:]:  # the project's own: unique per system
                self.by_code[(coding["system"], coding["code"])] = (Group.RADS, key)
        for axis in ("T", "N", "M"):
            for pathologic in (False, True):
                for coding in tables.tnm_concept(axis, pathologic):
                    self.by_code[(coding["system"], coding["code"])] = (Group.TNM, axis)
        for pathologic in (False, True):  # a stated stage group sits with T, N and M
            for coding in tables.stage_group_concept(pathologic):
                self.by_code[(coding["system"], coding["code"])] = (Group.TNM, STAGE_GROUP)
        for path, group, system in (
            (("impression",), Group.IMPRESSION, None),
            (("rads_discordance",), Group.DISCORDANCE, None),
            (("rads_unknown_system",), Group.UNPARSEABLE, None),
            (("entities",), Group.UNPARSEABLE, None),
            *((("entity", kind), Group.ENTITY, kind) for kind in ENTITY_KINDS),
        ):
            for coding in tables.observation_code(*path):
                self.by_code[(coding["system"], coding["code"])] = (group, system)

    def of(self, code: dict[str, Any]) -> tuple[Group, str | None] | None:
        for coding in code.get("coding", []):
            found = self.by_code.get((coding.get("system", ""), coding.get("code", "")))
            if found:
                return found
        return None


class Worklist:
    """The queue folder, parsed lazily and cached per file."""

    def __init__(self, folder: Path, tables: CodeTables | None = None) -> None:
        self.folder = folder
        self.tables = tables or load_code_tables()
        self.codes = _Codes(self.tables)
        self._cache: dict[Path, tuple[tuple[int, int], list[ReviewReport]]] = {}

    def reports(self) -> list[ReviewReport]:
        out: list[ReviewReport] = []
        for path in sorted(self.folder.glob(f"*{ENRICHED_SUFFIX}")):
            out.extend(self._file(path))
        return out

    def get(self, key: str) -> ReviewReport | None:
        return next((r for r in self.reports() if r.key == key), None)

    def _file(self, path: Path) -> list[ReviewReport]:
        try:
            stat = path.stat()
        except OSError:
            return []
        stamp = (stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            reports = self._parse(path)
        except (InputError, ValueError, KeyError, TypeError) as exc:
            # The file name and the error type only: the message may quote report text.
            log.warning("review queue: %s skipped (%s)", path.name, type(exc).__name__)
            reports = []
        self._cache[path] = (stamp, reports)
        return reports

    def _parse(self, path: Path) -> list[ReviewReport]:
        bundle = json.loads(path.read_text("utf-8"))
        by_url = {e.get("fullUrl"): e.get("resource") or {} for e in bundle.get("entry", [])}
        read = read_path(path, MAX_BYTES).reports
        references = {
            str(e["fullUrl"]): str(e["request"]["url"])
            for e in bundle.get("entry", [])
            if e.get("fullUrl") and (e.get("request") or {}).get("url")
        }
        diagnostic = [
            e
            for e in bundle.get("entry", [])
            if e["resource"]["resourceType"] == "DiagnosticReport"
        ]
        out = []
        for index, (report, entry) in enumerate(zip(read, diagnostic, strict=True)):
            items = []
            for ref in entry["resource"].get("result", []):
                resource = by_url.get(ref.get("reference"))
                if resource and resource.get("resourceType") == "Observation":
                    item = self._item(ref["reference"], resource, by_url)
                    if item is not None:
                        items.append(item)
            out.append(
                ReviewReport(
                    key=digest(f"{path.name}#{index}")[:16],
                    path=path,
                    index=index,
                    title=report.code_text or path.name.removesuffix(ENRICHED_SUFFIX),
                    text=report.text,
                    items=tuple(items),
                    report_reference=report.source_reference,
                    subject=report.subject,
                    study_uid=report.study_uid,
                    accession=report.accession,
                    source_digest=_source_digest(entry["resource"], set(by_url)),
                    references=references,
                )
            )
        return out

    def _item(self, full_url: str, resource: dict[str, Any], by_url: dict[str, Any]) -> Item | None:
        found = self.codes.of(resource.get("code") or {})
        identifier = next(iter(resource.get("identifier") or []), {}).get("value")
        if found is None or not identifier:
            return None
        group, system = found
        extensions = {e["url"].rsplit("/", 1)[-1]: e for e in resource.get("extension", [])}
        value = resource.get("valueCodeableConcept") or {}
        label = value.get("text") or resource.get("valueString") or ""
        if group is Group.RADS:
            if resource.get("dataAbsentReason"):
                group, label = Group.UNPARSEABLE, "answer did not parse"
        elif group is Group.TNM and resource.get("dataAbsentReason"):
            group, label = Group.UNPARSEABLE, "answer did not parse"
        elif group is Group.TNM and system == STAGE_GROUP:
            # The prefixed group ('cIIIC', 'pIIA') the corrections choose from, not the
            # display text ('Stage IIIC'), which does not say clinical or pathologic.
            stage_system = self.tables.uri("ajcc-stage-group")
            label = next(
                (c["code"] for c in value.get("coding", []) if c.get("system") == stage_system),
                label,
            )
        elif group is Group.UNPARSEABLE:
            label = "answer did not parse"
        elif group is Group.DISCORDANCE:
            category = self.tables.rads_category(_first_code_label(self.tables, value))
            system = category.system if category else None
        features = tuple(
            Feature(
                name=(c.get("code") or {}).get("text", ""),
                value=_component_value(c),
                span=_span(next((e for e in c.get("extension", [])), None)),
            )
            for c in resource.get("component", [])
            if c.get("extension")
        )
        confidence = extensions.get("AIconfidence", {}).get("valueDecimal")  # AI Transparency IG
        return Item(
            key=identifier,
            full_url=full_url,
            group=group,
            label=label,
            heading=(resource.get("code") or {}).get("text", ""),
            system=system,
            span=_span(extensions.get("evidence-span")),
            confidence=float(confidence) if confidence is not None else None,
            origin=extensions.get("result-origin", {}).get("valueCode"),
            notes=tuple(n.get("text", "") for n in resource.get("note", [])),
            features=features,
            resource=resource,
            model_sha256=_model_sha256(by_url.get((resource.get("device") or {}).get("reference"))),
        )


def _model_sha256(device: dict[str, Any] | None) -> str | None:
    """The model-sha256 identifier of the Device an Observation names (writers/fhir.py)."""
    for identifier in (device or {}).get("identifier", []):
        if str(identifier.get("system", "")).endswith("/identifier/model-sha256"):
            return str(identifier.get("value"))
    return None


def _source_digest(enriched: dict[str, Any], bundle_urls: set[str]) -> str:
    """The digest the writers computed on the source DiagnosticReport (the input part of
    every identifier and UID they derive): the enriched report without the result references
    and the meta tag enrichment added (writers/fhir.py `enriched_report`)."""
    original = copy.deepcopy(enriched)
    kept = [r for r in original.get("result", []) if r.get("reference") not in bundle_urls]
    if kept:
        original["result"] = kept
    else:
        original.pop("result", None)
    meta = original.get("meta") or {}
    tags = [t for t in meta.get("tag", []) if t.get("code") != ENRICHMENT_TAG]
    if tags:
        meta["tag"] = tags
    else:
        meta.pop("tag", None)
    if "meta" in original and not meta:
        del original["meta"]
    return digest(json.dumps(original, sort_keys=True, separators=(",", ":")))


def _first_code_label(tables: CodeTables, value: dict[str, Any]) -> str:
    """The RADS label ('BI-RADS 4B') a valueCodeableConcept's project coding stands for."""
    for coding in value.get("coding", []):
        for system in tables.rads.values():
            for category in system.categories.values():
                if tables.rads_value(category)[-1] == {
                    k: coding.get(k) for k in ("system", "code", "display")
                }:
                    return category.label
    return ""


def _component_value(component: dict[str, Any]) -> str:
    if "valueCodeableConcept" in component:
        return str(component["valueCodeableConcept"].get("text", ""))
    if "valueQuantity" in component:
        quantity = component["valueQuantity"]
        return f"{quantity.get('value')} {quantity.get('unit', '')}".strip()
    for key in ("valueBoolean", "valueInteger", "valueString"):
        if key in component:
            return str(component[key]).lower() if key == "valueBoolean" else str(component[key])
    return ""


def _span(extension: dict[str, Any] | None) -> Span | None:
    if not extension or not extension.get("url", "").endswith("/evidence-span"):
        return None
    parts = {p["url"]: p for p in extension.get("extension", [])}
    try:
        return Span(
            int(parts["start"]["valueInteger"]),
            int(parts["end"]["valueInteger"]),
            str(parts.get("kind", {}).get("valueCode", "statement")),
        )
    except (KeyError, TypeError, ValueError):
        return None
