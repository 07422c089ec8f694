"""Report text as a radiologist writes it: sentences, negation scope and measurements.

Offsets are always into the report text, so every value read stays a span of the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from radlite_fhir.features.lexicon import Lexicon

# A sentence ends at . ! ? followed by space and a capital, digit or bracket, at a line break,
# or at a semicolon; decimals ("1.2 cm") and abbreviations followed by lower case stay inside.
_SENTENCE_END = re.compile(
    # A capital after the stop, whatever the flags ("i.e. stable" goes on: see _LOWER_START).
    r"(?<=[.!?])\s+(?=(?-i:[A-Z0-9(\[•\-*]))|\n+|;\s+"
    r"|\s+(?:period|full stop|new paragraph|next paragraph)\b[\s,]*",
    re.IGNORECASE,
)
# Dictated text often starts sentences in lower case: ". in the left lobe" ends a sentence
# unless the word before the stop is an abbreviation.
_LOWER_START = re.compile(r"(?<=\.)\s+(?=[a-z])")
_HAS_SIZE = re.compile(r"\d\s*(?:mm|cm)\b|\d+(?:\.\d+)?\s*x\s*\d", re.IGNORECASE)
NEGATION_WORDS = 8  # "no area of homogeneous low T2 signal or erased charcoal appearance"
_GRAMMAR_WORDS = {"a", "an", "the", "of", "or", "nor", "either", "any"}
WRAP_WIDTH = 40
_LIST_ITEM = re.compile(
    r"\d+[.)]\s"
)  # shorter lines are list items or headings, not wrapped sentences
# A list item's number or letter alone before the cut ("2. No new nodules."): the item's marker,
# not a sentence, so it stays with the item's text (where list-marker rules can see it).
_ITEM_NUMBER = re.compile(r"[ \t]*(?:[-•*][ \t]*)?\(?(?:\d{1,2}|[A-Za-z])[.)]")
# An acronym (2-5 capitals or digits) that carries on the sentence, not a label ("ADC:").
_ACRONYM_GOES_ON = re.compile(r"[A-Z][A-Z0-9]{1,4}\b(?!\s*[:|])(?=[.,;)]|\s+[a-z(]|\s*$)")
_ABBREVIATION = re.compile(
    r"\b(?:approx|vs|cf|incl|no|dr|fig|e\.g|i\.e|etc|ca|al)\.$", re.IGNORECASE
)
# A clause ends at . ; : or a line break, but not at the break of a hard-wrapped line.
_CLAUSE_START = re.compile(r"[.;:]|\n(?![a-z])|\bcomma\b")
_LINE_START = re.compile(r"[.;:\n]|\bcomma\b")  # ... in a report written all in lower case
# White space within a line, or a hard wrap before lower case (whatever flags the pattern has).
_GAP = r"(?:[ \t]|\n(?=(?-i:[a-z])))+"
_NEGATED_AFTER = re.compile(
    r"^-(?=[\s,.;)]|$)"  # "WO-", "caps-"
    # "capsule absent", "washout not seen", "B and C serology negative", "nodules not detected";
    # not across a line break that starts a new line ("ADC: focal ..." over "DCE: negative"),
    # only across a hard-wrapped one.
    rf"|^(?:{_GAP}(?!with\b|but\b)\w+){{0,3}}?(?:{_GAP})?:?(?:{_GAP})?(?:(?:is|are|was|were)\s+)?"
    r"(?:absent|negative|"
    r"not\s+(?:seen|present|identified|demonstrated|appreciated|evident|visuali[sz]ed|assessed|"
    r"evaluated|imaged|detected|found|revealed|noted|observed))"
    r"|^\s*[:=?]\s*(?:no|none)\b"  # "capsule: no", "Right breast mass = None", "Spiculation? No."
    # A template label whose answer is a bare denial: "New nodules: none." negates "new".
    rf"|^(?:{_GAP}[\w-]+){{1,2}}\s*[:=?]\s*(?:no|none|nil|absent)\b[ \t]*(?:[.;,\n]|$)"
    # A checklist answered N after a dotted leader ("Associated mass .......... N").
    r"|^[^\n.]{0,30}?\s*\.{3,}\s*(?:N|no|none|absent)\b"
    # "3 mm node in the left lower lobe no longer delineable": gone since the prior
    rf"|^(?:{_GAP}(?!with\b|but\b)[\w-]+){{0,6}}?{_GAP}no\s+longer\s+(?:seen|visible|"
    r"delineable|identified|present|demonstrated|evident|apparent|detected)"
    # "internal echoes, wall and septa could not be assessed": a list of features not evaluable,
    # within its line ("Flow could not be assessed." on the next line denies nothing above it)
    rf"|^(?:(?:{_GAP}|,)+(?!with\b|but\b)\w+){{0,4}}?{_GAP}(?:could|can)\s*not\s+be\s+"
    r"(?:assessed|evaluated|characteri[sz]ed|seen|visuali[sz]ed|confirmed)"
    # A template field answered in brackets, its label perhaps qualified ("Washout
    # (nonperipheral): [No]", "Threshold growth: [N/A, no prior]"): not applicable states no
    # feature either.
    r"|^\s*(?:\([^()\n]{0,40}\)\s*)?[:=]\s*[\[(]?\s*(?:no|none|absent|negative|nil|n/?a|"
    r"not\s+applicable)\b",
    re.IGNORECASE,
)
# A new clause with a subject of its own after a comma or "and" ("without cystic areas, and its
# outer contour is smooth", "no calcification, the margins are lobulated"): a negation before it
# does not reach past it.
_NEW_CLAUSE = re.compile(
    r",\s*(?:(?:and|or|but)\s+)?(?:it|its|the|this|these|there|they)\b"
    r"|\band\s+(?:it|its|there|they)\b",
    re.IGNORECASE,
)
_ASIDE = re.compile(r"\([^()]*\)")
# A checklist's option left unticked: "[ ]" and the option's words up to the term.
_UNCHECKED = re.compile(r"\[\s\][^\[\]\n]*$")
# A negated list closed by its "or" and then a comma ("without lobulation or extension,
# wider-than-tall"): what follows the comma is the next item of the sentence, not the list's.
_LIST_CLOSED = re.compile(r"\b(?:or|nor)\b[^,]*,\s*(?!(?:or|nor|and)\b)\S", re.IGNORECASE)
_AFFIRMED_AFTER = re.compile(
    r"^[\s:,]{0,3}(?:(?:is|are|was|were)\s+)?(?:present|seen|noted|identified|positive|\+)",
    re.IGNORECASE,
)
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_WORD_NUMBER = rf"(?:(?:{_TENS})(?:[- ](?:{_ONES}))?|{_TEENS}|{_ONES})"
_NUMBER = rf"(?:\d+(?:\.\d+)?|{_WORD_NUMBER})"
# A prior cue written after the size, perhaps after its restated mean in brackets ("measured
# 8 x 6 mm (mean 7 mm) previously and now 11 x 9 mm"), or the year of the examination that
# measured it ("10 x 5 mm (11 x 5 mm in 2022)"), or how long ago ("It measured 10 mm five
# months ago"); after a comma it starts a new item ("13 mm, previously 8 mm") and says nothing
# of the size before it.
_EXAMINATION = r"(?:study|exam\w*|scan|CT|MRI|imaging|ultrasound|US|screen\w*)"
_AGO = rf"(?:{_NUMBER}|a|an|one)[- ](?:week|wk|month|mo|year|yr)s?[- ](?:ago|earlier|before)"
_PRIOR_AFTER = re.compile(
    r"\s*\)?\s*(?:\([^()]*\)\s*)?(?:(?:mean|average)\s+(?:diameter|size)\s+)?"
    r"(?:previously|formerly|at that time"
    # "on the previous study", "on last year's screening CT", "on the MRI of five months ago"
    r"|(?:in|on|at)\s+(?:the\s+)?(?:previous|prior|earlier|last|preceding)"
    rf"(?:\s+(?:year|month)'?s)?\s+(?:[\w-]+\s+)?{_EXAMINATION}"
    rf"|(?:in|on|at)\s+(?:the|an?)\s+{_EXAMINATION}\s+(?:of|from)\s+(?:{_AGO}|(?:19|20)\d\d)"
    r"|(?:in|on)\s+(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w*\s+)?(?:19|20)\d\d"
    rf"|{_AGO})\b",
    re.IGNORECASE,
)
_UNIT = r"(?:mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)"
# A distance from a landmark after a number ("4 cm from the nipple", "3 cm FN"): a location.
_LANDMARKS = r"(?:nipple|areola|skin(?: surface)?|chest wall|pectoralis)"
_DISTANCE_AFTER = re.compile(rf"\s*(?:from\s+(?:the\s+)?{_LANDMARKS}|FN|FTN|FFN)\b", re.IGNORECASE)
_BY = r"\s*(?:x|×|by|\*)\s*"
MEASUREMENT = re.compile(
    rf"(?<![\w.])(?P<a>{_NUMBER})\s*(?P<ua>{_UNIT})?"
    rf"(?:{_BY}(?P<b>{_NUMBER})\s*(?P<ub>{_UNIT})?)?"
    rf"(?:{_BY}(?P<c>{_NUMBER})\s*(?P<uc>{_UNIT})?)?(?![\w])",
    re.IGNORECASE,
)
_MEAN = re.compile(
    rf"\b(?:mean|average)(?: (?:diameter|size|dimension))?(?: of)?[:\s]*"
    rf"(?P<n>{_NUMBER})\s*(?P<u>{_UNIT})"
    rf"|(?P<n2>{_NUMBER})\s*(?P<u2>{_UNIT}) (?:in )?(?:mean|average) (?:diameter|size)",
    re.IGNORECASE,
)
_PART = r"(?:solid (?:[a-z]+ )?(?:component|part|portion|element|core|centre|center)|(?-i:SC))"
_SIZE = rf"{_NUMBER}(?:{_BY}{_NUMBER})?\s*{_UNIT}"
_SOLID_PART = re.compile(
    # Not across a closing bracket: "(GGN with solid component) of 12 x 10 mm" is the total.
    rf"{_PART}[^.;\d)]{{0,60}}?(?P<m>{_SIZE})|(?P<m2>{_SIZE})\s+{_PART}",
    re.IGNORECASE,
)
# The present examination named again after a prior size ("previously 8 mm, now 13 mm",
# "7 mm on the last screen and currently 9 mm", "increased from 11 mm to 18 mm"): the prior
# context ends there. Grammar of time, not a feature term, so it lives beside the other
# sentence rules rather than in the lexicon.
_NOW = re.compile(
    r"\b(?:now|currently|presently|today|at present|at this time|"
    r"(?:on|at|in) (?:the |this )?(?:current|present|today'?s) (?:study|exam\w*|scan|imaging)|"
    r"(?<!compared )(?<!similar )to(?=\s*$))\b",
    re.IGNORECASE,
)
# A size restated right after another as its mean ("7 x 6 mm, mean 6.5 mm"): the same
# examination's size, so it is prior exactly when the size it restates is.
_RESTATED = re.compile(
    r"\s*[,(;]?\s*(?:i\.e\.\s*|that is\s*)?(?:mean|average)(?: (?:diameter|size|dimension))?"
    r"(?: of)?\s*[:=]?\s*",
    re.IGNORECASE,
)
_NUMBER_WORDS = {"a": 1, "single": 1}
_VALUES = {w: i + 1 for i, w in enumerate(_ONES.split("|"))}
_VALUES |= {w: i + 10 for i, w in enumerate(_TEENS.split("|"))}
_VALUES |= {w: (i + 2) * 10 for i, w in enumerate(_TENS.split("|"))}


def number_value(word: str) -> float:
    """'12', '1.5', 'twelve', 'twenty-five' -> the number."""
    word = word.lower()
    if word[0].isdigit():
        return float(word)
    return float(sum(_VALUES[part] for part in re.split(r"[- ]", word)))


@dataclass(frozen=True)
class Unit:
    """A sentence (or a line of a terse report): [start, end) in the report text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Measurement:
    """A size in millimetres (every dimension) with its span; `prior` when it describes a
    previous examination ("previously 6 mm")."""

    dims_mm: tuple[float, ...]
    start: int
    end: int
    prior: bool = False

    @property
    def max_mm(self) -> float:
        return max(self.dims_mm)

    @property
    def mean2_mm(self) -> float:
        """Lung-RADS: the mean of the long and short axis, the first two dimensions as written
        (measured on one image; a third is the craniocaudal extent)."""
        dims = self.dims_mm[:2]
        return round(sum(dims) / len(dims), 1)


