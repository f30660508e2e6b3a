"""Real servers on loopback for the verify tests: milvus-lite's gRPC server (the real Milvus protocol),
a TCP server that accepts and never answers, and a port nobody listens on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]


def wait_for_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    output = process.communicate()[0].decode(errors="replace")
    raise RuntimeError(f"milvus-lite server did not listen on 127.0.0.1:{port}:\n{output}")


@pytest.fixture(scope="session")
def milvus_lite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`milvus-lite server` (pinned milvus-lite 3.2.2) on a free loopback port; yields its URI."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("milvus-lite")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "milvus_lite",
            "server",
            "--data-dir",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process, time.monotonic() + 60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with no listener: connecting is refused at once."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP server that accepts connections and never sends a byte (a hung service)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        listener.close()


@dataclass
class VerifyRun:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.stdout)
        return report

    def check(self, name: str) -> dict[str, Any]:
        matches = [c for c in self.report["checks"] if c["name"] == name]
        assert matches, f"no check {name} in {[c['name'] for c in self.report['checks']]}"
        return matches[0]

    @property
    def checked_seconds(self) -> float:
        """The time the checks themselves took, as the tool measured them: unlike `seconds`, without the
        interpreter's start-up and imports, which a loaded machine stretches."""
        return float(sum(c["seconds"] for c in self.report["checks"]))

    def verdicts(self) -> dict[str, str]:
        return {c["name"]: c["verdict"] for c in self.report["checks"]}


def run_verify(*args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> VerifyRun:
    """Run `python -m tools.verify` as an operator would; every run must be free of tracebacks."""
    environment = {k: v for k, v in os.environ.items() if k not in ("MILVUS_PASSWORD", "MILVUS_TOKEN")}
    environment.update(env or {})
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tools.verify", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    run = VerifyRun(done.returncode, done.stdout, done.stderr, time.monotonic() - start)
    assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run
