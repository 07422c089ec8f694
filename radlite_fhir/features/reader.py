"""From report text to grounded feature records: which RADS system applies, which lesions the
report describes, and what it says of each (every value with the span that states it).

The mechanism, not a list of reports: the system applies when the examination and the text
name its organ and modality (screening for Lung-RADS, a patient at risk for LI-RADS); the
report's sentences are grouped into lesions (`split_lesions` says how); each feature takes the
value its lexicon finds stated, not negated, in the lesion's sentences (`_read_field`).
Impressions and recommendations are not read for features when the report has a findings
section: advice must not decide a category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from radlite_fhir.features.lexicon import FieldWords, Lexicon, Scope, SystemWords, load_lexicon
from radlite_fhir.features.text import (
    Measurement,
    Unit,
    count_word,
    interval_months,
    mean_diameters,
    measurements,
    negated,
    negation_span,
    solid_part,
    units,
    wrapped,
)
from radlite_fhir.guidelines import GUIDELINES, Assessment, FieldKind, RadsSystem
from radlite_fhir.guidelines.base import highest
from radlite_fhir.report import Section

NOT_READ_FOR_FEATURES = {
    "impression",
    "conclusion",
    "recommendation",
    "history",
    "clinical_information",
    "indication",
    "comparison",
    "technique",
}
CONTEXT_ONLY = {"history", "clinical_information", "indication"}
ADVICE = {"impression", "conclusion", "recommendation"}
SUBJECT_CHARS = 25  # another structure named this close to a sentence's start is its subject
MODIFIER_CHARS = 12  # ... or this close before the lesion word ("left adrenal nodule")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
# A read that calls itself preliminary at the head of a line ("PRELIMINARY (resident):",
# "Wet read:"): an addendum after it is the final read, which revises it.
_PRELIMINARY = re.compile(r"(?:^|\n)[ \t*]*(?:prelim(?:inary)?|wet[- ]read)\b", re.IGNORECASE)
_ITEM_WORDS = r"lesion|nodule|observation|obs|finding|mass"
_ITEM_WORDS_RE = re.compile(rf"\b(?:{_ITEM_WORDS})\b", re.IGNORECASE)
# A line that is only an item's label ("Observation 1:", "Nodule #2", "LESION 3 -"): the
# template's block for one lesion starts there, whatever words its lines then use.
_ITEM_HEADING = re.compile(
    rf"^\s*(?:[-•*]\s*)?(?:{_ITEM_WORDS})\s*#?\s*\d+\s*[:.)-]?\s*$", re.IGNORECASE
)
# A line that names an item and then says where it is ("Lesion A — left ovary", "Nodule 2 -
# right lobe, lower pole"): the bulleted lines under it are that item's, as under a bare label.
_ITEM_LINE = re.compile(
    rf"^\s*(?:{_ITEM_WORDS})\s*(?:#?\s*\d+|(?-i:[A-H]))\s*[:.)—–-]\s*\S", re.IGNORECASE
)
_BULLET = re.compile(r"^\s*[-•*]\s")
_REFERRING = re.compile(
    r"\b(?:the|this|that|these|those|said|same|its)\s+(?:[\w'’-]+(?::\d\d)?\s+){0,3}$"
    # The same lesion seen by another modality: "On ultrasound it corresponds to an oval nodule".
    r"|\b(?:correspond\w*|correlat\w*)\s+(?:to|with)\s+(?:an?\s+|the\s+)?(?:[\w-]+,?\s+){0,4}$"
    r"|\b(?:a|the)?\s*corresponding\s+(?:[\w-]+,?\s+){0,4}$",
    re.IGNORECASE,
)
_LIST_MARKER = re.compile(
    rf"\|[^|]*\||^\s*(?:\(?\d+[.)]\s|\(?[a-z][.)]\s|[-•*]\s|#\d+|(?:{_ITEM_WORDS})"
    r"\s*#?\d+\b)",
    re.IGNORECASE,
)
# Words that bring another lesion when the sentence names one ("a second nodule", "Elsewhere,
# a 4 mm cyst", "Other TZ nodules are typical"); without a lesion word they describe the same
# one ("elsewhere well defined", "over a third of its margin").
_ANOTHER = re.compile(
    r"\b(?:(?:second|third|fourth)(?!\s+of\b)|another|additional|separate|2nd|3rd|elsewhere|"
    r"in addition|other(?!\s+than))\b",
    re.IGNORECASE,
)
_LOCATION_WORDS = (
    r"lobe|zone|PZ|TZ|CZ|segment|seg|ovary|ov|adnexa|breast|o'?clock|quadrant|apex|base|mid|pole|"
    r"isthmus|RUL|RML|RLL|LUL|LLL|lingula|upper|lower|middle|left|right|[RL]"
)
_LOCATION_HEADING = re.compile(
    rf"^\s*(?:[-•*]\s*)?(?:[A-Za-z0-9][\w ,/'()-]{{0,40}}?)?"
    rf"\b(?:{_LOCATION_WORDS})\b[\w ,/'()-]{{0,30}}:",
    re.IGNORECASE,
)
_FEATURE_LABEL = re.compile(
    r"^\s*(?:[-•*]\s*|\d{1,2}[.)]\s*)?(?:(?:enhancing|non-?rim|non-?peripheral|arterial)\s+)?"
    r"(?:T2(?:W|WI)?|DWI|ADC|DCE|dynamic contrast(?:[- ]enhanced)?(?: imaging| study)?|"
    r"high[- ]b|size|margins?|shape|echogenicity|"
    r"composition|echogenic foci|foci|colou?r(?: score| Doppler)?|vascularity|APHE|washout|"
    r"capsule|orientation|calcifications?|threshold growth|"
    # A contrast phase as a template's sub-item ("- Arterial phase: no hyperenhancement.")
    r"(?:late\s+)?arterial(?:\s+phase)?|portal(?:[ /-](?:venous|transitional))?(?:\s+phases?)?|"
    r"transitional(?:\s+phase)?|delayed(?:\s+phase)?|hepatobiliary(?:\s+phase)?|HBP)\s*:",
    re.IGNORECASE,
)
_QUALIFIED = re.compile(
    r"\b(?:the|this|that)\s+(?P<q>(?:[\w'’-]+(?::\d\d)?\s+){1,3})$", re.IGNORECASE
)
_NOT_QUALIFIERS = {
    "same",
    "other",
    "above",
    "largest",
    "dominant",
    "small",
    "large",
    "new",
    "known",
}
# Words are separated by any white space: a hard-wrapped line may break "it\nshows".
_REFERS_BACK = re.compile(
    r"^\s*(?:it|its|this|these|they)\b|\b(?:at\s+(?:this|the\s+same)\s+(?:site|location|level)|"
    r"the\s+same\s+(?:lesion|nodule|site|area)|"
    r"it\s+(?:measured|measures|was|is|has|had|shows|demonstrates))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Grounded:
    """One feature value with the span of the report that states it."""

    value: Any
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class LesionReading:
    """What the report says of one lesion: a span and its grounded features."""

    start: int
    end: int
    features: dict[str, Grounded] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {name: g.value for name, g in self.features.items()}


@dataclass(frozen=True)
class FeatureReading:
    """The system that applies (or None), where the text says so, and the lesions read."""

    system: RadsSystem | None
    system_evidence: tuple[Grounded, ...] = ()
    lesions: tuple[LesionReading, ...] = ()

    def assessments(self) -> list[Assessment]:
        if self.system is None:
            return []
        guideline = GUIDELINES[self.system]
        return [guideline.categorize(guideline.record(lesion.values())) for lesion in self.lesions]

    def assessment(self) -> Assessment | None:
        """The report-level assessment (None when no system applies)."""
        if self.system is None:
            return None
        return highest(self.system, GUIDELINES[self.system].order, self.assessments())

    def decisive_lesion(self) -> int | None:
        """Index of the lesion whose category is the report's (the highest-risk one)."""
        if self.system is None:
            return None
        order = GUIDELINES[self.system].order
        decided = [(i, a) for i, a in enumerate(self.assessments()) if a.category is not None]
        if not decided:
            return None
        return max(decided, key=lambda item: order.index(item[1].category or ""))[0]


