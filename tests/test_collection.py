"""Collecting the tests writes nothing into the checkout (issue 25, part 5).

Collection imports every test module, so anything a module does at import runs on `pytest --collect-only`, in an
editor's test explorer and at the start of every run: building an app there once wrote `var/pseudonym.key` into
the checkout, and Hypothesis made `.hypothesis/`. Apps are built in fixtures now, and Hypothesis keeps its folder
elsewhere (tests/conftest.py). This test collects the whole suite in a child process, in a copy of the checkout's
tracked files, and compares every file of the copy before and after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name and (REPO / name).is_file()]


def _every_file(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file() or path.is_symlink()}


def test_collecting_the_tests_writes_nothing_into_the_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    for name in _tracked_files():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, checkout / name)
    before = _every_file(checkout)
    # Settings from the environment would hide a write to the default place (the suite's own session fixture sets
    # JOINEDUP_PSEUDONYM_KEY_FILE); Python's byte-code cache and pytest's own cache folder are not the project's.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOINEDUP_", "PYTEST_", "HYPOTHESIS_"))}
    env.update(PYTHONPATH=str(checkout / "src"), PYTHONDONTWRITEBYTECODE="1")
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert " collected" in collected.stdout.splitlines()[-1] or "tests collected" in collected.stdout
    written = sorted(_every_file(checkout) - before)
    assert not written, f"collecting the tests wrote into the checkout: {written[:20]}"
