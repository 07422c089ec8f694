"""Load the base a recipe names: the product's GGUF (the weights llama.cpp serves) or a
Hugging Face folder; and save a plain HF folder that llama.cpp's converters can read.

transformers dequantizes a GGUF to fp32 on load, so the adapter is trained on exactly the
weights the product runs. A GGUF-loaded model refuses save_pretrained (its config carries the
GGUF quantization), hence `save_plain`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from radlite_fhir.engine.registry import Registry, verify
from training.recipe import Base


def base_gguf(base: Base) -> Path | None:
    """The GGUF file a base names, sha256-verified when it comes from the registry."""
    if base.model:
        return verify(Registry.load().get(base.model))
    return Path(base.gguf).expanduser() if base.gguf else None


def load_base(base: Base, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) in fp32 (or `dtype`) on the CPU."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = base_gguf(base)
    if gguf is not None:
        if not gguf.is_file():
            raise FileNotFoundError(f"{gguf}: base GGUF not found")
        kwargs = {"gguf_file": gguf.name}
        folder = str(gguf.parent)
    else:
        kwargs, folder = {}, str(Path(base.hf).expanduser())
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32, **kwargs)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def save_plain(model: Any, tokenizer: Any, folder: Path, weights: bool = True) -> Path:
    """A plain HF folder (config, tokenizer and, with `weights`, safetensors) of `model`."""
    from transformers import AutoModelForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(model).__name__]  # the converters detect the model by it
    tokenizer.save_pretrained(folder)
    if not weights:
        config.save_pretrained(folder)
        return folder
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(model.state_dict())
    plain.save_pretrained(folder)
    return folder
