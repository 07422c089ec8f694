"""AI Transparency documents: the model card (AI-ModelCard) and the prompt template
(AI-InputPrompt), as the Device and the Provenance reference them."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

from radlite_fhir.errors import ConfigError
from radlite_fhir.fhir_schema import schema_errors
from radlite_fhir.report import Findings, ModelInfo
from radlite_fhir.tasks import Answer, all_tasks
from radlite_fhir.tasks.profiles import (
    PROMPT_VERSIONS,
    RADLITE,
    STRUCTURED,
    STRUCTURED_TASKS,
    radlite_call,
    structured_call,
)
from radlite_fhir.writers import fhir_model_card
from radlite_fhir.writers.fhir import render
from radlite_fhir.writers.fhir_input_prompt import (
    RADLITE_PRODUCT_TASKS,
    REPORT_PLACEHOLDER,
    prompt_template,
)
from radlite_fhir.writers.fhir_model_card import catalog_digests, load_model_cards
from tests.helpers import MODEL, report

AIT = "http://hl7.org/fhir/uv/aitransparency"
AI_INPUTS = f"{AIT}/CodeSystem/AIinputsCS"
CURRENT = replace(MODEL, prompt_version=PROMPT_VERSIONS[STRUCTURED])
TEXT = "CLINICAL HISTORY: Jane Roe, screening.\nIMPRESSION:\nSpiculated mass. BI-RADS 5.\n"


def _entries(text: str, model: ModelInfo = CURRENT, output_format: str = "bundle") -> list[dict]:
    source = report(text, exam="Mammogram")
    given = {
        "rads_assignment": Answer("RADS: BI-RADS 5", model),
        "impression_generation": Answer("Impression: Highly suspicious mass.", model),
    }
    results = [r for task in all_tasks().values() for r in task.interpret(source, given)]
    rendered = render([Findings(report=source, results=tuple(results))], output_format)
    if output_format == "ndjson":
        return [{"resource": json.loads(line)} for line in rendered.splitlines()]
    return json.loads(rendered)["entry"]


def _documents(entries: list[dict], profile: str) -> list[dict]:
    return [
        e
        for e in entries
        if e["resource"]["resourceType"] == "DocumentReference"
        and e["resource"]["meta"]["profile"] == [f"{AIT}/StructureDefinition/{profile}"]
    ]


def _markdown(document: dict) -> str:
    [content] = document["content"]
    assert content["attachment"]["contentType"] == "text/markdown"  # the profile: exactly
    return base64.b64decode(content["attachment"]["data"]).decode("utf-8")


def _catalog_model(name: str) -> ModelInfo:
    sha256, adapter = catalog_digests()[name]
    return ModelInfo(name, sha256, name, STRUCTURED, PROMPT_VERSIONS[STRUCTURED], adapter)


# --- model card -------------------------------------------------------------------------
def test_the_model_card_follows_ai_modelcard_and_the_device_and_provenance_point_at_it() -> None:
    entries = _entries(TEXT)
    [card] = _documents(entries, "AI-ModelCard")
    resource = card["resource"]
    assert resource["type"]["coding"] == [  # closed slice: this coding and no other
        {"system": AI_INPUTS, "code": "AIModelCard", "display": "AI Model-Card"}
    ]
    assert {"system": AI_INPUTS, "code": "AIModelCardMarkdownFormat"}.items() <= resource[
        "category"
    ][0]["coding"][0].items()
    assert resource["status"] == "current"
    assert _markdown(resource) == resource["description"]
    assert MODEL.sha256 in resource["description"]
    assert card["request"]["url"].startswith("DocumentReference?identifier=")
    [device] = [e["resource"] for e in entries if e["resource"]["resourceType"] == "Device"]
    [link] = [x for x in device["extension"] if x["url"].endswith("modelCardDescription")]
    assert link == {
        "url": f"{AIT}/StructureDefinition/aitransparency.modelCardDescription",
        "valueReference": {"reference": card["fullUrl"]},
    }
    provenance = entries[-1]["resource"]
    assert {"role": "derivation", "what": {"reference": card["fullUrl"]}} in provenance["entity"]
    assert schema_errors(resource) == []


def test_every_catalog_model_has_its_card_and_a_card_describes_only_the_catalog_file() -> None:
    cards = load_model_cards()
    assert set(catalog_digests()) <= set(cards.named)
    mini = _catalog_model("radlite-mini")
    assert mini.adapter_sha256 is not None
    text = fhir_model_card.card_markdown(mini)
    assert cards.named["radlite-mini"].training_data in text
    assert f"| adapter sha256 | {mini.adapter_sha256} |" in text
    assert "base_model:" in text.split("---")[1]  # the Hugging Face front matter
    for other in (
        replace(mini, adapter_sha256="00" * 32),  # another adapter on the catalog's base
        replace(mini, sha256="11" * 32),  # a site file registered under the catalog's name
        replace(mini, name="my-site-model"),
    ):
        markdown = fhir_model_card.card_markdown(other)
        assert cards.generic.training_data in markdown
        assert cards.named["radlite-mini"].training_data not in markdown
        assert f"# Model card: {other.name}" in markdown


def test_one_card_per_model_whatever_the_number_of_reports() -> None:
    source = [report(TEXT, exam="Mammogram"), report(TEXT + "Addendum.\n", exam="Mammogram")]
    given = {"rads_assignment": Answer("RADS: BI-RADS 5", CURRENT)}
    findings = [
        Findings(report=r, results=tuple(all_tasks()["rads"].interpret(r, given))) for r in source
    ]
    entries = json.loads(render(findings, "bundle"))["entry"]
    assert len(_documents(entries, "AI-ModelCard")) == 1
    assert len(_documents(entries, "AI-InputPrompt")) == 1
    assert sum(e["resource"]["resourceType"] == "Provenance" for e in entries) == 2


@pytest.mark.parametrize(
    ("card", "rule"),
    [
        ({"license": "MIT"}, "lacks base_model, intended_use, training_data, limitations"),
        (
            {
                "license": "MIT",
                "base_model": "b",
                "intended_use": "u",
                "training_data": "t",
                "limitations": "not a list",
            },
            "limitations is not a list of texts",
        ),
        ("a text", "is not a mapping"),
    ],
)
def test_a_broken_card_names_the_file_the_entry_and_the_rule(card: object, rule: str) -> None:
    with pytest.raises(ConfigError) as raised:
        fhir_model_card._card(card, "cards.x")
    assert str(raised.value).startswith("mappings/model_cards.yaml: cards.x")
    assert rule in str(raised.value)


# --- input prompt -----------------------------------------------------------------------
def test_the_prompt_document_carries_the_template_never_the_report() -> None:
    first, second = _entries(TEXT), _entries(TEXT.replace("Jane Roe", "John Doe"))
    [prompt] = _documents(first, "AI-InputPrompt")
    assert _documents(second, "AI-InputPrompt") == [prompt]  # the same for every report
    resource = prompt["resource"]
    assert resource["type"]["coding"] == [
        {"system": AI_INPUTS, "code": "AIInputPrompt", "display": "AI Input Prompt"}
    ]
    assert resource["identifier"][0]["value"] == PROMPT_VERSIONS[STRUCTURED]
    markdown = _markdown(resource)
    assert "Jane Roe" not in json.dumps(resource) and "Jane Roe" not in markdown
    assert REPORT_PLACEHOLDER in markdown
    provenance = first[-1]["resource"]
    assert {"role": "derivation", "what": {"reference": prompt["fullUrl"]}} in provenance["entity"]
    assert "extension" not in provenance  # the IG's entity replaces the project extension
    assert schema_errors(resource) == []


@pytest.mark.parametrize("profile", [STRUCTURED, RADLITE])
def test_the_template_is_the_prompt_the_product_sends_with_the_report_taken_out(
    profile: str,
) -> None:
    template = prompt_template(profile, PROMPT_VERSIONS[profile])
    keys = tuple(STRUCTURED_TASKS) if profile == STRUCTURED else RADLITE_PRODUCT_TASKS
    assert [key for key, _ in template.prompts] == list(keys)
    for key, text in template.prompts:
        sent = (
            structured_call(key, TEXT, max_tokens=16).prompt
            if profile == STRUCTURED
            else radlite_call(key, TEXT).prompt
        )
        assert text.replace(REPORT_PLACEHOLDER, TEXT) == sent
        assert f"## {key}\n\n````text\n{text}\n````" in template.markdown()


def test_a_prompt_version_this_code_does_not_send_gets_no_template_text() -> None:
    template = prompt_template(STRUCTURED, "structured-v0")
    assert template.prompts == ()
    assert "not of structured-v0" in template.markdown()
    with pytest.raises(ValueError, match="no prompt template"):
        prompt_template("other", "v1")


def test_ndjson_references_the_documents_by_literal_id() -> None:
    lines = [e["resource"] for e in _entries(TEXT, output_format="ndjson")]
    ids = {r["id"] for r in lines if r["resourceType"] == "DocumentReference"}
    provenance = lines[-1]
    derived = {e["what"]["reference"] for e in provenance["entity"] if e["role"] == "derivation"}
    assert derived == {f"DocumentReference/{i}" for i in ids} and len(ids) == 2


def test_explicit_statements_alone_write_no_card_and_no_prompt() -> None:
    source = report(TEXT, exam="Mammogram")
    results = tuple(all_tasks()["rads"].interpret(source, {}))
    entries = json.loads(render([Findings(report=source, results=results)], "bundle"))["entry"]
    kinds = [e["resource"]["resourceType"] for e in entries]
    assert kinds == ["Observation", "Provenance"]
    assert all(e["role"] == "source" for e in entries[-1]["resource"]["entity"])
