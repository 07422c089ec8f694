"""Models to compare, named on the command line: a registry model, optionally with a LoRA
adapter file not yet registered (shared by the evaluations of training/)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from radlite_fhir.engine.registry import Registry, sha256_file


def register_candidate(registry: Registry, label: str, text: str) -> str:
    """Add LABEL as an in-memory registry entry (MODEL or MODEL+ADAPTER); return its name."""
    model, _, adapter = text.partition("+")
    spec = registry.get(model)
    if adapter:
        path = Path(adapter).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: adapter not found")
        spec = replace(spec, adapter=path, adapter_sha256=sha256_file(path), profile="structured")
    registry.site[label] = replace(spec, name=label)
    return label
