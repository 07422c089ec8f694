"""Text values in the SRs we write: the characters each VR allows, and the character set.

Report text and model answers reach the SR as TEXT items (UT), patient and accession
identifiers from a FHIR source as LO/SH. Two rules of PS3.5 apply to them:

- Character set (6.1.2): with no Specific Character Set (0008,0005) only ASCII may be written;
  pydicom would turn "≥", curly quotes, "µ" or CJK into "?". An SR whose text is all ASCII is
  written as before, with no Specific Character Set, which every receiver reads; one with any
  other character declares "ISO_IR 192" (UTF-8), which holds every character without ISO 2022
  code extensions. "Always ISO_IR 192" was not chosen: it would change the bytes of every SR
  written so far and buys nothing for ASCII text.
- Control characters (6.1.3 and Table 6.2-1): ST, LT and UT allow CR, LF, FF and TAB besides
  graphic characters; LO, SH, PN and UC allow none. ESC is allowed only to introduce ISO 2022
  code extensions, which we never write (and which UTF-8 does not use): an ESC in our text is
  a terminal colour code or garbage. So text VRs keep TAB, LF, FF and CR, single-line VRs turn
  them into a space, and every other C0/C1 control, DEL and lone surrogate (which UTF-8
  cannot encode; JSON "\\ud800" makes one) is dropped.

Length limits of LO (64), SH (16) and ST (1024) count characters, not bytes (PS3.5 6.2 and its
note; pydicom's validation counts characters too): `fit` cuts by code point, so a cut never
splits a UTF-8 sequence. dciodvfy counts bytes, so it reports a non-ASCII LO or SH that the
standard allows; identifiers are not shortened further to please it, as a shortened
identifier names another patient or study.
"""

from __future__ import annotations

import re
from typing import Any

UTF8 = "ISO_IR 192"
# VRs whose values may carry formatting: CR, LF, FF and TAB stay.
MULTILINE_VRS = frozenset({"ST", "LT", "UT"})
# Single-line VRs with an extensible repertoire: no control character at all.
SINGLE_LINE_VRS = frozenset({"LO", "SH", "PN", "UC"})
# Everything the character set governs: these decide whether UTF-8 must be declared.
TEXT_VRS = MULTILINE_VRS | SINGLE_LINE_VRS

# Maximum characters of the single-valued identifiers we set from a FHIR source.
MAX_CHARS = {"LO": 64, "SH": 16}

_LAYOUT = "\t\n\x0c\r"
_NEVER = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LAYOUT_CHARS = re.compile(f"[{_LAYOUT}]")


def clean(value: str, vr: str) -> str:
    """`value` with the characters its VR forbids removed (layout controls become a space in
    single-line VRs). Other VRs are returned unchanged."""
    if vr not in TEXT_VRS:
        return value
    value = _NEVER.sub("", value)
    if vr in SINGLE_LINE_VRS:
        value = _LAYOUT_CHARS.sub(" ", value)
    return value


def fit(value: str, vr: str) -> str:
    """A single value for a LO or SH element: clean, without the backslash (the value
    separator, which would make it several values) and no longer than the VR's character
    limit."""
    return clean(value, vr).replace("\\", "")[: MAX_CHARS[vr]]


def clean_dataset(dataset: Any) -> None:
    """Clean every text value of `dataset` and its sequence items in place. Reading each
    element also decodes it with the character set it was read with, so the dataset may then
    be written under another one."""
    for element in _text_elements(dataset):
        values = _values(element)
        cleaned = [clean(v, element.VR) for v in values]
        if cleaned != values:
            element.value = cleaned if len(cleaned) != 1 else cleaned[0]


def is_ascii(dataset: Any) -> bool:
    """Whether every text value of `dataset` (items included) is ASCII."""
    return all(v.isascii() for e in _text_elements(dataset) for v in _values(e))


def declare_character_set(dataset: Any) -> None:
    """Clean the text values, then declare UTF-8 if any of them is not ASCII. A dataset read
    from a file (the enriched SR's copy of its source) is decoded first, so values written
    under another character set (ISO_IR 100, ISO 2022 IR 87) are re-encoded, not relabelled;
    character sets declared inside sequence items then go, as the top-level one holds."""
    clean_dataset(dataset)
    if is_ascii(dataset):
        return
    for item in _items(dataset):
        if "SpecificCharacterSet" in item:
            del item.SpecificCharacterSet
    dataset.SpecificCharacterSet = UTF8


def _text_elements(dataset: Any) -> list[Any]:
    """The elements of `dataset` and its items whose VR the character set governs."""
    return [e for e in dataset.iterall() if e.VR in TEXT_VRS and e.value is not None]


def _values(element: Any) -> list[str]:
    """An element's values as text (a multi-valued element has several)."""
    from pydicom.multival import MultiValue

    value = element.value
    return [str(v) for v in value] if isinstance(value, MultiValue | list) else [str(value)]


def _items(dataset: Any) -> list[Any]:
    """Every sequence item below `dataset`, depth first."""
    found = []
    for element in dataset.iterall():
        if element.VR == "SQ":
            found.extend(element.value)
    return found
