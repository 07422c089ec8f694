"""A training run is a YAML recipe: base model, data, LoRA and optimiser settings.

Defaults are the paper's LoRA settings (r=64, alpha=128, dropout 0.05, the seven attention and
MLP projections). Where the paper is silent the defaults are our choices, named here: learning
rate 2e-4 with 3% warm-up and cosine decay, 2 epochs, sequences up to 1,536 tokens (longer
samples are dropped and counted, never cut: a cut report could hide its label's evidence), loss
on the completion only, AdamW without weight decay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from training.builder import DEFAULT_TASKS, MAX_FEATURE_QUESTIONS, PAPER_WEIGHTS
from training.records import TARGETS

SEVEN_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class Base:
    model: str | None = None  # a name in the product's model registry (a GGUF, sha256-checked)
    gguf: str | None = None  # or a GGUF path
    hf: str | None = None  # or a Hugging Face folder


@dataclass(frozen=True)
class SourceSpec:
    name: str
    path: str  # relative to the data directory given on the command line
    limit: int | None = None


@dataclass(frozen=True)
class Data:
    sources: tuple[SourceSpec, ...] = ()
    synthetic: int = 0
    synthetic_seed: int = 7
    seed: int = 13
    test_share: float = 0.1
    validation_share: float = 0.05
    weights: dict[str, float] = field(default_factory=lambda: dict(PAPER_WEIGHTS))
    # Which targets become samples (training.records names); rads_features only when named.
    tasks: tuple[str, ...] = DEFAULT_TASKS
    feature_questions: int = MAX_FEATURE_QUESTIONS  # per report, when rads_features is named
    # The generator's mix: share of its reports from exams no RADS system covers, and the
    # share stating the category in the impression.
    no_rads_share: float = 0.35
    state_share: float = 0.5


@dataclass(frozen=True)
class Lora:
    r: int = 64
    alpha: int = 128
    dropout: float = 0.05
    target_modules: tuple[str, ...] = SEVEN_PROJECTIONS
    # Which decoder layers carry the adapter (peft's layers_to_transform); None: all. Adapting
    # only the upper layers stops the backward pass there, which is what makes a CPU run of a
    # 0.5B base fit in hours rather than days (a pilot, not the paper's setting).
    layers_to_transform: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Optim:
    learning_rate: float = 2e-4
    epochs: float = 2.0
    max_steps: int = 0  # > 0 stops there (smoke runs)
    batch_size: int = 8
    grad_accum: int = 1
    max_length: int = 1536
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    save_every: int = 100
    log_every: int = 10
    seed: int = 13


@dataclass(frozen=True)
class Recipe:
    name: str
    base: Base
    profiles: tuple[str, ...] = ("structured",)
    data: Data = field(default_factory=Data)
    lora: Lora = field(default_factory=Lora)
    train: Optim = field(default_factory=Optim)


def _build(kind: type, raw: dict[str, Any] | None, where: str) -> Any:
    raw = raw or {}
    known = {f.name for f in fields(kind)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


def load_recipe(path: Path) -> Recipe:
    raw = yaml.safe_load(path.read_text("utf-8")) or {}
    where = str(path)
    data_raw = dict(raw.get("data") or {})
    sources = tuple(
        _build(SourceSpec, s, f"{where}: data.sources") for s in data_raw.pop("sources", [])
    )
    weights = data_raw.pop("weights", None)
    data = _build(Data, data_raw, f"{where}: data")
    data = Data(
        **{**data.__dict__, "sources": sources, "weights": {**PAPER_WEIGHTS, **(weights or {})}}
    )
    recipe = Recipe(
        name=raw.get("name") or path.stem,
        base=_build(Base, raw.get("base"), f"{where}: base"),
        profiles=tuple(raw.get("profiles", ("structured",))),
        data=data,
        lora=_build(Lora, raw.get("lora"), f"{where}: lora"),
        train=_build(Optim, raw.get("train"), f"{where}: train"),
    )
    unknown_tasks = set(recipe.data.tasks) - set(TARGETS)
    if unknown_tasks:
        raise ValueError(f"{where}: data.tasks: unknown {sorted(unknown_tasks)} (known: {TARGETS})")
    if not 0.0 <= recipe.data.no_rads_share <= 1.0:
        raise ValueError(f"{where}: data.no_rads_share must lie in [0, 1]")
    if sum(x is not None for x in (recipe.base.model, recipe.base.gguf, recipe.base.hf)) != 1:
        raise ValueError(f"{where}: base needs exactly one of model, gguf, hf")
    return recipe
