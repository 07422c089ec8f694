"""The one module that imports llama_cpp: loads a verified GGUF once per process and runs calls.

verbose is off (llama.cpp's own prints would carry prompt text to stderr); the chat template is
pinned by the prompt profiles, so GGUF metadata templates are never trusted. Consecutive calls
that share a prompt prefix reuse the evaluated KV cache (llama-cpp-python keeps the previous
tokens and evaluates only the new suffix), so tasks on one report read the report once where
the profile puts it first. Report text is tokenized as text: only the template's ChatML markers
become control tokens (prompt_parts), so a report cannot open a turn of its own.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy

from radlite_fhir.engine.calls import Completion, ModelCall
from radlite_fhir.engine.prompt_parts import Part, prefix_parts, prompt_parts
from radlite_fhir.engine.registry import ModelSpec, verify
from radlite_fhir.errors import ModelError

log = logging.getLogger(__name__)
SEED = 20260521
TOP_K = 64  # candidates a grammar is first asked about when the argmax is not allowed


LLAMA_LOG = logging.getLogger("llama.cpp")


@cache
def _route_llama_log() -> None:
    """llama.cpp's own log (load-time lines such as one "cannot use buft 'CPU_REPACK'" per
    adapter tensor) goes to the "llama.cpp" logger at INFO instead of stderr: silent unless
    the operator asks for progress (`radlite -v`), and then through the service's formatter.
    The ctypes callback is kept for the life of the process (llama.cpp holds its address)."""
    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if LLAMA_LOG.isEnabledFor(logging.INFO):
            line = text.decode("utf-8", errors="replace").rstrip()
            if line:
                LLAMA_LOG.info(line)

    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    _LOG_CALLBACKS.append(callback)


_LOG_CALLBACKS: list[Any] = []


def default_threads() -> int:
    """$RADLITE_THREADS, else the physical cores this process may use (llama.cpp gains
    nothing from a core's second hardware thread)."""
    if os.environ.get("RADLITE_THREADS"):
        return max(1, int(os.environ["RADLITE_THREADS"]))
    allowed = os.sched_getaffinity(0)
    cores: set[tuple[str, str]] = set()
    try:
        processor = physical = ""
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "processor":
                processor = value
            elif key == "physical id":
                physical = value
            elif key == "core id" and processor.isdigit() and int(processor) in allowed:
                cores.add((physical, value))
    except OSError:
        pass
    return max(1, min(len(cores) or len(allowed), len(allowed)))


class _GreedyDecoder:
    """Greedy decoding with a lazy grammar, in C calls but for one argmax per token.

    llama-cpp-python's sampler chain runs the grammar over every vocabulary entry at every
    step (152k for Qwen), which halved decode speed on grammar-constrained answers. As
    llama.cpp's own common sampler does, we take the argmax first and ask the grammar about
    that one token; only when it is rejected is the grammar asked about the 64 best tokens,
    and about the whole vocabulary only when none of those is allowed. The result is the same
    token as grammar-then-argmax. The log-probability of each chosen
    token under the full distribution comes for free (the confidence of label answers).
    """

    def __init__(self, llm: Any) -> None:
        import llama_cpp as C

        self.C = C
        self.llm = llm
        self.vocab = C.llama_model_get_vocab(llm._model.model)
        self.n_vocab = llm.n_vocab()
        self._full = (C.llama_token_data * self.n_vocab)()
        self._full_view = numpy.ctypeslib.as_array(self._full)
        self._full_view["id"] = numpy.arange(self.n_vocab)
        self._one = (C.llama_token_data * 1)()
        self._top = (C.llama_token_data * TOP_K)()
        self._top_view = numpy.ctypeslib.as_array(self._top)
        self._grammars: dict[str, Any] = {}

    def _grammar(self, text: str) -> Any:
        if text not in self._grammars:
            sampler = self.C.llama_sampler_init_grammar(self.vocab, text.encode(), b"root")
            if not sampler:
                raise ModelError("llama.cpp rejected a GBNF grammar of ours")
            self._grammars[text] = sampler
        sampler = self._grammars[text]
        self.C.llama_sampler_reset(sampler)
        return sampler

    def _allowed(self, grammar: Any, token: int, logit: float) -> bool:
        self._one[0].id, self._one[0].logit, self._one[0].p = token, logit, 0.0
        array = self.C.llama_token_data_array(self._one, 1, -1, False)
        self.C.llama_sampler_apply(grammar, ctypes.byref(array))
        return math.isfinite(self._one[0].logit)

    def _constrained_argmax(self, grammar: Any, logits: Any) -> int:
        """The highest-logit token the grammar allows. The best TOP_K tokens are tried first
        (exact: any allowed token among them beats every token outside); the whole vocabulary
        only when none of them is allowed."""
        top = numpy.argpartition(logits, -TOP_K)[-TOP_K:]
        top = top[numpy.argsort(-logits[top], kind="stable")]
        self._top_view["id"] = top
        self._top_view["logit"] = logits[top]
        self._top_view["p"] = 0.0
        array = self.C.llama_token_data_array(self._top, TOP_K, -1, False)
        self.C.llama_sampler_apply(grammar, ctypes.byref(array))
        allowed = numpy.isfinite(self._top_view["logit"])
        if allowed.any():
            return int(self._top_view["id"][int(allowed.argmax())])
        self._full_view["logit"] = logits
        self._full_view["p"] = 0.0
        array = self.C.llama_token_data_array(self._full, self.n_vocab, -1, False)
        self.C.llama_sampler_apply(grammar, ctypes.byref(array))
        return int(self._full_view["logit"].argmax())

    def decode(self, call: ModelCall) -> tuple[str, int, str, list[tuple[int, float]]]:
        """(text, tokens generated, finish reason, [(token, logprob)]) after the prompt has
        been evaluated into the model's context."""
        C = self.C
        grammar = self._grammar(call.grammar) if call.grammar else None
        ctx = self.llm._ctx.ctx
        generated: list[int] = []
        logprobs: list[tuple[int, float]] = []
        text = ""
        for _ in range(call.max_tokens):
            logits = numpy.ctypeslib.as_array(
                C.llama_get_logits_ith(ctx, -1), shape=(self.n_vocab,)
            )
            token = int(logits.argmax())
            if grammar is not None and not self._allowed(grammar, token, float(logits[token])):
                token = self._constrained_argmax(grammar, logits)
            if C.llama_vocab_is_eog(self.vocab, token):
                return text, len(generated), "stop", logprobs
            if call.confidence:
                top = float(logits.max())
                log_total = top + math.log(float(numpy.exp(logits - top).sum()))
                logprobs.append((token, float(logits[token]) - log_total))
            if grammar is not None:
                C.llama_sampler_accept(grammar, token)
            generated.append(token)
            text = self.llm.detokenize(generated).decode("utf-8", errors="ignore")
            cut = min((text.find(s) for s in call.stop if s in text), default=-1)
            if cut >= 0:
                return text[:cut], len(generated), "stop", logprobs
            self.llm.eval([token])
        return text, len(generated), "length", logprobs


class LoadedModel:
    """A llama.cpp model in memory. One lock: llama.cpp contexts are not thread-safe."""

    def __init__(self, spec: ModelSpec, n_threads: int) -> None:
        from llama_cpp import Llama

        _route_llama_log()
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
        self._greedy = _GreedyDecoder(self.llm)
        self._tokens = lru_cache(maxsize=16)(self._tokenize_parts)
        log.info("model loaded", extra={"model": spec.name, "seconds": round(self.load_seconds, 2)})

    def _tokenize_parts(self, parts: tuple[Part, ...]) -> tuple[int, ...]:
        """The template's markers as control tokens, every other run as text, between the BOS
        and EOS the model's tokenizer adds (as create_completion's tokenize does)."""
        model = self.llm._model
        tokens = [model.token_bos()] if model.add_bos_token() else []
        for text, control in parts:
            tokens += self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=control)
        if model.add_eos_token():
            tokens.append(model.token_eos())
        return tuple(tokens)

    def tokenize(self, text: str) -> tuple[int, ...]:
        """Tokens of a prompt (or of any text): control tokens only where the pinned ChatML
        framing puts them, the report and every other run tokenized as text. For text without
        control strings these are create_completion's tokens. The last few are remembered: a
        report's segments recur in every task on it."""
        return self._tokens(prompt_parts(text))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def _boundaries(self, call: ModelCall, parts: tuple[Part, ...], tokens: list[int]) -> list[int]:
        """Token offsets where the call's segments end. A segment's last token may merge with
        the text after it (BPE), so the cut is where the segment's own tokens stop agreeing
        with the prompt's: the same for every task on one report, as all task tags begin
        alike. A segment is tokenized as the prompt's first characters (its report is text
        there too)."""
        cuts = {
            _common_prefix(
                self._tokens(prefix_parts(parts, len(segment)))
                if call.prompt.startswith(segment)
                else self.tokenize(segment),
                tokens,
            )
            for segment in call.segments
        }
        return sorted(cut for cut in cuts if 0 < cut < len(tokens))

    def _reused_prefix(self, tokens: list[int], boundaries: list[int]) -> int:
        """How many leading tokens to keep from the KV cache. Without segment boundaries,
        llama-cpp-python's own rule (`Llama.generate`): the longest common prefix, less one
        when it is the whole prompt, so that fresh logits exist to sample from. With them,
        the longest common prefix is cut back to the last boundary it covers."""
        if self.llm.n_tokens == 0:
            return 0
        common = _common_prefix(self.llm._input_ids, tokens)
        if boundaries:
            return max((b for b in boundaries if b <= common), default=0)
        return common - 1 if common == len(tokens) else common

    def close(self) -> None:
        """Free the model and its context (the Runtime protocol's close; the process-wide
        cache forgets it in `runtime.close_all`)."""
        with self._lock:
            self.llm.close()

    def reset(self) -> None:
        """Forget the KV cache: the next call reads its whole prompt (the notebook's way)."""
        with self._lock:
            self.llm.reset()  # n_tokens = 0: the next eval overwrites the cache from 0

    def complete(self, call: ModelCall) -> Completion:
        parts = prompt_parts(call.prompt)
        tokens = list(self._tokens(parts))
        if len(tokens) + call.max_tokens > self.spec.n_ctx:
            raise ModelError(
                f"prompt of {len(tokens)} tokens plus {call.max_tokens} to "
                f"generate exceeds the context of {self.spec.n_ctx} tokens of "
                f"model '{self.spec.name}'"
            )
        # A sampled answer (the radlite profile, temperature 0.1) flips on rounding-level logit
        # differences, and a prompt's tail read over a reused cache rounds differently from the
        # whole prompt on some CPUs (seen on an AVX2 EPYC, Qwen2.5 0.5B): sampled calls read
        # the whole prompt, as the notebook does. Greedy calls reuse the cache.
        sampled = call.temperature != 0
        with self._lock:
            boundaries = [] if sampled else self._boundaries(call, parts, tokens)
            reused = 0 if sampled else self._reused_prefix(tokens, boundaries)
            started = time.perf_counter()
            # Read the prompt here (what llama-cpp-python's generate does: drop the cache after
            # the shared prefix, evaluate the rest), so reading and writing are timed apart.
            self.llm._ctx.kv_cache_seq_rm(-1, reused, -1)
            self.llm.n_tokens = reused
            for start, end in pairwise(
                [reused, *(b for b in boundaries if b > reused), len(tokens)]
            ):
                self.llm.eval(tokens[start:end])
            read = time.perf_counter()
            if call.temperature == 0:
                text, generated, finish, logprobs = self._greedy.decode(call)
            else:
                # Sampled calls stay on llama-cpp-python's sampler, byte for byte the
                # notebook's path; it finds the whole prompt cached and only decodes.
                out = self.llm.create_completion(
                    tokens,
                    max_tokens=call.max_tokens,
                    temperature=call.temperature,
                    top_p=0.95,
                    stop=list(call.stop),
                    seed=SEED,
                    grammar=_grammar(call.grammar) if call.grammar else None,
                )
                choice = out["choices"][0]
                text, generated = choice["text"], out["usage"]["completion_tokens"]
                finish, logprobs = choice.get("finish_reason") or "", []
            finished = time.perf_counter()
        return Completion(
            text=text,
            prompt_tokens=len(tokens),
            evaluated_prompt_tokens=len(tokens) - reused,
            completion_tokens=generated,
            prompt_seconds=read - started,
            decode_seconds=finished - read,
            finish_reason=finish,
            token_logprobs=tuple(
                (self.llm.detokenize([token]).decode("utf-8", errors="replace"), logprob)
                for token, logprob in logprobs
            ),
        )


