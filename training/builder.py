"""Records -> chat samples, through the prompt code the product runs, split by group.

A sample is the exact prompt text the product sends (ChatML, system prompt, report, and under
the structured profile the answer label) plus the completion the model should write, ending in
<|im_end|>. Training on these strings means the adapter learns the product's inputs, not a
paraphrase of them. The split is drawn per group (patient or report) from a seeded hash, so it
does not depend on row order and no group is on both sides. Per-task sampling weights (the
paper's: RADS 3x, NLI 3x, impression 1.5x, others 1x) repeat training samples; held-out
samples are never repeated.

Feature questions (RADS_FEATURES) are the product's own too: the question the product asks
when the lexicon leaves a feature missing (radlite_fhir.tasks.rads_features), its label and
quotation format imported, never copied; they are built only for recipes that name the task.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from radlite_fhir.tasks.ner import KINDS as NER_LINE_KINDS
from radlite_fhir.tasks.profiles import (
    IM_END,
    RADLITE,
    STRUCTURED,
    radlite_call,
    structured_call,
)
from radlite_fhir.tasks.staging import NOT_APPLICABLE
from training.feature_questions import feature_questions
from training.records import (
    ABNORMALITY,
    IMPRESSION,
    NER,
    NLI,
    RADS,
    RADS_FEATURES,
    TNM,
    Record,
)

# radlite-contract.md "Training recipe": per-task sampling weights (temporal, QA: no source).
# Feature questions are ours (1x; each report already gives several).
PAPER_WEIGHTS = {
    RADS: 3.0,
    NLI: 3.0,
    IMPRESSION: 1.5,
    TNM: 1.0,
    NER: 1.0,
    ABNORMALITY: 1.0,
    RADS_FEATURES: 1.0,
}
# The tasks a recipe trains unless it names its own: every target the shipped adapters saw.
DEFAULT_TASKS = (RADS, TNM, NER, IMPRESSION, NLI, ABNORMALITY)
MAX_FEATURE_QUESTIONS = 4  # per report, as the product asks at most 4 (rads_features)
SPLITS = ("train", "validation", "test")
MAX_NER_ITEMS = 12  # the structured NER grammar admits at most 12 items per line
ABNORMALITY_ORDER = (
    "atelectasis",
    "cardiomegaly",
    "consolidation",
    "edema",
    "enlarged cardiomediastinum",
    "fracture",
    "lung lesion",
    "lung opacity",
    "pleural effusion",
    "pleural other",
    "pneumonia",
    "pneumothorax",
    "support devices",
    "no finding",
)


@dataclass(frozen=True)
class Sample:
    """One supervised example: the loss is on `completion` only."""

    task: str
    profile: str
    source: str
    record_id: str
    prompt: str
    completion: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def split_of(group: str, seed: int, test_share: float, validation_share: float) -> str:
    """'train' / 'validation' / 'test' for a group, stable under row order and seed-fixed."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    if fraction < test_share:
        return "test"
    if fraction < test_share + validation_share:
        return "validation"
    return "train"


