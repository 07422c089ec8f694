"""Starting, watching and stopping a local llama.cpp server (`llama-server`) for one model.

The server is llama.cpp's own (tools/server in the llama.cpp source that the installed
llama-cpp-python carries; scripts/build-llama-server.sh builds it from that sdist with the
install's CPU flags), so the same GGUF, adapter and kernels answer through both runtimes. It
listens on loopback only unless told otherwise, gets the model file only after its sha256 is
verified, and its own output goes to the "llama.cpp" logger at INFO (silent unless
`radlite -v`), as the in-process runtime's log does: it carries no report text at that level.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from radlite_fhir.engine.registry import ModelSpec, verify
from radlite_fhir.errors import ModelError

LLAMA_LOG = logging.getLogger("llama.cpp")
BINARY_ENV = "RADLITE_LLAMA_SERVER"
BATCH = 512  # the in-process runtime's batch size: prompts are read in the same chunks
READY_TIMEOUT_S = 180.0


def server_binary() -> Path:
    """$RADLITE_LLAMA_SERVER, else `llama-server` beside this Python (the venv's bin), else
    on PATH."""
    named = os.environ.get(BINARY_ENV)
    candidates = [Path(named)] if named else []
    candidates.append(Path(sys.prefix) / "bin" / "llama-server")
    found = shutil.which("llama-server")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ModelError(
        "llama-server not found: build it from the installed llama-cpp-python's source with "
        f"scripts/build-llama-server.sh, or set {BINARY_ENV} to its path"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def server_command(spec: ModelSpec, *, host: str, port: int, slots: int, threads: int) -> list[str]:
    """The llama-server argument list for `spec` (its file verified by the caller). Each slot
    gets the model's whole context in a cache of its own, prompts are read in the in-process
    runtime's batch size and attention runs without flash attention, as in the in-process
    runtime, so that both compute alike; the web UI is off (an API, not a chat page)."""
    command = [
        str(server_binary()),
        "--model", str(spec.resolved_path()),
        "--host", host,
        "--port", str(port),
        "--ctx-size", str(spec.n_ctx * slots),
        "--parallel", str(slots),
        "--threads", str(threads),
        "--threads-batch", str(threads),
        "--batch-size", str(BATCH),
        "--ubatch-size", str(BATCH),
        "--flash-attn", "off",  # as llama-cpp-python's default: the same attention kernels
        "--no-kv-unified",  # each slot its own cache of n_ctx, as one in-process context
        "--no-webui",
    ]  # fmt: skip
    if spec.adapter is not None:
        command += ["--lora", str(spec.adapter)]
    return command


def get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class ServerProcess:
    """A llama-server child process serving one model on `url`."""

    spec: ModelSpec
    host: str
    port: int
    slots: int
    threads: int
    process: subprocess.Popen[bytes] | None = None
    started_seconds: float = 0.0  # how long the last start took (load and warm-up)
    started_at: float = 0.0  # time.monotonic() when it last became ready
    _reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Verify the model, start the server and wait until it answers /health."""
        verify(self.spec)
        command = server_command(
            self.spec, host=self.host, port=self.port, slots=self.slots, threads=self.threads
        )
        began = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._reader = threading.Thread(target=self._log_output, daemon=True)
        self._reader.start()
        self.wait_ready()
        self.started_seconds = time.perf_counter() - began
        self.started_at = time.monotonic()

    def _log_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            if LLAMA_LOG.isEnabledFor(logging.INFO):
                LLAMA_LOG.info(raw.decode("utf-8", errors="replace").rstrip())

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ModelError(
                    f"llama-server for model '{self.spec.name}' exited with status "
                    f"{self.process.returncode} while starting (radlite -v shows its log)"
                )
            try:
                if get_json(f"{self.url}/health", timeout=2.0).get("status") == "ok":
                    return
            except (OSError, ValueError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        self.stop()
        raise ModelError(
            f"llama-server for model '{self.spec.name}' did not become ready in {timeout:.0f} s"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def supervise(server: ServerProcess, stop: threading.Event, backoff: float = 1.0) -> int:
    """Keep `server` running until `stop` is set: a server that dies is started again (with
    a growing pause, reset after a minute of health). Returns the number of restarts."""
    restarts, pause = 0, backoff
    while not stop.wait(1.0):
        if server.alive():
            if time.monotonic() - server.started_at > 60:
                pause = backoff
            continue
        code = server.process.returncode if server.process else None
        logging.getLogger(__name__).warning(
            "llama-server exited; starting it again",
            extra={"model": server.spec.name, "status": code, "pause_s": pause},
        )
        if stop.wait(pause):
            break
        server.start()
        restarts += 1
        pause = min(pause * 2, 60.0)
    server.stop()
    return restarts
