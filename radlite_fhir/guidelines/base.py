"""What every decision table shares: the systems, the assessment it returns, and the schema of a
feature record (read from the record's type hints, so the parser, the model's grammar and the
FHIR components all follow one definition).

A feature record is a frozen dataclass whose fields are `None` when the report does not give
them. Enum values are the tables' own terms; numbers are millimetres or counts.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any


class RadsSystem(StrEnum):
    """The systems whose tables the product computes; values are the code tables' keys."""

    BI_RADS = "BI-RADS"
    TI_RADS = "TI-RADS"
    LUNG_RADS = "Lung-RADS"
    LI_RADS = "LI-RADS"
    PI_RADS = "PI-RADS"
    O_RADS = "O-RADS"


class FieldKind(StrEnum):
    """How a feature's value is written: a term of the table, a number, yes/no, a score, terms."""

    TERM = "term"
    NUMBER = "number"
    FLAG = "flag"
    SCORE = "score"
    TERMS = "terms"


@dataclass(frozen=True)
class FieldSpec:
    """One feature of a record: its name, kind, allowed terms (TERM/TERMS) or score range."""

    name: str
    kind: FieldKind
    terms: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    doc: str = ""


@dataclass(frozen=True)
class Assessment:
    """A table's answer: the category (None: indeterminate), why, and what it lacked."""

    system: RadsSystem
    category: str | None
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def indeterminate(self) -> bool:
        return self.category is None


class FeatureError(ValueError):
    """A feature record that names an unknown field or a value outside the table's terms."""


def score(low: int, high: int, doc: str = "") -> Any:
    """A dataclass field holding an integer score in [low, high] (None when not given)."""
    return dataclasses.field(default=None, metadata={"low": low, "high": high, "doc": doc})


def feature(doc: str = "") -> Any:
    """A dataclass field with a description (None when not given)."""
    return dataclasses.field(default=None, metadata={"doc": doc})


def _unwrap_optional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


@cache
def record_fields(record_type: type) -> tuple[FieldSpec, ...]:
    """The schema of a feature record, from its type hints (cached per type)."""
    hints = typing.get_type_hints(record_type)
    specs = []
    for field in dataclasses.fields(record_type):
        hint = _unwrap_optional(hints[field.name])
        doc = field.metadata.get("doc", "")
        if typing.get_origin(hint) is tuple:
            member = typing.get_args(hint)[0]
            specs.append(
                FieldSpec(field.name, FieldKind.TERMS, tuple(m.value for m in member), doc=doc)
            )
        elif isinstance(hint, type) and issubclass(hint, enum.Enum):
            specs.append(
                FieldSpec(field.name, FieldKind.TERM, tuple(m.value for m in hint), doc=doc)
            )
        elif hint is bool:
            specs.append(FieldSpec(field.name, FieldKind.FLAG, doc=doc))
        elif hint is int:
            low, high = field.metadata.get("low", 0), field.metadata.get("high", 99)
            specs.append(FieldSpec(field.name, FieldKind.SCORE, low=low, high=high, doc=doc))
        elif hint is float:
            specs.append(FieldSpec(field.name, FieldKind.NUMBER, doc=doc))
        else:
            raise TypeError(f"{record_type.__name__}.{field.name}: unsupported type {hint!r}")
    return tuple(specs)


def record_from_mapping(record_type: type, values: Mapping[str, Any]) -> Any:
    """Build a feature record from plain values (YAML, a parsed model answer), checked against
    its schema; the error names the field and the rule, never free text beyond the value."""
    specs = {spec.name: spec for spec in record_fields(record_type)}
    hints = typing.get_type_hints(record_type)
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            raise FeatureError(f"{record_type.__name__}: unknown feature {name!r}")
        if value is None:
            continue
        kind = spec.kind
        if kind is FieldKind.TERM:
            if value not in spec.terms:
                raise FeatureError(
                    f"{record_type.__name__}.{name}: {value!r} is not one of {spec.terms}"
                )
            kwargs[name] = _unwrap_optional(hints[name])(value)
        elif kind is FieldKind.TERMS:
            items = [value] if isinstance(value, str) else list(value)
            bad = [v for v in items if v not in spec.terms]
            if bad:
                raise FeatureError(f"{record_type.__name__}.{name}: {bad!r} not in {spec.terms}")
            member = typing.get_args(_unwrap_optional(hints[name]))[0]
            kwargs[name] = tuple(member(v) for v in items)
        elif kind is FieldKind.FLAG:
            if not isinstance(value, bool):
                raise FeatureError(f"{record_type.__name__}.{name}: expected true or false")
            kwargs[name] = value
        elif kind is FieldKind.SCORE:
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not spec.low <= value <= spec.high
            ):
                raise FeatureError(
                    f"{record_type.__name__}.{name}: expected an integer {spec.low}-{spec.high}"
                )
            kwargs[name] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise FeatureError(f"{record_type.__name__}.{name}: expected a non-negative number")
            kwargs[name] = float(value)
    return record_type(**kwargs)


def record_values(record: Any) -> dict[str, Any]:
    """The given (non-None) features of a record as plain values (enum terms as strings)."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            out[field.name] = [v.value for v in value]
        elif isinstance(value, enum.Enum):
            out[field.name] = value.value
        else:
            out[field.name] = value
    return out


class Reasons:
    """Collects the reasons and missing features of one lesion's assessment."""

    def __init__(self, system: RadsSystem) -> None:
        self.system = system
        self.reasons: list[str] = []
        self.missing: list[str] = []

    def say(self, reason: str) -> None:
        self.reasons.append(reason)

    def need(self, name: str, value: Any) -> bool:
        """True when `value` is given; else records `name` as missing."""
        if value is None:
            self.missing.append(name)
            return False
        return True

    def result(self, category: str | None) -> Assessment:
        if category is None and not self.missing:
            raise ValueError("an indeterminate assessment must name what it lacked")
        return Assessment(self.system, category, tuple(self.reasons), tuple(self.missing))

    def indeterminate(self) -> Assessment:
        return self.result(None)


def highest(system: RadsSystem, order: tuple[str, ...], lesions: list[Assessment]) -> Assessment:
    """The report-level assessment: the highest-risk lesion the table could categorize, in the
    system's `order` (lowest first). Lesions it could not categorize are named in `missing`;
    with none categorized the report is indeterminate."""
    decided = [a for a in lesions if a.category is not None]
    missing = tuple(
        f"lesion {i + 1}: {name}"
        for i, a in enumerate(lesions)
        if a.category is None
        for name in a.missing
    )
    if not decided:
        return Assessment(system, None, (), missing or ("a described lesion",))
    best_index = max(
        (i for i, a in enumerate(lesions) if a.category is not None),
        key=lambda i: order.index(lesions[i].category or ""),
    )
    best = lesions[best_index]
    prefix = f"lesion {best_index + 1} of {len(lesions)}: " if len(lesions) > 1 else ""
    return Assessment(system, best.category, tuple(prefix + r for r in best.reasons), missing)
