"""Helpers for running the scheduler's shell scripts for real, with fake tools on PATH."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEDULER = REPO / "backup" / "scheduler"
SCRIPTS = sorted(SCHEDULER.glob("*.sh"))


def write_tool(directory: Path, name: str, body: str) -> Path:
    """An executable POSIX sh script named `name` in `directory` (a fake tool on PATH)."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def run_script(
    script: str, *args: str, env: Mapping[str, str], fake_bin: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a scheduler script with /bin/sh and only the given environment (plus PATH with the fakes first)."""
    path = f"{fake_bin}:{os.environ['PATH']}" if fake_bin else os.environ["PATH"]
    return subprocess.run(
        ["/bin/sh", str(SCHEDULER / script), *args],
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory
