"""`radlite serve`: enrichment over HTTP, for interface engines that call out instead of
dropping files.

`POST /fhir/DiagnosticReport/$enrich` takes a DiagnosticReport or a Bundle and answers the
enriched transaction Bundle; `POST /dicom/enrich` takes an SR and answers its enriched version.
Both go through `convert_bytes`, the core `radlite convert --format enriched` runs, on the
request body itself: no temporary file is written. One model
load serves every request: a single worker thread owns the pipeline, requests wait in a
bounded queue, and a full queue answers 503 with Retry-After. Loopback by default, optional
bearer token (a token file that holds none stops start-up instead of turning authentication
off).

Every answer but a success is a FHIR OperationOutcome (application/fhir+json) whose diagnostic
names the rule, never a value from the request: unreadable input 400, authentication 401,
unknown route 404, wrong method 405, body or report count over its limit 413, wrong media type
415, nothing enrichable 422, internal error 500 (its type logged, no traceback, no text), a
full queue or a spent time budget 503. No request holds the model thread for long: the reports
in a request are counted before it is queued (over `max_reports`: 413), and each request has a
time budget from its arrival (`request_budget_s`), which the model thread checks before every
report and every model call: past it the request is answered 503 and the thread moves on.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from radlite_fhir import __version__
from radlite_fhir.budget import TimeBudget, TimeBudgetExceeded
from radlite_fhir.convert import Rendered, convert_bytes
from radlite_fhir.errors import ConfigError, ModelError
from radlite_fhir.pipeline import Pipeline
from radlite_fhir.service.outcome import (
    FHIR_JSON,
    IssueType,
    issue_for_status,
    operation_outcome,
    outcome_bytes,
)
from radlite_fhir.settings import ResultSettings
from radlite_fhir.writers.table import WRITERS, OutputFormat

__all__ = ["FHIR_JSON", "ServeSettings", "build_app", "operation_outcome", "read_token_file"]
DICOM = "application/dicom"
log = logging.getLogger("radlite.serve")


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # bearer token; None: no authentication (loopback use)
    max_body_mb: float = 5.0
    queue_size: int = 8  # requests waiting for the model beyond the one it is running
    retry_after_s: int = 10
    max_reports: int = 100  # reports in one request; more: 413 before any model work
    request_budget_s: float = 300.0  # from arrival, queue wait included; 0: no limit
    # What decides the answers, shared with convert, watch and bulk (radlite_fhir.settings);
    # `radlite serve` builds the pipeline from it. The routes answer the enriched format.
    results: ResultSettings = field(
        default_factory=lambda: ResultSettings(output_format=OutputFormat.ENRICHED)
    )

    def __post_init__(self) -> None:
        if self.results.output_format is not OutputFormat.ENRICHED:
            raise ConfigError("serve answers the enriched format only (Bundle or SR)")
        if self.max_reports < 1:
            raise ConfigError("max_reports must be 1 or more")
        if self.request_budget_s < 0:
            raise ConfigError("request_budget_s must be 0 (no limit) or more")


def read_token_file(path: Path) -> str:
    """The bearer token in `path`, stripped. A file that cannot be read, or holds nothing but
    white space, stops start-up: silently serving without authentication because a secret
    was not mounted is the failure this guards against."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"{path}: the token file cannot be read: {reason}") from None
    if not token:
        raise ConfigError(
            f"{path}: the token file holds no token (empty or white space only); refusing "
            "to start without authentication. Put the token in the file, or leave out "
            "--token-file to serve unauthenticated on loopback"
        )
    return token


