"""Code tables as data: loads mappings/*.yaml, checks them at start-up, answers code look-ups.

Tasks produce labels ("BI-RADS 4B", "cN1"); only this module turns labels into codes, so a
site can correct a code in YAML without touching Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from radlite_fhir.errors import ConfigError

Coding = dict[str, str]


@dataclass(frozen=True)
class RadsCategory:
    system: str
    category: str
    label: str
    display: str
    rank: int | None
    codings: tuple[Coding, ...]


@dataclass(frozen=True)
class RadsSystem:
    key: str
    display: str
    names: tuple[str, ...]
    concept: tuple[Coding, ...]
    categories: dict[str, RadsCategory]
    short_prefix: str | None
    composite: bool


@dataclass(frozen=True)
class SectionDef:
    key: str
    loinc: str
    display: str
    dcm: tuple[str, ...]
    headings: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # identity hash: the one loaded instance keys caches
class CodeTables:
    systems: dict[str, str]
    rads: dict[str, RadsSystem]
    no_applicable_label: str
    no_applicable_display: str
    tnm: dict[str, Any]
    sections: dict[str, SectionDef]
    observations: dict[str, Any]
    dicom_sr: dict[str, Any]

    def uri(self, name: str) -> str:
        """Resolve a short system name of the YAML tables into a FHIR system URI."""
        return _uri(self.systems, name)

    def coding(self, entry: dict[str, str]) -> Coding:
        return _coding(self.systems, entry)

    # --- RADS -------------------------------------------------------------------------
    def rads_labels(self) -> list[str]:
        """Every answer a RADS task may give: 'BI-RADS 4B' ... and 'No applicable RADS'."""
        labels = [c.label for s in self.rads.values() for c in s.categories.values()]
        return [*labels, self.no_applicable_label]

    def rads_category(self, label: str) -> RadsCategory | None:
        for system in self.rads.values():
            for category in system.categories.values():
                if category.label.lower() == label.lower():
                    return category
        return None

    def rads_concept(self, system_key: str) -> list[Coding]:
        system = self.rads[system_key]
        own = {
            "system": self.uri(_slug(system_key)),
            "code": "assessment",
            "display": system.display,
        }
        return [*system.concept, own]

    def rads_value(self, category: RadsCategory) -> list[Coding]:
        own = {
            "system": self.uri(_slug(category.system)),
            "code": category.category,
            "display": category.display,
        }
        return [*category.codings, own]

    def rads_feature_concept(self, system_key: str, name: str) -> list[Coding]:
        """A feature of a RADS decision table (radlite_fhir.guidelines): the project's own
        code, '<system>-feature|<field>' (no standard code system names these features)."""
        return [
            {
                "system": self.uri(f"{_slug(system_key)}-feature"),
                "code": name,
                "display": f"{system_key} {name.replace('_', ' ')}",
            }
        ]

    def rads_feature_value(self, system_key: str, name: str, value: str) -> list[Coding]:
        """A term of a feature ('TI-RADS composition: solid') in the project's own system."""
        return [
            {
                "system": self.uri(f"{_slug(system_key)}-feature-value"),
                "code": f"{name}.{value}",
                "display": str(value).replace("_", " "),
            }
        ]

    # --- TNM --------------------------------------------------------------------------
    def tnm_categories(self, axis: str) -> list[str]:
        return list(self.tnm["categories"][axis])

    def tnm_concept(self, axis: str, pathologic: bool) -> list[Coding]:
        kind = "pathologic" if pathologic else "clinical"
        return [self.coding(c) for c in self.tnm["concepts"][kind][axis]]

    def tnm_value(self, prefixed: str) -> list[Coding]:
        """Codings for 'cT2', 'pN1a', ...: the SNOMED AJCC concept where known, and ours."""
        return self._snomed_then_ours(
            self.tnm["snomed_values"].get(prefixed),
            {"system": self.uri("ajcc-tnm"), "code": prefixed, "display": f"AJCC {prefixed}"},
        )

    def _snomed_then_ours(self, known: dict[str, str] | None, ours: Coding) -> list[Coding]:
        """The SNOMED concept a table names for a value (where it names one), then ours."""
        out: list[Coding] = []
        if known:
            out.append(
                {
                    "system": self.systems["snomed"],
                    "code": known["code"],
                    "display": known["display"],
                }
            )
        out.append(ours)
        return out

    def tnm_method(self) -> Coding:
        return self.coding(self.tnm["method"])

    # --- stage group (stated only) --------------------------------------------------------
    def stage_groups(self) -> list[str]:
        """The AJCC stage groups a report may state ('IIIA', '0is', ...)."""
        return list(self.tnm["stage_group"]["groups"])

    def stage_group_concept(self, pathologic: bool) -> list[Coding]:
        kind = "pathologic" if pathologic else "clinical"
        return [self.coding(c) for c in self.tnm["stage_group"]["concepts"][kind]]

    def stage_group_value(self, prefixed: str) -> list[Coding]:
        """Codings for 'cIIIA', 'pIV', ...: the SNOMED AJCC stage concept where the table
        has one (it names the group, clinical or pathologic alike), and ours."""
        kind = "pathologic" if prefixed[0] == "p" else "clinical"
        return self._snomed_then_ours(
            self.tnm["stage_group"]["snomed_values"].get(prefixed[1:]),
            {
                "system": self.uri("ajcc-stage-group"),
                "code": prefixed,
                "display": f"AJCC {kind} stage group {prefixed[1:]}",
            },
        )

    def observation_code(self, *path: str) -> list[Coding]:
        node: Any = self.observations
        for key in path:
            node = node[key]
        return [self.coding(c) for c in node]

    # --- DICOM ------------------------------------------------------------------------
    def dicom_code(self, codings: Sequence[Coding], meaning: str) -> DicomCode:
        """A coded concept for DICOM: the first coding of a scheme DICOM names
        (dicom_sr.yaml), else the last coding (the project's own) under the private
        designator. Meanings are cut to DICOM's 64 characters."""
        designators = {self.uri(k): v for k, v in self.dicom_sr["designators"].items()}
        chosen = next((c for c in codings if c["system"] in designators), None)
        if chosen is not None:
            scheme, value = designators[chosen["system"]], chosen["code"]
        else:
            own = codings[-1]
            scheme = self.dicom_sr["private_designator"]
            value = f"{own['system'].rsplit('/', 1)[-1]}:{own['code']}"
        meaning = (chosen or {}).get("display", meaning)[:64]
        return DicomCode(value, scheme, meaning, self.dicom_sr["designator_versions"].get(scheme))

    def label_of_dicom_value(self, code: DicomCode) -> str | None:
        """The result label ('BI-RADS 4B', 'cT2') a DICOM value code stands for."""
        return _dicom_labels(self).get((code.scheme, code.value))


