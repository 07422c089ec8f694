"""Lesions written in the report's layout: prose sentences, "Observation 1:" blocks, a table,
lettered items with bullets, or one line per feature (questions, "Field = value", leaders).

Every system describes a lesion the same way (a noun, a location, its feature parts, notes on
priors), so the layouts are written once here and each feature's words are marked as they are
written, whichever layout was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.synthetic.styles import LesionLayout
from training.synthetic.writer import Part, Writer, capital


@dataclass(frozen=True)
class Note:
    """A sentence about the lesion around one feature's words ("It {} since 2022.")."""

    frame: str
    part: Part


@dataclass(frozen=True)
class Lesion:
    """One lesion to write: its noun and location (each a Part when it states a feature: the
    O-RADS lesion type, the prostate zone), its feature parts, and sentences about priors."""

    noun: str | Part
    location: str | Part
    parts: tuple[Part, ...]
    notes: tuple[Note | str, ...] = ()
    plural: bool = False


def and_join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _words(w: Writer, index: int, item: str | Part, short: bool) -> str:
    if isinstance(item, Part):
        return w.feat(index, item.field, item.value, item.short if short else item.prose)
    return item


def _location(w: Writer, index: int, lesion: Lesion, short: bool) -> str:
    return _words(w, index, lesion.location, short)


def _note_parts(lesion: Lesion) -> list[Part]:
    return [n.part for n in lesion.notes if isinstance(n, Note)]


def _all_parts(lesion: Lesion) -> list[Part]:
    noun = [lesion.noun] if isinstance(lesion.noun, Part) else []
    return [*noun, *lesion.parts, *_note_parts(lesion)]


def _adjective(fragment: str) -> bool:
    return not fragment.startswith(("with ", "no ", "without ", "showing ", "and "))


def prose(w: Writer, index: int, lesion: Lesion) -> None:
    size = next((p for p in lesion.parts if p.field == "size_mm"), None)
    others = [p for p in lesion.parts if p is not size]
    marked = [w.feat(index, p.field, p.value, p.prose) for p in others]
    adjectives = [m for m, p in zip(marked, others, strict=True) if _adjective(p.prose)]
    rest = [m for m, p in zip(marked, others, strict=True) if not _adjective(p.prose)]
    size_words = w.feat(index, size.field, size.value, size.short) if size else ""
    location = _location(w, index, lesion, short=w.style.terse)
    noun = _words(w, index, lesion.noun, short=False)
    article = "" if lesion.plural else "a "
    if w.style.terse:
        head = f"{size_words} {noun}".strip()
        w.say("findings", f"{capital(location)}: {', '.join([head, *marked])}.")
    else:
        form = w.rng.randrange(3)
        if form == 0:
            verb = w.style.measures if w.style.measures != "of" else "measuring"
            sized = f", {verb} {size_words}" if size else ""
            tail = f", {and_join(marked)}" if marked else ""
            be = "are" if lesion.plural else "is"
            w.say("findings", f"There {be} {article}{noun} in the {location}{sized}{tail}.")
        elif form == 1:
            sized = f"{size_words} " if size else ""
            be = "are" if lesion.plural else "is"
            w.say("findings", f"In the {location} there {be} {article}{sized}{noun}.")
            pronoun = "They are" if lesion.plural else "It is"
            if adjectives:
                more = f", {and_join(rest)}" if rest else ""
                w.say("findings", f"{pronoun} {and_join(adjectives)}{more}.")
            elif rest:
                w.say("findings", f"{pronoun} seen {and_join(rest)}.")
        else:
            sized = f"{size_words} " if size else ""
            listing = f": {and_join(marked)}" if marked else ""
            be = "are" if lesion.plural else "is"
            head = capital(f"{article}{sized}{noun}")
            w.say("findings", f"{head} {be} present in the {location}{listing}.")
    _notes(w, index, lesion)


def _notes(w: Writer, index: int, lesion: Lesion) -> None:
    for note in lesion.notes:
        if isinstance(note, str):
            w.say("findings", note)
        else:
            p = note.part
            w.say("findings", note.frame.format(w.feat(index, p.field, p.value, p.prose)))


def template(w: Writer, index: int, lesion: Lesion, title: str) -> None:
    w.say("findings", f"{title} {index + 1}:")
    location = _location(w, index, lesion, short=True)
    w.say("findings", f"  Location: {location}")
    for p in _all_parts(lesion):
        w.say("findings", "  " + w.feat(index, p.field, p.value, f"{p.label}: {p.short}"))
    for note in lesion.notes:
        if isinstance(note, str):
            w.say("findings", f"  Comment: {note}")


def lettered(w: Writer, index: int, lesion: Lesion, title: str) -> None:
    """ "Nodule A — right lobe, lower pole" over "  - solid", "  - 14 mm"."""
    location = _location(w, index, lesion, short=True)
    w.say("findings", f"{title} {chr(ord('A') + index)} — {location}")
    for p in _all_parts(lesion):
        w.say("findings", "  - " + w.feat(index, p.field, p.value, p.short))
    _string_notes(w, lesion, "  - ")


# One line per feature in the forms a template writes them: a question answered, a
# "Field = value" export, a dotted-leader checklist.
_LINE_FORMS = {
    LesionLayout.QUESTIONS: "{label}? {value}.",
    LesionLayout.FIELDS: "{label} = {value}",
    LesionLayout.LEADERS: "{label} .......... {value}",
}


def field_lines(w: Writer, index: int, lesion: Lesion, title: str) -> None:
    form = _LINE_FORMS[w.style.lesion_layout]
    location = _location(w, index, lesion, short=True)
    w.say("findings", form.format(label=f"{title} {index + 1}", value=location))
    for p in _all_parts(lesion):
        w.say(
            "findings", form.format(label=p.label, value=w.feat(index, p.field, p.value, p.short))
        )
    _string_notes(w, lesion, "")


def _string_notes(w: Writer, lesion: Lesion, prefix: str) -> None:
    for note in lesion.notes:
        if isinstance(note, str):
            w.say("findings", f"{prefix}{note}")


def table(w: Writer, lesions: list[Lesion], title: str) -> None:
    labels: list[str] = []
    for lesion in lesions:
        for p in _all_parts(lesion):
            if p.label not in labels:
                labels.append(p.label)
    w.say("findings", "| " + " | ".join([title, "Location", *labels]) + " |")
    w.say("findings", "|" + "---|" * (len(labels) + 2))
    for index, lesion in enumerate(lesions):
        by_label = {p.label: p for p in _all_parts(lesion)}
        cells = [str(index + 1), _location(w, index, lesion, short=True)]
        for label in labels:
            p = by_label.get(label)
            cells.append(w.feat(index, p.field, p.value, p.short) if p else "-")
        w.say("findings", "| " + " | ".join(cells) + " |")
    for lesion in lesions:
        for note in lesion.notes:
            if isinstance(note, str):
                w.say("findings", note)


def write_lesions(w: Writer, lesions: list[Lesion], title: str) -> None:
    """All lesions in the drawn layout, in index order (the question's lesion numbers)."""
    layout = w.style.lesion_layout
    if layout is LesionLayout.TABLE and len(lesions) > 0:
        table(w, lesions, title)
        return
    for index, lesion in enumerate(lesions):
        if layout is LesionLayout.TEMPLATE:
            template(w, index, lesion, title)
        elif layout is LesionLayout.LETTERED:
            lettered(w, index, lesion, title)
        elif layout in _LINE_FORMS:
            field_lines(w, index, lesion, title)
        else:
            prose(w, index, lesion)
