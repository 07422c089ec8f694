"""The record of finished shards in a bulk output folder, so a rerun redoes none of them.

`bulk-manifest.jsonl`: a first line with the settings that decide the outputs, then one line
per finished shard (its file name, the sha256 of the bytes converted, its output names and
its error records). A line is appended and fsynced only after the shard's outputs are in
place (written to a temporary file, fsynced, renamed; the folder fsynced), so a shard is
finished exactly when its line is there. A crash while appending leaves a line without its
newline: it is cut off when the manifest is next opened, and that shard is done again.

A shard is skipped when its name has a line with the same sha256 and every output named
there still exists; a shard whose content changed is done again (its outputs replaced).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from radlite_fhir.errors import RadliteError

MANIFEST_NAME = "bulk-manifest.jsonl"
ERRORS_NAME = "errors.jsonl"
FORMAT_VERSION = 1


class ManifestMismatch(RadliteError):
    """The output folder belongs to another run (other settings) or to no bulk run."""


@dataclass(frozen=True)
class ShardRecord:
    """A finished shard. `errors`: {"line", "error"} records (never report text)."""

    name: str
    label: str
    sha256: str
    outputs: tuple[str, ...]
    errors: tuple[dict[str, Any], ...]
    reports: int

    def to_line(self) -> str:
        body = {"kind": "shard", **asdict(self)}
        body["outputs"], body["errors"] = list(self.outputs), list(self.errors)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ShardRecord:
        return cls(
            name=body["name"],
            label=body["label"],
            sha256=body["sha256"],
            outputs=tuple(body["outputs"]),
            errors=tuple(body["errors"]),
            reports=int(body["reports"]),
        )


def fsync_dir(folder: Path) -> None:
    """Make renames and new names in `folder` durable (POSIX: fsync the directory)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


class Manifest:
    """Finished shards by name (the last line for a name wins), appended durably."""

    def __init__(self, path: Path, records: dict[str, ShardRecord]) -> None:
        self.path = path
        self.records = records

    @classmethod
    def open(cls, out_dir: Path, settings: dict[str, Any]) -> Manifest:
        """The folder's manifest, created with `settings` when the folder is new or empty.
        ManifestMismatch when it was made with other settings, or when the folder holds
        files but no manifest (results of something else that a run must not mix with)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / MANIFEST_NAME
        if path.exists():
            _cut_torn_tail(path)  # a torn header leaves an empty file: begun anew below
        if not path.exists() or path.stat().st_size == 0:
            strangers = sorted(
                p.name
                for p in out_dir.iterdir()
                if not p.name.startswith(".") and p.name != MANIFEST_NAME
            )
            if strangers:
                raise ManifestMismatch(
                    f"{out_dir} holds files but no {MANIFEST_NAME} ({strangers[0]}, ...): "
                    "give bulk a new or empty output folder"
                )
            header = {"kind": "run", "version": FORMAT_VERSION, "settings": settings}
            with path.open("w", encoding="utf-8") as handle:
                handle.write(json.dumps(header, separators=(",", ":")) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            fsync_dir(out_dir)
            return cls(path, {})
        lines = iter(_json_lines(path))
        header = next(lines, None)
        if header is None or header.get("kind") != "run":
            raise ManifestMismatch(f"{path}: no run header; not a bulk manifest")
        if header.get("settings") != settings:
            differ = sorted(
                key
                for key in set(settings) | set(header.get("settings") or {})
                if settings.get(key) != (header.get("settings") or {}).get(key)
            )
            raise ManifestMismatch(
                f"{out_dir} holds results made with other settings ({', '.join(differ)}); "
                "rerun with the same settings or use another output folder"
            )
        records = {
            body["name"]: ShardRecord.from_json(body)
            for body in lines
            if body.get("kind") == "shard"
        }
        return cls(path, records)

    def finished(self, name: str, sha256: str) -> bool:
        record = self.records.get(name)
        return (
            record is not None
            and record.sha256 == sha256
            and all(os.path.lexists(self.path.parent / output) for output in record.outputs)
        )

    def record(self, record: ShardRecord) -> None:
        """Append `record` durably; call only after its outputs are durably in place."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(record.to_line())
            handle.flush()
            os.fsync(handle.fileno())
        self.records[record.name] = record


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                body = json.loads(line)
            except json.JSONDecodeError:
                raise ManifestMismatch(f"{path}:{number}: not JSON; not a bulk manifest") from None
            if not isinstance(body, dict):
                raise ManifestMismatch(f"{path}:{number}: not a JSON object")
            yield body


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line that a crash left without its newline (that shard is not finished)."""
    with path.open("rb+") as handle:
        data = handle.read()
        if not data or data.endswith(b"\n"):
            return
        handle.truncate(data.rfind(b"\n") + 1)
        handle.flush()
        os.fsync(handle.fileno())
