"""The official FHIR R4 (4.0.1) JSON schema: validates what we read and everything we write.

One compiled Draft-6 validator per resource type, each referencing the shared definitions, so
error paths point into the resource (the top-level `oneOf` would only say "not valid").
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft6Validator


@cache
def _definitions() -> dict[str, Any]:
    text = (resources.files("radlite_fhir.schemas") / "fhir.r4.schema.json").read_text("utf-8")
    return json.loads(text)["definitions"]


@cache
def _validator(resource_type: str) -> Draft6Validator:
    definitions = _definitions()
    if resource_type not in definitions:
        raise ValueError(f"unknown FHIR R4 resource type {resource_type!r}")
    return Draft6Validator({"$ref": f"#/definitions/{resource_type}", "definitions": definitions})


def schema_errors(resource: dict[str, Any]) -> list[str]:
    """Human-readable schema violations of one resource (empty when valid)."""
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        return ["no resourceType"]
    try:
        validator = _validator(kind)
    except ValueError as exc:
        return [str(exc)]
    errors = sorted(validator.iter_errors(resource), key=lambda e: list(e.absolute_path))
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:200]}"
        for e in errors
    ]
