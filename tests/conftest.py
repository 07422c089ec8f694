"""Shared fixtures: real models (pulled once from PyPI into a persistent cache, sha256
verified by the product's own fetch code) and a private registry home per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = REPO / "samples"
MODEL_CACHE = Path(
    os.environ.get("RADLITE_TEST_MODELS", Path.home() / ".cache" / "radlite-fhir-test-models")
)


def _pulled(name: str) -> Path:
    from radlite_fhir.engine.fetch import pull
    from radlite_fhir.engine.registry import Registry

    previous = os.environ.get("RADLITE_HOME")
    os.environ["RADLITE_HOME"] = str(MODEL_CACHE)
    try:
        return pull(Registry.load().get(name), log=lambda _message: None)
    finally:
        if previous is None:
            os.environ.pop("RADLITE_HOME")
        else:
            os.environ["RADLITE_HOME"] = previous


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    return _pulled("smollm2-135m")


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    return _pulled("default")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty RADLITE_HOME for this test: catalog only, no site registry."""
    folder = tmp_path / "radlite-home"
    monkeypatch.setenv("RADLITE_HOME", str(folder))
    return folder


@pytest.fixture
def home_with_models(home: Path, smollm_path: Path, default_model_path: Path) -> Path:
    """RADLITE_HOME whose models/ links to the verified cached GGUFs."""
    models = home / "models"
    models.mkdir(parents=True)
    for path in (smollm_path, default_model_path):
        (models / path.name).symlink_to(path)
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    folder = SHARED / "data"
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the shared corpora sit beside the repository")
    return folder


@pytest.fixture(scope="session")
def llama_cpp_tools() -> Path:
    """llama.cpp's converters from the llama-cpp-python sdist, fetched once into the cache."""
    from training.llama_cpp_tools import llama_cpp_source

    previous = os.environ.get("RADLITE_HOME")
    os.environ["RADLITE_HOME"] = str(MODEL_CACHE)
    try:
        return llama_cpp_source()
    finally:
        if previous is None:
            os.environ.pop("RADLITE_HOME")
        else:
            os.environ["RADLITE_HOME"] = previous
