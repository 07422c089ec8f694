"""`radlite serve`: enrichment over HTTP, for interface engines that call out instead of
dropping files.

`POST /fhir/DiagnosticReport/$enrich` takes a DiagnosticReport or a Bundle and answers the
enriched transaction Bundle; `POST /dicom/enrich` takes an SR and answers its enriched version.
Both go through `convert_file`, the path `radlite convert --format enriched` takes. One model
load serves every request: a single worker thread owns the pipeline, requests wait in a
bounded queue, and a full queue answers 503 with Retry-After. Loopback by default, optional
bearer token, a request size limit; errors are FHIR OperationOutcomes.
"""

from __future__ import annotations

import asyncio
import hmac
import queue
import tempfile
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from radlite_fhir import __version__
from radlite_fhir.convert import convert_file
from radlite_fhir.errors import ModelError
from radlite_fhir.pipeline import Pipeline

FHIR_JSON = "application/fhir+json"
DICOM = "application/dicom"


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # bearer token; None: no authentication (loopback use)
    max_body_mb: float = 5.0
    queue_size: int = 8  # requests waiting for the model beyond the one it is running
    retry_after_s: int = 10


class HttpProblem(Exception):
    """An answer other than 200: status, OperationOutcome issue code, text, extra headers."""

    def __init__(
        self, status: int, code: str, text: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.headers = status, code, text, headers or {}


def operation_outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


class ModelQueue:
    """The one thread that runs the model, fed by a bounded queue."""

    def __init__(self, size: int) -> None:
        self.jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue(size)
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
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:  # handed to the request that asked
                    future.set_exception(exc)

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=60)


def _convert(pipeline: Pipeline, body: bytes, suffix: str, max_bytes: int) -> bytes:
    """Enrich one request body through `convert_file` in a private folder."""
    with tempfile.TemporaryDirectory(prefix="radlite-serve-") as folder:
        source = Path(folder) / f"request{suffix}"
        source.write_bytes(body)
        outcome = convert_file(pipeline, source, Path(folder) / "out", "enriched", max_bytes)
        if outcome.errors:
            raise HttpProblem(
                400 if not outcome.findings else 422,
                "invalid",
                "; ".join(error.problem for error in outcome.errors),
            )
        if not outcome.outputs:
            raise HttpProblem(422, "processing", "no coded result and no impression to write")
        return outcome.outputs[0].read_bytes()


def build_app(settings: ServeSettings, pipeline: Pipeline) -> FastAPI:
    """The FastAPI application; its model thread stops when the server shuts down."""
    max_bytes = int(settings.max_body_mb * 1_000_000)
    answered: Counter[tuple[str, int]] = Counter()
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
        return JSONResponse(
            operation_outcome(exc.code, exc.text),
            status_code=exc.status,
            media_type=FHIR_JSON,
            headers=exc.headers,
        )

    def authorize(request: Request) -> None:
        if settings.token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
            raise HttpProblem(
                401,
                "login",
                "a valid bearer token is required",
                {"WWW-Authenticate": 'Bearer realm="radlite"'},
            )

    async def read_body(request: Request, types: tuple[str, ...]) -> bytes:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in types:
            raise HttpProblem(415, "not-supported", f"content type must be {' or '.join(types)}")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise HttpProblem(413, "too-costly", f"body over the limit of {max_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise HttpProblem(413, "too-costly", f"body over the limit of {max_bytes} bytes")
        if not body:
            raise HttpProblem(400, "invalid", "empty request body")
        return bytes(body)

    async def enrich(body: bytes, suffix: str) -> bytes:
        retry = {"Retry-After": str(settings.retry_after_s)}
        try:
            future = model_queue.submit(lambda: _convert(pipeline, body, suffix, max_bytes))
        except queue.Full:
            raise HttpProblem(503, "throttled", "the model queue is full", retry) from None
        try:
            return await asyncio.wrap_future(future)
        except ModelError as exc:
            raise HttpProblem(503, "transient", f"model unavailable: {exc}", retry) from None

    fhir_body = {"type": "object", "properties": {"resourceType": {"type": "string"}}}
    errors = {
        str(code): {"description": text, "content": {FHIR_JSON: {}}}
        for code, text in [
            (400, "unreadable input (OperationOutcome)"),
            (401, "missing or wrong bearer token"),
            (413, "body over the size limit"),
            (415, "wrong content type"),
            (422, "nothing could be enriched"),
            (503, "model queue full (Retry-After)"),
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
        authorize(request)
        body = await read_body(request, (FHIR_JSON, "application/json"))
        result = await enrich(body, ".json")
        answered[(request.url.path, 200)] += 1
        return Response(result, media_type=FHIR_JSON)

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
        authorize(request)
        body = await read_body(request, (DICOM,))
        result = await enrich(body, ".dcm")
        answered[(request.url.path, 200)] += 1
        return Response(result, media_type=DICOM)

    @app.get("/healthz", summary="liveness and queue depth")
    async def healthz() -> dict[str, Any]:
        return {"ok": model_queue.thread.is_alive(), "queued": model_queue.jobs.qsize()}

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
        ]
        return "\n".join(lines) + "\n"

    return app


def serve(settings: ServeSettings, pipeline: Pipeline) -> int:
    """Load the model, then serve until SIGTERM/SIGINT."""
    import uvicorn

    pipeline.warm_up()
    uvicorn.run(
        build_app(settings, pipeline), host=settings.host, port=settings.port, log_level="warning"
    )
    return 0
