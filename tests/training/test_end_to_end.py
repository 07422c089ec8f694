"""The whole training chain on SmolLM2-135M, a few steps: data -> LoRA -> checkpoint/resume ->
GGUF export -> llama.cpp -> evaluate through the product's pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import REPO
from training.builder import read_jsonl
from training.evaluate import main as evaluate_main
from training.export import export_adapter
from training.greedy import comparison_prompts, greedy_answers, llama_cpp_answers
from training.recipe import load_recipe
from training.train import OutOfTime, train

RECIPE = REPO / "training" / "recipes" / "smoke-smollm2.yaml"
FIXTURES = REPO / "tests" / "training" / "fixtures"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, smollm_path: Path) -> Path:
    """One uninterrupted smoke run (RADLITE_HOME = the test model cache)."""
    home = tmp_path_factory.mktemp("home")
    (home / "models").mkdir()
    (home / "models" / smollm_path.name).symlink_to(smollm_path)
    run = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RADLITE_HOME", str(home))
        summary = train(load_recipe(RECIPE), FIXTURES, run, resume=False, device="cpu")
    assert summary["steps"] == 4 and summary["skipped_non_finite"] == 0
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    return run


def test_resumed_run_equals_uninterrupted_run(
    trained: Path, tmp_path: Path, smollm_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / smollm_path.name).symlink_to(smollm_path)
    monkeypatch.setenv("RADLITE_HOME", str(home))
    run = tmp_path / "run"
    with pytest.raises(OutOfTime) as stopped:
        train(load_recipe(RECIPE), FIXTURES, run, resume=False, device="cpu", stop_after_s=1e-3)
    assert stopped.value.step == 1 and (run / "checkpoints" / "step-1").is_dir()
    summary = train(load_recipe(RECIPE), FIXTURES, run, resume=True, device="cpu")
    assert summary["steps"] == 4
    resumed = load_file(run / "adapter" / "adapter_model.safetensors")
    straight = load_file(trained / "adapter" / "adapter_model.safetensors")
    assert resumed.keys() == straight.keys()
    for name, tensor in straight.items():
        torch.testing.assert_close(resumed[name], tensor, rtol=1e-4, atol=1e-6)
    assert any(t.abs().sum() > 0 for n, t in straight.items() if "lora_B" in n)  # it learned


def test_exported_adapter_gives_transformers_greedy_answers_in_llama_cpp(
    trained: Path, smollm_path: Path, llama_cpp_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("RADLITE_LLAMA_CPP_SRC", str(llama_cpp_tools))
    adapter = export_adapter(trained, trained / "adapter.gguf")
    assert adapter.read_bytes()[:4] == b"GGUF"
    folder, name = str(smollm_path.parent), smollm_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    base = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(trained / "adapter"))
    prompts = comparison_prompts(read_jsonl(trained / "test.jsonl"), 3)
    assert len(prompts) == 3
    expected = greedy_answers(model, tokenizer, prompts, 12)
    answers = llama_cpp_answers(smollm_path, adapter, prompts, 12)
    for prompt, ours, theirs in zip(prompts, answers, expected, strict=True):
        if ours != theirs:
            gap = _first_divergence_gap(model, tokenizer, prompt, ours, theirs)
            assert gap < NEAR_TIE, (ours, theirs, gap)


# Two implementations of one model (transformers in float32 on the dequantized weights,
# llama.cpp on the quantized ones) may part where the two best tokens are nearly tied; a
# broken export (an adapter not applied, or applied wrongly) parts where transformers is sure.
# Every parting is checked, so how many answers part is not limited: a briefly trained smoke
# adapter has many near ties. Log-probability gap, in nats.
NEAR_TIE = 0.5


def _first_divergence_gap(model, tokenizer, prompt: str, ours: str, theirs: str) -> float:
    """How much more probable transformers found its own token than llama.cpp's, where the
    two greedy answers first differ. Where one answer stops and the other goes on, the token
    that one of them took there is the end of the turn."""
    ids = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    end = tokenizer.eos_token_id
    mine, reference = [*ids(ours), end], [*ids(theirs), end]
    at = next((i for i, (a, b) in enumerate(zip(mine, reference, strict=False)) if a != b))
    context = torch.tensor([ids(prompt) + reference[:at]])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(context).logits[0, -1], dim=-1)
    return float(logprobs[reference[at]] - logprobs[mine[at]])


def test_evaluate_runs_the_pipeline_with_the_adapter(
    trained: Path,
    home_with_models: Path,
    llama_cpp_tools: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADLITE_LLAMA_CPP_SRC", str(llama_cpp_tools))
    adapter = trained / "adapter.gguf"
    if not adapter.is_file():
        export_adapter(trained, adapter)
    out = tmp_path / "eval"
    assert (
        evaluate_main(
            [
                str(trained / "test_records.jsonl"),
                "--candidate",
                "zero-shot=smollm2-135m",
                "--candidate",
                f"tuned=smollm2-135m+{adapter}",
                "--out",
                str(out),
                "--per-source",
                "2",
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["candidates"]) == {"zero-shot", "tuned"}
    for candidate in metrics["candidates"].values():
        overall = candidate["overall"]
        assert 0.0 <= overall["rads_accuracy"] <= 1.0 and overall["rads_n"] >= 1
    markdown = (out / "report.md").read_text()
    assert "| RADS accuracy |" in markdown and "zero-shot" in markdown
    assert "data:image/png;base64," in (out / "report.html").read_text()
