"""The official FHIR R4 (4.0.1) JSON schema: validates what we read and everything we write.

One compiled Draft-6 validator per resource type, each referencing the shared definitions, so
error paths point into the resource (the top-level `oneOf` would only say "not valid").

Two things differ from running the file as it is through `re`:
- FHIR's regexes mean XML Schema white space (space, tab, CR, LF) by `\\s`, and the JSON schema
  anchors with `$`. Python's `\\s` also matches U+00A0, U+2009, U+2028 and more, so a string
  holding a non-breaking space would fail `^[ \\r\\n\\t\\S]+$`, which FHIR means as "any
  non-empty text"; Python's `$` also accepts a trailing newline. `xsd_pattern` rewrites each
  pattern once, when the definitions are loaded.
- Messages never quote the instance (jsonschema's own messages do, and the instance is report
  text): each problem is the element path and the failed keyword, e.g.
  "Observation.valueString: pattern".
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError, best_match

XSD_SPACE = " \\t\\n\\r"
_NOT_XSD_SPACE_RANGES = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x21-\\U0010ffff"
# Equivalent to the schema's base64Binary pattern `^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$`, whose
# two adjacent `\s*` make a failing match backtrack exponentially in the number of groups.
_BASE64 = "^(\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+$"
_BASE64_LINEAR = f"^[{XSD_SPACE}]*([0-9a-zA-Z\\+/=]{{4}}[{XSD_SPACE}]*)+\\Z"


def xsd_pattern(pattern: str) -> str:
    """`pattern` for Python's `re` with XML Schema meanings: `\\s` and `\\S` are the four
    XSD white-space characters and their complement, and `$` is the end of the string."""
    if pattern == _BASE64:
        return _BASE64_LINEAR
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "s":
                out.append(XSD_SPACE if in_class else f"[{XSD_SPACE}]")
            elif escaped == "S":
                out.append(_NOT_XSD_SPACE_RANGES if in_class else f"[^{XSD_SPACE}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":  # keep '^' and a literal ']' right after it
                out.append("[^")
                i += 2
                continue
        elif char == "$":
            char = "\\Z"
        out.append(char)
        i += 1
    return "".join(out)


def _translate(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            is_pattern = key == "pattern" and isinstance(value, str)
            out[key] = xsd_pattern(value) if is_pattern else _translate(value)
        return out
    if isinstance(node, list):
        return [_translate(value) for value in node]
    return node


@cache
def _definitions() -> dict[str, Any]:
    text = (resources.files("radlite_fhir.schemas") / "fhir.r4.schema.json").read_text("utf-8")
    definitions: dict[str, Any] = _translate(json.loads(text)["definitions"])
    return definitions


@cache
def resource_types() -> frozenset[str]:
    """The names of the R4 resource types (the schema's ResourceList)."""
    refs = _definitions()["ResourceList"]["oneOf"]
    return frozenset(ref["$ref"].rsplit("/", 1)[-1] for ref in refs)


@cache
def _validator(resource_type: str) -> Draft6Validator:
    definitions = _definitions()
    if resource_type not in definitions:
        raise ValueError(f"unknown FHIR R4 resource type {resource_type!r}")
    return Draft6Validator({"$ref": f"#/definitions/{resource_type}", "definitions": definitions})


def element_path(resource_type: str, path: Any) -> str:
    """`DiagnosticReport.presentedForm[0].contentType` from a JSON path."""
    out = resource_type
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def describe(resource_type: str, error: ValidationError) -> str:
    """One problem as "element path: keyword", with the schema's side where it helps (the
    required elements missing, the expected type, the unknown element names), never the
    rejected value."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        error = best_match(error.context)
    where = element_path(resource_type, error.absolute_path)
    keyword = str(error.validator)
    detail = ""
    if keyword == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        detail = f" {', '.join(missing)}"
    elif keyword == "type":
        detail = f" (expected {error.validator_value})"
    elif keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        unknown = sorted(str(name)[:40] for name in error.instance if name not in known)
        detail = f" (unknown element {', '.join(unknown[:3])})"
    return f"{where}: {keyword}{detail}"


def schema_errors(resource: dict[str, Any]) -> list[str]:
    """Schema violations of one resource as element path and rule (empty when valid)."""
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        return ["no resourceType"]
    try:
        validator = _validator(kind)
    except ValueError:
        return [f"resourceType is not an R4 resource type ({len(kind)} characters)"]
    errors = sorted(
        validator.iter_errors(resource),
        key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path],
    )
    return [describe(kind, e) for e in errors]
