"""The runtime seam: what the pipeline needs from a model engine, and which engine a model uses.

A `Runtime` completes `ModelCall`s for one registered model. Two implement it: the in-process
llama.cpp runtime (engine/llama_runtime.py, the default: one model per process, its KV cache
reused across the tasks on one report) and a llama.cpp server (engine/server_runtime.py: the
`llama-server` built from the same llama.cpp source, with parallel slots and a per-slot prompt
cache, started by the product or reached at a URL the site gives). The registry says which one
each model uses (`RuntimeKind`); the pipeline, bench and the front ends only see this protocol.
"""

from __future__ import annotations

import threading
from typing import Protocol

from radlite_fhir.engine.calls import Completion, ModelCall
from radlite_fhir.engine.registry import ModelSpec, RuntimeKind


class Runtime(Protocol):
    """One loaded model, ready for calls; safe to call from several threads (each
    implementation serialises or parallelises as its engine allows)."""

    spec: ModelSpec
    load_seconds: float

    def complete(self, call: ModelCall) -> Completion:
        """Generate the call's answer. Raises ModelError when the prompt does not fit."""
        ...

    def tokenize(self, text: str) -> tuple[int, ...]:
        """The prompt's tokens as the model reads them (ChatML markers as control tokens,
        every other character as text)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def reset(self) -> None:
        """Forget cached prompts: the next call reads its whole prompt."""
        ...

    def close(self) -> None:
        """Release what the runtime holds (a server process it started)."""
        ...


_loaded: dict[tuple[str, str, str, int], Runtime] = {}
_load_lock = threading.Lock()


def load(spec: ModelSpec, n_threads: int | None = None) -> Runtime:
    """The process-wide runtime for `spec`: loaded (and its files verified) on first use only."""
    from radlite_fhir.engine import llama_runtime

    threads = n_threads or llama_runtime.default_threads()
    key = (spec.runtime.value, str(spec.resolved_path()), str(spec.adapter), threads)
    with _load_lock:
        if key not in _loaded:
            if spec.runtime is RuntimeKind.SERVER:
                from radlite_fhir.engine.server_runtime import ServerRuntime

                _loaded[key] = ServerRuntime(spec, threads)
            else:
                _loaded[key] = llama_runtime.LoadedModel(spec, threads)
        return _loaded[key]


def close_all() -> None:
    """Close every runtime this process loaded (servers it started stop)."""
    with _load_lock:
        for runtime in _loaded.values():
            runtime.close()
        _loaded.clear()