class HttpProblem(Exception):
    """An answer other than 200: status, OperationOutcome issue code, text, extra headers."""

    def __init__(
        self, status: int, code: IssueType, text: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.headers = status, code, text, headers or {}


def _outcome_response(
    status: int, code: IssueType, text: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(outcome_bytes(code, text), status, headers, media_type=FHIR_JSON)


def count_reports(body: bytes, suffix: str) -> int:
    """Reports a request holds, counted cheaply (one JSON parse, no validation) so that an
    oversized batch is refused before it reaches the model thread. A body this cannot parse
    counts as 1: the reader then says what is wrong with it."""
    if suffix != ".json":
        return 1
    try:
        resource = json.loads(body)
    except (ValueError, RecursionError):
        return 1
    if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
        return 1
    entries = resource.get("entry")
    if not isinstance(entries, list):
        return 1
    return sum(
        1
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") == "DiagnosticReport"
    )


class ModelQueue:
    """The one thread that runs the model, fed by a bounded queue."""

    def __init__(self, size: int) -> None:
        self.jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue(size)
        self.running = False  # a job is on the model now
        self.thread = threading.Thread(target=self._run, name="radlite-model", daemon=True)
        self.thread.start()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        """Queue a job; queue.Full when the queue is full."""
        future: Future[Any] = Future()
        self.jobs.put_nowait((job, future))
        return future

    def _run(self) -> None:
        while (item := self.jobs.get()) is not None:
            job, future = item
            if future.set_running_or_notify_cancel():  # False: its request gave up waiting
                self.running = True
                try:
                    future.set_result(job())
                except BaseException as exc:  # handed to the request that asked
                    future.set_exception(exc)
                finally:
                    self.running = False

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=60)


def _convert(
    pipeline: Pipeline,
    body: bytes,
    suffix: str,
    max_bytes: int,
    budget: TimeBudget,
    max_reports: int,
) -> Rendered:
    """Enrich one request body through `convert_bytes`, the core `radlite convert` runs, with
    no file written anywhere: the body is named `request<suffix>` in errors (the suffix picks
    the reader). The budget is checked after reading, before each report and before each
    model call (TimeBudgetExceeded); `max_reports` backs up the count made before queueing."""
    converted = convert_bytes(
        pipeline,
        Path(f"request{suffix}"),
        body,
        OutputFormat.ENRICHED,
        max_bytes=max_bytes,
        budget=budget,
        max_reports=max_reports,
    )
    if converted.errors:
        raise HttpProblem(
            400 if not converted.findings else 422,
            IssueType.INVALID,
            "; ".join(error.problem for error in converted.errors),
        )
    if not converted.outputs:
        raise HttpProblem(422, IssueType.PROCESSING, "no coded result and no impression to write")
    return converted.outputs[0]


def build_app(settings: ServeSettings, pipeline: Pipeline) -> FastAPI:
    """The FastAPI application; its model thread stops when the server shuts down."""
    # A body is an input: the smaller of the request limit and the input limit applies.
    body_limit = int(settings.max_body_mb * 1_000_000)
    max_bytes = min(body_limit, settings.results.max_bytes)
    limit_option = "--max-body-mb" if body_limit <= settings.results.max_bytes else "--max-input-mb"
    answered: Counter[tuple[str, int]] = Counter()
    stopped = Counter[str]()  # requests whose model work the time budget stopped
    model_queue = ModelQueue(settings.queue_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        model_queue.close()

    app = FastAPI(
        title="radlite-fhir",
        version=__version__,
        description="Enrich radiology reports (FHIR R4 DiagnosticReport, DICOM SR) with coded "
        "results from a local GGUF model.",
        lifespan=lifespan,
    )

    @app.exception_handler(HttpProblem)
    async def problem(request: Request, exc: HttpProblem) -> Response:
        answered[(request.url.path, exc.status)] += 1
        return _outcome_response(exc.status, exc.code, exc.text, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def framework_problem(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown routes (404), wrong methods (405) and the like, as OperationOutcomes."""
        answered[(request.url.path, exc.status_code)] += 1
        text = {404: f"no such endpoint: {request.method} {request.url.path}"}.get(
            exc.status_code, f"{request.method} {request.url.path}: {exc.detail}"
        )
        return _outcome_response(
            exc.status_code, issue_for_status(exc.status_code), text, dict(exc.headers or {})
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        answered[(request.url.path, 400)] += 1
        return _outcome_response(400, IssueType.INVALID, "the request does not fit the API")

    @app.middleware("http")
    async def internal_errors(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """The last line: an exception no handler expected is a 500 OperationOutcome. Only its
        type is logged: its message and traceback may hold report text."""
        try:
            return await call_next(request)
        except Exception as exc:
            log.error("request failed: internal error %s", type(exc).__name__)
            answered[(request.url.path, 500)] += 1
            return _outcome_response(
                500,
                IssueType.EXCEPTION,
                f"internal error ({type(exc).__name__}); the request was not enriched",
            )

    def authorize(request: Request) -> None:
        if settings.token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
            raise HttpProblem(
                401,
                IssueType.LOGIN,
                "a valid bearer token is required",
                {"WWW-Authenticate": 'Bearer realm="radlite"'},
            )

    async def read_body(request: Request, types: tuple[str, ...]) -> bytes:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in types:
            raise HttpProblem(
                415, IssueType.NOT_SUPPORTED, f"content type must be {' or '.join(types)}"
            )
        too_large = f"body over the limit of {max_bytes} bytes ({limit_option})"
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise HttpProblem(413, IssueType.TOO_COSTLY, too_large)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise HttpProblem(413, IssueType.TOO_COSTLY, too_large)
        if not body:
            raise HttpProblem(400, IssueType.INVALID, "empty request body")
        return bytes(body)

    async def enrich(body: bytes, suffix: str, budget: TimeBudget) -> Response:
        """The answer: the output, with its media type from the writers table (a DICOM SR
        sent to the FHIR route is read by its preamble and answered as DICOM)."""
        retry = {"Retry-After": str(settings.retry_after_s)}
        reports = await asyncio.to_thread(count_reports, body, suffix)
        if reports > settings.max_reports:
            raise HttpProblem(
                413,
                IssueType.TOO_COSTLY,
                f"{reports} reports in one request, over the limit of {settings.max_reports} "
                "(--max-reports); send them in smaller requests",
            )

        def job() -> Rendered:
            try:
                return _convert(pipeline, body, suffix, max_bytes, budget, settings.max_reports)
            except TimeBudgetExceeded:
                stopped["budget"] += 1
                raise

        try:
            future = model_queue.submit(job)
        except queue.Full:
            raise HttpProblem(503, IssueType.THROTTLED, "the model queue is full", retry) from None
        waiting = asyncio.wrap_future(future)
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
        left = settings.request_budget_s - (time.monotonic() - budget.started)
        spent = HttpProblem(
            503,
            IssueType.TIMEOUT,
            f"request time budget of {settings.request_budget_s:g} s used up "
            "(--request-budget-s); its model work stops at the next check",
            retry,
        )
        try:
            if settings.request_budget_s <= 0:
                rendered = await waiting
            else:
                rendered = await asyncio.wait_for(asyncio.shield(waiting), max(left, 0.0))
        except TimeoutError:
            future.cancel()  # still queued: never started; running: the budget stops it
            raise spent from None
        except TimeBudgetExceeded:
            raise spent from None
        except ModelError as exc:
            raise HttpProblem(
                503, IssueType.TRANSIENT, f"model unavailable: {exc}", retry
            ) from None
        return Response(rendered.data, media_type=WRITERS[rendered.format].media_type)

    fhir_body = {"type": "object", "properties": {"resourceType": {"type": "string"}}}
    errors = {
        str(code): {"description": text, "content": {FHIR_JSON: {}}}
        for code, text in [
            (400, "unreadable input (OperationOutcome)"),
            (401, "missing or wrong bearer token"),
            (413, "body over the size limit, or more reports than the per-request limit"),
            (415, "wrong content type"),
            (422, "nothing could be enriched"),
            (500, "internal error (no detail beyond its type)"),
            (503, "model queue full, or the request's time budget used up (Retry-After)"),
        ]
    }

    @app.post(
        "/fhir/DiagnosticReport/$enrich",
        summary="Enrich a DiagnosticReport or a Bundle of them",
        response_class=Response,
        responses={
            200: {"content": {FHIR_JSON: {}}, "description": "transaction Bundle"},
            **errors,
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    FHIR_JSON: {"schema": fhir_body},
                    "application/json": {"schema": fhir_body},
                },
            }
        },
    )
    async def enrich_fhir(request: Request) -> Response:
        budget = TimeBudget(settings.request_budget_s)
        authorize(request)
        body = await read_body(request, (FHIR_JSON, "application/json"))
        answer = await enrich(body, ".json", budget)
        answered[(request.url.path, 200)] += 1
        return answer

    @app.post(
        "/dicom/enrich",
        summary="Enrich a DICOM SR: its new version with the AI findings",
        response_class=Response,
        responses={200: {"content": {DICOM: {}}, "description": "enriched SR"}, **errors},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {DICOM: {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def enrich_dicom(request: Request) -> Response:
        budget = TimeBudget(settings.request_budget_s)
        authorize(request)
        body = await read_body(request, (DICOM,))
        answer = await enrich(body, ".dcm", budget)
        answered[(request.url.path, 200)] += 1
        return answer

    @app.get("/healthz", summary="liveness, queue depth, whether the model is busy")
    async def healthz() -> dict[str, Any]:
        return {
            "ok": model_queue.thread.is_alive(),
            "queued": model_queue.jobs.qsize(),
            "running": model_queue.running,
        }

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        lines = [
            "# HELP radlite_http_responses_total Answers by path and status.",
            "# TYPE radlite_http_responses_total counter",
            *(
                f'radlite_http_responses_total{{path="{path}",code="{code}"}} {count}'
                for (path, code), count in sorted(answered.items())
            ),
            "# HELP radlite_http_queue_depth Requests waiting for the model.",
            "# TYPE radlite_http_queue_depth gauge",
            f"radlite_http_queue_depth {model_queue.jobs.qsize()}",
            "# HELP radlite_http_budget_stops_total Requests whose model work the time budget "
            "stopped.",
            "# TYPE radlite_http_budget_stops_total counter",
            f"radlite_http_budget_stops_total {stopped['budget']}",
        ]
        return "\n".join(lines) + "\n"

    return app


def serve(settings: ServeSettings, pipeline: Pipeline, routers: Sequence[APIRouter] = ()) -> int:
    """Load the model, then serve until SIGTERM/SIGINT; `routers` add pages that share the
    server (the clinician review page)."""
    import uvicorn

    pipeline.warm_up()
    app = build_app(settings, pipeline)
    for router in routers:
        app.include_router(router)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
