"""Fuzzing the FHIR writer's round trip (issue 11, item 7): report text of any Unicode.

A sample DiagnosticReport carries generated text (hostile characters, lone surrogates,
controls, astral characters) in its conclusion or in a presentedForm (text/plain with a
charset, or text/html); it is read, enriched by a pipeline with no model tasks, given results
whose values and evidence spans are that text (as a model's impression and entities would
be), and written as a transaction Bundle ("enriched"; NDJSON comes from the same builder).

Properties: the read refuses the input with an InputError or the whole trip succeeds; every
written resource passes the R4 JSON schema (radlite_fhir/fhir_schema.py); the output encodes
as UTF-8 (what `write_atomic` does); reading the written Bundle gives back the report with the
same text, and the written Observations hold the result values exactly.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from radlite_fhir.engine.registry import Registry
from radlite_fhir.errors import InputError
from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.pipeline import Pipeline, PipelineSettings
from radlite_fhir.readers import read_bytes
from radlite_fhir.report import Evidence, Origin, Status, TaskResult
from radlite_fhir.writers.fhir import render
from tests.helpers import MODEL
from tests.test_fuzz_support import (
    HOSTILE_CHARS,
    MARKER,
    SURROGATES,
    Tally,
    fuzz_settings,
    note_input,
    tallies,
    tally,
)

pytestmark = pytest.mark.fuzz

EXAMPLES = 1_000  # a trip reads twice and validates 7 resources: ~30 ms of CPU
SAMPLE = json.loads(
    (Path(__file__).resolve().parents[1] / "samples" / "mammo-birads4b.json").read_text("utf-8")
)
TEXT = st.text(
    st.one_of(st.characters(), st.sampled_from([*HOSTILE_CHARS, *SURROGATES])),
    min_size=1,
    max_size=60,
)
PLACES = ["conclusion", "text/plain", "text/plain; charset=utf-16", "text/html"]


def _source(text: str, place: str) -> dict[str, Any]:
    """The sample with `text` (and the marker) as its report text, at `place`."""
    body = f"{text} {MARKER}"
    source = {k: v for k, v in SAMPLE.items() if k != "presentedForm"}
    if place == "conclusion":
        source["conclusion"] = body
        return source
    charset = "utf-16" if "utf-16" in place else "utf-8"
    markup = f"<p>{html.escape(body)}</p>" if place == "text/html" else body
    data = base64.b64encode(markup.encode(charset, "surrogatepass")).decode("ascii")
    source["presentedForm"] = [{"contentType": place, "data": data}]
    return source


def _results(text: str) -> tuple[TaskResult, ...]:
    """A generated impression that repeats the report text, and an entity on a span of it."""
    end = max(1, len(text) // 2)
    return (
        TaskResult(
            task="impression",
            kind="impression",
            value=text,
            status=Status.CODED,
            origin=Origin.MODEL,
            model=MODEL,
            evidence=Evidence(0, len(text), text, kind="model-input"),
        ),
        TaskResult(
            task="ner",
            kind="entity:anatomy",
            value=text[:end],
            status=Status.CODED,
            origin=Origin.MODEL_AND_TEXT,
            model=MODEL,
            item_key=f"anatomy:{end}",
            evidence=Evidence(0, end, text[:end], kind="mention"),
        ),
    )


def _no_constant(name: str) -> None:
    raise AssertionError(f"the output holds {name}, which is no JSON")


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> Iterator[dict[str, Tally]]:
    with tallies(request) as found:
        yield found


def test_any_text_survives_write_and_read_back(summary: dict[str, Tally], home: Path) -> None:
    count = tally(summary, "fhir writer: round trip")
    pipeline = Pipeline(Registry.load(), PipelineSettings(tasks=()))
    (warm,) = read_bytes(Path("in.json"), json.dumps(_source("x", "conclusion")).encode()).reports
    render([replace(pipeline.enrich(warm), results=_results(warm.text))], "enriched")

    @fuzz_settings(EXAMPLES)
    @given(text=TEXT, place=st.sampled_from(PLACES), ascii_only=st.booleans())
    @example(
        text="Nodule\u00a08\u2009mm.\u2028No other finding.", place="conclusion", ascii_only=False
    )
    @example(text="a\ud800b", place="conclusion", ascii_only=True)
    def check(text: str, place: str, ascii_only: bool) -> None:
        content = json.dumps(_source(text, place), ensure_ascii=ascii_only)
        note_input(text=text, place=place, ascii_only=ascii_only)
        with count.timed():
            try:
                (report,) = read_bytes(
                    Path("in.json"), content.encode("utf-8", "surrogatepass")
                ).reports
            except InputError as error:
                assert MARKER not in str(error)
                return
            findings = pipeline.enrich(report)
            assert findings.results == ()  # no model tasks
            findings = replace(findings, results=_results(report.text))
            bundle = render([findings], "enriched").encode("utf-8")
            (back,) = read_bytes(Path("out.json"), bundle).reports
        assert back.text == report.text
        # The writer validates every resource it builds (a failure raises SchemaViolation
        # and fails this test); the Observations, which carry the text, are checked once
        # more as written, parsed back (a value JSON cannot hold would show here).
        written = [e["resource"] for e in json.loads(bundle, parse_constant=_no_constant)["entry"]]
        observations = [r for r in written if r["resourceType"] == "Observation"]
        for resource in observations:
            assert schema_errors(resource) == []
        (impression,) = [r for r in observations if r["code"]["text"] == "Generated impression"]
        assert impression["valueString"] == report.text
        span = report.text[: max(1, len(report.text) // 2)]
        assert any(r.get("valueString") == span for r in observations if r is not impression)

    check()
    count.done(fuzz_settings(EXAMPLES).max_examples)
