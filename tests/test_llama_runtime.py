"""llama.cpp runtime on a real tiny GGUF: one load per process, grammar, context limits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from radlite_fhir.coding import load_code_tables
from radlite_fhir.engine import llama_runtime
from radlite_fhir.engine.registry import ModelSpec, Registry
from radlite_fhir.errors import ModelError
from radlite_fhir.tasks import all_tasks
from radlite_fhir.tasks.profiles import STRUCTURED
from tests.helpers import report


def _spec(smollm_path: Path) -> ModelSpec:
    return replace(Registry.load().get("smollm2-135m"), path=smollm_path)


def test_model_loads_once_per_process(smollm_path: Path) -> None:
    spec = _spec(smollm_path)
    assert llama_runtime.load(spec, 2) is llama_runtime.load(spec, 2)


def test_grammar_keeps_answers_in_the_label_set(smollm_path: Path) -> None:
    model = llama_runtime.load(_spec(smollm_path), 2)
    sample = report("FINDINGS:\nSpiculated 2 cm mass in the left breast.")
    call = all_tasks()["rads"].calls(sample, STRUCTURED)[0]
    completion = model.complete(call)
    assert completion.text in load_code_tables().rads_labels()
    assert completion.prompt_tokens > 20 and completion.completion_tokens >= 1


def test_prompt_longer_than_the_context_is_refused(smollm_path: Path) -> None:
    model = llama_runtime.load(_spec(smollm_path), 2)
    sample = report("FINDINGS:\n" + "The lungs are clear. " * 600)
    call = all_tasks()["impression"].calls(sample, STRUCTURED)[0]
    with pytest.raises(ModelError, match="exceeds the context of 2048 tokens"):
        model.complete(call)