@lru_cache(maxsize=64)
def _lower_case_writer(text: str) -> bool:
    """A report whose every line starts in lower case ("us thyroid / right lobe 15 mm ..."): its
    writer does not capitalise, so a line starting in lower case is no sign of a hard wrap."""
    starts = [line.lstrip()[:1] for line in text.splitlines() if line.strip()]
    return len(starts) > 1 and not any(c.isupper() for c in starts)


def wrapped(text: str, start: int, end: int) -> bool:
    """A single line break inside a sentence of hard-wrapped text: a long line that does not end
    a sentence, followed by a line that starts in lower case ("an 8 mm oval\nmass with..."), or
    by an acronym that is not a label when the line ends mid-phrase in lower case ("moderately
    hypointense\nADC.", "on the\nDWI images")."""
    if text[start:end].count("\n") != 1 or end >= len(text) or _lower_case_writer(text):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start:start].rstrip()
    lower = text[end].islower() or (text[end].isdigit() and not _LIST_ITEM.match(text, end))
    acronym = bool(_ACRONYM_GOES_ON.match(text, end)) and line[-1:].islower()
    if not (lower or acronym):
        return False
    next_line = text[end : text.find("\n", end) if "\n" in text[end:] else len(text)]
    if "|" in line or "|" in next_line:
        return False  # table rows are lines of their own
    return len(line) >= WRAP_WIDTH and not line.endswith((".", ":", ";", "?", "!"))


