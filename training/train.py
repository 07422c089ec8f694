"""SFT of a peft LoRA adapter on the samples `training.data` writes; CPU or CUDA.

`python -m training.train RECIPE --data DIR --out DIR [--resume] [--device cpu|cuda]
 [--stop-after-s S]`

Loss is on the completion only (prompt tokens masked). Prompt and completion are tokenized
apart, as llama.cpp sees them at inference (it tokenizes the prompt, then generates). Batches
group samples of similar length. A checkpoint (adapter, optimiser, scheduler, step) is written
every `save_every` steps (and when --stop-after-s runs out: the run exits with status 3 and
--resume continues it); resuming replays the same batch sequence and learning-rate schedule.
The final adapter goes to OUT/adapter.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from training.builder import Sample, read_jsonl
from training.data import prepare
from training.recipe import Recipe, load_recipe

IGNORE = -100


def pick_device(requested: str | None) -> str:
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def encode(samples: list[Sample], tokenizer: Any, max_length: int) -> tuple[list, int]:
    """[(input_ids, labels)], dropped count; labels mask the prompt."""
    encoded, dropped = [], 0
    for sample in samples:
        prompt = tokenizer(sample.prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(sample.completion, add_special_tokens=False)["input_ids"]
        if len(prompt) + len(answer) > max_length:
            dropped += 1
            continue
        encoded.append((prompt + answer, [IGNORE] * len(prompt) + answer))
    return encoded, dropped


def batches(items: list, batch_size: int, seed: int) -> list[list[int]]:
    """Index batches of similar length: shuffle, sort within windows of 50 batches, shuffle."""
    rng = random.Random(seed)
    order = list(range(len(items)))
    rng.shuffle(order)
    window = batch_size * 50
    out = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: len(items[i][0]))
        out.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


def collate(items: list, indices: list[int], pad_id: int, device: str) -> dict[str, Any]:
    import torch

    longest = max(len(items[i][0]) for i in indices)
    ids, labels, mask = [], [], []
    for i in indices:
        tokens, target = items[i]
        pad = longest - len(tokens)
        ids.append(tokens + [pad_id] * pad)
        labels.append(target + [IGNORE] * pad)
        mask.append([1] * len(tokens) + [0] * pad)
    as_tensor = lambda x: torch.tensor(x, dtype=torch.long, device=device)  # noqa: E731
    return {
        "input_ids": as_tensor(ids),
        "labels": as_tensor(labels),
        "attention_mask": as_tensor(mask),
    }


def completion_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Mean cross-entropy over completion tokens, with the output layer applied to those
    positions only: the full [batch, length, vocabulary] logits of a 152k-token vocabulary
    would take gigabytes for nothing, since the prompt carries no loss."""
    import torch

    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    # No attention mask: with right padding and causal attention no real token sees a pad, and
    # a padding mask leaves pad rows with every key masked, whose NaNs (bf16 SDPA) flow back
    # through the attention into the weights; pad positions carry no loss.
    hidden = causal_lm.get_decoder()(input_ids=batch["input_ids"]).last_hidden_state
    targets = batch["labels"][:, 1:]
    chosen = targets != IGNORE
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][chosen])
    return torch.nn.functional.cross_entropy(logits.float(), targets[chosen])


def schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak rate."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def attach_lora(model: Any, recipe: Recipe) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=list(recipe.lora.target_modules),
        layers_to_transform=(
            list(recipe.lora.layers_to_transform) if recipe.lora.layers_to_transform else None
        ),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def newest_checkpoint(out: Path) -> Path | None:
    found = sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name[5:]))
    return found[-1] if found else None


def save_checkpoint(out: Path, model: Any, optimizer: Any, step: int, log: list) -> None:
    import torch

    folder = out / "checkpoints" / f"step-{step}"
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step, "log": log}), "utf-8")
    tmp.rename(folder)
    for old in sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name[5:]))[:-2]:
        shutil.rmtree(old)


