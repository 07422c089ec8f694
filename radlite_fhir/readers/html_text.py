"""HTML (presentedForm text/html, narrative XHTML) to plain text that keeps line structure.

Block elements become line breaks so that section headings stay at line starts; entities are
decoded. Only what a reader sees is report text: scripts, styles, the head, templates,
comments and elements hidden with `hidden` or `display:none` / `visibility:hidden` are dropped.

Why not `html.parser`: its error recovery re-scans the rest of the document for every
unterminated construct, so "<div>" + "<a " * 20000 (60 kB) takes over a minute, and unclosed
comments, quotes and CDATA sections do the same. This tokenizer follows the HTML5 rule instead:
an unterminated comment, quoted attribute value, tag or raw-text element runs to the end of the
input. Every scan either consumes what it scanned or ends the walk, so time is linear in the
size, and a cap on the number of '<' bounds the per-tag work. Standard library only.
"""

from __future__ import annotations

import html
import re

MAX_TAGS = 50_000  # '<' characters; a report's HTML has a few thousand at most

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "section",
    "header",
    "footer",
    "pre",
    "blockquote",
    "dt",
    "dd",
    "hr",
    "title",
}
_SKIP = {"script", "style", "head", "template", "noscript"}
_RAW_TEXT = {  # content is not markup: it runs to the matching end tag
    name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE) for name in ("script", "style")
}
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}
_TAG_NAME = re.compile(r"[^\s/>]*")
_ATTR_NAME = re.compile(r"[^\s/>][^\s/>=]*")
_UNQUOTED = re.compile(r"[^\s>]*")
_SPACE = re.compile(r"[\s/]*")
_HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _span_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where `pattern`, matched at `pos`, ends (the patterns used so match the empty string)."""
    found = pattern.match(text, pos)
    return found.end() if found is not None else pos


def _is_letter(char: str) -> bool:
    """An ASCII letter: only that after '<' opens a tag (HTML5); "<5 mm", "<µ" are text."""
    return char.isascii() and char.isalpha()


class HtmlRefused(ValueError):
    """The markup is too large to be a report's HTML (more than MAX_TAGS tags)."""


class _Walk:
    """One pass over the markup; collects visible text parts."""

    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.parts: list[str] = []
        self._pre_depth = 0
        self._hidden: str | None = None  # name of the outermost open element that hides
        self._hidden_depth = 0  # open elements of that name inside it, itself included

    def run(self) -> None:
        markup, pos, size = self.markup, 0, len(self.markup)
        while pos < size:
            lt = markup.find("<", pos)
            if lt < 0:
                self._data(markup[pos:])
                return
            self._data(markup[pos:lt])
            following = markup[lt + 1 : lt + 2]
            if markup.startswith("<!--", lt):
                end = markup.find("-->", lt + 4)
                if end < 0:
                    return  # unterminated comment: the rest is comment
                pos = end + 3
            elif following in ("!", "?") or (
                following == "/" and not _is_letter(markup[lt + 2 : lt + 3])
            ):
                end = markup.find(">", lt + 2)  # bogus comment, declaration, `</>`
                if end < 0:
                    return
                pos = end + 1
            elif following == "/":
                name_end = _span_end(_TAG_NAME, markup, lt + 2)
                end = markup.find(">", name_end)
                if end < 0:
                    return
                self._end(markup[lt + 2 : name_end].lower())
                pos = end + 1
            elif _is_letter(following):
                next_pos = self._start_tag(lt)
                if next_pos is None:
                    return
                pos = next_pos
            else:
                self._data("<")  # a '<' that opens nothing is text ("< 5 mm")
                pos = lt + 1

    def _start_tag(self, lt: int) -> int | None:
        """Parse the tag at `lt`; the position after it, or None when the input ends inside
        it (or inside the raw-text element it opens)."""
        markup, size = self.markup, len(self.markup)
        start = lt + 1
        name_end = _span_end(_TAG_NAME, markup, start)
        name = markup[start:name_end].lower()
        attrs: dict[str, str] = {}
        i = name_end
        while True:
            i = _span_end(_SPACE, markup, i)
            if i >= size:
                return None
            if markup[i] == ">":
                i += 1
                break
            attr = _ATTR_NAME.match(markup, i)
            if attr is None:  # cannot happen: markup[i] is neither space, '/' nor '>'
                i += 1
                continue
            key, i = attr.group().lower(), attr.end()
            value = ""
            after = _span_end(_SPACE, markup, i)
            if markup[after : after + 1] == "=":
                i = after + 1
                while i < size and markup[i].isspace():
                    i += 1
                quote = markup[i : i + 1]
                if quote in ("'", '"'):
                    close = markup.find(quote, i + 1)
                    if close < 0:
                        return None
                    value, i = markup[i + 1 : close], close + 1
                else:
                    end = _span_end(_UNQUOTED, markup, i)
                    value, i = markup[i:end], end
            attrs.setdefault(key, value)
        self._start(name, attrs)
        if name in _RAW_TEXT:
            closing = _RAW_TEXT[name].search(markup, i)
            end = markup.find(">", closing.start()) if closing is not None else -1
            if end < 0:
                return None
            self._end(name)
            return end + 1
        return i

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        if self._hidden is not None:
            if tag == self._hidden:
                self._hidden_depth += 1
            elif self._hidden == "head" and tag == "body":
                self._hidden = None  # a <head> left open ends where the body starts
            return
        hides = tag in _SKIP or "hidden" in attrs or _HIDING_STYLE.search(attrs.get("style", ""))
        if hides and tag not in _VOID:
            self._hidden, self._hidden_depth = tag, 1
        elif tag == "pre":
            self._pre_depth += 1
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in {"td", "th"}:
            self.parts.append(" ")

    def _end(self, tag: str) -> None:
        if self._hidden is not None:
            if tag == self._hidden:
                self._hidden_depth -= 1
                if self._hidden_depth <= 0:
                    self._hidden = None
            return
        if tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def _data(self, data: str) -> None:
        if not data or self._hidden is not None:
            return
        text = html.unescape(data)
        # Source line breaks are white space in HTML, except inside <pre>.
        self.parts.append(text if self._pre_depth else re.sub(r"\s+", " ", text))


def html_to_text(markup: str) -> str:
    """Visible text of `markup`, one block per line, runs of blank space folded.

    Raises HtmlRefused when the markup holds more than MAX_TAGS '<' characters."""
    if markup.count("<") > MAX_TAGS:
        raise HtmlRefused(f"HTML with more than {MAX_TAGS} tags is not a report")
    walk = _Walk(markup)
    walk.run()
    text = "".join(walk.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
