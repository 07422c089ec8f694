"""Fuzzing the HTML text extraction (issue 11, item 7): tag soup in, visible text out.

Properties:
- any string: `html_to_text` returns text or refuses with HtmlRefused (the reader's input
  error), in bounded time;
- a marker inside hidden content (display:none, visibility:hidden, the hidden attribute,
  script, style, head, template, noscript, a comment) never reaches the text, whatever
  well-formed soup comes before it and whatever (unterminated constructs too) comes after;
- soup with nothing hidden keeps every word it shows, in order.

"Well-formed" soup closes every tag and comment it opens (elements need not be closed:
unclosed and misnested ones are the point), so the hidden element really starts where it is
put; a browser would read it the same way. Soup is built from token pools by programs (see
tests/test_fuzz_support.py): cheap to draw, and it shrinks to few, early tokens.

The HTML reader's 10,000 examples are shared by the three tests.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from radlite_fhir.readers.html_text import HtmlRefused, html_to_text
from tests.test_fuzz_support import (
    MARKER,
    Tally,
    fuzz_settings,
    hostile_pool,
    note_input,
    op,
    ops,
    tallies,
    tally,
)

pytestmark = pytest.mark.fuzz

VISIBLE_TAGS = [
    "div", "p", "span", "b", "i", "a", "td", "tr", "table", "li", "ul", "pre", "br", "h1", "h2",
    "img", "hr", "title", "textarea", "body", "html", "font", "x-y", "svg", "math", "section",
]  # fmt: skip
ATTRIBUTES = ["class", "id", "title", "href", "alt", "data-x", "lang", "onclick", "width", "s"]
VALUE_PARTS = [*"ab <>/=&;# \t\n'\"", "\u00a0", "&amp;", "&lt;", "é", "display:none"]
ENTITIES = ["&amp;", "&lt;", "&#60;", "&#x3c;", "&nbsp;", "&bogus;", "&", "&#", "&#x110000;"]
CLOSED_OTHER = ["<!-- note -->", "<!---->", "<!DOCTYPE html>", "<?xml version='1.0'?>",
                "<![CDATA[x]]>", "</>", "<!>", "<br/>", "<p/>", "</ p>",
                "<!-- a -- b -->"]  # fmt: skip
UNTERMINATED = ["<!--", "<a ", '<a title="', "<a title='", "<script>", "<style>", "</", "<!",
                "<?", "<![CDATA[", "<", "<script", "</script", "<a b=", "<<<", "<a/", "<!-",
                "-->", "<div hidden>", '<p style="display:none">', "<head>"]  # fmt: skip


_UNSAFE_UNQUOTED = re.compile(r"""[\s>'"=`<]""")  # what would end or break an unquoted value


def _attribute(rng: random.Random) -> str:
    name = rng.choice(ATTRIBUTES)
    if rng.random() < 0.2:
        return f" {name}"  # no value
    value = "".join(rng.choice(VALUE_PARTS) for _ in range(rng.randrange(6)))
    quote = rng.choice(['"', "'", ""])
    if quote:
        return f" {name}={quote}{value.replace(quote, '')}{quote}"
    return f" {name}={_UNSAFE_UNQUOTED.sub('', value) or 'v'}"


def _visible_tokens(seed: int, size: int) -> list[str]:
    """Tokens after each of which the tokenizer is back in data state (tags and comments
    closed), none of them hiding: start and end tags with attributes, text, entities."""
    rng = random.Random(seed)
    texts = [t.replace("<", "< ") for t in hostile_pool(seed, size // 3)]
    out = ["", " ", "x", *CLOSED_OTHER, *ENTITIES]
    while len(out) < size:
        roll = rng.random()
        name = rng.choice(VISIBLE_TAGS)
        name = name.upper() if rng.random() < 0.2 else name
        if roll < 0.4:
            attributes = "".join(_attribute(rng) for _ in range(rng.randrange(4)))
            out.append(f"<{name}{attributes}{rng.choice(['', ' /', '/'])}>")
        elif roll < 0.6:
            out.append(f"</{name}{rng.choice(['', ' ', ' x=1'])}>")
        else:
            out.append(rng.choice(texts))
    return out


VISIBLE = _visible_tokens(seed=7, size=400)
ANY = [*VISIBLE, *UNTERMINATED, *hostile_pool(seed=8, size=100)]
HIDING_STYLES = ["display:none", "display: none", "DISPLAY:NONE", "visibility:hidden",
                 "color:red; display:none !important", "Visibility : Hidden"]  # fmt: skip
# (name that must not appear inside, opener), for every way of hiding.
HIDERS = [
    *((tag, f"<{tag} style={q}{style}{q}>") for tag in ("span", "div", "p", "td", "b")
      for style in HIDING_STYLES for q in ('"', "'")),
    *((tag, form.format(tag=tag)) for tag in ("div", "span", "ul", "table")
      for form in ("<{tag} hidden>", "<{tag} HIDDEN class=x>", '<{tag} hidden="hidden">')),
    *((tag.lower(), f"<{tag}>") for tag in ("head", "template", "noscript", "Script", "STYLE")),
    ("!--", "<!--"),
]  # fmt: skip
CLOSERS = {"script": ["</script>", "</SCRIPT >", "</script\n>"], "style": ["</style>", "</Style>"]}


def _soup(pool: list[str], program: str) -> str:
    return "".join(pool[op(char) % len(pool)] for char in program)


def _hidden(program: str) -> str:
    """Hidden content holding the marker, as the program says: its first character picks the
    way of hiding, the second where the marker goes, the rest the soup inside."""
    name, opener = HIDERS[op(program[0]) % len(HIDERS)] if program else HIDERS[0]
    inside = [VISIBLE[op(c) % len(VISIBLE)] for c in program[2:]]
    if name == "!--":
        body = "".join(inside)
        while "-->" in body:
            body = body.replace("-->", "")
        return f"<!--{body}{MARKER}{body}-->"
    if name in CLOSERS:  # raw text: anything but its end tag
        body = "".join(inside).replace("</", "<")
        return f"{opener}{body}{MARKER}{CLOSERS[name][op(program[1:2] or 'x') % 2]}"
    # No tag of the hiding element's name inside (it would close it early), no <body>
    # (which ends an open <head>).
    inside = [t for t in inside if not re.match(rf"</?({name}|body)[\s/>]", t, re.IGNORECASE)]
    at = op(program[1]) % (len(inside) + 1) if len(program) > 1 else 0
    closer = [f"</{name}>", f"</{name.upper()}>", ""][len(program) % 3]
    return f"{opener}{''.join([*inside[:at], MARKER, *inside[at:]])}{closer}"


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> Iterator[dict[str, Tally]]:
    with tallies(request) as found:
        yield found


def _extract(markup: str) -> str | None:
    """The text, or None when refused (more than MAX_TAGS tags)."""
    try:
        return html_to_text(markup)
    except HtmlRefused:
        return None


def test_any_string(summary: dict[str, Tally]) -> None:
    count = tally(summary, "html: any string")

    @fuzz_settings(3_000)
    @given(program=ops(24), repeat=st.integers(0, 100), text=st.text(max_size=30))
    @example(program="", repeat=20_000, text="<a ")  # html.parser: 33 s (issue 11)
    @example(program="", repeat=60_000, text="<")  # over MAX_TAGS: refused
    @example(program="", repeat=20_000, text="<!--<a ")
    @example(program="", repeat=1, text="<a title='" + "x" * 100_000)
    def check(program: str, repeat: int, text: str) -> None:
        markup = (_soup(ANY, program) + text) * max(repeat, 1)
        note_input(program=program, repeat=repeat, text=text)
        with count.timed():
            extracted = _extract(markup)
        assert extracted is None or "\u00a0" not in extracted

    check()
    count.done(fuzz_settings(3_000).max_examples)


def test_hidden_marker_never_shows(summary: dict[str, Tally]) -> None:
    count = tally(summary, "html: hidden content")

    @fuzz_settings(5_000)
    @given(before=ops(12), hidden=ops(8), after=ops(12), tail=st.text(max_size=12))
    @example(before="", hidden="", after="", tail="<a title='")
    def check(before: str, hidden: str, after: str, tail: str) -> None:
        markup = _soup(VISIBLE, before) + _hidden(hidden) + _soup(ANY, after) + tail
        note_input(before=before, hidden=hidden, after=after, tail=tail)
        with count.timed():
            extracted = _extract(markup)
        assert extracted is None or MARKER not in extracted

    check()
    count.done(fuzz_settings(5_000).max_examples)


WORDS = ["alpha", "nodule", "x1", "BIRADS4", "mm", "e"]


def test_visible_words_all_show(summary: dict[str, Tally]) -> None:
    count = tally(summary, "html: visible words")

    @fuzz_settings(2_000)
    @given(program=ops(24))
    def check(program: str) -> None:
        """Every third token is a word (space around it); the others are visible soup."""
        words = [WORDS[op(c) % len(WORDS)] for c in program[2::3]]
        parts = [
            f" {WORDS[op(c) % len(WORDS)]} " if n % 3 == 2 else VISIBLE[op(c) % len(VISIBLE)]
            for n, c in enumerate(program)
        ]
        note_input(program=program)
        with count.timed():
            extracted = _extract("".join(parts))
        assert extracted is not None
        position = 0
        for word in words:
            found = extracted.find(word, position)
            assert found >= 0, (word, extracted)
            position = found + len(word)

    check()
    count.done(fuzz_settings(2_000).max_examples)
