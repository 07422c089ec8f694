"""The wheel is the product a site installs (issue 12 item 5): built from this tree, installed
into a fresh virtual environment, every console command answers and one report converts.

The fresh environment gets the wheel only; its dependencies come from the development
environment's site-packages through a `.pth` line (so llama.cpp is not compiled a second
time). A `.pth` line adds a folder to `sys.path` without processing the `.pth` files inside it,
so the development environment's editable install of this repository is not visible: the
commands run from the installed wheel, in a folder that is not the repository.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

COMMANDS = (
    ["convert", "--help"],
    ["bulk", "--help"],
    ["review", "--help"],
    ["watch", "--help"],
    ["serve", "--help"],
    ["status", "--help"],
    ["dicom", "listen", "--help"],
    ["models", "list"],
)


def _packages_in_tree() -> set[str]:
    """Every importable package of the product: folders of radlite_fhir with an __init__.py."""
    root = REPO / "radlite_fhir"
    return {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in root.rglob("__init__.py")
        if "__pycache__" not in init.parts
    } | {"radlite_fhir.mappings"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("radlite_fhir-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; returns its bin/ folder."""
    env = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    dependencies |= set(site.getsitepackages())
    (Path(purelib) / "dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    return env / "bin"


def test_wheel_holds_every_package_and_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {".".join(Path(n).parent.parts) for n in names if n.endswith("__init__.py")}
    assert _packages_in_tree() <= packages | {"radlite_fhir.mappings"}
    for data in (
        "radlite_fhir/mappings/rads_lexicon.yaml",
        "radlite_fhir/schemas/fhir.r4.schema.json",
        "radlite_fhir/engine/catalog.toml",
        "radlite_fhir/adapters/radlite-mini.gguf",
    ):
        assert data in names, data
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: Apache-2.0" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_installed_wheel_runs_from_its_own_copy(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import radlite_fhir; print(radlite_fhir.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent), where
    for entry, command in [("radlite", c) for c in COMMANDS] + [("module", ["--version"])]:
        program = (
            [str(installed / "radlite")]
            if entry == "radlite"
            else [str(installed / "python"), "-m", "radlite_fhir"]
        )
        run = subprocess.run(
            [*program, *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "RADLITE_HOME": str(tmp_path / "home")},
        )
        assert run.returncode == 0, (command, run.stderr[-2000:])
        assert run.stdout.strip(), command


@pytest.mark.model
def test_installed_wheel_converts_a_report(
    installed: Path, home_with_models: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = subprocess.run(
        [
            str(installed / "radlite"),
            "convert",
            str(SAMPLES / "us-thyroid-tirads.json"),
            "--out",
            str(out),
            "--tasks",
            "rads",
            "--threads",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "RADLITE_HOME": str(home_with_models)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (written,) = out.glob("*.json")
    bundle = json.loads(written.read_text())
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert "Observation" in kinds and "Provenance" in kinds