def _ground(text: str, start: int, end: int, value: Any) -> Grounded:
    return Grounded(value, start, end, text[start:end])


_TITLE_LABEL = re.compile(
    r"^\s*(?:exam(?:ination)?|study|procedure|modality|investigation)\s*:\s*(?P<t>\S.*)$",
    re.IGNORECASE,
)
TITLE_LINES = 3


def examination_title(text: str) -> str | None:
    """The examination's name as the report writes it when the record has none: its first line
    when that is a title (no "Heading:" in it), or an "Exam: ..." line among the first lines,
    when it names a modality (each system's first `exam` group in the lexicon). A modality named
    elsewhere ("recommend thyroid ultrasound" in a CT report) is not the examination's."""
    lines = [line for line in text.splitlines() if line.strip()][:TITLE_LINES]
    candidates = [m.group("t") for line in lines if (m := _TITLE_LABEL.match(line))]
    if lines and ":" not in lines[0]:
        candidates.insert(0, lines[0])
    return next((title.strip() for title in candidates if names_modality(title)), None)


def names_modality(name: str) -> bool:
    """Whether an examination's name names a modality (a system's first `exam` group)."""
    return any(w.exam_groups[0].search(name) for w in load_lexicon().systems if w.exam_groups)


def names_examination(name: str) -> bool:
    """Whether an examination's name says anything a system's `exam` groups know (a modality
    or a body part): a generic document title ("Diagnostic Imaging Report") does not and
    decides nothing, while "XR chest" still rules out a CT system."""
    return any(group.search(name) for w in load_lexicon().systems for group in w.exam_groups)


def choose_system(text: str, exam: str | None) -> tuple[RadsSystem | None, tuple[Grounded, ...]]:
    """The system whose applicability groups all match (a negated mention, "not a screening
    study", does not count); several: the one with most lesion words in the text. The evidence
    is the first match of each group in the text. Without an examination name, the report's
    own title names the examination where it names a modality (`examination_title`): a thyroid
    nodule on a CT neck is no TI-RADS case, whatever ultrasound the report recommends. An
    examination name that names neither a modality nor a body part (an SR's "Diagnostic Imaging
    Report") counts as none. The examination's name decides the modality; a body part it leaves
    out ("Low-dose CT screening") may be named by the report's title ("LOW-DOSE CT - LUNG
    SCREENING")."""
    lexicon = load_lexicon()
    title = examination_title(text)
    exam = exam if exam and names_examination(exam) else title
    candidates: list[tuple[int, SystemWords, tuple[Grounded, ...]]] = []
    for words in lexicon.systems:
        evidence: list[Grounded] = []
        ok = True
        for index, group in enumerate(words.exam_groups):
            if exam:  # the name's modality decides; the body part it leaves out, the title may say
                names = [exam] if index == 0 or not title else [exam, title]
                ok = any(_affirmed(lexicon, group, name) is not None for name in names)
            else:
                match = _affirmed(lexicon, group, text)
                ok = match is not None
                if match:
                    evidence.append(_ground(text, match.start(), match.end(), "exam"))
            if not ok:
                break
        for group in words.text_groups if ok else ():
            match = _affirmed(lexicon, group, text)
            if match is None and not (exam and _affirmed(lexicon, group, exam)):
                ok = False
                break
            if match is not None:
                evidence.append(_ground(text, match.start(), match.end(), "text"))
        if ok:
            candidates.append((len(words.lesion.findall(text)), words, tuple(evidence)))
    if not candidates:
        return None, ()
    best = max(candidates, key=lambda c: c[0])
    return best[1].system, best[2]


