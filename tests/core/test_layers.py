"""The layer contracts in pyproject.toml hold, and a back-edge import breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chevereto", "api_v1", "api_v4", "uploads", "albums", "accounts")


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


def test_a_domain_app_importing_an_api_breaks_the_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    with open(tmp_path / "uploads" / "naming.py", "a") as handle:
        handle.write("\nfrom api_v1 import payloads  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "uploads is not allowed to import api_v1" in result.stdout


def test_the_core_importing_a_domain_app_breaks_the_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    with open(tmp_path / "chevereto" / "core" / "errors.py", "a") as handle:
        handle.write("\nfrom accounts import models  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "chevereto.core is not allowed to import accounts" in result.stdout


def test_the_two_apis_stay_independent(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    with open(tmp_path / "api_v4" / "views.py", "a") as handle:
        handle.write("\nfrom api_v1 import payloads  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "api_v4 is not allowed to import api_v1" in result.stdout
