"""`radlite serve` over real HTTP (uvicorn on loopback) with a real model: round trips for FHIR
and DICOM, authentication, limits, concurrency, a full queue, and the OpenAPI document fuzzed
with schemathesis."""

from __future__ import annotations

import json
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

from radlite_fhir.engine.registry import Registry
from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.service.api import ServeSettings, build_app
from tests.conftest import SAMPLES, cached_models_home
from tests.sr_files import make_sr

TOKEN = "test-token-7d41"
FHIR = "application/fhir+json"


@dataclass
class Server:
    base: str

    def post(
        self, path: str, body: bytes, content_type: str, token: str | None = TOKEN
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=300) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@contextmanager
def _start(settings: ServeSettings) -> Iterator[Server]:
    """A real uvicorn server in a thread, with SmolLM2 (rads, impression) behind it."""
    import uvicorn

    with cached_models_home():  # the registry resolves model paths at load time
        pipeline = Pipeline(
            Registry.load(),
            PipelineSettings(model="smollm2-135m", tasks=("rads", "impression"), threads=2),
        )
        pipeline.warm_up()
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
        yield Server(f"http://127.0.0.1:{port}")
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture(scope="module")
def server(smollm_path: Path) -> Iterator[Server]:
    with _start(ServeSettings(token=TOKEN, max_body_mb=0.2, queue_size=8)) as running:
        yield running


def _outcome(body: bytes) -> str:
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome" and schema_errors(outcome) == []
    return outcome["issue"][0]["diagnostics"]


@pytest.mark.model
def test_fhir_round_trip_gives_the_enriched_bundle(server: Server) -> None:
    sample = (SAMPLES / "mammo-birads4b.json").read_bytes()
    status, headers, body = server.post("/fhir/DiagnosticReport/$enrich", sample, FHIR)
    assert status == 200 and headers["content-type"].startswith(FHIR)
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
    with _start(ServeSettings(queue_size=1, retry_after_s=7)) as small:
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
