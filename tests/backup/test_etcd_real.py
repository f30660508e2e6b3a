"""etcd snapshot job and etcd restore script against a real etcd (Debian's etcd 3.4 on loopback).

etcd 3.4 has no etcdutl; both scripts fall back to `etcdctl snapshot status|restore`, which 3.4 still has.
The image runs them with etcdutl 3.5 from the pinned etcd image (same subcommands and flags)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from components.backup import ETCD_SNAPSHOT_PREFIX, ETCD_SNAPSHOT_SUFFIX
from components.backup.retention import backup_name
from components.backup.status import parse_status
from tests.backup.conftest import run_script
from tests.ports import free_port

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def etcdctl(endpoint: str, *args: str) -> str:
    return subprocess.run(
        ["etcdctl", f"--endpoints={endpoint}", *args],
        env={**os.environ, "ETCDCTL_API": "3"},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


@contextmanager
def running_etcd(data_dir: Path) -> Iterator[tuple[str, str]]:
    """A single-member etcd on loopback; yields (client URL, peer URL)."""
    assert shutil.which("etcd"), "etcd is missing: install the Debian package etcd-server (make system-deps)"
    client, peer = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [
            "etcd",
            "--name=default",
            f"--data-dir={data_dir}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                etcdctl(client, "endpoint", "health")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("etcd did not become healthy") from None
                time.sleep(0.2)
        yield client, peer
    finally:
        process.terminate()
        process.wait(timeout=20)


def snapshot_name(hours_ago: int) -> str:
    return backup_name(ETCD_SNAPSHOT_PREFIX, NOW - timedelta(hours=hours_ago), ETCD_SNAPSHOT_SUFFIX)


def test_snapshot_then_restore_brings_the_keys_back(tmp_path: Path, fake_bin: Path) -> None:
    """Runs under dash + GNU tools and under busybox (the image's shell), see the `fake_bin` fixture."""
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    old = [snapshot_name(24 * 20), snapshot_name(24 * 15)]
    young = [snapshot_name(24 * 13), snapshot_name(6)]
    for name in [*old, *young, "notes.txt"]:
        (snapshots / name).write_text("an older snapshot")
    env = {
        "ETCD_KEEP_DAYS": "14",
        "SNAPSHOT_DIR": str(snapshots),
        "STATUS_DIR": str(tmp_path / "status"),
        "TMPDIR": str(tmp_path),
        "NOW_EPOCH": str(int(NOW.timestamp())),
        "ETCDCTL_API": "3",
    }

    with running_etcd(tmp_path / "source") as (client, _):
        etcdctl(client, "put", "by-dev/meta/collection", "vectors")
        etcdctl(client, "put", "by-dev/meta/field", "embedding")
        result = run_script(
            "run-job.sh", "etcd-snapshot", env={**env, "ETCD_ENDPOINTS": client}, fake_bin=fake_bin
        )

    assert result.returncode == 0, result.stdout + result.stderr
    saved = snapshot_name(0)
    # Exactly the snapshots older than 14 days went; the new one, the young ones and the stranger stayed.
    assert sorted(path.name for path in snapshots.iterdir()) == sorted([saved, *young, "notes.txt"])
    assert f"saved and checked {saved}" in result.stdout
    assert "kept 3 snapshot(s) (window 14 days)" in result.stdout
    assert f"pruned 2 snapshot(s): {old[0]} {old[1]}" in result.stdout
    assert parse_status((tmp_path / "status" / "etcd-snapshot.status").read_text()).ok

    # Restore into an empty data volume, then start etcd on it and read the keys back.
    volume = tmp_path / "etcd-volume"
    volume.mkdir()
    peer = f"http://127.0.0.1:{free_port()}"
    restore_env = {
        "ETCD_DATA_DIR": str(volume),
        "ETCD_INITIAL_ADVERTISE_PEER_URLS": peer,
        "NOW_EPOCH": str(int(NOW.timestamp())),
        "ETCDCTL_API": "3",
    }
    restored = run_script("etcd-restore.sh", str(snapshots / saved), env=restore_env, fake_bin=fake_bin)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert (volume / "member").is_dir()
    assert [path.name for path in volume.iterdir()] == ["member"], "the staging directory is cleaned up"
    with running_etcd(volume) as (client, _):
        assert etcdctl(client, "get", "by-dev/meta/collection", "--print-value-only").strip() == "vectors"
        assert etcdctl(client, "get", "by-dev/meta/field", "--print-value-only").strip() == "embedding"

    # Over existing data: refused without RESTORE_REPLACE, kept aside with it.
    refused = run_script("etcd-restore.sh", str(snapshots / saved), env=restore_env, fake_bin=fake_bin)
    assert refused.returncode == 1
    assert "set RESTORE_REPLACE=yes" in refused.stderr
    replaced = run_script(
        "etcd-restore.sh",
        str(snapshots / saved),
        env={**restore_env, "RESTORE_REPLACE": "yes"},
        fake_bin=fake_bin,
    )
    assert replaced.returncode == 0, replaced.stderr
    assert sorted(path.name for path in volume.iterdir()) == ["member", "member.replaced-20261125_060000"]


def test_unreachable_etcd_fails_and_prunes_nothing(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    (snapshots / snapshot_name(24 * 30)).write_text("old")
    (snapshots / snapshot_name(24 * 40)).write_text("older")
    env = {
        "ETCD_ENDPOINTS": f"http://127.0.0.1:{free_port()}",
        "ETCD_KEEP_DAYS": "14",
        "SNAPSHOT_DIR": str(snapshots),
        "STATUS_DIR": str(tmp_path / "status"),
        "TMPDIR": str(tmp_path),
        "NOW_EPOCH": str(int(NOW.timestamp())),
        "ETCDCTL_API": "3",
    }
    # A short timeout keeps the test fast; production uses 300s.
    result = run_script("run-job.sh", "etcd-snapshot", env={**env, "ETCD_COMMAND_TIMEOUT": "3s"})
    assert result.returncode == 1
    assert "etcdctl snapshot save failed; nothing pruned" in result.stderr
    assert len(list(snapshots.iterdir())) == 2, "nothing pruned, no partial file left"
    assert not parse_status((tmp_path / "status" / "etcd-snapshot.status").read_text()).ok


def test_a_corrupt_snapshot_is_refused_by_the_restore(tmp_path: Path) -> None:
    bad = tmp_path / "etcd_20261125_060000.db"
    bad.write_bytes(b"\0not a bolt database" * 100)
    volume = tmp_path / "volume"
    volume.mkdir()
    result = run_script("etcd-restore.sh", str(bad), env={"ETCD_DATA_DIR": str(volume), "ETCDCTL_API": "3"})
    assert result.returncode == 1
    assert "failed its check; nothing changed" in result.stderr
    assert list(volume.iterdir()) == []


@pytest.mark.parametrize("missing", ["snapshot", "volume"])
def test_restore_names_what_is_missing(tmp_path: Path, missing: str) -> None:
    snapshot = tmp_path / "s.db"
    if missing != "snapshot":
        snapshot.write_text("x")
    volume = tmp_path / "volume"
    if missing != "volume":
        volume.mkdir()
    result = run_script("etcd-restore.sh", str(snapshot), env={"ETCD_DATA_DIR": str(volume)})
    assert result.returncode == 1
    assert ("does not exist" in result.stderr) and (
        str(snapshot if missing == "snapshot" else volume) in result.stderr
    )