def _affirmed(lexicon: Lexicon, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return next(
        (m for m in pattern.finditer(text) if not negated(lexicon, text, m.start(), m.end())), None
    )


def final_read_start(text: str, sections: tuple[Section, ...]) -> int:
    """Where the final read starts: at the last addendum of a report whose earlier read calls
    itself preliminary (a resident's or wet read that the attending's addendum revises, "rim
    APHE rather than nonrim"), else 0 (no preliminary read). See `read_features` for how the
    two reads combine."""
    addenda = [s for s in sections if s.key == "addendum"]
    if not addenda:
        return 0
    last = max(addenda, key=lambda s: s.start)
    heading = text.rfind(last.heading, 0, last.start) if last.heading else last.start
    before = heading if heading != -1 else last.start
    return last.start if _PRELIMINARY.search(text, 0, before) else 0


def reading_spans(text: str, sections: tuple[Section, ...]) -> list[tuple[int, int]]:
    """Where lesions are read: the findings-type sections (and unheaded text); the whole report
    except history and indication when it has no such section. A context section (history,
    comparison, technique) ends at the end of its line when its heading is inline ("Hx: 57F,
    lump"), at the end of its first sentence when the report runs on in one paragraph, else at
    its first blank line: what follows with no heading of its own is the report body."""
    return _reading_spans(text, sections)


# The end of a context section's first sentence in a run-on report: the next one starts with a
# capital (text.py's sentence splitter also cuts at line breaks, which a run-on report has none of).
_CONTEXT_SENTENCE_END = re.compile(r"[.;]\s+(?=[A-Z])")
_SPACE_AFTER = re.compile(r"\s*")


def _runs_on(text: str, section_end: int) -> bool:
    """Whether the next heading follows a section on the same line (a one-paragraph report)."""
    return section_end < len(text) and "\n" not in _SPACE_AFTER.match(text, section_end).group(0)


def _reading_spans(text: str, sections: tuple[Section, ...]) -> list[tuple[int, int]]:
    if not sections:
        return [(0, len(text))]
    spans = []
    opening = min(sections, key=lambda s: s.start)
    first = opening.start
    if opening.heading:  # the text before the first heading, without that heading's own words
        first = text.rfind(opening.heading, 0, first) if opening.heading in text[:first] else first
    if text[:first].strip():
        spans.append((0, first))
    for section in sections:
        if section.key not in NOT_READ_FOR_FEATURES:
            spans.append((section.start, section.end))
        elif section.key not in ADVICE:
            inline = section.start > 0 and text[section.start - 1] != "\n" and section.heading
            line_end = next(
                (
                    m.start()
                    for m in re.finditer(r"\n", text[section.start : section.end])
                    if not wrapped(text, section.start + m.start(), section.start + m.end())
                ),
                -1,
            )
            line_end = line_end + section.start if line_end != -1 else -1
            gap = _PARAGRAPH.search(text, section.start, section.end)
            if inline and line_end != -1:
                spans.append((line_end + 1, section.end))
            elif (
                inline
                and _runs_on(text, section.end)
                and (sentence_end := _CONTEXT_SENTENCE_END.search(text, section.start, section.end))
            ):  # a report run on in one paragraph: the context is its first sentence
                spans.append((sentence_end.end(), section.end))
            elif gap:
                spans.append((gap.end(), section.end))
    if not any(text[a:b].strip() for a, b in spans):
        spans = [(s.start, s.end) for s in sections if s.key not in CONTEXT_ONLY]
    return spans


def _has_feature(
    lexicon: Lexicon,
    words: SystemWords,
    text: str,
    unit: Unit,
    affirmed: bool = False,
    describes: bool = False,
) -> bool:
    """Whether the sentence words a feature of the system's table. `affirmed`: only a statement
    that gives a value: not a negated term ("Right breast: no mass" describes no finding), but a
    negative value ("no echogenic foci") or a negated flag ("no washout": washout false) does.
    `describes`: only a feature that describes a lesion, not its course over time (the field the
    system's growth rule sets: "5. Unchanged since 2023." describes nothing) nor how the
    examination went (`of_examination`: "Left ovary: not well seen.")."""
    course = words.growth.field if (describes and words.growth is not None) else None
    for fw in words.fields:
        if fw.name == course or (describes and fw.of_examination):
            continue
        for value in fw.values:
            for pattern in value.patterns:
                for match in pattern.finditer(text, unit.start, unit.end):
                    if (
                        not affirmed
                        or value.negative
                        or fw.kind is FieldKind.FLAG
                        or not negated(lexicon, text, match.start(), match.end())
                    ):
                        return True
        for pattern in fw.scores:
            if pattern.search(text, unit.start, unit.end):
                return True
    return False


def _feature_spans(words: SystemWords, text: str, unit: Unit) -> list[tuple[int, int]]:
    """Where the sentence words a feature's value. A structure named inside one ("not parallel
    to the skin") is that feature's reference, not another structure the sentence is about."""
    return [
        match.span()
        for fw in words.fields
        for value in fw.values
        for pattern in value.patterns
        for match in pattern.finditer(text, unit.start, unit.end)
    ]


_LABEL_WORD = re.compile(r"^\s*(?:[-•*]\s*)?(?P<w>[A-Za-z]+)\s*#?\s*\d+\s*[:.)-]?\s*$")


def _item_label(words: SystemWords, line: str) -> bool:
    """Whether a line is only an item's label: a generic item word or one of the system's own
    lesion words and a number ("Observation 1:", "Target 2:", "Nodule #3")."""
    if _ITEM_HEADING.match(line):
        return True
    match = _LABEL_WORD.match(line)
    return bool(match and words.lesion.fullmatch(match.group("w")))


def _sized(lexicon: Lexicon, text: str, unit: Unit) -> bool:
    return any(not m.prior for m in measurements(lexicon, text, unit.start, unit.end))


# A finding another examination made, attributed to it in its own sentence ("Surveillance
# ultrasound showed a 2 cm nodule.", "Incidental adnexal cyst noted on a CT elsewhere."): the
# reason for this examination, not a lesion it describes, unless the sentence goes on to say
# what this examination shows ("..., now 15 mm", "... corresponds to a 9 mm mass").
# Doppler is a technique of this examination ("no flow detected on colour Doppler"), not another.
_EXAM_WORDS = (
    r"(?:ultrasound|US|USG|USS|sonograph\w*|sonogram|CT|LDCT|MRI?|mammogra\w*|"
    r"PET(?:/CT)?|scan|imaging)"
)
_ELSEWHERE = re.compile(
    rf"\b{_EXAM_WORDS}\b[\w ,/-]{{0,30}}?\b(?:showed|demonstrated|revealed|raised|detected|"
    rf"found|suggested|reported|identified)\b"
    rf"|\b(?:seen|noted|found|detected|identified|reported|described)\s+(?:on|at|by)\s+"
    rf"(?:an?\s+|the\s+)?(?:[\w-]+\s+){{0,3}}?{_EXAM_WORDS}\b"
    # "on the prior CT." (not "17 mm on ultrasound," in a mammogram-and-ultrasound report)
    rf"|\bon\s+(?:an?\s+|the\s+)?(?:outside\s+|prior\s+|recent\s+|previous\s+)"
    rf"(?:CT|MRI|ultrasound|US)\s*[.,;]"
    # A line headed by the earlier examination: "Previous LDCT 6 months ago: LUL nodule 7 mm."
    rf"|^\s*(?:previous|prior|earlier|last)\s+(?:[\w-]+\s+){{0,2}}?{_EXAM_WORDS}\b[^:\n]{{0,40}}:",
    re.IGNORECASE,
)
_THIS_EXAMINATION = re.compile(
    r"\b(?:now|currently|today|at present|this (?:study|exam\w*|scan)|is|are|measures|"
    r"corresponds?|shows|demonstrates|has|remains)\b",
    re.IGNORECASE,
)


def _other_examination(sentence: str) -> bool:
    """Whether a sentence only reports another examination's finding."""
    match = _ELSEWHERE.search(sentence)
    return bool(match) and not _THIS_EXAMINATION.search(sentence)


def _prior_sized(lexicon: Lexicon, text: str, unit: Unit) -> bool:
    """Whether the sentence gives an earlier examination's size ("previously 5 x 4 mm"): with
    no size of today's, a clause about the current lesion's past, so it belongs to that lesion."""
    return any(m.prior for m in measurements(lexicon, text, unit.start, unit.end))


def split_lesions(
    lexicon: Lexicon, words: SystemWords, text: str, spans: list[tuple[int, int]]
) -> list[list[Unit]]:
    """Group the sentences into lesions.

    A sentence starts a lesion when it names a lesion (a lesion word that is neither negated nor
    referring back, "the nodule") and there is no lesion yet, or it brings a list marker or a
    location heading, or a size while the current lesion already has one. A sentence with no
    lesion word starts one when it states a feature under a list marker or a location heading
    ("- Left lower lobe: 5 x 4 mm", "PZ: wedge-shaped ADC hypointensity"). A lesion word with no
    size, followed by such items, is a heading ("two solid nodules:") whose words each item
    inherits (the heading on its own is then no lesion). A sentence that states a feature,
    refers back ("it", "at this site") or gives only a prior size ("; previously 6 x 5 mm"),
    belongs to the current lesion, or to the last one; a sentence about another structure
    (`not_lesion` as its subject) or one whose lesion words are all negated ("no other nodule")
    ends it; other sentences are passed over. Lines that label a feature ("T2: 3/5") always
    continue. A line that is only an item's label ("Observation 1:") opens a lesion of its own,
    so the template lines under it ("Type: solid", "Status: new") belong to that item and not to
    the one before; until a blank line or another lesion, the lines under it that name no
    lesion, and bulleted lines, are that item's ("- Location: left PZ", "- DWI: 3"), whatever
    markers or location words they carry; so are the bulleted lines under an item named with
    its location ("Lesion A — left ovary" over "  - unilocular, anechoic"). A sentence whose
    lesion lies on the other side (right, left, a lobe's abbreviation) from the current lesion's
    is another lesion, even worded as "the ...", and a sentence about the other side that names
    no lesion ("The left ovary is not well seen.") adds nothing to it. Under a table header row
    that names a lesion column ("Observation | size | APHE"), each row is a lesion of its own,
    read with that header. A label that nothing follows, or a header row on its own, is no
    lesion. A location line's
    label states no finding ("Transition zone: BPH, no suspicious nodule." is no lesion). A
    sentence that only reports another examination's finding ("Surveillance ultrasound showed a
    nodule.") is passed over.
    """
    lesions: list[list[Unit]] = []
    labels: set[int] = set()  # units that only label what follows: item labels, table headers
    for span_start, span_end in spans:
        current: list[Unit] | None = None
        last: list[Unit] | None = None
        current_sized = False
        header: list[Unit] | None = None
        span_units = units(text, span_start, span_end)
        tables = table_cells(text, span_units)
        labels |= {start for start, cells in tables.items() if not cells}
        labels |= {u.start for u in span_units if _item_label(words, u.text)}
        row_header: Unit | None = None
        item: list[Unit] | None = None  # the lesion an item label opened, while its block runs
        seen = span_start
        for unit in span_units:
            cells = tables.get(unit.start)
            if cells == []:  # a header row: its rows are lesions when it names a lesion column
                lesion_columns = words.lesion.search(unit.text) or _ITEM_WORDS_RE.search(unit.text)
                row_header = unit if lesion_columns else None
            elif cells is None:
                row_header = None
            elif row_header is not None:  # "Obs | size | APHE" over one row per observation
                current, header, current_sized = (
                    [row_header, unit],
                    None,
                    _sized(lexicon, text, unit),
                )
                lesions.append(current)
                last = current
                continue
            if _item_label(words, unit.text):
                current, header, current_sized = [unit], None, False
                lesions.append(current)
                last = item = current
                seen = unit.end  # its block runs from here: a blank line above it ends nothing
                continue
            if item is not None and (
                current is not item or _PARAGRAPH.search(text, seen, unit.start)
            ):
                item = None  # the item's block ends at a blank line or another lesion
            seen = unit.end
            found = list(words.lesion.finditer(text, unit.start, unit.end))
            structures = (
                list(words.not_lesion.finditer(text, unit.start, unit.end))
                if words.not_lesion is not None
                else []
            )
            # A lesion word inside another structure's phrase ("the axillae show normal nodes")
            # names that structure, not a lesion.
            anchors = [
                m
                for m in found
                if not negated(lexicon, text, m.start(), m.end())
                and not any(s.start() <= m.start() and m.end() <= s.end() for s in structures)
            ]
            terms = _feature_spans(words, text, unit) if structures else []
            other = any(
                not negated(lexicon, text, m.start(), m.end())
                and not any(a <= m.start() and m.end() <= b for a, b in terms)
                and (
                    not anchors
                    or m.start() - unit.start < SUBJECT_CHARS
                    or any(0 <= a.start() - m.end() <= MODIFIER_CHARS for a in anchors)
                )
                for m in structures
            )
            if _other_examination(unit.text):
                continue  # "Surveillance ultrasound showed a nodule.": that examination's finding
            sized = _sized(lexicon, text, unit)
            earlier_size = not sized and _prior_sized(lexicon, text, unit)
            heading = _LOCATION_HEADING.search(unit.text)
            # What the line says after its location label ("Transition zone: BPH."): the label's
            # own words (a zone) state no finding.
            body = (
                Unit(unit.start + heading.end(), unit.end, unit.text[heading.end() :])
                if (heading)
                else unit
            )
            feature = _has_feature(lexicon, words, text, body)
            stated = feature and _has_feature(
                lexicon, words, text, body, affirmed=True, describes=True
            )
            listed_item = bool(_LIST_MARKER.search(unit.text))
            another = bool(_ANOTHER.search(unit.text))
            marker = listed_item or another
            stated_here = feature and _has_feature(lexicon, words, text, unit, affirmed=True)
            located = listed_item or bool(heading) or (another and bool(anchors))
            refers = bool(_REFERS_BACK.search(unit.text))
            referring = bool(anchors) and all(
                _REFERRING.search(text, max(0, m.start() - 60), m.start()) for m in anchors
            )
            elsewhere = current is not None and _other_side(text, current, unit)
            if referring:  # "the segment 7 observation": the lesion it names, or the last one
                named = _named_lesion(text, lesions, anchors)
                if named is not None and _other_side(text, named, unit):
                    named = None  # "the left lobe lesion" after "the right lobe lesion": not it
                if named is None and not elsewhere:
                    named = current or last
                if named is not None:
                    named.append(unit)
                    current = named
                    continue
                referring = False  # a first mention written with "the"
            if _FEATURE_LABEL.search(unit.text) and (current or last) is not None:
                target = current or last
                assert target is not None
                target.append(unit)
                current = target
                continue
            if refers and not anchors and (current or last) is not None:
                target = current or last
                assert target is not None
                target.append(unit)
                current = target
                continue
            if other:
                continue  # about another structure: neither a lesion nor its features
            if item is not None and (not anchors or _BULLET.match(unit.text)):
                item.append(unit)  # "- Size: 9 mm" under "Lesion 1:": the item's own line
                current_sized = current_sized or sized
                continue
            if found and not anchors and (not feature or (marker and not stated_here)):
                # "No other nodules.": every lesion word negated, no feature: that lesion ends;
                # so does a new list item that only negates ("2. No new nodules.": its negated
                # "new" is no value), while an unnumbered denial goes on describing the lesion
                # ("The appearance is not typical of an endometrioma or a haemorrhagic cyst.").
                current, header = None, None
                continue
            starts = False
            if anchors and not referring:
                starts = current is None or located or (sized and current_sized) or elsewhere
            elif not anchors and (
                (located and (stated or (sized and (header is not None or heading is not None))))
                or (current is None and sized and stated and not found)
            ):
                starts = True
            if starts:
                # An item under a heading ("two solid nodules:" over "- RUL: 4 mm") inherits its
                # words; a location line after a sentence ("Lesion 2: left PZ." then "TZ: BPH.")
                # is no item of it.
                listed = header is not None and (
                    marker or text[header[-1].start : header[-1].end].rstrip().endswith(":")
                )
                inherited = header if (header is not None and not anchors and listed) else []
                if inherited and any(lesion == inherited for lesion in lesions):
                    labels.add(inherited[0].start)  # the heading alone is no lesion of its own
                current = [*inherited, unit]
                lesions.append(current)
                last = current
                current_sized = sized
                if _ITEM_LINE.match(unit.text):
                    item = current  # "Lesion A — left ovary" over "  - unilocular, anechoic"
                if anchors:
                    header = None if sized else [unit]
                continue
            target = current if current is not None else (last if (refers or referring) else None)
            if elsewhere and not anchors and not refers:
                continue  # "The left ovary is not well seen." after a right ovarian cyst
            first_size = sized and not current_sized
            if target is not None and (anchors or feature or first_size or refers or earlier_size):
                target.append(unit)
                current = target
                current_sized = current_sized or sized
    return [lesion for lesion in lesions if not all(u.start in labels for u in lesion)]


_SIDE = re.compile(
    r"\b(?:(?P<r>right|RUL|RML|RLL)|(?P<l>left|LUL|LLL|lingula\w*))\b", re.IGNORECASE
)


def _sides(text: str, start: int, end: int) -> set[str]:
    return {"right" if m.group("r") else "left" for m in _SIDE.finditer(text, start, end)}


def _lesion_sides(text: str, lesion: list[Unit]) -> set[str]:
    """The sides (right, left) a lesion's sentences name."""
    return set().union(*(_sides(text, u.start, u.end) for u in lesion))


def _other_side(text: str, lesion: list[Unit], unit: Unit) -> bool:
    """Whether a sentence places its lesion on the other side from the current lesion ("the
    small granuloma in the right lower lobe" after a left upper lobe nodule): however it is
    worded ("the ..."), it is another lesion."""
    here = _sides(text, unit.start, unit.end)
    before = _lesion_sides(text, lesion)
    return len(here) == 1 and len(before) == 1 and here != before


def _named_lesion(
    text: str, lesions: list[list[Unit]], anchors: list[re.Match[str]]
) -> list[Unit] | None:
    """The earlier lesion a sentence names by its qualifier ("the lingular nodule", "the
    segment 7 observation"): the last lesion whose own words contain that qualifier."""
    match = _QUALIFIED.search(text, max(0, anchors[0].start() - 40), anchors[0].start())
    if not match:
        return None
    for word in reversed(match.group("q").split()):
        if word.lower() in _NOT_QUALIFIERS:
            continue
        qualifier = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
        for lesion in reversed(lesions):
            if any(qualifier.search(unit.text) for unit in lesion):
                return lesion
    return None


@dataclass(frozen=True)
class _Hit:
    """A pattern's match as the report states it: the span it grounds on (with its negation,
    "no enhancing capsule"; a table cell for a table row), whether it is negated, and the match
    (for captured numbers)."""

    match: re.Match[str]
    start: int
    end: int
    negated: bool


Tables = dict[int, list[tuple[str, int, int]]]
# A table cell that gives no value: blank, a dash, "n/a", a question mark.
_EMPTY_CELL = re.compile(r"\s*(?:[-–—/?.]|n/?a)?\s*", re.IGNORECASE)


def table_cells(text: str, report_units: list[Unit]) -> Tables:
    """Rows of '|' tables under a header row: unit start -> (column header, cell span), so a
    cell reads as "header: cell" ("APHE | WO" over "none | absent" -> "APHE: none")."""
    tables: Tables = {}
    header: list[str] | None = None
    for unit in report_units:
        if unit.text.count("|") < 2:
            if unit.start == 0 or text[unit.start - 1] == "\n":
                header = None  # a line that is not a row ends the table ("a; b" rows go on)
            continue
        cells, position = [], unit.start
        for part in unit.text.split("|"):
            start = position + len(part) - len(part.lstrip())
            cells.append((start, start + len(part.strip())))
            position += len(part) + 1
        if header is None:
            header = [text[a:b] for a, b in cells]
            tables[unit.start] = []  # the header row states no feature of its own
            continue
        tables[unit.start] = [
            (header[k] if k < len(header) else "", a, b) for k, (a, b) in enumerate(cells)
        ]
    return tables


def _hits(
    lexicon: Lexicon, pattern: re.Pattern[str], text: str, lesion_units: list[Unit], tables: Tables
) -> list[_Hit]:
    out = []
    for unit in lesion_units:
        cells = tables.get(unit.start)
        if cells is None:
            for m in pattern.finditer(text, unit.start, unit.end):
                negation = negation_span(lexicon, text, m.start(), m.end())
                start, end = negation or (m.start(), m.end())
                out.append(_Hit(m, start, end, negation is not None))
            continue
        for header, start, end in cells:
            if _EMPTY_CELL.fullmatch(text[start:end]):
                continue  # "-" or "n/a" under "APHE" states nothing, least of all "APHE"
            view = f"{header}: {text[start:end]}"
            for m in pattern.finditer(view):
                out.append(_Hit(m, start, end, negated(lexicon, view, m.start(), m.end())))
    return out


def _read_field(
    lexicon: Lexicon,
    fw: FieldWords,
    text: str,
    lesion_units: list[Unit],
    tables: Tables | None = None,
) -> Grounded | None:
    """One feature of one lesion: the value its text states (see the lexicon's header for the
    rules of priority, negation and flags); for a `veto` field, a value the lesion's text also
    negates ("not typical of an endometrioma") is not taken from its descriptors."""

    def hits(pattern: re.Pattern[str]) -> list[_Hit]:
        return _hits(lexicon, pattern, text, lesion_units, tables or {})

    if fw.kind is FieldKind.SCORE:
        for pattern in fw.scores:
            for hit in hits(pattern):
                n = count_word(hit.match.group("n"))
                if n is not None and not hit.negated:
                    return _ground(text, hit.start, hit.end, n)
    if fw.kind is FieldKind.FLAG:
        per_pattern = [hits(p) for p in (fw.values[0].patterns if fw.values else ())]
        found = [h for pattern_hits in per_pattern for h in pattern_hits]
        affirmed = [
            first
            for pattern_hits in per_pattern
            if (first := next((h for h in pattern_hits if not h.negated), None)) is not None
        ]
        if len(affirmed) >= fw.at_least:
            counted = affirmed[: 1 if fw.at_least == 1 else None]  # the span of all it needed
            start, end = min(h.start for h in counted), max(h.end for h in counted)
            return _ground(text, start, end, True)
        if affirmed:
            return None  # fewer of the findings than the flag needs: not stated either way
        return _ground(text, found[0].start, found[0].end, False) if found else None
    if fw.kind is FieldKind.TERMS:
        terms: list[Grounded] = []
        none: Grounded | None = None
        for value in fw.values:
            for pattern in value.patterns:
                found = hits(pattern)
                if value.negative and found:
                    none = none or _ground(text, found[0].start, found[0].end, [value.value])
                affirmed = next((h for h in found if not h.negated), None)
                if not value.negative and affirmed is not None:
                    terms.append(_ground(text, affirmed.start, affirmed.end, value.value))
                    break
        if terms:
            first, last = min(g.start for g in terms), max(g.end for g in terms)
            return Grounded(
                list(dict.fromkeys(g.value for g in terms)), first, last, text[first:last]
            )
        return none
    stated: list[tuple[int, int, _Hit, str]] = []
    for rank, value in enumerate(fw.values):
        found = [h for pattern in value.patterns for h in hits(pattern)]
        if fw.veto and not value.negative and any(h.negated for h in found):
            continue  # the lesion's text denies this value
        chosen = next((h for h in found if value.negative or not h.negated), None)
        if chosen is not None:
            stated.append((chosen.start if fw.pick_first else 0, rank, chosen, value.value))
    if not stated:
        return None
    _, _, hit, term = min(stated, key=lambda item: (item[0], item[1]))
    converted: Any = int(term) if fw.kind is FieldKind.SCORE else term
    return _ground(text, hit.start, hit.end, converted)


def _nearest(found: list[Measurement], words: SystemWords, text: str, unit: Unit) -> Measurement:
    """The lesion's own size: of the sizes in its first sentence, the one nearest its lesion
    word ("right ovary 34 x 21 mm containing a 22 mm follicle" -> 22 mm); else the first."""
    anchor = words.lesion.search(text, unit.start, unit.end)
    own = [m for m in found if unit.start <= m.start < unit.end]
    if anchor is None or not own:
        return found[0]
    return min(own, key=lambda m: min(abs(m.start - anchor.end()), abs(anchor.start() - m.end)))


def _read_sizes(
    lexicon: Lexicon,
    words: SystemWords,
    text: str,
    lesion_units: list[Unit],
    features: dict[str, Grounded],
) -> None:
    names = {f.name for f in GUIDELINES[words.system].fields()}
    found = [m for u in lesion_units for m in measurements(lexicon, text, u.start, u.end)]
    solid = next((s for u in lesion_units if (s := solid_part(text, u.start, u.end))), None)
    current = [
        m
        for m in found
        if not m.prior and not (solid and m.start >= solid.start and m.end <= solid.end)
    ]
    if not current:
        return
    stated_mean = None
    if words.size == "mean2":
        stated_mean = next(
            (
                s
                for u in lesion_units
                for s in mean_diameters(text, u.start, u.end)
                # an earlier examination's mean ("(mean 7 mm) previously") is no size of today's
                if not any(m.prior and m.start == s.start for m in found)
            ),
            None,
        )
    if stated_mean is not None:
        size = _ground(text, stated_mean.start, stated_mean.end, stated_mean.dims_mm[0])
    else:
        first = _nearest(current, words, text, lesion_units[0])
        value = first.mean2_mm if words.size == "mean2" else first.max_mm
        size = _ground(text, first.start, first.end, value)
    if "size_mm" in names:
        features["size_mm"] = size
    prior = [m for m in found if m.prior]
    growth = words.growth
    if growth is not None and growth.field in names and growth.field not in features and prior:
        before = prior[0].mean2_mm if words.size == "mean2" else prior[0].max_mm
        judged = growth.judge(size.value, before, interval_months(text))
        if judged is not None:
            features[growth.field] = _ground(text, prior[0].start, prior[0].end, judged)


def _read_solid_part(
    words: SystemWords, text: str, lesion_units: list[Unit], features: dict[str, Grounded]
) -> None:
    names = {f.name for f in GUIDELINES[words.system].fields()}
    solid = next((s for u in lesion_units if (s := solid_part(text, u.start, u.end))), None)
    if "solid_component_mm" in names and solid is not None:
        features["solid_component_mm"] = _ground(text, solid.start, solid.end, solid.dims_mm[0])


# A sentence that gives advice wherever it is written ("A 3-month LDCT is recommended."): it says
# what should happen next, not what this examination is. Advice told in the past ("a 3-month
# follow-up was recommended") is history: it says what this examination is.
_ADVICE = re.compile(
    r"\b(?<!was )(?<!were )(?<!been )"
    r"(?:recommend\w*|advis\w*|(?:is|are|be|we) suggested|we suggest|should|please|"
    r"consider(?:ed)? (?:for|a|an)|to be (?:repeated|considered)|return (?:in|for))\b",
    re.IGNORECASE,
)


def _not_advice(text: str, sections: tuple[Section, ...]) -> list[tuple[int, int]]:
    """The report without its impression, conclusion and recommendation sections (each from its
    heading to the next section); `read_features` also drops the advice sentences left."""
    spans, position = [], 0
    for section in sorted(sections, key=lambda s: s.start):
        if section.key in ADVICE:
            heading = (
                text.rfind(section.heading, position, section.start) if section.heading else -1
            )
            spans.append((position, heading if heading != -1 else section.start))
            position = section.end
    spans.append((position, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _gate_open(lexicon: Lexicon, fw: FieldWords, text: str, exam: str | None) -> bool:
    """A gated field is read only where the report's context allows it: BI-RADS 0 on a
    screening examination (`exam_is`, `unless`: the examination's name, or the text without
    one), a biopsy clip as a known cancer where the report names one (`only_if`)."""
    if fw.only_if is not None:
        in_exam = bool(exam and fw.only_if.search(exam))
        if not in_exam and _affirmed(lexicon, fw.only_if, text) is None:
            return False
    if fw.exam_is is not None and not fw.exam_is.search(exam or text):
        return False
    return fw.unless is None or not fw.unless.search(exam or text)


def read_features(
    text: str, sections: tuple[Section, ...], exam: str | None = None
) -> FeatureReading:
    """The grounded feature records of the report's lesions under the system that applies."""
    system, evidence = choose_system(text, exam)
    if system is None:
        return FeatureReading(None)
    lexicon = load_lexicon()
    words = next(w for w in lexicon.systems if w.system is system)
    spans = reading_spans(text, sections)
    findings = [u for a, b in spans for u in units(text, a, b)]
    scoped = {
        Scope.WHOLE: units(text, 0, len(text)),
        Scope.FINDINGS: findings,
        Scope.NOT_ADVICE: [
            u
            for a, b in _not_advice(text, sections)
            for u in units(text, a, b)
            if not _ADVICE.search(u.text)
        ],
    }
    report_level = {
        fw.name: g
        for fw in words.report_fields
        if _gate_open(lexicon, fw, text, exam)
        and (g := _read_field(lexicon, fw, text, scoped[fw.scope]))
    }
    lesion_fields = [fw for fw in words.fields if _gate_open(lexicon, fw, text, exam)]
    tables = table_cells(text, findings)

    compared = _impression_units(text, sections)

    def read_lesions(read: list[tuple[int, int]]) -> list[LesionReading]:
        out = []
        split = split_lesions(lexicon, words, text, read)
        comparisons = _comparisons(lexicon, words, text, split, compared)
        for lesion_units, stated_in_impression in zip(split, comparisons, strict=True):
            features: dict[str, Grounded] = {}
            for fw in lesion_fields:
                grounded = _read_field(lexicon, fw, text, lesion_units, tables)
                if grounded is not None:
                    features[fw.name] = grounded
            _read_sizes(lexicon, words, text, lesion_units, features)
            if stated_in_impression:
                _read_from_impression(
                    lexicon, words, text, lesion_units, stated_in_impression, features
                )
            _read_solid_part(words, text, lesion_units, features)
            for name, grounded in report_level.items():
                features.setdefault(name, grounded)
            # A table row's span is the row, not the header row it is read with.
            own = [u for u in lesion_units if tables.get(u.start) != []] or lesion_units
            out.append(LesionReading(own[0].start, lesion_units[-1].end, features))
        return out

    final = final_read_start(text, sections)
    if final:
        preliminary = read_lesions([(a, min(b, final)) for a, b in spans if a < final])
        revised = read_lesions([(max(a, final), b) for a, b in spans if b > final])
        lesions = revise(preliminary, revised, set(report_level))
    else:
        lesions = read_lesions(spans)
    if not any(set(lesion.features) - set(report_level) for lesion in lesions):
        # No lesion, or only lesion words of which the report states nothing the table reads
        # ("Transition zone mild BPH. Well-circumscribed nodules only."): the report's own
        # negative statement ("No diffusion restriction") decides, where it makes one.
        lesions = _without_lesions(lexicon, words, text, spans, report_level) or lesions
    return FeatureReading(system, evidence, tuple(lesions))


# Where a report states its comparison, or its key size, after the findings: the impression's
# sentences are otherwise not read for features (they summarise the findings and advise).
COMPARED_IN = {"impression", "conclusion"}


def _impression_units(text: str, sections: tuple[Section, ...]) -> list[Unit]:
    return [u for s in sections if s.key in COMPARED_IN for u in units(text, s.start, s.end)]


def _comparisons(
    lexicon: Lexicon,
    words: SystemWords,
    text: str,
    lesions: list[list[Unit]],
    impression: list[Unit],
) -> list[list[Unit]]:
    """Per lesion, the impression's sentences that measure it or compare it with an earlier
    examination ("The segment 2 observation measured 6 mm on the MRI of five months ago and now
    measures 9 mm", "Right breast solid nodule ... stable for three years", "Lingular solid
    nodule, 7 x 6 mm"): a sentence that names a lesion and states a size, a prior size or the
    system's change words, matched to the lesion it names by its qualifier ("the left lower lobe
    nodule"), by its side, or as the only one."""
    out: list[list[Unit]] = [[] for _ in lesions]
    change = _change_words(words)
    if not lesions:
        return out
    for unit in impression:
        anchors = [
            m
            for m in words.lesion.finditer(text, unit.start, unit.end)
            if not negated(lexicon, text, m.start(), m.end())
        ]
        states = bool(measurements(lexicon, text, unit.start, unit.end)) or (
            change is not None and _read_field(lexicon, change, text, [unit]) is not None
        )
        if not anchors or not states:
            continue
        named = _named_lesion(text, lesions, anchors)
        if named is None:
            here = _sides(text, unit.start, unit.end)
            sided = [lesion for lesion in lesions if here and _lesion_sides(text, lesion) == here]
            named = sided[0] if len(sided) == 1 else lesions[0] if len(lesions) == 1 else None
        if named is not None:
            out[lesions.index(named)].append(unit)
    return out


def _change_words(words: SystemWords) -> FieldWords | None:
    """The words of the field the system's growth rule sets (Lung-RADS change, LI-RADS
    threshold growth), or None where it has none."""
    growth = words.growth
    return next((fw for fw in words.fields if growth and fw.name == growth.field), None)


def _read_from_impression(
    lexicon: Lexicon,
    words: SystemWords,
    text: str,
    lesion_units: list[Unit],
    stated_in_impression: list[Unit],
    features: dict[str, Grounded],
) -> None:
    """What the impression adds to a lesion where the findings state none: its size, and the
    system's change field (its change words, or its prior size against today's, the findings'
    size first)."""
    if "size_mm" not in features:
        measured: dict[str, Grounded] = {}
        _read_sizes(lexicon, words, text, stated_in_impression, measured)
        if "size_mm" in measured:
            features["size_mm"] = measured["size_mm"]
    growth = words.growth
    if growth is None or growth.field in features:
        return
    change = _change_words(words)
    grounded = _read_field(lexicon, change, text, stated_in_impression) if change else None
    if grounded is None:
        compared: dict[str, Grounded] = {}
        _read_sizes(lexicon, words, text, [*lesion_units, *stated_in_impression], compared)
        grounded = compared.get(growth.field)
    if grounded is not None:
        features[growth.field] = grounded


# How many lesion features an addendum's lesion must state alike with a preliminary lesion
# (the fields, not their values) to be the revision of it when the preliminary read has several.
REVISES_FIELDS = 2


def revise(
    preliminary: list[LesionReading], final: list[LesionReading], shared: set[str]
) -> list[LesionReading]:
    """A preliminary read and the addendum that revises it, as one reading. An addendum
    lesion revises the preliminary lesion it describes again: the only one, or, of several,
    the one that states more of the same features (not `shared`, the report's own) than any
    other, at least `REVISES_FIELDS` of them, or as many but more of them with the same values
    ("irregular" again, the margin corrected). The revision keeps what the addendum states and
    takes from the preliminary lesion what the addendum leaves unsaid (the attending "agrees
    with the findings with the following change"); the preliminary lesion is then superseded.
    Preliminary lesions that no addendum lesion revises stand as read."""
    if not final:
        return preliminary
    revised: set[int] = set()
    out = []
    for lesion in final:
        target = _revised_lesion(preliminary, lesion, shared)
        if target is None:
            out.append(lesion)
            continue
        revised.add(target)
        features = {**preliminary[target].features, **lesion.features}
        out.append(LesionReading(lesion.start, lesion.end, features))
    kept = [lesion for index, lesion in enumerate(preliminary) if index not in revised]
    return [*kept, *out]


def _revised_lesion(
    preliminary: list[LesionReading], lesion: LesionReading, shared: set[str]
) -> int | None:
    if len(preliminary) == 1:
        return 0
    own = set(lesion.features) - shared
    values = lesion.values()
    overlaps = []
    for earlier in preliminary:
        common = own & (set(earlier.features) - shared)
        alike = sum(earlier.features[name].value == values[name] for name in common)
        overlaps.append((len(common), alike))
    best = max(overlaps, default=(0, 0))
    if best[0] < REVISES_FIELDS or overlaps.count(best) > 1:
        return None
    return overlaps.index(best)


def _without_lesions(
    lexicon: Lexicon,
    words: SystemWords,
    text: str,
    spans: list[tuple[int, int]],
    report_level: dict[str, Grounded],
) -> list[LesionReading]:
    """A report that describes no lesion: an examination it says was incomplete ("right adnexa
    obscured by bowel gas": the table's category 0, before any "no mass" of the other side),
    its "no nodules" statement as the system's negative record, or a report-level finding
    (ascites) on its own; else nothing to assess."""
    flags = {n: g for n, g in report_level.items() if g.value is True}
    read = [u for start, end in spans for u in units(text, start, end)]
    for fw in (f for f in words.fields if f.of_examination):
        grounded = _read_field(lexicon, fw, text, read)
        if grounded is not None and grounded.value is True:
            features = {**report_level, fw.name: grounded}
            return [LesionReading(grounded.start, grounded.end, features)]
    for start, end in spans:
        for pattern in words.none:
            match = pattern.search(text, start, end)
            if match:
                features = {
                    name: _ground(text, match.start(), match.end(), value)
                    for name, value in words.none_record.items()
                }
                return [LesionReading(match.start(), match.end(), {**report_level, **features})]
    if flags:
        first = min(flags.values(), key=lambda g: g.start)
        return [LesionReading(first.start, first.end, dict(report_level))]
    return []
