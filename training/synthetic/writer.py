"""The report writer: sentences per section, entities as written, and the span of every feature.

A feature's words are wrapped in invisible marks as they are written (`Writer.feat`); `render`
lays the sections out in the report's style, then removes the marks and records where each
feature's words ended up. So a feature question's quotation is, by construction, an exact
substring of the report that states the value, whatever heading set, spelling or lesion layout
was drawn.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from training.synthetic.styles import SECTIONS, Layout, LesionLayout, Style, british

_OPEN, _MID, _CLOSE = "\x01", "\x02", "\x03"
_MARK = re.compile(f"{_OPEN}(\\d+){_MID}(.*?){_CLOSE}", re.DOTALL)
_FIRST = re.compile(f"^((?:{_OPEN}\\d+{_MID})?)(\\w)")
MAX_QUOTE_CHARS = 120  # radlite_fhir.tasks.rads_features grammar admits this many characters


@dataclass(frozen=True)
class Part:
    """One feature of one lesion as the report can say it: the record's field and value, the
    label a template or table uses, the short value words, and the words of a prose sentence
    (negations included: "no echogenic foci")."""

    field: str
    value: Any
    label: str
    short: str
    prose: str


@dataclass(frozen=True)
class Stated:
    """Where the finished report states one feature value of one lesion."""

    lesion: int
    field: str
    value: Any
    start: int
    end: int
    text: str


@dataclass
class Writer:
    """Collects sentences per section, the entities each mentions and the feature marks."""

    rng: random.Random
    style: Style
    sections: dict[str, list[str]] = field(default_factory=dict)
    entities: list[tuple[str, str]] = field(default_factory=list)
    marks: list[tuple[int, str, Any]] = field(default_factory=list)

    def spell(self, text: str) -> str:
        return british(text) if self.style.british else text

    def anat(self, text: str) -> str:
        text = self.spell(text)
        self.entities.append(("anatomy", text))
        return text

    def obs(self, text: str, status: str = "present") -> str:
        text = self.spell(text)
        self.entities.append((f"observation_{status}", text))
        return text

    def feat(self, lesion: int, name: str, value: Any, words: str) -> str:
        """`words` marked as stating `name` = `value` of lesion `lesion` (0-based)."""
        if "\n" in words or '"' in words or len(words) > MAX_QUOTE_CHARS:
            return words  # the question grammar could not quote it: written, not asked
        self.marks.append((lesion, name, value))
        return f"{_OPEN}{len(self.marks) - 1}{_MID}{words}{_CLOSE}"

    def say(self, section: str, sentence: str) -> None:
        self.sections.setdefault(section, []).append(self.spell(sentence))

    def pick(self, options: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(list(options))

    def size(self, mm: float, dims: int = 1, unit: str | None = None) -> str:
        """A size in the report's unit; extra dimensions smaller than the first."""
        unit = unit or self.style.unit
        values = [mm] + [round(mm * self.rng.uniform(0.55, 0.95), 1) for _ in range(dims - 1)]
        words = [f"{v / 10:.1f}" for v in values] if unit == "cm" else [f"{v:g}" for v in values]
        if not self.style.terse and self.rng.random() < 0.1:
            unit = {"cm": "centimeters", "mm": "millimeters"}[unit]  # spelled out, as dictated
        return " x ".join(words) + f" {unit}"


def capital(text: str) -> str:
    """The first letter in capitals, also when the text starts with a feature mark."""
    return _FIRST.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _structured_findings(lines: list[str]) -> bool:
    return any(line.startswith(("|", "  ")) or line.endswith(":") for line in lines)


def _body(writer: Writer, key: str) -> str:
    sentences = writer.sections[key]
    if key == "findings" and (
        _structured_findings(sentences) or writer.style.lesion_layout is not LesionLayout.PROSE
    ):
        return "\n".join(sentences)
    if key == "impression" and writer.style.numbered_impression and len(sentences) > 1:
        return "\n".join(f"{n}. {s}" for n, s in enumerate(sentences, 1))
    if key == "findings" and not writer.style.terse and writer.rng.random() < 0.5:
        return "\n".join(sentences)
    return " ".join(sentences)


def _layout(writer: Writer, keys: list[str]) -> str:
    institution = writer.style.institution
    rng = writer.rng
    if institution.layout is Layout.NONE:
        # Dictation: the exam as a first line, the rest run on (findings, then the opinion).
        head = writer.sections.get("exam", [])
        rest = [_body(writer, k) for k in keys if k != "exam"]
        lines = [" ".join(head)] if head else []
        lines.append(" ".join(r.replace("\n", " ") for r in rest))
        return "\n".join(lines)
    parts: list[str] = []
    folded: list[str] = []
    for key in keys:
        headings = institution.headings.get(key)
        body = _body(writer, key)
        if headings is None:
            if key == "exam":
                parts.append(body.upper() if rng.random() < 0.5 else body)
            elif key == "comparison":
                folded.append(_compared(body))
            else:
                folded.append(body)  # folded into the findings section
            continue
        if key == "findings" and folded:
            body = " ".join(folded) + ("\n" if "\n" in body else " ") + body
            folded = []
        heading = rng.choice(headings)
        if institution.layout is Layout.BLOCK:
            parts.append(f"{heading}:\n{body}" if not heading.isupper() else f"{heading}\n{body}")
        else:
            parts.append(f"{heading}: {body}")
    return "\n\n".join(parts)


def _compared(body: str) -> str:
    """A comparison with no heading of its own, as a sentence of the findings."""
    if body.lower().startswith("none"):
        return "No prior imaging for comparison."
    return f"Compared with {body[0].lower()}{body[1:]}"


@dataclass(frozen=True)
class Rendered:
    text: str
    without_impression: str
    stated: tuple[Stated, ...]


def _unmark(marked: str, writer: Writer) -> tuple[str, tuple[Stated, ...]]:
    out: list[str] = []
    stated: list[Stated] = []
    position = 0
    length = 0
    for match in _MARK.finditer(marked):
        before = marked[position : match.start()]
        out.append(before)
        length += len(before)
        words = match.group(2)
        lesion, name, value = writer.marks[int(match.group(1))]
        stated.append(Stated(lesion, name, value, length, length + len(words), words))
        out.append(words)
        length += len(words)
        position = match.end()
    out.append(marked[position:])
    text = "".join(out)
    if any(c in text for c in (_OPEN, _MID, _CLOSE)):
        raise ValueError("a feature mark was nested or cut")
    return text, tuple(stated)


def render(writer: Writer) -> Rendered:
    """The report in its style, the same report without its impression, and the spans."""
    keys = [k for k in SECTIONS if writer.sections.get(k)]
    state = writer.rng.getstate()
    marked = _layout(writer, keys)
    writer.rng.setstate(state)  # same headings for the version without an impression
    without = _layout(writer, [k for k in keys if k != "impression"])
    text, stated = _unmark(marked, writer)
    plain, _ = _unmark(without, writer)
    return Rendered(text, plain, stated)