@dataclass(frozen=True)
class DicomCode:
    """A DICOM coded concept: CodeValue, CodingSchemeDesignator, CodeMeaning and, where the
    designator needs one, CodingSchemeVersion."""

    value: str
    scheme: str
    meaning: str
    version: str | None = None


@cache
def _dicom_labels(tables: CodeTables) -> dict[tuple[str, str], str]:
    """Every RADS and TNM value code the SR writer can emit -> its label (for reading back).
    Codes shared by two labels (none today) would be dropped rather than guessed."""
    seen: dict[tuple[str, str], set[str]] = {}
    labels: list[tuple[list[Coding], str, str]] = [
        (tables.rads_value(c), c.display, c.label)
        for system in tables.rads.values()
        for c in system.categories.values()
    ]
    for axis in ("T", "N", "M"):
        for category in tables.tnm_categories(axis):
            for prefix in "cp":
                prefixed = f"{prefix}{category}"
                labels.append((tables.tnm_value(prefixed), prefixed, prefixed))
    for codings, meaning, label in labels:
        code = tables.dicom_code(codings, meaning)
        seen.setdefault((code.scheme, code.value), set()).add(label)
    return {key: next(iter(found)) for key, found in seen.items() if len(found) == 1}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _load_yaml(name: str) -> Any:
    path = resources.files("radlite_fhir.mappings") / name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"mappings/{name}: cannot be read: {exc}") from exc


def _uri(systems: dict[str, str], name: str) -> str:
    if name in systems:
        return systems[name]
    return f"{systems['project_base']}/CodeSystem/{name}"


