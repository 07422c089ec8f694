"""The feature lexicon as typed, compiled data (mappings/rads_lexicon.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from radlite_fhir.guidelines import GUIDELINES, FieldKind, RadsSystem

FIELD_OPTIONS = (
    "pick",
    "only_if",
    "exam_is",
    "unless",
    "scope",
    "veto",
    "of_examination",
    "at_least",
)


class Scope(StrEnum):
    """Where a report-level field is read (`scope:` in the lexicon)."""

    WHOLE = "whole"  # the whole report, impression and advice included (the default)
    FINDINGS = "findings"  # the findings-type sections only
    # Everything but the impression, conclusion and recommendation: the title, history and
    # comparison say what this examination is; advice ("recommend a 3-month LDCT") does not.
    NOT_ADVICE = "not_advice"


class LexiconError(ValueError):
    """The lexicon names a system, field or value the decision tables do not have."""


@dataclass(frozen=True)
class ValueWords:
    """The patterns that state one value of a field; `negative` values are negations."""

    value: str
    patterns: tuple[re.Pattern[str], ...]
    negative: bool = False


@dataclass(frozen=True)
class FieldWords:
    name: str
    kind: FieldKind
    values: tuple[ValueWords, ...]  # in priority order; FLAG: one value "present"
    scores: tuple[re.Pattern[str], ...] = ()  # SCORE: patterns capturing (?P<n>...)
    pick_first: bool = False  # the value stated first in the text, not the first in priority
    only_if: re.Pattern[str] | None = None  # read only when the report names this
    exam_is: re.Pattern[str] | None = None  # ... when the examination's name matches
    unless: re.Pattern[str] | None = None  # ... and does not match this
    scope: Scope = Scope.WHOLE  # where a report-level field is read
    veto: bool = False  # a value the lesion's text negates is not taken from its descriptors
    # The field says how the examination went ("not well seen"), not what a lesion looks like:
    # a line that states only this starts no lesion.
    of_examination: bool = False
    # FLAG: true only when this many of its patterns (one per finding) are affirmed in the
    # lesion's text; fewer leave the flag unstated.
    at_least: int = 1


@dataclass(frozen=True)
class GrowthRule:
    """What a lesion's size now against its size on a prior examination says, where the text
    gives both (the table's growth definition as data): `field` takes `grown` when the size
    rose by more than `min_mm` or by at least `min_fraction` (within `within_months` of the
    prior examination, when the table bounds the interval), `shrunk` when it fell as much,
    `same` otherwise; a value left None is not inferred."""

    field: str
    grown: Any
    shrunk: Any = None
    same: Any = None
    min_mm: float | None = None
    min_fraction: float | None = None
    within_months: float | None = None

    def judge(self, now: float, before: float, months: float | None) -> Any:
        """The field's value for a size `now` against `before` (mm), `months` apart (None:
        the report does not say; a table that bounds the interval then infers nothing)."""
        if before <= 0:
            return None
        if self.min_mm is not None:
            grown, shrunk = now - before > self.min_mm, before - now > self.min_mm
        else:
            fraction = self.min_fraction or 0.0
            grown, shrunk = now >= before * (1 + fraction), now <= before * (1 - fraction)
        if grown and self.within_months is not None:
            if months is None:
                return None
            return self.grown if months <= self.within_months else self.same
        return self.grown if grown else self.shrunk if shrunk else self.same


@dataclass(frozen=True)
class SystemWords:
    system: RadsSystem
    exam_groups: tuple[re.Pattern[str], ...]
    text_groups: tuple[re.Pattern[str], ...]
    lesion: re.Pattern[str]
    not_lesion: re.Pattern[str] | None
    none: tuple[re.Pattern[str], ...]
    none_record: dict[str, Any]
    size: str  # "max" or "mean2" (mean of long and short axis)
    fields: tuple[FieldWords, ...]
    report_fields: tuple[FieldWords, ...]
    growth: GrowthRule | None = None


@dataclass(frozen=True)
class Lexicon:
    systems: tuple[SystemWords, ...]
    negation: re.Pattern[str]
    negation_break: re.Pattern[str]
    prior: re.Pattern[str]
    prior_context: re.Pattern[str]
    threshold: re.Pattern[str]


# A space between two words of a term: white space, perhaps around a short aside in brackets
# that glosses the words before it ("homogeneous low-level (ground-glass) echoes", "markedly
# (very) hypoechoic"): the term is still written.
_SPACE = r"(?:\s+\([^()\n]{1,60}\))?\s+"


def _any_space(pattern: str) -> str:
    """A space in a lexicon pattern matches any run of white space, line breaks included
    (hard-wrapped reports break "taller than\nwide"), and a short bracketed aside between the
    words (`_SPACE`). An optional hyphen ("non-?rim",
    "hypo-?intense") also matches a space: dictation software writes the compound as two words
    ("non rim", "hypo intense", "hyper enhancement"), so every such joint in the lexicon reads
    all three spellings."""
    out, in_class, escaped = [], False, False
    for index, char in enumerate(pattern):
        quantified = pattern[index + 1 : index + 2] in ("?", "*", "+", "{")
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == "]":
            in_class = False
            out.append(char)
        elif char == " ":
            out.append("\\s" if in_class or quantified else _SPACE)
        elif char == "-" and not in_class and pattern[index + 1 : index + 2] == "?":
            out.append("[-\\s]")
        else:
            out.append(char)
    return "".join(out)


def words(patterns: list[str]) -> re.Pattern[str]:
    """One case-insensitive alternation with word boundaries around each pattern."""
    return re.compile(
        "|".join(rf"(?<![\w-])(?:{_any_space(p)})(?![\w])" for p in patterns), re.IGNORECASE
    )


def _field(system: RadsSystem, name: str, spec: dict[str, Any]) -> FieldWords:
    spec = dict(spec)
    schema = {f.name: f for f in GUIDELINES[system].fields()}
    if name not in schema:
        raise LexiconError(f"rads_lexicon.yaml: {system}: no feature {name!r} in its table")
    field = schema[name]
    options = {k: spec.pop(k) for k in FIELD_OPTIONS if k in spec}
    values, scores = [], ()
    for value, entry in spec.items():
        patterns = entry["patterns"] if isinstance(entry, dict) else entry
        negative = bool(entry.get("negative")) if isinstance(entry, dict) else False
        if value == "score":
            scores = tuple(words([p]) for p in patterns)
            continue
        allowed = (
            ("present",)
            if field.kind is FieldKind.FLAG
            else tuple(str(n) for n in range(field.low, field.high + 1))
            if field.kind is FieldKind.SCORE
            else field.terms
        )
        if str(value) not in allowed:
            raise LexiconError(f"rads_lexicon.yaml: {system}.{name}: {value!r} not in {allowed}")
        values.append(ValueWords(str(value), tuple(words([p]) for p in patterns), negative))
    return FieldWords(
        name,
        field.kind,
        tuple(values),
        scores,
        pick_first=options.get("pick") == "first",
        only_if=words(options["only_if"]) if "only_if" in options else None,
        exam_is=words(options["exam_is"]) if "exam_is" in options else None,
        unless=words(options["unless"]) if "unless" in options else None,
        scope=_scope(system, name, options.get("scope")),
        veto=bool(options.get("veto")),
        of_examination=bool(options.get("of_examination")),
        at_least=int(options.get("at_least", 1)),
    )


def _scope(system: RadsSystem, name: str, value: Any) -> Scope:
    if value is None:
        return Scope.WHOLE
    try:
        return Scope(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Scope)
        raise LexiconError(
            f"rads_lexicon.yaml: systems.{system.value}.{name}.scope: {value!r} is not one of "
            f"{allowed}"
        ) from None


def _growth(system: RadsSystem, spec: dict[str, Any]) -> GrowthRule:
    names = {f.name for f in GUIDELINES[system].fields()}
    if spec.get("field") not in names:
        raise LexiconError(
            f"rads_lexicon.yaml: systems.{system.value}.growth.field: "
            f"{spec.get('field')!r} is not a field of the {system.value} table"
        )
    if ("min_mm" in spec) == ("min_fraction" in spec):
        raise LexiconError(
            f"rads_lexicon.yaml: systems.{system.value}.growth: give min_mm or min_fraction"
        )
    return GrowthRule(
        field=spec["field"],
        grown=spec["grown"],
        shrunk=spec.get("shrunk"),
        same=spec.get("same"),
        min_mm=spec.get("min_mm"),
        min_fraction=spec.get("min_fraction"),
        within_months=spec.get("within_months"),
    )


@cache
def load_lexicon() -> Lexicon:
    text = resources.files("radlite_fhir.mappings").joinpath("rads_lexicon.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    systems = []
    for key, spec in data["systems"].items():
        system = RadsSystem(key)
        systems.append(
            SystemWords(
                system=system,
                exam_groups=tuple(words(g) for g in spec["applies"].get("exam", [])),
                text_groups=tuple(words(g) for g in spec["applies"].get("text", [])),
                lesion=words(spec["lesion"]),
                not_lesion=words(spec["not_lesion"]) if spec.get("not_lesion") else None,
                none=tuple(
                    words([p])
                    for p in [
                        *spec.get("none", []),
                        *(f"(?:{n}){data['denied_after']}" for n in spec.get("none_denied", [])),
                    ]
                ),
                none_record=dict(spec.get("none_record", {})),
                size=spec.get("size", "max"),
                fields=tuple(_field(system, n, s) for n, s in spec["fields"].items()),
                report_fields=tuple(
                    _field(system, n, s) for n, s in spec.get("report_fields", {}).items()
                ),
                growth=_growth(system, spec["growth"]) if "growth" in spec else None,
            )
        )
    return Lexicon(
        systems=tuple(systems),
        negation=words(data["negation_cues"]),
        negation_break=words(data["negation_breaks"]),
        prior=words(data["prior_cues"]),
        prior_context=words(data["prior_context"]),
        threshold=re.compile(
            "(?:" + "|".join(rf"(?<![\w-])(?:{p})" for p in data["threshold_cues"]) + r")\s*$",
            re.IGNORECASE,
        ),
    )
