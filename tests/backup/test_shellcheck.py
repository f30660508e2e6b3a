"""Every scheduler script passes shellcheck (Debian's shellcheck; `make test` installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.backup.conftest import SCHEDULER, SCRIPTS


def test_the_scheduler_has_its_scripts() -> None:
    names = {path.name for path in SCRIPTS}
    assert {
        "lib.sh",
        "entrypoint.sh",
        "run-job.sh",
        "healthcheck.sh",
        "milvus-backup-job.sh",
        "etcd-snapshot-job.sh",
        "offsite-mirror-job.sh",
        "etcd-restore.sh",
    } <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_passes_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: install the Debian package (make system-deps does)"
    result = subprocess.run(
        [shellcheck, "--shell=sh", "--external-sources", "--severity=style", str(script)],
        cwd=SCHEDULER,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_a_bashism(tmp_path: Path) -> None:
    """The check above can fail: the same invocation rejects a bash-only construct."""
    bad = tmp_path / "bad.sh"
    bad.write_text('#!/bin/sh\nif [[ -n "$1" ]]; then echo yes; fi\n')
    result = subprocess.run(
        ["shellcheck", "--shell=sh", "--severity=style", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_the_dockerfile_copies_every_script() -> None:
    dockerfile = (SCHEDULER / "Dockerfile").read_text()
    for script in SCRIPTS:
        assert script.name in dockerfile, f"{script.name} is not copied into the image"
