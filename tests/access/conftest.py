"""Fixtures for the access tests: names no other test uses on the shared real Milvus, an endpoint and root
login for it, and an `ssh` stand-in (tests/access/fake_ssh.py)."""

from __future__ import annotations

import itertools
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.access.connection import Endpoint, Login
from tests.conftest import MilvusEndpoint

_counter = itertools.count()


@pytest.fixture
def unique() -> str:
    """A name prefix of this test alone (the server is shared by the session)."""
    return f"acc{os.getpid()}_{next(_counter)}"


@pytest.fixture
def endpoint(milvus_server: MilvusEndpoint) -> Endpoint:
    return Endpoint(milvus_server.uri, wait_seconds=5)


@pytest.fixture
def root(milvus_server: MilvusEndpoint) -> Login:
    return Login(milvus_server.root_user, milvus_server.root_password)


@pytest.fixture
def fake_ssh(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An executable `ssh` stand-in and the file it logs its command lines to."""
    script = tmp_path / "ssh"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).parent / "fake_ssh.py"}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "ssh.log"
    os.environ["FAKE_SSH_LOG"] = str(log)
    try:
        yield str(script), log
    finally:
        os.environ.pop("FAKE_SSH_LOG", None)
        os.environ.pop("FAKE_SSH_FAIL", None)
