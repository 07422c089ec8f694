"""The text of an RTF report body (dictation systems and older RIS export reports as RTF).

striprtf (pure Python, maintained, no dependencies) drops RTF's control words and destinations
(font and colour tables, headers, pictures) and keeps the text, paragraphs as lines, table
cells separated by '|'. Its `\\'hh` escapes are decoded in the code page the document declares
(`\\ansicpgN`; RTF's default, Windows-1252, when it declares none); `\\uN` escapes are Unicode.

A body that is not RTF, uses a code page Python does not know, or holds bytes its code page
cannot decode is refused by the rule it breaks, never by quoting its content.
"""

from __future__ import annotations

import codecs
import re

RTF_MAGIC = b"{\\rtf"
DEFAULT_CODE_PAGE = "cp1252"
_CODE_PAGE = re.compile(rb"\\ansicpg(\d{1,5})")


class RtfRefused(ValueError):
    """An RTF body this reader will not take as report text; the message names the rule only."""


def rtf_code_page(data: bytes) -> str:
    """The Python codec of the document's declared ANSI code page."""
    declared = _CODE_PAGE.search(data[:4096])
    if declared is None:
        return DEFAULT_CODE_PAGE
    name = f"cp{int(declared.group(1))}"
    try:
        codecs.lookup(name)
    except LookupError:
        raise RtfRefused(f"an RTF document in an unknown code page ({name})") from None
    return name


def rtf_text(data: bytes) -> str:
    """The document's text, lines as its paragraphs, outer blank lines removed."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(RTF_MAGIC):
        raise RtfRefused("not an RTF document (it does not start with {\\rtf)")
    code_page = rtf_code_page(data)
    try:
        markup = data.decode(code_page)
        text = rtf_to_text(markup, encoding=code_page, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise RtfRefused(
            f"an RTF document with bytes outside its code page ({code_page})"
        ) from None
    except Exception as exc:  # any failure on a damaged file is the input's, by its kind
        raise RtfRefused(f"not a readable RTF document ({type(exc).__name__})") from None
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip()
    if not text:
        raise RtfRefused("an RTF document without text")
    return text