def ner_lines(entities: list[tuple[str, str]]) -> tuple[str, str, str, str]:
    """The four item lists in the product's line format; items the grammar cannot carry
    (separators inside, over 60 characters) are left out."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in NER_LINE_KINDS.values()}
    for kind, text in entities:
        item = " ".join(text.split())
        if not item or len(item) > 60 or any(c in item for c in ";,<\n"):
            continue
        items = by_kind[kind]
        if item.lower() not in {x.lower() for x in items} and len(items) < MAX_NER_ITEMS:
            items.append(item)
    anatomy, present, absent, uncertain = (
        "; ".join(by_kind[k]) or "none"
        for k in ("anatomy", "observation_present", "observation_absent", "observation_uncertain")
    )
    return anatomy, present, absent, uncertain


def _ner_answer(entities: list[tuple[str, str]]) -> str:
    anatomy, present, absent, uncertain = ner_lines(entities)
    return (
        f"Anatomy: {anatomy}\nObservation (Present): {present}\n"
        f"Observation (Absent): {absent}\nObservation (Uncertain): {uncertain}"
    )


def _structured(record: Record, feature_cap: int) -> Iterator[tuple[str, str, str]]:
    """(task, prompt, completion) under the structured profile (labels written by us)."""
    targets = record.targets
    if RADS in targets:
        call = structured_call("rads_assignment", record.text, 16)
        yield RADS, call.prompt, f" {targets[RADS]}"
    tnm = targets.get(TNM)
    if tnm == {}:
        yield TNM, structured_call("tnm_staging", record.text, 16).prompt, f" {NOT_APPLICABLE}"
    elif tnm is not None and set(tnm) == {"T", "N", "M"}:
        answer = f" {tnm['T']} {tnm['N']} {tnm['M']}"
        yield TNM, structured_call("tnm_staging", record.text, 16).prompt, answer
    if NER in targets:
        call = structured_call("radiology_ner", record.text, 200)
        yield NER, call.prompt, " " + _ner_answer(targets[NER]).removeprefix("Anatomy: ")
    if IMPRESSION in targets:
        call = structured_call("impression_generation", record.findings or record.text, 160)
        yield IMPRESSION, call.prompt, f" {targets[IMPRESSION]}"
    if RADS_FEATURES in targets and feature_cap > 0:
        for question in feature_questions(record, feature_cap):
            yield RADS_FEATURES, question.prompt, question.completion


def _radlite(record: Record, feature_cap: int) -> Iterator[tuple[str, str, str]]:
    """(task, prompt, completion) under RadLite's published prompts."""
    targets = record.targets
    if RADS in targets:
        yield RADS, radlite_call("rads_assignment", record.text).prompt, targets[RADS]
    tnm = targets.get(TNM) or {}
    n, m = tnm.get("N"), tnm.get("M")
    if n and n != "NX":
        involvement = "Negative" if n == "N0" else "Positive"
        answer = f"{involvement}. N staging: {n}"
        yield TNM, radlite_call("n_staging", record.text).prompt, answer
    if m and m != "MX":
        yield TNM, radlite_call("m_staging", record.text).prompt, m
    if NER in targets:
        yield NER, radlite_call("radiology_ner", record.text).prompt, _ner_answer(targets[NER])
    if IMPRESSION in targets:
        findings = record.findings or record.text
        yield (
            IMPRESSION,
            radlite_call("impression_generation", findings).prompt,
            targets[IMPRESSION],
        )
    if NLI in targets:
        yield NLI, radlite_call("radiology_nli", record.text).prompt, targets[NLI]
    if ABNORMALITY in targets:
        found = targets[ABNORMALITY]
        answer = "\n".join(f"{name}: {found.get(name, 'negative')}" for name in ABNORMALITY_ORDER)
        yield ABNORMALITY, radlite_call("abnormality_detection", record.text).prompt, answer


def samples(
    record: Record,
    profiles: Iterable[str],
    tasks: Iterable[str] = DEFAULT_TASKS,
    feature_cap: int = MAX_FEATURE_QUESTIONS,
) -> list[Sample]:
    """The record's samples for the selected tasks (feature questions: at most `feature_cap`
    per report, structured profile only: RadLite's prompt set has no such task)."""
    selected = set(tasks)
    out = []
    for profile in profiles:
        make = {STRUCTURED: _structured, RADLITE: _radlite}[profile]
        for task, prompt, completion in make(record, feature_cap):
            if task not in selected:
                continue
            out.append(
                Sample(task, profile, record.source, record.record_id, prompt, completion + IM_END)
            )
    return out


@dataclass(frozen=True)
class SplitConfig:
    seed: int = 13
    test_share: float = 0.1
    validation_share: float = 0.05


def split_records(records: Iterable[Record], config: SplitConfig) -> dict[str, list[Record]]:
    parts: dict[str, list[Record]] = {name: [] for name in SPLITS}
    for record in records:
        key = f"{record.source}:{record.group}"
        parts[split_of(key, config.seed, config.test_share, config.validation_share)].append(record)
    return parts


def build(
    parts: dict[str, list[Record]],
    profiles: Iterable[str],
    weights: dict[str, float],
    seed: int,
    tasks: Iterable[str] = DEFAULT_TASKS,
    feature_cap: int = MAX_FEATURE_QUESTIONS,
) -> dict[str, list[Sample]]:
    """Samples per split; training samples repeated by task weight (a fractional weight is a
    seeded draw) and shuffled."""
    profiles = tuple(profiles)
    tasks = tuple(tasks)
    rng = random.Random(seed)
    built: dict[str, list[Sample]] = {}
    for name, records in parts.items():
        chosen: list[Sample] = []
        for record in records:
            for sample in samples(record, profiles, tasks, feature_cap):
                copies = 1
                if name == "train":
                    weight = weights.get(sample.task, 1.0)
                    copies = int(weight) + (rng.random() < weight - int(weight))
                chosen.extend([sample] * copies)
        if name == "train":
            rng.shuffle(chosen)
        built[name] = chosen
    return built


def write_jsonl(path: Path, items: Iterable[Sample]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for sample in items:
            handle.write(sample.to_json() + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> list[Sample]:
    with path.open(encoding="utf-8") as handle:
        return [Sample(**json.loads(line)) for line in handle if line.strip()]
