"""The layer contracts in pyproject.toml hold, and a back-edge import breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "chevereto", "api_v1", "api_v4", "web", "dashboard", "imports", "moderation", "social",
    "uploads", "albums", "accounts",
)  # fmt: skip


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(binary), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def _copy_tree(target: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )


def test_the_project_keeps_its_layers(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    result = _lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "importer", "imported"),
    [
        ("uploads/naming.py", "uploads", "api_v1"),
        ("chevereto/core/errors.py", "chevereto.core", "accounts"),
        ("api_v4/views.py", "api_v4", "api_v1"),
        ("accounts/views.py", "accounts", "uploads"),
        ("albums/models.py", "albums", "uploads"),
        ("uploads/selectors.py", "uploads", "social"),
        ("social/models.py", "social", "api_v4"),
    ],
)
def test_an_import_against_the_layers_breaks_the_contract(
    tmp_path: Path, module: str, importer: str, imported: str
) -> None:
    _copy_tree(tmp_path)
    with open(tmp_path / module, "a") as handle:
        handle.write(f"\nimport {imported}  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{importer} is not allowed to import {imported}" in result.stdout
