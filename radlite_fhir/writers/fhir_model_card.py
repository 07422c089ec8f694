"""Model cards: the AI Transparency IG's AI-ModelCard DocumentReference for each model Device.

The IG describes a model by a card in the Hugging Face Markdown format (YAML front matter, then
Markdown) carried by a DocumentReference, referenced from the AI-Device (extension
modelCardDescription) and from the AI-Provenance (entity slice modelCard, role derivation).
The card's texts are data (mappings/model_cards.yaml, keyed by registry name); the registry's
facts (name, version, sha256 of the model and of its adapter) come from the ModelInfo the
result carries, so a card never states a digest other than the one that produced the result.

A named card is used only for the catalog's own file of that name: a site model registered
under a catalog name, or any other model, gets the generic card (we do not describe a model
we did not measure).
"""

from __future__ import annotations

import base64
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from radlite_fhir.coding import CodeTables
from radlite_fhir.errors import ConfigError
from radlite_fhir.report import ModelInfo

MARKDOWN = "text/markdown"
_CARDS_FILE = "model_cards.yaml"
_FIELDS = ("license", "base_model", "intended_use", "training_data", "limitations")


@dataclass(frozen=True)
class CardText:
    """What the registry does not know about a model: the card's prose, one field each."""

    license: str
    base_model: str
    intended_use: str
    training_data: str
    limitations: tuple[str, ...]


@dataclass(frozen=True)
class ModelCards:
    named: dict[str, CardText]
    generic: CardText


def _card(raw: Any, where: str) -> CardText:
    if not isinstance(raw, dict):
        raise ConfigError(f"mappings/{_CARDS_FILE}: {where} is not a mapping")
    missing = [f for f in _FIELDS if not raw.get(f)]
    if missing:
        raise ConfigError(f"mappings/{_CARDS_FILE}: {where} lacks {', '.join(missing)}")
    limits = raw["limitations"]
    if not isinstance(limits, list) or not all(isinstance(x, str) and x for x in limits):
        raise ConfigError(f"mappings/{_CARDS_FILE}: {where}.limitations is not a list of texts")
    return CardText(
        license=str(raw["license"]),
        base_model=str(raw["base_model"]),
        intended_use=" ".join(str(raw["intended_use"]).split()),
        training_data=" ".join(str(raw["training_data"]).split()),
        limitations=tuple(" ".join(x.split()) for x in limits),
    )


@cache
def load_model_cards() -> ModelCards:
    """The cards of mappings/model_cards.yaml, checked; a broken file stops start-up."""
    path = resources.files("radlite_fhir.mappings") / _CARDS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"mappings/{_CARDS_FILE}: cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("cards"), dict):
        raise ConfigError(f"mappings/{_CARDS_FILE}: no 'cards' mapping")
    return ModelCards(
        named={str(k): _card(v, f"cards.{k}") for k, v in raw["cards"].items()},
        generic=_card(raw.get("generic"), "generic"),
    )


@cache
def catalog_digests() -> dict[str, tuple[str, str | None]]:
    """name -> (model sha256, adapter sha256) of every model catalog.toml pins: the files the
    named cards describe. An adapter entry names its base, whose GGUF it runs on."""
    text = (resources.files("radlite_fhir.engine") / "catalog.toml").read_text("utf-8")
    models: dict[str, dict[str, Any]] = tomllib.loads(text)["models"]
    out: dict[str, tuple[str, str | None]] = {}
    for name, body in models.items():
        base = models.get(body["base"], {}) if "base" in body else body
        if "sha256" not in base:
            continue
        adapter = body.get("adapter_sha256")
        out[name] = (str(base["sha256"]).lower(), str(adapter).lower() if adapter else None)
    return out


def card_text(model: ModelInfo) -> CardText:
    """The named card when `model` is the catalog's file of that name, else the generic card."""
    cards = load_model_cards()
    pinned = catalog_digests().get(model.name)
    ours = (model.sha256.lower(), (model.adapter_sha256 or "").lower() or None)
    if pinned is not None and pinned == ours and model.name in cards.named:
        return cards.named[model.name]
    return cards.generic


def card_markdown(model: ModelInfo) -> str:
    """The card in the Hugging Face Markdown format: YAML front matter, then the sections."""
    text = card_text(model)
    front: dict[str, Any] = {"license": text.license, "language": ["en"]}
    if text is not load_model_cards().generic:
        front["base_model"] = text.base_model
    rows = [
        ("name", model.name),
        ("version", model.version),
        ("model sha256", model.sha256),
        ("adapter sha256", model.adapter_sha256 or "none"),
        ("prompt profile", model.profile),
        ("base model", text.base_model),
        ("licence", text.license),
    ]
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(),
        "---",
        "",
        f"# Model card: {model.name}",
        "",
        "| field | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "## Intended use",
        "",
        text.intended_use,
        "",
        "## Training data",
        "",
        text.training_data,
        "",
        "## Known limits",
        "",
        *(f"- {item}" for item in text.limitations),
        "",
    ]
    return "\n".join(lines)


def model_card_document(model: ModelInfo, tables: CodeTables, identifier: dict[str, str]) -> dict:
    """The AI-ModelCard DocumentReference (without id): type AIinputsCS#AIModelCard (the
    profile's closed slice: no other coding), category Markdown format, the card as
    text/markdown data and, for reading, as `description`."""
    markdown = card_markdown(model)
    return {
        "resourceType": "DocumentReference",
        "meta": {"profile": [tables.systems["ai_model_card_profile"]]},
        "identifier": [identifier],
        "status": "current",
        "type": {"coding": tables.observation_code("ai_transparency", "model_card_type")},
        "category": [{"coding": tables.observation_code("ai_transparency", "model_card_markdown")}],
        "description": markdown,
        "content": [
            {
                "attachment": {
                    "contentType": MARKDOWN,
                    "data": base64.b64encode(markdown.encode("utf-8")).decode("ascii"),
                    "title": f"Model card: {model.name}",
                }
            }
        ],
    }
