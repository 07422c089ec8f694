"""Reading an input file's bytes under the size limit, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

from radlite_fhir.errors import InputError


def check_size(path: Path | str, size: int, max_bytes: int) -> None:
    """InputError when content of `size` bytes is empty or over the limit: one wording for a
    file (checked before it is read) and for bytes that arrived another way."""
    if size == 0:
        raise InputError(path, "file is empty")
    if size > max_bytes:
        raise InputError(
            path,
            f"file is {size / 1e6:.1f} MB, over the input limit of "
            f"{max_bytes / 1e6:.1f} MB (setting max_input_mb)",
        )


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; InputError when it cannot be read, is empty or is over the limit
    (checked before reading, so a huge file is never loaded)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from None
    check_size(path, size, max_bytes)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from None