def units(text: str, start: int, end: int) -> list[Unit]:
    """The sentences of text[start:end], with offsets into `text`."""
    cuts = [
        (m.start(), m.end())
        for m in _SENTENCE_END.finditer(text, start, end)
        if not wrapped(text, m.start(), m.end())
        and not _ITEM_NUMBER.fullmatch(text, text.rfind("\n", 0, m.start()) + 1, m.start())
    ]
    cuts += [
        (m.start(), m.end())
        for m in _LOWER_START.finditer(text, start, end)
        if not _ABBREVIATION.search(text[max(start, m.start() - 8) : m.start()])
    ]
    out, position = [], start
    for cut_start, cut_end in sorted(cuts):
        if cut_start < position:
            continue
        if text[position:cut_start].strip():
            out.append(Unit(position, cut_start, text[position:cut_start]))
        position = cut_end
    if position < end and text[position:end].strip():
        out.append(Unit(position, end, text[position:end]))
    return out


def clause_start_before(text: str, floor: int, position: int) -> int:
    """Where the clause holding `position` starts (not before `floor`). The search looks one
    character past `position` so a line break can see whether the next line continues."""
    limit = min(len(text), position + 1)
    starts = _LINE_START if _lower_case_writer(text) else _CLAUSE_START
    ends = [m.end() for m in starts.finditer(text, floor, limit) if m.end() <= position]
    return max(ends, default=floor)


