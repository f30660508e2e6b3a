"""`tools.verify` end to end against a real Milvus server on loopback.

Fixtures (tests/conftest.py, tests/milvus_server.py):
- `milvus_server`: Milvus 2.3.5 standalone from the PyPI package `milvus` 2.3.5 (Milvus's own server code,
  embedded etcd, local storage), authentication ON, root's password generated per run. Real gRPC, real
  authentication (a wrong password and a client without credentials are refused by Milvus itself), real
  `/healthz`, real collections, index, load, search and query.
- `doomed_milvus` (here): a second server of the same build, killed while verify runs.
- `milvus_lite` (tests/verify/conftest.py): milvus-lite 3.2.2, kept only for "authentication off", which
  the auth-on server cannot show.

What these do NOT prove about the platform's Milvus 2.5.15: the 2.5 server's answers where they differ
from 2.3.5 (error texts, the server version string, default index and consistency behaviour, the RESTful
v2 API, functions/BM25, nullable fields), COMMON_SECURITY_DEFAULTROOTPASSWORD (2.4.7+; this server starts
with root/Milvus and the fixture changes it), and MinIO/external etcd behind Milvus. MinIO, Attu and
milvus-backup are loopback HTTP stand-ins (tests/verify/fakes.py), not the services.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pymilvus import MilvusClient

from tests import milvus_server as server_process
from tests.conftest import MilvusEndpoint
from tests.verify.conftest import REPO, VerifyRun, run_verify
from tests.verify.fakes import (
    fake_attu,
    fake_milvus_backup,
    fake_minio_health,
    scheduled_name,
    serve,
)

SMALL = ["--rows", "300", "--dim", "16", "--timeout", "5", "--op-timeout", "60"]
SMALL_BENCH = [
    "--bench",
    "--bench-rows",
    "2000",
    "--queries",
    "40",
    "--concurrency",
    "4",
    "--batch-size",
    "500",
]
ALL_CHECKS = [
    "milvus.healthz",
    "minio.live",
    "minio.ready",
    "attu.healthy",
    "backup.hello",
    "backup.newest",
    "milvus.connect",
    "milvus.collections",
    "milvus.auth",
    "collection.create",
    "collection.insert",
    "collection.flush",
    "collection.search",
    "collection.query",
    "collection.recall",
    "collection.drop",
]
AFTER_CONNECT = ALL_CHECKS[ALL_CHECKS.index("milvus.collections") :]


def as_root(milvus: MilvusEndpoint, password: str | None = None) -> dict[str, str]:
    return {"MILVUS_PASSWORD": milvus.root_password if password is None else password}


def leftover_collections(milvus: MilvusEndpoint) -> list[str]:
    client = MilvusClient(
        uri=milvus.uri, token=f"{milvus.root_user}:{milvus.root_password}", timeout=10, dedicated=True
    )
    try:
        return [name for name in client.list_collections() if name.startswith("verify_tmp_")]
    finally:
        client.close()


@pytest.fixture
def healthy_services() -> Iterator[list[str]]:
    """MinIO, Attu and milvus-backup stand-ins answering healthy, with a backup an hour old."""
    fresh = datetime.now(UTC) - timedelta(hours=1)
    with ExitStack() as stack:
        minio = stack.enter_context(serve(fake_minio_health()))
        attu = stack.enter_context(serve(fake_attu()))
        backup = stack.enter_context(
            serve(fake_milvus_backup([scheduled_name(fresh - timedelta(days=1)), scheduled_name(fresh)]))
        )
        yield [
            "--minio-url",
            minio,
            "--attu-url",
            attu,
            "--backup-url",
            f"{backup}/api/v1",
            "--backup-schedule",
            "0 */2 * * *",
        ]


def test_healthy_platform_passes_every_check_and_the_bench(
    milvus_server: MilvusEndpoint, healthy_services: list[str]
) -> None:
    run = run_verify(
        "--milvus-uri",
        milvus_server.uri,
        "--milvus-health-url",
        milvus_server.health_url,
        "--milvus-user",
        milvus_server.root_user,
        "--require-auth",
        *healthy_services,
        *SMALL,
        *SMALL_BENCH,
        "--json",
        env=as_root(milvus_server),
    )

    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.verdicts() == {name: "pass" for name in [*ALL_CHECKS, "bench", "bench.drop"]}
    assert run.report["summary"] == {"pass": 18, "warn": 0, "fail": 0, "not checked": 0}
    assert run.check("milvus.healthz")["detail"] == f"{milvus_server.health_url}: 200 OK"
    assert run.check("milvus.connect")["detail"] == (
        f"{milvus_server.uri} as root: server v{server_process.VERSION}-lite"
    )
    assert run.check("milvus.auth")["detail"] == (
        "authentication on: the given credentials work, a client without them is refused"
    )
    assert run.check("collection.insert")["detail"].startswith("300 rows of dim 16 in ")
    assert run.check("collection.flush")["detail"] == "300 rows flushed"
    assert run.check("collection.search")["detail"] == "100 queries, top 10 each"
    assert run.check("collection.query")["detail"] == "ids [0, 150, 299] found"
    assert run.check("collection.recall")["detail"].startswith("recall@10 1.000 ")
    bench = run.report["bench"]
    assert {key: bench[key] for key in ("rows", "dim", "metric", "batch_size", "queries", "concurrency")} == {
        "rows": 2000,
        "dim": 16,
        "metric": "L2",
        "batch_size": 500,
        "queries": 40,
        "concurrency": 4,
    }
    assert bench["insert_rows_per_second"] > 0 and bench["search_qps"] > 0
    assert 0 < bench["search_p50_ms"] <= bench["search_p95_ms"] <= bench["search_p99_ms"]
    assert bench["recall_at_10"] >= 0.95  # exact at this size on the real server (1.0 observed)
    assert run.report["endpoints"]["milvusAuth"] == "password"
    output = run.stdout + run.stderr
    assert milvus_server.root_password not in output
    assert base64.b64encode(f"root:{milvus_server.root_password}".encode()).decode() not in output
    assert leftover_collections(milvus_server) == []


def test_table_output_for_people(milvus_server: MilvusEndpoint) -> None:
    run = run_verify(
        "--milvus-uri", milvus_server.uri, "--milvus-user", "root", "--metric", "COSINE", *SMALL,
        env=as_root(milvus_server),
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout
    lines = run.stdout.splitlines()
    assert next(line for line in lines if line.startswith("collection.recall")).split()[1] == "pass"
    assert "(dim 16, COSINE)" in next(line for line in lines if line.startswith("collection.create"))
    assert lines[0] == f"Milvus {milvus_server.uri} as root"
    connect = next(line for line in lines if line.startswith("milvus.connect"))
    assert connect.split()[1] == "pass" and connect.rstrip().endswith("server v2.3.5-lite")
    assert next(line for line in lines if line.startswith("minio.live")).split()[1:3] == ["not", "checked"]
    assert lines[-1] == "10 pass, 0 warn, 0 fail, 6 not checked -> exit 0"


def test_a_wrong_password_is_refused_by_milvus(milvus_server: MilvusEndpoint) -> None:
    run = run_verify(
        "--milvus-uri", milvus_server.uri, "--milvus-user", "root", "--require-auth", *SMALL, "--json",
        env=as_root(milvus_server, "Milvus"),  # the built-in password, changed by the fixture
    )  # fmt: skip

    assert run.exit_code == 1
    assert run.check("milvus.connect") | {"seconds": 0} == {
        "name": "milvus.connect",
        "verdict": "fail",
        "seconds": 0,
        "detail": f"{milvus_server.uri} refused the credentials given",
    }
    assert {name: run.check(name)["verdict"] for name in AFTER_CONNECT} == dict.fromkeys(
        AFTER_CONNECT, "not checked"
    )
    assert "Milvus" not in run.check("milvus.connect")["detail"].replace(milvus_server.uri, "")


def test_no_credentials_says_which_flags_to_pass(milvus_server: MilvusEndpoint) -> None:
    run = run_verify("--milvus-uri", milvus_server.uri, *SMALL, "--json")

    assert run.exit_code == 1
    assert run.check("milvus.connect")["detail"] == (
        f"{milvus_server.uri} requires authentication: pass --milvus-user and --milvus-password (or --token)"
    )
    assert run.check("collection.create")["verdict"] == "not checked"


def test_a_user_without_privileges_fails_the_collection_steps(milvus_server: MilvusEndpoint) -> None:
    """RBAC is real: a user with no role connects, but Milvus refuses its create_collection."""
    admin = MilvusClient(
        uri=milvus_server.uri, token=f"root:{milvus_server.root_password}", timeout=10, dedicated=True
    )
    try:
        if "verify_no_role" in admin.list_users():
            admin.drop_user("verify_no_role")
        admin.create_user("verify_no_role", "No-Role-Pa55")
        run = run_verify(
            "--milvus-uri", milvus_server.uri, "--milvus-user", "verify_no_role", *SMALL, "--json",
            env={"MILVUS_PASSWORD": "No-Role-Pa55"},
        )  # fmt: skip
    finally:
        admin.drop_user("verify_no_role")
        admin.close()
    assert run.exit_code == 1
    assert run.check("milvus.connect")["verdict"] == "pass"
    create = run.check("collection.create")
    assert create["verdict"] == "fail"
    assert "PrivilegeCreateCollection: permission deny to verify_no_role" in create["detail"]
    assert run.check("collection.insert")["verdict"] == "not checked"
    assert run.check("collection.drop")["detail"] == "nothing to drop: the collection was never created"


def test_a_dead_port_fails_fast_and_checks_nothing_else(closed_port: int) -> None:
    run = run_verify(
        "--milvus-uri", f"http://127.0.0.1:{closed_port}", "--milvus-user", "root", "--timeout", "3", "--json",
        env={"MILVUS_PASSWORD": "Dead-Port-Pa55"},
    )  # fmt: skip
    assert "Dead-Port-Pa55" not in run.stdout + run.stderr
    assert run.exit_code == 1
    connect = run.check("milvus.connect")
    assert connect["verdict"] == "fail"
    assert connect["detail"].startswith(
        f"cannot connect to Milvus at http://127.0.0.1:{closed_port} (timeout 3s)"
    )
    assert {name: run.check(name)["verdict"] for name in AFTER_CONNECT} == dict.fromkeys(
        AFTER_CONNECT, "not checked"
    )
    assert run.checked_seconds < 3 + 1  # one timeout at most, as the tool measured its checks


# ------------------------------------------------------------------------------------------------
# A server that dies while verify runs
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def doomed_milvus(tmp_path: Path) -> Iterator[server_process.RunningMilvus]:
    server = server_process.start(tmp_path / "doomed")
    try:
        yield server_process.wait_ready(server)
    finally:
        server_process.stop(server)
        assert not server_process.group_alive(server.pgid), "no process of the killed server is left"


def wait_for_collection(server: server_process.RunningMilvus, prefix: str, deadline: float) -> None:
    client = MilvusClient(uri=server.uri, token=f"root:{server.root_password}", timeout=5, dedicated=True)
    try:
        while time.monotonic() < deadline:
            if any(name.startswith(prefix) for name in client.list_collections()):
                return
            time.sleep(0.2)
    finally:
        client.close()
    raise AssertionError(f"verify never created a {prefix} collection")


def test_a_server_killed_mid_run_fails_the_run_cleanly(doomed_milvus: server_process.RunningMilvus) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MILVUS_PASSWORD", "MILVUS_TOKEN")}
    env["MILVUS_PASSWORD"] = doomed_milvus.root_password
    args = [
        "--milvus-uri", doomed_milvus.uri, "--milvus-user", "root", "--rows", "200", "--dim", "16",
        "--timeout", "3", "--op-timeout", "10", "--bench", "--bench-rows", "400000", "--batch-size", "200",
        "--queries", "10", "--json",
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.verify", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_collection(doomed_milvus, "verify_tmp_bench_", time.monotonic() + 120)
        os.killpg(doomed_milvus.pgid, signal.SIGKILL)  # the server dies while rows are being inserted
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    run = VerifyRun(process.returncode, stdout, stderr, time.monotonic() - started)

    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.exit_code == 1
    verdicts = run.verdicts()
    # Everything before the bench passed on the live server; the bench and its clean-up fail.
    assert {name: verdicts[name] for name in ALL_CHECKS if name.startswith(("milvus.c", "collection."))} == {
        name: "pass" for name in ALL_CHECKS if name.startswith(("milvus.c", "collection."))
    }
    assert (verdicts["bench"], verdicts["bench.drop"]) == ("fail", "fail")
    assert run.report["bench"] is None
    assert doomed_milvus.root_password not in run.stdout + run.stderr
