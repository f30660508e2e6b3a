"""Helpers for the offline plan's tests: run the real CLI as a child process, in this checkout or a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools._cli import COPY_SKIPS, REPO_ROOT


def run_plan(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m tools.plan ARGS` with this venv's interpreter, planning the checkout at `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=plan-test", "-c", "user.email=plan-test@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture(scope="session")
def scratch_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout's files (program, stacks, tools, pack) in a fresh directory, no git yet."""
    root = tmp_path_factory.mktemp("plan-repo") / "repo"
    shutil.copytree(REPO_ROOT, root, ignore=COPY_SKIPS)
    return root
