"""Greedy answers from transformers (with the peft adapter) for the llama.cpp comparison.

The export is right when llama.cpp, loading the base GGUF and the adapter GGUF, writes the same
greedy tokens as transformers does with the adapter it was trained with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.builder import Sample


def greedy_answers(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int, device: str = "cpu"
) -> list[str]:
    import torch

    model.eval()
    answers = []
    stop = tokenizer.convert_tokens_to_ids("<|im_end|>")
    with torch.no_grad():
        for prompt in prompts:
            ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            output = model.generate(
                ids.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=stop,
                pad_token_id=stop,
            )
            new = output[0, ids.shape[1] :].tolist()
            if stop in new:
                new = new[: new.index(stop)]
            answers.append(tokenizer.decode(new))
    return answers


def llama_cpp_answers(
    base: Path, adapter: Path, prompts: list[str], max_new_tokens: int
) -> list[str]:
    """The product runtime's greedy answers with the adapter GGUF applied to the base GGUF."""
    from radlite_fhir.engine.calls import ModelCall
    from radlite_fhir.engine.llama_runtime import LoadedModel, default_threads
    from radlite_fhir.engine.registry import ModelSpec, sha256_file

    spec = ModelSpec(
        name="compare",
        file=base.name,
        sha256=sha256_file(base),
        version="compare",
        path=base,
        adapter=adapter,
        adapter_sha256=sha256_file(adapter),
        n_ctx=2048,
    )
    model = LoadedModel(spec, n_threads=default_threads())
    return [
        model.complete(ModelCall(key="compare", prompt=p, max_tokens=max_new_tokens)).text
        for p in prompts
    ]


def comparison_prompts(samples: list[Sample], count: int) -> list[str]:
    """Structured prompts taking the tasks in turn (RADS, TNM, NER, impression), one per
    record, so the comparison covers labels, lists and free text."""
    by_task: dict[str, list[Sample]] = {}
    seen: set[str] = set()
    for sample in sorted(samples, key=lambda s: (s.record_id, s.task)):
        if sample.profile == "structured" and sample.record_id not in seen:
            seen.add(sample.record_id)
            by_task.setdefault(sample.task, []).append(sample)
    queues = [by_task[t] for t in ("rads", "tnm", "ner", "impression") if t in by_task]
    chosen: list[str] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0).prompt)
    return chosen


def write_answers(path: Path, prompts: list[str], answers: list[str]) -> None:
    path.write_text(
        json.dumps(
            [{"prompt": p, "answer": a} for p, a in zip(prompts, answers, strict=True)], indent=2
        ),
        "utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m training.greedy RUN --out FILE [--count N] [--device cuda]`: transformers'
    greedy answers with RUN's adapter on the first N held-out short-answer prompts."""
    import argparse

    import torch
    from peft import PeftModel

    from training.builder import read_jsonl
    from training.recipe import Base

    parser = argparse.ArgumentParser(prog="python -m training.greedy")
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    from training.base_model import load_base

    summary = json.loads((args.run / "train_summary.json").read_text("utf-8"))
    model, tokenizer = load_base(Base(**summary["recipe"]["base"]))
    model = PeftModel.from_pretrained(model, str(args.run / "adapter")).to(args.device)
    prompts = comparison_prompts(read_jsonl(args.run / "test.jsonl"), args.count)
    write_answers(
        args.out,
        prompts,
        greedy_answers(model, tokenizer, prompts, args.max_new_tokens, args.device),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
