"""How institutions write reports, as data: heading sets, spelling, lesion layouts.

A generated report draws one `Style`: the institution's heading set (or none: dictation), its
spelling (British or American), terse or verbose sentences, how lesions are laid out (prose,
an "Observation 1:" template, a `|` table), numbered impressions, and the size unit. The model
must read the findings whatever the house style; none of these choices touches the label.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum


class Layout(StrEnum):
    """How headings sit: on their own line, inline before the text, or absent (dictation)."""

    BLOCK = "block"
    INLINE = "inline"
    NONE = "none"


class LesionLayout(StrEnum):
    """How a report lays its lesions out. Beyond prose, "Observation 1:" blocks and tables, the
    forms the hand-written sets' authors used that no rule round generalised from: a lettered
    item with bulleted values, questions answered, "Field = value" exports, dotted-leader
    checklists."""

    PROSE = "prose"
    TEMPLATE = "template"
    TABLE = "table"
    LETTERED = "lettered"
    QUESTIONS = "questions"
    FIELDS = "fields"
    LEADERS = "leaders"


# Draw weight per layout: prose stays the most common.
LAYOUT_WEIGHTS = {
    LesionLayout.PROSE: 6,
    LesionLayout.TEMPLATE: 2,
    LesionLayout.TABLE: 1,
    LesionLayout.LETTERED: 1,
    LesionLayout.QUESTIONS: 1,
    LesionLayout.FIELDS: 1,
    LesionLayout.LEADERS: 1,
}


SECTIONS = ("exam", "history", "technique", "comparison", "findings", "impression")


@dataclass(frozen=True)
class Institution:
    """A heading set: the words per section (None: the section is folded into the findings,
    or for `exam`, written as a title line), how they are laid out, and its spelling."""

    name: str
    headings: dict[str, tuple[str, ...] | None]
    layout: Layout
    british: bool | None  # None: either


INSTITUTIONS = (
    Institution(
        "us_academic",
        {
            "exam": ("EXAMINATION", "EXAM"),
            "history": ("CLINICAL HISTORY", "INDICATION"),
            "technique": ("TECHNIQUE",),
            "comparison": ("COMPARISON",),
            "findings": ("FINDINGS",),
            "impression": ("IMPRESSION",),
        },
        Layout.BLOCK,
        False,
    ),
    Institution(
        "us_community",
        {
            "exam": ("Exam", "Procedure"),
            "history": ("Indication", "History"),
            "technique": ("Technique",),
            "comparison": ("Comparison",),
            "findings": ("Findings",),
            "impression": ("Impression",),
        },
        Layout.INLINE,
        False,
    ),
    Institution(
        "uk_nhs",
        {
            "exam": None,
            "history": ("Clinical details", "Clinical information"),
            "technique": None,
            "comparison": None,
            "findings": ("Report",),
            "impression": ("Conclusion", "Opinion"),
        },
        Layout.INLINE,
        True,
    ),
    Institution(
        "australian",
        {
            "exam": None,
            "history": ("Clinical notes",),
            "technique": None,
            "comparison": ("Comparison",),
            "findings": ("Findings",),
            "impression": ("Comment",),
        },
        Layout.BLOCK,
        True,
    ),
    Institution(
        "european",
        {
            "exam": ("Examination",),
            "history": ("Indication",),
            "technique": ("Technique",),
            "comparison": None,
            "findings": ("Description", "Findings"),
            "impression": ("Conclusion",),
        },
        Layout.INLINE,
        None,
    ),
    Institution(
        "dictation",
        {key: None for key in SECTIONS},
        Layout.NONE,
        None,
    ),
)
INSTITUTION_NAMES = tuple(i.name for i in INSTITUTIONS)


@dataclass(frozen=True)
class Style:
    """Everything about a report's wording that does not change what it says."""

    institution: Institution
    british: bool
    terse: bool
    lesion_layout: LesionLayout
    numbered_impression: bool
    unit: str  # "mm" or "cm" for sizes (Lung-RADS is always mm)
    measures: str  # "measuring" or "measures" style verb


def draw_style(rng: random.Random) -> Style:
    institution = rng.choice(INSTITUTIONS)
    british = institution.british if institution.british is not None else rng.random() < 0.5
    layout = (
        LesionLayout.PROSE
        if institution.layout is Layout.NONE
        else rng.choices(list(LAYOUT_WEIGHTS), weights=list(LAYOUT_WEIGHTS.values()))[0]
    )
    return Style(
        institution=institution,
        british=british,
        terse=institution.layout is Layout.NONE or rng.random() < 0.35,
        lesion_layout=layout,
        numbered_impression=rng.random() < 0.5,
        unit=rng.choice(("mm", "cm")),
        measures=rng.choice(("measuring", "measures", "of")),
    )


# American -> British spelling of the words the generator writes (whole words, case kept).
BRITISH = {
    "esophagus": "oesophagus",
    "esophageal": "oesophageal",
    "centimeter": "centimetre",
    "centimeters": "centimetres",
    "millimeter": "millimetre",
    "millimeters": "millimetres",
    "hemangioma": "haemangioma",
    "hemangiomas": "haemangiomas",
    "hemorrhagic": "haemorrhagic",
    "hemorrhage": "haemorrhage",
    "hematoma": "haematoma",
    "color": "colour",
    "tumor": "tumour",
    "edema": "oedema",
    "behavior": "behaviour",
    "artifact": "artefact",
    "artifacts": "artefacts",
    "favor": "favour",
    "favored": "favoured",
    "gray": "grey",
    "characterized": "characterised",
    "visualized": "visualised",
    "localized": "localised",
    "orthopedic": "orthopaedic",
    "anesthesia": "anaesthesia",
    "pediatric": "paediatric",
    "ischemic": "ischaemic",
    "gynecologic": "gynaecological",
    "anemia": "anaemia",
    "fiber": "fibre",
}
_BRITISH_WORDS = re.compile(
    r"\b(" + "|".join(sorted(BRITISH, key=len, reverse=True)) + r")\b", re.I
)


def british(text: str) -> str:
    """The text in British spelling (capitalisation of each word kept)."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        new = BRITISH[word.lower()]
        if word.isupper():
            return new.upper()
        return new[0].upper() + new[1:] if word[0].isupper() else new

    return _BRITISH_WORDS.sub(swap, text)
