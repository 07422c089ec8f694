"""Output names: which file in an output folder holds the result of which input.

One scheme for `radlite convert --out` and the drop-folder service (docs/drop-folder-names.md):

    <input name>[.v<N>][.<part>]<format suffix>

The whole input name, suffix included, so `rep.json` and `rep.ndjson` never share a result;
`.v<N>` (N >= 2) for a name that arrives again with other content under the `version` policy;
`.<part>` numbers the SRs of an input that holds several reports. What happens when the
name an input would take is already taken is a policy (`NameCollision`), as in Mirth's file
writer (append / overwrite / error) and Orthanc's `OverwriteInstances`. The decision is a pure
function of who holds a name (`choose`), so the service (ledger + outbox) and `convert`
(the output folder) apply the same rule to their own notion of "taken".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import count
from pathlib import Path

from radlite_fhir.errors import InputError
from radlite_fhir.writers.table import CHOICES, WRITERS, OutputFormat, Per, formats_for

# The suffixes come from the writers table (radlite_fhir.writers.table); these two names stay
# for callers that read them.
OUTPUT_SUFFIX = {f.value: WRITERS[f].suffix for f in CHOICES}
ENRICHED_SR_SUFFIX = WRITERS[OutputFormat.ENRICHED_SR].suffix  # `enriched` of an SR source
MAX_VERSIONS = 10_000  # a name dropped more often than this is refused, not searched forever


class NameCollision(StrEnum):
    """What to do when the output name of an input already holds another input's result."""

    VERSION = "version"  # write <name>.v<N>...; never overwrite (the service's default)
    REFUSE = "refuse"  # the input fails with a reason (convert's default)
    OVERWRITE = "overwrite"  # replace the earlier result (explicit opt-in; recorded)


class NameTaken(InputError):
    """The input's output name holds another input's result and the policy is `refuse`."""


@dataclass(frozen=True)
class Holder:
    """Who holds an output name: a ledger claim, or (claim None) a file nothing accounts for.
    `same_content`: the holder is a finished input with the same content sha256, so writing
    its name again writes the same result."""

    claim: str | None = None
    same_content: bool = False


@dataclass(frozen=True)
class Choice:
    """The base name for an input's outputs; whether writing it replaces an earlier result,
    and the claim that result belonged to (None: a file no ledger row accounts for)."""

    base: str
    overwrite: bool = False
    replaces: str | None = None


def versioned(name: str, version: int) -> str:
    """`name` for the first version, `name.v<N>` after."""
    return name if version == 1 else f"{name}.v{version}"


def output_name(
    base: str | os.PathLike[str], output_format: str | OutputFormat, part: int | None = None
) -> str:
    """`<base>[.<part>]<suffix>`; `base` is the input's file name (a path: its last part)
    or a versioned one. `output_format` "enriched-sr" is the enriched SR (`.enriched.dcm`)."""
    name = Path(base).name
    suffix = WRITERS[OutputFormat(output_format)].suffix
    return name + (f".{part}" if part is not None else "") + suffix


def first_names(base: str, output_format: str | OutputFormat) -> Iterator[str]:
    """The names the first output of an input with this base can take (one result file, or
    the first of several per-report outputs; enriched: JSON or SR)."""
    for kind in formats_for(output_format):
        yield output_name(base, kind)
        if WRITERS[kind].per is Per.REPORT:
            yield output_name(base, kind, 1)


def present(folder: Path, base: str, output_format: str | OutputFormat) -> bool:
    """Whether `folder` already holds an output under `base` (a file, or a link to one)."""
    return any(os.path.lexists(folder / name) for name in first_names(base, output_format))


def choose(name: str, policy: NameCollision, holder_of: Callable[[str], Holder | None]) -> Choice:
    """The base for the outputs of the input called `name`. Free: `name`. Held by a finished
    input with the same content: that name again (the same result, nothing of another input
    lost). Otherwise by policy: the first free `name.v<N>` (version), `name` replacing the
    holder (overwrite), or NameTaken (refuse)."""
    policy = NameCollision(policy)  # a plain string from a settings object built by hand
    for version in count(1):
        if version > MAX_VERSIONS:
            raise NameTaken(name, f"more than {MAX_VERSIONS} versions of this name; refused")
        base = versioned(name, version)
        holder = holder_of(base)
        if holder is None:
            return Choice(base)
        if holder.same_content or policy is NameCollision.OVERWRITE:
            return Choice(base, overwrite=True, replaces=holder.claim)
        if policy is NameCollision.REFUSE:
            raise NameTaken(
                name,
                f"output name {base!r} already holds the result of an earlier input "
                "(name_collision = refuse)",
            )
    raise AssertionError("unreachable")  # count() never ends
