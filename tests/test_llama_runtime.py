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
    assert completion.text[0] == " "  # the answer continues after the label "RADS:"
    assert completion.text[1:] in load_code_tables().rads_labels()
    assert completion.prompt_tokens > 20 and completion.completion_tokens >= 1


def test_prompt_longer_than_the_context_is_refused(smollm_path: Path) -> None:
    model = llama_runtime.load(_spec(smollm_path), 2)
    sample = report("FINDINGS:\n" + "The lungs are clear. " * 600)
    call = all_tasks()["impression"].calls(sample, STRUCTURED)[0]
    with pytest.raises(ModelError, match="exceeds the context of 2048 tokens"):
        model.complete(call)


def _calls(task: str, text: str):
    return all_tasks()[task].calls(report(text), STRUCTURED)


REPORT = (
    "FINDINGS:\nIrregular spiculated 2 cm mass in the upper outer left breast with "
    "pleomorphic calcifications.\nIMPRESSION:\nHighly suspicious left breast mass."
)


def test_report_is_read_once_for_all_tasks(smollm_path: Path) -> None:
    model = llama_runtime.LoadedModel(_spec(smollm_path), 2)
    calls = [c for task in ("rads", "staging", "ner", "impression") for c in _calls(task, REPORT)]
    done = [model.complete(call) for call in calls]
    assert done[0].evaluated_prompt_tokens == done[0].prompt_tokens  # fresh model: all of it
    for call, completion in zip(calls[1:], done[1:], strict=True):
        tag = call.prompt[len(call.segments[1]) :]  # task tag and turn end, after the report
        assert completion.evaluated_prompt_tokens <= model.count_tokens(tag) + 2
    other = model.complete(_calls("rads", "FINDINGS:\nClear lungs.")[0])
    system_tokens = model.count_tokens(calls[0].segments[0])
    assert other.evaluated_prompt_tokens == other.prompt_tokens - system_tokens


def test_answers_do_not_depend_on_the_call_before(smollm_path: Path) -> None:
    model = llama_runtime.LoadedModel(_spec(smollm_path), 2)
    first = [model.complete(c).text for t in ("rads", "ner") for c in _calls(t, REPORT)]
    model.reset()
    model.complete(_calls("impression", "FINDINGS:\nFracture of the left radius.")[0])
    again = [model.complete(c).text for t in ("rads", "ner") for c in _calls(t, REPORT)]
    assert first == again


def test_greedy_decoder_matches_llama_cpp_python_sampling(smollm_path: Path) -> None:
    model = llama_runtime.LoadedModel(_spec(smollm_path), 2)
    for task in ("rads", "staging", "ner"):
        call = _calls(task, REPORT)[0]
        model.reset()
        ours = model.complete(call).text
        model.reset()
        theirs = model.llm.create_completion(
            call.prompt,
            max_tokens=call.max_tokens,
            temperature=0.0,
            stop=list(call.stop),
            grammar=llama_runtime._grammar(call.grammar),
        )["choices"][0]["text"]
        assert ours == theirs, task


def test_label_answers_carry_a_confidence(smollm_path: Path) -> None:
    model = llama_runtime.LoadedModel(_spec(smollm_path), 2)
    done = model.complete(_calls("rads", REPORT)[0])
    assert "".join(piece for piece, _ in done.token_logprobs) == done.text
    assert all(logprob <= 0 for _, logprob in done.token_logprobs)
    impression = model.complete(_calls("impression", REPORT)[0])
    assert impression.token_logprobs == ()


def test_raw_rates_measure_llama_cpp_alone(smollm_path: Path) -> None:
    model = llama_runtime.load(_spec(smollm_path), 2)
    tokens = model.llm.tokenize(REPORT.encode() * 4, special=True)
    rates = llama_runtime.raw_rates(
        _spec(smollm_path), 2, [tokens, tokens], [0, 10], decode_tokens=16
    )
    assert rates.prompt_tokens == 2 * len(tokens) - 10 and rates.decode_tokens == 16
    assert rates.prompt_rate > rates.decode_rate > 0
