"""A real Milvus server for the tests: the PyPI package `milvus` 2.3.5, Milvus's own standalone server
(built from milvus-io/milvus v2.3.5) with embedded etcd and local storage, authentication on.

What it is and what it does not prove about the platform's Milvus 2.5.15: see `WHAT_IT_IS` below (the
module docstrings of the tests that use it repeat what matters to them).

How it runs: the package's config template is rendered by the package's own `MilvusServerConfig`, every
port it knows is set to a free port (tests/ports.py: below the kernel's ephemeral range, so no outgoing
connection of an already running server takes it), and the embedded etcd gets its own config file so its
client and peer ports are free loopback ports too (it would otherwise take 2379/2380). The binary is started here
(not through the `milvus-server` wrapper, which picks its HTTP port itself and keeps no process group) in a
session of its own, so `stop` ends it and everything it started by killing the process group.

Loopback only where the server allows it: Milvus 2.3.5 binds its gRPC servers and its management HTTP
server (`/healthz`, metrics) to every interface (`net.Listen("tcp", ":<port>")`, no address setting), so
those listen on 0.0.0.0 with free high ports; etcd listens on 127.0.0.1 only. `listening_addresses` reports
what it really listens on, and tests/test_milvus_server.py records it.

Reusable: `start(data_dir)` returns a `RunningMilvus` at once (the server boots in the background, about
45 s), `wait_ready` blocks until `/healthz` answers OK and the root password is set, `stop` ends it.
tests/conftest.py starts one per session in `pytest_sessionstart` and hands it out as the `milvus_server`
fixture (uri, root user, root password).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.ports import free_ports

VERSION = "2.3.5"
WHAT_IT_IS = (
    "Milvus 2.3.5 standalone (PyPI `milvus` 2.3.5: Milvus's own server with embedded etcd and local "
    "storage, authentication on). It proves the real gRPC protocol, real authentication refusals "
    "(wrong password, no credentials), real RBAC objects, real /healthz, and a real collection's life "
    "(create, insert, flush, index, load, search, query, drop). It does not prove anything that changed "
    "after 2.3.5: Milvus 2.5.15's COMMON_SECURITY_DEFAULTROOTPASSWORD (2.4.7+; here the root password is "
    "the built-in `Milvus`, changed after start), MinIO/S3 storage (here local disk), external etcd, the "
    "2.5 RESTful v2 API, functions/BM25, nullable fields, or 2.5's default index and consistency choices."
)
ROOT_USER = "root"
DEFAULT_ROOT_PASSWORD = "Milvus"  # 2.3.5's built-in root password; changed right after start
BIND_ATTEMPTS = 3
STARTUP_SECONDS = 240.0  # observed 30-60 s on 2 cores; generous for a loaded CI machine


@dataclass
class RunningMilvus:
    process: subprocess.Popen[bytes]
    data_dir: Path
    grpc_port: int
    http_port: int
    ports: dict[str, int]  # every port it was told to use, by purpose
    root_password: str = field(repr=False)
    ready: bool = False
    started_at: float = field(default_factory=time.monotonic)
    ready_after_s: float | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/healthz"

    @property
    def root_user(self) -> str:
        return ROOT_USER

    @property
    def pgid(self) -> int:
        return self.process.pid  # started with start_new_session: its own process group

    def log_tail(self, lines: int = 40) -> str:
        logs = self.data_dir / "logs"
        text = ""
        for name in ("milvus-stdout.log", "milvus-stderr.log"):
            path = logs / name
            if path.exists():
                text += f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return text


def _etcd_config(data_dir: Path, client_port: int, peer_port: int) -> Path:
    """The embedded etcd's own config: loopback, free ports (etcd's defaults would be 2379/2380)."""
    client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    path = data_dir / "configs" / "embed-etcd.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {
                "name": "default",
                "data-dir": str(data_dir / "data" / "etcd.data"),
                "listen-client-urls": client,
                "advertise-client-urls": client,
                "listen-peer-urls": peer,
                "initial-advertise-peer-urls": peer,
                "initial-cluster": f"default={peer}",
                "log-outputs": [str(data_dir / "logs" / "etcd.log")],
            }
        )
    )
    return path


def render_config(data_dir: Path) -> tuple[dict[str, int], Path]:
    """milvus.yaml for the server in `data_dir` (written to data_dir/configs), every port a free one.
    Returns the ports by purpose and the directory holding the binary."""
    import milvus as package  # the PyPI `milvus` wrapper: its template and its binary extraction

    for attempt in range(1, BIND_ATTEMPTS + 1):
        config = package.MilvusServerConfig(data_dir=str(data_dir))
        keys = [key for key in config.configurable_items if key.endswith("_port")]
        *chosen, etcd_client, etcd_peer, http = free_ports(len(keys) + 3)
        ports = dict(zip(keys, chosen, strict=True))
        config.update(**ports, authorization_enabled=True)
        try:
            config.resolve()  # binds each port once to check it, and writes the config
            break
        except RuntimeError:  # another process bound one of them since it was chosen: choose again
            if attempt == BIND_ATTEMPTS:
                raise
    package._initialize_data_files(str(data_dir))
    # Only on port keys the template has; the rest are set in the yaml directly.
    path = data_dir / "configs" / "milvus.yaml"
    document = yaml.safe_load(path.read_text())
    ports |= {"etcd_client": etcd_client, "etcd_peer": etcd_peer, "http": http}
    document["etcd"]["endpoints"] = f"127.0.0.1:{etcd_client}"
    document["etcd"]["config"] = {"path": str(_etcd_config(data_dir, etcd_client, etcd_peer))}
    # Components advertise loopback to each other (they would pick the first unicast address).
    for component in ("rootCoord", "proxy", "queryCoord", "queryNode", "indexCoord", "indexNode"):
        if isinstance(document.get(component), dict):
            document[component]["ip"] = "127.0.0.1"
    for component in ("dataCoord", "dataNode"):
        if isinstance(document.get(component), dict):
            document[component]["ip"] = "127.0.0.1"
    document["common"]["security"]["authorizationEnabled"] = True
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return ports, data_dir / "bin"


def _die_with_parent() -> None:
    """In the child before exec: PR_SET_PDEATHSIG, so the server gets SIGKILL when the thread that started
    it exits (call `start` from the main thread). Linux only; elsewhere `stop` and atexit remain."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def start(data_dir: Path) -> RunningMilvus:
    """Start the server in `data_dir` in the background; returns at once (see `wait_ready`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ports, bin_dir = render_config(data_dir)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DEPLOY_MODE": "STANDALONE",
        "METRICS_PORT": str(ports["http"]),
        "MILVUS_RUN_DIR": str(data_dir / "run"),
        "LD_LIBRARY_PATH": f"{bin_dir}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    }
    with open(logs / "milvus-stdout.log", "wb") as out, open(logs / "milvus-stderr.log", "wb") as err:
        process = subprocess.Popen(
            [str(bin_dir / "milvus"), "run", "standalone"],
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: stop() kills it and all it started
            # And if the test run itself dies (SIGKILL, a crash), the kernel kills the server too.
            preexec_fn=_die_with_parent,
        )
    return RunningMilvus(
        process=process,
        data_dir=data_dir,
        grpc_port=ports["proxy_port"],
        http_port=ports["http"],
        ports=ports,
        root_password=secrets.token_urlsafe(18),
    )


def _healthz(server: RunningMilvus) -> bool:
    try:
        with urllib.request.urlopen(server.health_url, timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "OK"
    except (OSError, urllib.error.URLError):
        return False


def wait_ready(server: RunningMilvus, timeout: float = STARTUP_SECONDS) -> RunningMilvus:
    """Block until /healthz answers OK, then replace the built-in root password with the generated one."""
    if server.ready:
        return server
    deadline = server.started_at + timeout
    while not _healthz(server):
        if server.process.poll() is not None:
            raise RuntimeError(f"Milvus exited with {server.process.returncode}:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"Milvus was not healthy within {timeout:.0f}s:\n{server.log_tail()}")
        time.sleep(0.5)
    _set_root_password(server, deadline)
    server.ready = True
    server.ready_after_s = round(time.monotonic() - server.started_at, 1)
    return server


def _set_root_password(server: RunningMilvus, deadline: float) -> None:
    from pymilvus import MilvusClient

    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = MilvusClient(
                uri=server.uri, token=f"{ROOT_USER}:{DEFAULT_ROOT_PASSWORD}", timeout=10, dedicated=True
            )
            try:
                client.update_password(ROOT_USER, DEFAULT_ROOT_PASSWORD, server.root_password)
            finally:
                client.close()
            return
        except Exception as error:  # the proxy may still be registering after /healthz turns OK
            last = error
            time.sleep(1)
    raise TimeoutError(f"could not set the root password: {last}\n{server.log_tail()}")


def stop(server: RunningMilvus, grace: float = 10.0) -> None:
    """End the server and every process in its group: SIGTERM, then SIGKILL after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=grace)
    # Whatever is left in the group (the server if it ignored SIGTERM, anything it forked).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=5)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is left (signal 0 checks without sending)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that process `pid` holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address, port = local.split(":")
            found.add((_address(address, width), int(port, 16)))
    return found


def _address(hex_address: str, width: int) -> str:
    raw = bytes.fromhex(hex_address)
    if width == 8:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


if __name__ == "__main__":  # manual use: python -m tests.milvus_server DIR
    running = start(Path(sys.argv[1]))
    try:
        wait_ready(running)
        print(running.uri, running.root_user, running.root_password, running.ready_after_s, "s")
        print(sorted(listening_addresses(running.process.pid)))
    finally:
        stop(running)
        print("group alive after stop:", group_alive(running.pgid))
