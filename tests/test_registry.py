"""Model registry: registering a site GGUF, pinning sha256, refusing damaged files."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from radlite_fhir.engine.registry import Registry, sha256_file, verify
from radlite_fhir.engine.router import Router
from radlite_fhir.errors import ModelError


def test_catalog_default_is_radlite_mini_base_plus_shipped_adapter(home: Path) -> None:
    registry = Registry.load()
    spec = registry.get("default")
    base = registry.get("qwen2.5-coder-0.5b")
    assert spec.name == "radlite-mini" and spec.profile == "structured"
    assert (spec.file, spec.sha256, spec.source) == (base.file, base.sha256, base.source)
    assert spec.resolved_path() == home / "models" / spec.file
    assert spec.adapter is not None and spec.adapter.is_file()
    assert sha256_file(spec.adapter) == spec.adapter_sha256
    assert spec.adapter.stat().st_size < 20_000_000  # small enough for the repository


def test_a_changed_shipped_adapter_is_refused(home_with_models: Path, tmp_path: Path) -> None:
    spec = Registry.load().get("radlite-mini")
    copy = tmp_path / "adapter.gguf"
    copy.write_bytes(spec.adapter.read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelError, match="does not match its registered sha256"):
        verify(replace(spec, adapter=copy))


def test_missing_model_names_the_pull_command(home: Path) -> None:
    with pytest.raises(ModelError, match=r"run `radlite models pull radlite-mini`"):
        verify(Registry.load().get("default"))


def test_add_pins_sha256_and_routes_like_radlite(home: Path, smollm_path: Path) -> None:
    registry = Registry.load()
    q25 = registry.add(
        "radlite-q25",
        smollm_path,
        profile=None,
        tasks=None,
        preset="radlite-q25",
        adapter=None,
        n_ctx=None,
    )
    registry.add(
        "radlite-q3",
        smollm_path,
        profile=None,
        tasks=None,
        preset="radlite-q3",
        adapter=None,
        n_ctx=None,
    )
    assert q25.sha256 == Registry.load().get("smollm2-135m").sha256
    reloaded = Registry.load()  # persisted in registry.toml
    assert reloaded.get("radlite-q25").profile == "radlite"
    router = Router(reloaded)
    assert {t: router.model_for(t).name for t in ("rads", "staging", "impression", "ner")} == {
        "rads": "radlite-q25",
        "staging": "radlite-q25",
        "impression": "radlite-q25",
        "ner": "radlite-q3",
    }
    assert Router(reloaded, forced="smollm2-135m").model_for("ner").name == "smollm2-135m"


def test_tampered_and_truncated_models_are_refused(
    home: Path, smollm_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "site.gguf"
    shutil.copyfile(smollm_path, copy)
    registry = Registry.load()
    registry.add("site", copy, profile=None, tasks=None, preset=None, adapter=None, n_ctx=None)
    assert verify(Registry.load().get("site")) == copy
    with copy.open("r+b") as handle:
        handle.seek(5_000_000)
        handle.write(b"\xff\xfe")
    with pytest.raises(ModelError, match="changed or damaged; refusing to load it"):
        verify(Registry.load().get("site"))
    with copy.open("r+b") as handle:
        handle.truncate(1_000_000)
    with pytest.raises(ModelError, match="truncated or replaced"):
        verify(Registry.load().get("site"))


def test_non_gguf_file_and_missing_adapter_are_refused(
    home: Path, tmp_path: Path, smollm_path: Path
) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a GGUF file"):
        Registry.load().add(
            "x", fake, profile=None, tasks=None, preset=None, adapter=None, n_ctx=None
        )
    with pytest.raises(ModelError, match="no such adapter file"):
        Registry.load().add(
            "y",
            smollm_path,
            profile=None,
            tasks=None,
            preset=None,
            adapter=tmp_path / "missing.gguf",
            n_ctx=None,
        )
