"""`radlite serve` over real HTTP (uvicorn on loopback) with a real model: round trips for FHIR
and DICOM, authentication, limits, concurrency, a full queue, a request over its time budget,
and the OpenAPI document fuzzed with schemathesis. Without a model: every failure answered as
an OperationOutcome with no report text in it, the per-request report cap, an internal error,
and a token file that holds no token."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread

from radlite_fhir.budget import TimeBudget
from radlite_fhir.cli import main
from radlite_fhir.engine.registry import Registry
from radlite_fhir.errors import ConfigError
from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.report import Findings, Report
from radlite_fhir.service.api import ServeSettings, build_app, read_token_file
from tests.conftest import SAMPLES, cached_models_home
from tests.sr_files import make_sr

TOKEN = "test-token-7d41"
FHIR = "application/fhir+json"


@dataclass
class Server:
    base: str

    def post(
        self,
        path: str,
        body: bytes | None,
        content_type: str,
        token: str | None = TOKEN,
        method: str = "POST",
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, body, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=300) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@contextmanager
def _serving(settings: ServeSettings, pipeline: Pipeline) -> Iterator[Server]:
    """A real uvicorn server in a thread on a free loopback port."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings, pipeline), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.1)
    try:
        yield Server(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def _pipeline(tasks: tuple[str, ...] = ("rads", "impression")) -> Pipeline:
    return Pipeline(Registry.load(), PipelineSettings(model="smollm2-135m", tasks=tasks, threads=2))


@contextmanager
def _start(settings: ServeSettings) -> Iterator[Server]:
    """A real uvicorn server in a thread, with SmolLM2 (rads, impression) behind it."""
    with cached_models_home():  # the registry resolves model paths at load time
        pipeline = _pipeline()
        pipeline.warm_up()
        with _serving(settings, pipeline) as running:
            yield running


@pytest.fixture(scope="module")
def server(smollm_path: Path) -> Iterator[Server]:
    settings = ServeSettings(token=TOKEN, max_body_mb=0.2, queue_size=8, request_budget_s=0)
    with _start(settings) as running:  # no time budget: a busy machine is not a failure here
        yield running


def _outcome(body: bytes) -> str:
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome" and schema_errors(outcome) == []
    return outcome["issue"][0]["diagnostics"]


@pytest.mark.model
def test_fhir_round_trip_gives_the_enriched_bundle(server: Server) -> None:
    sample = (SAMPLES / "mammo-birads4b.json").read_bytes()
    status, headers, body = server.post("/fhir/DiagnosticReport/$enrich", sample, FHIR)
    assert status == 200 and headers["content-type"].startswith(FHIR), body[:300]
    bundle = json.loads(body)
    assert schema_errors(bundle) == []
    report = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert report["resource"]["id"] == json.loads(sample)["id"]
    assert report["resource"]["result"]  # the new Observations are referenced


@pytest.mark.model
def test_dicom_round_trip_gives_the_enriched_sr(server: Server, tmp_path: Path) -> None:
    source = make_sr(tmp_path / "in.dcm", {"findings": "Clear lungs.", "impression": "Normal."})
    status, headers, body = server.post("/dicom/enrich", source.read_bytes(), "application/dicom")
    assert status == 200 and headers["content-type"] == "application/dicom"
    enriched = dcmread(BytesIO(body))
    cited = enriched.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
    assert cited.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == dcmread(source).SOPInstanceUID


@pytest.mark.model
def test_refusals_are_4xx_operation_outcomes(server: Server) -> None:
    sample = (SAMPLES / "mammo-birads4b.json").read_bytes()
    path = "/fhir/DiagnosticReport/$enrich"
    status, headers, body = server.post(path, sample, FHIR, token=None)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in _outcome(body)
    assert server.post(path, sample, FHIR, token="wrong")[0] == 401
    status, _, body = server.post(path, b"{" + b" " * 300_000 + b"}", FHIR)
    assert status == 413 and "over the limit" in _outcome(body)
    status, _, body = server.post(path, b'{"resourceType": "DiagnosticReport",', FHIR)
    assert status == 400 and _outcome(body).startswith("not JSON")
    status, _, body = server.post(path, sample, "text/plain")
    assert status == 415 and _outcome(body)
    status, _, body = server.post("/dicom/enrich", b"\x00" * 200, "application/dicom")
    assert status == 400 and _outcome(body).startswith("not a DICOM file")


@pytest.mark.model
def test_concurrent_requests_are_each_answered_with_their_own_report(server: Server) -> None:
    samples = sorted(SAMPLES.glob("*.json"))[1:5]

    def ask(path: Path) -> tuple[str, str]:
        status, _, body = server.post("/fhir/DiagnosticReport/$enrich", path.read_bytes(), FHIR)
        assert status == 200
        bundle = json.loads(body)
        kinds = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
        return json.loads(path.read_text())["id"], kinds["DiagnosticReport"]["id"]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, samples))
    assert [sent for sent, _ in answers] == [got for _, got in answers]


