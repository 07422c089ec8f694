"""Explicit statements in report text: RADS categories and TNM strings the radiologist wrote.

They are evidence (a span into the text) and a cross-check of model answers. Where the text
states a category and the model answers another, the statement wins: it is the signed
clinical record, and the model's answer is kept beside it as a conflict for review.
Patterns are built from the code tables, so a category added in YAML is recognised here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from radlite_fhir.coding import CodeTables, RadsCategory, load_code_tables

_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6"}
_FILLER = (
    r"(?:[\s:=\-–(]*(?:v(?:ersion)?\s?\d(?:\.\d)?|US|MRI|CT|CEUS|category|cat\.?|"
    r"classification|score|assessment|level|of|is|final)\b)*[\s:=\-–(]*"
)


@dataclass(frozen=True)
class RadsStatement:
    category: RadsCategory
    start: int
    end: int
    text: str
    composite: str | None = None


@dataclass(frozen=True)
class TnmStatement:
    """One explicit TNM string; `values` maps axis -> category ('T2', 'N1a', 'MX')."""

    pathologic: bool
    values: dict[str, str]
    start: int
    end: int
    text: str


def _flex(name: str) -> str:
    return r"[\s\-]?".join(re.escape(part) for part in re.split(r"[\s\-]+", name))


@cache
def _rads_patterns() -> list[tuple[str, re.Pattern[str]]]:
    tables = load_code_tables()
    patterns = []
    # Longer names first: "LI-RADS TR" must win over "LI-RADS".
    for key in sorted(tables.rads, key=lambda k: -len(k)):
        system = tables.rads[key]
        names = "|".join(_flex(n) for n in sorted(system.names, key=len, reverse=True))
        category = (
            r"(?P<cat>TR\s?[1-5]|LR-?\w+|[0-6][a-cA-CxX]?\b|[IV]{1,3}\b|NC\b|N\b|X\b|M\b|"
            r"TIV\b|Non-?viable|Viable|Non-?progressing|Equivocal|Non-?evaluable)"
        )
        composite = r"(?:\s*//\s*(?P<cat2>[0-4][ab]?))?" if system.composite else ""
        patterns.append(
            (key, re.compile(rf"\b(?:{names}){_FILLER}{category}{composite}", re.IGNORECASE))
        )
        if system.short_prefix:
            prefix = re.escape(system.short_prefix)
            patterns.append((key, re.compile(rf"(?<![\w-]){prefix}\s?(?P<cat>\w+)\b")))
    return patterns


def _normalise_category(tables: CodeTables, key: str, raw: str) -> RadsCategory | None:
    token = raw.strip()
    token = re.sub(r"^(TR|LR-?)\s?", "", token, flags=re.IGNORECASE)
    token = _ROMAN.get(token.upper(), token)
    token = token.replace("-", "")
    for name, category in tables.rads[key].categories.items():
        if name.lower() == token.lower():
            return category
    return None


def find_rads(text: str) -> list[RadsStatement]:
    """Every explicit RADS statement, in text order, overlapping matches removed."""
    tables = load_code_tables()
    found: list[RadsStatement] = []
    taken: list[tuple[int, int]] = []
    for key, pattern in _rads_patterns():
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            category = _normalise_category(tables, key, match.group("cat"))
            if category is None:
                continue
            composite = match.groupdict().get("cat2")
            found.append(
                RadsStatement(
                    category=category,
                    start=match.start(),
                    end=match.end(),
                    text=match.group(0),
                    composite=composite,
                )
            )
            taken.append((match.start(), match.end()))
    return sorted(found, key=lambda s: s.start)


_TNM = re.compile(
    r"(?<![A-Za-z0-9])(?P<tp>[cpyra]{0,2})T(?P<t>is|[0-4][a-e]?(?:mi)?|[xX])\s*[,/]?\s*"
    r"(?P<np>[cpyra]{0,2})N(?P<n>[0-3][a-c]?(?:mi)?|[xX])"
    r"(?:\s*[,/]?\s*(?P<mp>[cpyra]{0,2})M(?P<m>[01][a-d]?|[xX]))?(?![A-Za-z0-9])"
)


def find_tnm(text: str) -> list[TnmStatement]:
    """Explicit TNM strings ('cT2 N1 M0', 'pT3N0M1', 'T2,N1a,M0', 'T3aN2Mx')."""
    tables = load_code_tables()
    out = []
    for match in _TNM.finditer(text):
        values: dict[str, str] = {}
        for axis, group in (("T", "t"), ("N", "n"), ("M", "m")):
            raw = match.group(group)
            if raw is None:
                continue
            category = axis + (raw.upper() if raw.lower() == "x" else raw)
            category = "Tis" if category.lower() == "tis" else category
            if category not in tables.tnm_categories(axis):
                break
            values[axis] = category
        else:
            prefix = (match.group("tp") or "").lower()
            out.append(
                TnmStatement(
                    pathologic="p" in prefix,
                    values=values,
                    start=match.start(),
                    end=match.end(),
                    text=match.group(0),
                )
            )
    return out
