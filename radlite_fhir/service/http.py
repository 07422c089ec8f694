"""Loopback HTTP for operators: /healthz and Prometheus /metrics (text format 0.0.4).

Anything else is answered as `radlite serve` answers it: a FHIR OperationOutcome
(application/fhir+json) for an unknown path (404), another method (405), a request the
server cannot parse (400) or a failure while answering (500, its type logged, nothing else).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from radlite_fhir.service.outcome import FHIR_JSON, IssueType, issue_for_status, outcome_bytes
from radlite_fhir.service.worker import Metrics

log = logging.getLogger("radlite.service")


def prometheus_text(metrics: Metrics, ledger_counts: dict[str, int]) -> str:
    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    metric(
        "radlite_files_processed_total",
        "counter",
        "Inputs converted and moved out.",
        [("", metrics.processed)],
    )
    metric(
        "radlite_files_failed_total", "counter", "Inputs moved to error/.", [("", metrics.failed)]
    )
    metric(
        "radlite_files_duplicate_total",
        "counter",
        "Re-dropped content skipped.",
        [("", metrics.duplicates)],
    )
    metric(
        "radlite_retries_total",
        "counter",
        "Transient failures put back for retry.",
        [("", metrics.retries)],
    )
    metric(
        "radlite_files_in_queue",
        "gauge",
        "Files in the inbox and claimed, not finished.",
        [("", metrics.queued)],
    )
    metric(
        "radlite_model_answers_unparseable_total",
        "counter",
        "Model answers that did not parse (kept, not coded).",
        [("", metrics.unparseable)],
    )
    metric(
        "radlite_stage_seconds",
        "summary",
        "Seconds per stage over processed files.",
        [(f'_sum{{stage="{stage}"}}', seconds) for stage, seconds in metrics.seconds.items()]
        + [(f'_count{{stage="{stage}"}}', metrics.files_timed) for stage in metrics.seconds],
    )
    metric(
        "radlite_ledger_inputs",
        "gauge",
        "Ledger rows by state.",
        [(f'{{state="{state}"}}', n) for state, n in sorted(ledger_counts.items())],
    )
    return "\n".join(lines) + "\n"


def serve(
    host: str, port: int, metrics: Callable[[], str], health: Callable[[], dict[str, object]]
) -> ThreadingHTTPServer:
    """Start the endpoint on a daemon thread; the caller shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                if self.path == "/metrics":
                    body, kind, code = metrics().encode(), "text/plain; version=0.0.4", 200
                elif self.path == "/healthz":
                    state = health()
                    body = json.dumps(state).encode()
                    kind, code = "application/json", 200 if state.get("ok") else 503
                else:
                    text = f"no such endpoint: GET {self.path} (/healthz, /metrics)"
                    body, kind, code = outcome_bytes(IssueType.NOT_FOUND, text), FHIR_JSON, 404
            except Exception as exc:
                log.error("operator endpoint failed", extra={"reason": type(exc).__name__})
                text = f"internal error ({type(exc).__name__})"
                body, kind, code = outcome_bytes(IssueType.EXCEPTION, text), FHIR_JSON, 500
            self._answer(code, kind, body)

        def _not_allowed(self) -> None:
            text = f"{self.command} is not supported here: GET /healthz or /metrics"
            self._answer(405, FHIR_JSON, outcome_bytes(IssueType.NOT_SUPPORTED, text), "GET")

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """The base class's HTML error page, as an OperationOutcome."""
            text = f"{code} {self.responses.get(code, ('error',))[0]}"
            self._answer(code, FHIR_JSON, outcome_bytes(issue_for_status(code), text))

        def _answer(self, code: int, kind: str, body: bytes, allow: str | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if allow:
                self.send_header("Allow", allow)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # access logs are not wanted on stderr

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="radlite-http", daemon=True).start()
    return server
