"""Which files a bulk run converts: the inputs `radlite convert` would take, each hashed.

A shard is one input file. Its output name is the one `convert` gives it (the whole file
name plus the format's suffix), so two shards with the same file name would write the same
output: the later one is refused, as `convert --name-collision refuse` refuses it. The
checks `convert` makes before reading (empty, over the size limit, unreadable) are made here
with the same code and words, on the driver, so a refused file never reaches the cluster.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from radlite_fhir.convert import expand_inputs
from radlite_fhir.errors import InputError, printable
from radlite_fhir.naming import output_name
from radlite_fhir.readers.files import read_limited


@dataclass(frozen=True)
class Shard:
    """One input file. `label` names it in errors.jsonl exactly as `convert` names it (the
    path as given or found); `location` is the absolute path the cluster reads."""

    label: str
    location: str
    name: str
    sha256: str

    def output(self, output_format: str) -> str:
        return output_name(self.name, output_format)


@dataclass
class Plan:
    shards: list[Shard] = field(default_factory=list)
    refused: list[InputError] = field(default_factory=list)  # not sent to the cluster


def plan_shards(inputs: Iterable[Path], max_bytes: int) -> Plan:
    """Every input file (folders walked as `convert` walks them), hashed; files `convert`
    would refuse before reading, and second files of one name, in `refused`."""
    plan = Plan()
    taken: dict[str, str] = {}
    for path in expand_inputs(list(inputs)):
        try:
            data = read_limited(path, max_bytes)
        except InputError as exc:
            plan.refused.append(exc)
            continue
        if path.name in taken:
            plan.refused.append(
                InputError(
                    path,
                    f"another input of this run has the file name {printable(path.name)!r}; "
                    "its output name is taken (rename one of them)",
                )
            )
            continue
        taken[path.name] = str(path)
        plan.shards.append(
            Shard(
                label=printable(path),
                location=os.path.abspath(path),
                name=path.name,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return plan