@pytest.mark.model
def test_a_full_queue_answers_503_with_retry_after(smollm_path: Path) -> None:
    sample = (SAMPLES / "ct-staging-tnm.json").read_bytes()
    with _start(ServeSettings(queue_size=1, retry_after_s=7, request_budget_s=0)) as small:
        ask = partial(small.post, "/fhir/DiagnosticReport/$enrich", sample, FHIR, None)
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda _: ask(), range(6)))
        statuses = sorted(status for status, _, _ in replies)
        assert statuses[0] == 200 and statuses[-1] == 503, statuses
        assert set(statuses) == {200, 503}
        busy = next(reply for reply in replies if reply[0] == 503)
        assert busy[1]["retry-after"] == "7" and "queue is full" in _outcome(busy[2])


@pytest.mark.model
def test_openapi_document_fuzzed_without_a_server_error(server: Server) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    @schemathesis.serializer("application/dicom")
    def raw_bytes(_ctx: object, value: object) -> bytes:  # the schema's binary string
        return value if isinstance(value, bytes) else str(value).encode()

    schema = schemathesis.openapi.from_url(server.base + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/fhir/DiagnosticReport/$enrich", "/dicom/enrich"}
    calls: Counter[str] = Counter()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300)
            calls[case.path] += 1
            assert response.status_code < 500, (case.path, response.status_code, response.text)

        no_server_error()
    assert calls["/fhir/DiagnosticReport/$enrich"] >= 10 and calls["/dicom/enrich"] >= 10


MARKER = "ZQX-MARKER-4417 left breast mass"  # planted report text: must reach no error body


def _sample() -> dict:
    return json.loads((SAMPLES / "mammo-birads4b.json").read_text())


def _marked_report() -> dict:
    report = _sample()
    report["presentedForm"][0]["data"] = base64.b64encode(
        f"FINDINGS: {MARKER}.\nIMPRESSION: {MARKER}.".encode()
    ).decode()
    report["presentedForm"][0]["contentType"] = "text/plain"
    return report


