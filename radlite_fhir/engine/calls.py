"""What a task asks of a model and what comes back: the vocabulary every runtime speaks.

`ModelCall` and `Completion` live here, apart from any runtime, so that the in-process
llama.cpp runtime and the llama.cpp server runtime (engine/runtime.py chooses) take and give
the same objects, and tasks build calls without knowing which engine answers them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The ChatML control markers the prompt profiles pin (never read from GGUF metadata).
IM_START, IM_END = "<|im_start|>", "<|im_end|>"


@dataclass(frozen=True)
class ModelCall:
    """One generation request: the whole prompt text and how to decode it."""

    key: str
    prompt: str
    max_tokens: int
    grammar: str | None = None
    temperature: float = 0.0
    stop: tuple[str, ...] = (IM_END,)
    confidence: bool = False  # record token log-probabilities (short label answers)
    # Prompt prefixes evaluated as batches of their own and the only places where a cached
    # prefix is cut: the answer then depends on this call alone, not on which call came before
    # (llama.cpp's numerics vary slightly with batch boundaries). Empty: llama-cpp-python's rule.
    segments: tuple[str, ...] = ()
    answer_prefix: str = ""  # written by us at the start of the answer; the model continues


@dataclass(frozen=True)
class Completion:
    """One generation with its cost split into reading (prompt) and writing (decode).

    `evaluated_prompt_tokens` counts only the prompt tokens the model had to read: tokens
    shared with the previous call's prompt (the report, the system prompt) are reused from the
    KV cache (in-process) or the slot's prompt cache (server). `token_logprobs` (piece,
    log-probability under the model's full distribution) is filled for calls that ask for
    confidence.
    """

    text: str
    prompt_tokens: int
    evaluated_prompt_tokens: int
    completion_tokens: int
    prompt_seconds: float
    decode_seconds: float
    finish_reason: str
    token_logprobs: tuple[tuple[str, float], ...] = ()

    @property
    def seconds(self) -> float:
        return self.prompt_seconds + self.decode_seconds
