"""llama.cpp's Python converters, taken from the llama-cpp-python sdist the product runs.

The converters (convert_lora_to_gguf.py, convert_hf_to_gguf.py with conversion/ and gguf-py/)
ship inside the sdist of the installed llama-cpp-python version, so adapters are written in the
GGUF layout that exact llama.cpp reads. They are fetched once from PyPI (`pip download
--no-binary`; no model hub) and unpacked under $RADLITE_HOME/tools; nothing is copied into this
repository. $RADLITE_LLAMA_CPP_SRC may name an unpacked vendor/llama.cpp folder instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

from radlite_fhir.engine.registry import radlite_home

NEEDED = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def llama_cpp_source() -> Path:
    """Folder holding the converters for the installed llama-cpp-python (fetched if absent)."""
    if os.environ.get("RADLITE_LLAMA_CPP_SRC"):
        return Path(os.environ["RADLITE_LLAMA_CPP_SRC"])
    installed = version("llama_cpp_python")
    target = radlite_home() / "tools" / f"llama.cpp-{installed}"
    if (target / "convert_lora_to_gguf.py").is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="radlite-sdist-") as tmp:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--disable-pip-version-check",
                "-q",
                "-d",
                tmp,
                f"llama-cpp-python=={installed}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"pip download llama-cpp-python=={installed} failed: {done.stderr.strip()[-400:]}"
            )
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        staging = target.with_name(target.name + ".partial")
        prefix = f"{sdist.name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
        with tarfile.open(sdist) as archive:
            members = []
            for member in archive.getmembers():
                if member.name.startswith(prefix) and member.name[len(prefix) :].startswith(NEEDED):
                    member.name = member.name[len(prefix) :]
                    members.append(member)
            archive.extractall(staging, members=members, filter="data")
        staging.replace(target)
    return target


def run_converter(script: str, args: list[str]) -> None:
    """Run one of the converters with its own gguf-py first on the path."""
    source = llama_cpp_source()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(source / "gguf-py"), str(source), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, str(source / script), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{done.stderr.strip()[-2000:]}")
