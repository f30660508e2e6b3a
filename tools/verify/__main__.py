"""`python -m tools.verify`: does the deployed platform really work, and how fast?

Reads the endpoints from `pulumi stack output --json --show-secrets` (`--stack NAME`) and/or flags (flags
win), then checks Milvus, MinIO, Attu and milvus-backup, and runs a temporary collection through create /
insert / flush / search / query / recall / drop. `--bench` adds insert throughput, search latency and QPS.
Exit 0 when every checked item passes (warnings allowed), 1 when any fails, 2 for usage errors.
Usage: tools/verify/README.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from tools._cli import ExitCode, ToolError
from tools.verify import kubernetes
from tools.verify.access import run_access_checks, users_from
from tools.verify.core import CheckResult, Redactor, Verdict, exit_code, run_check
from tools.verify.endpoints import Endpoints, resolve_endpoints
from tools.verify.http import (
    check_attu,
    check_backup_age,
    check_backup_hello,
    check_milvus_healthz,
    check_minio_live,
    check_minio_ready,
    http_session,
)
from tools.verify.milvus import METRICS, BenchResult, MilvusChecks, MilvusTarget, Workload

N = TypeVar("N", int, float)

# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def _number(parse: Callable[[str], N], accepted: Callable[[N], bool], meaning: str) -> Callable[[str], N]:
    """An argparse `type` that refuses what `parse` cannot read or `accepted` rejects, saying `meaning`."""

    def convert(text: str) -> N:
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not accepted(value):
            raise argparse.ArgumentTypeError(f'"{text}" is not {meaning}')
        return value

    return convert


_positive_int = _number(int, lambda value: value >= 1, "a whole number of at least 1")
_positive_float = _number(float, lambda value: value > 0, "a number of seconds above 0")
_share = _number(float, lambda value: 0 <= value <= 1, "a number from 0 to 1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.verify",
        description="Verify a deployed Milvus platform (health, auth, a temporary collection) and benchmark it.",
        epilog="Exit status: 0 every checked item passed, 1 a check failed, 2 usage error.",
    )
    source = parser.add_argument_group("endpoints (flags override stack outputs)")
    source.add_argument(
        "--stack", help="read endpoints from `pulumi stack output --stack NAME --json --show-secrets`"
    )
    source.add_argument("--milvus-uri", help="Milvus gRPC endpoint, e.g. http://10.25.20.19:19530")
    source.add_argument("--milvus-user", help="Milvus user (password: --milvus-password or $MILVUS_PASSWORD)")
    source.add_argument("--milvus-password", help="Milvus password; prefer $MILVUS_PASSWORD (not in `ps`)")
    source.add_argument("--token", help="Milvus token `user:password` or API key; prefer $MILVUS_TOKEN")
    source.add_argument("--milvus-health-url", help="e.g. http://10.25.20.19:9091/healthz")
    source.add_argument("--minio-url", help="MinIO S3 API, e.g. http://10.25.20.19:9000")
    source.add_argument("--attu-url", help="Attu, e.g. http://10.25.20.19:8000")
    source.add_argument(
        "--backup-url",
        help="milvus-backup REST API, e.g. http://127.0.0.1:18080/api/v1 "
        "(through an SSH tunnel: it is only reachable on the Docker network)",
    )
    source.add_argument("--backup-schedule", metavar="CRON", help='Milvus backup cron, e.g. "0 2 * * *"')
    source.add_argument("--backup-timezone", metavar="ZONE", help="time zone of --backup-schedule (Etc/UTC)")

    checks = parser.add_argument_group("checks")
    checks.add_argument(
        "--timeout",
        type=_positive_float,
        default=5.0,
        help="seconds for connecting and each health/metadata call (default 5)",
    )
    checks.add_argument(
        "--op-timeout",
        type=_positive_float,
        default=60.0,
        help="seconds for each call that moves data: insert batch, flush, search (default 60)",
    )
    checks.add_argument(
        "--require-auth", action="store_true", help="a Milvus without authentication fails instead of warning"
    )
    checks.add_argument(
        "--allow-no-backup",
        action="store_true",
        help="no backup yet is a warning, not a failure (a freshly deployed platform)",
    )
    checks.add_argument(
        "--rows",
        type=_positive_int,
        default=1000,
        help="rows in the temporary check collection (default 1000)",
    )
    checks.add_argument("--dim", type=_positive_int, default=128, help="vector dimension (default 128)")
    checks.add_argument("--metric", choices=METRICS, default="L2", help="similarity metric (default L2)")
    checks.add_argument(
        "--min-recall",
        type=_share,
        default=0.9,
        help="the check collection's recall@10 must reach this (default 0.9)",
    )

    bench = parser.add_argument_group("benchmark")
    bench.add_argument("--bench", action="store_true", help="also measure insert and search performance")
    bench.add_argument(
        "--bench-rows", type=_positive_int, default=20000, help="rows to insert (default 20000)"
    )
    bench.add_argument(
        "--batch-size", type=_positive_int, default=1000, help="rows per insert call (default 1000)"
    )
    bench.add_argument("--queries", type=_positive_int, default=500, help="search requests (default 500)")
    bench.add_argument("--concurrency", type=_positive_int, default=8, help="searches in flight (default 8)")

    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    return parser


# --------------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------------


@dataclass
class Report:
    endpoints: Endpoints
    results: list[CheckResult]
    bench: BenchResult | None

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.results)

    def summary(self) -> dict[str, int]:
        return {verdict.value: sum(r.verdict is verdict for r in self.results) for verdict in Verdict}

    def as_json(self) -> dict[str, Any]:
        return {
            "exitCode": self.exit_code,
            "summary": self.summary(),
            "endpoints": self.endpoints.public(),
            "checks": [
                {"name": r.name, "verdict": r.verdict.value, "seconds": r.seconds, "detail": r.detail}
                for r in self.results
            ],
            "bench": self.bench.as_dict() if self.bench else None,
        }


def run_all(args: argparse.Namespace, endpoints: Endpoints, redact: Redactor, progress: Progress) -> Report:
    session = http_session()
    timeout = args.timeout
    results = [
        run_check(
            "milvus.healthz",
            lambda: check_milvus_healthz(session, endpoints.milvus_health_url, timeout),
            redact,
        ),
        run_check("minio.live", lambda: check_minio_live(session, endpoints.minio_url, timeout), redact),
        run_check("minio.ready", lambda: check_minio_ready(session, endpoints.minio_url, timeout), redact),
        run_check("attu.healthy", lambda: check_attu(session, endpoints.attu_url, timeout), redact),
        run_check("backup.hello", lambda: check_backup_hello(session, endpoints.backup_url, timeout), redact),
        run_check(
            "backup.newest",
            lambda: check_backup_age(
                session, endpoints.backup_url, endpoints.backup_schedule, timeout, args.allow_no_backup
            ),
            redact,
        ),
    ]
    # Why a kubernetes stack's in-cluster endpoints are not checked (tools/verify/kubernetes.py).
    results = kubernetes.explain(results, endpoints.unchecked)
    bench: BenchResult | None = None
    if not endpoints.milvus_uri:
        results.append(
            CheckResult(
                "milvus", Verdict.NOT_CHECKED, 0.0, "no Milvus URI (stack output milvusUri or --milvus-uri)"
            )
        )
        return Report(endpoints, results, None)

    target = MilvusTarget(
        endpoints.milvus_uri,
        endpoints.milvus_user,
        endpoints.credentials(),
        timeout,
        args.op_timeout,
        args.require_auth,
    )
    milvus = MilvusChecks(target, redact, progress)
    try:
        milvus.connection()
        check = Workload(
            rows=args.rows,
            dim=args.dim,
            metric=args.metric,
            queries=min(100, args.rows),
            batch_size=args.batch_size,
            min_recall=args.min_recall,
        )
        milvus.collection_lifecycle(check)
        if endpoints.access:
            milvus.results += run_access_checks(
                endpoints.milvus_uri,
                endpoints.credentials(),
                endpoints.milvus_user,
                users_from(endpoints.access, endpoints.logins),
                timeout,
                redact,
            )
        if args.bench:
            bench = milvus.bench(
                Workload(
                    rows=args.bench_rows,
                    dim=args.dim,
                    metric=args.metric,
                    queries=args.queries,
                    batch_size=args.batch_size,
                    concurrency=args.concurrency,
                    min_recall=0.0,
                )
            )
    finally:
        milvus.close()
    return Report(endpoints, results + milvus.results, bench)


VERDICT_STYLE = {
    Verdict.PASS: "green",
    Verdict.WARN: "yellow",
    Verdict.FAIL: "bold red",
    Verdict.NOT_CHECKED: "dim",
}


def render_table(report: Report, console: Console) -> None:
    public = report.endpoints.public()
    console.print(
        f"Milvus {public['milvusUri'] or '(none)'}"
        + (f" as {public['milvusUser']}" if public["milvusUser"] else "")
    )
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for result in report.results:
        table.add_row(
            result.name,
            f"[{VERDICT_STYLE[result.verdict]}]{result.verdict.value}[/]",
            f"{result.seconds:.2f}s",
            result.detail,
        )
    console.print(table)
    if report.bench:
        bench = report.bench
        numbers = Table(title="benchmark", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        numbers.add_column("measure")
        numbers.add_column("value", justify="right")
        for label, value in (
            ("rows x dim, metric", f"{bench.rows} x {bench.dim}, {bench.metric}"),
            (f"insert (batch {bench.batch_size})", f"{bench.insert_rows_per_second:,.0f} rows/s"),
            (
                "search p50 / p95 / p99",
                f"{bench.search_p50_ms} / {bench.search_p95_ms} / {bench.search_p99_ms} ms",
            ),
            (f"search QPS (concurrency {bench.concurrency})", f"{bench.search_qps:,.1f}"),
            ("recall@10", f"{bench.recall_at_10:.4f}"),
        ):
            numbers.add_row(label, value)
        console.print(numbers)
    counts = report.summary()
    console.print(
        ", ".join(f"{count} {verdict}" for verdict, count in counts.items()) + f" -> exit {report.exit_code}"
    )


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse reports its own usage errors with exit 2
    environ = os.environ if environ is None else environ
    err = Console(stderr=True)
    try:
        endpoints = resolve_endpoints(args, environ)
    except ToolError as error:
        err.print(f"verify: error: {error}", markup=False, highlight=False, soft_wrap=True)
        return error.code

    redact = Redactor()
    redact.add(
        endpoints.milvus_password, endpoints.token, endpoints.credentials(), *endpoints.logins.values()
    )
    credentials = endpoints.credentials()
    if credentials:
        # pymilvus sends the token base64-encoded; an echoed header must not leak it either.
        redact.add(base64.b64encode(credentials.encode()).decode())

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    try:
        with progress:
            report = run_all(args, endpoints, redact, progress)
    except KeyboardInterrupt:
        err.print("verify: interrupted", highlight=False)
        return ExitCode.INTERRUPTED

    if args.json:
        print(redact(json.dumps(report.as_json(), indent=2)))
    else:
        out = Console(highlight=False)
        if not out.is_terminal:
            out.width = 160  # a log file or pipe: keep each check on one line where possible
        with out.capture() as captured:
            render_table(report, out)
        sys.stdout.write(redact(captured.get()))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