def _coding(systems: dict[str, str], entry: dict[str, str]) -> Coding:
    out = {"system": _uri(systems, entry["system"]), "code": str(entry["code"])}
    if entry.get("display"):
        out["display"] = entry["display"]
    return out


def _codings(
    raw: list[dict[str, str]] | None, where: str, systems: dict[str, str]
) -> tuple[Coding, ...]:
    out = []
    for entry in raw or []:
        if "system" not in entry or "code" not in entry:
            raise ConfigError(f"mappings/{where}: a coding needs 'system' and 'code': {entry}")
        out.append(_coding(systems, entry))
    return tuple(out)


def _check_stage_group(table: Any) -> None:
    where = "mappings/tnm.yaml: stage_group"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} is missing")
    for kind in ("clinical", "pathologic"):
        if not (table.get("concepts") or {}).get(kind):
            raise ConfigError(f"{where}: no {kind} concept")
    groups = [str(g) for g in table.get("groups") or []]
    if not groups:
        raise ConfigError(f"{where}: no groups")
    table["groups"] = groups  # '0' is read as a number unless quoted
    unknown = [g for g in table.get("snomed_values") or {} if str(g) not in groups]
    if unknown:
        raise ConfigError(f"{where}: snomed_values names unknown {', '.join(map(str, unknown))}")
    for key in ("other_systems", "not_tnm"):
        if not all(isinstance(w, str) and w for w in table.get(key) or []):
            raise ConfigError(f"{where}: {key} is not a list of words")


@cache
def load_code_tables() -> CodeTables:
    """Load and check every table; a broken table stops start-up with the file named."""
    systems = _load_yaml("systems.yaml")
    rads_raw = _load_yaml("rads.yaml")
    tnm = _load_yaml("tnm.yaml")
    sections_raw = _load_yaml("sections.yaml")
    observations = _load_yaml("observations.yaml")
    rads: dict[str, RadsSystem] = {}
    for key, body in rads_raw["systems"].items():
        cats: dict[str, RadsCategory] = {}
        for cat, spec in body["categories"].items():
            if not spec.get("display"):
                raise ConfigError(f"mappings/rads.yaml: {key} {cat} has no display text")
            cats[str(cat)] = RadsCategory(
                system=key,
                category=str(cat),
                label=f"{key} {cat}",
                display=spec["display"],
                rank=spec.get("rank"),
                codings=_codings(spec.get("codings"), f"rads.yaml {key} {cat}", systems),
            )
        if not cats:
            raise ConfigError(f"mappings/rads.yaml: {key} has no categories")
        rads[key] = RadsSystem(
            key=key,
            display=body["display"],
            names=tuple(body["names"]),
            concept=_codings(body.get("concept"), f"rads.yaml {key}", systems),
            categories=cats,
            short_prefix=body.get("short_prefix"),
            composite=bool(body.get("composite", False)),
        )
    sections = {
        key: SectionDef(
            key=key,
            loinc=str(body["loinc"]),
            display=body["display"],
            dcm=tuple(str(c) for c in body.get("dcm", [])),
            headings=tuple(body["headings"]),
        )
        for key, body in sections_raw.items()
    }
    for axis in ("T", "N", "M"):
        if not tnm["categories"].get(axis):
            raise ConfigError(f"mappings/tnm.yaml: no categories for {axis}")
        for kind in ("clinical", "pathologic"):
            if not tnm["concepts"][kind].get(axis):
                raise ConfigError(f"mappings/tnm.yaml: no {kind} concept for {axis}")
    for prefixed in tnm.get("snomed_values", {}):
        axis, category = prefixed[1], prefixed[1:]
        if category not in tnm["categories"][axis]:
            raise ConfigError(f"mappings/tnm.yaml: snomed_values names unknown {prefixed}")
    _check_stage_group(tnm.get("stage_group"))
    if not tnm.get("malignancy"):
        raise ConfigError("mappings/tnm.yaml: malignancy lists no words")
    return CodeTables(
        systems=systems,
        rads=rads,
        no_applicable_label=rads_raw["no_applicable"]["label"],
        no_applicable_display=rads_raw["no_applicable"]["display"],
        tnm=tnm,
        sections=sections,
        observations=observations,
        dicom_sr=_load_yaml("dicom_sr.yaml"),
    )
