"""The one module that imports llama_cpp: loads a verified GGUF once per process and runs calls.

verbose is off (llama.cpp's own prints would carry prompt text to stderr); the chat template is
pinned by the prompt profiles, so GGUF metadata templates are never trusted. Consecutive calls
that share a prompt prefix reuse the evaluated KV cache (llama-cpp-python keeps the previous
tokens and evaluates only the new suffix), so tasks on one report read the report once where
the profile puts it first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from radlite_fhir.engine.registry import ModelSpec, verify
from radlite_fhir.errors import ModelError
from radlite_fhir.tasks.profiles import ModelCall

log = logging.getLogger(__name__)
SEED = 20260521


def default_threads() -> int:
    """$RADLITE_THREADS, else the cores this process may use."""
    if os.environ.get("RADLITE_THREADS"):
        return max(1, int(os.environ["RADLITE_THREADS"]))
    return max(1, len(os.sched_getaffinity(0)))


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str


class LoadedModel:
    """A llama.cpp model in memory. One lock: llama.cpp contexts are not thread-safe."""

    def __init__(self, spec: ModelSpec, n_threads: int) -> None:
        from llama_cpp import Llama

        path = verify(spec)
        started = time.perf_counter()
        kwargs: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": spec.n_ctx,
            "n_threads": n_threads,
            "n_threads_batch": n_threads,
            "seed": SEED,
            "verbose": False,
        }
        if spec.adapter is not None:
            kwargs["lora_path"] = str(spec.adapter)  # existence checked by verify()
        try:
            self.llm = Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model '{spec.name}': llama.cpp cannot load {path}: {exc}") from None
        self.spec = spec
        self.n_threads = n_threads
        self.load_seconds = time.perf_counter() - started
        self._lock = threading.Lock()
        log.info("model loaded", extra={"model": spec.name, "seconds": round(self.load_seconds, 2)})

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def complete(self, call: ModelCall) -> Completion:
        prompt_tokens = self.count_tokens(call.prompt)
        if prompt_tokens + call.max_tokens > self.spec.n_ctx:
            raise ModelError(
                f"prompt of {prompt_tokens} tokens plus {call.max_tokens} to "
                f"generate exceeds the context of {self.spec.n_ctx} tokens of "
                f"model '{self.spec.name}'"
            )
        with self._lock:
            started = time.perf_counter()
            out = self.llm.create_completion(
                call.prompt,
                max_tokens=call.max_tokens,
                temperature=call.temperature,
                top_p=0.95 if call.temperature > 0 else 1.0,
                stop=list(call.stop),
                seed=SEED,
                grammar=_grammar(call.grammar) if call.grammar else None,
            )
            seconds = time.perf_counter() - started
        choice = out["choices"][0]
        usage = out["usage"]
        return Completion(
            text=choice["text"],
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            seconds=seconds,
            finish_reason=choice.get("finish_reason") or "",
        )


@cache
def _grammar(text: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


_loaded: dict[tuple[str, str, int], LoadedModel] = {}
_load_lock = threading.Lock()


def load(spec: ModelSpec, n_threads: int | None = None) -> LoadedModel:
    """The process-wide instance for `spec` (loaded and verified on first use only)."""
    threads = n_threads or default_threads()
    key = (str(spec.resolved_path()), str(spec.adapter), threads)
    with _load_lock:
        if key not in _loaded:
            _loaded[key] = LoadedModel(spec, threads)
        return _loaded[key]
