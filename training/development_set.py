"""The hand-written development set (training/devset/*.yaml): reports in the styles of several
institutions, none stating its RADS category, each labelled by the published table with the
reason recorded. It is never trained on: `training.data` reads only the sources a recipe names,
and none of them reads these folders.

Each record: id, style, exam (the examination's name, as DiagnosticReport.code.text), system
("none" where no RADS system applies), category, the gold feature record of every lesion, the
decisive lesion, the reason, and the report text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from radlite_fhir.guidelines import RadsSystem
from radlite_fhir.report import Report, digest
from radlite_fhir.sections import split_sections

DEVSET = Path(__file__).resolve().parent / "devset"
NO_SYSTEM = "none"


@dataclass(frozen=True)
class DevRecord:
    record_id: str
    style: str
    exam: str
    system: RadsSystem | None
    category: str | None
    lesions: tuple[dict[str, Any], ...]
    decisive_lesion: int | None
    reason: str
    text: str
    source: str

    @property
    def label(self) -> str | None:
        """The product's label for the gold category ('TI-RADS 4'), None where none applies."""
        if self.system is None or self.category is None:
            return None
        return f"{self.system.value} {self.category}"

    def report(self) -> Report:
        """The record as the pipeline reads a DiagnosticReport: text, sections, exam name."""
        return Report(
            text=self.text,
            source_path=f"devset/{self.source}#{self.record_id}",
            code_text=self.exam,
            sections=split_sections(self.text),
            source_digest=digest(self.text),
        )


class DevSetError(ValueError):
    """A development-set file that does not follow the record format (file and id named)."""


def load_devset(folder: Path = DEVSET) -> list[DevRecord]:
    records: list[DevRecord] = []
    for path in sorted(folder.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text("utf-8")) or []:
            where = f"{path.name}#{item.get('id', '?')}"
            try:
                system = None if item["system"] == NO_SYSTEM else RadsSystem(item["system"])
                category = item.get("category")
                records.append(
                    DevRecord(
                        record_id=str(item["id"]),
                        style=str(item.get("style", "")),
                        exam=str(item.get("exam", "")),
                        system=system,
                        category=None if category is None else str(category),
                        lesions=tuple(item.get("lesions") or ()),
                        decisive_lesion=item.get("decisive_lesion"),
                        reason=str(item["reason"]),
                        text=str(item["text"]),
                        source=path.name,
                    )
                )
            except (KeyError, ValueError) as exc:
                raise DevSetError(f"{where}: {exc}") from exc
    return records
