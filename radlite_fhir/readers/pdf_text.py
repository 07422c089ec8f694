"""The text layer of a PDF report body (many production systems send only a PDF).

pypdf (pure Python, maintained) extracts the text the PDF carries; it does not read images.
A scanned PDF without a text layer is refused with that reason rather than read as an empty
report, and a PDF that cannot be opened (damaged, encrypted) is refused by its kind only:
pypdf's own messages may quote the file's bytes, which may be report text.
"""

from __future__ import annotations

import io
import logging

MAX_PAGES = 200  # a radiology report is a few pages; more is not a report body


class PdfRefused(ValueError):
    """A PDF this reader will not take as report text; the message names the rule only."""


def pdf_text(data: bytes) -> str:
    """The PDF's text, page after page (pages separated by a blank line)."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings quote stream content
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfRefused("an encrypted PDF (no text can be read)")
        if len(reader.pages) > MAX_PAGES:
            raise PdfRefused(f"a PDF of more than {MAX_PAGES} pages (not a report body)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except PdfRefused:
        raise
    except Exception as exc:  # any failure of a damaged file is the input's, by its kind
        raise PdfRefused(f"not a readable PDF ({type(exc).__name__})") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise PdfRefused("a PDF without a text layer (a scanned image?): no text to read")
    return text