def _bundle(count: int, report: dict | None = None) -> bytes:
    report = report or _marked_report()
    entries = [{"resource": {**report, "id": f"r{n}"}} for n in range(count)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


@pytest.fixture(scope="module")
def modelless() -> Iterator[Server]:
    """`serve` with a pipeline never loaded: every request here fails before the model."""
    with cached_models_home():
        settings = ServeSettings(token=TOKEN, max_body_mb=5.0, max_reports=100)
        with _serving(settings, _pipeline()) as running:
            yield running


def _refusal(reply: tuple[int, dict[str, str], bytes], status: int, code: str) -> str:
    """The reply is `status`, an OperationOutcome with issue `code`, and holds no report text
    and no traceback; its diagnostic is returned."""
    got, headers, body = reply
    assert got == status, (got, body[:300])
    assert headers["content-type"].startswith(FHIR), headers
    assert MARKER.encode() not in body and b"Traceback" not in body
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome" and schema_errors(outcome) == []
    assert outcome["issue"][0]["code"] == code
    return outcome["issue"][0]["diagnostics"]


def test_every_failure_is_an_operation_outcome_without_report_text(modelless: Server) -> None:
    enrich = "/fhir/DiagnosticReport/$enrich"
    marked = json.dumps(_marked_report()).encode()
    deep = (
        b'{"resourceType": "DiagnosticReport", "conclusion": "' + MARKER.encode() + b'", "x": '
        + b"[" * 50_000 + b"]" * 50_000 + b"}"
    )  # fmt: skip
    bad_status = json.dumps({**_marked_report(), "status": MARKER}).encode()
    post = modelless.post
    assert "not JSON" in _refusal(post(enrich, marked[:-40], FHIR), 400, "invalid")
    assert "nested deeper" in _refusal(post(enrich, deep, FHIR), 400, "invalid")
    assert "status" in _refusal(post(enrich, bad_status, FHIR), 400, "invalid")
    assert _refusal(post(enrich, marked, "text/plain"), 415, "not-supported")
    assert "bearer" in _refusal(post(enrich, marked, FHIR, token="wrong"), 401, "login")
    assert "no such endpoint" in _refusal(post("/fhir/Patient", marked, FHIR), 404, "not-found")
    assert _refusal(post("/nope", None, FHIR, method="GET"), 404, "not-found")
    assert _refusal(post(enrich, None, FHIR, method="GET"), 405, "not-supported")
    assert "not a DICOM file" in _refusal(
        post("/dicom/enrich", MARKER.encode() * 10, "application/dicom"), 400, "invalid"
    )


def test_a_bundle_of_20000_reports_is_refused_before_the_model(modelless: Server) -> None:
    bundle = _bundle(20_000, {"resourceType": "DiagnosticReport", "status": "final",
                              "code": {"text": "CT"}, "conclusion": MARKER})  # fmt: skip
    assert 2_000_000 < len(bundle) < 5_000_000  # the 3 MB, under the body limit
    reply = modelless.post("/fhir/DiagnosticReport/$enrich", bundle, FHIR)
    text = _refusal(reply, 413, "too-costly")
    assert "20000 reports" in text and "limit of 100" in text and "--max-reports" in text
    with urllib.request.urlopen(modelless.base + "/healthz", timeout=30) as health:
        assert json.loads(health.read()) == {"ok": True, "queued": 0, "running": False}


def test_the_report_cap_and_the_body_limit_are_configurable() -> None:
    settings = ServeSettings(max_reports=2, max_body_mb=0.05)
    with cached_models_home(), _serving(settings, _pipeline()) as small:
        reply = small.post("/fhir/DiagnosticReport/$enrich", _bundle(3), FHIR, token=None)
        assert "limit of 2" in _refusal(reply, 413, "too-costly")
        too_big = _bundle(1) + b" " * 60_000
        reply = small.post("/fhir/DiagnosticReport/$enrich", too_big, FHIR, token=None)
        assert "--max-body-mb" in _refusal(reply, 413, "too-costly")
    with pytest.raises(ConfigError, match="max_reports"):
        ServeSettings(max_reports=0)


class _FailingPipeline(Pipeline):
    """A pipeline with a bug: no real input makes the product raise an unexpected exception
    (those are bugs), so one is injected here to test the last line of defence."""

    def enrich(self, report: Report, budget: TimeBudget | None = None) -> Findings:
        raise RuntimeError(f"unexpected state while reading {MARKER}")


def test_an_internal_error_is_a_500_outcome_with_only_its_type_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with cached_models_home():
        failing = _FailingPipeline(Registry.load(), PipelineSettings(model="smollm2-135m"))
        with _serving(ServeSettings(), failing) as server, caplog.at_level(logging.ERROR):
            sample = (SAMPLES / "mammo-birads4b.json").read_bytes()
            reply = server.post("/fhir/DiagnosticReport/$enrich", sample, FHIR, token=None)
            assert "RuntimeError" in _refusal(reply, 500, "exception")
            reply = server.post("/fhir/DiagnosticReport/$enrich", sample, FHIR, token=None)
            assert reply[0] == 500  # the model thread goes on
    assert MARKER not in caplog.text and "RuntimeError" in caplog.text


def test_a_token_file_without_a_token_stops_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for content in ("", " \n\t\n"):
        empty = tmp_path / "token"
        empty.write_text(content)
        with pytest.raises(ConfigError, match="holds no token"):
            read_token_file(empty)
        assert main(["serve", "--token-file", str(empty)]) == 2
        assert "holds no token" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="cannot be read"):
        read_token_file(tmp_path / "missing")
    (tmp_path / "token").write_text(f"  {TOKEN}\n")
    assert read_token_file(tmp_path / "token") == TOKEN


@pytest.mark.model
def test_a_request_over_its_time_budget_is_503_and_the_model_is_freed(
    smollm_path: Path,
) -> None:
    bundle = _bundle(200, _sample())
    settings = ServeSettings(request_budget_s=1.0, max_reports=500, max_body_mb=5.0)
    with _start(settings) as server:
        reply = server.post("/fhir/DiagnosticReport/$enrich", bundle, FHIR, token=None)
        assert "--request-budget-s" in _refusal(reply, 503, "timeout")

        def idle() -> bool:
            with urllib.request.urlopen(server.base + "/healthz", timeout=30) as health:
                state = json.loads(health.read())
            return not state["running"] and state["queued"] == 0

        deadline = time.time() + 600  # a ceiling, not a measurement
        while not idle():
            assert time.time() < deadline, "the model thread is still on the request"
            time.sleep(0.5)
        with urllib.request.urlopen(server.base + "/metrics", timeout=30) as metrics:
            text = metrics.read().decode()  # stopped by the budget, not run to the end
        assert "radlite_http_budget_stops_total 1" in text
