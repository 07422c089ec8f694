"""Shared fixtures: real models (pulled once from PyPI into a persistent cache, sha256
verified by the product's own fetch code) and a private registry home per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = REPO / "samples"
MODEL_CACHE = Path(
    os.environ.get("RADLITE_TEST_MODELS", Path.home() / ".cache" / "radlite-fhir-test-models")
)


@contextmanager
def cached_models_home() -> Iterator[None]:
    """RADLITE_HOME set to the model cache for the duration (session-wide fixtures)."""
    previous = os.environ.get("RADLITE_HOME")
    os.environ["RADLITE_HOME"] = str(MODEL_CACHE)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("RADLITE_HOME")
        else:
            os.environ["RADLITE_HOME"] = previous


def _pulled(name: str) -> Path:
    from radlite_fhir.engine.fetch import pull
    from radlite_fhir.engine.registry import Registry

    with cached_models_home():
        return pull(Registry.load().get(name), log=lambda _message: None)


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
    """The public corpora beside the repository, for the measurements that read them.

    A clone with nothing beside it has no corpora (they are not ours to redistribute): the
    tests that measure on them are skipped with the reason, and every behaviour they cover is
    also tested on the repository's own small fixtures (tests/data/)."""
    folder = SHARED / "data"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: corpus measurements need the shared corpora there")
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the shared corpora form the `corpus` lane (`-m corpus`)."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.corpus)


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


HIGHDICOM_SR_DOCUMENT_SHA256 = "1c291a931a91f096dcef26847e9dff7be2f356d752219d5e07136bc41efd6372"


@pytest.fixture(scope="session")
def highdicom_sr_document() -> Path:
    """highdicom's own test SR (data/test_files/sr_document.dcm), from its 0.18.0 sdist on
    PyPI (later sdists leave the test files out), fetched once into the cache, sha256 pinned."""
    import hashlib
    import subprocess
    import sys
    import tarfile
    import tempfile

    target = MODEL_CACHE / "third-party" / "highdicom-sr_document.dcm"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                 ":all:", "--dest", tmp, "highdicom==0.18.0"],
                check=True,
            )  # fmt: skip
            with tarfile.open(next(Path(tmp).glob("highdicom-0.18.0.tar.gz"))) as sdist:
                member = sdist.extractfile("highdicom-0.18.0/data/test_files/sr_document.dcm")
                assert member is not None
                data = member.read()
        if hashlib.sha256(data).hexdigest() != HIGHDICOM_SR_DOCUMENT_SHA256:
            pytest.fail("highdicom's sr_document.dcm does not match its pinned sha256")
        target.write_bytes(data)
    return target
