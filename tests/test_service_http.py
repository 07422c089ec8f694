"""The drop-folder service's operator endpoint (/healthz, /metrics) over real HTTP: anything
else is a FHIR OperationOutcome, as `radlite serve` answers, with nothing from the failure."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.service import http

FHIR = "application/fhir+json"
SECRET = "ZQX-MARKER-9051"


@contextmanager
def _endpoint(health: Callable[[], dict[str, object]]) -> Iterator[str]:
    server = http.serve("127.0.0.1", 0, lambda: "radlite_up 1\n", health)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _ask(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=b"{}" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers["content-type"], reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read()


def _issue(reply: tuple[int, str, bytes], status: int, code: str) -> str:
    got, kind, body = reply
    assert (got, kind) == (status, FHIR), (got, kind, body[:200])
    assert SECRET.encode() not in body
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome" and schema_errors(outcome) == []
    assert outcome["issue"][0]["code"] == code
    return outcome["issue"][0]["diagnostics"]


def test_known_paths_answer_and_everything_else_is_an_operation_outcome() -> None:
    with _endpoint(lambda: {"ok": True}) as base:
        assert _ask(base + "/metrics")[::2] == (200, b"radlite_up 1\n")
        assert json.loads(_ask(base + "/healthz")[2]) == {"ok": True}
        assert "no such endpoint" in _issue(_ask(base + "/nope"), 404, "not-found")
        assert "POST" in _issue(_ask(base + "/metrics", "POST"), 405, "not-supported")
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as raw:
            raw.sendall(b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
            answer = raw.makefile("rb").read()  # a header line the server refuses to read
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 431") and FHIR.encode() in head
        assert json.loads(body)["resourceType"] == "OperationOutcome"


def test_a_failure_while_answering_is_a_500_outcome_without_its_message() -> None:
    def broken() -> dict[str, object]:
        raise RuntimeError(f"ledger says {SECRET}")

    with _endpoint(broken) as base:
        assert "RuntimeError" in _issue(_ask(base + "/healthz"), 500, "exception")
