"""Explicit statements in report text: RADS categories and TNM strings the radiologist wrote.

They are evidence (a span into the text) and a cross-check of model answers. Where the text
states a category and the model answers another, the statement wins: it is the signed
clinical record, and the model's answer is kept beside it as a conflict for review.
Patterns are built from the code tables, so a category added in YAML is recognised here too.
Negated and historical mentions ("not LR-5", "prior BI-RADS 3") are not statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from radlite_fhir.coding import CodeTables, RadsCategory, load_code_tables

_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6"}
_VERSION = r"v(?:ersion)?\.?\s?\d+(?:\.\d+)*"  # v2.1, v2022, version 2022: never the category
_FILLER = (
    rf"(?:[\s:=\-–()]*(?:{_VERSION}|(?:19|20)\d\d|US|U/S|MRI|CT|CEUS|category|cat\.|cat|"
    r"classification|score|assessment|level|of|is|final)(?!\w))*[\s:=\-–()]*"
)
# A category is not followed by a decimal, a second number, a unit or '+' ('TR 2.5 m/s').
_NOT_MEASURE = r"(?![.,]?\d)(?!\s*(?:(?:mm|cm|ml|m/s|mmhg)\b|%|\+|[x×]\s?\d))"
# "4/5", "4 out of 5": the score out of its scale; the "5" is never the category.
_OUT_OF = r"(?:\s?(?:/|out\s+of)\s?5(?![\d/]))?"
# After a short prefix: no roman numeral ('TRV' is a word, not TR5).
_AFTER_PREFIX = r"(?![IV]+\b)\w+"
# UK breast scores written after a BI-RADS name: "M5", "M/5", "U4" (mammography, ultrasound).
_SCORE_PREFIXES = {"BI-RADS": "MU"}
# Bare statements read as the caller's default system: "Category 4A", "Final assessment: 4B".
_BARE = (
    r"\b(?:(?:(?:final|overall)\s+)?(?:assessment\s+)?(?:category|cat\.)"
    r"|(?:final|overall)\s+assessment(?:\s+category)?)(?:\s+is)?[\s:=\-–]*"
)

# Negated or historical statements are not the report's category. Cues are read in a short
# window: up to _CUE_WORDS words before the statement, inside its clause and after the previous
# statement ("LR-4, not LR-5"; "upgraded from BI-RADS 3 to BI-RADS 4"), and right after it.
_CUE_WORDS = 4
_CLAUSE_END = re.compile(r"[.;!?](?=\s|$)|[,\n]")
_CUE_BEFORE = re.compile(
    r"\b(?:not|never|no\s+longer|rather\s+than|instead\s+of|other\s+than|previous(?:ly)?|"
    r"prior|formerly|earlier|compared\s+(?:with|to))\b",
    re.IGNORECASE,
)
_CUE_JUST_BEFORE = re.compile(  # only as the last word: "no LR-5", "downgraded from TR4"
    r"\b(?:no|non|without|from|than|history\s+of|excluding|excludes?)[\s:\-]*$", re.IGNORECASE
)
_CUE_AFTER = re.compile(
    r"\s*(?:previously|formerly|earlier|before|in\s+the\s+past|"
    r"(?:on|at|in|from)\s+(?:the\s+|an?\s+)?"
    r"(?:prior|previous|earlier|last|old|outside|preceding)\b|"
    r"(?:on|in)\s+(?:19|20)\d\d\b)",
    re.IGNORECASE,
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


def _category_pattern(tables: CodeTables, key: str) -> str:
    """The category token after a name of system `key` (its short prefix and score prefixes
    included), then the guard against measurements and an optional 'out of 5'."""
    system = tables.rads[key]
    own = []
    if key in _SCORE_PREFIXES:
        own.append(rf"[{_SCORE_PREFIXES[key]}](?:\s?/\s?)?[0-6]\b")
    if system.short_prefix:
        own.append(rf"{re.escape(system.short_prefix.rstrip('-'))}-?\s?{_AFTER_PREFIX}")
    category = "|".join(
        [
            *own,
            r"[0-6][a-cA-CxX]?\b|[IV]{1,3}\b|NC\b|N\b|X\b|M\b|"
            r"TIV\b|Non-?viable|Viable|Non-?progressing|Equivocal|Non-?evaluable",
        ]
    )
    return rf"(?P<cat>{category}){_NOT_MEASURE}{_OUT_OF}"


@dataclass(frozen=True)
class _Pattern:
    key: str
    regex: re.Pattern[str]
    short: bool = False  # a short prefix ('LR-5', 'TR4'), read only outside other names


@cache
def _rads_patterns() -> list[_Pattern]:
    tables = load_code_tables()
    patterns = []
    # Longer names first: "LI-RADS TR" must win over "LI-RADS".
    for key in sorted(tables.rads, key=lambda k: -len(k)):
        system = tables.rads[key]
        names = "|".join(_flex(n) for n in sorted(system.names, key=len, reverse=True))
        category = _category_pattern(tables, key)
        composite = r"(?:\s*//\s*(?P<cat2>[0-4][ab]?))?" if system.composite else ""
        patterns.append(
            _Pattern(key, re.compile(rf"\b(?:{names}){_FILLER}{category}{composite}", re.I))
        )
        if system.short_prefix:
            prefix = re.escape(system.short_prefix)
            patterns.append(
                _Pattern(
                    key,
                    re.compile(rf"(?<![\w-]){prefix}\s?(?P<cat>{_AFTER_PREFIX})\b{_NOT_MEASURE}"),
                    short=True,
                )
            )
    return patterns


@cache
def _name_patterns() -> list[tuple[str, re.Pattern[str]]]:
    tables = load_code_tables()
    return [
        (key, re.compile(rf"\b(?:{'|'.join(_flex(n) for n in system.names)})\b", re.I))
        for key, system in tables.rads.items()
    ]


@cache
def _bare_pattern(key: str) -> re.Pattern[str]:
    return re.compile(_BARE + _category_pattern(load_code_tables(), key), re.IGNORECASE)


def _inside_other_name(text: str, key: str, start: int, end: int) -> bool:
    """Whether text[start:end] is part of another system's name ('TR' of 'LR TR')."""
    for other, pattern in _name_patterns():
        if other == key:
            continue
        for name in pattern.finditer(text, max(0, start - 12), end + 12):
            if name.start() < end and start < name.end():
                return True
    return False