def _common_prefix(first: Any, second: Any) -> int:
    """Length of the longest common prefix of two token sequences."""
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length


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


@dataclass(frozen=True)
class RawRates:
    """llama.cpp's own speed for a model and thread count: the ceiling the engine is held to."""

    prompt_tokens: int
    prompt_seconds: float
    decode_tokens: int
    decode_seconds: float

    @property
    def prompt_rate(self) -> float:
        return self.prompt_tokens / self.prompt_seconds

    @property
    def decode_rate(self) -> float:
        return self.decode_tokens / self.decode_seconds


def raw_rates(
    spec: ModelSpec,
    n_threads: int,
    prompts: list[list[int]],
    cached: list[int],
    decode_tokens: int = 64,
    n_batch: int = 512,
) -> RawRates:
    """llama.cpp's C API alone, on a fresh model and context with the engine's context size,
    batch size and threads: for each prompt, its first `cached` tokens are read untimed (what
    the engine finds in its KV cache) and the rest timed; after the last prompt, `decode_tokens`
    greedy tokens are decoded with no Python between tokens but the call itself."""
    import llama_cpp as C
    from llama_cpp._utils import suppress_stdout_stderr

    path = verify(spec)
    with suppress_stdout_stderr(disable=False):
        model = C.llama_model_load_from_file(str(path).encode(), C.llama_model_default_params())
    if not model:
        raise ModelError(f"llama.cpp cannot load {path}")
    params = C.llama_context_default_params()
    params.n_ctx, params.n_batch, params.n_ubatch = spec.n_ctx, n_batch, n_batch
    params.n_threads = params.n_threads_batch = n_threads
    with suppress_stdout_stderr(disable=False):
        ctx = C.llama_init_from_model(model, params)
    sampler = C.llama_sampler_chain_init(C.llama_sampler_chain_default_params())
    C.llama_sampler_chain_add(sampler, C.llama_sampler_init_greedy())
    try:

        def decode(chunk: list[int]) -> None:
            array = (C.llama_token * len(chunk))(*chunk)
            if C.llama_decode(ctx, C.llama_batch_get_one(array, len(chunk))) != 0:
                raise ModelError("llama_decode failed during the raw-rate measurement")

        decode(prompts[0][:8])  # warm-up: first-call allocations are not speed
        memory = C.llama_get_memory(ctx)
        read_seconds, read_tokens = 0.0, 0
        for tokens, skip in zip(prompts, cached, strict=True):
            C.llama_memory_clear(memory, True)
            for offset in range(0, skip, n_batch):
                decode(tokens[offset : min(skip, offset + n_batch)])
            C.llama_synchronize(ctx)
            started = time.perf_counter()
            for offset in range(skip, len(tokens), n_batch):
                decode(tokens[offset : offset + n_batch])
            C.llama_synchronize(ctx)
            read_seconds += time.perf_counter() - started
            read_tokens += len(tokens) - skip
        read = time.perf_counter()
        token = ctypes.c_int32(0)
        for _ in range(decode_tokens):
            token.value = C.llama_sampler_sample(sampler, ctx, -1)
            if C.llama_decode(ctx, C.llama_batch_get_one(ctypes.pointer(token), 1)) != 0:
                raise ModelError("llama_decode failed during the raw-rate measurement")
        C.llama_synchronize(ctx)
        done = time.perf_counter()
    finally:
        C.llama_sampler_free(sampler)
        C.llama_free(ctx)
        C.llama_model_free(model)
    return RawRates(read_tokens, read_seconds, decode_tokens, done - read)
