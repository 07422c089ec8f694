"""The llama.cpp server runtime: `ModelCall`s answered by a `llama-server` over HTTP.

The server is the product's own child (started for the model, loopback, on a free port) or a
pool the site runs (`radlite models serve NAME --slots N`) at the registry's `url`. Either way
the client does what the in-process runtime does where it matters for answers:
- it tokenizes as the in-process runtime does (the template's ChatML markers as control
  tokens, every other run, the report included, as text: the server's /tokenize with
  parse_special per part) and sends token ids, never a string the server would parse;
- greedy calls are greedy (temperature 0, top-k 1) with the same GBNF grammar, stop strings
  and log-probabilities under the full distribution (n_probs, before sampling);
- prompts are read in the same batch size, and the server's per-slot prompt cache keeps the
  report between the tasks on it (`cache_prompt`; a slot is chosen by prompt similarity), so
  the report is still read once per model: `evaluated_prompt_tokens` is the server's own count.
A server that cannot be reached raises RuntimeUnavailable (transient: the front ends retry);
the server answering with an error for a call raises ModelError.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from radlite_fhir.engine.calls import Completion, ModelCall
from radlite_fhir.engine.llama_server import ServerProcess, free_port, get_json
from radlite_fhir.engine.prompt_parts import Part, prompt_parts
from radlite_fhir.engine.registry import ModelSpec
from radlite_fhir.errors import ModelError, RuntimeUnavailable

log = logging.getLogger(__name__)
SEED = 20260521  # the in-process runtime's seed (sampled calls only)
CALL_TIMEOUT_S = 600.0
SAMPLED_TOP_P = 0.95  # as the in-process runtime's sampled path (the RadLite notebook's)


class ServerRuntime:
    """A model behind a llama.cpp server; thread-safe (the server queues and batches)."""

    def __init__(self, spec: ModelSpec, n_threads: int) -> None:
        self.spec = spec
        self.n_threads = n_threads
        self.server: ServerProcess | None = None
        if spec.server_url:
            self.url = spec.server_url.rstrip("/")
            self.load_seconds = 0.0
            self._check_served_model()
        else:
            self.server = ServerProcess(
                spec, "127.0.0.1", free_port(), spec.server_slots, n_threads
            )
            self.server.start()
            self.url = self.server.url
            self.load_seconds = self.server.started_seconds
        self._restart_lock = threading.Lock()
        self._fresh = False  # the next call reads its whole prompt (reset)
        self._tokens = lru_cache(maxsize=16)(self._tokenize_parts)
        self._framing = self._special_tokens()
        log.info(
            "model server ready",
            extra={"model": spec.name, "url": self.url, "seconds": round(self.load_seconds, 2)},
        )

    # --- HTTP ---------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_S) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = _server_error(exc)
            if exc.code in (429, 502, 503, 504):
                raise RuntimeUnavailable(
                    f"model '{self.spec.name}': server at {self.url} is busy ({exc.code})"
                ) from None
            raise ModelError(
                f"model '{self.spec.name}': server at {self.url} refused {path} "
                f"({exc.code}: {detail})"
            ) from None
        except (OSError, urllib.error.URLError) as exc:
            self._revive()
            raise RuntimeUnavailable(
                f"model '{self.spec.name}': server at {self.url} unreachable ({type(exc).__name__})"
            ) from None

    def _revive(self) -> None:
        """A server of our own that died is started again (on the same port) for the next
        call; a site's server is the site's to restart."""
        if self.server is None:
            return
        with self._restart_lock:
            if not self.server.alive():
                log.warning(
                    "llama-server exited; starting it again", extra={"model": self.spec.name}
                )
                self.server.start()

    def _check_served_model(self) -> None:
        """The server at the URL must serve this registry entry's GGUF (by file name: the
        site's server verified nothing for us, so at least the file must be the one named)."""
        try:
            props = get_json(f"{self.url}/props")
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise RuntimeUnavailable(
                f"model '{self.spec.name}': no llama-server at {self.url} ({type(exc).__name__})"
            ) from None
        served = PurePath(str(props.get("model_path", ""))).name
        if served != self.spec.resolved_path().name:
            raise ModelError(
                f"model '{self.spec.name}': the server at {self.url} serves '{served}', "
                f"the registry names '{self.spec.resolved_path().name}'"
            )

    # --- tokens -------------------------------------------------------------------------

    def _special_tokens(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(tokens before, tokens after) that the model's tokenizer adds around a prompt
        (BOS, EOS where its metadata says so): what llama.cpp adds to empty text."""
        added = tuple(self._post("/tokenize", {"content": "", "add_special": True})["tokens"])
        return (added[:1], added[1:]) if added else ((), ())

    def _tokenize_parts(self, parts: tuple[Part, ...]) -> tuple[int, ...]:
        before, after = self._framing
        tokens = list(before)
        for text, control in parts:
            body = {"content": text, "add_special": False, "parse_special": control}
            tokens += self._post("/tokenize", body)["tokens"]
        return tuple(tokens) + after

    def tokenize(self, text: str) -> tuple[int, ...]:
        return self._tokens(prompt_parts(text))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    # --- calls --------------------------------------------------------------------------

    def complete(self, call: ModelCall) -> Completion:
        tokens = list(self.tokenize(call.prompt))
        if len(tokens) + call.max_tokens > self.spec.n_ctx:
            raise ModelError(
                f"prompt of {len(tokens)} tokens plus {call.max_tokens} to "
                f"generate exceeds the context of {self.spec.n_ctx} tokens of "
                f"model '{self.spec.name}'"
            )
        greedy = call.temperature == 0
        body: dict[str, Any] = {
            "prompt": tokens,
            "n_predict": call.max_tokens,
            "temperature": call.temperature,
            "top_k": 1 if greedy else 40,
            "top_p": 1.0 if greedy else SAMPLED_TOP_P,
            "min_p": 0.0,
            "seed": SEED,
            "stop": list(call.stop),
            "cache_prompt": not self._fresh,
            "n_probs": 1 if call.confidence else 0,
            "post_sampling_probs": False,
        }
        if call.grammar:
            body["grammar"] = call.grammar
        self._fresh = False
        answer = self._post("/completion", body)
        timings = answer.get("timings", {})
        generated = int(answer.get("tokens_predicted", 0))
        logprobs = [
            (str(item.get("token", "")), float(item["logprob"]))
            for item in answer.get("completion_probabilities", ())
            if "logprob" in item
        ]
        if answer.get("stop_type") == "eos" and generated:
            # The server counts the end-of-generation token (and its probability); the
            # in-process runtime stops before it: the same answer, counted alike.
            generated -= 1
            logprobs = logprobs[:generated]
        return Completion(
            text=str(answer.get("content", "")),
            prompt_tokens=len(tokens),
            evaluated_prompt_tokens=int(timings.get("prompt_n", len(tokens))),
            completion_tokens=generated,
            prompt_seconds=float(timings.get("prompt_ms", 0.0)) / 1000,
            decode_seconds=float(timings.get("predicted_ms", 0.0)) / 1000,
            finish_reason="length" if answer.get("stop_type") == "limit" else "stop",
            token_logprobs=tuple(logprobs) if call.confidence else (),
        )

    def reset(self) -> None:
        """The next call reads its whole prompt (`cache_prompt` off for it): what benchmarks
        of reading without reuse need, without the server's slot-file API."""
        self._fresh = True

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def _server_error(exc: urllib.error.HTTPError) -> str:
    """The server's error message (ours to show: llama-server's messages name limits and
    parameters, not prompt text), cut short."""
    try:
        body = json.loads(exc.read() or b"{}")
        message = body.get("error", {}).get("message", "")
    except (ValueError, AttributeError, OSError):
        message = ""
    return str(message)[:200] or exc.reason
