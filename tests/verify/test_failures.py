"""Failure paths against real sockets: a closed port, a server that accepts and never answers, HTTP
services answering 500 / 503, stale or missing backups. Each exits 1 with the right check failed, within
the timeout, and without a traceback (run_verify asserts that for every run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.verify.conftest import run_verify
from tests.verify.fakes import (
    FakeService,
    fake_attu,
    fake_milvus_backup,
    fake_milvus_health,
    fake_minio_health,
    scheduled_name,
    serve,
)

# What the checks may take beyond one timeout: proves the run did not wait for a second one. Measured by
# the tool itself (checked_seconds), so the interpreter's start-up on a loaded machine does not count.
SLACK = 1.0


def test_milvus_on_a_closed_port_fails_fast(closed_port: int) -> None:
    run = run_verify("--milvus-uri", f"http://127.0.0.1:{closed_port}", "--timeout", "3", "--json")

    assert run.exit_code == 1
    connect = run.check("milvus.connect")
    assert connect["verdict"] == "fail" and f"127.0.0.1:{closed_port}" in connect["detail"]
    assert run.check("collection.create")["verdict"] == "not checked"
    assert run.check("collection.drop")["verdict"] == "not checked"
    assert run.checked_seconds < 3 + SLACK


def test_milvus_that_never_answers_times_out(silent_port: int) -> None:
    run = run_verify("--milvus-uri", f"http://127.0.0.1:{silent_port}", "--timeout", "2", "--json")

    assert run.exit_code == 1
    connect = run.check("milvus.connect")
    assert connect["verdict"] == "fail" and "timeout 2s" in connect["detail"]
    assert 2 <= connect["seconds"] < 4
    assert run.checked_seconds < 2 + SLACK


def test_http_endpoint_on_a_closed_port(closed_port: int) -> None:
    run = run_verify("--minio-url", f"http://127.0.0.1:{closed_port}", "--timeout", "2", "--json")

    assert run.exit_code == 1
    live = run.check("minio.live")
    assert live["verdict"] == "fail"
    assert live["detail"] == f"connection refused by http://127.0.0.1:{closed_port}/minio/health/live"
    assert run.check("milvus")["verdict"] == "not checked"
    assert run.checked_seconds < 2 + SLACK


def test_http_endpoint_that_never_answers(silent_port: int) -> None:
    run = run_verify("--attu-url", f"http://127.0.0.1:{silent_port}", "--timeout", "1.5", "--json")

    assert run.exit_code == 1
    attu = run.check("attu.healthy")
    assert attu["verdict"] == "fail"
    assert attu["detail"] == f"no answer from http://127.0.0.1:{silent_port}/api/v1/healthy within 1.5s"
    # One timeout, not one per retry: reads are never retried.
    assert 1.5 <= attu["seconds"] < 3


def test_milvus_health_answering_500() -> None:
    with serve(fake_milvus_health(healthy=False)) as health, serve(fake_attu()) as attu:
        run = run_verify("--milvus-health-url", f"{health}/healthz", "--attu-url", attu, "--json")

    assert run.exit_code == 1
    healthz = run.check("milvus.healthz")
    assert healthz["verdict"] == "fail"
    assert healthz["detail"] == f"{health}/healthz answered 500: Not all components are healthy, 3/5"
    assert run.check("attu.healthy")["verdict"] == "pass"


def test_minio_live_but_not_ready_503() -> None:
    with serve(fake_minio_health(live=True, ready=False)) as minio:
        run = run_verify("--minio-url", minio, "--json")

    assert run.exit_code == 1
    assert run.check("minio.live")["verdict"] == "pass"
    ready = run.check("minio.ready")
    assert ready["verdict"] == "fail" and "answered 503" in ready["detail"] and "not ready" in ready["detail"]


def test_attu_answering_500() -> None:
    with serve(fake_attu(healthy=False)) as attu:
        run = run_verify("--attu-url", attu, "--json")

    assert run.exit_code == 1
    assert run.check("attu.healthy")["detail"].startswith(f"{attu}/api/v1/healthy answered 500")


def backup_check(service: FakeService, *flags: str) -> tuple[int, dict[str, Any]]:
    with serve(service) as backup:
        run = run_verify(
            "--backup-url", f"{backup}/api/v1", "--backup-schedule", "0 2 * * *", *flags, "--json"
        )
    assert run.check("backup.hello")["verdict"] == "pass"
    return run.exit_code, run.check("backup.newest")


def test_fresh_scheduled_backup_passes() -> None:
    fresh = scheduled_name(datetime.now(UTC) - timedelta(minutes=5))
    code, newest = backup_check(fake_milvus_backup(["before_upgrade", fresh]))
    assert code == 0 and newest["verdict"] == "pass" and f"newest scheduled {fresh}" in newest["detail"]


def test_stale_backup_fails_against_the_schedule() -> None:
    stale = scheduled_name(datetime.now(UTC) - timedelta(hours=36))
    # A run that failed ten minutes ago left its data but no meta: v0.5.16 does not list it at all.
    failed = scheduled_name(datetime.now(UTC) - timedelta(minutes=10))
    code, newest = backup_check(fake_milvus_backup([stale, failed], without_meta=[failed]))
    assert code == 1
    assert (
        newest["verdict"] == "fail"
        and stale in newest["detail"]
        and "older than the run due" in newest["detail"]
    )
    assert failed not in newest["detail"]


def test_only_failed_runs_is_a_failure() -> None:
    """Failed runs are never listed, so when they are all there is, the list is empty: no backups."""
    failed = [scheduled_name(datetime.now(UTC) - timedelta(hours=hours)) for hours in (1, 25)]
    code, newest = backup_check(fake_milvus_backup(failed, without_meta=failed))
    assert code == 1 and newest["verdict"] == "fail" and "no backups" in newest["detail"]


def test_backups_made_by_hand_do_not_count() -> None:
    code, newest = backup_check(fake_milvus_backup(["before_upgrade", "scheduled_manual_copy"]))
    assert code == 1
    assert newest["verdict"] == "fail" and "no scheduled backup, only 2 made by hand" in newest["detail"]


def test_no_backup_fails_unless_allowed() -> None:
    strict_code, strict = backup_check(fake_milvus_backup([]))
    fresh_code, fresh = backup_check(fake_milvus_backup([]), "--allow-no-backup")
    assert strict_code == 1 and strict["verdict"] == "fail"
    assert fresh_code == 0 and fresh["verdict"] == "warn"


def test_backup_list_error_code_fails() -> None:
    error = "meta: list backup root backup: storage: minio list prefix Access Denied."
    code, newest = backup_check(fake_milvus_backup([], list_error=error))
    assert code == 1
    assert "could not list backups (code 3): meta: list backup root backup" in newest["detail"]


def test_unreachable_backup_api_explains_the_tunnel(closed_port: int) -> None:
    run = run_verify("--backup-url", f"http://127.0.0.1:{closed_port}/api/v1", "--json")

    assert run.exit_code == 1
    hello = run.check("backup.hello")
    assert hello["verdict"] == "fail" and "ssh -L" in hello["detail"] and "--backup-url" in hello["detail"]