def evaluate_loss(model: Any, items: list, batch_size: int, pad_id: int, device: str) -> float:
    import torch

    if not items:
        return float("nan")
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            indices = list(range(start, min(len(items), start + batch_size)))
            batch = collate(items, indices, pad_id, device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = completion_loss(model, batch)
            total += loss.item() * len(indices)
            count += len(indices)
    model.train()
    return total / count


class OutOfTime(Exception):
    """The run saved a checkpoint at `step` and stopped; --resume continues it."""

    def __init__(self, step: int) -> None:
        super().__init__(
            f"time limit reached: checkpoint saved at step {step}; rerun with --resume"
        )
        self.step = step


def train(
    recipe: Recipe,
    data_dir: Path,
    out: Path,
    resume: bool,
    device: str | None,
    stop_after_s: float | None = None,
) -> dict:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from training.base_model import load_base, save_plain

    device = pick_device(device)
    torch.manual_seed(recipe.train.seed)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "train.jsonl").is_file():  # a prepared run (carried elsewhere) is reused
        prepare(recipe, data_dir, out)
    started = time.time()
    model, tokenizer = load_base(recipe.base)
    save_plain(model, tokenizer, out / "base-config", weights=False)  # for the GGUF converter
    opt = recipe.train
    train_items, dropped = encode(read_jsonl(out / "train.jsonl"), tokenizer, opt.max_length)
    val_items, _ = encode(read_jsonl(out / "validation.jsonl")[:256], tokenizer, opt.max_length)
    model = attach_lora(model, recipe).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=opt.learning_rate, weight_decay=opt.weight_decay)
    per_epoch = math.ceil(len(train_items) / opt.batch_size / opt.grad_accum)
    total = opt.max_steps or max(1, math.ceil(per_epoch * opt.epochs))
    warmup = int(total * opt.warmup_ratio)
    step, log, skipped = 0, [], 0
    checkpoint = newest_checkpoint(out) if resume else None
    if checkpoint is not None:
        set_peft_model_state_dict(model, load_file(checkpoint / "adapter_model.safetensors"))
        optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", map_location=device))
        state = json.loads((checkpoint / "state.json").read_text("utf-8"))
        step, log = state["step"], state["log"]
        print(f"resumed from {checkpoint} at step {step}")
    plan = []  # (epoch, batch indices): the same sequence whether resumed or not
    epoch = 0
    while len(plan) < total * opt.grad_accum:
        plan.extend(batches(train_items, opt.batch_size, opt.seed + epoch))
        epoch += 1
    pad_id = tokenizer.pad_token_id
    running, seen_tokens = 0.0, 0
    while step < total:
        for group in range(opt.grad_accum):
            indices = plan[step * opt.grad_accum + group]
            batch = collate(train_items, indices, pad_id, device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = completion_loss(model, batch) / opt.grad_accum
            if not torch.isfinite(loss):
                skipped += 1  # counted in the summary; one bad batch must not poison the adapter
                continue
            loss.backward()
            running += loss.item()
            seen_tokens += int(batch["attention_mask"].sum())
        for group_ in optimizer.param_groups:
            group_["lr"] = opt.learning_rate * schedule(step, total, warmup)
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if torch.isfinite(norm):
            optimizer.step()
        else:
            skipped += 1
        optimizer.zero_grad(set_to_none=True)
        step += 1
        if step % opt.log_every == 0 or step == total:
            entry = {
                "step": step,
                "loss": round(running / opt.log_every, 4),
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": round(time.time() - started, 1),
            }
            log.append(entry)
            print(json.dumps(entry), flush=True)
            running = 0.0
        if step % opt.save_every == 0 and step < total:
            save_checkpoint(out, model, optimizer, step, log)
        elif stop_after_s and time.time() - started > stop_after_s and step < total:
            save_checkpoint(out, model, optimizer, step, log)
            raise OutOfTime(step)
    validation = evaluate_loss(model, val_items, opt.batch_size, pad_id, device)
    model.save_pretrained(out / "adapter")
    summary = {
        "recipe": asdict(recipe),
        "device": device,
        "torch": torch.__version__,
        "steps": total,
        "train_samples": len(train_items),
        "dropped_over_max_length": dropped,
        "skipped_non_finite": skipped,
        "validation_loss": validation,
        "tokens_seen": seen_tokens,
        "seconds": round(time.time() - started, 1),
        "log": log,
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2), "utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__)
    parser.add_argument("recipe", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="folder the sources are read from")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when present")
    parser.add_argument("--stop-after-s", type=float, help="checkpoint and stop after this long")
    args = parser.parse_args(argv)
    try:
        summary = train(
            load_recipe(args.recipe),
            args.data,
            args.out,
            args.resume,
            args.device,
            args.stop_after_s,
        )
    except OutOfTime as exc:
        print(exc)
        return 3
    print(json.dumps({k: v for k, v in summary.items() if k not in ("log", "recipe")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
