"""FHIR OperationOutcome bodies: how the service's HTTP endpoints answer anything but success.

One place for the issue-type vocabulary and the body, so `radlite serve` and the operator
endpoint (/healthz, /metrics) answer a refusal, an unknown route or an internal error the same
way: `application/fhir+json`, one issue with a code from the FHIR IssueType value set and a
diagnostic that names the rule, never a value from the request (it may be report text).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

FHIR_JSON = "application/fhir+json"


class IssueType(StrEnum):
    """FHIR R4 IssueType codes (http://hl7.org/fhir/issue-type) this product answers with."""

    INVALID = "invalid"
    LOGIN = "login"
    NOT_FOUND = "not-found"
    NOT_SUPPORTED = "not-supported"
    TOO_COSTLY = "too-costly"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    TIMEOUT = "timeout"
    PROCESSING = "processing"
    EXCEPTION = "exception"


# What an HTTP status the framework raised on its own (routing, methods) means as an issue.
ISSUE_FOR_STATUS = {
    400: IssueType.INVALID,
    401: IssueType.LOGIN,
    404: IssueType.NOT_FOUND,
    405: IssueType.NOT_SUPPORTED,
    413: IssueType.TOO_COSTLY,
    415: IssueType.NOT_SUPPORTED,
    422: IssueType.PROCESSING,
    503: IssueType.TRANSIENT,
}


def operation_outcome(code: IssueType, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code.value, "diagnostics": text}],
    }


def outcome_bytes(code: IssueType, text: str) -> bytes:
    return json.dumps(operation_outcome(code, text)).encode()


def issue_for_status(status: int) -> IssueType:
    if status in ISSUE_FOR_STATUS:
        return ISSUE_FOR_STATUS[status]
    return IssueType.EXCEPTION if status >= 500 else IssueType.INVALID