def _normalise_category(tables: CodeTables, key: str, raw: str) -> RadsCategory | None:
    token = raw.strip()
    prefix = tables.rads[key].short_prefix
    if prefix:
        token = re.sub(rf"^{re.escape(prefix.rstrip('-'))}-?\s?", "", token, flags=re.I)
    if key in _SCORE_PREFIXES:
        token = re.sub(rf"^[{_SCORE_PREFIXES[key]}]\s?/?\s?(?=\d)", "", token, flags=re.I)
    token = _ROMAN.get(token.upper(), token)
    token = token.replace("-", "")
    for name, category in tables.rads[key].categories.items():
        if name.lower() == token.lower():
            return category
    return None


def _negated_or_historical(text: str, start: int, end: int, previous_end: int) -> bool:
    """'not LR-5', 'prior BI-RADS 3', 'downgraded from TR4', 'BI-RADS 3 on the prior study'."""
    before = text[max(previous_end, start - 80) : start]
    clause = list(_CLAUSE_END.finditer(before))
    if clause:
        before = before[clause[-1].end() :]
    before = " ".join(before.split()[-_CUE_WORDS:])
    if _CUE_BEFORE.search(before) or _CUE_JUST_BEFORE.search(before):
        return True
    return _CUE_AFTER.match(text, end) is not None


def find_rads(text: str, default_system: str | None = None) -> list[RadsStatement]:
    """Every explicit RADS statement, in text order, overlapping matches removed, negated and
    historical mentions ('not LR-5', 'prior BI-RADS 3') left out.

    `default_system` (a system key of the code tables, e.g. "BI-RADS") also reads bare
    statements ("Category 4A", "Final assessment: 4B") as that system; without it they are
    too ambiguous to read."""
    tables = load_code_tables()
    patterns = list(_rads_patterns())
    if default_system is not None:
        if default_system not in tables.rads:
            raise ValueError(f"unknown RADS system {default_system!r}")
        patterns.append(_Pattern(default_system, _bare_pattern(default_system)))
    matches: list[tuple[re.Match[str], RadsCategory]] = []
    taken: list[tuple[int, int]] = []
    for pattern in patterns:
        for match in pattern.regex.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            if pattern.short and _inside_other_name(text, pattern.key, match.start(), match.end()):
                continue
            category = _normalise_category(tables, pattern.key, match.group("cat"))
            if category is None:
                continue
            matches.append((match, category))
            taken.append((match.start(), match.end()))
    found: list[RadsStatement] = []
    previous_end = 0
    for match, category in sorted(matches, key=lambda m: m[0].start()):
        if not _negated_or_historical(text, match.start(), match.end(), previous_end):
            found.append(
                RadsStatement(
                    category=category,
                    start=match.start(),
                    end=match.end(),
                    text=match.group(0),
                    composite=match.groupdict().get("cat2"),
                )
            )
        previous_end = match.end()
    return found


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
