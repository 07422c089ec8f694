"""Export a trained adapter to llama.cpp's GGUF LoRA format (and a merged GGUF when asked).

`python -m training.export RUN_DIR [--outtype f16|q8_0|f32|bf16] [--merged] [--out FILE]`

RUN_DIR is a `training.train` output: adapter/ (peft) and base-config/ (the base's config and
tokenizer; the LoRA converter needs no base weights). The merged model is the base with the
adapter folded in, written as one GGUF by convert_hf_to_gguf.py (f16, or q8_0).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from training.llama_cpp_tools import run_converter


def export_adapter(run: Path, out: Path, outtype: str = "f16") -> Path:
    adapter, base = run / "adapter", run / "base-config"
    for needed in (adapter / "adapter_config.json", base / "config.json"):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed}: missing; is {run} a training.train output?")
    out.parent.mkdir(parents=True, exist_ok=True)
    run_converter(
        "convert_lora_to_gguf.py",
        [str(adapter), "--base", str(base), "--outtype", outtype, "--outfile", str(out)],
    )
    return out


def export_merged(run: Path, recipe_base: object, out: Path, outtype: str = "f16") -> Path:
    """Fold the adapter into the base and write one GGUF (f16 or q8_0)."""
    from peft import PeftModel

    from training.base_model import load_base, save_plain

    model, tokenizer = load_base(recipe_base)
    merged = PeftModel.from_pretrained(model, str(run / "adapter")).merge_and_unload()
    with tempfile.TemporaryDirectory(prefix="radlite-merged-") as tmp:
        folder = save_plain(merged, tokenizer, Path(tmp) / "hf")
        out.parent.mkdir(parents=True, exist_ok=True)
        run_converter(
            "convert_hf_to_gguf.py", [str(folder), "--outtype", outtype, "--outfile", str(out)]
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__)
    parser.add_argument("run", type=Path, help="a training.train output folder")
    parser.add_argument("--outtype", default="f16", choices=("f32", "f16", "bf16", "q8_0"))
    parser.add_argument("--out", type=Path, help="default: RUN/adapter.gguf")
    parser.add_argument("--merged", type=Path, help="also write base+adapter as one GGUF here")
    args = parser.parse_args(argv)
    out = export_adapter(args.run, args.out or args.run / "adapter.gguf", args.outtype)
    print(f"adapter: {out} ({out.stat().st_size:,} bytes)")
    if args.merged:
        from training.recipe import Base

        summary = json.loads((args.run / "train_summary.json").read_text("utf-8"))
        base = Base(**summary["recipe"]["base"])
        merged = export_merged(args.run, base, args.merged, args.outtype)
        print(f"merged: {merged} ({merged.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