def negation_span(lexicon: Lexicon, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of the negation that covers text[start:end], from its cue to the words it
    negates, or None: a cue up to eight words before it in the same clause with no break word
    between ("no washout or capsule", "without APHE"), or a negation right after it ("capsule:
    absent", "washout not seen")."""
    if text[start:end].endswith("+"):
        return None  # "WO+", "caps+": the term written with its own "present"
    if _UNCHECKED.search(text, text.rfind("\n", 0, start) + 1, start):
        return start, end  # "[ ] spongiform  [x] solid": an option left unticked
    following = text[end : end + 60]
    if _lower_case_writer(text):
        following = following.split("\n", 1)[0]  # each line is a sentence: no hard wraps
    after = _NEGATED_AFTER.match(following)
    if after:
        return start, end + after.end()
    clause_start = clause_start_before(text, 0, start)
    asides = sum(len(m.group()) for m in _ASIDE.finditer(text, clause_start, start))
    window_start = max(clause_start, start - 80 - asides)  # an aside does not use up the reach
    # A closed aside in brackets neither negates nor breaks what follows it ("not typical of an
    # endometrioma (no ground-glass echoes with wall foci) or of a dermoid"): blanked out; a
    # size in it still ends the negation ("not present 2022, larger (then 9 mm) = developing").
    window = _ASIDE.sub(lambda m: " " * len(m.group()), text[window_start:start])
    cues = list(lexicon.negation.finditer(window))
    if not cues:
        return None
    between = window[cues[-1].end() :]
    written = text[window_start + cues[-1].end() : start]  # a size in an aside still measures
    if (
        lexicon.negation_break.search(between)
        or _HAS_SIZE.search(written)
        or _NEW_CLAUSE.search(between)
        or _LIST_CLOSED.search(between)
    ):
        return None  # "no washout, but ...", "no X; 12 mm Y", "no X, and its Y": it stops there
    if sum(word.lower() not in _GRAMMAR_WORDS for word in between.split()) > NEGATION_WORDS:
        return None  # the reach counts words that say something: "of a", "or of an" do not
    # "No APHE, washout present": a comma starts a new item that the text then affirms.
    if "," in between and _AFFIRMED_AFTER.match(text[end : end + 40]):
        return None
    return window_start + cues[-1].start(), end


def negated(lexicon: Lexicon, text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is negated (see `negation_span`)."""
    return negation_span(lexicon, text, start, end) is not None


def measurements(lexicon: Lexicon, text: str, start: int, end: int) -> list[Measurement]:
    """Every size with a unit in text[start:end], in millimetres."""
    out = []
    for match in MEASUREMENT.finditer(text, start, end):
        numbers = [match.group(g) for g in ("a", "b", "c") if match.group(g)]
        unit_names = [match.group(g) for g in ("ua", "ub", "uc") if match.group(g)]
        if not unit_names:
            continue
        unit = unit_names[-1].lower()
        factor = 10.0 if unit.startswith("c") else 1.0
        dims = tuple(number_value(n) * factor for n in numbers)
        if _DISTANCE_AFTER.match(text, match.end()):
            continue  # "4 cm from the nipple": where the lesion lies, not its size
        clause = clause_start_before(text, start, match.start())
        near = text[max(clause, match.start() - 20) : match.start()]
        if lexicon.threshold.search(near):
            continue  # "below 10 mm": a threshold, not a size
        context = text[max(clause, match.start() - 60) : match.start()]
        prior = _prior(lexicon, near, context)
        if out and _RESTATED.fullmatch(text, out[-1].end, match.start()):
            prior = out[-1].prior  # "previously 5 x 4 mm, mean 4.5 mm": the same size's mean
        if _PRIOR_AFTER.match(text, match.end()):
            prior = True  # "measured 8 x 6 mm (mean 7 mm) previously": the cue after the size
            if out and _RESTATED.fullmatch(text, out[-1].end, match.start()):
                out[-1] = replace(out[-1], prior=True)
        out.append(Measurement(dims, match.start(), match.end(), prior))
    return out


def _prior(lexicon: Lexicon, near: str, context: str) -> bool:
    """Whether a size describes an earlier examination: a prior cue just before it or a prior
    context earlier in its clause, unless the present examination is named after that cue
    ("previously 8 mm, now 13 mm": 13 mm is today's size)."""
    offset = len(context) - len(near)
    ends = [offset + m.end() for m in lexicon.prior.finditer(near)]
    ends += [m.end() for m in lexicon.prior_context.finditer(context)]
    if not ends:
        return False
    return not any(m.start() >= max(ends) for m in _NOW.finditer(context))


_UNIT_MONTHS = {"w": 12 / 52, "m": 1.0, "y": 12.0}  # by the unit's first letter
# The time since the prior examination: "compared with the MRI of five months ago", "CT 3
# months earlier", "an interval of 4 months", "over the last six months".
_INTERVAL = re.compile(
    rf"\b(?:(?P<n>{_NUMBER}|a|an|one)[- ](?P<u>week|wk|month|mo|year|yr)s?[- ]?"
    rf"(?:ago|earlier|prior|previously|before)"
    rf"|(?:interval|period) of (?P<n2>{_NUMBER}|a|an|one)[- ]"
    rf"(?P<u2>week|wk|month|mo|year|yr)s?|(?:over|in|within) the (?:last|past|preceding) "
    rf"(?P<n3>{_NUMBER}|a|an|one)?[- ]?(?P<u3>week|wk|month|mo|year|yr)s?)\b",
    re.IGNORECASE,
)
_IMAGING_CONTEXT = re.compile(
    r"\b(?:compar\w*|prior|previous|last|earlier|\w*CT|MRI?|ultrasound|US|scan|study|exam\w*|"
    r"imaging|interval|since)\b",
    re.IGNORECASE,
)


def interval_months(text: str) -> float | None:
    """The time between the prior examination and this one where the report states it, in
    months (the shortest such statement on a line that speaks of imaging), else None."""
    found = []
    for match in _INTERVAL.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        context = text[max(line_start, match.start() - 80) : match.end()]
        if not _IMAGING_CONTEXT.search(context):
            continue  # "diagnosed three years ago": not an examination's date
        n = match.group("n") or match.group("n2") or match.group("n3") or "one"
        unit = (match.group("u") or match.group("u2") or match.group("u3")).lower()
        count = 1.0 if n.lower() in {"a", "an", "one"} else number_value(n)
        found.append(count * _UNIT_MONTHS[unit[0]])
    return min(found, default=None)


def mean_diameters(text: str, start: int, end: int) -> list[Measurement]:
    """Every stated mean diameter ("mean diameter 7.5 mm"), which Lung-RADS uses as it is."""
    out = []
    for match in _MEAN.finditer(text, start, end):
        group = "n" if match.group("n") else "n2"
        unit = match.group("u") or match.group("u2")
        factor = 10.0 if unit.lower().startswith("c") else 1.0
        size = number_value(match.group(group)) * factor
        out.append(Measurement((size,), match.start(group), match.end()))
    return out


def mean_diameter(text: str, start: int, end: int) -> Measurement | None:
    """The first stated mean diameter."""
    return next(iter(mean_diameters(text, start, end)), None)


def solid_part(text: str, start: int, end: int) -> Measurement | None:
    """The size of a part-solid nodule's solid component, where the text gives one."""
    match = _SOLID_PART.search(text, start, end)
    if not match:
        return None
    group = "m" if match.group("m") else "m2"
    inner = MEASUREMENT.search(match.group(group))
    if not inner:
        return None
    numbers = [inner.group(g) for g in ("a", "b", "c") if inner.group(g)]
    unit = next(inner.group(g) for g in ("uc", "ub", "ua") if inner.group(g)).lower()
    factor = 10.0 if unit.startswith("c") else 1.0
    dims = [number_value(n) * factor for n in numbers][:2]
    return Measurement((round(sum(dims) / len(dims), 1),), match.start(group), match.end(group))


def count_word(word: str) -> int | None:
    """'4' -> 4, 'two' -> 2, 'a' -> 1; None for anything else."""
    if word.isdigit():
        return int(word)
    if word.lower() in _VALUES:
        return int(_VALUES[word.lower()])
    return _NUMBER_WORDS.get(word.lower())
